/*
 * uncertainty_test.c — the 80 % prediction intervals of uncertainty.c (suite "common"):
 * each contains its point strictly, memory saturates instead of wrapping, a GPU whose
 * efficiency constants were not fitted gets a wider time interval, and which presets
 * count as fitted.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "gpu_presets.h"
#include "uncertainty.h"

Test(common, time_interval_contains_the_point)
{
  const double points[] = {1e-6, 0.25, 1.0, 18.3, 3600.0, 1e9};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
    for (int cal = 0; cal <= 1; cal++) {
      double lo = -1, hi = -1;
      p3cfg__time_range(points[i], cal, &lo, &hi);
      cr_expect(lo > 0 && lo < points[i] && points[i] < hi, "%g (calibrated %d): [%g, %g]",
                points[i], cal, lo, hi);
    }
}

Test(common, time_interval_uses_the_calibrated_percentiles)
{
  double lo, hi;
  p3cfg__time_range(10.0, 1, &lo, &hi);
  cr_expect_float_eq(lo, 10.0 * P3CFG__TIME_RATIO_P10, 1e-12);
  cr_expect_float_eq(hi, 10.0 * P3CFG__TIME_RATIO_P90, 1e-12);
}

Test(common, uncalibrated_time_interval_is_wider)
{
  double lo_c, hi_c, lo_u, hi_u;
  p3cfg__time_range(18.3, 1, &lo_c, &hi_c);
  p3cfg__time_range(18.3, 0, &lo_u, &hi_u);
  cr_expect(lo_u < lo_c && hi_u > hi_c, "calibrated [%g, %g], uncalibrated [%g, %g]", lo_c,
            hi_c, lo_u, hi_u);
}

Test(common, time_interval_of_zero_and_infinity)
{
  double lo, hi;
  p3cfg__time_range(0.0, 1, &lo, &hi);
  cr_expect(lo == 0.0 && hi == 0.0);
  p3cfg__time_range(HUGE_VAL, 0, &lo, &hi);
  cr_expect(isinf(lo) && isinf(hi));
}

Test(common, memory_interval_contains_the_point)
{
  const uint64_t points[] = {1, 10, 4096, 54ull << 30, 1ull << 53, (1ull << 53) + 1,
                             UINT64_MAX / 2};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    uint64_t lo = 0, hi = 0;
    p3cfg__memory_range(points[i], &lo, &hi);
    cr_expect(lo < points[i] && points[i] < hi, "%llu: [%llu, %llu]",
              (unsigned long long)points[i], (unsigned long long)lo, (unsigned long long)hi);
  }
  uint64_t lo = 1, hi = 1;
  p3cfg__memory_range(0, &lo, &hi);
  cr_expect(lo == 0 && hi == 0);
  /* 100 GiB: the percentiles, rounded outwards. */
  const uint64_t g = 100ull << 30;
  p3cfg__memory_range(g, &lo, &hi);
  cr_expect((double)lo <= (double)g * P3CFG__MEM_RATIO_P10 &&
            (double)lo > (double)g * P3CFG__MEM_RATIO_P10 - 2.0);
  cr_expect((double)hi >= (double)g * P3CFG__MEM_RATIO_P90 &&
            (double)hi < (double)g * P3CFG__MEM_RATIO_P90 + 2.0);
}

Test(common, memory_interval_saturates_at_huge_bytes)
{
  uint64_t lo = 0, hi = 0;
  p3cfg__memory_range(UINT64_MAX - 5, &lo, &hi);
  cr_expect_eq(hi, UINT64_MAX, "no wrap-around past 2^64");
  cr_expect(lo < UINT64_MAX - 5);
  p3cfg__memory_range(UINT64_MAX, &lo, &hi);
  cr_expect(lo == UINT64_MAX && hi == UINT64_MAX, "a saturated point stays saturated");
  p3cfg__memory_range(UINT64_MAX / 100 * 99, &lo, &hi);
  cr_expect_eq(hi, UINT64_MAX);
}

Test(common, calibrated_gpus_are_the_fitted_presets)
{
  const char *fitted[] = {"a100-40gb", "a100-80gb", "h100-sxm", "h200"};
  for (size_t i = 0; i < sizeof fitted / sizeof fitted[0]; i++) {
    const p3cfg_gpu *g = p3cfg__gpu_preset(fitted[i]);
    cr_assert_not_null(g, "%s is no longer a preset: follow gpu_presets.c", fitted[i]);
    cr_expect(p3cfg__gpu_calibrated(g), "%s", fitted[i]);
  }
  cr_expect_not(p3cfg__gpu_calibrated(p3cfg__gpu_preset("v100-32gb")));
  cr_expect_not(p3cfg__gpu_calibrated(p3cfg__gpu_preset("h100-pcie")));
  /* The 2025-26 presets' efficiencies are derived from the H100's, not fitted: their
   * intervals are the widened ones. */
  const char *derived[] = {"b200", "gb200", "b300", "gb300", "h800", "mi300x"};
  for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++) {
    const p3cfg_gpu *g = p3cfg__gpu_preset(derived[i]);
    cr_assert_not_null(g, "%s", derived[i]);
    cr_expect_not(p3cfg__gpu_calibrated(g), "%s is derived, not measured", derived[i]);
    double lo_c, hi_c, lo_d, hi_d;
    p3cfg__time_range(1.0, 1, &lo_c, &hi_c);
    p3cfg__time_range(1.0, p3cfg__gpu_calibrated(g), &lo_d, &hi_d);
    cr_expect(lo_d < lo_c && hi_d > hi_c, "%s: a wider interval than a fitted GPU's", derived[i]);
  }
  p3cfg_gpu custom = *p3cfg__gpu_preset("h100-sxm");
  custom.matmul_efficiency = 0.6;
  cr_expect_not(p3cfg__gpu_calibrated(&custom), "overridden constants were not fitted");
  custom = *p3cfg__gpu_preset("h100-sxm");
  custom.memory_bytes /= 2; /* memory does not enter the time model */
  cr_expect(p3cfg__gpu_calibrated(&custom));
  memset(&custom, 0, sizeof custom);
  snprintf(custom.name, sizeof custom.name, "custom");
  cr_expect_not(p3cfg__gpu_calibrated(&custom));
}

/* An MoE plan's interval is at least its GPU's and reaches the MoE bench's spread: the
 * wider of the two at each end. */
Test(uncertainty, moe_plans_take_the_wider_moe_interval)
{
  double lo, hi, lo_m, hi_m;
  p3cfg__time_range(10.0, 1, &lo, &hi);
  p3cfg__time_range_moe(10.0, 1, &lo_m, &hi_m);
  cr_expect(lo_m <= lo && hi_m >= hi);
  cr_expect_float_eq(hi_m, 10.0 * P3CFG__TIME_MOE_RATIO_P90, 1e-9);
  cr_expect_float_eq(lo_m, 10.0 * fmin(P3CFG__TIME_MOE_RATIO_P10, P3CFG__TIME_RATIO_P10), 1e-9);
  p3cfg__time_range(10.0, 0, &lo, &hi);
  p3cfg__time_range_moe(10.0, 0, &lo_m, &hi_m);
  cr_expect(lo_m <= lo && hi_m >= hi && lo_m < 10.0 && hi_m > 10.0);
  p3cfg__time_range_moe(INFINITY, 1, &lo_m, &hi_m);
  cr_expect(isinf(lo_m) && isinf(hi_m));
}
