/*
 * result.c — the p3cfg_result container: evaluated plans with their memory, time and
 * placement, its borrowed-pointer accessors, and its release.
 */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "plan_rules.h"
#include "types.h"

p3cfg_result *p3cfg__result_new(void) { return p3cfg__calloc(1, sizeof(p3cfg_result)); }

p3cfg__result_entry *p3cfg__result_add(p3cfg_result *r, const p3cfg_plan *plan)
{
  if (r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 4;
    p3cfg__result_entry *e = p3cfg__realloc(r->entries, cap * sizeof *e);
    if (!e)
      return NULL;
    r->entries = e;
    r->cap = cap;
  }
  p3cfg__result_entry *e = &r->entries[r->count];
  memset(e, 0, sizeof *e);
  e->stages = p3cfg__calloc(plan->pp, sizeof *e->stages);
  if (!e->stages)
    return NULL;
  e->plan = *plan;
  e->memory.stages = e->stages;
  e->memory.n_stages = plan->pp;
  r->count++;
  return e;
}

static const p3cfg__result_entry *entry(const p3cfg_result *r, size_t i)
{
  p3cfg__error_clear();
  if (!r || i >= r->count)
    return NULL;
  return &r->entries[i];
}

P3CFG_API size_t p3cfg_result_count(const p3cfg_result *r) { return r ? r->count : 0; }

P3CFG_API const p3cfg_plan *p3cfg_result_plan(const p3cfg_result *r, size_t i)
{
  const p3cfg__result_entry *e = entry(r, i);
  return e ? &e->plan : NULL;
}

P3CFG_API const p3cfg_memory *p3cfg_result_memory(const p3cfg_result *r, size_t i)
{
  const p3cfg__result_entry *e = entry(r, i);
  return e ? &e->memory : NULL;
}

P3CFG_API const p3cfg_time *p3cfg_result_time(const p3cfg_result *r, size_t i)
{
  const p3cfg__result_entry *e = entry(r, i);
  return e && e->has_time ? &e->time : NULL;
}

P3CFG_API const p3cfg_rank_place *p3cfg_result_placement(const p3cfg_result *r, size_t i,
                                                         size_t *n_ranks)
{
  const p3cfg__result_entry *e = entry(r, i);
  if (n_ranks)
    *n_ranks = e && e->placement ? e->n_ranks : 0;
  return e ? e->placement : NULL;
}

P3CFG_API const p3cfg_placement_info *p3cfg_result_placement_info(const p3cfg_result *r,
                                                                  size_t i)
{
  const p3cfg__result_entry *e = entry(r, i);
  return e ? &e->place_info : NULL;
}

P3CFG_API int p3cfg_result_gpu_use(p3cfg_gpu_use *out, const p3cfg_result *r, size_t i)
{
  const p3cfg__result_entry *e = entry(r, i);
  if (!out || !e)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_gpu_use: %s",
                            out ? "plan index out of range" : "NULL out");
  memset(out, 0, sizeof *out);
  out->total = r->cluster_gpus;
  out->excluded = r->excluded_gpus;
  out->used = p3cfg__plan_gpus(&e->plan);
  const uint64_t left = out->total > out->excluded ? out->total - out->excluded : 0;
  out->idle = left > out->used ? left - out->used : 0;
  return P3CFG_OK;
}

P3CFG_API const p3cfg_replan_info *p3cfg_result_replan_info(const p3cfg_result *r)
{
  p3cfg__error_clear();
  return r && r->has_replan ? &r->replan : NULL;
}

P3CFG_API const p3cfg_search_stats *p3cfg_result_search_stats(const p3cfg_result *r)
{
  p3cfg__error_clear();
  return r ? &r->stats : NULL;
}

P3CFG_API void p3cfg_result_free(p3cfg_result *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->count; i++) {
    p3cfg__free(r->entries[i].stages);
    p3cfg__free(r->entries[i].placement);
  }
  p3cfg__free(r->entries);
  p3cfg__free(r);
}

P3CFG_API void p3cfg_buffer_dispose(p3cfg_buffer *buf)
{
  if (!buf)
    return;
  p3cfg__free(buf->data);
  buf->data = NULL;
  buf->len = 0;
}
