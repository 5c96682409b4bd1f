/* gpufit_fixtures.h — shared helpers of the gpufit unit tests: the recorded H200 table,
 * synthetic profiles timed by the time model's own formula, closeness checks. */
#ifndef P3CFG_GPUFIT_FIXTURES_H
#define P3CFG_GPUFIT_FIXTURES_H

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gpu_presets.h"
#include "gpufit.h"
#include "p3cfg/gpu.h"

/* `p3cfg profile --compute` on one NVIDIA H200 (bench/gpu_check.sh, docs/gpu-profiling.md). */
#define FX_H200_CSV P3CFG_SOURCE_DIR "/tests/fixtures/gpu/h200.csv"
/* The same on one NVIDIA H100 80GB HBM3 (SXM, 700 W), 2026-11-27. */
#define FX_H100_CSV P3CFG_SOURCE_DIR "/tests/fixtures/gpu/h100-sxm.csv"

static inline void fx_close(double actual, double expected, double rel)
{
  cr_assert(fabs(actual - expected) <= rel * fabs(expected), "%.17g is not within %g of %.17g",
            actual, rel, expected);
}

static inline p3cfg_gpu_profile *fx_load(const char *path)
{
  p3cfg_gpu_profile *p = NULL;
  const int rc = p3cfg_gpu_profile_load_csv(&p, path);
  cr_assert_eq(rc, 0, "%s", p3cfg_error_last()->message);
  return p;
}

static inline p3cfg_gpu_profile *fx_load_h200(void) { return fx_load(FX_H200_CSV); }

/* The standard set on the h200 preset, every sample timed exactly by gpu g through
 * the time model (p3cfg__gpu_predict_s), copies included. */
static inline p3cfg_gpu_profile *fx_synthetic(double e_mm, double half_flops, double e_mem)
{
  p3cfg_gpu_profile *p = NULL;
  cr_assert_eq(p3cfg_gpu_profile_new(&p), 0);
  cr_assert_eq(p3cfg_gpu_profile_add_standard(p), 0);
  cr_assert_eq(p3cfg_gpu_profile_set_gpu(p, "h200", 0.0, 0.0), 0);
  p3cfg_gpu g;
  p3cfg__gpu_of_fit(&g, p, e_mm, half_flops, e_mem);
  for (size_t i = 0; i < p->count; i++) {
    p3cfg_gpu_sample *s = &p->samples[i];
    s->median_s = s->min_s = s->max_s = p3cfg__gpu_predict_s(&g, s);
    s->reps = 10;
  }
  return p;
}

#endif
