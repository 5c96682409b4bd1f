/*
 * cache_test.c — the incremental time model of the placement search (perf_cache.c)
 * against the full one: after any sequence of moves (swaps of single GPUs, of whole
 * nodes, moves into spare GPUs and back, ranks reported twice or not moved at all) its
 * score must be p3cfg__perf_plan's for the same map, every field to the bit, on plans
 * with every kind of group (tp, pp, dp, interleaving, ZeRO 0-3, tied and untied
 * embeddings) and on measured links with distinct values, many equal values, node and GPU
 * granularity; and on mixture-of-experts and context-parallel plans, whose EP all-to-alls,
 * ETP rings, CP rings and expert-data-parallel rings the cache re-evaluates on the stages
 * a move touches. Scoring never allocates.
 */
#include <stdio.h>

#include "perf_fixtures.h"

static uint64_t rng_state;

static uint32_t rnd_below(uint32_t n)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state % n);
}

typedef struct cache_case {
  uint32_t nodes, gpn, tp, pp, dp, v, zero;
  int tied;
  p3cfg_links_gran gran;
  int few_values; /* draw bandwidths from 3 values: many ties in every worst */
} cache_case;

/* A case with the dimensions of issue 16. */
typedef struct dims_case {
  cache_case base;
  uint32_t ep, etp, cp; /* 0: 1, tp, 1 */
  int moe;              /* the MLP replaced by routed experts (the first layer dense) */
  uint32_t experts;     /* 0: Mixtral's 8 */
  p3cfg_moe_dispatcher dispatcher;
} dims_case;

static const dims_case no_dims = {{0}, 0, 0, 0, 0, 0, P3CFG_DISPATCH_ALLTOALL};

/* Measured links: node or GPU matrix, a few links much slower. P3CFG_LINKS_NONE: no
 * matrix, a fabric instead (NVLink domains of two nodes, leaves of four under a 2:1
 * spine, rails), whose links the placement also searches. */
static void measure(p3cfg_cluster *c, const cache_case *cc)
{
  if (cc->gran == P3CFG_LINKS_NONE) {
    c->nvlink_domain = 2 * c->gpus_per_node, c->leaf_gpus = 4 * c->gpus_per_node;
    c->spine_oversubscription = 2.0, c->rail_optimized = true;
    return;
  }
  const uint32_t n = cc->gran == P3CFG_LINKS_GPU ? c->nodes * c->gpus_per_node : c->nodes;
  c->links.granularity = cc->gran;
  c->links.n = n;
  c->links.bandwidth_Bps = calloc((size_t)n * n, sizeof(double));
  c->links.latency_s = calloc((size_t)n * n, sizeof(double));
  cr_assert(c->links.bandwidth_Bps && c->links.latency_s);
  for (uint32_t a = 0; a < n; a++)
    for (uint32_t b = 0; b < n; b++) {
      const uint32_t na = cc->gran == P3CFG_LINKS_GPU ? a / c->gpus_per_node : a;
      const uint32_t nb = cc->gran == P3CFG_LINKS_GPU ? b / c->gpus_per_node : b;
      double bw = cc->few_values ? 10e9 + 5e9 * rnd_below(3) : 16e9 + 1e6 * rnd_below(4000);
      double lat = cc->few_values ? 5e-6 : 2e-6 + 1e-7 * rnd_below(40);
      if (rnd_below(12) == 0)
        bw /= 10.0;
      if (na == nb)
        bw = 200e9 + 1e9 * rnd_below(cc->few_values ? 1 : 50), lat = 2e-6;
      c->links.bandwidth_Bps[(size_t)a * n + b] = bw;
      c->links.latency_s[(size_t)a * n + b] = lat;
    }
}

static void assert_same(const p3cfg_time *got, const p3cfg_time *want, const char *what,
                        int step)
{
  cr_assert(memcmp(got, want, sizeof *got) == 0,
            "%s, step %d: cache %.17g s, full model %.17g s (compute %.17g/%.17g, tp "
            "%.17g/%.17g, pp %.17g/%.17g, dp %.17g/%.17g)",
            what, step, got->iteration_s, want->iteration_s, got->compute_s, want->compute_s,
            got->tp_comm_s, want->tp_comm_s, got->pp_comm_s, want->pp_comm_s, got->dp_comm_s,
            want->dp_comm_s);
}

/* Swap the GPUs of ranks a and b (or move rank a to free GPU g when b is none). */
static void swap_gpus(uint32_t *rank_gpu, uint32_t *gpu_rank, uint32_t ga, uint32_t gb)
{
  const uint32_t ra = gpu_rank[ga], rb = gpu_rank[gb];
  gpu_rank[ga] = rb, gpu_rank[gb] = ra;
  if (ra != UINT32_MAX)
    rank_gpu[ra] = gb;
  if (rb != UINT32_MAX)
    rank_gpu[rb] = ga;
}

static void report(p3cfg__perf_cache *cache, const uint32_t *gpu_rank, uint32_t g)
{
  if (gpu_rank[g] != UINT32_MAX)
    p3cfg__perf_cache_moved(cache, gpu_rank[g], 1);
}

static void run_case(const cache_case *cc, int steps, const dims_case *xc)
{
  p3cfg_model m = fx_gpt(24, 1024, 16, 51200, 1024, 96);
  m.tied_embeddings = cc->tied;
  if (xc->moe) /* Mixtral 8x7B's routing (arXiv 2401.04088: 8 experts, top 2, no biases) */
    m.moe.experts = xc->experts ? xc->experts : 8, m.moe.top_k = 2,
    m.moe.expert_ffn_hidden = 4 * m.hidden, m.moe.dense_layers = 1, m.bias = false,
    m.moe.dispatcher = xc->dispatcher;
  m.flash_attention = xc->cp > 1; /* ring attention runs on flash attention */
  p3cfg_cluster c = fx_cluster("a100-80gb", cc->nodes, 300e9, 25e9);
  c.gpus_per_node = cc->gpn;
  measure(&c, cc);
  /* ZeRO 2 is DeepSpeed's (fx_plan), which overlaps neither parameter gathers nor TP. */
  const uint32_t overlap = (cc->zero && cc->zero != 2 ? P3CFG_OVERLAP_PARAM_GATHER : 0) |
                           (cc->tp > 1 && cc->zero != 2 ? P3CFG_OVERLAP_TP_COMM : 0) |
                           (rnd_below(2) ? P3CFG_OVERLAP_GRAD_REDUCE : 0);
  p3cfg_plan pl = fx_plan(&m, &c, cc->tp, cc->pp, cc->dp, 1, cc->v,
                          P3CFG_RECOMPUTE_SELECTIVE, cc->tp > 1, cc->zero, overlap);
  pl.ep = xc->ep, pl.etp = xc->etp, pl.cp = xc->cp;
  cr_assert_eq(p3cfg__plan_check(&pl, &m, &c), 0, "%s", p3cfg_error_last()->message);
  const uint32_t gpus = c.nodes * c.gpus_per_node,
                 ranks = cc->tp * cc->pp * cc->dp * (xc->cp ? xc->cp : 1);
  char what[160];
  snprintf(what, sizeof what,
           "%u nodes x %u, tp %u pp %u dp %u cp %u ep %u etp %u%s v %u zero %u%s, %s links%s",
           cc->nodes, cc->gpn, cc->tp, cc->pp, cc->dp, xc->cp, xc->ep, xc->etp,
           xc->moe ? " moe" : "", cc->v, cc->zero,
           cc->tied ? " tied" : "", cc->gran == P3CFG_LINKS_GPU    ? "gpu"
           : cc->gran == P3CFG_LINKS_NODE ? "node"
                                          : "no (fabric)",
           cc->few_values ? " (few values)" : "");
  uint32_t *rank_gpu = malloc(ranks * sizeof *rank_gpu);
  uint32_t *gpu_rank = malloc(gpus * sizeof *gpu_rank);
  cr_assert(rank_gpu && gpu_rank);
  for (uint32_t g = 0; g < gpus; g++)
    gpu_rank[g] = g < ranks ? g : UINT32_MAX;
  for (uint32_t r = 0; r < ranks; r++)
    rank_gpu[r] = r;

  p3cfg__perf_cache *cache = NULL;
  p3cfg_time got, want;
  cr_assert_eq(p3cfg__perf_cache_new(&cache, &got, &m, &c, &pl, rank_gpu), 0, "%s",
               p3cfg_error_last()->message);
  want = fx_run(&m, &c, &pl, rank_gpu);
  assert_same(&got, &want, what, -1);
  /* Blocks of GPUs that keep TP groups whole (as the placement's units do), and the last
   * single-GPU swap, to undo it: TP groups leave their nodes and come back. */
  const uint32_t block = cc->tp <= cc->gpn && cc->gpn % cc->tp == 0 ? cc->tp : cc->gpn;
  uint32_t undo_a = 0, undo_b = 0;
  for (int step = 0; step < steps; step++) {
    const uint32_t kind = rnd_below(10);
    if (kind >= 7) { /* two blocks; or undo the last single swap */
      if (kind == 9) {
        swap_gpus(rank_gpu, gpu_rank, undo_a, undo_b);
        report(cache, gpu_rank, undo_a);
        report(cache, gpu_rank, undo_b);
        undo_a = undo_b = 0;
      } else {
        const uint32_t a = rnd_below(gpus / block), b = rnd_below(gpus / block);
        for (uint32_t i = 0; i < block; i++) {
          swap_gpus(rank_gpu, gpu_rank, a * block + i, b * block + i);
          report(cache, gpu_rank, a * block + i);
          report(cache, gpu_rank, b * block + i);
        }
      }
    } else if (kind == 0 && c.nodes > 1) { /* two whole nodes */
      const uint32_t a = rnd_below(c.nodes), b = (a + 1 + rnd_below(c.nodes - 1)) % c.nodes;
      for (uint32_t i = 0; i < c.gpus_per_node; i++) {
        swap_gpus(rank_gpu, gpu_rank, a * c.gpus_per_node + i, b * c.gpus_per_node + i);
        report(cache, gpu_rank, a * c.gpus_per_node + i);
        report(cache, gpu_rank, b * c.gpus_per_node + i);
      }
    } else if (kind == 1) { /* a few GPUs at once, one of them reported twice */
      for (int x = 0; x < 4; x++) {
        const uint32_t a = rnd_below(gpus), b = rnd_below(gpus);
        swap_gpus(rank_gpu, gpu_rank, a, b);
        report(cache, gpu_rank, a);
        report(cache, gpu_rank, b);
        report(cache, gpu_rank, a);
      }
    } else if (kind == 2) { /* a move and its undo before scoring, plus an unmoved rank */
      const uint32_t a = rnd_below(gpus), b = rnd_below(gpus);
      swap_gpus(rank_gpu, gpu_rank, a, b);
      report(cache, gpu_rank, a);
      report(cache, gpu_rank, b);
      swap_gpus(rank_gpu, gpu_rank, a, b);
      p3cfg__perf_cache_moved(cache, rnd_below(ranks), 1);
    } else if (kind == 3 && ranks >= 4) { /* two runs of ranks, reported as runs */
      const uint32_t len = 1 + rnd_below(ranks / 2 < 2 * cc->tp ? ranks / 2 : 2 * cc->tp);
      const uint32_t a = rnd_below(ranks - 2 * len + 1),
                     b = a + len + rnd_below(ranks - a - 2 * len + 1);
      for (uint32_t i = 0; i < len; i++) {
        const uint32_t g = rank_gpu[a + i];
        rank_gpu[a + i] = rank_gpu[b + i], rank_gpu[b + i] = g;
        gpu_rank[rank_gpu[a + i]] = a + i, gpu_rank[rank_gpu[b + i]] = b + i;
      }
      p3cfg__perf_cache_moved(cache, a, len);
      p3cfg__perf_cache_moved(cache, b, len);
    } else if (kind == 4) { /* nothing moved: the same score again */
    } else { /* two GPUs */
      const uint32_t a = rnd_below(gpus), b = rnd_below(gpus);
      undo_a = a, undo_b = b;
      swap_gpus(rank_gpu, gpu_rank, a, b);
      report(cache, gpu_rank, a);
      report(cache, gpu_rank, b);
    }
    cr_assert_eq(p3cfg__perf_cache_score(&got, cache), 0);
    want = fx_run(&m, &c, &pl, rank_gpu);
    assert_same(&got, &want, what, step);
  }
  p3cfg__perf_cache_free(cache);
  free(rank_gpu);
  free(gpu_rank);
  fx_free_links(&c);
}

Test(perf, cache_scores_every_map_as_the_full_model_does)
{
  static const cache_case cases[] = {
      /* nodes gpn tp pp dp v zero tied gran few */
      {4, 8, 8, 4, 1, 1, 1, 1, P3CFG_LINKS_NODE, 0},
      {4, 8, 2, 2, 8, 1, 1, 1, P3CFG_LINKS_NODE, 0},
      {4, 8, 2, 2, 8, 1, 1, 1, P3CFG_LINKS_NODE, 1},
      {5, 8, 4, 2, 4, 2, 0, 1, P3CFG_LINKS_NODE, 0},
      {6, 4, 1, 4, 6, 1, 0, 0, P3CFG_LINKS_NODE, 0},
      {6, 4, 1, 4, 6, 3, 1, 1, P3CFG_LINKS_NODE, 1},
      {3, 8, 4, 1, 6, 1, 2, 1, P3CFG_LINKS_NODE, 0},
      {3, 8, 2, 1, 12, 1, 3, 0, P3CFG_LINKS_NODE, 1},
      {8, 4, 8, 2, 2, 1, 1, 1, P3CFG_LINKS_NODE, 0}, /* tp spans two nodes */
      {4, 4, 2, 2, 4, 2, 1, 1, P3CFG_LINKS_GPU, 0},
      {4, 4, 4, 3, 1, 1, 0, 0, P3CFG_LINKS_GPU, 1},
      {3, 8, 1, 2, 12, 1, 1, 1, P3CFG_LINKS_GPU, 0},
      {8, 4, 8, 2, 2, 1, 1, 1, P3CFG_LINKS_NONE, 0}, /* tp over the two nodes of a domain */
      {8, 4, 2, 2, 8, 2, 1, 1, P3CFG_LINKS_NONE, 0},
  };
  rng_state = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case(&cases[i], 200, &no_dims);
}

Test(perf, cache_scores_moe_and_cp_plans_as_the_full_model_does)
{
  static const dims_case cases[] = {
      /* {nodes gpn tp pp dp v zero tied gran few} ep etp cp moe experts dispatcher */
      {{4, 8, 2, 2, 8, 1, 1, 1, P3CFG_LINKS_NODE, 0}, 4, 1, 1, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      {{4, 8, 2, 2, 8, 1, 1, 1, P3CFG_LINKS_NODE, 1}, 8, 1, 1, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      {{4, 8, 4, 2, 2, 1, 0, 1, P3CFG_LINKS_NODE, 0}, 2, 4, 1, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      {{4, 8, 2, 1, 4, 1, 1, 0, P3CFG_LINKS_GPU, 0}, 8, 1, 2, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      {{4, 4, 2, 2, 2, 2, 1, 1, P3CFG_LINKS_GPU, 1}, 2, 2, 2, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      {{8, 4, 2, 2, 4, 2, 1, 1, P3CFG_LINKS_NONE, 0}, 4, 2, 2, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      {{8, 4, 1, 1, 32, 1, 3, 0, P3CFG_LINKS_NONE, 0}, 8, 1, 1, 1, 0, P3CFG_DISPATCH_ALLTOALL},
      /* dense, cp 2 and cp 4 */
      {{4, 4, 2, 2, 2, 1, 1, 1, P3CFG_LINKS_GPU, 0}, 0, 0, 2, 0, 0, P3CFG_DISPATCH_ALLTOALL},
      {{8, 4, 2, 2, 2, 1, 1, 1, P3CFG_LINKS_NONE, 0}, 0, 0, 4, 0, 0, P3CFG_DISPATCH_ALLTOALL},
      /* EP groups of 16 and 32 (a moved member updates the others' links one by one), the
       * flex dispatcher, on every kind of links */
      {{8, 4, 1, 2, 16, 1, 1, 1, P3CFG_LINKS_NONE, 0}, 16, 1, 1, 1, 32, P3CFG_DISPATCH_ALLTOALL},
      {{8, 4, 1, 1, 32, 1, 1, 0, P3CFG_LINKS_GPU, 0}, 32, 1, 1, 1, 32, P3CFG_DISPATCH_DEEPEP},
      {{8, 4, 2, 1, 16, 1, 1, 0, P3CFG_LINKS_NODE, 1}, 16, 1, 1, 1, 16, P3CFG_DISPATCH_DEEPEP},
      {{8, 4, 1, 2, 16, 1, 0, 1, P3CFG_LINKS_NONE, 0}, 16, 1, 1, 1, 16, P3CFG_DISPATCH_HYBRIDEP},
  };
  rng_state = 0xD1B54A32D192ED03ull;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case(&cases[i].base, 200, &cases[i]);
}

Test(perf, cache_scoring_never_allocates)
{
  rng_state = 7;
  const cache_case cc = {4, 8, 2, 2, 8, 1, 1, 1, P3CFG_LINKS_NODE, 0};
  p3cfg_model m = fx_gpt(24, 1024, 16, 51200, 1024, 96);
  p3cfg_cluster c = fx_cluster("a100-80gb", cc.nodes, 300e9, 25e9);
  measure(&c, &cc);
  const p3cfg_plan pl =
      fx_plan(&m, &c, cc.tp, cc.pp, cc.dp, 1, 1, P3CFG_RECOMPUTE_SELECTIVE, 1, 1, 0);
  uint32_t rank_gpu[32];
  for (uint32_t r = 0; r < 32; r++)
    rank_gpu[r] = r;
  p3cfg__perf_cache *cache = NULL;
  p3cfg_time t;
  cr_assert_eq(p3cfg__perf_cache_new(&cache, &t, &m, &c, &pl, rank_gpu), 0);
  p3cfg_test_fail_alloc_after(1); /* any allocation through the library would fail */
  for (int k = 0; k < 50; k++) {
    const uint32_t a = rnd_below(32), b = rnd_below(32), g = rank_gpu[a];
    rank_gpu[a] = rank_gpu[b], rank_gpu[b] = g;
    p3cfg__perf_cache_moved(cache, a, 1);
    p3cfg__perf_cache_moved(cache, b, 1);
    cr_assert_eq(p3cfg__perf_cache_score(&t, cache), P3CFG_OK);
  }
  p3cfg_test_fail_alloc_after(0);
  p3cfg__perf_cache_free(cache);
  fx_free_links(&c);
}

Test(perf, cache_reports_a_failed_allocation)
{
  const cache_case cc = {2, 8, 2, 2, 4, 1, 1, 1, P3CFG_LINKS_NODE, 0};
  rng_state = 3;
  p3cfg_model m = fx_gpt(24, 1024, 16, 51200, 1024, 96);
  p3cfg_cluster c = fx_cluster("a100-80gb", cc.nodes, 300e9, 25e9);
  measure(&c, &cc);
  const p3cfg_plan pl =
      fx_plan(&m, &c, cc.tp, cc.pp, cc.dp, 1, 1, P3CFG_RECOMPUTE_SELECTIVE, 1, 1, 0);
  uint32_t rank_gpu[16];
  for (uint32_t r = 0; r < 16; r++)
    rank_gpu[r] = r;
  for (int fail = 1; fail <= 2; fail++) {
    p3cfg__perf_cache *cache = (p3cfg__perf_cache *)&rank_gpu; /* must be reset */
    p3cfg_time t;
    p3cfg_test_fail_alloc_after((unsigned long)fail);
    const int rc = p3cfg__perf_cache_new(&cache, &t, &m, &c, &pl, rank_gpu);
    p3cfg_test_fail_alloc_after(0);
    cr_assert_eq(rc, P3CFG_ENOMEM);
    cr_assert_null(cache);
  }
  fx_free_links(&c);
}
