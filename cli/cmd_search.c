/*
 * cmd_search.c — `p3cfg search MODEL CLUSTER [constraints]`: every valid plan scored,
 * the top K printed best first (table or JSON, spec §5–6). Exit 3 with the closest miss
 * explained when no plan fits.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cli_budget.h"
#include "cli_next.h"
#include "cli_plan_args.h"
#include "cli_progress.h"
#include "cli_search_all.h"

enum {
  OPT_TOP = 1,
  OPT_THREADS,
  OPT_EXPLAIN,
  OPT_MAX_MBS,
  OPT_TIMINGS
};

static const cli_option options[] = {
    CLI_CONSTRAINT_OPTIONS,
    CLI_BUDGET_OPTIONS,
    CLI_KNOB("top", OPT_TOP),
    CLI_OUTPUT_OPTIONS,
    CLI_KNOB("threads", OPT_THREADS),
    {"explain", 0, NULL,
     "say why the best plan wins, how it differs from the plans within the model's error, "
     "and what each rule rejected",
     OPT_EXPLAIN},
    CLI_KNOB("max-mbs", OPT_MAX_MBS),
    {"timings", 0, NULL, "fill in the JSON's elapsed_s (wall time: differs run to run; "
                         "null without this flag)", OPT_TIMINGS},
    CLI_KNOB("no-place", OPT_NO_PLACE),
    CLI_KNOB("place-top", OPT_PLACE_TOP),
    CLI_PLACE_COMMON_OPTIONS,
    CLI_SVG_OPTIONS,
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "MODEL CLUSTER [constraints] [--top K] [--format table|json] "
                               "[-o FILE]";
static const char summary[] =
    "Enumerate every valid plan (dp, tp, pp, micro-batch, interleaving, recomputation,\n"
    "sequence parallelism, ZeRO stage and the split of layers over stages), drop those\n"
    "that do not fit in GPU memory, score the rest with the time model, and print the\n"
    "best first. Constraints fix a dimension; unset ones are searched.";

int cmd_search(int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  cli_parser p;
  cli_parser_init(&p, "search", options, argc, argv, positional);
  cli_plan_args a;
  cli_plan_args_init(&a);
  cli_budget bud;
  cli_budget_init(&bud);
  unsigned top = 10, threads = 1, max_mbs = 16;
  int explain = 0;
  unsigned json_flags = 0;
  int id;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "search", synopsis, summary, options);
      return EXIT_OK;
    }
    if (id < 0)
      return EXIT_USAGE;
    int handled = cli_plan_args_option(&a, "search", id, p.value);
    if (handled == 0)
      handled = cli_budget_option(&bud, "search", id, p.value);
    if (handled < 0)
      return EXIT_USAGE;
    if (handled)
      continue;
    switch (id) {
    case OPT_TOP:
      if (cli_parse_knob_u32("search", "top", p.value, &top))
        return EXIT_USAGE;
      break;
    case OPT_THREADS:
      if (cli_parse_knob_u32("search", "threads", p.value, &threads))
        return EXIT_USAGE;
      break;
    case OPT_MAX_MBS:
      if (cli_parse_knob_u32("search", "max-mbs", p.value, &max_mbs))
        return EXIT_USAGE;
      break;
    case OPT_EXPLAIN:
      explain = 1;
      break;
    case OPT_TIMINGS:
      json_flags |= P3CFG_JSON_TIMINGS;
      break;
    }
  }
  if (p.n_positional != 2)
    return cli_usage_error("search", "expected MODEL and CLUSTER, got %d argument%s",
                           p.n_positional, p.n_positional == 1 ? "" : "s");

  int exit_code = EXIT_BAD_INPUT;
  p3cfg_model *model = NULL;
  p3cfg_cluster *cluster = NULL;
  p3cfg_result *result = NULL;
  p3cfg_buffer buf = {0};
  p3cfg_gpu_list excluded = {0};
  if (cli_inputs_swapped("search", positional)) {
    exit_code = EXIT_USAGE;
    goto done;
  }
  if (cli_load_inputs(&model, &cluster, positional))
    goto done;
  if ((exit_code = cli_constraints_check(&a.cons, "search", cluster)) != EXIT_OK)
    goto done;
  if (a.cons.exclude && (exit_code = cli_load_exclude(&excluded, cluster, a.cons.exclude)) != 0)
    goto done;
  exit_code = EXIT_BAD_INPUT;
  if (cli_budget_check(&bud, "search", cluster)) {
    exit_code = EXIT_USAGE;
    goto done;
  }
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = top;
  so.threads = threads;
  so.max_micro_batch = max_mbs;
  so.gpus = a.cons.gpus;
  so.global_batch = a.cons.global_batch;
  so.dp = a.cons.dp;
  so.tp = a.cons.tp;
  so.pp = a.cons.pp;
  so.cp = a.cons.cp;
  so.ep = a.cons.ep;
  so.etp = a.cons.etp;
  so.micro_batch = a.cons.mbs;
  so.virtual_stages = a.cons.vpp;
  so.recompute = a.cons.recompute;
  so.sequence_parallel = a.cons.sp;
  so.zero_stage = a.cons.zero;
  so.overlap = a.cons.overlap;
  so.dp_shard = a.cons.dp_shard;
  so.compile = a.cons.compile;
  so.recompute_modules = a.cons.recompute_modules;
  so.cpu_offload_layers = a.cons.cpu_offload_layers;
  so.split_accounts = a.cons.split_accounts;
  so.n_stage_layers = a.cons.n_stage_layers;
  so.stage_layers = a.cons.n_stage_layers ? a.cons.stage_layers : NULL;
  so.place = a.place.place != 0;
  so.place_top = a.place.place_top;
  so.seed = a.place.seed;
  so.place_moves = a.place.moves;
  so.place_max_s = a.place.max_s;
  so.exclude_gpus = excluded.gpus;
  so.n_exclude_gpus = excluded.count;
  so.mem_margin_bytes = bud.margin_bytes;
  so.mem_margin_fraction = bud.margin_fraction;
  so.train_tokens = bud.tokens;
  if (a.cons.framework == CLI_FRAMEWORK_ALL) {
    exit_code = cli_search_all(&so, model, cluster, &a, json_flags);
    goto done;
  }
  so.framework = (uint32_t)a.cons.framework;
  cli_progress progress;
  so.progress = cli_progress_start(&progress, "searching", NULL, a.out.quiet);
  so.progress_payload = &progress;
  int rc = p3cfg_search(&result, model, cluster, &so);
  cli_progress_done(&progress);
  if (rc == P3CFG_EINFEASIBLE) {
    /* Print the closest miss in full, then say why it does not fit. */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", p3cfg_error_last()->message);
    int prc = a.out.json
                  ? p3cfg_result_search_json_flags(&buf, result, model, cluster, json_flags)
                  : p3cfg_result_search_table(&buf, result, model, cluster, explain);
    if (prc == 0)
      cli_write_output(a.out.path, a.out.force, buf.data, buf.len);
    if (cli_svg_any(&a.svg))
      cli_svg_write(&a.svg, result, model, cluster, a.out.force);
    fprintf(stderr, "p3cfg: %s\n", msg);
    exit_code = EXIT_NO_FIT;
    goto done;
  }
  if (rc) {
    exit_code = cli_library_error("search", rc);
    goto done;
  }
  rc = a.out.json ? p3cfg_result_search_json_flags(&buf, result, model, cluster, json_flags)
            : p3cfg_result_search_table(&buf, result, model, cluster, explain);
  if (rc) {
    cli_print_error();
    goto done;
  }
  /* Under the table, what to do next with the winner (not in JSON, not with -q). */
  char *next = a.out.json || a.out.quiet
                   ? NULL
                   : cli_next_steps(result, model, cluster, positional, &a, &bud);
  char *joined = next ? malloc(buf.len + strlen(next) + 1) : NULL;
  if (joined) {
    memcpy(joined, buf.data, buf.len);
    memcpy(joined + buf.len, next, strlen(next) + 1);
    const p3cfg_buffer both = {joined, buf.len + strlen(next)};
    exit_code = cli_write_report(&a, &both, result, model, cluster);
  } else {
    exit_code = cli_write_report(&a, &buf, result, model, cluster);
  }
  free(joined);
  free(next);
done:
  p3cfg_gpu_list_dispose(&excluded);
  p3cfg_buffer_dispose(&buf);
  p3cfg_result_free(result);
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
  return exit_code;
}
