/*
 * gpu_presets.c — datasheet numbers of the GPUs a cluster file may name, from
 * data/calibration/hardware-gpus.csv (dense 16-bit peaks: H100/H200 989.4
 * TFLOP/s, A100 312; HBM bandwidths from NVIDIA's datasheets as cited there).
 *
 * memory_bytes is the total CUDA reports (nvidia-smi "Total", e.g. 81559 MiB on an
 * H100 SXM 80GB, 143771 MiB on an H200 141GB), not the marketing figure. The efficiency fields are the
 * time model's calibrated defaults; docs/time-model.md says where each comes from.
 *
 * Each row also holds what identifies the GPU (the name words NVML and hwloc give, the PCI
 * device ids) and the network of the platform it comes in: the one table of GPU identity,
 * which the profiler (hwloc discovery), the GPU profiler (CUDA device names) and the
 * cluster files it writes read.
 */
#include "gpu_presets.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MIB (1024ull * 1024ull)

/* The compute model's columns (docs/time-model.md, "Compute"), each measured on kernels,
 * none fitted to training steps:
 *   mm_eff   fraction of the dense peak a large bf16 GEMM sustains;
 *   mm_half  GEMM FLOPs at which that halves (a fixed cost per GEMM kernel);
 *   mem_eff  fraction of HBM bandwidth a device copy reaches;
 *   at_fwd, at_bwd  fraction of the peak the fused (flash) attention kernel reaches,
 *            causal, head dim 128, sequences of 4k-8k;
 * h100-sxm, h200: our own recorded tables (tests/fixtures/gpu/h100-sxm.csv, h200.csv;
 * docs/gpu-profiling.md: sustained 8192^3 and 388 transformer GEMMs, fit by p3cfg
 * profile-compute). a100: the
 * "maximum achievable matmul FLOPS" 267.9 of 312 TFLOP/s (S. Bekman, ml-engineering,
 * compute/accelerator, A100 SXM, CUDA 12.1, 85.9 %) is a best shape on a cold GPU: our
 * H100 table puts sustained transformer GEMMs at 0.720 against the H100's 80.1 % there,
 * so A100 takes 0.859 * 0.720 / 0.801 = 0.772; its knee is the H100's in FLOPs per SM
 * (the tail wave of a GEMM is one tile per SM: 6.91e9 * 108 / 132 = 5.6e9), and the H100's
 * copy efficiency. Attention: FlashAttention-2 on A100, 205 / 172 TFLOP/s forward /
 * backward (Dao 2023, Figs. 5-6, read from the plots, +-5 %); on H100 the cuDNN / FA3
 * class kernels Transformer Engine runs, 560 / 440 TFLOP/s (Shah et al. 2024, FA3
 * Figs. 5-6), times the measured sustained/cold GEMM ratio 725.5/801.6. h100-pcie and
 * v100 are derived (same chip, or an unmeasured 0.80), not measured.
 * gap: the idle time between two dependent kernels of an eager training step (launch
 * latency), the one compute constant calibrated on training steps
 * (bench/time_accuracy.c, leave-one-source-out), the same on every GPU. */
#define GAP P3CFG__KERNEL_GAP_S
/* clock: training_clock_ratio, calibrated per GPU on published training steps
 * (bench/time_accuracy.c --fit: A100 on Korthikanti et al. 2022 and Megatron-LM CI, H100
 * on Megatron-Core's weak scaling and Megatron-LM CI); the others take their chip's. */
#define CLOCK_A100 0.885
#define CLOCK_H100 0.780

/* One row per GPU: the preset's figures (every number above: the time model's, calibrated
 * by the lead; identity never changes them), then how a GPU is recognised as that preset,
 * then the datasheet network of the platform it comes in.
 *
 * Recognition (p3cfg__gpu_preset_identify) reads a name as words (upper case, split at
 * anything not a letter or digit: NVML's "NVIDIA A100-SXM4-40GB", hwloc's GPUModel or
 * pci.ids' "GA100 [A100 SXM4 80GB]"): the family word, one of the variant words where
 * some are listed, none of the excluded words (parts no preset describes: the NVL cards
 * differ in peak, the GH200 is another word); and where the family comes in memory sizes,
 * the memory CUDA or NVML reports in [min_gib, max_gib), or, with the memory unknown, the
 * size word in the name. A GPU that fits no row has no preset: an A100 of unknown size is
 * none, not a guess. The PCI device ids (pci.ids; 0x2335 seen on an H200 as nvidia-smi
 * "NVIDIA H200, 143771 MiB") name the part when hwloc has no name (containers without
 * pci.ids); only ids whose memory size is certain.
 *
 * Network: per GPU per direction, GB/s (clusters/dgx-*.yaml): NVLink 3 and HDR
 * InfiniBand with the A100, NVLink 4 and NDR with H100 and H200, NVLink 2 and EDR with
 * V100. */
#define GIB_MAX 1e30
typedef struct gpu_row {
  p3cfg_gpu gpu;
  const char *family;
  const char *variant[4]; /* NULL-terminated; empty: no condition */
  const char *exclude[3];
  const char *size_word; /* NULL: the family comes in one size */
  double min_gib, max_gib;
  uint32_t pci_ids[3]; /* 0-terminated */
  double intra_GBps, inter_GBps;
} gpu_row;

static const gpu_row rows[] = {
    /* name        memory        peak FLOP/s  HBM B/s   context   mm_eff mm_half mem_eff
     *                                                            at_fwd at_bwd gap */
    {{"a100-40gb", 40960 * MIB, 312e12, 1555e9, 900 * MIB, 0.772, 5.6e9, 0.896, 0.66, 0.55, GAP, CLOCK_A100, 0, 0},
     "A100", {NULL}, {NULL}, "40GB", 0, 48, {0x20b0 /* GA100 [A100 40GB] */}, 300, 25},
    {{"a100-80gb", 81920 * MIB, 312e12, 2039e9, 900 * MIB, 0.772, 5.6e9, 0.896, 0.66, 0.55, GAP, CLOCK_A100, 0, 0},
     "A100", {NULL}, {NULL}, "80GB", 48, GIB_MAX,
     {0x20b2 /* GA100 [A100 SXM4 80GB] */, 0x20b5 /* GA100 [A100 PCIe 80GB] */}, 300, 25},
    {{"h100-sxm", 81559 * MIB, 989.4e12, 3350e9, 1024 * MIB, 0.720, 6.91e9, 0.896, 0.51, 0.40,
     GAP, CLOCK_H100, 1978.9e12, 0},
     "H100", {"SXM", "SXM5", "HBM3", NULL}, {"PCIE", "NVL", NULL}, NULL, 0, 0,
     {0x2330 /* GH100 [H100 SXM5 80GB] */}, 450, 50},
    {{"h100-pcie", 81559 * MIB, 756e12, 2000e9, 1024 * MIB, 0.720, 5.28e9, 0.896, 0.51, 0.40,
     GAP, CLOCK_H100, 1513e12, 0},
     "H100", {"PCIE", NULL}, {"NVL", NULL}, NULL, 0, 0, {0x2331 /* GH100 [H100 PCIe] */}, 450,
     50},
    {{"h200", 143771 * MIB, 989.4e12, 4800e9, 1024 * MIB, 0.698, 4.85e9, 0.875, 0.49, 0.39, GAP, CLOCK_H100, 1978.9e12, 0},
     "H200", {NULL}, {"NVL", NULL}, NULL, 0, 0, {0x2335 /* GH100 [H200 SXM 141GB] */}, 450, 50},
    {{"v100-32gb", 32510 * MIB, 125e12, 900e9, 700 * MIB, 0.80, 1.0e9, 0.896, 0.0, 0.0, GAP, CLOCK_A100, 0, 0},
     "V100", {NULL}, {NULL}, "32GB", 20, GIB_MAX,
     {0x1db5 /* GV100GL [Tesla V100 32GB] */}, 150, 12.5},
};

#define N_ROWS (sizeof rows / sizeof rows[0])

static const gpu_row *row_of(const char *name)
{
  for (size_t i = 0; i < N_ROWS; i++)
    if (strcmp(rows[i].gpu.name, name) == 0)
      return &rows[i];
  return NULL;
}

const p3cfg_gpu *p3cfg__gpu_preset(const char *name)
{
  const gpu_row *r = row_of(name);
  return r ? &r->gpu : NULL;
}

const p3cfg_gpu *p3cfg__gpu_preset_at(size_t i)
{
  return i < N_ROWS ? &rows[i].gpu : NULL;
}

/* Upper-case copy with every non-alphanumeric character turned into a space, framed by
 * spaces, so that " 80GB " matches "80GB" in "A100-SXM4-80GB" and "[A100 SXM4 80GB]". */
static void normalise(char *dst, size_t cap, const char *src)
{
  size_t j = 0;
  dst[j++] = ' ';
  for (; *src && j + 2 < cap; src++) {
    unsigned char c = (unsigned char)*src;
    dst[j++] = isalnum(c) ? (char)toupper(c) : ' ';
  }
  dst[j++] = ' ';
  dst[j] = '\0';
}

static int has(const char *norm, const char *word)
{
  char pat[32];
  snprintf(pat, sizeof pat, " %s ", word);
  return strstr(norm, pat) != NULL;
}

static int has_any(const char *norm, const char *const *words)
{
  for (; *words; words++)
    if (has(norm, *words))
      return 1;
  return 0;
}

static int fits(const gpu_row *r, const char *norm, uint64_t memory_bytes)
{
  if (!has(norm, r->family) || (r->variant[0] && !has_any(norm, r->variant)) ||
      has_any(norm, r->exclude))
    return 0;
  if (!r->size_word)
    return 1;
  if (memory_bytes == 0)
    return has(norm, r->size_word);
  const double gib = (double)memory_bytes / (1024.0 * 1024.0 * 1024.0);
  return gib >= r->min_gib && gib < r->max_gib;
}

const p3cfg_gpu *p3cfg__gpu_preset_identify(const char *name, uint64_t memory_bytes)
{
  char norm[256];
  if (!name || !*name)
    return NULL;
  normalise(norm, sizeof norm, name);
  for (size_t i = 0; i < N_ROWS; i++)
    if (fits(&rows[i], norm, memory_bytes))
      return &rows[i].gpu;
  return NULL;
}

const p3cfg_gpu *p3cfg__gpu_preset_for_pci_id(uint32_t device_id)
{
  for (size_t i = 0; i < N_ROWS; i++)
    for (size_t k = 0; k < sizeof rows[i].pci_ids / sizeof rows[i].pci_ids[0] && rows[i].pci_ids[k];
         k++)
      if (rows[i].pci_ids[k] == device_id)
        return &rows[i].gpu;
  return NULL;
}

int p3cfg__gpu_preset_network(const char *name, double *intra_GBps, double *inter_GBps)
{
  const gpu_row *r = name ? row_of(name) : NULL;
  if (!r)
    return 0;
  *intra_GBps = r->intra_GBps, *inter_GBps = r->inter_GBps;
  return 1;
}
