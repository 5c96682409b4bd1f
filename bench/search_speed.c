/*
 * search_speed.c — how fast the search is (issue "time model and search"): plans scored
 * per second on one core, and the wall time of whole searches, median of several runs.
 *
 *   build/bench_search_speed [runs]
 *
 * Cases: GPT-3 175B on 1024 A100 (target < 1 s) and Llama 3 405B on 16384 H100
 * (target < 5 s), each on one thread; then the first again with every core, to show the
 * result does not depend on the thread count. Issue 16 ("Speed") adds the 5-D space
 * DP x TP x PP x CP x EP (x ETP), every other knob searched, on one thread: DeepSeek-V3
 * on 2048 H100 (target < 2 s), Qwen3-235B-A22B on 256 H100, Qwen3-30B-A3B on 64 H100
 * (an EP > 1 plan first in < 5 s), Llama 3 8B at 128K on 64 H100 (cp searched).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "p3cfg.h"

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run_case(const char *model_file, const char *cluster_file, int runs, unsigned threads)
{
  char mpath[1024], cpath[1024];
  snprintf(mpath, sizeof mpath, "%s/models/%s", P3CFG_SOURCE_DIR, model_file);
  snprintf(cpath, sizeof cpath, "%s/clusters/%s", P3CFG_SOURCE_DIR, cluster_file);
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  if (p3cfg_model_load(&m, mpath, NULL) || p3cfg_cluster_load(&c, cpath, NULL)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    p3cfg_model_free(m);
    return 1;
  }
  p3cfg_search_options o;
  p3cfg_search_options_init(&o);
  o.threads = threads;
  double *wall = calloc((size_t)runs, sizeof *wall);
  double *rate = calloc((size_t)runs, sizeof *rate);
  uint64_t evaluated = 0, valid = 0, feasible = 0, bounded = 0;
  char best[256] = "";
  for (int i = 0; i < runs; i++) {
    p3cfg_result *r = NULL;
    int rc = p3cfg_search(&r, m, c, &o);
    if (rc) {
      fprintf(stderr, "bench: search failed: %s\n", p3cfg_error_last()->message);
      p3cfg_result_free(r);
      free(wall);
      free(rate);
      p3cfg_model_free(m);
      p3cfg_cluster_free(c);
      return 1;
    }
    const p3cfg_search_stats *s = p3cfg_result_search_stats(r);
    wall[i] = s->elapsed_s;
    rate[i] = (double)s->evaluated / s->elapsed_s;
    evaluated = s->evaluated;
    valid = s->valid;
    feasible = s->feasible;
    bounded = s->bounded;
    const p3cfg_plan *p = p3cfg_result_plan(r, 0);
    const p3cfg_time *t = p3cfg_result_time(r, 0);
    snprintf(best, sizeof best,
             "dp %u tp %u pp %u cp %u ep %u etp %u mbs %u vpp %u %s%s zero %u: %.3f s/iter",
             p->dp, p->tp, p->pp, p->cp ? p->cp : 1, p->ep ? p->ep : 1, p->etp ? p->etp : p->tp,
             p->micro_batch, p->virtual_stages,
             p3cfg_recompute_name(p->recompute), p->sequence_parallel ? " sp" : "",
             p->zero_stage, t ? t->iteration_s : 0.0);
    p3cfg_result_free(r);
  }
  qsort(wall, (size_t)runs, sizeof *wall, cmp_double);
  qsort(rate, (size_t)runs, sizeof *rate, cmp_double);
  printf("%-20s %-20s threads %-3u evaluated %9llu valid %9llu feasible %8llu bounded %8llu\n"
         "  median wall %8.4f s  median %12.0f plans/s\n  best: %s\n",
         model_file, cluster_file, threads, (unsigned long long)evaluated,
         (unsigned long long)valid, (unsigned long long)feasible, (unsigned long long)bounded,
         wall[runs / 2], rate[runs / 2], best);
  free(wall);
  free(rate);
  p3cfg_model_free(m);
  p3cfg_cluster_free(c);
  return 0;
}

int main(int argc, char **argv)
{
  long parsed = argc > 1 ? strtol(argv[1], NULL, 10) : 5;
  int runs = parsed >= 1 && parsed <= 1000 ? (int)parsed : 5;
  struct utsname u;
  uname(&u);
  printf("p3cfg %s search speed, %d runs each, on %s %s %s (%ld cores)\n",
         p3cfg_version_string(), runs, u.nodename, u.sysname, u.machine,
         sysconf(_SC_NPROCESSORS_ONLN));
  int bad = 0;
  bad |= run_case("gpt3-175b.yaml", "dgx-a100-128n.yaml", runs, 1);
  bad |= run_case("llama3-405b.yaml", "dgx-h100-2048n.yaml", runs, 1);
  bad |= run_case("megatron-1t.yaml", "dgx-a100-128n.yaml", runs, 1);
  bad |= run_case("deepseek-v3.yaml", "dgx-h100-256n.yaml", runs, 1);
  bad |= run_case("qwen3-235b-a22b.yaml", "dgx-h100-32n.yaml", runs, 1);
  bad |= run_case("qwen3-30b-a3b.yaml", "dgx-h100-8n.yaml", runs, 1);
  bad |= run_case("llama3-8b-128k.yaml", "dgx-h100-8n.yaml", runs, 1);
  bad |= run_case("deepseek-v3.yaml", "dgx-h100-2048n.yaml", runs, 1);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  bad |= run_case("gpt3-175b.yaml", "dgx-a100-128n.yaml", runs, cores > 1 ? (unsigned)cores : 1);
  return bad;
}
