/*
 * framework_memory.h — the memory rules that differ between frameworks (torchtitan's
 * FSDP2 and per-op SAC, DeepSpeed's contiguous buffers, each framework's allocator
 * headroom), from the rows of src/common/framework_physics.c. Megatron plans pass
 * through unchanged (docs/memory-model.md, "Frameworks").
 */
#ifndef P3CFG_FRAMEWORK_MEMORY_H
#define P3CFG_FRAMEWORK_MEMORY_H

#include <stdint.h>

#include "model_state.h"
#include "types.h"

/* Adjust the ZeRO 1-3 model state of `out` (as model_state.c made it for Megatron /
 * DeepSpeed) to the plan's framework; `shard` is the parameters one GPU owns. */
void p3cfg__fw_model_state(p3cfg__model_state *out, const p3cfg_model *m, const p3cfg_plan *plan,
                           const p3cfg__stage_params *sp, uint64_t shard);

/* Bytes one micro-batch keeps per dense layer under torchtitan's per-op selective
 * checkpointing, or 0 where the plan's framework does not use it (the caller then keeps
 * its own rule): the block input and the outputs of the ops in the save list. */
uint64_t p3cfg__sac_layer_bytes(const p3cfg_model *m, const p3cfg_plan *plan);

/* The loss transient of the plan's framework (bytes per logit times the logits of one
 * micro-batch on one GPU: tokens x vocab/tp). */
uint64_t p3cfg__fw_loss_bytes(const p3cfg_model *m, const p3cfg_plan *plan, uint64_t logits);

/* Reserved-but-unallocated bytes of the caching allocator at an allocated peak. */
uint64_t p3cfg__fw_slack_bytes(const p3cfg_plan *plan, uint64_t peak);

#endif
