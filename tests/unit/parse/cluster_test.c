/*
 * cluster_test.c — the cluster schema: GPU presets by name and as overridden mappings,
 * network figures and their default latencies, measured links at both granularities
 * (reordering, latency fill), node names, and the bounds.
 */
#include "gpu_presets.h"
#include "links.h"
#include "parse_test.h"

Test(parse, cluster_preset_gpu_and_default_latencies)
{
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, FIXTURE("cluster-preset.yaml"), NULL), P3CFG_OK);
  const p3cfg_gpu *a100 = p3cfg__gpu_preset("a100-80gb");
  cr_expect_str_eq(c->name, "preset-cluster");
  cr_expect_eq(c->nodes, 4);
  cr_expect_eq(c->gpus_per_node, 8);
  cr_expect_str_eq(c->gpu.name, "a100-80gb");
  cr_expect_eq(c->gpu.memory_bytes, a100->memory_bytes);
  cr_expect_eq(c->gpu.peak_flops, a100->peak_flops);
  cr_expect_eq(c->gpu.matmul_half_flops, a100->matmul_half_flops);
  cr_expect_float_eq(c->intra_Bps, 300e9, 1);
  cr_expect_float_eq(c->inter_Bps, 25e9, 1);
  cr_expect_float_eq(c->intra_latency_s, 2e-6, 1e-15);
  cr_expect_float_eq(c->inter_latency_s, 5e-6, 1e-15);
  cr_expect_eq(c->links.granularity, P3CFG_LINKS_NONE);
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 0), "node0");
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 3), "node3");
  cr_expect_null(p3cfg_cluster_node_name(c, 4));
  p3cfg_cluster_free(c);
}

Test(parse, cluster_every_preset_by_name)
{
  for (size_t i = 0; p3cfg__gpu_preset_at(i); i++) {
    const p3cfg_gpu *g = p3cfg__gpu_preset_at(i);
    char text[512];
    snprintf(text, sizeof text,
             "name: c\nnodes: 1\ngpus_per_node: 8\ngpu: %s\n"
             "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
             g->name);
    p3cfg_cluster *c = cluster_from(text);
    cr_expect_str_eq(c->gpu.name, g->name);
    cr_expect_eq(c->gpu.memory_bytes, g->memory_bytes);
    cr_expect_eq(c->gpu.hbm_Bps, g->hbm_Bps);
    p3cfg_cluster_free(c);
  }
}

/* The fabric above the node (issue 14): an NVL72 rack's domain, a rail-optimized leaf
 * tier under a 2:1 spine; without the keys, the domain is the node and there is no spine. */
Test(parse, cluster_nvlink_domain_and_network_tiers)
{
  p3cfg_cluster *c = cluster_from("name: c\nnodes: 36\ngpus_per_node: 4\nnvlink_domain: 72\n"
                                  "gpu: gb200\nnetwork: {intra_node_GBps: 900, "
                                  "inter_node_GBps: 50, leaf_gpus: 144, "
                                  "spine_oversubscription: 2.0, rail_optimized: true}\n");
  cr_expect_eq(c->nvlink_domain, 72);
  cr_expect_eq(c->leaf_gpus, 144);
  cr_expect_float_eq(c->spine_oversubscription, 2.0, 1e-15);
  cr_expect(c->rail_optimized);
  cr_expect(p3cfg__same_domain(c, 4, 71) && !p3cfg__same_domain(c, 71, 72));
  p3cfg_cluster_free(c);
  c = cluster_from("name: c\nnodes: 2\ngpus_per_node: 8\ngpu: b200\n"
                   "network: {intra_node_GBps: 900, inter_node_GBps: 50}\n");
  cr_expect_eq(p3cfg__domain_gpus(c), 8);
  cr_expect_eq(c->leaf_gpus, 0);
  cr_expect_not(p3cfg__has_spine(c));
  cr_expect_not(c->rail_optimized);
  p3cfg_cluster_free(c);
}

Test(parse, cluster_gpu_map_overrides_preset)
{
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, FIXTURE("cluster-gpu-map.yaml"), NULL), P3CFG_OK);
  const p3cfg_gpu *h100 = p3cfg__gpu_preset("h100-sxm");
  cr_expect_str_eq(c->gpu.name, "h100-sxm");
  cr_expect_eq(c->gpu.memory_bytes, 94ull << 30);
  cr_expect_float_eq(c->gpu.peak_flops, 900.5e12, 1e3);
  cr_expect_eq(c->gpu.hbm_Bps, h100->hbm_Bps, "not overridden");
  cr_expect_eq(c->gpu.context_bytes, 512ull << 20);
  cr_expect_float_eq(c->gpu.matmul_efficiency, 0.6, 1e-12);
  cr_expect_float_eq(c->gpu.matmul_half_flops, 0.08e12, 1);
  cr_expect_float_eq(c->gpu.memory_efficiency, 0.7, 1e-12);
  cr_expect_float_eq(c->intra_latency_s, 1.5e-6, 1e-15);
  cr_expect_float_eq(c->inter_latency_s, 7e-6, 1e-15);
  p3cfg_cluster_free(c);
}

#define GPU_CLUSTER(gpu)                                                                           \
  "name: c\nnodes: 1\ngpus_per_node: 8\ngpu: " gpu "\n"                                            \
  "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n"

/* An overridden peak_tflops takes the preset's FP8 and FP4 peaks along in proportion;
 * peak_fp8_tflops and peak_fp4_tflops set them (a custom GPU's default to none). */
Test(parse, cluster_gpu_low_precision_peaks)
{
  const p3cfg_gpu *h100 = p3cfg__gpu_preset("h100-sxm"), *b200 = p3cfg__gpu_preset("b200");
  p3cfg_cluster *c = cluster_from(GPU_CLUSTER("{name: h100-sxm, peak_tflops: 100}"));
  cr_expect_float_eq(c->gpu.peak_fp8_flops, h100->peak_fp8_flops * 100e12 / h100->peak_flops, 1);
  cr_expect_eq(c->gpu.peak_fp4_flops, 0, "none to scale");
  p3cfg_cluster_free(c);
  c = cluster_from(GPU_CLUSTER("{name: b200, peak_tflops: 1125}"));
  cr_expect_float_eq(c->gpu.peak_fp8_flops, b200->peak_fp8_flops / 2, 1);
  cr_expect_float_eq(c->gpu.peak_fp4_flops, b200->peak_fp4_flops / 2, 1);
  p3cfg_cluster_free(c);
  c = cluster_from(GPU_CLUSTER("{name: h100-sxm, peak_tflops: 100, peak_fp8_tflops: 150}"));
  cr_expect_float_eq(c->gpu.peak_fp8_flops, 150e12, 1);
  p3cfg_cluster_free(c);
  c = cluster_from(GPU_CLUSTER("{name: h100-sxm, peak_fp8_tflops: 0}"));
  cr_expect_eq(c->gpu.peak_fp8_flops, 0, "0: no FP8 tensor cores");
  cr_expect_eq(c->gpu.peak_flops, h100->peak_flops);
  p3cfg_cluster_free(c);
  c = cluster_from(GPU_CLUSTER("{name: x, memory_GiB: 80, peak_tflops: 1000, hbm_GBps: 3000}"));
  cr_expect_eq(c->gpu.peak_fp8_flops, 0);
  cr_expect_eq(c->gpu.peak_fp4_flops, 0);
  p3cfg_cluster_free(c);
  c = cluster_from(GPU_CLUSTER("{name: x, memory_GiB: 80, peak_tflops: 1000, hbm_GBps: 3000, "
                               "peak_fp8_tflops: 2000, peak_fp4_tflops: 4000}"));
  cr_expect_float_eq(c->gpu.peak_fp8_flops, 2000e12, 1);
  cr_expect_float_eq(c->gpu.peak_fp4_flops, 4000e12, 1);
  p3cfg_cluster_free(c);

  expect_problem(GPU_CLUSTER("{name: h100-sxm, peak_tflops: 5000, peak_fp8_tflops: 1979}"),
                 P3CFG_FILE_CLUSTER, 4, 59,
                 "gpu.peak_fp8_tflops (1979) must be 0 (no FP8 tensor cores) or at least "
                 "gpu.peak_tflops (5000)");
  expect_problem(GPU_CLUSTER("{name: h100-sxm, peak_fp4_tflops: 1000}"), P3CFG_FILE_CLUSTER, 4, 40,
                 "gpu.peak_fp4_tflops (1000) must be 0 (no FP4 tensor cores) or at least the FP8 "
                 "peak (1978.9)");
  expect_problem(GPU_CLUSTER("{name: a100-80gb, peak_fp4_tflops: 1000}"), P3CFG_FILE_CLUSTER, 4, 41,
                 "gpu.peak_fp4_tflops needs an FP8 peak (gpu.peak_fp8_tflops): every GPU with FP4 "
                 "tensor cores has FP8 ones");
  expect_problem(GPU_CLUSTER("{name: h100-sxm, peak_fp8_tflops: -1}"), P3CFG_FILE_CLUSTER, 4, 40,
                 "gpu.peak_fp8_tflops must be a non-negative number, got -1");
}

Test(parse, cluster_custom_gpu_from_json)
{
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, FIXTURE("cluster-custom-gpu.json"), NULL), P3CFG_OK);
  cr_expect_str_eq(c->gpu.name, "mi300x");
  cr_expect_eq(c->gpu.memory_bytes, 192ull << 30);
  cr_expect_float_eq(c->gpu.peak_flops, 1307.4e12, 1e3);
  cr_expect_float_eq(c->gpu.hbm_Bps, 5300e9, 1);
  cr_expect_gt(c->gpu.context_bytes, 0, "custom gpus get default efficiency parameters");
  cr_expect_gt(c->gpu.matmul_efficiency, 0);
  p3cfg_cluster_info info;
  cr_assert_eq(p3cfg_cluster_get_info(&info, c), P3CFG_OK);
  cr_expect_str_eq(info.name, "custom-cluster");
  cr_expect_str_eq(info.gpu_name, "mi300x");
  cr_expect_eq(info.nodes, 3);
  cr_expect_eq(info.gpus_per_node, 2);
  cr_expect_eq(info.has_links, 0);
  p3cfg_cluster_free(c);
}

Test(parse, cluster_gpu_problems)
{
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: h100\n"
                 "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 4, 6, "unknown gpu 'h100'; did you mean 'h100-sxm'?");
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: tpu-v5\n"
                 "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 4, 6,
                 "unknown gpu 'tpu-v5' (known: a100-40gb, a100-80gb, h100-sxm, h100-pcie, "
                 "h200, v100-32gb, b200, gb200, b300, gb300, h800, mi300x, h100-96gb-500w)");
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: {memory_GiB: 80, hbm_GBps: 2000}\n"
                 "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 4, 6,
                 "missing required key 'peak_tflops' in gpu (needed without a known gpu name)");
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: {name: h100-sxm, memory_GiB: 0}\n"
                 "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 4, 35, "gpu.memory_GiB must be a positive number, got 0");
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\n"
                 "gpu: {name: h100-sxm, matmul_efficiency: 1.5}\n"
                 "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 4, 42,
                 "gpu.matmul_efficiency must be a number in (0, 1], got 1.5");
}

Test(parse, cluster_network_problems)
{
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: h200\n"
                 "network: {intra_node_GBps: .nan, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 5, 28,
                 "network.intra_node_GBps must be a positive number, got .nan");
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: h200\n"
                 "network: {intra_node_GBps: 450}\n",
                 P3CFG_FILE_CLUSTER, 5, 10, "missing required key 'inter_node_GBps' in network");
  expect_problem("name: c\nnodes: 2\ngpus_per_node: 4\ngpu: h200\n"
                 "network: {intra_node_GBps: 450, inter_GBps: 50, inter_node_GBps: 5}\n",
                 P3CFG_FILE_CLUSTER, 5, 33, "unknown key 'inter_GBps' in network");
}

Test(parse, cluster_million_gpus_bounded)
{
  /* 131072 nodes x 8 GPUs: default node names are one compact block. */
  p3cfg_cluster *c = cluster_from("name: c\nnodes: 131072\ngpus_per_node: 8\ngpu: h100-sxm\n"
                                  "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n");
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 131071), "node131071");
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 10), "node10");
  p3cfg_cluster_free(c);
  expect_problem("name: c\nnodes: 1048576\ngpus_per_node: 8\ngpu: h100-sxm\n"
                 "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n",
                 P3CFG_FILE_CLUSTER, 3, 16,
                 "nodes * gpus_per_node (8388608 gpus) is more than the limit of 4194304");
}

Test(parse, cluster_links_node_granularity)
{
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, FIXTURE("cluster-links-node.yaml"), NULL), P3CFG_OK);
  cr_expect_eq(c->links.granularity, P3CFG_LINKS_NODE);
  cr_expect_eq(c->links.n, 3);
  cr_expect_str_eq(c->links.names[1], "beta");
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 2), "gamma");
  cr_expect_float_eq(c->links.bandwidth_Bps[0 * 3 + 1], 40e9, 1);
  cr_expect_float_eq(c->links.bandwidth_Bps[1 * 3 + 0], 42e9, 1);
  cr_expect_float_eq(c->links.latency_s[2 * 3 + 1], 11e-6, 1e-15);
  /* GPU 2 is node 1 local 0, GPU 5 node 2 local 1: the (1, 2) node entry. */
  double Bps, lat;
  p3cfg__link(c, 2, 5, &Bps, &lat);
  cr_expect_float_eq(Bps, 43e9, 1);
  cr_expect_float_eq(lat, 9e-6, 1e-15);
  p3cfg_cluster_info info;
  cr_assert_eq(p3cfg_cluster_get_info(&info, c), P3CFG_OK);
  cr_expect_eq(info.has_links, 1);
  p3cfg_cluster_free(c);
}

Test(parse, cluster_links_gpu_granularity_reordered)
{
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, FIXTURE("cluster-links-gpu.yaml"), NULL), P3CFG_OK);
  cr_expect_eq(c->links.granularity, P3CFG_LINKS_GPU);
  cr_assert_eq(c->links.n, 4);
  /* File order b:1 a:0 b:0 a:1; host b first, so canonical b:0 b:1 a:0 a:1. */
  static const char *const canon[] = {"b:0", "b:1", "a:0", "a:1"};
  static const int file_of[] = {2, 0, 1, 3}; /* canonical index -> file index */
  for (int i = 0; i < 4; i++)
    cr_expect_str_eq(c->links.names[i], canon[i]);
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 0), "b");
  cr_expect_str_eq(p3cfg_cluster_node_name(c, 1), "a");
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      if (i == j)
        continue;
      const double want = (10.0 * file_of[i] + file_of[j] + 1) * 1e9;
      cr_expect_float_eq(c->links.bandwidth_Bps[i * 4 + j], want, 1, "(%d, %d)", i, j);
    }
  /* Latencies filled from the network defaults: intra within a host. */
  cr_expect_float_eq(c->links.latency_s[0 * 4 + 1], 2e-6, 1e-15);
  cr_expect_float_eq(c->links.latency_s[1 * 4 + 2], 5e-6, 1e-15);
  double Bps, lat;
  p3cfg__link(c, 3, 0, &Bps, &lat); /* a:1 -> b:0 = file (3, 2) */
  cr_expect_float_eq(Bps, 33e9, 1);
  p3cfg_cluster_free(c);
}

Test(parse, cluster_links_latency_fill_node)
{
  p3cfg_cluster *c = cluster_from(CLUSTER_OK "links:\n  granularity: node\n  names: [x, y]\n"
                                             "  bandwidth_GBps: [[400, 40], [41, 401]]\n");
  cr_expect_float_eq(c->links.latency_s[0], 2e-6, 1e-15);
  cr_expect_float_eq(c->links.latency_s[1], 5e-6, 1e-15);
  cr_expect_float_eq(c->links.latency_s[3], 2e-6, 1e-15);
  p3cfg_cluster_free(c);
}

Test(parse, cluster_links_problems)
{
  const char *base = CLUSTER_OK "links:\n  granularity: node\n";
  char text[1024];
  snprintf(text, sizeof text, "%s  names: [x, y, z]\n  bandwidth_GBps: [[1, 2], [3, 4]]\n", base);
  expect_problem(text, P3CFG_FILE_CLUSTER, 8, 10, "links.names has 3 names, expected 2 (nodes)");
  snprintf(text, sizeof text, "%s  names: [x, y]\n  bandwidth_GBps: [[1, 2], [3]]\n", base);
  expect_problem(text, P3CFG_FILE_CLUSTER, 9, 28,
                 "links.bandwidth_GBps[1] has 1 entry, expected 2");
  snprintf(text, sizeof text, "%s  names: [x, y]\n  bandwidth_GBps: [[1, -2], [3, 4]]\n", base);
  expect_problem(text, P3CFG_FILE_CLUSTER, 9, 24,
                 "links.bandwidth_GBps[0][1] must be a positive number, got -2");
  snprintf(text, sizeof text, "%s  names: [x, x]\n  bandwidth_GBps: [[1, 2], [3, 4]]\n", base);
  expect_problem(text, P3CFG_FILE_CLUSTER, 8, 14, "links.names[1] 'x' repeats links.names[0]");
  snprintf(text, sizeof text, "%s  names: [x, y]\n  bandwidth_GBps: [[1, 2], [3, 4], [5, 6]]\n",
           base);
  expect_problem(text, P3CFG_FILE_CLUSTER, 9, 19,
                 "links.bandwidth_GBps has 3 rows, expected 2 (one per name)");
}

Test(parse, cluster_links_gpu_problems)
{
  const char *base = CLUSTER_OK "links:\n  granularity: gpu\n";
  char text[1024];
  /* Host a lists 3 GPUs, host b 5 (gpus_per_node is 4). */
  snprintf(text, sizeof text,
           "%s  names: [a:0, a:1, a:2, b:0, b:1, b:2, b:3, b:0]\n"
           "  bandwidth_GBps: [[1]]\n",
           base);
  p3cfg_diagnostics *d = problems_of(text, P3CFG_FILE_CLUSTER);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 0)->message,
                   "host 'a' has 3 gpus in links.names, expected 4 (gpus_per_node)");
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 1)->message,
                   "host 'b' has 5 gpus in links.names, expected 4 (gpus_per_node)");
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 2)->message,
                   "links.names[7] 'b:0' repeats links.names[3]");
  p3cfg_diagnostics_free(d);
  snprintf(text, sizeof text, "%s  names: [a:0, a:1, a:2, a:4, b:0, b:1, b:2, b3]\n", base);
  d = problems_of(text, P3CFG_FILE_CLUSTER);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 0)->message,
                   "missing required key 'bandwidth_GBps' in links");
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 1)->message,
                   "links.names[3]: gpu 4 is not below gpus_per_node 4");
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 2)->message,
                   "links.names[7] must be 'host:gpu' with a gpu number, got \"b3\"");
  p3cfg_diagnostics_free(d);
}
