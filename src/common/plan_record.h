/*
 * plan_record.h — the plan file behind the opaque p3cfg_plan_file: plans read back from
 * their JSON (parse/plan_file.c) or taken from a result (report/export_api.c), each with
 * the model and cluster facts the exporters need and its placement. Lives in common/ so
 * that the reader and the exporters, which sit in different stages, share it.
 *
 * Also here: the names of the model enumerations of types.h, in enum order, which the
 * JSON writer and the plan-file reader both use.
 */
#ifndef P3CFG_PLAN_RECORD_H
#define P3CFG_PLAN_RECORD_H

#include <stddef.h>

#include "types.h"

typedef struct p3cfg__plan_record {
  p3cfg_plan plan;
  p3cfg_plan_model model;     /* strings owned by the file */
  p3cfg_plan_cluster cluster; /* strings and node_names owned by the file */
  p3cfg_rank_place *ranks;    /* dp*tp*pp entries, owned by the file */
  size_t n_ranks;
} p3cfg__plan_record;

struct p3cfg_plan_file {
  p3cfg__plan_record *records;
  size_t count, cap;
  void **blocks; /* every allocation the records point into */
  size_t n_blocks, cap_blocks;
};

/* The model of a record as the plan rules and the cost model read it: every field the
 * record carries, its names turned back into enums (the strings borrowed: `out` must not
 * be freed with p3cfg_model_free). global_batch is the plan's. 0, or -1 when a name is
 * not one of the tables' (a record the reader has not validated). */
int p3cfg__model_of_record(p3cfg_model *out, const p3cfg_plan_model *r, uint64_t global_batch);

/* A new, empty plan file; NULL when out of memory. */
p3cfg_plan_file *p3cfg__plan_file_new(void);
/* Append a zeroed record; NULL when out of memory. */
p3cfg__plan_record *p3cfg__plan_file_add(p3cfg_plan_file *f);
/* Allocate `bytes` owned by the file (zeroed); NULL when out of memory. */
void *p3cfg__plan_file_alloc(p3cfg_plan_file *f, size_t bytes);
/* A NUL-terminated copy of s[0..len) owned by the file; NULL when out of memory. */
const char *p3cfg__plan_file_strdup(p3cfg_plan_file *f, const char *s, size_t len);

/* Names in the order of the enums of types.h. */
extern const char *const p3cfg__activation_names[2];
extern const char *const p3cfg__posemb_names[3];
extern const char *const p3cfg__norm_names[2];
extern const char *const p3cfg__precision_names[6];
extern const char *const p3cfg__fp8_recipe_names[2];
extern const char *const p3cfg__optimizer_names[2];
extern const char *const p3cfg__grad_reduce_names[2];
extern const char *const p3cfg__cross_entropy_names[3];
extern const char *const p3cfg__moe_dispatcher_names[P3CFG_DISPATCH_COUNT];

#endif
