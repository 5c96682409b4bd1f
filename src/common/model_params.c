/*
 * model_params.c — exact parameter counts, matrix by matrix.
 *
 * Megatron SC'21 eq. 2 gives P = 12 l h^2 (1 + 13/(12h) + (V+s)/(12 l h)) for a GPT with
 * learned positions, tied embeddings, biases and LayerNorm: per block QKV 3h^2+3h,
 * projection h^2+h, MLP 8h^2+5h, two norms 4h. Deriving each matrix instead makes GQA
 * (K and V of kv_heads*head_dim columns), head_dim != hidden/heads (Qwen3), SwiGLU (three
 * MLP matrices), bias-free and RMSNorm models come out exact as well.
 *
 * Tensor parallelism (Megatron-LM): column-parallel weights and biases (QKV, MLP up and
 * gate) and row-parallel weights (projection, MLP down) are split tp ways; row-parallel
 * biases and norms are replicated on every tp rank.
 *
 * Multi-head latent attention (DeepSeek-V2/V3; Megatron-Core multi_latent_attention.py):
 * q_a h x q_lora and kv_a h x (kv_lora + rope) are "duplicated" (whole on every tp rank),
 * as are their norms (q_a_norm q_lora, kv_a_norm kv_lora); q_b q_lora x heads(nope+rope)
 * and kv_b kv_lora x heads(nope+v) are column-parallel, o heads*v x h row-parallel.
 * Without q_lora_rank the query is one column-parallel h x heads(nope+rope).
 *
 * Mixture of experts (Megatron-Core moe/): the router (experts x h, plus a bias per expert
 * with `bias`, as GPT-OSS has) is replicated over tp; shared experts are an MLP of
 * shared_experts*shared_expert_ffn_hidden split over tp like the dense one; a routed
 * expert is a whole MLP of expert_ffn_hidden (its split is over etp, done by the memory
 * estimator). Qwen3's per-head q/k norms (2*head_dim per layer) and GPT-OSS's attention
 * sinks (heads per layer) are not counted: under 10^-5 of either model.
 *
 * Multi-token prediction (Megatron-Core multi_token_prediction.py, DeepSeek-V3 sec. 2.2):
 * each module has enorm, hnorm and a final norm, eh_proj 2h x h (column-parallel), and one
 * transformer layer of the kind of the model's last layer; embedding and output layer are
 * the main model's.
 */
#include "model_params.h"

#include <assert.h>

uint64_t p3cfg__vocab_padded(const p3cfg_model *m, uint32_t tp)
{
  uint64_t mult = 128ull * tp;
  return (m->vocab + mult - 1) / mult * mult;
}

/* An attention block's parameters: split tp ways and replicated on every tp rank. */
typedef struct counts {
  uint64_t split, replicated;
} counts;

static counts attention_counts(const p3cfg_model *m)
{
  const uint64_t h = m->hidden, b = m->bias ? 1 : 0;
  if (m->attention == P3CFG_ATTN_MLA) {
    const p3cfg_mla *a = &m->mla;
    const uint64_t qk = m->heads * (a->qk_nope_head_dim + a->qk_rope_head_dim);
    const uint64_t kv_up = m->heads * (a->qk_nope_head_dim + a->v_head_dim);
    const uint64_t v = m->heads * a->v_head_dim;
    counts c = {0, 0};
    if (a->q_lora_rank) {
      c.replicated += h * a->q_lora_rank + a->q_lora_rank; /* q_a and its norm */
      c.split += a->q_lora_rank * qk + b * qk;             /* q_b */
    } else {
      c.split += h * qk + b * qk; /* q */
    }
    c.replicated += h * (a->kv_lora_rank + a->qk_rope_head_dim) + a->kv_lora_rank; /* kv_a */
    c.split += a->kv_lora_rank * kv_up + b * kv_up;                                 /* kv_b */
    c.split += v * h;                                                               /* o */
    c.replicated += b * h;
    return c;
  }
  const uint64_t hd = p3cfg__head_dim(m);
  const uint64_t q = m->heads * hd, qkv_out = q + 2 * m->kv_heads * hd;
  return (counts){h * qkv_out + b * qkv_out /* QKV */ + q * h /* projection weight */,
                  b * h /* projection bias */};
}

/* An MLP of inner width f shaped as the model's activation. */
static counts mlp_counts(const p3cfg_model *m, uint64_t f)
{
  const uint64_t h = m->hidden, b = m->bias ? 1 : 0;
  const uint64_t up = m->activation == P3CFG_ACT_SWIGLU ? 2 * f : f;
  return (counts){h * up + b * up + f * h, b * h};
}

void p3cfg__model_params(p3cfg__params *out, const p3cfg_model *m, uint32_t tp)
{
  assert(tp > 0 && m->heads % tp == 0 && m->kv_heads % tp == 0 && m->ffn_hidden % tp == 0);
  const uint64_t h = m->hidden;
  const uint64_t norm = m->norm == P3CFG_NORM_LAYERNORM ? 2 * h : h;
  const counts attn = attention_counts(m);
  const counts dense = mlp_counts(m, m->ffn_hidden);

  *out = (p3cfg__params){0};
  out->vocab_padded = p3cfg__vocab_padded(m, tp);
  out->layer = attn.split + attn.replicated + dense.split + dense.replicated + 2 * norm;
  out->layer_per_gpu = (attn.split + dense.split) / tp + attn.replicated + dense.replicated +
                       2 * norm;
  out->word_embedding = out->vocab_padded * h;
  out->position = m->position_embedding == P3CFG_POS_LEARNED ? m->seq_len * h : 0;
  out->output_layer = m->tied_embeddings ? 0 : out->vocab_padded * h;
  out->final_norm = norm;

  const p3cfg_moe *e = &m->moe;
  uint64_t blocks = m->layers * out->layer, active_blocks = blocks;
  uint64_t last_layer = out->layer, last_layer_per_gpu = out->layer_per_gpu;
  out->dense_layers = m->layers;
  if (e->experts) {
    const uint64_t b = m->bias ? 1 : 0;
    const counts shared = mlp_counts(m, e->shared_experts * e->shared_expert_ffn_hidden);
    const uint64_t router = e->experts * h + b * e->experts;
    const uint64_t shared_split = e->shared_experts ? shared.split : 0;
    const uint64_t shared_repl = e->shared_experts ? shared.replicated : 0;
    const counts expert = mlp_counts(m, e->expert_ffn_hidden);
    out->dense_layers = e->dense_layers;
    out->moe_layers = m->layers - e->dense_layers;
    out->moe_layer_base = attn.split + attn.replicated + shared_split + shared_repl + router +
                          2 * norm;
    out->moe_layer_base_per_gpu =
        (attn.split + shared_split) / tp + attn.replicated + shared_repl + router + 2 * norm;
    out->expert = expert.split + expert.replicated;
    blocks = out->dense_layers * out->layer +
             out->moe_layers * (out->moe_layer_base + e->experts * out->expert);
    active_blocks = out->dense_layers * out->layer +
                    out->moe_layers * (out->moe_layer_base + e->top_k * out->expert);
    last_layer = out->moe_layer_base + e->experts * out->expert;
    last_layer_per_gpu = out->moe_layer_base_per_gpu;
  }
  if (m->mtp_layers) {
    const uint64_t own = 3 * norm + 2 * h * h; /* enorm, hnorm, final norm, eh_proj */
    out->mtp = m->mtp_layers * (own + last_layer);
    out->mtp_per_gpu = m->mtp_layers * (3 * norm + 2 * h * h / tp + last_layer_per_gpu);
  }
  out->total = blocks + out->word_embedding + out->position + out->output_layer + out->final_norm;
  out->non_embedding = blocks + out->final_norm + out->vocab_padded * h;
  out->active = active_blocks + out->word_embedding + out->position + out->output_layer +
                out->final_norm;
}
