/*
 * replay_rings.c — the collectives `p3cfg replay` performs, as the time model prices them
 * (collectives.c): rings of nonblocking sends and receives over split communicators
 * (reduce-scatter and all-gather: k-1 steps of 1/k of the buffer; all-reduce: one of
 * each; hierarchical: inside the node, across on 1/g, inside again), data moved but never
 * reduced, in pieces through two reused buffers, every wait polled against a deadline
 * (profile_wait.c).
 */
#include "replay_internal.h"

/* ---- transfers ------------------------------------------------------------------------ */

/* Send `bytes` to `to` and receive as many from `from` at once (either may be
 * MPI_PROC_NULL), in pieces, every wait with a deadline; `peer` (a world rank, or -1)
 * is named when it does not answer. */
int p3cfg__replay_exchange(p3cfg__replay_ctx *cx, MPI_Comm comm, int to, int from, uint64_t bytes,
                           const char *what, int peer)
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
static int ring_pass(p3cfg__replay_ctx *cx, MPI_Comm comm, uint64_t bytes, const char *what)
{
  int k = 1, me = 0;
  MPI_Comm_size(comm, &k);
  MPI_Comm_rank(comm, &me);
  if (k <= 1)
    return 0;
  const uint64_t chunk = (bytes + (uint64_t)k - 1) / (uint64_t)k;
  for (int s = 0; s < k - 1; s++) {
    int rc = p3cfg__replay_exchange(cx, comm, (me + 1) % k, (me + k - 1) % k, chunk, what, -1);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Half an all-reduce: a reduce-scatter (reduce_scatter = 1) or an all-gather (0). */
int p3cfg__replay_ring_half(p3cfg__replay_ctx *cx, const p3cfg__replay_group *g, uint64_t bytes,
                            int reduce_scatter, const char *what)
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

int p3cfg__replay_allreduce(p3cfg__replay_ctx *cx, const p3cfg__replay_group *g, uint64_t bytes,
                            const char *what)
{
  int rc = p3cfg__replay_ring_half(cx, g, bytes, 1, what);
  return rc ? rc : p3cfg__replay_ring_half(cx, g, bytes, 0, what);
}

/* A barrier after a component that took this rank `behind_s`: ranks of other stages may
 * still be in it (stages differ in layers and parameters, only the first and last reduce
 * a tied embedding), for minutes at real sizes over slow links; so the wait is the
 * timeout plus twice that time. A dead or stalled rank is still found within the timeout
 * by the ring or pipeline neighbours waiting on it. */
int p3cfg__replay_barrier(p3cfg__replay_ctx *cx, const char *what, double behind_s)
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
int p3cfg__replay_group_make(p3cfg__replay_group *out, p3cfg__replay_ctx *cx, int color, int key,
                             const uint32_t *nodes, int k)
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

void p3cfg__replay_group_free(p3cfg__replay_group *g)
{
  MPI_Comm *c[] = {&g->flat, &g->intra, &g->inter};
  for (size_t i = 0; i < 3; i++)
    if (*c[i] != MPI_COMM_NULL)
      MPI_Comm_free(c[i]);
}

void p3cfg__replay_group_none(p3cfg__replay_group *g)
{
  g->flat = g->intra = g->inter = MPI_COMM_NULL;
}
