/*
 * test_exclude.c — planted failures: GPUs excluded from search and estimate never carry
 * a rank, plans keep the global batch and say how many GPUs idle; p3cfg_replan keeps the
 * old degrees where they fit (moving only the ranks of failed GPUs) and falls back to a
 * search when they do not; bad lists are refused at their position.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "p3cfg.h"

static p3cfg_model *ld_model(const char *name)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/models/%s", P3CFG_SOURCE_DIR, name);
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, path, NULL), 0, "%s", p3cfg_error_last()->message);
  return m;
}

static p3cfg_cluster *ld_cluster(const char *name)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/clusters/%s", P3CFG_SOURCE_DIR, name);
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, path, NULL), 0, "%s", p3cfg_error_last()->message);
  return c;
}

static p3cfg_gpu_list parse(const p3cfg_cluster *c, const char *text)
{
  p3cfg_gpu_list l = {0};
  cr_assert_eq(p3cfg_cluster_parse_gpus(&l, c, text, strlen(text), "t"), 0, "%s",
               p3cfg_error_last()->message);
  return l;
}

/* No rank of plan i of r on an excluded GPU, no GPU twice. */
static void check_placement(const p3cfg_result *r, size_t i, const p3cfg_cluster *c,
                            const p3cfg_gpu_list *ex)
{
  p3cfg_cluster_info ci;
  p3cfg_cluster_get_info(&ci, c);
  size_t n = 0;
  const p3cfg_rank_place *pl = p3cfg_result_placement(r, i, &n);
  cr_assert_not_null(pl);
  static unsigned char used[1 << 16];
  memset(used, 0, sizeof used);
  for (size_t k = 0; k < n; k++) {
    const uint32_t g = pl[k].node * ci.gpus_per_node + pl[k].gpu;
    cr_assert_lt(g, sizeof used);
    cr_assert(!used[g], "GPU %u used twice", g);
    used[g] = 1;
    for (size_t e = 0; e < ex->count; e++)
      cr_assert_neq(g, ex->gpus[e], "rank %u on excluded GPU %u", pl[k].rank, g);
  }
}

Test(exclude, parse_hosts_gpus_comments)
{
  p3cfg_cluster *c = ld_cluster("dgx-a100-8n.yaml");
  p3cfg_gpu_list l = parse(c, "# failed\nnode3, node5:2\n node5:2 node7:0 # twice\n");
  cr_assert_eq(l.count, 10);
  cr_assert_eq(l.gpus[0], 24);
  cr_assert_eq(l.gpus[8], 42);
  cr_assert_eq(l.gpus[9], 56);
  p3cfg_gpu_list_dispose(&l);
  p3cfg_gpu_list bad = {0};
  cr_assert_eq(p3cfg_cluster_parse_gpus(&bad, c, "node1\nnode9", 11, "f.txt"), P3CFG_EVALUE);
  cr_assert_eq(p3cfg_error_last()->line, 2);
  cr_assert_eq(p3cfg_error_last()->column, 1);
  cr_assert_eq(p3cfg_cluster_parse_gpus(&bad, c, "node1:8", 7, "f.txt"), P3CFG_EVALUE);
  cr_assert_eq(p3cfg_error_last()->column, 7);
  cr_assert_eq(p3cfg_cluster_parse_gpus(&bad, c, "# nothing\n", 10, "f.txt"), P3CFG_EVALUE);
  cr_assert_null(bad.gpus);
  p3cfg_cluster_free(c);
}

Test(exclude, search_avoids_excluded_node_and_gpu)
{
  p3cfg_model *m = ld_model("llama3-8b.yaml");
  p3cfg_cluster *c = ld_cluster("dgx-a100-8n.yaml");
  p3cfg_gpu_list ex = parse(c, "node3,node6:5");
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 5;
  so.exclude_gpus = ex.gpus;
  so.n_exclude_gpus = ex.count;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &so), 0, "%s", p3cfg_error_last()->message);
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    check_placement(r, i, c, &ex);
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_assert_eq(p->global_batch, 512);
    p3cfg_gpu_use u;
    cr_assert_eq(p3cfg_result_gpu_use(&u, r, i), 0);
    cr_assert_eq(u.total, 64);
    cr_assert_eq(u.excluded, 9);
    cr_assert_eq(u.used + u.idle + u.excluded, 64);
    cr_assert_leq(u.used, 55);
  }
  p3cfg_result_free(r);
  /* Exclusions survive --gpus: exactly that many, still off the failed GPUs. */
  so.gpus = 32;
  cr_assert_eq(p3cfg_search(&r, m, c, &so), 0, "%s", p3cfg_error_last()->message);
  check_placement(r, 0, c, &ex);
  p3cfg_result_free(r);
  so.gpus = 60;
  cr_assert_eq(p3cfg_search(&r, m, c, &so), P3CFG_EINVALID);
  p3cfg_gpu_list_dispose(&ex);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(exclude, search_on_measured_links_places_off_excluded)
{
  p3cfg_model *m = ld_model("gpt3-175b.yaml");
  p3cfg_cluster *c = ld_cluster("pipette-a100-16n.yaml");
  p3cfg_gpu_list ex = parse(c, "agpu1475,agpu1478:3");
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 3;
  so.exclude_gpus = ex.gpus;
  so.n_exclude_gpus = ex.count;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &so), 0, "%s", p3cfg_error_last()->message);
  for (size_t i = 0; i < p3cfg_result_count(r); i++)
    check_placement(r, i, c, &ex);
  p3cfg_result_free(r);
  p3cfg_gpu_list_dispose(&ex);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(exclude, estimate_dp_fills_what_is_left)
{
  p3cfg_model *m = ld_model("llama3-8b.yaml");
  p3cfg_cluster *c = ld_cluster("dgx-a100-8n.yaml");
  p3cfg_gpu_list ex = parse(c, "node0:0");
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  eo.exclude_gpus = ex.gpus;
  eo.n_exclude_gpus = ex.count;
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 2;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &p, &eo), 0, "%s", p3cfg_error_last()->message);
  /* 62 GPUs in whole tp pairs (node0's first pair lost): dp 31 does not divide 512, 16 does. */
  cr_assert_eq(p3cfg_result_plan(r, 0)->dp, 16);
  check_placement(r, 0, c, &ex);
  p3cfg_result_free(r);
  /* A version 1 struct is still accepted (no exclusion). */
  eo.version = 1;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &p, &eo), 0, "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_result_plan(r, 0)->dp, 32);
  p3cfg_result_free(r);
  /* Everything excluded: refused. */
  p3cfg_gpu_list all = parse(c, "node0 node1 node2 node3 node4 node5 node6 node7");
  eo.version = P3CFG_ESTIMATE_OPTIONS_VERSION;
  eo.exclude_gpus = all.gpus;
  eo.n_exclude_gpus = all.count;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &p, &eo), P3CFG_EINVALID);
  cr_assert_null(r);
  p3cfg_gpu_list_dispose(&all);
  p3cfg_gpu_list_dispose(&ex);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

static p3cfg_result *placed(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t tp,
                            uint32_t pp)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = tp;
  p.pp = pp;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &p, NULL), 0, "%s", p3cfg_error_last()->message);
  return r;
}

Test(exclude, replan_keeps_degrees_and_moves_only_failed_ranks)
{
  p3cfg_model *m = ld_model("llama3-8b.yaml");
  p3cfg_cluster *c = ld_cluster("dgx-a100-8n.yaml");
  /* tp 2 pp 2 dp 8 on 32 of 64 GPUs: nodes 4..7 are spare. One GPU of node1 fails. */
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 2;
  p.pp = 2;
  p.dp = 8;
  p3cfg_result *old = NULL;
  cr_assert_eq(p3cfg_estimate(&old, m, c, &p, NULL), 0, "%s", p3cfg_error_last()->message);
  size_t n = 0;
  const p3cfg_rank_place *pl = p3cfg_result_placement(old, 0, &n);
  p3cfg_gpu_list ex = parse(c, "node1:3");
  p3cfg_replan_options ro;
  p3cfg_replan_options_init(&ro);
  ro.exclude_gpus = ex.gpus;
  ro.n_exclude_gpus = ex.count;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_replan(&r, m, c, p3cfg_result_plan(old, 0), pl, n, &ro), 0, "%s",
               p3cfg_error_last()->message);
  const p3cfg_replan_info *x = p3cfg_result_replan_info(r);
  cr_assert_not_null(x);
  cr_assert(x->kept_degrees);
  cr_assert_eq(p3cfg_result_plan(r, 0)->dp, 8);
  cr_assert_eq(p3cfg_result_plan(r, 0)->tp, 2);
  /* The failed GPU's TP pair moves (its partner too: a pair stays on one node, and
   * node1 has no free GPU), nothing else. */
  cr_assert_eq(x->ranks_moved, 2, "moved %llu", (unsigned long long)x->ranks_moved);
  cr_assert_eq(x->idle_gpus, 64 - 1 - 32);
  check_placement(r, 0, c, &ex);
  cr_assert_gt(x->before_s, 0);
  cr_assert_gt(x->after_s, 0);
  p3cfg_result_free(r);
  /* Lose node0 and node1 entirely with no spare room for dp 8: dp halves. */
  p3cfg_gpu_list big = parse(c, "node0,node1,node4,node5,node6");
  ro.exclude_gpus = big.gpus;
  ro.n_exclude_gpus = big.count;
  cr_assert_eq(p3cfg_replan(&r, m, c, p3cfg_result_plan(old, 0), pl, n, &ro), 0, "%s",
               p3cfg_error_last()->message);
  x = p3cfg_result_replan_info(r);
  cr_assert(x->kept_degrees);
  cr_assert_eq(x->old_dp, 8);
  cr_assert_eq(p3cfg_result_plan(r, 0)->dp, 4);
  cr_assert_eq(p3cfg_result_plan(r, 0)->global_batch, 512);
  check_placement(r, 0, c, &big);
  p3cfg_result_free(r);
  p3cfg_gpu_list_dispose(&big);
  p3cfg_gpu_list_dispose(&ex);
  p3cfg_result_free(old);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(exclude, replan_falls_back_to_a_search)
{
  p3cfg_model *m = ld_model("llama3-8b.yaml");
  p3cfg_cluster *c = ld_cluster("dgx-a100-8n.yaml");
  /* tp 8 pp 8 needs all 64 GPUs: with node3 gone, the degrees cannot fit. */
  p3cfg_result *old = placed(m, c, 8, 8);
  size_t n = 0;
  const p3cfg_rank_place *pl = p3cfg_result_placement(old, 0, &n);
  p3cfg_gpu_list ex = parse(c, "node3");
  p3cfg_replan_options ro;
  p3cfg_replan_options_init(&ro);
  ro.exclude_gpus = ex.gpus;
  ro.n_exclude_gpus = ex.count;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_replan(&r, m, c, p3cfg_result_plan(old, 0), pl, n, &ro), 0, "%s",
               p3cfg_error_last()->message);
  const p3cfg_replan_info *x = p3cfg_result_replan_info(r);
  cr_assert(!x->kept_degrees);
  cr_assert_eq(x->ranks_moved, x->ranks);
  cr_assert_leq(x->ranks, 56);
  check_placement(r, 0, c, &ex);
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_result_plan_json(&b, r, 0, m, c), 0);
  cr_assert_not_null(strstr(b.data, "\"replan\""));
  cr_assert_not_null(strstr(b.data, "\"kept_degrees\":\tfalse"));
  p3cfg_buffer_dispose(&b);
  p3cfg_result_free(r);
  /* No GPU excluded: refused. */
  ro.n_exclude_gpus = 0;
  cr_assert_eq(p3cfg_replan(&r, m, c, p3cfg_result_plan(old, 0), pl, n, &ro), P3CFG_EINVALID);
  p3cfg_gpu_list_dispose(&ex);
  p3cfg_result_free(old);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
