/*
 * recompute_modules.h — Megatron-Core's selective-recompute modules (p3cfg_plan.
 * recompute_modules, P3CFG_RECOMPUTE_MODULE_*): their words, in bit order, and the set a
 * plan recomputes.
 */
#ifndef P3CFG_RECOMPUTE_MODULES_H
#define P3CFG_RECOMPUTE_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

#define P3CFG__RECOMPUTE_MODULE_WORDS 7
/* Word i names the flag 1u << i ("core_attn", "moe_act", "layernorm", "mla_up_proj", "mlp",
 * "moe", "shared_experts"), Megatron-Core's names (transformer_config.py). */
extern const char *const p3cfg__recompute_module_words[P3CFG__RECOMPUTE_MODULE_WORDS];

/* The modules that plan p recomputes: 0 unless recompute is selective; then its
 * recompute_modules, 0 read as the default {core_attn}. */
static inline uint32_t p3cfg__plan_recompute_modules(const p3cfg_plan *p)
{
  if (p->recompute != P3CFG_RECOMPUTE_SELECTIVE)
    return 0;
  return p->recompute_modules ? p->recompute_modules : P3CFG_RECOMPUTE_MODULE_CORE_ATTN;
}

/* `bits` as words joined by `sep` ("moe_act,layernorm"); "" for 0. NUL-terminated. */
void p3cfg__recompute_modules_text(char *buf, size_t n, uint32_t bits, const char *sep);

/* The flag of module word w (w[0..len)), or 0 when it is none of them. */
uint32_t p3cfg__recompute_module_flag(const char *w, size_t len);

#endif
