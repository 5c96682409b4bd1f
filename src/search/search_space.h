/*
 * search_space.h — the dimensions the search walks: degrees that divide the GPU count,
 * interleaving factors, micro-batch sizes, and the splits of layers over stages
 * (balanced, and variants that lighten the first and last stages, which also hold the
 * embedding and the output layer).
 */
#ifndef P3CFG_SEARCH_SPACE_H
#define P3CFG_SEARCH_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Divisors of n in increasing order, at most `cap` of them, none above `max`. Returns
 * how many were written. */
size_t p3cfg__divisors(uint64_t n, uint64_t max, uint32_t *out, size_t cap);
/* The interleaving degrees of pp ranks: the divisors v of a with a / v >= pp and, when
 * b > 0, those of b with b / v >= pp, ascending, each once; at most `cap`. */
size_t p3cfg__divisors_of_either(uint64_t a, uint64_t b, uint32_t pp, uint32_t *out, size_t cap);

/* A split of the model's layers over pp ranks, described by the layer-group units
 * (groups of v layers) of the first and last stage; the middle stages share the rest
 * as evenly as possible. */
typedef struct p3cfg__split {
  uint64_t first_units, last_units;
} p3cfg__split;

/* The distinct split variants for (pp, units), balanced first; at most `cap`. */
size_t p3cfg__split_variants(uint32_t pp, uint64_t units, p3cfg__split *out, size_t cap);

/* Write the split into plan->stage_layers (plan->pp, virtual_stages and split_accounts
 * set; `units` counts the embedding and loss the plan accounts for). */
void p3cfg__split_apply(p3cfg_plan *plan, const p3cfg__split *s, uint64_t units);

#endif
