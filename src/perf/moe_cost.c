/*
 * moe_cost.c — the FFN of a mixture-of-experts layer on one GPU, one micro-batch, as
 * Megatron-Core runs it (megatron/core/transformer/moe: MoELayer, TopKRouter,
 * MoEAlltoAllTokenDispatcher, GroupedMLP / TEGroupedMLP, SharedExpertMLP):
 *
 *   router     logits = x W_r^T ([T_l x h][h x E]), softmax/sigmoid and top-k in fp32,
 *              the load-balancing loss;
 *   permute    the T_l tokens copied top_k times, sorted by expert;
 *   dispatch   all-to-all over the EP group (then, with etp > 1, an all-gather of the
 *              received tokens over the ETP group);
 *   experts    one grouped GEMM per matrix over the E/ep local experts, each expert's
 *              matrices split etp ways, and the activation;
 *   combine    (reduce-scatter over ETP), all-to-all back, unpermute with the router's
 *              weights;
 *   shared     the always-on experts, a dense MLP of the shared width split over tp.
 *
 * T_l is the tokens this rank holds at the MoE layer's input: b s / (cp tp) with
 * sequence parallelism (Megatron-Core requires it for MoE with tp > 1), b s / cp
 * without. Routing is taken as balanced (the mean load): the published benchmarks force
 * balanced routing; a dropless run's imbalance is not modelled (docs/time-model.md). With
 * a capacity factor every expert takes exactly its capacity (routed_rows).
 * Every rate is the GPU's kernel rate of compute_cost.c; nothing here is fitted. In low
 * precision the expert and shared-expert GEMMs run at the low-precision rate, each
 * quantizing its input and output gradient at its own size, and the router stays in 16
 * bits (Transformer Engine's default).
 */
#include <math.h>

#include "perf_internal.h"

#include "low_precision_time.h"
#include "moe_capacity.h"

/* `g` GEMMs [m x k][k x n] of Transformer Engine's GroupedLinear: one cuBLAS GEMM per
 * expert, round-robin on its compute streams (nvte_multi_tensor_gemm ->
 * multi_stream_cublas_gemm, cublaslt_gemm.cu at d0067d0; the CUTLASS grouped kernel only
 * on request), so the GEMMs of one round run together and share one tail wave:
 * ceil(g / streams) rounds, each paying the GEMM knee once. Checked against TE's own
 * grouped-GEMM measurements on H100 (moe_time_test.c). */
double p3cfg__grouped_gemm_s(const p3cfg__rates *r, double g, double m, double n, double k)
{
  const double rounds = ceil(g / P3CFG__TE_GEMM_STREAMS);
  return rounds * p3cfg__gemm_lp_s(r, m, n, k, g / rounds);
}

void p3cfg__moe_cost_of(p3cfg__moe_cost *out, const p3cfg__dims *d, const p3cfg__rates *r)
{
  const double e = r->elem_bytes, t = d->tp, h = d->h, E = d->experts;
  const double fe = d->expert_ffn, ep = d->ep, etp = d->etp;
  const double T = d->tokens;               /* this rank's tokens of the micro-batch */
  const double Tl = d->sp ? T / t : T;      /* at the MoE layer's input */
  /* token copies this rank dispatches (moe_capacity.h) */
  const double routed = p3cfg__moe_routed_rows(Tl, d->top_k, d->experts, d->capacity);
  const double local = E / ep;              /* experts on this rank */
  const double rows = routed * etp;         /* rows through this rank's expert shards */
  const double up = (d->swiglu ? 2.0 : 1.0) * fe / etp;
  const double gap = r->kernel_gap_s;

  /* Router: the GEMM, then in fp32 softmax (or sigmoid), top-k, the aux-loss terms:
   * about four passes over the T_l x E scores each way. */
  const double router = p3cfg__gemm_s(r, Tl, E, h, 1.0);
  const double scores = 4.0 * 4.0 * Tl * E;
  /* Permute and unpermute: read T_l h, write the routed rows (top_k T_l h dropless), and
   * back, weighting by the router's probabilities; the same bytes in the backward. */
  const double perm = e * (Tl + routed) * h;
  /* The grouped GEMMs of the local experts: rows/local tokens each. */
  const double fc1 = p3cfg__grouped_gemm_s(r, local, rows / local, up, h);
  const double fc2 = p3cfg__grouped_gemm_s(r, local, rows / local, h, fe / etp);
  const double act_f = (d->swiglu ? 3.0 : 2.0) * e * rows * fe / etp;
  const double act_b = (d->swiglu ? 5.0 : 3.0) * e * rows * fe / etp;
  /* Expert biases (bias: Megatron-Core's add_bias_linear covers the experts; GPT-OSS).
   * fc1's is added in its GEMM (skip_bias_add False); fc2's after it (skip_bias_add True),
   * weighted by the router's probability: TEGroupedMLP._apply_bias (experts.py at d98e8a6),
   * on the all-to-all dispatcher's host token counts, splits fc2's R x h output by local
   * expert, computes t + b p for each (write b p: e; read both, write the sum: 3e) and
   * concatenates them (2e): 6e per element, 2 kernels per local expert and the cat. The
   * backward: the gradients of b and of p, each a broadcast product written and reduced
   * (3e each), 4 kernels per local expert. */
  const double bias_f = d->bias ? 6.0 * e * rows * h : 0.0;
  const double bias_b = bias_f;
  const double bias_kf = d->bias ? 2.0 * local + 1.0 : 0.0;
  const double bias_kb = d->bias ? 4.0 * local : 0.0;
  /* A clamped GLU (GPT-OSS: limit 7): weighted_bias_quick_geglu_impl and
   * weighted_bias_swiglu_impl (fused_bias_geglu.py, fused_bias_swiglu.py at d98e8a6) clamp
   * the two halves of fc1's output and concatenate them before the fused kernel: two clamps
   * and a cat, each reading and writing f_e/etp-wide halves (8e R f_e/etp bytes, 3 kernels).
   * The backward: each clamp's gradient reads the gradient and the input and writes (6e),
   * the two halves' gradients joined into one (4e): 10e R f_e/etp, 3 kernels. moe_act
   * recomputation repeats the forward's. */
  const double clamp_f = d->act_clamp > 0.0 ? 8.0 * e * rows * fe / etp : 0.0;
  const double clamp_b = d->act_clamp > 0.0 ? 10.0 * e * rows * fe / etp : 0.0;
  const double clamp_k = d->act_clamp > 0.0 ? 3.0 : 0.0;
  /* Shared experts: a dense MLP on the gathered T tokens, split over tp. */
  double shared = 0.0, shared_act_f = 0.0, shared_act_b = 0.0;
  if (d->shared_ffn > 0.0) {
    const double fs = d->shared_ffn;
    shared = p3cfg__gemm_lp_s(r, T, (d->swiglu ? 2.0 : 1.0) * fs / t, h, 1.0) +
             p3cfg__gemm_lp_s(r, T, h, fs / t, 1.0);
    shared_act_f = (d->swiglu ? 3.0 : 2.0) * e * T * fs / t;
    shared_act_b = (d->swiglu ? 5.0 : 3.0) * e * T * fs / t;
  }
  /* The norm and bias-dropout-add of the MLP half, as in a dense layer. */
  const double th = T * h / (d->sp ? t : 1.0);
  const double norm_f = 2.0 * e * th, norm_b = 3.0 * e * th;
  const double bda_f = (d->dropout ? 3.0 * e + 1.0 : 3.0 * e) * th;
  const double bda_b = (d->dropout ? 2.0 * e + 1.0 : (d->bias ? e : 0.0)) * th;
  /* Low precision: each GEMM's input and output gradient quantized at its own size
   * (low_precision_time.c). The experts' fc1 input is the permuted rows, quantized by
   * Transformer Engine's GroupedLinear after the permutation (never a norm's output:
   * top_k copies of each token, where a dense MLP quantizes its T_l norm outputs once);
   * fc2's the activation's rows x f_e/etp; their output gradients rows x up and rows x h.
   * The shared experts like a dense MLP on this rank's tokens, whose norm output feeds
   * the router too (a cast follows it). Nothing in 16 or 32 bits. */
  p3cfg__lp_overhead lpx, lps = {0.0, 0.0, 0.0, 0.0};
  p3cfg__lp_block_overhead(&lpx, r, rows * h, 0, rows * fe / etp, rows * up, rows * h);
  if (d->shared_ffn > 0.0)
    p3cfg__lp_block_overhead(&lps, r, th, 0, T * d->shared_ffn / t,
                             T * (d->swiglu ? 2.0 : 1.0) * d->shared_ffn / t, th);

  /* Kernels: the MLP half's norm and bias-dropout-add; the router (GEMM, scores, top-k,
   * the auxiliary loss and its scaler: about 15 ops); the dispatcher (token counts, their
   * copy to the host, permutation and the sort by local expert: about 10); the experts:
   * Transformer Engine's GroupedLinear issues one GEMM per local expert and matrix
   * (general_grouped_gemm), plus the activation and casts; the combine (sort back,
   * unpermute, the shared experts' sum: about 6). The backward runs each GEMM twice and
   * most of the rest once more. */
  const double shared_k = d->shared_ffn > 0.0 ? 3.0 : 0.0;
  out->kernels_fwd =
      33.0 + 2.0 * local + shared_k + bias_kf + clamp_k + lpx.kernels_fwd + lps.kernels_fwd;
  out->kernels_bwd =
      48.0 + 4.0 * local + 2.0 * shared_k + bias_kb + clamp_k + lpx.kernels_bwd + lps.kernels_bwd;
  /* Megatron-Core's all-to-all dispatcher copies the token counts to the host before the
   * permutation or the all-to-all (MoEAlltoAllTokenDispatcher, cuda_sync_point): one host
   * synchronisation per MoE layer forward. */
  out->host_syncs = 1.0;

  const double gemm_f = router + fc1 + fc2 + shared;
  const double mem_f = scores + 2.0 * perm + act_f + shared_act_f + norm_f + bda_f + bias_f +
                       clamp_f + lpx.fwd_bytes + lps.fwd_bytes;
  const double mem_b = scores + 2.0 * perm + act_b + shared_act_b + norm_b + bda_b + bias_b +
                       clamp_b + lpx.bwd_bytes + lps.bwd_bytes;
  out->gemm_fwd_s = fc1 + fc2 + shared;
  out->fwd_s = gemm_f + mem_f * r->s_per_byte + out->kernels_fwd * gap;
  out->bwd_s = 2.0 * gemm_f + mem_b * r->s_per_byte + out->kernels_bwd * gap;

  /* Communication: each dispatch or combine sends this rank's routed copies (a capacity's
   * padding too), (ep-1)/ep of them to other ranks (the collective's time accounts for
   * that); with etp > 1 the received rows are all-gathered and their outputs
   * reduce-scattered over the ETP group, in equal splits at a capacity factor as well. */
  /* Megatron's selective-recompute modules of the MoE half re-run in the backward:
   * layernorm the pre-MLP norm, moe_act the experts' activation (read fc1's output, write
   * fc2's input), shared_experts the shared MLP, moe the whole block with its dispatch
   * and combine (transformer_layer.py, experts.py, moe_layer.py at d98e8a6). */
  const uint32_t mo = d->recompute == P3CFG_RECOMPUTE_SELECTIVE ? d->recompute_modules : 0;
  out->recompute_s = out->recompute_kernels = 0.0;
  if (mo & P3CFG_RECOMPUTE_MODULE_MOE) {
    out->recompute_s = out->fwd_s;
    out->recompute_kernels = out->kernels_fwd;
  } else {
    if (mo & P3CFG_RECOMPUTE_MODULE_LAYERNORM)
      out->recompute_s += norm_f * r->s_per_byte + gap, out->recompute_kernels += 1.0;
    if (mo & P3CFG_RECOMPUTE_MODULE_MOE_ACT)
      out->recompute_s += (act_f + clamp_f) * r->s_per_byte + (1.0 + clamp_k) * gap,
          out->recompute_kernels += 1.0 + clamp_k;
    if ((mo & P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS) && d->shared_ffn > 0.0)
      out->recompute_s += shared + shared_act_f * r->s_per_byte + shared_k * gap,
          out->recompute_kernels += shared_k;
  }
  out->a2a_bytes = ep > 1.0 ? e * routed * h : 0.0;
  out->etp_bytes = etp > 1.0 ? e * rows * h : 0.0;
  out->a2a_fwd = ep > 1.0 ? 2.0 : 0.0;
  out->a2a_bwd = ep > 1.0 ? ((mo & P3CFG_RECOMPUTE_MODULE_MOE) ? 4.0 : 2.0) : 0.0;
  out->shared_tp = d->shared_ffn > 0.0;
}
