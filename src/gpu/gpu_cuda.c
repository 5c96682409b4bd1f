/*
 * gpu_cuda.c — loading the CUDA runtime and cuBLAS with dlopen (see gpu_cuda.h;
 * src/common/dl_load.c does the loading).
 *
 * The sonames carry the major version of the toolkit the library was built with
 * (libcudart.so.13, libcublasLt.so.13, libcublas.so.13): structures such as
 * cudaDeviceProp are only stable within a major version. Each is tried by soname (the
 * loader's path, LD_LIBRARY_PATH), then in $CUDA_HOME/lib64, the build's toolkit and
 * /usr/local/cuda. cuBLASLt is loaded before cuBLAS so that cuBLAS finds it already
 * loaded when its own directory is not on the loader's path.
 */
#include "gpu_cuda.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_load.h"

#ifndef P3CFG_CUDA_LIBDIR
#define P3CFG_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

#define CUDART_MAJOR (CUDART_VERSION / 1000)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static p3cfg__cuda table;
static int loaded;
static char load_error[512];

/* dlopen `soname` from the usual places; NULL with the loader's first message in
 * load_error. */
static void *open_lib(const char *soname)
{
  const char *home = getenv("CUDA_HOME");
  char home_lib[900] = "";
  if (home && *home)
    snprintf(home_lib, sizeof home_lib, "%.800s/lib64", home);
  const char *const dirs[] = {home_lib, P3CFG_CUDA_LIBDIR, "/usr/local/cuda/lib64",
                              "/usr/local/cuda/lib"};
  char first[256];
  void *h = p3cfg__dl_open(soname, dirs, sizeof dirs / sizeof dirs[0], first, sizeof first);
  if (!h)
    snprintf(load_error, sizeof load_error,
             "cannot load %s (this build needs CUDA %d's runtime and cuBLAS): %s", soname,
             CUDART_MAJOR, first);
  return h;
}

static int load_sym(void *lib, const char *name, void *slot, size_t size, int optional)
{
  if (p3cfg__dl_sym(lib, name, slot, size) == 0 || optional)
    return 0;
  snprintf(load_error, sizeof load_error, "symbol %s not found in the CUDA libraries", name);
  return -1;
}

/* The name after macro expansion: CUDA 12's headers map some entry points to versioned
 * symbols (cudaGetDeviceProperties -> cudaGetDeviceProperties_v2) whose structures match
 * the headers; CUDA 13's do not. */
#define NAME_OF(name) #name
#define SYMBOL_OF(name) NAME_OF(name)
#define SYM(lib, field, name)                                                          \
  if (load_sym(lib, SYMBOL_OF(name), (void *)&table.field, sizeof table.field, 0) != 0) \
    return;

static void load_all(void)
{
  char soname[64];
  snprintf(soname, sizeof soname, "libcudart.so.%d", CUDART_MAJOR);
  void *rt = open_lib(soname);
  if (!rt)
    return;
  snprintf(soname, sizeof soname, "libcublasLt.so.%d", CUBLAS_VER_MAJOR);
  if (!open_lib(soname))
    return;
  snprintf(soname, sizeof soname, "libcublas.so.%d", CUBLAS_VER_MAJOR);
  void *bl = open_lib(soname);
  if (!bl)
    return;
  SYM(rt, GetErrorString, cudaGetErrorString)
  SYM(rt, GetErrorName, cudaGetErrorName)
  SYM(rt, GetDeviceCount, cudaGetDeviceCount)
  SYM(rt, SetDevice, cudaSetDevice)
  SYM(rt, GetDeviceProperties, cudaGetDeviceProperties)
  SYM(rt, DeviceGetAttribute, cudaDeviceGetAttribute)
  SYM(rt, DriverGetVersion, cudaDriverGetVersion)
  SYM(rt, RuntimeGetVersion, cudaRuntimeGetVersion)
  SYM(rt, MemGetInfo, cudaMemGetInfo)
  SYM(rt, Malloc, cudaMalloc)
  SYM(rt, Free, cudaFree)
  SYM(rt, Memcpy, cudaMemcpy)
  SYM(rt, MemcpyAsync, cudaMemcpyAsync)
  SYM(rt, DeviceSynchronize, cudaDeviceSynchronize)
  SYM(rt, EventCreate, cudaEventCreate)
  SYM(rt, EventDestroy, cudaEventDestroy)
  SYM(rt, EventRecord, cudaEventRecord)
  SYM(rt, EventSynchronize, cudaEventSynchronize)
  SYM(rt, EventElapsedTime, cudaEventElapsedTime)
  SYM(bl, Create, cublasCreate_v2)
  SYM(bl, Destroy, cublasDestroy_v2)
  SYM(bl, GetVersion, cublasGetVersion_v2)
  SYM(bl, GemmEx, cublasGemmEx)
  if (load_sym(bl, "cublasGetStatusString", (void *)&table.GetStatusString,
               sizeof table.GetStatusString, 1) != 0)
    return;
  loaded = 1;
}

const p3cfg__cuda *p3cfg__cuda_load(char *why, size_t why_len)
{
  pthread_once(&load_once, load_all);
  if (loaded)
    return &table;
  snprintf(why, why_len, "%s", load_error[0] ? load_error : "the CUDA libraries did not load");
  return NULL;
}

void p3cfg__cuda_describe(char *buf, size_t len, const p3cfg__cuda *c, cudaError_t e)
{
  snprintf(buf, len, "%s: %s", c->GetErrorName(e), c->GetErrorString(e));
}

const char *p3cfg__cublas_describe(const p3cfg__cuda *c, cublasStatus_t s)
{
  static _Thread_local char buf[48];
  if (c->GetStatusString)
    return c->GetStatusString(s);
  snprintf(buf, sizeof buf, "cuBLAS status %d", (int)s);
  return buf;
}

int p3cfg__cuda_driver_present(void)
{
  return p3cfg__dl_present("libcuda.so.1");
}
