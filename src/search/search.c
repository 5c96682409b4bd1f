/*
 * search.c — p3cfg_search: enumerate every valid plan under the constraints, prune by the
 * validity rules and by memory (counting why each plan was rejected), score the rest with
 * the time model and keep the top K under a total order.
 *
 * Work is cut into items, one per (tp, pp, virtual_stages, split); workers take items
 * from a shared counter and walk micro-batch x recompute x sequence parallelism x ZeRO
 * inside them on one mutable plan, so the hot loop copies nothing, formats nothing and
 * allocates nothing (the perf workspace grows, rarely, between items). Each worker keeps
 * its own top K and statistics; merging under the total order makes the result
 * independent of the thread count.
 */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "exclusion.h"
#include "knobs.h"
#include "links.h"
#include "memory.h"
#include "perf.h"
#include "rank_map.h"
#include "plan_rules.h"
#include "search_space.h"
#include "topk.h"
#include "uncertainty.h"

#define MAX_DIVISORS 256
#define MAX_SPLITS 8

typedef struct work_item {
  uint32_t tp, pp, v;
  p3cfg__split split;
  uint32_t dp; /* 0: gpus / (tp * pp); with excluded GPUs, the largest that fits */
} work_item;

typedef struct search_ctx {
  const p3cfg_model *model;
  const p3cfg_cluster *cluster;
  p3cfg_search_options opts;
  uint64_t gpus, global_batch;
  uint64_t margin_bytes; /* headroom every GPU keeps free (mem_margin_*) */
  uint32_t keep; /* plans each worker keeps: top_k, or more when placing re-ranks them */
  work_item *items;
  size_t n_items;
  atomic_size_t next;
  struct search_progress *progress; /* NULL when opts.progress is NULL */
  int excluded; /* the cluster view has excluded GPUs: plans use at most those left */
  int exact_maps; /* score every candidate on its map that skips them (else screen on the
                     whole cluster's map and re-score the plans kept; see finish) */
} search_ctx;

/* ---- progress report (p3cfg_search_options.progress) --------------------------------
 * Enumeration is the first half of the work when the best plans are then placed, all of
 * it otherwise. Workers count finished items; whoever finishes one calls the callback
 * when 0.1 s has passed since the last call, under a trylock, so that calls never
 * overlap and a worker never waits for another's callback. */
#define PROGRESS_UNITS 1000u

typedef struct search_progress {
  p3cfg_progress_fn fn;
  void *payload;
  double enum_share;  /* fraction of the work that is enumeration */
  atomic_size_t done; /* work items finished */
  pthread_mutex_t lock;
  double last_s;      /* time of the last call (under lock) */
  double last_fraction;
} search_progress;

/* Report `fraction` if 0.1 s passed since the last report (always when `final`). */
static void progress_report(search_progress *pr, double fraction, int final)
{
  if (!pr)
    return;
  if (final)
    pthread_mutex_lock(&pr->lock);
  else if (pthread_mutex_trylock(&pr->lock) != 0)
    return;
  const double now = p3cfg__monotonic_s();
  if (final || now - pr->last_s >= 0.1) {
    if (fraction < pr->last_fraction)
      fraction = pr->last_fraction;
    /* In thousandths of the work (p3cfg_search_options.progress); all of them only at
     * the end. */
    const uint32_t part = (uint32_t)((fraction < 1.0 ? fraction : 1.0) * PROGRESS_UNITS);
    pr->fn(pr->payload, final ? PROGRESS_UNITS : part < PROGRESS_UNITS ? part : PROGRESS_UNITS - 1,
           PROGRESS_UNITS);
    pr->last_s = now;
    pr->last_fraction = fraction;
  }
  pthread_mutex_unlock(&pr->lock);
}

static void progress_item_done(search_ctx *ctx)
{
  search_progress *pr = ctx->progress;
  if (!pr)
    return;
  const size_t done = atomic_fetch_add(&pr->done, 1) + 1;
  progress_report(pr, pr->enum_share * (double)done / (double)ctx->n_items, 0);
}
/* ---- end of progress report --------------------------------------------------------- */

typedef struct worker {
  search_ctx *ctx;
  p3cfg__topk top;
  uint64_t evaluated, valid, feasible, bounded;
  uint64_t rejected[P3CFG__MAX_RULES];
  /* Closest miss: the valid plan whose worst stage needs the least memory over capacity. */
  int has_miss;
  double miss_ratio;
  p3cfg_plan miss;
  void *ws;
  size_t ws_bytes;
  p3cfg_stage_memory *stages; /* P3CFG_MAX_PP entries */
  uint32_t *map;              /* with excluded GPUs: the current item's default map */
  size_t map_cap;
  int rc;
  p3cfg__error_state error; /* the last error behind rc, saved on the worker's thread */
  pthread_t thread;
} worker;

P3CFG_API void p3cfg_search_options_init(p3cfg_search_options *opts)
{
  if (opts) {
    static const p3cfg_search_options init = P3CFG_SEARCH_OPTIONS_INIT;
    *opts = init;
  }
}

/* Score one complete candidate (the innermost step). */
static void consider(worker *w, p3cfg_plan *plan, const uint32_t *map)
{
  search_ctx *ctx = w->ctx;
  w->evaluated++;
  p3cfg__plan_rule rule = p3cfg__plan_rule_check(plan, ctx->model, ctx->cluster);
  if (rule != P3CFG_RULE_OK) {
    w->rejected[rule]++;
    return;
  }
  /* A pipeline too large to simulate (pp x vpp, docs/input-limits.md) is skipped before
   * its workspace is allocated, and counted. */
  if (p3cfg__perf_workspace_bytes(plan) > P3CFG__PERF_WORKSPACE_MAX) {
    w->rejected[P3CFG_RULE_WORKSPACE]++;
    return;
  }
  w->valid++;
  p3cfg_memory mem;
  p3cfg__memory_plan_margin(&mem, w->stages, ctx->model, ctx->cluster, plan, ctx->margin_bytes);
  if (!mem.fits) {
    w->rejected[P3CFG_RULE_MEMORY]++;
    double ratio = mem.capacity_bytes ? ((double)mem.total_bytes + (double)mem.margin_bytes) /
                                            (double)mem.capacity_bytes
                                      : 1e300;
    if (!w->has_miss || ratio < w->miss_ratio) {
      w->has_miss = 1;
      w->miss_ratio = ratio;
      w->miss = *plan;
    }
    return;
  }
  w->feasible++;
  /* The workspace grows to the largest plan seen (rarely: sizes repeat). */
  const size_t need = p3cfg__perf_workspace_bytes(plan);
  if (need > w->ws_bytes) {
    void *ws = p3cfg__realloc(w->ws, need);
    if (!ws) {
      w->rc = p3cfg__error_nomem();
      return;
    }
    w->ws = ws;
    w->ws_bytes = need;
  }
  p3cfg_time t;
  /* Branch and bound: a plan whose lower bound is already worse than the worst plan kept
   * skips the pipeline simulation; it could not have entered the top K. */
  const double cutoff = w->top.count == w->top.cap ? w->top.items[0].time.iteration_s : HUGE_VAL;
  int pruned = 0;
  int rc = p3cfg__perf_plan_cutoff(&t, ctx->model, ctx->cluster, plan, map, w->ws, w->ws_bytes,
                                   cutoff, &pruned);
  if (rc) {
    w->rc = rc;
    return;
  }
  if (pruned) {
    w->bounded++;
    return;
  }
  if (p3cfg__topk_admits(&w->top, plan, &t))
    p3cfg__topk_push(&w->top, plan, &t);
}

/* Walk micro-batch x recompute x sp x zero for one work item. */
static void run_item(worker *w, const work_item *it)
{
  search_ctx *ctx = w->ctx;
  const p3cfg_search_options *o = &ctx->opts;
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = it->tp;
  plan.pp = it->pp;
  plan.virtual_stages = it->v;
  plan.dp = it->dp ? it->dp : (uint32_t)(ctx->gpus / ((uint64_t)it->tp * it->pp));
  plan.global_batch = ctx->global_batch;
  plan.overlap = o->overlap;
  if (o->n_stage_layers) {
    memcpy(plan.stage_layers, o->stage_layers, o->n_stage_layers * sizeof(uint32_t));
    plan.n_stage_layers = o->n_stage_layers;
  } else {
    p3cfg__split_apply(&plan, &it->split, ctx->model->layers / it->v);
  }
  const uint64_t per_replica = ctx->global_batch / plan.dp;
  uint32_t mbs[MAX_DIVISORS];
  size_t n_mbs;
  if (o->micro_batch) {
    mbs[0] = o->micro_batch;
    n_mbs = 1;
  } else {
    n_mbs = p3cfg__divisors(per_replica ? per_replica : 1, o->max_micro_batch, mbs,
                            MAX_DIVISORS);
  }
  /* With excluded GPUs the ranks run on the default map that skips them, and the time
   * model is told so (the links a group uses depend on where its ranks are). */
  const uint32_t *map = NULL;
  if (ctx->excluded && ctx->exact_maps) {
    const uint64_t ranks = (uint64_t)plan.dp * plan.tp * plan.pp;
    if (ranks <= p3cfg__usable_gpus(ctx->cluster, plan.tp)) {
      if (ranks > w->map_cap) {
        uint32_t *m = p3cfg__realloc(w->map, ranks * sizeof *m);
        if (!m) {
          w->rc = P3CFG_ENOMEM;
          return;
        }
        w->map = m;
        w->map_cap = ranks;
      }
      if (p3cfg__default_map(w->map, ctx->cluster, plan.tp, ranks) == P3CFG_OK)
        map = w->map;
    }
  }
  const int rc_lo = o->recompute >= 0 ? o->recompute : 0;
  const int rc_hi = o->recompute >= 0 ? o->recompute : P3CFG_RECOMPUTE_FULL;
  const int sp_lo = o->sequence_parallel >= 0 ? o->sequence_parallel : 0;
  const int sp_hi = o->sequence_parallel >= 0 ? o->sequence_parallel : (it->tp > 1);
  const int z_lo = o->zero_stage >= 0 ? o->zero_stage : 0;
  const int z_hi = o->zero_stage >= 0 ? o->zero_stage : (it->pp == 1 ? 3 : 1);
  for (size_t b = 0; b < n_mbs; b++) {
    plan.micro_batch = mbs[b];
    for (int r = rc_lo; r <= rc_hi; r++) {
      plan.recompute = (p3cfg_recompute)r;
      for (int sp = sp_lo; sp <= sp_hi; sp++) {
        plan.sequence_parallel = sp;
        for (int z = z_lo; z <= z_hi; z++) {
          plan.zero_stage = (uint32_t)z;
          consider(w, &plan, map);
          if (w->rc)
            return;
        }
      }
    }
  }
}

static void *worker_main(void *arg)
{
  worker *w = arg;
  search_ctx *ctx = w->ctx;
  for (;;) {
    size_t i = atomic_fetch_add(&ctx->next, 1);
    if (i >= ctx->n_items || w->rc)
      break;
    run_item(w, &ctx->items[i]);
    progress_item_done(ctx);
  }
  if (w->rc)
    p3cfg__error_save(&w->error);
  return NULL;
}

/* Build the work items; P3CFG_ENOMEM on failure. Invalid combinations that the loops
 * skip structurally are still counted, by the workers, through the rules. */
/* The data-parallel degree of (tp, pp) on what is left: --dp when it fits, else the
 * largest that fits and divides the global batch (by --mbs too when given); 0: none. */
static uint32_t excluded_dp(const search_ctx *ctx, uint64_t cap, uint32_t pp)
{
  const p3cfg_search_options *o = &ctx->opts;
  if (o->dp)
    return (uint64_t)o->dp * pp <= cap ? o->dp : 0;
  return p3cfg__largest_dp(cap / pp, ctx->global_batch, o->micro_batch);
}

/* Is pp tried for tp when GPUs are excluded? The regular values (divisors of the GPUs
 * per tp of the whole cluster, or of the layers) and, for each dp, the deepest pipeline
 * that still gets that dp (which uses the most of the GPUs left). */
static int excluded_pp_tried(const search_ctx *ctx, uint32_t tp, uint64_t cap, uint32_t pp,
                             uint64_t max_pp)
{
  const uint64_t all = p3cfg__cluster_gpus(ctx->cluster);
  const uint32_t dp = excluded_dp(ctx, cap, pp);
  if (dp == 0)
    return 0;
  if (ctx->opts.pp)
    return 1;
  if ((all % tp == 0 && (all / tp) % pp == 0) || ctx->model->layers % pp == 0)
    return 1;
  return pp == max_pp || excluded_dp(ctx, cap, pp + 1) != dp;
}

static int build_items(search_ctx *ctx)
{
  const p3cfg_search_options *o = &ctx->opts;
  const p3cfg_model *m = ctx->model;
  uint32_t tps[MAX_DIVISORS], pps[MAX_DIVISORS], vs[MAX_DIVISORS];
  /* With excluded GPUs and no --gpus, plans use at most the GPUs left: tp from the
   * divisors of the whole cluster, dp chosen per (tp, pp) by excluded_dp. */
  const int upto = ctx->excluded && !o->gpus;
  const uint64_t tp_of = upto ? p3cfg__cluster_gpus(ctx->cluster) : ctx->gpus;
  size_t n_tp = o->tp ? (tps[0] = o->tp, (size_t)1) : p3cfg__divisors(tp_of, tp_of, tps, MAX_DIVISORS);
  size_t cap = 0;
  for (int pass = 0; pass < 2; pass++) {
    size_t n = 0;
    for (size_t a = 0; a < n_tp; a++) {
      uint32_t tp = tps[a];
      /* pp is bounded by the layers and by P3CFG_MAX_PP, the size of stage_layers. */
      uint64_t max_pp = m->layers < P3CFG_MAX_PP ? m->layers : P3CFG_MAX_PP;
      uint64_t rest = 0, groups = 0;
      size_t n_pp;
      if (upto) {
        /* Model-parallel groups of tp that fit the usable units, and the pp tried. */
        groups = p3cfg__usable_gpus(ctx->cluster, tp) / tp;
        if (groups == 0)
          continue;
        if (max_pp > groups)
          max_pp = groups;
        if (o->pp) {
          pps[0] = o->pp;
          n_pp = o->pp <= max_pp && excluded_dp(ctx, groups, o->pp) ? 1 : 0;
        } else {
          n_pp = 0;
          for (uint32_t q = 1; q <= max_pp && n_pp < MAX_DIVISORS; q++)
            if (excluded_pp_tried(ctx, tp, groups, q, max_pp))
              pps[n_pp++] = q;
        }
      } else {
        if (ctx->gpus % tp)
          continue;
        rest = ctx->gpus / tp;
        n_pp = o->pp ? (pps[0] = o->pp, (size_t)1) : p3cfg__divisors(rest, max_pp, pps, MAX_DIVISORS);
      }
      for (size_t b = 0; b < n_pp; b++) {
        uint32_t pp = pps[b];
        const uint32_t item_dp = upto ? excluded_dp(ctx, groups, pp) : 0;
        if (!upto && (rest % pp || (o->dp && (uint64_t)o->dp * tp * pp != ctx->gpus)))
          continue;
        size_t n_v;
        if (o->virtual_stages)
          vs[0] = o->virtual_stages, n_v = 1;
        else if (pp == 1)
          vs[0] = 1, n_v = 1;
        else
          n_v = p3cfg__divisors(m->layers, m->layers / pp, vs, MAX_DIVISORS);
        for (size_t c = 0; c < n_v; c++) {
          uint32_t v = vs[c];
          /* Given stage layers: one item whose split is unused. */
          p3cfg__split splits[MAX_SPLITS] = {{0, 0}};
          size_t n_s = 1;
          if (!o->n_stage_layers) {
            if (m->layers % v)
              continue;
            n_s = p3cfg__split_variants(pp, m->layers / v, splits, MAX_SPLITS);
          }
          for (size_t d = 0; d < n_s; d++) {
            if (pass == 1)
              ctx->items[n] = (work_item){tp, pp, v, splits[d], item_dp};
            n++;
          }
        }
      }
    }
    if (pass == 0) {
      cap = n;
      ctx->items = p3cfg__calloc(cap ? cap : 1, sizeof *ctx->items);
      if (!ctx->items)
        return p3cfg__error_nomem();
    } else {
      ctx->n_items = n;
    }
  }
  return P3CFG_OK;
}

static int check_options(const p3cfg_search_options *o, const p3cfg_model *m,
                         const p3cfg_cluster *c, uint64_t *gpus)
{
  if (o->version != P3CFG_SEARCH_OPTIONS_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_search_options: version %u, expected %u",
                            o->version, P3CFG_SEARCH_OPTIONS_VERSION);
  if (!(o->mem_margin_fraction >= 0.0 && o->mem_margin_fraction < 1.0))
    return p3cfg__error_set(P3CFG_EINVALID, "mem_margin_fraction must be in [0, 1), got %g",
                            o->mem_margin_fraction);
  /* The bounds of every knob are the table's (knobs.c); 0 is "not given" where the
   * field has no other meaning for it, -1 "searched" for the int fields. */
  int rc;
  if ((rc = p3cfg__knob_check(P3CFG__KNOB_TOP, o->top_k, 0)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_THREADS, o->threads, 0)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_DP, o->dp, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_TP, o->tp, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_PP, o->pp, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_MBS, o->micro_batch, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_VPP, o->virtual_stages, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_GPUS, o->gpus, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_GLOBAL_BATCH, o->global_batch, 1)) ||
      (rc = p3cfg__knob_check_int(P3CFG__KNOB_RECOMPUTE, o->recompute)) ||
      (rc = p3cfg__knob_check_int(P3CFG__KNOB_SP, o->sequence_parallel)) ||
      (rc = p3cfg__knob_check_int(P3CFG__KNOB_ZERO, o->zero_stage)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_PLACE_TOP, o->place_top, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_MAX_MBS, o->max_micro_batch, 0)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_TOKENS, o->train_tokens, 1)))
    return rc;
  if (!(o->place_max_s >= 0.0))
    return p3cfg__error_set(P3CFG_EINVALID, "place_max_s must be >= 0");
  if (o->pp > P3CFG_MAX_PP)
    return p3cfg__error_set(P3CFG_EINVALID, "pp must be at most %u, got %u", P3CFG_MAX_PP, o->pp);
  if (o->n_stage_layers && (!o->stage_layers || o->n_stage_layers > P3CFG_MAX_PP))
    return p3cfg__error_set(P3CFG_EINVALID, "stage_layers: %u entries", o->n_stage_layers);
  if (o->n_stage_layers && o->pp && o->pp != o->n_stage_layers)
    return p3cfg__error_set(P3CFG_EINVALID, "--stage-layers has %u entries, but pp is %u",
                            o->n_stage_layers, o->pp);
  const uint64_t all = p3cfg__cluster_gpus(c);
  *gpus = o->gpus ? o->gpus : all - c->n_excluded;
  if (*gpus > all)
    return p3cfg__error_set(P3CFG_EINVALID, "%llu GPUs asked for, but the cluster has %llu",
                            (unsigned long long)*gpus, (unsigned long long)all);
  if (*gpus > all - c->n_excluded)
    return p3cfg__error_set(P3CFG_EINVALID,
                            "%llu GPUs asked for, but only %llu are left of the cluster's "
                            "%llu (%llu excluded)",
                            (unsigned long long)*gpus, (unsigned long long)(all - c->n_excluded),
                            (unsigned long long)all, (unsigned long long)c->n_excluded);
  if (o->dp && o->tp && o->pp && (uint64_t)o->dp * o->tp * o->pp != *gpus &&
      !(c->excluded && !o->gpus))
    return p3cfg__error_set(P3CFG_EINVALID, "dp*tp*pp = %llu, but %llu GPUs are used "
                                            "(give --gpus to use fewer)",
                            (unsigned long long)o->dp * o->tp * o->pp, (unsigned long long)*gpus);
  (void)m;
  return P3CFG_OK;
}

static void worker_dispose(worker *w)
{
  p3cfg__topk_dispose(&w->top);
  p3cfg__free(w->ws);
  p3cfg__free(w->stages);
  p3cfg__free(w->map);
}

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

/* Merge the workers' results into *out. */
static int finish(p3cfg_result **out, search_ctx *ctx, worker *ws, uint32_t n_workers,
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
    p3cfg__entry_set_ranges(e, ctx->cluster);
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
      progress_report(ctx->progress,
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
    p3cfg__entry_set_ranges(&r->entries[k], ctx->cluster);
  p3cfg__topk_dispose(&all);
  *out = r;
  return P3CFG_OK;
fail:
  p3cfg__topk_dispose(&all);
  p3cfg_result_free(r);
  return rc;
}

P3CFG_API int p3cfg_search(p3cfg_result **out, const p3cfg_model *model,
                           const p3cfg_cluster *cluster, const p3cfg_search_options *opts)
{
  p3cfg__error_clear();
  if (out)
    *out = NULL;
  if (!out || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_search: NULL argument");
  p3cfg_search_options defaults;
  p3cfg_search_options_init(&defaults);
  search_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.model = model;
  if (opts && (opts->version == 1 || opts->version == 2)) {
    /* An older struct: the fields it has, the defaults of the rest (version 1 ends
     * before exclude_gpus, version 2 before the margin and the budget). */
    const size_t have = opts->version == 1 ? offsetof(p3cfg_search_options, exclude_gpus)
                                           : offsetof(p3cfg_search_options, mem_margin_bytes);
    ctx.opts = defaults;
    memcpy(&ctx.opts, opts, have);
    ctx.opts.version = P3CFG_SEARCH_OPTIONS_VERSION;
  } else {
    ctx.opts = opts ? *opts : defaults;
  }
  if (ctx.opts.version != P3CFG_SEARCH_OPTIONS_VERSION)
    return check_options(&ctx.opts, model, cluster, &ctx.gpus);
  /* The plans see the cluster without its excluded GPUs. */
  p3cfg__exclusion ex;
  int rc = p3cfg__exclusion_view(&ex, cluster, ctx.opts.exclude_gpus, ctx.opts.n_exclude_gpus);
  if (rc)
    return rc;
  ctx.cluster = &ex.view;
  ctx.excluded = ex.view.excluded != NULL;
  rc = check_options(&ctx.opts, model, ctx.cluster, &ctx.gpus);
  if (rc) {
    p3cfg__exclusion_dispose(&ex);
    return rc;
  }
  ctx.margin_bytes =
      p3cfg__memory_margin(cluster, ctx.opts.mem_margin_bytes, ctx.opts.mem_margin_fraction);
  ctx.global_batch = ctx.opts.global_batch ? ctx.opts.global_batch : model->global_batch;
  ctx.keep = ctx.opts.top_k;
  if (ctx.excluded && ctx.keep < 32 &&
      !(ctx.opts.place && p3cfg__placement_matters(cluster)))
    ctx.keep = 32; /* screened plans re-scored on the map that skips the excluded GPUs */
  if (ctx.opts.place && p3cfg__placement_matters(cluster)) {
    uint32_t place_top = ctx.opts.place_top ? ctx.opts.place_top : 8;
    if (place_top > ctx.keep)
      ctx.keep = place_top;
  }
  const double t0 = p3cfg__monotonic_s();
  if ((rc = build_items(&ctx)) != 0) {
    p3cfg__free(ctx.items);
    p3cfg__exclusion_dispose(&ex);
    return rc;
  }
  search_progress progress; /* the progress report, when asked for */
  if (ctx.opts.progress) {
    memset(&progress, 0, sizeof progress);
    progress.fn = ctx.opts.progress;
    progress.payload = ctx.opts.progress_payload;
    progress.enum_share =
        ctx.opts.place && p3cfg__placement_matters(cluster) ? 0.5 : 1.0;
    atomic_init(&progress.done, 0);
    pthread_mutex_init(&progress.lock, NULL);
    ctx.progress = &progress;
  }
  uint32_t n_workers = ctx.opts.threads;
  if (n_workers > ctx.n_items && ctx.n_items > 0)
    n_workers = (uint32_t)ctx.n_items;
  worker *ws = p3cfg__calloc(n_workers, sizeof *ws);
  if (!ws) {
    if (ctx.progress)
      pthread_mutex_destroy(&ctx.progress->lock);
    p3cfg__free(ctx.items);
    p3cfg__exclusion_dispose(&ex);
    return p3cfg__error_nomem();
  }
  uint32_t started = 0;
  for (uint32_t i = 0; i < n_workers; i++) {
    ws[i].ctx = &ctx;
    ws[i].stages = p3cfg__calloc(P3CFG_MAX_PP, sizeof *ws[i].stages);
    if (!ws[i].stages || p3cfg__topk_init(&ws[i].top, ctx.keep)) {
      rc = p3cfg__error_nomem();
      goto done;
    }
  }
  if (n_workers == 1) {
    worker_main(&ws[0]);
    started = 1;
  } else {
    for (; started < n_workers; started++)
      if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0)
        break;
    if (started == 0)
      worker_main(&ws[0]), started = 1;
    else
      for (uint32_t i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);
    /* Threads that failed to start: their items were taken by the others. */
  }
  for (uint32_t i = 0; i < n_workers; i++)
    if (ws[i].rc) {
      /* The worker's message, from the thread that set it (a failure is always set
       * where it is known, so the saved error is the one behind rc). */
      rc = ws[i].rc;
      if (ws[i].error.code == rc)
        p3cfg__error_restore(&ws[i].error);
      else
        p3cfg__error_set(rc, "the time model failed: %s", p3cfg_strerror(rc));
      goto done;
    }
  rc = finish(out, &ctx, ws, n_workers, p3cfg__monotonic_s() - t0);
  progress_report(ctx.progress, 1.0, 1);
done:
  if (ctx.progress)
    pthread_mutex_destroy(&ctx.progress->lock);
  for (uint32_t i = 0; i < n_workers; i++)
    worker_dispose(&ws[i]);
  p3cfg__free(ws);
  p3cfg__free(ctx.items);
  p3cfg__exclusion_dispose(&ex);
  return rc;
}
