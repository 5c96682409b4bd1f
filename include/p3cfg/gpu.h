/*
 * p3cfg/gpu.h — measuring the GPU itself (docs/gpu-profiling.md): time the bf16 GEMMs of
 * transformer layers with cuBLAS and a device-to-device copy, fit the time model's three
 * GPU parameters (matmul_efficiency, matmul_half_flops, memory_efficiency; see
 * docs/time-model.md) to the measurements, and write them into a cluster file's gpu map.
 *
 * Everything here is in libp3cfg and plain C except p3cfg_gpu_measure, which loads the
 * CUDA runtime and cuBLAS with dlopen when it runs: a build with CUDA still runs on a
 * machine without a GPU or driver (the call then fails with P3CFG_ENOTFOUND and says
 * why), and a build without CUDA's toolkit returns P3CFG_EUNSUPPORTED. A recorded
 * measurement table (CSV, p3cfg_gpu_profile_csv) can be fitted anywhere.
 *
 * Typical use:
 *
 *   p3cfg_gpu_profile *p = NULL;
 *   p3cfg_gpu_profile_new(&p);
 *   p3cfg_gpu_profile_add_standard(p);            // GPT-3 175B, Llama 3 70B, tp 1..8
 *   int rc = p3cfg_gpu_measure(p, NULL);          // minutes on one GPU
 *   p3cfg_gpu_fit fit;
 *   if (rc == 0) rc = p3cfg_gpu_profile_fit(&fit, p);
 *   if (rc == 0) rc = p3cfg_gpu_profile_cluster_yaml(&buf, p, &fit, NULL);
 *   p3cfg_gpu_profile_free(p);
 *
 * Conventions are those of p3cfg.h: 0 or a negative P3CFG_E* code, the message in
 * p3cfg_error_last().
 */
#ifndef P3CFG_GPU_H
#define P3CFG_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "p3cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A GPU profile: the GPU's description, the reference it is compared to, and a table
 *  of timed kernels. */
typedef struct p3cfg_gpu_profile p3cfg_gpu_profile;

typedef enum p3cfg_gpu_sample_kind {
  P3CFG_GPU_GEMM = 0, /**< a bf16 GEMM, fp32 accumulation, tensor cores */
  P3CFG_GPU_COPY = 1  /**< a device-to-device copy (the bandwidth probe) */
} p3cfg_gpu_sample_kind;

/** The pass a GEMM belongs to; it fixes the operand layout (as PyTorch's nn.Linear). */
typedef enum p3cfg_gpu_pass {
  P3CFG_GPU_FWD = 0,   /**< Y = X W^T (cuBLAS "TN") */
  P3CFG_GPU_DGRAD = 1, /**< dX = dY W (cuBLAS "NN") */
  P3CFG_GPU_WGRAD = 2  /**< dW = dY^T X (cuBLAS "NT") */
} p3cfg_gpu_pass;

/** One timed kernel. GEMMs are C[m x n] = A[m x k] B[k x n] (2 m n k FLOPs). */
typedef struct p3cfg_gpu_sample {
  p3cfg_gpu_sample_kind kind;
  char model[48];        /**< "gpt3-175b", "square", "copy" */
  char op[8];            /**< "qkv", "proj", "fc1", "fc2", "gemm", "d2d" */
  p3cfg_gpu_pass pass;
  uint32_t tp;           /**< tensor-parallel size of the shape (1 for squares, copies) */
  uint64_t tokens;       /**< tokens of the micro-batch (0 when not a layer GEMM) */
  uint64_t m, n, k;      /**< GEMM dimensions; 0 for a copy */
  uint64_t bytes;        /**< copy: bytes read + written; GEMM: 2 (mk + kn + mn) */
  double median_s;       /**< 0 until measured */
  double min_s, max_s;
  uint32_t reps;         /**< timed repetitions behind the median */
} p3cfg_gpu_sample;

/** The GPU measured, and the reference its efficiencies are relative to. */
typedef struct p3cfg_gpu_device {
  char name[96];          /**< as CUDA names it: "NVIDIA H200"; "" when not measured */
  char gpu[64];           /**< cluster-file gpu name: a preset ("h200") or the base's */
  double peak_flops;      /**< reference dense 16-bit FLOP/s (the gpu's peak_tflops) */
  double hbm_Bps;         /**< reference HBM bytes/s */
  uint64_t memory_bytes;  /**< what CUDA reports as total */
  uint32_t sm_count, cc_major, cc_minor, clock_MHz;
  int driver_version, runtime_version, cublas_version; /**< CUDA's encodings (13000) */
  char date[32];          /**< UTC, ISO 8601, when measured */
} p3cfg_gpu_device;

P3CFG_API int p3cfg_gpu_profile_new(p3cfg_gpu_profile **out);
P3CFG_API void p3cfg_gpu_profile_free(p3cfg_gpu_profile *p);

/** Borrowed description (name empty until measured or loaded). */
P3CFG_API const p3cfg_gpu_device *p3cfg_gpu_profile_device(const p3cfg_gpu_profile *p);
P3CFG_API size_t p3cfg_gpu_profile_count(const p3cfg_gpu_profile *p);
/** Sample i; NULL when out of range. Borrowed. */
P3CFG_API const p3cfg_gpu_sample *p3cfg_gpu_profile_sample(const p3cfg_gpu_profile *p, size_t i);

/**
 * Compare the GPU to gpu `name` of a cluster file: a preset (P3CFG_ENOTFOUND when not
 * known), or any name when peak_flops and hbm_Bps are given (> 0), as a base cluster's
 * gpu map may. p3cfg_gpu_measure picks the preset from the device name when none is set.
 */
P3CFG_API int p3cfg_gpu_profile_set_gpu(p3cfg_gpu_profile *p, const char *name,
                                        double peak_flops, double hbm_Bps);

/** Add the forward and backward GEMMs (QKV, projection, MLP up, MLP down; forward,
 *  dgrad, wgrad) of one layer of `model` at each tensor-parallel size that divides its
 *  heads, kv_heads and ffn_hidden, for each token count. `*skipped` (may be NULL)
 *  receives the number of tp values skipped. */
P3CFG_API int p3cfg_gpu_profile_add_model(p3cfg_gpu_profile *p, const p3cfg_model *model,
                                          const uint32_t *tp, size_t n_tp,
                                          const uint64_t *tokens, size_t n_tokens,
                                          size_t *skipped);
/** The standard set: GPT-3 175B and Llama 3 70B (as models/gpt3-175b.yaml and
 *  models/llama3-70b.yaml) at tp 1, 2, 4, 8 and 2048..16384 tokens, square GEMMs of
 *  1024..8192, and the bandwidth probe. */
P3CFG_API int p3cfg_gpu_profile_add_standard(p3cfg_gpu_profile *p);
/** One square GEMM n x n x n (forward layout); labelled "square". */
P3CFG_API int p3cfg_gpu_profile_add_square(p3cfg_gpu_profile *p, uint64_t n);
/** One device-to-device copy of `bytes` bytes (the bandwidth probe). */
P3CFG_API int p3cfg_gpu_profile_add_copy(p3cfg_gpu_profile *p, uint64_t bytes);

#define P3CFG_GPU_MEASURE_OPTIONS_VERSION 1

typedef struct p3cfg_gpu_measure_options {
  unsigned version; /**< P3CFG_GPU_MEASURE_OPTIONS_VERSION */
  int device;       /**< CUDA device index (default 0) */
  uint32_t warmup;  /**< untimed runs before each kernel's series (default 3) */
  uint32_t reps;    /**< timed runs per kernel; the median is kept (default 10) */
  /** Called after each kernel's series: `done` of `total`. NULL = none. */
  p3cfg_progress_fn progress;
  void *progress_payload;
  /** Seconds of the largest GEMM run before anything is timed (default 2), so that
   *  every kernel is timed at the clocks the GPU holds under sustained load (a cold
   *  H200 runs its first GEMMs up to 19 % faster, until the power limit bites). */
  double settle_s;
} p3cfg_gpu_measure_options;

#define P3CFG_GPU_MEASURE_OPTIONS_INIT                                                 \
  { P3CFG_GPU_MEASURE_OPTIONS_VERSION, 0, 3, 10, NULL, NULL, 2.0 }

P3CFG_API void p3cfg_gpu_measure_options_init(p3cfg_gpu_measure_options *opts);

/**
 * Time every sample of `p` on one GPU (cuBLAS cublasGemmEx, bf16 in and out, fp32
 * compute, default tensor-op algorithm; cudaMemcpy for copies) with CUDA events, back to
 * back after `warmup` untimed runs, and fill in the device description. Operands hold
 * random values (never zeros, which draw less power). Returns P3CFG_EUNSUPPORTED when
 * the library was built without CUDA's toolkit, P3CFG_ENOTFOUND when no CUDA device can
 * be used (no driver, no GPU, libraries missing: the message says which), P3CFG_EVALUE
 * when no reference gpu was set (p3cfg_gpu_profile_set_gpu) and no preset matches the
 * device's name, P3CFG_ENOMEM when the GPU lacks memory for the largest shape,
 * P3CFG_EINTERNAL when CUDA or cuBLAS fail afterwards. Samples keep median_s 0 until
 * measured; a failed call may leave some measured.
 */
P3CFG_API int p3cfg_gpu_measure(p3cfg_gpu_profile *p, const p3cfg_gpu_measure_options *opts);

/** The measurement table as CSV (docs/gpu-profiling.md): `# key: value` lines describing
 *  the device, then one row per sample. */
P3CFG_API int p3cfg_gpu_profile_csv(p3cfg_buffer *out, const p3cfg_gpu_profile *p);
/** Read a table written by p3cfg_gpu_profile_csv. P3CFG_EIO, or P3CFG_ESYNTAX /
 *  P3CFG_EVALUE at FILE:LINE:COL. */
P3CFG_API int p3cfg_gpu_profile_load_csv(p3cfg_gpu_profile **out, const char *path);
P3CFG_API int p3cfg_gpu_profile_load_csv_string(p3cfg_gpu_profile **out, const char *text,
                                                size_t len, const char *name);

/** The time model's GPU parameters fitted to a profile. */
typedef struct p3cfg_gpu_fit {
  double matmul_efficiency; /**< e_mm, in (0, 1] */
  double matmul_half_flops; /**< F_half, > 0 */
  double memory_efficiency; /**< e_mem, in (0, 1]: the copy's bandwidth over hbm_Bps */
  double peak_flops, hbm_Bps; /**< the reference used */
  double copy_Bps;          /**< bandwidth of the largest copy */
  double square_flops_s;    /**< FLOP/s of the largest square GEMM (0 when none) */
  uint64_t square_n;        /**< its size */
  uint32_t gemms;           /**< GEMM samples fitted */
  uint32_t memory_bound;    /**< of them, on the roofline's memory side after the fit */
  double rms_error, max_error;   /**< relative error of the fitted formula over the GEMMs */
  int has_preset;           /**< the reference gpu is a preset: the next two are set */
  double preset_rms_error, preset_max_error; /**< the same with the preset's parameters */
  int clamped;              /**< 1: e_mm was limited to 1 or F_half to its floor */
} p3cfg_gpu_fit;

/**
 * Fit e_mm and F_half by least squares on the relative error of
 *   t = max((F + F_half) / (peak e_mm), bytes / (hbm e_mem))
 * (the formula of src/perf/compute_cost.c) over every measured GEMM, with e_mem the
 * copy's bandwidth over hbm_Bps. GEMMs the fit puts on the memory side of the roofline
 * are left out of the line fit and the fit repeated until that set is stable.
 * P3CFG_EVALUE when there is no reference gpu, no measured copy, or fewer than two
 * compute-bound GEMMs of different sizes.
 */
P3CFG_API int p3cfg_gpu_profile_fit(p3cfg_gpu_fit *out, const p3cfg_gpu_profile *p);

/**
 * A cluster file (spec §3) whose gpu map carries the fitted parameters; everything else
 * comes from `base` (nodes, network, links; NULL: one node of one GPU, the network
 * figures of the GPU's family as placeholders, said so in a comment). The text is
 * checked with p3cfg_cluster_load_string before it is returned.
 */
P3CFG_API int p3cfg_gpu_profile_cluster_yaml(p3cfg_buffer *out, const p3cfg_gpu_profile *p,
                                             const p3cfg_gpu_fit *fit,
                                             const p3cfg_cluster *base);

/** A human report: the device, the large-GEMM rate, the copy bandwidth, the fitted
 *  parameters beside the reference preset's, and with `per_shape` one line per GEMM
 *  (TFLOP/s, measured efficiency, what the preset and the fit predict). */
P3CFG_API int p3cfg_gpu_profile_report(p3cfg_buffer *out, const p3cfg_gpu_profile *p,
                                       const p3cfg_gpu_fit *fit, int per_shape);

#ifdef __cplusplus
}
#endif

#endif /* P3CFG_GPU_H */
