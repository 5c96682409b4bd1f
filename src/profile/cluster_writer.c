/*
 * cluster_writer.c — a profile as a cluster file (spec §3) and its atomic writing.
 *
 * The file carries `links` at GPU granularity: names "host:local" in node-major order
 * (host in the order of the profile, then local index), which is the global GPU
 * numbering the rest of p3cfg uses, so ranks are permuted from MPI order into it. The
 * diagonal (a GPU to itself) holds the intra-node medians, as the parser wants positive
 * numbers everywhere. `network` holds the class medians; what was not measured (the
 * inter-node figures on one host, the intra-node ones with one rank per host) comes
 * from --base, else from the other class, and a comment says so. The human summary
 * follows the header as YAML comments, since the parser rejects unknown keys.
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
#include "profile_analysis.h"
#include "profile_text.h"
#include "profile_types.h"

static void comment_block(p3cfg__ptext *t, const char *text)
{
  while (*text) {
    const char *nl = strchr(text, '\n');
    const size_t len = nl ? (size_t)(nl - text) : strlen(text);
    p3cfg__ptext_printf(t, len ? "# %.*s\n" : "#\n", (int)len, text);
    text += len + (nl ? 1 : 0);
  }
}

static void write_gpu(p3cfg__ptext *t, const p3cfg_profile_result *r)
{
  if (r->gpu_is_preset) {
    p3cfg__ptext_printf(t, "gpu: %s\n", r->gpu.name);
    return;
  }
  p3cfg__ptext_printf(t, "gpu:\n  name: ");
  p3cfg__ptext_quoted(t, r->gpu.name);
  p3cfg__ptext_printf(t, "\n  memory_GiB: ");
  p3cfg__ptext_number(t, (double)r->gpu.memory_bytes / (1024.0 * 1024.0 * 1024.0));
  p3cfg__ptext_printf(t, "\n  peak_tflops: ");
  p3cfg__ptext_number(t, r->gpu.peak_flops / 1e12);
  p3cfg__ptext_printf(t, "\n  hbm_GBps: ");
  p3cfg__ptext_number(t, r->gpu.hbm_Bps / 1e9);
  p3cfg__ptext_printf(t, "\n");
}

static void write_pair(p3cfg__ptext *t, const char *cls, double Bps, double lat_s, const char *note)
{
  if (note)
    p3cfg__ptext_printf(t, "  # %s\n", note);
  p3cfg__ptext_printf(t, "  %s_node_GBps: ", cls);
  p3cfg__ptext_number(t, Bps / 1e9);
  p3cfg__ptext_printf(t, "\n  %s_node_latency_us: ", cls);
  p3cfg__ptext_number(t, lat_s * 1e6);
  p3cfg__ptext_printf(t, "\n");
}

static void write_network(p3cfg__ptext *t, const p3cfg_profile_result *r)
{
  double self_Bps, self_lat;
  p3cfg__profile_self_link(r, &self_Bps, &self_lat);
  p3cfg__ptext_printf(t, "network:\n");
  if (r->intra.count > 0)
    write_pair(t, "intra", r->intra.median_Bps, r->intra.median_latency_s,
               "medians of the measured intra-node links");
  else
    write_pair(t, "intra", self_Bps, self_lat,
               r->has_base ? "not measured (one rank per host): from --base"
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

static void write_matrix(p3cfg__ptext *t, const p3cfg_profile_result *r, const uint32_t *order,
                         const double *m, double self, double scale)
{
  for (uint32_t i = 0; i < r->n; i++) {
    p3cfg__ptext_printf(t, "    - [");
    for (uint32_t j = 0; j < r->n; j++) {
      const uint32_t a = order[i], b = order[j];
      if (j)
        p3cfg__ptext_printf(t, ", ");
      p3cfg__ptext_number(t, (a == b ? self : m[(size_t)a * r->n + b]) * scale);
    }
    p3cfg__ptext_printf(t, "]\n");
  }
}

static int build(p3cfg__ptext *t, const p3cfg_profile_result *r)
{
  uint32_t *order = NULL;
  int rc = file_order(&order, r);
  if (rc != 0)
    return rc;
  p3cfg__ptext_printf(t, "# Cluster file written by `p3cfg profile` (p3cfg %s), %s.\n",
                      p3cfg_version_string(), r->date);
  p3cfg__ptext_printf(t, "# measured with: %s\n", r->backend);
  p3cfg__ptext_printf(t, "# links: per direction, row = sender, column = receiver, between the "
                         "GPUs (ranks)\n# named \"host:local index\"; the diagonal repeats the "
                         "intra-node medians.\n#\n");
  p3cfg__ptext t_sum;
  p3cfg__ptext_init(&t_sum);
  rc = p3cfg__profile_summary_text(&t_sum, r);
  if (rc == 0 && !t_sum.nomem && t_sum.data)
    comment_block(t, t_sum.data);
  p3cfg__ptext_free(&t_sum);
  if (rc != 0) {
    p3cfg__free(order);
    return rc;
  }
  p3cfg__ptext_printf(t, "name: ");
  p3cfg__ptext_quoted(t, r->name ? r->name : "profiled");
  p3cfg__ptext_printf(t, "\nnodes: %u\ngpus_per_node: %u\n", r->n_hosts, r->per_host);
  write_gpu(t, r);
  write_network(t, r);
  p3cfg__ptext_printf(t, "links:\n  granularity: gpu\n  names: [");
  for (uint32_t i = 0; i < r->n; i++) {
    char name[P3CFG__HOST_NAME_CAP + 16];
    snprintf(name, sizeof name, "%s:%u", r->hosts[r->rank_host[order[i]]].name,
             r->rank_local[order[i]]);
    if (i)
      p3cfg__ptext_printf(t, ", ");
    p3cfg__ptext_quoted(t, name);
  }
  double self_Bps, self_lat;
  p3cfg__profile_self_link(r, &self_Bps, &self_lat);
  p3cfg__ptext_printf(t, "]\n  bandwidth_GBps:\n");
  write_matrix(t, r, order, r->bw_Bps, self_Bps, 1e-9);
  p3cfg__ptext_printf(t, "  latency_us:\n");
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

P3CFG_API int p3cfg_profile_cluster_yaml(p3cfg_buffer *out, const p3cfg_profile_result *r)
{
  p3cfg__error_clear();
  if (!out || !r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_cluster_yaml: NULL argument");
  out->data = NULL;
  out->len = 0;
  p3cfg__ptext t;
  p3cfg__ptext_init(&t);
  int rc = build(&t, r);
  if (rc != 0) {
    p3cfg__ptext_free(&t);
    return rc;
  }
  if ((rc = p3cfg__ptext_finish(&t, out)) != 0)
    return rc;
  if ((rc = check_loads(out)) != 0) {
    p3cfg__free(out->data);
    out->data = NULL;
    out->len = 0;
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
   * replace the device node itself). */
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return EEXIST;
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
