/*
 * fuzz_cli_args.c — libFuzzer target for the option parsing of the p3cfg CLI
 * (cli/cli_common.c: cli_parser, cli_parse_u32; cli/cli_constraints.c: the constraint
 * flags; cli/cli_place.c, cli_svg.c, cli_output.c: the placement, picture and output
 * flags), in-process and without touching a file.
 *
 * Input: the first byte picks the command (search, estimate or validate), the rest is
 * split at NUL bytes into its arguments. The option tables are those of cli/cmd_*.c
 * (copied here, since they are static there: keep them in step) and the option handlers
 * are the CLI's own, called in the same order; the --svg-* and -o flags only name output
 * files, which this target never writes. Oracles: the parser
 * never reads past argv, collects at most argc positional arguments, returns a known id;
 * a usage error is exactly one "p3cfg COMMAND: ..." line plus the --help hint (captured
 * by pointing stderr at a memory stream for the call). Options that parse are then
 * handed to the library as cmd_search.c and cmd_estimate.c hand them, on a small
 * in-memory model and cluster: constraints from the command line must never crash,
 * hang or wrap inside p3cfg_search or p3cfg_estimate, only be refused.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "cli.h"
#include "cli_constraints.h"
#include "cli_place.h"
#include "cli_svg.h"
#include "fuzz_common.h"

/* Ids of the options that belong to one command (those shared by several come from
 * cli_constraints.h, cli_place.h, cli_svg.h and cli.h, with ids from 100 up). */
enum { OPT_TOP = 1, OPT_THREADS, OPT_EXPLAIN, OPT_MAX_MBS, OPT_NO_TIME, OPT_KIND, OPT_QUIET };

static const cli_option search_options[] = {
    CLI_CONSTRAINT_OPTIONS,
    {"top", 0, "K", "", OPT_TOP},
    CLI_OUTPUT_OPTIONS,
    {"threads", 0, "N", "", OPT_THREADS},
    {"explain", 0, NULL, "", OPT_EXPLAIN},
    {"max-mbs", 0, "N", "", OPT_MAX_MBS},
    {"no-place", 0, NULL, "", OPT_NO_PLACE},
    {"place-top", 0, "N", "", OPT_PLACE_TOP},
    CLI_PLACE_COMMON_OPTIONS,
    CLI_SVG_OPTIONS,
    {NULL, 0, NULL, NULL, 0},
};
static const cli_option estimate_options[] = {
    CLI_CONSTRAINT_OPTIONS,
    CLI_OUTPUT_OPTIONS,
    {"no-time", 0, NULL, "", OPT_NO_TIME},
    {"place", 0, NULL, "", OPT_PLACE},
    CLI_PLACE_COMMON_OPTIONS,
    CLI_SVG_OPTIONS,
    {NULL, 0, NULL, NULL, 0},
};
static const cli_option validate_options[] = {
    {"kind", 'k', "KIND", "", OPT_KIND},
    {"quiet", 'q', NULL, "", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0},
};

#define MAX_ARGS 64

static p3cfg_model *model;
static p3cfg_cluster *cluster;
static FILE *err_sink;
static char *err_text;
static size_t err_len;

static void setup(void)
{
  if (model)
    return;
  if (p3cfg_model_load_string(&model, fuzz_model_text, strlen(fuzz_model_text), "m.yaml",
                              NULL) ||
      p3cfg_cluster_load_string(&cluster, fuzz_cluster_text, strlen(fuzz_cluster_text),
                                "c.yaml", NULL))
    abort();
}

/* Send what the parsers print to stderr into memory until end_capture. */
static FILE *begin_capture(void)
{
  err_sink = open_memstream(&err_text, &err_len);
  if (!err_sink)
    abort();
  FILE *saved = stderr;
  stderr = err_sink;
  return saved;
}

static void end_capture(FILE *saved)
{
  stderr = saved;
  fclose(err_sink);
}

/* A usage error is "p3cfg: CMD: message (see 'p3cfg CMD --help')\n" and nothing else. */
static void check_usage_text(const char *command, int failed)
{
  if (!failed) {
    FUZZ_CHECK(err_len == 0);
    return;
  }
  char head[32], tail[48];
  snprintf(head, sizeof head, "p3cfg: %s: ", command);
  snprintf(tail, sizeof tail, " (see 'p3cfg %s --help')\n", command);
  if (getenv("FUZZ_DEBUG"))
    fprintf(stderr, "[%.*s]\n", (int)err_len, err_text);
  FUZZ_CHECK(err_len > strlen(head) + strlen(tail));
  FUZZ_CHECK(memcmp(err_text, head, strlen(head)) == 0);
  FUZZ_CHECK(strcmp(err_text + err_len - strlen(tail), tail) == 0);
}

typedef struct parsed {
  cli_constraints cons;
  cli_place place;
  cli_svg svg;
  cli_output out;
  unsigned top, threads, max_mbs;
  int with_time;
} parsed;

/* The option loop of cmd_search / cmd_estimate / cmd_validate, with the same handlers
 * in the same order. Returns 0 when the command line parses, 1 after a usage error, 2
 * for --help. */
static int parse(int cmd, int argc, char **argv, parsed *out)
{
  static const char *const names[] = {"search", "estimate", "validate"};
  static const cli_option *const tables[] = {search_options, estimate_options,
                                             validate_options};
  const char *command = names[cmd];
  const char *positional[MAX_ARGS + 1];
  cli_parser p;
  cli_parser_init(&p, command, tables[cmd], argc, argv, positional);
  cli_constraints_init(&out->cons);
  cli_place_init(&out->place);
  cli_svg_init(&out->svg);
  memset(&out->out, 0, sizeof out->out);
  out->top = 10;
  out->threads = 1;
  out->max_mbs = 16;
  out->with_time = 1;
  int id;
  while ((id = cli_next_option(&p)) != 0) {
    FUZZ_CHECK(p.index <= argc && p.n_positional <= argc);
    if (id == CLI_HELP)
      return 2;
    if (id < 0)
      return 1;
    FUZZ_CHECK((id >= OPT_TOP && id <= OPT_QUIET) || (id >= OPT_DP && id < OPT_CONSTRAINT_LAST) ||
               (id >= OPT_PLACE && id <= OPT_PLACE_BUDGET) ||
               (id >= OPT_SVG_TIMELINE && id <= OPT_SVG_MEMORY) ||
               (id >= OPT_OUT_FORMAT && id <= OPT_OUT_QUIET));
    if (cmd != 2) {
      int handled = cli_constraints_option(&out->cons, command, id, p.value);
      if (handled == 0)
        handled = cli_place_option(&out->place, command, id, p.value);
      if (handled == 0)
        handled = cli_svg_option(&out->svg, command, id, p.value);
      if (handled == 0)
        handled = cli_output_option(&out->out, command, id, p.value);
      if (handled < 0)
        return 1;
      if (handled)
        continue;
    }
    switch (id) {
    case OPT_TOP:
      if (cli_parse_u32(command, "top", p.value, 1, 1000, &out->top))
        return 1;
      break;
    case OPT_THREADS:
      if (cli_parse_u32(command, "threads", p.value, 1, 256, &out->threads))
        return 1;
      break;
    case OPT_MAX_MBS:
      if (cli_parse_u32(command, "max-mbs", p.value, 1, 1u << 20, &out->max_mbs))
        return 1;
      break;
    case OPT_NO_TIME:
      out->with_time = 0;
      break;
    case OPT_KIND:
      FUZZ_CHECK(p.value != NULL);
      break;
    default:
      FUZZ_CHECK(p.value == NULL);
      break;
    }
  }
  FUZZ_CHECK(p.index == argc);
  for (int i = 0; i < p.n_positional; i++)
    FUZZ_CHECK(positional[i] != NULL);
  FUZZ_CHECK(!out->out.path || strlen(out->out.path) < 4096);
  return 0;
}

static void run_search(const parsed *a)
{
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = a->top;
  so.threads = a->threads > 2 ? 2 : a->threads; /* the machine has two cores */
  so.max_micro_batch = a->max_mbs;
  so.gpus = a->cons.gpus;
  so.global_batch = a->cons.global_batch;
  so.dp = a->cons.dp;
  so.tp = a->cons.tp;
  so.pp = a->cons.pp;
  so.micro_batch = a->cons.mbs;
  so.virtual_stages = a->cons.vpp;
  so.recompute = a->cons.recompute;
  so.sequence_parallel = a->cons.sp;
  so.zero_stage = a->cons.zero;
  so.overlap = a->cons.overlap;
  so.n_stage_layers = a->cons.n_stage_layers;
  so.stage_layers = a->cons.n_stage_layers ? a->cons.stage_layers : NULL;
  /* The placement flags as cmd_search.c passes them, with the budget cut down so that
   * one input stays fast (a time budget of up to a day is valid on the command line). */
  so.place = a->place.place != 0;
  so.place_top = a->place.place_top;
  so.seed = a->place.seed;
  so.place_moves = a->place.moves > 0 && a->place.moves < 50 ? a->place.moves : 50;
  so.place_max_s = a->place.max_s > 0 ? 0.001 : 0;
  p3cfg_result *r = NULL;
  int rc = p3cfg_search(&r, model, cluster, &so);
  FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EINFEASIBLE || rc == P3CFG_EPLAN ||
             rc == P3CFG_EINVALID);
  FUZZ_CHECK((r != NULL) == (rc == P3CFG_OK || rc == P3CFG_EINFEASIBLE));
  if (rc != P3CFG_OK)
    FUZZ_CHECK(fuzz_one_line(p3cfg_error_last()->message));
  if (r)
    fuzz_walk_result(r, model, cluster, 0);
  p3cfg_result_free(r);
}

/* plan_from_flags of cmd_estimate.c, then the estimate. */
static void run_estimate(const parsed *a)
{
  const cli_constraints *c = &a->cons;
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  if (c->tp)
    plan.tp = c->tp;
  if (c->pp)
    plan.pp = c->pp;
  if (c->mbs)
    plan.micro_batch = c->mbs;
  if (c->vpp)
    plan.virtual_stages = c->vpp;
  if (c->recompute >= 0)
    plan.recompute = (p3cfg_recompute)c->recompute;
  if (c->sp >= 0)
    plan.sequence_parallel = c->sp;
  if (c->zero >= 0)
    plan.zero_stage = (uint32_t)c->zero;
  plan.overlap = c->overlap;
  plan.global_batch = c->global_batch;
  plan.dp = c->dp;
  if (c->gpus) {
    const uint64_t mp = (uint64_t)plan.tp * plan.pp;
    if (c->gpus % mp || (c->dp && c->dp != c->gpus / mp) || c->gpus / mp > UINT32_MAX)
      return; /* usage errors in cmd_estimate.c */
    plan.dp = (uint32_t)(c->gpus / mp);
  }
  plan.n_stage_layers = c->n_stage_layers;
  memcpy(plan.stage_layers, c->stage_layers, sizeof plan.stage_layers);
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  eo.with_time = a->with_time;
  eo.place = a->place.place > 0;
  eo.seed = a->place.seed;
  eo.place_moves = a->place.moves > 0 && a->place.moves < 50 ? a->place.moves : 50;
  eo.place_max_s = a->place.max_s > 0 ? 0.001 : 0;
  if (eo.place && !eo.with_time)
    return; /* a usage error in cmd_estimate.c */
  p3cfg_result *r = NULL;
  int rc = p3cfg_estimate(&r, model, cluster, &plan, &eo);
  FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EPLAN);
  FUZZ_CHECK((r != NULL) == (rc == P3CFG_OK));
  if (rc != P3CFG_OK)
    FUZZ_CHECK(fuzz_one_line(p3cfg_error_last()->message));
  if (r)
    fuzz_walk_result(r, model, cluster, 1);
  p3cfg_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  setup();
  if (size == 0 || size > 4096)
    return 0;
  const int cmd = data[0] % 3;
  /* One copy of the arguments, NUL-terminated, with no slack after the last one, so
   * that ASan sees any read past an argument. */
  char *buf = malloc(size);
  if (!buf)
    abort();
  memcpy(buf, data + 1, size - 1);
  buf[size - 1] = '\0';
  char *argv[MAX_ARGS + 1];
  int argc = 0;
  for (size_t i = 0; i < size - 1 && argc < MAX_ARGS;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;

  parsed a;
  FILE *saved = begin_capture();
  int st = parse(cmd, argc, argv, &a);
  end_capture(saved);
  check_usage_text(cmd == 0 ? "search" : cmd == 1 ? "estimate" : "validate", st == 1);
  free(err_text);
  err_text = NULL;
  if (st == 0 && cmd == 0)
    run_search(&a);
  else if (st == 0 && cmd == 1)
    run_estimate(&a);
  free(buf);
  return 0;
}
