/*
 * cmd_estimate.c — `p3cfg estimate MODEL CLUSTER --tp T --pp P --mbs B [more]`: one fully
 * given plan, its memory per pipeline stage and (when the time model answers) its time,
 * as a table or the JSON plan object of spec §6. Unset knobs take Megatron-LM's defaults
 * (tp, pp, micro-batch and vpp 1, no recompute, no sp, zero 0, dp = GPUs/(tp·pp)). An
 * invalid plan is `p3cfg: <rule>` and exit 1; a plan that does not fit is printed in full,
 * then said so on stderr, and exits 3. Public API only.
 */
#include <stdio.h>
#include <string.h>

#include "cli_budget.h"
#include "cli_plan_args.h"

enum { OPT_NO_TIME = 1 };

static const cli_option options[] = {
    CLI_CONSTRAINT_OPTIONS,
    CLI_BUDGET_OPTIONS,
    CLI_OUTPUT_OPTIONS,
    {"no-time", 0, NULL, "memory only: skip the time model", OPT_NO_TIME},
    CLI_KNOB("place", OPT_PLACE),
    CLI_PLACE_COMMON_OPTIONS,
    CLI_SVG_OPTIONS,
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "MODEL CLUSTER --tp T --pp P --mbs B [more] "
                               "[--format table|json] [-o FILE]";
static const char summary[] =
    "Memory per pipeline stage (weights, gradients, optimizer state, activations,\n"
    "transients, reserved overheads) and the time breakdown of one plan. Unset options\n"
    "take Megatron-LM's defaults: tp, pp, cp, ep, mbs and vpp 1, etp = tp, recompute\n"
    "none, no sp, zero 0, dp = GPUs / (tp*cp*pp) with GPUs = --gpus or the whole\n"
    "cluster. Exit 3 when the plan does not fit in GPU memory (the plan is printed all\n"
    "the same). --framework (default megatron) picks the plan space, memory rules and\n"
    "efficiency of Megatron-LM, torchtitan or DeepSpeed.";

/* Fill `plan` from the flags; prints a usage error and returns -1 when they conflict. */
static int plan_from_flags(p3cfg_plan *plan, const cli_constraints *c)
{
  if (c->framework == CLI_FRAMEWORK_ALL) {
    cli_usage_error("estimate", "--framework all compares frameworks in `search`; estimate "
                                "takes one: megatron, torchtitan or deepspeed");
    return -1;
  }
  p3cfg_plan_init_framework(plan, (p3cfg_framework)c->framework);
  if (c->compile >= 0)
    plan->compile = (uint32_t)c->compile;
  plan->dp_shard = c->dp_shard; /* 0: all of dp */
  if (c->tp)
    plan->tp = c->tp;
  if (c->pp)
    plan->pp = c->pp;
  if (c->cp)
    plan->cp = c->cp;
  if (c->ep)
    plan->ep = c->ep;
  plan->etp = c->etp; /* 0: tp */
  if (c->mbs)
    plan->micro_batch = c->mbs;
  if (c->vpp)
    plan->virtual_stages = c->vpp;
  if (c->recompute >= 0)
    plan->recompute = (p3cfg_recompute)c->recompute;
  plan->recompute_modules = c->recompute_modules; /* 0: Megatron's default */
  plan->cpu_offload_layers = c->cpu_offload_layers;
  plan->split_accounts = c->split_accounts;
  if (c->sp >= 0)
    plan->sequence_parallel = c->sp;
  if (c->zero >= 0)
    plan->zero_stage = (uint32_t)c->zero;
  plan->overlap = c->overlap;
  plan->global_batch = c->global_batch;
  plan->dp = c->dp;
  if (c->gpus) {
    const uint64_t mp = (uint64_t)plan->tp * plan->cp * plan->pp;
    const char *mp_name = plan->cp > 1 ? "tp*cp*pp" : "tp*pp";
    if (c->gpus % mp) {
      cli_usage_error("estimate", "--gpus %llu is not a multiple of %s = %llu",
                      (unsigned long long)c->gpus, mp_name, (unsigned long long)mp);
      return -1;
    }
    if (c->dp && c->dp != c->gpus / mp) {
      cli_usage_error("estimate", "--dp %u disagrees with --gpus %llu / (%s = %llu)", c->dp,
                      (unsigned long long)c->gpus, mp_name, (unsigned long long)mp);
      return -1;
    }
    if (c->gpus / mp > UINT32_MAX) {
      cli_usage_error("estimate", "--gpus %llu gives more than 2^32 data-parallel ranks",
                      (unsigned long long)c->gpus);
      return -1;
    }
    plan->dp = (uint32_t)(c->gpus / mp);
  }
  plan->n_stage_layers = c->n_stage_layers;
  memcpy(plan->stage_layers, c->stage_layers, sizeof plan->stage_layers);
  return 0;
}

/* Say on stderr which stage is fullest and by how much the plan misses. */
static void explain_no_fit(const p3cfg_memory *mem)
{
  const double gib = 1024.0 * 1024.0 * 1024.0;
  uint32_t worst = 0;
  uint64_t worst_total = 0;
  for (uint32_t i = 0; i < mem->n_stages; i++) {
    const p3cfg_stage_memory *s = &mem->stages[i];
    uint64_t total = s->peak_bytes + s->reserved_bytes;
    if (total < s->peak_bytes)
      total = UINT64_MAX;
    if (i == 0 || total > worst_total) {
      worst = i;
      worst_total = total;
    }
  }
  const p3cfg_stage_memory *s = &mem->stages[worst];
  char margin[80] = "";
  if (mem->margin_bytes)
    snprintf(margin, sizeof margin, " plus the margin of %.2f GiB",
             (double)mem->margin_bytes / gib);
  fprintf(stderr,
          "p3cfg: the plan does not fit: stage %u needs %.2f GiB per GPU (peak %.2f + "
          "reserved %.2f)%s but the GPU has %.2f GiB\n",
          s->stage, (double)worst_total / gib, (double)s->peak_bytes / gib,
          (double)s->reserved_bytes / gib, margin, (double)mem->capacity_bytes / gib);
}

int cmd_estimate(int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  cli_parser p;
  cli_parser_init(&p, "estimate", options, argc, argv, positional);
  cli_plan_args a;
  cli_plan_args_init(&a);
  cli_budget bud;
  cli_budget_init(&bud);
  int with_time = 1;
  int id;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "estimate", synopsis, summary, options);
      return EXIT_OK;
    }
    if (id < 0)
      return EXIT_USAGE;
    int handled = cli_plan_args_option(&a, "estimate", id, p.value);
    if (handled == 0)
      handled = cli_budget_option(&bud, "estimate", id, p.value);
    if (handled < 0)
      return EXIT_USAGE;
    if (handled)
      continue;
    switch (id) {
    case OPT_NO_TIME:
      with_time = 0;
      break;
    }
  }
  if (p.n_positional != 2)
    return cli_usage_error("estimate", "expected MODEL and CLUSTER, got %d argument%s",
                           p.n_positional, p.n_positional == 1 ? "" : "s");
  p3cfg_plan plan;
  if (plan_from_flags(&plan, &a.cons))
    return EXIT_USAGE;

  int exit_code = EXIT_BAD_INPUT;
  p3cfg_model *model = NULL;
  p3cfg_cluster *cluster = NULL;
  p3cfg_result *result = NULL;
  p3cfg_buffer buf = {0};
  p3cfg_gpu_list excluded = {0};
  if (cli_inputs_swapped("estimate", positional)) {
    exit_code = EXIT_USAGE;
    goto done;
  }
  if (cli_load_inputs(&model, &cluster, positional))
    goto done;
  if ((exit_code = cli_constraints_check(&a.cons, "estimate", cluster)) != EXIT_OK)
    goto done;
  if (a.cons.exclude && (exit_code = cli_load_exclude(&excluded, cluster, a.cons.exclude)) != 0)
    goto done;
  exit_code = EXIT_BAD_INPUT;
  if (cli_budget_check(&bud, "estimate", cluster)) {
    exit_code = EXIT_USAGE;
    goto done;
  }
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  eo.with_time = with_time;
  eo.place = a.place.place > 0;
  eo.seed = a.place.seed;
  eo.place_moves = a.place.moves;
  eo.place_max_s = a.place.max_s;
  eo.exclude_gpus = excluded.gpus;
  eo.n_exclude_gpus = excluded.count;
  eo.mem_margin_bytes = bud.margin_bytes;
  eo.mem_margin_fraction = bud.margin_fraction;
  eo.train_tokens = bud.tokens;
  if (eo.place && !with_time) {
    exit_code = cli_usage_error("estimate", "--place needs the time model: drop --no-time");
    goto done;
  }
  int rc = p3cfg_estimate(&result, model, cluster, &plan, &eo);
  if (rc) {
    cli_print_error();
    exit_code = rc == P3CFG_EPLAN ? EXIT_BAD_INPUT : cli_exit_code(rc);
    goto done;
  }
  rc = a.out.json ? p3cfg_result_plan_json(&buf, result, 0, model, cluster)
            : p3cfg_result_plan_table(&buf, result, 0, model, cluster);
  if (rc) {
    cli_print_error();
    goto done;
  }
  exit_code = cli_write_report(&a, &buf, result, model, cluster);
  if (exit_code != EXIT_OK)
    goto done;
  const p3cfg_memory *mem = p3cfg_result_memory(result, 0);
  if (!mem->fits) {
    explain_no_fit(mem);
    exit_code = EXIT_NO_FIT;
  }
done:
  p3cfg_gpu_list_dispose(&excluded);
  p3cfg_buffer_dispose(&buf);
  p3cfg_result_free(result);
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
  return exit_code;
}
