/*
 * parse_cluster.c — the cluster schema of spec §3: node and GPU counts, the GPU (a
 * preset name, or a mapping that may start from one and override its numbers), the
 * network figures in GB/s and microseconds (stored as bytes/s and seconds), the measured
 * `links` (parse_links.c), the `host` (parse_host.c), and the node names.
 *
 * Node names live in one allocation (pointer array + strings, see p3cfg__names_block),
 * so that a cluster of a million nodes costs two small allocations, not a million.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "gpu_presets.h"
#include "parse_objects.h"

enum { C_NAME, C_NODES, C_GPUS_PER_NODE, C_GPU, C_NETWORK, C_LINKS, C_DOMAIN, C_HOST, C_COUNT };
static const p3cfg__key cluster_keys[C_COUNT] = {
    [C_NAME] = {"name", true},
    [C_NODES] = {"nodes", true},
    [C_GPUS_PER_NODE] = {"gpus_per_node", true},
    [C_GPU] = {"gpu", true},
    [C_NETWORK] = {"network", true},
    [C_LINKS] = {"links", false},
    [C_DOMAIN] = {"nvlink_domain", false},
    [C_HOST] = {"host", false},
};

enum {
  G_NAME,
  G_MEMORY,
  G_PEAK,
  G_HBM,
  G_CONTEXT,
  G_MM_EFF,
  G_MM_HALF,
  G_MEM_EFF,
  G_PEAK_FP8,
  G_PEAK_FP4,
  G_COUNT
};
static const p3cfg__key gpu_keys[G_COUNT] = {
    [G_NAME] = {"name", false},
    [G_MEMORY] = {"memory_GiB", false},
    [G_PEAK] = {"peak_tflops", false},
    [G_HBM] = {"hbm_GBps", false},
    [G_CONTEXT] = {"context_MiB", false},
    [G_MM_EFF] = {"matmul_efficiency", false},
    [G_MM_HALF] = {"matmul_half_tflop", false},
    [G_MEM_EFF] = {"memory_efficiency", false},
    [G_PEAK_FP8] = {"peak_fp8_tflops", false},
    [G_PEAK_FP4] = {"peak_fp4_tflops", false},
};

enum { N_INTRA, N_INTRA_LAT, N_INTER, N_INTER_LAT, N_LEAF, N_SPINE, N_RAIL, N_COUNT };
static const p3cfg__key network_keys[N_COUNT] = {
    [N_INTRA] = {"intra_node_GBps", true},
    [N_INTRA_LAT] = {"intra_node_latency_us", false},
    [N_INTER] = {"inter_node_GBps", true},
    [N_INTER_LAT] = {"inter_node_latency_us", false},
    [N_LEAF] = {"leaf_gpus", false},
    [N_SPINE] = {"spine_oversubscription", false},
    [N_RAIL] = {"rail_optimized", false},
};

/* A GPU that is not a preset: the time model's parameters of an H100-class part (see
 * docs/time-model.md); the file may override each. */
static const p3cfg_gpu custom_gpu = {"custom", 0, 0, 0, 1024ull << 20, 0.72, 6.91e9, 0.896,
                                     0.51, 0.40, P3CFG__KERNEL_GAP_S, P3CFG__CLOCK_H100,
                                     0, 0, 0};

static const p3cfg__range positive = {0, true, P3CFG__MAX_GBPS, "a positive number", false};
static const p3cfg__range non_negative = {0, false, P3CFG__MAX_GBPS, "a non-negative number",
                                          false};
static const p3cfg__range fraction = {0, true, 1, "a number in (0, 1]", true};
static const p3cfg__range latency = {0, false, P3CFG__MAX_LATENCY_US, "a non-negative number",
                                     false};
static const p3cfg__range oversubscription = {1, false, 1e6, "a number of at least 1", false};

#define GIB 1073741824.0
#define MIB 1048576.0

char **p3cfg__names_block(size_t n, const char *const *strs, const size_t *lens)
{
  size_t bytes = n * sizeof(char *);
  for (size_t i = 0; i < n; i++)
    bytes += lens[i] + 1;
  char **block = p3cfg__malloc(bytes);
  if (!block)
    return NULL;
  char *p = (char *)(block + n);
  for (size_t i = 0; i < n; i++) {
    memcpy(p, strs[i], lens[i]);
    p[lens[i]] = '\0';
    block[i] = p;
    p += lens[i] + 1;
  }
  return block;
}

/* Decimal digits of v. */
static size_t digits_of(uint32_t v)
{
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

/* "node0", "node1", ... in one block (as p3cfg__names_block); by hand rather than with
 * snprintf, which is most of the time of loading a cluster of a million nodes. */
static char **default_node_names(uint32_t n)
{
  size_t bytes = (size_t)n * sizeof(char *);
  for (uint32_t i = 0; i < n; i++)
    bytes += 4 + digits_of(i) + 1;
  char **block = p3cfg__malloc(bytes);
  if (!block)
    return NULL;
  char *p = (char *)(block + n);
  for (uint32_t i = 0; i < n; i++) {
    block[i] = p;
    memcpy(p, "node", 4);
    const size_t d = digits_of(i);
    uint32_t v = i;
    for (size_t k = d; k > 0; k--, v /= 10)
      p[4 + k - 1] = (char)('0' + v % 10);
    p[4 + d] = '\0';
    p += 4 + d + 1;
  }
  return block;
}

/* Report an unknown GPU name at `at`, with the closest preset or the list of them. */
static void unknown_gpu(p3cfg__pctx *c, const yaml_node_t *at, const char *name, size_t len,
                        const char *extra)
{
  const char *names[32];
  size_t n = 0;
  for (const p3cfg_gpu *g; n < 32 && (g = p3cfg__gpu_preset_at(n)) != NULL; n++)
    names[n] = g->name;
  const char *hint = p3cfg__suggest(name, len, names, n);
  char known[512];
  size_t o = 0;
  known[0] = '\0';
  for (size_t i = 0; i < n && o < sizeof known; i++)
    o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "", names[i]);
  if (hint)
    p3cfg__problem(c, at, "unknown gpu '%s'; did you mean '%s'?%s", name, hint, extra);
  else
    p3cfg__problem(c, at, "unknown gpu '%s' (known: %s)%s", name, known, extra);
}

/* One optional number (gpu or network), stored as value * scale. */
static void read_scaled(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                        const p3cfg__range *r, double scale, double *out)
{
  double v;
  if (node && p3cfg__read_number(c, node, label, r, &v) == 0)
    *out = v * scale;
}

static void read_gpu_map(p3cfg__pctx *c, const yaml_node_t *map, p3cfg_gpu *g)
{
  const yaml_node_t *v[G_COUNT];
  if (p3cfg__map_fields(c, map, "gpu", gpu_keys, G_COUNT, v) != 0)
    return;
  const bool all_given = v[G_MEMORY] && v[G_PEAK] && v[G_HBM];
  *g = custom_gpu;
  const char *name = NULL;
  size_t len = 0;
  if (v[G_NAME] &&
      p3cfg__read_string(c, v[G_NAME], "gpu.name", sizeof g->name - 1, &name, &len) == 0) {
    const p3cfg_gpu *preset = p3cfg__gpu_preset(name);
    if (preset)
      *g = *preset;
    else if (!all_given)
      unknown_gpu(c, v[G_NAME], name, len,
                  " (a gpu that is not known needs memory_GiB, peak_tflops and hbm_GBps)");
    memcpy(g->name, name, len);
    g->name[len] = '\0';
  } else if (!v[G_NAME] && !all_given) {
    for (int k = G_MEMORY; k <= G_HBM; k++)
      if (!v[k])
        p3cfg__problem(c, map,
                       "missing required key '%s' in gpu (needed without a known gpu "
                       "name)",
                       gpu_keys[k].name);
  }
  double memory = (double)g->memory_bytes, context = (double)g->context_bytes;
  read_scaled(c, v[G_MEMORY], "gpu.memory_GiB", &positive, GIB, &memory);
  /* A preset's FP8 and FP4 peaks follow an overridden peak_tflops in proportion (a part
   * clocked or power-capped differently runs every tensor-core format at the same
   * fraction), unless the file gives them (docs/formats.md, "The gpu"). */
  const double preset_peak = g->peak_flops;
  read_scaled(c, v[G_PEAK], "gpu.peak_tflops", &positive, 1e12, &g->peak_flops);
  if (preset_peak > 0.0 && g->peak_flops != preset_peak) {
    g->peak_fp8_flops *= g->peak_flops / preset_peak;
    g->peak_fp4_flops *= g->peak_flops / preset_peak;
  }
  read_scaled(c, v[G_PEAK_FP8], "gpu.peak_fp8_tflops", &non_negative, 1e12, &g->peak_fp8_flops);
  read_scaled(c, v[G_PEAK_FP4], "gpu.peak_fp4_tflops", &non_negative, 1e12, &g->peak_fp4_flops);
  read_scaled(c, v[G_HBM], "gpu.hbm_GBps", &positive, 1e9, &g->hbm_Bps);
  read_scaled(c, v[G_CONTEXT], "gpu.context_MiB", &non_negative, MIB, &context);
  read_scaled(c, v[G_MM_EFF], "gpu.matmul_efficiency", &fraction, 1, &g->matmul_efficiency);
  read_scaled(c, v[G_MM_HALF], "gpu.matmul_half_tflop", &positive, 1e12, &g->matmul_half_flops);
  read_scaled(c, v[G_MEM_EFF], "gpu.memory_efficiency", &fraction, 1, &g->memory_efficiency);
  /* Every GPU with FP8 tensor cores runs them at least at its 16-bit rate (twice it, dense,
   * from Hopper on), and every GPU with FP4 ones has FP8 ones, slower: a figure that says
   * otherwise is a typo or a sparse one, which the time model would take as it is. */
  if (v[G_PEAK_FP8] && g->peak_fp8_flops > 0.0 && g->peak_fp8_flops < g->peak_flops)
    p3cfg__problem(c, v[G_PEAK_FP8],
                   "gpu.peak_fp8_tflops (%.15g) must be 0 (no FP8 tensor cores) or at least "
                   "gpu.peak_tflops (%.15g)",
                   g->peak_fp8_flops / 1e12, g->peak_flops / 1e12);
  if (v[G_PEAK_FP4] && g->peak_fp4_flops > 0.0 && g->peak_fp8_flops == 0.0)
    p3cfg__problem(c, v[G_PEAK_FP4],
                   "gpu.peak_fp4_tflops needs an FP8 peak (gpu.peak_fp8_tflops): every GPU with "
                   "FP4 tensor cores has FP8 ones");
  else if (v[G_PEAK_FP4] && g->peak_fp4_flops > 0.0 && g->peak_fp4_flops < g->peak_fp8_flops)
    p3cfg__problem(c, v[G_PEAK_FP4],
                   "gpu.peak_fp4_tflops (%.15g) must be 0 (no FP4 tensor cores) or at least the "
                   "FP8 peak (%.15g)",
                   g->peak_fp4_flops / 1e12, g->peak_fp8_flops / 1e12);
  g->memory_bytes = (uint64_t)llround(memory);
  g->context_bytes = (uint64_t)llround(context);
  if (g->memory_bytes > 0 && g->context_bytes >= g->memory_bytes)
    p3cfg__problem(c, v[G_CONTEXT] ? v[G_CONTEXT] : map,
                   "gpu.context_MiB (%.15g) must be less than the gpu memory (%.15g MiB)",
                   (double)g->context_bytes / MIB, (double)g->memory_bytes / MIB);
}

static void read_gpu(p3cfg__pctx *c, const yaml_node_t *node, p3cfg_gpu *g)
{
  if (node->type == YAML_MAPPING_NODE) {
    read_gpu_map(c, node, g);
    return;
  }
  const char *name;
  size_t len;
  if (node->type != YAML_SCALAR_NODE) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(c, node, "gpu must be a gpu name or a mapping, got %s",
                   p3cfg__describe(buf, node));
    return;
  }
  if (p3cfg__read_string(c, node, "gpu", sizeof g->name - 1, &name, &len) != 0)
    return;
  const p3cfg_gpu *preset = p3cfg__gpu_preset(name);
  if (preset)
    *g = *preset;
  else
    unknown_gpu(c, node, name, len, "");
}

/* The fabric above the node (docs/formats.md, "The fabric"): the NVLink domain and the
 * leaf / spine tiers, each checked against the GPU counts (when those read well) with
 * the problem at the value that does not fit. */
typedef struct fabric_nodes {
  const yaml_node_t *domain, *leaf, *spine, *rail;
} fabric_nodes;

static void read_network(p3cfg__pctx *c, const yaml_node_t *map, p3cfg_cluster *cl,
                         fabric_nodes *f)
{
  const yaml_node_t *v[N_COUNT];
  double intra_us = P3CFG__DEFAULT_INTRA_LATENCY_US, inter_us = P3CFG__DEFAULT_INTER_LATENCY_US;
  if (p3cfg__map_fields(c, map, "network", network_keys, N_COUNT, v) == 0) {
    read_scaled(c, v[N_INTRA], "network.intra_node_GBps", &positive, 1e9, &cl->intra_Bps);
    read_scaled(c, v[N_INTER], "network.inter_node_GBps", &positive, 1e9, &cl->inter_Bps);
    read_scaled(c, v[N_INTRA_LAT], "network.intra_node_latency_us", &latency, 1, &intra_us);
    read_scaled(c, v[N_INTER_LAT], "network.inter_node_latency_us", &latency, 1, &inter_us);
    f->leaf = v[N_LEAF], f->spine = v[N_SPINE], f->rail = v[N_RAIL];
  }
  cl->intra_latency_s = intra_us * 1e-6;
  cl->inter_latency_s = inter_us * 1e-6;
}

static void read_fabric(p3cfg__pctx *c, const fabric_nodes *f, p3cfg_cluster *cl, bool counts_ok)
{
  const uint64_t gpn = cl->gpus_per_node, gpus = (uint64_t)cl->nodes * cl->gpus_per_node;
  uint64_t domain = gpn, leaf = 0;
  if (f->domain &&
      p3cfg__read_uint(c, f->domain, "nvlink_domain", 1, P3CFG__MAX_GPUS, &domain) == 0 &&
      counts_ok) {
    if (domain % gpn != 0) {
      p3cfg__problem(c, f->domain,
                     "nvlink_domain (%llu gpus) must be a multiple of gpus_per_node (%llu): "
                     "a domain is whole nodes (trays)",
                     (unsigned long long)domain, (unsigned long long)gpn);
      domain = gpn;
    } else if (gpus % domain != 0) {
      p3cfg__problem(c, f->domain,
                     "nvlink_domain (%llu gpus) must divide the %llu gpus of the cluster",
                     (unsigned long long)domain, (unsigned long long)gpus);
      domain = gpn;
    }
  }
  cl->nvlink_domain = (uint32_t)domain;
  if (f->leaf &&
      p3cfg__read_uint(c, f->leaf, "network.leaf_gpus", 1, P3CFG__MAX_GPUS, &leaf) == 0 &&
      counts_ok) {
    if (leaf % domain != 0) {
      p3cfg__problem(c, f->leaf,
                     "network.leaf_gpus (%llu) must be a multiple of the nvlink domain (%llu "
                     "gpus): a leaf holds whole domains",
                     (unsigned long long)leaf, (unsigned long long)domain);
      leaf = 0;
    } else if (gpus % leaf != 0) {
      p3cfg__problem(c, f->leaf,
                     "network.leaf_gpus (%llu) must divide the %llu gpus of the cluster",
                     (unsigned long long)leaf, (unsigned long long)gpus);
      leaf = 0;
    }
  }
  cl->leaf_gpus = (uint32_t)leaf;
  cl->spine_oversubscription = 1.0;
  if (f->spine) {
    read_scaled(c, f->spine, "network.spine_oversubscription", &oversubscription, 1,
                &cl->spine_oversubscription);
    if (!f->leaf)
      p3cfg__problem(c, f->spine,
                     "network.spine_oversubscription needs network.leaf_gpus (the GPUs under "
                     "one leaf, between which traffic crosses the spine)");
  }
  if (f->rail)
    p3cfg__read_bool(c, f->rail, "network.rail_optimized", &cl->rail_optimized);
}

int p3cfg__cluster_from_doc(p3cfg_cluster **out, p3cfg__pctx *c, const yaml_node_t *root,
                            const char *source)
{
  *out = NULL;
  const yaml_node_t *v[C_COUNT];
  if (p3cfg__map_fields(c, root, NULL, cluster_keys, C_COUNT, v) != 0)
    return P3CFG_OK;
  p3cfg_cluster *cl = p3cfg__calloc(1, sizeof *cl);
  if (!cl)
    return P3CFG_ENOMEM;
  cl->source = p3cfg__strdup(source);
  if (!cl->source)
    goto nomem;
  const char *name;
  size_t name_len;
  if (v[C_NAME] &&
      p3cfg__read_string(c, v[C_NAME], "name", P3CFG__MAX_NAME_BYTES, &name, &name_len) == 0) {
    cl->name = p3cfg__strndup(name, name_len);
    if (!cl->name)
      goto nomem;
  }
  uint64_t nodes = 0, gpn = 0;
  bool counts_ok = v[C_NODES] && p3cfg__read_uint(c, v[C_NODES], "nodes", 1,
                                                  P3CFG__MAX_CLUSTER_NODES, &nodes) == 0;
  counts_ok = v[C_GPUS_PER_NODE] &&
              p3cfg__read_uint(c, v[C_GPUS_PER_NODE], "gpus_per_node", 1, P3CFG__MAX_GPUS_PER_NODE,
                               &gpn) == 0 &&
              counts_ok;
  if (counts_ok && nodes * gpn > P3CFG__MAX_GPUS) {
    p3cfg__problem(c, v[C_GPUS_PER_NODE],
                   "nodes * gpus_per_node (%llu gpus) is more than the limit of %u",
                   (unsigned long long)(nodes * gpn), P3CFG__MAX_GPUS);
    counts_ok = false;
  }
  cl->nodes = (uint32_t)nodes;
  cl->gpus_per_node = (uint32_t)gpn;
  if (v[C_GPU])
    read_gpu(c, v[C_GPU], &cl->gpu);
  cl->intra_latency_s = P3CFG__DEFAULT_INTRA_LATENCY_US * 1e-6;
  cl->inter_latency_s = P3CFG__DEFAULT_INTER_LATENCY_US * 1e-6;
  fabric_nodes fabric = {v[C_DOMAIN], NULL, NULL, NULL};
  if (v[C_NETWORK])
    read_network(c, v[C_NETWORK], cl, &fabric);
  read_fabric(c, &fabric, cl, counts_ok);
  if (v[C_LINKS] && p3cfg__links_from_node(c, v[C_LINKS], cl, counts_ok) == P3CFG_ENOMEM)
    goto nomem;
  if (v[C_HOST] && p3cfg__host_from_node(c, v[C_HOST], cl, counts_ok) == P3CFG_ENOMEM)
    goto nomem;
  if (!cl->node_names && counts_ok) {
    cl->node_names = default_node_names(cl->nodes);
    if (!cl->node_names)
      goto nomem;
  }
  *out = cl;
  return P3CFG_OK;

nomem:
  p3cfg_cluster_free(cl);
  return P3CFG_ENOMEM;
}

P3CFG_API void p3cfg_cluster_free(p3cfg_cluster *cluster)
{
  if (!cluster)
    return;
  p3cfg__free(cluster->name);
  p3cfg__free(cluster->source);
  p3cfg__free(cluster->links.names);
  p3cfg__free(cluster->links.bandwidth_Bps);
  p3cfg__free(cluster->links.latency_s);
  p3cfg__free(cluster->node_names);
  p3cfg__free(cluster->gpu_sockets);
  p3cfg__free(cluster->nccl_socket_ifname);
  p3cfg__free(cluster->nccl_ib_hca);
  p3cfg__free(cluster);
}
