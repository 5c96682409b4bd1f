/*
 * flops_test.c — FLOP counts against the closed forms of references.md (Megatron SC'21,
 * Korthikanti et al.), the MFU numerator, and the GEMM efficiency model's shape effects.
 */
#include "perf_fixtures.h"

#include "model_params.h"

static p3cfg_plan plan_for(const p3cfg_model *m, p3cfg_recompute rc)
{
  p3cfg_plan pl;
  p3cfg_plan_init(&pl);
  pl.tp = 8, pl.pp = 1, pl.dp = 1, pl.recompute = rc;
  pl.global_batch = m->global_batch;
  return pl;
}

/* GPT-3 175B on Korthikanti's Table 5 setup: B 64, s 2048, V 51200 (a multiple of 1024,
 * so padding changes nothing at tp 8). */
static p3cfg_model gpt3(void)
{
  return fx_gpt(96, 12288, 96, 51200, 2048, 64);
}

Test(perf, flops_full_recompute_match_megatron_96Bslh2)
{
  const p3cfg_model m = gpt3();
  const p3cfg_plan pl = plan_for(&m, P3CFG_RECOMPUTE_FULL);
  p3cfg__flops f;
  p3cfg__flops_of(&f, &m, &pl);
  const double B = 64, s = 2048, l = 96, h = 12288, V = 51200;
  /* references.md: F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) */
  fx_assert_close(f.hardware, 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h)),
                  1e-12);
}

Test(perf, flops_without_recompute_match_korthikanti_72Bslh2)
{
  const p3cfg_model m = gpt3();
  const p3cfg_plan pl = plan_for(&m, P3CFG_RECOMPUTE_NONE);
  p3cfg__flops f;
  p3cfg__flops_of(&f, &m, &pl);
  const double B = 64, s = 2048, l = 96, h = 12288, V = 51200;
  const double korthikanti = 72 * B * l * s * h * h * (1 + s / (6 * h) + V / (12 * h * l));
  fx_assert_close(f.hardware, korthikanti, 1e-12);
  /* The MFU numerator is Megatron-LM's num_floating_point_operations (model_flops.c):
   * weights only, and the causal attention core halved, s/(12h) instead of s/(6h). */
  fx_assert_close(f.model, 72 * B * l * s * h * h * (1 + s / (12 * h) + V / (12 * h * l)), 1e-12);
}

Test(perf, flops_selective_recompute_adds_the_attention_forward)
{
  const p3cfg_model m = gpt3();
  p3cfg__flops none, sel;
  p3cfg_plan pl = plan_for(&m, P3CFG_RECOMPUTE_NONE);
  p3cfg__flops_of(&none, &m, &pl);
  pl.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p3cfg__flops_of(&sel, &m, &pl);
  const double B = 64, s = 2048, l = 96, h = 12288;
  /* QK^T and attention over V once more: 4 B s^2 h per layer. */
  fx_assert_close(sel.hardware - none.hardware, 4 * B * s * s * h * l, 1e-9);
  cr_assert_eq(sel.model, none.model);
}

Test(perf, flops_model_is_6N_plus_attention)
{
  p3cfg_model m = fx_gpt(32, 4096, 32, 128256, 8192, 16);
  m.kv_heads = 8, m.ffn_hidden = 14336, m.activation = P3CFG_ACT_SWIGLU; /* Llama 3 8B */
  m.tied_embeddings = false, m.bias = false, m.position_embedding = P3CFG_POS_ROPE;
  const p3cfg_plan pl = plan_for(&m, P3CFG_RECOMPUTE_NONE);
  p3cfg__flops f;
  p3cfg__flops_of(&f, &m, &pl);
  const double tokens = 16.0 * 8192;
  /* Hardware matmuls, per matrix: QKV h(h + 2 kv d), projection h^2, SwiGLU 3 h f;
   * the logits over the vocabulary padded to a multiple of 128 tp (129024). */
  const double h = 4096, kvd = 8 * 128, ff = 14336, s = 8192, V = 129024;
  /* Model FLOPs (Megatron-LM): 6 per weight of those matrices and the logits, plus the
   * causal attention core 6 s h per layer. */
  fx_assert_close(f.model,
                  tokens * (32 * (6 * (h * (h + 2 * kvd) + h * h + 3 * h * ff) + 6 * s * h) +
                            6 * h * V),
                  1e-12);
  const double per_token = 32 * (3 * 2 * (h * (h + 2 * kvd) + h * h + 3 * h * ff) +
                                 3 * 4 * s * h) +
                           6 * h * V;
  fx_assert_close(f.hardware, tokens * per_token, 1e-12);
}

Test(perf, flops_flash_attention_runs_the_causal_half)
{
  p3cfg_model m = gpt3();
  const p3cfg_plan pl = plan_for(&m, P3CFG_RECOMPUTE_NONE);
  p3cfg__flops plain, flash;
  p3cfg__flops_of(&plain, &m, &pl);
  m.flash_attention = true;
  p3cfg__flops_of(&flash, &m, &pl);
  const double B = 64, s = 2048, l = 96, h = 12288;
  /* Unfused: 3 x 4 B s^2 h; flash, causal: (1 + 2.5) x 2 B s^2 h. */
  fx_assert_close(plain.hardware - flash.hardware, (12.0 - 7.0) * B * s * s * h * l, 1e-9);
  cr_assert_eq(plain.model, flash.model, "MFU has no causal halving");
}

Test(perf, gemm_efficiency_rises_with_size_and_skinny_gemms_are_memory_bound)
{
  p3cfg__rates r;
  const p3cfg_model m = gpt3();
  p3cfg__rates_of(&r, &m, p3cfg__gpu_preset("a100-80gb"));
  const double peak = p3cfg__gpu_preset("a100-80gb")->peak_flops;
  double prev = 0.0;
  for (double n = 256; n <= 16384; n *= 2) {
    const double eff = 2 * n * n * n / p3cfg__gemm_s(&r, n, n, n, 1) / peak;
    cr_assert_gt(eff, prev, "square GEMMs get more efficient with size");
    prev = eff;
  }
  cr_assert_lt(prev, p3cfg__gpu_preset("a100-80gb")->matmul_efficiency);
  /* [65536 x 8192] x [8192 x 8]: 8 FLOPs per byte, far below A100's ridge. */
  const double skinny = p3cfg__gemm_s(&r, 65536, 8, 8192, 1);
  fx_assert_close(skinny, 2.0 * (65536.0 * 8192 + 8192 * 8 + 65536 * 8) / r.mem_Bps, 1e-12);
}

Test(perf, memory_bound_ops_shrink_with_sequence_parallelism)
{
  const p3cfg_model m = gpt3();
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, p3cfg__gpu_preset("a100-80gb"));
  p3cfg_plan pl = plan_for(&m, P3CFG_RECOMPUTE_NONE);
  pl.micro_batch = 1;
  p3cfg__dims d;
  p3cfg__layer_cost a, b;
  p3cfg__dims_of(&d, &m, &pl);
  p3cfg__layer_cost_of(&a, &d, &r);
  pl.sequence_parallel = 1;
  p3cfg__dims_of(&d, &m, &pl);
  p3cfg__layer_cost_of(&b, &d, &r);
  /* Norms (2 x 2e) and bias-dropout-adds (2 x (3e+1)) run on 1/t of the tokens. */
  const double th = 2048.0 * 12288;
  fx_assert_close(a.fwd_s - b.fwd_s, (2 * 4.0 + 2 * 7.0) * th * (1 - 1.0 / 8) / r.mem_Bps,
                  1e-9);
  cr_assert_eq(a.gemm_attn_s, b.gemm_attn_s);
}
