/* gpu_presets.h — the known GPU models a cluster file may name (spec §3). */
#ifndef P3CFG_GPU_PRESETS_H
#define P3CFG_GPU_PRESETS_H

#include <stddef.h>

#include "types.h"

/* The idle GPU time between two dependent kernels of an eager (PyTorch) training step:
 * launch latency, about 1-5 us (CUDA launch overhead; 4.2 us per operation issued from
 * Python, 1.3 us per kernel replayed from a CUDA graph on H100-class parts). The one
 * compute constant calibrated on training steps: bench/time_accuracy.c --fit, with
 * leave-one-source-out error (docs/time-model.md). */
#define P3CFG__KERNEL_GAP_S 3.0e-6

/* The preset called `name` (exact, lowercase), or NULL. */
const p3cfg_gpu *p3cfg__gpu_preset(const char *name);
/* Preset i in table order, or NULL past the end (for "did you mean" and docs). */
const p3cfg_gpu *p3cfg__gpu_preset_at(size_t i);

#endif
