/*
 * api_args_test.c — every public function of include/p3cfg.h called with bad arguments:
 * each NULL pointer in turn, wrong `version` fields, out-of-range indexes and enums,
 * NaN and negative budgets. Functions returning int must return P3CFG_EINVALID with the
 * thread's last error saying so (one line) and leave their out-parameters empty; getters
 * return NULL or 0; free and dispose functions accept NULL. Nothing may crash (the suite
 * also runs under ASan and UBSan in the sanitizer build).
 *
 * The SVG pictures and the plan-file/export API are tested when this tree defines them
 * (P3CFG_HAVE_SVG, P3CFG_HAVE_EXPORT, set by tests/CMakeLists.txt).
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "p3cfg.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

/* The call returned P3CFG_EINVALID and said why, on one line. */
#define expect_einvalid(call)                                                            \
  do {                                                                                   \
    int rc_ = (call);                                                                    \
    cr_expect_eq(rc_, P3CFG_EINVALID, "%s returned %s", #call, p3cfg_error_name(rc_));   \
    cr_expect_eq(p3cfg_error_last()->code, P3CFG_EINVALID, "%s: last error", #call);     \
    const char *m_ = p3cfg_error_last()->message;                                        \
    cr_expect(m_ && m_[0] && !strchr(m_, '\n'), "%s: message '%s'", #call, m_);          \
  } while (0)

static p3cfg_model *model;
static p3cfg_cluster *cluster;
static p3cfg_result *estimated, *searched;

static void setup(void)
{
  cr_assert_eq(p3cfg_model_load(&model, SRC("models/megatron-1.7b.yaml"), NULL), P3CFG_OK);
  cr_assert_eq(p3cfg_cluster_load(&cluster, SRC("clusters/dgx-a100-1n.yaml"), NULL), P3CFG_OK);
  p3cfg_plan plan = P3CFG_PLAN_INIT;
  plan.tp = 2;
  cr_assert_eq(p3cfg_estimate(&estimated, model, cluster, &plan, NULL), P3CFG_OK);
  p3cfg_search_options so = P3CFG_SEARCH_OPTIONS_INIT;
  so.top_k = 2;
  cr_assert_eq(p3cfg_search(&searched, model, cluster, &so), P3CFG_OK);
}

static void teardown(void)
{
  p3cfg_result_free(estimated);
  p3cfg_result_free(searched);
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
}

TestSuite(api, .init = setup, .fini = teardown);

Test(api, version_and_error_strings_never_null)
{
  cr_expect_str_eq(p3cfg_version_string(), "0.1.0");
  cr_expect_eq(p3cfg_api_version(), P3CFG_API_VERSION);
  const int codes[] = {0, -1, -11, -12, 1, 100, -1000, INT32_MIN, INT32_MAX};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    cr_expect(p3cfg_strerror(codes[i]) && p3cfg_strerror(codes[i])[0]);
    cr_expect(p3cfg_error_name(codes[i]) && p3cfg_error_name(codes[i])[0]);
  }
  cr_expect_str_eq(p3cfg_error_name(P3CFG_EINVALID), "P3CFG_EINVALID");
  cr_expect_not_null(p3cfg_error_last());
  cr_expect_not_null(p3cfg_error_last()->message);
}

Test(api, diagnostics_accept_null)
{
  cr_expect_eq(p3cfg_diagnostics_count(NULL), 0);
  cr_expect_null(p3cfg_diagnostics_get(NULL, 0));
  p3cfg_diagnostics_free(NULL);
  p3cfg_diagnostics *d = NULL;
  cr_expect_eq(p3cfg_validate_file(&d, NULL, SRC("models/megatron-1.7b.yaml"), P3CFG_FILE_AUTO),
               P3CFG_OK);
  cr_expect_eq(p3cfg_diagnostics_count(d), 0);
  cr_expect_null(p3cfg_diagnostics_get(d, 0));
  cr_expect_null(p3cfg_diagnostics_get(d, SIZE_MAX));
  p3cfg_diagnostics_free(d);
}

Test(api, model_load_checks_arguments)
{
  p3cfg_model *m = (p3cfg_model *)1;
  p3cfg_diagnostics *d = (p3cfg_diagnostics *)1;
  expect_einvalid(p3cfg_model_load(NULL, SRC("models/megatron-1.7b.yaml"), NULL));
  expect_einvalid(p3cfg_model_load(&m, NULL, &d));
  cr_expect_null(d);
  m = (p3cfg_model *)1;
  expect_einvalid(p3cfg_model_load_string(&m, NULL, 4, "x", NULL));
  expect_einvalid(p3cfg_model_load_string(NULL, "a: 1", 4, "x", NULL));
  p3cfg_model_free(NULL);
  /* A NULL name is allowed: positions say "<string>". */
  cr_expect_eq(p3cfg_model_load_string(&m, "x: [", 4, NULL, NULL), P3CFG_ESYNTAX);
  cr_expect_null(m);
  cr_expect_str_eq(p3cfg_error_last()->file, "<string>");
}

Test(api, cluster_load_checks_arguments)
{
  p3cfg_cluster *c = (p3cfg_cluster *)1;
  p3cfg_diagnostics *d = (p3cfg_diagnostics *)1;
  expect_einvalid(p3cfg_cluster_load(NULL, SRC("clusters/dgx-a100-1n.yaml"), NULL));
  expect_einvalid(p3cfg_cluster_load(&c, NULL, &d));
  cr_expect_null(d);
  expect_einvalid(p3cfg_cluster_load_string(&c, NULL, 4, "x", NULL));
  expect_einvalid(p3cfg_cluster_load_string(NULL, "a: 1", 4, "x", NULL));
  p3cfg_cluster_free(NULL);
}

Test(api, validate_file_checks_arguments)
{
  p3cfg_diagnostics *d = (p3cfg_diagnostics *)1;
  p3cfg_file_kind k = P3CFG_FILE_MODEL;
  expect_einvalid(p3cfg_validate_file(NULL, &k, SRC("models/megatron-1.7b.yaml"), 0));
  cr_expect_eq(k, P3CFG_FILE_AUTO);
  expect_einvalid(p3cfg_validate_file(&d, NULL, NULL, P3CFG_FILE_AUTO));
  cr_expect_null(d);
  expect_einvalid(p3cfg_validate_file(&d, NULL, SRC("models/megatron-1.7b.yaml"),
                                      (p3cfg_file_kind)3));
  expect_einvalid(p3cfg_validate_file(&d, NULL, SRC("models/megatron-1.7b.yaml"),
                                      (p3cfg_file_kind)-1));
  cr_expect_null(d);
}

Test(api, info_checks_arguments)
{
  p3cfg_model_info mi;
  p3cfg_cluster_info ci;
  expect_einvalid(p3cfg_model_get_info(NULL, model));
  expect_einvalid(p3cfg_model_get_info(&mi, NULL));
  expect_einvalid(p3cfg_cluster_get_info(NULL, cluster));
  expect_einvalid(p3cfg_cluster_get_info(&ci, NULL));
  cr_expect_null(p3cfg_cluster_node_name(NULL, 0));
  cr_expect_null(p3cfg_cluster_node_name(cluster, 1));
  cr_expect_null(p3cfg_cluster_node_name(cluster, UINT32_MAX));
  cr_expect_str_eq(p3cfg_cluster_node_name(cluster, 0), "node0");
}

Test(api, plan_helpers_check_arguments)
{
  p3cfg_plan_init(NULL);
  cr_expect_str_eq(p3cfg_recompute_name((p3cfg_recompute)3), "invalid");
  cr_expect_str_eq(p3cfg_recompute_name((p3cfg_recompute)-1), "invalid");
  p3cfg_recompute r = P3CFG_RECOMPUTE_FULL;
  expect_einvalid(p3cfg_recompute_parse(NULL, "none"));
  expect_einvalid(p3cfg_recompute_parse(&r, NULL));
  expect_einvalid(p3cfg_recompute_parse(&r, "NONE"));
  expect_einvalid(p3cfg_recompute_parse(&r, ""));
  cr_expect_eq(r, P3CFG_RECOMPUTE_FULL, "a failed parse leaves *out alone");
}

Test(api, plan_resolve_checks_arguments_and_version)
{
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  expect_einvalid(p3cfg_plan_resolve(NULL, model, cluster));
  expect_einvalid(p3cfg_plan_resolve(&plan, NULL, cluster));
  expect_einvalid(p3cfg_plan_resolve(&plan, model, NULL));
  plan.version = 0;
  expect_einvalid(p3cfg_plan_resolve(&plan, model, cluster));
  plan.version = P3CFG_PLAN_VERSION + 1;
  expect_einvalid(p3cfg_plan_resolve(&plan, model, cluster));
}

Test(api, result_accessors_accept_null_and_bad_indexes)
{
  size_t n = 99;
  cr_expect_eq(p3cfg_result_count(NULL), 0);
  cr_expect_null(p3cfg_result_plan(NULL, 0));
  cr_expect_null(p3cfg_result_memory(NULL, 0));
  cr_expect_null(p3cfg_result_time(NULL, 0));
  cr_expect_null(p3cfg_result_placement(NULL, 0, &n));
  cr_expect_eq(n, 0);
  cr_expect_null(p3cfg_result_placement(NULL, 0, NULL));
  cr_expect_null(p3cfg_result_placement_info(NULL, 0));
  cr_expect_null(p3cfg_result_search_stats(NULL));
  const size_t bad[] = {1, 2, SIZE_MAX};
  for (size_t k = 0; k < 3; k++) {
    cr_expect_null(p3cfg_result_plan(estimated, bad[k]));
    cr_expect_null(p3cfg_result_memory(estimated, bad[k]));
    cr_expect_null(p3cfg_result_time(estimated, bad[k]));
    n = 99;
    cr_expect_null(p3cfg_result_placement(estimated, bad[k], &n));
    cr_expect_eq(n, 0);
    cr_expect_null(p3cfg_result_placement_info(estimated, bad[k]));
  }
  cr_expect_not_null(p3cfg_result_search_stats(estimated));
  p3cfg_result_free(NULL);
  p3cfg_buffer_dispose(NULL);
  p3cfg_buffer empty = {0};
  p3cfg_buffer_dispose(&empty);
}

Test(api, estimate_checks_arguments_and_versions)
{
  p3cfg_plan plan = P3CFG_PLAN_INIT;
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(NULL);
  p3cfg_estimate_options_init(&eo);
  p3cfg_result *r = (p3cfg_result *)1;
  expect_einvalid(p3cfg_estimate(NULL, model, cluster, &plan, NULL));
  expect_einvalid(p3cfg_estimate(&r, NULL, cluster, &plan, NULL));
  cr_expect_null(r);
  expect_einvalid(p3cfg_estimate(&r, model, NULL, &plan, NULL));
  expect_einvalid(p3cfg_estimate(&r, model, cluster, NULL, NULL));
  eo.version = 0;
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  eo.version = P3CFG_ESTIMATE_OPTIONS_VERSION + 1;
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  p3cfg_estimate_options_init(&eo);
  eo.place = 1;
  eo.with_time = 0;
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  p3cfg_estimate_options_init(&eo);
  eo.place_max_s = -1;
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  eo.place_max_s = nan("");
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  p3cfg_estimate_options_init(&eo);
  eo.mem_margin_fraction = 1.0;
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  eo.mem_margin_fraction = nan("");
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, &eo));
  plan.version = 0;
  expect_einvalid(p3cfg_estimate(&r, model, cluster, &plan, NULL));
  cr_expect_null(r);
}

Test(api, search_checks_arguments_and_options)
{
  p3cfg_search_options_init(NULL);
  p3cfg_result *r = (p3cfg_result *)1;
  expect_einvalid(p3cfg_search(NULL, model, cluster, NULL));
  expect_einvalid(p3cfg_search(&r, NULL, cluster, NULL));
  cr_expect_null(r);
  expect_einvalid(p3cfg_search(&r, model, NULL, NULL));
  const uint32_t layers[2] = {12, 12};
  for (int k = 0; k < 17; k++) {
    p3cfg_search_options so;
    p3cfg_search_options_init(&so);
    switch (k) {
    case 0: so.version = 0; break;
    case 1: so.version = P3CFG_SEARCH_OPTIONS_VERSION + 1; break;
    case 2: so.top_k = 0; break;
    case 3: so.top_k = 1001; break;
    case 4: so.threads = 0; break;
    case 5: so.recompute = 3; break;
    case 6: so.sequence_parallel = 2; break;
    case 7: so.zero_stage = 4; break;
    case 8: so.place_max_s = -0.5; break;
    case 9: so.place_max_s = nan(""); break;
    case 10: so.n_stage_layers = 2; so.stage_layers = NULL; break;
    case 11: so.n_stage_layers = 2; so.stage_layers = layers; so.pp = 4; break;
    case 12: so.gpus = 9; break;
    case 13: so.max_micro_batch = 0; break;
    case 14: so.mem_margin_fraction = 1.0; break;
    case 15: so.mem_margin_fraction = -0.1; break;
    case 16: so.mem_margin_fraction = nan(""); break;
    }
    r = (p3cfg_result *)1;
    expect_einvalid(p3cfg_search(&r, model, cluster, &so));
    cr_expect_null(r, "case %d left *out set", k);
  }
}

Test(api, reports_check_arguments)
{
  p3cfg_buffer b = {(char *)1, 7};
  expect_einvalid(p3cfg_result_plan_json(NULL, estimated, 0, model, cluster));
  expect_einvalid(p3cfg_result_plan_json(&b, NULL, 0, model, cluster));
  cr_expect(b.data == NULL && b.len == 0, "a failed report leaves an empty buffer");
  expect_einvalid(p3cfg_result_plan_json(&b, estimated, 1, model, cluster));
  expect_einvalid(p3cfg_result_plan_json(&b, estimated, 0, NULL, cluster));
  expect_einvalid(p3cfg_result_plan_json(&b, estimated, 0, model, NULL));
  expect_einvalid(p3cfg_result_plan_table(NULL, estimated, 0, model, cluster));
  expect_einvalid(p3cfg_result_plan_table(&b, NULL, 0, model, cluster));
  expect_einvalid(p3cfg_result_plan_table(&b, estimated, 1, model, cluster));
  expect_einvalid(p3cfg_result_plan_table(&b, estimated, SIZE_MAX, model, cluster));
  expect_einvalid(p3cfg_result_plan_table(&b, estimated, 0, NULL, cluster));
  expect_einvalid(p3cfg_result_plan_table(&b, estimated, 0, model, NULL));
  expect_einvalid(p3cfg_result_search_json(NULL, searched, model, cluster));
  expect_einvalid(p3cfg_result_search_json(&b, NULL, model, cluster));
  expect_einvalid(p3cfg_result_search_json(&b, searched, NULL, cluster));
  expect_einvalid(p3cfg_result_search_json(&b, searched, model, NULL));
  expect_einvalid(p3cfg_result_search_table(NULL, searched, model, cluster, 0));
  expect_einvalid(p3cfg_result_search_table(&b, NULL, model, cluster, 0));
  expect_einvalid(p3cfg_result_search_table(&b, searched, NULL, cluster, 1));
  expect_einvalid(p3cfg_result_search_table(&b, searched, model, NULL, 1));
  cr_expect(b.data == NULL && b.len == 0);
  cr_expect_eq(p3cfg_result_indistinguishable(NULL), 0);
}

#ifdef P3CFG_HAVE_SVG
Test(api, svg_checks_arguments)
{
  typedef int (*svg_fn)(p3cfg_buffer *, const p3cfg_result *, size_t, const p3cfg_model *,
                        const p3cfg_cluster *);
  const svg_fn fns[] = {p3cfg_result_svg_timeline, p3cfg_result_svg_links,
                        p3cfg_result_svg_memory};
  for (size_t k = 0; k < 3; k++) {
    p3cfg_buffer b = {0};
    expect_einvalid(fns[k](NULL, estimated, 0, model, cluster));
    expect_einvalid(fns[k](&b, NULL, 0, model, cluster));
    expect_einvalid(fns[k](&b, estimated, 1, model, cluster));
    expect_einvalid(fns[k](&b, estimated, 0, NULL, cluster));
    expect_einvalid(fns[k](&b, estimated, 0, model, NULL));
    cr_expect(b.data == NULL && b.len == 0);
  }
}
#endif

#ifdef P3CFG_HAVE_EXPORT
Test(api, plan_files_check_arguments)
{
  p3cfg_plan_file *f = (p3cfg_plan_file *)1;
  p3cfg_diagnostics *d = (p3cfg_diagnostics *)1;
  expect_einvalid(p3cfg_plan_file_load(NULL, "x.json", NULL));
  expect_einvalid(p3cfg_plan_file_load(&f, NULL, &d));
  cr_expect_null(d);
  expect_einvalid(p3cfg_plan_file_load_string(NULL, "{}", 2, "x", NULL));
  expect_einvalid(p3cfg_plan_file_load_string(&f, NULL, 2, "x", NULL));
  f = (p3cfg_plan_file *)1;
  expect_einvalid(p3cfg_plan_file_from_result(NULL, searched, model, cluster));
  expect_einvalid(p3cfg_plan_file_from_result(&f, NULL, model, cluster));
  cr_expect_null(f);
  expect_einvalid(p3cfg_plan_file_from_result(&f, searched, NULL, cluster));
  expect_einvalid(p3cfg_plan_file_from_result(&f, searched, model, NULL));
  p3cfg_plan_file_free(NULL);
  size_t n = 99;
  cr_expect_eq(p3cfg_plan_file_count(NULL), 0);
  cr_expect_null(p3cfg_plan_file_plan(NULL, 0));
  cr_expect_null(p3cfg_plan_file_model(NULL, 0));
  cr_expect_null(p3cfg_plan_file_cluster(NULL, 0));
  cr_expect_null(p3cfg_plan_file_placement(NULL, 0, &n));
  cr_expect_eq(n, 0);

  cr_assert_eq(p3cfg_plan_file_from_result(&f, searched, model, cluster), P3CFG_OK);
  const size_t count = p3cfg_plan_file_count(f);
  cr_expect_eq(count, 2);
  cr_expect_null(p3cfg_plan_file_plan(f, count));
  cr_expect_null(p3cfg_plan_file_model(f, count));
  cr_expect_null(p3cfg_plan_file_cluster(f, SIZE_MAX));
  n = 99;
  cr_expect_null(p3cfg_plan_file_placement(f, count, &n));
  cr_expect_eq(n, 0);
  cr_expect_not_null(p3cfg_plan_file_placement(f, 0, NULL));
  /* made for this model and cluster; NULLs and a plan past the end refused */
  cr_expect_eq(p3cfg_plan_file_check_made_for(f, 0, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  expect_einvalid(p3cfg_plan_file_check_made_for(NULL, 0, model, cluster));
  expect_einvalid(p3cfg_plan_file_check_made_for(f, 0, NULL, cluster));
  expect_einvalid(p3cfg_plan_file_check_made_for(f, 0, model, NULL));
  expect_einvalid(p3cfg_plan_file_check_made_for(f, count, model, cluster));

  cr_expect_str_eq(p3cfg_export_format_name((p3cfg_export_format)7), "?");
  cr_expect_str_eq(p3cfg_export_format_name((p3cfg_export_format)-1), "?");
  p3cfg_export_format fmt = P3CFG_EXPORT_HOSTFILE;
  expect_einvalid(p3cfg_export_format_parse(NULL, "megatron"));
  expect_einvalid(p3cfg_export_format_parse(&fmt, NULL));
  expect_einvalid(p3cfg_export_format_parse(&fmt, "Megatron"));
  cr_expect_eq(fmt, P3CFG_EXPORT_HOSTFILE);
  p3cfg_buffer b = {0};
  expect_einvalid(p3cfg_export(NULL, f, 0, P3CFG_EXPORT_MEGATRON));
  expect_einvalid(p3cfg_export(&b, NULL, 0, P3CFG_EXPORT_MEGATRON));
  expect_einvalid(p3cfg_export(&b, f, count, P3CFG_EXPORT_MEGATRON));
  expect_einvalid(p3cfg_export(&b, f, 0, (p3cfg_export_format)7));
  expect_einvalid(p3cfg_export(&b, f, 0, (p3cfg_export_format)-1));
  cr_expect(b.data == NULL && b.len == 0);
  p3cfg_plan_file_free(f);
}
#endif

Test(api, alloc_hook_accepts_any_count)
{
  p3cfg_test_fail_alloc_after(0);
  p3cfg_test_fail_alloc_after(ULONG_MAX);
  p3cfg_test_fail_alloc_after(0);
  p3cfg_model *m = NULL;
  cr_expect_eq(p3cfg_model_load(&m, SRC("models/megatron-1.7b.yaml"), NULL), P3CFG_OK);
  p3cfg_model_free(m);
}
