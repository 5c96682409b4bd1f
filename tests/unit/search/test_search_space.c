/*
 * test_search_space.c — the pieces the search enumerates: divisors, layer splits (the
 * balanced one and the lightened ends), and the total order of the top K.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "plan_rules.h"
#include "search_space.h"
#include "topk.h"

Test(search, divisors_are_complete_and_ordered)
{
  uint32_t d[64];
  size_t n = p3cfg__divisors(1024, 1024, d, 64);
  cr_assert_eq(n, 11);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(d[i], 1u << i);
  n = p3cfg__divisors(96, 12, d, 64); /* capped at 12 */
  uint32_t want[] = {1, 2, 3, 4, 6, 8, 12};
  cr_assert_eq(n, 7);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(d[i], want[i]);
}

/* Llama 3.1 405B on pp 8: the degrees of its 126 layers (chunks of at least one layer
 * per rank: v <= 15) and of 128 with the embedding and the loss (v <= 16), merged. */
Test(search, interleaving_degrees_of_layers_or_layers_plus_two)
{
  uint32_t d[64];
  size_t n = p3cfg__divisors_of_either(126, 128, 8, d, 64);
  const uint32_t want[] = {1, 2, 3, 4, 6, 7, 8, 9, 14, 16};
  cr_assert_eq(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(d[i], want[i], "degree %zu", i);
  n = p3cfg__divisors_of_either(126, 0, 8, d, 64); /* without the accounting */
  cr_assert_eq(n, 7); /* 1 2 3 6 7 9 14 */
  cr_assert_eq(d[6], 14);
  cr_assert_eq(p3cfg__divisors_of_either(126, 128, 8, d, 3), 3, "capped");
}

/* A highly composite GPU count (240 divisors): more than 64 of them lie above sqrt(n),
 * every one is listed, in order, and the output stops at the caller's capacity. */
Test(search, divisors_of_highly_composite_counts)
{
  uint32_t d[256];
  const uint64_t n = 720720;
  size_t k = p3cfg__divisors(n, n, d, 256);
  cr_assert_eq(k, 240);
  size_t want = 0;
  for (uint64_t x = 1, i = 0; x <= n; x++)
    if (n % x == 0) {
      cr_assert_eq(d[i], x, "divisor %zu: got %u, want %llu", (size_t)i, d[i],
                   (unsigned long long)x);
      i++, want++;
    }
  cr_assert_eq(want, 240);
  k = p3cfg__divisors(n, n, d, 100);
  cr_assert_eq(k, 100);
  cr_assert_eq(d[99], 495); /* the 100th divisor of 720720 */
}

static uint64_t sum(const uint32_t *a, uint32_t n)
{
  uint64_t s = 0;
  for (uint32_t i = 0; i < n; i++)
    s += a[i];
  return s;
}

Test(search, balanced_split_keeps_ends_lightest)
{
  /* BLOOM: 70 layers on 12 stages -> the extra layers go to the middle. */
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.layers = 70;
  p.pp = 12;
  cr_assert_eq(p3cfg__plan_balanced_split(&p, &m), 0);
  cr_assert_eq(sum(p.stage_layers, 12), 70);
  for (uint32_t i = 1; i + 1 < 12; i++) {
    cr_assert_geq(p.stage_layers[i], p.stage_layers[0]);
    cr_assert_geq(p.stage_layers[i], p.stage_layers[11]);
  }
  cr_assert_eq(p.stage_layers[0], 5);
  cr_assert_eq(p.stage_layers[11], 5);
}

Test(search, balanced_split_with_interleaving_uses_whole_chunks)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.layers = 96;
  p.pp = 8;
  p.virtual_stages = 3;
  cr_assert_eq(p3cfg__plan_balanced_split(&p, &m), 0);
  for (uint32_t i = 0; i < 8; i++)
    cr_assert_eq(p.stage_layers[i], 12);
  m.layers = 95; /* not a multiple of 3 */
  cr_assert_eq(p3cfg__plan_balanced_split(&p, &m), P3CFG_EPLAN);
}

Test(search, split_variants_lighten_first_and_last)
{
  /* Llama 3 405B: 126 layers on 16 stages; Meta ran lighter first and last stages. */
  p3cfg__split s[8];
  size_t n = p3cfg__split_variants(16, 126, s, 8);
  cr_assert_geq(n, 4);
  uint64_t bf, bl;
  p3cfg__split_balanced_ends(16, 126, &bf, &bl);
  cr_assert_eq(s[0].first_units, bf);
  cr_assert_eq(s[0].last_units, bl);
  int lighter_first = 0, lighter_last = 0;
  for (size_t i = 0; i < n; i++) {
    p3cfg_plan p = P3CFG_PLAN_INIT;
    p.pp = 16;
    p3cfg__split_apply(&p, &s[i], 126);
    cr_assert_eq(sum(p.stage_layers, 16), 126, "variant %zu loses layers", i);
    for (uint32_t k = 1; k < 15; k++)
      cr_assert_geq(p.stage_layers[k], p.stage_layers[0] > p.stage_layers[15]
                                           ? p.stage_layers[0]
                                           : p.stage_layers[15]);
    lighter_first |= s[i].first_units < bf;
    lighter_last |= s[i].last_units < bl;
    for (size_t j = 0; j < i; j++)
      cr_assert(s[i].first_units != s[j].first_units || s[i].last_units != s[j].last_units,
                "duplicate variant");
  }
  cr_assert(lighter_first && lighter_last);
}

Test(search, split_variants_for_two_stages_move_layers_between_them)
{
  p3cfg__split s[8];
  size_t n = p3cfg__split_variants(2, 9, s, 8);
  cr_assert_geq(n, 2);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(s[i].first_units + s[i].last_units, 9);
  cr_assert_eq(p3cfg__split_variants(4, 3, s, 8), 0, "fewer layers than stages");
}

static p3cfg_plan plan_with(uint32_t tp, uint32_t pp)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = tp;
  p.pp = pp;
  p.dp = 1;
  return p;
}

Test(search, topk_keeps_the_best_under_a_total_order)
{
  p3cfg__topk t;
  cr_assert_eq(p3cfg__topk_init(&t, 3), 0);
  double times[] = {5, 1, 4, 2, 3, 1};
  uint32_t tps[] = {1, 8, 2, 4, 2, 2};
  for (int i = 0; i < 6; i++) {
    p3cfg_plan p = plan_with(tps[i], 1);
    p3cfg_time tm = {0};
    tm.iteration_s = times[i];
    if (p3cfg__topk_admits(&t, &p, &tm))
      p3cfg__topk_push(&t, &p, &tm);
  }
  p3cfg__topk_sort(&t);
  cr_assert_eq(t.count, 3);
  /* Two plans at 1 s: the tie goes to the smaller tp. */
  cr_assert_eq(t.items[0].time.iteration_s, 1);
  cr_assert_eq(t.items[0].plan.tp, 2);
  cr_assert_eq(t.items[1].plan.tp, 8);
  cr_assert_eq(t.items[2].time.iteration_s, 2);
  p3cfg__topk_dispose(&t);
}

Test(search, total_order_distinguishes_splits)
{
  p3cfg_plan a = plan_with(1, 2), b = plan_with(1, 2);
  a.stage_layers[0] = 3, a.stage_layers[1] = 5;
  b.stage_layers[0] = 4, b.stage_layers[1] = 4;
  p3cfg_time t = {0};
  cr_assert_lt(p3cfg__scored_cmp(&a, &t, &b, &t), 0);
  cr_assert_gt(p3cfg__scored_cmp(&b, &t, &a, &t), 0);
  cr_assert_eq(p3cfg__scored_cmp(&a, &t, &a, &t), 0);
}
