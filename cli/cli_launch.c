/*
 * cli_launch.c — launcher rank and fault hook for the commands run under mpirun.
 */
#include "cli_launch.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

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
