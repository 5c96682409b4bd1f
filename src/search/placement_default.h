/*
 * placement_default.h — the rank -> GPU map a launcher gives without being told:
 * global rank r (Megatron-LM order: tp fastest, then dp, then pp) on GPU r, GPUs
 * numbered node-major. With tp <= gpus_per_node every tensor-parallel group stays
 * inside one node.
 */
#ifndef P3CFG_PLACEMENT_DEFAULT_H
#define P3CFG_PLACEMENT_DEFAULT_H

#include "types.h"

/* Coordinates of global rank r of a plan. */
static inline void p3cfg__rank_coords(const p3cfg_plan *p, uint32_t r, uint32_t *dp,
                                      uint32_t *pp, uint32_t *tp)
{
  *tp = r % p->tp;
  *dp = (r / p->tp) % p->dp;
  *pp = r / (p->tp * p->dp);
}

/* Attach the default placement to a result entry (allocates entry->placement). */
int p3cfg__placement_default(p3cfg__result_entry *entry, const p3cfg_cluster *c);

#endif
