/*
 * low_precision_memory.h — what Transformer Engine's low-precision recipes (fp8, mxfp8,
 * nvfp4) change in a GPU's memory (docs/memory-model.md, "Low precision"): the quantized
 * weight copies cached through a step, and the linear layers' inputs saved for the
 * backward in the low-precision format. One call each from model_state.c and
 * activations.c; both are the identity in 16 or 32 bits.
 */
#ifndef P3CFG_LOW_PRECISION_MEMORY_H
#define P3CFG_LOW_PRECISION_MEMORY_H

#include <stdint.h>

#include "model_state.h"
#include "types.h"

/* The working weights of one GPU holding `sp` whose 16-bit weights take `weights_bytes`:
 * plus the quantized copies of the linear layers' weights; with fp8_param_gather (and the
 * distributed optimizer) those copies are the weights. */
uint64_t p3cfg__low_precision_weights(const p3cfg_model *m, const p3cfg_plan *plan,
                                      const p3cfg__stage_params *sp, uint64_t weights_bytes);

/* Bytes one layer's saved activations shrink by, one micro-batch, recompute mode `mode`:
 * the inputs of QKV, projection, MLP-up and MLP-down kept quantized, not 16-bit. */
uint64_t p3cfg__low_precision_act_saving(const p3cfg_model *m, const p3cfg_plan *plan,
                                         p3cfg_recompute mode);

/* Bytes of n activation elements a Transformer Engine linear saves for its weight
 * gradient: quantized (scales included) under fp8, mxfp8 and nvfp4; 2n in 16 bits, 4n in
 * fp32. */
uint64_t p3cfg__low_precision_saved_bytes(const p3cfg_model *m, uint64_t n);

#endif
