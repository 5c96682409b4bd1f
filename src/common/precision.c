/*
 * precision.c — the low-precision formats' demands on the GPU (precision.h). Called where
 * a model meets a cluster (p3cfg_estimate, p3cfg_search) so that every command refuses a
 * plan its GPU cannot train, with the reason, before anything is scored.
 *
 * Transformer Engine's recipes (docs/formats.md "Precision"): fp8 per-tensor scaling runs
 * on Hopper and later (FP8 tensor cores, peak_fp8_flops); MXFP8BlockScaling and
 * NVFP4BlockScaling need the block-scaled MMA of Blackwell (sm_100: TE's
 * check_mxfp8_support / check_nvfp4_support), which the GPU table marks by an FP4 peak.
 */
#include "precision.h"

#include "error.h"

static const char *const names[] = {"bf16", "fp16", "fp32", "fp8", "mxfp8", "nvfp4"};

double p3cfg__precision_peak(p3cfg_precision p, const p3cfg_gpu *gpu)
{
  switch (p) {
  case P3CFG_PREC_FP8:
    return gpu->peak_fp8_flops;
  case P3CFG_PREC_MXFP8:
    return gpu->peak_fp4_flops > 0.0 ? gpu->peak_fp8_flops : 0.0;
  case P3CFG_PREC_NVFP4:
    return gpu->peak_fp4_flops;
  default:
    return 0.0;
  }
}

int p3cfg__precision_check(const p3cfg_model *m, const p3cfg_gpu *gpu)
{
  if (!p3cfg__precision_is_low(m->precision) || p3cfg__precision_peak(m->precision, gpu) > 0.0)
    return P3CFG_OK;
  const char *gname = gpu->name[0] ? gpu->name : "the cluster's GPU";
  const char *why = m->precision == P3CFG_PREC_FP8
                        ? "FP8 tensor cores (an FP8 peak)"
                    : m->precision == P3CFG_PREC_MXFP8
                        ? "block-scaled FP8 tensor cores (Blackwell: an FP8 and an FP4 peak)"
                        : "FP4 tensor cores (an FP4 peak)";
  return p3cfg__error_set(P3CFG_EVALUE,
                          "precision %s needs %s, and %s has none; train in bf16 or choose a "
                          "GPU that has them",
                          names[m->precision], why, gname);
}
