/*
 * test_placement.c — planted instances with a known best placement (a slow node, a slow
 * pair, an asymmetric link, two racks joined by a thin uplink): the annealer must find
 * what exhaustive enumeration of every node permutation finds, and route around the
 * slow links.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "placement.h"
#include "plan_rules.h"
#include "types.h"

/* GPT-3 2.7B-like: small enough to score fast, large enough to care about links. */
static const char model_yaml[] = "name: planted\n"
                                 "layers: 32\nhidden: 2560\nheads: 32\nvocab: 51200\n"
                                 "seq_len: 2048\nglobal_batch: 256\n"
                                 "position_embedding: learned\n";

static p3cfg_model *load_model(void)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load_string(&m, model_yaml, sizeof model_yaml - 1, "m.yaml", NULL),
               0, "%s", p3cfg_error_last()->message);
  return m;
}

/* n nodes of 8 A100s; bandwidth matrix in GB/s from `bw(i, j)`. */
static p3cfg_cluster *load_cluster(uint32_t n, double (*bw)(uint32_t, uint32_t))
{
  char text[16384];
  size_t k = 0;
  k += (size_t)snprintf(text + k, sizeof text - k,
                        "name: planted\nnodes: %u\ngpus_per_node: 8\ngpu: a100-80gb\n"
                        "network: {intra_node_GBps: 300, inter_node_GBps: 25}\n"
                        "links:\n  granularity: node\n  names: [",
                        n);
  for (uint32_t i = 0; i < n; i++)
    k += (size_t)snprintf(text + k, sizeof text - k, "%sn%u", i ? ", " : "", i);
  k += (size_t)snprintf(text + k, sizeof text - k, "]\n  bandwidth_GBps:\n");
  for (uint32_t i = 0; i < n; i++) {
    k += (size_t)snprintf(text + k, sizeof text - k, "    - [");
    for (uint32_t j = 0; j < n; j++)
      k += (size_t)snprintf(text + k, sizeof text - k, "%s%g", j ? ", " : "",
                            i == j ? 300.0 : bw(i, j));
    k += (size_t)snprintf(text + k, sizeof text - k, "]\n");
  }
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load_string(&c, text, k, "c.yaml", NULL), 0, "%s",
               p3cfg_error_last()->message);
  return c;
}

static p3cfg_plan make_plan(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t dp,
                            uint32_t tp, uint32_t pp)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.dp = dp, p.tp = tp, p.pp = pp, p.micro_batch = 1;
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.sequence_parallel = tp > 1;
  p.zero_stage = 1;
  cr_assert_eq(p3cfg_plan_resolve(&p, m, c), 0, "%s", p3cfg_error_last()->message);
  return p;
}

/* Place with the annealer (exhaustive switched off) and exhaustively; compare. */
static void compare(const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *p,
                    double *annealed_s, double *exact_s, double *default_s, uint32_t *map)
{
  p3cfg__place_opts sa = {7, 4000, 0, 1}, ex = {7, 0, 0, 12};
  p3cfg__place_stats st_sa, st_ex;
  p3cfg_time t;
  cr_assert_eq(p3cfg__place(map, &t, &st_sa, m, c, p, &sa), 0);
  cr_assert_eq(st_sa.exact, 0);
  cr_assert_eq(p3cfg__place(map, &t, &st_ex, m, c, p, &ex), 0);
  cr_assert_eq(st_ex.exact, 1);
  *annealed_s = st_sa.best_s;
  *exact_s = st_ex.best_s;
  *default_s = st_ex.default_s;
  cr_assert_leq(st_ex.best_s, st_ex.default_s);
}

static uint32_t slow_node = 2;
static double bw_slow_node(uint32_t i, uint32_t j)
{
  return i == slow_node || j == slow_node ? 2.5 : 25.0;
}

Test(placement, slow_spare_node_is_left_out)
{
  /* 5 nodes, the plan needs 4: the optimum leaves the slow node idle. */
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = load_cluster(5, bw_slow_node);
  p3cfg_plan p = make_plan(m, c, 2, 8, 2);
  uint32_t map[32];
  double sa, ex, def;
  compare(m, c, &p, &sa, &ex, &def, map);
  cr_assert_float_eq(sa, ex, 1e-12 * ex, "annealed %.6f s, exact %.6f s", sa, ex);
  cr_assert_lt(ex, def, "the default uses the slow node; the best does not");
  for (int r = 0; r < 32; r++)
    cr_assert_neq(map[r] / 8, slow_node, "rank %d on the slow node", r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

static double bw_slow_pair(uint32_t i, uint32_t j)
{
  return (i == 0 && j == 1) || (i == 1 && j == 0) ? 2.0 : 25.0;
}

Test(placement, slow_pair_carries_no_pipeline_hop)
{
  /* 4 nodes, pp 4 with one stage per node: the chain must not step across 0<->1. */
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = load_cluster(4, bw_slow_pair);
  p3cfg_plan p = make_plan(m, c, 1, 8, 4);
  uint32_t map[32];
  double sa, ex, def;
  compare(m, c, &p, &sa, &ex, &def, map);
  cr_assert_float_eq(sa, ex, 1e-12 * ex);
  cr_assert_lt(ex, def);
  for (uint32_t s = 0; s + 1 < 4; s++) {
    uint32_t a = map[s * 8] / 8, b = map[(s + 1) * 8] / 8;
    cr_assert(!((a == 0 && b == 1) || (a == 1 && b == 0)), "hop %u crosses the slow pair", s);
  }
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

static double bw_asym(uint32_t i, uint32_t j)
{
  return i == 0 && j == 1 ? 1.0 : 25.0; /* only 0 -> 1 is slow */
}

Test(placement, asymmetric_link_is_used_in_its_fast_direction_only)
{
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = load_cluster(3, bw_asym);
  p3cfg_plan p = make_plan(m, c, 1, 8, 3);
  uint32_t map[24];
  double sa, ex, def;
  compare(m, c, &p, &sa, &ex, &def, map);
  cr_assert_float_eq(sa, ex, 1e-12 * ex);
  for (uint32_t s = 0; s + 1 < 3; s++) {
    uint32_t a = map[s * 8] / 8, b = map[(s + 1) * 8] / 8;
    cr_assert(!(a == 0 && b == 1), "stage %u -> %u uses the slow direction", s, s + 1);
  }
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

static double bw_racks(uint32_t i, uint32_t j)
{
  return (i < 4) == (j < 4) ? 25.0 : 2.5; /* racks {0..3} and {4..7}, thin uplink */
}

Test(placement, two_racks_keep_rings_inside_a_rack)
{
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = load_cluster(8, bw_racks);
  p3cfg_plan p = make_plan(m, c, 4, 8, 2);
  uint32_t map[64];
  double sa, ex, def;
  compare(m, c, &p, &sa, &ex, &def, map);
  cr_assert_float_eq(sa, ex, 1e-9 * ex, "annealed %.6f s, exact %.6f s", sa, ex);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

static double bw_uniform(uint32_t i, uint32_t j)
{
  (void)i, (void)j;
  return 25.0;
}

static uint32_t slow_a = 1, slow_b = 2;
static double bw_one_slow(uint32_t i, uint32_t j)
{
  return (i == slow_a && j == slow_b) || (i == slow_b && j == slow_a) ? 2.5 : 25.0;
}

Test(placement, ten_times_slower_link_costs_time_and_is_routed_around)
{
  /* Sensitivity: the default placement's pipeline crosses 1 <-> 2; making that link
   * 10x slower raises the predicted time, and placement wins it back. */
  p3cfg_model *m = load_model();
  p3cfg_cluster *fast = load_cluster(4, bw_uniform), *slow = load_cluster(4, bw_one_slow);
  p3cfg_plan p = make_plan(m, fast, 1, 8, 4);
  uint32_t map[32];
  p3cfg__place_opts o = {1, 0, 0, 0};
  p3cfg__place_stats st_fast, st_slow;
  p3cfg_time t;
  cr_assert_eq(p3cfg__place(map, &t, &st_fast, m, fast, &p, &o), 0);
  cr_assert_eq(p3cfg__place(map, &t, &st_slow, m, slow, &p, &o), 0);
  cr_assert_gt(st_slow.default_s, st_fast.default_s,
               "the slow link must show in the default placement's time");
  cr_assert_float_eq(st_slow.best_s, st_fast.best_s, 1e-9 * st_fast.best_s,
                     "placement must route around the slow link");
  p3cfg_cluster_free(fast);
  p3cfg_cluster_free(slow);
  p3cfg_model_free(m);
}

Test(placement, without_measured_links_the_default_returns_at_once)
{
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = NULL;
  const char yaml[] = "name: u\nnodes: 4\ngpus_per_node: 8\ngpu: a100-80gb\n"
                      "network: {intra_node_GBps: 300, inter_node_GBps: 25}\n";
  cr_assert_eq(p3cfg_cluster_load_string(&c, yaml, sizeof yaml - 1, "u.yaml", NULL), 0);
  p3cfg_plan p = make_plan(m, c, 2, 8, 2);
  uint32_t map[32];
  p3cfg__place_opts o = {1, 0, 0, 0};
  p3cfg__place_stats st;
  p3cfg_time t;
  cr_assert_eq(p3cfg__place(map, &t, &st, m, c, &p, &o), 0);
  cr_assert_eq(st.moves, 0);
  for (uint32_t r = 0; r < 32; r++)
    cr_assert_eq(map[r], r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(placement, same_seed_same_placement)
{
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = load_cluster(8, bw_racks);
  p3cfg_plan p = make_plan(m, c, 4, 8, 2);
  uint32_t a[64], b[64];
  p3cfg__place_opts o = {42, 2000, 0, 1};
  p3cfg__place_stats st;
  p3cfg_time t;
  cr_assert_eq(p3cfg__place(a, &t, &st, m, c, &p, &o), 0);
  cr_assert_eq(p3cfg__place(b, &t, &st, m, c, &p, &o), 0);
  cr_assert_arr_eq(a, b, sizeof a);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* pp = 1 leaves three of the five move kinds without a move (the two pipeline moves, and a
 * unit swap that drew one node twice): eight such draws in a row, about once in 900 moves
 * here, used to end the annealing early. It now runs its whole budget. */
Test(placement, annealing_without_pipeline_runs_its_whole_budget)
{
  p3cfg_model *m = load_model();
  p3cfg_cluster *c = load_cluster(8, bw_racks);
  p3cfg_plan p = make_plan(m, c, 8, 8, 1);
  uint32_t map[64];
  p3cfg__place_opts o = {3, 20000, 0, 1};
  p3cfg__place_stats st;
  p3cfg_time t;
  cr_assert_eq(p3cfg__place(map, &t, &st, m, c, &p, &o), 0);
  cr_assert_eq(st.exact, 0);
  cr_assert_eq(st.moves, 20000, "the annealing stopped after %llu of 20000 moves",
               (unsigned long long)st.moves);
  cr_assert_leq(st.best_s, st.default_s);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
