/*
 * framework_memory.c — what each framework does to one GPU's memory beyond the
 * Megatron-Core rules of model_state.c and activations.c (the rows and their sources:
 * src/common/framework_physics.c; docs/memory-model.md, "Frameworks").
 *
 * torchtitan (FSDP2, zero 3):
 *  - the shard is the fp32 parameter (the optimizer's master), its gradient fp32
 *    (reduce_dtype float32), Adam's moments: 4 + 4 + 8 bytes per owned parameter, no fp32
 *    copy at the step;
 *  - through forward and backward: the bf16 all-gather of the block being computed and of
 *    the one prefetched (2 x 2 bytes per parameter of a layer), plus the output layer and
 *    final norm, which are not resharded after forward and stay whole through the loss;
 *    with pp > 1 reshard_after_forward is off and the stage's parameters are whole all
 *    step (2 bytes per parameter held), and the pipeline schedule defers the gradient
 *    reduction to after the last micro-batch: every parameter's gradient accumulates
 *    unsharded in fp32 (4 bytes per parameter held, counted with the gradients);
 *  - one block's gradient waiting for its reduce-scatter: bf16 and its fp32 copy;
 *  - per-op SAC keeps the block input, every odd matmul output (wq, wv, w1, w2 of
 *    wq wk wv wo w1 w3 w2), SDPA's output and log-sum-exp, and with tp > 1 the two
 *    reduce-scatter outputs (sequence parallel, which torchtitan's TP always uses);
 *  - the loss: F.cross_entropy(logits.float()) keeps log_softmax's fp32 output (the
 *    estimator's 4 bytes per logit) and in backward two more fp32 tensors (8 bytes).
 * DeepSpeed: ZeRO 1-2's contiguous reduce bucket through the backward and its all-gather
 * bucket at the step (16-bit, at most the parameters held); ZeRO-3's live parameters
 * (a layer and the prefetch bucket, at most stage3_max_live_parameters).
 * Every framework: the caching allocator's headroom over the allocated peak.
 */
#include "framework_memory.h"

#include "framework_physics.h"
#include "memory.h"
#include "model_params.h"
#include "plan_dims.h"
#include "sat_math.h"

void p3cfg__fw_model_state(p3cfg__model_state *out, const p3cfg_model *m, const p3cfg_plan *plan,
                           const p3cfg__stage_params *sp, uint64_t shard)
{
  const p3cfg__framework_physics *fw = p3cfg__plan_physics(plan);
  const int mixed = m->precision != P3CFG_PREC_FP32;
  const uint64_t wb = mixed ? 2 : 4;
  /* `shard` is already over the FSDP shard group (model_state.c: dp_shard for HSDP). */
  if (plan->zero_stage == 3 && fw->fsdp2_fp32_shards) {
    const uint64_t moments = m->optimizer == P3CFG_OPT_SGD ? 1 : 2;
    out->weights_bytes = p3cfg__sat_mul(4, shard);
    out->gradients_bytes = p3cfg__sat_mul(4, shard);
    out->optimizer_bytes = p3cfg__sat_mul(4 * moments, shard);
    out->step_bytes = 0;
    uint64_t whole = p3cfg__sat_mul3(2, wb, sp->layer_unit);
    if (fw->fsdp_output_unsharded)
      whole = p3cfg__sat_add(whole, p3cfg__sat_mul(wb, sp->output_unit));
    if (fw->fsdp_pp_unsharded && plan->pp > 1) {
      whole = p3cfg__sat_mul(wb, sp->params);
      out->gradients_bytes = p3cfg__sat_add(
          out->gradients_bytes, p3cfg__sat_mul(fw->pp_unsharded_grad_bytes, sp->params));
    }
    out->gather_bytes = whole;
  }
  if (plan->zero_stage >= 2 && fw->fsdp2_fp32_shards)
    out->bucket_bytes = p3cfg__sat_mul(fw->rs_bytes_per_param, sp->layer_unit);
  if (plan->zero_stage >= 1 && plan->zero_stage <= 2 && fw->reduce_bucket_elems) {
    out->bucket_bytes = p3cfg__max_u64(
        out->bucket_bytes, p3cfg__sat_mul(wb, p3cfg__min_u64(fw->reduce_bucket_elems, sp->params)));
    out->step_bytes = p3cfg__sat_add(
        out->step_bytes,
        p3cfg__sat_mul(wb, p3cfg__min_u64(fw->allgather_bucket_elems, sp->params)));
  }
  if (plan->zero_stage == 3 && fw->max_live_elems) {
    const uint64_t live = p3cfg__sat_add(sp->largest_unit,
                                         p3cfg__max_u64(sp->largest_unit, fw->prefetch_bucket_elems));
    out->gather_bytes = p3cfg__sat_mul(wb, p3cfg__min_u64(live, fw->max_live_elems));
  }
}

uint64_t p3cfg__sac_layer_bytes(const p3cfg_model *m, const p3cfg_plan *plan)
{
  if (!p3cfg__plan_physics(plan)->sac_per_op || m->attention == P3CFG_ATTN_MLA ||
      m->moe.experts || !m->flash_attention)
    return 0;
  const uint64_t t = plan->tp, e = m->precision == P3CFG_PREC_FP32 ? 4 : 2;
  const uint64_t s = p3cfg__sat_ceil_div(m->seq_len, p3cfg__plan_cp(plan));
  const uint64_t tok = p3cfg__sat_mul(s, plan->micro_batch);
  const uint64_t tok_sp = t > 1 ? p3cfg__sat_mul(p3cfg__sat_ceil_div(s, t), plan->micro_batch) : tok;
  const uint64_t hd = p3cfg__head_dim(m), h = m->hidden;
  const uint64_t q = m->heads / t * hd, kv = m->kv_heads / t * hd, f = m->ffn_hidden / t;
  /* The block's matmuls in call order, their output widths per token: wq wk wv wo and
   * w1 (w3) w2; the policy saves the 1st, 3rd, 5th, ... (an odd count). wo and w2 are
   * row-parallel: their outputs are the partial sums over all tokens, h wide. */
  uint64_t widths[7], n = 0;
  widths[n++] = q, widths[n++] = kv, widths[n++] = kv, widths[n++] = h;
  widths[n++] = f;
  if (m->activation == P3CFG_ACT_SWIGLU)
    widths[n++] = f;
  widths[n++] = h;
  uint64_t saved = 0;
  for (uint64_t i = 0; i < n; i += 2)
    saved = p3cfg__sat_add(saved, widths[i]);
  uint64_t bytes = p3cfg__sat_mul3(e, tok, saved);
  bytes = p3cfg__sat_add(bytes, p3cfg__sat_mul3(e, tok_sp, h)); /* the block input */
  bytes = p3cfg__sat_add(bytes, p3cfg__sat_mul3(e, tok, q));    /* SDPA output */
  bytes = p3cfg__sat_add(bytes, p3cfg__sat_mul3(4, tok, m->heads / t)); /* its log-sum-exp */
  if (t > 1) /* the reduce-scatters after wo and w2 (save list) */
    bytes = p3cfg__sat_add(bytes, p3cfg__sat_mul4(2, e, tok_sp, h));
  return bytes;
}

uint64_t p3cfg__fw_loss_bytes(const p3cfg_model *m, const p3cfg_plan *plan, uint64_t logits)
{
  const p3cfg__framework_physics *fw = p3cfg__plan_physics(plan);
  if (fw->loss_copy_16bit && m->precision == P3CFG_PREC_FP32)
    return 0;
  return p3cfg__sat_mul(fw->loss_bytes_per_logit, logits);
}

uint64_t p3cfg__fw_slack_bytes(const p3cfg_plan *plan, uint64_t peak)
{
  const p3cfg__framework_physics *fw = p3cfg__plan_physics(plan);
  const double frac = p3cfg__plan_eager(plan) ? fw->headroom_eager : fw->headroom_compiled;
  if (!(frac > 0.0))
    return p3cfg__sat_div(peak, P3CFG_MEM_SLACK_DIVISOR);
  if (peak == P3CFG_SAT)
    return P3CFG_SAT;
  const double b = frac * (double)peak;
  return b >= 1.8e19 ? P3CFG_SAT : (uint64_t)b;
}
