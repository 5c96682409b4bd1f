/* gpu_presets.h — the known GPU models a cluster file may name (spec §3). */
#ifndef P3CFG_GPU_PRESETS_H
#define P3CFG_GPU_PRESETS_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* The idle GPU time between two dependent kernels of an eager (PyTorch) training step:
 * launch latency, about 1-5 us (CUDA launch overhead; 4.2 us per operation issued from
 * Python, 1.3 us per kernel replayed from a CUDA graph on H100-class parts). The one
 * compute constant calibrated on training steps: bench/time_accuracy.c --fit, with
 * leave-one-source-out error (docs/time-model.md). */
#define P3CFG__KERNEL_GAP_S 3.0e-6

/* training_clock_ratio, calibrated per GPU on published training steps (bench/
 * time_accuracy.c --fit, every row weighing the same: A100 on Korthikanti et al. 2022 and
 * Megatron-LM CI, H100 on Megatron-Core's weak scaling and Megatron-LM CI); the other
 * presets take their chip's (gpu_presets.c), a GPU a cluster file defines the H100's. */
#define P3CFG__CLOCK_A100 0.935
#define P3CFG__CLOCK_H100 0.790
/* The NVL72 parts, on Megatron-Bridge's published dense runs of each system
 * (data/calibration/megatron-bridge-performance.csv; bench_moe_accuracy --all, "Blackwell
 * training clock": every dense row weighing the same, leave-one-model-out error beside
 * it). Against their datasheet peaks (2.5 PFLOP/s BF16 dense for both) the GB200 at its
 * 1.2 kW sustains about what a B200 (2.25 at 1 kW, H100's 0.79) does, 0.70 x 2.5 = 1.75
 * against 1.78; the GB300 at 1.4 kW more, 0.870 x 2.5 = 2.18. */
#define P3CFG__CLOCK_GB200 0.700
#define P3CFG__CLOCK_GB300 0.870

/* The preset called `name` (exact, lowercase), or NULL. */
const p3cfg_gpu *p3cfg__gpu_preset(const char *name);
/* Preset i in table order, or NULL past the end (for "did you mean" and docs). */
const p3cfg_gpu *p3cfg__gpu_preset_at(size_t i);


/* The preset a GPU's name says it is (an NVML or CUDA name, hwloc's GPUModel or pci.ids
 * string: "NVIDIA A100-SXM4-40GB", "GA100 [A100 SXM4 80GB]"), with the memory CUDA or NVML
 * reports where known (0: unknown); NULL where no preset describes the part or the name
 * does not say which size it is. */
const p3cfg_gpu *p3cfg__gpu_preset_identify(const char *name, uint64_t memory_bytes);
/* The preset of an NVIDIA PCI device id (for hosts whose hwloc has no pci.ids), or NULL. */
const p3cfg_gpu *p3cfg__gpu_preset_for_pci_id(uint32_t device_id);
/* The datasheet network of the platform preset `name` comes in, GB/s per GPU per
 * direction: 1, or 0 (and nothing set) when `name` is no preset. */
int p3cfg__gpu_preset_network(const char *name, double *intra_GBps, double *inter_GBps);
/* The datasheet rate of the link between a GPU and its host's memory, bytes/s per
 * direction, for the GPU called `name`: NVLink-C2C on the Grace superchips, else the
 * PCIe generation of the part (a name no preset has: PCIe 5.0 x16). */
double p3cfg__gpu_host_link_Bps(const char *name);

#endif
