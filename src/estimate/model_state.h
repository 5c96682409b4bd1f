/*
 * model_state.h — what the parameters cost one GPU of a pipeline stage: the parameters
 * it holds (exact, per matrix, even and uneven splits), and the bytes of working
 * weights, gradients and optimizer state per precision, optimizer and ZeRO stage, with
 * the transient buffers that sharding adds (docs/memory-model.md, "Model state").
 */
#ifndef P3CFG_MODEL_STATE_H
#define P3CFG_MODEL_STATE_H

#include <stdint.h>

#include "model_params.h"
#include "types.h"

/* Parameters of one GPU of pipeline rank `stage`. */
typedef struct p3cfg__stage_params {
  uint64_t layers;       /* transformer layers on the rank */
  uint64_t params;       /* Ψ: every parameter one GPU holds, tp-sharded, before ZeRO-3 */
  uint64_t largest_unit; /* largest block ZeRO-2/3 gathers or reduces at once, per GPU:
                            one layer, the input embedding or the output layer */
  uint64_t expert_params; /* of which routed-expert parameters (experts/ep of every MoE
                             layer, each split etp ways), distributed over edp instead of
                             dp*cp; 0 for a dense model */
  uint64_t dense_layers;  /* of the layers, those with a dense FFN (all of a dense model) */
  uint64_t layer_unit;    /* the largest transformer layer of the rank, per GPU (0: none) */
  uint64_t output_unit;   /* last stage: output layer and final norm per GPU (else 0) */
} p3cfg__stage_params;

/* `pc` must be p3cfg__model_params(m, plan->tp). */
void p3cfg__stage_params_get(p3cfg__stage_params *out, const p3cfg__params *pc,
                             const p3cfg_model *m, const p3cfg_plan *plan, uint32_t stage);

typedef struct p3cfg__model_state {
  uint64_t weights_bytes;   /* working weights (16-bit, or fp32 for fp32 training) */
  uint64_t gradients_bytes; /* gradient buffers held for the whole step */
  uint64_t optimizer_bytes; /* fp32 master weights and optimizer moments */
  uint64_t step_bytes;      /* transient at the optimizer step: fp32 copies of 16-bit grads */
  uint64_t gather_bytes;    /* transient through forward and backward: ZeRO-3 all-gathered
                               weights of the current and the prefetched block */
  uint64_t bucket_bytes;    /* transient during backward: ZeRO-2/3 unsharded gradient of one
                               block before its reduce-scatter */
} p3cfg__model_state;

/* Model state of one GPU holding `sp` (from p3cfg__stage_params_get) under `plan`. */
void p3cfg__model_state_get(p3cfg__model_state *out, const p3cfg_model *m, const p3cfg_plan *plan,
                            const p3cfg__stage_params *sp);

/* Bytes per parameter of the working weights: 2 for bf16/fp16, 4 for fp32. */
uint64_t p3cfg__weight_elem_bytes(const p3cfg_model *m);

#endif
