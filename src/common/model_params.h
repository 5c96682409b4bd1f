/*
 * model_params.h — parameter counts of a model, exact, derived per matrix (so GQA,
 * SwiGLU, biases, norms and tied or untied embeddings all count right), whole and as
 * held by one GPU of a tensor-parallel group.
 */
#ifndef P3CFG_MODEL_PARAMS_H
#define P3CFG_MODEL_PARAMS_H

#include <stdint.h>

#include "types.h"

typedef struct p3cfg__params {
  uint64_t vocab_padded;    /* vocab rounded up to a multiple of 128*tp (Megatron-LM) */
  uint64_t layer;           /* one transformer block */
  uint64_t layer_per_gpu;   /* one block as held by one GPU of the tp group */
  uint64_t word_embedding;  /* vocab_padded*h */
  uint64_t position;        /* seq_len*h when learned, else 0 (replicated over tp) */
  uint64_t output_layer;    /* vocab_padded*h when untied, else 0 */
  uint64_t final_norm;      /* after the last block */
  uint64_t total;           /* everything but the MTP modules (DeepSeek-V3's 671B), counting
                               a tied embedding once */
  uint64_t non_embedding;   /* what MFU counts: blocks + final norm + output matmul */
  /* Mixture of experts (issue 16); for a dense model moe_layers = 0 and the rest 0.
   * `layer` / `layer_per_gpu` above are a layer with a dense FFN of ffn_hidden; an MoE
   * layer is moe_layer_base (attention, norms, router, shared experts; tp-sharded share
   * moe_layer_base_per_gpu) plus experts routed experts of `expert` parameters each
   * (one GPU of an etp x ep group holds experts/ep of them, each split etp ways). */
  uint64_t dense_layers, moe_layers; /* dense_layers + moe_layers = layers */
  uint64_t moe_layer_base, moe_layer_base_per_gpu;
  uint64_t expert;
  /* Multi-token prediction (mtp_layers modules on the last stage, each a layer of the
   * model's kind plus its projection and norms; embedding and output shared). */
  uint64_t mtp;         /* every module, whole, routed experts counted whole */
  uint64_t mtp_per_gpu; /* every module as held by one GPU of the tp group, without the
                           routed experts of an MoE module (held as any MoE layer's) */
  uint64_t active;      /* parameters one token passes through (top_k routed experts, both
                           embeddings; no MTP), as Mixtral's 12.9B counts them */
} p3cfg__params;

/* Counts for tensor-parallel size tp (tp only changes the padding and the per-GPU
 * shares). tp must divide heads, kv_heads and ffn_hidden. A dense model has
 * dense_layers = layers, moe_layers = 0: its blocks are layers * layer as before. */
void p3cfg__model_params(p3cfg__params *out, const p3cfg_model *m, uint32_t tp);

/* Vocabulary padded as Megatron-LM does: up to a multiple of 128*tp. */
uint64_t p3cfg__vocab_padded(const p3cfg_model *m, uint32_t tp);

#endif
