/*
 * gpufit.h — what the files of the GPU profile share (src/gpufit, src/gpu, tests): the
 * profile behind the opaque p3cfg_gpu_profile, a growing text buffer, and the pure
 * helpers the unit tests reach (preset detection, the fit's prediction).
 */
#ifndef P3CFG_GPUFIT_H
#define P3CFG_GPUFIT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "p3cfg/gpu.h"
#include "text_buffer.h"
#include "types.h"

struct p3cfg_gpu_profile {
  p3cfg_gpu_device device;
  p3cfg_gpu_sample *samples;
  size_t count, cap;
};

/* Smallest F_half the fit writes: the parser wants a positive matmul_half_tflop. */
#define P3CFG__GPU_MIN_HALF_FLOPS 1e6

/* gpu_profile.c */
/* Append a zeroed sample; NULL (last error set) when out of memory. */
p3cfg_gpu_sample *p3cfg__gpu_profile_push(p3cfg_gpu_profile *p);
/* "fwd", "dgrad", "wgrad". */
const char *p3cfg__gpu_pass_name(p3cfg_gpu_pass pass);

/* gpu_fit.c: the time model's seconds for sample s on gpu g (bf16). */
double p3cfg__gpu_predict_s(const p3cfg_gpu *g, const p3cfg_gpu_sample *s);
/* The reference gpu of a profile with the given parameters. */
void p3cfg__gpu_of_fit(p3cfg_gpu *out, const p3cfg_gpu_profile *p, double matmul_efficiency,
                       double matmul_half_flops, double memory_efficiency);

/* gpu_profile.c: the fixed formats of the GPU profiler's files, in the library's text
 * buffer (text_buffer.h). A number ("%.6g", never "-0"): */
void p3cfg__gpufit_number(p3cfg__text *t, double v);
/* s as a double-quoted YAML scalar. */
void p3cfg__gpufit_quoted(p3cfg__text *t, const char *s);

#endif
