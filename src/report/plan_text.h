/* plan_text.h — short texts of a plan the tables share: the compact split of layers over
 * pipeline stages, a token count with its suffix, and a plan's training budget. */
#ifndef P3CFG_PLAN_TEXT_H
#define P3CFG_PLAN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* The layers of each pipeline stage, compact and exact (docs/cli.md, "layers/stage"):
 * "32" for one stage, "8x12" when all 8 stages hold 12, otherwise the list in stage order
 * with each run of three or more equal stages written COUNTxLAYERS: "20,21,20,19",
 * "7,14x8,7". Always NUL-terminated; the text is cut with "..." only when `n` is too
 * small (n >= 8192 holds any split of P3CFG_MAX_PP stages). */
void p3cfg__split_compact(char *buf, size_t n, const p3cfg_plan *p);

/* A token count as written on the command line: "15T", "1.5T", "300B"... (K, M, B, T:
 * powers of 1000, the largest that leaves at most three decimals), or the plain count. */
void p3cfg__tokens_text(char *buf, size_t n, uint64_t tokens);

/* The training budget of an entry for `tokens` tokens: seconds = tokens / tokens_per_s,
 * days = seconds / 86400, GPU-hours = GPUs x seconds / 3600. 0 (and zeroes) when there is
 * no budget to give: no tokens, no time part, a plan that does not fit, or no
 * throughput. */
typedef struct p3cfg__budget {
  double seconds, days, gpu_hours;
} p3cfg__budget;
int p3cfg__budget_of(p3cfg__budget *b, const p3cfg__result_entry *e, uint64_t tokens);

#endif
