/*
 * fit_test.c — the fit of the time model's GPU parameters: it recovers parameters from
 * tables timed by the time model itself (with and without GEMMs on the memory side of
 * the roofline), respects the bounds a cluster file needs, refuses tables it cannot fit,
 * and on the recorded H200 run gives the numbers of docs/gpu-profiling.md, predicted
 * through exactly src/perf/compute_cost.c's formula.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gpufit_fixtures.h"
#include "perf_internal.h"

Test(gpufit, recovers_the_parameters_of_a_table_timed_by_the_time_model)
{
  p3cfg_gpu_profile *p = fx_synthetic(0.7, 5e9, 0.88);
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0, "%s", p3cfg_error_last()->message);
  fx_close(f.matmul_efficiency, 0.7, 1e-9);
  fx_close(f.matmul_half_flops, 5e9, 1e-6);
  fx_close(f.memory_efficiency, 0.88, 1e-12);
  cr_assert_lt(f.rms_error, 1e-9);
  cr_assert_lt(f.max_error, 1e-9);
  cr_assert_eq(f.gemms, 388);
  cr_assert_eq(f.memory_bound, 0);
  cr_assert_eq(f.clamped, 0);
  cr_assert_eq(f.square_n, 8192);
  cr_assert(f.has_preset);
  /* The h200 preset is the recorded H200 table's own fit (0.698, 4.85e9, 0.875), close to
   * this synthetic GPU: the preset describes kernels, not whole training steps. */
  cr_assert_lt(f.preset_rms_error, 0.05);
  p3cfg_gpu_profile_free(p);
}

Test(gpufit, gemms_on_the_memory_side_of_the_roofline_leave_the_line_fit)
{
  p3cfg_gpu_profile *p = fx_synthetic(0.75, 2e9, 0.9);
  /* Skinny GEMMs: 2 m n k FLOPs over (mk + kn + mn) elements is a few FLOPs per byte,
   * far below the H200's ~170 FLOP/byte ridge. */
  p3cfg_gpu g;
  p3cfg__gpu_of_fit(&g, p, 0.75, 2e9, 0.9);
  const uint64_t skinny[][3] = {{65536, 64, 64}, {131072, 32, 128}, {262144, 16, 16}};
  for (size_t i = 0; i < 3; i++) {
    p3cfg_gpu_sample *s = p3cfg__gpu_profile_push(p);
    cr_assert_not_null(s);
    s->kind = P3CFG_GPU_GEMM;
    snprintf(s->model, sizeof s->model, "skinny");
    snprintf(s->op, sizeof s->op, "gemm");
    s->m = skinny[i][0], s->n = skinny[i][1], s->k = skinny[i][2];
    s->bytes = 2 * (s->m * s->k + s->k * s->n + s->m * s->n);
    s->median_s = s->min_s = s->max_s = p3cfg__gpu_predict_s(&g, s);
    s->reps = 10;
    const double compute = (2.0 * (double)s->m * (double)s->n * (double)s->k + 2e9) /
                           (g.peak_flops * 0.75);
    cr_assert_gt(s->median_s, compute * 1.01, "the skinny GEMM must be memory-bound");
  }
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0, "%s", p3cfg_error_last()->message);
  cr_assert_eq(f.memory_bound, 3);
  fx_close(f.matmul_efficiency, 0.75, 1e-9);
  fx_close(f.matmul_half_flops, 2e9, 1e-6);
  cr_assert_lt(f.max_error, 1e-9);
  p3cfg_gpu_profile_free(p);
}

Test(gpufit, gemms_faster_than_the_peak_clamp_the_efficiency_to_one)
{
  p3cfg_gpu_profile *p = fx_synthetic(0.7, 5e9, 0.88);
  for (size_t i = 0; i < p->count; i++)
    if (p->samples[i].kind == P3CFG_GPU_GEMM) {
      p->samples[i].median_s *= 0.5; /* 1.4 x the peak */
      p->samples[i].min_s = p->samples[i].max_s = p->samples[i].median_s;
    }
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0);
  cr_assert_eq(f.matmul_efficiency, 1.0);
  cr_assert_gt(f.matmul_half_flops, 0.0);
  cr_assert_eq(f.clamped, 1);
  p3cfg_gpu_profile_free(p);
}

Test(gpufit, a_negative_knee_is_floored_so_the_cluster_file_stays_valid)
{
  /* Fixed cost "negative": small GEMMs faster than proportional. */
  p3cfg_gpu_profile *p = fx_synthetic(0.7, 5e9, 0.88);
  for (size_t i = 0; i < p->count; i++) {
    p3cfg_gpu_sample *s = &p->samples[i];
    if (s->kind == P3CFG_GPU_GEMM)
      s->median_s = s->min_s = s->max_s =
          2.0 * (double)s->m * (double)s->n * (double)s->k / (0.7 * 989.4e12) - 2e-6;
  }
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0);
  fx_close(f.matmul_half_flops, P3CFG__GPU_MIN_HALF_FLOPS, 1e-9);
  cr_assert_eq(f.clamped, 1);
  cr_assert(f.matmul_efficiency > 0.0 && f.matmul_efficiency <= 1.0);
  p3cfg_gpu_profile_free(p);
}

Test(gpufit, refuses_tables_it_cannot_fit)
{
  p3cfg_gpu_profile *p = NULL;
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_new(&p), 0);
  cr_assert_eq(p3cfg_gpu_profile_add_square(p, 4096), 0);
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), P3CFG_EVALUE); /* no reference gpu */
  cr_assert(strstr(p3cfg_error_last()->message, "no gpu"));
  cr_assert_eq(p3cfg_gpu_profile_set_gpu(p, "h100-sxm", 0.0, 0.0), 0);
  p->samples[0].median_s = p->samples[0].min_s = p->samples[0].max_s = 2e-4;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), P3CFG_EVALUE); /* no copy */
  cr_assert(strstr(p3cfg_error_last()->message, "no measured copy"));
  cr_assert_eq(p3cfg_gpu_profile_add_copy(p, 1 << 20), 0);
  p->samples[1].median_s = p->samples[1].min_s = p->samples[1].max_s = 1e-6;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), P3CFG_EVALUE); /* one GEMM size */
  cr_assert(strstr(p3cfg_error_last()->message, "two"));
  cr_assert_eq(p3cfg_gpu_profile_fit(NULL, p), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_gpu_profile_set_gpu(p, "h300", 0.0, 0.0), P3CFG_ENOTFOUND);
  cr_assert_eq(p3cfg_gpu_profile_set_gpu(p, "my-gpu", 500e12, 2e12), 0);
  cr_assert_eq(p3cfg_gpu_profile_device(p)->peak_flops, 500e12);
  p3cfg_gpu_profile_free(p);
}

/* The numbers of the recorded run, as docs/gpu-profiling.md quotes them. */
Test(gpufit, the_recorded_h200_run_fits_as_documented)
{
  p3cfg_gpu_profile *p = fx_load_h200();
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0, "%s", p3cfg_error_last()->message);
  fx_close(f.matmul_efficiency, 0.6981, 1e-3);
  fx_close(f.matmul_half_flops, 4.85e9, 1e-2);
  fx_close(f.memory_efficiency, 0.8750, 1e-3);
  fx_close(f.copy_Bps, 4200e9, 1e-3);
  fx_close(f.square_flops_s, 673.1e12, 1e-3);
  cr_assert_eq(f.gemms, 388);
  cr_assert_lt(f.rms_error, 0.04);
  cr_assert_lt(f.max_error, 0.15);
  cr_assert(f.has_preset);
  cr_assert_lt(f.preset_rms_error, 1.05 * f.rms_error, "the preset is this table's fit");
  p3cfg_gpu_profile_free(p);
}

/* The recorded H100 SXM run: a large GEMM well below the datasheet (725 of 989 TFLOP/s
 * hot), HBM copies at 90 %; the h100-sxm preset is this table's fit (its kernel
 * figures; the training clock ratio is applied in training steps only). */
Test(gpufit, the_recorded_h100_run_fits_as_documented)
{
  p3cfg_gpu_profile *p = fx_load(FX_H100_CSV);
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0, "%s", p3cfg_error_last()->message);
  fx_close(f.matmul_efficiency, 0.7195, 1e-3);
  fx_close(f.matmul_half_flops, 6.91e9, 1e-2);
  fx_close(f.memory_efficiency, 0.8957, 1e-3);
  fx_close(f.copy_Bps, 3001e9, 1e-3);
  fx_close(f.square_flops_s, 725.5e12, 1e-3);
  cr_assert_eq(f.gemms, 388);
  cr_assert_lt(f.rms_error, 0.05);
  cr_assert_lt(f.max_error, 0.20);
  cr_assert(f.has_preset);
  cr_assert_lt(f.preset_rms_error, 1.05 * f.rms_error, "the preset is this table's fit");
  p3cfg_gpu_profile_free(p);
}

/* The fit's errors are those of src/perf/compute_cost.c's own formula: recompute them
 * through p3cfg__rates_of and p3cfg__gemm_s on a p3cfg_gpu as a cluster file gives it. */
Test(gpufit, errors_are_those_of_the_time_model_formula)
{
  p3cfg_gpu_profile *p = fx_load_h200();
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0);
  p3cfg_gpu g = *p3cfg__gpu_preset("h200");
  g.matmul_efficiency = f.matmul_efficiency;
  g.matmul_half_flops = f.matmul_half_flops;
  g.memory_efficiency = f.memory_efficiency;
  g.training_clock_ratio = 1.0; /* one GPU alone: the clock the kernels were timed at */
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.precision = P3CFG_PREC_BF16;
  p3cfg__rates r;
  p3cfg__rates_of(&r, &m, &g);
  double sum = 0.0, worst = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < p3cfg_gpu_profile_count(p); i++) {
    const p3cfg_gpu_sample *s = p3cfg_gpu_profile_sample(p, i);
    if (s->kind != P3CFG_GPU_GEMM)
      continue;
    const double t = p3cfg__gemm_s(&r, (double)s->m, (double)s->n, (double)s->k, 1.0);
    const double e = t / s->median_s - 1.0;
    sum += e * e;
    worst = fmax(worst, fabs(e));
    n++;
  }
  fx_close(sqrt(sum / (double)n), f.rms_error, 1e-12);
  fx_close(worst, f.max_error, 1e-12);
  p3cfg_gpu_profile_free(p);
}

/* A least-squares minimum: nudging either parameter makes the fitted objective worse. */
Test(gpufit, the_fit_is_a_minimum_of_the_relative_error)
{
  p3cfg_gpu_profile *p = fx_load_h200();
  p3cfg_gpu_fit f;
  cr_assert_eq(p3cfg_gpu_profile_fit(&f, p), 0);
  const double steps[][2] = {{1.01, 1}, {0.99, 1}, {1, 1.2}, {1, 0.8}};
  for (size_t k = 0; k < 4; k++) {
    p3cfg_gpu g;
    p3cfg__gpu_of_fit(&g, p, f.matmul_efficiency * steps[k][0],
                      f.matmul_half_flops * steps[k][1], f.memory_efficiency);
    double sum = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++)
      if (p->samples[i].kind == P3CFG_GPU_GEMM) {
        const double e = p3cfg__gpu_predict_s(&g, &p->samples[i]) / p->samples[i].median_s - 1;
        sum += e * e, n++;
      }
    cr_assert_gt(sqrt(sum / (double)n), f.rms_error, "step %zu", k);
  }
  p3cfg_gpu_profile_free(p);
}

/* Measuring needs CUDA: without the toolkit the build says so; with it, a machine where
 * no GPU is visible says that (CUDA_VISIBLE_DEVICES hides any GPU of the test machine). */
Test(gpufit, measuring_without_a_gpu_says_why)
{
  setenv("CUDA_VISIBLE_DEVICES", "", 1);
  p3cfg_gpu_profile *p = NULL;
  cr_assert_eq(p3cfg_gpu_profile_new(&p), 0);
  cr_assert_eq(p3cfg_gpu_profile_add_square(p, 1024), 0);
  const int rc = p3cfg_gpu_measure(p, NULL);
  const char *msg = p3cfg_error_last()->message;
  cr_assert(rc == P3CFG_EUNSUPPORTED || rc == P3CFG_ENOTFOUND, "rc %d: %s", rc, msg);
  if (rc == P3CFG_EUNSUPPORTED)
    cr_assert(strstr(msg, "this build has no CUDA support") == msg, "%s", msg);
  else
    cr_assert(strstr(msg, "no CUDA device") == msg, "%s", msg);
  cr_assert_eq(p3cfg_gpu_profile_sample(p, 0)->median_s, 0.0);
  p3cfg_gpu_measure_options o;
  p3cfg_gpu_measure_options_init(&o);
  o.reps = 0;
  cr_assert_eq(p3cfg_gpu_measure(p, &o), rc == P3CFG_EUNSUPPORTED ? rc : P3CFG_EINVALID);
  p3cfg_gpu_profile_free(p);
}
