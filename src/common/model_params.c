/*
 * model_params.c — exact parameter counts, matrix by matrix.
 *
 * Megatron SC'21 eq. 2 gives P = 12 l h^2 (1 + 13/(12h) + (V+s)/(12 l h)) for a GPT with
 * learned positions, tied embeddings, biases and LayerNorm: per block QKV 3h^2+3h,
 * projection h^2+h, MLP 8h^2+5h, two norms 4h. Deriving each matrix instead makes GQA
 * (K and V of kv_heads*head_dim columns), SwiGLU (three MLP matrices), bias-free and
 * RMSNorm models come out exact as well.
 *
 * Tensor parallelism (Megatron-LM): column-parallel weights and biases (QKV, MLP up and
 * gate) and row-parallel weights (projection, MLP down) are split tp ways; row-parallel
 * biases and norms are replicated on every tp rank.
 */
#include "model_params.h"

#include <assert.h>

uint64_t p3cfg__vocab_padded(const p3cfg_model *m, uint32_t tp)
{
  uint64_t mult = 128ull * tp;
  return (m->vocab + mult - 1) / mult * mult;
}

void p3cfg__model_params(p3cfg__params *out, const p3cfg_model *m, uint32_t tp)
{
  assert(tp > 0 && m->heads % tp == 0 && m->kv_heads % tp == 0 && m->ffn_hidden % tp == 0);
  const uint64_t h = m->hidden, f = m->ffn_hidden;
  const uint64_t head_dim = h / m->heads;
  const uint64_t qkv_out = h + 2 * m->kv_heads * head_dim;
  const uint64_t b = m->bias ? 1 : 0;
  const uint64_t mlp_up_out = m->activation == P3CFG_ACT_SWIGLU ? 2 * f : f;
  const uint64_t norm = m->norm == P3CFG_NORM_LAYERNORM ? 2 * h : h;

  /* Split tp ways: column-parallel weights + biases, row-parallel weights. */
  const uint64_t split = h * qkv_out + b * qkv_out /* QKV */
                         + h * h                   /* projection weight */
                         + h * mlp_up_out + b * mlp_up_out /* MLP up (and gate) */
                         + f * h;                          /* MLP down weight */
  /* Replicated: row-parallel biases and the two norms of the block. */
  const uint64_t replicated = b * h + b * h + 2 * norm;

  *out = (p3cfg__params){0};
  out->vocab_padded = p3cfg__vocab_padded(m, tp);
  out->layer = split + replicated;
  out->layer_per_gpu = split / tp + replicated;
  out->word_embedding = out->vocab_padded * h;
  out->position = m->position_embedding == P3CFG_POS_LEARNED ? m->seq_len * h : 0;
  out->output_layer = m->tied_embeddings ? 0 : out->vocab_padded * h;
  out->final_norm = norm;
  out->total = m->layers * out->layer + out->word_embedding + out->position +
               out->output_layer + out->final_norm;
  out->non_embedding = m->layers * out->layer + out->final_norm + out->vocab_padded * h;
}
