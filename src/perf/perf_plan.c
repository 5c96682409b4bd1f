/*
 * perf_plan.c — one optimizer step of a plan, end to end (spec §8, docs/time-model.md):
 * per-micro-batch costs of every (pipeline rank, chunk) with the exposed tensor-parallel
 * communication of that stage's TP group, activation sends between the actual GPUs of
 * adjacent stages, the pipeline schedule's critical path (pipeline_sim.c), then the
 * data-parallel gradient reduction per ZeRO stage, the tied-embedding all-reduce, the
 * optimizer step and the parameter all-gather. Overlap flags hide what the framework
 * really hides and leave exposed what it cannot (last bucket, first chunk, first layer).
 *
 * Rank order is Megatron-LM's (tp fastest, then dp, then pp); every group cost is the
 * worst over the groups that run concurrently. With the default placement on a uniform
 * network, groups whose GPUs are translates by whole nodes cost the same, so only one
 * per residue class is evaluated: that keeps a call at a few hundred link lookups even on
 * thousands of GPUs. The scorer runs inside the search: it never allocates, and all its
 * scratch lives in the caller's workspace.
 *
 * Two halves: the link costs of each stage (worst TP group, send, DP ring; each group by
 * p3cfg__perf_tp_group, _send, _dp_ring, _tie and, for MoE and cp, _stage_extra: the only
 * formulas for them, in perf_groups.c), then
 * p3cfg__perf_finish, the rest of the step from those per-stage costs. The placement's
 * incremental model (perf_cache.c) keeps the group costs itself and calls the same two.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "perf.h"

#include "error.h"
#include "framework_physics.h"
#include "grad_reduce.h"
#include "model_flops.h"
#include "model_params.h"
#include "perf_internal.h"
#include "pipeline_trace.h"
#include "plan_dims.h"
#include "plan_rules.h"

/* Megatron-LM DDP bucket: max(40M, 1M x dp) parameters (distributed_data_parallel.py). */
#define BUCKET_PARAMS 40e6
#define BUCKET_PARAMS_PER_DP 1e6

typedef struct layout {
  size_t fwd, bwd, first_fwd;                               /* p*v each */
  size_t send_f, send_b, busy_c, busy_t, busy_d, busy_e, busy_x, busy_h, busy_o, end, end_c,
      last_b, opt, n_rings; /* p each */
  size_t links;                                             /* p stage_links */
  size_t rings;                                             /* every DP ring of the mesh */
  size_t sim, total_doubles;
} layout;

static size_t doubles_of(size_t bytes)
{
  return (bytes + sizeof(double) - 1) / sizeof(double);
}

/* The workspace of a plan of mesh M and v chunks per stage: its pipeline, and its DP
 * rings (the mesh's groups of dp, those of stage j from j * rings / p). */
static void layout_of(layout *l, const p3cfg__mesh *M, uint32_t v)
{
  const uint32_t p = M->size[P3CFG__MESH_PP];
  size_t at = 0;
  l->fwd = at, at += (size_t)p * v;
  l->bwd = at, at += (size_t)p * v;
  l->first_fwd = at, at += (size_t)p * v;
  size_t *per_stage[] = {&l->send_f, &l->send_b, &l->busy_c, &l->busy_t,
                         &l->busy_d, &l->busy_e, &l->busy_x, &l->busy_h, &l->busy_o,
                         &l->end,    &l->end_c,  &l->last_b, &l->opt,    &l->n_rings};
  for (size_t i = 0; i < sizeof per_stage / sizeof per_stage[0]; i++)
    *per_stage[i] = at, at += p;
  l->links = at;
  at += doubles_of((size_t)p * sizeof(p3cfg__stage_links));
  l->rings = at;
  at += doubles_of((size_t)p3cfg__mesh_groups(M, P3CFG__MESH_DP) * sizeof(p3cfg__ring));
  l->sim = at;
  l->total_doubles = at;
}

/* A plan with the sizes a workspace is laid out by (any other needs 0 bytes). */
static int sized(const p3cfg_plan *plan)
{
  return plan && plan->pp != 0 && plan->virtual_stages != 0 && plan->dp != 0 &&
         plan->micro_batch != 0;
}

static size_t bytes_of(const layout *l, const p3cfg_plan *plan)
{
  return l->total_doubles * sizeof(double) +
         p3cfg__pipe_ws_bytes(plan->pp, plan->virtual_stages, p3cfg__plan_microbatches(plan));
}

/* The mesh the time model walks: the plan's, with cp folded into dp (tp, 1, 1, cp*dp,
 * pp; the same ranks, as cp sits between tp and dp in the rank order). Its TP groups and
 * pipeline lines are the plan's; its DP groups are Megatron-Core's data-parallel-with-cp
 * groups, which reduce the dense gradients. The CP rings and the expert mesh are walked
 * apart (stage_extra). */
void p3cfg__perf_mesh_of(p3cfg__mesh *out, const p3cfg_plan *plan)
{
  uint32_t size[P3CFG__MESH_DIMS] = {plan->tp, 1, 1, plan->dp * p3cfg__plan_cp(plan), plan->pp};
  p3cfg__mesh_of_sizes(out, size);
}

size_t p3cfg__perf_workspace_bytes(const p3cfg_plan *plan)
{
  if (!sized(plan))
    return 0;
  p3cfg__mesh M;
  p3cfg__perf_mesh_of(&M, plan);
  layout l;
  layout_of(&l, &M, plan->virtual_stages);
  return bytes_of(&l, plan);
}

static inline uint32_t gpu_of(const uint32_t *rank_gpu, uint32_t rank)
{
  return rank_gpu ? rank_gpu[rank] : rank;
}

static inline double max2(double a, double b)
{
  return a > b ? a : b;
}

/* How many of `count` groups to evaluate, group x being ranks base + x*step + i*stride
 * (i < k). On a uniform network with the default placement, a group's cost depends only
 * on how its GPUs fall on nodes: not at all on the base when stride is a multiple of the
 * node size (or k == 1), else only on base mod gpus_per_node, which repeats every
 * gpn / gcd(step, gpn) groups. */
static uint32_t distinct(int uniform, uint32_t count, uint32_t step, uint32_t stride,
                         uint32_t k, uint32_t gpn)
{
  if (!uniform || count == 0)
    return count;
  if (k <= 1 || stride % gpn == 0)
    return 1;
  const uint32_t period = gpn / p3cfg__gcd_u32(step % gpn, gpn);
  return count < period ? count : period;
}

static int same_ring(const p3cfg__ring *a, const p3cfg__ring *b)
{
  return a->k == b->k && a->g == b->g && a->n == b->n &&
         a->ar_latency_s == b->ar_latency_s && a->ar_s_per_byte == b->ar_s_per_byte;
}

/* What an overlapped collective of comm_s costs when exposed_s of it shows: the
 * exposed part, plus the compute slowed under the hidden part by the SMs NCCL holds. */
static inline double overlap_cost(double comm_s, double exposed_s)
{
  const double hidden = comm_s > exposed_s ? comm_s - exposed_s : 0.0;
  return exposed_s + P3CFG__OVERLAP_SM_FRACTION * hidden;
}

double p3cfg__overlap_cost(double comm_s, double exposed_s)
{
  return overlap_cost(comm_s, exposed_s);
}

void p3cfg__perf_ctx_of(p3cfg__perf_ctx *out, const p3cfg_model *m, const p3cfg_cluster *c,
                        const p3cfg_plan *plan)
{
  out->m = m, out->c = c, out->plan = plan;
  p3cfg__perf_mesh_of(&out->mesh, plan);
  p3cfg__model_params(&out->par, m, plan->tp);
  p3cfg__rates_of_plan(&out->r, m, &c->gpu, plan);
  p3cfg__dims_of(&out->d, m, plan);
  p3cfg__layer_cost_of(&out->L, &out->d, &out->r);
  p3cfg__edge_cost_of(&out->E, &out->d, &out->r);
  out->moe = m->moe.experts > 0;
  if (out->moe)
    p3cfg__moe_cost_of(&out->X, &out->d, &out->r);
  else
    memset(&out->X, 0, sizeof out->X);
  p3cfg__mesh_expert_of(&out->xmesh, plan);
  p3cfg__mesh_of(&out->gmesh, plan); /* with cp: the CP rings */
  const p3cfg__dims *d = &out->d;
  /* DeepSpeed's pipeline engine sends 1/tp of the activation from each TP rank
   * (pipe_partitioned; framework_physics.h), as sequence parallelism does. */
  const int partitioned = p3cfg__plan_physics(plan)->pipe_partitioned && plan->pp > 1;
  out->act_bytes = out->r.elem_bytes * d->tokens * d->h / (d->sp || partitioned ? d->tp : 1.0);
  /* ZeRO 0-1 reduce Megatron's main grads: fp32, or 16-bit for fp16 and grad_reduce bf16
   * (grad_reduce.h); ZeRO 2-3 reduce 16-bit gradients (Megatron-FSDP's 'auto' gradient
   * dtype, DeepSpeed's communication_data_type), except FSDP2's, whose reduce dtype is
   * fp32 (torchtitan's mixed_precision_reduce; framework_physics.h fsdp2_fp32_shards).
   * The tied embedding's all-reduce is of the same main grads. */
  const double main_grad = (double)p3cfg__grad_buffer_elem_bytes(m, plan);
  const double sharded_grad =
      p3cfg__plan_physics(plan)->fsdp2_fp32_shards ? 4.0 : out->r.elem_bytes;
  out->grad_elem = plan->zero_stage <= 1 ? main_grad : sharded_grad;
  out->bucket = max2(BUCKET_PARAMS, BUCKET_PARAMS_PER_DP * out->mesh.size[P3CFG__MESH_DP]);
  out->tie_bytes = main_grad * (double)out->par.word_embedding / d->tp;
  /* The GEMM ceiling: the weight GEMMs' FLOPs over their time at the GPU's peak. No plan
   * can reach an MFU above it (every model FLOP would have to run as fast as these). The
   * FLOPs are those of the GEMMs gemm_fwd_s times, at the same shapes (compute_cost.c:
   * q, k, v and the projection heads x qk_dim, kv_heads x qk_dim and heads x v_dim wide,
   * MLA's latent projections, the dense MLP), not hidden/heads-wide heads. */
  const double peak = c->gpu.peak_flops * (m->precision == P3CFG_PREC_FP32 ? 0.5 : 1.0);
  out->gemm_ceiling =
      out->L.gemm_fwd_s > 0.0 ? out->L.gemm_fwd_flops / (out->L.gemm_fwd_s * peak) : 0.0;
  p3cfg__offload_rates(&out->offload_layer_bytes, &out->host_Bps, m, c, plan);
}

/* Chunk k's share of rank j's parameters, by its transformer layers (1 with one chunk). */
static double chunk_share(const p3cfg_plan *plan, uint32_t j, uint32_t chunk_layers)
{
  const uint32_t v = plan->virtual_stages, n = plan->stage_layers[j];
  if (v <= 1)
    return 1.0;
  return n ? (double)chunk_layers / (double)n : 1.0 / (double)v;
}

static int workspace_short(size_t workspace_bytes, size_t need)
{
  return p3cfg__error_set(P3CFG_EINVALID, "time model: workspace of %zu bytes, %zu needed",
                          workspace_bytes, need);
}

/* The layout of x's plan in the caller's workspace, if it is large enough. */
static int workspace_ok(layout *l, const p3cfg__perf_ctx *x, size_t workspace_bytes)
{
  layout_of(l, &x->mesh, x->plan->virtual_stages);
  const size_t need = bytes_of(l, x->plan);
  return workspace_bytes < need ? workspace_short(workspace_bytes, need) : P3CFG_OK;
}

static int perf_plan(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                     const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                     size_t workspace_bytes, double cutoff_s, int *pruned);

int p3cfg__perf_plan(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                     const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                     size_t workspace_bytes)
{
  return perf_plan(out, m, c, plan, rank_gpu, workspace, workspace_bytes, HUGE_VAL, NULL);
}

int p3cfg__perf_plan_cutoff(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                            const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                            size_t workspace_bytes, double cutoff_s, int *pruned)
{
  return perf_plan(out, m, c, plan, rank_gpu, workspace, workspace_bytes, cutoff_s, pruned);
}

/* Every stage's link costs, each the worst over the stage's concurrent groups, then the
 * rest of the step (p3cfg__perf_finish). */
static int perf_plan(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                     const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                     size_t workspace_bytes, double cutoff_s, int *pruned)
{
  if (pruned)
    *pruned = 0;
  if (!out || !m || !c || !workspace)
    return p3cfg__error_set(P3CFG_EINVALID, "time model: missing argument");
  if (!sized(plan))
    return workspace_short(workspace_bytes, 0);
  p3cfg__perf_ctx x;
  p3cfg__perf_ctx_of(&x, m, c, plan);
  layout lay;
  int rc = workspace_ok(&lay, &x, workspace_bytes);
  if (rc)
    return rc;
  const p3cfg__mesh M = x.mesh;
  const uint32_t p = M.size[P3CFG__MESH_PP], t = M.size[P3CFG__MESH_TP];
  const uint32_t dp = M.size[P3CFG__MESH_DP], v = plan->virtual_stages;
  /* A stage's ranks are consecutive (pp is the outermost dimension), numbered s from the
   * stage's first; its TP groups and DP rings are consecutive groups of the mesh. */
  /* gpn: the period of the cluster's links (the node; the NVLink domain, or the leaf
   * group under an oversubscribed spine: links.h), which distinct() reasons about. */
  const uint32_t per_stage = M.stride[P3CFG__MESH_PP], gpn = p3cfg__link_period(c);
  const uint32_t tp_groups = p3cfg__mesh_groups(&M, P3CFG__MESH_TP) / p;
  const uint32_t dp_groups = p3cfg__mesh_groups(&M, P3CFG__MESH_DP) / p;
  const int uniform = rank_gpu == NULL && c->links.granularity == P3CFG_LINKS_NONE;
  double *ws = workspace;
  double *n_rings = ws + lay.n_rings;
  p3cfg__stage_links *links = (p3cfg__stage_links *)(ws + lay.links);
  p3cfg__ring *rings = (p3cfg__ring *)(ws + lay.rings); /* of stage j at j*dp_groups */

  double pe_of[P3CFG_MAX_PP]; /* expert parameters per GPU of each stage */
  /* Per stage: worst TP group, worst DP group, sends to the next stage. */
  const uint32_t stage_period = uniform ? distinct(1, p, per_stage, 1, 2, gpn) : p;
  for (uint32_t j = 0, q = 0; j < p; j++, q = q + 1 == stage_period ? 0 : q + 1) {
    /* q: the stage of the first class with the same links (j mod stage_period) */
    p3cfg__stage_links *lj = &links[j];
    const double pj = p3cfg__perf_stage_params(&x, j);
    if (j >= stage_period) { /* same links as stage q */
      lj->tp_ar = links[q].tp_ar, lj->tp_loss = links[q].tp_loss;
      lj->send_f = links[q].send_f, lj->send_b = links[q].send_b;
    } else {
      const uint32_t base = p3cfg__mesh_step(&M, P3CFG__MESH_PP, j);
      lj->tp_ar = lj->tp_loss = 0.0;
      for (uint32_t g = 0, n = distinct(uniform, tp_groups, t, 1, t, gpn); g < n && t > 1; g++) {
        p3cfg__ring ring;
        double ar, loss;
        p3cfg__ring_of_group(&ring, c, rank_gpu,
                             p3cfg__mesh_group_nth(&M, P3CFG__MESH_TP, j * tp_groups + g));
        p3cfg__perf_tp_group(&ar, &loss, &x, &ring);
        lj->tp_ar = max2(lj->tp_ar, ar);
        lj->tp_loss = max2(lj->tp_loss, loss);
      }
      lj->send_f = lj->send_b = 0.0;
      const uint32_t next = p3cfg__mesh_step(&M, P3CFG__MESH_PP, (j + 1) % p);
      if (p > 1 && (j + 1 < p || v > 1))
        for (uint32_t s = 0, n = distinct(uniform, per_stage, 1, per_stage, 2, gpn); s < n;
             s++) {
          double f, b;
          p3cfg__perf_send(&f, &b, &x, gpu_of(rank_gpu, base + s), gpu_of(rank_gpu, next + s));
          lj->send_f = max2(lj->send_f, f);
          lj->send_b = max2(lj->send_b, b);
        }
    }
    /* The wrap-around send of the last rank is not a translate of the others. */
    if (j == p - 1 && j >= stage_period && v > 1) {
      lj->send_f = lj->send_b = 0.0;
      for (uint32_t s = 0, n = distinct(uniform, per_stage, 1, j * per_stage, 2, gpn); s < n;
           s++) {
        double f, b;
        p3cfg__perf_send(&f, &b, &x, gpu_of(rank_gpu, p3cfg__mesh_step(&M, P3CFG__MESH_PP, j) + s),
                         gpu_of(rank_gpu, s));
        lj->send_f = max2(lj->send_f, f);
        lj->send_b = max2(lj->send_b, b);
      }
    }
    /* Data parallelism: the stage's concurrent DP rings (tp of them while cp = ep = 1),
     * built once per class of stages with the same links, duplicates dropped. */
    const uint32_t rj = q * dp_groups;
    if (j < stage_period) {
      uint32_t n_ring = 0;
      for (uint32_t s = 0, n = distinct(uniform, dp_groups, 1, M.stride[P3CFG__MESH_DP], dp, gpn);
           s < n && dp > 1; s++) {
        p3cfg__ring *ring = &rings[rj + n_ring];
        p3cfg__ring_of_group(ring, c, rank_gpu,
                             p3cfg__mesh_group_nth(&M, P3CFG__MESH_DP, j * dp_groups + s));
        uint32_t y = 0;
        while (y < n_ring && !same_ring(&rings[rj + y], ring))
          y++;
        n_ring += y == n_ring;
      }
      n_rings[j] = n_ring;
    }
    memset(&lj->dp, 0, sizeof lj->dp);
    for (uint32_t s = 0; s < (uint32_t)n_rings[q]; s++) {
      p3cfg__dp_cost cost;
      p3cfg__perf_dp_ring(&cost, &x, pj, &rings[rj + s]);
      p3cfg__dp_cost_max(&lj->dp, &cost);
    }
    /* Stages of one class have the same groups, translated by a multiple of the period:
     * the EP/ETP/CP terms of the first, the expert rings of the nearest stage of the class
     * that holds as many expert parameters (else costed again). */
    pe_of[j] = x.moe ? p3cfg__perf_stage_expert_params(&x, j) : 0.0;
    if (j >= stage_period) {
      uint32_t src = j - stage_period;
      while (pe_of[src] != pe_of[j] && src >= stage_period)
        src -= stage_period;
      p3cfg__perf_stage_extra_as(lj, &x, rank_gpu, j, &links[src], pe_of[src] == pe_of[j]);
    } else {
      p3cfg__perf_stage_extra(lj, &x, rank_gpu, j);
    }
  }

  /* The tied embedding: rank s of the first stage with rank s of the last. */
  double tie = 0.0;
  if (m->tied_embeddings && p > 1)
    for (uint32_t s = 0, n = distinct(uniform, per_stage, 1, (p - 1) * per_stage, 2, gpn);
         s < n; s++) {
      p3cfg__ring ring;
      p3cfg__ring_of_group(&ring, c, rank_gpu,
                           p3cfg__mesh_ends(p3cfg__mesh_group_at(&M, P3CFG__MESH_PP, s, 0)));
      tie = max2(tie, p3cfg__perf_tie(&x, &ring));
    }
  return p3cfg__perf_finish(out, &x, links, tie, workspace, workspace_bytes, cutoff_s, pruned);
}

int p3cfg__perf_finish(p3cfg_time *out, const p3cfg__perf_ctx *x,
                       const p3cfg__stage_links *links, double tie_s, void *workspace,
                       size_t workspace_bytes, double cutoff_s, int *pruned)
{
  if (pruned)
    *pruned = 0;
  /* Every field defined: the intervals are filled where results are assembled. */
  memset(out, 0, sizeof *out);
  const p3cfg_plan *plan = x->plan;
  const p3cfg_model *m = x->m;
  layout lay;
  int rc = workspace_ok(&lay, x, workspace_bytes);
  if (rc)
    return rc;
  const uint32_t p = plan->pp, v = plan->virtual_stages, t = plan->tp;
  const uint32_t dp = x->mesh.size[P3CFG__MESH_DP]; /* with cp folded in */
  const double edp = x->xmesh.size[P3CFG__MESH_DP];
  const uint64_t mb = p3cfg__plan_microbatches(plan);
  const double mbd = (double)mb;
  const int zero = (int)plan->zero_stage;
  const p3cfg__rates *r = &x->r;
  const p3cfg__dims *d = &x->d;
  const p3cfg__layer_cost *L = &x->L;
  const p3cfg__edge_cost *E = &x->E;
  const p3cfg__moe_cost *X = &x->X;
  const p3cfg__framework_physics *fw = p3cfg__plan_physics(plan);
  const int lockstep = fw->pipe_lockstep && p > 1 && v == 1; /* DeepSpeed's engine */
  /* FSDP2 with pp > 1 (torchtitan): parameters gathered once per step and held through
   * every micro-batch (reshard_after_forward off), gradients reduce-scattered once, after
   * the stage's last backward: not per micro-batch (below, after the schedule). */
  const int step_gather = zero == 3 && p > 1 && fw->fsdp_pp_unsharded;

  double *ws = workspace;
  double *F = ws + lay.fwd, *B = ws + lay.bwd, *first_fwd = ws + lay.first_fwd;
  double *send_f = ws + lay.send_f, *send_b = ws + lay.send_b;
  double *busy_c = ws + lay.busy_c, *busy_t = ws + lay.busy_t, *busy_d = ws + lay.busy_d;
  double *busy_e = ws + lay.busy_e, *busy_x = ws + lay.busy_x; /* ep / cp comm */
  double *busy_h = ws + lay.busy_h; /* GPU time waiting for the host to issue work */
  double *busy_o = ws + lay.busy_o; /* compute waiting for activation offloading's copies */
  double *end = ws + lay.end, *end_c = ws + lay.end_c, *last_b = ws + lay.last_b;
  double *opt = ws + lay.opt;

  for (uint32_t j = 0; j < p; j++) {
    send_f[j] = links[j].send_f;
    send_b[j] = links[j].send_b;
    /* Dense parameters are owned over the data-parallel (with cp) group, expert ones over
     * the expert-data-parallel group. */
    const double pj = p3cfg__perf_stage_params(x, j), pe = p3cfg__perf_stage_expert_params(x, j);
    const double owned = zero >= 1 ? pj / dp + pe / edp : pj + pe;
    const double held = zero >= 2 ? owned : pj + pe;
    opt[j] = p3cfg__optimizer_s(r, m, owned, held);
  }

  /* An MoE layer: the dense layer with its MLP half replaced by the experts (full
   * recomputation re-runs them too). Its TP collectives: the attention's, and the shared
   * experts' where it has them. */
  const int full_rc = plan->recompute == P3CFG_RECOMPUTE_FULL;
  const double moe_fwd = L->fwd_s - L->mlp_fwd_s + X->fwd_s;
  const double moe_bwd = L->bwd_s - L->mlp_bwd_s + X->bwd_s + X->recompute_s +
                         (full_rc ? X->fwd_s - L->mlp_fwd_s : 0.0);
  const double moe_tp_share = X->shared_tp ? 1.0 : 0.5;
  /* Host issue time per layer (P3CFG__HOST_S_PER_KERNEL per kernel), dense and MoE. */
  const double H = P3CFG__HOST_S_PER_KERNEL;
  const double hd_f = L->kernels_fwd * H, hd_b = L->kernels_bwd * H;
  const double hm_f = (L->kernels_fwd - L->mlp_kernels_fwd + X->kernels_fwd) * H;
  const double hm_b =
      (L->kernels_bwd - L->mlp_kernels_bwd + X->kernels_bwd + X->recompute_kernels +
       (full_rc ? X->kernels_fwd : 0.0)) * H;

  /* Per (rank, chunk) micro-batch costs, and each rank's busy time by kind. */
  const int tp_overlap = (plan->overlap & P3CFG_OVERLAP_TP_COMM) != 0;
  /* Chunk sizes (p3cfg__chunk_layers): rank j's units per chunk, one layer fewer in the
   * chunk that accounts for the embedding or the loss; a chunk's first layer follows
   * every virtual stage before it (p3cfg__chunk_first_layer, kept incremental here). */
  const int acc_emb = (plan->split_accounts & P3CFG_SPLIT_ACCOUNT_EMBEDDING) != 0;
  uint64_t all_units = 0;
  for (uint32_t j = 0; j < p; j++)
    all_units += (plan->stage_layers[j] + p3cfg__split_extra(plan, j)) / v;
  uint64_t before = 0; /* units per chunk of the ranks before j */
  for (uint32_t j = 0; j < p; j++) {
    const double tp_ar = links[j].tp_ar, tp_loss = links[j].tp_loss;
    double tpf, tpb;
    p3cfg__tp_exposed(&tpf, &tpb, L, tp_ar, d->tp, tp_overlap);
    /* Per MoE layer: dispatch and combine each way (and the ETP gather/scatter), in the
     * open; per layer with cp > 1: the ring steps' sends beyond their attention step. */
    double a2a_f = X->a2a_fwd * links[j].ep_a2a + links[j].etp_ar;
    double a2a_b = X->a2a_bwd * links[j].ep_a2a + links[j].etp_ar + (full_rc ? a2a_f : 0.0);
    if ((plan->overlap & P3CFG_OVERLAP_EP_COMM) && a2a_f + a2a_b > 0.0) {
      /* Megatron-Core's combined 1F1B: each all-to-all under one sub-module of the other
       * pass, the warm-up and cool-down passes in the open (ep_overlap.c). */
      const double A = a2a_f + a2a_b;
      const double cost = p3cfg__ep_overlap_cost(a2a_f, a2a_b, X, moe_fwd, moe_bwd, p, v, j, mbd);
      a2a_f *= cost / A;
      a2a_b *= cost / A;
    }
    double cpf = 0.0, cpb = 0.0;
    if (d->cp > 1.0) {
      const double c1 = links[j].cp_p2p, c2 = 2.0 * links[j].cp_p2p;
      cpf = (d->cp - 1.0) * overlap_cost(c1, max2(0.0, c1 - L->attn_step_fwd_s));
      cpb = (d->cp - 1.0) * overlap_cost(c2, max2(0.0, c2 - L->attn_step_bwd_s));
      if (full_rc)
        cpb += cpf;
    }
    busy_c[j] = busy_t[j] = busy_d[j] = busy_e[j] = busy_x[j] = busy_h[j] = busy_o[j] = 0.0;
    for (uint32_t k = 0; k < v; k++) {
      const uint32_t nl_i = p3cfg__chunk_layers(plan, j, k);
      const double nl = (double)nl_i;
      const uint64_t first = (uint64_t)k * all_units + before - (acc_emb && (j || k) ? 1 : 0);
      double nm = p3cfg__moe_layers_in(m, first, nl_i), nd = nl - nm;
      double fc = nd * L->fwd_s + nm * moe_fwd, bc = nd * L->bwd_s + nm * moe_bwd;
      double ft = (nd + nm * moe_tp_share) * tpf, bt = (nd + nm * moe_tp_share) * tpb;
      double fe = nm * a2a_f + nl * cpf, be = nm * a2a_b + nl * cpb;
      double fd = 0.0, bd = 0.0;
      /* Activation offloading (pp 1): the copies of the first n layers against the
       * layers' own forward and backward (offload.c). */
      double fo = 0.0, bo = 0.0;
      if (plan->cpu_offload_layers && nl > 0.0)
        p3cfg__offload_exposed(&fo, &bo, nl_i, plan->cpu_offload_layers,
                               (fc + ft + fe) / nl, (bc + bt + be) / nl,
                               x->offload_layer_bytes / x->host_Bps);
      if (j == 0 && k == 0) {
        fc += E->emb_fwd_s, ft += E->emb_tp_fwd * tp_ar;
        bc += E->emb_bwd_s, bt += E->emb_tp_bwd * tp_ar;
      }
      if (j == p - 1 && k == v - 1) {
        fc += E->out_fwd_s, ft += E->out_tp_fwd * tp_ar + 3.0 * tp_loss;
        bc += E->out_bwd_s, bt += E->out_tp_bwd * tp_ar;
        /* Multi-token prediction: each module a layer of the model's last kind, its
         * h x 2h projection, and its own logits and loss through the shared output layer. */
        const double n_mtp = (double)m->mtp_layers;
        if (n_mtp > 0.0) {
          const int moe_last = x->moe && m->moe.dense_layers < m->layers;
          const double proj = p3cfg__gemm_s(r, d->tokens, d->h / d->tp, 2.0 * d->h, 1.0);
          fc += n_mtp * ((moe_last ? moe_fwd : L->fwd_s) + proj + E->out_fwd_s);
          bc += n_mtp * ((moe_last ? moe_bwd : L->bwd_s) + 2.0 * proj + E->out_bwd_s);
          ft += n_mtp * (tpf + E->out_tp_fwd * tp_ar + 3.0 * tp_loss);
          bt += n_mtp * (tpb + E->out_tp_bwd * tp_ar);
          fe += moe_last ? n_mtp * a2a_f : 0.0;
          be += moe_last ? n_mtp * a2a_b : 0.0;
        }
      }
      if (zero >= 2 && !step_gather) {
        /* FSDP / ZeRO-3: gather the parameters before the forward and again before the
         * backward, reduce-scatter gradients after it, every micro-batch; overlapped
         * layer by layer (prefetch), the first gather and last reduction stay exposed.
         * ZeRO-2: the reduce-scatter only. Each chunk moves its own parameters: the
         * stage's ring times the chunk's share of the stage's layers (Megatron-FSDP with
         * pp > 1 and interleaving: one FSDP module per chunk). */
        const double share = chunk_share(plan, j, nl_i);
        const double zmb_rs = share * (links[j].dp.mb_rs + links[j].xdp.mb_rs);
        const double zmb_ag = share * (links[j].dp.mb_ag + links[j].xdp.mb_ag);
        const uint32_t ov = p3cfg__fw_overlap(plan); /* FSDP2 always prefetches */
        const int og = (ov & P3CFG_OVERLAP_PARAM_GATHER) != 0;
        const int orr = (ov & P3CFG_OVERLAP_GRAD_REDUCE) != 0;
        const double units = nl > 1.0 ? nl : 1.0;
        fd = og ? overlap_cost(zmb_ag, p3cfg__overlap_exposed_s(zmb_ag, fc + ft, units))
                : zmb_ag;
        bd = og ? overlap_cost(zmb_ag, p3cfg__overlap_exposed_s(zmb_ag, bc + bt, units))
                : zmb_ag;
        bd += orr ? overlap_cost(zmb_rs, p3cfg__overlap_exposed_s(zmb_rs, bc + bt, units))
                  : zmb_rs;
      }
      if (fw->pipe_partitioned && p > 1 && t > 1) {
        /* The received partition all-gathered over the TP group (an all-reduce's half):
         * the input before a forward, the output and the gradient before a backward. */
        ft += j > 0 ? 0.5 * tp_ar : 0.0;
        bt += j + 1 < p ? tp_ar : 0.0;
      }
      if (fw->grad_accum_bytes > 0.0 && zero <= 1) /* gradients accumulated in HBM */
        bc += fw->grad_accum_bytes * (p3cfg__perf_stage_params(x, j) / v) * r->s_per_byte;
      /* The host: it runs ahead of the GPU through dense layers and the backward, so
       * there the GPU waits only for what the host issues beyond the GPU's own time; each
       * MoE layer's forward synchronises it (the token counts), so there the two meet
       * layer by layer, and after each synchronisation the GPU waits one launch. */
      double fh = 0.0, bh = 0.0;
      if (nm > 0.0 || nd * hd_f > 0.0) {
        const double gd = nd * (L->fwd_s + tpf + cpf);
        const double gm = moe_fwd + moe_tp_share * tpf + a2a_f + cpf;
        fh = max2(0.0, nd * hd_f - gd) + nm * (max2(gm, hm_f) - gm + X->host_syncs * H);
        bh = max2(0.0, nd * hd_b + nm * hm_b - (bc + bt + be));
      }
      F[j * v + k] = fc + ft + fe + fd + fh + fo;
      B[j * v + k] = bc + bt + be + bd + bh + bo;
      busy_h[j] += mbd * (fh + bh);
      busy_o[j] += mbd * (fo + bo);
      busy_c[j] += mbd * (fc + bc);
      busy_t[j] += mbd * (ft + bt);
      busy_e[j] += mbd * (fe + be - nl * (cpf + cpb));
      busy_x[j] += mbd * nl * (cpf + cpb);
      busy_d[j] += mbd * (fd + bd);
    }
    before += (plan->stage_layers[j] + p3cfg__split_extra(plan, j)) / v;
  }

  /* Bound: every stage runs its own work serially, and the optimizer step follows the
   * last stage to finish, so the step takes at least the busiest stage's work plus the
   * optimizer. A plan already slower than the cutoff skips the simulation. */
  if (cutoff_s < HUGE_VAL) {
    double lb = 0.0, lb_opt = 0.0;
    for (uint32_t j = 0; j < p; j++) {
      lb = max2(lb, busy_c[j] + busy_t[j] + busy_e[j] + busy_x[j] + busy_h[j] + busy_d[j] +
                        busy_o[j]);
      lb_opt = max2(lb_opt, opt[j]);
    }
    if (lb + lb_opt > cutoff_s) {
      memset(out, 0, sizeof *out);
      out->iteration_s = lb + lb_opt;
      if (pruned)
        *pruned = 1;
      return P3CFG_OK;
    }
  }
  const p3cfg__pipe pipe = {p, v, mb, F, B, send_f, send_b};
  p3cfg__pipe_result res = {end, end_c, first_fwd, last_b, 0};
  const size_t sim_bytes = workspace_bytes - lay.total_doubles * sizeof(double);
  if (lockstep ? p3cfg__pipe_simulate_deepspeed(&res, &pipe, ws + lay.sim, sim_bytes)
               : p3cfg__pipe_simulate(&res, &pipe, ws + lay.sim, sim_bytes))
    return p3cfg__error_set(P3CFG_EINTERNAL, "time model: pipeline simulation failed");

  /* End of the step: each stage reduces its gradients after its last backward (with
   * overlap, bucket by bucket from the start of its last backward window; the last
   * bucket stays exposed), all meet for the tied-embedding all-reduce and the
   * optimizer, then the distributed optimizer all-gathers the parameters (overlapped:
   * with the next step's first forward, except what arrives too late for it). */
  /* DeepSpeed's pipeline engine reduces after its last step (ReduceGrads). */
  const int grad_overlap = (plan->overlap & P3CFG_OVERLAP_GRAD_REDUCE) != 0 && !lockstep;
  const int param_overlap = (plan->overlap & P3CFG_OVERLAP_PARAM_GATHER) != 0;
  uint32_t crit = 0;
  double synced = 0.0, opt_s = 0.0, gather_s = 0.0;
  for (uint32_t j = 0; j < p; j++) {
    if (end[j] > end[crit])
      crit = j;
    const p3cfg__dp_cost *dn = &links[j].dp, *dx = &links[j].xdp;
    const p3cfg__dp_cost sum = {dn->grad_sync + dx->grad_sync, dn->grad_bucket + dx->grad_bucket,
                                dn->param_gather + dx->param_gather,
                                dn->param_bucket + dx->param_bucket, dn->mb_rs + dx->mb_rs,
                                dn->mb_ag + dx->mb_ag};
    const p3cfg__dp_cost *dc = &sum;
    double g = dc->grad_sync;
    if (grad_overlap && zero <= 1)
      g = overlap_cost(dc->grad_sync,
                       max2(dc->grad_bucket, dc->grad_sync - (end[j] - last_b[j])));
    double a = dc->param_gather;
    if (step_gather) {
      /* Layer by layer behind the last backward (reduce-scatter) and the first forward
       * (the gather, prefetched a block ahead): the last and the first block exposed. */
      const double units = plan->stage_layers[j] > 1 ? (double)plan->stage_layers[j] : 1.0;
      g = overlap_cost(dc->mb_rs, p3cfg__overlap_exposed_s(dc->mb_rs, B[j * v + v - 1], units));
      a = overlap_cost(dc->mb_ag, p3cfg__overlap_exposed_s(dc->mb_ag, F[j * v], units));
    }
    synced = max2(synced, end[j] + g);
    opt_s = max2(opt_s, opt[j]);
    if (param_overlap && a > 0.0 && !step_gather) {
      const double window = first_fwd[j * v + v - 1] + F[j * v + v - 1];
      a = overlap_cost(dc->param_gather,
                       max2(0.0, max2(dc->param_bucket - first_fwd[j * v],
                                      dc->param_gather - window)));
    }
    gather_s = max2(gather_s, a);
  }
  if (m->tied_embeddings && p > 1)
    synced += tie_s;

  const double iteration = synced + opt_s + gather_s;
  const double busy = busy_c[crit] + busy_t[crit] + busy_e[crit] + busy_x[crit] + busy_h[crit] +
                      busy_d[crit] + busy_o[crit];
  const double idle = max2(0.0, end[crit] - busy);
  const double pp_comm = end_c[crit] < idle ? end_c[crit] : idle;
  out->iteration_s = iteration;
  out->compute_s = busy_c[crit];
  out->tp_comm_s = busy_t[crit];
  out->ep_comm_s = busy_e[crit];
  out->cp_comm_s = busy_x[crit];
  out->host_s = busy_h[crit];
  out->offload_s = busy_o[crit];
  out->pp_comm_s = pp_comm;
  out->bubble_s = idle - pp_comm;
  out->dp_comm_s = busy_d[crit] + (synced - end[crit]) + gather_s;
  out->optimizer_s = opt_s;
  /* Rounding: make the parts add up to the whole exactly. */
  out->bubble_s += iteration - (out->compute_s + out->tp_comm_s + out->ep_comm_s +
                                out->cp_comm_s + out->host_s + out->offload_s + out->pp_comm_s +
                                out->bubble_s + out->dp_comm_s + out->optimizer_s);
  const double tokens = (double)plan->global_batch * (double)m->seq_len;
  const double model_flops = p3cfg__model_flops(m, plan->global_batch, plan->tp);
  out->tokens_per_s = tokens / iteration;
  out->mfu = model_flops / ((double)p * t * dp * x->c->gpu.peak_flops * iteration);
  out->model_flops_per_iteration = model_flops;
  out->model_tflops_per_gpu = model_flops / ((double)p * t * dp * iteration) / 1e12;
  out->gemm_ceiling_mfu = x->gemm_ceiling;
  return P3CFG_OK;
}

void p3cfg__perf_layer_s(double *fwd_s, double *bwd_s, const p3cfg_model *m,
                         const p3cfg_cluster *c, const p3cfg_plan *plan,
                         const uint32_t *rank_gpu)
{
  p3cfg__rates r;
  p3cfg__dims d;
  p3cfg__layer_cost L;
  p3cfg__rates_of_plan(&r, m, &c->gpu, plan);
  p3cfg__dims_of(&d, m, plan);
  p3cfg__layer_cost_of(&L, &d, &r);
  p3cfg__ring ring;
  p3cfg__mesh M;
  p3cfg__perf_mesh_of(&M, plan);
  p3cfg__ring_of_group(&ring, c, rank_gpu, p3cfg__mesh_group_of(&M, P3CFG__MESH_TP, 0));
  double tpf, tpb;
  p3cfg__tp_exposed(&tpf, &tpb, &L, p3cfg__allreduce_s(&ring, L.tp_bytes), d.tp,
                    (plan->overlap & P3CFG_OVERLAP_TP_COMM) != 0);
  *fwd_s = L.fwd_s + tpf;
  *bwd_s = L.bwd_s + tpb;
}

/* For pipeline_trace.c (the timeline picture): the pipeline the last call simulated,
 * read back from the workspace it left. */
void p3cfg__perf_pipe_view(p3cfg__pipe *out, const p3cfg_plan *plan, const void *workspace)
{
  p3cfg__mesh M;
  p3cfg__perf_mesh_of(&M, plan);
  layout l;
  layout_of(&l, &M, plan->virtual_stages);
  const double *ws = workspace;
  *out = (p3cfg__pipe){plan->pp, plan->virtual_stages, p3cfg__plan_microbatches(plan),
                       ws + l.fwd, ws + l.bwd, ws + l.send_f, ws + l.send_b};
}
