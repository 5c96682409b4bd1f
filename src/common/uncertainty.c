/*
 * uncertainty.c — 80 % prediction intervals (uncertainty.h): a point prediction scaled
 * by the percentiles of the cross-validated ratio measured / predicted, which GPUs were
 * fitted on measurements, and filling the intervals of a result entry once it is final
 * (search/ and estimate call it where results are assembled, so the scorer never pays);
 * and the one text form of an interval in the tables.
 */
#include "uncertainty.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpu_presets.h"

/* The presets whose efficiency constants were fitted on measured kernels or published
 * step times (bench/time_accuracy.c --fit). The others in gpu_presets.c are derived
 * (same chip, or the same fixed GEMM cost at their own peak). This list must follow
 * gpu_presets.c: a preset refitted or newly measured there is added here. */
static const char *const calibrated_presets[] = {"a100-40gb", "a100-80gb", "h100-sxm", "h200"};

int p3cfg__gpu_calibrated(const p3cfg_gpu *gpu)
{
  const p3cfg_gpu *preset = p3cfg__gpu_preset(gpu->name);
  if (!preset)
    return 0;
  /* A mapping that starts from a preset and overrides a number the time model uses is
   * a GPU of its own: its constants were not the ones fitted. */
  if (gpu->peak_flops != preset->peak_flops || gpu->hbm_Bps != preset->hbm_Bps ||
      gpu->matmul_efficiency != preset->matmul_efficiency ||
      gpu->matmul_half_flops != preset->matmul_half_flops ||
      gpu->memory_efficiency != preset->memory_efficiency)
    return 0;
  for (size_t i = 0; i < sizeof calibrated_presets / sizeof calibrated_presets[0]; i++)
    if (strcmp(calibrated_presets[i], gpu->name) == 0)
      return 1;
  return 0;
}

void p3cfg__time_range(double point_s, int calibrated, double *lo_s, double *hi_s)
{
  assert(P3CFG__TIME_RATIO_P10 < 1.0 && P3CFG__TIME_RATIO_P90 > 1.0);
  double lo = P3CFG__TIME_RATIO_P10, hi = P3CFG__TIME_RATIO_P90;
  if (!calibrated) {
    /* Widen in log ratio, so the low end stays positive however wide. */
    lo = pow(lo, P3CFG__TIME_UNCALIBRATED_WIDENING);
    hi = pow(hi, P3CFG__TIME_UNCALIBRATED_WIDENING);
  }
  if (!isfinite(point_s)) {
    *lo_s = *hi_s = point_s;
    return;
  }
  *lo_s = point_s * lo;
  *hi_s = point_s * hi;
}

void p3cfg__time_range_moe(double point_s, int calibrated, double *lo_s, double *hi_s)
{
  p3cfg__time_range(point_s, calibrated, lo_s, hi_s);
  if (!isfinite(point_s))
    return;
  const double lo = point_s * P3CFG__TIME_MOE_RATIO_P10, hi = point_s * P3CFG__TIME_MOE_RATIO_P90;
  *lo_s = lo < *lo_s ? lo : *lo_s;
  *hi_s = hi > *hi_s ? hi : *hi_s;
}

/* ceil(bytes * f) for 0 < f, saturating at UINT64_MAX. */
static uint64_t scaled_up(uint64_t bytes, double f)
{
  const double x = ceil((double)bytes * f);
  return x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
}

void p3cfg__memory_range(uint64_t point_bytes, uint64_t *lo_bytes, uint64_t *hi_bytes)
{
  assert(P3CFG__MEM_RATIO_P10 < 1.0 && P3CFG__MEM_RATIO_P90 > 1.0);
  if (point_bytes == UINT64_MAX) {
    *lo_bytes = *hi_bytes = UINT64_MAX;
    return;
  }
  /* Offsets from the point rather than products, so that the point stays exact above
   * 2^53 bytes and, for a positive point, both ends move by at least one byte. */
  uint64_t down = scaled_up(point_bytes, 1.0 - P3CFG__MEM_RATIO_P10);
  const uint64_t up = scaled_up(point_bytes, P3CFG__MEM_RATIO_P90 - 1.0);
  if (down > point_bytes)
    down = point_bytes;
  *lo_bytes = point_bytes - down;
  *hi_bytes = up > UINT64_MAX - point_bytes ? UINT64_MAX : point_bytes + up;
}

void p3cfg__entry_set_ranges(p3cfg__result_entry *e, const p3cfg_model *m,
                             const p3cfg_cluster *c)
{
  if (e->has_time)
    (m && m->moe.experts ? p3cfg__time_range_moe : p3cfg__time_range)(
        e->time.iteration_s, p3cfg__gpu_calibrated(&c->gpu), &e->time.iteration_s_low,
        &e->time.iteration_s_high);
  for (uint32_t i = 0; i < e->memory.n_stages; i++)
    p3cfg__memory_range(e->stages[i].peak_bytes, &e->stages[i].peak_bytes_low,
                        &e->stages[i].peak_bytes_high);
  p3cfg__memory_range(e->memory.peak_bytes, &e->memory.peak_bytes_low,
                      &e->memory.peak_bytes_high);
}

void p3cfg__range_pct(char *buf, size_t n, double point, double low, double high)
{
  if (!(point > 0.0) || !isfinite(point) || !isfinite(low) || !isfinite(high)) {
    snprintf(buf, n, "-");
    return;
  }
  snprintf(buf, n, "-%.0f/+%.0f %%", 100.0 * (point - low) / point,
           100.0 * (high - point) / point);
}
