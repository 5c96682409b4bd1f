/*
 * plan_rules.h — the validity rules of a plan (spec §4), each written once, and the
 * completion of a partly given plan (dp, stage split, global batch).
 */
#ifndef P3CFG_PLAN_RULES_H
#define P3CFG_PLAN_RULES_H

#include "types.h"

/* Total GPUs of a cluster. */
uint64_t p3cfg__cluster_gpus(const p3cfg_cluster *c);

/* Micro-batches per pipeline per step: global_batch / (micro_batch * dp). */
uint64_t p3cfg__plan_microbatches(const p3cfg_plan *p);

/* Check every rule of a complete plan (dp, global_batch and the split all given) and
 * return 0, or P3CFG_EPLAN with the failed rule in the last error. Allocation-free:
 * the search calls it on every candidate. */
int p3cfg__plan_check(const p3cfg_plan *p, const p3cfg_model *m, const p3cfg_cluster *c);

/* Fill stage_layers with the balanced split of m->layers over p->pp ranks (multiples
 * of virtual_stages; extra layers go to the middle stages, so the first and last
 * stages, which also hold the embedding and the output layer, stay lightest).
 * Returns 0, or P3CFG_EPLAN when no such split exists. */
int p3cfg__plan_balanced_split(p3cfg_plan *p, const p3cfg_model *m);

#endif
