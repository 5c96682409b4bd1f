/*
 * replay_start.c — the start of `p3cfg replay`: a hello from every rank (version, the
 * prediction's fingerprint, a hash of the placement, the options, local status) gathered
 * with a deadline, so that ranks with different inputs stop with a message; then the
 * shared-memory split gives each rank its host and local index, and from the gathered
 * host names every rank computes the same map MPI rank -> plan rank (host = node by
 * name, else by order; local index = GPU).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "host_split.h"
#include "replay_internal.h"

#define REPLAY_MAGIC "p3cfg-replay"

void p3cfg__replay_layout_free(p3cfg__replay_layout *l)
{
  p3cfg__free(l->plan_of);
  p3cfg__free(l->world_of);
  p3cfg__free(l->node_of);
}

/* The same verdict on every rank, from the gathered hellos. */
int p3cfg__replay_map_ranks(p3cfg__replay_layout *l, const p3cfg__replay_hello *all, int n,
                            const p3cfg_plan_cluster *pc, const p3cfg_rank_place *place,
                            size_t n_plan)
{
  if (all[0].status != 0)
    return p3cfg__error_set(all[0].status, "%s", all[0].message);
  for (int i = 1; i < n; i++) {
    if (all[i].status != 0)
      return p3cfg__error_set(all[i].status, "rank %d: %s", i, all[i].message);
    if (memcmp(all[i].version, all[0].version, sizeof all[0].version) != 0)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "p3cfg versions differ across ranks: rank 0 runs %.31s, rank "
                              "%d runs %.31s: install the same p3cfg on every host",
                              all[0].version, i, all[i].version);
    if (memcmp(all[i].fingerprint, all[0].fingerprint, sizeof all[0].fingerprint) != 0 ||
        all[i].placement_hash != all[0].placement_hash)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "rank %d was given a different plan, model, cluster or "
                              "--scale than rank 0: pass the same files to every rank",
                              i);
    if (all[i].iterations != all[0].iterations || all[i].warmup != all[0].warmup)
      return p3cfg__error_set(P3CFG_EVALUE,
                              "rank %d was given --iterations %u --warmup %u, rank 0 "
                              "--iterations %u --warmup %u: pass the same options to every rank",
                              i, all[i].iterations, all[i].warmup, all[0].iterations,
                              all[0].warmup);
  }
  if ((size_t)n != n_plan)
    return p3cfg__error_set(P3CFG_EVALUE,
                            "the plan has %zu ranks (dp*tp*pp on %u nodes x %u GPUs) but "
                            "MPI runs %d: start exactly one rank per GPU the plan uses "
                            "(mpirun -np %zu, %u per host)",
                            n_plan, pc->nodes, pc->gpus_per_node, n, n_plan, pc->gpus_per_node);
  /* Hosts in the order of their lowest rank. */
  uint32_t *host_of = p3cfg__calloc((size_t)n, sizeof *host_of);
  uint32_t *host_node = p3cfg__calloc((size_t)n, sizeof *host_node);
  char(*names)[P3CFG__HOST_NAME_CAP] = p3cfg__calloc((size_t)n, sizeof *names);
  l->plan_of = p3cfg__calloc((size_t)n, sizeof *l->plan_of);
  l->world_of = p3cfg__calloc((size_t)n, sizeof *l->world_of);
  l->node_of = p3cfg__calloc((size_t)n, sizeof *l->node_of);
  int rc = 0;
  if (!host_of || !host_node || !names || !l->plan_of || !l->world_of || !l->node_of) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  l->n = (uint32_t)n;
  l->hosts = 0;
  for (int i = 0; i < n; i++) {
    if (all[i].leader == i)
      host_node[l->hosts++] = 0;
    uint32_t h = 0;
    for (int j = 0; j < all[i].leader; j++)
      h += all[j].leader == j;
    host_of[i] = h;
  }
  /* Host names as the profiler writes them: a repeated name gets "-index" (as in
   * profile_exchange.c). By name when every host is one of the plan's nodes; else by
   * order over the nodes the plan uses. */
  for (uint32_t h = 0, i = 0; h < l->hosts; i++)
    if (all[i].leader == (int32_t)i)
      memcpy(names[h++], all[i].host, P3CFG__HOST_NAME_CAP);
  for (uint32_t h = 1; h < l->hosts; h++)
    for (uint32_t g = 0; g < h; g++)
      if (strcmp(names[g], names[h]) == 0) {
        char base[P3CFG__HOST_NAME_CAP];
        memcpy(base, names[h], sizeof base);
        snprintf(names[h], P3CFG__HOST_NAME_CAP, "%.50s-%u", base, h);
        break;
      }
  l->by_name = 1;
  for (uint32_t h = 0; h < l->hosts; h++) {
    uint32_t node = UINT32_MAX;
    for (uint32_t k = 0; k < pc->nodes; k++)
      if (strcmp(names[h], pc->node_names[k]) == 0)
        node = k;
    if (node == UINT32_MAX)
      l->by_name = 0;
    host_node[h] = node;
  }
  if (!l->by_name) {
    uint32_t h = 0;
    for (uint32_t k = 0; k < pc->nodes && h < l->hosts; k++) {
      int used = 0;
      for (size_t r = 0; r < n_plan; r++)
        used |= place[r].node == k;
      if (used)
        host_node[h++] = k;
    }
    if (h < l->hosts) {
      rc = p3cfg__error_set(P3CFG_EVALUE,
                            "MPI runs on %u hosts, but the plan uses %u nodes (and host "
                            "names such as %s are not among the plan's node names)",
                            l->hosts, h, names[0]);
      goto done;
    }
  }
  for (uint32_t r = 0; r < l->n; r++)
    l->world_of[r] = UINT32_MAX;
  for (int i = 0; i < n; i++) {
    const uint32_t node = host_node[host_of[i]];
    const uint32_t gpu = (uint32_t)all[i].local_rank;
    size_t r = 0;
    while (r < n_plan && !(place[r].node == node && place[r].gpu == gpu))
      r++;
    if (r == n_plan) {
      rc =
          p3cfg__error_set(P3CFG_EVALUE,
                           "MPI rank %d runs on host %s (node %s) as its local rank %u, "
                           "but the plan puts no rank on GPU %u of that node: start one "
                           "rank per GPU the plan uses, %u per host, in GPU order",
                           i, names[host_of[i]], pc->node_names[node], gpu, gpu, pc->gpus_per_node);
      goto done;
    }
    const uint32_t pr = place[r].rank;
    if (l->world_of[pr] != UINT32_MAX) {
      rc = p3cfg__error_set(P3CFG_EVALUE,
                            "MPI ranks %u and %d both map to plan rank %u (node %s, GPU %u): "
                            "two hosts have the same name?",
                            l->world_of[pr], i, pr, pc->node_names[node], gpu);
      goto done;
    }
    l->world_of[pr] = (uint32_t)i;
    l->plan_of[i] = pr;
    l->node_of[pr] = node;
  }
done:
  p3cfg__free(host_of);
  p3cfg__free(host_node);
  p3cfg__free(names);
  return rc;
}

int p3cfg__replay_gather(p3cfg__replay_hello **out, p3cfg__replay_ctx *cx,
                         p3cfg__replay_hello *mine, int n, const char *what)
{
  p3cfg__replay_hello *all = p3cfg__calloc((size_t)n, sizeof *all);
  if (!all)
    return p3cfg__error_nomem();
  MPI_Request req;
  int rc = MPI_Iallgather(mine, (int)sizeof *mine, MPI_BYTE, all, (int)sizeof *mine, MPI_BYTE,
                          cx->w.comm, &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(&cx->w, rc, "MPI_Iallgather");
  else
    rc =
        p3cfg__wait_all(&cx->w, &req, 1, MPI_Wtime() + cx->w.timeout_s, P3CFG__WAIT_IDLE, what, -1);
  if (rc != 0) {
    p3cfg__free(all);
    return rc;
  }
  *out = all;
  return 0;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
  const unsigned char *b = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* What every rank maps ranks from (map_ranks): the placement and the plan's node names.
 * Two placements of one plan can predict the same times (a uniform cluster), so the
 * fingerprint alone would not tell them apart; ranks that disagree would send to the
 * wrong peers, or split groups differently and block in MPI_Comm_split. */
static uint64_t placement_hash(const p3cfg_plan_cluster *pc, const p3cfg_rank_place *place,
                               size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t r = 0; r < n; r++) {
    const uint32_t e[3] = {place[r].rank, place[r].node, place[r].gpu};
    h = hash_bytes(h, e, sizeof e);
  }
  const uint32_t shape[2] = {pc->nodes, pc->gpus_per_node};
  h = hash_bytes(h, shape, sizeof shape);
  for (uint32_t k = 0; k < pc->nodes; k++)
    h = hash_bytes(h, pc->node_names[k], strlen(pc->node_names[k]) + 1);
  return h;
}

/* The prediction (every rank computes it) and what identifies it, or why not. */
static void predict(p3cfg__replay_hello *mine, p3cfg_comm **cm, const p3cfg_plan_file *f,
                    size_t index, const p3cfg_model *m, const p3cfg_cluster *c, double scale)
{
  const p3cfg_plan *plan = p3cfg_plan_file_plan(f, index);
  size_t n_plan = 0;
  const p3cfg_rank_place *place = p3cfg_plan_file_placement(f, index, &n_plan);
  const p3cfg_plan_cluster *pc = p3cfg_plan_file_cluster(f, index);
  if (!plan || !place || !pc) {
    mine->status = P3CFG_EINVALID;
    snprintf(mine->message, sizeof mine->message,
             plan ? "plan %zu of the plan file has no placement" : "the plan file has no plan %zu",
             index + 1);
    return;
  }
  mine->placement_hash = placement_hash(pc, place, n_plan);
  int rc = p3cfg_comm_predict(cm, m, c, plan, place, n_plan, scale);
  if (rc != 0) {
    /* Its message is in libp3cfg's last error, which this library (a private copy of
     * src/common, p3cfg_mpi.map) cannot read: its own p3cfg_error_last is another. */
    mine->status = rc == P3CFG_ENOMEM ? P3CFG_ENOMEM : P3CFG_EVALUE;
    snprintf(mine->message, sizeof mine->message,
             "p3cfg_comm_predict refused plan %zu: %s (it says why when called directly)",
             index + 1, p3cfg_strerror(rc));
    return;
  }
  const p3cfg_comm_info *in = p3cfg_comm_get_info(*cm);
  const double fp[8] = {(double)n_plan,
                        in->tp_s,
                        in->pp_s,
                        in->dp_s,
                        (double)in->micro_batches,
                        (double)in->send_bytes,
                        in->scale,
                        (double)in->tie_bytes};
  memcpy(mine->fingerprint, fp, sizeof fp);
}

void p3cfg__replay_prepare(p3cfg__replay_hello *mine, p3cfg_comm **cm, const p3cfg_plan_file *f,
                           size_t index, const p3cfg_model *m, const p3cfg_cluster *c,
                           const p3cfg_replay_options *o)
{
  memset(mine, 0, sizeof *mine);
  memcpy(mine->magic, REPLAY_MAGIC, sizeof REPLAY_MAGIC);
  snprintf(mine->version, sizeof mine->version, "%s", p3cfg_version_string());
  mine->iterations = o->iterations;
  mine->warmup = o->warmup;
  predict(mine, cm, f, index, m, c, o->scale);
  if (gethostname(mine->host, sizeof mine->host - 1) != 0)
    snprintf(mine->host, sizeof mine->host, "unknown");
  FILE *boot = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (boot) {
    if (!fgets(mine->boot_id, sizeof mine->boot_id, boot))
      mine->boot_id[0] = '\0';
    fclose(boot);
  }
}

int p3cfg__replay_disagree(const p3cfg__replay_hello *all, int n, const p3cfg__replay_hello *mine,
                           int *same_machine)
{
  int bad = 0;
  *same_machine = 0;
  for (int i = 0; i < n; i++) {
    bad |= all[i].status != 0 ||
           memcmp(all[i].fingerprint, all[0].fingerprint, sizeof all[0].fingerprint) != 0 ||
           all[i].placement_hash != all[0].placement_hash;
    *same_machine += mine->boot_id[0] && strcmp(all[i].boot_id, mine->boot_id) == 0;
  }
  return bad;
}

/* This rank's host: its index among the host's ranks and the host's lowest rank (the
 * only blocking call, the split, comes after the first exchange proved every rank
 * alive). `same_machine` ranks share this machine (boot id): more than its CPUs, and
 * waits poll gently. */
int p3cfg__replay_find_host(p3cfg__replay_ctx *cx, p3cfg__replay_hello *mine, int same_machine)
{
  MPI_Comm node = MPI_COMM_NULL;
  int rc = p3cfg__split_hosts(cx->w.comm, cx->w.rank, &node);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(&cx->w, rc, "MPI_Comm_split_type");
  int local_size = 1;
  MPI_Comm_rank(node, &mine->local_rank);
  MPI_Comm_size(node, &local_size);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  cx->w.oversubscribed = local_size > cpus || same_machine > cpus;
  MPI_Request req;
  mine->leader = cx->w.rank;
  rc = MPI_Iallreduce(&cx->w.rank, &mine->leader, 1, MPI_INT, MPI_MIN, node, &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(&cx->w, rc, "MPI_Iallreduce");
  else
    rc = p3cfg__wait_all(&cx->w, &req, 1, MPI_Wtime() + cx->w.timeout_s, P3CFG__WAIT_IDLE,
                         "the start-up exchange (hosts)", -1);
  MPI_Comm_free(&node);
  return rc;
}
