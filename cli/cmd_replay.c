/*
 * cmd_replay.c — `p3cfg replay PLAN.json --model FILE --cluster FILE [options]`, run under
 * mpirun with one rank per GPU the plan uses: perform the plan's per-iteration
 * communication with its placement (libp3cfg_mpi, p3cfg_replay_run) and print, on rank 0,
 * the measured time of each component beside what the time model predicts for the same
 * placement and message scale (spec §5, docs/profiling.md "Replaying a plan").
 *
 * Every rank loads the three files; a rank that cannot stops every rank with its message
 * (an allreduce of the load status, before any measurement). On a failure that may leave
 * ranks waiting (P3CFG_EMPI) the command calls MPI_Abort. Built without MPI it only says so.
 *
 * Test hook (not in --help), as for `profile`: P3CFG_TEST_FAULT=kill:RANK:SECONDS or
 * stall:RANK:SECONDS makes that rank SIGKILL or SIGSTOP itself after SECONDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_launch.h"

#ifndef P3CFG_HAVE_MPI

int cmd_replay(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "p3cfg: this build has no MPI: replay is not built in\n");
  return EXIT_BAD_INPUT;
}

#else

#include "p3cfg/mpi.h"

enum {
  OPT_MODEL = 1,
  OPT_CLUSTER,
  OPT_PLAN,
  OPT_SCALE,
  OPT_ITERATIONS,
  OPT_WARMUP,
  OPT_TIMEOUT,
  OPT_FORMAT
};

static const cli_option options[] = {
    {"model", 0, "FILE", "the model file the plan was made for (required)", OPT_MODEL},
    {"cluster", 0, "FILE", "the cluster file the plan was placed on (required)", OPT_CLUSTER},
    {"plan", 0, "N", "which plan of the file, from 1 (default 1, the best)", OPT_PLAN},
    {"scale", 0, "F", "multiply every message size by F (default 1: the real sizes)", OPT_SCALE},
    {"iterations", 0, "N", "timed iterations (default 5)", OPT_ITERATIONS},
    {"warmup", 0, "N", "untimed iterations first (default 1)", OPT_WARMUP},
    {"timeout", 0, "SECONDS", "fail when one operation waits longer (default 60)", OPT_TIMEOUT},
    {"format", 0, "table|json", "output format (default table)", OPT_FORMAT},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "PLAN.json --model FILE --cluster FILE [options]";
static const char summary[] =
    "Run under mpirun, one rank per GPU the plan uses (its hosts named as the plan's\n"
    "nodes, ranks of a host in GPU order): perform one plan's communication per\n"
    "iteration with its placement (tensor-parallel collectives, pipeline sends of every\n"
    "micro-batch, the data-parallel reduction) and print, per component, the measured\n"
    "time beside the time model's prediction for the same placement.\n"
    "Example: mpirun -np 16 --map-by ppr:8:node p3cfg replay plans.json --model m.yaml \\\n"
    "           --cluster mycluster.yaml --scale 0.1";

typedef struct inputs {
  const char *plan_path, *model_path, *cluster_path;
  unsigned plan_no;
  double scale;
  p3cfg_plan_file *plans;
  p3cfg_model *model;
  p3cfg_cluster *cluster;
} inputs;

/* Load the files and check that they are what the plan was made from. Prints why not
 * (when `say`) and returns an exit code. */
static int load_inputs(inputs *in, int say)
{
  int rc;
  if ((rc = p3cfg_plan_file_load(&in->plans, in->plan_path, NULL)) != 0 ||
      (rc = p3cfg_model_load(&in->model, in->model_path, NULL)) != 0 ||
      (rc = p3cfg_cluster_load(&in->cluster, in->cluster_path, NULL)) != 0) {
    if (say)
      cli_print_error();
    return EXIT_BAD_INPUT;
  }
  const size_t count = p3cfg_plan_file_count(in->plans), i = in->plan_no - 1;
  if (in->plan_no > count) {
    if (say)
      fprintf(stderr, "p3cfg: %s: --plan %u, but the file has %zu plan%s\n", in->plan_path,
              in->plan_no, count, count == 1 ? "" : "s");
    return EXIT_BAD_INPUT;
  }
  const p3cfg_plan_model *pm = p3cfg_plan_file_model(in->plans, i);
  const p3cfg_plan_cluster *pc = p3cfg_plan_file_cluster(in->plans, i);
  p3cfg_model_info mi;
  p3cfg_cluster_info ci;
  p3cfg_model_get_info(&mi, in->model);
  p3cfg_cluster_get_info(&ci, in->cluster);
  if (strcmp(pm->name, mi.name) != 0 || pm->layers != mi.layers || pm->hidden != mi.hidden ||
      pm->heads != mi.heads || pm->kv_heads != mi.kv_heads || pm->ffn_hidden != mi.ffn_hidden ||
      pm->vocab != mi.vocab || pm->seq_len != mi.seq_len) {
    if (say)
      fprintf(stderr,
              "p3cfg: %s: plan %u was made for model \"%s\" (layers %llu, hidden %llu, vocab "
              "%llu, seq_len %llu), but --model %s is \"%s\" (layers %llu, hidden %llu, vocab "
              "%llu, seq_len %llu): pass the model file the plan was made from\n",
              in->plan_path, in->plan_no, pm->name, (unsigned long long)pm->layers,
              (unsigned long long)pm->hidden, (unsigned long long)pm->vocab,
              (unsigned long long)pm->seq_len, in->model_path, mi.name,
              (unsigned long long)mi.layers, (unsigned long long)mi.hidden,
              (unsigned long long)mi.vocab, (unsigned long long)mi.seq_len);
    return EXIT_BAD_INPUT;
  }
  int same = strcmp(pc->name, ci.name) == 0 && pc->nodes == ci.nodes &&
             pc->gpus_per_node == ci.gpus_per_node;
  for (uint32_t k = 0; same && k < pc->nodes; k++)
    same = strcmp(pc->node_names[k], p3cfg_cluster_node_name(in->cluster, k)) == 0;
  if (!same) {
    if (say)
      fprintf(stderr,
              "p3cfg: %s: plan %u was placed on cluster \"%s\" (%u nodes x %u GPUs, first node "
              "%s), but --cluster %s is \"%s\" (%u nodes x %u GPUs, first node %s): pass the "
              "cluster file the plan was made on\n",
              in->plan_path, in->plan_no, pc->name, pc->nodes, pc->gpus_per_node,
              pc->nodes ? pc->node_names[0] : "-", in->cluster_path, ci.name, ci.nodes,
              ci.gpus_per_node, p3cfg_cluster_node_name(in->cluster, 0));
    return EXIT_BAD_INPUT;
  }
  /* The prediction every rank's replay starts from, made here too: libp3cfg_mpi keeps a
   * private copy of the error state (src/profile/p3cfg_mpi.map), so only this side can
   * print libp3cfg's reason for refusing it (a placement off the cluster, a scale that
   * makes a message too large). */
  size_t n_ranks = 0;
  const p3cfg_rank_place *place = p3cfg_plan_file_placement(in->plans, i, &n_ranks);
  p3cfg_comm *cm = NULL;
  if (p3cfg_comm_predict(&cm, in->model, in->cluster, p3cfg_plan_file_plan(in->plans, i), place,
                         n_ranks, in->scale) != 0) {
    if (say)
      fprintf(stderr, "p3cfg: %s: plan %u: %s\n", in->plan_path, in->plan_no,
              p3cfg_error_last()->message);
    return EXIT_BAD_INPUT;
  }
  p3cfg_comm_free(cm);
  return EXIT_OK;
}

static void row(const char *name, double measured, double predicted, const char *what)
{
  if (predicted > 0.0)
    printf("  %-5s %11.4f %11.4f %9.2f   %s\n", name, measured, predicted, measured / predicted,
           what);
  else
    printf("  %-5s %11.4f %11.4f %9s   %s\n", name, measured, predicted, "-", what);
}

static void print_bytes(char *out, size_t cap, uint64_t bytes)
{
  if (bytes >= 10ull << 20)
    snprintf(out, cap, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
  else if (bytes >= 10ull << 10)
    snprintf(out, cap, "%.1f KiB", (double)bytes / 1024.0);
  else
    snprintf(out, cap, "%llu B", (unsigned long long)bytes);
}

static void print_table(const inputs *in, const p3cfg_replay_report *r,
                        const p3cfg_replay_options *o)
{
  const p3cfg_comm_info *p = &r->predicted;
  printf("p3cfg replay: plan %u of %s (tp %u, pp %u, dp %u, vpp %u, %llu micro-batches)\n",
         in->plan_no, in->plan_path, p->tp, p->pp, p->dp, p->virtual_stages,
         (unsigned long long)p->micro_batches);
  printf("%u ranks on %u host%s (%s); message sizes x %g; median of %u iterations after %u "
         "warm-up\n",
         r->ranks, r->hosts, r->hosts == 1 ? "" : "s",
         r->by_name ? "matched to the plan's nodes by name"
                    : "matched to the plan's nodes by order",
         o->scale, r->iterations, o->warmup);
  printf("communication only, one component after the other, nothing overlapped\n\n");
  printf("  %-5s %11s %11s %9s   %s\n", "part", "measured s", "predicted s", "meas/pred",
         "what (per iteration, per group)");
  char what[160], a[32], b[32];
  snprintf(what, sizeof what, "collectives inside each TP group (tp %u)", p->tp);
  row("tp", r->measured_tp_s, p->tp_s, p->tp > 1 ? what : "none (tp 1)");
  print_bytes(a, sizeof a, p->send_bytes);
  snprintf(what, sizeof what, "%llu micro-batches x %u hops x 2 directions of %s",
           (unsigned long long)p->micro_batches, p->hops, a);
  row("pp", r->measured_pp_s, p->pp_s, p->hops ? what : "none (pp 1)");
  print_bytes(b, sizeof b, p->tie_bytes);
  if (p->tie_bytes)
    snprintf(what, sizeof what, "gradient reduction (dp %u), tied embedding %s", p->dp, b);
  else
    snprintf(what, sizeof what, "gradient reduction (dp %u)", p->dp);
  row("dp", r->measured_dp_s, p->dp_s, p->dp > 1 || p->tie_bytes ? what : "none (dp 1)");
  row("total", r->measured_total_s, p->total_s, "");
  printf("\ntotals of the timed iterations: %.4f to %.4f s\n", r->min_total_s, r->max_total_s);
}

static void json_part(const char *name, double measured, double predicted, int last)
{
  printf("    \"%s\": {\"measured_s\": %.6g, \"predicted_s\": %.6g}%s\n", name, measured, predicted,
         last ? "" : ",");
}

static void print_json(const inputs *in, const p3cfg_replay_report *r,
                       const p3cfg_replay_options *o)
{
  const p3cfg_comm_info *p = &r->predicted;
  printf("{\n  \"schema_version\": %d,\n", P3CFG_JSON_SCHEMA_VERSION);
  printf("  \"plan\": %u,\n  \"ranks\": %u,\n  \"hosts\": %u,\n  \"hosts_by_name\": %s,\n",
         in->plan_no, r->ranks, r->hosts, r->by_name ? "true" : "false");
  printf("  \"tp\": %u,\n  \"pp\": %u,\n  \"dp\": %u,\n  \"virtual_stages\": %u,\n", p->tp, p->pp,
         p->dp, p->virtual_stages);
  printf("  \"micro_batches\": %llu,\n  \"scale\": %.6g,\n  \"iterations\": %u,\n  \"warmup\": "
         "%u,\n",
         (unsigned long long)p->micro_batches, o->scale, r->iterations, o->warmup);
  printf("  \"send_bytes\": %llu,\n  \"tie_bytes\": %llu,\n", (unsigned long long)p->send_bytes,
         (unsigned long long)p->tie_bytes);
  printf("  \"components\": {\n");
  json_part("tp", r->measured_tp_s, p->tp_s, 0);
  json_part("pp", r->measured_pp_s, p->pp_s, 0);
  json_part("dp", r->measured_dp_s, p->dp_s, 0);
  json_part("total", r->measured_total_s, p->total_s, 1);
  printf("  },\n  \"min_total_s\": %.6g,\n  \"max_total_s\": %.6g\n}\n", r->min_total_s,
         r->max_total_s);
}

static void free_inputs(inputs *in)
{
  p3cfg_plan_file_free(in->plans);
  p3cfg_model_free(in->model);
  p3cfg_cluster_free(in->cluster);
}

int cmd_replay(int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  const int early_rank = cli_launcher_rank();
  if (early_rank != 0)
    cli_silence_usage_errors();
  cli_parser p;
  cli_parser_init(&p, "replay", options, argc, argv, positional);
  p3cfg_replay_options o;
  p3cfg_replay_options_init(&o);
  inputs in;
  memset(&in, 0, sizeof in);
  in.plan_no = 1;
  int json = 0, id;
  unsigned u;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      if (early_rank == 0)
        cli_print_help(stdout, "replay", synopsis, summary, options);
      return EXIT_OK;
    }
    int bad = 0;
    char hint[96];
    static const char *const formats[] = {"table", "json"};
    switch (id) {
    case OPT_MODEL:
      in.model_path = p.value;
      break;
    case OPT_CLUSTER:
      in.cluster_path = p.value;
      break;
    case OPT_PLAN:
      bad = cli_parse_u32("replay", "plan", p.value, 1, 1000000, &in.plan_no);
      break;
    case OPT_SCALE:
      bad = cli_parse_positive("replay", "scale", p.value, 1e6, "number", &o.scale);
      break;
    case OPT_ITERATIONS:
      bad = cli_parse_u32("replay", "iterations", p.value, 1, 10000, &u);
      o.iterations = u;
      break;
    case OPT_WARMUP:
      bad = cli_parse_u32("replay", "warmup", p.value, 0, 10000, &u);
      o.warmup = u;
      break;
    case OPT_TIMEOUT:
      bad =
          cli_parse_positive("replay", "timeout", p.value, 1e7, "number of seconds", &o.timeout_s);
      break;
    case OPT_FORMAT:
      if (strcmp(p.value, "json") == 0)
        json = 1;
      else if (strcmp(p.value, "table") == 0)
        json = 0;
      else
        bad = cli_usage_error("replay", "--format must be table or json, got \"%s\"%s", p.value,
                              cli_did_you_mean(hint, sizeof hint, p.value, "", formats, 2));
      break;
    default:
      bad = 1;
      break;
    }
    if (bad || id < 0)
      return EXIT_USAGE;
  }
  if (p.n_positional != 1)
    return cli_usage_error("replay", "expected one PLAN.json, got %d arguments", p.n_positional);
  if (!in.model_path || !in.cluster_path)
    return cli_usage_error("replay", "--model FILE and --cluster FILE are required (the files "
                                     "the plan was made from)");
  in.plan_path = positional[0];
  in.scale = o.scale;

  int rank = 0;
  if (cli_mpi_init(&rank) != EXIT_OK)
    return EXIT_BAD_INPUT;
  /* Every rank loads; the first failing rank's message is printed (rank 0's if it fails). */
  int status = load_inputs(&in, 0) != EXIT_OK ? rank : -1, first = -1;
  int fail_rank = status >= 0 ? status : 1 << 30;
  MPI_Allreduce(&fail_rank, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first != (1 << 30)) {
    if (rank == first) {
      free_inputs(&in);
      in.plans = NULL, in.model = NULL, in.cluster = NULL;
      if (rank != 0)
        fprintf(stderr, "p3cfg: rank %d:\n", rank);
      load_inputs(&in, 1);
    }
    free_inputs(&in);
    MPI_Finalize();
    return EXIT_BAD_INPUT;
  }
  p3cfg_replay_report rep;
  int rc =
      p3cfg_replay_run(&rep, MPI_COMM_WORLD, in.plans, in.plan_no - 1, in.model, in.cluster, &o);
  int exit_code = EXIT_OK;
  if (rc != 0) {
    exit_code = cli_mpi_failure(rc, rank);
  } else if (rank == 0) {
    if (json)
      print_json(&in, &rep, &o);
    else
      print_table(&in, &rep, &o);
    if (fflush(stdout) != 0)
      exit_code = EXIT_BAD_INPUT;
  }
  free_inputs(&in);
  MPI_Finalize();
  return exit_code;
}

#endif
