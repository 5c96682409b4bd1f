/*
 * mpi.h (single process) — just enough of MPI for one rank, so that the profiler's
 * NCCL backend can be run end to end on a one-GPU machine that has no MPI installed
 * (bench/gpu_nccl_check.sh builds tests/profile/nccl_single.c against it). Every
 * collective of one rank is a copy and every request completes at once; point-to-point
 * messages are never sent with one rank. Not a general MPI: nothing else uses it.
 */
#ifndef P3CFG_MPI_SINGLE_H
#define P3CFG_MPI_SINGLE_H

#include <stdint.h>

typedef int MPI_Comm;
typedef int MPI_Request;
typedef int MPI_Datatype; /* its size in bytes */
typedef int MPI_Op;
typedef int MPI_Info;
typedef int MPI_Errhandler;
typedef struct MPI_Status {
  int MPI_SOURCE, MPI_TAG, MPI_ERROR;
} MPI_Status;

#define MPI_SUCCESS 0
#define MPI_ERR_OTHER 16
#define MPI_COMM_NULL 0
#define MPI_COMM_WORLD 1
#define MPI_INFO_NULL 0
#define MPI_COMM_TYPE_SHARED 1
#define MPI_ERRORS_RETURN 1
#define MPI_REQUEST_NULL 0
#define MPI_STATUSES_IGNORE ((MPI_Status *)0)
#define MPI_STATUS_IGNORE ((MPI_Status *)0)
#define MPI_MAX_ERROR_STRING 256
#define MPI_MAX_LIBRARY_VERSION_STRING 256
#define MPI_BYTE ((MPI_Datatype)1)
#define MPI_CHAR ((MPI_Datatype)1)
#define MPI_INT ((MPI_Datatype)sizeof(int))
#define MPI_UNSIGNED ((MPI_Datatype)sizeof(unsigned))
#define MPI_DOUBLE ((MPI_Datatype)sizeof(double))
#define MPI_UINT64_T ((MPI_Datatype)sizeof(uint64_t))
#define MPI_MIN 1
#define MPI_MAX 2
#define MPI_SUM 3

int MPI_Init(int *argc, char ***argv);
int MPI_Finalize(void);
int MPI_Abort(MPI_Comm comm, int code);
int MPI_Initialized(int *flag);
int MPI_Finalized(int *flag);
double MPI_Wtime(void);
int MPI_Comm_rank(MPI_Comm comm, int *rank);
int MPI_Comm_size(MPI_Comm comm, int *size);
int MPI_Comm_idup(MPI_Comm comm, MPI_Comm *out, MPI_Request *req);
int MPI_Comm_dup(MPI_Comm comm, MPI_Comm *out);
int MPI_Comm_free(MPI_Comm *comm);
int MPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler e);
int MPI_Comm_split_type(MPI_Comm comm, int type, int key, MPI_Info info, MPI_Comm *out);
int MPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *out);
int MPI_Iallreduce(const void *in, void *out, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm,
                   MPI_Request *req);
int MPI_Allreduce(const void *in, void *out, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm);
int MPI_Iallgather(const void *in, int count, MPI_Datatype t, void *out, int out_count,
                   MPI_Datatype out_t, MPI_Comm comm, MPI_Request *req);
int MPI_Allgather(const void *in, int count, MPI_Datatype t, void *out, int out_count,
                  MPI_Datatype out_t, MPI_Comm comm);
int MPI_Ibcast(void *buf, int count, MPI_Datatype t, int root, MPI_Comm comm, MPI_Request *req);
int MPI_Bcast(void *buf, int count, MPI_Datatype t, int root, MPI_Comm comm);
int MPI_Ibarrier(MPI_Comm comm, MPI_Request *req);
int MPI_Barrier(MPI_Comm comm);
int MPI_Isend(const void *buf, int count, MPI_Datatype t, int to, int tag, MPI_Comm comm,
              MPI_Request *req);
int MPI_Irecv(void *buf, int count, MPI_Datatype t, int from, int tag, MPI_Comm comm,
              MPI_Request *req);
int MPI_Testall(int n, MPI_Request *reqs, int *flag, MPI_Status *st);
int MPI_Waitall(int n, MPI_Request *reqs, MPI_Status *st);
int MPI_Error_string(int code, char *text, int *len);
int MPI_Get_library_version(char *text, int *len);

#endif
