/*
 * search_internal.h — what the two halves of p3cfg_search share: the search's context,
 * its work items and workers (search.c enumerates and scores), and the merge of the
 * workers' results into a ranked, placed result (search_finish.c).
 */
#ifndef P3CFG_SEARCH_INTERNAL_H
#define P3CFG_SEARCH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "search_space.h"
#include "topk.h"
#include "types.h"

#define MAX_DIVISORS 256
#define MAX_SPLITS 8

typedef struct work_item {
  uint32_t tp, pp, v;
  p3cfg__split split;
  uint32_t dp; /* 0: gpus / (tp * cp * pp); with excluded GPUs, the largest that fits */
  uint32_t cp;
  uint32_t accounts; /* P3CFG_SPLIT_ACCOUNT_* of the item's split (pp > 1) */
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
  /* The context-parallel degrees tried (each item has one) and the expert-parallel ones
   * (every item walks them): search_dims.c. */
  uint32_t cps[4];
  size_t n_cps;
  uint32_t eps[MAX_DIVISORS];
  size_t n_eps;
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

typedef struct worker {
  search_ctx *ctx;
  p3cfg__topk top;
  uint64_t evaluated, valid, feasible, bounded;
  uint64_t rejected[P3CFG__MAX_RULES];
  /* Bit z: under the current item's (ep, etp), a plan with ZeRO stage z held more model
   * state (weights, gradients, optimizer) on one stage than the GPU has room for; that
   * state does not depend on the micro-batch, recompute or sp, so neither does the
   * verdict (search.c, consider). */
  uint32_t state_over;
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

/* The context-parallel degrees (ctx->cps) and the expert-parallel ones (ctx->eps) the
 * search tries under its options (search_dims.c). */
void p3cfg__search_dims_init(search_ctx *ctx);

/* The (ep, etp) pairs a candidate with plan's tp, cp and dp walks: each ep of ctx->eps
 * with etp 1 and tp (a mixture-of-experts model) or tp (a dense one), or the options'
 * fixed values; searched pairs whose ep*etp does not fold into tp*cp*dp are skipped. */
size_t p3cfg__search_expert_pairs(const search_ctx *ctx, const p3cfg_plan *plan,
                                  uint32_t pairs[][2]);
/* The dp_shard values a ZeRO-3 plan of `plan`'s framework tries (search_dims.c): the
 * options' (0 = all of dp), and with HSDP one node's data-parallel ranks. Returns 1-2. */
size_t p3cfg__search_dp_shards(const search_ctx *ctx, const p3cfg_plan *plan,
                               uint32_t shards[2]);
/* The compile flag of the searched plans: the options', or on where the framework
 * compiles (0 where it does not). */
uint32_t p3cfg__search_compile(const p3cfg_search_options *o);

/* Report `fraction` of the work done if 0.1 s passed since the last report (always when
 * `final`); nothing when pr is NULL. */
void p3cfg__search_progress_report(search_progress *pr, double fraction, int final);

/* Merge the workers' results into *out: rank, keep top_k, place, explain an empty or
 * infeasible space. */
int p3cfg__search_finish(p3cfg_result **out, search_ctx *ctx, worker *ws, uint32_t n_workers,
                         double elapsed);

#endif
