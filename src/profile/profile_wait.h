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

/* Wait for reqs[0..n) until MPI_Wtime() passes `deadline`. `idle` waits (barriers,
 * exchanges) may sleep between polls on an oversubscribed host; measurement waits spin
 * (yielding the CPU when oversubscribed). `what` and `peer` (-1 for none) describe the
 * wait in the message. Returns 0, or P3CFG_EMPI on an MPI error or at the deadline;
 * then the requests are left pending and the caller must abort the job. */
int p3cfg__wait_all(const p3cfg__waiter *w, MPI_Request *reqs, int n, double deadline,
                    int idle, const char *what, int peer);

/* Set the last error from an MPI error code: "MPI_X failed on rank R: <MPI's text>". */
int p3cfg__mpi_error(const p3cfg__waiter *w, int mpi_rc, const char *call);

#endif
