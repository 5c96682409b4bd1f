/*
 * cmd_profile_compute.c — `p3cfg profile --compute`: time this GPU's transformer GEMMs
 * and its memory bandwidth, fit the time model's GPU parameters, and write a cluster file
 * whose gpu map carries them (docs/gpu-profiling.md). One process on one GPU, no MPI:
 * `srun -n 1 --gpus-per-task=1 p3cfg profile --compute -o gpu.yaml`.
 *
 * Everything is in libp3cfg (p3cfg/gpu.h); this file parses options, checks the outputs
 * can be written before minutes of measuring, shows progress on a terminal, and prints.
 * The summary goes to stderr, the cluster file to -o or stdout. `--from-csv` fits a
 * recorded table instead, on any machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_progress.h"
#include "cmd_profile_compute.h"
#include "p3cfg/gpu.h"

enum {
  OPT_COMPUTE = 1,
  OPT_OUTPUT,
  OPT_FORCE,
  OPT_MODEL,
  OPT_TP,
  OPT_TOKENS,
  OPT_BASE,
  OPT_GPU,
  OPT_DEVICE,
  OPT_REPS,
  OPT_WARMUP,
  OPT_CSV,
  OPT_FROM_CSV,
  OPT_SHAPES,
  OPT_QUIET
};

static const cli_option options[] = {
    {"compute", 0, NULL, "measure this GPU instead of the links (this mode)", OPT_COMPUTE},
    {"output", 'o', "FILE", "write the cluster file to FILE (default: stdout)", OPT_OUTPUT},
    {"force", 0, NULL, "replace output files that exist", OPT_FORCE},
    {"model", 0, "FILE", "time the layer GEMMs of this model (repeatable; default: GPT-3 175B "
                         "and Llama 3 70B)", OPT_MODEL},
    {"tp", 0, "LIST", "tensor-parallel sizes for --model (default 1,2,4,8)", OPT_TP},
    {"tokens", 0, "LIST", "micro-batch token counts for --model (default "
                          "2048,4096,8192,16384)", OPT_TOKENS},
    {"base", 0, "CLUSTER", "keep nodes, network and links of CLUSTER; compare to its gpu",
     OPT_BASE},
    {"gpu", 0, "NAME", "compare to this gpu preset (default: from the device name)", OPT_GPU},
    {"device", 0, "N", "CUDA device index (default 0)", OPT_DEVICE},
    {"reps", 0, "N", "timed runs per kernel, the median is kept (default 10)", OPT_REPS},
    {"warmup", 0, "N", "untimed runs before each kernel's series (default 3)", OPT_WARMUP},
    {"csv", 0, "FILE", "also write the measurement table to FILE", OPT_CSV},
    {"from-csv", 0, "FILE", "fit a recorded table instead of measuring (no GPU needed)",
     OPT_FROM_CSV},
    {"shapes", 0, NULL, "print one line per GEMM in the summary", OPT_SHAPES},
    {"quiet", 'q', NULL, "no summary and no progress on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "--compute [-o FILE] [--model FILE ...] [--base CLUSTER] [options]";
static const char summary[] =
    "Time this GPU's bf16 transformer GEMMs (QKV, projection, MLP up and down; forward,\n"
    "data and weight gradient) and a device-to-device copy with cuBLAS, fit the time\n"
    "model's matmul_efficiency, matmul_half_tflop and memory_efficiency to them, and\n"
    "write a cluster file whose gpu map carries the fitted values. One process, one GPU.\n"
    "Example: srun -n 1 --gpus-per-task=1 p3cfg profile --compute -o gpu.yaml";

#define MAX_LIST 32
#define MAX_MODELS 16

int cli_profile_wants_compute(int argc, char **argv)
{
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      return 0;
    if (strcmp(argv[i], "--compute") == 0)
      return 1;
  }
  return 0;
}

/* "1,2,4,8" into out[]; prints a usage error and returns -1 when malformed. */
static int parse_list(const char *option, const char *text, uint64_t min, uint64_t max,
                      uint64_t *out, size_t *n)
{
  *n = 0;
  const char *p = text;
  for (;;) {
    char *end;
    errno = 0;
    if (*p < '0' || *p > '9' || *n == MAX_LIST)
      break;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || v < min || v > max || (*end != ',' && *end != '\0'))
      break;
    out[(*n)++] = v;
    if (*end == '\0')
      return 0;
    p = end + 1;
  }
  cli_usage_error("profile", "--%s must be a comma-separated list of at most %d integers in "
                             "[%llu, %llu], got \"%s\"",
                  option, MAX_LIST, (unsigned long long)min, (unsigned long long)max, text);
  return -1;
}

/* Refuse early (before minutes of measuring) to overwrite an existing file. */
static int check_new(const char *path, int force)
{
  struct stat st;
  if (!path || strcmp(path, "-") == 0 || force || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return 0;
  fprintf(stderr, "p3cfg: %s: already exists (use --force to replace it)\n", path);
  return -1;
}

typedef struct args {
  const char *output, *base, *gpu, *csv, *from_csv;
  const char *models[MAX_MODELS];
  size_t n_models;
  uint64_t tp[MAX_LIST], tokens[MAX_LIST];
  size_t n_tp, n_tokens;
  int force, shapes, quiet;
  p3cfg_gpu_measure_options measure;
} args;

/* Returns -1 to go on, else the exit code. */
static int parse_args(args *a, int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  cli_parser p;
  cli_parser_init(&p, "profile", options, argc, argv, positional);
  int id;
  unsigned u;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "profile", synopsis, summary, options);
      return EXIT_OK;
    }
    int bad = 0;
    switch (id) {
    case OPT_COMPUTE:
      break;
    case OPT_OUTPUT:
      a->output = p.value;
      bad = cli_output_path_option("profile", "--output", p.value);
      break;
    case OPT_FORCE:
      a->force = 1;
      break;
    case OPT_MODEL:
      if (a->n_models == MAX_MODELS)
        return cli_usage_error("profile", "at most %d --model files", MAX_MODELS);
      a->models[a->n_models++] = p.value;
      break;
    case OPT_TP:
      bad = parse_list("tp", p.value, 1, 1024, a->tp, &a->n_tp);
      break;
    case OPT_TOKENS:
      bad = parse_list("tokens", p.value, 1, 1u << 20, a->tokens, &a->n_tokens);
      break;
    case OPT_BASE:
      a->base = p.value;
      break;
    case OPT_GPU:
      a->gpu = p.value;
      break;
    case OPT_DEVICE:
      bad = cli_parse_u32("profile", "device", p.value, 0, 1023, &u);
      a->measure.device = (int)u;
      break;
    case OPT_REPS:
      bad = cli_parse_u32("profile", "reps", p.value, 1, 1000, &u);
      a->measure.reps = u;
      break;
    case OPT_WARMUP:
      bad = cli_parse_u32("profile", "warmup", p.value, 0, 1000, &u);
      a->measure.warmup = u;
      break;
    case OPT_CSV:
      a->csv = p.value;
      break;
    case OPT_FROM_CSV:
      a->from_csv = p.value;
      break;
    case OPT_SHAPES:
      a->shapes = 1;
      break;
    case OPT_QUIET:
      a->quiet = 1;
      break;
    default:
      bad = 1;
      break;
    }
    if (bad || id < 0)
      return EXIT_USAGE;
  }
  if (p.n_positional != 0)
    return cli_usage_error("profile", "unexpected argument '%s'", positional[0]);
  if (a->from_csv && (a->n_models || a->n_tp || a->n_tokens))
    return cli_usage_error("profile", "--from-csv fits a recorded table: --model, --tp and "
                                      "--tokens do not apply");
  if (!a->n_models && (a->n_tp || a->n_tokens))
    return cli_usage_error("profile", "--tp and --tokens apply to --model shapes");
  return -1;
}

/* The kernels to time: the standard set, or the --model layers plus the squares and
 * copies. */
static int build_profile(p3cfg_gpu_profile *prof, const args *a)
{
  if (!a->n_models) {
    if (p3cfg_gpu_profile_add_standard(prof) == 0)
      return 0;
    cli_print_error();
    return -1;
  }
  static const uint64_t def_tp[] = {1, 2, 4, 8}, def_tokens[] = {2048, 4096, 8192, 16384};
  uint32_t tp[MAX_LIST];
  const size_t n_tp = a->n_tp ? a->n_tp : 4;
  for (size_t i = 0; i < n_tp; i++)
    tp[i] = (uint32_t)(a->n_tp ? a->tp[i] : def_tp[i]);
  const uint64_t *tokens = a->n_tokens ? a->tokens : def_tokens;
  const size_t n_tokens = a->n_tokens ? a->n_tokens : 4;
  for (size_t i = 0; i < a->n_models; i++) {
    p3cfg_model *m = NULL;
    if (p3cfg_model_load(&m, a->models[i], NULL) != 0) {
      cli_print_error();
      return -1;
    }
    size_t skipped = 0;
    const int rc = p3cfg_gpu_profile_add_model(prof, m, tp, n_tp, tokens, n_tokens, &skipped);
    if (rc == 0 && skipped && !a->quiet)
      fprintf(stderr, "p3cfg: note: %s: %zu tp value%s skipped (not dividing heads, kv_heads "
                      "and ffn_hidden)\n",
              a->models[i], skipped, skipped == 1 ? "" : "s");
    p3cfg_model_free(m);
    if (rc != 0) {
      cli_print_error();
      return -1;
    }
  }
  static const uint64_t squares[] = {1024, 2048, 4096, 8192};
  int rc = 0;
  for (size_t i = 0; i < 4 && rc == 0; i++)
    rc = p3cfg_gpu_profile_add_square(prof, squares[i]);
  if (rc == 0)
    rc = p3cfg_gpu_profile_add_copy(prof, 256ull << 20);
  if (rc == 0)
    rc = p3cfg_gpu_profile_add_copy(prof, 1ull << 30);
  if (rc != 0)
    cli_print_error();
  return rc == 0 ? 0 : -1;
}

/* The reference gpu: --gpu, else the base's gpu (0 when neither). */
static int set_reference(p3cfg_gpu_profile *prof, const args *a, const p3cfg_cluster *base)
{
  int rc = 0;
  if (a->gpu) {
    rc = p3cfg_gpu_profile_set_gpu(prof, a->gpu, 0.0, 0.0);
  } else if (base) {
    p3cfg_cluster_info info;
    if ((rc = p3cfg_cluster_get_info(&info, base)) == 0)
      rc = p3cfg_gpu_profile_set_gpu(prof, info.gpu_name, info.gpu_peak_flops, info.gpu_hbm_Bps);
  }
  if (rc != 0)
    cli_print_error();
  return rc;
}

static int write_buffer(const char *path, int force, p3cfg_buffer *b, int quiet, const char *what)
{
  int rc = cli_write_output(path, force, b->data, b->len);
  if (rc == EXIT_OK && path && strcmp(path, "-") != 0 && !quiet)
    fprintf(stderr, "wrote %s (%s)\n", path, what);
  p3cfg_buffer_dispose(b);
  return rc;
}

static int measure(p3cfg_gpu_profile *prof, args *a)
{
  cli_progress ps;
  a->measure.progress = cli_progress_start(&ps, "timing", "kernels", a->quiet);
  a->measure.progress_payload = &ps;
  const int rc = p3cfg_gpu_measure(prof, &a->measure);
  cli_progress_done(&ps);
  if (rc != 0)
    cli_print_error();
  return rc;
}

int cmd_profile_compute(int argc, char **argv)
{
  args a;
  memset(&a, 0, sizeof a);
  p3cfg_gpu_measure_options_init(&a.measure);
  int exit_code = parse_args(&a, argc, argv);
  if (exit_code >= 0)
    return exit_code;
  if (check_new(a.output, a.force) != 0 || check_new(a.csv, a.force) != 0)
    return EXIT_BAD_INPUT;

  exit_code = EXIT_BAD_INPUT;
  p3cfg_cluster *base = NULL;
  p3cfg_gpu_profile *prof = NULL;
  p3cfg_buffer b = {0};
  p3cfg_gpu_fit fit;
  if (a.base && p3cfg_cluster_load(&base, a.base, NULL) != 0) {
    cli_print_error();
    goto done;
  }
  if (a.from_csv) {
    if (p3cfg_gpu_profile_load_csv(&prof, a.from_csv) != 0) {
      cli_print_error();
      goto done;
    }
  } else if (p3cfg_gpu_profile_new(&prof) != 0 || build_profile(prof, &a) != 0) {
    goto done;
  }
  if (set_reference(prof, &a, base) != 0)
    goto done;
  if (!a.from_csv && measure(prof, &a) != 0)
    goto done;
  if (a.csv) { /* before the fit: a measurement is never lost */
    if (p3cfg_gpu_profile_csv(&b, prof) != 0) {
      cli_print_error();
      goto done;
    }
    if (write_buffer(a.csv, a.force, &b, a.quiet, "measurements") != EXIT_OK)
      goto done;
  }
  if (p3cfg_gpu_profile_fit(&fit, prof) != 0) {
    cli_print_error();
    goto done;
  }
  if (!a.quiet) {
    if (p3cfg_gpu_profile_report(&b, prof, &fit, a.shapes) != 0) {
      cli_print_error();
      goto done;
    }
    fputs(b.data, stderr);
    p3cfg_buffer_dispose(&b);
  }
  if (p3cfg_gpu_profile_cluster_yaml(&b, prof, &fit, base) != 0) {
    cli_print_error();
    goto done;
  }
  exit_code = write_buffer(a.output, a.force, &b, a.quiet, "cluster file");
done:
  p3cfg_buffer_dispose(&b);
  p3cfg_gpu_profile_free(prof);
  p3cfg_cluster_free(base);
  return exit_code;
}
