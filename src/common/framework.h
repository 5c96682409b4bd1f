/*
 * framework.h — the training frameworks a plan can be for (issue 15), each a row of data:
 * which plans it can run (its plan space) and, appended by the memory and time models,
 * the rules and constants that differ between them. Code asks the row, never
 * `if (framework == ...)`: a new framework is a new row (docs/frameworks.md).
 */
#ifndef P3CFG_FRAMEWORK_H
#define P3CFG_FRAMEWORK_H

#include <stdint.h>

#include "types.h"

/* Bit z of a stage mask: ZeRO stage z (0 plain data parallelism .. 3 sharded params). */
#define P3CFG__ZERO_BIT(z) (1u << (z))

typedef struct p3cfg__framework {
  const char *name;  /* the word of --framework and config.framework: "megatron" */
  const char *title; /* for people: "Megatron-LM (Megatron-Core)" */
  /* ---- plan space ---- */
  uint32_t zero_stages;  /* P3CFG__ZERO_BIT of each ZeRO stage it has */
  uint32_t zero_with_pp; /* the stages it combines with pipeline parallelism (pp > 1) */
  uint32_t overlap;      /* the P3CFG_OVERLAP_* flags a user may ask for */
  /* Overlap it always does, by ZeRO stage (index 0-3): DDP buckets its gradient
   * all-reduce into the backward, FSDP2 prefetches the next layer's gather. The plan is
   * given these flags when resolved. */
  uint32_t overlap_implied[4];
  uint8_t interleaved;      /* interleaved pipeline schedules (virtual stages > 1) */
  uint8_t hsdp;             /* ZeRO 3 sharded over dp_shard < dp GPUs, replicated across */
  uint8_t compile;          /* torch.compile of the model: the `compile` knob */
  uint8_t sp_always;        /* tensor parallelism always shards the sequence (sp = tp > 1) */
  uint8_t context_parallel; /* cp > 1 */
  uint8_t expert_parallel;  /* ep > 1 */
  uint8_t expert_tp_with_ep; /* experts tensor-parallel (etp > 1) together with ep > 1 */
  uint8_t low_precision;    /* fp8 / mxfp8 / nvfp4 GEMMs */
  const char *zero_names;   /* what its ZeRO stages are called, for messages */
} p3cfg__framework;

/* The row of framework f (a p3cfg_framework below P3CFG_FRAMEWORK_COUNT), or NULL. */
const p3cfg__framework *p3cfg__framework_get(uint32_t f);

/* The row of a plan's framework; Megatron-LM's for an out-of-range value (the rules
 * reject such a plan before any model reads it). */
const p3cfg__framework *p3cfg__framework_of(const p3cfg_plan *p);

/* Give a plan what its framework always does: sequence parallelism with tp > 1 where
 * tensor parallelism always shards the sequence, and the implied overlap of its ZeRO
 * stage (framework.h, overlap_implied). Idempotent; p3cfg_plan_resolve and the search
 * call it before the rules. */
void p3cfg__framework_apply(p3cfg_plan *p);

#endif
