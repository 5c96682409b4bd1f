/*
 * api_test.c — p3cfg_estimate and the plan reports through the public API: defaults
 * filled in, invalid plans and bad arguments rejected with the right codes, the JSON of
 * spec §6 (keys, exact big integers, no time or placement when absent), the table, and
 * every allocation failure handled without leaks (run under ASan).
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "est_fixtures.h"
#include "plan_json.h"

static p3cfg_result *estimate_ok(const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *p)
{
  p3cfg_result *r = NULL;
  int rc = p3cfg_estimate(&r, m, c, p, NULL);
  cr_assert_eq(rc, P3CFG_OK, "%s", p3cfg_error_last()->message);
  cr_assert_not_null(r);
  cr_assert_eq(p3cfg_result_count(r), 1);
  return r;
}

Test(estimate, estimate_fills_megatron_defaults)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 4;
  p.micro_batch = 2;
  p3cfg_result *r = estimate_ok(&m, &c, &p);
  const p3cfg_plan *got = p3cfg_result_plan(r, 0);
  cr_assert_eq(got->dp, 2, "dp = GPUs / (tp pp)");
  cr_assert_eq(got->global_batch, 8, "the model's global batch");
  cr_assert_eq(got->n_stage_layers, 1);
  cr_assert_eq(got->stage_layers[0], 32);
  const p3cfg_memory *mem = p3cfg_result_memory(r, 0);
  cr_assert_eq(mem->n_stages, 1);
  cr_assert(mem->fits);
  cr_assert_gt(mem->stages[0].activations_bytes, 0);
  /* The default placement: rank r on GPU r, one entry per rank. */
  size_t n_ranks = 0;
  const p3cfg_rank_place *pl = p3cfg_result_placement(r, 0, &n_ranks);
  cr_assert_not_null(pl);
  cr_assert_eq(n_ranks, (size_t)got->dp * got->tp * got->pp);
  for (size_t k = 0; k < n_ranks; k++)
    cr_assert_eq(pl[k].rank, k);
  p3cfg_result_free(r);
}

Test(estimate, estimate_reports_time_only_when_the_time_model_answers)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p3cfg_result *r = estimate_ok(&m, &c, &p);
  const p3cfg_time *t = p3cfg_result_time(r, 0);
  if (t) /* the time model is built: it must say something physical */
    cr_assert_gt(t->iteration_s, 0.0);
  cr_assert_eq(p3cfg_error_last()->code, P3CFG_OK, "an absent time model is not an error");
  p3cfg_result_free(r);
  p3cfg_estimate_options o;
  p3cfg_estimate_options_init(&o);
  cr_assert_eq(o.version, P3CFG_ESTIMATE_OPTIONS_VERSION);
  cr_assert_eq(o.with_time, 1);
  o.with_time = 0;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &o), P3CFG_OK);
  cr_assert_null(p3cfg_result_time(r, 0));
  p3cfg_result_free(r);
}

Test(estimate, estimate_rejects_an_invalid_plan_with_its_rule)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(0, 3, 1, 2);
  p3cfg_result *r = (p3cfg_result *)&r;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, NULL), P3CFG_EPLAN);
  cr_assert_null(r);
  cr_assert_str_eq(p3cfg_error_last()->message,
                   "tp*pp = 3 does not divide the 8 GPUs of the cluster; give dp (or --gpus) "
                   "explicitly");
  p = est_plan(1, 3, 1, 2);
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, NULL), P3CFG_EPLAN);
  cr_assert_str_eq(p3cfg_error_last()->message, "tp 3 does not divide heads 32");
  p = est_plan(2, 4, 1, 3);
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, NULL), P3CFG_EPLAN);
  cr_assert_str_eq(p3cfg_error_last()->message,
                   "micro_batch*dp = 6 does not divide global_batch 8");
}

Test(estimate, estimate_rejects_bad_arguments)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(NULL, &m, &c, &p, NULL), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_estimate(&r, NULL, &c, &p, NULL), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_estimate(&r, &m, NULL, &p, NULL), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, NULL, NULL), P3CFG_EINVALID);
  p3cfg_estimate_options o = P3CFG_ESTIMATE_OPTIONS_INIT;
  o.version = 99;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &o), P3CFG_EINVALID);
  p.version = 99;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, NULL), P3CFG_EINVALID);
  cr_assert_null(r);
}

static cJSON *plan_json(const p3cfg_result *r, const p3cfg_model *m, const p3cfg_cluster *c,
                        p3cfg_buffer *buf)
{
  cr_assert_eq(p3cfg_result_plan_json(buf, r, 0, m, c), P3CFG_OK);
  cr_assert_eq(strlen(buf->data), buf->len);
  cJSON *root = cJSON_Parse(buf->data);
  cr_assert_not_null(root, "not JSON:\n%s", buf->data);
  return root;
}

Test(estimate, plan_json_has_the_spec_keys)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p.zero_stage = 1;
  p.overlap = P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER;
  p3cfg_estimate_options o = P3CFG_ESTIMATE_OPTIONS_INIT;
  o.with_time = 0;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &o), P3CFG_OK);
  p3cfg_buffer buf = {0};
  cJSON *root = plan_json(r, &m, &c, &buf);
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
  static const char *cfg_keys[] = {
      "dp", "tp", "pp", "micro_batch", "global_batch", "virtual_stages", "zero_stage"};
  for (size_t i = 0; i < sizeof cfg_keys / sizeof cfg_keys[0]; i++)
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(cfg, cfg_keys[i])), "%s",
              cfg_keys[i]);
  cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cfg, "recompute")->valuestring, "none");
  cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cfg, "sequence_parallel")));
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(cfg, "dp")->valuedouble, 2);
  const cJSON *ov = cJSON_GetObjectItemCaseSensitive(cfg, "overlap");
  cr_assert_eq(cJSON_GetArraySize(ov), 2);
  cr_assert_str_eq(cJSON_GetArrayItem(ov, 0)->valuestring, "grad");
  cr_assert_eq(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cfg, "stage_layers"), 0)->valuedouble,
      32);
  const cJSON *mem = cJSON_GetObjectItemCaseSensitive(root, "memory");
  cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mem, "fits")));
  static const char *mem_keys[] = {"peak_bytes", "capacity_bytes", "reserved_bytes", "total_bytes"};
  for (size_t i = 0; i < sizeof mem_keys / sizeof mem_keys[0]; i++)
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(mem, mem_keys[i])), "%s",
              mem_keys[i]);
  const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(mem, "stages"), 0);
  static const char *st_keys[] = {
      "stage",       "weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes",
      "other_bytes", "peak_bytes",    "layers",          "params",          "reserved_bytes",
      "in_flight"};
  for (size_t i = 0; i < sizeof st_keys / sizeof st_keys[0]; i++)
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(st, st_keys[i])), "%s", st_keys[i]);
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "params")->valuedouble, 1713299456.0);
  cr_assert_null(cJSON_GetObjectItemCaseSensitive(root, "time"));
  const cJSON *pl = cJSON_GetObjectItemCaseSensitive(root, "placement");
  cr_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(pl, "ranks")), "placement.ranks");
  cJSON_Delete(root);
  p3cfg_buffer_dispose(&buf);
  cr_assert_null(buf.data);
  p3cfg_result_free(r);
}

Test(estimate, plan_json_prints_integers_beyond_2_to_53_exactly)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p3cfg_result *r = estimate_ok(&m, &c, &p);
  r->entries[0].stages[0].peak_bytes = 9007199254740993ull; /* 2^53 + 1 */
  r->entries[0].memory.peak_bytes = UINT64_MAX;
  r->entries[0].has_time = 1;
  r->entries[0].time.iteration_s = 1.25;
  r->entries[0].time.mfu = 0.0 / 0.0;
  p3cfg_buffer buf = {0};
  cJSON *root = plan_json(r, &m, &c, &buf);
  cr_assert_not_null(strstr(buf.data, "\"peak_bytes\":\t9007199254740993"), "%s", buf.data);
  cr_assert_not_null(strstr(buf.data, "18446744073709551615"));
  cr_assert_not_null(strstr(buf.data, "\"iteration_s\":\t1.25"));
  cr_assert_not_null(strstr(buf.data, "\"mfu\":\tnull"), "NaN is not JSON");
  cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(root, "time"));
  cJSON_Delete(root);
  p3cfg_buffer_dispose(&buf);
  p3cfg_result_free(r);
}

Test(estimate, plan_json_includes_a_placement_with_node_names)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p3cfg_result *r = estimate_ok(&m, &c, &p);
  p3cfg__result_entry *e = &r->entries[0];
  e->n_ranks = 8;
  free(e->placement); /* the estimate's own default placement, replaced below */
  e->placement = calloc(8, sizeof *e->placement);
  for (uint32_t i = 0; i < 8; i++)
    e->placement[i] = (p3cfg_rank_place){i, 0, 7 - i, i / 4, 0, i % 4};
  p3cfg_buffer buf = {0};
  cJSON *root = plan_json(r, &m, &c, &buf);
  const cJSON *ranks = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(root, "placement"), "ranks");
  cr_assert_eq(cJSON_GetArraySize(ranks), 8);
  const cJSON *r7 = cJSON_GetArrayItem(ranks, 7);
  cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r7, "node")->valuestring, "node0");
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(r7, "gpu")->valuedouble, 0);
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(r7, "tp")->valuedouble, 3);
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(r7, "dp")->valuedouble, 1);
  cJSON_Delete(root);
  p3cfg_buffer_dispose(&buf);
  p3cfg_result_free(r);
}

Test(estimate, plan_table_shows_stages_in_gib_and_the_fits_line)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p.zero_stage = 1;
  p3cfg_result *r = estimate_ok(&m, &c, &p);
  p3cfg_buffer buf = {0};
  cr_assert_eq(p3cfg_result_plan_table(&buf, r, 0, &m, &c), P3CFG_OK);
  cr_assert_not_null(strstr(buf.data, "gpt3-7b-ci on test-cluster"), "%s", buf.data);
  /* 2 Ψ weights, 4 Ψ fp32 grads, 12 Ψ / 2 optimizer of Ψ = 1713299456 */
  cr_assert_not_null(strstr(buf.data, "    3.19     6.38      9.57"), "%s", buf.data);
  cr_assert_not_null(strstr(buf.data, ": fits ("), "%s", buf.data);
  p3cfg_buffer_dispose(&buf);
  c.gpu.memory_bytes = 40ull << 30;
  p3cfg_result_free(r);
  r = estimate_ok(&m, &c, &p);
  cr_assert_eq(p3cfg_result_plan_table(&buf, r, 0, &m, &c), P3CFG_OK);
  cr_assert_not_null(strstr(buf.data, "does not fit (stage 0 is "), "%s", buf.data);
  p3cfg_buffer_dispose(&buf);
  cr_assert_eq(p3cfg_result_plan_table(&buf, r, 1, &m, &c), P3CFG_EINVALID);
  cr_assert_null(buf.data);
  p3cfg_result_free(r);
}

Test(estimate, every_allocation_failure_is_reported_and_frees_everything)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  int done = 0;
  for (unsigned long n = 1; n < 1000 && !done; n++) {
    p3cfg_result *r = NULL;
    p3cfg_buffer json = {0}, table = {0};
    p3cfg_test_fail_alloc_after(n);
    int rc = p3cfg_estimate(&r, &m, &c, &p, NULL);
    if (rc == P3CFG_OK)
      rc = p3cfg_result_plan_json(&json, r, 0, &m, &c);
    if (rc == P3CFG_OK)
      rc = p3cfg_result_plan_table(&table, r, 0, &m, &c);
    p3cfg_test_fail_alloc_after(0);
    if (rc == P3CFG_OK)
      done = 1;
    else
      cr_assert_eq(rc, P3CFG_ENOMEM, "allocation %lu: %s", n, p3cfg_error_last()->message);
    p3cfg_buffer_dispose(&json);
    p3cfg_buffer_dispose(&table);
    p3cfg_result_free(r);
  }
  cr_assert(done);
}

/* --mem-margin: a plan fits only when total + margin <= capacity; a fraction counts of
 * the GPU's memory, rounded up; version 1 options (without the margin) still work. */
Test(estimate, margin_decides_fits)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p3cfg_result *r = estimate_ok(&m, &c, &p);
  const p3cfg_memory *mem0 = p3cfg_result_memory(r, 0);
  cr_assert(mem0->fits);
  cr_assert_eq(mem0->margin_bytes, 0);
  const uint64_t free_bytes = mem0->capacity_bytes - mem0->total_bytes;
  p3cfg_result_free(r);

  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  cr_assert_eq(eo.mem_margin_bytes, 0);
  cr_assert_eq(eo.mem_margin_fraction, 0.0);
  cr_assert_eq(eo.train_tokens, 0);
  eo.with_time = 0;
  eo.mem_margin_bytes = free_bytes; /* exactly what is left: still fits */
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &eo), P3CFG_OK);
  cr_assert(p3cfg_result_memory(r, 0)->fits);
  cr_assert_eq(p3cfg_result_memory(r, 0)->margin_bytes, free_bytes);
  p3cfg_result_free(r);
  eo.mem_margin_bytes = free_bytes + 1; /* one byte more: does not */
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &eo), P3CFG_OK);
  cr_assert_not(p3cfg_result_memory(r, 0)->fits);
  p3cfg_result_free(r);

  eo.mem_margin_bytes = 0;
  eo.mem_margin_fraction = 0.05;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &eo), P3CFG_OK);
  const uint64_t want = (uint64_t)ceil(0.05 * (double)c.gpu.memory_bytes);
  cr_assert_eq(p3cfg_result_memory(r, 0)->margin_bytes, want);
  cr_assert_eq(p3cfg_result_memory(r, 0)->fits, (int)(want <= free_bytes));
  p3cfg_result_free(r);

  eo.mem_margin_fraction = 1.0;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &eo), P3CFG_EINVALID);
  cr_assert_null(r);
  eo.mem_margin_fraction = -0.01;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &eo), P3CFG_EINVALID);

  /* A version 1 caller: its struct ends before the margin; garbage after it is ignored. */
  p3cfg_estimate_options v1;
  memset(&v1, 0xff, sizeof v1);
  p3cfg_estimate_options_init(&v1);
  v1.version = 1;
  v1.with_time = 0;
  v1.mem_margin_bytes = UINT64_MAX;
  v1.mem_margin_fraction = 7.0;
  cr_assert_eq(p3cfg_estimate(&r, &m, &c, &p, &v1), P3CFG_OK, "%s", p3cfg_error_last()->message);
  cr_assert(p3cfg_result_memory(r, 0)->fits);
  cr_assert_eq(p3cfg_result_memory(r, 0)->margin_bytes, 0);
  p3cfg_result_free(r);
}
