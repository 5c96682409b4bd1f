/*
 * yaml_doc.h — from bytes to a checked libyaml document: reading a file within the size
 * limit, the byte checks (UTF-8, NUL, control characters), a bounded event pre-pass
 * (syntax, one document, nesting depth, node count with aliases expanded) and the load
 * itself with duplicate-key detection. Every limit of the input lives here and is
 * described for users in docs/input-limits.md.
 *
 * Positions are 1-based line and column, columns counted in characters and line breaks
 * counted as libyaml counts them (CR LF, CR, LF, NEL, LS, PS), so that a position found
 * in the bytes agrees with one taken from a libyaml mark (0-based: add 1).
 */
#ifndef P3CFG_YAML_DOC_H
#define P3CFG_YAML_DOC_H

#include <stddef.h>

#include <yaml.h>

#include "error.h"

/* Largest input accepted, in bytes. */
#define P3CFG__MAX_INPUT_BYTES (16u * 1024u * 1024u)
/* Deepest nesting of sequences and mappings (the schemas need 3). */
#define P3CFG__MAX_DEPTH 64
/* Most nodes a document may hold, counting every alias as the nodes it stands for:
 * 2 * 512^2 + 8192, room for a 512-GPU cluster measured at GPU granularity (bandwidth
 * and latency matrices, as `p3cfg profile` writes them) and the rest of its file. This
 * bounds the time of every walk over the document: libyaml needs about 1 us per node to
 * parse and as much again to load, so the largest input takes about a second. */
#define P3CFG__MAX_NODES 532480u
/* Most problems reported for one input; one more line says that the list stops. */
#define P3CFG__MAX_DIAGS 100

/* Add a problem unless the list already holds more than P3CFG__MAX_DIAGS of them
 * (p3cfg__diags_finish trims the list and says so). Returns `code`. */
int p3cfg__diag(p3cfg_diagnostics *d, int code, int line, int column, const char *fmt, ...)
    P3CFG_PRINTF(5, 6);
/* Sort the problems by position and cut the list at P3CFG__MAX_DIAGS. */
void p3cfg__diags_finish(p3cfg_diagnostics *d);

/* Read the file at `path` into a new NUL-terminated buffer (*len excludes the NUL).
 * Returns 0, P3CFG_EIO after adding a file-level problem (missing, unreadable, a
 * directory or another non-regular file, larger than the limit) or P3CFG_ENOMEM. */
int p3cfg__read_file(char **out, size_t *len, p3cfg_diagnostics *d, const char *path);

/* 1-based line and column of byte `offset` of `text`. */
void p3cfg__text_position(const char *text, size_t len, size_t offset, int *line, int *column);
/* Byte offset of the 0-based libyaml position (line, column), or len when past the end. */
size_t p3cfg__text_offset(const char *text, size_t len, size_t line, size_t column);
/* Longest value echoed in a message, in characters; longer ones end in "...". */
#define P3CFG__ECHO_CHARS 40
/* Copy `len` bytes of valid UTF-8 into buf for a one-line message: at most
 * P3CFG__ECHO_CHARS characters, with quotes, backslashes and control characters escaped
 * as in C. cap must be at least 4 * P3CFG__ECHO_CHARS + 8. */
void p3cfg__echo(char *buf, size_t cap, const char *text, size_t len);

/* Check the bytes before libyaml sees them: not empty, no UTF-16/32 byte order mark, no
 * NUL byte, valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF) and only
 * characters YAML allows. Adds one problem at the first bad byte and returns
 * P3CFG_ESYNTAX; 0 when the text is fine. */
int p3cfg__text_check(p3cfg_diagnostics *d, const char *text, size_t len);

/* Add the problem a libyaml parser stopped on (syntax, reader or loader error) and return
 * P3CFG_ESYNTAX, or P3CFG_ENOMEM when libyaml ran out of memory. */
int p3cfg__yaml_problem(p3cfg_diagnostics *d, const yaml_parser_t *parser, const char *text,
                        size_t len);

/* Run libyaml's event parser over the text once, stopping at the first problem: a
 * syntax error, a second document, nesting deeper than P3CFG__MAX_DEPTH, more than
 * P3CFG__MAX_NODES nodes once aliases are expanded, an alias to an undefined anchor or
 * to a collection that contains it. Adds that problem and returns P3CFG_ESYNTAX (or
 * P3CFG_ENOMEM); 0 when the text is safe to load. *n_docs is 0 for an empty stream. */
int p3cfg__yaml_guard(p3cfg_diagnostics *d, const char *text, size_t len, int *n_docs);

/* A loaded document; the node tree keeps libyaml's marks. */
typedef struct p3cfg__ydoc {
  yaml_document_t doc;
  int loaded;
} p3cfg__ydoc;

/* Check and load `text`. Returns 0 when y->doc has a root node to walk (duplicate keys
 * may have been reported: they do not stop the walk), P3CFG_ESYNTAX or P3CFG_EIO after
 * adding the problem that stopped it, or P3CFG_ENOMEM. */
int p3cfg__ydoc_load(p3cfg__ydoc *y, p3cfg_diagnostics *d, const char *text, size_t len);
void p3cfg__ydoc_dispose(p3cfg__ydoc *y);

/* Report every key that repeats an earlier key of the same mapping. Returns 0 or
 * P3CFG_ENOMEM. */
int p3cfg__check_duplicate_keys(p3cfg_diagnostics *d, yaml_document_t *doc);

#endif
