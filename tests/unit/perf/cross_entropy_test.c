/*
 * cross_entropy_test.c — the three losses of the model file's `cross_entropy`
 * (src/common/cross_entropy_cost.h): per logit, Megatron-LM's unfused loss moves e + 36
 * bytes forward and e + 12 backward (tensor_parallel/cross_entropy.py at d98e8a6), the
 * Megatron-Core jit-fused one e + 20 and e + 4, Transformer Engine's Triton kernel 3e and
 * 2e with no fp32 copy kept; so a plan's step is faster, and its last stage no larger,
 * with the fused losses (Llama 3 8B on one DGX H100, the preset).
 */
#include <criterion/criterion.h>

#include "cross_entropy_cost.h"
#include "p3cfg.h"
#include "types.h"

#include "../preset_files.h"

Test(cross_entropy, bytes_per_logit_hand_derived)
{
  const p3cfg__ce_cost u = p3cfg__ce_cost_of(P3CFG_CE_UNFUSED, 2.0);
  const p3cfg__ce_cost n = p3cfg__ce_cost_of(P3CFG_CE_NATIVE, 2.0);
  const p3cfg__ce_cost f = p3cfg__ce_cost_of(P3CFG_CE_FUSED, 2.0);
  cr_expect_float_eq(u.fwd_bytes, 38.0, 1e-12);
  cr_expect_float_eq(u.bwd_bytes, 14.0, 1e-12);
  cr_expect_float_eq(n.fwd_bytes, 22.0, 1e-12);
  cr_expect_float_eq(n.bwd_bytes, 6.0, 1e-12);
  cr_expect_float_eq(f.fwd_bytes, 6.0, 1e-12);
  cr_expect_float_eq(f.bwd_bytes, 4.0, 1e-12);
  cr_expect_float_eq(u.saved_bytes, 4.0, 1e-12, "the fp32 softmax");
  cr_expect_float_eq(f.saved_bytes, 2.0, 1e-12, "the 16-bit logits, gradient in place");
  cr_expect_float_eq(f.transient_bytes, 0.0, 1e-12);
}

static void estimate(p3cfg_model *m, p3cfg_cluster *c, double *iter_s, uint64_t *peak)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 2, p.pp = 2, p.zero_stage = 1, p.sequence_parallel = 1;
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &p, NULL), 0, "%s", p3cfg_error_last()->message);
  *iter_s = p3cfg_result_time(r, 0)->iteration_s;
  const p3cfg_memory *mem = p3cfg_result_memory(r, 0);
  *peak = mem->stages[mem->n_stages - 1].peak_bytes; /* the stage holding the loss */
  p3cfg_result_free(r);
}

Test(cross_entropy, fused_losses_are_faster_and_no_larger)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  p3cfg_cluster *c = cluster("dgx-h100-1n.yaml");
  double t_u, t_n, t_f;
  uint64_t m_u, m_n, m_f;
  m->cross_entropy = P3CFG_CE_UNFUSED;
  estimate(m, c, &t_u, &m_u);
  m->cross_entropy = P3CFG_CE_NATIVE;
  estimate(m, c, &t_n, &m_n);
  m->cross_entropy = P3CFG_CE_FUSED;
  estimate(m, c, &t_f, &m_f);
  cr_expect_lt(t_n, t_u, "native %g vs unfused %g s", t_n, t_u);
  cr_expect_lt(t_f, t_n, "fused %g vs native %g s", t_f, t_n);
  cr_expect_eq(m_n, m_u, "native keeps the same tensors as unfused");
  cr_expect_leq(m_f, m_u, "fused keeps no fp32 copy");
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
