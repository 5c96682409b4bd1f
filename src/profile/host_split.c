/*
 * host_split.c — one communicator per host, or per block of ranks for tests.
 */
#include "host_split.h"

#include <errno.h>
#include <stdlib.h>

int p3cfg__split_hosts(MPI_Comm comm, int rank, MPI_Comm *out)
{
  const char *fake = getenv("P3CFG_TEST_RANKS_PER_HOST");
  if (fake && *fake) {
    char *end = NULL;
    errno = 0;
    const long k = strtol(fake, &end, 10);
    if (!errno && *end == '\0' && k > 0 && k < 1 << 20)
      return MPI_Comm_split(comm, rank / (int)k, rank, out);
  }
  return MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, out);
}
