/*
 * nccl_load.c — loading the CUDA runtime and NCCL with dlopen (see nccl_load.h).
 *
 * libcudart's soname carries the major version of the toolkit this was built with
 * (libcudart.so.13): its structures are stable within a major version only. NCCL keeps
 * one soname, libnccl.so.2. Each is tried by soname (the loader's path, LD_LIBRARY_PATH),
 * then in $NCCL_HOME/lib, $CUDA_HOME/lib64, the build's toolkit and /usr/local/cuda
 * (src/common/dl_load.c does the loading).
 * Then the driver (libcuda.so.1) and the device count are checked, so that a machine
 * without a GPU says so in one line instead of failing inside NCCL's initialisation.
 * Without P3CFG_HAVE_NCCL this file is empty (nccl_backend.c then says the backend is not
 * built in).
 */
#ifdef P3CFG_HAVE_NCCL

#include "nccl_load.h"

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
static p3cfg__nccl_lib table;
static int loaded, devices;
static char load_error[512];

/* dlopen `soname` from the usual places; NULL with the loader's first message in
 * load_error. */
static void *open_lib(const char *soname, const char *what)
{
  const char *nccl_home = getenv("NCCL_HOME"), *cuda_home = getenv("CUDA_HOME");
  char nccl_lib[900] = "", cuda_lib[900] = "";
  if (nccl_home && *nccl_home)
    snprintf(nccl_lib, sizeof nccl_lib, "%.800s/lib", nccl_home);
  if (cuda_home && *cuda_home)
    snprintf(cuda_lib, sizeof cuda_lib, "%.800s/lib64", cuda_home);
  const char *const dirs[] = {nccl_lib, cuda_lib, P3CFG_CUDA_LIBDIR, "/usr/local/cuda/lib64"};
  char first[256];
  void *h = p3cfg__dl_open(soname, dirs, sizeof dirs / sizeof dirs[0], first, sizeof first);
  if (!h)
    snprintf(load_error, sizeof load_error, "cannot load %s (%s): %s", soname, what, first);
  return h;
}

static int load_sym(void *lib, const char *name, void *slot, size_t size, int optional)
{
  if (p3cfg__dl_sym(lib, name, slot, size) == 0 || optional)
    return 0;
  snprintf(load_error, sizeof load_error, "symbol %s not found in %s", name,
           strncmp(name, "nccl", 4) == 0 ? "libnccl.so.2" : "the CUDA runtime");
  return -1;
}

/* The name after macro expansion (CUDA 12 maps some entry points to versioned symbols
 * whose structures match the headers). */
#define NAME_OF(name) #name
#define SYMBOL_OF(name) NAME_OF(name)
#define SYM(lib, field, name, optional)                                                            \
  if (load_sym(lib, SYMBOL_OF(name), (void *)&table.field, sizeof table.field, optional) != 0)     \
    return;

static void load_all(void)
{
  char soname[64], what[96];
  snprintf(soname, sizeof soname, "libcudart.so.%d", CUDART_MAJOR);
  snprintf(what, sizeof what, "this build needs CUDA %d's runtime", CUDART_MAJOR);
  void *rt = open_lib(soname, what);
  if (!rt)
    return;
  void *nc = open_lib("libnccl.so.2", "NCCL 2: install NCCL or set NCCL_HOME");
  if (!nc)
    return;
  SYM(rt, GetErrorString, cudaGetErrorString, 0)
  SYM(rt, GetErrorName, cudaGetErrorName, 0)
  SYM(rt, GetDeviceCount, cudaGetDeviceCount, 0)
  SYM(rt, SetDevice, cudaSetDevice, 0)
  SYM(rt, GetDeviceProperties, cudaGetDeviceProperties, 0)
  SYM(rt, DriverGetVersion, cudaDriverGetVersion, 0)
  SYM(rt, RuntimeGetVersion, cudaRuntimeGetVersion, 0)
  SYM(rt, Malloc, cudaMalloc, 0)
  SYM(rt, Free, cudaFree, 0)
  SYM(rt, Memset, cudaMemset, 0)
  SYM(rt, DeviceSynchronize, cudaDeviceSynchronize, 0)
  SYM(rt, StreamCreateWithFlags, cudaStreamCreateWithFlags, 0)
  SYM(rt, StreamDestroy, cudaStreamDestroy, 0)
  SYM(rt, StreamQuery, cudaStreamQuery, 0)
  SYM(rt, EventCreate, cudaEventCreate, 0)
  SYM(rt, EventDestroy, cudaEventDestroy, 0)
  SYM(rt, EventRecord, cudaEventRecord, 0)
  SYM(rt, EventElapsedTime, cudaEventElapsedTime, 0)
  SYM(nc, GetVersion, ncclGetVersion, 0)
  SYM(nc, GetUniqueId, ncclGetUniqueId, 0)
  SYM(nc, CommInitRank, ncclCommInitRank, 0)
  SYM(nc, CommInitRankConfig, ncclCommInitRankConfig, 1)
  SYM(nc, CommDestroy, ncclCommDestroy, 0)
  SYM(nc, CommAbort, ncclCommAbort, 0)
  SYM(nc, CommGetAsyncError, ncclCommGetAsyncError, 0)
  SYM(nc, NcclErrorString, ncclGetErrorString, 0)
  SYM(nc, GetLastError, ncclGetLastError, 1)
  SYM(nc, Send, ncclSend, 0)
  SYM(nc, Recv, ncclRecv, 0)
  SYM(nc, GroupStart, ncclGroupStart, 0)
  SYM(nc, GroupEnd, ncclGroupEnd, 0)
  SYM(nc, AllReduce, ncclAllReduce, 0)
  if (table.GetVersion(&table.nccl_version) != ncclSuccess)
    table.nccl_version = 0;
  /* NCCL and the runtime load without a driver; the first CUDA call would then fail
   * with a less direct message. */
  if (!p3cfg__dl_present("libcuda.so.1")) {
    snprintf(load_error, sizeof load_error,
             "no NVIDIA driver on this machine (libcuda.so.1 not found)");
    return;
  }
  const cudaError_t e = table.GetDeviceCount(&devices);
  if (e != cudaSuccess || devices < 1) {
    char d[256];
    if (e != cudaSuccess)
      p3cfg__nccl_cuda_describe(d, sizeof d, &table, e);
    else
      snprintf(d, sizeof d, "no device is visible (CUDA_VISIBLE_DEVICES?)");
    snprintf(load_error, sizeof load_error, "no CUDA device: %s", d);
    return;
  }
  loaded = 1;
}

const p3cfg__nccl_lib *p3cfg__nccl_load(int *device_count, char *why, size_t why_len)
{
  pthread_once(&load_once, load_all);
  *device_count = devices;
  if (loaded)
    return &table;
  snprintf(why, why_len, "%s", load_error[0] ? load_error : "the CUDA libraries did not load");
  return NULL;
}

void p3cfg__nccl_cuda_describe(char *buf, size_t len, const p3cfg__nccl_lib *l, cudaError_t e)
{
  snprintf(buf, len, "%s: %s", l->GetErrorName(e), l->GetErrorString(e));
}

#else
typedef int p3cfg__nccl_load_not_built; /* ISO C wants a declaration in every file */
#endif
