/*
 * search.c — p3cfg_search: enumerate every valid plan under the constraints, prune by the
 * validity rules and by memory (counting why each plan was rejected), score the rest with
 * the time model and keep the top K under a total order.
 *
 * The merge of the workers' results (ranking, placement, the explanations of an empty
 * or infeasible space) is search_finish.c.
 *
 * Work is cut into items, one per (tp, pp, virtual_stages, split); workers take items
 * from a shared counter and walk micro-batch x recompute x sequence parallelism x ZeRO
 * inside them on one mutable plan, so the hot loop copies nothing, formats nothing and
 * allocates nothing (the perf workspace grows, rarely, between items). Each worker keeps
 * its own top K and statistics; merging under the total order makes the result
 * independent of the thread count.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "precision.h"
#include "exclusion.h"
#include "knobs.h"
#include "links.h"
#include "memory.h"
#include "perf.h"
#include "rank_map.h"
#include "plan_rules.h"
#include "sat_math.h"
#include "search_internal.h"

#include "framework.h"
#include "search_space.h"
#include "topk.h"
#include "uncertainty.h"

/* Report `fraction` if 0.1 s passed since the last report (always when `final`). */
void p3cfg__search_progress_report(search_progress *pr, double fraction, int final)
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
  p3cfg__search_progress_report(pr, pr->enum_share * (double)done / (double)ctx->n_items, 0);
}
/* ---- end of progress report --------------------------------------------------------- */

P3CFG_API void p3cfg_search_options_init(p3cfg_search_options *opts)
{
  if (opts) {
    static const p3cfg_search_options init = P3CFG_SEARCH_OPTIONS_INIT;
    *opts = init;
  }
}

/* Whether some stage's model state alone (weights + gradients + optimizer state, which
 * every moment of the step holds: memory.c's peak is state plus what is live) leaves no
 * room under the capacity less the margin. */
static int state_over(const p3cfg_stage_memory *stages, uint32_t pp, uint64_t margin,
                      uint64_t capacity)
{
  for (uint32_t i = 0; i < pp; i++) {
    const p3cfg_stage_memory *s = &stages[i];
    const uint64_t state = p3cfg__sat_add(
        s->weights_bytes, p3cfg__sat_add(s->gradients_bytes, s->optimizer_bytes));
    if (p3cfg__sat_add(state, margin) > capacity)
      return 1;
  }
  return 0;
}

/* The bit of worker.state_over for a plan's model state: one per ZeRO stage, and one more
 * for stage 3 sharded over fewer GPUs than dp (HSDP holds more state than FSDP). */
static unsigned state_bit(const p3cfg_plan *plan)
{
  return plan->zero_stage + (plan->zero_stage == 3 && plan->dp_shard ? 4u : 0u);
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
  /* Memory lower bound: the model state alone did not fit for this (ep, etp, zero), so
   * the plan does not fit either. Once the worker has a plan that fits, the closest miss
   * is never reported, so the estimate is skipped (a debug build checks the verdict). */
  if ((w->state_over >> state_bit(plan) & 1u) && w->feasible > 0) {
#ifndef NDEBUG
    p3cfg_memory check;
    p3cfg__memory_plan_margin(&check, w->stages, ctx->model, ctx->cluster, plan,
                              ctx->margin_bytes);
    assert(!check.fits);
#endif
    w->rejected[P3CFG_RULE_MEMORY]++;
    return;
  }
  p3cfg_memory mem;
  p3cfg__memory_plan_margin(&mem, w->stages, ctx->model, ctx->cluster, plan, ctx->margin_bytes);
  if (!mem.fits) {
    if (state_over(w->stages, plan->pp, ctx->margin_bytes, mem.capacity_bytes))
      w->state_over |= 1u << state_bit(plan);
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

/* The units a pipelined plan's split counts beyond its layers (the embedding and the
 * loss it accounts for, p3cfg_search_options.split_accounts). */
static uint64_t split_units(uint32_t accounts, uint32_t pp)
{
  if (pp < 2)
    return 0;
  return ((accounts & P3CFG_SPLIT_ACCOUNT_EMBEDDING) ? 1u : 0u) +
         ((accounts & P3CFG_SPLIT_ACCOUNT_LOSS) ? 1u : 0u);
}

/* The split accountings tried for an item of (pp, v): the one asked for; else, for a
 * Megatron-LM interleaved plan, none and, where the layers with the embedding and the
 * loss split evenly over the pp * v chunks (Megatron's own split with both flags), both:
 * Megatron-Bridge's choice for 126- and 94-layer models, the ends one layer lighter,
 * which no split in units of v layers gives. Uneven accounted splits are not tried: they
 * add long simulations (a 65,536-layer model gains v up to 198 on pp 256) for plans
 * Megatron runs only through a layout. */
static size_t split_accountings(uint32_t *out, const search_ctx *ctx, uint32_t pp, uint32_t v)
{
  const p3cfg_search_options *o = &ctx->opts;
  if (pp < 2 || o->split_accounts || o->n_stage_layers) {
    out[0] = pp < 2 ? 0 : o->split_accounts;
    return 1;
  }
  out[0] = 0;
  if (v > 1 && o->framework == P3CFG_FRAMEWORK_MEGATRON &&
      (ctx->model->layers + 2) % ((uint64_t)pp * v) == 0) {
    out[1] = P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS;
    return 2;
  }
  return 1;
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
  plan.cp = it->cp;
  plan.virtual_stages = it->v;
  plan.dp = it->dp ? it->dp : (uint32_t)(ctx->gpus / ((uint64_t)it->tp * it->cp * it->pp));
  plan.global_batch = ctx->global_batch;
  plan.overlap = o->overlap;
  plan.framework = o->framework;
  plan.compile = p3cfg__search_compile(o);
  plan.split_accounts = it->accounts;
  if (o->n_stage_layers) {
    memcpy(plan.stage_layers, o->stage_layers, o->n_stage_layers * sizeof(uint32_t));
    plan.n_stage_layers = o->n_stage_layers;
  } else {
    p3cfg__split_apply(&plan, &it->split,
                       (ctx->model->layers + split_units(it->accounts, it->pp)) / it->v);
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
    const uint64_t ranks = (uint64_t)plan.dp * plan.tp * plan.cp * plan.pp;
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
  /* A framework whose TP always shards the sequence has only sp = 1 with tp > 1. */
  const int sp_lo = o->sequence_parallel >= 0                                ? o->sequence_parallel
                    : p3cfg__framework_of(&plan)->sp_always && it->tp > 1 ? 1
                                                                           : 0;
  const int sp_hi = o->sequence_parallel >= 0 ? o->sequence_parallel : (it->tp > 1);
  /* The framework's ZeRO stages (those it pipelines when pp > 1); the rules count the
   * rest. A ZeRO-3 plan of a framework with HSDP also tries sharding within a node. */
  const p3cfg__framework *fw = p3cfg__framework_of(&plan);
  const uint32_t stages = o->zero_stage >= 0 ? P3CFG__ZERO_BIT(o->zero_stage)
                          : it->pp == 1      ? fw->zero_stages
                                             : fw->zero_stages & fw->zero_with_pp;
  uint32_t shards[2] = {0, 0};
  const size_t n_shards = p3cfg__search_dp_shards(ctx, &plan, shards);
  /* Expert parallelism folds the ranks of a stage again: ep x etp over those that fold. */
  uint32_t pairs[2 * MAX_DIVISORS][2];
  const size_t n_pairs = p3cfg__search_expert_pairs(ctx, &plan, pairs);
  for (size_t x = 0; x < n_pairs; x++) {
    plan.ep = pairs[x][0];
    plan.etp = pairs[x][1];
    w->state_over = 0;
    for (size_t b = 0; b < n_mbs; b++) {
      plan.micro_batch = mbs[b];
      for (int r = rc_lo; r <= rc_hi; r++) {
        plan.recompute = (p3cfg_recompute)r;
        /* Selective: the modules asked for, else Megatron's default and, for an MoE model
         * in Megatron-LM, Megatron-Bridge's {moe_act, layernorm} (its MoE perf recipes). */
        uint32_t modules[2] = {o->recompute_modules, 0};
        size_t n_modules = 1;
        if (r == P3CFG_RECOMPUTE_SELECTIVE && !o->recompute_modules && ctx->model->moe.experts &&
            plan.framework == P3CFG_FRAMEWORK_MEGATRON)
          modules[n_modules++] = P3CFG_RECOMPUTE_MODULE_MOE_ACT | P3CFG_RECOMPUTE_MODULE_LAYERNORM;
        for (size_t mo = 0; mo < n_modules; mo++)
        for (int sp = sp_lo; sp <= sp_hi; sp++) {
          plan.sequence_parallel = sp;
          for (uint32_t z = 0; z <= 3; z++) {
            if (!(stages & P3CFG__ZERO_BIT(z)))
              continue;
            plan.zero_stage = z;
            for (size_t h = 0; h < (z == 3 ? n_shards : 1); h++) {
              plan.dp_shard = z == 3 ? shards[h] : 0;
              plan.sequence_parallel = sp;
              plan.overlap = o->overlap;
              plan.recompute_modules = r == P3CFG_RECOMPUTE_SELECTIVE ? modules[mo] : 0;
              plan.cpu_offload_layers = o->cpu_offload_layers;
              p3cfg__framework_apply(&plan);
              consider(w, &plan, map);
              if (w->rc)
                return;
            }
          }
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
      for (size_t e = 0; e < ctx->n_cps; e++) {
        const uint32_t cp = ctx->cps[e];
        /* pp is bounded by the layers and by P3CFG_MAX_PP, the size of stage_layers. */
        uint64_t max_pp = m->layers < P3CFG_MAX_PP ? m->layers : P3CFG_MAX_PP;
        uint64_t rest = 0, groups = 0;
        size_t n_pp;
        if (upto) {
          /* Model-parallel groups of tp (cp of them per pipeline stage of a replica) that
           * fit the usable units, and the pp tried. */
          groups = p3cfg__usable_gpus(ctx->cluster, tp) / tp / cp;
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
          if (ctx->gpus % ((uint64_t)tp * cp))
            continue;
          rest = ctx->gpus / tp / cp;
          n_pp = o->pp ? (pps[0] = o->pp, (size_t)1) : p3cfg__divisors(rest, max_pp, pps, MAX_DIVISORS);
        }
        for (size_t b = 0; b < n_pp; b++) {
          uint32_t pp = pps[b];
          const uint32_t item_dp = upto ? excluded_dp(ctx, groups, pp) : 0;
          if (!upto && (rest % pp || (o->dp && (uint64_t)o->dp * tp * cp * pp != ctx->gpus)))
            continue;
          /* The interleaving degrees: those that divide the layers, or the layers with
           * the embedding and the loss (split_accountings). */
          size_t n_v;
          if (o->virtual_stages)
            vs[0] = o->virtual_stages, n_v = 1;
          else if (pp == 1 || !p3cfg__framework_get(o->framework)->interleaved)
            vs[0] = 1, n_v = 1;
          else
            n_v = p3cfg__divisors_of_either(m->layers + split_units(o->split_accounts, pp),
                                           o->split_accounts || o->framework != P3CFG_FRAMEWORK_MEGATRON
                                               ? 0
                                               : m->layers + 2,
                                           pp, vs, MAX_DIVISORS);
          for (size_t c = 0; c < n_v; c++) {
            uint32_t v = vs[c];
            uint32_t accs[2];
            const size_t n_acc = split_accountings(accs, ctx, pp, v);
            for (size_t e2 = 0; e2 < n_acc; e2++) {
              /* What the split divides: the layers, and what it accounts for. */
              const uint64_t split_total = m->layers + split_units(accs[e2], pp);
              /* Given stage layers: one item whose split is unused. */
              p3cfg__split splits[MAX_SPLITS] = {{0, 0}};
              size_t n_s = 1;
              if (!o->n_stage_layers) {
                if (split_total % v)
                  continue;
                n_s = p3cfg__split_variants(pp, split_total / v, splits, MAX_SPLITS);
              }
              for (size_t d = 0; d < n_s; d++) {
                if (pass == 1)
                  ctx->items[n] = (work_item){tp, pp, v, splits[d], item_dp, cp, accs[e2]};
                n++;
              }
            }
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
      (rc = p3cfg__knob_check(P3CFG__KNOB_CP, o->cp, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_EP, o->ep, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_ETP, o->etp, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_MBS, o->micro_batch, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_VPP, o->virtual_stages, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_GPUS, o->gpus, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_GLOBAL_BATCH, o->global_batch, 1)) ||
      (rc = p3cfg__knob_check_int(P3CFG__KNOB_RECOMPUTE, o->recompute)) ||
      (rc = p3cfg__knob_check_int(P3CFG__KNOB_SP, o->sequence_parallel)) ||
      (rc = p3cfg__knob_check_int(P3CFG__KNOB_ZERO, o->zero_stage)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_PLACE_TOP, o->place_top, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_MAX_MBS, o->max_micro_batch, 0)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_TOKENS, o->train_tokens, 1)) ||
      (rc = p3cfg__knob_check(P3CFG__KNOB_CPU_OFFLOAD, o->cpu_offload_layers, 1)))
    return rc;
  if (o->split_accounts & ~(uint32_t)(P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS))
    return p3cfg__error_set(P3CFG_EINVALID, "split_accounts: unknown flags 0x%x",
                            o->split_accounts);
  if (!p3cfg__framework_get(o->framework))
    return p3cfg__error_set(P3CFG_EINVALID, "framework must be 0 (megatron), 1 (torchtitan) or "
                                            "2 (deepspeed), got %u",
                            o->framework);
  if (o->recompute_modules & ~(uint32_t)P3CFG_RECOMPUTE_MODULE_ALL)
    return p3cfg__error_set(P3CFG_EINVALID, "recompute_modules: unknown flags 0x%x",
                            o->recompute_modules);
  if (o->compile < -1 || o->compile > 1)
    return p3cfg__error_set(P3CFG_EINVALID, "compile must be -1, 0 or 1, got %d", o->compile);
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
  const uint64_t cp = o->cp ? o->cp : 1;
  if (o->dp && o->tp && o->pp && (!o->cp || o->cp == 1) &&
      (uint64_t)o->dp * o->tp * o->pp != *gpus && !(c->excluded && !o->gpus))
    return p3cfg__error_set(P3CFG_EINVALID, "dp*tp*pp = %llu, but %llu GPUs are used "
                                            "(give --gpus to use fewer)",
                            (unsigned long long)o->dp * o->tp * o->pp, (unsigned long long)*gpus);
  if (o->dp && o->tp && o->pp && o->cp > 1 && (uint64_t)o->dp * o->tp * cp * o->pp != *gpus &&
      !(c->excluded && !o->gpus))
    return p3cfg__error_set(P3CFG_EINVALID, "dp*tp*cp*pp = %llu, but %llu GPUs are used "
                                            "(give --gpus to use fewer)",
                            (unsigned long long)o->dp * o->tp * cp * o->pp,
                            (unsigned long long)*gpus);
  return p3cfg__precision_check(m, &c->gpu); /* fp8 needs FP8 tensor cores, ... */
}

static void worker_dispose(worker *w)
{
  p3cfg__topk_dispose(&w->top);
  p3cfg__free(w->ws);
  p3cfg__free(w->stages);
  p3cfg__free(w->map);
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
  if (opts && opts->version >= 1 && opts->version <= 6) {
    /* An older struct: the fields it has, the defaults of the rest (version 1 ends
     * before exclude_gpus, version 2 before the margin and the budget, version 3 before
     * cp, ep and etp, version 4 before the framework, version 5 before offloading,
     * version 6 before the split accounting). */
    const size_t have = opts->version == 1   ? offsetof(p3cfg_search_options, exclude_gpus)
                        : opts->version == 2 ? offsetof(p3cfg_search_options, mem_margin_bytes)
                        : opts->version == 3 ? offsetof(p3cfg_search_options, cp)
                        : opts->version == 4 ? offsetof(p3cfg_search_options, framework)
                        : opts->version == 5 ? offsetof(p3cfg_search_options, cpu_offload_layers)
                                             : offsetof(p3cfg_search_options, split_accounts);
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
  p3cfg__search_dims_init(&ctx);
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
  rc = p3cfg__search_finish(out, &ctx, ws, n_workers, p3cfg__monotonic_s() - t0);
  p3cfg__search_progress_report(ctx.progress, 1.0, 1);
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
