/*
 * plan_json.h — one evaluated plan as the JSON object of spec §6, as a cJSON tree so
 * that `search` can put many in one document, plus the helpers that keep numbers
 * deterministic and exact (byte counts beyond 2^53 are written as raw integers, since
 * cJSON stores numbers as doubles).
 */
#ifndef P3CFG_PLAN_JSON_H
#define P3CFG_PLAN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "types.h"

/* Plans of up to this many ranks list their placement rank by rank ("placement":
 * {"ranks": [{"rank", "node", "gpu", "dp", "pp", "tp"}, ...]}, spec §6); larger ones
 * write it as runs of consecutive ranks on consecutive GPUs ("placement": {"encoding":
 * "runs", "runs": [[first_rank, count, node, gpu], ...]}, docs/cli.md). */
#define P3CFG__PLACEMENT_LIST_MAX 4096u

/* The plan object of entry i of `r` (config, memory, and time / placement when the
 * entry has them), or NULL when out of memory (the last error is not set). */
cJSON *p3cfg__plan_json(const p3cfg_result *r, size_t i, const p3cfg_model *model,
                        const p3cfg_cluster *cluster);

/* Print `root` (indented, trailing newline) into a library buffer. Returns 0, or
 * P3CFG_ENOMEM with the last error set. `root` stays the caller's. */
int p3cfg__json_to_buffer(p3cfg_buffer *out, const cJSON *root);

/* Add an exact unsigned integer / a number formatted "%.9g" (null when not finite).
 * Return the item added, NULL when out of memory. */
cJSON *p3cfg__json_add_u64(cJSON *object, const char *key, uint64_t value);
cJSON *p3cfg__json_add_real(cJSON *object, const char *key, double value);

#endif
