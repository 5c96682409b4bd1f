/*
 * memory.h — the memory estimator (spec §8): what one GPU of each pipeline stage holds
 * at its peak, term by term (docs/memory-model.md).
 */
#ifndef P3CFG_MEMORY_H
#define P3CFG_MEMORY_H

#include "types.h"

/* Fixed terms of the model (docs/memory-model.md says where each comes from). */
#define P3CFG_MIB (1024ull * 1024ull)
/* Inside the allocator: PyTorch's cuBLAS workspace (32 MiB with Megatron-LM CI's
 * CUBLAS_WORKSPACE_CONFIG=:4096:8, PyTorch's default on Hopper) and Transformer Engine's
 * cuBLASLt workspace (32 MiB on Hopper, 4 MiB before). */
#define P3CFG_MEM_WORKSPACE_BYTES (64 * P3CFG_MIB)
/* Outside it: NCCL buffers of one collective communicator (16 ring channels of ~10 MiB:
 * 4 MiB Simple + 4.7 MiB LL128 + LL FIFOs) and of the pipeline's point-to-point peers. */
#define P3CFG_MEM_NCCL_COLLECTIVE_BYTES (160 * P3CFG_MIB)
#define P3CFG_MEM_NCCL_P2P_BYTES (32 * P3CFG_MIB)
/* Allocator slack: reserved-but-unallocated memory of PyTorch's caching allocator, as a
 * fraction 1/P3CFG_MEM_SLACK_DIVISOR of the peak (5 %). */
#define P3CFG_MEM_SLACK_DIVISOR 20

/*
 * Estimate memory for a resolved, valid plan. `stages` has room for plan->pp entries;
 * `out->stages` is set to it. Allocation-free: the search calls this for every
 * candidate it prunes.
 */
void p3cfg__memory_plan(p3cfg_memory *out, p3cfg_stage_memory *stages, const p3cfg_model *m,
                        const p3cfg_cluster *c, const p3cfg_plan *plan);
/* As p3cfg__memory_plan, with `margin_bytes` of headroom: a stage fits when peak +
 * reserved + margin <= capacity (saturating); out->margin_bytes records it. */
void p3cfg__memory_plan_margin(p3cfg_memory *out, p3cfg_stage_memory *stages,
                               const p3cfg_model *m, const p3cfg_cluster *c,
                               const p3cfg_plan *plan, uint64_t margin_bytes);
/* The margin in bytes: `bytes` plus `fraction` (in [0, 1)) of the GPU's memory, rounded
 * up, saturating. */
uint64_t p3cfg__memory_margin(const p3cfg_cluster *c, uint64_t bytes, double fraction);

/* NCCL communicators (and their buffer bytes) one GPU of pipeline rank `stage` sets up. */
uint64_t p3cfg__memory_nccl_bytes(const p3cfg_plan *plan, const p3cfg_model *m, uint32_t stage);

#endif
