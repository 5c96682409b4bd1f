/*
 * perf_internal.h — what the files of the time model share (src/perf only, plus tests
 * and benchmarks): the GPU rates, per-micro-batch costs of a layer and of the edges of
 * the model, collectives over the real links of a rank group, and the pipeline
 * simulator. docs/time-model.md describes every term.
 */
#ifndef P3CFG_PERF_INTERNAL_H
#define P3CFG_PERF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "links.h"
#include "mesh.h"
#include "model_params.h"
#include "types.h"

/* Greatest common divisor (the period arguments of the group walks). */
static inline uint32_t p3cfg__gcd_u32(uint32_t a, uint32_t b)
{
  while (b) {
    const uint32_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/* ---- compute_cost.c ------------------------------------------------------------------ */

/* The GPU in the form the cost functions use. */
typedef struct p3cfg__rates {
  double mm_Fps;     /* large-GEMM FLOP/s: peak x matmul_efficiency (peak/2 for fp32/TF32) */
  double half_flops; /* GEMM FLOPs at which efficiency halves (the size knee) */
  double mem_Bps;    /* achieved HBM bandwidth: hbm_Bps x memory_efficiency */
  double elem_bytes; /* bytes of one activation/weight element: 2 (bf16, fp16) or 4 */
  double s_per_flop, s_per_byte; /* 1 / mm_Fps and 1 / mem_Bps */
  double attn_fwd_s_per_flop, attn_bwd_s_per_flop; /* fused attention kernel, per FLOP */
  double kernel_gap_s; /* idle GPU time between two dependent kernels of a training step */
  /* Low precision (fp8, mxfp8, nvfp4; low_precision_time.c): lp = 1 runs the linear
   * layers' GEMMs at lp_s_per_flop with operands of lp_elem_bytes (scales included) and
   * quantizes their inputs and gradients; lp_amax_passes: extra reads of a tensor before
   * its cast (current scaling), lp_cast_kernels: kernels per quantized tensor. */
  int lp;
  double lp_s_per_flop, lp_half_flops, lp_elem_bytes;
  double lp_amax_passes, lp_cast_kernels;
  double lp_copies;         /* quantized copies per tensor: 2, or 1 for per-tensor FP8 on
                               Blackwell (one copy serves both GEMM layouts) */
  int lp_fused_norm;        /* 1: the norm before QKV / MLP-up writes the quantized copy */
  int lp_gather_rowwise;    /* 1: per-tensor FP8 with a transposed copy (Hopper): a tensor
                               gathered under sequence parallelism travels row-wise only
                               and the backward transposes the gathered whole */
  int lp_param_gather;      /* 1: weights kept low-precision (fp8_param_gather) */
  double gather_elem_bytes; /* per parameter of the parameter all-gather: elem_bytes, less
                               with fp8_param_gather (the linear weights in lp_elem_bytes) */
  /* The framework's element-wise work over the fused kernels the cost model counts
   * (framework_time.c; 1 for Megatron, DeepSpeed and compiled torchtitan): HBM bytes and
   * kernels of the norms, the rotary embedding and the activation. */
  double norm_bytes_f, norm_bytes_b, norm_kernels;
  double rope_bytes, rope_kernels;
  double act_bytes_f, act_bytes_b, act_kernels;
  /* SMs of a GPU whose attention backward runs FlashAttention-2's deterministic grid (a
   * deterministic Megatron-LM run on a GPU below compute capability 9.0; framework_time.c),
   * 0 otherwise: p3cfg__fa2_deterministic_factor. */
  double fa2_det_sms;
} p3cfg__rates;

/* How much longer FlashAttention-2's deterministic backward runs than its default one on
 * a GPU of `sms` SMs with `bh` (sequence, head) pairs per kernel: >= 1; 1 when sms is 0. */
double p3cfg__fa2_deterministic_factor(double sms, double bh);

/* The fraction of a GPU's SMs that NCCL's kernels hold while a collective runs beside
 * compute (overlapped gradient reduction, parameter gather, TP comm): the compute
 * under the overlap runs that much slower. NCCL runs one CTA per channel on its own SM;
 * at the default 16-32 channels on 108-132 SMs that is 12-30 %. Calibrated
 * (bench/time_accuracy.c, leave-one-source-out) within that range. */
#define P3CFG__OVERLAP_SM_FRACTION 0.15

/* The fused attention kernel with dropout on runs at these fractions of its rate
 * without: forward 75-85 %, backward 60-70 % of the no-dropout TFLOP/s (cuDNN 9.24 and
 * FlashAttention-4 on GB200, p = 0.125, Dao-AILab/flash-attention pull request 2597);
 * the middle of each range. */
#define P3CFG__FLASH_DROPOUT_FWD 0.80
#define P3CFG__FLASH_DROPOUT_BWD 0.65

/* FlashAttention-2 on Blackwell (B200), a fraction of the dense 16-bit peak (2.25 PFLOP/s):
 * its sm80 kernels run there on the warp-level MMA, at 350-362 TFLOP/s forward (head 128,
 * batch 8, 16 heads, s 2K-8K: meta-pytorch/tritonbench pull request 171, 2025-03) and
 * 300-334 backward (head 64, s 2K-16K, flash-attn 2.7.4: Dao-AILab/flash-attention issue
 * 1589, 2025-04): 0.16 and 0.147. TE runs it on Blackwell only where no other backend
 * takes the attention (framework_time.c: deterministic with dropout). */
#define P3CFG__FA2_BLACKWELL_FWD 0.16
#define P3CFG__FA2_BLACKWELL_BWD 0.147

void p3cfg__rates_of(p3cfg__rates *out, const p3cfg_model *m, const p3cfg_gpu *gpu);

/* ---- framework_time.c ---------------------------------------------------------------- */

/* The rates of `gpu` as the plan's framework runs it: the framework's compute efficiency
 * on the training clock, eager PyTorch's unfused element-wise work (torchtitan without
 * torch.compile). A Megatron plan gets p3cfg__rates_of's rates exactly. */
void p3cfg__rates_of_plan(p3cfg__rates *out, const p3cfg_model *m, const p3cfg_gpu *gpu,
                          const p3cfg_plan *plan);
/* The plan's overlap flags with those its framework always applies (FSDP2's prefetch
 * and overlapped reduce-scatter). */
uint32_t p3cfg__fw_overlap(const p3cfg_plan *plan);

/* Time of a (batched) GEMM C[m x n] = A[m x k] B[k x n], `batch` times in one kernel:
 * the larger of the knee-limited compute time and the bytes moved over HBM. */
double p3cfg__gemm_s(const p3cfg__rates *r, double m, double n, double k, double batch);

/* Model dimensions of one micro-batch on one GPU of a tensor-parallel group. */
typedef struct p3cfg__dims {
  double b, s, h, heads, kv_heads, head_dim, ffn, tp, vocab; /* vocab padded for tp */
  double tokens;                                             /* b*s/cp: this rank's */
  int sp, flash, swiglu, bias, dropout, rope, learned;
  p3cfg_recompute recompute;
  uint32_t recompute_modules; /* Megatron's selective modules recomputed (0 unless selective) */
  int sac_per_op; /* selective = torchtitan's per-op SAC (framework_physics.h) */
  int unfused;    /* separate q/k/v and w1/w3 GEMMs (torchtitan; framework_physics.h) */
  int tp_fused_only; /* async TP of torch's micro_pipeline_tp (framework_physics.h) */
  int gather_kept_by_recompute; /* full AC's re-gathered input serves the wgrads */
  /* Attention widths per head: q and k (qk_dim), v (v_dim); head_dim for MHA/GQA, MLA's
   * nope + rope and v_head_dim. mla: the latent projections q_lora (0 = none), kv_lora,
   * and the shared rope key width. cp: context-parallel ranks sharing the sequence. */
  double qk_dim, v_dim, cp;
  int mla;
  double q_lora, kv_lora, qk_rope;
  /* Mixture of experts (moe = 0: dense): routed experts, top_k, one expert's FFN width,
   * every shared expert's width together, expert-parallel and expert-tensor-parallel
   * sizes of the plan, and the model's moe.capacity_factor (0: dropless). */
  int moe;
  double experts, top_k, expert_ffn, shared_ffn, ep, etp, capacity;
  /* The experts' GLU clamp limit (0: none; GPT-OSS: 7, Megatron-Core's
   * activation_func_clamp_value): moe_cost.c's clamp-and-concatenate passes. No model key
   * sets it yet (p3cfg__dims_of leaves it 0). */
  double act_clamp;
  /* The loss kernel (cross_entropy_cost.h): the model's cross_entropy under Megatron,
   * unfused under the frameworks that run their own loss. */
  p3cfg_cross_entropy ce;
} p3cfg__dims;

void p3cfg__dims_of(p3cfg__dims *out, const p3cfg_model *m, const p3cfg_plan *plan);

/* One transformer layer, one micro-batch, one GPU (seconds), before communication. */
/* A transformer layer's tensor-parallel collectives (Megatron SC'21): two all-reduces
 * in the forward (after attention, after the MLP), two in the backward; with sp each is a
 * reduce-scatter + all-gather pair of the same time; full recomputation repeats the
 * forward's. The time model (perf_plan.c) prices them, p3cfg_comm_predict counts them. */
#define P3CFG__LAYER_TP_AR_FWD 2
#define P3CFG__LAYER_TP_AR_BWD 2
/* With sequence parallelism the backward all-gathers the sequence-sharded input of the
 * two column-parallel GEMMs (QKV, MLP up) again for their weight gradients (Korthikanti
 * et al. Sec. 4.2.2; LinearWithGradAccumulationAndAsyncCommunication.backward, and
 * Transformer Engine's Linear likewise): two more all-gathers per layer, one
 * all-reduce's time. Issued beside the data-gradient GEMM, yet exposed in measured
 * steps: Korthikanti's Table 4 has the sequence-parallel backward 0.1 ms faster where
 * the norms and dropouts on 1/t of the tokens alone save 0.5 ms. */
#define P3CFG__LAYER_SP_AG_BWD 2

typedef struct p3cfg__layer_cost {
  double fwd_s;       /* GEMMs, attention, memory-bound ops, launch gaps */
  double bwd_s;       /* backward, plus what recompute re-runs */
  double gemm_attn_s; /* forward GEMMs of the attention block (QKV + projection) */
  double gemm_mlp_s;  /* forward GEMMs of the MLP block */
  double gemm_fwd_s;  /* every forward GEMM (the four weight GEMMs) */
  double gemm_fwd_flops;         /* their FLOPs, 2 m n k each at the shapes gemm_fwd_s times */
  double gemm_qkv_s, gemm_fc1_s; /* the column-parallel GEMMs, one pass each */
  double kernels_fwd, kernels_bwd; /* compute kernels launched, forward and backward */
  double tp_bytes;    /* one tensor-parallel collective: b*s*h elements */
  double tp_ag_cut;   /* share of each layer all-gather's bytes low precision saves
                         (p3cfg__lp_tp_gather_cut; 0: 16-bit gathers) */
  /* The MLP block's share of the above (its GEMMs, activation, residual and norm of the
   * second half), which an MoE layer replaces with its experts (moe_cost.c). */
  double mlp_fwd_s, mlp_bwd_s, mlp_kernels_fwd, mlp_kernels_bwd;
  /* Context parallelism (cp > 1): ring attention runs the attention core in cp steps,
   * each step's K and V (cp_kv_bytes) sent to the next rank of the ring while the step
   * computes (attn_step_fwd_s / _bwd_s); the backward also returns dK, dV. */
  double cp_kv_bytes, attn_step_fwd_s, attn_step_bwd_s;
  int recompute_comm; /* 1: full recompute repeats the forward's TP collectives */
  int sp_regather;    /* 1: the backward re-gathers the sp-sharded GEMM inputs */
  int tp_fused_only;  /* 1: async TP pipelines only the matmul-fused collectives */
  int rs_unfused_attn, rs_unfused_mlp; /* 1: the input gradient is a sum of GEMMs' */
} p3cfg__layer_cost;

/* Exposed TP communication of one layer under async TP as PyTorch's micro_pipeline_tp
 * runs it (L->tp_fused_only; framework_time.c): each all-reduce's time ar_s is an
 * all-gather and a reduce-scatter of half of it; those fused with one matmul are
 * pipelined in tp chunks, the rest stay exposed. */
void p3cfg__tp_exposed_fused_only(double *fwd_s, double *bwd_s, const p3cfg__layer_cost *L,
                                  double ar_s, double tp);
/* What an overlapped collective of comm_s costs when exposed_s of it shows. */
double p3cfg__overlap_cost(double comm_s, double exposed_s);
/* Exposed TP communication of one layer, forward and backward, for an all-reduce of ar_s
 * at degree tp, with or without TP overlap (tp_exposed.c). */
void p3cfg__tp_exposed(double *fwd_s, double *bwd_s, const p3cfg__layer_cost *L, double ar_s,
                       double tp, int overlap);

void p3cfg__layer_cost_of(p3cfg__layer_cost *out, const p3cfg__dims *d, const p3cfg__rates *r);

/* ---- moe_cost.c ---------------------------------------------------------------------- */

/* The FFN of an MoE layer, one micro-batch, one GPU (Megatron-Core's MoELayer with the
 * all-to-all token dispatcher): router, permutation, the grouped expert GEMMs, shared
 * experts, unpermutation. Communication is counted, not timed (perf_plan.c times it on
 * the links of the plan's EP and ETP groups). */
typedef struct p3cfg__moe_cost {
  double fwd_s, bwd_s;             /* compute, launch gaps included */
  double kernels_fwd, kernels_bwd;
  double gemm_fwd_s;               /* the expert and shared-expert GEMMs, forward */
  double a2a_bytes;  /* one all-to-all (dispatch or combine): bytes each GPU sends */
  double etp_bytes;  /* the received tokens' all-gather over the ETP group (full size) */
  double a2a_fwd, a2a_bwd; /* all-to-alls per layer: dispatch + combine each way */
  int shared_tp;     /* 1: shared experts keep the MLP's TP collective */
  double host_syncs; /* host synchronisations per layer forward (the token counts) */
  /* What Megatron's selective-recompute modules of the MoE half (layernorm, moe_act, moe,
   * shared_experts) re-run in the backward, and its kernels; the moe module also repeats
   * the dispatch and combine (counted in a2a_bwd). */
  double recompute_s, recompute_kernels;
} p3cfg__moe_cost;

/* The CPU time a framework spends issuing one GPU operation in eager PyTorch: Python,
 * autograd and ATen dispatch and the driver's launch, about 5-25 us per op (the dispatch
 * chain: CPython ~1 us, pybind ~1, autograd ~1-3, ATen ~1-2, backend ~1-5, launch ~1-3;
 * docs/time-model.md, "Host"); the typical 10 us. The GPU can run no faster than the host
 * issues its work; while the host runs ahead (no synchronisation) only the larger of the
 * two counts, and after a host synchronisation the GPU waits for the host. */
#define P3CFG__HOST_S_PER_KERNEL 10.0e-6
/* Transformer Engine's compute streams for its grouped GEMMs (num_compute_streams,
 * transformer_engine/common/util/multi_stream.cpp at d0067d0): moe_cost.c. */
#define P3CFG__TE_GEMM_STREAMS 4.0

void p3cfg__moe_cost_of(p3cfg__moe_cost *out, const p3cfg__dims *d, const p3cfg__rates *r);
/* Seconds of `g` grouped expert GEMMs [m x k][k x n] (moe_cost.c). */
double p3cfg__grouped_gemm_s(const p3cfg__rates *r, double g, double m, double n, double k);

/* An MoE layer's all-to-all time per micro-batch (a2a_f forward, a2a_b backward) under
 * Megatron-Core's EP all-to-all overlap, on pipeline rank `rank` of pp with vpp chunks and
 * `microbatches` per step; layer_fwd_s / layer_bwd_s the whole MoE layer's compute
 * (ep_overlap.c). */
double p3cfg__ep_overlap_cost(double a2a_f, double a2a_b, const p3cfg__moe_cost *X,
                              double layer_fwd_s, double layer_bwd_s, uint32_t pp, uint32_t vpp,
                              uint32_t rank, double microbatches);

/* Embedding (first virtual stage) and output layer + loss (last one), per micro-batch. */
typedef struct p3cfg__edge_cost {
  double emb_fwd_s, emb_bwd_s; /* lookup, positions, dropout; dense gradient accumulate */
  double out_fwd_s, out_bwd_s; /* final norm, logits GEMM, vocab-parallel cross entropy */
  double emb_tp_fwd, emb_tp_bwd; /* TP collectives in all-reduce units of tp_bytes */
  double out_tp_fwd, out_tp_bwd;
  double loss_bytes;             /* each of the 3 small all-reduces of the loss */
} p3cfg__edge_cost;

void p3cfg__edge_cost_of(p3cfg__edge_cost *out, const p3cfg__dims *d, const p3cfg__rates *r);

/* Optimizer step on one GPU owning `owned` parameters out of `held` (seconds). */
double p3cfg__optimizer_s(const p3cfg__rates *r, const p3cfg_model *m, double owned,
                          double held);

/* Matrix-multiply FLOPs of one optimizer step for the whole model (all GPUs). */
typedef struct p3cfg__flops {
  double model;    /* MFU numerator: (6 N_non_embedding + 12 l s h) per token */
  double hardware; /* every GEMM that runs: forward, 2x backward, recompute; attention as
                      executed (full s^2 without flash, causal half with flash) */
} p3cfg__flops;

void p3cfg__flops_of(p3cfg__flops *out, const p3cfg_model *m, const p3cfg_plan *plan);

/* Exposed time of a collective `comm_s` overlapped with GEMMs `gemm_s` split into
 * `chunks` pieces (Transformer Engine's ring-exchange overlap): a chunks-stage pipeline. */
double p3cfg__overlap_exposed_s(double comm_s, double gemm_s, double chunks);

/* ---- collectives.c ------------------------------------------------------------------- */

/* NCCL's achieved fraction of a datasheet link rate (nccl-tests bus bandwidth): links
 * from the `network` figures are derated by it, measured `links` are used as given. */
#define P3CFG_NVLINK_EFFICIENCY 0.80
#define P3CFG_NETWORK_EFFICIENCY 0.92

/* A ring over a rank group, hierarchical when it spans nodes with g ranks on each of n
 * nodes (k = g*n); otherwise flat (g = k, n = 1) at its slowest link. */
typedef struct p3cfg__ring {
  uint32_t k, g, n;
  double intra_Bps, intra_latency_s; /* slowest link of the rings inside the nodes */
  double inter_Bps, inter_latency_s; /* slowest link of the g rings across the nodes */
  double ar_latency_s, ar_s_per_byte; /* all-reduce time = latency + bytes * s_per_byte */
} p3cfg__ring;

/* Bandwidth and latency NCCL gets from `src` to `dst` (global GPU ids). Inline, with
 * p3cfg__p2p_s: the placement's incremental scoring makes millions of these lookups. */
static inline void p3cfg__link_achieved(const p3cfg_cluster *c, uint32_t src, uint32_t dst,
                                        double *Bps, double *latency_s)
{
  p3cfg__link(c, src, dst, Bps, latency_s);
  const int measured = c->links.granularity == P3CFG_LINKS_NODE ||
                       (c->links.granularity == P3CFG_LINKS_GPU && src != dst);
  if (!measured) {
    /* Datasheet rates: NCCL's bus bandwidth reaches ~80 % of NVLink (e.g. ~235 of 300
     * GB/s on DGX A100, nccl-tests all_reduce_perf) and ~92 % of an InfiniBand port. */
    *Bps *= p3cfg__same_domain(c, src, dst) ? P3CFG_NVLINK_EFFICIENCY : P3CFG_NETWORK_EFFICIENCY;
  }
}

/* The ring of ranks first, first+stride, ..., first+(k-1)*stride in that order;
 * rank r runs on GPU rank_gpu[r] (r when rank_gpu is NULL). */
void p3cfg__ring_of(p3cfg__ring *out, const p3cfg_cluster *c, const uint32_t *rank_gpu,
                    uint32_t first, uint32_t stride, uint32_t k);

/* The ring of a mesh group's members in their order. */
static inline void p3cfg__ring_of_group(p3cfg__ring *out, const p3cfg_cluster *c,
                                        const uint32_t *rank_gpu, p3cfg__mesh_group g)
{
  p3cfg__ring_of(out, c, rank_gpu, g.first, g.stride, g.count);
}

/* Ring collectives of a buffer of `bytes` (the full, unsharded size), Megatron SC'21 /
 * NCCL: all-reduce 2(k-1)/k n/bw + 2(k-1) latency, the others half of it. */
static inline double p3cfg__allreduce_s(const p3cfg__ring *r, double bytes)
{
  return r->ar_latency_s + bytes * r->ar_s_per_byte;
}

static inline double p3cfg__reduce_scatter_s(const p3cfg__ring *r, double bytes)
{
  return 0.5 * p3cfg__allreduce_s(r, bytes);
}

static inline double p3cfg__all_gather_s(const p3cfg__ring *r, double bytes)
{
  return 0.5 * p3cfg__allreduce_s(r, bytes);
}

/* The rings of HSDP inside the data-parallel ring `full` (members in mesh order, on a
 * uniform network): the shard groups of shard_k consecutive members, and the replica
 * groups of every shard_k-th member (full->k / shard_k of them). Exact for rings whose
 * nodes hold g consecutive members (g a multiple of shard_k, or shard_k of g); a shard
 * that splits a node otherwise is taken as flat at the slower of the two links. */
void p3cfg__ring_split(p3cfg__ring *shard, p3cfg__ring *rep, const p3cfg__ring *full,
                       uint32_t shard_k);

/* The same ring from what its consecutive links (member i -> i+1 mod k) say: `descents`
 * members on a lower node than the member before them, `changes` on another node, and the
 * slowest of those links (min_Bps, max_latency_s, as p3cfg__link_achieved gives them).
 * Returns 0 with *out exactly as p3cfg__ring_of builds it when that settles the ring (any
 * descent, no change, or changes + 1 not dividing k: a flat ring; k - 1 changes and no
 * descent: one member per node, in order), -1 when only p3cfg__ring_of can tell (runs that
 * may all be as long; or the cluster is a two-tier network without measured links, spine
 * or rails, whose rings p3cfg__ring_of prices from their shape without looking links up). */
int p3cfg__ring_of_chain(p3cfg__ring *out, const p3cfg_cluster *c, uint32_t k,
                         uint32_t descents, uint32_t changes, double min_Bps,
                         double max_latency_s);

/* One point-to-point message of `bytes` from GPU src to GPU dst. */
static inline double p3cfg__p2p_s(const p3cfg_cluster *c, uint32_t src, uint32_t dst,
                                  double bytes)
{
  double bw, lat;
  p3cfg__link_achieved(c, src, dst, &bw, &lat);
  return lat + bytes / bw;
}

/* The links one member of an all-to-all group sees: how many of the other members share
 * its NVLink domain (near) and how many do not (far), its slowest link to each kind
 * (1e300 where there is none), and the largest latency to any of them. */
typedef struct p3cfg__a2a_member {
  uint32_t n_near, n_far;
  double near_bw, far_bw, lat;
} p3cfg__a2a_member;

/* All-to-all of `bytes` per member over a mesh group's GPUs (each member sends bytes/k
 * to every member): the slowest member's NVLink and network shares, in parallel. */
double p3cfg__alltoall_s(const p3cfg_cluster *c, const uint32_t *rank_gpu,
                         p3cfg__mesh_group grp, double bytes);

/* The flex token dispatcher's dispatch (or combine) over a mesh group's GPUs, DeepEP's
 * and HybridEP's hierarchical all-to-all (collectives.c): each member holds tokens whose
 * one copy is token_bytes, each routed to top_k of `experts` experts spread evenly over
 * the group; a token crosses to another NVLink domain once per domain it is routed to,
 * and reaches each GPU of a domain once, forwarded there over NVLink. */
double p3cfg__flex_dispatch_s(const p3cfg_cluster *c, const uint32_t *rank_gpu,
                              p3cfg__mesh_group grp, double token_bytes, double experts,
                              double top_k);

/* p3cfg__alltoall_s and p3cfg__flex_dispatch_s of a group of k members whose links are
 * given (members[i]: member i's, as the walk over the placed group finds them): the same
 * values to the bit. */
double p3cfg__alltoall_members_s(const p3cfg__a2a_member *members, uint32_t k, double bytes);
double p3cfg__flex_members_s(const p3cfg__a2a_member *members, uint32_t k, double token_bytes,
                             double experts, double top_k);

/* ---- pipeline_sim.c ------------------------------------------------------------------ */

/* One pipeline of p ranks, v chunks each, m identical micro-batches, Megatron-LM's 1F1B
 * (v = 1) or interleaved 1F1B (v > 1) order. */
typedef struct p3cfg__pipe {
  uint32_t p, v;
  uint64_t m;
  const double *fwd_s; /* [j*v + k]: forward of rank j's chunk k, one micro-batch */
  const double *bwd_s; /* [j*v + k]: backward */
  const double *send_fwd_s; /* [j]: activations rank j -> (j+1)%p ([p-1]: the wrap) */
  const double *send_bwd_s; /* [j]: gradients (j+1)%p -> j */
} p3cfg__pipe;

typedef struct p3cfg__pipe_result {
  double *end_s;      /* [p]: end of the rank's last operation */
  double *end_comm_s; /* [p]: send time on the critical path ending there */
  double *first_fwd_s; /* [p*v]: start of chunk k's first forward on rank j */
  double *last_bwd_s;  /* [p]: start of the last backward of the rank's chunk v-1 */
  uint64_t steps;      /* steps simulated (for tests: the fast path jumps) */
} p3cfg__pipe_result;

/* Workspace bytes of the simulators for (p, v, m). */
size_t p3cfg__pipe_ws_bytes(uint32_t p, uint32_t v, uint64_t m);
size_t p3cfg__pipe_ws_bytes_reference(uint32_t p, uint32_t v, uint64_t m);

/* Exact critical-path simulation; simulates warm-up and cool-down and jumps over the
 * periodic steady state. Returns 0, or -1 when the workspace is too small. */
int p3cfg__pipe_simulate(p3cfg__pipe_result *out, const p3cfg__pipe *pipe, void *ws,
                         size_t ws_bytes);
/* The q-th operation (0 <= q < 2mv) rank j runs: Megatron-LM's program (w_j warm-up
 * forwards, then forward and backward alternately, then the remaining backwards). */
typedef struct p3cfg__pipe_op {
  int fwd;
  uint32_t chunk;
  uint64_t mb, step;
} p3cfg__pipe_op;
p3cfg__pipe_op p3cfg__pipe_program(const p3cfg__pipe *pipe, uint32_t j, uint64_t q);

/* DeepSpeed's pipeline engine's TrainSchedule (v = 1): every transfer a rendezvous of
 * the two stages at the start of a step (pipeline_ds.c). Fills the same results; needs
 * 4p doubles of workspace (never more than p3cfg__pipe_ws_bytes). Returns 0, or -1. */
int p3cfg__pipe_simulate_deepspeed(p3cfg__pipe_result *out, const p3cfg__pipe *pipe, void *ws,
                                   size_t ws_bytes);

/* The same, one event at a time over every micro-batch (the reference for tests). */
int p3cfg__pipe_simulate_reference(p3cfg__pipe_result *out, const p3cfg__pipe *pipe, void *ws,
                                   size_t ws_bytes);

/* ---- perf_plan.c --------------------------------------------------------------------- */

/* What a plan's time model needs besides the placement, worked out once per plan. */
typedef struct p3cfg__perf_ctx {
  const p3cfg_model *m;
  const p3cfg_cluster *c;
  const p3cfg_plan *plan;
  p3cfg__mesh mesh; /* the plan's geometry */
  p3cfg__params par;
  p3cfg__rates r;
  p3cfg__dims d;
  p3cfg__layer_cost L;
  p3cfg__edge_cost E;
  /* Mixture of experts and context parallelism (issue 16): the MoE FFN's cost (moe =
   * 0: dense), the expert mesh (etp, 1, ep, edp, pp: Megatron-Core's expert rank
   * generator over the same ranks), and the mesh whose DP groups reduce the dense
   * gradients (tp, 1, 1, cp*dp, pp: the data-parallel group with cp folded in). */
  int moe;
  p3cfg__moe_cost X;
  p3cfg__mesh xmesh, gmesh;
  double act_bytes;    /* one micro-batch's activations sent between adjacent stages */
  double grad_elem;    /* bytes of a gradient element in the data-parallel reduction */
  double bucket;       /* DDP bucket (parameters) */
  double tie_bytes;    /* tied-embedding gradient all-reduce */
  double gemm_ceiling; /* fraction of peak the layer's weight GEMMs run at in training */
  /* Activation offloading (plan->cpu_offload_layers > 0): one layer's activations of one
   * micro-batch (the memory model's, bytes) and the host link's achieved bytes/s. */
  double offload_layer_bytes, host_Bps;
} p3cfg__perf_ctx;

/* Activation offloading's cost on one micro-batch of a pp-1 stage of `layers` layers whose
 * first n are offloaded, each layer taking fwd_s / bwd_s and its activations xfer_s over
 * the host link each way: how much later the forward and the backward end than their
 * compute alone (Transformer Engine's schedule; docs/time-model.md, "Activation
 * offloading"). */
void p3cfg__offload_exposed(double *fwd_s, double *bwd_s, uint32_t layers, uint32_t n,
                            double layer_fwd_s, double layer_bwd_s, double xfer_s);
/* The perf context's offloading figures of a plan (both 0 without offloading). */
void p3cfg__offload_rates(double *layer_bytes, double *host_Bps, const p3cfg_model *m,
                          const p3cfg_cluster *c, const p3cfg_plan *plan);

void p3cfg__perf_ctx_of(p3cfg__perf_ctx *out, const p3cfg_model *m, const p3cfg_cluster *c,
                        const p3cfg_plan *plan);

/* Parameters one GPU of pipeline stage j holds (tensor-parallel shards). */
double p3cfg__perf_stage_params(const p3cfg__perf_ctx *x, uint32_t j);

/* Data-parallel collectives of one ring of a stage holding `stage_params` parameters per
 * GPU (zero where the plan's ZeRO stage has none). A stage costs the worst of its rings. */
typedef struct p3cfg__dp_cost {
  double grad_sync, grad_bucket;    /* per step: gradient reduction, its last bucket */
  double param_gather, param_bucket; /* per step: 16-bit parameter all-gather, last bucket */
  double mb_rs, mb_ag;              /* ZeRO-2/3, per micro-batch: reduce-scatter, gather */
} p3cfg__dp_cost;

/* The link costs of one pipeline stage, each the worst over its concurrent groups: the
 * part of the time model the placement changes. */
typedef struct p3cfg__stage_links {
  double tp_ar, tp_loss; /* TP all-reduce of a layer's activations; of the loss */
  double ep_a2a;         /* one dispatch (or combine) all-to-all of an MoE layer */
  double etp_ar;         /* the ETP all-gather + reduce-scatter of the routed rows */
  double cp_p2p;         /* one ring-attention step's K, V to the next CP rank */
  p3cfg__dp_cost xdp;    /* the expert gradients' expert-data-parallel rings */
  double send_f, send_b; /* activations to the next stage (wrap: p-1 -> 0); gradients back */
  p3cfg__dp_cost dp;
} p3cfg__stage_links;

/* The terms of one group, the only formulas for them (p3cfg__perf_plan and the cache of
 * p3cfg__perf_cache_* both call these): a TP group's ring, the sends between GPU a of one
 * stage and GPU b of the next, a DP ring, the tied-embedding ring of a first and a last
 * stage rank. p3cfg__dp_cost_max folds one ring into a stage's worst. */
void p3cfg__perf_tp_group(double *ar_s, double *loss_s, const p3cfg__perf_ctx *x,
                          const p3cfg__ring *ring);
void p3cfg__perf_send(double *fwd_s, double *bwd_s, const p3cfg__perf_ctx *x, uint32_t a,
                      uint32_t b);
void p3cfg__perf_dp_ring(p3cfg__dp_cost *out, const p3cfg__perf_ctx *x, double stage_params,
                         const p3cfg__ring *ring);
double p3cfg__perf_tie(const p3cfg__perf_ctx *x, const p3cfg__ring *ring);
void p3cfg__dp_cost_max(p3cfg__dp_cost *acc, const p3cfg__dp_cost *ring);

/* The groups of MoE and context parallelism, one at a time (g numbers the group as mesh.h
 * does, over the whole mesh): EP group g's dispatch (or combine) all-to-all, that of an
 * EP group whose members' links are given (p3cfg__perf_ep_members, members[i] for member
 * i: the same value to the bit), ETP group g's all-gather + reduce-scatter, EDP ring g's
 * reductions of a stage holding expert_params expert parameters per GPU, and CP ring g's
 * slowest K/V send. A stage's cost of each is the worst over its groups. */
double p3cfg__perf_ep_group(const p3cfg__perf_ctx *x, const uint32_t *rank_gpu, uint32_t g);
double p3cfg__perf_ep_members(const p3cfg__perf_ctx *x, const p3cfg__a2a_member *members);
double p3cfg__perf_etp_group(const p3cfg__perf_ctx *x, const uint32_t *rank_gpu, uint32_t g);
void p3cfg__perf_edp_ring(p3cfg__dp_cost *out, const p3cfg__perf_ctx *x, const uint32_t *rank_gpu,
                          double expert_params, uint32_t g);
double p3cfg__perf_cp_group(const p3cfg__perf_ctx *x, const uint32_t *rank_gpu, uint32_t g);

/* The link costs of stage j beyond TP, sends and dense DP (p3cfg__stage_links' ep_a2a,
 * etp_ar, cp_p2p, and the expert gradients' rings, xdp), from every group
 * evaluated as is: MoE and cp > 1 plans only (a no-op otherwise). Both p3cfg__perf_plan
 * and the placement cache call it. */
void p3cfg__perf_stage_extra(p3cfg__stage_links *lj, const p3cfg__perf_ctx *x,
                             const uint32_t *rank_gpu, uint32_t j);
/* The same for stage j when its groups are those of the stage lq was costed for,
 * translated by a multiple of the link period (default map, uniform links): lq's EP, ETP
 * and CP terms copied, and its expert gradients' rings (xdp) when same_experts (the two
 * stages hold the same expert parameters), else j's rings costed again. */
void p3cfg__perf_stage_extra_as(p3cfg__stage_links *lj, const p3cfg__perf_ctx *x,
                                const uint32_t *rank_gpu, uint32_t j,
                                const p3cfg__stage_links *lq, int same_experts);
/* How many of the model's layers [first, first + n) have an MoE FFN (the first
 * moe.dense_layers are dense). */
double p3cfg__moe_layers_in(const p3cfg_model *m, uint64_t first, uint64_t n);
/* Expert parameters one GPU of stage j holds (0 for a dense model). */
double p3cfg__perf_stage_expert_params(const p3cfg__perf_ctx *x, uint32_t j);
/* The mesh the time model walks: the plan's with cp folded into dp. */
void p3cfg__perf_mesh_of(p3cfg__mesh *out, const p3cfg_plan *plan);

/* The rest of the step from the stages' link costs (`links`: pp entries; `tie_s`: the
 * tied-embedding all-reduce, ignored without one): per-micro-batch costs, the pipeline
 * schedule, the data-parallel and optimizer tail. Workspace and cutoff as for
 * p3cfg__perf_plan_cutoff; `links` may lie in the workspace's own link area. */
int p3cfg__perf_finish(p3cfg_time *out, const p3cfg__perf_ctx *x,
                       const p3cfg__stage_links *links, double tie_s, void *workspace,
                       size_t workspace_bytes, double cutoff_s, int *pruned);

/* Forward and backward time of one transformer layer on stage 0's TP group (one
 * micro-batch, exposed TP communication included), for benchmarks and tests. */
void p3cfg__perf_layer_s(double *fwd_s, double *bwd_s, const p3cfg_model *m,
                         const p3cfg_cluster *c, const p3cfg_plan *plan,
                         const uint32_t *rank_gpu);

#endif
