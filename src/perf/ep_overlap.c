/*
 * ep_overlap.c — what an MoE layer's all-to-alls cost per micro-batch under Megatron-Core's
 * EP all-to-all overlap (--overlap-moe-expert-parallel-comm, its combined 1F1B:
 * fine_grained_callables.py, combined_1f1b.py at d98e8a6). perf_plan.c scales the layer's
 * all-to-all time by it on every pipeline rank.
 *
 * The schedule runs one micro-batch's forward beside another's backward, layer by layer,
 * each split into attention, dispatch, experts and combine; each all-to-all hides under
 * one sub-module of the other pass only: the backward's combine under the forward's
 * attention, the forward's dispatch under the backward's experts, the backward's dispatch
 * under the forward's experts, the forward's combine under the backward's attention.
 * What exceeds its partner shows, and the compute under the hidden part slows by the SMs
 * the communication holds (p3cfg__overlap_cost). Only the steady state pairs passes: the
 * warm-up forwards and the cool-down backwards (Megatron-LM's num_warmup_microbatches:
 * (pp - rank - 1) * 2 + (vpp - 1) * pp interleaved, pp - rank - 1 plain; the first forward
 * and the last backward without a pipeline) run theirs in the open.
 */
#include "perf_internal.h"

static inline double pos(double a)
{
  return a > 0.0 ? a : 0.0;
}

double p3cfg__ep_overlap_cost(double a2a_f, double a2a_b, const p3cfg__moe_cost *X,
                              double layer_fwd_s, double layer_bwd_s, uint32_t pp, uint32_t vpp,
                              uint32_t rank, double microbatches)
{
  const double A = a2a_f + a2a_b, hf = 0.5 * a2a_f, hb = 0.5 * a2a_b;
  if (!(A > 0.0))
    return 0.0;
  const double ex_f = X->fwd_s, ex_b = X->bwd_s + X->recompute_s;
  const double at_f = layer_fwd_s - ex_f, at_b = layer_bwd_s - ex_b;
  const double exposed = pos(hb - at_f) + pos(hf - ex_b) + pos(hb - ex_f) + pos(hf - at_b);
  const double warm = pp == 1    ? 1.0
                      : vpp == 1 ? (double)(pp - rank - 1)
                                 : 2.0 * (double)(pp - rank - 1) + (double)(vpp - 1) * (double)pp;
  double unpaired = (warm > 1.0 ? warm : 1.0) / (microbatches * (double)vpp);
  unpaired = unpaired < 1.0 ? unpaired : 1.0;
  return unpaired * A + (1.0 - unpaired) * p3cfg__overlap_cost(A, exposed);
}
