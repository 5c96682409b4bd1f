/*
 * gpu_measure_stub.c — p3cfg_gpu_measure and its options in every build. Without CUDA's
 * toolkit at build time (P3CFG_HAVE_CUDA undefined) the measurement is not built in and
 * says so; with it, src/gpu/gpu_measure.c provides the function.
 */
#include "gpufit.h"

P3CFG_API void p3cfg_gpu_measure_options_init(p3cfg_gpu_measure_options *opts)
{
  if (opts) {
    const p3cfg_gpu_measure_options d = P3CFG_GPU_MEASURE_OPTIONS_INIT;
    *opts = d;
  }
}

#ifndef P3CFG_HAVE_CUDA
P3CFG_API int p3cfg_gpu_measure(p3cfg_gpu_profile *p, const p3cfg_gpu_measure_options *opts)
{
  (void)p;
  (void)opts;
  p3cfg__error_clear();
  return p3cfg__error_set(P3CFG_EUNSUPPORTED, "this build has no CUDA support: it was built "
                                              "without CUDA's toolkit, so it cannot time the GPU");
}
#endif
