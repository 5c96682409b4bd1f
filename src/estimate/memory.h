/*
 * memory.h — the memory estimator (spec §8): what one GPU of each pipeline stage holds
 * at its peak, term by term (docs/memory-model.md).
 */
#ifndef P3CFG_MEMORY_H
#define P3CFG_MEMORY_H

#include "types.h"

/*
 * Estimate memory for a resolved, valid plan. `stages` has room for plan->pp entries;
 * `out->stages` is set to it. Allocation-free: the search calls this for every
 * candidate it prunes.
 */
void p3cfg__memory_plan(p3cfg_memory *out, p3cfg_stage_memory *stages, const p3cfg_model *m,
                        const p3cfg_cluster *c, const p3cfg_plan *plan);

#endif
