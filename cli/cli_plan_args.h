/*
 * cli_plan_args.h — what `search` and `estimate` share around a plan: the constraint
 * flags, the placement flags, the SVG pictures and the output flags (one dispatcher for
 * all four), loading MODEL and CLUSTER, and writing the report and its pictures.
 */
#ifndef P3CFG_CLI_PLAN_ARGS_H
#define P3CFG_CLI_PLAN_ARGS_H

#include "cli.h"
#include "cli_constraints.h"
#include "cli_place.h"
#include "cli_svg.h"

typedef struct cli_plan_args {
  cli_constraints cons;
  cli_place place;
  cli_svg svg;
  cli_output out;
} cli_plan_args;

void cli_plan_args_init(cli_plan_args *a);

/* Handle option `id` of `command`: 1 when it was one of the shared flags, 0 when not,
 * -1 after printing a usage error. */
int cli_plan_args_option(cli_plan_args *a, const char *command, int id, const char *value);

/* Load positional[0] as the model and positional[1] as the cluster; prints the error
 * and returns -1 on failure (what was loaded is left for the caller to free). */
int cli_load_inputs(p3cfg_model **model, p3cfg_cluster **cluster, const char *const *positional);

/* The GPUs `--exclude ARG` names on `cluster`: ARG is a list ("node3,node5:2"), or
 * "@FILE" or a path (anything with a '/') to a file of them. Prints the positioned error
 * and returns an exit code (1 for a bad entry or file, or when every GPU is excluded),
 * 0 on success; *out is then the caller's to dispose. */
int cli_load_exclude(p3cfg_gpu_list *out, const p3cfg_cluster *cluster, const char *arg);

/* Write the report `buf` where -o says, then the SVG pictures asked for. Returns the
 * exit code. */
int cli_write_report(const cli_plan_args *a, const p3cfg_buffer *buf, const p3cfg_result *r,
                     const p3cfg_model *model, const p3cfg_cluster *cluster);

#endif
