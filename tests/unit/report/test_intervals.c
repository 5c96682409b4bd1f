/*
 * test_intervals.c — prediction intervals in the reports (suite "intervals"): the JSON
 * keys time.iteration_s_range, memory.peak_bytes_range and each stage's peak_bytes_range
 * hold [low, high] around their point; a plan file with them reads back to the same
 * plans; an uncalibrated GPU gets the wider interval; the search table names the leading
 * plans whose intervals overlap and --explain says which knobs separate them.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"
#include "types.h"
#include "uncertainty.h"

static const char cluster_text[] = "name: one-node\n"
                                   "nodes: 1\n"
                                   "gpus_per_node: 8\n"
                                   "gpu: %s\n"
                                   "network:\n"
                                   "  intra_node_GBps: 450\n"
                                   "  inter_node_GBps: 50\n";

static p3cfg_model *model(void)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, P3CFG_SOURCE_DIR "/tests/fixtures/estimate/gpt3-7b-ci.yaml",
                                NULL),
               0, "%s", p3cfg_error_last()->message);
  return m;
}

static p3cfg_cluster *cluster(const char *gpu)
{
  char text[512];
  const int n = snprintf(text, sizeof text, cluster_text, gpu);
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load_string(&c, text, (size_t)n, "one-node.yaml", NULL), 0, "%s",
               p3cfg_error_last()->message);
  return c;
}

static p3cfg_result *estimate(const p3cfg_model *m, const p3cfg_cluster *c)
{
  p3cfg_plan plan = P3CFG_PLAN_INIT;
  plan.tp = 4;
  plan.micro_batch = 2;
  plan.zero_stage = 1;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &plan, NULL), 0, "%s", p3cfg_error_last()->message);
  return r;
}

/* key's [low, high] in o, checked against the point o[point_key]. */
static void check_range(const cJSON *o, const char *point_key, const char *range_key)
{
  const cJSON *point = cJSON_GetObjectItemCaseSensitive(o, point_key);
  const cJSON *range = cJSON_GetObjectItemCaseSensitive(o, range_key);
  cr_assert(cJSON_IsNumber(point), "%s", point_key);
  cr_assert(cJSON_IsArray(range) && cJSON_GetArraySize(range) == 2, "%s is [low, high]",
            range_key);
  const double lo = cJSON_GetArrayItem(range, 0)->valuedouble;
  const double hi = cJSON_GetArrayItem(range, 1)->valuedouble;
  cr_expect(lo <= point->valuedouble && point->valuedouble <= hi && lo < hi,
            "%s [%.17g, %.17g] around %.17g", range_key, lo, hi, point->valuedouble);
}

static void check_plan_json(const cJSON *plan)
{
  const cJSON *time = cJSON_GetObjectItemCaseSensitive(plan, "time");
  const cJSON *memory = cJSON_GetObjectItemCaseSensitive(plan, "memory");
  cr_assert_not_null(time);
  cr_assert_not_null(memory);
  check_range(time, "iteration_s", "iteration_s_range");
  check_range(memory, "peak_bytes", "peak_bytes_range");
  const cJSON *stage;
  cJSON_ArrayForEach(stage, cJSON_GetObjectItemCaseSensitive(memory, "stages"))
      check_range(stage, "peak_bytes", "peak_bytes_range");
  /* Every key that was there before stays. */
  cr_expect_not_null(cJSON_GetObjectItemCaseSensitive(time, "iteration_s"));
  cr_expect_not_null(cJSON_GetObjectItemCaseSensitive(memory, "total_bytes"));
}

Test(intervals, estimate_json_has_the_ranges)
{
  p3cfg_model *m = model();
  p3cfg_cluster *c = cluster("h100-sxm");
  p3cfg_result *r = estimate(m, c);
  const p3cfg_time *t = p3cfg_result_time(r, 0);
  cr_expect(t->iteration_s_low < t->iteration_s && t->iteration_s < t->iteration_s_high);
  const p3cfg_memory *mem = p3cfg_result_memory(r, 0);
  cr_expect(mem->peak_bytes_low < mem->peak_bytes && mem->peak_bytes < mem->peak_bytes_high);
  cr_expect(mem->stages[0].peak_bytes_low < mem->stages[0].peak_bytes &&
            mem->stages[0].peak_bytes < mem->stages[0].peak_bytes_high);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_result_plan_json(&b, r, 0, m, c), 0);
  cJSON *root = cJSON_Parse(b.data);
  cr_assert_not_null(root);
  check_plan_json(root);
  cJSON_Delete(root);
  p3cfg_buffer_dispose(&b);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(intervals, uncalibrated_gpu_has_a_wider_interval)
{
  p3cfg_model *m = model();
  p3cfg_cluster *fitted = cluster("h100-sxm"), *derived = cluster("h100-pcie");
  p3cfg_result *a = estimate(m, fitted), *b = estimate(m, derived);
  const p3cfg_time *ta = p3cfg_result_time(a, 0), *tb = p3cfg_result_time(b, 0);
  const double wa = (ta->iteration_s_high - ta->iteration_s_low) / ta->iteration_s;
  const double wb = (tb->iteration_s_high - tb->iteration_s_low) / tb->iteration_s;
  cr_expect(wb > wa, "h100-pcie %.3f vs h100-sxm %.3f of the point", wb, wa);
  /* Memory bytes do not depend on the efficiency constants. */
  const p3cfg_memory *ma = p3cfg_result_memory(a, 0);
  cr_expect_eq(ma->peak_bytes_high - ma->peak_bytes,
               p3cfg_result_memory(b, 0)->peak_bytes_high - p3cfg_result_memory(b, 0)->peak_bytes);
  p3cfg_result_free(a);
  p3cfg_result_free(b);
  p3cfg_cluster_free(fitted);
  p3cfg_cluster_free(derived);
  p3cfg_model_free(m);
}

Test(intervals, search_json_ranges_round_trip_through_the_plan_file)
{
  p3cfg_model *m = model();
  p3cfg_cluster *c = cluster("h100-sxm");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 4;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_result_search_json(&b, r, m, c), 0);
  cJSON *root = cJSON_Parse(b.data);
  cr_assert_not_null(root);
  const cJSON *plan;
  int n = 0;
  cJSON_ArrayForEach(plan, cJSON_GetObjectItemCaseSensitive(root, "plans")) check_plan_json(plan),
      n++;
  cr_expect_eq((size_t)n, p3cfg_result_count(r));
  cJSON_Delete(root);

  /* The reader accepts the new keys, and gives back the plans written. */
  p3cfg_plan_file *f = NULL;
  cr_assert_eq(p3cfg_plan_file_load_string(&f, b.data, b.len, "plans.json", NULL), 0, "%s",
               p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_plan_file_count(f), p3cfg_result_count(r));
  for (size_t i = 0; i < p3cfg_plan_file_count(f); i++) {
    const p3cfg_plan *pa = p3cfg_result_plan(r, i), *pb = p3cfg_plan_file_plan(f, i);
    cr_expect(pa->dp == pb->dp && pa->tp == pb->tp && pa->pp == pb->pp &&
              pa->micro_batch == pb->micro_batch && pa->virtual_stages == pb->virtual_stages &&
              pa->recompute == pb->recompute && pa->sequence_parallel == pb->sequence_parallel &&
              pa->zero_stage == pb->zero_stage && pa->n_stage_layers == pb->n_stage_layers);
  }
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&b);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* A result of three plans at the given times (calibrated intervals), to test the report
 * of overlapping intervals without depending on the time model's numbers. */
static p3cfg_result *three_plans(const double times[3])
{
  p3cfg_result *r = p3cfg__result_new();
  cr_assert_not_null(r);
  for (int k = 0; k < 3; k++) {
    p3cfg_plan p = P3CFG_PLAN_INIT;
    p.dp = 8 >> k;
    p.tp = 1u << k;
    p.n_stage_layers = 1;
    p.stage_layers[0] = 32;
    p.global_batch = 8;
    p3cfg__result_entry *e = p3cfg__result_add(r, &p);
    cr_assert_not_null(e);
    e->has_time = 1;
    e->time.iteration_s = times[k];
    e->memory.fits = 1;
    p3cfg__time_range(times[k], 1, &e->time.iteration_s_low, &e->time.iteration_s_high);
  }
  return r;
}

static char *search_table(const p3cfg_result *r, int explain)
{
  p3cfg_model *m = model();
  p3cfg_cluster *c = cluster("h100-sxm");
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_result_search_table(&b, r, m, c, explain), 0, "%s",
               p3cfg_error_last()->message);
  char *text = strdup(b.data);
  p3cfg_buffer_dispose(&b);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  return text;
}

/* The largest separation (fraction of the faster time) at which two calibrated intervals
 * still meet: P90 / P10 - 1, whatever numbers the calibration gives. */
static double limit(void) { return P3CFG__TIME_RATIO_P90 / P3CFG__TIME_RATIO_P10 - 1.0; }

Test(intervals, overlapping_plans_are_named_under_the_table)
{
  /* #2 inside #1's reach, #3 far outside it. */
  const double times[3] = {1.0, 1.0 + 0.5 * limit(), 1.0 + 3.0 * limit()};
  p3cfg_result *r = three_plans(times);
  cr_expect_eq(p3cfg_result_indistinguishable(r), 2);
  char *plain = search_table(r, 0);
  cr_expect_not_null(strstr(plain, "plans 1 and 2 are within the model's 80 % interval of each "
                                   "other\n"),
                     "%s", plain);
  char pct[64];
  snprintf(pct, sizeof pct, " -%.0f/+%.0f %% ", 100.0 * (1.0 - P3CFG__TIME_RATIO_P10),
           100.0 * (P3CFG__TIME_RATIO_P90 - 1.0));
  cr_expect_not_null(strstr(plain, pct), "'%s' in %s", pct, plain);
  cr_expect_null(strstr(plain, "cannot tell"), "only --explain says which knobs");
  char *explained = search_table(r, 1);
  char line[256];
  snprintf(line, sizeof line,
           "#2 differs from #1 in tp 1 -> 2, dp 8 -> 4: separated by %.1f %% vs an interval "
           "of %.1f %%: the model cannot tell them apart\n",
           50.0 * limit(), 100.0 * limit());
  cr_expect_not_null(strstr(explained, line), "'%s' in %s", line, explained);
  snprintf(line, sizeof line,
           "#3 differs from #1 in tp 1 -> 4, dp 8 -> 2: separated by %.1f %% vs an interval "
           "of %.1f %%: the first plan the model tells apart from those above\n",
           300.0 * limit(), 100.0 * limit());
  cr_expect_not_null(strstr(explained, line), "'%s' in %s", line, explained);
  free(plain);
  free(explained);
  p3cfg_result_free(r);
}

Test(intervals, overlap_needs_every_pair)
{
  /* #2 overlaps #1 and #3 overlaps #2, but #3 does not overlap #1: only 1-2 are named. */
  const double step = 1.0 + 0.6 * limit();
  const double chain[3] = {1.0, step, step * step};
  p3cfg_result *r = three_plans(chain);
  cr_expect_eq(p3cfg_result_indistinguishable(r), 2);
  p3cfg_result_free(r);
  const double close[3] = {1.0, 1.0 + 0.1 * limit(), 1.0 + 0.2 * limit()};
  r = three_plans(close);
  cr_expect_eq(p3cfg_result_indistinguishable(r), 3);
  char *plain = search_table(r, 0);
  cr_expect_not_null(strstr(plain, "plans 1-3 (every plan shown) are within"), "%s", plain);
  free(plain);
  p3cfg_result_free(r);
  const double apart[3] = {1.0, 1.0 + 2.0 * limit(), 1.0 + 5.0 * limit()};
  r = three_plans(apart);
  cr_expect_eq(p3cfg_result_indistinguishable(r), 1);
  plain = search_table(r, 0);
  cr_expect_null(strstr(plain, "within the model's"), "%s", plain);
  free(plain);
  p3cfg_result_free(r);
}
