/*
 * framework_physics.h — what a training framework does to memory and time, as data:
 * one row per framework (Megatron-Core, torchtitan, DeepSpeed), read by the memory
 * estimator (src/estimate/framework_memory.c) and the time model
 * (src/perf/framework_time.c). The Megatron row is neutral: every Megatron number is the
 * estimator's and time model's own. Each constant names its source (file@commit or
 * paper); the fitted ones say what they were fitted on (bench/framework_accuracy.c,
 * docs/memory-model.md and docs/time-model.md, "Frameworks").
 *
 * A table beside the plan-space rows of src/common/framework.h (p3cfg__framework), indexed
 * by the same p3cfg_framework: what a framework can run is there, what it costs here
 * (the overlap it always does is framework.h's overlap_implied).
 */
#ifndef P3CFG_FRAMEWORK_PHYSICS_H
#define P3CFG_FRAMEWORK_PHYSICS_H

#include <stdint.h>

#include "types.h"


typedef struct p3cfg__framework_physics {
  const char *name;
  /* ---- memory ---- */
  /* ZeRO-3 as FSDP2 with MixedPrecisionPolicy(param bf16, reduce fp32) over fp32
   * parameters: the shard is the fp32 master (4 bytes), its gradient fp32 (4), Adam's
   * moments (8); no separate master copy and no fp32 copy at the step. */
  int fsdp2_fp32_shards;
  /* Bytes per parameter of one block's unsharded gradient waiting for its
   * reduce-scatter: 2 (16-bit, Megatron / DeepSpeed), 2 + 4 (FSDP2: the bf16 gradient
   * and its fp32 copy, the reduce-scatter input under reduce_dtype float32). */
  uint32_t rs_bytes_per_param;
  /* FSDP2: the output layer (and final norm) are not resharded after forward
   * (torchtitan/distributed/fsdp.py) and stay unsharded through the loss. */
  int fsdp_output_unsharded;
  /* FSDP2 with pp > 1: reshard_after_forward is off (torchtitan's "default" policy),
   * so the stage's parameters are held unsharded (16-bit) the whole step. */
  int fsdp_pp_unsharded;
  /* FSDP2 with pp > 1: torch.distributed.pipelining runs every micro-batch's backward with
   * set_requires_gradient_sync(False) and reduces once, in the schedule's REDUCE_GRAD
   * after the last backward (PipelineStage.backward_maybe_with_nosync /
   * perform_reduce_grad); meanwhile FSDP2 accumulates each unsharded gradient in the
   * reduce dtype (FSDPParam.to_accumulated_grad_if_needed: float32). Bytes per parameter
   * of the stage held so through forward and backward; 0: not this framework's. */
  uint32_t pp_unsharded_grad_bytes;
  /* Selective recompute is torchtitan's per-op SAC (SelectiveAC in
   * torchtitan/distributed/activation_checkpoint.py): the block input and the outputs of
   * the ops in its save list (every odd matmul, SDPA, reduce-scatter) are kept. */
  int sac_per_op;
  /* Loss transient beyond the saved fp32 softmax, bytes per logit: Megatron's
   * vocab-parallel cross entropy 2 (the 16-bit logits beside the fp32 copy; 0 for fp32
   * training), torchtitan's F.cross_entropy(logits.float()) 8 (in backward the fp32
   * gradient of log_softmax's output and its input gradient beside the saved output). */
  uint32_t loss_bytes_per_logit;
  /* 1 where that transient is the 16-bit copy of the logits, absent in fp32 training. */
  int loss_copy_16bit;
  /* DeepSpeed's contiguous 16-bit buffers (deepspeed/runtime/zero/config.py @ edaa722):
   * reduce_bucket_size and allgather_bucket_size 5e8 elements (ZeRO 1-2, capped at the
   * parameters held); ZeRO-3 stage3_prefetch_bucket_size 5e7 and
   * stage3_max_live_parameters 1e9. 0: not this framework's. */
  uint64_t reduce_bucket_elems, allgather_bucket_elems;
  uint64_t prefetch_bucket_elems, max_live_elems;
  /* Caching-allocator headroom: reserved - allocated as a fraction of the allocated
   * peak, eager and compiled. 0: the estimator's 5 % (P3CFG_MEM_SLACK_DIVISOR). */
  double headroom_eager, headroom_compiled;
  /* ---- time ---- */
  /* Multiplies the training clock ratio (GEMM and attention rates). 1: the GPU's own. */
  double compute_efficiency;
  /* The attention's q, k, v and SwiGLU's w1, w3 are separate nn.Linear modules
   * (torchtitan/models/common/attention.py QKVLinear, feed_forward.py @ b5bcd76c): three
   * and two GEMMs over the same input instead of one wide one each (k and v at tp 8 are
   * 128-wide: HBM-bound), and the backward sums their data gradients (one element-wise
   * kernel per block: read the n gradients, write their sum). 0: Megatron's fused QKV
   * and fc1. */
  int unfused_projections;
  /* Async TP is PyTorch's micro-pipelined TP (torch._inductor micro_pipeline_tp.py):
   * only an all-gather whose result feeds a matmul along its rows, and a reduce-scatter
   * of one matmul's output, are fused and pipelined in tp chunks; the backward's
   * reduce-scatter of the summed input gradients and the re-gather for the weight
   * gradients (gathered along K) stay exposed. 0: Transformer Engine's overlap, every
   * collective of the layer pipelined. */
  int async_tp_fused_only;
  /* Full activation checkpointing re-runs the forward's sequence-parallel all-gathers
   * inside the backward and autograd keeps their outputs for the weight gradients
   * (torch.utils.checkpoint): no second re-gather (Megatron re-gathers in
   * LinearWithGradAccumulationAndAsyncCommunication.backward whatever the recompute). */
  int gather_kept_by_recompute;
  /* Eager PyTorch's unfused element-wise work over the fused kernels the cost model
   * counts (HBM bytes and kernels), forward and backward: RMSNorm, rotary embedding,
   * SwiGLU. torch.compile (plan.compile) fuses them: all 1. */
  double eager_norm_bytes_f, eager_norm_bytes_b, eager_norm_kernels;
  double eager_rope_bytes, eager_rope_kernels;
  double eager_act_bytes_f, eager_act_bytes_b, eager_act_kernels;
  /* DeepSpeed's pipeline engine (deepspeed/runtime/pipe @ v0.19.5): TrainSchedule's
   * lock-step 1F1B with blocking p2p.send / recv (src/perf/pipeline_ds.c), and the
   * gradient reduction after the last micro-batch only (ReduceGrads: no overlap). */
  int pipe_lockstep;
  /* pipeline.pipe_partitioned / grad_partitioned (default true with tp > 1,
   * runtime/config.py get_pipeline_config): each TP rank sends 1/tp of the activation
   * (and of its gradient), and the receiver all-gathers it over the TP group
   * (PartitionedTensor.full()): one all-gather before a forward, two in a backward (the
   * output rebuilt, the received gradient). */
  int pipe_partitioned;
  /* Bytes per held parameter that each micro-batch's backward moves over HBM to
   * accumulate the gradients outside the weight-gradient GEMM (ZeRO 0-1): DeepSpeed
   * writes each new bf16 gradient and autograd adds it into param.grad (2 + 2 + 2 + 2).
   * 0: accumulated inside the GEMM (Megatron's gradient_accumulation_fusion). */
  double grad_accum_bytes;
} p3cfg__framework_physics;

/* The row of a framework id (p3cfg_plan.framework); an unknown id is a programming
 * error (assert) and reads as Megatron. */
const p3cfg__framework_physics *p3cfg__framework_physics_of(uint32_t framework);

/* The row of a plan's framework (versions below 3 are Megatron). */
const p3cfg__framework_physics *p3cfg__plan_physics(const p3cfg_plan *plan);

/* The plan runs eager PyTorch (torchtitan without torch.compile). */
int p3cfg__plan_eager(const p3cfg_plan *plan);

#endif
