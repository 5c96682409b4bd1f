/*
 * plan_file_read.h — what the plan-file reader's files share (plan_file.c: documents,
 * config and placement; plan_file_fields.c: typed reads of one key with its position;
 * plan_file_records.c: the "model" and "cluster" records). Unlike input files, a plan
 * file may carry keys this version does not know: lookups skip them, and only missing
 * or bad values are problems.
 */
#ifndef P3CFG_PLAN_FILE_READ_H
#define P3CFG_PLAN_FILE_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "parse_fields.h"
#include "plan_record.h"

#define P3CFG__PF_LABEL_CAP 192

typedef struct p3cfg__pf_reader {
  p3cfg__pctx c;
  p3cfg_plan_file *f;
  int nomem;
} p3cfg__pf_reader;

/* "PREFIX.KEY" (or "KEY" at the top) in buf[P3CFG__PF_LABEL_CAP], cut when longer. */
const char *p3cfg__pf_label(char *buf, const char *prefix, const char *key);
/* The value of `key` in mapping `map`, or NULL. Unknown keys are not problems here. */
const yaml_node_t *p3cfg__pf_lookup(const p3cfg__pf_reader *rd, const yaml_node_t *map,
                                    const char *key);
/* The value of a required key; reports it missing (at the mapping) when absent. */
const yaml_node_t *p3cfg__pf_need(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                                  const char *key);
/* Whether `node` is a mapping (or a sequence); reports it when not. */
bool p3cfg__pf_is_kind(p3cfg__pf_reader *rd, const yaml_node_t *node, const char *label,
                       yaml_node_type_t kind);
/* A required mapping `key` of `map` (its label in label[P3CFG__PF_LABEL_CAP]), or NULL
 * (reported). */
const yaml_node_t *p3cfg__pf_need_map(p3cfg__pf_reader *rd, const yaml_node_t *map,
                                      const char *prefix, const char *key, char *label);
/* Required values of `key` in `map`; false (reported) when missing or bad. */
bool p3cfg__pf_uint(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                    const char *key, uint64_t lo, uint64_t hi, uint64_t *out);
bool p3cfg__pf_u32(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                   const char *key, uint64_t lo, uint64_t hi, uint32_t *out);
bool p3cfg__pf_bool(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                    const char *key, int *out);
bool p3cfg__pf_enum(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                    const char *key, const char *const *names, size_t n, int *out);
/* A string copied into the plan file (NULL when missing, bad or out of memory). */
const char *p3cfg__pf_copy_string(p3cfg__pf_reader *rd, const yaml_node_t *v, const char *label);
const char *p3cfg__pf_string(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                             const char *key);

/* The plan object's "model" into m (strings owned by the plan file); false when a
 * problem was reported. */
bool p3cfg__pf_read_model(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                          const char *prefix);

/* Node names sorted, for lookups by name (the caller frees `sorted`). */
typedef struct p3cfg__pf_named {
  const char *name;
  uint32_t index;
} p3cfg__pf_named;

typedef struct p3cfg__pf_name_index {
  p3cfg__pf_named *sorted;
  uint32_t n;
} p3cfg__pf_name_index;

/* The plan object's "cluster" into cl and its node names into ix; false when a problem
 * was reported. */
bool p3cfg__pf_read_cluster(p3cfg__pf_reader *rd, p3cfg_plan_cluster *cl, p3cfg__pf_name_index *ix,
                            const yaml_node_t *map, const char *prefix);
/* The node index of name[0..len), or UINT32_MAX. */
uint32_t p3cfg__pf_find_node(const p3cfg__pf_name_index *ix, const char *name, size_t len);

#endif
