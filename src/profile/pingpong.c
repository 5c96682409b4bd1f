/*
 * pingpong.c — point-to-point measurement of one rank pair (both directions).
 *
 * Latency: 8-byte ping-pongs, each side initiating once; after the warm-up (which also
 * opens lazily connected transports such as TCP), the median half round trip of the
 * timed ones is the latency of the initiator's direction.
 *
 * Bandwidth, per direction: the sender drives a sweep of message sizes (min_bytes up
 * by 4x). For each window it announces the size (a control message), waits until the
 * receiver has posted its receives (a ready message), then times from the first of
 * `window` nonblocking sends to the receiver's acknowledgement. Per size, the 25th
 * percentile of the window times is fitted against bytes (link_fit.c): interference
 * (other jobs, a busy core, a retransmission) only ever adds time, so the median of
 * five windows on a loaded host reads up to 20 % low where this stays within 10 %
 * (tests/emu), while one anomalously fast window still does not decide. The sweep stops once two
 * sizes are measured and a window took target_s (more bytes add nothing but time), or when the
 * direction's time allowance (budget, timeout) would be exceeded; a size of 0 ends it.
 * Only the sender's clock is used, so no clock synchronisation is needed.
 */
#include "pingpong.h"

#include "link_backend.h"

#include "error.h"
#include "link_fit.h"
#include "profile_types.h"

enum { TAG_PING = 11, TAG_PONG, TAG_CTRL, TAG_READY, TAG_DATA, TAG_ACK };

static int ping_initiate(double *latency_s, const p3cfg__waiter *w, int peer,
                         const p3cfg__measure_plan *plan, double deadline)
{
  double samples[P3CFG__MAX_LATENCY_REPS];
  char out[P3CFG__LATENCY_BYTES] = {0}, in[P3CFG__LATENCY_BYTES];
  const uint32_t total = plan->warmup + plan->latency_reps;
  for (uint32_t i = 0; i < total; i++) {
    MPI_Request req[2];
    const double t0 = MPI_Wtime();
    int rc = MPI_Irecv(in, P3CFG__LATENCY_BYTES, MPI_BYTE, peer, TAG_PONG, w->comm, &req[0]);
    if (rc == MPI_SUCCESS)
      rc = MPI_Isend(out, P3CFG__LATENCY_BYTES, MPI_BYTE, peer, TAG_PING, w->comm, &req[1]);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "latency ping-pong");
    if ((rc = p3cfg__wait_all(w, req, 2, deadline, P3CFG__WAIT_LATENCY, "latency ping-pong",
                              peer)) != 0)
      return rc;
    if (i >= plan->warmup)
      samples[i - plan->warmup] = (MPI_Wtime() - t0) / 2.0;
  }
  *latency_s = p3cfg__median(samples, plan->latency_reps);
  return 0;
}

static int ping_respond(const p3cfg__waiter *w, int peer, const p3cfg__measure_plan *plan,
                        double deadline)
{
  char buf[P3CFG__LATENCY_BYTES] = {0};
  const uint32_t total = plan->warmup + plan->latency_reps;
  for (uint32_t i = 0; i < total; i++) {
    MPI_Request req;
    int rc = MPI_Irecv(buf, P3CFG__LATENCY_BYTES, MPI_BYTE, peer, TAG_PING, w->comm, &req);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "latency ping-pong");
    if ((rc = p3cfg__wait_all(w, &req, 1, deadline, P3CFG__WAIT_LATENCY, "latency ping-pong",
                              peer)) != 0)
      return rc;
    rc = MPI_Isend(buf, P3CFG__LATENCY_BYTES, MPI_BYTE, peer, TAG_PONG, w->comm, &req);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "latency ping-pong");
    if ((rc = p3cfg__wait_all(w, &req, 1, deadline, P3CFG__WAIT_LATENCY, "latency ping-pong",
                              peer)) != 0)
      return rc;
  }
  return 0;
}

/* Send one control message (the next size, 0 = done) and, for a size, wait for ready. */
static int announce(const p3cfg__waiter *w, int peer, uint64_t size, double deadline)
{
  MPI_Request req[2];
  char ready;
  int n = 1;
  int rc = MPI_Isend(&size, 1, MPI_UINT64_T, peer, TAG_CTRL, w->comm, &req[0]);
  if (rc == MPI_SUCCESS && size > 0) {
    rc = MPI_Irecv(&ready, 1, MPI_CHAR, peer, TAG_READY, w->comm, &req[1]);
    n = 2;
  }
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(w, rc, "bandwidth control message");
  return p3cfg__wait_all(w, req, n, deadline, P3CFG__WAIT_LATENCY, "bandwidth control message",
                         peer);
}

/* One timed window: `window` sends of `size` bytes, until the acknowledgement. */
static int send_window(double *t_s, const p3cfg__waiter *w, int peer,
                       const p3cfg__measure_plan *plan, uint64_t size, char *buf, double deadline)
{
  MPI_Request req[1 + 256];
  char ack;
  int rc = announce(w, peer, size, deadline);
  if (rc != 0)
    return rc;
  const double t0 = MPI_Wtime();
  rc = MPI_Irecv(&ack, 0, MPI_CHAR, peer, TAG_ACK, w->comm, &req[0]);
  for (uint32_t i = 0; i < plan->window && rc == MPI_SUCCESS; i++)
    rc = MPI_Isend(buf, (int)size, MPI_BYTE, peer, TAG_DATA, w->comm, &req[1 + i]);
  if (rc != MPI_SUCCESS)
    return p3cfg__mpi_error(w, rc, "bandwidth window");
  rc = p3cfg__wait_all(w, req, 1 + (int)plan->window, deadline, P3CFG__WAIT_STREAM,
                       "bandwidth window", peer);
  *t_s = MPI_Wtime() - t0;
  return rc;
}

typedef struct send_ctx {
  const p3cfg__waiter *w;
  int peer;
  const p3cfg__measure_plan *plan;
  char *buf;
  double deadline;
} send_ctx;

static int send_window_fn(double *t_s, void *ctx, uint64_t size)
{
  const send_ctx *c = ctx;
  return send_window(t_s, c->w, c->peer, c->plan, size, c->buf, c->deadline);
}

static double wtime(void) { return MPI_Wtime(); }

/* The sender's side of one direction: link_backend.c's sweep over MPI windows, then the
 * end-of-sweep announcement. */
static int stream_send(p3cfg__direction *out, const p3cfg__waiter *w, int peer,
                       const p3cfg__measure_plan *plan, char *buf, double deadline)
{
  send_ctx ctx = {w, peer, plan, buf, deadline};
  int rc = p3cfg__sweep_direction(out, plan, send_window_fn, &ctx, wtime);
  /* The receiver waits for the end of the sweep unless a window itself failed (then the
   * pair is broken and both sides report it); a sweep with nothing to fit still ends. */
  if (rc == 0 || rc == P3CFG_EINTERNAL) {
    const int end = announce(w, peer, 0, deadline);
    rc = rc ? rc : end;
  }
  return rc;
}

static int stream_receive(const p3cfg__waiter *w, int peer, const p3cfg__measure_plan *plan,
                          char *buf, double deadline)
{
  MPI_Request req[256];
  char ready = 1, ack = 0;
  for (;;) {
    uint64_t size = 0;
    int rc = MPI_Irecv(&size, 1, MPI_UINT64_T, peer, TAG_CTRL, w->comm, &req[0]);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "bandwidth control message");
    if ((rc = p3cfg__wait_all(w, req, 1, deadline, P3CFG__WAIT_LATENCY, "bandwidth control message",
                              peer)))
      return rc;
    if (size == 0)
      return 0;
    if (size > plan->sizes[plan->n_sizes - 1])
      return p3cfg__error_set(P3CFG_EMPI,
                              "rank %d: rank %d announced %llu bytes, more "
                              "than the largest size",
                              w->rank, peer, (unsigned long long)size);
    for (uint32_t i = 0; i < plan->window && rc == MPI_SUCCESS; i++)
      rc = MPI_Irecv(buf + (size_t)i * size, (int)size, MPI_BYTE, peer, TAG_DATA, w->comm, &req[i]);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "bandwidth window");
    MPI_Request r;
    rc = MPI_Isend(&ready, 1, MPI_CHAR, peer, TAG_READY, w->comm, &r);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "bandwidth ready message");
    if ((rc = p3cfg__wait_all(w, &r, 1, deadline, P3CFG__WAIT_LATENCY, "bandwidth ready message",
                              peer)) ||
        (rc = p3cfg__wait_all(w, req, (int)plan->window, deadline, P3CFG__WAIT_STREAM,
                              "bandwidth window", peer)))
      return rc;
    rc = MPI_Isend(&ack, 0, MPI_CHAR, peer, TAG_ACK, w->comm, &r);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, "bandwidth acknowledgement");
    if ((rc = p3cfg__wait_all(w, &r, 1, deadline, P3CFG__WAIT_LATENCY, "bandwidth acknowledgement",
                              peer)))
      return rc;
  }
}

int p3cfg__measure_pair(p3cfg__direction *out, const p3cfg__waiter *w, int peer,
                        const p3cfg__measure_plan *plan, char *buf, double deadline)
{
  int rc;
  out->Bps = 0.0;
  out->latency_s = 0.0;
  out->flags = 0;
  if (w->rank < peer) {
    if ((rc = ping_initiate(&out->latency_s, w, peer, plan, deadline)) ||
        (rc = ping_respond(w, peer, plan, deadline)) ||
        (rc = stream_send(out, w, peer, plan, buf, deadline)) ||
        (rc = stream_receive(w, peer, plan, buf, deadline)))
      return rc;
  } else {
    if ((rc = ping_respond(w, peer, plan, deadline)) ||
        (rc = ping_initiate(&out->latency_s, w, peer, plan, deadline)) ||
        (rc = stream_receive(w, peer, plan, buf, deadline)) ||
        (rc = stream_send(out, w, peer, plan, buf, deadline)))
      return rc;
  }
  return 0;
}
