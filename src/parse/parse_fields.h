/*
 * parse_fields.h — reading typed values out of a loaded YAML document: the mapping walk
 * (known keys, unknown keys with "did you mean", missing keys), and one reader per value
 * type with its range check, so that every message about a value has the same form:
 *
 *     KEY must be DESCRIPTION, got VALUE
 *
 * A reader that finds a problem reports it at the value's position and returns -1; the
 * caller goes on with the next key, so that one run reports every problem of a file.
 */
#ifndef P3CFG_PARSE_FIELDS_H
#define P3CFG_PARSE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "error.h"

/* What a schema walk needs: the document and where its problems go. */
typedef struct p3cfg__pctx {
  yaml_document_t *doc;
  p3cfg_diagnostics *d;
} p3cfg__pctx;

/* Report a value problem at `at` (1-based position from its start mark). */
void p3cfg__problem(p3cfg__pctx *c, const yaml_node_t *at, const char *fmt, ...) P3CFG_PRINTF(3, 4);

/* Node number `index` of the document (NULL if out of range). */
const yaml_node_t *p3cfg__node(const p3cfg__pctx *c, int index);

/* How the value at `node` reads in a message: a mapping, a sequence, null, a number or
 * word as written, or a quoted string. buf needs P3CFG__DESCRIBE_CAP bytes. */
#define P3CFG__DESCRIBE_CAP 200
const char *p3cfg__describe(char *buf, const yaml_node_t *node);

/* One key of a mapping schema. */
typedef struct p3cfg__key {
  const char *name;
  bool required;
} p3cfg__key;

/* Walk mapping `map` against keys[0..n): values[i] receives the value node of keys[i]
 * (the first one when duplicated) or NULL. Reports keys that are not strings, unknown
 * keys (with the closest known one) and missing required keys (at the mapping).
 * `where` names the mapping in messages ("network"), NULL for the top level.
 * Returns 0 when `map` is a mapping, -1 (reported) when it is not. */
int p3cfg__map_fields(p3cfg__pctx *c, const yaml_node_t *map, const char *where,
                      const p3cfg__key *keys, size_t n, const yaml_node_t **values);

/* Integer in [lo, hi] (lo >= 1 is said as "a positive integer"). Plain numbers only;
 * a number written as a float (8.0, 1e3) is taken when it is an exact integer. */
int p3cfg__read_uint(p3cfg__pctx *c, const yaml_node_t *node, const char *label, uint64_t lo,
                     uint64_t hi, uint64_t *out);

/* Finite number with lower bound `lo` (excluded when lo_open) and upper bound `hi`.
 * `what` describes the range ("a positive number"); a value above hi is said as "at
 * most HI" unless `what` already names hi ("a number in (0, 1]"). */
typedef struct p3cfg__range {
  double lo;
  bool lo_open;
  double hi;
  const char *what;
  bool what_names_hi;
} p3cfg__range;
int p3cfg__read_number(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                       const p3cfg__range *r, double *out);

/* Whether `node` is a plain number within r (then *out is set): the quiet fast path for
 * large matrices, which calls p3cfg__read_number for the message only when it fails. */
bool p3cfg__number_in(const yaml_node_t *node, const p3cfg__range *r, double *out);

/* Whether `node` is a plain null (`null`, `~`, or nothing written). */
bool p3cfg__is_null(const yaml_node_t *node);

/* true/false (also True, TRUE, False, FALSE), unquoted. */
int p3cfg__read_bool(p3cfg__pctx *c, const yaml_node_t *node, const char *label, bool *out);

/* One of names[0..n); *out is its index. */
int p3cfg__read_enum(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                     const char *const *names, size_t n, int *out);

/* A non-empty one-line string of at most max_len bytes, borrowed from the document
 * (NUL-terminated; *len gets its length). A plain number or word counts as a string. */
int p3cfg__read_string(p3cfg__pctx *c, const yaml_node_t *node, const char *label, size_t max_len,
                       const char **out, size_t *len);

/* Numbers as written in YAML 1.2 (core schema) and JSON, parsed in one place. */
typedef enum p3cfg__num_kind {
  P3CFG__NUM_NONE = 0, /* not a number */
  P3CFG__NUM_INT,      /* [-+]digits: *u holds the magnitude unless too_big */
  P3CFG__NUM_FLOAT,    /* fraction or exponent: *v holds the value (may be +-HUGE_VAL) */
  P3CFG__NUM_NAN,      /* .nan */
  P3CFG__NUM_INF       /* +-.inf */
} p3cfg__num_kind;

typedef struct p3cfg__num {
  p3cfg__num_kind kind;
  bool negative;
  bool too_big; /* an integer past UINT64_MAX, or a float past DBL_MAX */
  uint64_t u;   /* P3CFG__NUM_INT magnitude */
  double v;     /* the value as a double, for every kind */
} p3cfg__num;

/* Classify and convert text[0..len) with full-string strtoull/strtod. */
void p3cfg__parse_num(p3cfg__num *out, const char *text, size_t len);

/* The entry of cands[0..n) closest to word[0..len) (case-insensitive edit distance,
 * or word as a prefix of it), when close enough to be a likely typo; NULL otherwise. */
const char *p3cfg__suggest(const char *word, size_t len, const char *const *cands, size_t n);

#endif
