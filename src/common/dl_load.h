/*
 * dl_load.h — loading a shared library at run time: the optional GPU libraries (the CUDA
 * runtime, cuBLAS, NCCL) that libp3cfg and libp3cfg_mpi never link, so that they build
 * and run without them and say why they cannot measure. The callers (src/gpu/gpu_cuda.c,
 * src/profile/nccl_load.c) name the sonames, where to look and what a failure means.
 */
#ifndef P3CFG_DL_LOAD_H
#define P3CFG_DL_LOAD_H

#include <stddef.h>

/* dlopen `soname` (RTLD_NOW | RTLD_LOCAL) by the loader's path (LD_LIBRARY_PATH, the
 * cache), else as DIR/soname for each of the n directories in order (NULL or empty
 * entries skipped). NULL when none loads, with the loader's message of the first try
 * (by soname, the one that says most) in `why`. */
void *p3cfg__dl_open(const char *soname, const char *const *dirs, size_t n, char *why,
                     size_t why_len);

/* Store dlsym(lib, name) into the function pointer at `slot` (`size` bytes; POSIX allows
 * the conversion, memcpy keeps ISO C quiet): 0, or -1 when the library lacks it. */
int p3cfg__dl_sym(void *lib, const char *name, void *slot, size_t size);

/* 1 when `soname` loads by the loader's path (the library is closed again), else 0: the
 * NVIDIA driver (libcuda.so.1), which the runtime loads only at its first call. */
int p3cfg__dl_present(const char *soname);

#endif
