/*
 * cmd_validate.c — `p3cfg validate FILE...`: check model and cluster files and report
 * every problem of every file, not only the first.
 *
 * Problems go to stderr as `p3cfg: FILE:LINE:COL: message` (or `p3cfg: FILE: message`
 * for a problem with the file itself), in file order; each good file gets one line on
 * stdout, `FILE: ok (model NAME)` or `FILE: ok (cluster NAME, N GPUs)`; with --format json,
 * stdout gets one document instead: {"schema_version", "files": [{"file", "valid", "kind",
 * the name and size of a good file, "problems": [{"file", "line", "column", "message"}]}],
 * "valid"}. Exit 0 when every file is good, 1 when any has a problem, 2 on a usage error.
 * Public API only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_KIND = 1, OPT_QUIET, OPT_FORMAT };

static const cli_option options[] = {
    {"kind", 'k', "KIND", "model, cluster or auto (default: from the keys of each file)", OPT_KIND},
    {"quiet", 'q', NULL, "print the problems only, no line for a good file", OPT_QUIET},
    {"format", 0, "table|json", "one line per good file (default), or one JSON document of "
                                "every file and its problems", OPT_FORMAT},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "[--kind model|cluster|auto] [-q] [--format table|json] FILE...";
static const char summary[] =
    "Check model and cluster files (YAML or JSON) and report every problem of each, with\n"
    "its line and column. Exit 0 when all files are valid, 1 otherwise.";

static const char *kind_name(p3cfg_file_kind kind)
{
  return kind == P3CFG_FILE_MODEL ? "model" : kind == P3CFG_FILE_CLUSTER ? "cluster" : NULL;
}

/* Describe a good file: its kind, name and size, as the line `FILE: ok (...)` or as the
 * JSON members after "kind". Returns an exit code. */
static int print_ok(const char *path, p3cfg_file_kind kind, int json)
{
  if (kind == P3CFG_FILE_MODEL) {
    p3cfg_model *m = NULL;
    p3cfg_model_info info;
    if (p3cfg_model_load(&m, path, NULL) != P3CFG_OK || p3cfg_model_get_info(&info, m)) {
      cli_print_error();
      p3cfg_model_free(m);
      return EXIT_BAD_INPUT;
    }
    if (json) {
      fputs(", \"name\": ", stdout);
      cli_json_string(stdout, info.name);
      printf(", \"layers\": %llu, \"params\": %llu", (unsigned long long)info.layers,
             (unsigned long long)info.params_total);
    } else {
      printf("%s: ok (model %s)\n", path, info.name);
    }
    p3cfg_model_free(m);
  } else {
    p3cfg_cluster *c = NULL;
    p3cfg_cluster_info info;
    if (p3cfg_cluster_load(&c, path, NULL) != P3CFG_OK || p3cfg_cluster_get_info(&info, c)) {
      cli_print_error();
      p3cfg_cluster_free(c);
      return EXIT_BAD_INPUT;
    }
    const unsigned long long gpus = (unsigned long long)info.nodes * info.gpus_per_node;
    if (json) {
      fputs(", \"name\": ", stdout);
      cli_json_string(stdout, info.name);
      printf(", \"nodes\": %u, \"gpus_per_node\": %u, \"gpus\": %llu, \"gpu\": ", info.nodes,
             info.gpus_per_node, gpus);
      cli_json_string(stdout, info.gpu_name);
    } else {
      printf("%s: ok (cluster %s, %llu GPUs)\n", path, info.name, gpus);
    }
    p3cfg_cluster_free(c);
  }
  if (fflush(stdout) != 0)
    return cli_stdout_failed();
  return EXIT_OK;
}

/* The problems of a file as a JSON array (they also go to stderr). */
static void json_problems(const p3cfg_diagnostics *diags)
{
  const size_t n = p3cfg_diagnostics_count(diags);
  fputs(", \"problems\": [", stdout);
  for (size_t i = 0; i < n; i++) {
    const p3cfg_diag *dg = p3cfg_diagnostics_get(diags, i);
    fputs(i ? ",\n      {\"file\": " : "\n      {\"file\": ", stdout);
    cli_json_string(stdout, dg->file);
    if (dg->line > 0)
      printf(", \"line\": %d, \"column\": %d", dg->line, dg->column);
    else
      fputs(", \"line\": null, \"column\": null", stdout);
    fputs(", \"message\": ", stdout);
    cli_json_string(stdout, dg->message);
    fputs("}", stdout);
  }
  fputs(n ? "\n    ]" : "]", stdout);
}

/* Check one file; returns an exit code. With json, prints its object of "files". */
static int validate_one(const char *path, p3cfg_file_kind kind, int quiet, int json, int first)
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
  int status = rc != P3CFG_OK ? EXIT_BAD_INPUT : EXIT_OK;
  if (json) {
    const char *k = kind_name(found != P3CFG_FILE_AUTO ? found : kind);
    fputs(first ? "\n    {\"file\": " : ",\n    {\"file\": ", stdout);
    cli_json_string(stdout, path);
    printf(", \"valid\": %s, \"kind\": ", status == EXIT_OK ? "true" : "false");
    if (k)
      cli_json_string(stdout, k);
    else
      fputs("null", stdout);
    if (status == EXIT_OK)
      status = print_ok(path, found, 1);
    json_problems(diags);
    fputs("}", stdout);
  } else if (status == EXIT_OK && !quiet) {
    status = print_ok(path, found, 0);
  }
  p3cfg_diagnostics_free(diags);
  return status;
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
  int quiet = 0, json = 0, status = EXIT_OK;
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
    } else if (id == OPT_FORMAT) {
      if (strcmp(p.value, "json") == 0 || strcmp(p.value, "table") == 0) {
        json = p.value[0] == 'j';
      } else {
        status = cli_usage_error("validate", "--format must be table or json, got \"%s\"",
                                 p.value);
        goto done;
      }
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
  if (json)
    printf("{\n  \"schema_version\": %d,\n  \"files\": [", P3CFG_JSON_SCHEMA_VERSION);
  for (int i = 0; i < p.n_positional; i++)
    if (validate_one(files[i], kind, quiet, json, i == 0) != EXIT_OK)
      status = EXIT_BAD_INPUT;
  if (json)
    printf("\n  ],\n  \"valid\": %s\n}\n", status == EXIT_OK ? "true" : "false");
done:
  free(files);
  return status;
}
