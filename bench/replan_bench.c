/*
 * replan_bench.c — how fast re-planning is when nodes fail (issue 17, section 3: under
 * 1 s on 1024 GPUs): median wall times, one thread, of
 *   - `search --exclude node17` (GPT-3 175B, dgx-a100-128n: 1024 A100),
 *   - `replan` of the full cluster's best plan with node17 lost (keeps the degrees),
 *   - `replan` of a plan that uses every GPU (tp 8 pp 16 dp 8) with node17 lost: dp
 *     shrinks, or the search takes over,
 *   - `search --exclude agpu1475` on the measured 16-node Pipette matrix (placement on).
 *
 *   build/bench_replan_bench [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p3cfg.h"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int load(p3cfg_model **m, p3cfg_cluster **c, const char *model, const char *cluster)
{
  char mp[1024], cp[1024];
  snprintf(mp, sizeof mp, "%s/models/%s", P3CFG_SOURCE_DIR, model);
  snprintf(cp, sizeof cp, "%s/clusters/%s", P3CFG_SOURCE_DIR, cluster);
  if (p3cfg_model_load(m, mp, NULL) || p3cfg_cluster_load(c, cp, NULL)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    return 1;
  }
  return 0;
}

static void report(const char *what, double *t, int runs, const p3cfg_result *r)
{
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  const p3cfg_plan *p = p3cfg_result_plan(r, 0);
  const p3cfg_time *tm = p3cfg_result_time(r, 0);
  const p3cfg_replan_info *x = p3cfg_result_replan_info(r);
  printf("%-44s median %.4f s (min %.4f, max %.4f)  dp %u tp %u pp %u, %.3f s/iter", what,
         t[runs / 2], t[0], t[runs - 1], p->dp, p->tp, p->pp, tm ? tm->iteration_s : 0.0);
  if (x)
    printf(", kept %s, %llu of %llu ranks moved", x->kept_degrees ? "yes" : "no",
           (unsigned long long)x->ranks_moved, (unsigned long long)x->ranks);
  printf("\n");
}

/* Median wall time of `runs` searches with `exclude` on model/cluster. */
static int bench_search(const char *model, const char *cluster, const char *exclude, int runs,
                        const char *label)
{
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  if (load(&m, &c, model, cluster))
    return 1;
  double *t = calloc((size_t)runs, sizeof *t);
  p3cfg_result *last = NULL;
  for (int i = 0; i < runs; i++) {
    const double t0 = now_s();
    p3cfg_gpu_list ex = {0};
    p3cfg_search_options so;
    p3cfg_search_options_init(&so);
    int rc = p3cfg_cluster_parse_gpus(&ex, c, exclude, strlen(exclude), "bench");
    so.exclude_gpus = ex.gpus;
    so.n_exclude_gpus = ex.count;
    p3cfg_result *r = NULL;
    if (!rc)
      rc = p3cfg_search(&r, m, c, &so);
    t[i] = now_s() - t0;
    p3cfg_gpu_list_dispose(&ex);
    if (rc) {
      fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
      return 1;
    }
    p3cfg_result_free(last);
    last = r;
  }
  report(label, t, runs, last);
  p3cfg_result_free(last);
  free(t);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  return 0;
}

/* Median wall time of `runs` re-plans of `old` (plan 0 of a result) with node17 lost. */
static int bench_replan(const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_result *old,
                        int runs, const char *label)
{
  double *t = calloc((size_t)runs, sizeof *t);
  p3cfg_result *last = NULL;
  size_t n = 0;
  const p3cfg_rank_place *pl = p3cfg_result_placement(old, 0, &n);
  for (int i = 0; i < runs; i++) {
    const double t0 = now_s();
    p3cfg_gpu_list ex = {0};
    int rc = p3cfg_cluster_parse_gpus(&ex, c, "node17", 6, "bench");
    p3cfg_replan_options ro;
    p3cfg_replan_options_init(&ro);
    ro.exclude_gpus = ex.gpus;
    ro.n_exclude_gpus = ex.count;
    p3cfg_result *r = NULL;
    if (!rc)
      rc = p3cfg_replan(&r, m, c, p3cfg_result_plan(old, 0), pl, n, &ro);
    t[i] = now_s() - t0;
    p3cfg_gpu_list_dispose(&ex);
    if (rc) {
      fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
      return 1;
    }
    p3cfg_result_free(last);
    last = r;
  }
  report(label, t, runs, last);
  p3cfg_result_free(last);
  free(t);
  return 0;
}

int main(int argc, char **argv)
{
  const int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
  if (runs < 1)
    return 2;
  int bad = bench_search("gpt3-175b.yaml", "dgx-a100-128n.yaml", "node17", runs,
                         "search --exclude node17 (1024 A100)");
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  if (load(&m, &c, "gpt3-175b.yaml", "dgx-a100-128n.yaml"))
    return 1;
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 1;
  p3cfg_result *best = NULL;
  if (p3cfg_search(&best, m, c, &so)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    return 1;
  }
  bad |= bench_replan(m, c, best, runs, "replan best plan, node17 lost (1024 A100)");
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 8;
  p.pp = 16;
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.sequence_parallel = 1;
  p.zero_stage = 1;
  p3cfg_result *full = NULL;
  if (p3cfg_estimate(&full, m, c, &p, NULL)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    return 1;
  }
  bad |= bench_replan(m, c, full, runs, "replan tp8 pp16 dp8 (every GPU), node17 lost");
  p3cfg_result_free(full);
  p3cfg_result_free(best);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  bad |= bench_search("gpt3-175b.yaml", "pipette-a100-16n.yaml", "agpu1475", runs,
                      "search --exclude agpu1475 (Pipette, placed)");
  return bad;
}
