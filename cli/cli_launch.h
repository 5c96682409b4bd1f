/*
 * cli_launch.h — what the commands run under mpirun (profile, replay) share before and
 * around MPI_Init: this process's rank from the launcher's environment, so that a usage
 * error is printed once and not once per rank, and the fault hook of the fault tests.
 */
#ifndef P3CFG_CLI_LAUNCH_H
#define P3CFG_CLI_LAUNCH_H

/* The rank the launcher gave this process (Open MPI, PMIx, PMI, Slurm), 0 when none. */
int cli_launcher_rank(void);

/* P3CFG_TEST_FAULT=kill:RANK:SECONDS | stall:RANK:SECONDS: on that rank, after that
 * long, SIGKILL or SIGSTOP this process (tests/mpi/run_fault.sh). Nothing otherwise. */
void cli_arm_test_fault(int rank);

#endif
