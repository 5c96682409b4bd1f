/*
 * placement_bench.c — what placement buys and what it costs (issue "Placement").
 *
 *   build/bench_placement_bench [runs]
 *
 * 1. On the real 16-node A100 matrix (clusters/pipette-a100-16n.yaml), GPT-3 175B at
 *    tp 8 x pp 4 x dp 4: predicted iteration time of the default placement, of the
 *    median and the best of 1,000 random placements, and of the optimised one.
 * 2. Speed: placing one plan on 64, 256 and 1024 nodes of 8 GPUs with measured node
 *    links drawn like Pipette's (16.4-19.5 GB/s, a few links 10x slower), median of
 *    several runs, with the default move budget.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "p3cfg.h"
#include "perf.h"
#include "placement.h"
#include "plan_rules.h"
#include "types.h"

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static p3cfg_plan make_plan(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t dp,
                            uint32_t tp, uint32_t pp)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.dp = dp, p.tp = tp, p.pp = pp, p.micro_batch = 1;
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.sequence_parallel = 1;
  p.zero_stage = 1;
  if (p3cfg_plan_resolve(&p, m, c)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    exit(1);
  }
  return p;
}

static void pipette_gain(const p3cfg_model *m)
{
  p3cfg_cluster *c = NULL;
  if (p3cfg_cluster_load(&c, P3CFG_SOURCE_DIR "/clusters/pipette-a100-16n.yaml", NULL)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    exit(1);
  }
  p3cfg_plan p = make_plan(m, c, 4, 8, 4);
  const size_t n = 128;
  uint32_t map[128];
  size_t wsb = p3cfg__perf_workspace_bytes(&p);
  void *ws = malloc(wsb ? wsb : 1);
  p3cfg_time t;
  /* 1,000 random placements: random permutations of the 16 nodes (tp 8 fills a node). */
  double rnd[1000];
  uint32_t perm[16];
  for (int k = 0; k < 1000; k++) {
    for (uint32_t i = 0; i < 16; i++)
      perm[i] = i;
    for (uint32_t i = 15; i > 0; i--) {
      uint32_t j = (uint32_t)(next_rand() % (i + 1));
      uint32_t tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
    for (size_t r = 0; r < n; r++)
      map[r] = perm[r / 8] * 8 + (uint32_t)(r % 8);
    p3cfg__perf_plan(&t, m, c, &p, map, ws, wsb);
    rnd[k] = t.iteration_s;
  }
  qsort(rnd, 1000, sizeof *rnd, cmp_double);
  p3cfg__place_opts o = {1, 0, 0, 0};
  p3cfg__place_stats st;
  p3cfg__place(map, &t, &st, m, c, &p, &o);
  printf("GPT-3 175B, tp 8 x pp 4 x dp 4 on the Pipette 16-node A100 matrix:\n");
  printf("  default placement        %.4f s/iter\n", st.default_s);
  printf("  random placements (1000) median %.4f s, best %.4f s, worst %.4f s\n", rnd[500],
         rnd[0], rnd[999]);
  printf("  optimised placement      %.4f s/iter (%llu moves, %.3f s)\n", st.best_s,
         (unsigned long long)st.moves, st.elapsed_s);
  printf("  gain: %.3f %% over the default, %.3f %% over the random median, %.3f %% over "
         "the best random\n",
         100 * (st.default_s - st.best_s) / st.default_s, 100 * (rnd[500] - st.best_s) / rnd[500],
         100 * (rnd[0] - st.best_s) / rnd[0]);
  free(ws);
  p3cfg_cluster_free(c);
}

/* A cluster of `nodes` DGX A100 with a measured node matrix drawn like Pipette's. */
static p3cfg_cluster *synthetic(uint32_t nodes)
{
  char yaml[512];
  int len = snprintf(yaml, sizeof yaml,
                     "name: synthetic-%u\nnodes: %u\ngpus_per_node: 8\ngpu: a100-80gb\n"
                     "network: {intra_node_GBps: 300, inter_node_GBps: 25}\n",
                     nodes, nodes);
  p3cfg_cluster *c = NULL;
  if (p3cfg_cluster_load_string(&c, yaml, (size_t)len, "synthetic.yaml", NULL)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    exit(1);
  }
  /* Attach the links by hand: a 1024-node matrix (a million numbers) is past the file
   * loader's size limit, and the bench measures placement, not parsing. */
  const size_t nn = (size_t)nodes * nodes;
  c->links.granularity = P3CFG_LINKS_NODE;
  c->links.n = nodes;
  c->links.bandwidth_Bps = p3cfg__malloc(nn * sizeof(double));
  c->links.latency_s = p3cfg__malloc(nn * sizeof(double));
  for (size_t k = 0; k < nn; k++) {
    const size_t i = k / nodes, j = k % nodes;
    double gbps = 16.4 + 3.1 * (double)(next_rand() % 1000) / 1000.0;
    if (i == j)
      gbps = 300.0;
    else if (next_rand() % 200 == 0)
      gbps /= 10.0;
    c->links.bandwidth_Bps[k] = gbps * 1e9;
    c->links.latency_s[k] = i == j ? 2e-6 : 5e-6;
  }
  return c;
}

static void speed(const p3cfg_model *m, uint32_t nodes, int runs)
{
  p3cfg_cluster *c = synthetic(nodes);
  /* A plan that fills the cluster: tp 8, pp 8, dp = nodes / 8. */
  p3cfg_plan p = make_plan(m, c, nodes / 8, 8, 8);
  const size_t n = (size_t)nodes * 8;
  uint32_t *map = malloc(n * sizeof *map);
  double *wall = malloc((size_t)runs * sizeof *wall);
  p3cfg__place_stats st;
  p3cfg_time t;
  for (int k = 0; k < runs; k++) {
    p3cfg__place_opts o = {(uint64_t)k + 1, 0, 0, 0};
    p3cfg__place(map, &t, &st, m, c, &p, &o);
    wall[k] = st.elapsed_s;
  }
  qsort(wall, (size_t)runs, sizeof *wall, cmp_double);
  printf("  %5u nodes (%6zu GPUs, dp %u tp 8 pp 8): median %.4f s per placement, %llu moves, "
         "gain %.3f %%\n",
         nodes, n, p.dp, wall[runs / 2], (unsigned long long)st.moves,
         100 * (st.default_s - st.best_s) / st.default_s);
  free(wall);
  free(map);
  p3cfg_cluster_free(c);
}

int main(int argc, char **argv)
{
  long parsed = argc > 1 ? strtol(argv[1], NULL, 10) : 5;
  int runs = parsed >= 1 && parsed <= 100 ? (int)parsed : 5;
  struct utsname u;
  uname(&u);
  printf("p3cfg %s placement bench on %s %s %s (%ld cores), %d runs\n", p3cfg_version_string(),
         u.nodename, u.sysname, u.machine, sysconf(_SC_NPROCESSORS_ONLN), runs);
  p3cfg_model *m = NULL;
  if (p3cfg_model_load(&m, P3CFG_SOURCE_DIR "/models/gpt3-175b.yaml", NULL)) {
    fprintf(stderr, "bench: %s\n", p3cfg_error_last()->message);
    return 1;
  }
  pipette_gain(m);
  printf("placement speed (default budget, one thread):\n");
  speed(m, 64, runs);
  speed(m, 256, runs);
  speed(m, 1024, runs);
  p3cfg_model_free(m);
  return 0;
}
