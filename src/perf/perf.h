/*
 * perf.h — the time model (spec §8): one training iteration of a plan on a cluster,
 * with every link the plan's ranks actually use.
 */
#ifndef P3CFG_PERF_H
#define P3CFG_PERF_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Bytes of scratch memory p3cfg__perf_plan needs for `plan` (resolved). The search
 * allocates it once per thread for the largest plan; the scorer itself never allocates. */
size_t p3cfg__perf_workspace_bytes(const p3cfg_plan *plan);

/* The largest workspace the time model takes on: the pipeline simulation grows as pp^2 x
 * vpp (interleaved) or pp x vpp x micro-batches (short pipelines), and pp 1024 x vpp
 * 1024 would need 68.7 GB. docs/input-limits.md gives the plans it refuses. */
#define P3CFG__PERF_WORKSPACE_MAX ((size_t)1 << 30)

/* 0 when the workspace of `plan` is within P3CFG__PERF_WORKSPACE_MAX; otherwise
 * P3CFG_EPLAN with the last error naming the simulation's size and the limit (estimate,
 * replan: refused before anything is allocated; the search counts the candidate under
 * P3CFG_RULE_WORKSPACE instead). */
int p3cfg__perf_workspace_check(const p3cfg_plan *plan);

/*
 * Time of one optimizer step of a resolved, valid plan. `rank_gpu` maps each global rank
 * (Megatron-LM order: tp fastest, then dp, then pp) to a global GPU id
 * (node * gpus_per_node + local); NULL means the default placement rank r -> GPU r.
 * Returns 0, or P3CFG_EINVALID when the workspace is too small.
 */
int p3cfg__perf_plan(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                     const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                     size_t workspace_bytes);

/* As p3cfg__perf_plan, but when a lower bound on the step time (the busiest stage's own
 * work plus the optimizer step) already exceeds `cutoff_s`, skip the pipeline simulation:
 * *pruned is set and out->iteration_s holds that bound (the other fields are zero). The
 * search passes the worst time of its current top K, so pruning never changes its result. */
int p3cfg__perf_plan_cutoff(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                            const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                            size_t workspace_bytes, double cutoff_s, int *pruned);

/*
 * Incremental scoring for the placement search, which moves a few ranks at a time. A
 * cache holds the cost of every group the time model looks at (each TP group, each
 * pipeline send, each tied-embedding pair, each link of each DP ring) and, per stage,
 * the worst of them; p3cfg__perf_cache_score recomputes only what involves a rank
 * reported moved since the last score and gives exactly what p3cfg__perf_plan gives for
 * the same map (the same values, from the same functions; a worst is a max over the same
 * set). Scoring never allocates.
 *
 * p3cfg__perf_cache_new scores the map once in full; `rank_gpu` (dp*tp*pp entries) is
 * borrowed and read again at each score, so the caller edits it in place and calls
 * p3cfg__perf_cache_moved for every rank whose GPU changed (a rank may be reported more
 * than once; moving back counts as a move). The model, cluster and plan are borrowed
 * too. Returns 0, or P3CFG_ENOMEM / the time model's error.
 */
typedef struct p3cfg__perf_cache p3cfg__perf_cache;

int p3cfg__perf_cache_new(p3cfg__perf_cache **out, p3cfg_time *time, const p3cfg_model *m,
                          const p3cfg_cluster *c, const p3cfg_plan *plan,
                          const uint32_t *rank_gpu);
void p3cfg__perf_cache_free(p3cfg__perf_cache *cache);
/* Ranks first .. first+count-1 run on other GPUs now. */
void p3cfg__perf_cache_moved(p3cfg__perf_cache *cache, uint32_t first, uint32_t count);
int p3cfg__perf_cache_score(p3cfg_time *out, p3cfg__perf_cache *cache);

#endif
