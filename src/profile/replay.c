/*
 * replay.c — p3cfg_replay_run: a plan's per-iteration communication, performed on the
 * cluster it was placed on, measured per component beside the time model's prediction
 * (p3cfg_comm_predict in libp3cfg, which also says what to send: counts and sizes).
 *
 * The start-up (replay_start.c) checks that every rank has the same inputs and maps MPI
 * ranks to plan ranks. Then each rank joins its groups — communicators split from a
 * duplicate of the caller's (MPI_ERRORS_RETURN): its TP group, its DP group, the
 * first/last-stage pair of a tied embedding, hierarchical where the time model's ring is
 * (replay_rings.c) — and runs the iterations: the TP collectives, the pipeline messages of
 * each micro-batch through the virtual stages and back, the DP reduction. Each component
 * starts after a barrier; the slowest rank's time counts, median over the timed
 * iterations. A dead rank or a stalled link ends the run with P3CFG_EMPI.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "link_fit.h"
#include "mesh.h"
#include "replay_internal.h"

/* Largest single message: bigger transfers go in pieces (one latency each, negligible). */
#define PIECE_BYTES (16u << 20)

P3CFG_API void p3cfg_replay_options_init(p3cfg_replay_options *opts)
{
  if (opts) {
    static const p3cfg_replay_options init = P3CFG_REPLAY_OPTIONS_INIT;
    *opts = init;
  }
}

/* ---- one iteration -------------------------------------------------------------------- */

typedef struct roles {
  p3cfg__mesh m;      /* the plan's geometry */
  uint32_t me, stage; /* plan rank, its pipeline rank */
  p3cfg__replay_group tp, dp, tie;
  const p3cfg_comm_stage *s; /* this stage's counts */
} roles;

static int run_tp(p3cfg__replay_ctx *cx, const roles *ro)
{
  int rc = 0;
  for (uint64_t i = 0; i < ro->s->tp_halves && rc == 0; i++)
    rc = p3cfg__replay_ring_half(cx, &ro->tp, ro->s->tp_bytes, (i & 1) == 0,
                                 "tensor-parallel collective");
  for (uint64_t i = 0; i < ro->s->loss_allreduces && rc == 0; i++)
    rc = p3cfg__replay_allreduce(cx, &ro->tp, ro->s->loss_bytes, "tensor-parallel loss all-reduce");
  return rc;
}

/* The world rank of this rank's position on pipeline stage j. */
static int world_at(const roles *ro, const p3cfg__replay_layout *l, uint32_t j)
{
  return (int)l->world_of[p3cfg__mesh_move(&ro->m, P3CFG__MESH_PP, ro->me, ro->stage, j)];
}

static int run_pp(p3cfg__replay_ctx *cx, const roles *ro, const p3cfg__replay_layout *l,
                  const p3cfg_comm_info *in)
{
  if (in->hops == 0)
    return 0;
  const uint32_t p = in->pp, last = in->hops;
  int rc = 0;
  for (uint64_t m = 0; m < in->micro_batches && rc == 0; m++) {
    /* Forward: virtual stage h (rank h mod p) receives from h-1, sends to h+1. */
    for (uint32_t h = ro->stage; h <= last && rc == 0; h += p) {
      const int prev = h > 0 ? world_at(ro, l, (h - 1) % p) : MPI_PROC_NULL;
      const int next = h < last ? world_at(ro, l, (h + 1) % p) : MPI_PROC_NULL;
      if (prev != MPI_PROC_NULL)
        rc = p3cfg__replay_exchange(cx, cx->w.comm, MPI_PROC_NULL, prev, in->send_bytes,
                                    "pipeline receive (forward)", prev);
      if (rc == 0 && next != MPI_PROC_NULL)
        rc = p3cfg__replay_exchange(cx, cx->w.comm, next, MPI_PROC_NULL, in->send_bytes,
                                    "pipeline send (forward)", next);
    }
    /* Backward: from the last virtual stage down. */
    for (int64_t h = (int64_t)ro->stage + (int64_t)((last - ro->stage) / p) * p; h >= 0 && rc == 0;
         h -= p) {
      const uint32_t u = (uint32_t)h;
      const int next = u < last ? world_at(ro, l, (u + 1) % p) : MPI_PROC_NULL;
      const int prev = u > 0 ? world_at(ro, l, (u - 1) % p) : MPI_PROC_NULL;
      if (next != MPI_PROC_NULL)
        rc = p3cfg__replay_exchange(cx, cx->w.comm, MPI_PROC_NULL, next, in->send_bytes,
                                    "pipeline receive (backward)", next);
      if (rc == 0 && prev != MPI_PROC_NULL)
        rc = p3cfg__replay_exchange(cx, cx->w.comm, prev, MPI_PROC_NULL, in->send_bytes,
                                    "pipeline send (backward)", prev);
    }
  }
  return rc;
}

static int run_dp(p3cfg__replay_ctx *cx, const roles *ro, const p3cfg_comm_info *in)
{
  const p3cfg_comm_stage *s = ro->s;
  int rc = 0;
  for (uint64_t i = 0; i < s->dp_allreduces && rc == 0; i++)
    rc = p3cfg__replay_allreduce(cx, &ro->dp, s->dp_allreduce_bytes, "data-parallel all-reduce");
  for (uint64_t i = 0; i < s->dp_reduce_scatters && rc == 0; i++)
    rc = p3cfg__replay_ring_half(cx, &ro->dp, s->dp_rs_bytes, 1, "data-parallel reduce-scatter");
  for (uint64_t i = 0; i < s->dp_all_gathers && rc == 0; i++)
    rc = p3cfg__replay_ring_half(cx, &ro->dp, s->dp_ag_bytes, 0, "data-parallel all-gather");
  if (rc == 0 && in->tie_bytes && ro->tie.flat != MPI_COMM_NULL)
    rc = p3cfg__replay_allreduce(cx, &ro->tie, in->tie_bytes, "tied-embedding all-reduce");
  return rc;
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

/* This rank's groups: its TP group, its DP group, its tied-embedding pair (if any). */
static int make_groups(roles *ro, p3cfg__replay_ctx *cx, const p3cfg__replay_layout *l,
                       const p3cfg_comm_info *in, uint32_t me)
{
  const p3cfg__mesh *M = &ro->m;
  const uint32_t t = M->size[P3CFG__MESH_TP], dp = M->size[P3CFG__MESH_DP];
  const uint32_t p = M->size[P3CFG__MESH_PP];
  uint32_t *nodes = p3cfg__malloc(((size_t)t + dp + 2) * sizeof *nodes);
  if (!nodes)
    return p3cfg__error_nomem();
  /* Each group's communicator: colour = the group's number, key = the rank's place in it. */
  const p3cfg__mesh_group tg = p3cfg__mesh_group_of(M, P3CFG__MESH_TP, me);
  for (uint32_t i = 0; i < t; i++)
    nodes[i] = l->node_of[p3cfg__mesh_member(&tg, i)];
  int rc =
      p3cfg__replay_group_make(&ro->tp, cx, (int)p3cfg__mesh_group_index(M, P3CFG__MESH_TP, me),
                               (int)p3cfg__mesh_coord(M, P3CFG__MESH_TP, me), nodes, (int)t);
  const p3cfg__mesh_group dg = p3cfg__mesh_group_of(M, P3CFG__MESH_DP, me);
  for (uint32_t i = 0; i < dp; i++)
    nodes[i] = l->node_of[p3cfg__mesh_member(&dg, i)];
  if (rc == 0)
    rc = p3cfg__replay_group_make(&ro->dp, cx, (int)p3cfg__mesh_group_index(M, P3CFG__MESH_DP, me),
                                  (int)p3cfg__mesh_coord(M, P3CFG__MESH_DP, me), nodes, (int)dp);
  const int in_tie = in->tie_bytes && (ro->stage == 0 || ro->stage == p - 1);
  const p3cfg__mesh_group ends =
      p3cfg__mesh_ends(p3cfg__mesh_group_at(M, P3CFG__MESH_PP, me, ro->stage));
  nodes[0] = l->node_of[p3cfg__mesh_member(&ends, 0)];
  nodes[1] = l->node_of[p3cfg__mesh_member(&ends, ends.count - 1)];
  if (rc == 0)
    rc = p3cfg__replay_group_make(
        &ro->tie, cx, in_tie ? (int)p3cfg__mesh_group_index(M, P3CFG__MESH_PP, me) : MPI_UNDEFINED,
        (int)ro->stage, nodes, in_tie ? 2 : 0);
  p3cfg__free(nodes);
  return rc;
}

/* Run the iterations; times[3 i + c]: this rank's time of component c in timed
 * iteration i; *last_s: of the last component run. */
static int iterate(double *times, double *last_s, p3cfg__replay_ctx *cx, const roles *ro,
                   const p3cfg__replay_layout *l, const p3cfg_comm_info *in,
                   const p3cfg_replay_options *o)
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
      if ((rc = p3cfg__replay_barrier(cx, "the barrier before a component", *last_s)) != 0)
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
      col[i] = slowest[3 * (size_t)i + (size_t)comp];
    *res[comp] = p3cfg__median(col, iters);
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

static int replay(p3cfg_replay_report *out, p3cfg__replay_ctx *cx, const p3cfg_plan_file *f,
                  size_t index, const p3cfg_model *m, const p3cfg_cluster *c,
                  const p3cfg_replay_options *o)
{
  int n = 0, rc;
  MPI_Comm_size(cx->w.comm, &n);
  p3cfg__replay_hello mine, *all = NULL;
  p3cfg_comm *cm = NULL;
  p3cfg__replay_layout l;
  roles ro;
  double *times = NULL, *slowest = NULL;
  memset(&l, 0, sizeof l);
  memset(&ro, 0, sizeof ro);
  p3cfg__replay_group_none(&ro.tp), p3cfg__replay_group_none(&ro.dp),
      p3cfg__replay_group_none(&ro.tie);

  p3cfg__replay_prepare(&mine, &cm, f, index, m, c, o);

  /* First exchange: every rank alive, same inputs. Only then the split (blocking). */
  if ((rc = p3cfg__replay_gather(&all, cx, &mine, n, "the start-up exchange (inputs)")) != 0)
    goto done;
  int same_machine = 0;
  const int bad = p3cfg__replay_disagree(all, n, &mine, &same_machine);
  p3cfg__free(all);
  all = NULL;
  if (!bad && (rc = p3cfg__replay_find_host(cx, &mine, same_machine)) != 0)
    goto done;
  if ((rc = p3cfg__replay_gather(&all, cx, &mine, n, "the start-up exchange (hosts)")) != 0)
    goto done;
  size_t n_plan = 0;
  const p3cfg_rank_place *place = p3cfg_plan_file_placement(f, index, &n_plan);
  if ((rc = p3cfg__replay_map_ranks(&l, all, n, p3cfg_plan_file_cluster(f, index), place,
                                    n_plan)) != 0)
    goto done;

  const p3cfg_comm_info *in = p3cfg_comm_get_info(cm);
  p3cfg__mesh_of(&ro.m, p3cfg_plan_file_plan(f, index));
  assert(ro.m.ranks == l.n && ro.m.size[P3CFG__MESH_TP] == in->tp &&
         ro.m.size[P3CFG__MESH_DP] == in->dp && ro.m.size[P3CFG__MESH_PP] == in->pp);
  const uint32_t me = l.plan_of[cx->w.rank];
  ro.me = me;
  ro.stage = p3cfg__mesh_coord(&ro.m, P3CFG__MESH_PP, me);
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
    p3cfg__replay_group_free(&ro.tp);
    p3cfg__replay_group_free(&ro.dp);
    p3cfg__replay_group_free(&ro.tie);
  }
  p3cfg__free(all);
  p3cfg__free(times);
  p3cfg__free(slowest);
  p3cfg__free(cx->sbuf);
  p3cfg__free(cx->rbuf);
  cx->sbuf = cx->rbuf = NULL;
  p3cfg__replay_layout_free(&l);
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
  p3cfg__replay_ctx cx;
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
