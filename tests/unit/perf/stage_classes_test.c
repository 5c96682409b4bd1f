/*
 * stage_classes_test.c — on a uniform network with the default placement the time model
 * costs the EP all-to-alls, ETP and CP rings and the expert-data-parallel rings of one
 * pipeline stage per class of stages whose ranks are a translate by a multiple of the
 * link period (perf_plan.c, p3cfg__perf_stage_extra_as), the expert rings again only where
 * a stage holds other expert parameters (the dense first layers, lighter end stages). An
 * explicit identity placement costs every group of every stage. Both must agree, every
 * time field, on mixture-of-experts and context-parallel plans, on DGX nodes, NVL72
 * domains and a rail-optimized spine.
 *
 * Model: DeepSeek-V3's MoE block on a smaller trunk (arXiv 2412.19437 sec. 4.2: 256 routed
 * experts, top 8, 1 shared, the first 3 layers dense; here 16 experts so that small
 * clusters fold them), and Llama 3 8B's trunk (32 layers, hidden 4096, GQA 32/8) at 32K
 * for context parallelism.
 */
#include "perf_fixtures.h"

static p3cfg_model moe_model(void)
{
  p3cfg_model m = fx_gpt(27, 2048, 16, 129280, 4096, 2880);
  m.kv_heads = 16, m.activation = P3CFG_ACT_SWIGLU, m.tied_embeddings = false;
  m.position_embedding = P3CFG_POS_ROPE, m.norm = P3CFG_NORM_RMSNORM;
  m.flash_attention = true, m.bias = false, m.dropout = false, m.ffn_hidden = 10944;
  m.moe.experts = 16, m.moe.top_k = 8, m.moe.expert_ffn_hidden = 1408;
  m.moe.shared_experts = 1, m.moe.dense_layers = 3;
  return m;
}

static p3cfg_model long_model(void)
{
  p3cfg_model m = fx_gpt(32, 4096, 32, 128256, 32768, 64);
  m.kv_heads = 8, m.activation = P3CFG_ACT_SWIGLU, m.ffn_hidden = 14336;
  m.tied_embeddings = false, m.position_embedding = P3CFG_POS_ROPE;
  m.norm = P3CFG_NORM_RMSNORM, m.flash_attention = true, m.bias = false, m.dropout = false;
  return m;
}

/* The plan on every split the search tries (balanced, then lighter ends). */
static void expect_classes_exact(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t tp,
                                 uint32_t pp, uint32_t dp, uint32_t cp, uint32_t ep,
                                 uint32_t etp, uint32_t v)
{
  p3cfg_plan pl = fx_plan(m, c, tp, pp, dp, 1, v, P3CFG_RECOMPUTE_NONE, tp > 1, 1, 0);
  pl.cp = cp, pl.ep = ep, pl.etp = etp;
  cr_assert_eq(p3cfg__plan_check(&pl, m, c), 0, "%s", p3cfg_error_last()->message);
  const uint32_t ranks = tp * pp * dp * cp;
  uint32_t *ident = malloc(ranks * sizeof *ident);
  cr_assert(ident);
  for (uint32_t r = 0; r < ranks; r++)
    ident[r] = r;
  const uint64_t units = m->layers / v;
  uint64_t first, last;
  p3cfg__split_balanced_ends(pp, units, &first, &last);
  for (int lighter = 0; lighter < 3 && pp > 2; lighter++) {
    p3cfg__split_fill(pl.stage_layers, pp, v, units, first - (uint64_t)lighter,
                      last - (uint64_t)(lighter > 1));
    cr_assert_eq(p3cfg__plan_check(&pl, m, c), 0, "%s", p3cfg_error_last()->message);
    const p3cfg_time a = fx_run(m, c, &pl, NULL), b = fx_run(m, c, &pl, ident);
    const double *x = &a.iteration_s, *y = &b.iteration_s;
    for (int k = 0; k < 9; k++)
      cr_assert(fabs(x[k] - y[k]) <= 1e-12 * fabs(y[k]),
                "tp %u pp %u dp %u cp %u ep %u etp %u v %u, split %d: field %d %.17g vs "
                "%.17g (every group)",
                tp, pp, dp, cp, ep, etp, v, lighter, k, x[k], y[k]);
    cr_assert(a.ep_comm_s == b.ep_comm_s && a.cp_comm_s == b.cp_comm_s);
  }
  free(ident);
}

Test(perf, stage_classes_cost_the_expert_and_cp_groups_as_every_group_does)
{
  const p3cfg_model moe = moe_model(), lng = long_model();
  const p3cfg_cluster dgx = fx_cluster("h100-sxm", 16, 450e9, 50e9); /* 128 GPUs */
  expect_classes_exact(&moe, &dgx, 2, 4, 16, 1, 8, 1, 1);  /* EP inside the node */
  expect_classes_exact(&moe, &dgx, 1, 4, 32, 1, 16, 1, 1); /* EP across two nodes */
  expect_classes_exact(&moe, &dgx, 4, 4, 8, 1, 2, 4, 1);   /* ETP rings */
  expect_classes_exact(&moe, &dgx, 2, 8, 4, 2, 4, 1, 1);   /* cp and ep */
  expect_classes_exact(&lng, &dgx, 2, 4, 4, 4, 1, 2, 2);   /* dense, cp over nodes */
  expect_classes_exact(&moe, &dgx, 2, 3, 20, 1, 4, 1, 3);  /* stages of 40 ranks: period 5 */
  p3cfg_cluster rack = fx_cluster("h100-sxm", 36, 450e9, 50e9); /* two NVL72 domains */
  rack.gpus_per_node = 4, rack.nvlink_domain = 72;
  expect_classes_exact(&moe, &rack, 2, 4, 18, 1, 4, 1, 1);
  expect_classes_exact(&moe, &rack, 1, 4, 36, 1, 4, 1, 1);
  p3cfg_cluster spine = fx_cluster("h100-sxm", 16, 450e9, 50e9);
  spine.leaf_gpus = 32, spine.spine_oversubscription = 2.0, spine.rail_optimized = true;
  expect_classes_exact(&moe, &spine, 2, 4, 16, 1, 16, 1, 1);
  expect_classes_exact(&moe, &spine, 1, 8, 16, 1, 8, 1, 1);
  expect_classes_exact(&lng, &spine, 1, 4, 8, 4, 1, 1, 1);
}
