/*
 * model_flops.h — the model FLOPs of one iteration exactly as Megatron-LM's
 * num_floating_point_operations (megatron/training/training.py, transformer_flops) counts
 * them, so that p3cfg's MFU and model TFLOP/s per GPU compare directly with a Megatron-LM
 * or Megatron-Bridge log. docs/time-model.md, "Model FLOPs".
 */
#ifndef P3CFG_MODEL_FLOPS_H
#define P3CFG_MODEL_FLOPS_H

#include <stdint.h>

#include "types.h"

/* FLOPs of one iteration of global_batch sequences of m->seq_len tokens (BSHD, no
 * packing), forward and backward, with the vocabulary padded for tensor-parallel size tp
 * as Megatron-LM pads it (p3cfg__vocab_padded). */
double p3cfg__model_flops(const p3cfg_model *m, uint64_t global_batch, uint32_t tp);

/* The same per token: p3cfg__model_flops / (global_batch * seq_len). */
double p3cfg__model_flops_per_token(const p3cfg_model *m, uint32_t tp);

#endif
