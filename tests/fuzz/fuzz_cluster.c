/*
 * fuzz_cluster.c — libFuzzer target for p3cfg_cluster_load_string: any bytes, as YAML or
 * JSON, with the measured `links` matrices at node and GPU granularity in reach.
 *
 * Every input must satisfy the oracles of fuzz_common.h. A cluster that loads is taken
 * through the library: its info and node names, an estimate of a small model on up to 16
 * of its GPUs (default placement, then placed on its links when it has them), and a small
 * search with placement. Placement runs up to 4096 GPUs and the search up to 64, to keep
 * each run well under the one-second budget; tests/extreme covers the largest clusters.
 */
#include "fuzz_common.h"

static p3cfg_model *fuzz_model;

static void setup(void)
{
  if (fuzz_model)
    return;
  if (p3cfg_model_load_string(&fuzz_model, fuzz_model_text, strlen(fuzz_model_text),
                              "fuzz-model.yaml", NULL) != P3CFG_OK)
    abort();
}

/* dp = the largest power of two up to the GPUs and the model's global batch (16). */
static void estimate(const p3cfg_cluster *c, uint64_t gpus, int place)
{
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.dp = 1;
  while (plan.dp * 2 <= gpus && plan.dp < 16)
    plan.dp *= 2;
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  eo.place = place;
  eo.place_moves = 200;
  p3cfg_result *r = NULL;
  int rc = p3cfg_estimate(&r, fuzz_model, c, &plan, &eo);
  FUZZ_CHECK((rc == P3CFG_OK) == (r != NULL));
  FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EPLAN);
  if (r)
    fuzz_walk_result(r, fuzz_model, c, 1);
  p3cfg_result_free(r);
}

static void search(const p3cfg_cluster *c)
{
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 2;
  so.max_micro_batch = 2;
  so.place_top = 2;
  so.place_moves = 100;
  p3cfg_result *r = NULL;
  int rc = p3cfg_search(&r, fuzz_model, c, &so);
  FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EINFEASIBLE || rc == P3CFG_EPLAN);
  FUZZ_CHECK((rc == P3CFG_EPLAN) == (r == NULL));
  if (r) {
    fuzz_walk_result(r, fuzz_model, c, 0);
    p3cfg_buffer b = {0};
    if (p3cfg_result_search_table(&b, r, fuzz_model, c, 1) == P3CFG_OK)
      FUZZ_CHECK(strlen(b.data) == b.len);
    p3cfg_buffer_dispose(&b);
  }
  p3cfg_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  setup();
  p3cfg_cluster *c = NULL;
  p3cfg_diagnostics *d = NULL;
  int rc = p3cfg_cluster_load_string(&c, (const char *)data, size, "fuzz.yaml", &d);
  FUZZ_CHECK((rc == P3CFG_OK) == (c != NULL));
  fuzz_check_diags(d, rc, "fuzz.yaml");
  p3cfg_diagnostics_free(d);
  if (!c)
    return 0;

  p3cfg_cluster_info info;
  FUZZ_CHECK(p3cfg_cluster_get_info(&info, c) == P3CFG_OK);
  FUZZ_CHECK(info.name && info.gpu_name && info.nodes > 0 && info.gpus_per_node > 0);
  FUZZ_CHECK(info.gpu_memory_bytes > 0 && info.gpu_peak_flops > 0 && info.gpu_hbm_Bps > 0);
  FUZZ_CHECK(p3cfg_cluster_node_name(c, info.nodes - 1) != NULL);
  FUZZ_CHECK(p3cfg_cluster_node_name(c, info.nodes) == NULL);
  const uint64_t gpus = (uint64_t)info.nodes * info.gpus_per_node;
  estimate(c, gpus, 0);
  if (info.has_links && gpus <= 4096)
    estimate(c, gpus, 1);
  if (gpus <= 64)
    search(c);
  p3cfg_cluster_free(c);
  return 0;
}
