/*
 * consumer.c — uses the installed libp3cfg through its public header only: the version,
 * a model and a cluster from strings, one estimate, its JSON read back as a plan file,
 * and an export. tests/install/run.sh builds it with find_package(p3cfg) and with
 * pkg-config and runs it; it prints "consumer ok" and exits 0 when all worked.
 */
#include <stdio.h>
#include <string.h>

#include <p3cfg.h>

static const char model_yaml[] = "name: tiny\n"
                                 "layers: 8\nhidden: 1024\nheads: 16\n"
                                 "vocab: 32000\nseq_len: 2048\nglobal_batch: 64\n";
static const char cluster_yaml[] = "name: two-nodes\nnodes: 2\ngpus_per_node: 8\n"
                                   "gpu: h100-sxm\n"
                                   "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n";

static int check(int rc, const char *what)
{
  if (rc != 0)
    fprintf(stderr, "consumer: %s: %s\n", what, p3cfg_error_last()->message);
  return rc != 0;
}

int main(void)
{
  int bad = strncmp(p3cfg_version_string(), "0.", 2) != 0;
  p3cfg_model *model = NULL;
  p3cfg_cluster *cluster = NULL;
  p3cfg_result *result = NULL;
  p3cfg_plan_file *plans = NULL;
  p3cfg_buffer json = {NULL, 0}, out = {NULL, 0};
  p3cfg_plan plan = P3CFG_PLAN_INIT;
  plan.tp = 2;
  plan.pp = 2;
  bad = bad ||
        check(p3cfg_model_load_string(&model, model_yaml, strlen(model_yaml), "tiny", NULL),
              "model") ||
        check(p3cfg_cluster_load_string(&cluster, cluster_yaml, strlen(cluster_yaml), "c",
                                        NULL),
              "cluster") ||
        check(p3cfg_estimate(&result, model, cluster, &plan, NULL), "estimate") ||
        check(p3cfg_result_plan_json(&json, result, 0, model, cluster), "json") ||
        check(p3cfg_plan_file_load_string(&plans, json.data, json.len, "plan.json", NULL),
              "plan file") ||
        check(p3cfg_export(&out, plans, 0, P3CFG_EXPORT_HOSTFILE), "export");
  if (!bad)
    bad = p3cfg_plan_file_plan(plans, 0)->dp != 4 || strstr(out.data, "slots=8") == NULL;
  p3cfg_buffer_dispose(&out);
  p3cfg_buffer_dispose(&json);
  p3cfg_plan_file_free(plans);
  p3cfg_result_free(result);
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
  puts(bad ? "consumer FAILED" : "consumer ok");
  return bad;
}
