/*
 * cli_search_all.h — `search --framework all`: the same search once per framework, the
 * best plan of each side by side ("which stack should we use on this cluster").
 */
#ifndef P3CFG_CLI_SEARCH_ALL_H
#define P3CFG_CLI_SEARCH_ALL_H

#include "cli_plan_args.h"

/* Run `so` for each framework and write the comparison where a->out says (table, or JSON
 * {"frameworks": [{"framework", "result" | "error"}...]}). Returns the exit code: 0 when
 * some framework has a plan that fits, 3 when none has, 1 on an error. */
int cli_search_all(p3cfg_search_options *so, const p3cfg_model *model,
                   const p3cfg_cluster *cluster, const cli_plan_args *a, unsigned json_flags);

#endif
