/*
 * cli_launch.c — launcher rank and fault hook for the commands run under mpirun.
 */
#include "cli_launch.h"

#include <stdio.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cli.h"
#ifdef P3CFG_HAVE_MPI
#include "p3cfg/mpi.h"
#endif

int cli_launcher_rank(void)
{
  const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) {
      char *end;
      errno = 0;
      long r = strtol(v, &end, 10);
      if (!errno && *end == '\0')
        return (int)r;
    }
  }
  return 0;
}

static void fault_signal(int sig)
{
  (void)sig;
  raise(SIGKILL);
}

static void stall_signal(int sig)
{
  (void)sig;
  raise(SIGSTOP);
}

void cli_arm_test_fault(int rank)
{
  const char *spec = getenv("P3CFG_TEST_FAULT");
  if (!spec || !*spec)
    return;
  int kill_it = strncmp(spec, "kill:", 5) == 0;
  if (!kill_it && strncmp(spec, "stall:", 6) != 0)
    return;
  char *end = NULL;
  errno = 0;
  long who = strtol(spec + (kill_it ? 5 : 6), &end, 10);
  if (errno || *end != ':' || who != rank)
    return;
  double after = strtod(end + 1, &end);
  if (*end != '\0' || !(after > 0.0))
    return;
  signal(SIGALRM, kill_it ? fault_signal : stall_signal);
  struct itimerval t = {{0, 0}, {(time_t)after, (suseconds_t)((after - floor(after)) * 1e6)}};
  setitimer(ITIMER_REAL, &t, NULL);
}

#ifdef P3CFG_HAVE_MPI
int cli_mpi_init(int *rank)
{
  if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
    fprintf(stderr, "p3cfg: MPI_Init failed\n");
    return EXIT_BAD_INPUT;
  }
  *rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  cli_arm_test_fault(*rank);
  return EXIT_OK;
}

void cli_print_profile_error(void)
{
  cli_print_error_of(p3cfg_profile_error_last());
}

int cli_mpi_failure(int rc, int rank)
{
  const int agreed =
      rc == P3CFG_EVALUE || rc == P3CFG_EINVALID || rc == P3CFG_EIO || rc == P3CFG_EUNSUPPORTED;
  if (rank == 0 || !agreed)
    cli_print_profile_error();
  if (!agreed) {
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, EXIT_BAD_INPUT);
  }
  return rc == P3CFG_EINVALID ? EXIT_USAGE : EXIT_BAD_INPUT;
}
#endif
