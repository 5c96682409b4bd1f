/*
 * cmd_replan.c — `p3cfg replan PLAN.json --exclude LIST --model M --cluster C`: the plan
 * to run when GPUs fail (p3cfg_replan): the old plan's degrees kept where they still
 * fit, with the fewest ranks moved, else the best new plan of a search on the GPUs left;
 * the cost of the change either way. Table, or the plan object of spec §6 with a
 * "replan" object. Public API only.
 */
#include <stdio.h>
#include <string.h>

#include "cli_plan_args.h"

enum {
  OPT_EXCLUDE_ = 1,
  OPT_MODEL,
  OPT_CLUSTER,
  OPT_PLAN,
  OPT_THREADS_,
  OPT_NO_PLACE_,
  OPT_SEED_
};

static const cli_option options[] = {
    {"exclude", 0, "LIST", "the failed GPUs: hosts and host:gpu entries, comma-separated, "
                           "or @FILE (one a line, # comments); required", OPT_EXCLUDE_},
    {"model", 0, "FILE", "the model file the plan was made for (required)", OPT_MODEL},
    {"cluster", 0, "FILE", "the cluster file it was placed on (required: the plan file "
                           "records its shape, not its GPUs and links)", OPT_CLUSTER},
    {"plan", 0, "N", "which plan of the file, from 1 (default 1: the best)", OPT_PLAN},
    {"threads", 0, "N", "worker threads of the fallback search (default 1)", OPT_THREADS_},
    {"no-place", 0, NULL, "keep the default placement of a fallback plan", OPT_NO_PLACE_},
    {"seed", 0, "N", "placement seed of a fallback plan (default 1)", OPT_SEED_},
    CLI_OUTPUT_OPTIONS,
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "PLAN.json --exclude LIST --model MODEL --cluster CLUSTER "
                               "[--plan N] [--format table|json] [-o FILE]";
static const char summary[] =
    "Re-plan when nodes or GPUs fail. Keeps the plan's degrees (tp, pp, micro-batch,\n"
    "interleaving, split, recompute, sp, zero) where they still fit on the GPUs left --\n"
    "dp may shrink, the global batch stays -- and moves as few ranks as possible;\n"
    "otherwise returns the best plan of a search on the GPUs left. Reports the ranks\n"
    "moved, the idle GPUs and the iteration time before and after.";

int cmd_replan(int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  cli_parser p;
  cli_parser_init(&p, "replan", options, argc, argv, positional);
  cli_output out = {0};
  const char *exclude = NULL, *model_path = NULL, *cluster_path = NULL;
  unsigned plan_no = 1, threads = 1, seed = 1;
  int place = 1;
  int id;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "replan", synopsis, summary, options);
      return EXIT_OK;
    }
    if (id < 0)
      return EXIT_USAGE;
    int handled = cli_output_option(&out, "replan", id, p.value);
    if (handled < 0)
      return EXIT_USAGE;
    if (handled)
      continue;
    switch (id) {
    case OPT_EXCLUDE_:
      exclude = p.value;
      break;
    case OPT_MODEL:
      model_path = p.value;
      break;
    case OPT_CLUSTER:
      cluster_path = p.value;
      break;
    case OPT_PLAN:
      if (cli_parse_u32("replan", "plan", p.value, 1, 1000000, &plan_no))
        return EXIT_USAGE;
      break;
    case OPT_THREADS_:
      if (cli_parse_knob_u32("replan", "threads", p.value, &threads))
        return EXIT_USAGE;
      break;
    case OPT_NO_PLACE_:
      place = 0;
      break;
    case OPT_SEED_:
      if (cli_parse_u32("replan", "seed", p.value, 0, 0xFFFFFFFFu, &seed))
        return EXIT_USAGE;
      break;
    }
  }
  if (p.n_positional != 1)
    return cli_usage_error("replan", "expected PLAN.json, got %d argument%s", p.n_positional,
                           p.n_positional == 1 ? "" : "s");
  if (!exclude || exclude[0] == '\0')
    return cli_usage_error("replan", "--exclude LIST is required: which hosts or GPUs failed");
  if (!model_path || !cluster_path)
    return cli_usage_error("replan", "--model and --cluster are required (the plan file "
                                     "records the cluster's shape, not its GPUs and links)");

  int exit_code = EXIT_BAD_INPUT;
  p3cfg_plan_file *f = NULL;
  p3cfg_model *model = NULL;
  p3cfg_cluster *cluster = NULL;
  p3cfg_result *result = NULL;
  p3cfg_buffer buf = {0};
  p3cfg_gpu_list excluded = {0};
  if (p3cfg_plan_file_load(&f, positional[0], NULL) ||
      p3cfg_model_load(&model, model_path, NULL) ||
      p3cfg_cluster_load(&cluster, cluster_path, NULL)) {
    cli_print_error();
    goto done;
  }
  if (plan_no > p3cfg_plan_file_count(f)) {
    fprintf(stderr, "p3cfg: %s has %zu plan%s, not %u\n", positional[0],
            p3cfg_plan_file_count(f), p3cfg_plan_file_count(f) == 1 ? "" : "s", plan_no);
    goto done;
  }
  const size_t idx = plan_no - 1;
  /* The plan must have been placed on this cluster: same shape, same node names. */
  const p3cfg_plan_cluster *pc = p3cfg_plan_file_cluster(f, idx);
  p3cfg_cluster_info ci;
  p3cfg_cluster_get_info(&ci, cluster);
  if (pc->nodes != ci.nodes || pc->gpus_per_node != ci.gpus_per_node) {
    fprintf(stderr, "p3cfg: %s: the plan was placed on %u nodes of %u GPUs, but %s has %u of %u\n",
            positional[0], pc->nodes, pc->gpus_per_node, cluster_path, ci.nodes,
            ci.gpus_per_node);
    goto done;
  }
  for (uint32_t k = 0; k < ci.nodes; k++)
    if (strcmp(pc->node_names[k], p3cfg_cluster_node_name(cluster, k)) != 0) {
      fprintf(stderr, "p3cfg: %s: node %u is '%s' in the plan but '%s' in %s\n", positional[0],
              k, pc->node_names[k], p3cfg_cluster_node_name(cluster, k), cluster_path);
      goto done;
    }
  /* ... and for this model, key by key, and this GPU. */
  if (p3cfg_plan_file_check_made_for(f, idx, model, cluster) != P3CFG_OK) {
    fprintf(stderr, "p3cfg: %s: %s\n", positional[0], p3cfg_error_last()->message);
    goto done;
  }
  if ((exit_code = cli_load_exclude(&excluded, cluster, exclude)) != 0)
    goto done;
  exit_code = EXIT_BAD_INPUT;
  size_t n_ranks = 0;
  const p3cfg_rank_place *ranks = p3cfg_plan_file_placement(f, idx, &n_ranks);
  p3cfg_replan_options ro;
  p3cfg_replan_options_init(&ro);
  ro.exclude_gpus = excluded.gpus;
  ro.n_exclude_gpus = excluded.count;
  ro.threads = threads;
  ro.place = place;
  ro.seed = seed;
  int rc = p3cfg_replan(&result, model, cluster, p3cfg_plan_file_plan(f, idx), ranks, n_ranks,
                        &ro);
  if (rc && rc != P3CFG_EINFEASIBLE) {
    cli_print_error();
    exit_code = cli_exit_code(rc);
    goto done;
  }
  char msg[1024] = "";
  if (rc)
    snprintf(msg, sizeof msg, "%s", p3cfg_error_last()->message);
  int prc = out.json ? p3cfg_result_plan_json(&buf, result, 0, model, cluster)
                     : p3cfg_result_plan_table(&buf, result, 0, model, cluster);
  if (prc) {
    cli_print_error();
    goto done;
  }
  exit_code = cli_write_output(out.path, out.force, buf.data, buf.len);
  if (rc && exit_code == EXIT_OK) {
    fprintf(stderr, "p3cfg: %s\n", msg);
    exit_code = EXIT_NO_FIT;
  }
done:
  p3cfg_gpu_list_dispose(&excluded);
  p3cfg_buffer_dispose(&buf);
  p3cfg_result_free(result);
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
  p3cfg_plan_file_free(f);
  return exit_code;
}
