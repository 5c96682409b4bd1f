/*
 * gpu_cuda.h — the CUDA runtime and cuBLAS entry points the GPU profile uses, loaded with
 * dlopen (gpu_cuda.c), so that libp3cfg built with CUDA's toolkit needs neither library
 * nor a driver until a measurement runs. Each pointer has the type of the toolkit's own
 * prototype (__typeof__), so the compiler checks every call against the headers.
 */
#ifndef P3CFG_GPU_CUDA_H
#define P3CFG_GPU_CUDA_H

#include <stddef.h>

#include <cublas_api.h>
#include <cuda_runtime_api.h>

typedef struct p3cfg__cuda {
  /* CUDA runtime */
  __typeof__(cudaGetErrorString) *GetErrorString;
  __typeof__(cudaGetErrorName) *GetErrorName;
  __typeof__(cudaGetDeviceCount) *GetDeviceCount;
  __typeof__(cudaSetDevice) *SetDevice;
  __typeof__(cudaGetDeviceProperties) *GetDeviceProperties;
  __typeof__(cudaDeviceGetAttribute) *DeviceGetAttribute;
  __typeof__(cudaDriverGetVersion) *DriverGetVersion;
  __typeof__(cudaRuntimeGetVersion) *RuntimeGetVersion;
  __typeof__(cudaMemGetInfo) *MemGetInfo;
  __typeof__(cudaMalloc) *Malloc;
  __typeof__(cudaFree) *Free;
  __typeof__(cudaMemcpy) *Memcpy;
  __typeof__(cudaMemcpyAsync) *MemcpyAsync;
  __typeof__(cudaDeviceSynchronize) *DeviceSynchronize;
  __typeof__(cudaEventCreate) *EventCreate;
  __typeof__(cudaEventDestroy) *EventDestroy;
  __typeof__(cudaEventRecord) *EventRecord;
  __typeof__(cudaEventSynchronize) *EventSynchronize;
  __typeof__(cudaEventElapsedTime) *EventElapsedTime;
  /* cuBLAS (the _v2 names are what cublas_v2.h maps the plain ones to) */
  __typeof__(cublasCreate_v2) *Create;
  __typeof__(cublasDestroy_v2) *Destroy;
  __typeof__(cublasGetVersion_v2) *GetVersion;
  __typeof__(cublasGemmEx) *GemmEx;
  __typeof__(cublasGetStatusString) *GetStatusString; /* may be NULL (cuBLAS < 11.4) */
} p3cfg__cuda;

/* Load the libraries once per process (later calls return the same table; they are
 * never unloaded: the CUDA runtime registers exit handlers). Returns the table, or NULL
 * with why it failed in `why` ("cannot load libcudart.so.13: ..."). Thread-safe. */
const p3cfg__cuda *p3cfg__cuda_load(char *why, size_t why_len);

/* "cudaErrorNoDevice: no CUDA-capable device is detected" */
void p3cfg__cuda_describe(char *buf, size_t len, const p3cfg__cuda *c, cudaError_t e);
/* "CUBLAS_STATUS_NOT_SUPPORTED" or its number */
const char *p3cfg__cublas_describe(const p3cfg__cuda *c, cublasStatus_t s);
/* Whether the NVIDIA driver library (libcuda.so.1) can be loaded at all. */
int p3cfg__cuda_driver_present(void);

#endif
