/*
 * gpu_presets.c — datasheet numbers of the GPUs a cluster file may name, from
 * data/calibration/hardware-gpus.csv (dense 16-bit peaks: H100/H200 989.4
 * TFLOP/s, A100 312; HBM bandwidths from NVIDIA's datasheets as cited there).
 *
 * memory_bytes is the total CUDA reports (nvidia-smi "Total", e.g. 81559 MiB on an
 * H100 SXM 80GB, 143771 MiB on an H200 141GB), not the marketing figure. The efficiency fields are the
 * time model's calibrated defaults; docs/time-model.md says where each comes from.
 */
#include "gpu_presets.h"

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

static const p3cfg_gpu presets[] = {
    /* name        memory        peak FLOP/s  HBM B/s   context   mm_eff mm_half mem_eff
     *                                                            at_fwd at_bwd gap */
    {"a100-40gb", 40960 * MIB, 312e12, 1555e9, 900 * MIB, 0.772, 5.6e9, 0.896, 0.66, 0.55, GAP, CLOCK_A100},
    {"a100-80gb", 81920 * MIB, 312e12, 2039e9, 900 * MIB, 0.772, 5.6e9, 0.896, 0.66, 0.55, GAP, CLOCK_A100},
    {"h100-sxm", 81559 * MIB, 989.4e12, 3350e9, 1024 * MIB, 0.720, 6.91e9, 0.896, 0.51, 0.40,
     GAP, CLOCK_H100},
    {"h100-pcie", 81559 * MIB, 756e12, 2000e9, 1024 * MIB, 0.720, 5.28e9, 0.896, 0.51, 0.40,
     GAP, CLOCK_H100},
    {"h200", 143771 * MIB, 989.4e12, 4800e9, 1024 * MIB, 0.698, 4.85e9, 0.875, 0.49, 0.39, GAP, CLOCK_H100},
    {"v100-32gb", 32510 * MIB, 125e12, 900e9, 700 * MIB, 0.80, 1.0e9, 0.896, 0.0, 0.0, GAP, CLOCK_A100},
};

const p3cfg_gpu *p3cfg__gpu_preset(const char *name)
{
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(presets[i].name, name) == 0)
      return &presets[i];
  return NULL;
}

const p3cfg_gpu *p3cfg__gpu_preset_at(size_t i)
{
  return i < sizeof presets / sizeof presets[0] ? &presets[i] : NULL;
}
