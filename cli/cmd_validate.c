/*
 * cmd_validate.c — `p3cfg validate FILE...`: check model and cluster files and report
 * every problem of every file, not only the first.
 *
 * Problems go to stderr as `p3cfg: FILE:LINE:COL: message` (or `p3cfg: FILE: message`
 * for a problem with the file itself), in file order; each good file gets one line on
 * stdout, `FILE: ok (model NAME)` or `FILE: ok (cluster NAME, N GPUs)`. Exit 0 when every
 * file is good, 1 when any has a problem, 2 on a usage error. Public API only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_KIND = 1, OPT_QUIET };

static const cli_option options[] = {
    {"kind", 'k', "KIND", "model, cluster or auto (default: from the keys of each file)", OPT_KIND},
    {"quiet", 'q', NULL, "print the problems only, no line for a good file", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "[--kind model|cluster|auto] [-q] FILE...";
static const char summary[] =
    "Check model and cluster files (YAML or JSON) and report every problem of each, with\n"
    "its line and column. Exit 0 when all files are valid, 1 otherwise.";

/* Print the line of a good file: its kind, name and size. Returns an exit code. */
static int print_ok(const char *path, p3cfg_file_kind kind)
{
  if (kind == P3CFG_FILE_MODEL) {
    p3cfg_model *m = NULL;
    p3cfg_model_info info;
    if (p3cfg_model_load(&m, path, NULL) != P3CFG_OK || p3cfg_model_get_info(&info, m)) {
      cli_print_error();
      p3cfg_model_free(m);
      return EXIT_BAD_INPUT;
    }
    printf("%s: ok (model %s)\n", path, info.name);
    p3cfg_model_free(m);
  } else {
    p3cfg_cluster *c = NULL;
    p3cfg_cluster_info info;
    if (p3cfg_cluster_load(&c, path, NULL) != P3CFG_OK || p3cfg_cluster_get_info(&info, c)) {
      cli_print_error();
      p3cfg_cluster_free(c);
      return EXIT_BAD_INPUT;
    }
    printf("%s: ok (cluster %s, %llu GPUs)\n", path, info.name,
           (unsigned long long)info.nodes * info.gpus_per_node);
    p3cfg_cluster_free(c);
  }
  fflush(stdout);
  return EXIT_OK;
}

/* Check one file; returns an exit code. */
static int validate_one(const char *path, p3cfg_file_kind kind, int quiet)
{
  p3cfg_diagnostics *diags = NULL;
  p3cfg_file_kind found = P3CFG_FILE_AUTO;
  int rc = p3cfg_validate_file(&diags, &found, path, kind);
  if (!diags) { /* out of memory */
    cli_print_error();
    return EXIT_BAD_INPUT;
  }
  const size_t n = p3cfg_diagnostics_count(diags);
  for (size_t i = 0; i < n; i++) {
    const p3cfg_diag *dg = p3cfg_diagnostics_get(diags, i);
    if (dg->line > 0)
      fprintf(stderr, "p3cfg: %s:%d:%d: %s\n", dg->file, dg->line, dg->column, dg->message);
    else
      fprintf(stderr, "p3cfg: %s: %s\n", dg->file, dg->message);
  }
  p3cfg_diagnostics_free(diags);
  if (rc != P3CFG_OK)
    return EXIT_BAD_INPUT;
  return quiet ? EXIT_OK : print_ok(path, found);
}

int cmd_validate(int argc, char **argv)
{
  const char **files = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *files);
  if (!files) {
    fprintf(stderr, "p3cfg: out of memory\n");
    return EXIT_BAD_INPUT;
  }
  cli_parser p;
  cli_parser_init(&p, "validate", options, argc, argv, files);
  p3cfg_file_kind kind = P3CFG_FILE_AUTO;
  int quiet = 0, status = EXIT_OK;
  for (int id; (id = cli_next_option(&p)) != 0;) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "validate", synopsis, summary, options);
      goto done;
    }
    if (id < 0) {
      status = EXIT_USAGE;
      goto done;
    }
    if (id == OPT_QUIET) {
      quiet = 1;
    } else if (id == OPT_KIND) {
      if (strcmp(p.value, "model") == 0) {
        kind = P3CFG_FILE_MODEL;
      } else if (strcmp(p.value, "cluster") == 0) {
        kind = P3CFG_FILE_CLUSTER;
      } else if (strcmp(p.value, "auto") == 0) {
        kind = P3CFG_FILE_AUTO;
      } else {
        static const char *const kinds[] = {"model", "cluster", "auto"};
        char hint[96];
        status = cli_usage_error("validate", "--kind must be model, cluster or auto, got \"%s\"%s",
                                 p.value, cli_did_you_mean(hint, sizeof hint, p.value, "", kinds, 3));
        goto done;
      }
    }
  }
  if (p.n_positional == 0) {
    status = cli_usage_error("validate", "no files given");
    goto done;
  }
  for (int i = 0; i < p.n_positional; i++)
    if (validate_one(files[i], kind, quiet) != EXIT_OK)
      status = EXIT_BAD_INPUT;
done:
  free(files);
  return status;
}
