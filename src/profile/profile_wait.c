/*
 * profile_wait.c — deadlines for MPI requests.
 *
 * The profiler never blocks inside MPI: it posts nonblocking operations and polls them
 * with MPI_Testall, checking MPI_Wtime against a deadline, and errors come back as codes
 * because the profiler's communicator has MPI_ERRORS_RETURN. A rank that died, or a
 * link that stopped moving data, thus ends every waiting rank's run within the timeout.
 *
 * On a host with more ranks than PUs (tests, laptops) a spinning waiter would steal
 * the CPU from the pair being measured: latency waits then yield, bandwidth windows
 * poll every 20 us once they have run 1 ms, and idle waits sleep with a backoff up to
 * 1 ms. With a core per rank all of them spin, for accurate timing.
 */
#include "profile_wait.h"

#include <sched.h>
#include <time.h>

#include "error.h"

int p3cfg__mpi_error(const p3cfg__waiter *w, int mpi_rc, const char *call)
{
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS || len <= 0)
    return p3cfg__error_set(P3CFG_EMPI, "%s failed on rank %d (MPI error %d)", call, w->rank,
                            mpi_rc);
  return p3cfg__error_set(P3CFG_EMPI, "%s failed on rank %d: %.*s", call, w->rank, len, text);
}

int p3cfg__wait_all(const p3cfg__waiter *w, MPI_Request *reqs, int n, double deadline,
                    p3cfg__wait_kind kind, const char *what, int peer)
{
  long sleep_ns = 5000;
  const double start = MPI_Wtime();
  for (;;) {
    int done = 0;
    int rc = MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
      return p3cfg__mpi_error(w, rc, what);
    if (done)
      return 0;
    if (MPI_Wtime() > deadline) {
      if (peer >= 0)
        return p3cfg__error_set(P3CFG_EMPI,
                                "rank %d: %s: no answer from rank %d within %.0f s: it, "
                                "or a rank it waits on, died or stalls, or the link stalls",
                                w->rank, what, peer, w->timeout_s);
      return p3cfg__error_set(P3CFG_EMPI,
                              "rank %d: %s did not complete within %.0f s: a rank died, "
                              "stalls, or a step is slower than --timeout",
                              w->rank, what, w->timeout_s);
    }
    if (!w->oversubscribed || kind == P3CFG__WAIT_LATENCY) {
      if (w->oversubscribed)
        sched_yield();
      continue;
    }
    if (kind == P3CFG__WAIT_STREAM) {
      /* A transfer that has run 1 ms will run longer: poll every 20 us, leaving the
       * CPU to the other side and to the kernel's network stack. */
      if (MPI_Wtime() - start < 1e-3) {
        sched_yield();
        continue;
      }
      sleep_ns = 20000;
    } else if (sleep_ns < 1000000) {
      sleep_ns *= 2;
    }
    struct timespec ts = {0, sleep_ns};
    nanosleep(&ts, NULL);
  }
}
