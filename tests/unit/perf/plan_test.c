/*
 * plan_test.c — one optimizer step of a whole plan: the breakdown adds up, MFU and
 * tokens/s follow their definitions, a slow link in the TP group or in the DP ring costs
 * exactly its collectives' extra time, placement and overlap act where they should, the
 * dedup of equivalent groups equals evaluating them all, and nothing is allocated.
 */
#include "perf_fixtures.h"

#include "model_params.h"

static void assert_adds_up(const p3cfg_time *t)
{
  fx_assert_close(t->compute_s + t->tp_comm_s + t->pp_comm_s + t->dp_comm_s + t->bubble_s +
                      t->optimizer_s,
                  t->iteration_s, 1e-12);
  cr_assert_geq(t->bubble_s, -1e-12);
  cr_assert_geq(t->pp_comm_s, 0.0);
  cr_assert_geq(t->dp_comm_s, 0.0);
}

Test(perf, breakdown_adds_up_to_the_iteration)
{
  p3cfg_model m = fx_gpt(96, 12288, 96, 51200, 2048, 1536);
  const p3cfg_cluster c = fx_cluster("a100-80gb", 128, 300e9, 25e9);
  static const struct {
    uint32_t tp, pp, mbs, v, zero, overlap;
    p3cfg_recompute rc;
    int sp;
  } cases[] = {
      {8, 8, 1, 1, 1, 0, P3CFG_RECOMPUTE_SELECTIVE, 1},
      {8, 8, 1, 3, 1, 7, P3CFG_RECOMPUTE_SELECTIVE, 1},
      {8, 16, 2, 2, 0, 1, P3CFG_RECOMPUTE_FULL, 0},
      {4, 32, 1, 1, 1, 3, P3CFG_RECOMPUTE_NONE, 1},
      {8, 1, 1, 1, 3, 3, P3CFG_RECOMPUTE_FULL, 1},
      {8, 1, 2, 1, 2, 0, P3CFG_RECOMPUTE_FULL, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const uint32_t dp = 1024 / (cases[i].tp * cases[i].pp);
    const p3cfg_plan pl = fx_plan(&m, &c, cases[i].tp, cases[i].pp, dp, cases[i].mbs, cases[i].v,
                                  cases[i].rc, cases[i].sp, cases[i].zero, cases[i].overlap);
    const p3cfg_time t = fx_run(&m, &c, &pl, NULL);
    assert_adds_up(&t);
    if (cases[i].zero <= 1)
      cr_assert_gt(t.compute_s, 0.5 * t.iteration_s, "case %zu: compute dominates", i);
    p3cfg__flops f;
    p3cfg__flops_of(&f, &m, &pl);
    fx_assert_close(t.mfu, f.model / (1024.0 * 312e12 * t.iteration_s), 1e-12);
    fx_assert_close(t.tokens_per_s, 1536.0 * 2048 / t.iteration_s, 1e-12);
  }
}

Test(perf, a_slow_link_in_the_tp_group_costs_its_all_reduces)
{
  const p3cfg_model m = fx_gpt(48, 6144, 64, 51200, 2048, 4);
  p3cfg_cluster c = fx_cluster("a100-80gb", 2, 300e9, 25e9);
  fx_measure_links(&c);
  const p3cfg_plan pl = fx_plan(&m, &c, 8, 1, 1, 4, 1, P3CFG_RECOMPUTE_NONE, 0, 0, 0);
  double f0, b0, f1, b1;
  p3cfg__perf_layer_s(&f0, &b0, &m, &c, &pl, NULL);
  const p3cfg_time t0 = fx_run(&m, &c, &pl, NULL);
  fx_set_link(&c, 8, 9, 1e9); /* another node: no effect */
  p3cfg__perf_layer_s(&f1, &b1, &m, &c, &pl, NULL);
  cr_assert_eq(f1, f0);
  fx_set_link(&c, 2, 3, 50e9); /* inside the TP group */
  p3cfg__perf_layer_s(&f1, &b1, &m, &c, &pl, NULL);
  const p3cfg_time t1 = fx_run(&m, &c, &pl, NULL);
  /* Two all-reduces of b s h 16-bit elements each way, now paced by 50 GB/s. */
  const double n = 4.0 * 2048 * 6144 * 2;
  const double extra = 2.0 * 7.0 / 8.0 * n * (1.0 / 50e9 - 1.0 / (300e9 * P3CFG_NVLINK_EFFICIENCY));
  fx_assert_close(f1 - f0, 2.0 * extra, 1e-9);
  fx_assert_close(b1 - b0, 2.0 * extra, 1e-9);
  /* The step: 48 layers, the embedding's and the output layer's all-reduce, and the
   * loss's three small all-reduces of one fp32 per token. */
  const double loss = 3.0 * 2.0 * 7.0 / 8.0 * (4.0 * 8192) *
                      (1.0 / 50e9 - 1.0 / (300e9 * P3CFG_NVLINK_EFFICIENCY));
  fx_assert_close(t1.tp_comm_s - t0.tp_comm_s, (48 * 4 + 2) * extra + loss, 1e-9);
  fx_assert_close(t1.compute_s, t0.compute_s, 1e-12);
  fx_free_links(&c);
}

Test(perf, a_slow_link_in_the_dp_ring_costs_its_gradient_all_reduce)
{
  const p3cfg_model m = fx_gpt(24, 2048, 16, 51200, 2048, 16);
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  fx_measure_links(&c);
  const p3cfg_plan pl = fx_plan(&m, &c, 1, 1, 2, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 0, 0);
  const uint32_t ranks[2] = {0, 8}; /* one GPU on each node */
  const p3cfg_time t0 = fx_run(&m, &c, &pl, ranks);
  fx_set_link(&c, 8, 0, 5e9); /* one direction of the two-GPU ring */
  const p3cfg_time t1 = fx_run(&m, &c, &pl, ranks);
  p3cfg__params par;
  p3cfg__model_params(&par, &m, 1);
  /* Plain DP all-reduces the fp32 gradients: 2 (k-1)/k n / bw with k = 2. */
  const double bytes = 4.0 * (double)par.total;
  fx_assert_close(t1.dp_comm_s - t0.dp_comm_s,
                  bytes * (1.0 / 5e9 - 1.0 / (50e9 * P3CFG_NETWORK_EFFICIENCY)), 1e-9);
  fx_assert_close(t1.iteration_s - t0.iteration_s, t1.dp_comm_s - t0.dp_comm_s, 1e-9);
  fx_free_links(&c);
}

Test(perf, a_slow_link_between_stages_lengthens_the_step)
{
  const p3cfg_model m = fx_gpt(32, 4096, 32, 51200, 2048, 64);
  p3cfg_cluster c = fx_cluster("a100-80gb", 2, 300e9, 25e9);
  fx_measure_links(&c);
  const p3cfg_plan pl = fx_plan(&m, &c, 8, 2, 1, 1, 1, P3CFG_RECOMPUTE_NONE, 1, 0, 0);
  const p3cfg_time t0 = fx_run(&m, &c, &pl, NULL);
  for (uint32_t x = 0; x < 8; x++) /* stage 0 rank x -> stage 1 rank x, one pair slowed */
    if (x == 5)
      fx_set_link(&c, x, 8 + x, 0.2e9), fx_set_link(&c, 8 + x, x, 0.2e9);
  const p3cfg_time t1 = fx_run(&m, &c, &pl, NULL);
  cr_assert_gt(t1.iteration_s, t0.iteration_s);
  cr_assert_gt(t1.pp_comm_s, t0.pp_comm_s);
  /* Bytes of one send: b s h / t with sequence parallelism. */
  const double send = 2048.0 * 4096 * 2 / 8;
  const double dsend = send / 0.2e9 - send / (25e9 * P3CFG_NETWORK_EFFICIENCY);
  /* At least the fill and drain sends, at most two per micro-batch. */
  cr_assert_geq(t1.iteration_s - t0.iteration_s, 2.0 * dsend * 0.999);
  cr_assert_leq(t1.iteration_s - t0.iteration_s, 2.0 * 64 * dsend * 1.001);
  fx_free_links(&c);
}

Test(perf, tp_groups_split_across_nodes_are_slower)
{
  const p3cfg_model m = fx_gpt(48, 6144, 64, 51200, 2048, 64);
  const p3cfg_cluster c = fx_cluster("a100-80gb", 2, 300e9, 25e9);
  const p3cfg_plan pl = fx_plan(&m, &c, 8, 2, 1, 1, 1, P3CFG_RECOMPUTE_NONE, 1, 0, 0);
  uint32_t spread[16];
  for (uint32_t r = 0; r < 16; r++) /* TP rank r%8 of stage r/8 on node (r%2) */
    spread[r] = (r % 2) * 8 + (r / 8) * 4 + (r % 8) / 2;
  const p3cfg_time good = fx_run(&m, &c, &pl, NULL);
  const p3cfg_time bad = fx_run(&m, &c, &pl, spread);
  cr_assert_gt(bad.tp_comm_s, 3.0 * good.tp_comm_s);
  cr_assert_gt(bad.iteration_s, good.iteration_s);
}

Test(perf, equivalent_groups_are_evaluated_once_without_changing_the_result)
{
  const p3cfg_model m = fx_gpt(96, 12288, 96, 51200, 2048, 2048);
  uint32_t *identity = malloc(1024 * sizeof(uint32_t));
  cr_assert(identity);
  for (uint32_t r = 0; r < 1024; r++)
    identity[r] = r;
  for (uint32_t gpn = 2; gpn <= 8; gpn *= 2) {
    p3cfg_cluster c = fx_cluster("a100-80gb", 1024 / gpn, 300e9, 25e9);
    c.gpus_per_node = gpn;
    for (uint32_t tp = 1; tp <= 8; tp *= 2)
      for (uint32_t pp = 1; pp <= 16; pp *= 4)
        for (uint32_t zero = 0; zero <= 1; zero++) {
          const p3cfg_plan pl = fx_plan(&m, &c, tp, pp, 1024 / (tp * pp), 1, pp > 1 ? 2 : 1,
                                        P3CFG_RECOMPUTE_SELECTIVE, tp > 1, zero, 0);
          const p3cfg_time a = fx_run(&m, &c, &pl, NULL);
          const p3cfg_time b = fx_run(&m, &c, &pl, identity); /* evaluates every group */
          const double *x = &a.iteration_s, *y = &b.iteration_s;
          for (int k = 0; k < 9; k++)
            fx_assert_close(x[k], y[k], 1e-12);
        }
  }
  free(identity);
}

Test(perf, overlap_hides_what_it_can_and_never_everything)
{
  const p3cfg_model m = fx_gpt(96, 12288, 96, 51200, 2048, 256);
  const p3cfg_cluster c = fx_cluster("a100-80gb", 32, 300e9, 25e9);
  const p3cfg_plan off = fx_plan(&m, &c, 8, 8, 4, 1, 1, P3CFG_RECOMPUTE_SELECTIVE, 1, 1, 0);
  const p3cfg_plan on = fx_plan(&m, &c, 8, 8, 4, 1, 1, P3CFG_RECOMPUTE_SELECTIVE, 1, 1,
                                P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER |
                                    P3CFG_OVERLAP_TP_COMM);
  const p3cfg_time a = fx_run(&m, &c, &off, NULL), b = fx_run(&m, &c, &on, NULL);
  cr_assert_lt(b.dp_comm_s, a.dp_comm_s);
  cr_assert_gt(b.dp_comm_s, 0.0, "the last bucket stays exposed");
  cr_assert_lt(b.tp_comm_s, a.tp_comm_s);
  cr_assert_geq(b.tp_comm_s, a.tp_comm_s / 8.0 * 0.999, "at least one chunk in t");
  cr_assert_lt(b.iteration_s, a.iteration_s);
  assert_adds_up(&b);
}

Test(perf, zero3_gathers_every_micro_batch)
{
  const p3cfg_model m = fx_gpt(32, 4096, 32, 51200, 2048, 256);
  const p3cfg_cluster c = fx_cluster("h100-sxm", 4, 450e9, 50e9);
  const p3cfg_plan z1 = fx_plan(&m, &c, 1, 1, 32, 1, 1, P3CFG_RECOMPUTE_FULL, 0, 1, 0);
  const p3cfg_plan z3 = fx_plan(&m, &c, 1, 1, 32, 1, 1, P3CFG_RECOMPUTE_FULL, 0, 3, 0);
  const p3cfg_plan z3b = fx_plan(&m, &c, 1, 1, 32, 2, 1, P3CFG_RECOMPUTE_FULL, 0, 3, 0);
  const p3cfg_time a = fx_run(&m, &c, &z1, NULL), b = fx_run(&m, &c, &z3, NULL);
  const p3cfg_time d = fx_run(&m, &c, &z3b, NULL);
  cr_assert_gt(b.dp_comm_s, 2.0 * a.dp_comm_s);
  /* Half the micro-batches, half the gathers. */
  fx_assert_close(d.dp_comm_s, b.dp_comm_s / 2.0, 0.02);
}

Test(perf, a_too_small_workspace_is_refused)
{
  const p3cfg_model m = fx_gpt(24, 2048, 16, 51200, 2048, 64);
  const p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  const p3cfg_plan pl = fx_plan(&m, &c, 1, 4, 2, 1, 2, P3CFG_RECOMPUTE_NONE, 0, 1, 0);
  const size_t n = p3cfg__perf_workspace_bytes(&pl);
  void *ws = malloc(n);
  cr_assert(ws);
  p3cfg_time t;
  cr_assert_eq(p3cfg__perf_plan(&t, &m, &c, &pl, NULL, ws, n - 1), P3CFG_EINVALID);
  cr_assert_eq(p3cfg__perf_plan(&t, &m, &c, &pl, NULL, ws, n), P3CFG_OK);
  free(ws);
}

Test(perf, scoring_never_allocates)
{
  const p3cfg_model m = fx_gpt(96, 12288, 96, 51200, 2048, 1536);
  const p3cfg_cluster c = fx_cluster("a100-80gb", 128, 300e9, 25e9);
  const p3cfg_plan pl = fx_plan(&m, &c, 8, 8, 16, 1, 3, P3CFG_RECOMPUTE_SELECTIVE, 1, 1, 7);
  const size_t n = p3cfg__perf_workspace_bytes(&pl);
  void *ws = malloc(n);
  cr_assert(ws);
  p3cfg_time t;
  p3cfg_test_fail_alloc_after(1); /* any allocation through the library would fail */
  const int rc = p3cfg__perf_plan(&t, &m, &c, &pl, NULL, ws, n);
  p3cfg_test_fail_alloc_after(0);
  cr_assert_eq(rc, P3CFG_OK);
  free(ws);
}
