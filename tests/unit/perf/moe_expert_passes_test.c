/*
 * moe_expert_passes_test.c — the memory-bound passes Megatron-Core's unfused TEGroupedMLP
 * adds around the expert GEMMs (moe_cost.c): fc2's bias applied per local expert with the
 * router's probability (TEGroupedMLP._apply_bias, experts.py at d98e8a6) and the clamp of
 * a clamped GLU (weighted_bias_quick_geglu_impl, fused_bias_geglu.py at d98e8a6). Every
 * expected figure is derived by hand from the shapes below.
 *
 * Model: GPT-OSS-120B (openai/gpt-oss-120b config.json: 36 layers, hidden 2880, 64 heads
 * of 64, 8 KV heads, 128 experts, top 4, intermediate_size 2880, attention and expert
 * biases, swiglu_limit 7.0), as Megatron-Bridge benchmarks it (seq 4096).
 */
#include "perf_fixtures.h"

static p3cfg_model gpt_oss_120b(bool bias)
{
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.name = (char *)"gpt-oss-120b";
  m.layers = 36, m.hidden = 2880, m.heads = 64, m.kv_heads = 8, m.head_dim = 64;
  m.ffn_hidden = 2880, m.vocab = 201088, m.seq_len = 4096, m.global_batch = 1280;
  m.activation = P3CFG_ACT_SWIGLU, m.tied_embeddings = false;
  m.position_embedding = P3CFG_POS_ROPE, m.norm = P3CFG_NORM_RMSNORM;
  m.flash_attention = true, m.precision = P3CFG_PREC_BF16, m.optimizer = P3CFG_OPT_ADAM;
  m.bias = bias, m.dropout = false;
  m.moe.experts = 128, m.moe.top_k = 4, m.moe.expert_ffn_hidden = 2880;
  return m;
}

/* The H100 recipe's expert layout: tp 1, ep 8 (16 local experts), micro-batch 1. */
static p3cfg_plan ep8_plan(p3cfg_recompute rc, uint32_t modules)
{
  p3cfg_plan pl;
  p3cfg_plan_init(&pl);
  pl.tp = 1, pl.pp = 4, pl.dp = 16, pl.ep = 8, pl.etp = 1, pl.micro_batch = 1;
  pl.zero_stage = 1, pl.global_batch = 1280;
  pl.recompute = rc, pl.recompute_modules = modules;
  return pl;
}

static void cost(p3cfg__moe_cost *X, const p3cfg_model *m, const p3cfg_plan *pl, double clamp,
                 p3cfg__rates *r)
{
  p3cfg__dims d;
  p3cfg__dims_of(&d, m, pl);
  d.act_clamp = clamp;
  p3cfg__rates_of(r, m, p3cfg__gpu_preset("h100-sxm"));
  p3cfg__moe_cost_of(X, &d, r);
}

/* fc2's bias: R = b s top_k = 4096 x 4 = 16384 rows of h = 2880 on this GPU. Forward
 * 6e = 12 bytes per element: 12 x 16384 x 2880 = 566,231,040 bytes, and 2 kernels per
 * local expert plus the cat: 2 x 16 + 1 = 33. Backward the same bytes, plus the e bytes
 * per element of the T x h bias-add gradient the MLP half's residual already had
 * (2 x 4096 x 2880 = 23,592,960), and 4 x 16 = 64 kernels. */
Test(moe_expert_passes, fc2_bias_is_applied_per_local_expert)
{
  const p3cfg_model with = gpt_oss_120b(true), without = gpt_oss_120b(false);
  const p3cfg_plan pl = ep8_plan(P3CFG_RECOMPUTE_NONE, 0);
  p3cfg__moe_cost a, b;
  p3cfg__rates r;
  cost(&a, &with, &pl, 0.0, &r);
  cost(&b, &without, &pl, 0.0, &r);
  const double gap = r.kernel_gap_s;
  cr_assert_float_eq(a.kernels_fwd - b.kernels_fwd, 33.0, 1e-12);
  cr_assert_float_eq(a.kernels_bwd - b.kernels_bwd, 64.0, 1e-12);
  const double fwd = 566231040.0 * r.s_per_byte + 33.0 * gap;
  const double bwd = (566231040.0 + 23592960.0) * r.s_per_byte + 64.0 * gap;
  cr_assert_float_eq(a.fwd_s - b.fwd_s, fwd, fwd * 1e-9, "%.9g vs %.9g", a.fwd_s - b.fwd_s,
                     fwd);
  cr_assert_float_eq(a.bwd_s - b.bwd_s, bwd, bwd * 1e-9, "%.9g vs %.9g", a.bwd_s - b.bwd_s,
                     bwd);
  /* The GEMMs and the communication are untouched. */
  cr_assert_float_eq(a.gemm_fwd_s, b.gemm_fwd_s, 1e-15);
  cr_assert_float_eq(a.a2a_bytes, b.a2a_bytes, 1e-6);
}

/* A clamped GLU: two clamps and a cat over fc1's R x 2 f_e output, R = 16384, f_e =
 * 2880: forward 8e R f_e = 16 x 16384 x 2880 = 754,974,720 bytes and 3 kernels; backward
 * 10e R f_e = 943,718,400 bytes and 3 kernels. No clamp (Qwen3, Llama): nothing. */
Test(moe_expert_passes, clamped_glu_adds_its_clamp_and_concatenation)
{
  const p3cfg_model m = gpt_oss_120b(true);
  const p3cfg_plan pl = ep8_plan(P3CFG_RECOMPUTE_NONE, 0);
  p3cfg__moe_cost a, b;
  p3cfg__rates r;
  cost(&a, &m, &pl, 7.0, &r);
  cost(&b, &m, &pl, 0.0, &r);
  const double gap = r.kernel_gap_s;
  const double fwd = 754974720.0 * r.s_per_byte + 3.0 * gap;
  const double bwd = 943718400.0 * r.s_per_byte + 3.0 * gap;
  cr_assert_float_eq(a.fwd_s - b.fwd_s, fwd, fwd * 1e-9);
  cr_assert_float_eq(a.bwd_s - b.bwd_s, bwd, bwd * 1e-9);
  cr_assert_float_eq(a.kernels_fwd - b.kernels_fwd, 3.0, 1e-12);
  cr_assert_float_eq(a.recompute_s, 0.0, 1e-15); /* nothing recomputed without modules */
}

/* moe_act recomputation re-runs the activation with its clamp: the activation's 3e R f_e
 * (6 x 16384 x 2880 = 283,115,520 bytes) and the clamp's 754,974,720, 1 + 3 kernels. */
Test(moe_expert_passes, moe_act_recompute_repeats_the_clamp)
{
  const p3cfg_model m = gpt_oss_120b(true);
  const p3cfg_plan pl = ep8_plan(P3CFG_RECOMPUTE_SELECTIVE, P3CFG_RECOMPUTE_MODULE_MOE_ACT);
  p3cfg__moe_cost a, b;
  p3cfg__rates r;
  cost(&a, &m, &pl, 7.0, &r);
  cost(&b, &m, &pl, 0.0, &r);
  const double gap = r.kernel_gap_s;
  const double with = (283115520.0 + 754974720.0) * r.s_per_byte + 4.0 * gap;
  const double without = 283115520.0 * r.s_per_byte + gap;
  cr_assert_float_eq(a.recompute_s, with, with * 1e-9, "%.9g vs %.9g", a.recompute_s, with);
  cr_assert_float_eq(b.recompute_s, without, without * 1e-9);
  cr_assert_float_eq(a.recompute_kernels, 4.0, 1e-12);
  cr_assert_float_eq(b.recompute_kernels, 1.0, 1e-12);
}

/* The model loaded from a file has no clamp key yet: p3cfg__dims_of leaves it 0. */
Test(moe_expert_passes, dims_of_sets_no_clamp)
{
  const p3cfg_model m = gpt_oss_120b(true);
  const p3cfg_plan pl = ep8_plan(P3CFG_RECOMPUTE_NONE, 0);
  p3cfg__dims d;
  memset(&d, 0xff, sizeof d);
  p3cfg__dims_of(&d, &m, &pl);
  cr_assert_float_eq(d.act_clamp, 0.0, 1e-15);
}
