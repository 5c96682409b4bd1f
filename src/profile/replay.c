/*
 * replay.c — p3cfg_replay_run: a plan's per-iteration communication, performed on the
 * cluster it was placed on, measured per component beside the time model's prediction
 * (p3cfg_comm_predict in libp3cfg, which also says what to send: counts and sizes).
 *
 * Start-up: a hello (version, the prediction's fingerprint, a hash of the placement, the
 * options, local status) gathered with a deadline, so that ranks with different inputs
 * stop with a message; then the shared-memory split gives each rank its host and local
 * index, and from the gathered host names every rank computes the same map MPI rank ->
 * plan rank (host = node by name, else by order; local index = GPU). Groups are
 * communicators split from a duplicate of the caller's (MPI_ERRORS_RETURN): one per TP
 * group, per DP group, per first/last-stage pair of a tied embedding; a group the time
 * model treats as hierarchical (the same g ranks on each of n nodes, nodes in increasing
 * order) is also split into its node rings and its g cross-node rings.
 *
 * Collectives are rings of nonblocking sends and receives (reduce-scatter and all-gather:
 * k-1 steps of 1/k of the buffer; all-reduce: one of each; hierarchical: inside the
 * node, across on 1/g, inside again), data moved but never reduced. Pipeline messages
 * follow each micro-batch through the virtual stages and back. Every wait is polled
 * against a deadline (profile_wait.c): a dead rank or a stalled link ends the run with
 * P3CFG_EMPI. Each component of an iteration starts after a barrier; the slowest rank's
 * time counts, median over the timed iterations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "host_split.h"
#include "profile_types.h"
#include "profile_wait.h"

#define REPLAY_MAGIC "p3cfg-replay"
/* Largest single message: bigger transfers go in pieces (one latency each, negligible). */
#define PIECE_BYTES (16u << 20)

typedef struct hello {
  char magic[16];
  char version[32];
  int32_t status;
  char message[P3CFG__MESSAGE_CAP];
  double fingerprint[8];
  uint64_t placement_hash; /* the placement and the node names (map_ranks' inputs) */
  uint32_t iterations, warmup;
  char host[P3CFG__HOST_NAME_CAP];
  char boot_id[40]; /* the same on every host name of one machine (namespaces, tests) */
  int32_t leader, local_rank;
} hello;

/* A ring group: flat (intra only), or hierarchical (intra ring inside the node, inter
 * ring across nodes of the ranks with the same local position). */
typedef struct group {
  MPI_Comm flat, intra, inter;
  int k, g, n; /* members, per node, nodes */
} group;

typedef struct ctx {
  p3cfg__waiter w;
  char *sbuf, *rbuf;
  size_t buf_bytes;
} ctx;

P3CFG_API void p3cfg_replay_options_init(p3cfg_replay_options *opts)
{
  if (opts) {
    static const p3cfg_replay_options init = P3CFG_REPLAY_OPTIONS_INIT;
    *opts = init;
  }
}

/* ---- transfers ------------------------------------------------------------------------ */

/* Send `bytes` to `to` and receive as many from `from` at once (either may be
 * MPI_PROC_NULL), in pieces, every wait with a deadline; `peer` (a world rank, or -1)
 * is named when it does not answer. */
static int exchange(ctx *cx, MPI_Comm comm, int to, int from, uint64_t bytes, const char *what,
                    int peer)
{
  while (bytes > 0) {
    const int piece = (int)(bytes < cx->buf_bytes ? bytes : cx->buf_bytes);
    MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    int rc = MPI_Irecv(cx->rbuf, piece, MPI_BYTE, from, 7, comm, &req[0]);
    if (rc == MPI_SUCCESS)
      rc = MPI_Isend(cx->sbuf, piece, MPI_BYTE, to, 7, comm, &req[1]);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(&cx->w, rc, "MPI_Isend/MPI_Irecv");
    if ((rc = p3cfg__wait_all(&cx->w, req, 2, MPI_Wtime() + cx->w.timeout_s, P3CFG__WAIT_STREAM,
                              what, peer)) != 0)
      return rc;
    bytes -= (uint64_t)piece;
  }
  return 0;
}

/* One ring pass over `comm` (k ranks): k-1 steps of ceil(bytes/k), to the right. */
static int ring_pass(ctx *cx, MPI_Comm comm, uint64_t bytes, const char *what)
{
  int k = 1, me = 0;
  MPI_Comm_size(comm, &k);
  MPI_Comm_rank(comm, &me);
  if (k <= 1)
    return 0;
  const uint64_t chunk = (bytes + (uint64_t)k - 1) / (uint64_t)k;
  for (int s = 0; s < k - 1; s++) {
    int rc = exchange(cx, comm, (me + 1) % k, (me + k - 1) % k, chunk, what, -1);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Half an all-reduce: a reduce-scatter (reduce_scatter = 1) or an all-gather (0). */
static int ring_half(ctx *cx, const group *g, uint64_t bytes, int reduce_scatter, const char *what)
{
  if (g->k <= 1)
    return 0;
  if (g->n <= 1 || g->g <= 1 || g->intra == MPI_COMM_NULL)
    return ring_pass(cx, g->flat, bytes, what);
  const uint64_t across = (bytes + (uint64_t)g->g - 1) / (uint64_t)g->g;
  int rc;
  if (reduce_scatter) {
    if ((rc = ring_pass(cx, g->intra, bytes, what)) != 0)
      return rc;
    return ring_pass(cx, g->inter, across, what);
  }
  if ((rc = ring_pass(cx, g->inter, across, what)) != 0)
    return rc;
  return ring_pass(cx, g->intra, bytes, what);
}

static int ring_allreduce(ctx *cx, const group *g, uint64_t bytes, const char *what)
{
  int rc = ring_half(cx, g, bytes, 1, what);
  return rc ? rc : ring_half(cx, g, bytes, 0, what);
}

/* A barrier after a component that took this rank `behind_s`: ranks of other stages may
 * still be in it (stages differ in layers and parameters, only the first and last reduce
 * a tied embedding), for minutes at real sizes over slow links; so the wait is the
 * timeout plus twice that time. A dead or stalled rank is still found within the timeout
 * by the ring or pipeline neighbours waiting on it. */
static int barrier(ctx *cx, const char *what, double behind_s)
{
  MPI_Request req;
  int rc = MPI_Ibarrier(cx->w.comm, &req);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(&cx->w, rc, "MPI_Ibarrier");
  return p3cfg__wait_all(&cx->w, &req, 1, MPI_Wtime() + 1.1 * cx->w.timeout_s + 2.0 * behind_s,
                         P3CFG__WAIT_IDLE, what, -1);
}

/* ---- groups --------------------------------------------------------------------------- */

/* Split `comm` into groups by color (MPI_UNDEFINED: none), members ordered by key; then,
 * when the group's members (their nodes given in member order by `nodes`, k of them)
 * form the time model's hierarchical ring, its node rings and cross-node rings. */
static int make_group(group *out, ctx *cx, int color, int key, const uint32_t *nodes, int k)
{
  out->flat = out->intra = out->inter = MPI_COMM_NULL;
  out->k = k, out->g = k, out->n = 1;
  int rc = MPI_Comm_split(cx->w.comm, color, key, &out->flat);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(&cx->w, rc, "MPI_Comm_split");
  if (color == MPI_UNDEFINED || k <= 1)
    return 0;
  /* Runs of members on one node: hierarchical when all runs have the same length g and
   * the nodes increase (collectives.c decides the same way). */
  int g = 0, runs = 1, run_len = 1, even = 1;
  for (int i = 1; i < k && even; i++) {
    if (nodes[i] != nodes[i - 1]) {
      if (nodes[i] < nodes[i - 1] || (g && run_len != g))
        even = 0;
      if (!g)
        g = run_len;
      runs++;
      run_len = 0;
    }
    run_len++;
  }
  if (!even || runs == 1 || run_len != g)
    return 0;
  out->g = g, out->n = runs;
  if (g == 1)
    return 0; /* one member per node: the flat ring is the cross-node ring */
  int me = 0;
  MPI_Comm_rank(out->flat, &me);
  rc = MPI_Comm_split(out->flat, me / g, me % g, &out->intra);
  if (rc == MPI_SUCCESS)
    rc = MPI_Comm_split(out->flat, me % g, me / g, &out->inter);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(&cx->w, rc, "MPI_Comm_split");
  return 0;
}

static void free_group(group *g)
{
  MPI_Comm *c[] = {&g->flat, &g->intra, &g->inter};
  for (size_t i = 0; i < 3; i++)
    if (*c[i] != MPI_COMM_NULL)
      MPI_Comm_free(c[i]);
}

/* ---- the start: who runs which plan rank ---------------------------------------------- */

typedef struct layout {
  uint32_t n;         /* ranks */
  uint32_t *plan_of;  /* world rank -> plan rank */
  uint32_t *world_of; /* plan rank -> world rank */
  uint32_t *node_of;  /* plan rank -> node */
  uint32_t hosts;
  int by_name;
} layout;

static void free_layout(layout *l)
{
  p3cfg__free(l->plan_of);
  p3cfg__free(l->world_of);
  p3cfg__free(l->node_of);
}

/* The same verdict on every rank, from the gathered hellos. */
static int map_ranks(layout *l, const hello *all, int n, const p3cfg_plan_cluster *pc,
                     const p3cfg_rank_place *place, size_t n_plan)
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

static int gather_hellos(hello **out, ctx *cx, hello *mine, int n, const char *what)
{
  hello *all = p3cfg__calloc((size_t)n, sizeof *all);
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

/* ---- one iteration -------------------------------------------------------------------- */

typedef struct roles {
  uint32_t stage, x; /* pipeline rank, index within the stage (dp*tp) */
  group tp, dp, tie;
  const p3cfg_comm_stage *s; /* this stage's counts */
} roles;

static int run_tp(ctx *cx, const roles *ro)
{
  int rc = 0;
  for (uint64_t i = 0; i < ro->s->tp_halves && rc == 0; i++)
    rc = ring_half(cx, &ro->tp, ro->s->tp_bytes, (i & 1) == 0, "tensor-parallel collective");
  for (uint64_t i = 0; i < ro->s->loss_allreduces && rc == 0; i++)
    rc = ring_allreduce(cx, &ro->tp, ro->s->loss_bytes, "tensor-parallel loss all-reduce");
  return rc;
}

static int run_pp(ctx *cx, const roles *ro, const layout *l, const p3cfg_comm_info *in)
{
  if (in->hops == 0)
    return 0;
  const uint32_t p = in->pp, per_stage = in->tp * in->dp, last = in->hops;
  int rc = 0;
  for (uint64_t m = 0; m < in->micro_batches && rc == 0; m++) {
    /* Forward: virtual stage h (rank h mod p) receives from h-1, sends to h+1. */
    for (uint32_t h = ro->stage; h <= last && rc == 0; h += p) {
      const int prev = h > 0 ? (int)l->world_of[((h - 1) % p) * per_stage + ro->x] : MPI_PROC_NULL;
      const int next =
          h < last ? (int)l->world_of[((h + 1) % p) * per_stage + ro->x] : MPI_PROC_NULL;
      if (prev != MPI_PROC_NULL)
        rc = exchange(cx, cx->w.comm, MPI_PROC_NULL, prev, in->send_bytes,
                      "pipeline receive (forward)", prev);
      if (rc == 0 && next != MPI_PROC_NULL)
        rc = exchange(cx, cx->w.comm, next, MPI_PROC_NULL, in->send_bytes,
                      "pipeline send (forward)", next);
    }
    /* Backward: from the last virtual stage down. */
    for (int64_t h = (int64_t)ro->stage + (int64_t)((last - ro->stage) / p) * p; h >= 0 && rc == 0;
         h -= p) {
      const uint32_t u = (uint32_t)h;
      const int next =
          u < last ? (int)l->world_of[((u + 1) % p) * per_stage + ro->x] : MPI_PROC_NULL;
      const int prev = u > 0 ? (int)l->world_of[((u - 1) % p) * per_stage + ro->x] : MPI_PROC_NULL;
      if (next != MPI_PROC_NULL)
        rc = exchange(cx, cx->w.comm, MPI_PROC_NULL, next, in->send_bytes,
                      "pipeline receive (backward)", next);
      if (rc == 0 && prev != MPI_PROC_NULL)
        rc = exchange(cx, cx->w.comm, prev, MPI_PROC_NULL, in->send_bytes,
                      "pipeline send (backward)", prev);
    }
  }
  return rc;
}

static int run_dp(ctx *cx, const roles *ro, const p3cfg_comm_info *in)
{
  const p3cfg_comm_stage *s = ro->s;
  int rc = 0;
  for (uint64_t i = 0; i < s->dp_allreduces && rc == 0; i++)
    rc = ring_allreduce(cx, &ro->dp, s->dp_allreduce_bytes, "data-parallel all-reduce");
  for (uint64_t i = 0; i < s->dp_reduce_scatters && rc == 0; i++)
    rc = ring_half(cx, &ro->dp, s->dp_rs_bytes, 1, "data-parallel reduce-scatter");
  for (uint64_t i = 0; i < s->dp_all_gathers && rc == 0; i++)
    rc = ring_half(cx, &ro->dp, s->dp_ag_bytes, 0, "data-parallel all-gather");
  if (rc == 0 && in->tie_bytes && ro->tie.flat != MPI_COMM_NULL)
    rc = ring_allreduce(cx, &ro->tie, in->tie_bytes, "tied-embedding all-reduce");
  return rc;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, uint32_t n)
{
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- the run -------------------------------------------------------------------------- */

static int check_options(const p3cfg_replay_options *o)
{
  if (o->version != P3CFG_REPLAY_OPTIONS_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "replay options version %u, expected %u", o->version,
                            P3CFG_REPLAY_OPTIONS_VERSION);
  if (!(o->scale > 0.0) || o->scale > 1e6)
    return p3cfg__error_set(P3CFG_EINVALID, "scale must be in (0, 1e6], got %g", o->scale);
  if (o->iterations < 1 || o->iterations > 10000 || o->warmup > 10000)
    return p3cfg__error_set(P3CFG_EINVALID,
                            "iterations must be in [1, 10000] and warm-up at most 10000");
  if (!(o->timeout_s > 0.0))
    return p3cfg__error_set(P3CFG_EINVALID, "timeout must be positive");
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

/* This rank's part of the start: the prediction (every rank computes it), or why not. */
static void prepare(hello *mine, p3cfg_comm **cm, const p3cfg_plan_file *f, size_t index,
                    const p3cfg_model *m, const p3cfg_cluster *c, double scale)
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

/* This rank's host: its index among the host's ranks and the host's lowest rank (the
 * only blocking call, the split, comes after the first exchange proved every rank
 * alive). `same_machine` ranks share this machine (boot id): more than its CPUs, and
 * waits poll gently. */
static int find_host(ctx *cx, hello *mine, int same_machine)
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

/* This rank's groups: its TP group, its DP group, its tied-embedding pair (if any). */
static int make_groups(roles *ro, ctx *cx, const layout *l, const p3cfg_comm_info *in, uint32_t me)
{
  const uint32_t t = in->tp, dp = in->dp, p = in->pp, per_stage = t * dp;
  const uint32_t d = ro->x / t, ti = ro->x % t;
  uint32_t *nodes = p3cfg__malloc(((size_t)t + dp + 2) * sizeof *nodes);
  if (!nodes)
    return p3cfg__error_nomem();
  for (uint32_t i = 0; i < t; i++)
    nodes[i] = l->node_of[ro->stage * per_stage + d * t + i];
  int rc = make_group(&ro->tp, cx, (int)(me / t), (int)ti, nodes, (int)t);
  for (uint32_t i = 0; i < dp; i++)
    nodes[i] = l->node_of[ro->stage * per_stage + i * t + ti];
  if (rc == 0)
    rc = make_group(&ro->dp, cx, (int)(ro->stage * t + ti), (int)d, nodes, (int)dp);
  const int in_tie = in->tie_bytes && (ro->stage == 0 || ro->stage == p - 1);
  nodes[0] = l->node_of[ro->x];
  nodes[1] = l->node_of[(p - 1) * per_stage + ro->x];
  if (rc == 0)
    rc = make_group(&ro->tie, cx, in_tie ? (int)ro->x : MPI_UNDEFINED, (int)ro->stage, nodes,
                    in_tie ? 2 : 0);
  p3cfg__free(nodes);
  return rc;
}

/* Run the iterations; times[3 i + c]: this rank's time of component c in timed
 * iteration i; *last_s: of the last component run. */
static int iterate(double *times, double *last_s, ctx *cx, const roles *ro, const layout *l,
                   const p3cfg_comm_info *in, const p3cfg_replay_options *o)
{
  /* The buffers: the largest piece any transfer of this rank uses. */
  uint64_t largest = in->send_bytes;
  const uint64_t sizes[] = {ro->s->tp_bytes,    ro->s->loss_bytes,  ro->s->dp_allreduce_bytes,
                            ro->s->dp_rs_bytes, ro->s->dp_ag_bytes, in->tie_bytes};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    largest = sizes[i] > largest ? sizes[i] : largest;
  cx->buf_bytes = largest < PIECE_BYTES ? (size_t)largest : PIECE_BYTES;
  if (cx->buf_bytes == 0)
    cx->buf_bytes = 1;
  cx->sbuf = p3cfg__malloc(cx->buf_bytes);
  cx->rbuf = p3cfg__malloc(cx->buf_bytes);
  if (!cx->sbuf || !cx->rbuf)
    return p3cfg__error_nomem();
  memset(cx->sbuf, 0x5a, cx->buf_bytes);
  const int has[3] = {in->tp > 1, in->hops > 0, in->dp > 1 || in->tie_bytes > 0};
  int rc = 0;
  for (uint32_t it = 0; it < o->warmup + o->iterations && rc == 0; it++) {
    double t_comp[3] = {0.0, 0.0, 0.0};
    for (int comp = 0; comp < 3 && rc == 0; comp++) {
      if (!has[comp])
        continue; /* the plan has no such communication: 0, not a barrier's noise */
      if ((rc = barrier(cx, "the barrier before a component", *last_s)) != 0)
        break;
      const double t0 = MPI_Wtime();
      rc = comp == 0 ? run_tp(cx, ro) : comp == 1 ? run_pp(cx, ro, l, in) : run_dp(cx, ro, in);
      t_comp[comp] = *last_s = MPI_Wtime() - t0;
    }
    if (rc == 0 && it >= o->warmup)
      memcpy(&times[3 * (size_t)(it - o->warmup)], t_comp, sizeof t_comp);
  }
  return rc;
}

/* The report from every rank's times: per component the slowest rank, median over the
 * iterations (`col`: scratch of `iters` entries). */
static void summarize(p3cfg_replay_report *out, const double *slowest, double *col, uint32_t iters)
{
  double *res[3] = {&out->measured_tp_s, &out->measured_pp_s, &out->measured_dp_s};
  for (int comp = 0; comp < 3; comp++) {
    for (uint32_t i = 0; i < iters; i++)
      col[i] = slowest[3 * (size_t)i + comp];
    *res[comp] = median(col, iters);
  }
  out->min_total_s = 1e300;
  out->max_total_s = 0.0;
  for (uint32_t i = 0; i < iters; i++) {
    const double s = slowest[3 * i] + slowest[3 * i + 1] + slowest[3 * i + 2];
    out->min_total_s = s < out->min_total_s ? s : out->min_total_s;
    out->max_total_s = s > out->max_total_s ? s : out->max_total_s;
  }
  out->measured_total_s = out->measured_tp_s + out->measured_pp_s + out->measured_dp_s;
}

static void no_group(group *g)
{
  g->flat = g->intra = g->inter = MPI_COMM_NULL;
}

static int replay(p3cfg_replay_report *out, ctx *cx, const p3cfg_plan_file *f, size_t index,
                  const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_replay_options *o)
{
  int n = 0, rc;
  MPI_Comm_size(cx->w.comm, &n);
  hello mine, *all = NULL;
  p3cfg_comm *cm = NULL;
  layout l;
  roles ro;
  double *times = NULL, *slowest = NULL;
  memset(&mine, 0, sizeof mine);
  memset(&l, 0, sizeof l);
  memset(&ro, 0, sizeof ro);
  no_group(&ro.tp), no_group(&ro.dp), no_group(&ro.tie);

  memcpy(mine.magic, REPLAY_MAGIC, sizeof REPLAY_MAGIC);
  snprintf(mine.version, sizeof mine.version, "%s", p3cfg_version_string());
  mine.iterations = o->iterations;
  mine.warmup = o->warmup;
  prepare(&mine, &cm, f, index, m, c, o->scale);
  if (gethostname(mine.host, sizeof mine.host - 1) != 0)
    snprintf(mine.host, sizeof mine.host, "unknown");
  FILE *boot = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (boot) {
    if (!fgets(mine.boot_id, sizeof mine.boot_id, boot))
      mine.boot_id[0] = '\0';
    fclose(boot);
  }

  /* First exchange: every rank alive, same inputs. Only then the split (blocking). */
  if ((rc = gather_hellos(&all, cx, &mine, n, "the start-up exchange (inputs)")) != 0)
    goto done;
  int bad = 0, same_machine = 0;
  for (int i = 0; i < n; i++) {
    bad |= all[i].status != 0 ||
           memcmp(all[i].fingerprint, all[0].fingerprint, sizeof all[0].fingerprint) != 0 ||
           all[i].placement_hash != all[0].placement_hash;
    same_machine += mine.boot_id[0] && strcmp(all[i].boot_id, mine.boot_id) == 0;
  }
  p3cfg__free(all);
  all = NULL;
  if (!bad && (rc = find_host(cx, &mine, same_machine)) != 0)
    goto done;
  if ((rc = gather_hellos(&all, cx, &mine, n, "the start-up exchange (hosts)")) != 0)
    goto done;
  size_t n_plan = 0;
  const p3cfg_rank_place *place = p3cfg_plan_file_placement(f, index, &n_plan);
  if ((rc = map_ranks(&l, all, n, p3cfg_plan_file_cluster(f, index), place, n_plan)) != 0)
    goto done;

  const p3cfg_comm_info *in = p3cfg_comm_get_info(cm);
  const uint32_t me = l.plan_of[cx->w.rank], per_stage = in->tp * in->dp;
  ro.stage = me / per_stage;
  ro.x = me % per_stage;
  ro.s = p3cfg_comm_stage_get(cm, ro.stage);
  if ((rc = make_groups(&ro, cx, &l, in, me)) != 0)
    goto done;
  const uint32_t iters = o->iterations;
  times = p3cfg__calloc(3 * (size_t)iters, sizeof *times);
  slowest = p3cfg__calloc(3 * (size_t)iters, sizeof *slowest);
  if (!times || !slowest) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  double last_s = 0.0;
  if ((rc = iterate(times, &last_s, cx, &ro, &l, in, o)) != 0)
    goto done;
  MPI_Request req;
  rc = MPI_Iallreduce(times, slowest, (int)(3 * iters), MPI_DOUBLE, MPI_MAX, cx->w.comm, &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(&cx->w, rc, "MPI_Iallreduce");
  else /* as a barrier: other stages may still be in the last component */
    rc = p3cfg__wait_all(&cx->w, &req, 1, MPI_Wtime() + 1.1 * cx->w.timeout_s + 2.0 * last_s,
                         P3CFG__WAIT_IDLE, "gathering the times", -1);
  if (rc != 0)
    goto done;
  memset(out, 0, sizeof *out);
  out->ranks = (uint32_t)n;
  out->hosts = l.hosts;
  out->iterations = iters;
  out->by_name = l.by_name;
  out->predicted = *in;
  summarize(out, slowest, times, iters);
done:
  if (rc != P3CFG_EMPI) { /* after an MPI failure the caller aborts; freeing might wait */
    free_group(&ro.tp);
    free_group(&ro.dp);
    free_group(&ro.tie);
  }
  p3cfg__free(all);
  p3cfg__free(times);
  p3cfg__free(slowest);
  p3cfg__free(cx->sbuf);
  p3cfg__free(cx->rbuf);
  cx->sbuf = cx->rbuf = NULL;
  free_layout(&l);
  p3cfg_comm_free(cm);
  return rc;
}

P3CFG_API int p3cfg_replay_run(p3cfg_replay_report *out, MPI_Comm comm, const p3cfg_plan_file *plan,
                               size_t index, const p3cfg_model *model, const p3cfg_cluster *cluster,
                               const p3cfg_replay_options *opts)
{
  p3cfg__error_clear();
  if (!out || !plan || !model || !cluster || comm == MPI_COMM_NULL)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_replay_run: NULL argument");
  p3cfg_replay_options defaults;
  p3cfg_replay_options_init(&defaults);
  if (!opts)
    opts = &defaults;
  int rc = check_options(opts);
  if (rc != 0)
    return rc;
  ctx cx;
  memset(&cx, 0, sizeof cx);
  cx.w.timeout_s = opts->timeout_s;
  if ((rc = MPI_Comm_dup(comm, &cx.w.comm)) != MPI_SUCCESS) {
    cx.w.comm = comm;
    return p3cfg__mpi_error(&cx.w, rc, "MPI_Comm_dup");
  }
  MPI_Comm_set_errhandler(cx.w.comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(cx.w.comm, &cx.w.rank);
  rc = replay(out, &cx, plan, index, model, cluster, opts);
  if (rc != P3CFG_EMPI) /* after an MPI failure the caller aborts; freeing could block */
    MPI_Comm_free(&cx.w.comm);
  return rc;
}
