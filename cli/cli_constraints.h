/*
 * cli_constraints.h — the constraint flags that `search` and `estimate` share (spec §5):
 * --dp --tp --pp --mbs --vpp --recompute --sp/--no-sp --zero --stage-layers --overlap
 * --gpus --global-batch. One table entry list, one parser, used by both commands.
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
  OPT_CONSTRAINT_LAST
};

/* Entries for a command's option table (no terminator). */
#define CLI_CONSTRAINT_OPTIONS                                                           \
  {"dp", 0, "N", "data-parallel degree", OPT_DP},                                        \
      {"tp", 0, "N", "tensor-parallel degree", OPT_TP},                                  \
      {"pp", 0, "N", "pipeline-parallel degree", OPT_PP},                                \
      {"mbs", 0, "N", "micro-batch size (sequences)", OPT_MBS},                          \
      {"vpp", 0, "N", "interleaved chunks per pipeline rank (1 = plain 1F1B)", OPT_VPP}, \
      {"recompute", 0, "MODE", "activation recomputation: none, selective or full",      \
       OPT_RECOMPUTE},                                                                   \
      {"sp", 0, NULL, "sequence parallelism on", OPT_SP},                                \
      {"no-sp", 0, NULL, "sequence parallelism off", OPT_NO_SP},                         \
      {"zero", 0, "0-3", "optimizer sharding: 0 plain DP, 1 distributed optimizer, 2 + "  \
                         "gradients, 3 + parameters",                                    \
       OPT_ZERO},                                                                        \
      {"stage-layers", 0, "N,N,...", "transformer layers per pipeline rank",             \
       OPT_STAGE_LAYERS},                                                                \
      {"overlap", 0, "none|LIST", "overlap communication: none, or a comma list of "     \
                                  "grad, param, tp",                                     \
       OPT_OVERLAP},                                                                     \
      {"gpus", 0, "N", "GPUs to use (default: all of the cluster)", OPT_GPUS},           \
      {"global-batch", 0, "N", "sequences per optimizer step (default: the model's)",    \
       OPT_GLOBAL_BATCH},                                                                \
      {"exclude", 0, "LIST", "GPUs out of use: hosts and host:gpu entries, comma-separated, " \
                             "or @FILE (one a line, # comments)",                        \
       OPT_EXCLUDE}

typedef struct cli_constraints {
  unsigned dp, tp, pp, mbs, vpp; /* 0 = not given */
  int recompute;                 /* -1 = not given */
  int sp;                        /* -1 = not given */
  int zero;                      /* -1 = not given */
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
