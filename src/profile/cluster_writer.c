/*
 * cluster_writer.c — a profile as a cluster file (spec §3) and its atomic writing.
 *
 * The file carries `links` at GPU granularity: names "host:local" in node-major order
 * (host in the order of the profile, then local index), which is the global GPU
 * numbering the rest of p3cfg uses, so ranks are permuted from MPI order into it. The
 * diagonal (a GPU to itself) holds the intra-node medians, as the parser wants positive
 * numbers everywhere. At node granularity (asked for, or automatic where a GPU matrix
 * would pass the loader's limits) each entry is the median of the GPU pairs between two
 * hosts, the diagonal the median of a host's own pairs. `network` holds the class
 * medians; what was not measured (the inter-node figures on one host, the intra-node
 * ones with one rank per host) comes from --base, else from the other class, and a
 * comment says so. The human summary follows the header as YAML comments, since the
 * parser rejects unknown keys.
 *
 * Before the text is handed out it is loaded with p3cfg_cluster_load_string, so the
 * profiler can never write a file that p3cfg itself would reject. Writing goes to a
 * temporary file in the same directory, fsync, then link() (which refuses to replace
 * an existing file) or, with force, rename(): `path` is either absent or complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "gpu_presets.h"
#include "link_fit.h"
#include "profile_analysis.h"
#include "profile_text.h"
#include "profile_types.h"

static void comment_block(p3cfg__text *t, const char *text)
{
  while (*text) {
    const char *nl = strchr(text, '\n');
    const size_t len = nl ? (size_t)(nl - text) : strlen(text);
    p3cfg__text_printf(t, len ? "# %.*s\n" : "#\n", (int)len, text);
    text += len + (nl ? 1 : 0);
  }
}

static void write_gpu(p3cfg__text *t, const p3cfg_profile_result *r)
{
  if (r->gpu_is_preset) {
    p3cfg__text_printf(t, "gpu: %s\n", r->gpu.name);
    return;
  }
  p3cfg__text_printf(t, "gpu:\n  name: ");
  p3cfg__ptext_quoted(t, r->gpu.name);
  p3cfg__text_printf(t, "\n  memory_GiB: ");
  p3cfg__ptext_number(t, (double)r->gpu.memory_bytes / (1024.0 * 1024.0 * 1024.0));
  p3cfg__text_printf(t, "\n  peak_tflops: ");
  p3cfg__ptext_number(t, r->gpu.peak_flops / 1e12);
  /* The low-precision peaks where the GPU has them, or where a preset of its name has
   * them and it does not (the file would load with the preset's otherwise). */
  const p3cfg_gpu *preset = p3cfg__gpu_preset(r->gpu.name);
  if (r->gpu.peak_fp8_flops > 0.0 || (preset && preset->peak_fp8_flops > 0.0)) {
    p3cfg__text_printf(t, "\n  peak_fp8_tflops: ");
    p3cfg__ptext_number(t, r->gpu.peak_fp8_flops / 1e12);
  }
  if (r->gpu.peak_fp4_flops > 0.0 || (preset && preset->peak_fp4_flops > 0.0)) {
    p3cfg__text_printf(t, "\n  peak_fp4_tflops: ");
    p3cfg__ptext_number(t, r->gpu.peak_fp4_flops / 1e12);
  }
  p3cfg__text_printf(t, "\n  hbm_GBps: ");
  p3cfg__ptext_number(t, r->gpu.hbm_Bps / 1e9);
  p3cfg__text_printf(t, "\n");
}

static void write_pair(p3cfg__text *t, const char *cls, double Bps, double lat_s, const char *note)
{
  if (note)
    p3cfg__text_printf(t, "  # %s\n", note);
  p3cfg__text_printf(t, "  %s_node_GBps: ", cls);
  p3cfg__ptext_number(t, Bps / 1e9);
  p3cfg__text_printf(t, "\n  %s_node_latency_us: ", cls);
  p3cfg__ptext_number(t, lat_s * 1e6);
  p3cfg__text_printf(t, "\n");
}

/* `host.gpu_sockets` (docs/formats.md, "The host"): the CPU package of each local GPU,
 * from hwloc, when every host has a GPU per rank and they all agree; the launch exports
 * bind each rank to its GPU's socket with it. Nothing when the hosts have one package
 * (the default then holds), no GPUs, or differ (a comment says so). */
static void write_host(p3cfg__text *t, const p3cfg_profile_result *r)
{
  const uint32_t k = r->per_host;
  if (k == 0 || k > P3CFG__HOST_GPU_CAP || r->n_hosts == 0)
    return;
  const p3cfg__host_info *h0 = &r->hosts[0];
  for (uint32_t h = 0; h < r->n_hosts; h++) {
    const p3cfg__host_info *h1 = &r->hosts[h];
    if (h1->gpus < k || h1->packages < 2)
      return;
    if (memcmp(h1->gpu_package, h0->gpu_package, k) != 0) {
      p3cfg__text_printf(t, "# host.gpu_sockets not written: hosts %s and %s place their GPUs "
                            "on different sockets\n",
                         h0->name, h1->name);
      return;
    }
  }
  p3cfg__text_printf(t, "host:\n  gpu_sockets: [");
  for (uint32_t g = 0; g < k; g++)
    p3cfg__text_printf(t, "%s%u", g ? ", " : "", (unsigned)h0->gpu_package[g]);
  p3cfg__text_printf(t, "]  # hwloc: each GPU's CPU package, in PCI bus order\n");
}

static void write_network(p3cfg__text *t, const p3cfg_profile_result *r)
{
  double self_Bps, self_lat;
  p3cfg__profile_self_link(r, &self_Bps, &self_lat);
  p3cfg__text_printf(t, "network:\n");
  if (r->intra.count > 0)
    write_pair(t, "intra", r->intra.median_Bps, r->intra.median_latency_s,
               "medians of the measured intra-node links");
  else
    write_pair(t, "intra", self_Bps, self_lat,
               r->has_base       ? "not measured (one rank per host): from --base"
               : r->self_Bps > 0 ? "not measured (one rank): its GPU's send/recv to itself"
                                 : "not measured (one rank per host): the fastest measured link");
  if (r->inter.count > 0)
    write_pair(t, "inter", r->inter.median_Bps, r->inter.median_latency_s,
               "medians of the measured inter-node links");
  else if (r->has_base)
    write_pair(t, "inter", r->base_inter_Bps, r->base_inter_latency_s,
               "not measured (one host): from --base");
  else
    write_pair(t, "inter", self_Bps, self_lat,
               "not measured (one host): the intra-node figures, unused with one node");
}

/* Ranks in file order: host-major, then local index. */
static int file_order(uint32_t **out, const p3cfg_profile_result *r)
{
  uint32_t *order = p3cfg__malloc((r->n ? r->n : 1) * sizeof *order);
  if (!order)
    return p3cfg__error_nomem();
  for (uint32_t i = 0; i < r->n; i++)
    order[i] = UINT32_MAX;
  for (uint32_t rank = 0; rank < r->n; rank++) {
    const size_t g = (size_t)r->rank_host[rank] * r->per_host + r->rank_local[rank];
    if (g >= r->n || order[g] != UINT32_MAX) {
      p3cfg__free(order);
      return p3cfg__error_set(P3CFG_EINTERNAL, "rank %u has no unique place in the file", rank);
    }
    order[g] = rank;
  }
  *out = order;
  return 0;
}

static void write_matrix(p3cfg__text *t, const p3cfg_profile_result *r, const uint32_t *order,
                         const double *m, double self, double scale)
{
  for (uint32_t i = 0; i < r->n; i++) {
    p3cfg__text_printf(t, "    - [");
    for (uint32_t j = 0; j < r->n; j++) {
      const uint32_t a = order[i], b = order[j];
      if (j)
        p3cfg__text_printf(t, ", ");
      p3cfg__ptext_number(t, (a == b ? self : m[(size_t)a * r->n + b]) * scale);
    }
    p3cfg__text_printf(t, "]\n");
  }
}

/* The loader's limits (src/parse/yaml_doc.h, docs/input-limits.md). */
#define LOADER_MAX_NODES 532480u
#define LOADER_MAX_BYTES (16u << 20)

/* Whether a file with N x N links stays within them: 2 N^2 numbers, 2 N + 3 lists and N
 * names, at most 64 nodes for the rest; at most 12 bytes a number, 80 a name, and 1 MiB
 * for the header and the summary's comments. */
static int gpu_matrix_loads(uint32_t n)
{
  const double nn = (double)n * n;
  return 2.0 * nn + 3.0 * n + 64.0 <= LOADER_MAX_NODES &&
         24.0 * nn + 80.0 * n + (1u << 20) <= LOADER_MAX_BYTES;
}

/* Node matrices (host x host): the medians of the GPU pairs between two hosts; on the
 * diagonal, of the host's own pairs (the self link with one rank per host). */
static int node_matrices(double **bw_out, double **lat_out, const p3cfg_profile_result *r)
{
  const size_t h = r->n_hosts, k = (size_t)r->per_host;
  double *bw = p3cfg__calloc(h * h, sizeof *bw), *lat = p3cfg__calloc(h * h, sizeof *lat);
  double *vb = p3cfg__malloc((k * k + 1) * sizeof *vb),
         *vl = p3cfg__malloc((k * k + 1) * sizeof *vl);
  uint32_t *members = p3cfg__malloc((h * k + 1) * sizeof *members); /* ranks by host */
  if (!bw || !lat || !vb || !vl || !members) {
    p3cfg__free(bw), p3cfg__free(lat), p3cfg__free(vb), p3cfg__free(vl), p3cfg__free(members);
    return p3cfg__error_nomem();
  }
  for (uint32_t i = 0; i < r->n; i++) /* every host runs k ranks, local index below k */
    members[(size_t)r->rank_host[i] * k + r->rank_local[i]] = i;
  double self_Bps, self_lat;
  p3cfg__profile_self_link(r, &self_Bps, &self_lat);
  for (size_t a = 0; a < h; a++)
    for (size_t b = 0; b < h; b++) {
      size_t m = 0;
      for (size_t x = 0; x < k; x++)
        for (size_t y = 0; y < k; y++) {
          const size_t i = members[a * k + x], j = members[b * k + y];
          if (i == j)
            continue;
          vb[m] = r->bw_Bps[i * r->n + j];
          vl[m++] = r->lat_s[i * r->n + j];
        }
      bw[a * h + b] = m ? p3cfg__median(vb, m) : self_Bps;
      lat[a * h + b] = m ? p3cfg__median(vl, m) : self_lat;
    }
  p3cfg__free(vb);
  p3cfg__free(vl);
  p3cfg__free(members);
  *bw_out = bw;
  *lat_out = lat;
  return 0;
}

static void write_node_links(p3cfg__text *t, const p3cfg_profile_result *r, const double *bw,
                             const double *lat)
{
  const uint32_t h = r->n_hosts;
  p3cfg__text_printf(t, "links:\n  granularity: node\n  names: [");
  for (uint32_t i = 0; i < h; i++) {
    if (i)
      p3cfg__text_printf(t, ", ");
    p3cfg__ptext_quoted(t, r->hosts[i].name);
  }
  const double *m[2] = {bw, lat};
  const double scale[2] = {1e-9, 1e6};
  const char *key[2] = {"bandwidth_GBps", "latency_us"};
  p3cfg__text_printf(t, "]\n");
  for (int x = 0; x < 2; x++) {
    p3cfg__text_printf(t, "  %s:\n", key[x]);
    for (uint32_t a = 0; a < h; a++) {
      p3cfg__text_printf(t, "    - [");
      for (uint32_t b = 0; b < h; b++) {
        if (b)
          p3cfg__text_printf(t, ", ");
        p3cfg__ptext_number(t, m[x][(size_t)a * h + b] * scale[x]);
      }
      p3cfg__text_printf(t, "]\n");
    }
  }
}

static int build(p3cfg__text *t, const p3cfg_profile_result *r, int node_level, int automatic)
{
  uint32_t *order = NULL;
  int rc = file_order(&order, r);
  if (rc != 0)
    return rc;
  p3cfg__text_printf(t, "# Cluster file written by `p3cfg profile` (p3cfg %s), %s.\n",
                      p3cfg_version_string(), r->date);
  p3cfg__text_printf(t, "# measured with: %s\n", r->backend);
  if (!node_level)
    p3cfg__text_printf(t, "# links: per direction, row = sender, column = receiver, between the "
                           "GPUs (ranks)\n# named \"host:local index\"; the diagonal repeats the "
                           "intra-node medians.\n#\n");
  else
    p3cfg__text_printf(t,
                        "# links: per direction, row = sender, column = receiver, between the "
                        "nodes (granularity\n# node%s): each entry is the median of the "
                        "GPU pairs of the two nodes, the diagonal\n# the median of the "
                        "node's own pairs.\n#\n",
                        automatic ? ": a GPU matrix of this many GPUs would exceed the "
                                    "loader's limits"
                                  : "");
  p3cfg__text t_sum;
  p3cfg__text_init(&t_sum);
  rc = p3cfg__profile_summary_text(&t_sum, r);
  if (rc == 0 && !t_sum.nomem && t_sum.data)
    comment_block(t, t_sum.data);
  p3cfg__text_free(&t_sum);
  if (rc != 0) {
    p3cfg__free(order);
    return rc;
  }
  p3cfg__text_printf(t, "name: ");
  p3cfg__ptext_quoted(t, r->name ? r->name : "profiled");
  p3cfg__text_printf(t, "\nnodes: %u\ngpus_per_node: %u\n", r->n_hosts, r->per_host);
  write_gpu(t, r);
  write_host(t, r);
  write_network(t, r);
  if (node_level) {
    double *bw = NULL, *lat = NULL;
    p3cfg__free(order);
    if ((rc = node_matrices(&bw, &lat, r)) != 0)
      return rc;
    write_node_links(t, r, bw, lat);
    p3cfg__free(bw);
    p3cfg__free(lat);
    return 0;
  }
  p3cfg__text_printf(t, "links:\n  granularity: gpu\n  names: [");
  for (uint32_t i = 0; i < r->n; i++) {
    char name[P3CFG__HOST_NAME_CAP + 16];
    snprintf(name, sizeof name, "%s:%u", r->hosts[r->rank_host[order[i]]].name,
             r->rank_local[order[i]]);
    if (i)
      p3cfg__text_printf(t, ", ");
    p3cfg__ptext_quoted(t, name);
  }
  double self_Bps, self_lat;
  p3cfg__profile_self_link(r, &self_Bps, &self_lat);
  p3cfg__text_printf(t, "]\n  bandwidth_GBps:\n");
  write_matrix(t, r, order, r->bw_Bps, self_Bps, 1e-9);
  p3cfg__text_printf(t, "  latency_us:\n");
  write_matrix(t, r, order, r->lat_s, self_lat, 1e6);
  p3cfg__free(order);
  return 0;
}

/* Load the text with libp3cfg's parser; its complaint becomes ours. */
static int check_loads(const p3cfg_buffer *b)
{
  p3cfg_cluster *c = NULL;
  p3cfg_diagnostics *diags = NULL;
  int rc = p3cfg_cluster_load_string(&c, b->data, b->len, "profile", &diags);
  p3cfg_cluster_free(c);
  if (rc == 0) {
    p3cfg_diagnostics_free(diags);
    return 0;
  }
  const p3cfg_diag *d = diags ? p3cfg_diagnostics_get(diags, 0) : NULL;
  if (rc == P3CFG_ENOMEM)
    rc = p3cfg__error_nomem();
  else if (d)
    rc = p3cfg__error_set(P3CFG_EINTERNAL,
                          "the profile makes a cluster file that p3cfg "
                          "rejects (line %d, column %d): %s",
                          d->line, d->column, d->message);
  else
    rc = p3cfg__error_set(P3CFG_EINTERNAL,
                          "the profile makes a cluster file that p3cfg "
                          "rejects: %s",
                          p3cfg_strerror(rc));
  p3cfg_diagnostics_free(diags);
  return rc;
}

P3CFG_API int p3cfg_profile_set_granularity(p3cfg_profile_result *r,
                                            p3cfg_profile_granularity granularity)
{
  p3cfg__error_clear();
  if (!r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_set_granularity: NULL argument");
  if (granularity != P3CFG_PROFILE_GRANULARITY_AUTO &&
      granularity != P3CFG_PROFILE_GRANULARITY_GPU && granularity != P3CFG_PROFILE_GRANULARITY_NODE)
    return p3cfg__error_set(P3CFG_EINVALID, "unknown granularity %d", (int)granularity);
  r->granularity = granularity;
  return 0;
}

static int yaml_at(p3cfg_buffer *out, const p3cfg_profile_result *r, int node_level, int automatic)
{
  p3cfg__text t;
  p3cfg__text_init(&t);
  int rc = build(&t, r, node_level, automatic);
  if (rc != 0) {
    p3cfg__text_free(&t);
    return rc;
  }
  if ((rc = p3cfg__text_finish(&t, out)) != 0)
    return rc;
  if ((rc = check_loads(out)) != 0) {
    p3cfg__free(out->data);
    out->data = NULL;
    out->len = 0;
  }
  return rc;
}

P3CFG_API int p3cfg_profile_granularity_check(p3cfg_profile_granularity granularity,
                                              uint32_t ranks)
{
  p3cfg__error_clear();
  if (granularity != P3CFG_PROFILE_GRANULARITY_GPU || gpu_matrix_loads(ranks))
    return 0;
  return p3cfg__error_set(P3CFG_EVALUE,
                          "links at GPU granularity for %u ranks would be past what a cluster "
                          "file may hold (docs/input-limits.md; about 515 GPUs): use "
                          "--granularity node or auto",
                          ranks);
}

P3CFG_API int p3cfg_profile_cluster_yaml(p3cfg_buffer *out, const p3cfg_profile_result *r)
{
  p3cfg__error_clear();
  if (!out || !r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_cluster_yaml: NULL argument");
  out->data = NULL;
  out->len = 0;
  const int automatic = r->granularity == P3CFG_PROFILE_GRANULARITY_AUTO;
  int node_level =
      r->granularity == P3CFG_PROFILE_GRANULARITY_NODE || (automatic && !gpu_matrix_loads(r->n));
  int rc = yaml_at(out, r, node_level, automatic);
  if (rc == P3CFG_EINTERNAL && automatic && !node_level) {
    /* The estimate was wrong for this file (a very long summary): the loader refused
     * the GPU matrix, so write the node matrix. */
    p3cfg__error_clear();
    rc = yaml_at(out, r, 1, 1);
  }
  return rc;
}

static int write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Make the rename durable: fsync the directory holding `path` (best effort). */
static void sync_dir(const char *path)
{
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* Put the finished temporary file at `path`. */
static int publish(const char *tmp, const char *path, int force)
{
  struct stat st;
  /* Never rename over a device, a pipe or a directory (-o /dev/null --force would
   * replace the device node itself): --force does not help there. */
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return ENOTSUP;
  if (force)
    return rename(tmp, path) == 0 ? 0 : errno;
  if (link(tmp, path) == 0) {
    unlink(tmp);
    return 0;
  }
  int e = errno;
  if (e == EEXIST)
    return e;
  /* Filesystems without hard links: check, then rename (not atomic against a writer
   * racing us, but never a partial file). */
  if (lstat(path, &st) == 0)
    return EEXIST;
  return rename(tmp, path) == 0 ? 0 : errno;
}

P3CFG_API int p3cfg_profile_write(const p3cfg_profile_result *r, const char *path, int force)
{
  p3cfg__error_clear();
  if (!r || !path || !*path)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_write: NULL argument");
  p3cfg_buffer b;
  int rc = p3cfg_profile_cluster_yaml(&b, r);
  if (rc != 0)
    return rc;
  const size_t n = strlen(path) + 16;
  char *tmp = p3cfg__malloc(n);
  if (!tmp) {
    p3cfg__free(b.data);
    return p3cfg__error_nomem();
  }
  snprintf(tmp, n, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    rc = p3cfg__error_set(P3CFG_EIO, "%s: cannot create: %s", path, strerror(errno));
    goto done;
  }
  const mode_t mask = umask(0);
  umask(mask);
  int e = 0;
  if (write_all(fd, b.data, b.len) != 0 || fsync(fd) != 0 || fchmod(fd, 0666 & ~mask) != 0)
    e = errno;
  if (close(fd) != 0 && e == 0)
    e = errno;
  if (e == 0)
    e = publish(tmp, path, force);
  if (e != 0) {
    unlink(tmp);
    if (e == EEXIST)
      rc = p3cfg__error_set(P3CFG_EIO, "%s: already exists (use --force to replace it)", path);
    else if (e == ENOTSUP)
      rc = p3cfg__error_set(P3CFG_EIO, "%s: not a regular file: p3cfg_profile_write writes "
                            "regular files only (write p3cfg_profile_cluster_yaml's text "
                            "into a device or a FIFO yourself)", path);
    else
      rc = p3cfg__error_set(P3CFG_EIO, "%s: cannot write: %s", path, strerror(e));
    goto done;
  }
  sync_dir(path);
done:
  p3cfg__free(tmp);
  p3cfg__free(b.data);
  return rc;
}
