/*
 * cli_constraints.h — the constraint flags that `search` and `estimate` share (spec §5):
 * --dp --tp --pp --cp --ep --etp --mbs --vpp --recompute --sp/--no-sp --zero --stage-layers --overlap
 * --gpus --global-batch --framework --dp-shard --compile/--no-compile --recompute-modules
 * --cpu-offload-layers --split-accounts. One table entry list, one parser, used by both commands.
 */
#ifndef P3CFG_CLI_CONSTRAINTS_H
#define P3CFG_CLI_CONSTRAINTS_H

#include <stdint.h>

#include "cli.h"

enum {
  OPT_DP = 100,
  OPT_TP,
  OPT_PP,
  OPT_MBS,
  OPT_VPP,
  OPT_RECOMPUTE,
  OPT_SP,
  OPT_NO_SP,
  OPT_ZERO,
  OPT_STAGE_LAYERS,
  OPT_OVERLAP,
  OPT_GPUS,
  OPT_GLOBAL_BATCH,
  OPT_EXCLUDE,
  OPT_CP,
  OPT_EP,
  OPT_ETP,
  OPT_FRAMEWORK,
  OPT_DP_SHARD,
  OPT_COMPILE,
  OPT_NO_COMPILE,
  OPT_RECOMPUTE_MODULES,
  OPT_CPU_OFFLOAD,
  OPT_SPLIT_ACCOUNTS,
  OPT_CONSTRAINT_LAST
};

/* Entries for a command's option table (no terminator): knobs of the library's table,
 * which gives their placeholders, --help lines and bounds. */
#define CLI_CONSTRAINT_OPTIONS                                                           \
  CLI_KNOB("dp", OPT_DP), CLI_KNOB("tp", OPT_TP), CLI_KNOB("pp", OPT_PP),                \
      CLI_KNOB("cp", OPT_CP), CLI_KNOB("ep", OPT_EP), CLI_KNOB("etp", OPT_ETP),          \
      CLI_KNOB("mbs", OPT_MBS), CLI_KNOB("vpp", OPT_VPP),                                \
      CLI_KNOB("recompute", OPT_RECOMPUTE), CLI_KNOB("sp", OPT_SP),                      \
      CLI_KNOB("no-sp", OPT_NO_SP), CLI_KNOB("zero", OPT_ZERO),                          \
      CLI_KNOB("stage-layers", OPT_STAGE_LAYERS), CLI_KNOB("overlap", OPT_OVERLAP),      \
      CLI_KNOB("gpus", OPT_GPUS), CLI_KNOB("global-batch", OPT_GLOBAL_BATCH),            \
      CLI_KNOB("exclude", OPT_EXCLUDE), CLI_KNOB("framework", OPT_FRAMEWORK),            \
      CLI_KNOB("dp-shard", OPT_DP_SHARD), CLI_KNOB("compile", OPT_COMPILE),              \
      CLI_KNOB("no-compile", OPT_NO_COMPILE),                                           \
      CLI_KNOB("recompute-modules", OPT_RECOMPUTE_MODULES),                             \
      CLI_KNOB("cpu-offload-layers", OPT_CPU_OFFLOAD),                                  \
      CLI_KNOB("split-accounts", OPT_SPLIT_ACCOUNTS)

/* `--framework all` (search only): every framework, side by side. */
#define CLI_FRAMEWORK_ALL (-2)

typedef struct cli_constraints {
  unsigned dp, tp, pp, mbs, vpp; /* 0 = not given */
  unsigned cp, ep, etp;          /* 0 = not given */
  int recompute;                 /* -1 = not given */
  int sp;                        /* -1 = not given */
  int zero;                      /* -1 = not given */
  int framework;                 /* a p3cfg_framework; CLI_FRAMEWORK_ALL for search's "all" */
  unsigned dp_shard;             /* 0 = not given */
  int compile;                   /* -1 = not given */
  unsigned recompute_modules;    /* P3CFG_RECOMPUTE_MODULE_* flags; 0 = not given */
  unsigned cpu_offload_layers;   /* 0 = none */
  unsigned split_accounts;       /* P3CFG_SPLIT_ACCOUNT_* flags; 0 = none */
  unsigned overlap;
  uint64_t gpus, global_batch;   /* 0 = not given */
  const char *exclude;           /* --exclude LIST, NULL = not given */
  uint32_t n_stage_layers;
  uint32_t stage_layers[P3CFG_MAX_PP];
} cli_constraints;

void cli_constraints_init(cli_constraints *c);
/* Handle option `id` with `value`: 1 when it was a constraint, 0 when not one, -1 after
 * printing a usage error. */
int cli_constraints_option(cli_constraints *c, const char *command, int id, const char *value);

/* The checks that need the cluster: --gpus at most its GPUs. Prints a usage error and
 * returns EXIT_USAGE, or returns EXIT_OK. */
int cli_constraints_check(const cli_constraints *c, const char *command,
                          const p3cfg_cluster *cluster);

#endif
