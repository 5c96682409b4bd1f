/*
 * low_precision_test.c — the low-precision time model (docs/time-model.md "Low precision")
 * against a published same-configuration pair, and its edges: FP8 is not a free 2x, a
 * GPU without FP8 tensor cores is refused, not run in bf16, and per-tensor FP8 on
 * Blackwell quantizes into one copy.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "low_precision_time.h"
#include "p3cfg.h"
#include "types.h"

static void load(p3cfg_model **m, p3cfg_cluster **c, const char *model, const char *cluster)
{
  char path[512];
  snprintf(path, sizeof path, "%s/models/%s.yaml", P3CFG_SOURCE_DIR, model);
  cr_assert_eq(p3cfg_model_load(m, path, NULL), 0, "%s", path);
  snprintf(path, sizeof path, "%s/clusters/%s.yaml", P3CFG_SOURCE_DIR, cluster);
  cr_assert_eq(p3cfg_cluster_load(c, path, NULL), 0, "%s", path);
}

/* Llama 3 70B's tensor-parallel plan of these tests: tp 4 with sequence parallelism. */
static p3cfg_plan tp4_sp_plan(void)
{
  p3cfg_plan pl = P3CFG_PLAN_INIT;
  pl.dp = 2, pl.tp = 4, pl.sequence_parallel = 1, pl.micro_batch = 1;
  return pl;
}

static double step_s(const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *pl)
{
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, pl, NULL), 0, "%s", p3cfg_error_last()->message);
  const double s = p3cfg_result_time(r, 0)->iteration_s;
  p3cfg_result_free(r);
  return s;
}

/* torchtitan benchmarks/llama3_h100_202412_torchtitan.md, Table 3 (data/calibration/
 * fp8-bf16-pairs.csv): Llama 3.1 8B on 128 H100 (96 GB HBM2e, 2.4 TB/s), FSDP, local batch
 * 2, selective recompute: 6,514 tokens/s per GPU in bf16, 8,380 with float8 tensorwise
 * (current scaling): 1.286. The published pairs span 1.16-1.36. */
Test(perf, fp8_beats_bf16_by_the_published_ratio)
{
  p3cfg_model *m;
  p3cfg_cluster *c;
  load(&m, &c, "llama3-8b", "dgx-h100-64n");
  c->gpu.hbm_Bps = 2400e9;
  c->gpu.memory_bytes = 96ull << 30;
  p3cfg_plan pl = P3CFG_PLAN_INIT;
  pl.dp = 128, pl.micro_batch = 2, pl.zero_stage = 3, pl.global_batch = 256;
  pl.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  const double bf16 = step_s(m, c, &pl);
  m->precision = P3CFG_PREC_FP8;
  m->fp8_recipe = P3CFG_FP8_CURRENT;
  const double fp8 = step_s(m, c, &pl);
  const double ratio = bf16 / fp8, published = 8380.0 / 6514.0;
  cr_expect(ratio > 1.16 && ratio < 1.36, "FP8/BF16 %.3f outside the published 1.16-1.36", ratio);
  cr_expect(ratio / published > 0.95 && ratio / published < 1.05, "FP8/BF16 %.3f, published %.3f",
            ratio, published);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* A large FP8 GEMM runs at twice the bf16 rate (times the measured efficiency ratio), but
 * the layer around it (attention in bf16, norms, quantization) gains much less. */
Test(perf, fp8_is_not_a_free_2x)
{
  p3cfg_model *m;
  p3cfg_cluster *c;
  load(&m, &c, "llama3-70b", "dgx-h100-1n");
  p3cfg__rates bf, lp;
  p3cfg__rates_of(&bf, m, &c->gpu);
  m->precision = P3CFG_PREC_FP8;
  p3cfg__rates_of(&lp, m, &c->gpu);
  const double g =
      p3cfg__gemm_lp_s(&bf, 8192, 8192, 8192, 1) / p3cfg__gemm_lp_s(&lp, 8192, 8192, 8192, 1);
  cr_expect(g > 1.95 && g < 2.0, "large GEMM fp8 speed-up %.3f", g);
  p3cfg_plan pl = P3CFG_PLAN_INIT;
  pl.dp = 1, pl.tp = 8, pl.sequence_parallel = 1;
  p3cfg__dims d;
  p3cfg__dims_of(&d, m, &pl);
  p3cfg__layer_cost lb, ll;
  p3cfg__layer_cost_of(&lb, &d, &bf);
  p3cfg__layer_cost_of(&ll, &d, &lp);
  const double layer = (lb.fwd_s + lb.bwd_s) / (ll.fwd_s + ll.bwd_s);
  cr_expect(layer > 1.2 && layer < 1.7, "layer fp8 speed-up %.3f", layer);
  /* delayed scaling casts in one pass; current scaling reads for the amax first */
  m->fp8_recipe = P3CFG_FP8_CURRENT;
  p3cfg__rates cur;
  p3cfg__rates_of(&cur, m, &c->gpu);
  p3cfg__layer_cost lc;
  p3cfg__layer_cost_of(&lc, &d, &cur);
  cr_expect_gt(lc.fwd_s + lc.bwd_s, ll.fwd_s + ll.bwd_s);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(perf, a_gpu_without_fp8_tensor_cores_is_refused)
{
  p3cfg_model *m;
  p3cfg_cluster *c;
  load(&m, &c, "llama3-8b", "dgx-a100-1n");
  m->precision = P3CFG_PREC_FP8;
  p3cfg_plan pl = P3CFG_PLAN_INIT;
  p3cfg_result *r = NULL;
  cr_expect_eq(p3cfg_estimate(&r, m, c, &pl, NULL), P3CFG_EVALUE);
  cr_expect(strstr(p3cfg_error_last()->message, "precision fp8 needs FP8 tensor cores") != NULL,
            "%s", p3cfg_error_last()->message);
  cr_expect_null(r);
  /* mxfp8 needs Blackwell's block scaling: H100 has FP8 but no FP4 peak */
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  load(&m, &c, "llama3-8b", "dgx-h100-1n");
  m->precision = P3CFG_PREC_MXFP8;
  cr_expect_eq(p3cfg_estimate(&r, m, c, &pl, NULL), P3CFG_EVALUE);
  cr_expect(strstr(p3cfg_error_last()->message, "block-scaled") != NULL, "%s",
            p3cfg_error_last()->message);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* With sequence parallelism the TP all-gathers carry the quantized tensors (TE: the FP8
 * GEMM input and output gradient are gathered; torchao float8 tensorwise TP likewise), the
 * reduce-scatters stay 16-bit. By hand, fp8 (1 byte) against bf16 (2): each all-gather
 * half of an all-reduce unit costs half, so with no overlap the forward's two units cost
 * 2 x (1/2 + 1/4) = 1.5 all-reduces instead of 2, and the backward's two units plus two
 * re-gathers 2 x 3/4 + 2 x 1/4 = 2 instead of 2 + 2 x 1/2 = 3. */
Test(perf, fp8_tp_all_gathers_carry_one_byte)
{
  p3cfg_model *m;
  p3cfg_cluster *c;
  load(&m, &c, "llama3-70b", "dgx-h100-1n");
  p3cfg_plan pl = tp4_sp_plan();
  p3cfg__dims d;
  p3cfg__rates r;
  p3cfg__layer_cost L;
  p3cfg__dims_of(&d, m, &pl);
  p3cfg__rates_of(&r, m, &c->gpu);
  cr_expect_eq(p3cfg__lp_tp_gather_cut(&d, &r), 0.0, "bf16 gathers 16 bits");
  double bf_f, bf_b;
  p3cfg__layer_cost_of(&L, &d, &r);
  p3cfg__perf_layer_s(&bf_f, &bf_b, m, c, &pl, NULL);
  const double bf_tf = bf_f - L.fwd_s, bf_tb = bf_b - L.bwd_s;
  m->precision = P3CFG_PREC_FP8;
  m->fp8_recipe = P3CFG_FP8_CURRENT;
  p3cfg__rates_of(&r, m, &c->gpu);
  cr_expect_float_eq(p3cfg__lp_tp_gather_cut(&d, &r), 0.5, 1e-12);
  double lp_f, lp_b;
  p3cfg__layer_cost_of(&L, &d, &r);
  p3cfg__perf_layer_s(&lp_f, &lp_b, m, c, &pl, NULL);
  const double lp_tf = lp_f - L.fwd_s, lp_tb = lp_b - L.bwd_s;
  cr_assert_gt(bf_tf, 0.0);
  cr_expect_float_eq(lp_tf / bf_tf, 0.75, 1e-9, "forward TP %.4f of bf16's", lp_tf / bf_tf);
  cr_expect_float_eq(lp_tb / bf_tb, 2.0 / 3.0, 1e-9, "backward TP %.4f of bf16's", lp_tb / bf_tb);
  /* mxfp8 gathers its E8M0 block scales too: 1 + 1/32 bytes per element */
  m->precision = P3CFG_PREC_MXFP8;
  p3cfg__rates_of(&r, m, &c->gpu);
  cr_expect_float_eq(p3cfg__lp_tp_gather_cut(&d, &r), 1.0 - (1.0 + 1.0 / 32.0) / 2.0, 1e-12);
  /* without sp the TP collectives are all-reduces of 16-bit outputs: nothing saved */
  m->precision = P3CFG_PREC_FP8;
  p3cfg__rates_of(&r, m, &c->gpu);
  pl.sequence_parallel = 0;
  p3cfg__dims_of(&d, m, &pl);
  cr_expect_eq(p3cfg__lp_tp_gather_cut(&d, &r), 0.0, "no sp: all-reduces");
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* Per-tensor FP8 on Blackwell quantizes once: its FP8 GEMMs take non-TN layouts, so TE
 * allocates no transpose (Float8Quantizer::create_tensor, transformer_engine/pytorch/
 * csrc/quantizer.cpp @ d0067d0); Hopper writes the transpose beside it, and MXFP8 writes
 * a second copy scaled along the other axis on any GPU. A weight's cast: read 2 bytes,
 * write 1 per copy. */
Test(perf, per_tensor_fp8_on_blackwell_writes_one_copy)
{
  p3cfg_model *m;
  p3cfg_cluster *hopper, *blackwell;
  load(&m, &hopper, "llama3-8b", "dgx-h100-1n");
  char path[512];
  snprintf(path, sizeof path, "%s/clusters/gb200-nvl72-1r.yaml", P3CFG_SOURCE_DIR);
  cr_assert_eq(p3cfg_cluster_load(&blackwell, path, NULL), 0);
  m->precision = P3CFG_PREC_FP8;
  p3cfg__rates r;
  p3cfg__rates_of(&r, m, &blackwell->gpu);
  cr_assert_eq(r.lp_copies, 1.0);
  cr_assert_eq(r.lp_gather_rowwise, 0, "one copy serves both layouts: nothing to transpose");
  cr_assert_eq(p3cfg__low_precision_step_bytes(&r, 0.0, 1000.0), 3000.0);
  p3cfg__rates_of(&r, m, &hopper->gpu);
  cr_assert_eq(r.lp_copies, 2.0);
  cr_assert_eq(r.lp_gather_rowwise, 1);
  cr_assert_eq(p3cfg__low_precision_step_bytes(&r, 0.0, 1000.0), 4000.0);
  m->precision = P3CFG_PREC_MXFP8;
  p3cfg__rates_of(&r, m, &blackwell->gpu);
  cr_assert_eq(r.lp_copies, 2.0);
  p3cfg_cluster_free(hopper);
  p3cfg_cluster_free(blackwell);
  p3cfg_model_free(m);
}

/* Per-tensor FP8 on Hopper gathers row-wise data only (TE's Float8Quantizer and
 * Float8CurrentScalingQuantizer: supports_only_rowwise_all_gather() is true, tensor/
 * float8_tensor.py @ d0067d0), so under sequence parallelism the cast of a gathered
 * tensor writes one copy of its 1/t shard and the backward transposes the gathered
 * T x h whole (update_usage(columnwise_usage=True) after the re-gather): per block, the
 * norm output's and the output gradient's transposes, 2 x 2q T h bytes, less the two
 * 1/t copies no longer written. MXFP8 gathers each usage's own data and transposes
 * nothing. */
Test(perf, hopper_fp8_transposes_the_gathered_tensors)
{
  p3cfg_model *m;
  p3cfg_cluster *c;
  load(&m, &c, "llama3-70b", "dgx-h100-1n");
  p3cfg_plan pl = tp4_sp_plan();
  m->precision = P3CFG_PREC_FP8;
  m->fp8_recipe = P3CFG_FP8_DELAYED;
  p3cfg__dims d;
  p3cfg__rates r;
  p3cfg__dims_of(&d, m, &pl);
  p3cfg__rates_of(&r, m, &c->gpu);
  cr_assert_eq(r.lp_gather_rowwise, 1);
  p3cfg__lp_overhead sp_attn, sp_mlp, ref_attn, ref_mlp;
  p3cfg__low_precision_overhead(&sp_attn, &sp_mlp, &d, &r);
  /* the same block without the rule: what p3cfg__lp_block_overhead charges for it */
  const double T = d.tokens, h = d.h, t = d.tp, th = T * h / t, q = r.lp_elem_bytes;
  r.lp_gather_rowwise = 0;
  p3cfg__low_precision_overhead(&ref_attn, &ref_mlp, &d, &r);
  cr_expect_float_eq(sp_attn.fwd_bytes, ref_attn.fwd_bytes - q * th, 1.0);
  cr_expect_float_eq(sp_attn.bwd_bytes, ref_attn.bwd_bytes + 4.0 * q * T * h - q * th, 1.0);
  cr_expect_float_eq(sp_mlp.bwd_bytes, ref_mlp.bwd_bytes + 4.0 * q * T * h - q * th, 1.0);
  cr_expect_eq(sp_attn.kernels_bwd, ref_attn.kernels_bwd + 2.0);
  /* MXFP8: no transposes (Blackwell's per-tensor FP8: per_tensor_fp8_on_blackwell_...) */
  m->precision = P3CFG_PREC_MXFP8;
  p3cfg__rates_of(&r, m, &c->gpu);
  cr_expect_eq(r.lp_gather_rowwise, 0);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
