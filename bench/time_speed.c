/*
 * time_speed.c — nanoseconds per p3cfg__perf_plan call (the search scores millions of
 * plans, so the time model must stay near a microsecond): GPT-3 175B on 1024 A100s
 * (128 DGX A100 nodes, default placement, uniform network), for a few typical plans
 * and averaged over every valid plan of the search space (tp, pp, mbs, interleaving,
 * recompute, sp, ZeRO 0/1) that uses all 1024 GPUs. Medians of 5 runs, one core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "gpu_presets.h"
#include "perf.h"
#include "plan_rules.h"

#define RUNS 5
#define MAX_PLANS 20000

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static p3cfg_model model;
static p3cfg_cluster cluster;
static p3cfg_plan *plans;
static size_t n_plans;
static void *ws;
static size_t ws_bytes;
static volatile double sink;

/* Median over RUNS of the mean ns per call over plans[lo, hi), each repeated `reps`. */
static double time_plans(size_t lo, size_t hi, int reps)
{
  double runs[RUNS];
  for (int r = 0; r < RUNS; r++) {
    const double t0 = now_s();
    for (int k = 0; k < reps; k++)
      for (size_t i = lo; i < hi; i++) {
        p3cfg_time t;
        p3cfg__perf_plan(&t, &model, &cluster, &plans[i], NULL, ws, ws_bytes);
        sink += t.iteration_s;
      }
    runs[r] = (now_s() - t0) * 1e9 / ((double)reps * (double)(hi - lo));
  }
  qsort(runs, RUNS, sizeof runs[0], cmp_double);
  return runs[RUNS / 2];
}

static int add_plan(uint32_t tp, uint32_t pp, uint32_t mbs, uint32_t v, p3cfg_recompute rc,
                    int sp, uint32_t zero)
{
  if (n_plans == MAX_PLANS)
    return -1;
  p3cfg_plan *p = &plans[n_plans];
  p3cfg_plan_init(p);
  p->tp = tp, p->pp = pp, p->dp = 1024 / (tp * pp), p->micro_batch = mbs;
  p->virtual_stages = v, p->recompute = rc, p->sequence_parallel = sp, p->zero_stage = zero;
  p->global_batch = model.global_batch;
  if (p3cfg__plan_balanced_split(p, &model) || p3cfg__plan_check(p, &model, &cluster))
    return -1;
  const size_t need = p3cfg__perf_workspace_bytes(p);
  if (need > ws_bytes)
    return -1;
  n_plans++;
  return 0;
}

int main(void)
{
  struct utsname u;
  if (uname(&u) == 0)
    printf("machine: %s %s %s\n", u.nodename, u.sysname, u.machine);
  memset(&model, 0, sizeof model);
  model.name = (char *)"gpt3-175b";
  model.layers = 96, model.hidden = 12288, model.heads = 96, model.kv_heads = 96;
  model.ffn_hidden = 4 * 12288, model.vocab = 51200, model.seq_len = 2048;
  model.global_batch = 1536, model.tied_embeddings = true;
  model.position_embedding = P3CFG_POS_LEARNED, model.flash_attention = true;
  model.bias = model.dropout = true;
  memset(&cluster, 0, sizeof cluster);
  cluster.nodes = 128, cluster.gpus_per_node = 8, cluster.gpu = *p3cfg__gpu_preset("a100-80gb");
  cluster.intra_Bps = 300e9, cluster.intra_latency_s = 3e-6;
  cluster.inter_Bps = 25e9, cluster.inter_latency_s = 6e-6;
  ws_bytes = 64u << 20;
  ws = malloc(ws_bytes);
  plans = calloc(MAX_PLANS, sizeof *plans);
  if (!ws || !plans)
    return 1;

  static const struct {
    const char *what;
    uint32_t tp, pp, mbs, v;
    p3cfg_recompute rc;
    int sp;
    uint32_t zero;
  } typical[] = {
      {"tp8 pp8 dp16 mbs1 1F1B, sp+selective, zero1", 8, 8, 1, 1, P3CFG_RECOMPUTE_SELECTIVE, 1, 1},
      {"tp8 pp8 dp16 mbs1 v3, sp+selective, zero1", 8, 8, 1, 3, P3CFG_RECOMPUTE_SELECTIVE, 1, 1},
      {"tp8 pp16 dp8 mbs1 v6, full recompute", 8, 16, 1, 6, P3CFG_RECOMPUTE_FULL, 0, 0},
      {"tp8 pp8 dp16 mbs1 v12 (1 layer/chunk)", 8, 8, 1, 12, P3CFG_RECOMPUTE_SELECTIVE, 1, 1},
      {"tp4 pp32 dp8 mbs2 1F1B", 4, 32, 2, 1, P3CFG_RECOMPUTE_FULL, 1, 1},
  };
  printf("GPT-3 175B (gb 1536, s 2048) on 128 x 8 A100-80GB, default placement\n");
  for (size_t i = 0; i < sizeof typical / sizeof typical[0]; i++) {
    n_plans = 0;
    if (add_plan(typical[i].tp, typical[i].pp, typical[i].mbs, typical[i].v, typical[i].rc,
                 typical[i].sp, typical[i].zero))
      continue;
    printf("  %-48s %8.0f ns/call\n", typical[i].what, time_plans(0, 1, 20000));
  }

  /* The search space at full size: every valid combination using all 1024 GPUs. */
  n_plans = 0;
  for (uint32_t tp = 1; tp <= 8; tp *= 2)
    for (uint32_t pp = 1; pp <= 96; pp++)
      for (uint32_t mbs = 1; mbs <= 8; mbs *= 2)
        for (uint32_t v = 1; v <= 12; v++)
          for (int rc = 0; rc < 3; rc++)
            for (int sp = 0; sp < 2; sp++)
              for (uint32_t zero = 0; zero < 2; zero++)
                if (1024 % (tp * pp) == 0 && !(sp && tp == 1))
                  add_plan(tp, pp, mbs, v, (p3cfg_recompute)rc, sp, zero);
  printf("  all %zu valid plans of the space (average)       %8.0f ns/call\n", n_plans,
         time_plans(0, n_plans, 20));
  free(plans);
  free(ws);
  return 0;
}
