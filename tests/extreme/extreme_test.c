/*
 * extreme_test.c — extreme but valid inputs (CTest `extreme`, label extreme): a
 * 100-trillion-parameter model, a cluster of 1,048,576 GPUs, the largest cluster the
 * parser takes (4,194,304 GPUs), million-token sequences, a million-word vocabulary and
 * every model key at its bound (the YAML files beside this one).
 *
 * Each combination is loaded, estimated with a plan that uses the whole cluster or as
 * many GPUs as the global batch can keep busy, and searched on those GPUs (top 3). Whatever comes out must be arithmetic that did not
 * wrap: per stage, peak = weights + gradients + optimizer + activations + other and
 * total = peak + reserved (or saturated to UINT64_MAX, never a small wrapped number),
 * `fits` agrees with the totals, times are finite and positive, MFU within (0, 1],
 * tokens/s = global batch * seq_len / iteration time. Infeasible is a fine answer
 * (P3CFG_EINFEASIBLE with the closest miss, or P3CFG_EPLAN with a reason) as long as it
 * comes with a message. Every search must finish within LIMIT_S (generous, for the
 * sanitizer and valgrind builds; bench/extreme_inputs.c reports the real times).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p3cfg.h"

#define DIR P3CFG_SOURCE_DIR "/tests/extreme/"
#define LIMIT_S 60.0

static int failures;

#define CHECK(cond, ...)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "extreme: FAIL %s (%s:%d): ", #cond, __FILE__, __LINE__);           \
      fprintf(stderr, __VA_ARGS__);                                                       \
      fputc('\n', stderr);                                                                \
      failures++;                                                                         \
    }                                                                                     \
  } while (0)

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* a + b, or UINT64_MAX when it does not fit (the estimator saturates the same way). */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void check_plan(const char *what, const p3cfg_result *r, size_t i,
                       const p3cfg_model_info *mi)
{
  const p3cfg_plan *p = p3cfg_result_plan(r, i);
  const p3cfg_memory *m = p3cfg_result_memory(r, i);
  CHECK(p && m, "%s: plan %zu missing", what, i);
  if (!p || !m)
    return;
  CHECK(m->n_stages == p->pp, "%s: %u stages for pp %u", what, m->n_stages, p->pp);
  uint64_t peak = 0, total = 0, layers = 0;
  for (uint32_t s = 0; s < m->n_stages; s++) {
    const p3cfg_stage_memory *st = &m->stages[s];
    uint64_t sum = sat_add(sat_add(sat_add(st->weights_bytes, st->gradients_bytes),
                                   sat_add(st->optimizer_bytes, st->activations_bytes)),
                           st->other_bytes);
    CHECK(st->peak_bytes == sum, "%s: stage %u peak %llu != sum %llu", what, s,
          (unsigned long long)st->peak_bytes, (unsigned long long)sum);
    CHECK(st->weights_bytes > 0 && st->params > 0, "%s: stage %u holds no weights", what, s);
    peak = st->peak_bytes > peak ? st->peak_bytes : peak;
    const uint64_t t = sat_add(st->peak_bytes, st->reserved_bytes);
    total = t > total ? t : total;
    layers += st->layers;
  }
  CHECK(layers == mi->layers, "%s: stages hold %llu layers of %llu", what,
        (unsigned long long)layers, (unsigned long long)mi->layers);
  CHECK(m->peak_bytes == peak, "%s: peak %llu, largest stage %llu", what,
        (unsigned long long)m->peak_bytes, (unsigned long long)peak);
  CHECK(m->total_bytes == total, "%s: total %llu, largest stage %llu", what,
        (unsigned long long)m->total_bytes, (unsigned long long)total);
  CHECK(m->fits == (m->total_bytes <= m->capacity_bytes), "%s: fits %d but %llu of %llu", what,
        m->fits, (unsigned long long)m->total_bytes, (unsigned long long)m->capacity_bytes);
  const p3cfg_time *t = p3cfg_result_time(r, i);
  if (!t)
    return;
  CHECK(isfinite(t->iteration_s) && t->iteration_s > 0, "%s: iteration %g s", what,
        t->iteration_s);
  CHECK(t->mfu > 0 && t->mfu <= 1, "%s: MFU %g", what, t->mfu);
  const double tokens = (double)p->global_batch * (double)mi->seq_len;
  CHECK(fabs(t->tokens_per_s * t->iteration_s - tokens) <= 1e-6 * tokens,
        "%s: %g tokens/s * %g s != %g tokens", what, t->tokens_per_s, t->iteration_s, tokens);
  const double parts[] = {t->compute_s, t->tp_comm_s, t->pp_comm_s, t->dp_comm_s,
                          t->bubble_s, t->optimizer_s};
  for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
    CHECK(isfinite(parts[k]) && parts[k] >= -1e-9 * t->iteration_s &&
              parts[k] <= t->iteration_s * (1 + 1e-9),
          "%s: time part %zu is %g of %g s", what, k, parts[k], t->iteration_s);
}

typedef struct combo {
  const char *model, *cluster;
  uint32_t tp, pp;      /* an estimate plan (dp: every GPU left) */
  uint64_t gpus;        /* 0: all */
  int expect_no_plan;   /* 1: estimate must say P3CFG_EPLAN */
} combo;

static const combo combos[] = {
    {"model-100t.yaml", "cluster-1m-gpus.yaml", 8, 512, 0, 0},
    {"model-100t.yaml", "cluster-max-gpus.yaml", 8, 512, 1048576, 0},
    {"model-1m-seq.yaml", "cluster-1m-gpus.yaml", 8, 32, 16384, 0},
    {"model-1m-seq.yaml", "cluster-max-gpus.yaml", 8, 32, 0, 1},
    {"model-1m-vocab.yaml", "cluster-1m-gpus.yaml", 8, 32, 262144, 0},
    {"model-1m-vocab.yaml", "cluster-max-gpus.yaml", 32, 4, 131072, 0},
    {"model-limits.yaml", "cluster-1m-gpus.yaml", 8, 1024, 8192, 0},
    {"model-limits.yaml", "cluster-max-gpus.yaml", 256, 1024, 262144, 0},
};

static void run_combo(const combo *c)
{
  char what[256];
  snprintf(what, sizeof what, "%s on %s", c->model, c->cluster);
  p3cfg_model *m = NULL;
  p3cfg_cluster *cl = NULL;
  p3cfg_result *r = NULL;
  char mpath[512], cpath[512];
  snprintf(mpath, sizeof mpath, "%s%s", DIR, c->model);
  snprintf(cpath, sizeof cpath, "%s%s", DIR, c->cluster);
  const double t0 = now_s();
  if (p3cfg_model_load(&m, mpath, NULL) || p3cfg_cluster_load(&cl, cpath, NULL)) {
    CHECK(0, "%s: load failed: %s", what, p3cfg_error_last()->message);
    goto done;
  }
  p3cfg_model_info mi;
  p3cfg_cluster_info ci;
  CHECK(p3cfg_model_get_info(&mi, m) == P3CFG_OK, "%s", what);
  CHECK(p3cfg_cluster_get_info(&ci, cl) == P3CFG_OK, "%s", what);
  CHECK(mi.params_total > mi.params_per_layer * mi.layers / 2, "%s: %llu params", what,
        (unsigned long long)mi.params_total);

  /* The estimate. */
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = c->tp;
  plan.pp = c->pp;
  if (c->gpus)
    plan.dp = (uint32_t)(c->gpus / ((uint64_t)c->tp * c->pp));
  plan.recompute = P3CFG_RECOMPUTE_FULL;
  plan.sequence_parallel = c->tp > 1;
  plan.zero_stage = 1;
  int rc = p3cfg_estimate(&r, m, cl, &plan, NULL);
  if (c->expect_no_plan) {
    CHECK(rc == P3CFG_EPLAN && p3cfg_error_last()->message[0], "%s: estimate gave %s", what,
          p3cfg_error_name(rc));
  } else {
    CHECK(rc == P3CFG_OK, "%s: estimate gave %s: %s", what, p3cfg_error_name(rc),
          p3cfg_error_last()->message);
    if (r) {
      check_plan(what, r, 0, &mi);
      size_t n = 0;
      const p3cfg_rank_place *pl = p3cfg_result_placement(r, 0, &n);
      const p3cfg_plan *rp = p3cfg_result_plan(r, 0);
      CHECK(pl && n == (size_t)rp->dp * rp->tp * (rp->cp ? rp->cp : 1) * rp->pp, "%s: %zu ranks placed", what, n);
      if (pl && n)
        CHECK(pl[n - 1].node < ci.nodes && pl[n - 1].gpu < ci.gpus_per_node, "%s", what);
      p3cfg_buffer b = {0};
      CHECK(p3cfg_result_plan_json(&b, r, 0, m, cl) == P3CFG_OK, "%s: json", what);
      p3cfg_buffer_dispose(&b);
    }
  }
  p3cfg_result_free(r);
  r = NULL;

  /* The search. */
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 3;
  so.max_micro_batch = 2;
  so.threads = 2;
  so.gpus = c->gpus; /* the GPUs of the estimate: a global batch that spreads over them */
  const double s0 = now_s();
  rc = p3cfg_search(&r, m, cl, &so);
  const double search_s = now_s() - s0;
  CHECK(rc == P3CFG_OK || rc == P3CFG_EINFEASIBLE || rc == P3CFG_EPLAN,
        "%s: search gave %s: %s", what, p3cfg_error_name(rc), p3cfg_error_last()->message);
  if (rc != P3CFG_OK)
    CHECK(p3cfg_error_last()->message[0], "%s: no reason given", what);
  for (size_t i = 0; r && i < p3cfg_result_count(r); i++)
    check_plan(what, r, i, &mi);
  CHECK(search_s < LIMIT_S, "%s: search took %.1f s", what, search_s);
  printf("%-44s estimate+search %s in %.2f s (search %.2f s)\n", what, p3cfg_error_name(rc),
         now_s() - t0, search_s);
done:
  p3cfg_result_free(r);
  p3cfg_model_free(m);
  p3cfg_cluster_free(cl);
}

int main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++)
    run_combo(&combos[i]);
  printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
  return failures ? 1 : 0;
}
