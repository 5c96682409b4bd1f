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
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "error.h"
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
                       const p3cfg_profile_options *o, const p3cfg__measure_plan *plan, char *buf,
                       uint32_t (*pairs)[2], uint32_t *step_of, uint32_t *mark)
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
        rc = p3cfg__measure_pair(&d, w, (int)peer, plan, buf, start + o->timeout_s);
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
  int rc = p3cfg__profile_exchange(&r, &w.oversubscribed, &w, o);
  if (rc != 0)
    return rc;
  const uint32_t n = r->n;
  uint32_t(*pairs)[2] = p3cfg__malloc(((size_t)n / 2 + 1) * sizeof *pairs);
  uint32_t *step_of = p3cfg__malloc(((size_t)n / 2 + 1) * sizeof *step_of);
  uint32_t *mark = p3cfg__malloc(((size_t)r->n_hosts + 1) * sizeof *mark);
  double *row = p3cfg__calloc(3 * (size_t)n, sizeof *row);
  p3cfg__measure_plan plan;
  char *buf = NULL;
  if (!pairs || !step_of || !mark || !row) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  r->mode = o->mode;
  r->rounds = p3cfg__schedule_rounds(n);
  r->steps = count_steps(r, o->mode, pairs, step_of, mark);
  make_plan(&plan, o, r->steps);
  const size_t buf_bytes = (size_t)plan.window * plan.sizes[plan.n_sizes - 1];
  buf = p3cfg__malloc(buf_bytes);
  if (!buf) {
    rc = p3cfg__error_set(P3CFG_ENOMEM, "cannot allocate %zu bytes of message buffers", buf_bytes);
    goto done;
  }
  memset(buf, 0x5a, buf_bytes); /* touch every page before timing */
  r->budget_s = o->budget_s;
  r->timeout_s = o->timeout_s;
  r->latency_reps = plan.latency_reps;
  r->bandwidth_reps = plan.bandwidth_reps;
  r->warmup = plan.warmup;
  r->window = plan.window;
  r->min_bytes = plan.sizes[0];
  r->max_bytes = plan.sizes[plan.n_sizes - 1];
  describe_mpi(r);
  if ((rc = measure_all(row, r, &w, o, &plan, buf, pairs, step_of, mark)) != 0 ||
      (rc = gather_rows(r, &w, row, o)) != 0)
    goto done;
  r->elapsed_s = MPI_Wtime() - t_start;
  rc = p3cfg__profile_finish(r);
done:
  p3cfg__free(pairs);
  p3cfg__free(step_of);
  p3cfg__free(mark);
  p3cfg__free(row);
  p3cfg__free(buf);
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
  if (size < 2)
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
  rc = run(out, &w, opts, t_start);
  /* After P3CFG_EMPI requests may be pending on dup: leave it to MPI_Abort. */
  if (rc != P3CFG_EMPI)
    MPI_Comm_free(&dup);
  return rc;
}
