/*
 * grad_reduce.h — the bytes of one gradient element in the data-parallel gradient buffer
 * of ZeRO stages 0 and 1 and in its reduction (all-reduce, or the distributed optimizer's
 * reduce-scatter), one rule for the estimator (model_state.c) and the time model
 * (perf_plan.c). docs/memory-model.md "Model state", docs/time-model.md.
 *
 * Megatron-LM (megatron/training/arguments.py at d98e8a6, validate_args): with --bf16 it
 * sets accumulate_allreduce_grads_in_fp32, so main_grad is fp32 and reduced in fp32,
 * unless --grad-reduce-in-bf16 (the model's `grad_reduce: bf16`), which keeps main_grad
 * and its reduction in bf16. Megatron-Bridge's perf recipes do that for every published
 * run (src/megatron/bridge/perf_recipes/_common.py at 067f987, _benchmark_common and
 * _perf_precision: ddp.grad_reduce_in_fp32 = False). With fp16 main_grad is fp16 (no fp32
 * accumulation by default); fp32 training reduces fp32.
 *
 * The model's grad_reduce is Megatron-LM's setting; other frameworks keep the fp32 rule
 * here: torchtitan (its FSDP2 reduce dtype, mixed_precision_reduce, is Literal["float32"]
 * in torchtitan/config/configs.py at b5bcd76c) and DeepSpeed. DeepSpeed's own defaults
 * are 16-bit (deepspeed/runtime/engine.py at edaa722, get_data_types: grad_accum_dtype =
 * the model dtype; communication_data_type bf16), which its ZeRO 0-1 rows do not follow
 * yet: not grad_reduce's to change. ZeRO 2-3 gradients are not this rule's: 16-bit for
 * Megatron-FSDP and DeepSpeed, fp32 for torchtitan's FSDP2 (model_state.c,
 * framework_memory.c; the time model's grad_elem in perf_plan.c).
 */
#ifndef P3CFG_GRAD_REDUCE_H
#define P3CFG_GRAD_REDUCE_H

#include <stdint.h>

#include "types.h"

static inline uint64_t p3cfg__grad_buffer_elem_bytes(const p3cfg_model *m, const p3cfg_plan *plan)
{
  if (m->precision == P3CFG_PREC_FP16)
    return 2;
  if (m->precision == P3CFG_PREC_FP32)
    return 4;
  return m->grad_reduce == P3CFG_GRAD_REDUCE_BF16 && plan->framework == P3CFG_FRAMEWORK_MEGATRON
             ? 2
             : 4;
}

#endif
