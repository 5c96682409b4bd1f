/*
 * placement.h — which physical GPU runs each global rank (issue "Placement"). The
 * objective is the time model itself: p3cfg__perf_plan with the candidate map.
 */
#ifndef P3CFG_PLACEMENT_H
#define P3CFG_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

typedef struct p3cfg__place_opts {
  uint64_t seed;      /* annealing seed; the same seed gives the same placement */
  uint64_t max_moves; /* move budget (deterministic); 0 = the default for the size */
  double max_s;       /* optional wall-time cap (0 = none; breaks determinism if hit) */
  uint32_t exact_max_nodes; /* enumerate every node permutation up to this many nodes */
} p3cfg__place_opts;

typedef struct p3cfg__place_stats {
  double default_s;   /* iteration time of the default placement */
  double best_s;      /* iteration time of the returned placement */
  uint64_t moves;     /* moves tried (or permutations enumerated) */
  uint64_t accepted;
  int exact;          /* 1 when the result is optimal over every node permutation */
  double elapsed_s;
} p3cfg__place_stats;

/* Fill rank_gpu (dp*tp*pp entries) with the best placement found for a resolved, valid
 * plan, and *time with its time model result. Without measured links every placement
 * is equal and the default (rank r on GPU r) returns at once. */
int p3cfg__place(uint32_t *rank_gpu, p3cfg_time *time, p3cfg__place_stats *stats,
                 const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *plan,
                 const p3cfg__place_opts *opts);

#endif
