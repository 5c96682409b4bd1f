/*
 * profile_exchange.c — the start-up exchange of the profiler.
 *
 * First a fixed-size hello (magic, p3cfg version, protocol, record size) is gathered
 * on every rank, so that ranks running different p3cfg builds stop with a clear error
 * before any message whose layout could differ. Then the shared-memory split
 * (MPI_Comm_split_type SHARED) tells each rank its host leader (lowest rank there) and
 * local index; leaders run hwloc; rank 0 reads --base and checks the output path; and
 * one allgather of fixed-size records gives every rank the same view, from which each
 * computes the same verdict and host order (hosts ordered by their leader's rank). Every
 * wait has the run's deadline; the one blocking call, the split, comes only after the
 * hello proved every rank alive.
 */
#include "profile_exchange.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "gpu_presets.h"
#include "host_split.h"
#include "topology.h"

#define PROTOCOL 2 /* 2: host_info carries each GPU's CPU package */
#define MAGIC "p3cfg-profile"

typedef struct hello {
  char magic[16];
  char version[32];
  uint32_t protocol, record_bytes;
} hello;

typedef struct record {
  int32_t leader, local_rank, local_size;
  int32_t status; /* rank 0: --base, output and option checks */
  char message[P3CFG__MESSAGE_CAP];
  p3cfg__host_info host; /* valid on leaders */
  int32_t has_base;      /* rank 0 only from here on */
  char base_name[128];
  p3cfg_gpu base_gpu;
  double base_intra_Bps, base_inter_Bps, base_intra_latency_s, base_inter_latency_s;
} record;

static int check_hellos(const hello *all, int n)
{
  for (int i = 0; i < n; i++) {
    const hello *h = &all[i];
    if (memcmp(h->magic, MAGIC, sizeof MAGIC) != 0)
      return p3cfg__error_set(P3CFG_EVALUE, "rank %d does not run p3cfg profile", i);
    if (strncmp(h->version, all[0].version, sizeof h->version) != 0 ||
        h->protocol != all[0].protocol || h->record_bytes != all[0].record_bytes)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "p3cfg versions differ across ranks: rank 0 runs %.31s "
                              "(protocol %u), rank %d runs %.31s (protocol %u): install "
                              "the same p3cfg on every host",
                              all[0].version, all[0].protocol, i, h->version, h->protocol);
  }
  return 0;
}

/* Rank 0's checks of --base and the output path, into its record. */
static void root_checks(record *rec, const p3cfg_profile_options *opts)
{
  if (opts->output_path) {
    struct stat st;
    if (stat(opts->output_path, &st) == 0 && !S_ISREG(st.st_mode)) {
      /* The CLI writes into a FIFO or a character device with --force (cli_output.c),
       * never anything else that is not a regular file. */
      const int special = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode);
      if (special && opts->force)
        return;
      rec->status = P3CFG_EVALUE;
      snprintf(rec->message, sizeof rec->message, "%.160s: is %s, not a regular file%s",
               opts->output_path,
               S_ISFIFO(st.st_mode)  ? "a FIFO"
               : S_ISCHR(st.st_mode) ? "a character device"
               : S_ISDIR(st.st_mode) ? "a directory"
                                     : "no file",
               special ? " (use --force to write into it)" : "");
      return;
    }
    if (!opts->force && lstat(opts->output_path, &st) == 0) {
      rec->status = P3CFG_EVALUE;
      snprintf(rec->message, sizeof rec->message,
               "%.200s: already exists (use --force to replace it)", opts->output_path);
      return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", opts->output_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
      dir[1] = '\0';
    else
      *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0) {
      rec->status = P3CFG_EIO;
      snprintf(rec->message, sizeof rec->message, "%.100s: cannot write in directory %.100s",
               opts->output_path, dir);
      return;
    }
  }
  if (!opts->base_path)
    return;
  p3cfg_cluster *c = NULL;
  p3cfg_diagnostics *diags = NULL;
  int rc = p3cfg_cluster_load(&c, opts->base_path, &diags);
  if (rc != 0) {
    /* libp3cfg set its own last error; the diagnostics carry the same first problem. */
    const p3cfg_diag *d = diags ? p3cfg_diagnostics_get(diags, 0) : NULL;
    if (d && d->line > 0)
      snprintf(rec->message, sizeof rec->message, "--base %s:%d:%d: %s", d->file, d->line,
               d->column, d->message);
    else if (d)
      snprintf(rec->message, sizeof rec->message, "--base %s: %s", opts->base_path, d->message);
    else
      snprintf(rec->message, sizeof rec->message, "--base %s: %s", opts->base_path,
               p3cfg_strerror(rc));
    rec->status = (rc == P3CFG_ENOMEM) ? P3CFG_ENOMEM : P3CFG_EVALUE;
    p3cfg_diagnostics_free(diags);
    return;
  }
  p3cfg_diagnostics_free(diags);
  rec->has_base = 1;
  snprintf(rec->base_name, sizeof rec->base_name, "%s", c->name ? c->name : "");
  rec->base_gpu = c->gpu;
  rec->base_intra_Bps = c->intra_Bps;
  rec->base_inter_Bps = c->inter_Bps;
  rec->base_intra_latency_s = c->intra_latency_s;
  rec->base_inter_latency_s = c->inter_latency_s;
  p3cfg_cluster_free(c);
}

/* GPU of the file: --gpu, else the base's, else what hwloc found on every host. */
static int resolve_gpu(p3cfg_profile_result *r, const record *root,
                       const p3cfg_profile_options *opts)
{
  if (opts->gpu) {
    const p3cfg_gpu *g = p3cfg__gpu_preset(opts->gpu);
    if (!g) {
      char known[256] = "";
      for (size_t i = 0, at = 0; p3cfg__gpu_preset_at(i) && at < sizeof known; i++) {
        const int n = snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "",
                               p3cfg__gpu_preset_at(i)->name);
        at += n > 0 ? (size_t)n : 0;
      }
      return p3cfg__error_set(P3CFG_EVALUE,
                              "--gpu %s is not a known GPU (known: %s); or take it from a "
                              "cluster file with --base",
                              opts->gpu, known);
    }
    r->gpu = *g;
    r->gpu_is_preset = 1;
    return 0;
  }
  if (root->has_base) {
    const p3cfg_gpu *g = p3cfg__gpu_preset(root->base_gpu.name);
    r->gpu = root->base_gpu;
    r->gpu_is_preset = g && g->memory_bytes == r->gpu.memory_bytes &&
                       g->peak_flops == r->gpu.peak_flops && g->hbm_Bps == r->gpu.hbm_Bps &&
                       g->peak_fp8_flops == r->gpu.peak_fp8_flops &&
                       g->peak_fp4_flops == r->gpu.peak_fp4_flops;
    return 0;
  }
  const char *preset = NULL;
  for (uint32_t h = 0; h < r->n_hosts; h++) {
    const p3cfg__host_info *host = &r->hosts[h];
    if (host->gpus == 0)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "hwloc finds no NVIDIA or AMD GPU on host %s, so the "
                              "GPU type is unknown: pass --gpu NAME or --base CLUSTER",
                              host->name);
    const p3cfg_gpu *g = p3cfg__gpu_preset_identify(host->gpu_model, 0);
    if (!g)
      g = p3cfg__gpu_preset_for_pci_id(host->gpu_device_id);
    const char *p = g ? g->name : NULL;
    if (!p)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "host %s has GPU \"%s\", which p3cfg has no "
                              "preset for: pass --gpu NAME or --base CLUSTER",
                              host->name, host->gpu_model);
    if (preset && strcmp(preset, p) != 0)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "hosts carry different GPUs (%s on %s, %s on "
                              "%s): pass --gpu NAME",
                              preset, r->hosts[0].name, p, host->name);
    preset = p;
  }
  r->gpu = *p3cfg__gpu_preset(preset);
  r->gpu_is_preset = 1;
  return 0;
}

/* Give repeated host names a suffix: names must be unique in the cluster file. */
static void unique_names(p3cfg_profile_result *r)
{
  for (uint32_t h = 1; h < r->n_hosts; h++)
    for (uint32_t g = 0; g < h; g++)
      if (strcmp(r->hosts[g].name, r->hosts[h].name) == 0) {
        char base[P3CFG__HOST_NAME_CAP];
        memcpy(base, r->hosts[h].name, sizeof base);
        snprintf(r->hosts[h].name, sizeof r->hosts[h].name, "%.50s-%u", base, h);
        break;
      }
}

/* Build the result from the gathered records (same on every rank). */
static int verdict(p3cfg_profile_result **out, const record *all, int n,
                   const p3cfg_profile_options *opts)
{
  if (all[0].status != 0)
    return p3cfg__error_set(all[0].status, "%s", all[0].message);
  uint32_t n_hosts = 0;
  for (int i = 0; i < n; i++) {
    if (all[i].leader != i)
      continue;
    if (all[i].host.status != 0)
      return p3cfg__error_set(all[i].host.status, "%s", all[i].host.message);
    n_hosts++;
  }
  for (int i = 0; i < n; i++)
    if (all[i].local_size != all[all[i].leader].local_size)
      return p3cfg__error_set(P3CFG_EVALUE, "inconsistent shared-memory split at rank %d", i);
  for (int i = 0; i < n; i++)
    if (all[i].leader == i && all[i].local_size != all[0].local_size)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "hosts run different numbers of ranks (%s: %d, %s: %d), but "
                              "a cluster file has one gpus_per_node: start the same "
                              "number of ranks on every host (one per GPU)",
                              all[0].host.name, all[0].local_size, all[i].host.name,
                              all[i].local_size);
  p3cfg_profile_result *r = p3cfg__profile_result_new((uint32_t)n, n_hosts);
  if (!r)
    return p3cfg__error_nomem();
  r->per_host = (uint32_t)all[0].local_size;
  uint32_t h = 0;
  for (int i = 0; i < n; i++)
    if (all[i].leader == i)
      r->hosts[h++] = all[i].host;
  for (int i = 0; i < n; i++) {
    uint32_t host = 0;
    for (int j = 0; j < all[i].leader; j++)
      host += (all[j].leader == j);
    r->rank_host[i] = host;
    r->rank_local[i] = (uint32_t)all[i].local_rank;
  }
  unique_names(r);
  int rc = resolve_gpu(r, &all[0], opts);
  if (rc != 0) {
    p3cfg_profile_result_free(r);
    return rc;
  }
  const char *name = opts->name                                 ? opts->name
                     : (all[0].has_base && all[0].base_name[0]) ? all[0].base_name
                                                                : "profiled";
  r->name = p3cfg__strdup(name);
  if (!r->name) {
    p3cfg_profile_result_free(r);
    return p3cfg__error_nomem();
  }
  r->has_base = all[0].has_base;
  r->base_intra_Bps = all[0].base_intra_Bps;
  r->base_inter_Bps = all[0].base_inter_Bps;
  r->base_intra_latency_s = all[0].base_intra_latency_s;
  r->base_inter_latency_s = all[0].base_inter_latency_s;
  *out = r;
  return 0;
}

static int say_hello(const p3cfg__waiter *w, int n)
{
  hello mine;
  memset(&mine, 0, sizeof mine);
  memcpy(mine.magic, MAGIC, sizeof MAGIC);
  snprintf(mine.version, sizeof mine.version, "%s", p3cfg_version_string());
  mine.protocol = PROTOCOL;
  mine.record_bytes = (uint32_t)sizeof(record);
  hello *all = p3cfg__calloc((size_t)n, sizeof *all);
  if (!all)
    return p3cfg__error_nomem();
  MPI_Request req;
  int rc = MPI_Iallgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE,
                          w->comm, &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(w, rc, "MPI_Iallgather");
  else
    rc = p3cfg__wait_all(w, &req, 1, MPI_Wtime() + w->timeout_s, P3CFG__WAIT_IDLE,
                         "the start-up exchange (versions)", -1);
  if (rc == 0)
    rc = check_hellos(all, n);
  p3cfg__free(all);
  return rc;
}

int p3cfg__profile_exchange(p3cfg_profile_result **out, int *oversubscribed, const p3cfg__waiter *w,
                            const p3cfg_profile_options *opts)
{
  int n = 0, rc;
  MPI_Comm_size(w->comm, &n);
  if ((rc = say_hello(w, n)) != 0)
    return rc;

  record mine;
  memset(&mine, 0, sizeof mine);
  MPI_Comm node;
  rc = p3cfg__split_hosts(w->comm, w->rank, &node);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(w, rc, "MPI_Comm_split_type");
  int local_rank = 0, local_size = 0, leader = w->rank;
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_size(node, &local_size);
  MPI_Request req;
  rc = MPI_Iallreduce(&w->rank, &leader, 1, MPI_INT, MPI_MIN, node, &req);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(w, rc, "MPI_Iallreduce");
  if ((rc = p3cfg__wait_all(w, &req, 1, MPI_Wtime() + w->timeout_s, P3CFG__WAIT_IDLE,
                            "the start-up exchange (hosts)", -1)) != 0)
    return rc;
  MPI_Comm_free(&node);
  mine.leader = leader;
  mine.local_rank = local_rank;
  mine.local_size = local_size;
  if (leader == w->rank)
    p3cfg__topology_discover(&mine.host);
  if (w->rank == 0)
    root_checks(&mine, opts);

  record *all = p3cfg__calloc((size_t)n, sizeof *all);
  if (!all)
    return p3cfg__error_nomem();
  rc = MPI_Iallgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, w->comm,
                      &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(w, rc, "MPI_Iallgather");
  else
    rc = p3cfg__wait_all(w, &req, 1, MPI_Wtime() + w->timeout_s, P3CFG__WAIT_IDLE,
                         "the start-up exchange (hwloc)", -1);
  if (rc == 0)
    rc = verdict(out, all, n, opts);
  if (rc == 0)
    *oversubscribed = (uint32_t)local_size > all[leader].host.pus;
  p3cfg__free(all);
  return rc;
}
