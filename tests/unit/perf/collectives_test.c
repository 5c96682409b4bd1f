/*
 * collectives_test.c — ring collectives over the links a group really uses: the ring
 * all-reduce formula of references.md, hierarchical groups across nodes, uneven groups,
 * measured links (the slowest one sets the ring), point-to-point sends.
 */
#include "perf_fixtures.h"

#define NV (300e9 * P3CFG_NVLINK_EFFICIENCY)
#define IB (25e9 * P3CFG_NETWORK_EFFICIENCY)

Test(perf, ring_allreduce_follows_the_formula_inside_a_node)
{
  const p3cfg_cluster c = fx_cluster("a100-80gb", 1, 300e9, 25e9);
  p3cfg__ring r;
  p3cfg__ring_of(&r, &c, NULL, 0, 1, 8);
  const double n = 1e9;
  /* references.md: 2 (k-1)/k n/bw + 2 (k-1) latency; reduce-scatter, all-gather half. */
  const double ar = 2.0 * 7.0 / 8.0 * n / NV + 2.0 * 7.0 * 3e-6;
  fx_assert_close(p3cfg__allreduce_s(&r, n), ar, 1e-12);
  fx_assert_close(p3cfg__reduce_scatter_s(&r, n), ar / 2, 1e-12);
  fx_assert_close(p3cfg__all_gather_s(&r, n), ar / 2, 1e-12);
  cr_assert_eq(r.n, 1);
}

Test(perf, groups_spanning_nodes_are_hierarchical)
{
  const p3cfg_cluster c = fx_cluster("a100-80gb", 4, 300e9, 25e9);
  p3cfg__ring r;
  p3cfg__ring_of(&r, &c, NULL, 0, 1, 32);
  cr_assert_eq(r.g, 8);
  cr_assert_eq(r.n, 4);
  const double n = 1e9;
  const double intra = 2.0 * (7.0 / 8.0 * n / NV + 7.0 * 3e-6);
  const double inter = 2.0 * (3.0 / 4.0 * (n / 8.0) / IB + 3.0 * 6e-6);
  fx_assert_close(p3cfg__allreduce_s(&r, n), intra + inter, 1e-12);
  /* One GPU per node (a DP group at tp 8): a flat ring over the network. */
  p3cfg__ring_of(&r, &c, NULL, 3, 8, 4);
  fx_assert_close(p3cfg__allreduce_s(&r, n), 2.0 * 3.0 / 4.0 * n / IB + 2.0 * 3.0 * 6e-6,
                  1e-12);
}

Test(perf, uneven_groups_run_one_ring_at_their_slowest_link)
{
  const p3cfg_cluster c = fx_cluster("a100-80gb", 2, 300e9, 25e9);
  p3cfg__ring r;
  p3cfg__ring_of(&r, &c, NULL, 5, 1, 8); /* 3 GPUs on node 0, 5 on node 1 */
  cr_assert_eq(r.n, 1);
  fx_assert_close(p3cfg__allreduce_s(&r, 1e9), 2.0 * 7.0 / 8.0 * 1e9 / IB + 2.0 * 7.0 * 6e-6,
                  1e-12);
}

Test(perf, measured_links_time_like_the_network_they_describe)
{
  p3cfg_cluster c = fx_cluster("a100-80gb", 2, 300e9, 25e9);
  p3cfg__ring u, mr;
  p3cfg__ring_of(&u, &c, NULL, 0, 1, 16);
  fx_measure_links(&c);
  p3cfg__ring_of(&mr, &c, NULL, 0, 1, 16);
  fx_assert_close(p3cfg__allreduce_s(&mr, 1e9), p3cfg__allreduce_s(&u, 1e9), 1e-12);
  fx_free_links(&c);
}

Test(perf, the_slowest_link_of_the_ring_sets_its_pace)
{
  p3cfg_cluster c = fx_cluster("a100-80gb", 2, 300e9, 25e9);
  fx_measure_links(&c);
  p3cfg__ring r;
  p3cfg__ring_of(&r, &c, NULL, 0, 1, 8);
  const double fast = p3cfg__allreduce_s(&r, 1e9);
  fx_set_link(&c, 9, 10, 1e9); /* another node: not this ring's */
  fx_set_link(&c, 4, 2, 1e9);  /* inside node 0 but not on the ring 0->1->...->7->0 */
  p3cfg__ring_of(&r, &c, NULL, 0, 1, 8);
  fx_assert_close(p3cfg__allreduce_s(&r, 1e9), fast, 1e-12);
  fx_set_link(&c, 3, 4, 10e9); /* on the ring */
  p3cfg__ring_of(&r, &c, NULL, 0, 1, 8);
  fx_assert_close(p3cfg__allreduce_s(&r, 1e9), 2.0 * 7.0 / 8.0 * 1e9 / 10e9 + 2.0 * 7.0 * 3e-6,
                  1e-12);
  fx_free_links(&c);
}

Test(perf, point_to_point_is_latency_plus_bytes_over_bandwidth)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  fx_assert_close(p3cfg__p2p_s(&c, 0, 1, 1e8), 3e-6 + 1e8 / (450e9 * P3CFG_NVLINK_EFFICIENCY),
                  1e-12);
  fx_assert_close(p3cfg__p2p_s(&c, 0, 9, 1e8), 6e-6 + 1e8 / (50e9 * P3CFG_NETWORK_EFFICIENCY),
                  1e-12);
  fx_measure_links(&c);
  fx_set_link(&c, 0, 9, 5e9); /* one direction only */
  fx_assert_close(p3cfg__p2p_s(&c, 0, 9, 1e8), 6e-6 + 1e8 / 5e9, 1e-12);
  fx_assert_close(p3cfg__p2p_s(&c, 9, 0, 1e8), 6e-6 + 1e8 / (50e9 * P3CFG_NETWORK_EFFICIENCY),
                  1e-12);
  fx_free_links(&c);
}
