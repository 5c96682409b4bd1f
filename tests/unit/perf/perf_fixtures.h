/*
 * perf_fixtures.h — what the time-model tests share: models and clusters filled in by
 * hand (published configurations), plans completed with the balanced split, a run of
 * p3cfg__perf_plan with a workspace of the size it asks for, and measured-link clusters
 * whose links a test can slow down one at a time.
 */
#ifndef P3CFG_PERF_FIXTURES_H
#define P3CFG_PERF_FIXTURES_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_presets.h"
#include "perf.h"
#include "perf_internal.h"
#include "plan_rules.h"

/* A Megatron GPT: MHA, 4h GELU MLP, LayerNorm, learned positions, bias, dropout. */
static inline p3cfg_model fx_gpt(uint64_t layers, uint64_t h, uint64_t heads, uint64_t vocab,
                                 uint64_t seq, uint64_t gb)
{
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.name = (char *)"gpt";
  m.layers = layers, m.hidden = h, m.heads = heads, m.kv_heads = heads, m.ffn_hidden = 4 * h;
  m.vocab = vocab, m.seq_len = seq, m.global_batch = gb;
  m.activation = P3CFG_ACT_GELU, m.tied_embeddings = true;
  m.position_embedding = P3CFG_POS_LEARNED, m.norm = P3CFG_NORM_LAYERNORM;
  m.flash_attention = false, m.precision = P3CFG_PREC_BF16, m.optimizer = P3CFG_OPT_ADAM;
  m.bias = true, m.dropout = true;
  return m;
}

/* DGX-like nodes of 8 GPUs on a uniform network (datasheet figures). */
static inline p3cfg_cluster fx_cluster(const char *gpu, uint32_t nodes, double intra_Bps,
                                       double inter_Bps)
{
  p3cfg_cluster c;
  memset(&c, 0, sizeof c);
  c.name = (char *)"test";
  c.nodes = nodes, c.gpus_per_node = 8, c.gpu = *p3cfg__gpu_preset(gpu);
  c.intra_Bps = intra_Bps, c.intra_latency_s = 3e-6;
  c.inter_Bps = inter_Bps, c.inter_latency_s = 6e-6;
  c.links.granularity = P3CFG_LINKS_NONE;
  return c;
}

/* The same cluster with a measured GPU-granularity matrix holding the datasheet figures
 * times the NCCL efficiencies (so it times exactly like the uniform one). The caller
 * frees it with fx_free_links. */
static inline void fx_measure_links(p3cfg_cluster *c)
{
  const uint32_t n = c->nodes * c->gpus_per_node;
  c->links.granularity = P3CFG_LINKS_GPU;
  c->links.n = n;
  c->links.bandwidth_Bps = calloc((size_t)n * n, sizeof(double));
  c->links.latency_s = calloc((size_t)n * n, sizeof(double));
  cr_assert(c->links.bandwidth_Bps && c->links.latency_s);
  for (uint32_t a = 0; a < n; a++)
    for (uint32_t b = 0; b < n; b++) {
      const int same = a / c->gpus_per_node == b / c->gpus_per_node;
      c->links.bandwidth_Bps[(size_t)a * n + b] =
          same ? c->intra_Bps * P3CFG_NVLINK_EFFICIENCY : c->inter_Bps * P3CFG_NETWORK_EFFICIENCY;
      c->links.latency_s[(size_t)a * n + b] = same ? c->intra_latency_s : c->inter_latency_s;
    }
}

static inline void fx_set_link(p3cfg_cluster *c, uint32_t a, uint32_t b, double Bps)
{
  c->links.bandwidth_Bps[(size_t)a * c->links.n + b] = Bps;
}

static inline double fx_link(const p3cfg_cluster *c, uint32_t a, uint32_t b)
{
  return c->links.bandwidth_Bps[(size_t)a * c->links.n + b];
}

static inline void fx_free_links(p3cfg_cluster *c)
{
  free(c->links.bandwidth_Bps);
  free(c->links.latency_s);
  c->links.bandwidth_Bps = c->links.latency_s = NULL;
  c->links.granularity = P3CFG_LINKS_NONE;
}

static inline p3cfg_plan fx_plan(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t tp,
                                 uint32_t pp, uint32_t dp, uint32_t mbs, uint32_t v,
                                 p3cfg_recompute rc, int sp, uint32_t zero, uint32_t overlap)
{
  p3cfg_plan pl;
  p3cfg_plan_init(&pl);
  pl.tp = tp, pl.pp = pp, pl.dp = dp, pl.micro_batch = mbs, pl.virtual_stages = v;
  pl.recompute = rc, pl.sequence_parallel = sp, pl.zero_stage = zero, pl.overlap = overlap;
  /* ZeRO stage 2 is DeepSpeed's (Megatron-LM has none): such a plan is DeepSpeed's. */
  if (pl.zero_stage == 2)
    pl.framework = P3CFG_FRAMEWORK_DEEPSPEED;
  pl.global_batch = m->global_batch;
  cr_assert_eq(p3cfg__plan_balanced_split(&pl, m), 0);
  cr_assert_eq(p3cfg__plan_check(&pl, m, c), 0, "%s", p3cfg_error_last()->message);
  return pl;
}

/* The layer cost of plan pl on cluster c, as the time model builds it. */
static inline p3cfg__layer_cost fx_layer_of(const p3cfg_model *m, const p3cfg_cluster *c,
                                            const p3cfg_plan *pl)
{
  p3cfg__rates r;
  p3cfg__dims d;
  p3cfg__layer_cost L;
  p3cfg__rates_of_plan(&r, m, &c->gpu, pl);
  p3cfg__dims_of(&d, m, pl);
  p3cfg__layer_cost_of(&L, &d, &r);
  return L;
}

static inline p3cfg_time fx_run(const p3cfg_model *m, const p3cfg_cluster *c,
                                const p3cfg_plan *pl, const uint32_t *rank_gpu)
{
  const size_t n = p3cfg__perf_workspace_bytes(pl);
  void *ws = malloc(n);
  cr_assert(ws);
  p3cfg_time t;
  memset(&t, 0, sizeof t);
  const int rc = p3cfg__perf_plan(&t, m, c, pl, rank_gpu, ws, n);
  cr_assert_eq(rc, 0, "%s", p3cfg_error_last()->message);
  free(ws);
  return t;
}

#define fx_assert_close(a, b, rel)                                                         \
  cr_assert(fabs((a) - (b)) <= (rel) * fabs(b) + 1e-15, "%s = %.12g, expected %.12g",      \
            #a, (double)(a), (double)(b))

#endif
