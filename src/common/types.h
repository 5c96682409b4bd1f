/*
 * types.h — the model, cluster and result structs every stage works on.
 *
 * parse/ fills p3cfg_model and p3cfg_cluster from files, profile/ fills clusters from
 * measurements; estimate/ and perf/ see only these structs, never YAML or MPI.
 * All sizes are uint64_t (products of them are taken in uint64_t or double, never int),
 * bandwidths are bytes/s (`_Bps`), latencies seconds (`_s`).
 */
#ifndef P3CFG_TYPES_H
#define P3CFG_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "p3cfg.h"

typedef enum { P3CFG_ACT_GELU = 0, P3CFG_ACT_SWIGLU = 1 } p3cfg_activation;
typedef enum { P3CFG_POS_LEARNED = 0, P3CFG_POS_ROPE = 1, P3CFG_POS_ALIBI = 2 } p3cfg_posemb;
typedef enum { P3CFG_NORM_LAYERNORM = 0, P3CFG_NORM_RMSNORM = 1 } p3cfg_norm;
/* The training precision (`precision`): the 16-bit formats and fp32, and the low-precision
 * GEMM recipes of Transformer Engine (issue 14): fp8 (Hopper per-tensor scaling, delayed or
 * current), mxfp8 (Blackwell 32-element block scaling), nvfp4. */
typedef enum {
  P3CFG_PREC_BF16 = 0,
  P3CFG_PREC_FP16 = 1,
  P3CFG_PREC_FP32 = 2,
  P3CFG_PREC_FP8 = 3,
  P3CFG_PREC_MXFP8 = 4,
  P3CFG_PREC_NVFP4 = 5
} p3cfg_precision;
typedef enum { P3CFG_ATTN_STANDARD = 0, P3CFG_ATTN_MLA = 1 } p3cfg_attention_kind;
/* How fp8 (per-tensor) finds its scales (`fp8_recipe`, Megatron-LM's --fp8-recipe):
 * delayed (from an amax history: the amax comes out of the cast kernel itself, Megatron's
 * default) or current (tensorwise: an amax pass over the tensor before its cast). */
typedef enum { P3CFG_FP8_DELAYED = 0, P3CFG_FP8_CURRENT = 1 } p3cfg_fp8_recipe;
/* The dtype of Megatron-LM's gradient buffer and its data-parallel reduction
 * (`grad_reduce`): fp32 (its rule for bf16: accumulate_allreduce_grads_in_fp32) or bf16
 * (--grad-reduce-in-bf16; Megatron-Bridge's perf recipes, ddp.grad_reduce_in_fp32 False). */
typedef enum { P3CFG_GRAD_REDUCE_FP32 = 0, P3CFG_GRAD_REDUCE_BF16 = 1 } p3cfg_grad_reduce;
/* The language-model loss (`cross_entropy`, cross_entropy_cost.h): Megatron-LM's unfused
 * vocab-parallel cross entropy (its default), Transformer Engine's fused Triton kernel
 * (--cross-entropy-loss-fusion --cross-entropy-fusion-impl te; Megatron-Bridge's perf
 * recipes) or Megatron-Core's JIT-fused one (--cross-entropy-fusion-impl native). */
typedef enum {
  P3CFG_CE_UNFUSED = 0,
  P3CFG_CE_FUSED = 1,
  P3CFG_CE_NATIVE = 2
} p3cfg_cross_entropy;

/* `moe.dispatcher`, in the order of p3cfg__moe_dispatcher_names (plan_record.c). */
typedef enum {
  P3CFG_DISPATCH_ALLTOALL = 0,
  P3CFG_DISPATCH_DEEPEP = 1,
  P3CFG_DISPATCH_HYBRIDEP = 2
} p3cfg_moe_dispatcher;
#define P3CFG_DISPATCH_COUNT 3

/* Mixture of experts (`moe:`; experts == 0: a dense model). Every MoE layer has `experts`
 * routed experts of expert_ffn_hidden (each shaped as the model's activation: SwiGLU has
 * three matrices), top_k of them per token, plus shared_experts always-on experts of
 * shared_expert_ffn_hidden each, and a router (experts x hidden). The first dense_layers
 * layers have a dense FFN of ffn_hidden instead. capacity_factor 0 = dropless. */
typedef struct p3cfg_moe {
  uint64_t experts, top_k, expert_ffn_hidden;
  uint64_t shared_experts, shared_expert_ffn_hidden;
  uint64_t dense_layers;
  double capacity_factor;
  /* The experts' clamped activation (GPT-OSS: swiglu_limit 7): fc1's output clamped to
   * [-limit, limit] before the activation (Megatron-Core activation_func_clamp_value);
   * 0 = none. */
  double activation_clamp;
  /* The token dispatcher (`moe.dispatcher`): Megatron-Core's all-to-all one (NCCL, one
   * copy of a token per routed expert) or its flex dispatcher on DeepEP or HybridEP
   * (one copy per destination GPU inside an NVLink domain, one per destination domain
   * across it; collectives.c). */
  p3cfg_moe_dispatcher dispatcher;
} p3cfg_moe;

/* DeepSeek's multi-head latent attention (`attention: {kind: mla, ...}`). q_lora_rank 0 =
 * no query compression (DeepSeek-V2-Lite). */
typedef struct p3cfg_mla {
  uint64_t q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim;
} p3cfg_mla;
typedef enum { P3CFG_OPT_ADAM = 0, P3CFG_OPT_SGD = 1 } p3cfg_optimizer;

struct p3cfg_model {
  char *name;
  char *source; /* file the model came from, for messages */
  uint64_t layers, hidden, heads, kv_heads, ffn_hidden, vocab, seq_len, global_batch;
  p3cfg_activation activation;
  bool tied_embeddings;
  p3cfg_posemb position_embedding;
  p3cfg_norm norm;
  bool flash_attention;
  p3cfg_precision precision;
  p3cfg_optimizer optimizer;
  /* Extensions (spec: new optional keys). Megatron-LM's defaults: */
  bool bias;    /* `bias`, default true: linear layers carry biases (false for Llama) */
  bool dropout; /* `dropout`, default true: hidden/attention dropout masks are kept */
  /* Issue 16. head_dim: per attention head (default hidden/heads; Qwen3 has 64 x 128 with
   * hidden 4096). moe.experts == 0: dense. attention: standard (MHA/GQA from heads,
   * kv_heads) or MLA with `mla`. mtp_layers: multi-token-prediction modules after the
   * last layer (each a transformer layer plus an h x 2h projection and two norms). */
  uint64_t head_dim;
  p3cfg_moe moe;
  p3cfg_attention_kind attention;
  p3cfg_mla mla;
  uint64_t mtp_layers;
  /* Issue 14 (low precision, docs/formats.md "Precision"): the fp8 scaling recipe, and
   * `fp8_param_gather` (Megatron-LM --fp8-param-gather / --fp4-param-gather): the
   * linear layers' weights are kept in the low-precision format and the distributed
   * optimizer all-gathers them so. */
  p3cfg_fp8_recipe fp8_recipe;
  bool fp8_param_gather;
  /* Issue 15: shape facts the launch needs but memory and time do not depend on: the
   * rotary base (HF rope_theta; 0 = not given, the framework's default) and the norm's
   * epsilon (HF rms_norm_eps / layer_norm_eps; 0 = not given). */
  double rope_theta;
  double norm_eps;
  /* Megatron-LM's gradient buffer and reduction dtype (grad_reduce.h): fp32 by default,
   * bf16 only with a bf16-family precision (bf16, fp8, mxfp8, nvfp4). */
  p3cfg_grad_reduce grad_reduce;
  /* The loss kernel (cross_entropy_cost.h): unfused by default. */
  p3cfg_cross_entropy cross_entropy;
  /* The run is bit-reproducible (`deterministic`: Megatron-LM's --deterministic-mode with
   * NVTE_ALLOW_NONDETERMINISTIC_ALGO=0, torchtitan's debug.deterministic): false by
   * default. Time: Transformer Engine's attention backend under it (compute_cost.c). */
  bool deterministic;
};

/* One GPU model: datasheet numbers plus the efficiency parameters of the time model. */
typedef struct p3cfg_gpu {
  char name[64];
  uint64_t memory_bytes;
  double peak_flops; /* dense 16-bit FLOP/s */
  double hbm_Bps;
  /* Fixed memory outside the allocator's peak (see docs/memory-model.md). */
  uint64_t context_bytes; /* CUDA context + cuBLAS/cuDNN workspaces + kernels */
  /* Compute model (docs/time-model.md), every figure measured on kernels, none fitted
   * to training steps: the fraction of peak a large GEMM sustains, the GEMM size at
   * which it halves, the fraction of HBM bandwidth element-wise kernels reach, the
   * fractions of peak the fused (flash) attention kernel reaches forward and backward
   * (0: as a GEMM), and the idle gap between two dependent kernels of an eager
   * training step (launch latency; 0 in isolated kernel timings). */
  double matmul_efficiency;
  double matmul_half_flops;
  double memory_efficiency;
  double attention_efficiency;
  double attention_bwd_efficiency;
  double kernel_gap_s;
  /* The clock a GPU holds through a multi-GPU training step (eight GPUs under one power
   * and cooling budget, NVLink and HBM busy) relative to the single-GPU kernel
   * measurements above: scales the GEMM and attention rates. Calibrated on training
   * steps per GPU (bench/time_accuracy.c, leave-one-source-out). */
  double training_clock_ratio;
  /* Issue 14: dense low-precision peaks. FP8 (and MXFP8) FLOP/s, 0 = the GPU has no FP8
   * tensor cores; NVFP4 FLOP/s, 0 = none. */
  double peak_fp8_flops;
  double peak_fp4_flops;
  /* Streaming multiprocessors (CUDA's multiProcessorCount; compute units on AMD), 0 =
   * not known (a GPU the cluster file describes by its figures). The time model needs
   * it where a kernel's grid is sized by it: FlashAttention-2's deterministic backward
   * (compute_cost.c). */
  uint32_t sms;
} p3cfg_gpu;

typedef enum { P3CFG_LINKS_NONE = 0, P3CFG_LINKS_NODE = 1, P3CFG_LINKS_GPU = 2 } p3cfg_links_gran;

/* Measured links (spec §3): n x n, row = sender, column = receiver. */
typedef struct p3cfg_links {
  p3cfg_links_gran granularity;
  uint32_t n;
  char **names;        /* n names, in index order; one p3cfg__malloc block (n pointers
                          followed by the strings), released by one p3cfg__free */
  double *bandwidth_Bps; /* n*n */
  double *latency_s;     /* n*n, filled from `network` defaults when not measured */
} p3cfg_links;

struct p3cfg_cluster {
  char *name;
  char *source;
  uint32_t nodes, gpus_per_node;
  p3cfg_gpu gpu;
  double intra_Bps, intra_latency_s; /* per GPU per direction inside a node */
  double inter_Bps, inter_latency_s; /* per GPU per direction across nodes */
  p3cfg_links links;
  char **node_names; /* `nodes` names: links host names, or node0, node1, ...; one
                        p3cfg__malloc block (pointers followed by the strings, so a
                        million nodes cost one allocation), released by one p3cfg__free */
  /* GPUs taken out of use (failed nodes or GPUs; p3cfg_*_options.exclude_gpus). Only a
   * search's or an estimate's private view of a cluster sets them (p3cfg__exclusion_view,
   * exclusion.c); a loaded cluster has NULL and 0. `usable_by_unit[u]`, for each u that
   * divides gpus_per_node, counts the GPUs in aligned runs of u GPUs of one node none of
   * which is excluded: the GPUs a plan whose TP groups move in units of u can use. */
  const uint8_t *excluded; /* per global GPU, 1 = excluded */
  uint64_t n_excluded;
  const uint64_t *usable_by_unit; /* gpus_per_node + 1 entries */
  /* Issue 14: the fabric above the node (links.h reads it, in p3cfg__link; docs/formats.md).
   * nvlink_domain: GPUs sharing one NVLink switch fabric across trays (GB200 NVL72: 72
   * over 18 nodes of 4), a multiple of gpus_per_node that divides the GPU count; two GPUs
   * of one domain talk at intra_Bps. 0 (a cluster not read from a file) = gpus_per_node.
   * leaf_gpus: GPUs under one leaf tier of the network (a scalable unit; consecutive
   * GPUs, a multiple of the domain dividing the GPU count), 0 = one leaf for all: traffic
   * between leaves crosses the spine at inter_Bps / spine_oversubscription (>= 1; 0 or
   * 1 = none). rail_optimized: GPU i of every node of a leaf group on rail (leaf switch)
   * i, so a message between different rails is relayed over NVLink first (NCCL's PXN). */
  uint32_t nvlink_domain;
  uint32_t leaf_gpus;
  double spine_oversubscription;
  bool rail_optimized;
  /* Issue 15: the host of a node (the cluster file's optional `host`, docs/formats.md,
   * parse_host.c), for the launch exports. gpu_sockets: the CPU socket (package, logical
   * index) each local GPU is attached to, gpus_per_node entries, or NULL (then the
   * default of p3cfg__gpu_socket: the first half of the GPUs on socket 0, the second on
   * socket 1, as on DGX A100 / H100 / B200 and GB200 trays). nccl_socket_ifname,
   * nccl_ib_hca: NCCL_SOCKET_IFNAME and NCCL_IB_HCA for every node, or NULL (not set). */
  uint32_t *gpu_sockets;
  char *nccl_socket_ifname;
  char *nccl_ib_hca;
};

/* One evaluated plan inside a p3cfg_result. */
typedef struct p3cfg__result_entry {
  p3cfg_plan plan;
  p3cfg_memory memory;         /* memory.stages points into `stages` */
  p3cfg_stage_memory *stages;  /* plan.pp entries, owned */
  int has_time;
  p3cfg_time time;
  p3cfg_rank_place *placement; /* dp*tp*pp entries, owned; NULL when not placed */
  size_t n_ranks;
  p3cfg_placement_info place_info;
} p3cfg__result_entry;

#define P3CFG__MAX_RULES 32

struct p3cfg_result {
  p3cfg__result_entry *entries;
  size_t count, cap;
  /* GPUs of the cluster, and how many were excluded (p3cfg_result_gpu_use). */
  uint64_t cluster_gpus, excluded_gpus;
  int has_replan; /* set by p3cfg_replan */
  p3cfg_replan_info replan;
  /* Search statistics (zero for an estimate); stats.rejected points at `rejected`. */
  p3cfg_search_stats stats;
  uint64_t rejected[P3CFG__MAX_RULES];
  /* Tokens of the training run the reports give a budget for (0 = none). */
  uint64_t train_tokens;
  /* The framework searched or estimated for (a p3cfg_framework). */
  uint32_t framework;
};

/* result.c */
p3cfg_result *p3cfg__result_new(void);
/* Append an entry for `plan` with room for plan->pp stages; NULL when out of memory. */
p3cfg__result_entry *p3cfg__result_add(p3cfg_result *r, const p3cfg_plan *plan);

/* Width of one attention head: the model file's head_dim, else hidden/heads. */
/* The socket of local GPU `gpu` when the cluster file does not say (docs/formats.md, "The
 * host"): the first half of a node's GPUs on socket 0, the second half on socket 1, as on
 * DGX A100 / H100 / B200 (GPUs 0-3 and 4-7) and GB200 trays (two Grace CPUs of two GPUs
 * each); a node of one GPU has socket 0. */
static inline uint32_t p3cfg__gpu_socket_default(uint32_t gpu, uint32_t gpus_per_node)
{
  return gpus_per_node >= 2 ? (uint32_t)((2ull * gpu) / gpus_per_node) : 0;
}

static inline uint64_t p3cfg__head_dim(const p3cfg_model *m)
{
  return m->head_dim ? m->head_dim : m->hidden / m->heads;
}

/* Node index of a global GPU id, and its local index (GPUs are numbered node-major). */
static inline uint32_t p3cfg__gpu_node(const p3cfg_cluster *c, uint32_t gpu)
{
  return gpu / c->gpus_per_node;
}

#endif
