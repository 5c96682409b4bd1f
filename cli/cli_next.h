/*
 * cli_next.h — what to do next with the winner of a search: the `p3cfg estimate`
 * command that reproduces plan #1 with its flags, the same with `--format json -o
 * plan.json`, and the `p3cfg export` that turns that file into launcher arguments.
 */
#ifndef P3CFG_CLI_NEXT_H
#define P3CFG_CLI_NEXT_H

#include "cli_budget.h"
#include "cli_plan_args.h"

/* The text (a blank line, then the three commands, one a line), malloc'd and
 * NUL-terminated, or NULL when out of memory or when the result has no plan.
 * `positional` holds MODEL and CLUSTER as given. */
char *cli_next_steps(const p3cfg_result *r, const p3cfg_model *model,
                     const p3cfg_cluster *cluster, const char *const *positional,
                     const cli_plan_args *a, const cli_budget *b);

#endif
