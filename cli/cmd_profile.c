/*
 * cmd_profile.c — `p3cfg profile [-o FILE] [--base CLUSTER] [options]`, run under mpirun
 * (one rank per GPU): measure every link with libp3cfg_mpi and write a cluster file
 * (spec §5, docs/profiling.md).
 *
 * This command is the only place the CLI touches MPI: it calls MPI_Init, and on a
 * failure that leaves ranks waiting (P3CFG_EMPI: a dead rank, a stalled link, a timeout)
 * MPI_Abort, so that every rank of the job ends. Rank 0 writes the cluster file (stdout
 * without -o) and prints the summary on stderr; progress goes to stderr only when it
 * is a terminal. Built without MPI, the command only says so.
 *
 * Test hook (not in --help): P3CFG_TEST_FAULT=kill:RANK:SECONDS or stall:RANK:SECONDS
 * makes that rank SIGKILL or SIGSTOP itself after SECONDS, for the fault tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_launch.h"
#include "cli_progress.h"
#include "cmd_profile_compute.h"

#ifndef P3CFG_HAVE_MPI

int cmd_profile(int argc, char **argv)
{
  if (cli_profile_wants_compute(argc, argv)) /* one GPU, no MPI: cmd_profile_compute.c */
    return cmd_profile_compute(argc, argv);
  fprintf(stderr, "p3cfg: this build has no MPI: the profiler is not built in\n");
  return EXIT_BAD_INPUT;
}

#else

#include <unistd.h>

#include "p3cfg/mpi.h"

enum {
  OPT_OUTPUT = 1,
  OPT_FORCE,
  OPT_BASE,
  OPT_GPU,
  OPT_NAME,
  OPT_CONCURRENT,
  OPT_SERIAL,
  OPT_BUDGET,
  OPT_TIMEOUT,
  OPT_REPS,
  OPT_LATENCY_REPS,
  OPT_WARMUP,
  OPT_WINDOW,
  OPT_MIN_SIZE,
  OPT_MAX_SIZE,
  OPT_QUIET,
  OPT_BACKEND,
  OPT_GRANULARITY
};

static const cli_option options[] = {
    {"output", 'o', "FILE", "write the cluster file to FILE (default: stdout)", OPT_OUTPUT},
    {"force", 0, NULL, "replace FILE if it exists", OPT_FORCE},
    {"base", 0, "CLUSTER", "take the GPU and what is not measured from CLUSTER", OPT_BASE},
    {"gpu", 0, "NAME", "GPU preset (a100-80gb, h100-sxm, ...) instead of detecting it", OPT_GPU},
    {"name", 0, "NAME", "cluster name (default: the base's, else \"profiled\")", OPT_NAME},
    {"concurrent", 0, NULL, "run all pairs of a round at once (shows shared NICs)", OPT_CONCURRENT},
    {"serial", 0, NULL, "run one pair at a time (default: pairs on disjoint hosts at once)",
     OPT_SERIAL},
    {"budget", 0, "SECONDS", "scale repetitions and sizes down to fit (default: none)", OPT_BUDGET},
    {"timeout", 0, "SECONDS", "fail when a step takes longer (default 60)", OPT_TIMEOUT},
    {"reps", 0, "N", "timed bandwidth windows per message size (default 5)", OPT_REPS},
    {"latency-reps", 0, "N", "timed ping-pongs per direction (default 20)", OPT_LATENCY_REPS},
    {"warmup", 0, "N", "untimed repetitions before each series (default 2)", OPT_WARMUP},
    {"window", 0, "N", "bandwidth messages in flight (default 8)", OPT_WINDOW},
    {"min-size", 0, "BYTES", "smallest bandwidth message, K/M suffixes (default 64K)",
     OPT_MIN_SIZE},
    {"max-size", 0, "BYTES", "largest bandwidth message (default 4M)", OPT_MAX_SIZE},
    {"backend", 0, "NAME",
     "mpi (host buffers, default) or nccl (NCCL between GPUs, one GPU per rank)", OPT_BACKEND},
    {"granularity", 0, "gpu|node|auto",
     "links per GPU pair or per node pair; auto: gpu while loadable (default)", OPT_GRANULARITY},
    {"quiet", 'q', NULL, "no summary and no progress on stderr", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "[-o FILE] [--base CLUSTER] [--gpu NAME] [options]";
static const char summary[] =
    "Run under mpirun, one rank per GPU: measure the latency and bandwidth of every\n"
    "ordered pair of ranks (rounds of disjoint pairs, both directions), discover each\n"
    "host with hwloc, and write a cluster file with the measured links. Rank 0 writes\n"
    "the file and prints a summary (slow links, asymmetries) on stderr.\n"
    "Example: mpirun -np 16 --map-by ppr:8:node p3cfg profile -o mycluster.yaml\n"
    "To measure the GPU itself: p3cfg profile --compute --help";

static int parse_bytes(const char *option, const char *text, uint64_t *out)
{
  char *end = NULL;
  errno = 0;
  if (text[0] < '0' || text[0] > '9')
    return cli_usage_error("profile", "--%s must be a size in bytes, got \"%s\"", option, text);
  unsigned long long v = strtoull(text, &end, 10);
  unsigned long long mult = 1;
  if (*end == 'K' || *end == 'k')
    mult = 1024, end++;
  else if (*end == 'M' || *end == 'm')
    mult = 1024 * 1024, end++;
  if (errno || *end != '\0' || v == 0 || v > (1ull << 28) / mult)
    return cli_usage_error("profile", "--%s must be a size in [1, 256M] bytes, got \"%s\"", option,
                           text);
  *out = v * mult;
  return 0;
}

/* Rank 0's output: the cluster file and the summary. Returns an exit code. */
static int finish(const p3cfg_profile_result *r, const char *output, int force, int quiet)
{
  int rc;
  p3cfg_buffer b = {0};
  if (!quiet) {
    if ((rc = p3cfg_profile_summary(&b, r)) != 0) {
      cli_print_profile_error();
      return cli_exit_code(rc);
    }
    fputs(b.data, stderr);
    p3cfg_buffer_dispose(&b);
  }
  if (output && strcmp(output, "-") != 0) {
    /* The CLI's one writer (cli_output.c), as every other command's file. */
    if ((rc = p3cfg_profile_cluster_yaml(&b, r)) != 0) {
      cli_print_profile_error();
      return EXIT_BAD_INPUT;
    }
    rc = cli_write_output(output, force, b.data, b.len);
    p3cfg_buffer_dispose(&b);
    if (rc == EXIT_OK && !quiet)
      fprintf(stderr, "wrote %s\n", output);
    return rc;
  }
  if ((rc = p3cfg_profile_cluster_yaml(&b, r)) != 0) {
    cli_print_profile_error();
    return EXIT_BAD_INPUT;
  }
  int ok = fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0;
  p3cfg_buffer_dispose(&b);
  if (!ok) {
    fprintf(stderr, "p3cfg: cannot write to standard output: %s\n", strerror(errno));
    return EXIT_BAD_INPUT;
  }
  return EXIT_OK;
}

int cmd_profile(int argc, char **argv)
{
  if (cli_profile_wants_compute(argc, argv)) /* one GPU, no MPI: cmd_profile_compute.c */
    return cmd_profile_compute(argc, argv);
  const char *positional[argc > 0 ? argc : 1];
  const int early_rank = cli_launcher_rank();
  if (early_rank != 0)
    cli_silence_usage_errors();
  cli_parser p;
  cli_parser_init(&p, "profile", options, argc, argv, positional);
  p3cfg_profile_options o;
  p3cfg_profile_granularity granularity = P3CFG_PROFILE_GRANULARITY_AUTO;
  p3cfg_profile_options_init(&o);
  const char *output = NULL;
  int quiet = 0, id;
  unsigned u;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      if (early_rank == 0)
        cli_print_help(stdout, "profile", synopsis, summary, options);
      return EXIT_OK;
    }
    int bad = 0;
    char hint[96];
    static const char *const granularities[] = {"gpu", "node", "auto"};
    static const char *const backends[] = {"mpi", "nccl"};
    switch (id) {
    case OPT_OUTPUT:
      output = p.value;
      bad = cli_output_path_option("profile", "--output", p.value);
      break;
    case OPT_FORCE:
      o.force = 1;
      break;
    case OPT_BASE:
      o.base_path = p.value;
      break;
    case OPT_GPU:
      o.gpu = p.value;
      break;
    case OPT_NAME:
      o.name = p.value;
      break;
    case OPT_CONCURRENT:
      o.mode = P3CFG_PROFILE_CONCURRENT;
      break;
    case OPT_SERIAL:
      o.mode = P3CFG_PROFILE_SERIAL;
      break;
    case OPT_BUDGET:
      bad = cli_parse_positive("profile", "budget", p.value, 1e7, "number of seconds", &o.budget_s);
      break;
    case OPT_TIMEOUT:
      bad =
          cli_parse_positive("profile", "timeout", p.value, 1e7, "number of seconds", &o.timeout_s);
      break;
    case OPT_REPS:
      bad = cli_parse_u32("profile", "reps", p.value, 1, 100, &u);
      o.bandwidth_reps = u;
      break;
    case OPT_LATENCY_REPS:
      bad = cli_parse_u32("profile", "latency-reps", p.value, 1, 1000, &u);
      o.latency_reps = u;
      break;
    case OPT_WARMUP:
      bad = cli_parse_u32("profile", "warmup", p.value, 0, 100, &u);
      o.warmup = u;
      break;
    case OPT_WINDOW:
      bad = cli_parse_u32("profile", "window", p.value, 1, 256, &u);
      o.window = u;
      break;
    case OPT_MIN_SIZE:
      bad = parse_bytes("min-size", p.value, &o.min_bytes);
      break;
    case OPT_MAX_SIZE:
      bad = parse_bytes("max-size", p.value, &o.max_bytes);
      break;
    case OPT_QUIET:
      quiet = 1;
      break;
    case OPT_GRANULARITY:
      if (strcmp(p.value, "gpu") == 0)
        granularity = P3CFG_PROFILE_GRANULARITY_GPU;
      else if (strcmp(p.value, "node") == 0)
        granularity = P3CFG_PROFILE_GRANULARITY_NODE;
      else if (strcmp(p.value, "auto") == 0)
        granularity = P3CFG_PROFILE_GRANULARITY_AUTO;
      else
        bad = cli_usage_error("profile", "--granularity must be gpu, node or auto, got \"%s\"%s",
                              p.value, cli_did_you_mean(hint, sizeof hint, p.value, "",
                                                        granularities, 3));
      break;
    case OPT_BACKEND:
      if (p3cfg_profile_backend_from_name(&o.backend, p.value) != 0)
        bad = cli_usage_error("profile", "--backend must be mpi or nccl, got \"%s\"%s", p.value,
                              cli_did_you_mean(hint, sizeof hint, p.value, "", backends, 2));
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
  if (o.min_bytes > o.max_bytes)
    return cli_usage_error("profile", "--min-size is larger than --max-size");
  if (output && strcmp(output, "-") != 0)
    o.output_path = output;

  int rank = 0;
  if (cli_mpi_init(&rank) != EXIT_OK)
    return EXIT_BAD_INPUT;
  int world = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (p3cfg_profile_granularity_check(granularity, (uint32_t)world) != 0) {
    if (rank == 0)
      cli_print_profile_error();
    MPI_Finalize();
    return EXIT_USAGE;
  }
  cli_progress ps;
  o.progress = cli_progress_start(&ps, "profiling", "steps", quiet || rank != 0);
  o.progress_payload = &ps;
  p3cfg_profile_result *r = NULL;
  int rc = p3cfg_profile_run(&r, MPI_COMM_WORLD, &o);
  cli_progress_done(&ps);
  int exit_code = EXIT_OK;
  if (rc != 0) {
    exit_code = cli_mpi_failure(rc, rank);
    MPI_Finalize();
    return exit_code;
  }
  if (rank == 0)
    exit_code = p3cfg_profile_set_granularity(r, granularity) == 0
                    ? finish(r, output, o.force, quiet)
                    : EXIT_BAD_INPUT;
  p3cfg_profile_result_free(r);
  MPI_Finalize();
  return exit_code;
}

#endif
