/*
 * exclusion.h — GPUs taken out of a cluster (failed nodes or GPUs): the private view of
 * a cluster that a search or an estimate works on, how many GPUs a plan can still use,
 * and the default rank -> GPU map that skips what is excluded (docs/placement.md,
 * "Excluded GPUs").
 */
#ifndef P3CFG_EXCLUSION_H
#define P3CFG_EXCLUSION_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* GPUs per placement unit for a plan of tensor-parallel degree tp: the TP group when it
 * fits a node (tp divides gpus_per_node), a whole node when groups span nodes (tp a
 * multiple of gpus_per_node), single GPUs otherwise. */
uint32_t p3cfg__unit_gpus(const p3cfg_cluster *c, uint32_t tp);

/* GPUs a plan of degree tp can use: every GPU without exclusions, else those in aligned
 * units of p3cfg__unit_gpus(c, tp) GPUs none of which is excluded. */
uint64_t p3cfg__usable_gpus(const p3cfg_cluster *c, uint32_t tp);

/* 1 when unit `k` (GPUs k*u .. k*u+u-1) holds no excluded GPU. */
int p3cfg__unit_usable(const p3cfg_cluster *c, uint32_t u, uint32_t k);

/* The largest data-parallel degree d <= max_dp with global_batch % (d * micro_batch) == 0
 * (micro_batch 0: any divisor of the global batch); 0 when there is none. */
uint32_t p3cfg__largest_dp(uint64_t max_dp, uint64_t global_batch, uint32_t micro_batch);

/* The default map of `ranks` ranks of a plan of degree tp: rank r on GPU r, or with
 * exclusions, slot k (ranks k*u .. k*u+u-1) on the k-th usable unit. P3CFG_EPLAN when the
 * ranks do not fit in the usable units. */
int p3cfg__default_map(uint32_t *rank_gpu, const p3cfg_cluster *c, uint32_t tp, uint64_t ranks);

typedef struct p3cfg__exclusion {
  p3cfg_cluster view; /* the caller's cluster with the mask set; owns nothing else */
  uint8_t *mask;
  uint64_t *usable;
} p3cfg__exclusion;

/* Make `x->view` a copy of `c` with `gpus` (global ids, duplicates allowed) excluded.
 * n == 0 gives a view equal to c. P3CFG_EINVALID for an id out of range or when every
 * GPU is excluded; P3CFG_ENOMEM. */
int p3cfg__exclusion_view(p3cfg__exclusion *x, const p3cfg_cluster *c, const uint32_t *gpus,
                          size_t n);
void p3cfg__exclusion_dispose(p3cfg__exclusion *x);

#endif
