/*
 * framework_time.c — what each framework does to the time model beyond Megatron-Core's
 * (rows and sources: src/common/framework_physics.c; docs/time-model.md, "Frameworks"):
 *
 *  - compute_efficiency scales the training clock (the GEMM and attention rates) by the
 *    framework's fitted constant: kernels other than Transformer Engine's (torchtitan:
 *    PyTorch's cuBLAS and SDPA paths on its benchmark platform; DeepSpeed: Megatron-
 *    DeepSpeed's own fused kernels of 2021-22), fitted leave one source out in
 *    bench/framework_accuracy.c;
 *  - eager PyTorch (torchtitan without torch.compile) runs RMSNorm, the rotary embedding
 *    and SwiGLU as chains of ATen ops: more HBM bytes and more kernels than the fused
 *    kernels the cost model counts (compute_cost.c multiplies by these factors);
 *  - FSDP2 always prefetches the next block's all-gather and overlaps the
 *    reduce-scatters with the backward (perf_plan.c's ZeRO-3 overlap rule: the first
 *    gather and the last reduce-scatter exposed);
 *  - torchtitan's per-op SAC recomputes what it did not save (compute_cost.c);
 *  - torchtitan's separate q/k/v and w1/w3 GEMMs and the sums of their data gradients
 *    (compute_cost.c), and its async TP: only the matmul-fused collectives pipelined
 *    (p3cfg__tp_exposed_fused_only below).
 * Megatron plans get exactly the rates of p3cfg__rates_of.
 */
#include "perf_internal.h"

#include "framework.h"
#include "framework_physics.h"

void p3cfg__rates_of_plan(p3cfg__rates *out, const p3cfg_model *m, const p3cfg_gpu *gpu,
                          const p3cfg_plan *plan)
{
  const p3cfg__framework_physics *fw = p3cfg__plan_physics(plan);
  if (fw->compute_efficiency == 1.0) {
    p3cfg__rates_of(out, m, gpu);
  } else {
    p3cfg_gpu g = *gpu;
    const double clock = g.training_clock_ratio > 0.0 ? g.training_clock_ratio : 1.0;
    g.training_clock_ratio = clock * fw->compute_efficiency;
    p3cfg__rates_of(out, m, &g);
  }
  /* Deterministic Megatron-LM: Transformer Engine's backend filter turns FusedAttention
   * off and FlashAttention-2 runs with deterministic=True (p3cfg__fa2_deterministic_factor)
   *  - below compute capability 9.0 (dot_product_attention/utils.py @ d0067d0, "Filter:
   *    Determinism": F16_arbitrary_seqlen needs sm90 for a deterministic backward): the
   *    presets without FP8 tensor cores;
   *  - on Blackwell (sm100; the presets with FP4 tensor cores) with attention dropout:
   *    cuDNN's deterministic backward there takes no dropout (common/fused_attn/
   *    fused_attn.cpp @ d0067d0, "determinism on Blackwell": cuDNN >= 9.18.1, dropout 0,
   *    no bias), FlashAttention 3 and 4 take no dropout, so FlashAttention-2 runs, at its
   *    own Blackwell rate (P3CFG__FA2_BLACKWELL_*: Ampere-style MMA, not tcgen05).
   * Hopper keeps FusedAttention. A GPU of unknown SM count keeps the default rate.
   * torchtitan's and DeepSpeed's attention is PyTorch's SDPA: not modelled. */
  if (m->deterministic && m->flash_attention && plan->framework == P3CFG_FRAMEWORK_MEGATRON &&
      gpu->sms > 0) {
    const int pre_hopper = gpu->peak_fp8_flops == 0.0;
    const int blackwell_dropout = gpu->peak_fp4_flops > 0.0 && m->dropout;
    if (pre_hopper || blackwell_dropout)
      out->fa2_det_sms = (double)gpu->sms;
    if (blackwell_dropout) {
      /* The same peak, clock and framework efficiency, at FA2's fractions instead of the
       * fused kernel's (p3cfg__rates_of's fallbacks for a GPU without them). */
      const double af = gpu->attention_efficiency > 0.0 ? gpu->attention_efficiency
                                                        : gpu->matmul_efficiency;
      const double ab = gpu->attention_bwd_efficiency > 0.0 ? gpu->attention_bwd_efficiency : af;
      out->attn_fwd_s_per_flop *= af / P3CFG__FA2_BLACKWELL_FWD;
      out->attn_bwd_s_per_flop *= ab / P3CFG__FA2_BLACKWELL_BWD;
    }
  }
  if (p3cfg__plan_eager(plan)) {
    out->norm_bytes_f = fw->eager_norm_bytes_f;
    out->norm_bytes_b = fw->eager_norm_bytes_b;
    out->norm_kernels = fw->eager_norm_kernels;
    out->rope_bytes = fw->eager_rope_bytes;
    out->rope_kernels = fw->eager_rope_kernels;
    out->act_bytes_f = fw->eager_act_bytes_f;
    out->act_bytes_b = fw->eager_act_bytes_b;
    out->act_kernels = fw->eager_act_kernels;
  }
}

uint32_t p3cfg__fw_overlap(const p3cfg_plan *plan)
{
  return plan->overlap | p3cfg__framework_of(plan)->overlap_implied[plan->zero_stage & 3u];
}

/* Async TP as PyTorch's micro_pipeline_tp pass builds it (torch/_inductor/fx_passes/
 * micro_pipeline_tp.py, pytorch/pytorch 00122fb1; torchtitan enables it with
 * torch.compile and SymmetricMemory): fuse_all_gather_matmul decomposes an all-gather
 * whose result feeds matmuls along their rows into tp chunks, each chunk's copy beside
 * the matmul of the one before ("decomposing the matmul on the K dimension is not
 * supported"); fuse_matmul_reduce_scatter does the same for a reduce-scatter whose input
 * is one matmul's output and nothing else. So, per layer with sequence parallelism (each
 * all-reduce time ar_s = an all-gather + a reduce-scatter of half of it):
 *   forward: the all-gather before QKV (and MLP up) and the reduce-scatter after the
 *     projection (and MLP down) are fused: section 2's chunked rule under those GEMMs;
 *   backward: the all-gather of the output gradient before the data-gradient GEMM of
 *     the projection (MLP down) is fused; the reduce-scatter of the input gradient is
 *     fused only where one GEMM produced it (a sum of separate q/k/v or w1/w3 data
 *     gradients is not a matmul: exposed); the re-gather for the weight gradients (along
 *     K) stays exposed.
 * What is hidden slows the GEMM under it by P3CFG__OVERLAP_SM_FRACTION (p3cfg__overlap_cost). */
void p3cfg__tp_exposed_fused_only(double *fwd_s, double *bwd_s, const p3cfg__layer_cost *L,
                                  double ar_s, double tp)
{
  /* half: a 16-bit reduce-scatter; ag: an all-gather, of quantized tensors in low
   * precision (L->tp_ag_cut: torchao's Float8ColwiseParallel gathers float8) */
  const double half = 0.5 * ar_s, ag = half * (1.0 - L->tp_ag_cut);
  const double proj = L->gemm_attn_s - L->gemm_qkv_s, down = L->gemm_mlp_s - L->gemm_fc1_s;
  const double gemm_f[4] = {L->gemm_qkv_s, proj, L->gemm_fc1_s, down};
  *fwd_s = 0.0;
  for (int i = 0; i < 4; i++) /* all-gathers before QKV and MLP up, reduce-scatters after */
    *fwd_s += p3cfg__overlap_cost(i % 2 ? half : ag,
                                  p3cfg__overlap_exposed_s(i % 2 ? half : ag, gemm_f[i], tp));
  *bwd_s = p3cfg__overlap_cost(ag, p3cfg__overlap_exposed_s(ag, proj, tp)) +
           p3cfg__overlap_cost(ag, p3cfg__overlap_exposed_s(ag, down, tp));
  *bwd_s += L->rs_unfused_attn
                ? half
                : p3cfg__overlap_cost(half, p3cfg__overlap_exposed_s(half, L->gemm_qkv_s, tp));
  *bwd_s += L->rs_unfused_mlp
                ? half
                : p3cfg__overlap_cost(half, p3cfg__overlap_exposed_s(half, L->gemm_fc1_s, tp));
  if (L->sp_regather)
    *bwd_s += P3CFG__LAYER_SP_AG_BWD * ag; /* two all-gathers */
}
