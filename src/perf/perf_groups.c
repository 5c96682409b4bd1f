/*
 * perf_groups.c — the cost of each process group of a pipeline stage, the only formulas
 * for them: what a GPU of stage j holds (dense and expert parameters, over the layers its
 * chunks hold), a TP group's all-reduces, the sends between stages, a DP ring's
 * reductions per ZeRO stage, the tied-embedding ring, and the groups of MoE and context
 * parallelism (EP all-to-alls, ETP gather/scatter, expert-data-parallel rings, the CP
 * ring's K/V sends). p3cfg__perf_plan (perf_plan.c) and the placement's cache
 * (perf_cache.c) both call these; perf_plan.c then turns the stages' costs into a step.
 */
#include <string.h>

#include "perf_internal.h"

#include "links.h"
#include "plan_dims.h"
#include "plan_rules.h"

static inline uint32_t gpu_of(const uint32_t *rank_gpu, uint32_t rank)
{
  return rank_gpu ? rank_gpu[rank] : rank;
}

static inline double max2(double a, double b)
{
  return a > b ? a : b;
}

/* Layers [first, first + n) of the model: how many have an MoE FFN (the first
 * moe.dense_layers have a dense one). */
double p3cfg__moe_layers_in(const p3cfg_model *m, uint64_t first, uint64_t n)
{
  if (m->moe.experts == 0)
    return 0.0;
  const uint64_t dense = m->moe.dense_layers > first ? m->moe.dense_layers - first : 0;
  return (double)(n - (dense < n ? dense : n));
}

/* MoE layers on pipeline rank j, over its chunks. */
static double stage_moe_layers(const p3cfg__perf_ctx *x, uint32_t j)
{
  if (!x->moe)
    return 0.0;
  const uint32_t v = x->plan->virtual_stages;
  double n = 0.0;
  for (uint32_t k = 0; k < v; k++)
    n += p3cfg__moe_layers_in(x->m, p3cfg__chunk_first_layer(x->plan, j, k),
                               p3cfg__chunk_layers(x->plan, j, k));
  return n;
}

double p3cfg__perf_stage_params(const p3cfg__perf_ctx *x, uint32_t j)
{
  const p3cfg__params *par = &x->par;
  const p3cfg_plan *plan = x->plan;
  const double t = plan->tp;
  const double nm = stage_moe_layers(x, j), nd = (double)plan->stage_layers[j] - nm;
  double n = nd * (double)par->layer_per_gpu + nm * (double)par->moe_layer_base_per_gpu;
  if (j == 0)
    n += (double)par->word_embedding / t + (double)par->position;
  if (j == plan->pp - 1) {
    n += (double)par->final_norm + (double)par->mtp_per_gpu;
    if (!x->m->tied_embeddings)
      n += (double)par->output_layer / t;
    else if (plan->pp > 1) /* the last stage keeps its own copy of the tied matrix */
      n += (double)par->word_embedding / t;
  }
  return n;
}

double p3cfg__perf_stage_expert_params(const p3cfg__perf_ctx *x, uint32_t j)
{
  if (!x->moe)
    return 0.0;
  const double ep = x->xmesh.size[P3CFG__MESH_EP], etp = x->xmesh.size[P3CFG__MESH_TP];
  return stage_moe_layers(x, j) * (double)x->m->moe.experts / ep * (double)x->par.expert / etp;
}

void p3cfg__perf_tp_group(double *ar_s, double *loss_s, const p3cfg__perf_ctx *x,
                          const p3cfg__ring *ring)
{
  *ar_s = p3cfg__allreduce_s(ring, x->L.tp_bytes);
  *loss_s = p3cfg__allreduce_s(ring, x->E.loss_bytes);
}

void p3cfg__perf_send(double *fwd_s, double *bwd_s, const p3cfg__perf_ctx *x, uint32_t a,
                      uint32_t b)
{
  *fwd_s = p3cfg__p2p_s(x->c, a, b, x->act_bytes);
  *bwd_s = p3cfg__p2p_s(x->c, b, a, x->act_bytes);
}

void p3cfg__perf_dp_ring(p3cfg__dp_cost *out, const p3cfg__perf_ctx *x, double stage_params,
                         const p3cfg__ring *ring)
{
  const int zero = (int)x->plan->zero_stage;
  const double pj = stage_params, bp = pj < x->bucket ? pj : x->bucket;
  const double ge = x->grad_elem, eb = x->r.gather_elem_bytes; /* less: fp8_param_gather */
  out->grad_sync = out->grad_bucket = out->param_gather = out->param_bucket = 0.0;
  out->mb_rs = out->mb_ag = 0.0;
  if (zero == 0) { /* all-reduce of the fp32 gradients */
    out->grad_sync = p3cfg__allreduce_s(ring, ge * pj);
    out->grad_bucket = p3cfg__allreduce_s(ring, ge * bp);
  } else if (zero == 1) { /* distributed optimizer: reduce-scatter fp32 grads */
    out->grad_sync = p3cfg__reduce_scatter_s(ring, ge * pj);
    out->grad_bucket = p3cfg__reduce_scatter_s(ring, ge * bp);
  } else { /* every micro-batch (p3cfg__perf_finish) */
    /* HSDP (torchtitan, dp_shard < dp): gather and reduce-scatter over the shard group
     * (dp_shard x cp consecutive ranks of the ring), then all-reduce each shard of the
     * gradients across the dp / dp_shard replicas (FSDP2's HSDP post-backward). */
    const uint32_t shard = p3cfg__plan_dp_shard(x->plan), dp = x->plan->dp;
    const uint32_t shard_k = shard * (ring->k / (dp ? dp : 1));
    p3cfg__ring sr = *ring, rr = *ring;
    const int hsdp = zero == 3 && shard < dp && shard_k > 0 && ring->k % shard_k == 0;
    if (hsdp)
      p3cfg__ring_split(&sr, &rr, ring, shard_k);
    out->mb_rs = p3cfg__reduce_scatter_s(&sr, ge * pj);
    if (hsdp)
      out->mb_rs += p3cfg__allreduce_s(&rr, ge * pj / shard_k);
    if (zero == 3)
      out->mb_ag = p3cfg__all_gather_s(&sr, eb * pj);
  }
  if (zero == 1 || zero == 2) { /* all-gather of the updated 16-bit parameters */
    out->param_gather = p3cfg__all_gather_s(ring, eb * pj);
    out->param_bucket = p3cfg__all_gather_s(ring, eb * bp);
  }
}

double p3cfg__perf_tie(const p3cfg__perf_ctx *x, const p3cfg__ring *ring)
{
  return p3cfg__allreduce_s(ring, x->tie_bytes);
}

void p3cfg__dp_cost_max(p3cfg__dp_cost *acc, const p3cfg__dp_cost *ring)
{
  acc->grad_sync = max2(acc->grad_sync, ring->grad_sync);
  acc->grad_bucket = max2(acc->grad_bucket, ring->grad_bucket);
  acc->param_gather = max2(acc->param_gather, ring->param_gather);
  acc->param_bucket = max2(acc->param_bucket, ring->param_bucket);
  acc->mb_rs = max2(acc->mb_rs, ring->mb_rs);
  acc->mb_ag = max2(acc->mb_ag, ring->mb_ag);
}

/* The flex dispatcher (DeepEP, HybridEP) with etp 1: one copy per destination GPU and
 * domain; with etp > 1 its TPxEP group is timed as the all-to-all and the ETP gather
 * (docs/time-model.md, "Token dispatchers"). Its token bytes are the routed rows' over
 * top_k: at a capacity factor (HybridEP only; parse_moe.c refuses DeepEP) the copies are
 * taken to scale with the rows, which ignores that a padded row may go to a GPU its token
 * already reaches. */
static int flex_dispatch(const p3cfg__perf_ctx *x)
{
  return x->m->moe.dispatcher != P3CFG_DISPATCH_ALLTOALL && x->xmesh.size[P3CFG__MESH_TP] == 1;
}

double p3cfg__perf_ep_group(const p3cfg__perf_ctx *x, const uint32_t *rank_gpu, uint32_t g)
{
  const p3cfg__mesh_group grp = p3cfg__mesh_group_nth(&x->xmesh, P3CFG__MESH_EP, g);
  return flex_dispatch(x) ? p3cfg__flex_dispatch_s(x->c, rank_gpu, grp, x->X.a2a_bytes / x->d.top_k,
                                                   x->d.experts, x->d.top_k)
                          : p3cfg__alltoall_s(x->c, rank_gpu, grp, x->X.a2a_bytes);
}

double p3cfg__perf_ep_members(const p3cfg__perf_ctx *x, const p3cfg__a2a_member *members)
{
  const uint32_t k = x->xmesh.size[P3CFG__MESH_EP];
  return flex_dispatch(x) ? p3cfg__flex_members_s(members, k, x->X.a2a_bytes / x->d.top_k,
                                                  x->d.experts, x->d.top_k)
                          : p3cfg__alltoall_members_s(members, k, x->X.a2a_bytes);
}

double p3cfg__perf_etp_group(const p3cfg__perf_ctx *x, const uint32_t *rank_gpu, uint32_t g)
{
  p3cfg__ring ring;
  p3cfg__ring_of_group(&ring, x->c, rank_gpu, p3cfg__mesh_group_nth(&x->xmesh, P3CFG__MESH_TP, g));
  return p3cfg__allreduce_s(&ring, x->X.etp_bytes);
}

void p3cfg__perf_edp_ring(p3cfg__dp_cost *out, const p3cfg__perf_ctx *x, const uint32_t *rank_gpu,
                          double expert_params, uint32_t g)
{
  p3cfg__ring ring;
  p3cfg__ring_of_group(&ring, x->c, rank_gpu, p3cfg__mesh_group_nth(&x->xmesh, P3CFG__MESH_DP, g));
  p3cfg__perf_dp_ring(out, x, expert_params, &ring);
}

double p3cfg__perf_cp_group(const p3cfg__perf_ctx *x, const uint32_t *rank_gpu, uint32_t g)
{
  const p3cfg__mesh_group grp = p3cfg__mesh_group_nth(&x->gmesh, P3CFG__MESH_CP, g);
  const uint32_t cp = grp.count;
  double worst = 0.0;
  for (uint32_t i = 0; i < cp; i++) {
    const uint32_t a = grp.first + i * grp.stride, b = grp.first + ((i + 1) % cp) * grp.stride;
    worst =
        max2(worst, p3cfg__p2p_s(x->c, gpu_of(rank_gpu, a), gpu_of(rank_gpu, b), x->L.cp_kv_bytes));
  }
  return worst;
}

/* The groups of dimension d of mesh M on pipeline stage j: how many, and the n-th. */
static uint32_t stage_groups(const p3cfg__mesh *M, p3cfg__mesh_dim d)
{
  return p3cfg__mesh_groups(M, d) / M->size[P3CFG__MESH_PP];
}

/* Whether group g of a stage (dimension d, numbered as mesh.h numbers them) is, on a
 * uniform network with the default map (period: the link period), a translate by a
 * multiple of the period of an earlier group of the stage, so that it costs the same: with
 * i = g mod stride[d] its coordinates below d and k = g / stride[d] those above, group
 * (i - period, k) is one when i >= period, and (i, k - K) when k >= K, K*span being the
 * first multiple of the period among the multiples of span = stride[d]*size[d]. */
static int earlier_translate(const p3cfg__mesh *M, p3cfg__mesh_dim d, uint32_t g,
                             uint32_t period)
{
  const uint32_t below = M->stride[d], span = below * M->size[d];
  if (period == UINT32_MAX) /* not uniform: every group */
    return 0;
  return g % below >= period || g / below >= period / p3cfg__gcd_u32(span % period, period);
}

/* The expert gradients reduce over the expert-data-parallel groups, after (and as well
 * as) the dense ones: p3cfg__perf_finish adds their costs (lj->xdp, zeroed by the caller).
 * cap: the link period on a uniform network with the default map, else UINT32_MAX. */
static void stage_xdp(p3cfg__stage_links *lj, const p3cfg__perf_ctx *x,
                      const uint32_t *rank_gpu, uint32_t j, uint32_t cap)
{
  const p3cfg__mesh *X = &x->xmesh;
  const double pe = p3cfg__perf_stage_expert_params(x, j);
  if (X->size[P3CFG__MESH_DP] > 1 && pe > 0.0) {
    const uint32_t n = stage_groups(X, P3CFG__MESH_DP);
    for (uint32_t g = 0; g < n && g < cap; g++) {
      if (earlier_translate(X, P3CFG__MESH_DP, g, cap))
        continue;
      p3cfg__dp_cost cost;
      p3cfg__perf_edp_ring(&cost, x, rank_gpu, pe, j * n + g);
      p3cfg__dp_cost_max(&lj->xdp, &cost);
    }
  }
}

void p3cfg__perf_stage_extra_as(p3cfg__stage_links *lj, const p3cfg__perf_ctx *x,
                                const uint32_t *rank_gpu, uint32_t j,
                                const p3cfg__stage_links *lq, int same_experts)
{
  lj->ep_a2a = lq->ep_a2a, lj->etp_ar = lq->etp_ar, lj->cp_p2p = lq->cp_p2p;
  if (same_experts) {
    lj->xdp = lq->xdp;
    return;
  }
  memset(&lj->xdp, 0, sizeof lj->xdp);
  const int uniform = rank_gpu == NULL && x->c->links.granularity == P3CFG_LINKS_NONE;
  stage_xdp(lj, x, rank_gpu, j, uniform ? p3cfg__link_period(x->c) : UINT32_MAX);
}

void p3cfg__perf_stage_extra(p3cfg__stage_links *lj, const p3cfg__perf_ctx *x,
                             const uint32_t *rank_gpu, uint32_t j)
{
  lj->ep_a2a = lj->etp_ar = lj->cp_p2p = 0.0;
  memset(&lj->xdp, 0, sizeof lj->xdp);
  const p3cfg_cluster *c = x->c;
  /* With the default placement on uniform links a stage's groups repeat within a node's
   * worth of groups: evaluating gpus_per_node of them finds the worst. */
  const int uniform = rank_gpu == NULL && c->links.granularity == P3CFG_LINKS_NONE;
  const uint32_t cap = uniform ? p3cfg__link_period(c) : UINT32_MAX;
  if (x->moe) {
    const p3cfg__mesh *X = &x->xmesh;
    const uint32_t ep = X->size[P3CFG__MESH_EP], etp = X->size[P3CFG__MESH_TP];
    if (ep > 1) {
      const uint32_t n = stage_groups(X, P3CFG__MESH_EP);
      for (uint32_t g = 0; g < n && g < cap; g++)
        if (!earlier_translate(X, P3CFG__MESH_EP, g, cap))
          lj->ep_a2a = max2(lj->ep_a2a, p3cfg__perf_ep_group(x, rank_gpu, j * n + g));
    }
    if (etp > 1) {
      const uint32_t n = stage_groups(X, P3CFG__MESH_TP);
      for (uint32_t g = 0; g < n && g < cap; g++)
        if (!earlier_translate(X, P3CFG__MESH_TP, g, cap))
          lj->etp_ar = max2(lj->etp_ar, p3cfg__perf_etp_group(x, rank_gpu, j * n + g));
    }
    stage_xdp(lj, x, rank_gpu, j, cap);
  }
  const p3cfg__mesh *G = &x->gmesh;
  const uint32_t cp = G->size[P3CFG__MESH_CP];
  if (cp > 1) { /* ring attention: each CP rank sends to the next of its ring */
    const uint32_t n = stage_groups(G, P3CFG__MESH_CP);
    for (uint32_t g = 0; g < n && g < cap; g++)
      if (!earlier_translate(G, P3CFG__MESH_CP, g, cap))
        lj->cp_p2p = max2(lj->cp_p2p, p3cfg__perf_cp_group(x, rank_gpu, j * n + g));
  }
}

