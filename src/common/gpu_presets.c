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
 * (gpu_presets.h); the others take their chip's. */
#define CLOCK_A100 P3CFG__CLOCK_A100
#define CLOCK_H100 P3CFG__CLOCK_H100

/* h100-96gb-500w: the H100 SXM5 96 GB HBM2e of Meta's Grand Teton hosts at their default
 * 500 W power limit (pytorch/torchtitan benchmarks/llama3_h100_202412_torchtitan.md and
 * asyncTP_llama3_h100_2025-06_torchtitan.md @ b5bcd76c: "96GB HBM2e with 2.4 TB/sec",
 * "the default 500W power limit, although tuning it up to 700W TDP can potentially
 * provide further speedups"). The chip is the H100 SXM's (132 SMs, the same tensor cores
 * and kernel fractions); HBM 2.4 TB/s; memory 96 GiB (the marketed size: not seen in a
 * driver log). Its clock is derived, not measured (no published GEMM-vs-power-limit
 * table for BF16 on H100 was found): under a binding power limit the SM clock f is what
 * the dynamic power allows, P_dyn = a C V^2 f with V rising in proportion to f over the
 * DVFS range (CMOS dynamic power), so P_dyn ~ f^3 and
 *   f_500 / f_700 = ((500 - P0) / (700 - P0))^(1/3)
 * with P0 the power that does not scale with the SM clock, taken as an H100 SXM's
 * draw idle at its P0 state with memory allocated, 140 W (nvidia-smi in
 * wilicc/gpu-burn issue 114: 140-145 W of 700 W): (360 / 560)^(1/3) = 0.863. It
 * assumes the 700 W part is itself at its limit through a training step (the H100's
 * training clock ratio, calibrated on DGX H100 steps, carries that). */
#define POWER_CAP_500W_OF_700W 0.863

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
 * V100; the 2025-26 parts below say theirs. */
#define GIB_MAX 1e30

/* The GPUs of 2025-26 (issue 14): B200, GB200, B300, GB300, H800, MI300X. Datasheet
 * figures, every peak dense (without sparsity: NVIDIA's Blackwell tables quote FP4, FP8
 * and BF16 with 2:4 sparsity, halved here; docs/formats.md cites each page and date):
 *   b200   HGX B200, per GPU of the 8: BF16 4.5 / FP8 9 / FP4 18 PFLOP/s sparse, so
 *          2.25 / 4.5 / 9 dense (nvidia.com/en-us/data-center/hgx, 2025; torchao's
 *          roofline table uses the same dense figures); HBM 8 TB/s (DGX B200 datasheet:
 *          64 TB/s for 8); NVLink 5 1.8 TB/s per GPU = 900 GB/s per direction; one
 *          ConnectX-7 400 Gb/s per GPU = 50 GB/s.
 *   gb200  GB200 NVL72 (72 GPUs): BF16 360 / FP8 720 / FP4 1,440 PFLOP/s sparse, per
 *          GPU 2.5 / 5 / 10 dense; 576 TB/s HBM = 8 TB/s per GPU; NVLink 5 900 GB/s per
 *          direction across the rack; ConnectX-7 400 Gb/s per GPU
 *          (nvidia.com/en-us/data-center/gb200-nvl72, 2025).
 *   b300   HGX B300: BF16 36 / FP8 72 PFLOP/s sparse for 8, FP4 144 sparse | 108 dense:
 *          per GPU 2.25 / 4.5 / 13.5 dense; 8 TB/s; NVLink 5; ConnectX-8 800 Gb/s per GPU
 *          = 100 GB/s (nvidia.com/en-us/data-center/hgx; DGX B300 datasheet, 2025).
 *   gb300  GB300 NVL72: BF16 360 / FP8 720 PFLOP/s sparse, FP4 1,440 | 1,080: per GPU
 *          2.5 / 5 / 15 dense; 576 TB/s = 8 TB/s per GPU; NVLink 5; ConnectX-8 800 Gb/s
 *          (nvidia.com/en-us/data-center/gb300-nvl72, 2025).
 *   h800   the export GH100 SXM5: H100 SXM's tensor cores (989.4 BF16, 1,978.9 FP8 dense,
 *          no FP4), 80 GB HBM3 3.35 TB/s, NVLink cut to 400 GB/s = 200 per direction
 *          (nvidia.cn/data-center/h800, 2023); 8 x 400 Gb/s InfiniBand (DeepSeek-V3
 *          report, arXiv 2412.19437 s. 3.2.2: 160 GB/s NVLink and 50 GB/s IB achieved).
 *   mi300x AMD Instinct MI300X datasheet (amd.com, 2023-12): BF16 1,307.4 / FP8 2,614.9
 *          TFLOP/s dense (twice that with sparsity), no FP4; 192 GB HBM3 5.3 TB/s; seven
 *          Infinity Fabric links of 128 GB/s bidirectional to the seven peers of its
 *          8-GPU board, 7 x 64 = 448 GB/s per direction for a collective that uses all
 *          (one pair alone gets 64); 400 Gb/s NIC per GPU on the usual platforms.
 * memory_bytes: what the driver reports where public logs show it (nvidia-smi "Total":
 * B200 183359 MiB, GB200 189471 MiB, B300 SXM6 AC 275040 MiB, GB300 284208 MiB; PyTorch
 * total_memory on MI300X 196592 MiB), the H100 SXM's 81559 MiB for the H800 (the same
 * 80 GB HBM3 board; not seen on an H800).
 * Efficiency columns: derived, not measured (no recorded kernel table or published step
 * fitted them; uncertainty.c keeps them out of the calibrated list, so their intervals
 * are the widened ones). Each takes the H100 SXM's measured fractions (mm_eff 0.720,
 * mem_eff 0.896, attention 0.51 / 0.40 of peak, its clock; the GB200 and GB300 their own
 * training clocks, fitted on Megatron-Bridge's dense runs: gpu_presets.h), and its knee
 * the H100's in FLOPs per SM as the A100's does (6.91e9 x SMs / 132): 148 SMs on the Blackwell parts
 * (CUDA reports 148 on B200 and B300 SXM6 AC; GB200 and GB300 taken as the same), 132 on
 * the H800 (H100's chip), 304 compute units on MI300X. On MI300X the H100's fractions are
 * an assumption the first measured kernel table should replace (ROCm's GEMMs reach a
 * smaller fraction of the datasheet peak than cuBLAS's on H100 in public benchmarks). */
/* sms, the last column: CUDA's multiProcessorCount: A100 108 (NVIDIA A100 Tensor Core GPU
 * Architecture whitepaper, 2020: 108 of GA100's 128 SMs), H100 SXM5 132 and PCIe 114
 * (NVIDIA H100 Tensor Core GPU Architecture whitepaper, 2022), H200 and H800 132 (the
 * H100 SXM's GH100), V100 80 (Volta whitepaper, 2017), the Blackwell parts 148 (above),
 * MI300X 304 compute units (AMD data sheet). */
#define MM_HALF_148 7.75e9 /* 6.91e9 * 148 / 132 */
#define MM_HALF_304 1.59e10 /* 6.91e9 * 304 / 132 */
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
    {{"a100-40gb", 40960 * MIB, 312e12, 1555e9, 900 * MIB, 0.772, 5.6e9, 0.896, 0.66, 0.55, GAP, CLOCK_A100, 0, 0, 108},
     "A100", {NULL}, {NULL}, "40GB", 0, 48, {0x20b0 /* GA100 [A100 40GB] */}, 300, 25},
    {{"a100-80gb", 81920 * MIB, 312e12, 2039e9, 900 * MIB, 0.772, 5.6e9, 0.896, 0.66, 0.55, GAP, CLOCK_A100, 0, 0, 108},
     "A100", {NULL}, {NULL}, "80GB", 48, GIB_MAX,
     {0x20b2 /* GA100 [A100 SXM4 80GB] */, 0x20b5 /* GA100 [A100 PCIe 80GB] */}, 300, 25},
    {{"h100-sxm", 81559 * MIB, 989.4e12, 3350e9, 1024 * MIB, 0.720, 6.91e9, 0.896, 0.51, 0.40,
     GAP, CLOCK_H100, 1978.9e12, 0, 132},
     "H100", {"SXM", "SXM5", "HBM3", NULL}, {"PCIE", "NVL", NULL}, NULL, 0, 0,
     {0x2330 /* GH100 [H100 SXM5 80GB] */}, 450, 50},
    {{"h100-pcie", 81559 * MIB, 756e12, 2000e9, 1024 * MIB, 0.720, 5.28e9, 0.896, 0.51, 0.40,
     GAP, CLOCK_H100, 1513e12, 0, 114},
     "H100", {"PCIE", NULL}, {"NVL", NULL}, NULL, 0, 0, {0x2331 /* GH100 [H100 PCIe] */}, 450,
     50},
    {{"h200", 143771 * MIB, 989.4e12, 4800e9, 1024 * MIB, 0.698, 4.85e9, 0.875, 0.49, 0.39, GAP, CLOCK_H100, 1978.9e12, 0, 132},
     "H200", {NULL}, {"NVL", NULL}, NULL, 0, 0, {0x2335 /* GH100 [H200 SXM 141GB] */}, 450, 50},
    {{"v100-32gb", 32510 * MIB, 125e12, 900e9, 700 * MIB, 0.80, 1.0e9, 0.896, 0.0, 0.0, GAP, CLOCK_A100, 0, 0, 80},
     "V100", {NULL}, {NULL}, "32GB", 20, GIB_MAX,
     {0x1db5 /* GV100GL [Tesla V100 32GB] */}, 150, 12.5},
    /* name        memory        peak FLOP/s  HBM B/s   context   mm_eff mm_half mem_eff
     *   at_fwd at_bwd gap clock  fp8 FLOP/s  fp4 FLOP/s   (derived: see above) */
    {{"b200", 183359 * MIB, 2.25e15, 8.0e12, 1024 * MIB, 0.720, MM_HALF_148, 0.896, 0.51, 0.40,
      GAP, CLOCK_H100, 4.5e15, 9.0e15, 148},
     "B200", {NULL}, {NULL}, NULL, 0, 0, {0x2901, 0x2909 /* "NVIDIA B200" */}, 900, 50},
    {{"gb200", 189471 * MIB, 2.5e15, 8.0e12, 1024 * MIB, 0.720, MM_HALF_148, 0.896, 0.51, 0.40,
      GAP, P3CFG__CLOCK_GB200, 5.0e15, 10.0e15, 148},
     "GB200", {NULL}, {NULL}, NULL, 0, 0, {0x2941 /* "NVIDIA GB200" */}, 900, 50},
    {{"b300", 275040 * MIB, 2.25e15, 8.0e12, 1024 * MIB, 0.720, MM_HALF_148, 0.896, 0.51, 0.40,
      GAP, CLOCK_H100, 4.5e15, 13.5e15, 148},
     "B300", {NULL}, {NULL}, NULL, 0, 0, {0x3182 /* "NVIDIA B300 SXM6 AC" */}, 900, 100},
    /* The DGX Station's GB300 (252 GB, 7.1 TB/s) carries the same word: with the memory
     * known it is told apart by size (the family word doubles as the size word, so a
     * name alone still means the NVL72 part); its PCI id is not known, so GB300 has none. */
    {{"gb300", 284208 * MIB, 2.5e15, 8.0e12, 1024 * MIB, 0.720, MM_HALF_148, 0.896, 0.51, 0.40,
      GAP, P3CFG__CLOCK_GB300, 5.0e15, 15.0e15, 148},
     "GB300", {NULL}, {NULL}, "GB300", 260, GIB_MAX, {0}, 900, 100},
    {{"h800", 81559 * MIB, 989.4e12, 3350e9, 1024 * MIB, 0.720, 6.91e9, 0.896, 0.51, 0.40,
      GAP, CLOCK_H100, 1978.9e12, 0, 132},
     "H800", {NULL}, {"PCIE", "NVL", NULL}, NULL, 0, 0, {0x2324 /* "NVIDIA H800" */}, 200, 50},
    {{"mi300x", 196592 * MIB, 1307.4e12, 5300e9, 1024 * MIB, 0.720, MM_HALF_304, 0.896, 0.51,
      0.40, GAP, CLOCK_H100, 2614.9e12, 0, 304},
     "MI300X", {NULL}, {NULL}, NULL, 0, 0, {0}, 448, 50},
    /* Grand Teton H100 96 GB at 500 W (above): only by name, no device name tells the
     * power limit (the variant word is never in one). */
    {{"h100-96gb-500w", 98304 * MIB, 989.4e12, 2400e9, 1024 * MIB, 0.720, 6.91e9, 0.896, 0.51,
      0.40, GAP, CLOCK_H100 * POWER_CAP_500W_OF_700W, 1978.9e12, 0, 132},
     "H100", {"500W", NULL}, {"PCIE", "NVL", NULL}, NULL, 0, 0, {0}, 450, 50},
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

/* Host links, per direction: NVLink-C2C, 900 GB/s bidirectional between each Blackwell
 * GPU and its Grace CPU (GB200 / GB300 NVL72 pages, nvidia.com 2025; TransformerEngine
 * docs/features/other_optimizations/cpu_offloading at d0067d0); PCIe 4.0 x16 on the A100
 * (32 GB/s), 3.0 x16 on the V100 (16 GB/s), 5.0 x16 on the H100, H200, H800, B200, B300
 * and MI300X (64 GB/s; 128 bidirectional, the same TE page). */
double p3cfg__gpu_host_link_Bps(const char *name)
{
  static const struct {
    const char *name;
    double GBps;
  } links[] = {{"gb200", 450}, {"gb300", 450}, {"a100-40gb", 32}, {"a100-80gb", 32},
               {"v100-32gb", 16}};
  for (size_t i = 0; name && i < sizeof links / sizeof links[0]; i++)
    if (strcmp(links[i].name, name) == 0)
      return links[i].GBps * 1e9;
  return 64e9;
}
