/*
 * cmd_export.c — `p3cfg export PLAN.json --to megatron|torchtitan|deepspeed|rankfile|
 * hostfile|sbatch|launch [--plan N] [-o FILE] [--force]`: one plan of a `search --format json` or
 * `estimate --format json` file (the first by default; "-" reads standard input) as
 * launcher-ready text (docs/exports.md). Bad plan files are reported at FILE:LINE:COL
 * and exit 1; a plan the target cannot express exits 1 with the reason. Public API only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_TO = 1, OPT_PLAN, OPT_OUTPUT, OPT_FORCE, OPT_QUIET, OPT_FRAMEWORK };

static const cli_option options[] = {
    {"to", 0, "FORMAT", "megatron, torchtitan, deepspeed, rankfile, hostfile, sbatch or launch",
     OPT_TO},
    {"plan", 0, "N", "which plan of the file, from 1 (default 1: the best)", OPT_PLAN},
    {"framework", 0, "NAME",
     "the plan must have been planned for NAME (megatron, torchtitan or deepspeed); without "
     "--to, export to NAME",
     OPT_FRAMEWORK},
    {"output", 'o', "FILE", "write the result to FILE instead of stdout", OPT_OUTPUT},
    {"force", 0, NULL, "replace FILE if it exists", OPT_FORCE},
    {"quiet", 'q', NULL, "print nothing but the result and errors", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "PLAN.json --to megatron|torchtitan|deepspeed|rankfile|hostfile|"
                               "sbatch|launch [--framework NAME] [--plan N] [-o FILE]";
static const char summary[] =
    "Write one plan of PLAN.json (the output of 'search --format json' or 'estimate\n"
    "--format json'; '-' reads standard input) in a launcher's terms: Megatron-LM\n"
    "arguments, a torchtitan config module, a DeepSpeed config, an Open MPI rankfile\n"
    "placing every rank on its GPU, a hostfile with per-host CUDA_VISIBLE_DEVICES, a\n"
    "Slurm batch script or per-node torchrun lines. A plan planned for one framework\n"
    "exported to another says what does not carry over; --framework NAME refuses that.";

/* Read all of standard input into a malloc'd buffer; NULL after printing why. */
static char *read_stdin(size_t *len)
{
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      char *b = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
      if (!b) {
        fprintf(stderr, "p3cfg: <stdin>: input is too large\n");
        free(buf);
        return NULL;
      }
      buf = b;
      cap *= 2;
    }
    const size_t got = fread(buf + n, 1, cap - n, stdin);
    n += got;
    if (got == 0) {
      if (ferror(stdin)) {
        fprintf(stderr, "p3cfg: <stdin>: cannot read: %s\n", strerror(errno));
        free(buf);
        return NULL;
      }
      *len = n;
      return buf;
    }
  }
  fprintf(stderr, "p3cfg: out of memory\n");
  return NULL;
}

int cmd_export(int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  cli_parser p;
  cli_parser_init(&p, "export", options, argc, argv, positional);
  const char *output = NULL, *to = NULL;
  unsigned plan_no = 1;
  int force = 0, id;
  p3cfg_export_format fmt = P3CFG_EXPORT_MEGATRON;
  p3cfg_framework framework = P3CFG_FRAMEWORK_MEGATRON;
  int has_framework = 0;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "export", synopsis, summary, options);
      return EXIT_OK;
    }
    if (id < 0)
      return EXIT_USAGE;
    switch (id) {
    case OPT_TO:
      to = p.value;
      if (p3cfg_export_format_parse(&fmt, p.value)) {
        static const char *const targets[] = {"megatron", "torchtitan", "deepspeed", "rankfile",
                                              "hostfile",  "sbatch",     "launch"};
        char hint[96];
        return cli_usage_error("export", "--to must be megatron, torchtitan, deepspeed, "
                                         "rankfile, hostfile, sbatch or launch, got \"%s\"%s",
                               p.value, cli_did_you_mean(hint, sizeof hint, p.value, "", targets, 7));
      }
      break;
    case OPT_FRAMEWORK:
      if (p3cfg_framework_parse(&framework, p.value)) {
        static const char *const names[] = {"megatron", "torchtitan", "deepspeed"};
        char hint[96];
        return cli_usage_error("export", "--framework must be megatron, torchtitan or "
                                         "deepspeed, got \"%s\"%s",
                               p.value, cli_did_you_mean(hint, sizeof hint, p.value, "", names, 3));
      }
      has_framework = 1;
      break;
    case OPT_PLAN:
      if (cli_parse_u32("export", "plan", p.value, 1, 1000000, &plan_no))
        return EXIT_USAGE;
      break;
    case OPT_OUTPUT:
      if (cli_output_path_option("export", "--output", p.value))
        return EXIT_USAGE;
      output = p.value;
      break;
    case OPT_FORCE:
      force = 1;
      break;
    case OPT_QUIET: /* export prints nothing else */
      break;
    }
  }
  if (p.n_positional != 1)
    return cli_usage_error("export", "expected one PLAN.json, got %d arguments", p.n_positional);
  /* --framework alone exports to that framework (its export has the same name). */
  if (!to && has_framework && p3cfg_export_format_parse(&fmt, p3cfg_framework_name(framework)) == 0)
    to = p3cfg_framework_name(framework);
  if (!to)
    return cli_usage_error("export", "--to FORMAT is required (megatron, torchtitan, "
                                     "deepspeed, rankfile, hostfile, sbatch or launch)");

  int exit_code = EXIT_BAD_INPUT, rc;
  p3cfg_plan_file *plans = NULL;
  p3cfg_buffer buf = {0};
  if (strcmp(positional[0], "-") == 0) {
    size_t len = 0;
    char *text = read_stdin(&len);
    if (!text)
      return EXIT_BAD_INPUT;
    rc = p3cfg_plan_file_load_string(&plans, text, len, "<stdin>", NULL);
    free(text);
  } else {
    rc = p3cfg_plan_file_load(&plans, positional[0], NULL);
  }
  if (rc) {
    cli_print_error();
    goto done;
  }
  if (plan_no > p3cfg_plan_file_count(plans)) {
    const size_t n = p3cfg_plan_file_count(plans);
    fprintf(stderr, "p3cfg: %s: --plan %u, but the file has %zu plan%s\n", positional[0],
            plan_no, n, n == 1 ? "" : "s");
    goto done;
  }
  const p3cfg_plan *plan = p3cfg_plan_file_plan(plans, plan_no - 1);
  if (has_framework && plan && plan->framework != (uint32_t)framework) {
    fprintf(stderr,
            "p3cfg: %s: plan %u was planned for %s, not %s: its memory and time are %s's. "
            "Plan it again with --framework %s, or export without --framework to translate "
            "it (the export lists what does not carry over)\n",
            positional[0], plan_no, p3cfg_framework_name((p3cfg_framework)plan->framework),
            p3cfg_framework_name(framework),
            p3cfg_framework_name((p3cfg_framework)plan->framework),
            p3cfg_framework_name(framework));
    goto done;
  }
  if (p3cfg_export(&buf, plans, plan_no - 1, fmt)) {
    cli_print_error();
    goto done;
  }
  exit_code = cli_write_output(output, force, buf.data, buf.len);
done:
  p3cfg_buffer_dispose(&buf);
  p3cfg_plan_file_free(plans);
  return exit_code;
}
