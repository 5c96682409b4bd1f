/*
 * presets_load.c — every shipped preset under models/ and clusters/ loads through the
 * public API (p3cfg_model_load / p3cfg_cluster_load / p3cfg_validate_file) without a
 * single diagnostic, names itself after its file, and states the published facts it
 * cites: parameter counts of GPT-3, the Megatron SC'21 family (Table 1), Llama 3, BLOOM
 * and the Korthikanti 22B model; GPU counts and link figures of the clusters; the
 * measured links of the Pipette cluster.
 *
 * Link figures are not in the public API, so those checks read the cluster struct
 * (src/common/types.h); everything else goes through p3cfg.h alone.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"
#include "types.h"

#define MODELS_DIR P3CFG_SOURCE_DIR "/models"
#define CLUSTERS_DIR P3CFG_SOURCE_DIR "/clusters"
#define MAX_PRESETS 128
#define GBPS 1e9

typedef struct preset_list {
  size_t count;
  char stems[MAX_PRESETS][128]; /* file name without .yaml / .json */
  char paths[MAX_PRESETS][512];
} preset_list;

static int by_name(const void *a, const void *b)
{
  return strcmp(a, b);
}

/* Every *.yaml / *.json file directly under `dir`, sorted by name. */
static void list_presets(preset_list *out, const char *dir)
{
  char names[MAX_PRESETS][128];
  size_t n = 0;
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot open %s", dir);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t len = strlen(e->d_name);
    int yaml = len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0;
    int json = len > 5 && strcmp(e->d_name + len - 5, ".json") == 0;
    if (!yaml && !json)
      continue;
    cr_assert_lt(n, MAX_PRESETS, "too many presets in %s", dir);
    cr_assert_lt(len, sizeof names[0], "name too long: %s", e->d_name);
    memcpy(names[n++], e->d_name, len + 1);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], by_name);

  out->count = n;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(names[i]) - 5;
    memcpy(out->stems[i], names[i], len);
    out->stems[i][len] = '\0';
    snprintf(out->paths[i], sizeof out->paths[i], "%s/%s", dir, names[i]);
  }
}

/* The last error as one line, for assertion messages. */
static const char *last_error(void)
{
  static char buf[1024];
  const p3cfg_error *e = p3cfg_error_last();
  snprintf(buf, sizeof buf, "%s:%d:%d: %s (%s)", e->file ? e->file : "-", e->line, e->column,
           e->message, p3cfg_error_name(e->code));
  return buf;
}

static void expect_no_diagnostics(const p3cfg_diagnostics *diags, const char *path)
{
  size_t n = p3cfg_diagnostics_count(diags);
  for (size_t i = 0; i < n; i++) {
    const p3cfg_diag *d = p3cfg_diagnostics_get(diags, i);
    cr_expect_fail("%s:%d:%d: %s", path, d->line, d->column, d->message);
  }
}

static p3cfg_model *load_model(const char *stem)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s.yaml", MODELS_DIR, stem);
  p3cfg_model *m = NULL;
  int rc = p3cfg_model_load(&m, path, NULL);
  cr_assert_eq(rc, 0, "%s: %s", path, last_error());
  cr_assert_not_null(m);
  return m;
}

static p3cfg_cluster *load_cluster(const char *stem)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s.yaml", CLUSTERS_DIR, stem);
  p3cfg_cluster *c = NULL;
  int rc = p3cfg_cluster_load(&c, path, NULL);
  cr_assert_eq(rc, 0, "%s: %s", path, last_error());
  cr_assert_not_null(c);
  return c;
}

static p3cfg_model_info model_info(const p3cfg_model *m)
{
  p3cfg_model_info info;
  int rc = p3cfg_model_get_info(&info, m);
  cr_assert_eq(rc, 0, "p3cfg_model_get_info: %s", last_error());
  return info;
}

static p3cfg_cluster_info cluster_info(const p3cfg_cluster *c)
{
  p3cfg_cluster_info info;
  int rc = p3cfg_cluster_get_info(&info, c);
  cr_assert_eq(rc, 0, "p3cfg_cluster_get_info: %s", last_error());
  return info;
}

/* ---- every file -------------------------------------------------------------------- */

Test(presets, every_model_loads_and_is_named_after_its_file)
{
  preset_list list;
  list_presets(&list, MODELS_DIR);
  /* GPT-3, ten Megatron SC'21 models, three Llama 3, BLOOM, Korthikanti 22B. */
  cr_expect_geq(list.count, 16, "only %zu model presets", list.count);
  for (size_t i = 0; i < list.count; i++) {
    p3cfg_model *m = NULL;
    p3cfg_diagnostics *diags = NULL;
    int rc = p3cfg_model_load(&m, list.paths[i], &diags);
    cr_expect_eq(rc, 0, "%s: %s", list.paths[i], last_error());
    if (diags)
      expect_no_diagnostics(diags, list.paths[i]);
    p3cfg_diagnostics_free(diags);
    if (rc == 0) {
      p3cfg_model_info info = model_info(m);
      cr_expect_str_eq(info.name, list.stems[i], "%s: name", list.paths[i]);
      cr_expect_gt(info.params_total, info.params_non_embedding / 2, "%s", list.paths[i]);
      cr_expect_gt(info.global_batch, 0, "%s", list.paths[i]);
    }
    p3cfg_model_free(m);
  }
}

Test(presets, every_cluster_loads_and_is_named_after_its_file)
{
  preset_list list;
  list_presets(&list, CLUSTERS_DIR);
  /* DGX A100 x4, DGX H100 x5, H200, Pipette. */
  cr_expect_geq(list.count, 11, "only %zu cluster presets", list.count);
  for (size_t i = 0; i < list.count; i++) {
    p3cfg_cluster *c = NULL;
    p3cfg_diagnostics *diags = NULL;
    int rc = p3cfg_cluster_load(&c, list.paths[i], &diags);
    cr_expect_eq(rc, 0, "%s: %s", list.paths[i], last_error());
    if (diags)
      expect_no_diagnostics(diags, list.paths[i]);
    p3cfg_diagnostics_free(diags);
    if (rc == 0) {
      p3cfg_cluster_info info = cluster_info(c);
      cr_expect_str_eq(info.name, list.stems[i], "%s: name", list.paths[i]);
      /* GB200 / GB300 NVL72 racks are trays of 4 in one NVLink domain of 72 */
      const int nvl72 = strncmp(list.stems[i], "gb", 2) == 0;
      cr_expect_eq(info.gpus_per_node, nvl72 ? 4 : 8, "%s: an 8-GPU server or a 4-GPU tray",
                   list.paths[i]);
      cr_expect_eq(c->nvlink_domain, nvl72 ? 72 : info.gpus_per_node, "%s: nvlink_domain",
                   list.paths[i]);
      cr_expect_gt(info.gpu_memory_bytes, 0, "%s", list.paths[i]);
      cr_expect_not_null(p3cfg_cluster_node_name(c, info.nodes - 1), "%s", list.paths[i]);
      cr_expect_null(p3cfg_cluster_node_name(c, info.nodes), "%s", list.paths[i]);
    }
    p3cfg_cluster_free(c);
  }
}

static void expect_validates_as(const char *dir, p3cfg_file_kind expected)
{
  preset_list list;
  list_presets(&list, dir);
  for (size_t i = 0; i < list.count; i++) {
    p3cfg_diagnostics *diags = NULL;
    p3cfg_file_kind kind = P3CFG_FILE_AUTO;
    int rc = p3cfg_validate_file(&diags, &kind, list.paths[i], P3CFG_FILE_AUTO);
    cr_expect_eq(rc, 0, "%s: %s", list.paths[i], last_error());
    cr_expect_eq(kind, expected, "%s: detected as kind %d", list.paths[i], (int)kind);
    if (diags) {
      cr_expect_eq(p3cfg_diagnostics_count(diags), 0, "%s", list.paths[i]);
      expect_no_diagnostics(diags, list.paths[i]);
    }
    p3cfg_diagnostics_free(diags);
  }
}

Test(presets, every_preset_validates_as_its_kind)
{
  expect_validates_as(MODELS_DIR, P3CFG_FILE_MODEL);
  expect_validates_as(CLUSTERS_DIR, P3CFG_FILE_CLUSTER);
}

/* ---- models ------------------------------------------------------------------------ */

static void expect_params_billions(const char *stem, double lo, double hi)
{
  p3cfg_model *m = load_model(stem);
  p3cfg_model_info info = model_info(m);
  double b = (double)info.params_total / 1e9;
  cr_expect(b >= lo && b <= hi, "%s: %.3f B parameters, expected %.2f-%.2f B", stem, b, lo, hi);
  p3cfg_model_free(m);
}

Test(presets, gpt3_175b_has_175_billion_parameters)
{
  /* Megatron SC'21 counts 174.6 B (eq. 2 with V 51200, s 2048). */
  expect_params_billions("gpt3-175b", 174.6, 175.3);
  p3cfg_model *m = load_model("gpt3-175b");
  p3cfg_model_info info = model_info(m);
  cr_expect_eq(info.layers, 96);
  cr_expect_eq(info.hidden, 12288);
  cr_expect_eq(info.heads, 96);
  cr_expect_eq(info.kv_heads, 96);
  cr_expect_eq(info.ffn_hidden, 4 * 12288);
  cr_expect_eq(info.vocab, 51200);
  cr_expect_eq(info.seq_len, 2048);
  cr_expect_eq(info.global_batch, 1536);
  p3cfg_model_free(m);
}

Test(presets, megatron_family_matches_sc21_table1)
{
  /* Narayanan et al. SC'21 Table 1: sizes as printed (one decimal, in billions). */
  static const struct {
    const char *stem;
    double billions;
    uint64_t hidden, heads, layers, global_batch;
  } table1[] = {
      {"megatron-1.7b", 1.7, 2304, 24, 24, 512},
      {"megatron-3.6b", 3.6, 3072, 32, 30, 512},
      {"megatron-7.5b", 7.5, 4096, 32, 36, 512},
      {"megatron-18.4b", 18.4, 6144, 48, 40, 1024},
      {"megatron-39.1b", 39.1, 8192, 64, 48, 1536},
      {"megatron-76.1b", 76.1, 10240, 80, 60, 1792},
      {"megatron-145.6b", 145.6, 12288, 96, 80, 2304},
      {"megatron-310.1b", 310.1, 16384, 128, 96, 2160},
      {"megatron-529.6b", 529.6, 20480, 128, 105, 2520},
      {"megatron-1t", 1008.0, 25600, 160, 128, 3072},
  };
  for (size_t i = 0; i < sizeof table1 / sizeof table1[0]; i++) {
    p3cfg_model *m = load_model(table1[i].stem);
    p3cfg_model_info info = model_info(m);
    double b = (double)info.params_total / 1e9;
    /* Rounding to one decimal (1.65 prints as 1.7) plus the final norm. */
    cr_expect(fabs(b - table1[i].billions) <= 0.06, "%s: %.3f B parameters, Table 1 says %.1f",
              table1[i].stem, b, table1[i].billions);
    cr_expect_eq(info.hidden, table1[i].hidden, "%s", table1[i].stem);
    cr_expect_eq(info.heads, table1[i].heads, "%s", table1[i].stem);
    cr_expect_eq(info.layers, table1[i].layers, "%s", table1[i].stem);
    cr_expect_eq(info.global_batch, table1[i].global_batch, "%s", table1[i].stem);
    cr_expect_eq(info.vocab, 51200, "%s", table1[i].stem);
    cr_expect_eq(info.seq_len, 2048, "%s", table1[i].stem);
    p3cfg_model_free(m);
  }
}

Test(presets, llama3_parameter_counts_match_the_released_models)
{
  /* 8.03 B, 70.55 B and 405.85 B with the 128,256-entry vocabulary, untied. */
  expect_params_billions("llama3-8b", 8.0, 8.1);
  expect_params_billions("llama3-70b", 70.5, 70.6);
  expect_params_billions("llama3-405b", 405.8, 405.9);

  p3cfg_model *m = load_model("llama3-405b");
  p3cfg_model_info info = model_info(m);
  cr_expect_eq(info.layers, 126);
  cr_expect_eq(info.kv_heads, 8);
  cr_expect_eq(info.ffn_hidden, 53248);
  cr_expect_eq(info.vocab, 128256);
  /* 16M tokens per step (arXiv 2407.21783 Sec. 3.4.1). */
  cr_expect_eq(info.global_batch * info.seq_len, 2048ull * 8192ull);
  p3cfg_model_free(m);
}

Test(presets, bloom_176b_has_176_billion_parameters)
{
  expect_params_billions("bloom-176b", 176.2, 176.3);
}

Test(presets, korthikanti_22b_matches_the_calibration_row)
{
  /* data/calibration/korthikanti2022-table5-iteration.csv, row 22B. */
  expect_params_billions("korthikanti-22b", 21.9, 22.2);
  p3cfg_model *m = load_model("korthikanti-22b");
  p3cfg_model_info info = model_info(m);
  cr_expect_eq(info.layers, 48);
  cr_expect_eq(info.hidden, 6144);
  cr_expect_eq(info.heads, 64);
  cr_expect_eq(info.vocab, 51200);
  cr_expect_eq(info.seq_len, 2048);
  cr_expect_eq(info.global_batch, 4);
  p3cfg_model_free(m);
}

/* ---- clusters ---------------------------------------------------------------------- */

static void expect_dgx(const char *stem, uint32_t nodes, const char *gpu, double intra_GBps,
                       double inter_GBps)
{
  p3cfg_cluster *c = load_cluster(stem);
  p3cfg_cluster_info info = cluster_info(c);
  cr_expect_eq(info.nodes, nodes, "%s", stem);
  cr_expect_eq(info.gpus_per_node, 8, "%s", stem);
  cr_expect_str_eq(info.gpu_name, gpu, "%s", stem);
  cr_expect_eq(info.has_links, 0, "%s", stem);
  cr_expect_float_eq(c->intra_Bps, intra_GBps * GBPS, 1.0, "%s: intra-node", stem);
  cr_expect_float_eq(c->inter_Bps, inter_GBps * GBPS, 1.0, "%s: inter-node", stem);
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 0), "node0", "%s", stem);
  p3cfg_cluster_free(c);
}

Test(presets, dgx_clusters_carry_datasheet_links)
{
  /* NVLink 3 300 GB/s + HDR 25 GB/s; NVLink 4 450 GB/s + NDR 50 GB/s (per direction). */
  static const uint32_t a100_nodes[] = {1, 8, 64, 128};
  static const uint32_t h100_nodes[] = {1, 8, 64, 128, 2048};
  char stem[64];
  for (size_t i = 0; i < sizeof a100_nodes / sizeof a100_nodes[0]; i++) {
    snprintf(stem, sizeof stem, "dgx-a100-%un", a100_nodes[i]);
    expect_dgx(stem, a100_nodes[i], "a100-80gb", 300, 25);
  }
  for (size_t i = 0; i < sizeof h100_nodes / sizeof h100_nodes[0]; i++) {
    snprintf(stem, sizeof stem, "dgx-h100-%un", h100_nodes[i]);
    expect_dgx(stem, h100_nodes[i], "h100-sxm", 450, 50);
  }
  expect_dgx("dgx-h200-8n", 8, "h200", 450, 50);
}

/* The 2025-26 clusters (issue 14): GPU counts, the NVLink domain, the network tiers and
 * the link figures their comments cite. */
static void expect_fabric(const char *stem, uint64_t gpus, const char *gpu, double intra,
                          double inter, uint32_t domain, uint32_t leaf, double spine, bool rail)
{
  p3cfg_cluster *c = load_cluster(stem);
  cr_expect_eq((uint64_t)c->nodes * c->gpus_per_node, gpus, "%s", stem);
  cr_expect_str_eq(c->gpu.name, gpu, "%s", stem);
  cr_expect_float_eq(c->intra_Bps, intra * GBPS, 1, "%s", stem);
  cr_expect_float_eq(c->inter_Bps, inter * GBPS, 1, "%s", stem);
  cr_expect_eq(c->nvlink_domain, domain, "%s", stem);
  cr_expect_eq(c->leaf_gpus, leaf, "%s", stem);
  cr_expect_float_eq(c->spine_oversubscription, spine, 1e-12, "%s", stem);
  cr_expect_eq(c->rail_optimized, rail, "%s", stem);
  p3cfg_cluster_free(c);
}

Test(presets, clusters_of_2025_26_carry_their_fabric)
{
  expect_fabric("dgx-b200-8n", 64, "b200", 900, 50, 8, 0, 1.0, false);
  expect_fabric("dgx-b200-128n", 1024, "b200", 900, 50, 8, 256, 1.0, true);
  expect_fabric("gb200-nvl72-1r", 72, "gb200", 900, 50, 72, 0, 1.0, false);
  expect_fabric("gb200-nvl72-8r", 576, "gb200", 900, 50, 72, 576, 1.0, true);
  expect_fabric("gb300-nvl72-1r", 72, "gb300", 900, 100, 72, 0, 1.0, false);
  expect_fabric("gb300-nvl72-8r", 576, "gb300", 900, 100, 72, 576, 1.0, true);
  expect_fabric("h100-rail-256n", 2048, "h100-sxm", 450, 50, 8, 256, 2.0, true);
  expect_fabric("mi300x-8n", 64, "mi300x", 448, 50, 8, 0, 1.0, false);
}

Test(presets, dgx_h100_2048n_has_16384_gpus)
{
  p3cfg_cluster *c = load_cluster("dgx-h100-2048n");
  p3cfg_cluster_info info = cluster_info(c);
  cr_expect_eq((uint64_t)info.nodes * info.gpus_per_node, 16384);
  cr_expect_float_eq(info.gpu_peak_flops, 989.4e12, 1e11, "dense BF16 peak");
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 2047), "node2047");
  p3cfg_cluster_free(c);
}

Test(presets, h200_has_141_gb_of_memory)
{
  p3cfg_cluster *c = load_cluster("dgx-h200-8n");
  p3cfg_cluster_info info = cluster_info(c);
  cr_expect_gt(info.gpu_memory_bytes, 140ull * 1000 * 1000 * 1000);
  cr_expect_gt(info.gpu_memory_bytes, 100ull * 1024 * 1024 * 1024, "more than an H100");
  p3cfg_cluster_free(c);
}

Test(presets, pipette_cluster_has_16_measured_nodes)
{
  /* clusters/gen/pipette_to_cluster.py: mpiGraph's send matrix in GB/s, diagonal set to
   * the NVLink figure. */
  static const char *hosts[16] = {"agpu1475", "agpu1478", "agpu1501", "agpu1502",
                                  "agpu1504", "agpu1505", "agpu1507", "agpu1508",
                                  "agpu1510", "agpu1512", "agpu1515", "agpu1517",
                                  "agpu1518", "agpu1520", "agpu1522", "agpu1524"};
  p3cfg_cluster *c = load_cluster("pipette-a100-16n");
  p3cfg_cluster_info info = cluster_info(c);
  cr_expect_eq(info.has_links, 1);
  cr_expect_eq(info.nodes, 16);
  cr_expect_eq(info.gpus_per_node, 8);
  cr_expect_str_eq(info.gpu_name, "a100-80gb");
  for (uint32_t i = 0; i < 16; i++)
    cr_expect_str_eq(p3cfg_cluster_node_name(c, i), hosts[i], "node %u", i);

  const p3cfg_links *l = &c->links;
  cr_assert_eq(l->granularity, P3CFG_LINKS_NODE);
  cr_assert_eq(l->n, 16);
  int asymmetric = 0;
  for (uint32_t i = 0; i < 16; i++) {
    for (uint32_t j = 0; j < 16; j++) {
      double bw = l->bandwidth_Bps[i * 16 + j];
      if (i == j) {
        cr_expect_float_eq(bw, 300 * GBPS, 1.0, "diagonal %u", i);
        continue;
      }
      cr_expect(bw >= 16.3 * GBPS && bw <= 19.6 * GBPS, "link %u->%u: %.4f GB/s", i, j, bw / GBPS);
      if (fabs(bw - l->bandwidth_Bps[j * 16 + i]) > 1 * GBPS)
        asymmetric = 1;
    }
  }
  /* Row = sender: agpu1475 -> agpu1478 is the slow 16.7169 GB/s, the reverse 19.0606. */
  cr_expect_float_eq(l->bandwidth_Bps[0 * 16 + 1], 16.7169 * GBPS, 1e3);
  cr_expect_float_eq(l->bandwidth_Bps[1 * 16 + 0], 19.0606 * GBPS, 1e3);
  cr_expect(asymmetric, "measured links differ by direction");
  p3cfg_cluster_free(c);
}

/* ---- the examples of docs/formats.md ----------------------------------------------- */

Test(presets, json_form_of_dgx_a100_8n_loads_like_the_yaml)
{
  static const char json[] =
      "{\"name\": \"dgx-a100-8n\", \"nodes\": 8, \"gpus_per_node\": 8, \"gpu\": \"a100-80gb\",\n"
      " \"network\": {\"intra_node_GBps\": 300, \"inter_node_GBps\": 25}}\n";
  p3cfg_cluster *from_json = NULL;
  int rc = p3cfg_cluster_load_string(&from_json, json, sizeof json - 1, "dgx-a100-8n.json", NULL);
  cr_assert_eq(rc, 0, "%s", last_error());
  p3cfg_cluster *from_yaml = load_cluster("dgx-a100-8n");
  p3cfg_cluster_info a = cluster_info(from_json), b = cluster_info(from_yaml);
  cr_expect_str_eq(a.name, b.name);
  cr_expect_str_eq(a.gpu_name, b.gpu_name);
  cr_expect_eq(a.nodes, b.nodes);
  cr_expect_eq(a.gpus_per_node, b.gpus_per_node);
  cr_expect_eq(a.gpu_memory_bytes, b.gpu_memory_bytes);
  cr_expect_float_eq(from_json->intra_Bps, from_yaml->intra_Bps, 1.0);
  cr_expect_float_eq(from_json->inter_Bps, from_yaml->inter_Bps, 1.0);
  cr_expect_float_eq(from_json->intra_latency_s, from_yaml->intra_latency_s, 1e-12);
  cr_expect_float_eq(from_json->inter_latency_s, from_yaml->inter_latency_s, 1e-12);
  p3cfg_cluster_free(from_json);
  p3cfg_cluster_free(from_yaml);
}

Test(presets, gpu_map_overrides_a_known_gpu)
{
  static const char yaml[] = "name: h100-94\n"
                             "nodes: 1\n"
                             "gpus_per_node: 8\n"
                             "gpu:\n"
                             "  name: h100-sxm\n"
                             "  memory_GiB: 94\n"
                             "  hbm_GBps: 3900\n"
                             "network:\n"
                             "  intra_node_GBps: 450\n"
                             "  inter_node_GBps: 50\n";
  p3cfg_cluster *c = NULL;
  int rc = p3cfg_cluster_load_string(&c, yaml, sizeof yaml - 1, "h100-94.yaml", NULL);
  cr_assert_eq(rc, 0, "%s", last_error());
  p3cfg_cluster_info info = cluster_info(c);
  cr_expect_eq(info.gpu_memory_bytes, 94ull << 30);
  cr_expect_float_eq(info.gpu_hbm_Bps, 3900e9, 1.0);
  cr_expect_float_eq(info.gpu_peak_flops, 989.4e12, 1e9, "kept from the h100-sxm preset");
  p3cfg_cluster_free(c);
}

Test(presets, network_latencies_default_to_2_and_5_us)
{
  p3cfg_cluster *c = load_cluster("dgx-h100-8n");
  cr_expect_float_eq(c->intra_latency_s, 2e-6, 1e-12);
  cr_expect_float_eq(c->inter_latency_s, 5e-6, 1e-12);
  p3cfg_cluster_free(c);
}
