/*
 * cli_launch.h — what the commands run under mpirun (profile, replay) share before and
 * around MPI_Init: this process's rank from the launcher's environment, so that a usage
 * error is printed once and not once per rank, the fault hook of the fault tests, and
 * (with MPI) the start and the failure path they share.
 */
#ifndef P3CFG_CLI_LAUNCH_H
#define P3CFG_CLI_LAUNCH_H

/* The rank the launcher gave this process (Open MPI, PMIx, PMI, Slurm), 0 when none. */
int cli_launcher_rank(void);

/* P3CFG_TEST_FAULT=kill:RANK:SECONDS | stall:RANK:SECONDS: on that rank, after that
 * long, SIGKILL or SIGSTOP this process (tests/mpi/run_fault.sh). Nothing otherwise. */
void cli_arm_test_fault(int rank);

#ifdef P3CFG_HAVE_MPI
/* MPI_Init, this process's rank in MPI_COMM_WORLD into *rank, and the fault hook:
 * EXIT_OK, or EXIT_BAD_INPUT after saying that MPI_Init failed. */
int cli_mpi_init(int *rank);

/* Print libp3cfg_mpi's last error (its own error state: p3cfg_profile_error_last), in
 * the one form of cli_print_error_of, position included. */
void cli_print_profile_error(void);

/* After a profile or replay run that returned rc != 0: an error every rank agreed on
 * (bad options or inputs, unsupported, the output path) is printed by rank 0 only;
 * anything else is printed by every rank that saw it, and the job is aborted (the other
 * ranks may still be waiting). Returns the exit code; the caller calls MPI_Finalize. */
int cli_mpi_failure(int rc, int rank);
#endif

#endif
