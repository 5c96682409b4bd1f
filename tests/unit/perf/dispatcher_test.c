/*
 * dispatcher_test.c — the flex token dispatcher (moe.dispatcher deepep / hybridep,
 * collectives.c p3cfg__flex_dispatch_s): one copy of a token per destination GPU inside
 * an NVLink domain and one per destination domain across it, against the all-to-all
 * dispatcher's one copy per routed expert; the closed forms on DGX H100 groups, the
 * top-1 limit where the two coincide, the default map's shortcut against the full walk,
 * and the plan-level effect on Megatron-Core's ModelZoo Qwen3-235B-A22B layout.
 */
#include "perf_fixtures.h"

/* P(a token's top_k of E experts all miss a set of x), uniform routing. */
static double miss(double E, double k, double x)
{
  double q = 1.0;
  for (double i = 0.0; i < k; i += 1.0)
    q *= (E - x - i) / (E - i);
  return q;
}

/* EP 8 inside one DGX H100, 128 experts, top 8 (Qwen3): each member sends one copy of a
 * token to each peer it is routed to, p_r = 1 - C(112, 8)/C(128, 8) of them, over NVLink;
 * the all-to-all sends top_k/8 = 1 copy per peer. */
Test(dispatcher, inside_a_node_one_copy_per_destination_gpu)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 8, 450e9, 50e9);
  const double token_bytes = 32e6; /* 8192 tokens x 2048 hidden x 2 bytes */
  const p3cfg__mesh_group g = {0, 1, 8};
  const double t = p3cfg__flex_dispatch_s(&c, NULL, g, token_bytes, 128.0, 8.0);
  const double p_r = 1.0 - miss(128.0, 8.0, 16.0);
  const double expect = 3e-6 + token_bytes * p_r * 7.0 / (450e9 * P3CFG_NVLINK_EFFICIENCY);
  cr_assert_float_eq(t, expect, expect * 1e-12, "%.9g vs %.9g", t, expect);
  const double a2a = p3cfg__alltoall_s(&c, NULL, g, 8.0 * token_bytes);
  cr_assert_lt(t, 0.7 * a2a, "flex %.6f s vs all-to-all %.6f s", t, a2a);
}

/* EP 32 over four DGX H100 (the ModelZoo's cross-node plan): each member sends a token
 * once to each other node it is routed to, 1 - C(96, 8)/C(128, 8) = 0.91 of the time,
 * over its NIC: 2.7 copies against the all-to-all's 8 x 24/32 = 6, and forwards the
 * copies it receives to its node's GPUs over NVLink, which stays the shorter leg. */
Test(dispatcher, across_nodes_one_copy_per_destination_node)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 4, 450e9, 50e9);
  const double token_bytes = 16e6;
  const p3cfg__mesh_group g = {0, 1, 32};
  const double t = p3cfg__flex_dispatch_s(&c, NULL, g, token_bytes, 128.0, 8.0);
  const double far = 3.0 * (1.0 - miss(128.0, 8.0, 32.0));
  const double expect = 6e-6 + token_bytes * far / (50e9 * P3CFG_NETWORK_EFFICIENCY);
  cr_assert_float_eq(t, expect, expect * 1e-12, "%.9g vs %.9g", t, expect);
  const double a2a = p3cfg__alltoall_s(&c, NULL, g, 8.0 * token_bytes);
  const double expect_a2a = 6e-6 + token_bytes * 6.0 / (50e9 * P3CFG_NETWORK_EFFICIENCY);
  cr_assert_float_eq(a2a, expect_a2a, expect_a2a * 1e-12, "%.9g vs %.9g", a2a, expect_a2a);
  cr_assert_gt(a2a / t, 2.1, "ratio %.4f", a2a / t);
}

/* With top 1 a token goes to one GPU, so there is nothing to merge: across nodes the
 * NIC carries what the all-to-all's does; inside a node the two are the same. */
Test(dispatcher, top_one_sends_what_the_all_to_all_sends)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 4, 450e9, 50e9);
  const double token_bytes = 64e6;
  const p3cfg__mesh_group inside = {0, 1, 8}, across = {0, 8, 4};
  const double f_in = p3cfg__flex_dispatch_s(&c, NULL, inside, token_bytes, 64.0, 1.0);
  const double a_in = p3cfg__alltoall_s(&c, NULL, inside, token_bytes);
  cr_assert_float_eq(f_in, a_in, a_in * 1e-12, "%.9g vs %.9g", f_in, a_in);
  const double f_x = p3cfg__flex_dispatch_s(&c, NULL, across, token_bytes, 64.0, 1.0);
  const double a_x = p3cfg__alltoall_s(&c, NULL, across, token_bytes);
  cr_assert_float_eq(f_x, a_x, a_x * 1e-12, "%.9g vs %.9g", f_x, a_x);
}

/* The default map's shortcut prices every group as the member-by-member walk does, on a
 * plain network, under an oversubscribed spine, and for groups that split a node. */
Test(dispatcher, shortcut_matches_the_full_walk)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 16, 450e9, 50e9);
  uint32_t ident[128];
  for (uint32_t g = 0; g < 128; g++)
    ident[g] = g;
  const p3cfg__mesh_group groups[] = {{0, 1, 8}, {4, 1, 16}, {3, 8, 16}, {0, 2, 64}, {1, 4, 32}};
  for (int spine = 0; spine < 2; spine++) {
    c.leaf_gpus = spine ? 32 : 0, c.spine_oversubscription = spine ? 2.0 : 0.0;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
      const double fast = p3cfg__flex_dispatch_s(&c, NULL, groups[i], 8e6, 256.0, 8.0);
      const double full = p3cfg__flex_dispatch_s(&c, ident, groups[i], 8e6, 256.0, 8.0);
      cr_assert_float_eq(fast, full, full * 1e-12, "group %zu spine %d: %.9g vs %.9g", i,
                         spine, fast, full);
    }
  }
}

/* A plan: Qwen3-235B-A22B with ep 32 over four nodes (Megatron-Core's ModelZoo plan, tp 2
 * pp 1 for brevity): DeepEP's exposed expert-parallel time is well under the all-to-all
 * one's, every other part the same; with etp > 1 the flex dispatcher is timed as the
 * all-to-all one. */
Test(dispatcher, deepep_plan_spends_less_on_expert_parallel_comm)
{
  p3cfg_model m = fx_gpt(94, 4096, 64, 151936, 4096, 64);
  m.kv_heads = 4, m.head_dim = 128, m.ffn_hidden = 12288, m.flash_attention = true;
  m.activation = P3CFG_ACT_SWIGLU, m.norm = P3CFG_NORM_RMSNORM, m.dropout = false;
  m.bias = false, m.tied_embeddings = false;
  m.moe.experts = 128, m.moe.top_k = 8, m.moe.expert_ffn_hidden = 1536;
  p3cfg_cluster c = fx_cluster("h100-sxm", 4, 450e9, 50e9);
  p3cfg_plan pl;
  p3cfg_plan_init(&pl);
  pl.tp = 2, pl.pp = 1, pl.dp = 16, pl.ep = 32, pl.etp = 1, pl.micro_batch = 1;
  pl.sequence_parallel = 1, pl.zero_stage = 1, pl.global_batch = 64;
  pl.n_stage_layers = 1, pl.stage_layers[0] = 94;
  const p3cfg_time a2a = fx_run(&m, &c, &pl, NULL);
  m.moe.dispatcher = P3CFG_DISPATCH_DEEPEP;
  const p3cfg_time flex = fx_run(&m, &c, &pl, NULL);
  cr_assert_lt(flex.ep_comm_s, 0.5 * a2a.ep_comm_s, "%.4f vs %.4f", flex.ep_comm_s,
               a2a.ep_comm_s);
  cr_assert_float_eq(flex.compute_s, a2a.compute_s, a2a.compute_s * 1e-12);
  cr_assert_lt(flex.iteration_s, a2a.iteration_s);
  pl.etp = 2, pl.ep = 16; /* etp x ep = 32 */
  const p3cfg_time flex_etp = fx_run(&m, &c, &pl, NULL);
  m.moe.dispatcher = P3CFG_DISPATCH_ALLTOALL;
  const p3cfg_time a2a_etp = fx_run(&m, &c, &pl, NULL);
  cr_assert_float_eq(flex_etp.ep_comm_s, a2a_etp.ep_comm_s, a2a_etp.ep_comm_s * 1e-12);
}

/* Megatron-LM times DeepEP and HybridEP through its flex dispatcher only: a torchtitan or
 * DeepSpeed expert-parallel plan on a flex-dispatcher model is refused, naming the way out. */
Test(dispatcher, flex_dispatcher_is_megatron_only)
{
  p3cfg_model m = fx_gpt(8, 2048, 16, 32000, 4096, 64);
  m.activation = P3CFG_ACT_SWIGLU, m.flash_attention = true, m.dropout = false;
  m.moe.experts = 64, m.moe.top_k = 4, m.moe.expert_ffn_hidden = 1024;
  m.moe.dispatcher = P3CFG_DISPATCH_HYBRIDEP;
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan pl;
  p3cfg_plan_init_framework(&pl, P3CFG_FRAMEWORK_TORCHTITAN);
  pl.tp = 1, pl.pp = 1, pl.dp = 8, pl.ep = 8, pl.etp = 1, pl.micro_batch = 1;
  pl.zero_stage = 3, pl.global_batch = 64;
  pl.n_stage_layers = 1, pl.stage_layers[0] = 8;
  cr_assert_neq(p3cfg__plan_check(&pl, &m, &c), 0);
  cr_assert(strstr(p3cfg_error_last()->message, "moe.dispatcher hybridep"), "%s",
            p3cfg_error_last()->message);
  m.moe.dispatcher = P3CFG_DISPATCH_ALLTOALL;
  cr_assert_eq(p3cfg__plan_check(&pl, &m, &c), 0, "%s", p3cfg_error_last()->message);
}
