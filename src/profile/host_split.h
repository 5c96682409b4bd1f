/*
 * host_split.h — which ranks share this rank's host, as the profiler and the replay
 * both see it (so that a replay maps ranks to nodes exactly as the profile named them).
 */
#ifndef P3CFG_HOST_SPLIT_H
#define P3CFG_HOST_SPLIT_H

#include <mpi.h>

/* Split `comm` into one communicator per host (MPI_Comm_split_type SHARED, ordered by
 * rank). Test hook: P3CFG_TEST_RANKS_PER_HOST=K makes consecutive blocks of K ranks pose
 * as hosts (named like the real host, made unique by the usual "-index" suffix), so that
 * one machine can stand in for several nodes. Returns an MPI error code. */
int p3cfg__split_hosts(MPI_Comm comm, int rank, MPI_Comm *out);

#endif
