/*
 * moe_time_test.c — the MoE and context-parallel terms of the time model: expert compute
 * per GPU fixed by top_k and the sequence (not by how EP and ETP fold it), the all-to-all
 * on the links it really crosses, ring attention splitting the attention core, and the
 * MoE plan's time parts adding up.
 *
 * Model: Qwen3-30B-A3B (Qwen/Qwen3-30B-A3B config.json: 48 layers, hidden 2048, 32 heads of
 * 128, 4 KV heads, 128 experts, top 8, moe_intermediate_size 768, vocab 151936, RMSNorm,
 * SwiGLU, untied), as Megatron-Bridge benchmarks it (seq 4096).
 */
#include "perf_fixtures.h"

static p3cfg_model qwen3_30b(void)
{
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.name = (char *)"qwen3-30b-a3b";
  m.layers = 48, m.hidden = 2048, m.heads = 32, m.kv_heads = 4, m.head_dim = 128;
  m.ffn_hidden = 6144, m.vocab = 151936, m.seq_len = 4096, m.global_batch = 512;
  m.activation = P3CFG_ACT_SWIGLU, m.tied_embeddings = false;
  m.position_embedding = P3CFG_POS_ROPE, m.norm = P3CFG_NORM_RMSNORM;
  m.flash_attention = true, m.precision = P3CFG_PREC_BF16, m.optimizer = P3CFG_OPT_ADAM;
  m.bias = false, m.dropout = false;
  m.moe.experts = 128, m.moe.top_k = 8, m.moe.expert_ffn_hidden = 768;
  return m;
}

static p3cfg_plan moe_plan(uint32_t tp, uint32_t ep, uint32_t etp, uint32_t dp, uint32_t mbs)
{
  p3cfg_plan pl;
  p3cfg_plan_init(&pl);
  pl.tp = tp, pl.pp = 1, pl.dp = dp, pl.ep = ep, pl.etp = etp, pl.micro_batch = mbs;
  pl.sequence_parallel = tp > 1, pl.zero_stage = 1, pl.global_batch = 512;
  pl.n_stage_layers = 1, pl.stage_layers[0] = 48;
  return pl;
}

/* The grouped expert GEMMs against Transformer Engine's own measurement of them on H100:
 * NVIDIA/TransformerEngine pull request 2045 (merged, TE 2.8), "Benchmark the performance
 * of general_grouped_gemm with TE 2.7 and CUDA 12.9", the multi-stream cuBLAS path that
 * GroupedLinear runs by default, bf16, shape (g, m, n, k) = g GEMMs [m x k][k x n]:
 * (8, 4096, 768, 2048) 627.903 TFLOP/s and (16, 2048, 768, 2048) 553.945 TFLOP/s. A
 * single-GPU kernel benchmark, so the kernel clock (training_clock_ratio 1). Nothing of
 * the model was fitted to these: the H100's rate and knee come from our own 388 dense
 * GEMMs (tests/fixtures/gpu/h100-sxm.csv). The same pull request gives TE 2.2, on a
 * software stack it does not state, at 508.77 and 398.81 (docs/time-model-moe.md). */
Test(moe_time, grouped_expert_gemms_match_transformer_engines_measurement)
{
  const p3cfg_model m = qwen3_30b();
  p3cfg_gpu gpu = *p3cfg__gpu_preset("h100-sxm");
  gpu.training_clock_ratio = 1.0;
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, &gpu);
  const struct {
    double g, m, n, k, tflops;
  } te27[] = {{8, 4096, 768, 2048, 627.903}, {16, 2048, 768, 2048, 553.945}};
  for (size_t i = 0; i < sizeof te27 / sizeof te27[0]; i++) {
    const double flops = te27[i].g * 2.0 * te27[i].m * te27[i].n * te27[i].k;
    const double s = p3cfg__grouped_gemm_s(&r, te27[i].g, te27[i].m, te27[i].n, te27[i].k);
    const double tflops = flops / s / 1e12;
    cr_expect(fabs(tflops / te27[i].tflops - 1.0) < 0.03,
              "(%g, %g, %g, %g): %.1f TFLOP/s predicted, %.1f measured", te27[i].g, te27[i].m,
              te27[i].n, te27[i].k, tflops, te27[i].tflops);
  }
}

/* Expert FLOPs on one GPU: 2 x 3 matrices x h x f_e per routed token copy, and each GPU
 * runs 1/(tp cp) of the micro-batch's b s top_k copies whatever ep and etp are (balanced
 * routing). Recover the FLOPs from a GPU whose GEMMs run at the large-GEMM rate with no
 * knee and no HBM limit. */
Test(moe_time, expert_gemm_flops_follow_top_k_not_the_folding)
{
  const p3cfg_model m = qwen3_30b();
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, p3cfg__gpu_preset("h100-sxm"));
  r.half_flops = 0.0, r.s_per_byte = 0.0, r.kernel_gap_s = 0.0;
  const uint32_t folds[][3] = {{1, 8, 1}, {2, 4, 1}, {2, 8, 2}, {4, 2, 4}};
  for (size_t i = 0; i < sizeof folds / sizeof folds[0]; i++) {
    const p3cfg_plan pl = moe_plan(folds[i][0], folds[i][1], folds[i][2], 8, 2);
    p3cfg__dims d;
    p3cfg__dims_of(&d, &m, &pl);
    p3cfg__moe_cost X;
    p3cfg__moe_cost_of(&X, &d, &r);
    const double tp = folds[i][0], copies = 2.0 * 4096.0 * 8.0 / tp;
    const double flops = 2.0 * 3.0 * 2048.0 * 768.0 * copies;
    cr_assert_float_eq(X.gemm_fwd_s / r.s_per_flop, flops, flops * 1e-9,
                       "tp %u ep %u etp %u: %.6g FLOPs, expected %.6g", folds[i][0],
                       folds[i][1], folds[i][2], X.gemm_fwd_s / r.s_per_flop, flops);
  }
}

/* A capacity factor c, exported with --moe-pad-expert-input-to-capacity: every expert takes
 * capacity = ceil(k T_l / E x c) rows from each rank (Megatron-Core's get_capacity), so the
 * expert GEMMs and the dispatched bytes scale with it against dropless routing: fewer rows
 * when c < 1 drops tokens, more when c > 1 pads. Here T_l = 2 x 4096, k 8, E 128: 512 rows
 * per expert dropless, 256 at 0.5, 640 at 1.25, ceil(563.2) = 564 at 1.1, and never more
 * than T_l (at 32: 8192, E/k = 16 times dropless). */
Test(moe_time, expert_time_scales_with_the_capacity_factor)
{
  p3cfg_model m = qwen3_30b();
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, p3cfg__gpu_preset("h100-sxm"));
  r.half_flops = 0.0, r.s_per_byte = 0.0, r.kernel_gap_s = 0.0;
  const p3cfg_plan pl = moe_plan(2, 4, 2, 8, 4); /* T_l = 4 x 4096 / 2, etp 2 */
  p3cfg__dims d;
  p3cfg__dims_of(&d, &m, &pl);
  p3cfg__moe_cost dropless;
  p3cfg__moe_cost_of(&dropless, &d, &r);
  const double cf[] = {0.5, 1.25, 1.1, 32.0}, rows[] = {256.0, 640.0, 564.0, 8192.0};
  for (size_t i = 0; i < sizeof cf / sizeof cf[0]; i++) {
    m.moe.capacity_factor = cf[i];
    p3cfg__dims_of(&d, &m, &pl);
    p3cfg__moe_cost X;
    p3cfg__moe_cost_of(&X, &d, &r);
    const double ratio = rows[i] / 512.0;
    fx_assert_close(X.gemm_fwd_s, ratio * dropless.gemm_fwd_s, 1e-12);
    fx_assert_close(X.a2a_bytes, ratio * dropless.a2a_bytes, 1e-12);
    fx_assert_close(X.etp_bytes, ratio * dropless.etp_bytes, 1e-12);
    if (ratio > 1.0)
      cr_assert_gt(X.fwd_s, dropless.fwd_s, "c %g: padded rows cost time", cf[i]);
    else
      cr_assert_lt(X.fwd_s, dropless.fwd_s, "c %g: dropped rows save time", cf[i]);
  }
}

/* The whole step of a plan: dropping at 0.5 is faster than dropless, padding at 1.25
 * slower, in compute and in the expert-parallel all-to-alls. */
Test(moe_time, capacity_factor_moves_the_step_and_its_all_to_alls)
{
  p3cfg_model m = qwen3_30b();
  const p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  const p3cfg_plan pl = moe_plan(1, 16, 1, 16, 1);
  const double cf[] = {0.5, 0.0, 1.25};
  p3cfg_time t[3];
  for (int i = 0; i < 3; i++) {
    m.moe.capacity_factor = cf[i];
    t[i] = fx_run(&m, &c, &pl, NULL);
  }
  for (int i = 0; i < 2; i++) {
    cr_assert_lt(t[i].iteration_s, t[i + 1].iteration_s, "c %g vs %g", cf[i], cf[i + 1]);
    cr_assert_lt(t[i].compute_s, t[i + 1].compute_s);
    cr_assert_lt(t[i].ep_comm_s, t[i + 1].ep_comm_s);
  }
}

/* The same EP 8 group inside one DGX H100 and spread one GPU per node: the all-to-all
 * sends 7/8 of the routed tokens over NVLink (450 GB/s) or over the NICs (50 GB/s). */
Test(moe_time, all_to_all_inside_a_node_is_faster_than_across_nodes)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 8, 450e9, 50e9);
  const double bytes = 256e6;
  const p3cfg__mesh_group inside = {0, 1, 8}, across = {0, 8, 8};
  const double t_in = p3cfg__alltoall_s(&c, NULL, inside, bytes);
  const double t_out = p3cfg__alltoall_s(&c, NULL, across, bytes);
  const double expect_in = 3e-6 + bytes * 7.0 / 8.0 / (450e9 * P3CFG_NVLINK_EFFICIENCY);
  const double expect_out = 6e-6 + bytes * 7.0 / 8.0 / (50e9 * P3CFG_NETWORK_EFFICIENCY);
  cr_assert_float_eq(t_in, expect_in, expect_in * 1e-12);
  cr_assert_float_eq(t_out, expect_out, expect_out * 1e-12);
  cr_assert_gt(t_out, 7.0 * t_in); /* 360 vs 46 GB/s achieved */
  /* Half on each of two nodes: NVLink and NIC shares in parallel, the NIC's 4/8 longer. */
  const p3cfg__mesh_group two = {4, 1, 8};
  const double t_two = p3cfg__alltoall_s(&c, NULL, two, bytes);
  const double expect_two = 6e-6 + bytes * 4.0 / 8.0 / (50e9 * P3CFG_NETWORK_EFFICIENCY);
  cr_assert_float_eq(t_two, expect_two, expect_two * 1e-12);
}

/* A slow measured link inside the EP group slows the all-to-all: the time model (and so
 * the placement, which scores with it) sees the link the tokens cross. */
Test(moe_time, all_to_all_sees_a_degraded_link)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  fx_measure_links(&c);
  const p3cfg__mesh_group g = {0, 1, 8};
  const double before = p3cfg__alltoall_s(&c, NULL, g, 128e6);
  fx_set_link(&c, 2, 5, 0.1 * fx_link(&c, 2, 5));
  const double after = p3cfg__alltoall_s(&c, NULL, g, 128e6);
  cr_assert_gt(after, 5.0 * before);
  fx_free_links(&c);
}

/* An MoE plan's time parts add up to the step, its expert-parallel part is the exposed
 * all-to-all, and EP across nodes costs more than EP inside a node. */
Test(moe_time, moe_plan_parts_add_up_and_ep_across_nodes_costs_more)
{
  const p3cfg_model m = qwen3_30b();
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  double ep_s[2];
  const uint32_t eps[2] = {8, 16};
  for (int i = 0; i < 2; i++) {
    p3cfg_plan pl = moe_plan(1, eps[i], 1, 16, 1);
    const p3cfg_time t = fx_run(&m, &c, &pl, NULL);
    const double sum = t.compute_s + t.tp_comm_s + t.ep_comm_s + t.cp_comm_s + t.host_s + t.pp_comm_s +
                       t.bubble_s + t.dp_comm_s + t.optimizer_s;
    cr_assert_float_eq(sum, t.iteration_s, t.iteration_s * 1e-12);
    cr_assert_gt(t.ep_comm_s, 0.0);
    ep_s[i] = t.ep_comm_s;
  }
  cr_assert_gt(ep_s[1], 2.0 * ep_s[0], "EP 16 over two nodes %.4f s vs EP 8 in one %.4f s",
               ep_s[1], ep_s[0]);
}

/* Ring attention: cp ranks each run 1/cp of the causal attention FLOPs (Megatron-Core's
 * load-balanced split), and the layer's K/V sends are counted. */
Test(moe_time, context_parallel_splits_the_attention_core)
{
  p3cfg_model m = fx_gpt(32, 4096, 32, 128256, 32768, 64);
  m.flash_attention = true, m.dropout = false;
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, p3cfg__gpu_preset("h100-sxm"));
  r.half_flops = 0.0, r.s_per_byte = 0.0, r.kernel_gap_s = 0.0;
  double attn[3];
  const uint32_t cps[3] = {1, 2, 8};
  for (int i = 0; i < 3; i++) {
    p3cfg_plan pl;
    p3cfg_plan_init(&pl);
    pl.tp = 1, pl.cp = cps[i], pl.dp = 1, pl.pp = 1, pl.global_batch = 64;
    p3cfg__dims d;
    p3cfg__dims_of(&d, &m, &pl);
    p3cfg__layer_cost L;
    p3cfg__layer_cost_of(&L, &d, &r);
    attn[i] = L.attn_step_fwd_s * (double)cps[i];
    cr_assert((cps[i] == 1) == (L.cp_kv_bytes == 0.0));
  }
  cr_assert_float_eq(attn[1], attn[0] / 2.0, attn[0] * 1e-12);
  cr_assert_float_eq(attn[2], attn[0] / 8.0, attn[0] * 1e-12);
}

/* The default map's shortcut (one lookup per domain run) prices every group as the
 * member-by-member walk does, on a plain network and under an oversubscribed spine. */
Test(moe_time, all_to_all_shortcut_matches_the_full_walk)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 16, 450e9, 50e9);
  uint32_t ident[128];
  for (uint32_t g = 0; g < 128; g++)
    ident[g] = g;
  const p3cfg__mesh_group groups[] = {{0, 1, 8}, {4, 1, 16}, {3, 8, 16}, {0, 2, 64}, {1, 4, 32}};
  for (int spine = 0; spine < 2; spine++) {
    c.leaf_gpus = spine ? 32 : 0, c.spine_oversubscription = spine ? 2.0 : 0.0;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
      const double fast = p3cfg__alltoall_s(&c, NULL, groups[i], 64e6);
      const double full = p3cfg__alltoall_s(&c, ident, groups[i], 64e6);
      cr_assert_float_eq(fast, full, full * 1e-12, "group %zu spine %d: %.9g vs %.9g", i, spine,
                         fast, full);
    }
  }
}

/* --overlap ep (Megatron-Core's EP all-to-all overlap): the all-to-alls hide under the
 * other micro-batch's compute of the layer, so exposed EP time falls, but never below
 * what exceeds that compute; Megatron's rules for it are enforced. */
Test(moe_time, ep_overlap_hides_the_all_to_alls_up_to_the_compute)
{
  const p3cfg_model m = qwen3_30b();
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  p3cfg_plan pl = moe_plan(1, 16, 1, 16, 1);
  const p3cfg_time off = fx_run(&m, &c, &pl, NULL);
  pl.overlap = P3CFG_OVERLAP_EP_COMM;
  cr_assert_eq(p3cfg__plan_check(&pl, &m, &c), 0, "%s", p3cfg_error_last()->message);
  const p3cfg_time on = fx_run(&m, &c, &pl, NULL);
  cr_assert_lt(on.ep_comm_s, 0.7 * off.ep_comm_s, "%.4f vs %.4f", on.ep_comm_s, off.ep_comm_s);
  cr_assert_gt(on.ep_comm_s, 0.0);
  cr_assert_lt(on.iteration_s, off.iteration_s);
  pl.recompute = P3CFG_RECOMPUTE_FULL;
  cr_assert_neq(p3cfg__plan_check(&pl, &m, &c), 0);
  cr_assert(strstr(p3cfg_error_last()->message, "full recompute"));
  pl.recompute = P3CFG_RECOMPUTE_NONE;
  pl.ep = 1;
  cr_assert_neq(p3cfg__plan_check(&pl, &m, &c), 0);
}

/* The overlap pairs a forward with a backward only in the 1F1B steady state: the warm-up
 * forwards and cool-down backwards (Megatron-LM's num_warmup_microbatches, here pp 2 vpp 2:
 * 2 (pp - rank - 1) + (vpp - 1) pp chunks) keep their all-to-alls in the open, so with few
 * micro-batches per step a smaller share of the expert-parallel time hides. */
Test(moe_time, ep_overlap_hides_less_with_few_micro_batches)
{
  const p3cfg_model m = qwen3_30b();
  p3cfg_cluster c = fx_cluster("h100-sxm", 4, 450e9, 50e9);
  double share[2];
  const uint64_t batches[2] = {32, 512}; /* 2 and 32 micro-batches per pipeline */
  for (int i = 0; i < 2; i++) {
    p3cfg_plan pl = moe_plan(1, 16, 1, 16, 1);
    pl.pp = 2, pl.virtual_stages = 2, pl.global_batch = batches[i];
    pl.n_stage_layers = 2, pl.stage_layers[0] = pl.stage_layers[1] = 24;
    const p3cfg_time off = fx_run(&m, &c, &pl, NULL);
    pl.overlap = P3CFG_OVERLAP_EP_COMM;
    cr_assert_eq(p3cfg__plan_check(&pl, &m, &c), 0, "%s", p3cfg_error_last()->message);
    const p3cfg_time on = fx_run(&m, &c, &pl, NULL);
    share[i] = on.ep_comm_s / off.ep_comm_s;
  }
  cr_assert_gt(share[0], share[1] + 0.2, "exposed share %.3f (2 micro-batches) vs %.3f (32)",
               share[0], share[1]);
}

/* In MXFP8 the experts quantize what they multiply at its own size: fc1's input is the
 * permuted rows (top_k copies of each token, never a norm's output), fc2's the
 * activation's, and backward their output gradients. With the GEMMs and the kernel gaps
 * taken out, what MXFP8 adds to the MoE block's forward over BF16 is exactly
 * quantize(rows x h) + quantize(rows x f_e): each element read in 16 bits and written as
 * two 1-byte copies with an E8M0 scale per 32, minus nothing (no norm writes them). */
Test(moe_time, mxfp8_experts_quantize_the_routed_rows)
{
  p3cfg_model m = qwen3_30b();
  const p3cfg_plan pl = moe_plan(1, 8, 1, 8, 2);
  p3cfg__rates r16, r8;
  p3cfg__rates_of(&r16, &m, p3cfg__gpu_preset("gb200"));
  m.precision = P3CFG_PREC_MXFP8;
  p3cfg__rates_of(&r8, &m, p3cfg__gpu_preset("gb200"));
  p3cfg__dims d;
  p3cfg__dims_of(&d, &m, &pl);
  p3cfg__moe_cost X16, X8;
  r16.kernel_gap_s = r8.kernel_gap_s = 0.0;
  p3cfg__moe_cost_of(&X16, &d, &r16);
  p3cfg__moe_cost_of(&X8, &d, &r8);
  const double rows = 2.0 * 4096.0 * 8.0; /* mbs 2, top 8, tp 1 */
  const double per_elem = 2.0 + 2.0 * (1.0 + 1.0 / 32.0);
  const double bytes = per_elem * rows * (2048.0 + 768.0);
  /* the router GEMM stays in 16 bits and runs at the same rate in both */
  const double added = (X8.fwd_s - X8.gemm_fwd_s) - (X16.fwd_s - X16.gemm_fwd_s);
  cr_assert_float_eq(added, bytes * r8.s_per_byte, bytes * r8.s_per_byte * 1e-9,
                     "MXFP8 adds %.6g s to the experts' forward, expected %.6g", added,
                     bytes * r8.s_per_byte);
  cr_assert_gt(X8.kernels_fwd, X16.kernels_fwd, "the casts launch kernels");
}
