/*
 * mesh_test.c — the parallel mesh of mesh.c (suite "common"): Megatron-LM's rank order on
 * a hand example, coordinates round-trip for random plans, and every group (of a rank, by
 * number, its ends) matches a brute-force enumeration of the ranks that share all other
 * coordinates.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

static p3cfg_plan plan_of(uint32_t tp, uint32_t dp, uint32_t pp)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = tp, p.dp = dp, p.pp = pp;
  return p;
}

/* A small deterministic generator (the tests must not depend on libc's rand). */
static uint32_t next_u32(uint64_t *s)
{
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

static p3cfg_plan random_plan(uint64_t *s)
{
  return plan_of(1 + next_u32(s) % 8, 1 + next_u32(s) % 6, 1 + next_u32(s) % 5);
}

Test(common, mesh_table_is_megatron_core_order)
{
  const char *keys[] = {"tp", "cp", "ep", "dp", "pp"};
  for (int d = 0; d < P3CFG__MESH_DIMS; d++)
    cr_expect_str_eq(p3cfg__mesh_dims[d].key, keys[d]);
  cr_expect_eq(p3cfg__mesh_dims[P3CFG__MESH_CP].plan_field, offsetof(p3cfg_plan, cp));
  cr_expect_eq(p3cfg__mesh_dims[P3CFG__MESH_EP].plan_field, offsetof(p3cfg_plan, ep));
  cr_expect(p3cfg__mesh_dims[P3CFG__MESH_EP].expert_only);
  cr_expect_not(p3cfg__mesh_dims[P3CFG__MESH_CP].expert_only);
  cr_expect_null(p3cfg__mesh_dims[P3CFG__MESH_CP].expert_key);
  cr_expect_str_eq(p3cfg__mesh_dims[P3CFG__MESH_TP].expert_key, "etp");
  cr_expect_str_eq(p3cfg__mesh_dims[P3CFG__MESH_DP].expert_key, "edp");
}

Test(common, mesh_megatron_rank_order)
{
  const p3cfg_plan p = plan_of(2, 2, 2);
  p3cfg__mesh m;
  p3cfg__mesh_of(&m, &p);
  cr_assert_eq(m.ranks, 8);
  uint32_t c[P3CFG__MESH_DIMS];
  p3cfg__mesh_coords(&m, 5, c);
  cr_expect_eq(c[P3CFG__MESH_PP], 1);
  cr_expect_eq(c[P3CFG__MESH_DP], 0);
  cr_expect_eq(c[P3CFG__MESH_TP], 1);
  cr_expect_eq(c[P3CFG__MESH_CP], 0);
  cr_expect_eq(c[P3CFG__MESH_EP], 0);
  cr_expect_eq(m.stride[P3CFG__MESH_TP], 1);
  cr_expect_eq(m.stride[P3CFG__MESH_DP], 2);
  cr_expect_eq(m.stride[P3CFG__MESH_PP], 4);
  /* rank 5's TP group {4, 5}, DP group {5, 7}, pipeline line {1, 5} */
  p3cfg__mesh_group g = p3cfg__mesh_group_of(&m, P3CFG__MESH_TP, 5);
  cr_expect(g.first == 4 && g.stride == 1 && g.count == 2);
  g = p3cfg__mesh_group_of(&m, P3CFG__MESH_DP, 5);
  cr_expect(g.first == 5 && g.stride == 2 && g.count == 2);
  g = p3cfg__mesh_group_of(&m, P3CFG__MESH_PP, 5);
  cr_expect(g.first == 1 && g.stride == 4 && g.count == 2);
}

Test(common, mesh_coordinates_round_trip)
{
  uint64_t s = 42;
  for (int n = 0; n < 200; n++) {
    const p3cfg_plan p = random_plan(&s);
    p3cfg__mesh m;
    p3cfg__mesh_of(&m, &p);
    cr_assert_eq(m.ranks, p.tp * p.dp * p.pp);
    for (uint32_t r = 0; r < m.ranks; r++) {
      uint32_t c[P3CFG__MESH_DIMS];
      p3cfg__mesh_coords(&m, r, c);
      cr_assert_eq(p3cfg__mesh_rank(&m, c), r);
      /* Megatron-LM: rank = pp*(dp*tp) + dp*tp + tp */
      cr_assert_eq(r,
                   c[P3CFG__MESH_PP] * p.dp * p.tp + c[P3CFG__MESH_DP] * p.tp + c[P3CFG__MESH_TP]);
      for (int d = 0; d < P3CFG__MESH_DIMS; d++) {
        cr_assert_eq(p3cfg__mesh_coord(&m, (p3cfg__mesh_dim)d, r), c[d]);
        cr_assert_lt(c[d], m.size[d]);
      }
    }
  }
}

/* The ranks that share every coordinate but d with rank r, in increasing order. */
static uint32_t brute_group(const p3cfg__mesh *m, p3cfg__mesh_dim d, uint32_t r, uint32_t *out)
{
  uint32_t cr[P3CFG__MESH_DIMS], n = 0;
  p3cfg__mesh_coords(m, r, cr);
  for (uint32_t x = 0; x < m->ranks; x++) {
    uint32_t cx[P3CFG__MESH_DIMS];
    p3cfg__mesh_coords(m, x, cx);
    int same = 1;
    for (int e = 0; e < P3CFG__MESH_DIMS; e++)
      same &= e == (int)d || cx[e] == cr[e];
    if (same)
      out[n++] = x;
  }
  return n;
}

Test(common, mesh_groups_match_brute_force)
{
  uint64_t s = 7;
  uint32_t members[256];
  for (int n = 0; n < 100; n++) {
    const p3cfg_plan p = random_plan(&s);
    p3cfg__mesh m;
    p3cfg__mesh_of(&m, &p);
    for (int d = 0; d < P3CFG__MESH_DIMS; d++) {
      const p3cfg__mesh_dim dim = (p3cfg__mesh_dim)d;
      cr_assert_eq(p3cfg__mesh_groups(&m, dim) * m.size[d], m.ranks);
      unsigned char *seen = calloc(p3cfg__mesh_groups(&m, dim), 1);
      for (uint32_t r = 0; r < m.ranks; r++) {
        const uint32_t k = brute_group(&m, dim, r, members);
        const p3cfg__mesh_group g = p3cfg__mesh_group_of(&m, dim, r);
        cr_assert_eq(g.count, k);
        for (uint32_t i = 0; i < k; i++)
          cr_assert_eq(p3cfg__mesh_member(&g, i), members[i], "dim %d rank %u member %u", d, r, i);
        const uint32_t c = p3cfg__mesh_coord(&m, dim, r);
        const p3cfg__mesh_group at = p3cfg__mesh_group_at(&m, dim, r, c);
        cr_assert(at.first == g.first && at.stride == g.stride && at.count == g.count);
        /* numbered groups: the index finds the same group, numbers ordered by first rank */
        const uint32_t ix = p3cfg__mesh_group_index(&m, dim, r);
        const p3cfg__mesh_group nth = p3cfg__mesh_group_nth(&m, dim, ix);
        cr_assert(nth.first == g.first && nth.stride == g.stride && nth.count == g.count);
        if (ix > 0)
          cr_assert_lt(p3cfg__mesh_group_nth(&m, dim, ix - 1).first, g.first);
        seen[ix] = 1;
        /* ends: the first and the last member */
        const p3cfg__mesh_group e = p3cfg__mesh_ends(g);
        cr_assert_eq(p3cfg__mesh_member(&e, 0), members[0]);
        cr_assert_eq(p3cfg__mesh_member(&e, e.count - 1), members[k - 1]);
        cr_assert_eq(e.count, k > 1 ? 2u : 1u);
        /* moving along d stays in the group */
        for (uint32_t to = 0; to < m.size[d]; to++) {
          cr_assert_eq(p3cfg__mesh_move(&m, dim, r, c, to), members[to]);
          cr_assert_eq(p3cfg__mesh_with(&m, dim, r, to), members[to]);
        }
      }
      for (uint32_t i = 0; i < p3cfg__mesh_groups(&m, dim); i++)
        cr_assert(seen[i], "dim %d: group %u never seen", d, i);
      free(seen);
    }
  }
}

Test(common, mesh_stage_ranks_are_consecutive)
{
  const p3cfg_plan p = plan_of(4, 3, 5);
  p3cfg__mesh m;
  p3cfg__mesh_of(&m, &p);
  for (uint32_t j = 0; j < 5; j++)
    for (uint32_t s = 0; s < m.stride[P3CFG__MESH_PP]; s++)
      cr_assert_eq(
          p3cfg__mesh_coord(&m, P3CFG__MESH_PP, p3cfg__mesh_step(&m, P3CFG__MESH_PP, j) + s), j);
}

/* Walking the ranks in order with p3cfg__mesh_next gives every rank's coordinates, and
 * the group indices stepped on with p3cfg__mesh_group_index_next are
 * p3cfg__mesh_group_index; on meshes whose cp and ep are above 1 too
 * (p3cfg__mesh_of_sizes), as the callers walking runs of moved ranks (perf_cache.c) will
 * meet them. */
Test(common, mesh_next_steps_coordinates_and_group_indices)
{
  uint64_t s = 11;
  for (int n = 0; n < 100; n++) {
    uint32_t size[P3CFG__MESH_DIMS];
    for (int d = 0; d < P3CFG__MESH_DIMS; d++)
      size[d] = 1 + next_u32(&s) % 4;
    p3cfg__mesh m;
    p3cfg__mesh_of_sizes(&m, size);
    uint32_t c[P3CFG__MESH_DIMS], index[P3CFG__MESH_DIMS];
    p3cfg__mesh_coords(&m, 0, c);
    for (int d = 0; d < P3CFG__MESH_DIMS; d++)
      index[d] = p3cfg__mesh_group_index(&m, (p3cfg__mesh_dim)d, 0);
    for (uint32_t r = 0; r < m.ranks; r++) {
      uint32_t want[P3CFG__MESH_DIMS];
      p3cfg__mesh_coords(&m, r, want);
      cr_assert(!memcmp(c, want, sizeof c), "rank %u", r);
      for (int d = 0; d < P3CFG__MESH_DIMS; d++)
        cr_assert_eq(index[d], p3cfg__mesh_group_index(&m, (p3cfg__mesh_dim)d, r),
                     "dim %d rank %u", d, r);
      if (r + 1 < m.ranks) {
        const int carry = p3cfg__mesh_next(&m, c);
        cr_assert_lt(carry, P3CFG__MESH_DIMS);
        cr_assert_gt(c[carry], 0);
        for (int d = 0; d < P3CFG__MESH_DIMS; d++)
          index[d] = p3cfg__mesh_group_index_next(&m, (p3cfg__mesh_dim)d, index[d], carry);
      }
    }
  }
}

/* ---- context and expert parallelism against Megatron-Core's RankGenerator ----------
 * The expected groups are what megatron/core/parallel_state.py's RankGenerator returns
 * (order "tp-cp-ep-dp-pp"; the dense generator with ep = 1, the expert one with cp = 1,
 * tp = etp, dp = edp), printed by tests/unit/common/megatron_rank_groups.py from the
 * Megatron-LM mirror, for tp 2, cp 2, dp 4, pp 2 (32 ranks) with ep 4, etp 1 (edp 4) and
 * with ep 2, etp 2 (edp 4). */

static p3cfg_plan plan_5d(uint32_t tp, uint32_t cp, uint32_t dp, uint32_t pp, uint32_t ep,
                          uint32_t etp)
{
  p3cfg_plan p = plan_of(tp, dp, pp);
  p.cp = cp, p.ep = ep, p.etp = etp;
  return p;
}

/* Every group of `d` in `m` is one row of `rows` (n_rows rows of `width` ranks), in the
 * order of their first ranks, and each rank's group is its row. */
static void expect_groups(const p3cfg__mesh *m, p3cfg__mesh_dim d,
                          p3cfg__mesh_group (*of)(const p3cfg__mesh *, uint32_t),
                          const uint32_t *rows, uint32_t n_rows, uint32_t width)
{
  cr_assert_eq(p3cfg__mesh_groups(m, d), n_rows, "%s: groups", p3cfg__mesh_dims[d].key);
  for (uint32_t i = 0; i < n_rows; i++) {
    const uint32_t *row = rows + (size_t)i * width;
    p3cfg__mesh_group byn = p3cfg__mesh_group_nth(m, d, i);
    cr_assert_eq(byn.count, width);
    for (uint32_t k = 0; k < width; k++) {
      cr_expect_eq(p3cfg__mesh_member(&byn, k), row[k], "%s group %u member %u",
                   p3cfg__mesh_dims[d].key, i, k);
      p3cfg__mesh_group g = of ? of(m, row[k]) : p3cfg__mesh_group_of(m, d, row[k]);
      cr_expect(g.first == byn.first && g.stride == byn.stride && g.count == byn.count,
                "%s group of rank %u", p3cfg__mesh_dims[d].key, row[k]);
    }
  }
}

Test(common, mesh_dense_cp_groups_are_megatrons)
{
  const p3cfg_plan p = plan_5d(2, 2, 4, 2, 4, 1);
  p3cfg__mesh m;
  p3cfg__mesh_of(&m, &p);
  cr_assert_eq(m.ranks, 32);
  cr_expect_eq(m.size[P3CFG__MESH_EP], 1, "the dense mesh has no ep");
  static const uint32_t tp[16][2] = {{0, 1},   {2, 3},   {4, 5},   {6, 7},   {8, 9},   {10, 11},
                                     {12, 13}, {14, 15}, {16, 17}, {18, 19}, {20, 21}, {22, 23},
                                     {24, 25}, {26, 27}, {28, 29}, {30, 31}};
  static const uint32_t cp[16][2] = {{0, 2},   {1, 3},   {4, 6},   {5, 7},   {8, 10},  {9, 11},
                                     {12, 14}, {13, 15}, {16, 18}, {17, 19}, {20, 22}, {21, 23},
                                     {24, 26}, {25, 27}, {28, 30}, {29, 31}};
  static const uint32_t dp[8][4] = {{0, 4, 8, 12},   {1, 5, 9, 13},   {2, 6, 10, 14},
                                    {3, 7, 11, 15},  {16, 20, 24, 28}, {17, 21, 25, 29},
                                    {18, 22, 26, 30}, {19, 23, 27, 31}};
  static const uint32_t pp[16][2] = {{0, 16}, {1, 17}, {2, 18},  {3, 19},  {4, 20},  {5, 21},
                                     {6, 22}, {7, 23}, {8, 24},  {9, 25},  {10, 26}, {11, 27},
                                     {12, 28}, {13, 29}, {14, 30}, {15, 31}};
  expect_groups(&m, P3CFG__MESH_TP, NULL, &tp[0][0], 16, 2);
  expect_groups(&m, P3CFG__MESH_CP, p3cfg__mesh_cp_group, &cp[0][0], 16, 2);
  expect_groups(&m, P3CFG__MESH_DP, NULL, &dp[0][0], 8, 4);
  expect_groups(&m, P3CFG__MESH_PP, NULL, &pp[0][0], 16, 2);
  /* Megatron's "dp-cp" group: the dense gradients' reduction. */
  static const uint32_t dpcp[4][8] = {{0, 2, 4, 6, 8, 10, 12, 14},
                                      {1, 3, 5, 7, 9, 11, 13, 15},
                                      {16, 18, 20, 22, 24, 26, 28, 30},
                                      {17, 19, 21, 23, 25, 27, 29, 31}};
  for (uint32_t i = 0; i < 4; i++)
    for (uint32_t k = 0; k < 8; k++) {
      p3cfg__mesh_group g = p3cfg__mesh_dp_cp_group(&m, dpcp[i][k]);
      cr_assert_eq(g.count, 8);
      for (uint32_t j = 0; j < 8; j++)
        cr_expect_eq(p3cfg__mesh_member(&g, j), dpcp[i][j], "dp-cp group of %u", dpcp[i][k]);
    }
}

Test(common, mesh_expert_groups_are_megatrons_ep4_etp1)
{
  const p3cfg_plan p = plan_5d(2, 2, 4, 2, 4, 1);
  p3cfg__mesh e;
  p3cfg__mesh_expert_of(&e, &p);
  cr_assert_eq(e.ranks, 32, "the same ranks as the dense mesh");
  cr_expect_eq(e.size[P3CFG__MESH_TP], 1);
  cr_expect_eq(e.size[P3CFG__MESH_CP], 1);
  cr_expect_eq(e.size[P3CFG__MESH_EP], 4);
  cr_expect_eq(e.size[P3CFG__MESH_DP], 4, "edp = tp*cp*dp / (ep*etp) = 16 / 4");
  static const uint32_t ep[8][4] = {{0, 1, 2, 3},     {4, 5, 6, 7},     {8, 9, 10, 11},
                                    {12, 13, 14, 15}, {16, 17, 18, 19}, {20, 21, 22, 23},
                                    {24, 25, 26, 27}, {28, 29, 30, 31}};
  static const uint32_t edp[8][4] = {{0, 4, 8, 12},   {1, 5, 9, 13},   {2, 6, 10, 14},
                                     {3, 7, 11, 15},  {16, 20, 24, 28}, {17, 21, 25, 29},
                                     {18, 22, 26, 30}, {19, 23, 27, 31}};
  expect_groups(&e, P3CFG__MESH_EP, p3cfg__mesh_ep_group, &ep[0][0], 8, 4);
  expect_groups(&e, P3CFG__MESH_DP, p3cfg__mesh_edp_group, &edp[0][0], 8, 4);
  for (uint32_t r = 0; r < 32; r++) {
    p3cfg__mesh_group g = p3cfg__mesh_etp_group(&e, r);
    cr_expect(g.first == r && g.count == 1, "etp 1: rank %u alone", r);
  }
  /* The pipeline line is the dense mesh's: a stage's ranks are the same in both. */
  p3cfg__mesh d;
  p3cfg__mesh_of(&d, &p);
  cr_expect_eq(e.stride[P3CFG__MESH_PP], d.stride[P3CFG__MESH_PP]);
}

Test(common, mesh_expert_groups_are_megatrons_ep2_etp2)
{
  const p3cfg_plan p = plan_5d(2, 2, 4, 2, 2, 2);
  p3cfg__mesh e;
  p3cfg__mesh_expert_of(&e, &p);
  cr_assert_eq(e.ranks, 32);
  static const uint32_t etp[16][2] = {{0, 1},   {2, 3},   {4, 5},   {6, 7},   {8, 9},   {10, 11},
                                      {12, 13}, {14, 15}, {16, 17}, {18, 19}, {20, 21}, {22, 23},
                                      {24, 25}, {26, 27}, {28, 29}, {30, 31}};
  static const uint32_t ep[16][2] = {{0, 2},   {1, 3},   {4, 6},   {5, 7},   {8, 10},  {9, 11},
                                     {12, 14}, {13, 15}, {16, 18}, {17, 19}, {20, 22}, {21, 23},
                                     {24, 26}, {25, 27}, {28, 30}, {29, 31}};
  static const uint32_t edp[8][4] = {{0, 4, 8, 12},   {1, 5, 9, 13},   {2, 6, 10, 14},
                                     {3, 7, 11, 15},  {16, 20, 24, 28}, {17, 21, 25, 29},
                                     {18, 22, 26, 30}, {19, 23, 27, 31}};
  expect_groups(&e, P3CFG__MESH_TP, p3cfg__mesh_etp_group, &etp[0][0], 16, 2);
  expect_groups(&e, P3CFG__MESH_EP, p3cfg__mesh_ep_group, &ep[0][0], 16, 2);
  expect_groups(&e, P3CFG__MESH_DP, p3cfg__mesh_edp_group, &edp[0][0], 8, 4);
}

Test(common, mesh_dense_plan_expert_mesh_is_the_dense_one)
{
  /* A dense plan (ep 1, etp = tp, cp 1): the expert mesh is the dense mesh. */
  const p3cfg_plan p = plan_of(4, 3, 2);
  p3cfg__mesh d, e;
  p3cfg__mesh_of(&d, &p);
  p3cfg__mesh_expert_of(&e, &p);
  cr_expect_eq(memcmp(&d, &e, sizeof d), 0);
}
