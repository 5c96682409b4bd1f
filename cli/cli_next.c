/*
 * cli_next.c — the commands that follow a search (docs/cli.md, "search"): reproduce plan
 * #1 with `p3cfg estimate`, write it as a plan file, export it. Built from the plan the
 * result holds (public API only), so the command gives the same plan whatever the search
 * constraints were.
 */
#include "cli_next.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `arg` as a POSIX shell word: as is when it holds only safe characters, else in single
 * quotes. */
static void shell_word(FILE *f, const char *arg)
{
  int safe = arg[0] != '\0';
  for (const char *p = arg; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+-@%", *p))
      safe = 0;
  if (safe) {
    fputs(arg, f);
    return;
  }
  fputc('\'', f);
  for (const char *p = arg; *p; p++)
    if (*p == '\'')
      fputs("'\\''", f);
    else
      fputc(*p, f);
  fputc('\'', f);
}

/* The overlap flags as the --overlap words: the knob table's choices, word i being the
 * flag 1 << i (docs/api.md, "Knobs"). */
static void overlap_list(FILE *f, uint32_t overlap)
{
  const p3cfg_knob *k = p3cfg_knob_find("overlap");
  int first = 1;
  for (size_t i = 0; k && i < k->n_choices && i < 32; i++)
    if (overlap & (1u << i)) {
      fprintf(f, "%s%s", first ? "" : ",", k->choices[i]);
      first = 0;
    }
}

/* 1 when the plan's split is the balanced one `estimate` would choose by itself. */
static int balanced_split(const p3cfg_plan *p, const p3cfg_model *model,
                          const p3cfg_cluster *cluster)
{
  p3cfg_plan q = *p;
  q.n_stage_layers = 0;
  memset(q.stage_layers, 0, sizeof q.stage_layers);
  if (p3cfg_plan_resolve(&q, model, cluster) != 0 || q.n_stage_layers != p->n_stage_layers)
    return 0;
  return memcmp(q.stage_layers, p->stage_layers, p->n_stage_layers * sizeof p->stage_layers[0]) == 0;
}

/* " --FLAG w1,w2": the words of LIST knob FLAG whose bits (word i is 1 << i) are set. */
static void word_flags(FILE *f, const char *flag, uint32_t bits)
{
  const p3cfg_knob *k = p3cfg_knob_find(flag);
  fprintf(f, " --%s ", flag);
  for (size_t i = 0, n = 0; k && i < k->n_choices; i++)
    if (bits & (1u << i))
      fprintf(f, "%s%s", n++ ? "," : "", k->choices[i]);
}

/* The first launcher target that can express plan #1: Megatron-LM, else the others. */
static const char *export_target(const p3cfg_result *r, const p3cfg_model *model,
                                 const p3cfg_cluster *cluster)
{
  static const p3cfg_export_format order[] = {P3CFG_EXPORT_MEGATRON, P3CFG_EXPORT_TORCHTITAN,
                                              P3CFG_EXPORT_DEEPSPEED};
  p3cfg_plan_file *pf = NULL;
  const char *name = p3cfg_export_format_name(P3CFG_EXPORT_MEGATRON);
  if (p3cfg_plan_file_from_result(&pf, r, model, cluster) != 0)
    return name;
  /* The plan's own framework first: its export has the same name. */
  p3cfg_export_format own;
  const p3cfg_plan *p = p3cfg_result_plan(r, 0);
  const int has_own =
      p3cfg_export_format_parse(&own, p3cfg_framework_name((p3cfg_framework)p->framework)) == 0;
  for (size_t k = 0; k <= sizeof order / sizeof order[0]; k++) {
    if (k == 0 && !has_own)
      continue;
    p3cfg_buffer out = {0};
    const int rc = p3cfg_export(&out, pf, 0, k == 0 ? own : order[k - 1]);
    p3cfg_buffer_dispose(&out);
    if (rc == 0) {
      name = p3cfg_export_format_name(k == 0 ? own : order[k - 1]);
      break;
    }
  }
  p3cfg_plan_file_free(pf);
  return name;
}

/* "p3cfg estimate MODEL CLUSTER --tp ... " reproducing plan #1. */
static void estimate_command(FILE *f, const p3cfg_result *r, const p3cfg_model *model,
                             const p3cfg_cluster *cluster, const char *const *positional,
                             const cli_plan_args *a, const cli_budget *b)
{
  const p3cfg_plan *p = p3cfg_result_plan(r, 0);
  p3cfg_model_info mi;
  p3cfg_cluster_info ci;
  const int have_info =
      p3cfg_model_get_info(&mi, model) == 0 && p3cfg_cluster_get_info(&ci, cluster) == 0;
  fputs("p3cfg estimate ", f);
  shell_word(f, positional[0]);
  fputc(' ', f);
  shell_word(f, positional[1]);
  fprintf(f, " --tp %u --pp %u --mbs %u", p->tp, p->pp, p->micro_batch);
  if (p->framework != P3CFG_FRAMEWORK_MEGATRON)
    fprintf(f, " --framework %s", p3cfg_framework_name((p3cfg_framework)p->framework));
  if (p->dp_shard && p->dp_shard != p->dp)
    fprintf(f, " --dp-shard %u", p->dp_shard);
  {
    p3cfg_plan defaults;
    p3cfg_plan_init_framework(&defaults, (p3cfg_framework)p->framework);
    if (p->compile != defaults.compile)
      fputs(p->compile ? " --compile" : " --no-compile", f);
  }
  if (p->cp > 1)
    fprintf(f, " --cp %u", p->cp);
  if (p->ep > 1)
    fprintf(f, " --ep %u", p->ep);
  if (p->etp && p->etp != p->tp)
    fprintf(f, " --etp %u", p->etp);
  if (p->virtual_stages > 1)
    fprintf(f, " --vpp %u", p->virtual_stages);
  if (p->recompute != P3CFG_RECOMPUTE_NONE)
    fprintf(f, " --recompute %s", p3cfg_recompute_name(p->recompute));
  if (p->recompute_modules && p->recompute_modules != P3CFG_RECOMPUTE_MODULE_CORE_ATTN)
    word_flags(f, "recompute-modules", p->recompute_modules);
  if (p->cpu_offload_layers)
    fprintf(f, " --cpu-offload-layers %u", p->cpu_offload_layers);
  if (p->split_accounts)
    word_flags(f, "split-accounts", p->split_accounts);
  if (p->sequence_parallel)
    fputs(" --sp", f);
  if (p->zero_stage)
    fprintf(f, " --zero %u", p->zero_stage);
  if (p->overlap) {
    fputs(" --overlap ", f);
    overlap_list(f, p->overlap);
  }
  if (p->pp > 1 && !balanced_split(p, model, cluster)) {
    fputs(" --stage-layers ", f);
    for (uint32_t s = 0; s < p->n_stage_layers; s++)
      fprintf(f, "%s%u", s ? "," : "", p->stage_layers[s]);
  }
  const uint64_t gpus = (uint64_t)p->dp * p->tp * (p->cp ? p->cp : 1) * p->pp;
  if (!have_info || gpus != (uint64_t)ci.nodes * ci.gpus_per_node)
    fprintf(f, " --gpus %llu", (unsigned long long)gpus);
  if (!have_info || p->global_batch != mi.global_batch)
    fprintf(f, " --global-batch %llu", (unsigned long long)p->global_batch);
  const p3cfg_placement_info *pi = p3cfg_result_placement_info(r, 0);
  if (pi && pi->optimized) {
    fputs(" --place", f);
    if (a->place.seed != 1)
      fprintf(f, " --seed %llu", (unsigned long long)a->place.seed);
    if (a->place.moves)
      fprintf(f, " --place-budget %llu", (unsigned long long)a->place.moves);
    else if (a->place.max_s > 0)
      fprintf(f, " --place-budget %gs", a->place.max_s);
  }
  if (b->margin_text) {
    fputs(" --mem-margin ", f);
    shell_word(f, b->margin_text);
  }
  if (b->tokens_text) {
    fputs(" --tokens ", f);
    shell_word(f, b->tokens_text);
  }
}

char *cli_next_steps(const p3cfg_result *r, const p3cfg_model *model,
                     const p3cfg_cluster *cluster, const char *const *positional,
                     const cli_plan_args *a, const cli_budget *b)
{
  if (p3cfg_result_count(r) == 0)
    return NULL;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    return NULL;
  fputs("\nnext, for plan #1: its memory per stage and time breakdown, the same as a plan "
        "file, and launcher arguments from that file:\n  ",
        f);
  estimate_command(f, r, model, cluster, positional, a, b);
  fputs("\n  ", f);
  estimate_command(f, r, model, cluster, positional, a, b);
  fprintf(f, " --format json -o plan.json\n  p3cfg export plan.json --to %s\n",
          export_target(r, model, cluster));
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}
