/*
 * model_flops.c — Megatron-LM's num_floating_point_operations, term by term (the
 * transformer branch of megatron/training/training.py; no linear attention, no MoE
 * latent, no attention output gate, no packed sequences). Per token, with 3 (forward,
 * weight gradient, data gradient) x 2 (multiply-add) = 6 FLOPs per weight:
 *
 *   6 h [ffn_hidden * e * dense + (moe_ffn * top_k + shared) * e * moe]   MLPs
 *   + 6 attention_weights * layers                                        projections
 *   + 6 mtp (3h + 2h^2)                                                   MTP norms, eh_proj
 *   + 6 h V_padded (1 + mtp)                                              logits
 *   + s * core * layers                                                   attention core
 *
 * with e = 3 for SwiGLU and 2 otherwise, shared = shared_experts * shared_expert_ffn_hidden
 * (Megatron's --moe-shared-expert-intermediate-size), dense = the leading dense layers and
 * moe the others; the MTP modules count as layers of the last layer's kind (attention
 * and MLP). Attention weights: standard h(q + 2kv) + q h with q = heads*head_dim, kv =
 * kv_heads*head_dim; MLA q_lora(h + heads(nope+rope) + 1) (or h heads(nope+rope) without
 * q_lora) + kv_lora(h + heads(nope+v) + 1) + h rope + heads v h. Core (causal, half the
 * scores): standard 6 q, MLA 3 heads (nope + rope + v), times s per token.
 */
#include "model_flops.h"

#include "model_params.h"

double p3cfg__model_flops_per_token(const p3cfg_model *m, uint32_t tp)
{
  const double h = (double)m->hidden, s = (double)m->seq_len;
  const double heads = (double)m->heads;
  const double e = m->activation == P3CFG_ACT_SWIGLU ? 3.0 : 2.0;
  const double mtp = (double)m->mtp_layers;
  const p3cfg_moe *moe = &m->moe;
  double dense_layers = (double)m->layers, moe_layers = 0.0;
  if (moe->experts) {
    dense_layers = (double)moe->dense_layers;
    moe_layers = (double)(m->layers - moe->dense_layers);
    moe_layers += mtp; /* the last layer is an MoE layer (dense_layers < layers) */
  } else {
    dense_layers += mtp;
  }
  const double layers = (double)m->layers + mtp;

  double attn_weights, core;
  if (m->attention == P3CFG_ATTN_MLA) {
    const p3cfg_mla *a = &m->mla;
    const double nope = (double)a->qk_nope_head_dim, rope = (double)a->qk_rope_head_dim;
    const double v = (double)a->v_head_dim, ql = (double)a->q_lora_rank;
    const double kvl = (double)a->kv_lora_rank;
    const double q_term = a->q_lora_rank ? ql * (h + heads * (nope + rope) + 1.0)
                                         : h * heads * (nope + rope);
    attn_weights = q_term + kvl * (h + heads * (nope + v) + 1.0) + h * rope + heads * v * h;
    core = 6.0 * (heads * (nope + rope) / 2.0 + heads * v / 2.0);
  } else {
    const double hd = (double)p3cfg__head_dim(m);
    const double q = heads * hd, kv = (double)m->kv_heads * hd;
    attn_weights = h * (q + 2.0 * kv) + q * h;
    core = 6.0 * q / 2.0 * 2.0;
  }
  const double shared = (double)(moe->shared_experts * moe->shared_expert_ffn_hidden);
  const double mlp = 6.0 * h *
                     ((double)m->ffn_hidden * e * dense_layers +
                      ((double)moe->expert_ffn_hidden * (double)moe->top_k * e + shared * e) *
                          moe_layers);
  const double vocab = (double)p3cfg__vocab_padded(m, tp);
  const double token_linear = mlp + 6.0 * attn_weights * layers +
                              6.0 * mtp * (3.0 * h + 2.0 * h * h) + 6.0 * h * vocab * (mtp + 1.0);
  return token_linear + s * core * layers;
}

double p3cfg__model_flops(const p3cfg_model *m, uint64_t global_batch, uint32_t tp)
{
  return (double)global_batch * (double)m->seq_len * p3cfg__model_flops_per_token(m, tp);
}
