/*
 * fabric_test.c — the fabric above the node (links.h, issue 14): GPUs of one NVLink
 * domain talk at the NVLink figure across trays (GB200 NVL72: 72 GPUs over 18 trays of
 * 4), traffic between leaf groups crosses an oversubscribed spine, rail-optimized leaves
 * relay cross-rail messages over NVLink (one more hop), measured links still win, and the
 * time model's shortcut for uniform networks (one group per class of the link period)
 * gives what evaluating every group gives.
 */
#include "perf_fixtures.h"

#define NV5 (900e9 * P3CFG_NVLINK_EFFICIENCY)
#define CX7 (50e9 * P3CFG_NETWORK_EFFICIENCY)

/* GB200 NVL72 racks: trays of 4 GPUs, 72 GPUs per NVLink domain. */
static p3cfg_cluster nvl72(uint32_t racks)
{
  p3cfg_cluster c = fx_cluster("gb200", 18 * racks, 900e9, 50e9);
  c.gpus_per_node = 4;
  c.nvlink_domain = 72;
  return c;
}

Test(perf, gpus_of_one_nvlink_domain_talk_at_nvlink_across_trays)
{
  const p3cfg_cluster c = nvl72(2);
  double bw, lat;
  p3cfg__link_achieved(&c, 0, 71, &bw, &lat); /* tray 0 to tray 17 of rack 0 */
  fx_assert_close(bw, NV5, 1e-12);
  cr_expect(lat == c.intra_latency_s);
  cr_expect(p3cfg__same_domain(&c, 0, 71) && !p3cfg__same_domain(&c, 71, 72));
  p3cfg__link_achieved(&c, 71, 72, &bw, &lat); /* rack 0 to rack 1: the NIC */
  fx_assert_close(bw, CX7, 1e-12);
  cr_expect(lat == c.inter_latency_s);
  /* Without a domain the same trays are separate nodes. */
  p3cfg_cluster trays = c;
  trays.nvlink_domain = 0;
  p3cfg__link_achieved(&trays, 0, 71, &bw, &lat);
  fx_assert_close(bw, CX7, 1e-12);
}

Test(perf, traffic_between_leaves_sees_the_spine_oversubscription)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 16, 450e9, 50e9);
  c.leaf_gpus = 32; /* 4 nodes per leaf group */
  c.spine_oversubscription = 2.0;
  double bw, lat;
  p3cfg__link(&c, 0, 31, &bw, &lat); /* node 0 to node 3: one leaf */
  cr_expect(bw == 50e9);
  p3cfg__link(&c, 0, 32, &bw, &lat); /* node 0 to node 4: across the spine */
  cr_expect(bw == 25e9);
  p3cfg__link(&c, 0, 7, &bw, &lat); /* inside the node: NVLink, no spine */
  cr_expect(bw == 450e9);
  cr_expect(lat == c.intra_latency_s);
  /* Rail-optimized leaves: GPU 0 of node 0 to GPU 1 of node 1 is relayed over NVLink to
   * the GPU on rail 1 first (NCCL's PXN): one more NVLink latency, the same NIC rate. */
  c.rail_optimized = true;
  p3cfg__link(&c, 0, 9, &bw, &lat);
  cr_expect(bw == 50e9);
  fx_assert_close(lat, c.inter_latency_s + c.intra_latency_s, 1e-12);
  p3cfg__link(&c, 0, 8, &bw, &lat); /* same rail */
  cr_expect(lat == c.inter_latency_s);
}

/* A TP group of 16 inside one NVL72 domain is one ring on NVLink; on DGX B200 nodes of
 * 8 the same group is hierarchical with its ring across the nodes on the NICs. */
Test(perf, a_tp_group_over_trays_of_one_domain_is_one_nvlink_ring)
{
  const p3cfg_cluster rack = nvl72(1);
  p3cfg__ring r;
  p3cfg__ring_of(&r, &rack, NULL, 0, 1, 16);
  cr_assert_eq(r.n, 1, "one ring: the domain is the unit");
  const double n = 1e9;
  fx_assert_close(p3cfg__allreduce_s(&r, n),
                  2.0 * 15.0 / 16.0 * n / NV5 + 2.0 * 15.0 * rack.intra_latency_s, 1e-12);
  const p3cfg_cluster dgx = fx_cluster("b200", 8, 900e9, 50e9);
  p3cfg__ring d;
  p3cfg__ring_of(&d, &dgx, NULL, 0, 1, 16);
  cr_assert(d.g == 8 && d.n == 2);
  const double hier = 2.0 * (7.0 / 8.0 * n / NV5 + 7.0 * dgx.intra_latency_s) +
                      2.0 * (1.0 / 2.0 * (n / 8.0) / CX7 + dgx.inter_latency_s);
  fx_assert_close(p3cfg__allreduce_s(&d, n), hier, 1e-12);
  cr_expect(p3cfg__allreduce_s(&d, n) > 1.8 * p3cfg__allreduce_s(&r, n),
            "across the NIC: %g s, inside the NVL72 domain: %g s", p3cfg__allreduce_s(&d, n),
            p3cfg__allreduce_s(&r, n));
  /* Two domains: the ring across them is on the NIC. */
  const p3cfg_cluster two = nvl72(2);
  p3cfg__ring_of(&r, &two, NULL, 0, 1, 144);
  cr_expect(r.g == 72 && r.n == 2);
  fx_assert_close(r.inter_Bps, CX7, 1e-12);
  fx_assert_close(r.intra_Bps, NV5, 1e-12);
}

/* Measured links take precedence: a domain does not override what was measured. */
Test(perf, measured_links_win_over_the_domain)
{
  p3cfg_cluster c = nvl72(1);
  c.nvlink_domain = 0;
  fx_measure_links(&c); /* trays measured as separate nodes: the NIC between them */
  c.nvlink_domain = 72;
  double bw, lat;
  p3cfg__link_achieved(&c, 0, 71, &bw, &lat);
  fx_assert_close(bw, CX7, 1e-12);
  fx_free_links(&c);
}

/* On a uniform network the time model costs one group per class of the link period
 * (perf_plan.c's distinct()); an explicit identity placement costs every group. They
 * must agree on a domain cluster and under a spine with rails. */
static void expect_shortcut_exact(const p3cfg_cluster *c, uint32_t tp, uint32_t pp, uint32_t dp)
{
  const p3cfg_model m = fx_gpt(24, 4096, 32, 51200, 2048, 1152);
  const p3cfg_plan pl = fx_plan(&m, c, tp, pp, dp, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 1, 0);
  const uint32_t ranks = tp * pp * dp;
  uint32_t *ident = malloc(ranks * sizeof *ident);
  cr_assert(ident);
  for (uint32_t r = 0; r < ranks; r++)
    ident[r] = r;
  const p3cfg_time a = fx_run(&m, c, &pl, NULL), b = fx_run(&m, c, &pl, ident);
  free(ident);
  fx_assert_close(a.iteration_s, b.iteration_s, 1e-12);
  fx_assert_close(a.tp_comm_s, b.tp_comm_s, 1e-12);
  fx_assert_close(a.dp_comm_s, b.dp_comm_s, 1e-12);
  fx_assert_close(a.pp_comm_s, b.pp_comm_s, 1e-12);
}

Test(perf, the_uniform_shortcut_holds_on_domains_and_spines)
{
  const p3cfg_cluster rack = nvl72(2); /* 144 GPUs, domains of 72 */
  expect_shortcut_exact(&rack, 8, 2, 9);
  expect_shortcut_exact(&rack, 16, 1, 9); /* TP groups crossing domain 0 -> 1 */
  p3cfg_cluster spine = fx_cluster("h100-sxm", 16, 450e9, 50e9);
  spine.leaf_gpus = 32, spine.spine_oversubscription = 2.0, spine.rail_optimized = true;
  expect_shortcut_exact(&spine, 4, 2, 16);
  expect_shortcut_exact(&spine, 8, 4, 4);
  /* and the spine costs the DP ring that crosses it */
  const p3cfg_model m = fx_gpt(24, 4096, 32, 51200, 2048, 1152);
  const p3cfg_plan pl = fx_plan(&m, &spine, 4, 2, 16, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 1, 0);
  p3cfg_cluster flat = spine;
  flat.spine_oversubscription = 1.0;
  cr_expect(fx_run(&m, &spine, &pl, NULL).dp_comm_s > fx_run(&m, &flat, &pl, NULL).dp_comm_s);
}
