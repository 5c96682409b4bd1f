/*
 * activations.h — activation memory of one GPU (spec §8, docs/memory-model.md
 * "Activations"): bytes one micro-batch stashes per transformer layer, how many
 * micro-batches the pipeline schedule keeps in flight on each rank, and the extras and
 * transients of the first and last stages.
 */
#ifndef P3CFG_ACTIVATIONS_H
#define P3CFG_ACTIVATIONS_H

#include <stdint.h>

#include "types.h"

/* Bytes one micro-batch (plan->micro_batch sequences) keeps for the backward pass in
 * one transformer layer on one GPU under recompute mode `mode` (plan->recompute is
 * ignored, so that callers can ask for the full layer under any plan). */
uint64_t p3cfg__layer_act_bytes(const p3cfg_model *m, const p3cfg_plan *plan, p3cfg_recompute mode);

/* The same for an MoE layer (attention, router, the routed tokens of one GPU's experts,
 * shared experts; activations.c). */
uint64_t p3cfg__moe_layer_act_bytes(const p3cfg_model *m, const p3cfg_plan *plan,
                                    p3cfg_recompute mode);

/* Tokens one GPU's routed experts hold per micro-batch and MoE layer: top_k times the
 * tokens of its sequence shard gathered over etp, times the capacity factor when there
 * is one (dropless: the mean load). 0 for a dense model. */
uint64_t p3cfg__moe_routed_tokens(const p3cfg_model *m, const p3cfg_plan *plan);

/* Chunk-units (micro-batch, model chunk) whose activations pipeline rank `rank` holds at
 * its peak, m micro-batches per step: Megatron-LM's schedules (see activations.c). With
 * virtual_stages 1 a unit is a micro-batch of the whole stage. */
uint64_t p3cfg__inflight_units(const p3cfg_plan *plan, uint32_t rank, uint64_t m);

/* How many of the first `units` forward units of a rank belong to model chunk `chunk`
 * (Megatron's interleaved order: groups of pp micro-batches per chunk). */
uint64_t p3cfg__inflight_of_chunk(const p3cfg_plan *plan, uint64_t units, uint32_t chunk);

/* The per-plan terms every stage multiplies by its in-flight counts; computed once per
 * plan so that the per-stage work stays a few multiplications. */
typedef struct p3cfg__act_terms {
  uint64_t layer_bytes;     /* one layer, one micro-batch, under plan->recompute */
  uint64_t moe_layer_bytes; /* one MoE layer likewise (0 for a dense model) */
  uint64_t mtp_bytes;       /* last stage, with last_bytes: every MTP module */
  uint64_t embedding_bytes; /* first stage, per in-flight micro-batch of the first chunk */
  uint64_t last_bytes;      /* last stage, per in-flight micro-batch of the last chunk:
                               final-norm and output-layer inputs, fp32 logits */
  uint64_t loss_bytes;      /* transient at the loss: 16-bit logits beside their fp32 copy */
  uint64_t backward_bytes;  /* transient while one layer back-propagates: recomputed
                               activations and the gradients of its widest tensors */
  uint64_t microbatches;    /* m per pipeline per step */
} p3cfg__act_terms;

void p3cfg__act_terms_get(p3cfg__act_terms *out, const p3cfg_model *m, const p3cfg_plan *plan);

typedef struct p3cfg__stage_acts {
  uint64_t in_flight;      /* chunk-units stashed at the peak */
  uint64_t stash_bytes;    /* everything stashed for backward at the peak */
  uint64_t loss_bytes;     /* loss transient (last stage only) */
  uint64_t backward_bytes; /* backward transient (stages with layers) */
} p3cfg__stage_acts;

/* Every layer of the stage dense. */
void p3cfg__stage_acts_get(p3cfg__stage_acts *out, const p3cfg__act_terms *terms,
                           const p3cfg_plan *plan, uint32_t stage);
/* dense_layers of the stage's layers dense, the rest MoE (p3cfg__stage_params). */
void p3cfg__stage_acts_mixed(p3cfg__stage_acts *out, const p3cfg__act_terms *terms,
                             const p3cfg_plan *plan, uint32_t stage, uint64_t dense_layers);

#endif
