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

/* The three efficiency columns (docs/time-model.md, "Calibration"): large-GEMM fraction
 * of peak in training, the GEMM size where efficiency halves (about 0.1 ms of fixed cost
 * per GEMM on every GPU), and the fraction of HBM bandwidth memory-bound kernels reach.
 * A100-80GB: fitted to Korthikanti et al. 2022 Tables 4 and 5; H100 SXM: to the
 * Megatron-Core weak-scaling table (bench/time_accuracy.c --fit). The others are derived
 * (same chip, or the same fixed GEMM cost at their own peak), not fitted. */
static const p3cfg_gpu presets[] = {
    /* name        memory        peak FLOP/s  HBM B/s   context   mm_eff mm_half mem_eff */
    {"a100-40gb", 40960 * MIB, 312e12, 1555e9, 900 * MIB, 0.79, 2.8e10, 0.80},
    {"a100-80gb", 81920 * MIB, 312e12, 2039e9, 900 * MIB, 0.79, 2.8e10, 0.80},
    {"h100-sxm", 81559 * MIB, 989.4e12, 3350e9, 1024 * MIB, 0.53, 5.5e10, 0.80},
    {"h100-pcie", 81559 * MIB, 756e12, 2000e9, 1024 * MIB, 0.53, 4.2e10, 0.80},
    {"h200", 143771 * MIB, 989.4e12, 4800e9, 1024 * MIB, 0.53, 5.5e10, 0.80},
    {"v100-32gb", 32510 * MIB, 125e12, 900e9, 700 * MIB, 0.70, 1.0e10, 0.80},
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
