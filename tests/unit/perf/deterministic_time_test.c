/*
 * deterministic_time_test.c — the model's `deterministic` in time (compute_cost.c,
 * p3cfg__fa2_deterministic_factor; framework_time.c): a deterministic Megatron-LM run on
 * a GPU below sm90 runs FlashAttention-2's deterministic backward, whose grid of
 * ceil(SMs / (b h)) b h blocks takes ceil(G / SMs) waves; the forward, the GEMMs, the
 * H100 (cuDNN's FusedAttention stays) and the other frameworks are untouched.
 */
#include "perf_fixtures.h"

Test(perf, fa2_deterministic_grid_waves)
{
  /* Megatron-LM CI's 7B on the A100: micro-batch 2 x 32 heads / tp 4 = 16 pairs; 7 blocks
   * each, 112 blocks on 108 SMs: two waves for 112/108 SMs' worth of work. */
  fx_assert_close(p3cfg__fa2_deterministic_factor(108, 16), 2.0 * 108.0 / 112.0, 1e-12);
  /* H100's 132 SMs with the same pairs: 9 x 16 = 144 blocks, two waves. */
  fx_assert_close(p3cfg__fa2_deterministic_factor(132, 16), 2.0 * 132.0 / 144.0, 1e-12);
  /* Pairs that fill the SMs exactly (one block each, two full waves): no loss. */
  fx_assert_close(p3cfg__fa2_deterministic_factor(108, 216), 1.0, 1e-12);
  /* An unknown SM count, or no pairs: the default rate. */
  cr_assert_eq(p3cfg__fa2_deterministic_factor(0, 16), 1.0);
  cr_assert_eq(p3cfg__fa2_deterministic_factor(108, 0), 1.0);
}

/* The CI 7B (GQA, 8K) on one node, tp 4, dp 2, micro-batch 2, global batch 8. */
static p3cfg_model ci_7b(bool deterministic)
{
  p3cfg_model m = fx_gpt(32, 4096, 32, 131073, 8192, 8);
  m.kv_heads = 8, m.ffn_hidden = 16384, m.tied_embeddings = false;
  m.flash_attention = true;
  m.deterministic = deterministic;
  return m;
}

static p3cfg_time run_ci(const p3cfg_model *m, const char *gpu, uint32_t framework)
{
  p3cfg_cluster c = fx_cluster(gpu, 1, 300e9, 25e9);
  p3cfg_plan pl = fx_plan(m, &c, 4, 1, 2, 2, 1, P3CFG_RECOMPUTE_NONE, 0, 1, 0);
  pl.framework = framework;
  return fx_run(m, &c, &pl, NULL);
}

Test(perf, deterministic_a100_slows_exactly_the_attention_backward)
{
  const p3cfg_model d = ci_7b(true), n = ci_7b(false);
  const p3cfg_time td = run_ci(&d, "a100-80gb", P3CFG_FRAMEWORK_MEGATRON);
  const p3cfg_time tn = run_ci(&n, "a100-80gb", P3CFG_FRAMEWORK_MEGATRON);
  /* The attention core's backward of one layer and micro-batch at the A100's rates:
   * 2.5 x b (a/t) s^2 (d_qk + d_v) FLOPs with dropout's share, times 32 layers x 2
   * micro-batches, is what grows, by the factor less one. */
  p3cfg__rates r;
  const p3cfg_gpu *gpu = p3cfg__gpu_preset("a100-80gb");
  p3cfg__rates_of(&r, &n, gpu);
  const double bh = 2.0 * 32.0 / 4.0, s = 8192.0;
  const double bwd = 2.5 * bh * s * s * 256.0 * r.attn_bwd_s_per_flop / P3CFG__FLASH_DROPOUT_BWD;
  const double grow = (p3cfg__fa2_deterministic_factor(gpu->sms, bh) - 1.0) * bwd * 32.0 * 2.0;
  fx_assert_close(td.compute_s - tn.compute_s, grow, 1e-6);
  fx_assert_close(td.iteration_s - tn.iteration_s, grow, 1e-6);
  cr_assert_gt(grow / tn.iteration_s, 0.10, "a tenth of the step or more: %.3f",
               grow / tn.iteration_s);
}

Test(perf, deterministic_keeps_h100_and_other_frameworks)
{
  const p3cfg_model d = ci_7b(true), n = ci_7b(false);
  /* sm90: Transformer Engine keeps cuDNN's FusedAttention for a deterministic backward. */
  cr_assert_eq(run_ci(&d, "h100-sxm", P3CFG_FRAMEWORK_MEGATRON).iteration_s,
               run_ci(&n, "h100-sxm", P3CFG_FRAMEWORK_MEGATRON).iteration_s);
  /* torchtitan's attention is PyTorch's SDPA, not Transformer Engine's. */
  cr_assert_eq(run_ci(&d, "a100-80gb", P3CFG_FRAMEWORK_TORCHTITAN).iteration_s,
               run_ci(&n, "a100-80gb", P3CFG_FRAMEWORK_TORCHTITAN).iteration_s);
}

Test(perf, deterministic_blackwell_with_dropout_runs_flashattention2)
{
  p3cfg_model d = ci_7b(true), n = ci_7b(false);
  const p3cfg_time td = run_ci(&d, "gb200", P3CFG_FRAMEWORK_MEGATRON);
  const p3cfg_time tn = run_ci(&n, "gb200", P3CFG_FRAMEWORK_MEGATRON);
  /* cuDNN's deterministic backward on sm100 takes no dropout: FlashAttention-2 at its
   * Blackwell rate, forward and backward, the backward in two waves of 160 blocks on 148
   * SMs. The attention core alone grows, and with it the step by more than half. */
  const p3cfg_gpu *gpu = p3cfg__gpu_preset("gb200");
  const double bh = 16.0, flops = bh * 8192.0 * 8192.0 * 256.0;
  const double peak = gpu->peak_flops * gpu->training_clock_ratio;
  const double fwd_new = flops / P3CFG__FLASH_DROPOUT_FWD / (peak * P3CFG__FA2_BLACKWELL_FWD);
  const double fwd_old = flops / P3CFG__FLASH_DROPOUT_FWD / (peak * gpu->attention_efficiency);
  const double bwd_new = 2.5 * flops / P3CFG__FLASH_DROPOUT_BWD /
                         (peak * P3CFG__FA2_BLACKWELL_BWD) *
                         p3cfg__fa2_deterministic_factor(gpu->sms, bh);
  const double bwd_old =
      2.5 * flops / P3CFG__FLASH_DROPOUT_BWD / (peak * gpu->attention_bwd_efficiency);
  fx_assert_close(td.compute_s - tn.compute_s, 64.0 * (fwd_new - fwd_old + bwd_new - bwd_old),
                  1e-6);
  cr_assert_gt(td.iteration_s / tn.iteration_s, 1.5, "%.3f", td.iteration_s / tn.iteration_s);
  /* Without dropout cuDNN's deterministic backward serves it: no change. */
  d.dropout = n.dropout = false;
  cr_assert_eq(run_ci(&d, "gb200", P3CFG_FRAMEWORK_MEGATRON).iteration_s,
               run_ci(&n, "gb200", P3CFG_FRAMEWORK_MEGATRON).iteration_s);
}
