/*
 * profile_run.c — p3cfg_profile_run: the profiler's orchestration and fault handling.
 *
 * The run duplicates the caller's communicator (MPI_ERRORS_RETURN on the copy, so MPI
 * failures come back as codes), exchanges versions and topology (profile_exchange.c),
 * then walks the circle-method rounds (pair_schedule.c). Each round is split into steps
 * by the mode; in each step the ranks of that step's pairs measure each other
 * (pingpong.c) while the others wait, and a nonblocking barrier closes the step. Every
 * wait has a deadline of --timeout from the start of its step (the barrier 10 % more,
 * so that a stalled pair reports before its bystanders): a dead rank or a stalled link
 * ends the run with P3CFG_EMPI on the ranks that notice, and the caller aborts the job.
 * Finally every rank's row (what it measured as a sender) is allgathered, so that every
 * rank returns the complete matrix.
 *
 * A budget is spread over the steps: each bandwidth direction gets an allowance, and
 * the latency repetitions shrink when even they would not fit; directions cut short
 * are flagged and counted (p3cfg_profile_info.scaled_down).
 *
 * What measures a pair is the options' backend (link_backend.h): MPI point-to-point
 * between host buffers (pingpong.c) or NCCL between GPUs (nccl_backend.c). A backend's
 * local checks (libraries, devices) run before the start-up exchange and their outcome
 * is agreed by all ranks (p3cfg__profile_agree), so a rank that cannot measure stops
 * every rank with its reason, never leaving some inside a collective.
 */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "link_backend.h"
#include "pair_schedule.h"
#include "pingpong.h"
#include "profile_exchange.h"
#include "profile_types.h"

/* Assumed cost of one latency ping-pong when planning a budget (TCP-like, pessimistic
 * for shared memory and InfiniBand). */
#define PINGPONG_ESTIMATE_S 100e-6

static int check_options(const p3cfg_profile_options *o)
{
  if (o->version != P3CFG_PROFILE_OPTIONS_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "profile options version %u, expected %u", o->version,
                            P3CFG_PROFILE_OPTIONS_VERSION);
  if (o->backend != P3CFG_PROFILE_BACKEND_MPI && o->backend != P3CFG_PROFILE_BACKEND_NCCL)
    return p3cfg__error_set(P3CFG_EINVALID, "unknown profile backend %d", (int)o->backend);
  if (o->mode != P3CFG_PROFILE_HOST_DISJOINT && o->mode != P3CFG_PROFILE_SERIAL &&
      o->mode != P3CFG_PROFILE_CONCURRENT)
    return p3cfg__error_set(P3CFG_EINVALID, "unknown profile mode %d", (int)o->mode);
  if (!(o->timeout_s > 0.0) || !(o->budget_s >= 0.0) || !(o->target_s > 0.0))
    return p3cfg__error_set(P3CFG_EINVALID, "timeout, budget and target must be positive");
  if (o->latency_reps < 1 || o->latency_reps > P3CFG__MAX_LATENCY_REPS || o->bandwidth_reps < 1 ||
      o->bandwidth_reps > P3CFG__MAX_BANDWIDTH_REPS || o->warmup > 100 || o->window < 1 ||
      o->window > 256)
    return p3cfg__error_set(P3CFG_EINVALID,
                            "repetitions must be in [1, %d] (latency), "
                            "[1, %d] (bandwidth), warm-up at most 100, window in [1, 256]",
                            P3CFG__MAX_LATENCY_REPS, P3CFG__MAX_BANDWIDTH_REPS);
  if (o->min_bytes < 1 || o->max_bytes < o->min_bytes || o->max_bytes > (1u << 28) ||
      o->max_bytes * o->window > (1ull << 31))
    return p3cfg__error_set(P3CFG_EINVALID, "message sizes must satisfy 1 <= min <= max "
                                            "<= 256 MiB and window * max <= 2 GiB");
  return 0;
}

/* Sizes, repetitions and the per-direction allowance: the same on every rank. */
static void make_plan(p3cfg__measure_plan *p, const p3cfg_profile_options *o, uint32_t steps)
{
  memset(p, 0, sizeof *p);
  p->latency_reps = o->latency_reps;
  p->warmup = o->warmup;
  p->bandwidth_reps = o->bandwidth_reps;
  p->window = o->window;
  p->target_s = o->target_s;
  for (uint64_t s = o->min_bytes; p->n_sizes < P3CFG__MAX_SIZES; s *= 4) {
    p->sizes[p->n_sizes++] = s < o->max_bytes ? s : o->max_bytes;
    if (s >= o->max_bytes)
      break;
  }
  /* Both directions of a pair must finish inside one step's timeout. */
  p->allowance_s = 0.4 * o->timeout_s;
  if (o->budget_s > 0.0 && steps > 0) {
    /* 90 % of the budget for the steps; the rest for start-up, barriers, gathering. */
    const double per_pair = 0.9 * o->budget_s / steps;
    const double per_latency = 0.1 * per_pair;
    const double pingpongs = per_latency / (2.0 * PINGPONG_ESTIMATE_S);
    if (pingpongs < p->warmup + p->latency_reps) {
      p->warmup = pingpongs >= 4 ? 1 : 0;
      const double reps = pingpongs - p->warmup;
      p->latency_reps = reps < 3 ? 3 : (uint32_t)reps;
    }
    const double bw =
        (per_pair - 2.0 * (p->warmup + p->latency_reps) * 2.0 * PINGPONG_ESTIMATE_S) / 2.0;
    if (bw < p->allowance_s)
      p->allowance_s = bw > 0.0 ? bw : 0.0;
  }
}

static void describe_mpi(p3cfg_profile_result *r)
{
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  if (MPI_Get_library_version(lib, &len) != MPI_SUCCESS || len <= 0)
    snprintf(lib, sizeof lib, "unknown MPI");
  lib[strcspn(lib, ",\n")] = '\0';
  snprintf(r->mpi_library, sizeof r->mpi_library, "%.127s", lib);
  /* GPU buffers need a CUDA build of p3cfg and a CUDA-aware MPI (MPIX_Query_cuda_support);
   * this profiler always measures host memory. */
  snprintf(r->backend, sizeof r->backend, "MPI point-to-point, host buffers");
  time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm))
    strftime(r->date, sizeof r->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the MPI backend (pingpong.c): host buffers of window * max size bytes ---- */

static int mpi_open(void **state, p3cfg_profile_result *r, const p3cfg__waiter *w,
                    const p3cfg__measure_plan *plan, double deadline)
{
  (void)r, (void)w, (void)deadline;
  const size_t bytes = (size_t)plan->window * plan->sizes[plan->n_sizes - 1];
  char *buf = p3cfg__malloc(bytes);
  if (!buf)
    return p3cfg__error_set(P3CFG_ENOMEM, "cannot allocate %zu bytes of message buffers", bytes);
  memset(buf, 0x5a, bytes); /* touch every page before timing */
  *state = buf;
  return 0;
}

static int mpi_measure_pair(p3cfg__direction *out, void *state, const p3cfg__waiter *w, int peer,
                            const p3cfg__measure_plan *plan, double deadline)
{
  return p3cfg__measure_pair(out, w, peer, plan, state, deadline);
}

static void mpi_close(void *state, int failed)
{
  (void)failed;
  p3cfg__free(state);
}

static const p3cfg__link_backend mpi_backend = {
    .id = P3CFG_PROFILE_BACKEND_MPI,
    .min_ranks = 2,
    .open = mpi_open,
    .measure_pair = mpi_measure_pair,
    .close = mpi_close,
};

static const p3cfg__link_backend *backend_of(const p3cfg_profile_options *o)
{
  return o->backend == P3CFG_PROFILE_BACKEND_NCCL ? &p3cfg__nccl_link_backend : &mpi_backend;
}

int p3cfg__profile_agree(const p3cfg__waiter *w, int rc, const char *step)
{
  int in[2] = {rc != 0 ? w->rank : INT_MAX, rc != 0}, out[2] = {INT_MAX, 0};
  MPI_Request req[2];
  int m = MPI_Iallreduce(&in[0], &out[0], 1, MPI_INT, MPI_MIN, w->comm, &req[0]);
  if (m == MPI_SUCCESS)
    m = MPI_Iallreduce(&in[1], &out[1], 1, MPI_INT, MPI_SUM, w->comm, &req[1]);
  if (m != MPI_SUCCESS)
    return p3cfg__mpi_error(w, m, "MPI_Iallreduce");
  int e = p3cfg__wait_all(w, req, 2, MPI_Wtime() + w->timeout_s, P3CFG__WAIT_IDLE, step, -1);
  if (e != 0 || out[0] == INT_MAX)
    return e;
  struct {
    int32_t code;
    char host[64];
    char message[P3CFG__MESSAGE_CAP];
  } first;
  memset(&first, 0, sizeof first);
  if (w->rank == out[0]) {
    first.code = rc;
    snprintf(first.message, sizeof first.message, "%s", p3cfg_error_last()->message);
    gethostname(first.host, sizeof first.host - 1);
  }
  MPI_Request b;
  m = MPI_Ibcast(&first, (int)sizeof first, MPI_BYTE, out[0], w->comm, &b);
  if (m != MPI_SUCCESS)
    return p3cfg__mpi_error(w, m, "MPI_Ibcast");
  if ((e = p3cfg__wait_all(w, &b, 1, MPI_Wtime() + w->timeout_s, P3CFG__WAIT_IDLE, step, -1)))
    return e;
  int size = 0;
  MPI_Comm_size(w->comm, &size);
  if (size == 1)
    return p3cfg__error_set(first.code, "%s", first.message);
  if (out[1] == size)
    return p3cfg__error_set(first.code, "%s (all %d ranks)", first.message, size);
  return p3cfg__error_set(first.code, "%s (rank %d%s%.63s; %d of %d ranks failed)", first.message,
                          out[0], first.host[0] ? " on " : "", first.host, out[1], size);
}

/* The pairs and steps of every round, once, to count the steps for the budget. */
static uint32_t count_steps(const p3cfg_profile_result *r, p3cfg_profile_mode mode,
                            uint32_t (*pairs)[2], uint32_t *step_of, uint32_t *mark)
{
  uint32_t steps = 0;
  const uint32_t rounds = p3cfg__schedule_rounds(r->n);
  for (uint32_t round = 0; round < rounds; round++) {
    uint32_t np = p3cfg__schedule_pairs(r->n, round, pairs);
    steps += p3cfg__schedule_steps(step_of, (const uint32_t(*)[2])pairs, np, mode, r->rank_host,
                                   r->n_hosts, mark);
  }
  return steps;
}

/* Walk every round and step; fill this rank's row (what it sent) in `row`. */
static int measure_all(double *row, p3cfg_profile_result *r, const p3cfg__waiter *w,
                       const p3cfg_profile_options *o, const p3cfg__measure_plan *plan,
                       const p3cfg__link_backend *be, void *state, uint32_t (*pairs)[2],
                       uint32_t *step_of, uint32_t *mark)
{
  const uint32_t n = r->n, me = (uint32_t)w->rank;
  uint32_t done = 0;
  for (uint32_t round = 0; round < r->rounds; round++) {
    const uint32_t np = p3cfg__schedule_pairs(n, round, pairs);
    const uint32_t steps = p3cfg__schedule_steps(step_of, (const uint32_t(*)[2])pairs, np, o->mode,
                                                 r->rank_host, r->n_hosts, mark);
    uint32_t my_step = UINT32_MAX, peer = 0;
    for (uint32_t i = 0; i < np; i++)
      if (pairs[i][0] == me || pairs[i][1] == me) {
        my_step = step_of[i];
        peer = pairs[i][0] == me ? pairs[i][1] : pairs[i][0];
      }
    for (uint32_t s = 0; s < steps; s++) {
      const double start = MPI_Wtime();
      int rc;
      if (s == my_step) {
        p3cfg__direction d;
        rc = be->measure_pair(&d, state, w, (int)peer, plan, start + o->timeout_s);
        if (rc != 0)
          return rc;
        row[peer] = d.Bps;
        row[n + peer] = d.latency_s;
        row[2 * n + peer] = d.flags;
      }
      MPI_Request req;
      rc = MPI_Ibarrier(w->comm, &req);
      if (rc != MPI_SUCCESS)
        return p3cfg__mpi_error(w, rc, "MPI_Ibarrier");
      char what[64];
      snprintf(what, sizeof what, "step %u of %u", done + 1, r->steps);
      if ((rc =
               p3cfg__wait_all(w, &req, 1, start + 1.1 * o->timeout_s, P3CFG__WAIT_IDLE, what, -1)))
        return rc;
      done++;
      if (me == 0 && o->progress)
        o->progress(o->progress_payload, done, r->steps);
    }
  }
  return 0;
}

/* Everyone's rows to everyone: row i = [bandwidth to j..., latency to j..., flags]. */
static int gather_rows(p3cfg_profile_result *r, const p3cfg__waiter *w, const double *row,
                       const p3cfg_profile_options *o)
{
  const size_t n = r->n, width = 3 * n;
  double *all = p3cfg__malloc(n * width * sizeof *all);
  if (!all)
    return p3cfg__error_nomem();
  MPI_Request req;
  int rc = MPI_Iallgather(row, (int)width, MPI_DOUBLE, all, (int)width, MPI_DOUBLE, w->comm, &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(w, rc, "MPI_Iallgather");
  else
    rc = p3cfg__wait_all(w, &req, 1, MPI_Wtime() + o->timeout_s, P3CFG__WAIT_IDLE,
                         "gathering the results", -1);
  if (rc == 0) {
    for (size_t a = 0; a < n; a++)
      for (size_t b = 0; b < n; b++) {
        r->bw_Bps[a * n + b] = all[a * width + b];
        r->lat_s[a * n + b] = all[a * width + n + b];
        r->flags[a * n + b] = (uint8_t)all[a * width + 2 * n + b];
      }
  }
  p3cfg__free(all);
  return rc;
}

static int run(p3cfg_profile_result **out, const p3cfg__waiter *w0, const p3cfg_profile_options *o,
               double t_start)
{
  p3cfg__waiter w = *w0;
  p3cfg_profile_result *r = NULL;
  const p3cfg__link_backend *be = backend_of(o);
  void *state = NULL;
  int rc = p3cfg__profile_exchange(&r, &w.oversubscribed, &w, o);
  if (rc != 0)
    return rc;
  const uint32_t n = r->n;
  uint32_t(*pairs)[2] = p3cfg__malloc(((size_t)n / 2 + 1) * sizeof *pairs);
  uint32_t *step_of = p3cfg__malloc(((size_t)n / 2 + 1) * sizeof *step_of);
  uint32_t *mark = p3cfg__malloc(((size_t)r->n_hosts + 1) * sizeof *mark);
  double *row = p3cfg__calloc(3 * (size_t)n, sizeof *row);
  p3cfg__measure_plan plan;
  if (!pairs || !step_of || !mark || !row) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  r->mode = o->mode;
  r->rounds = p3cfg__schedule_rounds(n);
  r->steps = count_steps(r, o->mode, pairs, step_of, mark);
  make_plan(&plan, o, r->steps);
  r->budget_s = o->budget_s;
  r->timeout_s = o->timeout_s;
  r->latency_reps = plan.latency_reps;
  r->bandwidth_reps = plan.bandwidth_reps;
  r->warmup = plan.warmup;
  r->window = plan.window;
  r->min_bytes = plan.sizes[0];
  r->max_bytes = plan.sizes[plan.n_sizes - 1];
  describe_mpi(r);
  if ((rc = be->open(&state, r, &w, &plan, MPI_Wtime() + o->timeout_s)) != 0 ||
      (rc = measure_all(row, r, &w, o, &plan, be, state, pairs, step_of, mark)) != 0 ||
      (be->finish && (rc = be->finish(state, r, &w, &plan, MPI_Wtime() + o->timeout_s)) != 0) ||
      (rc = gather_rows(r, &w, row, o)) != 0)
    goto done;
  r->elapsed_s = MPI_Wtime() - t_start;
  rc = p3cfg__profile_finish(r);
done:
  p3cfg__free(pairs);
  p3cfg__free(step_of);
  p3cfg__free(mark);
  p3cfg__free(row);
  if (be->close)
    be->close(state, rc == P3CFG_EMPI);
  if (rc == 0)
    *out = r;
  else
    p3cfg_profile_result_free(r);
  return rc;
}

P3CFG_API int p3cfg_profile_run(p3cfg_profile_result **out, MPI_Comm comm,
                                const p3cfg_profile_options *opts)
{
  p3cfg__error_clear();
  const p3cfg_profile_options defaults = P3CFG_PROFILE_OPTIONS_INIT;
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_run: out is NULL");
  *out = NULL;
  if (!opts)
    opts = &defaults;
  p3cfg_profile_options v1 = defaults;
  if (opts->version == 1) { /* before `backend`: the fields up to it, MPI */
    memcpy(&v1, opts, offsetof(p3cfg_profile_options, backend));
    v1.version = P3CFG_PROFILE_OPTIONS_VERSION;
    opts = &v1;
  }
  int rc = check_options(opts);
  if (rc != 0)
    return rc;
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (!initialised || finalised)
    return p3cfg__error_set(P3CFG_EINVALID, "MPI is not initialised: call MPI_Init first");
  if (comm == MPI_COMM_NULL)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_run: comm is MPI_COMM_NULL");
  const double t_start = MPI_Wtime();
  p3cfg__waiter w = {comm, 0, opts->timeout_s, 0};
  int size = 0;
  MPI_Comm_rank(comm, &w.rank);
  MPI_Comm_size(comm, &size);
  const p3cfg__link_backend *be = backend_of(opts);
  if (size < (int)be->min_ranks)
    return p3cfg__error_set(P3CFG_EINVALID,
                            "profiling needs at least 2 ranks, got %d: run "
                            "it under mpirun -np N (one rank per GPU)",
                            size);
  MPI_Comm dup = MPI_COMM_NULL;
  MPI_Request req;
  rc = MPI_Comm_idup(comm, &dup, &req);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(&w, rc, "MPI_Comm_idup");
  if ((rc = p3cfg__wait_all(&w, &req, 1, t_start + opts->timeout_s, P3CFG__WAIT_IDLE,
                            "duplicating the communicator", -1)) != 0)
    return rc;
  MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
  w.comm = dup;
  if (be->probe) /* local checks (libraries, devices), agreed before any other exchange */
    rc = p3cfg__profile_agree(&w, be->probe(&w), "the backend's start-up checks");
  if (rc == 0)
    rc = run(out, &w, opts, t_start);
  /* After P3CFG_EMPI requests may be pending on dup: leave it to MPI_Abort. */
  if (rc != P3CFG_EMPI)
    MPI_Comm_free(&dup);
  return rc;
}
