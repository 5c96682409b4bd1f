/*
 * extreme_inputs.c — time and peak memory of the extreme but valid inputs of
 * tests/extreme/ (a 100T-parameter model, 1,048,576 and 4,194,304 GPUs, million-token
 * sequences, a million-word vocabulary, every model key at its bound).
 *
 * Each case runs in a child process of its own, so that its peak resident memory
 * (wait4's ru_maxrss) is its alone: load the model and cluster, estimate one plan over
 * the GPUs the global batch can keep busy, render that plan's JSON (one entry per rank),
 * and search those GPUs for the top 3. Prints the machine, then one line per case with
 * the median of --repeat runs (default 3) of each phase and the largest peak memory.
 *
 * Usage: bench_extreme_inputs [--repeat N] [CASE-SUBSTRING]
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "p3cfg.h"

#define DIR P3CFG_SOURCE_DIR "/tests/extreme/"

typedef struct bcase {
  const char *model, *cluster;
  uint32_t tp, pp;
  uint64_t gpus; /* 0: all */
} bcase;

/* The combinations of tests/extreme/extreme_test.c. */
static const bcase cases[] = {
    {"model-100t.yaml", "cluster-1m-gpus.yaml", 8, 512, 0},
    {"model-100t.yaml", "cluster-max-gpus.yaml", 8, 512, 1048576},
    {"model-1m-seq.yaml", "cluster-1m-gpus.yaml", 8, 32, 16384},
    {"model-1m-vocab.yaml", "cluster-1m-gpus.yaml", 8, 32, 262144},
    {"model-1m-vocab.yaml", "cluster-max-gpus.yaml", 32, 4, 131072},
    {"model-limits.yaml", "cluster-1m-gpus.yaml", 8, 1024, 8192},
    {"model-limits.yaml", "cluster-max-gpus.yaml", 256, 1024, 262144},
};

enum { LOAD, ESTIMATE, JSON, SEARCH, N_PHASES };
static const char *const phase_names[N_PHASES] = {"load", "estimate", "json", "search"};

typedef struct timing {
  double s[N_PHASES];
  int search_rc;
  size_t json_bytes;
} timing;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One run of a case (in the child). */
static int run_case(const bcase *c, timing *t)
{
  char mpath[512], cpath[512];
  snprintf(mpath, sizeof mpath, "%s%s", DIR, c->model);
  snprintf(cpath, sizeof cpath, "%s%s", DIR, c->cluster);
  p3cfg_model *m = NULL;
  p3cfg_cluster *cl = NULL;
  p3cfg_result *r = NULL;
  p3cfg_buffer b = {0};
  int rc = 1;
  double t0 = now_s();
  if (p3cfg_model_load(&m, mpath, NULL) || p3cfg_cluster_load(&cl, cpath, NULL))
    goto done;
  t->s[LOAD] = now_s() - t0;
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = c->tp;
  plan.pp = c->pp;
  if (c->gpus)
    plan.dp = (uint32_t)(c->gpus / ((uint64_t)c->tp * c->pp));
  plan.recompute = P3CFG_RECOMPUTE_FULL;
  plan.sequence_parallel = c->tp > 1;
  plan.zero_stage = 1;
  t0 = now_s();
  if (p3cfg_estimate(&r, m, cl, &plan, NULL))
    goto done;
  t->s[ESTIMATE] = now_s() - t0;
  t0 = now_s();
  if (p3cfg_result_plan_json(&b, r, 0, m, cl))
    goto done;
  t->s[JSON] = now_s() - t0;
  t->json_bytes = b.len;
  p3cfg_result_free(r);
  r = NULL;
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 3;
  so.max_micro_batch = 2;
  so.gpus = c->gpus;
  t0 = now_s();
  t->search_rc = p3cfg_search(&r, m, cl, &so);
  t->s[SEARCH] = now_s() - t0;
  rc = 0;
done:
  if (rc)
    fprintf(stderr, "extreme_inputs: %s on %s: %s\n", c->model, c->cluster,
            p3cfg_error_last()->message);
  p3cfg_buffer_dispose(&b);
  p3cfg_result_free(r);
  p3cfg_cluster_free(cl);
  p3cfg_model_free(m);
  return rc;
}

/* Run a case in a child; its timing comes back through a pipe. Returns the child's
 * peak resident memory in KiB, or -1 when it failed. */
static long run_child(const bcase *c, timing *t)
{
  int fd[2];
  if (pipe(fd) != 0)
    return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    close(fd[0]);
    timing mine;
    memset(&mine, 0, sizeof mine);
    int rc = run_case(c, &mine);
    if (write(fd[1], &mine, sizeof mine) != (ssize_t)sizeof mine)
      rc = 1;
    _exit(rc);
  }
  close(fd[1]);
  ssize_t got = read(fd[0], t, sizeof *t);
  close(fd[0]);
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      got != (ssize_t)sizeof *t)
    return -1;
  return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void print_machine(void)
{
  struct utsname u;
  if (uname(&u) == 0)
    printf("machine: %s %s %s, %ld CPUs\n", u.nodename, u.sysname, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN));
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      printf("cpu: %s", strchr(line, ':') ? strchr(line, ':') + 2 : line);
      break;
    }
  if (f)
    fclose(f);
  printf("libp3cfg %s\n\n", p3cfg_version_string());
}

int main(int argc, char **argv)
{
  int repeat = 3;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      char *end = NULL;
      long v = strtol(argv[++i], &end, 10);
      if (!end || *end || v < 1 || v > 100) {
        fprintf(stderr, "extreme_inputs: --repeat takes 1..100\n");
        return 2;
      }
      repeat = (int)v;
    } else {
      only = argv[i];
    }
  }
  print_machine();
  printf("%-44s %9s %9s %9s %9s %10s  %-18s %9s\n", "case (median of runs, seconds)",
         phase_names[LOAD], phase_names[ESTIMATE], phase_names[JSON], phase_names[SEARCH],
         "json MiB", "search", "peak MiB");
  int bad = 0;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const bcase *c = &cases[k];
    char name[128];
    snprintf(name, sizeof name, "%s on %s", c->model, c->cluster);
    if (only && !strstr(name, only))
      continue;
    double s[N_PHASES][100];
    long peak = 0;
    timing t;
    memset(&t, 0, sizeof t);
    for (int r = 0; r < repeat; r++) {
      long rss = run_child(c, &t);
      if (rss < 0) {
        bad = 1;
        break;
      }
      peak = rss > peak ? rss : peak;
      for (int p = 0; p < N_PHASES; p++)
        s[p][r] = t.s[p];
    }
    if (bad) {
      printf("%-44s failed\n", name);
      continue;
    }
    printf("%-44s", name);
    for (int p = 0; p < N_PHASES; p++) {
      qsort(s[p], (size_t)repeat, sizeof s[p][0], cmp_double);
      printf(" %9.3f", s[p][repeat / 2]);
    }
    printf(" %10.1f  %-18s %9.1f\n", (double)t.json_bytes / (1024.0 * 1024.0),
           p3cfg_error_name(t.search_rc), (double)peak / 1024.0);
    fflush(stdout);
  }
  return bad;
}
