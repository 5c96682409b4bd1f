/*
 * cli_budget.h — the flags of `search` and `estimate` about what a plan must leave and
 * what the run costs: --mem-margin (memory every GPU keeps free: 5% or 2GiB) and --tokens
 * (the training run's tokens: days and GPU-hours per plan).
 */
#ifndef P3CFG_CLI_BUDGET_H
#define P3CFG_CLI_BUDGET_H

#include <stdint.h>

#include "cli.h"

enum { OPT_MEM_MARGIN = 700, OPT_TOKENS };

#define CLI_BUDGET_OPTIONS CLI_KNOB("mem-margin", OPT_MEM_MARGIN), CLI_KNOB("tokens", OPT_TOKENS)

typedef struct cli_budget {
  uint64_t margin_bytes;  /* a size given as SIZE */
  double margin_fraction; /* a share given as P% (in [0, 1)) */
  uint64_t tokens;        /* 0 = no budget */
  const char *margin_text, *tokens_text; /* as given, NULL when not */
} cli_budget;

void cli_budget_init(cli_budget *b);
/* 1 when `id` was one of these flags, 0 when not, -1 after a usage error. */
int cli_budget_option(cli_budget *b, const char *command, int id, const char *value);
/* A size margin must be smaller than the GPU's memory: a usage error (EXIT_USAGE)
 * otherwise, else 0. */
int cli_budget_check(const cli_budget *b, const char *command, const p3cfg_cluster *cluster);

#endif
