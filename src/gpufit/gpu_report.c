/*
 * gpu_report.c — the human report of a GPU profile: what was measured on which device,
 * the large-GEMM rate and the copy bandwidth, the fitted parameters beside those of the
 * reference preset (with the errors each makes on the measured GEMMs), and optionally
 * one line per GEMM: measured efficiency against what the preset and the fit predict
 * through the time model's formula (p3cfg__gpu_predict_s).
 */
#include <stdio.h>
#include <string.h>

#include "gpu_presets.h"
#include "gpufit.h"

/* CUDA's 13000 -> "13.0"; cuBLAS's 130100 -> "13.1.0". */
static void version_cuda(char *buf, size_t len, int v)
{
  if (v <= 0)
    snprintf(buf, len, "?");
  else
    snprintf(buf, len, "%d.%d", v / 1000, v % 1000 / 10);
}

static void version_cublas(char *buf, size_t len, int v)
{
  if (v <= 0)
    snprintf(buf, len, "?");
  else
    snprintf(buf, len, "%d.%d.%d", v / 10000, v % 10000 / 100, v % 100);
}

static void device_lines(p3cfg__text *t, const p3cfg_gpu_profile *p)
{
  const p3cfg_gpu_device *d = &p->device;
  size_t gemms = 0, copies = 0;
  for (size_t i = 0; i < p->count; i++)
    if (p->samples[i].median_s > 0.0)
      (*(p->samples[i].kind == P3CFG_GPU_COPY ? &copies : &gemms))++;
  if (d->name[0]) {
    char drv[16], rt[16], bl[24];
    version_cuda(drv, sizeof drv, d->driver_version);
    version_cuda(rt, sizeof rt, d->runtime_version);
    version_cublas(bl, sizeof bl, d->cublas_version);
    p3cfg__text_printf(t,
                        "device     %s: compute capability %u.%u, %u SMs at up to %u MHz, "
                        "%.1f GiB\n"
                        "software   driver %s, CUDA runtime %s, cuBLAS %s\n",
                        d->name, d->cc_major, d->cc_minor, d->sm_count, d->clock_MHz,
                        (double)d->memory_bytes / 1073741824.0, drv, rt, bl);
  }
  if (d->gpu[0])
    p3cfg__text_printf(t, "reference  %s: %.1f TFLOP/s dense 16-bit, %.0f GB/s HBM\n", d->gpu,
                        d->peak_flops / 1e12, d->hbm_Bps / 1e9);
  p3cfg__text_printf(t, "measured   %zu bf16 GEMMs (fp32 accumulation, cuBLAS), %zu copies%s%s\n",
                      gemms, copies, d->date[0] ? ", " : "", d->date);
}

static void fit_lines(p3cfg__text *t, const p3cfg_gpu_profile *p, const p3cfg_gpu_fit *f)
{
  const p3cfg_gpu *preset = p3cfg__gpu_preset(p->device.gpu);
  if (f->square_n)
    p3cfg__text_printf(t, "large GEMM %llu^3: %.1f TFLOP/s, %.1f %% of peak\n",
                        (unsigned long long)f->square_n, f->square_flops_s / 1e12,
                        100.0 * f->square_flops_s / f->peak_flops);
  p3cfg__text_printf(t, "copy       device to device: %.0f GB/s, %.1f %% of HBM\n\n",
                      f->copy_Bps / 1e9, 100.0 * f->copy_Bps / f->hbm_Bps);
  p3cfg__text_printf(t, "%-20s %12s %12s\n", "", "fitted", preset ? "preset" : "");
  p3cfg__text_printf(t, "%-20s %12.4f", "matmul_efficiency", f->matmul_efficiency);
  if (preset)
    p3cfg__text_printf(t, " %12.4f", preset->matmul_efficiency);
  p3cfg__text_printf(t, "\n%-20s %12.5f", "matmul_half_tflop", f->matmul_half_flops / 1e12);
  if (preset)
    p3cfg__text_printf(t, " %12.5f", preset->matmul_half_flops / 1e12);
  p3cfg__text_printf(t, "\n%-20s %12.4f", "memory_efficiency", f->memory_efficiency);
  if (preset)
    p3cfg__text_printf(t, " %12.4f", preset->memory_efficiency);
  p3cfg__text_printf(t, "\n%-20s %10.1f %%", "GEMM time rms error", 100.0 * f->rms_error);
  if (f->has_preset)
    p3cfg__text_printf(t, " %10.1f %%", 100.0 * f->preset_rms_error);
  p3cfg__text_printf(t, "\n%-20s %10.1f %%", "GEMM time max error", 100.0 * f->max_error);
  if (f->has_preset)
    p3cfg__text_printf(t, " %10.1f %%", 100.0 * f->preset_max_error);
  p3cfg__text_printf(t, "\n(%u GEMMs fitted, %u of them on the memory side of the roofline%s)\n",
                      f->gemms, f->memory_bound,
                      f->clamped ? "; a parameter reached its bound" : "");
}

static void shape_lines(p3cfg__text *t, const p3cfg_gpu_profile *p, const p3cfg_gpu_fit *f)
{
  const p3cfg_gpu *preset = p3cfg__gpu_preset(p->device.gpu);
  p3cfg_gpu fitted, pre;
  p3cfg__gpu_of_fit(&fitted, p, f->matmul_efficiency, f->matmul_half_flops,
                    f->memory_efficiency);
  if (preset)
    p3cfg__gpu_of_fit(&pre, p, preset->matmul_efficiency, preset->matmul_half_flops,
                      preset->memory_efficiency);
  p3cfg__text_printf(t, "\nefficiency = FLOP/s / peak; preset and fit: what the time model "
                         "predicts for the shape\n");
  p3cfg__text_printf(t, "%-12s %-5s %-5s %3s %6s %6s %6s %6s %9s %8s %6s %6s %6s\n", "model",
                      "op", "pass", "tp", "tokens", "m", "n", "k", "time_ms", "TFLOP/s", "eff",
                      "preset", "fit");
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    if (s->kind != P3CFG_GPU_GEMM || !(s->median_s > 0.0))
      continue;
    const double F = 2.0 * (double)s->m * (double)s->n * (double)s->k;
    const double peak = p->device.peak_flops;
    p3cfg__text_printf(t, "%-12s %-5s %-5s %3u %6llu %6llu %6llu %6llu %9.4f %8.1f %6.3f ",
                        s->model, s->op, p3cfg__gpu_pass_name(s->pass), s->tp,
                        (unsigned long long)s->tokens, (unsigned long long)s->m,
                        (unsigned long long)s->n, (unsigned long long)s->k, s->median_s * 1e3,
                        F / s->median_s / 1e12, F / s->median_s / peak);
    if (preset)
      p3cfg__text_printf(t, "%6.3f ", F / p3cfg__gpu_predict_s(&pre, s) / peak);
    else
      p3cfg__text_printf(t, "%6s ", "-");
    p3cfg__text_printf(t, "%6.3f\n", F / p3cfg__gpu_predict_s(&fitted, s) / peak);
  }
}

P3CFG_API int p3cfg_gpu_profile_report(p3cfg_buffer *out, const p3cfg_gpu_profile *p,
                                       const p3cfg_gpu_fit *fit, int per_shape)
{
  p3cfg__error_clear();
  if (!out || !p)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_report: NULL argument");
  out->data = NULL;
  out->len = 0;
  p3cfg__text t;
  p3cfg__text_init(&t);
  device_lines(&t, p);
  if (fit && fit->peak_flops > 0.0 && fit->hbm_Bps > 0.0) {
    fit_lines(&t, p, fit);
    if (per_shape)
      shape_lines(&t, p, fit);
  }
  return p3cfg__text_finish(&t, out);
}
