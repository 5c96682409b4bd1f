/*
 * framework_time_test.c — the framework rules of the time model (src/perf/
 * framework_time.c): Megatron's rates untouched, eager PyTorch's element-wise factors
 * applied to the norms (hand-derived bytes), compiled faster than eager, per-op SAC
 * between no recompute and full, FSDP2's implied overlap.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "framework_physics.h"
#include "perf_fixtures.h"

static p3cfg_model llama8b_like(void)
{
  p3cfg_model m = fx_gpt(8, 4096, 32, 128256, 8192, 16);
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

Test(perf, megatron_rates_are_the_gpus_own)
{
  p3cfg_model m = llama8b_like();
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 1, 1, 8, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 3, 0);
  p3cfg__rates a, b;
  memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
  p3cfg__rates_of(&a, &m, &c.gpu);
  p3cfg__rates_of_plan(&b, &m, &c.gpu, &p);
  cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
  cr_assert_eq(p3cfg__fw_overlap(&p), 0u);
}

Test(perf, eager_norms_move_nine_times_the_bytes_of_the_fused_kernel)
{
  p3cfg_model m = llama8b_like();
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 1, 1, 8, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 3, 0);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p3cfg__rates r;
  p3cfg__rates_of_plan(&r, &m, &c.gpu, &p);
  /* at::rms_norm's composite: to(fp32) 2+4, pow 4+4, mean 4, mul 4+4, type_as 4+2,
   * weight 2+2 = 36 bytes per element against the fused kernel's 2+2. */
  fx_assert_close(r.norm_bytes_f, 9.0, 1e-12);
  cr_assert_eq(r.norm_kernels, 8.0);
  p.compile = 1; /* torch.compile fuses them: the cost model's kernels */
  p3cfg__rates_of_plan(&r, &m, &c.gpu, &p);
  cr_assert_eq(r.norm_bytes_f, 1.0);
  cr_assert_eq(r.rope_kernels, 1.0);
  cr_assert_eq(p3cfg__fw_overlap(&p), P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER);
}

Test(perf, compiled_torchtitan_is_faster_than_eager)
{
  p3cfg_model m = llama8b_like();
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 1, 1, 8, 2, 1, P3CFG_RECOMPUTE_SELECTIVE, 0, 3, 0);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  const p3cfg_time eager = fx_run(&m, &c, &p, NULL);
  p.compile = 1;
  const p3cfg_time compiled = fx_run(&m, &c, &p, NULL);
  cr_assert(compiled.iteration_s < eager.iteration_s);
  /* published (torchtitan T1 table 1): 6667 / 5762 = 1.157; the count of ATen ops gives
   * the gain within a few per cent without a fitted constant */
  const double gain = eager.iteration_s / compiled.iteration_s;
  cr_assert(gain > 1.08 && gain < 1.25, "compile gain %.3f", gain);
}

Test(perf, per_op_sac_costs_between_no_recompute_and_full)
{
  p3cfg_model m = llama8b_like();
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 1, 1, 8, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 3, 0);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.compile = 1;
  double f0, b0, fs, bs, ff, bf;
  p3cfg__perf_layer_s(&f0, &b0, &m, &c, &p, NULL);
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p3cfg__perf_layer_s(&fs, &bs, &m, &c, &p, NULL);
  p.recompute = P3CFG_RECOMPUTE_FULL;
  p3cfg__perf_layer_s(&ff, &bf, &m, &c, &p, NULL);
  cr_assert(b0 < bs && bs < bf, "none %g sac %g full %g", b0, bs, bf);
  /* SAC re-runs wk, wo and w3 of the seven matmuls: more than Megatron's selective
   * (core attention only, which SAC saves) */
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.framework = P3CFG_FRAMEWORK_MEGATRON;
  double fm, bm;
  p3cfg__perf_layer_s(&fm, &bm, &m, &c, &p, NULL);
  cr_assert(bm < bs);
}

Test(perf, torchtitan_runs_at_its_compute_efficiency)
{
  p3cfg_model m = llama8b_like();
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan p = fx_plan(&m, &c, 1, 1, 8, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 3, 0);
  p3cfg__rates a, b;
  p3cfg__rates_of(&a, &m, &c.gpu);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.compile = 1;
  p3cfg__rates_of_plan(&b, &m, &c.gpu, &p);
  const double eff = p3cfg__framework_physics_of(P3CFG_FRAMEWORK_TORCHTITAN)->compute_efficiency;
  fx_assert_close(b.mm_Fps, a.mm_Fps * eff, 1e-12);
  fx_assert_close(b.mem_Bps, a.mem_Bps, 1e-12); /* HBM is the GPU's */
}
