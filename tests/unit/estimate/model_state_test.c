/*
 * model_state_test.c — parameters per stage and the bytes of weights, gradients and
 * optimizer state: Megatron SC'21 eq. 2 for its model family, the ZeRO paper's worked
 * example, Megatron-LM's per-precision buffers, tied and untied embeddings, even and
 * uneven splits.
 */
#include <math.h>

#include "est_fixtures.h"
#include "model_params.h"
#include "model_state.h"

/* Megatron SC'21 (arXiv 2104.04473) Table 1: h, a, l; V 51200, s 2048. */
static const struct {
  uint64_t h, a, l;
} family[] = {{2304, 24, 24},    {3072, 32, 30},   {4096, 32, 36},  {6144, 48, 40},
              {8192, 64, 48},    {10240, 80, 60},  {12288, 96, 80}, {16384, 128, 96},
              {20480, 128, 105}, {25600, 160, 128}};

static uint64_t stage_params(const p3cfg_model *m, p3cfg_plan *p, uint32_t stage)
{
  p3cfg__params pc;
  p3cfg__model_params(&pc, m, p->tp);
  p3cfg__stage_params sp;
  p3cfg__stage_params_get(&sp, &pc, m, p, stage);
  return sp.params;
}

Test(estimate, megatron_family_params_match_sc21_eq2)
{
  for (size_t i = 0; i < sizeof family / sizeof family[0]; i++) {
    const double h = (double)family[i].h, l = (double)family[i].l, V = 51200, s = 2048;
    const double eq2 = 12 * l * h * h * (1 + 13 / (12 * h) + (V + s) / (12 * l * h));
    p3cfg_model m = est_gpt(family[i].l, family[i].h, family[i].a, 51200, 2048, 512);
    p3cfg_plan p = est_plan(1, 1, 1, 1);
    p3cfg_cluster c = est_cluster("a100-80gb", 1);
    est_resolve(&p, &m, &c);
    const double ours = (double)stage_params(&m, &p, 0);
    cr_assert_lt(fabs(est_rel(ours, eq2)), 1e-3, "h %llu: %.0f vs eq. 2 %.0f",
                 (unsigned long long)family[i].h, ours, eq2);
  }
}

Test(estimate, stage_params_add_up_to_the_model_over_an_uneven_split)
{
  /* BLOOM: 70 layers on 12 stages, first and last lighter (tied, so pp > 1 adds the
   * output-layer copy of the embedding on the last stage). */
  p3cfg_model m = est_gpt(70, 14336, 112, 250880, 2048, 2048);
  m.position_embedding = P3CFG_POS_ALIBI;
  p3cfg_plan p = est_plan(1, 1, 12, 2);
  p.n_stage_layers = 12;
  for (uint32_t i = 0; i < 12; i++)
    p.stage_layers[i] = i == 0 || i == 11 ? 5 : 6;
  p3cfg_cluster c = est_cluster("a100-80gb", 2);
  est_resolve(&p, &m, &c);
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 1);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < 12; i++)
    sum += stage_params(&m, &p, i);
  cr_assert_eq(sum, pc.total + pc.word_embedding);
  cr_assert_eq(stage_params(&m, &p, 0), 5 * pc.layer + pc.word_embedding);
  cr_assert_eq(stage_params(&m, &p, 5), 6 * pc.layer);
  cr_assert_eq(stage_params(&m, &p, 11), 5 * pc.layer + pc.word_embedding + pc.final_norm);
}

Test(estimate, tied_embedding_is_shared_without_pipeline)
{
  p3cfg_model m = est_gpt(24, 2304, 24, 51200, 2048, 512);
  p3cfg_plan p = est_plan(1, 1, 1, 1);
  p3cfg_cluster c = est_cluster("a100-80gb", 1);
  est_resolve(&p, &m, &c);
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 1);
  cr_assert_eq(stage_params(&m, &p, 0), pc.total);
}

Test(estimate, ci_7b_holds_exact_params_per_gpu_at_tp4)
{
  /* Per GPU at tp 4: 32 layers of (176183296/4 + 24576), embedding and output layer of
   * 131584*4096/4 each (vocab 131073 padded to a multiple of 512), positions 8192*4096,
   * final norm 8192. */
  p3cfg_model m = est_ci_7b();
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  est_resolve(&p, &m, &c);
  cr_assert_eq(stage_params(&m, &p, 0), 1713299456ull);
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 4);
  p3cfg__stage_params sp;
  p3cfg__stage_params_get(&sp, &pc, &m, &p, 0);
  cr_assert_eq(sp.largest_unit, 131584ull * 4096 / 4 + 8192ull * 4096, "embedding + positions");
}

/* Model state of Ψ parameters under `zero` and `dp` for `m`'s precision and optimizer. */
static p3cfg__model_state state(const p3cfg_model *m, uint32_t zero, uint32_t dp, uint64_t psi,
                                uint64_t unit)
{
  p3cfg_plan p = est_plan(dp, 1, 1, 1);
  p.zero_stage = zero;
  p3cfg__stage_params sp = {.layers = 1, .params = psi, .largest_unit = unit};
  p3cfg__model_state ms;
  p3cfg__model_state_get(&ms, m, &p, &sp);
  return ms;
}

static uint64_t total(const p3cfg__model_state *ms)
{
  return ms->weights_bytes + ms->gradients_bytes + ms->optimizer_bytes;
}

Test(estimate, zero_stages_match_the_zero_paper_example)
{
  /* Rajbhandari et al. 2020, Fig. 1: Ψ = 7.5B on N_d = 64: stage 2 16.6 GB, stage 3
   * 1.9 GB; Megatron's distributed optimizer (stage 1) keeps fp32 main grads: 2Ψ + 4Ψ +
   * 12Ψ/N_d (references.md). */
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  const uint64_t psi = 7500000000ull;
  p3cfg__model_state z0 = state(&m, 0, 64, psi, 0), z1 = state(&m, 1, 64, psi, 0);
  p3cfg__model_state z2 = state(&m, 2, 64, psi, 0), z3 = state(&m, 3, 64, psi, 0);
  cr_assert_eq(total(&z0), 18 * psi, "Megatron bf16: 2 + 4 (fp32 main grads) + 12");
  cr_assert_eq(total(&z1), 2 * psi + 4 * psi + 12 * psi / 64);
  cr_assert_eq(total(&z2), 2 * psi + 14 * psi / 64);
  cr_assert_eq(total(&z3), 16 * psi / 64);
  cr_assert_lt(fabs((double)total(&z2) / 1e9 - 16.6), 0.05);
  cr_assert_lt(fabs((double)total(&z3) / 1e9 - 1.9), 0.05);
  cr_assert_eq(z1.optimizer_bytes, 12 * psi / 64);
  cr_assert_eq(z2.gradients_bytes, 2 * psi / 64);
  cr_assert_eq(z3.weights_bytes, 2 * psi / 64);
}

Test(estimate, shards_round_up_to_whole_parameters)
{
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  p3cfg__model_state z1 = state(&m, 1, 4, 10, 0);
  cr_assert_eq(z1.optimizer_bytes, 12 * 3, "ceil(10/4) = 3 parameters per shard");
}

Test(estimate, fp16_keeps_16bit_grads_and_copies_them_to_fp32_at_the_step)
{
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  m.precision = P3CFG_PREC_FP16;
  const uint64_t psi = 1000000;
  p3cfg__model_state z0 = state(&m, 0, 8, psi, 0), z1 = state(&m, 1, 8, psi, 0);
  cr_assert_eq(z0.gradients_bytes, 2 * psi);
  cr_assert_eq(total(&z0), 16 * psi);
  cr_assert_eq(z0.step_bytes, 4 * psi);
  cr_assert_eq(total(&z1), 4 * psi + 12 * psi / 8);
  cr_assert_eq(z1.step_bytes, 4 * psi / 8);
}

Test(estimate, bf16_megatron_needs_no_fp32_copy_at_the_step)
{
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  p3cfg__model_state z0 = state(&m, 0, 8, 1000, 0), z1 = state(&m, 1, 8, 1000, 0);
  cr_assert_eq(z0.step_bytes, 0);
  cr_assert_eq(z1.step_bytes, 0);
}

Test(estimate, fp32_training_has_no_master_copy)
{
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  m.precision = P3CFG_PREC_FP32;
  const uint64_t psi = 1000000;
  p3cfg__model_state z0 = state(&m, 0, 8, psi, 0), z3 = state(&m, 3, 8, psi, 0);
  cr_assert_eq(z0.weights_bytes, 4 * psi);
  cr_assert_eq(z0.optimizer_bytes, 8 * psi, "Adam m and v only");
  cr_assert_eq(total(&z3), 16 * psi / 8);
  cr_assert_eq(z3.step_bytes, 0);
}

Test(estimate, sgd_keeps_one_momentum_instead_of_two_moments)
{
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  m.optimizer = P3CFG_OPT_SGD;
  p3cfg__model_state z0 = state(&m, 0, 1, 1000, 0);
  cr_assert_eq(z0.optimizer_bytes, 8 * 1000, "fp32 master + momentum");
  m.precision = P3CFG_PREC_FP32;
  z0 = state(&m, 0, 1, 1000, 0);
  cr_assert_eq(z0.optimizer_bytes, 4 * 1000);
}

Test(estimate, zero3_gathers_two_blocks_and_zero2_buckets_one)
{
  p3cfg_model m = est_gpt(1, 64, 1, 128, 16, 1);
  p3cfg__model_state z1 = state(&m, 1, 8, 8000, 500), z2 = state(&m, 2, 8, 8000, 500);
  p3cfg__model_state z3 = state(&m, 3, 8, 8000, 500);
  cr_assert_eq(z1.gather_bytes + z1.bucket_bytes, 0);
  cr_assert_eq(z2.gather_bytes, 0);
  cr_assert_eq(z2.bucket_bytes, 2 * 500);
  cr_assert_eq(z3.gather_bytes, 2 * 2 * 500);
  cr_assert_eq(z3.bucket_bytes, 2 * 500);
  cr_assert_eq(z3.step_bytes, 4 * 1000, "fp32 gradient shard at the step");
}
