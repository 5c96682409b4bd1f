/*
 * precision.h — what a training precision asks of the GPU it runs on (docs/formats.md,
 * "Precision"): the low-precision formats need their tensor cores, and a plan on a GPU
 * without them is refused with a message, never silently run in 16 bits.
 */
#ifndef P3CFG_PRECISION_H
#define P3CFG_PRECISION_H

#include "types.h"

/* 1 for fp8, mxfp8 and nvfp4: Transformer Engine's low-precision GEMM recipes. */
static inline int p3cfg__precision_is_low(p3cfg_precision p)
{
  return p == P3CFG_PREC_FP8 || p == P3CFG_PREC_MXFP8 || p == P3CFG_PREC_NVFP4;
}

/* Dense FLOP/s of the low-precision GEMMs of `p` on `gpu`: peak_fp8_flops for fp8 and
 * mxfp8, peak_fp4_flops for nvfp4; 0 for the 16/32-bit precisions or a GPU without. */
double p3cfg__precision_peak(p3cfg_precision p, const p3cfg_gpu *gpu);

/* P3CFG_OK, or P3CFG_EVALUE with the message set when the model's precision cannot run on
 * the cluster's GPU: fp8 without an FP8 peak, mxfp8 without block-scaled tensor cores
 * (Blackwell: the GPU has an FP4 peak as well), nvfp4 without an FP4 peak. */
int p3cfg__precision_check(const p3cfg_model *m, const p3cfg_gpu *gpu);

#endif
