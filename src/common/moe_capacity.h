/*
 * moe_capacity.h — the rows one rank's tokens become after routing, with or without a
 * capacity factor: the count the time model (perf/moe_cost.c) and the memory model
 * (estimate/activations.c) both size the routed work and tensors by.
 *
 * Dropless: top_k T. With a capacity factor c the Megatron-LM export pads every expert's
 * input to its capacity (--moe-pad-expert-input-to-capacity, export_megatron.c): the
 * router keeps for each expert exactly capacity = ceil(top_k T / E x c) of this rank's T
 * tokens, the highest-probability ones, dropping the rest (c < 1) or padding with tokens
 * of probability 0 (c > 1), and at most all T (one copy of a token per expert)
 * (apply_router_token_dropping, get_capacity in megatron/core/transformer/moe/moe_utils.py
 * at d98e8a6). The all-to-all dispatcher then sends capacity x E rows in equal splits,
 * padding included (MoEAlltoAllTokenDispatcher's drop_and_pad branch, token_dispatcher.py).
 */
#ifndef P3CFG_MOE_CAPACITY_H
#define P3CFG_MOE_CAPACITY_H

#include <math.h>

/* The routed rows of `tokens` tokens: top_k each, or `experts` capacities at a capacity
 * factor `capacity` > 0 (0: dropless). */
static inline double p3cfg__moe_routed_rows(double tokens, double top_k, double experts,
                                            double capacity)
{
  const double mean = tokens * top_k;
  if (!(capacity > 0.0))
    return mean;
  const double per_expert = ceil(mean / experts * capacity);
  return (per_expert < tokens ? per_expert : tokens) * experts;
}

#endif
