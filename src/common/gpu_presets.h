/* gpu_presets.h — the known GPU models a cluster file may name (spec §3). */
#ifndef P3CFG_GPU_PRESETS_H
#define P3CFG_GPU_PRESETS_H

#include <stddef.h>

#include "types.h"

/* The preset called `name` (exact, lowercase), or NULL. */
const p3cfg_gpu *p3cfg__gpu_preset(const char *name);
/* Preset i in table order, or NULL past the end (for "did you mean" and docs). */
const p3cfg_gpu *p3cfg__gpu_preset_at(size_t i);

#endif
