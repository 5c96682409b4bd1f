/*
 * knobs.h — the library's side of the knob table (knobs.c): indices of the table's rows
 * and the bounds check every options struct uses, so that a bound is written once.
 */
#ifndef P3CFG_KNOBS_H
#define P3CFG_KNOBS_H

#include <stddef.h>
#include <stdint.h>

#include "p3cfg.h"

/* Rows of the table, in its order (knobs.c asserts that each row has its name). */
typedef enum p3cfg__knob_id {
  P3CFG__KNOB_DP,
  P3CFG__KNOB_TP,
  P3CFG__KNOB_PP,
  P3CFG__KNOB_CP,
  P3CFG__KNOB_EP,
  P3CFG__KNOB_ETP,
  P3CFG__KNOB_MBS,
  P3CFG__KNOB_VPP,
  P3CFG__KNOB_RECOMPUTE,
  P3CFG__KNOB_SP,
  P3CFG__KNOB_ZERO,
  P3CFG__KNOB_STAGE_LAYERS,
  P3CFG__KNOB_OVERLAP,
  P3CFG__KNOB_GPUS,
  P3CFG__KNOB_GLOBAL_BATCH,
  P3CFG__KNOB_EXCLUDE,
  P3CFG__KNOB_MEM_MARGIN,
  P3CFG__KNOB_TOKENS,
  P3CFG__KNOB_TOP,
  P3CFG__KNOB_THREADS,
  P3CFG__KNOB_MAX_MBS,
  P3CFG__KNOB_PLACE,
  P3CFG__KNOB_PLACE_TOP,
  P3CFG__KNOB_SEED,
  P3CFG__KNOB_PLACE_BUDGET,
  P3CFG__KNOB_FRAMEWORK,
  P3CFG__KNOB_DP_SHARD,
  P3CFG__KNOB_COMPILE,
  P3CFG__KNOB_RECOMPUTE_MODULES,
  P3CFG__KNOB_CPU_OFFLOAD,
  P3CFG__KNOB_SPLIT_ACCOUNTS,
  P3CFG__KNOB_COUNT
} p3cfg__knob_id;

const p3cfg_knob *p3cfg__knob(p3cfg__knob_id id);

/* The overlap words, the one list (the `overlap` knob's choices): word i is the flag
 * 1u << i of P3CFG_OVERLAP_* ("grad", "param", "tp"). */
#define P3CFG__OVERLAP_WORDS 4
extern const char *const p3cfg__overlap_words[P3CFG__OVERLAP_WORDS];

/* The split-accounting words (the `split_accounts` knob's choices): word i is the flag
 * 1u << i of P3CFG_SPLIT_ACCOUNT_* ("embedding", "loss"). */
#define P3CFG__SPLIT_ACCOUNT_WORDS 2
extern const char *const p3cfg__split_account_words[P3CFG__SPLIT_ACCOUNT_WORDS];

/* `overlap` as "grad,param", or "none"; always NUL-terminated (cut at n - 1). */
void p3cfg__overlap_text(char *buf, size_t n, uint32_t overlap);

/* P3CFG_EINVALID with "NAME must be in [MIN, MAX], got V" when v is outside the knob's
 * bounds (0 passes too when `unset_ok`: the field's "not given"); P3CFG_OK otherwise. */
int p3cfg__knob_check(p3cfg__knob_id id, uint64_t v, int unset_ok);
/* The same for an int field where -1 means "searched". */
int p3cfg__knob_check_int(p3cfg__knob_id id, int v);

#endif
