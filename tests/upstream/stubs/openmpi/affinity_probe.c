/*
 * affinity_probe.c — an LD_PRELOAD stand-in for sched_setaffinity(2), so that Open MPI's
 * binding of a rankfile can be checked on a machine with fewer CPUs than the synthetic
 * topology it is given (tests/export/check_launch_upstream.py). Open MPI parses the
 * rankfile, maps every rank and computes its CPU set from the topology itself; only the
 * last system call, which would fail for CPUs this machine lacks, is replaced: it
 * appends "pid=PID cpus=LIST" to the file $P3CFG_AFFINITY_LOG and succeeds. The process
 * then execs the program with the same pid, which prints its rank beside it.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Exported whatever the build's default visibility: the dynamic linker must find it. */
__attribute__((visibility("default"))) int sched_setaffinity(pid_t pid, size_t size,
                                                             const cpu_set_t *mask)
{
  const char *path = getenv("P3CFG_AFFINITY_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (!f)
    return 0;
  fprintf(f, "pid=%d cpus=", pid ? (int)pid : (int)getpid());
  const char *sep = "";
  for (size_t cpu = 0; cpu < size * 8; cpu++)
    if (CPU_ISSET_S(cpu, size, mask)) {
      fprintf(f, "%s%zu", sep, cpu);
      sep = ",";
    }
  fprintf(f, "\n");
  fclose(f);
  return 0;
}
