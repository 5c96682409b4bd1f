/*
 * profile_wait.h — every wait of the profiler: nonblocking MPI requests polled against
 * a deadline, so that a dead rank or a stalled link ends the run with a message instead
 * of a hang.
 */
#ifndef P3CFG_PROFILE_WAIT_H
#define P3CFG_PROFILE_WAIT_H

#include <mpi.h>

/* How this rank waits. */
typedef struct p3cfg__waiter {
  MPI_Comm comm;
  int rank;
  double timeout_s;   /* for messages */
  int oversubscribed; /* more ranks than PUs on this host: yield while polling */
} p3cfg__waiter;

/* What a wait is for: how it may use the CPU on an oversubscribed host (profile_wait.c). */
typedef enum p3cfg__wait_kind {
  P3CFG__WAIT_LATENCY = 0, /* timed small messages: spin (yield when oversubscribed) */
  P3CFG__WAIT_STREAM = 1,  /* timed bandwidth windows */
  P3CFG__WAIT_IDLE = 2     /* barriers, exchanges, control messages */
} p3cfg__wait_kind;

/* Wait for reqs[0..n) until MPI_Wtime() passes `deadline`. `what` and `peer` (-1 for
 * none) describe the wait in the message. Returns 0, or P3CFG_EMPI on an MPI error or
 * at the deadline; then the requests are left pending and the caller must abort. */
int p3cfg__wait_all(const p3cfg__waiter *w, MPI_Request *reqs, int n, double deadline,
                    p3cfg__wait_kind kind, const char *what, int peer);

/* Set the last error from an MPI error code: "MPI_X failed on rank R: <MPI's text>". */
int p3cfg__mpi_error(const p3cfg__waiter *w, int mpi_rc, const char *call);

#endif
