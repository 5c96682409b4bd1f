/*
 * test_plan_text.c — the short texts of the tables (suite "plan_text"): the layer split
 * is exact and compact (the bug was "[20,21,20,19]" printed as "20,..,19 (20-20)"), token
 * counts keep their suffix, a training budget is tokens / tokens_per_s, and a plan that
 * does not fit has none.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "plan_text.h"

static p3cfg_plan split(uint32_t pp, const uint32_t *layers)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.pp = p.n_stage_layers = pp;
  memcpy(p.stage_layers, layers, pp * sizeof *layers);
  return p;
}

static void expect_split(uint32_t pp, const uint32_t *layers, const char *want)
{
  char buf[8192];
  p3cfg_plan p = split(pp, layers);
  p3cfg__split_compact(buf, sizeof buf, &p);
  cr_expect_str_eq(buf, want);
}

Test(plan_text, split_is_exact_and_compact)
{
  expect_split(4, (const uint32_t[]){20, 21, 20, 19}, "20,21,20,19");
  expect_split(1, (const uint32_t[]){32}, "32");
  expect_split(8, (const uint32_t[]){12, 12, 12, 12, 12, 12, 12, 12}, "8x12");
  expect_split(2, (const uint32_t[]){16, 16}, "2x16");
  expect_split(2, (const uint32_t[]){15, 17}, "15,17");
  expect_split(6, (const uint32_t[]){11, 12, 12, 12, 12, 11}, "11,4x12,11");
  expect_split(5, (const uint32_t[]){7, 8, 8, 9, 9}, "7,8,8,9,9");
  expect_split(7, (const uint32_t[]){5, 5, 5, 6, 6, 6, 4}, "3x5,3x6,4");
  /* 1024 stages of 1 layer but the last: one run, then the rest. */
  uint32_t many[P3CFG_MAX_PP];
  for (int i = 0; i < P3CFG_MAX_PP; i++)
    many[i] = 1;
  many[P3CFG_MAX_PP - 1] = 2;
  expect_split(P3CFG_MAX_PP, many, "1023x1,2");
  /* Every stage different: the whole list fits the documented 8192 bytes. */
  for (int i = 0; i < P3CFG_MAX_PP; i++)
    many[i] = 1000 + (uint32_t)(i % 2) * 1000 + (uint32_t)i;
  char buf[8192];
  p3cfg_plan p = split(P3CFG_MAX_PP, many);
  p3cfg__split_compact(buf, sizeof buf, &p);
  cr_expect_null(strstr(buf, "..."));
  /* A buffer too small is cut, visibly. */
  char small[16];
  p3cfg__split_compact(small, sizeof small, &p);
  cr_expect_str_eq(small, "1000,2001,10...");
}

Test(plan_text, tokens_keep_their_suffix)
{
  char buf[32];
  const struct {
    uint64_t n;
    const char *text;
  } cases[] = {{15000000000000ull, "15T"}, {1500000000000ull, "1.5T"}, {300000000000ull, "300B"},
               {2000000ull, "2M"},         {1234ull, "1.234K"},          {999ull, "999"},
               {1234567ull, "1234567"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    p3cfg__tokens_text(buf, sizeof buf, cases[i].n);
    cr_expect_str_eq(buf, cases[i].text);
  }
}

Test(plan_text, budget_is_tokens_over_throughput)
{
  p3cfg__result_entry e;
  memset(&e, 0, sizeof e);
  p3cfg_plan_init(&e.plan);
  e.plan.dp = 8, e.plan.tp = 4, e.plan.pp = 2;
  e.has_time = 1;
  e.memory.fits = 1;
  e.time.tokens_per_s = 1e6;
  p3cfg__budget b;
  cr_assert(p3cfg__budget_of(&b, &e, 86400000000ull)); /* one day at 1M tokens/s */
  cr_expect_float_eq(b.seconds, 86400.0, 1e-9);
  cr_expect_float_eq(b.days, 1.0, 1e-12);
  cr_expect_float_eq(b.gpu_hours, 64 * 24.0, 1e-9);
  cr_expect_not(p3cfg__budget_of(&b, &e, 0), "no tokens, no budget");
  e.memory.fits = 0;
  cr_expect_not(p3cfg__budget_of(&b, &e, 1000), "a plan that does not fit has no budget");
  cr_expect_eq(b.days, 0.0);
}
