/*
 * gpu_cuda.c — loading the CUDA runtime and cuBLAS with dlopen (see gpu_cuda.h).
 *
 * The sonames carry the major version of the toolkit the library was built with
 * (libcudart.so.13, libcublasLt.so.13, libcublas.so.13): structures such as
 * cudaDeviceProp are only stable within a major version. Each is tried by soname (the
 * loader's path, LD_LIBRARY_PATH), then in $CUDA_HOME/lib64, the build's toolkit and
 * /usr/local/cuda. cuBLASLt is loaded before cuBLAS so that cuBLAS finds it already
 * loaded when its own directory is not on the loader's path.
 */
#include "gpu_cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef P3CFG_CUDA_LIBDIR
#define P3CFG_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

#define CUDART_MAJOR (CUDART_VERSION / 1000)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static p3cfg__cuda table;
static int loaded;
static char load_error[512];

/* dlopen `soname` from the usual places; NULL with the first dlerror in load_error. */
static void *open_lib(const char *soname)
{
  void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (h)
    return h;
  char first[256];
  snprintf(first, sizeof first, "%s", dlerror());
  const char *home = getenv("CUDA_HOME");
  const char *dirs[] = {home && *home ? home : NULL, P3CFG_CUDA_LIBDIR, "/usr/local/cuda/lib64",
                        "/usr/local/cuda/lib"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    if (!dirs[i])
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s%s/%s", dirs[i], i == 0 ? "/lib64" : "", soname);
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) != NULL)
      return h;
  }
  snprintf(load_error, sizeof load_error, "cannot load %s (this build needs CUDA %d's runtime "
                                          "and cuBLAS): %s",
           soname, CUDART_MAJOR, first);
  return NULL;
}

/* Store dlsym(lib, name) into the function pointer at `slot` (POSIX allows the
 * conversion; memcpy keeps ISO C quiet). */
static int load_sym(void *lib, const char *name, void *slot, size_t size, int optional)
{
  void *sym = dlsym(lib, name);
  if (!sym) {
    if (optional)
      return 0;
    snprintf(load_error, sizeof load_error, "symbol %s not found in the CUDA libraries", name);
    return -1;
  }
  memcpy(slot, &sym, size);
  return 0;
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
  void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!h)
    return 0;
  dlclose(h);
  return 1;
}
