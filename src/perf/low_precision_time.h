/*
 * low_precision_time.h — the time of Transformer Engine's low-precision training (fp8,
 * mxfp8, nvfp4) in the form the layer cost uses: the GEMM rates of the format, the GEMM
 * itself, the quantization work around each GEMM, and the once-per-step weight casts
 * (docs/time-model.md, "Low precision").
 */
#ifndef P3CFG_LOW_PRECISION_TIME_H
#define P3CFG_LOW_PRECISION_TIME_H

#include "perf_internal.h"

/* The large-GEMM fraction of the low-precision peak relative to the 16-bit one's fraction
 * of the 16-bit peak: lp efficiency = matmul_efficiency x this. H100 SXM: cuBLASLt FP8
 * (e4m3, bf16 out) at 8192^3 runs 1599-1630 TFLOP/s, mean 1611 = 0.814 of 1978.9 (16 GPUs
 * of two nodes, 500 iterations each, gitea.d-robotics.cc han.zhao/test_gpu_scripts
 * reports_cublaslt_fp8_crosscheck_20260524.md); our own cuBLAS BF16 table
 * (tests/fixtures/gpu/h100-sxm.csv) peaks at 808 = 0.817 of 989.4: 0.814 / 0.817 = 0.997.
 * The same report's PyTorch _scaled_mm path reached 1170-1180 only; Transformer Engine
 * calls cuBLASLt, so the cuBLASLt figure is the one that holds for its GEMMs. */
#define P3CFG__LP_EFFICIENCY_RATIO 0.997

/* Fill the lp fields of `r` (p3cfg__rates_of calls it last). */
void p3cfg__low_precision_rates(p3cfg__rates *r, const p3cfg_model *m, const p3cfg_gpu *gpu);

/* A weight GEMM C[m x n] = A[m x k] B[k x n] as the plan's precision runs it: in low
 * precision the knee-limited compute at the format's rate or the operands (lp_elem_bytes
 * each, the 16-bit output) over HBM, whichever is longer; otherwise p3cfg__gemm_s. */
double p3cfg__gemm_lp_s(const p3cfg__rates *r, double m, double n, double k, double batch);

/* The quantization around a block of two weight GEMMs (QKV and projection, MLP up and
 * down, an MoE layer's experts), per micro-batch. */
typedef struct p3cfg__lp_overhead {
  double fwd_bytes, bwd_bytes;     /* memory-bound bytes, forward and backward */
  double kernels_fwd, kernels_bwd; /* kernels they launch */
} p3cfg__lp_overhead;

/* A block's quantization: `in` elements of the first GEMM's input (in_normed: a norm's
 * output, which the norm itself quantizes where the recipe allows), `mid` of the second
 * GEMM's input, and the output gradients of the two GEMMs, dy_in and dy_mid elements.
 * Zero when the plan runs in 16 or 32 bits. */
void p3cfg__lp_block_overhead(p3cfg__lp_overhead *out, const p3cfg__rates *r, double in,
                              int in_normed, double mid, double dy_in, double dy_mid);

/* The two blocks of a dense layer: attention (QKV, projection) and MLP (up, down). */
void p3cfg__low_precision_overhead(p3cfg__lp_overhead *attn, p3cfg__lp_overhead *mlp,
                                   const p3cfg__dims *d, const p3cfg__rates *r);

/* The share of each tensor-parallel all-gather's bytes that low precision saves, 1 -
 * lp_elem_bytes / elem_bytes, with sequence parallelism (0 otherwise, and in 16 or 32
 * bits): the gathered GEMM inputs and output gradients travel quantized; the
 * reduce-scatters (16-bit GEMM outputs) do not. */
double p3cfg__lp_tp_gather_cut(const p3cfg__dims *d, const p3cfg__rates *r);

/* HBM bytes of the once-per-step weight quantization of a GPU owning `owned` and holding
 * `held` parameters (zero in 16 or 32 bits), added to its optimizer step. */
double p3cfg__low_precision_step_bytes(const p3cfg__rates *r, double owned, double held);

#endif
