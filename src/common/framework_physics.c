/*
 * framework_physics.c — the physics rows of the three frameworks (framework_physics.h
 * says what each field means). Megatron's row is neutral (the estimator's and time
 * model's own rules, which follow Megatron-Core). Sources, per row:
 *
 *  torchtitan @ b5bcd76c (pytorch/torchtitan):
 *   - torchtitan/config/configs.py: training dtype float32, mixed_precision_param
 *     bfloat16, mixed_precision_reduce float32 (the FSDP2 shard and gradient are fp32);
 *   - torchtitan/distributed/fsdp.py: reshard_after_forward "default" = not pp_enabled;
 *     [norm, lm_head] not resharded after forward;
 *   - torchtitan/distributed/activation_checkpoint.py: SelectiveAC saves the save list's
 *     ops except every second matmul; FullAC checkpoints the whole block;
 *   - the eager element-wise costs count the ATen ops of each function over what one
 *     fused kernel reads and writes (bf16 in and out, fp32 opmath):
 *       RMSNorm (at::rms_norm composite: to(fp32), pow, mean, add, rsqrt, mul, type_as,
 *       mul weight): 36 bytes per element forward against 4, 8 kernels; backward
 *       (autograd of the same ops) about 72 against 6;
 *       rotary embedding (xq.float() -> view_as_complex -> complex mul -> view_as_real
 *       -> type_as): 20 bytes per element against 4, 3 kernels;
 *       SwiGLU (F.silu(w1 x) * w3 x): 10 bytes per f-element against 6 forward, 16
 *       against 10 backward, 2 kernels.
 *  DeepSpeed @ edaa722 (deepspeedai/DeepSpeed): deepspeed/runtime/zero/config.py
 *     (reduce_bucket_size, allgather_bucket_size 5e8; stage3_prefetch_bucket_size 5e7;
 *     stage3_max_live_parameters 1e9; contiguous_gradients true); deepspeed/runtime/pipe/
 *     schedule.py TrainSchedule, pipe/p2p.py (blocking send / recv), pipe/engine.py
 *     (PartitionedTensor sends, ReduceGrads after the last step), runtime/config.py
 *     get_pipeline_config (pipe_partitioned, grad_partitioned true).
 *
 * compute_efficiency and the headroom fractions are fitted (bench/framework_accuracy.c,
 * leave one source out): docs/time-model.md and docs/memory-model.md, "Frameworks".
 * torchtitan's 0.96 is fitted on its runs on the machine they ran on (gpu preset
 * h100-96gb-500w: the 500 W limit is the GPU's, not the framework's).
 * torchtitan's separate projections: torchtitan/models/common/attention.py (QKVLinear:
 * wq, wk, wv) and feed_forward.py (w1, w2, w3) @ b5bcd76c; its async TP:
 * torch/_inductor/fx_passes/micro_pipeline_tp.py (pytorch/pytorch 00122fb1).
 */
#include "framework_physics.h"

#include <assert.h>

#include "framework.h"

static const p3cfg__framework_physics rows[P3CFG_FRAMEWORK_COUNT] = {
    [P3CFG_FRAMEWORK_MEGATRON] =
        {
            .name = "megatron",
            .rs_bytes_per_param = 2,
            .loss_bytes_per_logit = 2,
            .loss_copy_16bit = 1,
            .compute_efficiency = 1.0,
            .eager_norm_bytes_f = 1.0, .eager_norm_bytes_b = 1.0, .eager_norm_kernels = 1.0,
            .eager_rope_bytes = 1.0, .eager_rope_kernels = 1.0,
            .eager_act_bytes_f = 1.0, .eager_act_bytes_b = 1.0, .eager_act_kernels = 1.0,
        },
    [P3CFG_FRAMEWORK_TORCHTITAN] =
        {
            .name = "torchtitan",
            .fsdp2_fp32_shards = 1,
            .rs_bytes_per_param = 2 + 4,
            .fsdp_output_unsharded = 1,
            .fsdp_pp_unsharded = 1,
            .pp_unsharded_grad_bytes = 4,
            .sac_per_op = 1,
            .loss_bytes_per_logit = 8,
            .headroom_eager = 0.157,
            .headroom_compiled = 0.076,
            .compute_efficiency = 0.96,
            .unfused_projections = 1,
            .async_tp_fused_only = 1,
            .gather_kept_by_recompute = 1,
            .eager_norm_bytes_f = 36.0 / 4.0, .eager_norm_bytes_b = 72.0 / 6.0,
            .eager_norm_kernels = 8.0,
            .eager_rope_bytes = 20.0 / 4.0, .eager_rope_kernels = 3.0,
            .eager_act_bytes_f = 10.0 / 6.0, .eager_act_bytes_b = 16.0 / 10.0,
            .eager_act_kernels = 2.0,
        },
    [P3CFG_FRAMEWORK_DEEPSPEED] =
        {
            .name = "deepspeed",
            .rs_bytes_per_param = 2,
            .loss_bytes_per_logit = 2,
            .loss_copy_16bit = 1,
            .reduce_bucket_elems = 500000000u,
            .allgather_bucket_elems = 500000000u,
            .prefetch_bucket_elems = 50000000u,
            .max_live_elems = 1000000000u,
            .compute_efficiency = 0.80,
            .pipe_lockstep = 1,
            .pipe_partitioned = 1,
            .grad_accum_bytes = 8.0,
            .eager_norm_bytes_f = 1.0, .eager_norm_bytes_b = 1.0, .eager_norm_kernels = 1.0,
            .eager_rope_bytes = 1.0, .eager_rope_kernels = 1.0,
            .eager_act_bytes_f = 1.0, .eager_act_bytes_b = 1.0, .eager_act_kernels = 1.0,
        },
};

const p3cfg__framework_physics *p3cfg__framework_physics_of(uint32_t framework)
{
  assert(framework < P3CFG_FRAMEWORK_COUNT);
  return &rows[framework < P3CFG_FRAMEWORK_COUNT ? framework : P3CFG_FRAMEWORK_MEGATRON];
}

const p3cfg__framework_physics *p3cfg__plan_physics(const p3cfg_plan *plan)
{
  return p3cfg__framework_physics_of(plan->framework);
}

int p3cfg__plan_eager(const p3cfg_plan *plan)
{
  return p3cfg__framework_of(plan)->compile && !plan->compile;
}
