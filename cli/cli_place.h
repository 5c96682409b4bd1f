/*
 * cli_place.h — the placement flags that `search` and `estimate` share: --seed and
 * --place-budget (moves, or a time such as 500ms or 2s), plus --place (estimate) and
 * --no-place / --place-top (search).
 */
#ifndef P3CFG_CLI_PLACE_H
#define P3CFG_CLI_PLACE_H

#include <stdint.h>

#include "cli.h"

enum { OPT_PLACE = 200, OPT_NO_PLACE, OPT_PLACE_TOP, OPT_SEED, OPT_PLACE_BUDGET };

#define CLI_PLACE_COMMON_OPTIONS CLI_KNOB("seed", OPT_SEED), CLI_KNOB("place-budget", OPT_PLACE_BUDGET)

typedef struct cli_place {
  int place;          /* -1 = command default */
  uint32_t place_top; /* 0 = default */
  uint64_t seed;
  uint64_t moves;     /* 0 = default */
  double max_s;       /* 0 = none */
} cli_place;

void cli_place_init(cli_place *p);
/* 1 when `id` was a placement flag, 0 when not, -1 after a usage error. */
int cli_place_option(cli_place *p, const char *command, int id, const char *value);

#endif
