/*
 * rank_map.h — a plan's rank -> GPU map inside a result entry: the default one a
 * launcher gives without being told (global rank r on GPU r; Megatron-LM rank order,
 * tp fastest, then dp, then pp; GPUs numbered node-major, so with tp <= gpus_per_node
 * every tensor-parallel group stays inside a node), or the optimised one.
 */
#ifndef P3CFG_RANK_MAP_H
#define P3CFG_RANK_MAP_H

#include "placement.h"
#include "types.h"

/* Attach a placement to a result entry: rank_gpu (dp*tp*pp global GPU ids), or NULL for
 * the default. Allocates entry->placement. */
int p3cfg__entry_set_placement(p3cfg__result_entry *entry, const p3cfg_cluster *c,
                               const uint32_t *rank_gpu);

/* Optimise the placement of a result entry (its plan resolved and valid) on the
 * cluster's measured links, and set its placement, time and place_info. */
int p3cfg__entry_place(p3cfg__result_entry *entry, const p3cfg_model *m, const p3cfg_cluster *c,
                       const p3cfg__place_opts *opts);

#endif
