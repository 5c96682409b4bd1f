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
 */
#include "activations.h"

#include <assert.h>

#include "low_precision_memory.h"
#include "model_params.h"
#include "plan_rules.h"
#include "sat_math.h"

/* Sizes of one micro-batch on one GPU, shared by the terms below. */
typedef struct dims {
  uint64_t e;      /* activation element bytes */
  uint64_t tok;    /* s·b: tokens of a micro-batch */
  uint64_t tok_sp; /* tokens of the sequence shard: s·b/t with sp, s·b without */
  uint64_t h;      /* hidden */
  uint64_t h_tp;   /* h/t: width of Q, the context, the projection input */
  uint64_t kv_tp;  /* kv_heads·head_dim/t: width of K and of V */
  uint64_t a_tp;   /* heads/t */
  uint64_t s, b;
  uint64_t f_tp;   /* ffn_hidden/t */
  uint64_t fup_tp; /* fc1 output width per GPU: f/t, 2f/t for SwiGLU */
  int dropout, flash;
} dims;

static void dims_get(dims *d, const p3cfg_model *m, const p3cfg_plan *p)
{
  const uint64_t t = p->tp;
  assert(t > 0 && m->heads % t == 0 && m->kv_heads % t == 0 && m->ffn_hidden % t == 0);
  d->e = m->precision == P3CFG_PREC_FP32 ? 4 : 2;
  d->s = m->seq_len;
  d->b = p->micro_batch;
  d->tok = p3cfg__sat_mul(d->s, d->b);
  /* Sequence parallelism shards the sequence t ways (Megatron requires t | s). */
  d->tok_sp = p->sequence_parallel ? p3cfg__sat_mul(p3cfg__sat_ceil_div(d->s, t), d->b) : d->tok;
  d->h = m->hidden;
  d->h_tp = m->hidden / t; /* t | heads and heads | hidden */
  d->kv_tp = m->kv_heads / t * (m->hidden / m->heads);
  d->a_tp = m->heads / t;
  d->f_tp = m->ffn_hidden / t;
  d->fup_tp = m->activation == P3CFG_ACT_SWIGLU ? p3cfg__sat_mul(2, d->f_tp) : d->f_tp;
  d->dropout = m->dropout;
  d->flash = m->flash_attention;
}

/* e·tok·w: one activation tensor of width w per token. */
static uint64_t act(const dims *d, uint64_t tokens, uint64_t width)
{
  return p3cfg__sat_mul3(d->e, tokens, width);
}

/* Width of Q, K and V together per GPU: h/t + 2·kv_heads·head_dim/t. */
static uint64_t qkv_width(const dims *d)
{
  return p3cfg__sat_add(d->h_tp, p3cfg__sat_mul(2, d->kv_tp));
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

uint64_t p3cfg__layer_act_bytes(const p3cfg_model *m, const p3cfg_plan *plan, p3cfg_recompute mode)
{
  dims d;
  dims_get(&d, m, plan);
  if (mode == P3CFG_RECOMPUTE_FULL) /* only the layer input is checkpointed */
    return act(&d, d.tok_sp, d.h);

  const uint64_t mask = d.dropout ? p3cfg__sat_mul(d.tok_sp, d.h) : 0; /* 1 byte each */
  uint64_t sum = 0;
  /* Attention block: norm input, QKV input (the norm output), projection input. */
  sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  sum = p3cfg__sat_add(sum, act(&d, d.tok, d.h_tp));
  if (d.flash) {
    /* Q, K, V as the kernel keeps them (GQA: K and V of kv_heads only). */
    sum = p3cfg__sat_add(sum, act(&d, d.tok, qkv_width(&d)));
    if (mode == P3CFG_RECOMPUTE_NONE) {
      sum = p3cfg__sat_add(sum, flash_stats(&d));
      sum = p3cfg__sat_add(sum, act(&d, d.tok, d.h_tp)); /* output in the kernel's layout */
    }
  } else if (mode == P3CFG_RECOMPUTE_SELECTIVE) {
    /* Megatron checkpoints core attention: its inputs Q, K, V (unexpanded) stay. */
    sum = p3cfg__sat_add(sum, act(&d, d.tok, qkv_width(&d)));
  } else {
    /* Unfused: Q and the expanded K for QK^T, the expanded V for the product with V. */
    sum = p3cfg__sat_add(sum, act(&d, d.tok, p3cfg__sat_mul(3, d.h_tp)));
    const uint64_t sq = s2(&d);
    sum = p3cfg__sat_add(sum, p3cfg__sat_mul(d.e, sq)); /* softmax output */
    if (d.dropout) /* dropout mask (1 byte) and dropout output */
      sum = p3cfg__sat_add(sum, p3cfg__sat_mul(1 + d.e, sq));
  }
  sum = p3cfg__sat_add(sum, mask); /* attention residual dropout */
  /* MLP block: norm input, fc1 input, fc1 output, activation output, dropout mask. */
  sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  sum = p3cfg__sat_add(sum, act(&d, d.tok_sp, d.h));
  sum = p3cfg__sat_add(sum, act(&d, d.tok, d.fup_tp));
  sum = p3cfg__sat_add(sum, act(&d, d.tok, d.f_tp));
  sum = p3cfg__sat_add(sum, mask);
  /* fp8, mxfp8, nvfp4: the linear layers' inputs are saved quantized (low_precision_memory.c) */
  return p3cfg__sat_sub(sum, p3cfg__low_precision_act_saving(m, plan, mode));
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
  /* Embedding dropout mask, outside any checkpoint. */
  out->embedding_bytes = d.dropout ? p3cfg__sat_mul(d.tok_sp, d.h) : 0;
  /* Final norm input and output-layer input, and the fp32 softmax that Megatron's
   * vocab-parallel cross entropy saves for backward: logits.float(), exp in place
   * (tensor_parallel/cross_entropy.py), 4·s·b·V/t. */
  const uint64_t vocab_tp = p3cfg__vocab_padded(m, plan->tp) / plan->tp;
  out->last_bytes = p3cfg__sat_add(p3cfg__sat_mul(2, act(&d, d.tok_sp, d.h)),
                                   p3cfg__sat_mul3(4, d.tok, vocab_tp));
  /* The 16-bit logits live beside their fp32 copy until the copy is made, and the 16-bit
   * gradient beside the fp32 one in backward: 2·s·b·V/t more. fp32 training has no copy. */
  out->loss_bytes = d.e == 2 ? p3cfg__sat_mul3(2, d.tok, vocab_tp) : 0;

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
  out->backward_bytes = p3cfg__sat_add(recompute, grads);
  out->microbatches = p3cfg__plan_microbatches(plan);
}

void p3cfg__stage_acts_get(p3cfg__stage_acts *out, const p3cfg__act_terms *terms,
                           const p3cfg_plan *plan, uint32_t stage)
{
  const uint64_t v = plan->virtual_stages ? plan->virtual_stages : 1;
  const uint64_t mb = terms->microbatches ? terms->microbatches : 1;
  const uint64_t units = p3cfg__inflight_units(plan, stage, mb);
  const uint64_t layers_per_chunk = plan->stage_layers[stage] / v;

  uint64_t stash = p3cfg__sat_mul3(units, layers_per_chunk, terms->layer_bytes);
  if (stage == 0)
    stash = p3cfg__sat_add(
        stash, p3cfg__sat_mul(p3cfg__inflight_of_chunk(plan, units, 0), terms->embedding_bytes));
  out->loss_bytes = 0;
  if (stage + 1 == plan->pp) {
    const uint64_t n_last = p3cfg__inflight_of_chunk(plan, units, (uint32_t)(v - 1));
    stash = p3cfg__sat_add(stash, p3cfg__sat_mul(n_last ? n_last : 1, terms->last_bytes));
    out->loss_bytes = terms->loss_bytes;
  }
  out->backward_bytes = plan->stage_layers[stage] ? terms->backward_bytes : 0;
  out->in_flight = units;
  out->stash_bytes = stash;
}
