/*
 * mpi_single.c — the one-rank MPI of mpi.h beside it (see there): collectives copy,
 * requests complete at once, and a point-to-point message, which one rank never sends,
 * is an error.
 */
#include "mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int initialised, finalised;

int MPI_Init(int *argc, char ***argv)
{
  (void)argc, (void)argv;
  initialised = 1;
  return MPI_SUCCESS;
}

int MPI_Finalize(void)
{
  finalised = 1;
  return MPI_SUCCESS;
}

int MPI_Abort(MPI_Comm comm, int code)
{
  (void)comm;
  fprintf(stderr, "MPI_ABORT (single-process MPI): exit %d\n", code);
  exit(code);
}

int MPI_Initialized(int *flag)
{
  *flag = initialised;
  return MPI_SUCCESS;
}

int MPI_Finalized(int *flag)
{
  *flag = finalised;
  return MPI_SUCCESS;
}

double MPI_Wtime(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int MPI_Comm_rank(MPI_Comm comm, int *rank)
{
  (void)comm;
  *rank = 0;
  return MPI_SUCCESS;
}

int MPI_Comm_size(MPI_Comm comm, int *size)
{
  (void)comm;
  *size = 1;
  return MPI_SUCCESS;
}

int MPI_Comm_idup(MPI_Comm comm, MPI_Comm *out, MPI_Request *req)
{
  *out = comm;
  *req = MPI_REQUEST_NULL;
  return MPI_SUCCESS;
}

int MPI_Comm_dup(MPI_Comm comm, MPI_Comm *out)
{
  *out = comm;
  return MPI_SUCCESS;
}

int MPI_Comm_free(MPI_Comm *comm)
{
  *comm = MPI_COMM_NULL;
  return MPI_SUCCESS;
}

int MPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler e)
{
  (void)comm, (void)e;
  return MPI_SUCCESS;
}

int MPI_Comm_split_type(MPI_Comm comm, int type, int key, MPI_Info info, MPI_Comm *out)
{
  (void)type, (void)key, (void)info;
  *out = comm;
  return MPI_SUCCESS;
}

int MPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *out)
{
  (void)color, (void)key;
  *out = comm;
  return MPI_SUCCESS;
}

int MPI_Allreduce(const void *in, void *out, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm)
{
  (void)op, (void)comm;
  memmove(out, in, (size_t)count * (size_t)t);
  return MPI_SUCCESS;
}

int MPI_Iallreduce(const void *in, void *out, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm,
                   MPI_Request *req)
{
  *req = MPI_REQUEST_NULL;
  return MPI_Allreduce(in, out, count, t, op, comm);
}

int MPI_Allgather(const void *in, int count, MPI_Datatype t, void *out, int out_count,
                  MPI_Datatype out_t, MPI_Comm comm)
{
  (void)out_count, (void)out_t, (void)comm;
  memmove(out, in, (size_t)count * (size_t)t);
  return MPI_SUCCESS;
}

int MPI_Iallgather(const void *in, int count, MPI_Datatype t, void *out, int out_count,
                   MPI_Datatype out_t, MPI_Comm comm, MPI_Request *req)
{
  *req = MPI_REQUEST_NULL;
  return MPI_Allgather(in, count, t, out, out_count, out_t, comm);
}

int MPI_Bcast(void *buf, int count, MPI_Datatype t, int root, MPI_Comm comm)
{
  (void)buf, (void)count, (void)t, (void)root, (void)comm;
  return MPI_SUCCESS;
}

int MPI_Ibcast(void *buf, int count, MPI_Datatype t, int root, MPI_Comm comm, MPI_Request *req)
{
  *req = MPI_REQUEST_NULL;
  return MPI_Bcast(buf, count, t, root, comm);
}

int MPI_Barrier(MPI_Comm comm)
{
  (void)comm;
  return MPI_SUCCESS;
}

int MPI_Ibarrier(MPI_Comm comm, MPI_Request *req)
{
  (void)comm;
  *req = MPI_REQUEST_NULL;
  return MPI_SUCCESS;
}

int MPI_Isend(const void *buf, int count, MPI_Datatype t, int to, int tag, MPI_Comm comm,
              MPI_Request *req)
{
  (void)buf, (void)count, (void)t, (void)to, (void)tag, (void)comm, (void)req;
  return MPI_ERR_OTHER;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype t, int from, int tag, MPI_Comm comm,
              MPI_Request *req)
{
  (void)buf, (void)count, (void)t, (void)from, (void)tag, (void)comm, (void)req;
  return MPI_ERR_OTHER;
}

int MPI_Testall(int n, MPI_Request *reqs, int *flag, MPI_Status *st)
{
  (void)st;
  for (int i = 0; i < n; i++)
    reqs[i] = MPI_REQUEST_NULL;
  *flag = 1;
  return MPI_SUCCESS;
}

int MPI_Waitall(int n, MPI_Request *reqs, MPI_Status *st)
{
  int flag;
  return MPI_Testall(n, reqs, &flag, st);
}

int MPI_Error_string(int code, char *text, int *len)
{
  *len = snprintf(text, MPI_MAX_ERROR_STRING,
                  "single-process MPI: error %d (a message to "
                  "another rank, which one rank never sends)",
                  code);
  return MPI_SUCCESS;
}

int MPI_Get_library_version(char *text, int *len)
{
  *len = snprintf(text, MPI_MAX_LIBRARY_VERSION_STRING, "no MPI (one process)");
  return MPI_SUCCESS;
}
