/*
 * gpu_fit.c — the time model's three GPU parameters fitted to a measured profile.
 *
 * src/perf/compute_cost.c times a GEMM of F = 2mnk FLOPs over `bytes` of operands as
 *   t = max((F + F_half) / (peak e_mm), bytes / (hbm e_mem)).
 * e_mem is what a memory-bound kernel reaches: the copy probe's bandwidth over hbm (the
 * largest copy, whose fixed cost is negligible). On the compute side t = a F + b is a
 * line with a = 1 / (peak e_mm) and b = F_half a; the fit minimises the squared
 * *relative* error sum_i ((a F_i + b) / t_i - 1)^2, so small and large GEMMs count alike
 * (as they do in a step's time: many of each). That is linear least squares in (a, b)
 * with the columns F_i / t_i and 1 / t_i: a 2 x 2 normal system, columns scaled to 1
 * first. GEMMs whose fitted compute time falls under their memory time are on the
 * roofline's other side and leave the line fit; the fit repeats until that set settles.
 * Bounds the cluster file needs: e_mm <= 1 and F_half > 0 (a floor of 1 MFLOP); when
 * one binds, the other parameter is refitted alone and `clamped` says so.
 *
 * Predictions for the errors reported go through p3cfg__gemm_s itself, so the errors are
 * those the time model will make on these shapes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "gpu_presets.h"
#include "gpufit.h"
#include "perf_internal.h"

#define MAX_ROUNDS 50

void p3cfg__gpu_of_fit(p3cfg_gpu *out, const p3cfg_gpu_profile *p, double matmul_efficiency,
                       double matmul_half_flops, double memory_efficiency)
{
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", p->device.gpu);
  out->memory_bytes = p->device.memory_bytes;
  out->peak_flops = p->device.peak_flops;
  out->hbm_Bps = p->device.hbm_Bps;
  out->matmul_efficiency = matmul_efficiency;
  out->matmul_half_flops = matmul_half_flops;
  out->memory_efficiency = memory_efficiency;
}

double p3cfg__gpu_predict_s(const p3cfg_gpu *g, const p3cfg_gpu_sample *s)
{
  p3cfg_model bf16;
  memset(&bf16, 0, sizeof bf16);
  bf16.precision = P3CFG_PREC_BF16;
  p3cfg__rates r;
  p3cfg__rates_of(&r, &bf16, g);
  if (s->kind == P3CFG_GPU_COPY)
    return (double)s->bytes * r.s_per_byte;
  return p3cfg__gemm_s(&r, (double)s->m, (double)s->n, (double)s->k, 1.0);
}

static int is_gemm(const p3cfg_gpu_sample *s)
{
  return s->kind == P3CFG_GPU_GEMM && s->median_s > 0.0;
}

static double flops_of(const p3cfg_gpu_sample *s)
{
  return 2.0 * (double)s->m * (double)s->n * (double)s->k;
}

/* Least squares of a x_i + b y_i ~ 1 over the GEMMs in `use` (x = F/t, y = 1/t).
 * Returns 0, or -1 when the system is singular (one size only). */
static int solve_line(double *a, double *b, const p3cfg_gpu_profile *p, const unsigned char *use)
{
  double X = 0.0, Y = 0.0;
  for (size_t i = 0; i < p->count; i++)
    if (use[i]) {
      const double t = p->samples[i].median_s;
      X = fmax(X, flops_of(&p->samples[i]) / t);
      Y = fmax(Y, 1.0 / t);
    }
  if (!(X > 0.0 && Y > 0.0))
    return -1;
  double suu = 0, suv = 0, svv = 0, su = 0, sv = 0;
  for (size_t i = 0; i < p->count; i++)
    if (use[i]) {
      const double t = p->samples[i].median_s;
      const double u = flops_of(&p->samples[i]) / t / X, v = 1.0 / t / Y;
      suu += u * u, suv += u * v, svv += v * v, su += u, sv += v;
    }
  const double det = suu * svv - suv * suv;
  if (!(det > 1e-12 * suu * svv))
    return -1;
  *a = (su * svv - sv * suv) / det / X;
  *b = (sv * suu - su * suv) / det / Y;
  return 0;
}

/* Best a for a fixed b, and best b for a fixed a (one-parameter least squares). */
static double best_a(const p3cfg_gpu_profile *p, const unsigned char *use, double b)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < p->count; i++)
    if (use[i]) {
      const double t = p->samples[i].median_s, x = flops_of(&p->samples[i]) / t;
      num += x * (1.0 - b / t), den += x * x;
    }
  return num / den;
}

static double best_b(const p3cfg_gpu_profile *p, const unsigned char *use, double a)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < p->count; i++)
    if (use[i]) {
      const double t = p->samples[i].median_s, y = 1.0 / t;
      num += y * (1.0 - a * flops_of(&p->samples[i]) / t), den += y * y;
    }
  return num / den;
}

/* Relative errors (rms, max |.|) of gpu g over the measured GEMMs. */
static void errors_of(double *rms, double *worst, const p3cfg_gpu_profile *p, const p3cfg_gpu *g)
{
  double sum = 0.0, mx = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < p->count; i++)
    if (is_gemm(&p->samples[i])) {
      const double e = p3cfg__gpu_predict_s(g, &p->samples[i]) / p->samples[i].median_s - 1.0;
      sum += e * e;
      mx = fmax(mx, fabs(e));
      n++;
    }
  *rms = n ? sqrt(sum / (double)n) : 0.0;
  *worst = mx;
}

/* The measured copy with the most bytes (its bandwidth), 0 when none. */
static double copy_bandwidth(const p3cfg_gpu_profile *p)
{
  uint64_t most = 0;
  double Bps = 0.0;
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    if (s->kind == P3CFG_GPU_COPY && s->median_s > 0.0 && s->bytes > most) {
      most = s->bytes;
      Bps = (double)s->bytes / s->median_s;
    }
  }
  return Bps;
}

P3CFG_API int p3cfg_gpu_profile_fit(p3cfg_gpu_fit *out, const p3cfg_gpu_profile *p)
{
  p3cfg__error_clear();
  if (!out || !p)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_fit: NULL argument");
  memset(out, 0, sizeof *out);
  const double peak = p->device.peak_flops, hbm = p->device.hbm_Bps;
  if (!p->device.gpu[0] || !(peak > 0.0 && hbm > 0.0))
    return p3cfg__error_set(P3CFG_EVALUE, "the profile names no gpu to compare to (its peak "
                                          "FLOP/s and HBM bandwidth)");
  out->peak_flops = peak;
  out->hbm_Bps = hbm;
  out->copy_Bps = copy_bandwidth(p);
  if (!(out->copy_Bps > 0.0))
    return p3cfg__error_set(P3CFG_EVALUE, "the profile has no measured copy: memory_efficiency "
                                          "cannot be fitted");
  out->memory_efficiency = out->copy_Bps / hbm;
  if (out->memory_efficiency > 1.0) {
    out->memory_efficiency = 1.0;
    out->clamped = 1;
  }
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    if (is_gemm(s))
      out->gemms++;
    if (is_gemm(s) && s->m == s->n && s->n == s->k && s->m >= out->square_n) {
      out->square_n = s->m;
      out->square_flops_s = flops_of(s) / s->median_s;
    }
  }

  unsigned char *use = p3cfg__calloc(p->count ? p->count : 1, 1);
  if (!use)
    return p3cfg__error_nomem();
  for (size_t i = 0; i < p->count; i++)
    use[i] = (unsigned char)is_gemm(&p->samples[i]);
  const double mem_Bps = hbm * out->memory_efficiency;
  double a = 0.0, b = 0.0;
  int rc = P3CFG_OK, clamped = 0;
  for (int round = 0; round < MAX_ROUNDS; round++) {
    if (solve_line(&a, &b, p, use) != 0) {
      rc = p3cfg__error_set(P3CFG_EVALUE, "the fit needs at least two measured compute-bound "
                                          "GEMMs of different sizes");
      goto done;
    }
    clamped = 0;
    if (a < 1.0 / peak) { /* faster than the peak: e_mm = 1 */
      a = 1.0 / peak;
      b = best_b(p, use, a);
      clamped = 1;
    }
    if (b < a * P3CFG__GPU_MIN_HALF_FLOPS) {
      b = a * P3CFG__GPU_MIN_HALF_FLOPS;
      a = fmax(best_a(p, use, b), 1.0 / peak);
      b = a * P3CFG__GPU_MIN_HALF_FLOPS;
      clamped = 1;
    }
    /* Which GEMMs does this line put on the compute side? */
    int changed = 0;
    size_t kept = 0;
    for (size_t i = 0; i < p->count; i++) {
      if (!is_gemm(&p->samples[i]))
        continue;
      const double compute = a * flops_of(&p->samples[i]) + b;
      const double memory = (double)p->samples[i].bytes / mem_Bps;
      const unsigned char now = compute >= memory;
      changed |= now != use[i];
      use[i] = now;
      kept += now;
    }
    if (!changed || kept < 2)
      break;
  }
  if (!(a > 0.0)) {
    rc = p3cfg__error_set(P3CFG_EVALUE, "the measured GEMMs do not fit the time model's "
                                        "formula (no positive rate)");
    goto done;
  }
  out->matmul_efficiency = 1.0 / (peak * a);
  out->matmul_half_flops = b / a;
  out->clamped |= clamped;
  for (size_t i = 0; i < p->count; i++)
    if (is_gemm(&p->samples[i]) && !use[i])
      out->memory_bound++;

  p3cfg_gpu g;
  p3cfg__gpu_of_fit(&g, p, out->matmul_efficiency, out->matmul_half_flops,
                    out->memory_efficiency);
  errors_of(&out->rms_error, &out->max_error, p, &g);
  const p3cfg_gpu *preset = p3cfg__gpu_preset(p->device.gpu);
  if (preset) {
    out->has_preset = 1;
    p3cfg__gpu_of_fit(&g, p, preset->matmul_efficiency, preset->matmul_half_flops,
                      preset->memory_efficiency);
    errors_of(&out->preset_rms_error, &out->preset_max_error, p, &g);
  }
done:
  p3cfg__free(use);
  return rc;
}
