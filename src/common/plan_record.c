/*
 * plan_record.c — the p3cfg_plan_file container (plan_record.h): records grown by
 * doubling, every string and array they point to tracked in one list of blocks so that
 * p3cfg_plan_file_free releases them all, and the read-only public accessors.
 */
#include "plan_record.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

const char *const p3cfg__activation_names[2] = {"gelu", "swiglu"};
const char *const p3cfg__posemb_names[3] = {"learned", "rope", "alibi"};
const char *const p3cfg__norm_names[2] = {"layernorm", "rmsnorm"};
const char *const p3cfg__precision_names[6] = {"bf16", "fp16", "fp32",
                                                 "fp8",  "mxfp8", "nvfp4"};
const char *const p3cfg__fp8_recipe_names[2] = {"delayed", "current"};
const char *const p3cfg__optimizer_names[2] = {"adam", "sgd"};
const char *const p3cfg__grad_reduce_names[2] = {"fp32", "bf16"};
const char *const p3cfg__cross_entropy_names[3] = {"unfused", "fused", "native"};
const char *const p3cfg__moe_dispatcher_names[P3CFG_DISPATCH_COUNT] = {"alltoall", "deepep",
                                                                      "hybridep"};

p3cfg_plan_file *p3cfg__plan_file_new(void) { return p3cfg__calloc(1, sizeof(p3cfg_plan_file)); }

p3cfg__plan_record *p3cfg__plan_file_add(p3cfg_plan_file *f)
{
  if (f->count == f->cap) {
    const size_t cap = f->cap ? f->cap * 2 : 4;
    p3cfg__plan_record *r = p3cfg__realloc(f->records, cap * sizeof *r);
    if (!r)
      return NULL;
    f->records = r;
    f->cap = cap;
  }
  p3cfg__plan_record *r = &f->records[f->count++];
  memset(r, 0, sizeof *r);
  return r;
}

void *p3cfg__plan_file_alloc(p3cfg_plan_file *f, size_t bytes)
{
  if (f->n_blocks == f->cap_blocks) {
    const size_t cap = f->cap_blocks ? f->cap_blocks * 2 : 16;
    void **b = p3cfg__realloc(f->blocks, cap * sizeof *b);
    if (!b)
      return NULL;
    f->blocks = b;
    f->cap_blocks = cap;
  }
  void *p = p3cfg__calloc(1, bytes ? bytes : 1);
  if (p)
    f->blocks[f->n_blocks++] = p;
  return p;
}

const char *p3cfg__plan_file_strdup(p3cfg_plan_file *f, const char *s, size_t len)
{
  char *d = p3cfg__plan_file_alloc(f, len + 1);
  if (d)
    memcpy(d, s, len);
  return d;
}

P3CFG_API void p3cfg_plan_file_free(p3cfg_plan_file *f)
{
  if (!f)
    return;
  for (size_t i = 0; i < f->n_blocks; i++)
    p3cfg__free(f->blocks[i]);
  p3cfg__free(f->blocks);
  p3cfg__free(f->records);
  p3cfg__free(f);
}

static const p3cfg__plan_record *record(const p3cfg_plan_file *f, size_t i)
{
  p3cfg__error_clear();
  return f && i < f->count ? &f->records[i] : NULL;
}

P3CFG_API size_t p3cfg_plan_file_count(const p3cfg_plan_file *f) { return f ? f->count : 0; }

P3CFG_API const p3cfg_plan *p3cfg_plan_file_plan(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg__plan_record *r = record(f, i);
  return r ? &r->plan : NULL;
}

P3CFG_API const p3cfg_plan_model *p3cfg_plan_file_model(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg__plan_record *r = record(f, i);
  return r ? &r->model : NULL;
}

P3CFG_API const p3cfg_plan_cluster *p3cfg_plan_file_cluster(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg__plan_record *r = record(f, i);
  return r ? &r->cluster : NULL;
}

P3CFG_API const p3cfg_rank_place *p3cfg_plan_file_placement(const p3cfg_plan_file *f, size_t i,
                                                            size_t *n_ranks)
{
  const p3cfg__plan_record *r = record(f, i);
  if (n_ranks)
    *n_ranks = r ? r->n_ranks : 0;
  return r ? r->ranks : NULL;
}
