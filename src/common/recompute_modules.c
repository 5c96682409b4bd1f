/*
 * recompute_modules.c — the words of Megatron-Core's selective-recompute modules
 * (megatron/core/transformer/transformer_config.py, recompute_modules) and their text.
 */
#include "recompute_modules.h"

#include <stdio.h>
#include <string.h>

const char *const p3cfg__recompute_module_words[P3CFG__RECOMPUTE_MODULE_WORDS] = {
    "core_attn", "moe_act", "layernorm", "mla_up_proj", "mlp", "moe", "shared_experts"};
_Static_assert(P3CFG_RECOMPUTE_MODULE_CORE_ATTN == 1u << 0 &&
                   P3CFG_RECOMPUTE_MODULE_MOE_ACT == 1u << 1 &&
                   P3CFG_RECOMPUTE_MODULE_LAYERNORM == 1u << 2 &&
                   P3CFG_RECOMPUTE_MODULE_MLA_UP_PROJ == 1u << 3 &&
                   P3CFG_RECOMPUTE_MODULE_MLP == 1u << 4 && P3CFG_RECOMPUTE_MODULE_MOE == 1u << 5 &&
                   P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS == 1u << 6 &&
                   P3CFG_RECOMPUTE_MODULE_ALL == (1u << P3CFG__RECOMPUTE_MODULE_WORDS) - 1u,
               "p3cfg__recompute_module_words[i] is the flag 1 << i");

void p3cfg__recompute_modules_text(char *buf, size_t n, uint32_t bits, const char *sep)
{
  if (n == 0)
    return;
  buf[0] = '\0';
  size_t len = 0;
  for (uint32_t i = 0; i < P3CFG__RECOMPUTE_MODULE_WORDS && len + 1 < n; i++)
    if (bits & (1u << i)) {
      snprintf(buf + len, n - len, "%s%s", len ? sep : "", p3cfg__recompute_module_words[i]);
      len = strlen(buf);
    }
}

uint32_t p3cfg__recompute_module_flag(const char *w, size_t len)
{
  for (uint32_t i = 0; i < P3CFG__RECOMPUTE_MODULE_WORDS; i++)
    if (strlen(p3cfg__recompute_module_words[i]) == len &&
        strncmp(w, p3cfg__recompute_module_words[i], len) == 0)
      return 1u << i;
  return 0;
}
