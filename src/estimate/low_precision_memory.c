/*
 * low_precision_memory.c — memory of low-precision training as Transformer Engine keeps
 * it (low_precision_memory.h).
 *
 * Weights (TE 2.x, transformer_engine/pytorch/module/base.py and tensor/float8_tensor.py):
 * Megatron-LM keeps fp32 main weights in the optimizer and 16-bit model weights as with
 * bf16; TE casts each linear weight on the first micro-batch of a step into its two
 * quantized copies (row-wise for the forward and the data gradient; column-wise, on Hopper
 * the FP8 transpose, for the dgrad GEMM's TN layout) and keeps both for the step's other
 * micro-batches (is_first_microbatch). So a linear weight costs 2 + 2q bytes, q the
 * format's bytes per element with its scales (fp8 1, mxfp8 1 + 1/32, nvfp4 1/2 + 1/16).
 * With fp8_param_gather (Megatron-LM --fp8-param-gather, TE's fp8_model_init) the model
 * weight is the quantized tensor itself with its column-wise copy: 2q, no 16-bit copy.
 * Gradients stay in the fp32 main-grad buffer, the optimizer state in fp32. ZeRO-3
 * gathers each block's weights when it runs and keeps no copies across it: unchanged.
 *
 * Activations: TE's Linear saves the quantized input for its weight gradient (the
 * column-wise copy) instead of the 16-bit one (linear.py, saved tensors under fp8), for
 * the four linear layers; the norms' inputs, Q/K/V and the attention output of the fused
 * kernel, the MLP-up output the activation's backward reads, and the masks stay 16-bit.
 * Full recomputation saves only the layer input: nothing changes.
 */
#include "low_precision_memory.h"

#include "model_params.h"
#include "precision.h"
#include "sat_math.h"

/* Bytes of n elements in the model's low-precision format, scales included. */
static uint64_t lp_bytes(p3cfg_precision p, uint64_t n)
{
  if (p == P3CFG_PREC_MXFP8)
    return p3cfg__sat_add(n, n / 32);
  if (p == P3CFG_PREC_NVFP4)
    return n / 2 + n / 16;
  return n;
}

uint64_t p3cfg__low_precision_weights(const p3cfg_model *m, const p3cfg_plan *plan,
                                      const p3cfg__stage_params *sp, uint64_t weights_bytes)
{
  if (!p3cfg__precision_is_low(m->precision) || plan->zero_stage == 3)
    return weights_bytes;
  p3cfg__params pc;
  p3cfg__model_params(&pc, m, plan->tp);
  const uint64_t linear = p3cfg__sat_mul(sp->layers, pc.layer_per_gpu);
  const uint64_t copies = p3cfg__sat_mul(2, lp_bytes(m->precision, linear));
  if (m->fp8_param_gather && plan->zero_stage >= 1) /* the copies replace the 16-bit weight */
    return p3cfg__sat_add(p3cfg__sat_sub(weights_bytes, p3cfg__sat_mul(2, linear)), copies);
  return p3cfg__sat_add(weights_bytes, copies);
}

uint64_t p3cfg__low_precision_saved_bytes(const p3cfg_model *m, uint64_t n)
{
  if (p3cfg__precision_is_low(m->precision))
    return lp_bytes(m->precision, n);
  return p3cfg__sat_mul(m->precision == P3CFG_PREC_FP32 ? 4 : 2, n);
}

uint64_t p3cfg__low_precision_act_saving(const p3cfg_model *m, const p3cfg_plan *plan,
                                         p3cfg_recompute mode)
{
  if (!p3cfg__precision_is_low(m->precision) || mode == P3CFG_RECOMPUTE_FULL)
    return 0;
  /* Megatron's "mlp" recompute module checkpoints the whole MLP: its linears' inputs are
   * not kept at all (activations.c), so only the attention's are saved quantized. */
  const int mlp = mode == P3CFG_RECOMPUTE_SELECTIVE &&
                  (plan->recompute_modules & P3CFG_RECOMPUTE_MODULE_MLP);
  const uint64_t t = plan->tp, s = m->seq_len, b = plan->micro_batch;
  const uint64_t tok = p3cfg__sat_mul(s, b);
  const uint64_t tok_sp =
      plan->sequence_parallel ? p3cfg__sat_mul(p3cfg__sat_ceil_div(s, t), b) : tok;
  /* QKV and MLP-up inputs (the norms' outputs, sequence-sharded with sp), the projection
   * input (heads x head_dim / t wide) and the MLP-down input (ffn_hidden / t). */
  uint64_t n = p3cfg__sat_mul3(mlp ? 1 : 2, tok_sp, m->hidden);
  n = p3cfg__sat_add(n, p3cfg__sat_mul(tok, m->hidden / t));
  if (!mlp)
    n = p3cfg__sat_add(n, p3cfg__sat_mul(tok, m->ffn_hidden / t));
  return p3cfg__sat_sub(p3cfg__sat_mul(2, n), lp_bytes(m->precision, n));
}
