/*
 * search_finish.c — the end of p3cfg_search: the workers' top K merged under the total
 * order, the plans kept placed on the measured links and ranked again by their placed
 * time, and, when nothing fits or nothing is valid, the closest miss or the reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "links.h"
#include "memory.h"
#include "perf.h"
#include "plan_rules.h"
#include "rank_map.h"
#include "search_internal.h"
#include "uncertainty.h"

static int cmp_entries(const void *a, const void *b)
{
  const p3cfg__result_entry *x = a, *y = b;
  return p3cfg__scored_cmp(&x->plan, &x->time, &y->plan, &y->time);
}

/* The time of `e`'s plan on the default map that skips the excluded GPUs. */
static int rescore_on_map(p3cfg__result_entry *e, const search_ctx *ctx)
{
  const size_t n = e->n_ranks, ws_bytes = p3cfg__perf_workspace_bytes(&e->plan);
  uint32_t *map = p3cfg__malloc(n * sizeof *map);
  void *ws = p3cfg__malloc(ws_bytes ? ws_bytes : 1);
  int rc = !map || !ws ? p3cfg__error_nomem() : P3CFG_OK;
  for (size_t r = 0; r < n && rc == P3CFG_OK; r++)
    map[r] = e->placement[r].node * ctx->cluster->gpus_per_node + e->placement[r].gpu;
  if (rc == P3CFG_OK)
    rc = p3cfg__perf_plan(&e->time, ctx->model, ctx->cluster, &e->plan, map, ws, ws_bytes);
  if (rc == P3CFG_OK)
    e->place_info.default_s = e->place_info.placed_s = e->time.iteration_s;
  p3cfg__free(map);
  p3cfg__free(ws);
  return rc;
}

/* Why the constraints leave no candidate at all (the loops of build_items skip degrees
 * that do not multiply to the GPUs used before any rule is checked): the first
 * structural reason, as "tp 3 does not divide the 8 GPUs used". */
static void empty_space_reason(char *buf, size_t cap, const search_ctx *ctx)
{
  const p3cfg_search_options *o = &ctx->opts;
  const unsigned long long g = (unsigned long long)ctx->gpus;
  const unsigned long long layers = (unsigned long long)ctx->model->layers;
  const struct {
    const char *name;
    uint32_t v;
  } d[3] = {{"tp", o->tp}, {"pp", o->pp}, {"dp", o->dp}};
  for (int i = 0; i < 3; i++)
    if (d[i].v && (d[i].v > g || g % d[i].v)) {
      snprintf(buf, cap, "%s %u does not divide the %llu GPUs used", d[i].name, d[i].v, g);
      return;
    }
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++) {
      const unsigned long long prod = (unsigned long long)d[i].v * d[j].v;
      if (d[i].v && d[j].v && (prod > g || g % prod)) {
        snprintf(buf, cap, "%s*%s = %llu does not divide the %llu GPUs used", d[i].name,
                 d[j].name, prod, g);
        return;
      }
    }
  if (o->pp && o->pp > layers) {
    snprintf(buf, cap, "pp %u is more than the model's %llu layers", o->pp, layers);
    return;
  }
  if (o->virtual_stages && layers % o->virtual_stages) {
    snprintf(buf, cap, "virtual_stages %u does not divide the model's %llu layers",
             o->virtual_stages, layers);
    return;
  }
  if (o->virtual_stages && o->pp &&
      layers / o->virtual_stages < o->pp) {
    snprintf(buf, cap, "pp %u * virtual_stages %u is more than the model's %llu layers", o->pp,
             o->virtual_stages, layers);
    return;
  }
  snprintf(buf, cap, "no dp*tp*pp equal to the %llu GPUs used fits the layers under them", g);
}

int p3cfg__search_finish(p3cfg_result **out, search_ctx *ctx, worker *ws, uint32_t n_workers,
                         double elapsed)
{
  p3cfg_result *r = p3cfg__result_new();
  if (!r)
    return p3cfg__error_nomem();
  p3cfg__topk all;
  int rc = p3cfg__topk_init(&all, ctx->keep);
  if (rc) {
    p3cfg_result_free(r);
    return rc;
  }
  const worker *miss = NULL;
  for (uint32_t i = 0; i < n_workers; i++) {
    const worker *w = &ws[i];
    r->stats.evaluated += w->evaluated;
    r->stats.valid += w->valid;
    r->stats.feasible += w->feasible;
    r->stats.bounded += w->bounded;
    for (int k = 0; k < P3CFG_RULE_COUNT; k++)
      r->rejected[k] += w->rejected[k];
    for (size_t k = 0; k < w->top.count; k++)
      if (p3cfg__topk_admits(&all, &w->top.items[k].plan, &w->top.items[k].time))
        p3cfg__topk_push(&all, &w->top.items[k].plan, &w->top.items[k].time);
    if (w->has_miss && (!miss || w->miss_ratio < miss->miss_ratio ||
                        (w->miss_ratio == miss->miss_ratio &&
                         p3cfg__scored_cmp(&w->miss, &(p3cfg_time){0}, &miss->miss,
                                           &(p3cfg_time){0}) < 0)))
      miss = w;
  }
  r->cluster_gpus = p3cfg__cluster_gpus(ctx->cluster);
  r->excluded_gpus = ctx->cluster->n_excluded;
  r->stats.elapsed_s = elapsed;
  r->train_tokens = ctx->opts.train_tokens;
  r->framework = ctx->opts.framework;
  r->stats.n_rules = P3CFG_RULE_COUNT;
  r->stats.rule_names = p3cfg__plan_rule_names;
  r->stats.rejected = r->rejected;
  p3cfg__topk_sort(&all);

  if (all.count == 0 && miss) {
    /* Nothing fits: return the closest miss, explained. */
    p3cfg__result_entry *e = p3cfg__result_add(r, &miss->miss);
    if (!e || (rc = p3cfg__entry_set_placement(e, ctx->cluster, NULL)) != 0) {
      rc = e ? rc : p3cfg__error_nomem();
      goto fail;
    }
    p3cfg__memory_plan_margin(&e->memory, e->stages, ctx->model, ctx->cluster, &e->plan,
                              ctx->margin_bytes);
    p3cfg__entry_set_ranges(e, ctx->model, ctx->cluster);
    uint32_t worst = 0;
    for (uint32_t s = 1; s < e->plan.pp; s++)
      if (e->stages[s].peak_bytes + e->stages[s].reserved_bytes >
          e->stages[worst].peak_bytes + e->stages[worst].reserved_bytes)
        worst = s;
    const p3cfg_stage_memory *ws_ = &e->stages[worst];
    const double gib = 1024.0 * 1024.0 * 1024.0;
    p3cfg__topk_dispose(&all);
    *out = r;
    char margin[64] = "";
    if (ctx->margin_bytes)
      snprintf(margin, sizeof margin, " less the %.2f GiB margin",
               (double)ctx->margin_bytes / gib);
    return p3cfg__error_set(
        P3CFG_EINFEASIBLE,
        "no plan fits in memory: the closest, dp %u tp %u pp %u micro_batch %u "
        "virtual_stages %u recompute %s%s zero %u, needs %.2f GiB on stage %u "
        "(%.2f GiB allocated + %.2f GiB reserved) of the GPU's %.2f GiB%s",
        e->plan.dp, e->plan.tp, e->plan.pp, e->plan.micro_batch, e->plan.virtual_stages,
        p3cfg_recompute_name(e->plan.recompute), e->plan.sequence_parallel ? " sp" : "",
        e->plan.zero_stage, (double)(ws_->peak_bytes + ws_->reserved_bytes) / gib, worst,
        (double)ws_->peak_bytes / gib, (double)ws_->reserved_bytes / gib,
        (double)e->memory.capacity_bytes / gib, margin);
  }
  if (all.count == 0 && r->stats.evaluated == 0) {
    /* Not one candidate: the degrees given cannot multiply to the GPUs used. */
    char why[200];
    empty_space_reason(why, sizeof why, ctx);
    rc = p3cfg__error_set(P3CFG_EPLAN, "no valid plan under these constraints (no candidate: %s)",
                          why);
    goto fail;
  }
  if (all.count == 0) {
    /* No valid plan at all: name the rule that rejected the most. */
    int top_rule = 1;
    for (int k = 1; k < P3CFG_RULE_COUNT; k++)
      if (r->rejected[k] > r->rejected[top_rule])
        top_rule = k;
    rc = p3cfg__error_set(P3CFG_EPLAN,
                          "no valid plan under these constraints (%llu candidates; most "
                          "rejected because: %s)",
                          (unsigned long long)r->stats.evaluated,
                          p3cfg__plan_rule_name((p3cfg__plan_rule)top_rule));
    goto fail;
  }
  const int placing = ctx->opts.place && p3cfg__placement_matters(ctx->cluster);
  p3cfg__place_opts po = {ctx->opts.seed, ctx->opts.place_moves, ctx->opts.place_max_s, 0};
  for (size_t k = 0; k < all.count; k++) {
    p3cfg__result_entry *e = p3cfg__result_add(r, &all.items[k].plan);
    if (!e) {
      rc = p3cfg__error_nomem();
      goto fail;
    }
    p3cfg__memory_plan_margin(&e->memory, e->stages, ctx->model, ctx->cluster, &e->plan,
                              ctx->margin_bytes);
    e->time = all.items[k].time;
    e->has_time = 1;
    e->place_info.default_s = e->place_info.placed_s = e->time.iteration_s;
    rc = placing ? p3cfg__entry_place(e, ctx->model, ctx->cluster, &po)
                 : p3cfg__entry_set_placement(e, ctx->cluster, NULL);
    if (rc)
      goto fail;
    if (placing && ctx->progress)
      p3cfg__search_progress_report(ctx->progress,
                      ctx->progress->enum_share + (1.0 - ctx->progress->enum_share) *
                                                      (double)(k + 1) / (double)all.count,
                      0);
  }
  if (ctx->excluded && !placing && !ctx->exact_maps) {
    /* The candidates were screened on the whole cluster's default map: the plans kept
     * are scored again on the map that skips the excluded GPUs, then ranked again. */
    for (size_t k = 0; k < r->count && rc == P3CFG_OK; k++)
      rc = rescore_on_map(&r->entries[k], ctx);
    if (rc)
      goto fail;
  }
  if (placing || ctx->excluded) {
    /* A plan that looks best on a uniform network may lose once placed on the real one:
     * rank again by the placed time, then keep top_k. */
    qsort(r->entries, r->count, sizeof *r->entries, cmp_entries);
    while (r->count > ctx->opts.top_k) {
      p3cfg__result_entry *e = &r->entries[--r->count];
      p3cfg__free(e->stages);
      p3cfg__free(e->placement);
    }
  }
  /* Intervals of the plans reported only, with their final (placed) times. */
  for (size_t k = 0; k < r->count; k++)
    p3cfg__entry_set_ranges(&r->entries[k], ctx->model, ctx->cluster);
  p3cfg__topk_dispose(&all);
  *out = r;
  return P3CFG_OK;
fail:
  p3cfg__topk_dispose(&all);
  p3cfg_result_free(r);
  return rc;
}

