/*
 * perf_comm.c — the communication of one training iteration of a placed plan, as the
 * time model counts it, without the compute: what `p3cfg replay` performs on a real
 * cluster and the time the model predicts for it (docs/profiling.md, "Replaying a plan").
 *
 * Every byte count and every cost comes from the time model's own pieces: the sizes of
 * p3cfg__perf_ctx_of and the parameters per stage of p3cfg__perf_stage_params
 * (perf_plan.c: per-layer tensor-parallel message, edge collectives, activations,
 * gradient element, tied embedding), the ring collectives over the links the ranks
 * really use and the point-to-point sends of collectives.c. What this file adds is the
 * counting, per iteration and with nothing overlapped (a replay has no compute to hide
 * communication behind):
 *
 *  - tp: per micro-batch and layer, 2 all-reduces forward and 2 backward (full
 *    recompute repeats the forward's), the embedding and output-layer collectives and
 *    the 3 small all-reduces of the loss; with sp each all-reduce is a reduce-scatter +
 *    all-gather pair of the same time. Counted in halves (a reduce-scatter or an
 *    all-gather is half an all-reduce), as the replay runs them. All TP groups run at
 *    once: a stage costs its slowest group, the component the slowest stage.
 *  - pp: every micro-batch's activation travels the whole (virtual) pipeline, hop by
 *    hop, and its gradient back, one message per hop and direction; the pipelines of
 *    a stage run at once, so a hop costs its slowest send. Summed over hops and
 *    micro-batches: the sends of the schedule's warm-up and cool-down chains.
 *  - dp: per stage, ZeRO 0 all-reduces the fp32 gradients, ZeRO 1 reduce-scatters them
 *    and all-gathers the 16-bit parameters, ZeRO 2 reduce-scatters 16-bit gradients every
 *    micro-batch and all-gathers the parameters once, ZeRO 3 also gathers the
 *    parameters twice per micro-batch; then the tied-embedding all-reduce between the
 *    first and the last stage. Stages reduce at once: the slowest stage counts.
 *
 * Like the time model, concurrent groups are assumed not to share a link (one NIC per
 * GPU, as on DGX-class nodes).
 */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "perf_internal.h"
#include "plan_version.h"
#include "plan_rules.h"
#include "types.h"

struct p3cfg_comm {
  p3cfg_comm_info info;
  p3cfg_comm_stage *stages; /* pp entries */
};

static inline double max2(double a, double b)
{
  return a > b ? a : b;
}

/* Largest message after the scale: 2^53 bytes, so that every size is exact as the double
 * the cost functions take (predicted and performed sizes are the same numbers) and the
 * replay's ceil(bytes/k) cannot wrap. Real sizes are far below it (GPT-3 175B's largest,
 * a stage's fp32 gradients at tp 8, pp 8, is 11 GB); only a huge --scale reaches it. */
#define MAX_MESSAGE_BYTES 9007199254740992.0

/* Scaled message size: at least one byte; 0 (and *too_big set) above the limit. */
static uint64_t scaled(double bytes, double scale, int *too_big)
{
  const double b = floor(bytes * scale + 0.5);
  if (!(b <= MAX_MESSAGE_BYTES)) {
    *too_big = 1;
    return 0;
  }
  return b < 1.0 ? 1 : (uint64_t)b;
}

/* rank -> global GPU id from a placement; checks that it is a permutation onto GPUs. */
static int rank_gpus(uint32_t *out, const p3cfg_cluster *c, const p3cfg_rank_place *ranks, size_t n)
{
  const uint64_t gpus = (uint64_t)c->nodes * c->gpus_per_node;
  for (size_t i = 0; i < n; i++)
    out[i] = UINT32_MAX;
  for (size_t i = 0; i < n; i++) {
    const p3cfg_rank_place *r = &ranks[i];
    if (r->rank >= n || r->node >= c->nodes || r->gpu >= c->gpus_per_node ||
        out[r->rank] != UINT32_MAX)
      return p3cfg__error_set(P3CFG_EINVALID,
                              "placement entry %zu (rank %u on node %u, GPU %u) does not fit "
                              "a cluster of %u nodes x %u GPUs, or repeats a rank",
                              i, r->rank, r->node, r->gpu, c->nodes, c->gpus_per_node);
    out[r->rank] = r->node * c->gpus_per_node + r->gpu;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = i + 1; k < n; k++)
      if (out[i] == out[k] && out[i] < gpus)
        return p3cfg__error_set(P3CFG_EINVALID, "placement puts ranks %zu and %zu on one GPU", i,
                                k);
  return 0;
}

static void count_tp(p3cfg_comm_stage *s, const p3cfg_plan *plan, uint32_t j,
                     const p3cfg__layer_cost *L, const p3cfg__edge_cost *E, uint64_t mb)
{
  const uint32_t p = plan->pp;
  if (plan->tp <= 1)
    return;
  /* Halves per micro-batch (an all-reduce is two): the layer's all-reduces, the forward's
   * again under full recompute; edge collectives are given in all-reduce units. */
  const double per_layer = P3CFG__LAYER_TP_AR_FWD + P3CFG__LAYER_TP_AR_BWD +
                           (L->recompute_comm ? P3CFG__LAYER_TP_AR_FWD : 0) +
                           (L->sp_regather ? 0.5 * P3CFG__LAYER_SP_AG_BWD : 0);
  double halves = (double)plan->stage_layers[j] * 2.0 * per_layer;
  if (j == 0)
    halves += 2.0 * (E->emb_tp_fwd + E->emb_tp_bwd);
  if (j == p - 1) {
    halves += 2.0 * (E->out_tp_fwd + E->out_tp_bwd);
    s->loss_allreduces = 3 * mb;
  }
  s->tp_halves = (uint64_t)floor(halves + 0.5) * mb;
}

static void count_dp(p3cfg_comm_stage *s, const p3cfg__perf_ctx *x, double params, uint64_t mb,
                     double scale, int *too_big)
{
  if (x->plan->dp <= 1)
    return;
  const uint32_t zero = x->plan->zero_stage;
  const double grad_elem = x->grad_elem, elem_bytes = x->r.gather_elem_bytes; /* fp8 gather */
  if (zero == 0) {
    s->dp_allreduces = 1;
    s->dp_allreduce_bytes = scaled(grad_elem * params, scale, too_big);
    return;
  }
  s->dp_rs_bytes = scaled(grad_elem * params, scale, too_big);
  s->dp_ag_bytes = scaled(elem_bytes * params, scale, too_big);
  s->dp_reduce_scatters = zero == 1 ? 1 : mb;
  s->dp_all_gathers = zero == 3 ? 2 * mb : 1;
}

P3CFG_API int p3cfg_comm_predict(p3cfg_comm **out, const p3cfg_model *m, const p3cfg_cluster *c,
                                 const p3cfg_plan *plan_in, const p3cfg_rank_place *ranks,
                                 size_t n_ranks, double scale)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_comm_predict: NULL argument");
  *out = NULL;
  if (!m || !c || !plan_in)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_comm_predict: NULL argument");
  if (!(scale > 0.0) || !isfinite(scale) || scale > 1e6)
    return p3cfg__error_set(P3CFG_EINVALID, "message scale must be in (0, 1e6], got %g", scale);
  p3cfg_plan plan;
  int rc = p3cfg__plan_read(&plan, plan_in, "p3cfg_comm_predict");
  if (rc == 0)
    rc = p3cfg_plan_resolve(&plan, m, c);
  if (rc != 0)
    return rc;
  p3cfg__mesh M;
  p3cfg__mesh_of(&M, &plan);
  const uint32_t p = M.size[P3CFG__MESH_PP], t = M.size[P3CFG__MESH_TP];
  const uint32_t dp = M.size[P3CFG__MESH_DP], v = plan.virtual_stages;
  /* A stage's ranks are consecutive (pp is the outermost dimension). */
  const uint32_t per_stage = M.stride[P3CFG__MESH_PP];
  const uint32_t tp_groups = p3cfg__mesh_groups(&M, P3CFG__MESH_TP) / p;
  const uint32_t dp_groups = p3cfg__mesh_groups(&M, P3CFG__MESH_DP) / p;
  const size_t n = M.ranks;
  if (ranks && n_ranks != n)
    return p3cfg__error_set(P3CFG_EINVALID, "placement has %zu ranks, the plan %zu", n_ranks, n);

  p3cfg_comm *cm = p3cfg__calloc(1, sizeof *cm);
  uint32_t *gpu = p3cfg__malloc(n * sizeof *gpu);
  if (cm)
    cm->stages = p3cfg__calloc(p, sizeof *cm->stages);
  if (!cm || !gpu || !cm->stages) {
    p3cfg__free(gpu);
    p3cfg_comm_free(cm);
    return p3cfg__error_nomem();
  }
  if (ranks) {
    if ((rc = rank_gpus(gpu, c, ranks, n_ranks)) != 0) {
      p3cfg__free(gpu);
      p3cfg_comm_free(cm);
      return rc;
    }
  } else {
    for (size_t i = 0; i < n; i++)
      gpu[i] = (uint32_t)i;
  }

  p3cfg__perf_ctx px; /* the time model's sizes for this plan (perf_plan.c) */
  p3cfg__perf_ctx_of(&px, m, c, &plan);
  const p3cfg__layer_cost *L = &px.L;
  const p3cfg__edge_cost *E = &px.E;
  const uint64_t mb = p3cfg__plan_microbatches(&plan);

  p3cfg_comm_info *info = &cm->info;
  info->n_stages = p;
  info->tp = t, info->pp = p, info->dp = dp, info->virtual_stages = v;
  info->micro_batches = mb;
  info->scale = scale;
  info->hops = p > 1 ? p * v - 1 : 0;
  int too_big = 0;
  info->send_bytes = p > 1 ? scaled(px.act_bytes, scale, &too_big) : 0;
  const uint64_t tp_bytes = scaled(L->tp_bytes, scale, &too_big);
  const uint64_t loss_bytes = scaled(E->loss_bytes, scale, &too_big);

  for (uint32_t j = 0; j < p; j++) {
    p3cfg_comm_stage *s = &cm->stages[j];
    count_tp(s, &plan, j, L, E, mb);
    s->tp_bytes = s->tp_halves ? tp_bytes : 0;
    s->loss_bytes = s->loss_allreduces ? loss_bytes : 0;
    for (uint32_t g = 0; g < tp_groups && t > 1; g++) {
      p3cfg__ring ring;
      p3cfg__ring_of_group(&ring, c, gpu,
                           p3cfg__mesh_group_nth(&M, P3CFG__MESH_TP, j * tp_groups + g));
      const double cost =
          (double)s->tp_halves * p3cfg__reduce_scatter_s(&ring, (double)tp_bytes) +
          (double)s->loss_allreduces * p3cfg__allreduce_s(&ring, (double)s->loss_bytes);
      s->tp_s = max2(s->tp_s, cost);
    }
    count_dp(s, &px, p3cfg__perf_stage_params(&px, j), mb, scale, &too_big);
    for (uint32_t x = 0; x < dp_groups && dp > 1; x++) {
      p3cfg__ring ring;
      p3cfg__ring_of_group(&ring, c, gpu,
                           p3cfg__mesh_group_nth(&M, P3CFG__MESH_DP, j * dp_groups + x));
      const double cost =
          (double)s->dp_allreduces * p3cfg__allreduce_s(&ring, (double)s->dp_allreduce_bytes) +
          (double)s->dp_reduce_scatters * p3cfg__reduce_scatter_s(&ring, (double)s->dp_rs_bytes) +
          (double)s->dp_all_gathers * p3cfg__all_gather_s(&ring, (double)s->dp_ag_bytes);
      s->dp_s = max2(s->dp_s, cost);
    }
    info->tp_s = max2(info->tp_s, s->tp_s);
    info->dp_s = max2(info->dp_s, s->dp_s);
  }

  /* Pipeline: virtual stage h runs on rank h mod p; one message per hop and direction. */
  double chain = 0.0;
  for (uint32_t h = 0; h < info->hops; h++) {
    const uint32_t a = p3cfg__mesh_step(&M, P3CFG__MESH_PP, h % p);
    const uint32_t b = p3cfg__mesh_step(&M, P3CFG__MESH_PP, (h + 1) % p);
    double f = 0.0, bw = 0.0;
    for (uint32_t x = 0; x < per_stage; x++) {
      const uint32_t ga = gpu[a + x], gb = gpu[b + x];
      f = max2(f, p3cfg__p2p_s(c, ga, gb, (double)info->send_bytes));
      bw = max2(bw, p3cfg__p2p_s(c, gb, ga, (double)info->send_bytes));
    }
    chain += f + bw;
  }
  info->pp_s = (double)mb * chain;

  /* Tied embedding: first and last stage all-reduce the fp32 embedding gradient. */
  if (m->tied_embeddings && p > 1) {
    info->tie_bytes = scaled(px.tie_bytes, scale, &too_big);
    for (uint32_t x = 0; x < per_stage; x++) {
      p3cfg__ring ring;
      p3cfg__ring_of_group(&ring, c, gpu,
                           p3cfg__mesh_ends(p3cfg__mesh_group_at(&M, P3CFG__MESH_PP, x, 0)));
      info->tie_s = max2(info->tie_s, p3cfg__allreduce_s(&ring, (double)info->tie_bytes));
    }
    info->dp_s += info->tie_s;
  }
  info->total_s = info->tp_s + info->pp_s + info->dp_s;
  p3cfg__free(gpu);
  if (too_big) {
    p3cfg_comm_free(cm);
    return p3cfg__error_set(P3CFG_EINVALID,
                            "message scale %g makes a message larger than 2^53 bytes: use a "
                            "smaller scale",
                            scale);
  }
  *out = cm;
  return 0;
}

P3CFG_API const p3cfg_comm_info *p3cfg_comm_get_info(const p3cfg_comm *cm)
{
  return cm ? &cm->info : NULL;
}

P3CFG_API const p3cfg_comm_stage *p3cfg_comm_stage_get(const p3cfg_comm *cm, uint32_t stage)
{
  return cm && stage < cm->info.n_stages ? &cm->stages[stage] : NULL;
}

P3CFG_API void p3cfg_comm_free(p3cfg_comm *cm)
{
  if (!cm)
    return;
  p3cfg__free(cm->stages);
  p3cfg__free(cm);
}
