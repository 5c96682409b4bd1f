/*
 * nccl_backend.c — `p3cfg profile --backend nccl`: the links between GPUs as NCCL sees
 * them (NVLink, NVSwitch, PCIe, GPUDirect RDMA), in the profiler's rounds of disjoint
 * pairs (link_backend.h).
 *
 * Start-up. Every rank loads the CUDA runtime and libnccl.so.2 (nccl_load.c) and checks
 * for a driver and a device: a local step, and its outcome is agreed with an
 * MPI_Allreduce before anything collective happens, so a machine without a GPU or NCCL
 * stops every rank with the same one-line reason instead of leaving some inside NCCL's
 * initialisation. After the start-up exchange each rank takes the GPU of its local
 * index on its host (device 0 when it sees one device, as under `srun
 * --gpus-per-task=1`), allocates its buffers and, again after an agreement, joins two
 * communicators: all ranks (pairs), and the ranks of its host (all-reduce). Rank 0 and
 * each host's first rank make the unique ids; one MPI_Allgather hands them out.
 * Communicators are non-blocking where NCCL has ncclCommInitRankConfig (2.14+), so that
 * their set-up is polled against the deadline like every other wait.
 *
 * Pairs. The same measurement as pingpong.c, in device memory: 8-byte ncclSend/ncclRecv
 * ping-pongs with a CUDA event between round trips (median half round trip), then per
 * direction the sender's size sweep (link_backend.c): each window is announced over MPI,
 * then on the GPUs the receiver sends a 1-byte "ready", the sender records an event,
 * sends `window` messages in one NCCL group, receives a 1-byte acknowledgement and
 * records the second event. Only the sender's GPU clock is used.
 *
 * Beyond the pairs. ncclAllReduce (float sum, in place) on each host's communicator from
 * 1 MiB to 256 MiB by 4x, the median of the timed repetitions per size; the bus
 * bandwidth bytes * 2(n-1)/n / time (nccl-tests' convention) of the best size, the
 * host's figure being its slowest rank's. A lone rank also measures its GPU's
 * send/recv to itself (the diagonal of a one-GPU file).
 *
 * Every wait (stream, communicator set-up, MPI control messages) polls against the
 * step's deadline and NCCL's asynchronous error; a failure once NCCL is running is
 * P3CFG_EMPI, so the caller aborts the job.
 */
#include "link_backend.h"

#ifndef P3CFG_HAVE_NCCL

#include "error.h"

static int not_built(const p3cfg__waiter *w)
{
  (void)w;
  return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                          "--backend nccl: not built in: this p3cfg was built without CUDA's "
                          "toolkit and NCCL's header (nccl.h); rebuild where CMake finds them, "
                          "or measure with --backend mpi");
}

const p3cfg__link_backend p3cfg__nccl_link_backend = {
    .id = P3CFG_PROFILE_BACKEND_NCCL,
    .min_ranks = 1,
    .probe = not_built,
};

#else

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "error.h"
#include "link_fit.h"
#include "nccl_load.h"

#define SMALL_BYTES 4096u          /* ping-pong, ready and acknowledgement buffers */
#define ALLREDUCE_MIN (1ull << 20) /* all-reduce sizes: 1 MiB to 256 MiB by 4x */
#define ALLREDUCE_MAX (256ull << 20)
#define ALLREDUCE_MIN_REPS 10u

enum { TAG_CTRL = 31 };

typedef struct nccl_state {
  const p3cfg__nccl_lib *l;
  int device;
  int nonblocking;
  ncclComm_t world, node;
  cudaStream_t stream;
  char *small;     /* SMALL_BYTES */
  char *src, *dst; /* max size; window * max size */
  char *reduce;    /* ALLREDUCE_MAX */
  cudaEvent_t *ev;
  uint32_t n_ev;
} nccl_state;

typedef struct window_ctx {
  nccl_state *s;
  const p3cfg__waiter *w;
  int peer;
  uint32_t window;
  double deadline;
} window_ctx;

static double now_s(void)
{
  return MPI_Wtime();
}

static int cuda_fail(const nccl_state *s, int rank, cudaError_t e, const char *what)
{
  char d[256];
  p3cfg__nccl_cuda_describe(d, sizeof d, s->l, e);
  return p3cfg__error_set(P3CFG_EMPI, "--backend nccl: %s failed on rank %d: %s", what, rank, d);
}

static int nccl_fail(const nccl_state *s, int rank, ncclComm_t comm, ncclResult_t res,
                     const char *what)
{
  const char *detail = s->l->GetLastError ? s->l->GetLastError(comm) : NULL; /* comm unused */
  return p3cfg__error_set(P3CFG_EMPI, "--backend nccl: %s failed on rank %d: %s%s%s", what, rank,
                          s->l->NcclErrorString(res), detail && *detail ? ": " : "",
                          detail ? detail : "");
}

static void pause_briefly(const p3cfg__waiter *w, double waited_s)
{
  if (!w->oversubscribed && waited_s < 1e-3) {
    sched_yield();
    return;
  }
  struct timespec ts = {0, waited_s < 1e-3 ? 5000 : 20000};
  nanosleep(&ts, NULL);
}

static int timed_out(const p3cfg__waiter *w, const char *what, int peer)
{
  if (peer >= 0)
    return p3cfg__error_set(P3CFG_EMPI,
                            "rank %d: NCCL %s: no answer from rank %d within %.0f s: it, or a "
                            "rank it waits on, died or stalls, or the link stalls",
                            w->rank, what, peer, w->timeout_s);
  return p3cfg__error_set(P3CFG_EMPI,
                          "rank %d: NCCL %s did not complete within %.0f s: a rank died, "
                          "stalls, or a step is slower than --timeout",
                          w->rank, what, w->timeout_s);
}

/* An NCCL call's result; ncclInProgress (non-blocking communicators) is polled until
 * the operation is through or the deadline passes. */
static int nccl_check(nccl_state *s, const p3cfg__waiter *w, ncclComm_t comm, ncclResult_t res,
                      const char *what, int peer, double deadline)
{
  const double start = now_s();
  while (res == ncclInProgress) {
    const ncclResult_t q = s->l->CommGetAsyncError(comm, &res);
    if (q != ncclSuccess) { /* the query failed: report that, not "in progress" */
      res = q;
      break;
    }
    if (res != ncclInProgress)
      break;
    if (now_s() > deadline)
      return timed_out(w, what, peer);
    pause_briefly(w, now_s() - start);
  }
  if (res != ncclSuccess)
    return nccl_fail(s, w->rank, comm, res, what);
  return 0;
}

/* Wait until everything enqueued on the stream ran, watching NCCL's own errors. */
static int wait_stream(nccl_state *s, const p3cfg__waiter *w, const char *what, int peer,
                       double deadline)
{
  const double start = now_s();
  for (;;) {
    const cudaError_t e = s->l->StreamQuery(s->stream);
    if (e == cudaSuccess)
      return 0;
    if (e != cudaErrorNotReady)
      return cuda_fail(s, w->rank, e, what);
    ncclComm_t comms[2] = {s->world, s->node};
    for (int i = 0; i < 2; i++) {
      ncclResult_t ar = ncclSuccess;
      if (comms[i] && s->l->CommGetAsyncError(comms[i], &ar) == ncclSuccess && ar != ncclSuccess &&
          ar != ncclInProgress)
        return nccl_fail(s, w->rank, comms[i], ar, what);
    }
    if (now_s() > deadline)
      return timed_out(w, what, peer);
    pause_briefly(w, now_s() - start);
  }
}

static int record(nccl_state *s, const p3cfg__waiter *w, uint32_t i)
{
  const cudaError_t e = s->l->EventRecord(s->ev[i], s->stream);
  return e == cudaSuccess ? 0 : cuda_fail(s, w->rank, e, "cudaEventRecord");
}

/* Seconds between events a and b (after the stream finished). */
static int elapsed(double *t_s, nccl_state *s, const p3cfg__waiter *w, uint32_t a, uint32_t b)
{
  float ms = 0.0f;
  const cudaError_t e = s->l->EventElapsedTime(&ms, s->ev[a], s->ev[b]);
  if (e != cudaSuccess)
    return cuda_fail(s, w->rank, e, "cudaEventElapsedTime");
  *t_s = (double)ms * 1e-3;
  return 0;
}

#define SEND(buf, bytes, to) s->l->Send((buf), (size_t)(bytes), ncclChar, (to), s->world, s->stream)
#define RECV(buf, bytes, from)                                                                     \
  s->l->Recv((buf), (size_t)(bytes), ncclChar, (from), s->world, s->stream)

/* ---- the pair ------------------------------------------------------------------------ */

/* Ping-pongs: warm-up + reps round trips, an event before each and after the last.
 * The initiator's latency is the median half round trip. With peer == me (a lone
 * rank) each "round trip" is one grouped send/recv to itself, counted whole. */
static int pingpong(double *latency_s, nccl_state *s, const p3cfg__waiter *w, int peer,
                    int initiate, const p3cfg__measure_plan *plan, double deadline)
{
  const uint32_t total = plan->warmup + plan->latency_reps;
  const int self = peer == w->rank;
  int rc;
  for (uint32_t i = 0; i < total; i++) {
    if (initiate && (rc = record(s, w, i)) != 0)
      return rc;
    if (self) {
      if ((rc = nccl_check(s, w, s->world, s->l->GroupStart(), "ncclGroupStart", -1, deadline)) ||
          (rc = nccl_check(s, w, s->world, SEND(s->small, P3CFG__LATENCY_BYTES, peer), "ncclSend",
                           peer, deadline)) ||
          (rc = nccl_check(s, w, s->world, RECV(s->small + 64, P3CFG__LATENCY_BYTES, peer),
                           "ncclRecv", peer, deadline)) ||
          (rc = nccl_check(s, w, s->world, s->l->GroupEnd(), "ncclGroupEnd", -1, deadline)))
        return rc;
    } else if (initiate) {
      if ((rc = nccl_check(s, w, s->world, SEND(s->small, P3CFG__LATENCY_BYTES, peer),
                           "latency ping-pong", peer, deadline)) ||
          (rc = nccl_check(s, w, s->world, RECV(s->small + 64, P3CFG__LATENCY_BYTES, peer),
                           "latency ping-pong", peer, deadline)))
        return rc;
    } else {
      if ((rc = nccl_check(s, w, s->world, RECV(s->small + 64, P3CFG__LATENCY_BYTES, peer),
                           "latency ping-pong", peer, deadline)) ||
          (rc = nccl_check(s, w, s->world, SEND(s->small, P3CFG__LATENCY_BYTES, peer),
                           "latency ping-pong", peer, deadline)))
        return rc;
    }
  }
  if (initiate && (rc = record(s, w, total)) != 0)
    return rc;
  if ((rc = wait_stream(s, w, "latency ping-pong", self ? -1 : peer, deadline)) != 0 || !initiate)
    return rc;
  double samples[P3CFG__MAX_LATENCY_REPS];
  for (uint32_t i = 0; i < plan->latency_reps; i++) {
    if ((rc = elapsed(&samples[i], s, w, plan->warmup + i, plan->warmup + i + 1)) != 0)
      return rc;
    if (!self)
      samples[i] /= 2.0;
  }
  *latency_s = p3cfg__median(samples, plan->latency_reps);
  return 0;
}

/* The control message of a window: its size, 0 = the sweep is over. */
static int announce(const p3cfg__waiter *w, int peer, uint64_t size, double deadline)
{
  MPI_Request req;
  int rc = MPI_Isend(&size, 1, MPI_UINT64_T, peer, TAG_CTRL, w->comm, &req);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(w, rc, "bandwidth control message");
  return p3cfg__wait_all(w, &req, 1, deadline, P3CFG__WAIT_LATENCY, "bandwidth control message",
                         peer);
}

/* One timed window to the peer (p3cfg__window_fn). */
static int send_window(double *t_s, void *ctx, uint64_t size)
{
  window_ctx *c = ctx;
  nccl_state *s = c->s;
  const p3cfg__waiter *w = c->w;
  const int peer = c->peer;
  int rc = announce(w, peer, size, c->deadline);
  if (rc != 0)
    return rc;
  if ((rc = nccl_check(s, w, s->world, RECV(s->small + 128, 1, peer), "bandwidth ready message",
                       peer, c->deadline)) ||
      (rc = record(s, w, 0)) ||
      (rc = nccl_check(s, w, s->world, s->l->GroupStart(), "ncclGroupStart", -1, c->deadline)))
    return rc;
  for (uint32_t i = 0; i < c->window; i++)
    if ((rc = nccl_check(s, w, s->world, SEND(s->src, size, peer), "bandwidth window", peer,
                         c->deadline)) != 0)
      return rc;
  if ((rc = nccl_check(s, w, s->world, s->l->GroupEnd(), "bandwidth window", peer, c->deadline)) ||
      (rc = nccl_check(s, w, s->world, RECV(s->small + 192, 1, peer), "bandwidth acknowledgement",
                       peer, c->deadline)) ||
      (rc = record(s, w, 1)) || (rc = wait_stream(s, w, "bandwidth window", peer, c->deadline)))
    return rc;
  return elapsed(t_s, s, w, 0, 1);
}

/* One timed window of a lone rank's GPU to itself: `window` grouped send/recv pairs. */
static int self_window(double *t_s, void *ctx, uint64_t size)
{
  window_ctx *c = ctx;
  nccl_state *s = c->s;
  const p3cfg__waiter *w = c->w;
  const int me = w->rank;
  int rc;
  if ((rc = record(s, w, 0)) ||
      (rc = nccl_check(s, w, s->world, s->l->GroupStart(), "ncclGroupStart", -1, c->deadline)))
    return rc;
  for (uint32_t i = 0; i < c->window; i++)
    if ((rc = nccl_check(s, w, s->world, SEND(s->src, size, me), "ncclSend to itself", -1,
                         c->deadline)) ||
        (rc = nccl_check(s, w, s->world, RECV(s->dst + (size_t)i * size, size, me),
                         "ncclRecv from itself", -1, c->deadline)))
      return rc;
  if ((rc = nccl_check(s, w, s->world, s->l->GroupEnd(), "ncclGroupEnd", -1, c->deadline)) ||
      (rc = record(s, w, 1)) || (rc = wait_stream(s, w, "send/recv to itself", -1, c->deadline)))
    return rc;
  return elapsed(t_s, s, w, 0, 1);
}

static int stream_send(p3cfg__direction *out, nccl_state *s, const p3cfg__waiter *w, int peer,
                       const p3cfg__measure_plan *plan, double deadline)
{
  window_ctx c = {s, w, peer, plan->window, deadline};
  int rc = p3cfg__sweep_direction(out, plan, send_window, &c, now_s);
  if (rc == P3CFG_EINTERNAL)
    return p3cfg__error_set(rc, "rank %d: no bandwidth window to rank %d was timed", w->rank, peer);
  if (rc != 0)
    return rc;
  return announce(w, peer, 0, deadline);
}

static int stream_receive(nccl_state *s, const p3cfg__waiter *w, int peer,
                          const p3cfg__measure_plan *plan, double deadline)
{
  for (;;) {
    uint64_t size = 0;
    MPI_Request req;
    int rc = MPI_Irecv(&size, 1, MPI_UINT64_T, peer, TAG_CTRL, w->comm, &req);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "bandwidth control message");
    if ((rc = p3cfg__wait_all(w, &req, 1, deadline, P3CFG__WAIT_LATENCY,
                              "bandwidth control message", peer)))
      return rc;
    if (size == 0)
      return 0;
    if (size > plan->sizes[plan->n_sizes - 1])
      return p3cfg__error_set(P3CFG_EMPI,
                              "rank %d: rank %d announced %llu bytes, more than the "
                              "largest size",
                              w->rank, peer, (unsigned long long)size);
    if ((rc = nccl_check(s, w, s->world, SEND(s->small + 128, 1, peer), "bandwidth ready message",
                         peer, deadline)) ||
        (rc = nccl_check(s, w, s->world, s->l->GroupStart(), "ncclGroupStart", -1, deadline)))
      return rc;
    for (uint32_t i = 0; i < plan->window; i++)
      if ((rc = nccl_check(s, w, s->world, RECV(s->dst + (size_t)i * size, size, peer),
                           "bandwidth window", peer, deadline)) != 0)
        return rc;
    if ((rc = nccl_check(s, w, s->world, s->l->GroupEnd(), "bandwidth window", peer, deadline)) ||
        (rc = nccl_check(s, w, s->world, SEND(s->small + 192, 1, peer), "bandwidth acknowledgement",
                         peer, deadline)) ||
        (rc = wait_stream(s, w, "bandwidth window", peer, deadline)))
      return rc;
  }
}

static int measure_pair(p3cfg__direction *out, void *state, const p3cfg__waiter *w, int peer,
                        const p3cfg__measure_plan *plan, double deadline)
{
  nccl_state *s = state;
  int rc;
  out->Bps = 0.0;
  out->latency_s = 0.0;
  out->flags = 0;
  if (w->rank < peer) {
    if ((rc = pingpong(&out->latency_s, s, w, peer, 1, plan, deadline)) ||
        (rc = pingpong(NULL, s, w, peer, 0, plan, deadline)) ||
        (rc = stream_send(out, s, w, peer, plan, deadline)) ||
        (rc = stream_receive(s, w, peer, plan, deadline)))
      return rc;
  } else {
    if ((rc = pingpong(NULL, s, w, peer, 0, plan, deadline)) ||
        (rc = pingpong(&out->latency_s, s, w, peer, 1, plan, deadline)) ||
        (rc = stream_receive(s, w, peer, plan, deadline)) ||
        (rc = stream_send(out, s, w, peer, plan, deadline)))
      return rc;
  }
  return 0;
}

/* ---- start-up ------------------------------------------------------------------------ */

/* Test hook (tests/mpi/run_nccl.sh): P3CFG_TEST_NCCL_PROBE=pass:RANK lets that rank's
 * local checks pass, so that a run where only some ranks fail can be tested on a
 * machine without a GPU. Nothing else is skipped: its later set-up still fails. */
static int probe_passes(int rank)
{
  const char *hook = getenv("P3CFG_TEST_NCCL_PROBE");
  if (!hook || strncmp(hook, "pass:", 5) != 0)
    return 0;
  char *end = NULL;
  const long who = strtol(hook + 5, &end, 10);
  return end != hook + 5 && *end == '\0' && who == rank;
}

static int probe(const p3cfg__waiter *w)
{
  char why[512];
  int count = 0;
  if (probe_passes(w->rank))
    return 0;
  if (!p3cfg__nccl_load(&count, why, sizeof why))
    return p3cfg__error_set(P3CFG_EUNSUPPORTED, "--backend nccl: %s", why);
  return 0;
}

static void close_state(void *state, int failed)
{
  nccl_state *s = state;
  if (!s)
    return;
  if (s->world) {
    if (failed || s->nonblocking)
      s->l->CommAbort(s->world);
    else
      s->l->CommDestroy(s->world);
  }
  if (s->node) {
    if (failed || s->nonblocking)
      s->l->CommAbort(s->node);
    else
      s->l->CommDestroy(s->node);
  }
  if (failed) {
    /* A kernel may still wait for a peer that is gone, and freeing device memory would
     * wait for it: leave the rest to the process's end (the caller aborts the job). */
    p3cfg__free(s->ev);
    p3cfg__free(s);
    return;
  }
  if (s->stream)
    s->l->DeviceSynchronize();
  for (uint32_t i = 0; i < s->n_ev; i++)
    if (s->ev[i])
      s->l->EventDestroy(s->ev[i]);
  p3cfg__free(s->ev);
  void *bufs[4] = {s->small, s->src, s->dst, s->reduce};
  for (int i = 0; i < 4; i++)
    if (bufs[i])
      s->l->Free(bufs[i]);
  if (s->stream)
    s->l->StreamDestroy(s->stream);
  p3cfg__free(s);
}

/* Local set-up of this rank's GPU: device, stream, buffers, events. */
static int setup_device(nccl_state *s, const p3cfg_profile_result *r, const p3cfg__waiter *w,
                        const p3cfg__measure_plan *plan)
{
  int count = 0;
  char why[512];
  if (!(s->l = p3cfg__nccl_load(&count, why, sizeof why)))
    return p3cfg__error_set(P3CFG_EUNSUPPORTED, "--backend nccl: %s", why);
  const uint32_t local = r->rank_local[w->rank];
  if ((s->device = p3cfg__nccl_device_of(local, count)) < 0)
    return p3cfg__error_set(P3CFG_EVALUE,
                            "--backend nccl: rank %d is rank %u of its host but sees only %d "
                            "CUDA devices: run one rank per GPU",
                            w->rank, local, count);
  cudaError_t e = s->l->SetDevice(s->device);
  if (e != cudaSuccess)
    return cuda_fail(s, w->rank, e, "cudaSetDevice");
  if ((e = s->l->StreamCreateWithFlags(&s->stream, cudaStreamNonBlocking)) != cudaSuccess)
    return cuda_fail(s, w->rank, e, "cudaStreamCreateWithFlags");
  const size_t max = (size_t)plan->sizes[plan->n_sizes - 1];
  const size_t sizes[4] = {SMALL_BYTES, max, (size_t)plan->window * max, ALLREDUCE_MAX};
  char **bufs[4] = {&s->small, &s->src, &s->dst, &s->reduce};
  for (int i = 0; i < 4; i++) {
    void *p = NULL;
    if ((e = s->l->Malloc(&p, sizes[i])) != cudaSuccess)
      return cuda_fail(s, w->rank, e, "cudaMalloc");
    *bufs[i] = p;
    if ((e = s->l->Memset(p, 0x5a, sizes[i])) != cudaSuccess) /* touch every page */
      return cuda_fail(s, w->rank, e, "cudaMemset");
  }
  /* cudaMemset runs on the legacy default stream, which a cudaStreamNonBlocking stream
   * does not wait for: let it finish (and report its errors) before anything is timed. */
  if ((e = s->l->DeviceSynchronize()) != cudaSuccess)
    return cuda_fail(s, w->rank, e, "cudaMemset");
  const uint32_t reps =
      plan->bandwidth_reps > ALLREDUCE_MIN_REPS ? plan->bandwidth_reps : ALLREDUCE_MIN_REPS;
  uint32_t n_ev = plan->warmup + plan->latency_reps + 1;
  if (n_ev < plan->warmup + reps + 1)
    n_ev = plan->warmup + reps + 1;
  if (!(s->ev = p3cfg__calloc(n_ev, sizeof *s->ev)))
    return p3cfg__error_nomem();
  for (; s->n_ev < n_ev; s->n_ev++)
    if ((e = s->l->EventCreate(&s->ev[s->n_ev])) != cudaSuccess)
      return cuda_fail(s, w->rank, e, "cudaEventCreate");
  return 0;
}

static void describe(p3cfg_profile_result *r, const nccl_state *s)
{
  char v[48];
  p3cfg__nccl_version_text(v, sizeof v, s->l->nccl_version);
  snprintf(r->backend, sizeof r->backend, "%.32s send/recv, device buffers", v);
  struct cudaDeviceProp prop;
  int drv = 0, rt = 0;
  s->l->DriverGetVersion(&drv);
  s->l->RuntimeGetVersion(&rt);
  if (s->l->GetDeviceProperties(&prop, s->device) != cudaSuccess)
    snprintf(prop.name, sizeof prop.name, "unknown");
  snprintf(r->backend_note, sizeof r->backend_note,
           "rank 0's GPU: %.64s (CUDA device %d), driver %d.%d, CUDA runtime %d.%d", prop.name,
           s->device, drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
}

/* Join a communicator of `n` ranks as `rank`, polled against the deadline. */
static int join(ncclComm_t *comm, nccl_state *s, const p3cfg__waiter *w, ncclUniqueId id, int n,
                int rank, const char *what, double deadline)
{
  if (!s->l->CommInitRankConfig)
    return nccl_check(s, w, NULL, s->l->CommInitRank(comm, n, id, rank), what, -1, deadline);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclResult_t res = s->l->CommInitRankConfig(comm, n, id, rank, &config);
  if (res != ncclSuccess && res != ncclInProgress)
    return nccl_fail(s, w->rank, *comm, res, what);
  return nccl_check(s, w, *comm, res, what, -1, deadline);
}

static int open_backend(void **state, p3cfg_profile_result *r, const p3cfg__waiter *w,
                        const p3cfg__measure_plan *plan, double deadline)
{
  nccl_state *s = p3cfg__calloc(1, sizeof *s);
  if (!s)
    return p3cfg__error_nomem();
  *state = s;
  typedef struct ids {
    ncclUniqueId world, node;
  } ids;
  ids mine;
  memset(&mine, 0, sizeof mine);
  const uint32_t local = r->rank_local[w->rank];
  int rc = setup_device(s, r, w, plan);
  if (rc == P3CFG_EMPI) { /* a CUDA call failed: nothing collective ran yet, so agreed */
    char why[P3CFG__MESSAGE_CAP];
    snprintf(why, sizeof why, "%s", p3cfg_error_last()->message);
    rc = p3cfg__error_set(P3CFG_EUNSUPPORTED, "%s", why);
  }
  if (rc == 0) {
    describe(r, s);
    ncclResult_t res = ncclSuccess;
    if (w->rank == 0)
      res = s->l->GetUniqueId(&mine.world);
    if (res == ncclSuccess && local == 0)
      res = s->l->GetUniqueId(&mine.node);
    if (res != ncclSuccess)
      rc = p3cfg__error_set(P3CFG_EUNSUPPORTED, "--backend nccl: ncclGetUniqueId failed: %s",
                            s->l->NcclErrorString(res));
  }
  if ((rc = p3cfg__profile_agree(w, rc, "the NCCL start-up (devices)")) != 0)
    return rc;
  ids *all = p3cfg__calloc(r->n, sizeof *all);
  if (!all)
    return p3cfg__error_nomem();
  MPI_Request req;
  rc = MPI_Iallgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, w->comm,
                      &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(w, rc, "MPI_Iallgather");
  else
    rc = p3cfg__wait_all(w, &req, 1, deadline, P3CFG__WAIT_IDLE, "the NCCL start-up (ids)", -1);
  uint32_t leader = 0;
  for (uint32_t i = 0; i < r->n; i++)
    if (r->rank_host[i] == r->rank_host[w->rank] && r->rank_local[i] == 0)
      leader = i;
  s->nonblocking = s->l->CommInitRankConfig != NULL;
  if (rc == 0)
    rc = join(&s->world, s, w, all[0].world, (int)r->n, w->rank, "ncclCommInitRank (all ranks)",
              deadline);
  if (rc == 0)
    rc = join(&s->node, s, w, all[leader].node, (int)r->per_host, (int)local,
              "ncclCommInitRank (ranks of the host)", deadline);
  p3cfg__free(all);
  r->link_backend = P3CFG_PROFILE_BACKEND_NCCL;
  return rc;
}

/* ---- beyond the pairs ---------------------------------------------------------------- */

static int allreduce(double *bus_Bps, double *alg_Bps, nccl_state *s, const p3cfg__waiter *w,
                     const p3cfg__measure_plan *plan, uint32_t ranks, double deadline)
{
  const uint32_t reps =
      plan->bandwidth_reps > ALLREDUCE_MIN_REPS ? plan->bandwidth_reps : ALLREDUCE_MIN_REPS;
  const uint32_t warm = plan->warmup > 0 ? plan->warmup : 1;
  double samples[P3CFG__MAX_BANDWIDTH_REPS > ALLREDUCE_MIN_REPS ? P3CFG__MAX_BANDWIDTH_REPS
                                                                : ALLREDUCE_MIN_REPS];
  *bus_Bps = *alg_Bps = 0.0;
  int rc;
  for (uint64_t bytes = ALLREDUCE_MIN; bytes <= ALLREDUCE_MAX; bytes *= 4) {
    for (uint32_t i = 0; i < warm + reps; i++) {
      if (i >= warm && (rc = record(s, w, i - warm)) != 0)
        return rc;
      if ((rc = nccl_check(s, w, s->node,
                           s->l->AllReduce(s->reduce, s->reduce, (size_t)(bytes / sizeof(float)),
                                           ncclFloat, ncclSum, s->node, s->stream),
                           "ncclAllReduce", -1, deadline)) != 0)
        return rc;
    }
    if ((rc = record(s, w, reps)) || (rc = wait_stream(s, w, "ncclAllReduce", -1, deadline)))
      return rc;
    for (uint32_t i = 0; i < reps; i++)
      if ((rc = elapsed(&samples[i], s, w, i, i + 1)) != 0)
        return rc;
    const double t = p3cfg__median(samples, reps);
    if (t > 0.0 && (double)bytes / t > *alg_Bps) {
      *alg_Bps = (double)bytes / t;
      *bus_Bps = p3cfg__allreduce_busbw(bytes, t, ranks);
    }
  }
  return 0;
}

static int finish(void *state, p3cfg_profile_result *r, const p3cfg__waiter *w,
                  const p3cfg__measure_plan *plan, double deadline)
{
  nccl_state *s = state;
  int rc;
  if (r->n == 1) {
    p3cfg__direction d = {0.0, 0.0, 0};
    window_ctx c = {s, w, w->rank, plan->window, deadline};
    if ((rc = pingpong(&r->self_lat_s, s, w, w->rank, 1, plan, deadline)) ||
        (rc = p3cfg__sweep_direction(&d, plan, self_window, &c, now_s)))
      return rc;
    r->self_Bps = d.Bps;
  }
  double mine[2];
  if ((rc = allreduce(&mine[0], &mine[1], s, w, plan, r->per_host, deadline)) != 0)
    return rc;
  double *all = p3cfg__malloc(2 * (size_t)r->n * sizeof *all);
  r->allreduce_Bps = p3cfg__calloc(r->n_hosts, sizeof *r->allreduce_Bps);
  r->allreduce_alg_Bps = p3cfg__calloc(r->n_hosts, sizeof *r->allreduce_alg_Bps);
  if (!all || !r->allreduce_Bps || !r->allreduce_alg_Bps) {
    p3cfg__free(all);
    return p3cfg__error_nomem();
  }
  MPI_Request req;
  rc = MPI_Iallgather(mine, 2, MPI_DOUBLE, all, 2, MPI_DOUBLE, w->comm, &req);
  if (rc != MPI_SUCCESS)
    rc = p3cfg__mpi_error(w, rc, "MPI_Iallgather");
  else
    rc = p3cfg__wait_all(w, &req, 1, deadline, P3CFG__WAIT_IDLE, "gathering the all-reduce", -1);
  if (rc == 0) {
    /* A host's all-reduce is as fast as its slowest rank. */
    for (uint32_t h = 0; h < r->n_hosts; h++)
      r->allreduce_Bps[h] = r->allreduce_alg_Bps[h] = -1.0;
    for (uint32_t i = 0; i < r->n; i++) {
      double *bus = &r->allreduce_Bps[r->rank_host[i]],
             *alg = &r->allreduce_alg_Bps[r->rank_host[i]];
      if (*bus < 0.0 || all[2 * i] < *bus)
        *bus = all[2 * i];
      if (*alg < 0.0 || all[2 * i + 1] < *alg)
        *alg = all[2 * i + 1];
    }
    r->allreduce_max_bytes = ALLREDUCE_MAX;
  }
  p3cfg__free(all);
  return rc;
}

const p3cfg__link_backend p3cfg__nccl_link_backend = {
    .id = P3CFG_PROFILE_BACKEND_NCCL,
    .min_ranks = 1,
    .probe = probe,
    .open = open_backend,
    .measure_pair = measure_pair,
    .finish = finish,
    .close = close_state,
};

#endif
