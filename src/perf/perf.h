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

/* Incremental re-scoring for the placement search: as p3cfg__perf_plan with a custom
 * rank_gpu, but the link costs of stage j are recomputed only where dirty[j] is set (pp
 * entries); the others are taken from `workspace`, which must hold the previous call's
 * state for the same plan (a first call passes dirty = NULL, or all set). A stage is dirty
 * when any of its ranks, or of the next stage's (pipeline sends), moved. */
int p3cfg__perf_plan_dirty(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                           const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                           size_t workspace_bytes, const uint8_t *dirty);

#endif
