/*
 * low_precision_time.c — what Transformer Engine's low-precision recipes cost and save in
 * time (docs/time-model.md, "Low precision"). Called from compute_cost.c: the rates, the
 * four weight GEMMs of a layer, one block of quantization work per layer, and the weight
 * casts of a step added to the optimizer's.
 *
 * What runs in low precision follows TE and Megatron-Core (docs/formats.md "Precision"):
 * the linear layers' GEMMs (QKV, projection, MLP up and down: forward, data gradient and,
 * with the default fp8_wgrad, weight gradient) in e4m3 / e5m2 (fp8, mxfp8) or e2m1
 * (nvfp4); the attention core, norms, activation, embedding, output layer and loss stay
 * 16-bit. Around each GEMM TE quantizes (transformer_engine/pytorch/module/linear.py):
 *  - its input, forward: read the 16-bit tensor, write a row-wise copy for this GEMM and a
 *    column-wise one for the weight gradient (on Hopper the FP8 transpose, since its FP8
 *    MMA takes only the TN layout; on Blackwell an MXFP8 copy scaled along the other
 *    axis: the same bytes). The norm in front of QKV and MLP-up writes the quantized
 *    copies itself (LayerNormLinear) when the scale is known beforehand: delayed scaling
 *    (the scale of the amax history) and mxfp8 (block scales found in the tile);
 *  - its output gradient, backward: the same two copies of dY (e5m2 for fp8 "hybrid");
 *  - its weight: once per step, not per micro-batch: Megatron-Core passes
 *    is_first_microbatch to TE (megatron/core/extensions/transformer_engine.py), which
 *    casts the weight and its transpose on the first micro-batch and reuses them; with
 *    fp8_param_gather the optimizer writes the low-precision weight itself.
 * On Blackwell (sm 10.x: the GPUs with FP4 tensor cores among the presets) FP8 GEMMs take
 * non-TN layouts, so a per-tensor FP8 tensor (delayed or current scaling) is quantized
 * once and its one copy serves both GEMMs; MXFP8 and NVFP4 scale along one axis and
 * still write both (TE: is_non_tn_fp8_gemm_supported, Float8Quantizer::create_tensor in
 * transformer_engine/pytorch/csrc/quantizer.cpp @ d0067d0 allocates no transpose there).
 * The memory model keeps two weight copies for every format (the larger count).
 * Current scaling (and nvfp4, whose second-level scale is per tensor) first reads the
 * tensor for its amax, then computes the scale, then casts: three kernels where delayed
 * scaling's cast computes the amax for the next step in the same kernel.
 * With sequence parallelism the tensor-parallel all-gathers carry the quantized tensors
 * (p3cfg__lp_tp_gather_cut): TE quantizes a column-parallel GEMM's input before gathering
 * it (Linear: cast_to_fp8, then gather_along_first_dim; LayerNormLinear: the norm writes
 * the FP8 ln_out that is gathered; the backward re-gathers that saved FP8 copy for the
 * weight gradient; transformer_engine/pytorch/module/linear.py and layernorm_linear.py
 * @ 3ec87875), and a row-parallel GEMM's output gradient before gathering it
 * (grad_output_preprocess); under current scaling the quantizers of exactly those two
 * tensors take the TP group as their amax-reduction group so that every rank casts with
 * one scale (linear.py _customize_quantizers_float8_current_scaling: with_amax_reduction,
 * amax_reduction_group = tp_group, for sequence_parallel column inputs and row grad
 * outputs); MXFP8 and NVFP4 gather their data with the block scales. torchao's float8
 * tensorwise TP does the same (Float8ColwiseParallel / PrepareFloat8ModuleInput, which
 * torchtitan's llama3 parallelize.py @ v0.2.0 applies with float8 and TP). The
 * reduce-scatters carry the GEMMs' 16-bit outputs (and input gradients): unchanged.
 * Not modelled: the amax all-reduce of delayed scaling over the amax group (once per
 * micro-batch, a few KiB) and current scaling's 4-byte TP amax all-reduces (four per
 * layer, latency only), nvfp4's random Hadamard transform of the weight-gradient
 * inputs and stochastic rounding (memory-bound, fused in TE's cast).
 */
#include "low_precision_time.h"

#include "precision.h"

void p3cfg__low_precision_rates(p3cfg__rates *r, const p3cfg_model *m, const p3cfg_gpu *gpu)
{
  r->lp = p3cfg__precision_is_low(m->precision);
  r->lp_s_per_flop = r->s_per_flop;
  r->lp_half_flops = r->half_flops;
  r->lp_elem_bytes = r->elem_bytes;
  r->lp_amax_passes = 0.0, r->lp_cast_kernels = 0.0, r->lp_copies = 2.0;
  r->lp_fused_norm = 0, r->lp_param_gather = 0, r->lp_gather_rowwise = 0;
  r->gather_elem_bytes = r->elem_bytes;
  if (!r->lp)
    return;
  /* p3cfg_estimate and p3cfg_search refuse a GPU without the format's peak first
   * (p3cfg__precision_check); a caller that skips the check gets the 16-bit rate. */
  const double peak = p3cfg__precision_peak(m->precision, gpu);
  const double clock = gpu->training_clock_ratio > 0.0 ? gpu->training_clock_ratio : 1.0;
  if (peak > 0.0)
    r->lp_s_per_flop =
        1.0 / (peak * gpu->matmul_efficiency * P3CFG__LP_EFFICIENCY_RATIO * clock);
  /* The knee stays at the same FLOPs: its fixed cost is the tail wave, one tile per SM,
   * which the format's rate runs as much faster as the rest. */
  r->lp_half_flops = gpu->matmul_half_flops;
  /* Operand bytes with their scales: fp8 one per tensor (nothing per element); mxfp8 an
   * E8M0 scale per 32 elements; nvfp4 4 bits and an E4M3 scale per 16 (OCP MX v1.0,
   * NVIDIA's NVFP4 format). */
  const int current = m->precision == P3CFG_PREC_NVFP4 ||
                      (m->precision == P3CFG_PREC_FP8 && m->fp8_recipe == P3CFG_FP8_CURRENT);
  r->lp_elem_bytes = m->precision == P3CFG_PREC_MXFP8   ? 1.0 + 1.0 / 32.0
                     : m->precision == P3CFG_PREC_NVFP4 ? 0.5 + 1.0 / 16.0
                                                        : 1.0;
  r->lp_amax_passes = current ? 1.0 : 0.0;
  r->lp_cast_kernels = current ? 3.0 : 1.0; /* amax, scale, cast; or the cast alone */
  r->lp_fused_norm = !current;
  r->lp_copies = m->precision == P3CFG_PREC_FP8 && gpu->peak_fp4_flops > 0.0 ? 1.0 : 2.0;
  r->lp_gather_rowwise = m->precision == P3CFG_PREC_FP8 && r->lp_copies == 2.0;
  r->lp_param_gather = m->fp8_param_gather;
  if (m->fp8_param_gather) {
    /* The linear weights' share of the parameters (embeddings and the output layer stay
     * 16-bit); norms and biases are too small to count. */
    const double h = (double)m->hidden, f = (double)m->ffn_hidden;
    const double kvd = (double)m->kv_heads * (double)p3cfg__head_dim(m);
    const double qd = (double)m->heads * (double)p3cfg__head_dim(m);
    const double up = m->activation == P3CFG_ACT_SWIGLU ? 2.0 * f : f;
    const double linear = (double)m->layers * (h * (qd + 2.0 * kvd) + qd * h + h * up + f * h);
    const double emb = (double)m->vocab * h * (m->tied_embeddings ? 1.0 : 2.0);
    const double share = linear / (linear + emb);
    r->gather_elem_bytes = share * r->lp_elem_bytes + (1.0 - share) * r->elem_bytes;
  }
}

double p3cfg__gemm_lp_s(const p3cfg__rates *r, double m, double n, double k, double batch)
{
  if (!r->lp)
    return p3cfg__gemm_s(r, m, n, k, batch);
  const double flops = 2.0 * m * n * k * batch;
  const double compute_s = (flops + r->lp_half_flops) * r->lp_s_per_flop;
  const double bytes = batch * (r->lp_elem_bytes * (m * k + k * n) + r->elem_bytes * m * n);
  const double memory_s = bytes * r->s_per_byte;
  return compute_s > memory_s ? compute_s : memory_s;
}

double p3cfg__lp_tp_gather_cut(const p3cfg__dims *d, const p3cfg__rates *r)
{
  if (!r->lp || !d->sp || d->tp <= 1.0)
    return 0.0;
  return 1.0 - r->lp_elem_bytes / r->elem_bytes;
}

/* Bytes to quantize a tensor of n 16-bit elements into its copies (two, or one). */
static double quantize_bytes(const p3cfg__rates *r, double n)
{
  return (r->elem_bytes * (1.0 + r->lp_amax_passes) + r->lp_copies * r->lp_elem_bytes) * n;
}

void p3cfg__lp_block_overhead(p3cfg__lp_overhead *out, const p3cfg__rates *r, double in,
                              int in_normed, double mid, double dy_in, double dy_mid)
{
  out->fwd_bytes = out->bwd_bytes = out->kernels_fwd = out->kernels_bwd = 0.0;
  if (!r->lp)
    return;
  /* Forward: the first GEMM's input (a norm's output: the norm writes the quantized
   * copies instead of its 16-bit output where the scale is known beforehand, else a cast
   * follows it) and the second GEMM's. */
  if (in_normed && r->lp_fused_norm) {
    out->fwd_bytes += (r->lp_copies * r->lp_elem_bytes - r->elem_bytes) * in;
  } else {
    out->fwd_bytes += quantize_bytes(r, in);
    out->kernels_fwd += r->lp_cast_kernels;
  }
  out->fwd_bytes += quantize_bytes(r, mid);
  out->kernels_fwd += r->lp_cast_kernels;
  /* Backward: each GEMM's output gradient, for its data and weight gradients. */
  out->bwd_bytes += quantize_bytes(r, dy_in + dy_mid);
  out->kernels_bwd += 2.0 * r->lp_cast_kernels;
}

void p3cfg__low_precision_overhead(p3cfg__lp_overhead *attn, p3cfg__lp_overhead *mlp,
                                   const p3cfg__dims *d, const p3cfg__rates *r)
{
  const double t = d->tp, T = d->tokens;
  const double th = T * d->h / (d->sp ? t : 1.0); /* the norms' tokens: 1/t with sp */
  const double qkv_w = (d->heads + 2.0 * d->kv_heads) * d->head_dim / t;
  const double up_w = (d->swiglu ? 2.0 : 1.0) * d->ffn / t;
  /* QKV's input (the attention norm's output) and the projection's (the attention's
   * output, h/t wide); their output gradients: QKV's and the projection's (T x h, 1/t
   * with sp: quantized before its gather). The MLP: up's input (the second norm's
   * output) and down's (the activation's); their output gradients likewise. */
  p3cfg__lp_block_overhead(attn, r, th, 1, T * d->heads * d->head_dim / t, T * qkv_w, th);
  p3cfg__lp_block_overhead(mlp, r, th, 1, T * d->ffn / t, T * up_w, th);
  /* Per-tensor FP8 on Hopper under sequence parallelism: of the four gathered tensors of
   * a layer (the two norm outputs, the projection's and MLP-down's output gradients) the
   * cast writes the row-wise copy only, which is what is gathered, and the backward
   * transposes the gathered T x h whole for the weight gradient: read and write q bytes
   * per element, one kernel each, where the cast's own column-wise copy would have been
   * 1/t of it. TE: Float8Quantizer and Float8CurrentScalingQuantizer
   * supports_only_rowwise_all_gather() (tensor/float8_tensor.py), so LayerNormLinear
   * drops the column-wise usage before the gather and calls
   * ln_out_total.update_usage(columnwise_usage=True) after the backward's re-gather, and
   * Linear likewise on the gathered grad_output (module/layernorm_linear.py, linear.py @
   * d0067d0). torchao's float8 TP gathers the row-wise data and transposes it at the
   * weight-gradient GEMM (preprocess_addmm's .contiguous(), float8_ops.py @ 6243040). */
  if (r->lp_gather_rowwise && d->sp && t > 1.0) {
    const double q = r->lp_elem_bytes, transpose = 2.0 * q * T * d->h;
    p3cfg__lp_overhead *const blocks[2] = {attn, mlp};
    for (int i = 0; i < 2; i++) {
      blocks[i]->fwd_bytes -= q * th;                   /* the norm output's second copy */
      blocks[i]->bwd_bytes += 2.0 * transpose - q * th; /* its and dy's transposes */
      blocks[i]->kernels_bwd += 2.0;
    }
  }
}

double p3cfg__low_precision_step_bytes(const p3cfg__rates *r, double owned, double held)
{
  if (!r->lp)
    return 0.0;
  const double q = r->lp_elem_bytes, e = r->elem_bytes;
  if (r->lp_param_gather) /* the optimizer writes the owned shard in low precision instead
                             of 16 bits; each GPU then makes the column-wise copy */
    return (q - e) * owned + (r->lp_copies - 1.0) * 2.0 * q * held; /* read, write it */
  return (e + r->lp_copies * q) * held; /* read the 16-bit weight, write its copies */
}
