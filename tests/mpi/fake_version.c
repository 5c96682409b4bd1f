/*
 * fake_version.c — a rank that claims another p3cfg version, for the version-mismatch
 * test: started beside `p3cfg profile` (mpirun ... : -np 1 fake_version), it takes part
 * in the profiler's first two collectives (the communicator duplicate and the hello
 * allgather, layout of src/profile/profile_exchange.c) and then leaves. The real ranks
 * must stop with "p3cfg versions differ".
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hello {
  char magic[16];
  char version[32];
  uint32_t protocol, record_bytes;
} hello;

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  int n;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  MPI_Comm dup;
  MPI_Request req;
  MPI_Comm_idup(MPI_COMM_WORLD, &dup, &req);
  MPI_Wait(&req, MPI_STATUS_IGNORE);
  hello mine;
  memset(&mine, 0, sizeof mine);
  snprintf(mine.magic, sizeof mine.magic, "p3cfg-profile");
  snprintf(mine.version, sizeof mine.version, "0.0.1-fake");
  mine.protocol = 1;
  hello *all = calloc((size_t)n, sizeof *all);
  MPI_Iallgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, dup, &req);
  MPI_Wait(&req, MPI_STATUS_IGNORE);
  free(all);
  MPI_Comm_free(&dup);
  MPI_Finalize();
  return 0;
}
