/*
 * fuzz_model.c — libFuzzer target for p3cfg_model_load_string: any bytes, as YAML or JSON.
 *
 * Beyond memory safety (ASan, UBSan, LeakSanitizer in the libFuzzer build; the replay
 * driver under valgrind or ASan in CTest) every input must satisfy the oracles of
 * fuzz_common.h. A model that loads is then taken through the library the way the CLI
 * takes it: its info, estimates (the default plan, tp 2 x pp 2, and a plan whose every
 * knob is drawn from a hash of the input) on a small cluster, and a small search, so that extreme but valid values (2^20 layers, a
 * 2^26 vocabulary) reach the estimator and the time model too.
 */
#include "fuzz_common.h"

static p3cfg_cluster *fuzz_cluster;

static void setup(void)
{
  if (fuzz_cluster)
    return;
  if (p3cfg_cluster_load_string(&fuzz_cluster, fuzz_cluster_text, strlen(fuzz_cluster_text),
                                "fuzz-cluster.yaml", NULL) != P3CFG_OK)
    abort();
}

/* A plan for the 8 GPUs of the fuzz cluster, its knobs drawn from `h` (a hash of the
 * input), so that the estimator and the time model see every combination. */
static void estimate(const p3cfg_model *m, uint32_t tp, uint32_t pp, uint64_t h)
{
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = tp;
  plan.pp = pp;
  if (h) {
    plan.micro_batch = 1u << (h % 3);
    plan.virtual_stages = pp > 1 ? 1 + (uint32_t)(h >> 2) % 2 : 1;
    plan.recompute = (p3cfg_recompute)((h >> 3) % 3);
    plan.sequence_parallel = tp > 1 && ((h >> 5) & 1);
    plan.zero_stage = pp == 1 ? (uint32_t)(h >> 6) % 4 : (uint32_t)(h >> 6) % 2;
    plan.overlap = (uint32_t)(h >> 8) % 8;
  }
  p3cfg_result *r = NULL;
  int rc = p3cfg_estimate(&r, m, fuzz_cluster, &plan, NULL);
  FUZZ_CHECK((rc == P3CFG_OK) == (r != NULL));
  FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EPLAN);
  FUZZ_CHECK(fuzz_one_line(p3cfg_error_last()->message) || rc == P3CFG_OK);
  if (r)
    fuzz_walk_result(r, m, fuzz_cluster, 1);
  p3cfg_result_free(r);
}

static void search(const p3cfg_model *m)
{
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 2;
  so.max_micro_batch = 4;
  so.place = 0;
  p3cfg_result *r = NULL;
  int rc = p3cfg_search(&r, m, fuzz_cluster, &so);
  FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EINFEASIBLE || rc == P3CFG_EPLAN);
  FUZZ_CHECK((rc == P3CFG_EPLAN) == (r == NULL));
  if (r) {
    fuzz_walk_result(r, m, fuzz_cluster, 0);
    p3cfg_buffer b = {0};
    if (p3cfg_result_search_json(&b, r, m, fuzz_cluster) == P3CFG_OK)
      FUZZ_CHECK(strlen(b.data) == b.len);
    p3cfg_buffer_dispose(&b);
  }
  p3cfg_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  setup();
  p3cfg_model *m = NULL;
  p3cfg_diagnostics *d = NULL;
  int rc = p3cfg_model_load_string(&m, (const char *)data, size, "fuzz.yaml", &d);
  FUZZ_CHECK((rc == P3CFG_OK) == (m != NULL));
  fuzz_check_diags(d, rc, "fuzz.yaml");
  p3cfg_diagnostics_free(d);
  if (!m)
    return 0;

  p3cfg_model_info info;
  FUZZ_CHECK(p3cfg_model_get_info(&info, m) == P3CFG_OK);
  FUZZ_CHECK(info.name && info.layers > 0 && info.hidden % info.heads == 0);
  FUZZ_CHECK(info.heads % info.kv_heads == 0);
  FUZZ_CHECK(info.params_total > info.params_per_layer);
  FUZZ_CHECK(info.params_total <= (1ull << 51));
  uint64_t h = 1469598103934665603ull; /* FNV-1a of the input picks the third plan */
  for (size_t i = 0; i < size; i++)
    h = (h ^ data[i]) * 1099511628211ull;
  estimate(m, 1, 1, 0);
  estimate(m, 2, 2, 0);
  const unsigned a = (unsigned)(h >> 40) % 4, b = (unsigned)(h >> 44) % (4 - a); /* tp*pp <= 8 */
  estimate(m, 1u << a, 1u << b, h | 1);
  search(m);
  p3cfg_model_free(m);
  return 0;
}
