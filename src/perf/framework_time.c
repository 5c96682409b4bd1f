/*
 * framework_time.c — what each framework does to the time model beyond Megatron-Core's
 * (rows and sources: src/common/framework_physics.c; docs/time-model.md, "Frameworks"):
 *
 *  - compute_efficiency scales the training clock (the GEMM and attention rates) by the
 *    framework's fitted constant: kernels other than Transformer Engine's (torchtitan:
 *    PyTorch's cuBLAS and SDPA paths on its benchmark platform; DeepSpeed: Megatron-
 *    DeepSpeed's own fused kernels of 2021-22), fitted leave one source out in
 *    bench/framework_accuracy.c;
 *  - eager PyTorch (torchtitan without torch.compile) runs RMSNorm, the rotary embedding
 *    and SwiGLU as chains of ATen ops: more HBM bytes and more kernels than the fused
 *    kernels the cost model counts (compute_cost.c multiplies by these factors);
 *  - FSDP2 always prefetches the next block's all-gather and overlaps the
 *    reduce-scatters with the backward (perf_plan.c's ZeRO-3 overlap rule: the first
 *    gather and the last reduce-scatter exposed);
 *  - torchtitan's per-op SAC recomputes what it did not save (compute_cost.c).
 * Megatron plans get exactly the rates of p3cfg__rates_of.
 */
#include "perf_internal.h"

#include "framework.h"
#include "framework_physics.h"

void p3cfg__rates_of_plan(p3cfg__rates *out, const p3cfg_model *m, const p3cfg_gpu *gpu,
                          const p3cfg_plan *plan)
{
  const p3cfg__framework_physics *fw = p3cfg__plan_physics(plan);
  if (fw->compute_efficiency == 1.0) {
    p3cfg__rates_of(out, m, gpu);
  } else {
    p3cfg_gpu g = *gpu;
    const double clock = g.training_clock_ratio > 0.0 ? g.training_clock_ratio : 1.0;
    g.training_clock_ratio = clock * fw->compute_efficiency;
    p3cfg__rates_of(out, m, &g);
  }
  if (p3cfg__plan_eager(plan)) {
    out->norm_bytes_f = fw->eager_norm_bytes_f;
    out->norm_bytes_b = fw->eager_norm_bytes_b;
    out->norm_kernels = fw->eager_norm_kernels;
    out->rope_bytes = fw->eager_rope_bytes;
    out->rope_kernels = fw->eager_rope_kernels;
    out->act_bytes_f = fw->eager_act_bytes_f;
    out->act_bytes_b = fw->eager_act_bytes_b;
    out->act_kernels = fw->eager_act_kernels;
  }
}

uint32_t p3cfg__fw_overlap(const p3cfg_plan *plan)
{
  return plan->overlap | p3cfg__framework_of(plan)->overlap_implied[plan->zero_stage & 3u];
}
