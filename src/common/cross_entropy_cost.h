/*
 * cross_entropy_cost.h — the HBM bytes per logit, kernels and saved bytes of the three
 * language-model losses of Megatron (the model file's `cross_entropy`), hand-derived from
 * the code (docs/time-model-frameworks.md, "The loss kernels"). e: bytes of one 16-bit
 * (or fp32) logit as the output layer writes it.
 *
 * unfused: Megatron-LM tensor_parallel/cross_entropy.py (d98e8a6). Forward on an fp32 copy
 *   (logits.float()): cast (e + 4), max (4), subtract in place (8), exp in place (8), sum
 *   (4), divide in place (8): e + 36. Backward: the target subtraction is an indexed write
 *   of one element per token (grad_2d[arange, target] -= ...), then mul_ by the loss
 *   gradient (8) and the cast back to the logits' dtype (4 + e): e + 12. Saves the fp32
 *   softmax (4 per logit); the 16-bit logits beside their fp32 copy, and the 16-bit
 *   gradient beside the fp32 one, are transient.
 * native: Megatron-Core fusions/fused_cross_entropy.py: the same ops in three jit_fuser
 *   functions forward (float + max: e + 4; subtract, exp, sum: 8; divide: 8) and one
 *   backward (mul and the bf16 cast: 4 + e). Memory as unfused.
 * fused: Transformer Engine's Triton kernel (transformer_engine/pytorch/triton/
 *   cross_entropy.py, NVIDIA/TransformerEngine 1b2b4a8): online_softmax_kernel reads the
 *   16-bit logits (e), cross_entropy_kernel reads them again and writes the gradient in
 *   place in their dtype (2e); backward element_mul_kernel scales it in place (2e). No fp32
 *   copy: the saved tensor is the e-byte logits themselves, nothing transient.
 */
#ifndef P3CFG_CROSS_ENTROPY_COST_H
#define P3CFG_CROSS_ENTROPY_COST_H

#include "types.h"

typedef struct {
  double fwd_bytes, bwd_bytes;     /* per logit */
  double kernels_fwd, kernels_bwd; /* per micro-batch */
  double saved_bytes;              /* per logit, kept for backward */
  double transient_bytes;          /* per logit, beside the saved ones at the loss */
} p3cfg__ce_cost;

static inline p3cfg__ce_cost p3cfg__ce_cost_of(p3cfg_cross_entropy ce, double e)
{
  p3cfg__ce_cost c;
  switch (ce) {
  case P3CFG_CE_FUSED:
    /* two zero-fills (loss, m/d/X_y) and two Triton kernels; backward torch.equal on the
     * loss gradient (compare, reduce) and element_mul */
    c = (p3cfg__ce_cost){3.0 * e, 2.0 * e, 4.0, 3.0, e, 0.0};
    break;
  case P3CFG_CE_NATIVE:
    c = (p3cfg__ce_cost){e + 20.0, e + 4.0, 5.0, 3.0, 4.0, 2.0};
    break;
  case P3CFG_CE_UNFUSED:
  default:
    c = (p3cfg__ce_cost){e + 36.0, e + 12.0, 8.0, 6.0, 4.0, 2.0};
    break;
  }
  return c;
}

#endif
