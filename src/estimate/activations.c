/*
 * activations.c — activation memory per layer, per pipeline rank and per stage.
 *
 * Per layer, tensor by tensor as Korthikanti et al. 2022 ("Reducing Activation
 * Recomputation in Large Transformer Models", arXiv 2205.05198, Sec. 4.1) count them, so
 * that GQA, SwiGLU, other MLP widths, dropout off and flash attention come out right.
 * In their configuration (16-bit, GELU 4h MLP, multi-head attention, dropout, no flash)
 * the sum is exactly their eq. 1-6: sbh(34 + 5as/h) unsplit, sbh(10 + 24/t + 5as/(ht))
 * with tensor parallelism, sbh(34/t + 5as/(ht)) with sequence parallelism, the s² term
 * gone under selective recompute, 2sbh (the layer input) under full recompute. e is the
 * activation element size (2, or 4 for fp32 training); masks are one byte.
 *
 *   tensor kept for backward        bytes                 split by
 *   norm 1 input, QKV input         e·sbh each            t only with sp
 *   Q; K, V                         e·sbh; e·sbh·g/a      t  (g = kv_heads)
 *   unfused attention:   K, V are expanded to all heads (repeat_interleave in mcore's
 *                        DotProductAttention), softmax e·as²b, dropout mask as²b and
 *                        dropout output e·as²b (without dropout only the softmax stays)
 *   flash attention:     fp32 softmax statistics 4·abs; no s² tensor (Dao et al. 2022)
 *   projection input                e·sbh                 t
 *   projection dropout mask         sbh                   t only with sp
 *   norm 2 input, fc1 input         e·sbh each            t only with sp
 *   fc1 output (activation input)   e·sb·f, 2f for SwiGLU t
 *   activation output (fc2 input)   e·sb·f                t
 *   MLP dropout mask                sbh                   t only with sp
 *
 * One measured correction (docs/memory-model.md): with flash attention the attention
 * kernel's saved output and the projection's input are separate tensors whenever the
 * kernel works in another layout than Megatron's [s, b, h] (Transformer Engine's
 * flash-attn backend transposes to [b, s, h]); Megatron-LM CI's A100 and GB200 golden
 * values for gpt3_7b_tp4_pp1_memory_speed show exactly this extra e·sbh/t per layer, the
 * H100 one does not. We keep it: a planner should err towards "does not fit".
 *
 * Micro-batches in flight follow megatron/core/pipeline_parallel/schedules.py: 1F1B runs
 * min(pp − r − 1, m) warm-up forwards on rank r, then one more forward before its first
 * backward, so rank r holds min(pp − r, m) micro-batches (pp − r ≤ pp: the first stage
 * holds pp, i.e. L layers' worth, Narayanan et al. SC'21 Sec. 2.2). Interleaving with v
 * chunks: num_warmup = min((pp − r − 1)·2 + (v − 1)·pp, m·v) (get_pp_rank_microbatches,
 * with the default microbatch_group_size_per_vp_stage = pp; Megatron-LM at d98e8a6 has
 * no "all forwards first when m == pp" case any more, so the last rank of pp 4, v 8,
 * m 4 holds 29 of the 32 units, not all of them), plus the steady state's one forward
 * before the first backward, each unit holding
 * stage_layers/v layers; on rank 0 that is L(1 + (pp − 1)/(pp·v)) layers, Korthikanti's
 * interleaving factor.
 *
 * Issue 16 (docs/memory-model.md, "Mixture of experts, CP, MLA, MTP"):
 *  - head_dim: Q, the context and the projection input are heads·head_dim/t wide.
 *  - Context parallelism: each rank holds s/cp tokens of every sequence (Megatron splits
 *    the sequence in 2·cp chunks, two per rank, for the causal load balance); ring
 *    attention receives one K,V chunk per step while it computes on the previous one: a
 *    transient of two K,V chunks of s/cp tokens (double buffer) in forward and backward.
 *  - MLA: Q and K are heads·(nope + rope)/t wide, V and the context heads·v/t; the
 *    down-projections (duplicated over tp) keep their outputs and normed outputs,
 *    2·(q_lora + kv_lora) + rope per token, on every tp rank.
 *  - An MoE layer replaces the MLP block's tensors by: the router's fp32 logits and its
 *    routing map (4 + 1 bytes per token and expert); the R tokens one GPU's experts
 *    receive, R = top_k · (tokens of the sequence shard gathered over etp), kept at the
 *    expert input and output (for the probability-weighted combine) and, split etp ways,
 *    at fc1's output and the activation's output; the shared experts as a dense MLP of
 *    shared_experts·shared_expert_ffn_hidden. R is the mean load over EP ranks (dropless:
 *    Megatron-Bridge's benchmarks force-balance routing); with a capacity factor c every
 *    expert is padded to its capacity ceil(top_k T / E · c), at most T
 *    (moe_capacity.h, as the time model counts them).
 *    All-to-all dispatch and combine buffers (send and receive, R tokens of h each) are
 *    a transient of the layer's forward and backward.
 *  - MTP on the last stage: per module one layer of the last layer's kind, its eh_proj
 *    input (2h per token) and the inputs of its two norms, and its own output-layer
 *    terms (final norm input, logits).
 *  - The routed experts (megatron/core/transformer/moe/experts.py, TEGroupedMLP at
 *    d98e8a6) apply the router's probabilities inside the activation (weighted SwiGLU,
 *    bias_act_func), and the alltoall dispatcher's (fused) unpermute gets no probabilities:
 *    the experts' output is not saved. Kept per routed token: fc1's input (TE's
 *    GroupedLinear, quantized under fp8/mxfp8/nvfp4), fc1's output (the activation's
 *    input, 16-bit), fc2's input (quantized), the permuted fp32 probability.
 *
 * Megatron-Core's selective-recompute modules (TransformerConfig.recompute_modules; 0 =
 * {core_attn}), hand-derived from transformer_layer.py, experts.py and
 * multi_latent_attention.py at d98e8a6:
 *  - core_attn: checkpoints core attention; Q, K, V stay, the rest is recomputed.
 *  - layernorm: output-discarding checkpoints of the input_layernorm and pre_mlp_layernorm
 *    where they are real modules. With Transformer Engine the input norm of standard
 *    attention and a dense layer's pre-MLP norm are fused into the following linear
 *    (IdentityOp in gpt_layer_specs.py): nothing to discard. What is discarded: the pre-MLP
 *    norm's output of an MoE layer, and MLA's input norm output. Under fp8 the linears
 *    that read them are set to save the original input (set_save_original_input), which
 *    is discarded with it.
 *  - moe_act: the routed experts' activation output (fc2's input) is discarded after fc2
 *    and recomputed from fc1's output (under fp8 fc2 saves the original, discarded too).
 *  - mla_up_proj: MLA's up-projections and RoPE: Q, K, V are discarded.
 *  - mlp: a dense layer's MLP is checkpointed: only its input stays.
 *  - moe: an MoE layer's MoE block is checkpointed: only its input (the norm output).
 *  - shared_experts: the shared experts are checkpointed: only their input, the norm
 *    output that stays anyway.
 */
#include "activations.h"

#include "cross_entropy_cost.h"

#include "framework_memory.h"

#include <assert.h>

#include "low_precision_memory.h"
#include "model_params.h"
#include "moe_capacity.h"
#include "plan_dims.h"
#include "plan_rules.h"
#include "precision.h"
#include "sat_math.h"

/* Sizes of one micro-batch on one GPU, shared by the terms below. */
typedef struct dims {
  uint64_t e;      /* activation element bytes */
  uint64_t tok;    /* s·b: tokens of a micro-batch */
  uint64_t tok_sp; /* tokens of the sequence shard: s·b/t with sp, s·b without */
  uint64_t h;      /* hidden */
  uint64_t h_tp;   /* width of Q and of the context (projection input) per GPU */
  uint64_t kv_tp;  /* kv_heads·head_dim/t: width of K and of V */
  uint64_t qkv_tp; /* Q, K and V together per GPU */
  uint64_t qkv_x_tp; /* Q, K and V with K and V expanded to every head (unfused) */
  uint64_t mla_down; /* MLA: kept down-projection widths per token (replicated), else 0 */
  uint64_t a_tp;   /* heads/t */
  uint64_t s, b;   /* s: tokens of a sequence on this rank, seq_len/cp */
  uint64_t f_tp;   /* ffn_hidden/t */
  uint64_t fup_tp; /* fc1 output width per GPU: f/t, 2f/t for SwiGLU */
  int dropout, flash;
  int mla;         /* multi-latent attention (a real input norm) */
  uint32_t modules; /* selective-recompute modules recomputed (0 unless selective) */
} dims;

static void dims_get(dims *d, const p3cfg_model *m, const p3cfg_plan *p)
{
  const uint64_t t = p->tp;
  assert(t > 0 && m->heads % t == 0 && m->kv_heads % t == 0 && m->ffn_hidden % t == 0);
  d->e = m->precision == P3CFG_PREC_FP32 ? 4 : 2;
  d->s = p3cfg__sat_ceil_div(m->seq_len, p3cfg__plan_cp(p));
  d->b = p->micro_batch;
  d->tok = p3cfg__sat_mul(d->s, d->b);
  /* Sequence parallelism shards the sequence t ways (Megatron requires t | s). */
  d->tok_sp = p->sequence_parallel ? p3cfg__sat_mul(p3cfg__sat_ceil_div(d->s, t), d->b) : d->tok;
  d->h = m->hidden;
  const uint64_t hd = p3cfg__head_dim(m);
  d->a_tp = m->heads / t;
  d->h_tp = d->a_tp * hd;
  d->kv_tp = m->kv_heads / t * hd;
  d->qkv_tp = d->h_tp + 2 * d->kv_tp;
  d->qkv_x_tp = 3 * d->h_tp;
  d->mla_down = 0;
  if (m->attention == P3CFG_ATTN_MLA) {
    const p3cfg_mla *a = &m->mla;
    const uint64_t qk = d->a_tp * (a->qk_nope_head_dim + a->qk_rope_head_dim);
    d->h_tp = d->a_tp * a->v_head_dim;
    d->kv_tp = qk; /* K; V is h_tp */
    d->qkv_tp = 2 * qk + d->h_tp;
    d->qkv_x_tp = d->qkv_tp;
    d->mla_down = 2 * (a->q_lora_rank + a->kv_lora_rank) + a->qk_rope_head_dim;
  }
  d->f_tp = m->ffn_hidden / t;
  d->fup_tp = m->activation == P3CFG_ACT_SWIGLU ? p3cfg__sat_mul(2, d->f_tp) : d->f_tp;
  d->dropout = m->dropout;
  d->flash = m->flash_attention;
  d->mla = m->attention == P3CFG_ATTN_MLA;
  d->modules = 0;
}

/* The modules recomputed under `mode` (the plan's, or core_attn, only when selective). */
static void dims_mode(dims *d, const p3cfg_plan *p, p3cfg_recompute mode)
{
  d->modules = mode != P3CFG_RECOMPUTE_SELECTIVE ? 0
               : p->recompute_modules            ? p->recompute_modules
                                                 : P3CFG_RECOMPUTE_MODULE_CORE_ATTN;
}

static int has(const dims *d, uint32_t module)
{
  return (d->modules & module) != 0;
}

/* e·tok·w: one activation tensor of width w per token. */
static uint64_t act(const dims *d, uint64_t tokens, uint64_t width)
{
  return p3cfg__sat_mul3(d->e, tokens, width);
}

/* Width of Q, K and V together per GPU: heads·head_dim/t + 2·kv_heads·head_dim/t. */
static uint64_t qkv_width(const dims *d)
{
  return d->qkv_tp;
}

/* Elements of one head-split s×s attention matrix set: (a/t)·s²·b. */
static uint64_t s2(const dims *d)
{
  return p3cfg__sat_mul4(d->a_tp, d->s, d->s, d->b);
}

/* Flash attention's saved softmax statistics: fp32 log-sum-exp per head and token. */
static uint64_t flash_stats(const dims *d)
{
  return p3cfg__sat_mul4(4, d->a_tp, d->s, d->b);
}

/* The attention block's tensors and the residual dropout mask after it. */
static uint64_t attention_bytes(const dims *dp, uint64_t mask)
{
  const dims d = *dp;
  const int core = has(&d, P3CFG_RECOMPUTE_MODULE_CORE_ATTN);
  /* mla_up_proj discards the up-projections' outputs: Q, K, V. */
  const uint64_t qkv = d.mla && has(&d, P3CFG_RECOMPUTE_MODULE_MLA_UP_PROJ) ? 0 : qkv_width(&d);
  uint64_t sum = 0;
  /* Attention block: norm input, QKV input (the norm output; MLA's real input norm
   * discards it under layernorm recompute), projection input. */
  sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  if (!(d.mla && has(&d, P3CFG_RECOMPUTE_MODULE_LAYERNORM)))
    sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  sum = p3cfg__sat_add(sum, act(&d, d.tok, d.h_tp));
  sum = p3cfg__sat_add(sum, act(&d, d.tok, d.mla_down));
  if (d.flash) {
    /* Q, K, V as the kernel keeps them (GQA: K and V of kv_heads only). */
    sum = p3cfg__sat_add(sum, act(&d, d.tok, qkv));
    if (!core) {
      sum = p3cfg__sat_add(sum, flash_stats(&d));
      sum = p3cfg__sat_add(sum, act(&d, d.tok, d.h_tp)); /* output in the kernel's layout */
    }
  } else if (core) {
    /* Megatron checkpoints core attention: its inputs Q, K, V (unexpanded) stay. */
    sum = p3cfg__sat_add(sum, act(&d, d.tok, qkv));
  } else {
    /* Unfused: Q and the expanded K for QK^T, the expanded V for the product with V. */
    sum = p3cfg__sat_add(sum, act(&d, d.tok, qkv ? d.qkv_x_tp : 0));
    const uint64_t sq = s2(&d);
    sum = p3cfg__sat_add(sum, p3cfg__sat_mul(d.e, sq)); /* softmax output */
    if (d.dropout) /* dropout mask (1 byte) and dropout output */
      sum = p3cfg__sat_add(sum, p3cfg__sat_mul(1 + d.e, sq));
  }
  return p3cfg__sat_add(sum, mask); /* attention residual dropout */
}

uint64_t p3cfg__layer_act_bytes(const p3cfg_model *m, const p3cfg_plan *plan, p3cfg_recompute mode)
{
  dims d;
  dims_get(&d, m, plan);
  if (mode == P3CFG_RECOMPUTE_FULL) /* only the layer input is checkpointed */
    return act(&d, d.tok_sp, d.h);
  if (mode == P3CFG_RECOMPUTE_SELECTIVE) { /* torchtitan: per-op SAC (framework_memory.c) */
    const uint64_t sac = p3cfg__sac_layer_bytes(m, plan);
    if (sac)
      return p3cfg__sat_sub(sac, p3cfg__low_precision_act_saving(m, plan, mode));
  }

  dims_mode(&d, plan, mode);
  const uint64_t mask = d.dropout ? p3cfg__sat_mul(d.tok_sp, d.h) : 0; /* 1 byte each */
  uint64_t sum = attention_bytes(&d, mask);
  /* MLP block: norm input, fc1 input, fc1 output, activation output, dropout mask; the
   * "mlp" module keeps only the checkpoint's input, the (fused) norm's input. */
  sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  if (!has(&d, P3CFG_RECOMPUTE_MODULE_MLP)) {
    sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
    sum = p3cfg__sat_add(sum, act(&d, d.tok, d.fup_tp));
    sum = p3cfg__sat_add(sum, act(&d, d.tok, d.f_tp));
  }
  sum = p3cfg__sat_add(sum, mask);
  /* fp8, mxfp8, nvfp4: the linear layers' inputs are saved quantized (low_precision_memory.c) */
  return p3cfg__sat_sub(sum, p3cfg__low_precision_act_saving(m, plan, mode));
}

uint64_t p3cfg__moe_routed_tokens(const p3cfg_model *m, const p3cfg_plan *plan)
{
  if (!m->moe.experts)
    return 0;
  dims d;
  dims_get(&d, m, plan);
  const uint64_t gathered = p3cfg__min_u64(d.tok, p3cfg__sat_mul(d.tok_sp, p3cfg__plan_etp(plan)));
  if (!(m->moe.capacity_factor > 0.0))
    return p3cfg__sat_mul(m->moe.top_k, gathered);
  /* At a capacity: each rank's shard padded to its experts' capacities (moe_capacity.h,
   * as the time model sizes them), gathered over etp. */
  const double shard_rows = p3cfg__moe_routed_rows((double)d.tok_sp, (double)m->moe.top_k,
                                                   (double)m->moe.experts,
                                                   m->moe.capacity_factor);
  const double rows = shard_rows * (double)gathered / (double)d.tok_sp;
  return rows >= 1.8e19 ? P3CFG_SAT : (uint64_t)rows;
}

uint64_t p3cfg__moe_layer_act_bytes(const p3cfg_model *m, const p3cfg_plan *plan,
                                    p3cfg_recompute mode)
{
  dims d;
  dims_get(&d, m, plan);
  if (mode == P3CFG_RECOMPUTE_FULL)
    return act(&d, d.tok_sp, d.h);
  const p3cfg_moe *e = &m->moe;
  const uint64_t etp = p3cfg__plan_etp(plan), t = plan->tp;
  const uint64_t up = m->activation == P3CFG_ACT_SWIGLU ? 2 : 1;
  dims_mode(&d, plan, mode);
  const uint64_t mask = d.dropout ? p3cfg__sat_mul(d.tok_sp, d.h) : 0;
  const uint64_t r = p3cfg__moe_routed_tokens(m, plan);
  uint64_t sum = attention_bytes(&d, mask);
  /* fp8, mxfp8, nvfp4: the attention's QKV input (the fused norm's output) and the
   * projection's input are saved quantized, as in a dense layer. */
  if (p3cfg__precision_is_low(m->precision)) {
    uint64_t n = d.mla && has(&d, P3CFG_RECOMPUTE_MODULE_LAYERNORM) ? 0
                                                                     : p3cfg__sat_mul(d.tok_sp, d.h);
    n = p3cfg__sat_add(n, p3cfg__sat_mul(d.tok, d.h_tp));
    sum = p3cfg__sat_sub(sum, p3cfg__sat_sub(p3cfg__sat_mul(2, n),
                                             p3cfg__low_precision_saved_bytes(m, n)));
  }
  /* The pre-MLP norm's input and output (the router's, the shared experts' and the
   * dispatch's input); layernorm recompute discards the output. */
  sum = p3cfg__sat_add(sum, p3cfg__sat_mul(has(&d, P3CFG_RECOMPUTE_MODULE_LAYERNORM) ? 1 : 2,
                                           act(&d, d.tok_sp, d.h)));
  if (has(&d, P3CFG_RECOMPUTE_MODULE_MOE)) /* the MoE block keeps only its input */
    return p3cfg__sat_add(sum, mask);
  sum = p3cfg__sat_add(sum, p3cfg__sat_mul3(5, d.tok_sp, e->experts)); /* logits, map */
  /* Routed experts, R tokens: fc1's input (quantized in low precision), its output (the
   * activation's input, SwiGLU's two halves), fc2's input (the activation's output;
   * discarded by moe_act) and the fp32 probability each; split etp ways but fc1's input. */
  const uint64_t ef = e->expert_ffn_hidden / etp;
  sum = p3cfg__sat_add(sum, p3cfg__low_precision_saved_bytes(m, p3cfg__sat_mul(r, d.h)));
  sum = p3cfg__sat_add(sum, act(&d, r, p3cfg__sat_mul(up, ef)));
  if (!has(&d, P3CFG_RECOMPUTE_MODULE_MOE_ACT))
    sum = p3cfg__sat_add(sum, p3cfg__low_precision_saved_bytes(m, p3cfg__sat_mul(r, ef)));
  sum = p3cfg__sat_add(sum, p3cfg__sat_mul(4, r));
  if (e->shared_experts && !has(&d, P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS)) {
    const uint64_t sf = e->shared_experts * e->shared_expert_ffn_hidden / t;
    sum = p3cfg__sat_add(sum, act(&d, d.tok, p3cfg__sat_mul(up + 1, sf)));
  }
  return p3cfg__sat_add(sum, mask);
}

uint64_t p3cfg__inflight_units(const p3cfg_plan *plan, uint32_t rank, uint64_t m)
{
  const uint64_t pp = plan->pp, v = plan->virtual_stages ? plan->virtual_stages : 1;
  assert(rank < pp && m > 0);
  if (pp == 1)
    return 1; /* forward_backward_no_pipelining: each micro-batch runs forward then backward */
  if (v == 1)
    return p3cfg__min_u64(pp - rank, m);
  const uint64_t total = p3cfg__sat_mul(m, v);
  uint64_t warmup = (pp - rank - 1) * 2 + (v - 1) * pp;
  warmup = p3cfg__min_u64(warmup, total);
  return p3cfg__min_u64(warmup + 1, total);
}

uint64_t p3cfg__inflight_of_chunk(const p3cfg_plan *plan, uint64_t units, uint32_t chunk)
{
  const uint64_t pp = plan->pp, v = plan->virtual_stages ? plan->virtual_stages : 1;
  if (v == 1)
    return units;
  /* Forward unit k runs chunk (k mod pp·v) / pp (get_model_chunk_id in schedules.py). */
  const uint64_t group = pp * v, lo = (uint64_t)chunk * pp;
  const uint64_t rest = units % group;
  uint64_t n = units / group * pp;
  if (rest > lo)
    n += p3cfg__min_u64(rest - lo, pp);
  return n;
}

void p3cfg__act_terms_get(p3cfg__act_terms *out, const p3cfg_model *m, const p3cfg_plan *plan)
{
  dims d;
  dims_get(&d, m, plan);
  out->layer_bytes = p3cfg__layer_act_bytes(m, plan, plan->recompute);
  out->moe_layer_bytes = m->moe.experts ? p3cfg__moe_layer_act_bytes(m, plan, plan->recompute) : 0;
  /* Embedding dropout mask, outside any checkpoint. */
  out->embedding_bytes = d.dropout ? p3cfg__sat_mul(d.tok_sp, d.h) : 0;
  /* Final norm input and output-layer input, and the fp32 softmax that Megatron's
   * vocab-parallel cross entropy saves for backward: logits.float(), exp in place
   * (tensor_parallel/cross_entropy.py), 4·s·b·V/t. */
  const uint64_t vocab_tp = p3cfg__vocab_padded(m, plan->tp) / plan->tp;
  /* Transformer Engine's fused loss (cross_entropy: fused, Megatron only;
   * cross_entropy_cost.h) keeps the 16-bit logits instead, its gradient written into them
   * in place: e·s·b·V/t and nothing transient. */
  const int te_ce = plan->framework == P3CFG_FRAMEWORK_MEGATRON && m->cross_entropy == P3CFG_CE_FUSED;
  const uint64_t logit_e = m->precision == P3CFG_PREC_FP32 ? 4 : 2;
  out->last_bytes = p3cfg__sat_add(p3cfg__sat_mul(2, act(&d, d.tok_sp, d.h)),
                                   p3cfg__sat_mul3(te_ce ? logit_e : 4, d.tok, vocab_tp));
  /* The 16-bit logits live beside their fp32 copy until the copy is made, and the 16-bit
   * gradient beside the fp32 one in backward: 2·s·b·V/t more. fp32 training has no copy. */
  out->loss_bytes = te_ce ? 0 : p3cfg__fw_loss_bytes(m, plan, p3cfg__sat_mul(d.tok, vocab_tp));

  /* While one layer back-propagates: under full recompute its whole forward is
   * re-materialised, under selective its core attention; in any mode the gradient
   * flowing in and out of the layer and those of its widest tensors (the MLP's, or the
   * s×s scores of unfused attention) are alive. */
  uint64_t recompute = 0;
  if (plan->recompute != P3CFG_RECOMPUTE_NONE) {
    const uint64_t whole = p3cfg__layer_act_bytes(m, plan, P3CFG_RECOMPUTE_NONE);
    recompute =
        plan->recompute == P3CFG_RECOMPUTE_FULL ? whole : p3cfg__sat_sub(whole, out->layer_bytes);
  }
  uint64_t grads = act(&d, d.tok, p3cfg__sat_add(d.fup_tp, d.f_tp));
  if (!d.flash)
    grads = p3cfg__max_u64(grads, p3cfg__sat_mul3(2, d.e, s2(&d)));
  grads = p3cfg__sat_add(grads, p3cfg__sat_mul(2, act(&d, d.tok_sp, d.h)));
  if (m->moe.experts) {
    /* The experts' widest gradients, and the all-to-all send and receive buffers. */
    const uint64_t r = p3cfg__moe_routed_tokens(m, plan);
    const uint64_t ef = m->moe.expert_ffn_hidden / p3cfg__plan_etp(plan);
    const uint64_t up = m->activation == P3CFG_ACT_SWIGLU ? 2 : 1;
    grads = p3cfg__max_u64(grads, act(&d, r, p3cfg__sat_mul(up + 1, ef)));
    grads = p3cfg__sat_add(grads, p3cfg__sat_mul(2, act(&d, r, d.h)));
    if (plan->recompute != P3CFG_RECOMPUTE_NONE) {
      const uint64_t whole = p3cfg__moe_layer_act_bytes(m, plan, P3CFG_RECOMPUTE_NONE);
      recompute = p3cfg__max_u64(recompute, plan->recompute == P3CFG_RECOMPUTE_FULL
                                                ? whole
                                                : p3cfg__sat_sub(whole, out->moe_layer_bytes));
    }
  }
  if (p3cfg__plan_cp(plan) > 1) /* ring attention: two K,V chunks in flight */
    grads = p3cfg__sat_add(grads, p3cfg__sat_mul(2, act(&d, d.tok, 2 * d.kv_tp)));
  out->backward_bytes = p3cfg__sat_add(recompute, grads);
  /* MTP modules (last stage): a layer of the last layer's kind, eh_proj's 2h input and
   * the two norms' inputs, and their own output-layer terms. */
  out->mtp_bytes = 0;
  if (m->mtp_layers) {
    const uint64_t layer = m->moe.experts ? out->moe_layer_bytes : out->layer_bytes;
    const uint64_t own = p3cfg__sat_mul(4, act(&d, d.tok_sp, d.h));
    out->mtp_bytes = p3cfg__sat_mul(m->mtp_layers,
                                    p3cfg__sat_add(layer, p3cfg__sat_add(own, out->last_bytes)));
  }
  out->microbatches = p3cfg__plan_microbatches(plan);
}

void p3cfg__stage_acts_get(p3cfg__stage_acts *out, const p3cfg__act_terms *terms,
                           const p3cfg_plan *plan, uint32_t stage)
{
  p3cfg__stage_acts_mixed(out, terms, plan, stage, plan->stage_layers[stage]);
}

void p3cfg__stage_acts_mixed(p3cfg__stage_acts *out, const p3cfg__act_terms *terms,
                             const p3cfg_plan *plan, uint32_t stage, uint64_t dense_layers)
{
  const uint64_t v = plan->virtual_stages ? plan->virtual_stages : 1;
  const uint64_t mb = terms->microbatches ? terms->microbatches : 1;
  const uint64_t units = p3cfg__inflight_units(plan, stage, mb);
  /* A rank of both kinds is charged the larger per layer (its dense layers sit in its
   * first chunk, which is not always the one most in flight). */
  uint64_t per_layer = terms->layer_bytes;
  if (dense_layers < plan->stage_layers[stage])
    per_layer = dense_layers ? p3cfg__max_u64(terms->layer_bytes, terms->moe_layer_bytes)
                             : terms->moe_layer_bytes;

  /* Activation offloading (plan_rules.c: pp 1, so one chunk, one micro-batch in flight):
   * Transformer Engine's CPU offload context keeps at most layers - n layers' activation
   * sets on the GPU at any time, stalling compute and reloads to hold it
   * (docs/features/other_optimizations/cpu_offloading, TransformerEngine d0067d0). */
  uint64_t stash;
  if (plan->cpu_offload_layers) {
    const uint64_t layers = plan->stage_layers[stage];
    stash = p3cfg__sat_mul3(units, layers - p3cfg__min_u64(plan->cpu_offload_layers, layers),
                            per_layer);
  } else if (!p3cfg__split_extra(plan, stage)) {
    /* Every chunk of the rank holds stage_layers / v layers. */
    stash = p3cfg__sat_mul3(units, plan->stage_layers[stage] / v, per_layer);
  } else {
    /* Each in-flight unit holds its chunk's layers (one fewer in the chunk that accounts
     * for the embedding or the loss: p3cfg__chunk_layers). */
    uint64_t held = 0;
    for (uint32_t c = 0; c < v; c++)
      held = p3cfg__sat_add(held, p3cfg__sat_mul(p3cfg__inflight_of_chunk(plan, units, c),
                                                 p3cfg__chunk_layers(plan, stage, c)));
    stash = p3cfg__sat_mul(held, per_layer);
  }
  if (stage == 0)
    stash = p3cfg__sat_add(
        stash, p3cfg__sat_mul(p3cfg__inflight_of_chunk(plan, units, 0), terms->embedding_bytes));
  out->loss_bytes = 0;
  if (stage + 1 == plan->pp) {
    const uint64_t n_last = p3cfg__inflight_of_chunk(plan, units, (uint32_t)(v - 1));
    stash = p3cfg__sat_add(stash, p3cfg__sat_mul(n_last ? n_last : 1,
                                                 p3cfg__sat_add(terms->last_bytes,
                                                                terms->mtp_bytes)));
    out->loss_bytes = terms->loss_bytes;
  }
  out->backward_bytes = plan->stage_layers[stage] ? terms->backward_bytes : 0;
  out->in_flight = units;
  out->stash_bytes = stash;
}
