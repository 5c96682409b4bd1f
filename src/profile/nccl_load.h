/*
 * nccl_load.h — the CUDA runtime and NCCL entry points of the NCCL link backend, loaded
 * with dlopen (nccl_load.c), so that libp3cfg_mpi built with CUDA's toolkit needs
 * neither library nor a driver until `--backend nccl` runs. Each pointer has the type
 * of the toolkit's own prototype (__typeof__), so every call is checked against the
 * headers. Only compiled where CMake found the toolkit and nccl.h (P3CFG_HAVE_NCCL).
 */
#ifndef P3CFG_NCCL_LOAD_H
#define P3CFG_NCCL_LOAD_H

#include <stddef.h>

#include <cuda_runtime_api.h>
#include <nccl.h>

typedef struct p3cfg__nccl_lib {
  /* CUDA runtime */
  __typeof__(cudaGetErrorString) *GetErrorString;
  __typeof__(cudaGetErrorName) *GetErrorName;
  __typeof__(cudaGetDeviceCount) *GetDeviceCount;
  __typeof__(cudaSetDevice) *SetDevice;
  __typeof__(cudaGetDeviceProperties) *GetDeviceProperties;
  __typeof__(cudaDriverGetVersion) *DriverGetVersion;
  __typeof__(cudaRuntimeGetVersion) *RuntimeGetVersion;
  __typeof__(cudaMalloc) *Malloc;
  __typeof__(cudaFree) *Free;
  __typeof__(cudaMemset) *Memset;
  __typeof__(cudaDeviceSynchronize) *DeviceSynchronize;
  __typeof__(cudaStreamCreateWithFlags) *StreamCreateWithFlags;
  __typeof__(cudaStreamDestroy) *StreamDestroy;
  __typeof__(cudaStreamQuery) *StreamQuery;
  __typeof__(cudaEventCreate) *EventCreate;
  __typeof__(cudaEventDestroy) *EventDestroy;
  __typeof__(cudaEventRecord) *EventRecord;
  __typeof__(cudaEventElapsedTime) *EventElapsedTime;
  /* NCCL */
  __typeof__(ncclGetVersion) *GetVersion;
  __typeof__(ncclGetUniqueId) *GetUniqueId;
  __typeof__(ncclCommInitRank) *CommInitRank;
  __typeof__(ncclCommInitRankConfig) *CommInitRankConfig; /* NULL before NCCL 2.14 */
  __typeof__(ncclCommDestroy) *CommDestroy;
  __typeof__(ncclCommAbort) *CommAbort;
  __typeof__(ncclCommGetAsyncError) *CommGetAsyncError;
  __typeof__(ncclGetErrorString) *NcclErrorString;
  __typeof__(ncclGetLastError) *GetLastError; /* NULL before NCCL 2.13 */
  __typeof__(ncclSend) *Send;
  __typeof__(ncclRecv) *Recv;
  __typeof__(ncclGroupStart) *GroupStart;
  __typeof__(ncclGroupEnd) *GroupEnd;
  __typeof__(ncclAllReduce) *AllReduce;
  int nccl_version; /* ncclGetVersion's code, e.g. 22809 */
} p3cfg__nccl_lib;

/* Load libcudart.so.<major> (the toolkit's major version) and libnccl.so.2 once per
 * process, then check that a driver and a device are there. Returns the table, or NULL
 * with why in `why`: "cannot load libnccl.so.2 (...)", "no NVIDIA driver on this
 * machine (libcuda.so.1 not found)", "no CUDA device: cudaErrorNoDevice: ...".
 * `device_count` receives the visible devices. Thread-safe. */
const p3cfg__nccl_lib *p3cfg__nccl_load(int *device_count, char *why, size_t why_len);

/* "cudaErrorNoDevice: no CUDA-capable device is detected" */
void p3cfg__nccl_cuda_describe(char *buf, size_t len, const p3cfg__nccl_lib *l, cudaError_t e);

#endif
