/*
 * test_search.c — p3cfg_search end to end on the presets: determinism (runs and thread
 * counts), constraints, the closest miss when nothing fits, and the orders published
 * sweeps measured (Narayanan et al. SC'21; Korthikanti et al. 2022).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "p3cfg.h"

#include "../preset_files.h"

static char *search_json(const p3cfg_model *m, const p3cfg_cluster *c,
                         const p3cfg_search_options *o)
{
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, o), 0, "%s", p3cfg_error_last()->message);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_result_search_json(&b, r, m, c), 0);
  /* elapsed_s differs between runs: cut it off. */
  char *cut = strstr(b.data, "\"elapsed_s\"");
  cr_assert_not_null(cut);
  *cut = '\0';
  char *copy = strdup(b.data);
  p3cfg_buffer_dispose(&b);
  p3cfg_result_free(r);
  return copy;
}

Test(search, same_result_for_every_run_and_thread_count)
{
  p3cfg_model *m = model("megatron-18.4b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 5;
  char *a = search_json(m, c, &o);
  char *b = search_json(m, c, &o);
  o.threads = 3;
  char *t = search_json(m, c, &o);
  cr_assert_str_eq(a, b);
  cr_assert_str_eq(a, t);
  free(a), free(b), free(t);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search, constraints_fix_dimensions_and_results_are_ordered)
{
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.tp = 8;
  o.recompute = P3CFG_RECOMPUTE_FULL;
  o.top_k = 20;
  o.global_batch = 64;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  cr_assert_gt(p3cfg_result_count(r), 1);
  double last = 0;
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_assert_eq(p->tp, 8);
    cr_assert_eq(p->recompute, P3CFG_RECOMPUTE_FULL);
    cr_assert_eq((uint64_t)p->dp * p->tp * p->pp, 64);
    cr_assert(p3cfg_result_memory(r, i)->fits);
    const p3cfg_time *t = p3cfg_result_time(r, i);
    cr_assert_not_null(t);
    cr_assert_geq(t->iteration_s, last);
    last = t->iteration_s;
    size_t n = 0;
    cr_assert_not_null(p3cfg_result_placement(r, i, &n));
    cr_assert_eq(n, 64);
  }
  const p3cfg_search_stats *s = p3cfg_result_search_stats(r);
  cr_assert_geq(s->evaluated, s->valid);
  cr_assert_geq(s->valid, s->feasible);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search, nothing_fits_returns_the_closest_miss)
{
  /* GPT-3 175B on one DGX A100: 175B parameters cannot fit in 8 x 80 GB. */
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-1n.yaml");
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, NULL), P3CFG_EINFEASIBLE);
  cr_assert_not_null(strstr(p3cfg_error_last()->message, "no plan fits"));
  cr_assert_eq(p3cfg_result_count(r), 1);
  cr_assert_eq(p3cfg_result_memory(r, 0)->fits, 0);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search, impossible_constraints_are_a_plan_error)
{
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.tp = 5; /* divides neither 64 GPUs nor 96 heads */
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), P3CFG_EPLAN);
  cr_assert_null(r);
  o.tp = 0;
  o.gpus = 1000;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), P3CFG_EINVALID);
  o.gpus = 0;
  o.version = 99;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), P3CFG_EINVALID);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* Best iteration time under constraints (with the model's batch unless given). */
static double best_time(const p3cfg_model *m, const p3cfg_cluster *c, p3cfg_search_options *o)
{
  p3cfg_result *r = NULL;
  int rc = p3cfg_search(&r, m, c, o);
  cr_assert_eq(rc, 0, "%s", p3cfg_error_last()->message);
  double t = p3cfg_result_time(r, 0)->iteration_s;
  p3cfg_result_free(r);
  return t;
}

Test(search, sequence_parallel_selective_beats_full_recompute)
{
  /* Korthikanti et al. Table 5: GPT-3 175B on 64 A100 (tp 8, pp 8, batch 64): 18.13 s
   * with full recompute, 13.75 s with sp + selective, 32 % more throughput. */
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.tp = 8, o.pp = 8, o.micro_batch = 1, o.global_batch = 64;
  o.recompute = P3CFG_RECOMPUTE_FULL, o.sequence_parallel = 0;
  const double full = best_time(m, c, &o);
  o.recompute = P3CFG_RECOMPUTE_SELECTIVE, o.sequence_parallel = 1;
  const double sel = best_time(m, c, &o);
  const double gain = full / sel - 1.0;
  cr_assert(gain > 0.20 && gain < 0.45, "sp+selective gain %.1f %%, published 31.8 %%",
            100.0 * gain);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search, interleaving_beats_plain_1f1b_at_small_batch)
{
  /* Narayanan et al. SC'21 Fig. 12: GPT 175B on 96 GPUs, interleaved beats
   * non-interleaved at small batch sizes; the gap closes as the batch grows. */
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-64n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.gpus = 96, o.tp = 8, o.pp = 12, o.micro_batch = 1, o.global_batch = 12 * 8;
  o.recompute = P3CFG_RECOMPUTE_FULL, o.sequence_parallel = 0;
  o.virtual_stages = 1;
  const double plain = best_time(m, c, &o);
  o.virtual_stages = 0; /* any interleaving */
  const double inter = best_time(m, c, &o);
  cr_assert_lt(inter, plain * 0.97, "interleaved %.3f s vs plain %.3f s", inter, plain);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* A memory margin leaves the margin free on every GPU of every plan kept, drops the
 * plans that needed it (fewer fit), and a version 1 options struct still searches. */
Test(search, margin_leaves_headroom_on_every_plan)
{
  p3cfg_model *m = model("megatron-1.7b.yaml");
  p3cfg_cluster *c = cluster("dgx-a100-1n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 50;
  p3cfg_result *plain = NULL, *r = NULL;
  cr_assert_eq(p3cfg_search(&plain, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  o.mem_margin_fraction = 0.5;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  const p3cfg_search_stats *sp = p3cfg_result_search_stats(plain);
  const p3cfg_search_stats *sr = p3cfg_result_search_stats(r);
  cr_assert_lt(sr->feasible, sp->feasible, "a 50 %% margin must drop some plans");
  cr_assert_eq(sr->valid, sp->valid);
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_memory *mem = p3cfg_result_memory(r, i);
    cr_assert(mem->fits);
    cr_assert_geq(mem->margin_bytes, mem->capacity_bytes / 2);
    cr_assert_leq(mem->total_bytes + mem->margin_bytes, mem->capacity_bytes);
  }
  p3cfg_result_free(r);
  p3cfg_search_options v1 = o;
  v1.version = 1; /* the margin fields are not read */
  cr_assert_eq(p3cfg_search(&r, m, c, &v1), 0, "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_result_search_stats(r)->feasible, sp->feasible);
  cr_assert_eq(p3cfg_result_memory(r, 0)->margin_bytes, 0);
  p3cfg_result_free(r);
  p3cfg_result_free(plain);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
