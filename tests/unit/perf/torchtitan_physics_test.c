/*
 * torchtitan_physics_test.c — the machine and kernel physics behind torchtitan's
 * published runs (docs/time-model.md, "Frameworks"): the Grand Teton H100 96 GB at 500 W
 * (the power limit's clock, HBM2e), torchtitan's separate q/k/v and w1/w3 GEMMs with
 * their summed data gradients, async TP as PyTorch's micro_pipeline_tp fuses it (only
 * matmul-adjacent collectives pipelined), and full AC keeping the re-gathered input.
 * Every expected number is derived by hand in the comment beside it.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "framework_physics.h"
#include "perf_fixtures.h"

static p3cfg_model llama8b(void)
{
  p3cfg_model m = fx_gpt(32, 4096, 32, 128256, 8192, 96);
  m.kv_heads = 8;
  m.ffn_hidden = 14336;
  m.activation = P3CFG_ACT_SWIGLU;
  m.norm = P3CFG_NORM_RMSNORM;
  m.position_embedding = P3CFG_POS_ROPE;
  m.tied_embeddings = false;
  m.flash_attention = true;
  m.bias = false;
  m.dropout = false;
  return m;
}


/* The 500 W part: the H100 SXM's chip and kernel fractions, HBM2e at 2.4 TB/s, and the
 * clock of the power limit: f ~ P_dyn^(1/3) with 140 W not scaling,
 * ((500 - 140) / (700 - 140))^(1/3) = 0.8631, times the DGX H100's clock. */
Test(perf, grand_teton_h100_runs_at_the_clock_of_its_power_limit)
{
  const p3cfg_gpu *gt = p3cfg__gpu_preset("h100-96gb-500w"), *dgx = p3cfg__gpu_preset("h100-sxm");
  cr_assert(gt && dgx);
  fx_assert_close(pow(360.0 / 560.0, 1.0 / 3.0), 0.8631, 1e-4);
  fx_assert_close(gt->training_clock_ratio, dgx->training_clock_ratio * 0.863, 1e-12);
  cr_assert_eq(gt->hbm_Bps, 2400e9);
  cr_assert_eq(gt->memory_bytes, 96ull << 30);
  cr_assert(gt->peak_flops == dgx->peak_flops && gt->matmul_efficiency == dgx->matmul_efficiency &&
            gt->attention_efficiency == dgx->attention_efficiency);
  /* a large GEMM runs 0.863 x as fast, an HBM-bound kernel 2400 / 3350 x */
  p3cfg_model m = llama8b();
  p3cfg__rates a, b;
  p3cfg__rates_of(&a, &m, dgx);
  p3cfg__rates_of(&b, &m, gt);
  fx_assert_close(b.mm_Fps / a.mm_Fps, 0.863, 1e-12);
  fx_assert_close(b.mem_Bps / a.mem_Bps, 2400.0 / 3350.0, 1e-12);
  /* no device name carries the power limit: the preset is named, never recognised */
  cr_assert_str_eq(p3cfg__gpu_preset_identify("NVIDIA H100 80GB HBM3", 0)->name, "h100-sxm");
}

/* torchtitan at tp 8: wq [T x 4096][4096 x 512] and wk, wv [4096 x 128] each, three
 * GEMMs; k and v are HBM-bound (2 (T h + 128 h + 128 T) bytes over HBM beat
 * 2 T h 128 FLOPs at the GEMM rate). w1 and w3 are two GEMMs of f/t = 1792. */
Test(perf, torchtitan_runs_q_k_v_and_w1_w3_as_separate_gemms)
{
  p3cfg_model m = llama8b();
  p3cfg_cluster c = fx_cluster("h100-96gb-500w", 8, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 8, 1, 8, 12, 1, P3CFG_RECOMPUTE_NONE, 1, 3, 0);
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, &c.gpu);
  const double T = 12.0 * 8192.0, h = 4096.0;
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.compile = 1;
  p3cfg__rates_of_plan(&r, &m, &c.gpu, &p);
  const p3cfg__layer_cost tt = fx_layer_of(&m, &c, &p);
  const double wk_mem = 2.0 * (T * h + h * 128.0 + T * 128.0) * r.s_per_byte;
  const double wk_flop = (2.0 * T * h * 128.0 + r.half_flops) * r.s_per_flop;
  cr_assert(wk_mem > wk_flop, "wk at tp 8 is HBM-bound");
  const double wq = (2.0 * T * h * 512.0 + r.half_flops) * r.s_per_flop;
  fx_assert_close(tt.gemm_qkv_s, wq + 2.0 * wk_mem, 1e-12);
  const double w1 = (2.0 * T * h * 1792.0 + r.half_flops) * r.s_per_flop;
  fx_assert_close(tt.gemm_fc1_s, 2.0 * w1, 1e-12);
  /* Megatron's fused QKV and fc1 at the same rates are faster */
  p3cfg__layer_cost mg_same;
  p3cfg__dims d;
  p3cfg_plan q = p;
  q.framework = P3CFG_FRAMEWORK_MEGATRON;
  p3cfg__dims_of(&d, &m, &q);
  p3cfg__layer_cost_of(&mg_same, &d, &r);
  cr_assert(mg_same.gemm_qkv_s < tt.gemm_qkv_s && mg_same.gemm_fc1_s < tt.gemm_fc1_s);
  /* kernels: forward wq, wk, wv (+2) and w3 (+1); backward their dgrad and wgrad (+4,
   * +2) and the two sums of data gradients (+2) */
  cr_assert_eq(tt.kernels_fwd - mg_same.kernels_fwd, 3.0);
  cr_assert_eq(tt.kernels_bwd - mg_same.kernels_bwd, 8.0);
  /* the sums: (3 + 1) e T h bytes for q, k, v and (2 + 1) e T h for w1, w3, HBM-bound */
  const double sums = (4.0 + 3.0) * 2.0 * T * h * r.s_per_byte;
  const double extra_gemm_bwd = 2.0 * (tt.gemm_fwd_s - mg_same.gemm_fwd_s);
  const double extra_gap = 8.0 * r.kernel_gap_s;
  fx_assert_close(tt.bwd_s - mg_same.bwd_s, extra_gemm_bwd + sums + extra_gap, 1e-9);
}

/* Async TP, hand-derived. GEMMs (s): QKV 4, projection 1, MLP up 6, MLP down 3; one
 * all-reduce's time 2 (an all-gather or reduce-scatter: 1); tp 8. A fused collective of
 * 1 under a GEMM of >= 1 shows 1/8 and slows the GEMM by 0.15 x 7/8: 0.25625. Forward:
 * the four fused, 1.025. Backward: the output-gradient all-gathers before the
 * projection's and MLP down's data-gradient GEMMs fused (2 x 0.25625), the input
 * gradients' reduce-scatters after the summed q/k/v and w1/w3 gradients exposed (1 + 1),
 * the two re-gathers for the weight gradients exposed (2 x 1): 4.5125. */
Test(perf, async_tp_pipelines_only_the_matmul_fused_collectives)
{
  p3cfg__layer_cost L;
  memset(&L, 0, sizeof L);
  L.gemm_qkv_s = 4.0, L.gemm_attn_s = 5.0, L.gemm_fc1_s = 6.0, L.gemm_mlp_s = 9.0;
  L.sp_regather = 1, L.tp_fused_only = 1, L.rs_unfused_attn = 1, L.rs_unfused_mlp = 1;
  double f, b;
  p3cfg__tp_exposed_fused_only(&f, &b, &L, 2.0, 8.0);
  fx_assert_close(f, 4.0 * 0.25625, 1e-12);
  fx_assert_close(b, 2.0 * 0.25625 + 2.0 + 2.0, 1e-12);
  /* one GEMM producing the input gradient (fused QKV, GELU MLP): those fuse too */
  L.rs_unfused_attn = L.rs_unfused_mlp = 0;
  p3cfg__tp_exposed_fused_only(&f, &b, &L, 2.0, 8.0);
  fx_assert_close(b, 4.0 * 0.25625 + 2.0, 1e-12);
  /* a GEMM shorter than its collective: the projection 0.5 under 1 shows
   * 1/8 + 7/8 x 0.5 = 0.5625, and slows by 0.15 x 0.4375: 0.628125 */
  L.gemm_attn_s = 4.5;
  p3cfg__tp_exposed_fused_only(&f, &b, &L, 2.0, 8.0);
  fx_assert_close(f, 3.0 * 0.25625 + 0.628125, 1e-12);
}

/* torchtitan's full AC re-runs the all-gathers and keeps their outputs for the weight
 * gradients; Megatron re-gathers whatever the recompute; SAC recomputes the gather. */
Test(perf, full_ac_keeps_the_gathered_input_in_torchtitan)
{
  p3cfg_model m = llama8b();
  p3cfg_cluster c = fx_cluster("h100-96gb-500w", 8, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 8, 1, 8, 12, 1, P3CFG_RECOMPUTE_FULL, 1, 3, 0);
  cr_assert_eq(fx_layer_of(&m, &c, &p).sp_regather, 1);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.compile = 1;
  const p3cfg__layer_cost full = fx_layer_of(&m, &c, &p);
  cr_assert_eq(full.sp_regather, 0);
  cr_assert_eq(full.recompute_comm, 1);
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  cr_assert_eq(fx_layer_of(&m, &c, &p).sp_regather, 1);
}

/* The published async-TP gain of Llama 3 8B, FSDP 8 x TP 8, per-op SAC, local batch 12
 * on 64 Grand Teton H100s: 4809.4 / 4378 = 1.099 (torchtitan benchmarks/
 * asyncTP_llama3_h100_2025-06_torchtitan.md). Transformer Engine's rule (every
 * collective chunked) gave 1.20; the fused-only rule must land within 5 % of 1.10. */
Test(perf, torchtitan_async_tp_gain_is_the_published_one)
{
  p3cfg_model m = llama8b();
  p3cfg_cluster c = fx_cluster("h100-96gb-500w", 8, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 8, 1, 8, 12, 1, P3CFG_RECOMPUTE_SELECTIVE, 1, 3, 0);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.compile = 1;
  const p3cfg_time vanilla = fx_run(&m, &c, &p, NULL);
  p.overlap = P3CFG_OVERLAP_TP_COMM;
  const p3cfg_time async = fx_run(&m, &c, &p, NULL);
  const double gain = vanilla.iteration_s / async.iteration_s;
  cr_assert(gain > 1.099 / 1.05 && gain < 1.099 * 1.05, "async TP gain %.3f", gain);
}

/* torchtitan's per-op SAC counts aten.mm, not aten._scaled_mm (its save list at
 * 9dec370, 820504e and b5bcd76c): in bf16 the backward re-runs wk, wo and w3, in fp8
 * (torchao's Float8Linear) every linear of the block. Llama 3 8B, FSDP 8, tp 1, local
 * batch 2 (T1 table 1). What selective adds to the backward over no recompute: the
 * re-run GEMMs, the block's element-wise forward (casts included) and its kernels. */
Test(perf, torchtitan_sac_reruns_every_float8_linear)
{
  p3cfg_model m = llama8b();
  p3cfg_cluster c = fx_cluster("h100-96gb-500w", 1, 450e9, 50e9);
  for (int fp8 = 0; fp8 <= 1; fp8++) {
    m.precision = fp8 ? P3CFG_PREC_FP8 : P3CFG_PREC_BF16;
    p3cfg_plan none = fx_plan(&m, &c, 1, 1, 8, 2, 1, P3CFG_RECOMPUTE_NONE, 0, 3, 0);
    none.framework = P3CFG_FRAMEWORK_TORCHTITAN;
    none.compile = 1;
    p3cfg_plan sac = none;
    sac.recompute = P3CFG_RECOMPUTE_SELECTIVE;
    const p3cfg__layer_cost a = fx_layer_of(&m, &c, &none), b = fx_layer_of(&m, &c, &sac);
    const double added = b.bwd_s - a.bwd_s;
    if (fp8) {
      cr_assert(added > a.gemm_fwd_s, "fp8: all seven GEMMs re-run (%g <= %g)", added, a.gemm_fwd_s);
      cr_assert(added < a.fwd_s, "fp8: not the attention core (%g >= %g)", added, a.fwd_s);
    } else {
      /* wk [T x 4096][4096 x 1024], wo [4096 x 4096], w3 [4096 x 14336], one pass each */
      p3cfg__rates r;
      p3cfg__rates_of_plan(&r, &m, &c.gpu, &none);
      const double T = 2.0 * 8192.0, h = 4096.0;
      const double wk = (2.0 * T * h * 1024.0 + r.half_flops) * r.s_per_flop;
      cr_assert(added < a.gemm_fwd_s && added > wk, "bf16: %g vs %g", added, a.gemm_fwd_s);
      const double wo = (2.0 * T * h * h + r.half_flops) * r.s_per_flop;
      const double w3 = (2.0 * T * h * 14336.0 + r.half_flops) * r.s_per_flop;
      cr_assert(added > wk + wo + w3, "bf16: the three even matmuls and the element-wise ops");
    }
  }
}
