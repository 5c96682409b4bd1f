/*
 * model_state.c — parameters, gradients and optimizer state of one GPU of a pipeline
 * stage (spec §8, docs/memory-model.md "Model state").
 *
 * Parameters per GPU (Ψ) come matrix by matrix from model_params.c: the stage's layers,
 * plus the vocabulary-parallel input embedding and learned position embedding on the
 * first stage, plus the final norm and the output layer on the last stage. A tied
 * embedding is shared when pp = 1; with pp > 1 Megatron-LM keeps a copy of it on the
 * last stage (its gradients are all-reduced over the embedding group), and that copy has
 * gradients and optimizer state like any other weight.
 *
 * Bytes per parameter follow the framework that implements each ZeRO stage:
 *  - stage 0, Megatron-LM plain data parallelism: 16-bit weights; gradients accumulate in
 *    an fp32 main-grad buffer for bf16 (megatron/training/arguments.py forces
 *    accumulate_allreduce_grads_in_fp32 with --bf16) and in a 16-bit buffer for fp16, which
 *    Float16OptimizerWithFloat16Params copies to fp32 (`main_grad.float()`) at the step;
 *    fp32 master weights + Adam m and v = 12 bytes. bf16: 2 + 4 + 12 = 18 Ψ.
 *  - stage 1, Megatron-LM distributed optimizer: the same buffers, with the 12 bytes of
 *    optimizer state sharded over dp (2Ψ + 4Ψ + 12Ψ/dp for bf16; references.md).
 *  - stages 0 and 1 with `grad_reduce: bf16` (--grad-reduce-in-bf16, Megatron-Bridge's
 *    perf recipes; grad_reduce.h): a bf16 main-grad buffer (2Ψ), and at the step, as for
 *    fp16, fp32 copies of the gradients the optimizer owns (distrib_optimizer.py
 *    _copy_model_grads_to_main_grads: `shard_model_grad.float()`).
 *  - stage 2, DeepSpeed ZeRO-2 / FSDP SHARD_GRAD_OP: 16-bit gradients sharded too,
 *    2Ψ + 14Ψ/dp (Rajbhandari et al. 2020, Fig. 1), plus one block's unsharded gradient
 *    while it waits for its reduce-scatter.
 *  - stage 3, ZeRO-3 / FSDP FULL_SHARD: everything sharded, 16Ψ/dp, plus the all-gathered
 *    weights of the block being computed and of the one prefetched.
 * fp32 training has no master copy (4 + 4 + 8). SGD keeps one fp32 momentum buffer
 * instead of Adam's two moments. A shard holds ceil(Ψ/dp) parameters (buffers are
 * padded to a multiple of dp).
 *
 * Mixture of experts and context parallelism (Megatron-Core's parallel_state and
 * distributed optimizer): a GPU holds experts/ep routed experts of every MoE layer on its
 * stage, each split etp ways, beside the tp share of the rest of the layer (attention,
 * router, shared experts). Dense parameters are sharded over the data-parallel group with
 * cp folded in (dp*cp: CP ranks hold the same weights and reduce gradients together);
 * expert parameters over the expert-data-parallel group, edp = dp*tp*cp/(ep*etp). The
 * leading dense layers sit on the ranks whose layers they are (interleaved chunks
 * included); the MTP modules on the last stage.
 */
#include "model_state.h"

#include <assert.h>

#include "framework_memory.h"
#include "grad_reduce.h"
#include "low_precision_memory.h"
#include "plan_dims.h"
#include "plan_rules.h"
#include "precision.h"
#include "sat_math.h"

uint64_t p3cfg__weight_elem_bytes(const p3cfg_model *m)
{
  return m->precision == P3CFG_PREC_FP32 ? 4 : 2;
}

/* Of the layers of pipeline rank `stage`, how many have a dense FFN: those among the
 * model's first moe.dense_layers (every layer of a dense model), chunk by chunk
 * (p3cfg__chunk_first_layer: Megatron's interleaved order). */
static uint64_t dense_on_rank(const p3cfg_model *m, const p3cfg_plan *plan, uint32_t stage)
{
  const uint64_t here = plan->stage_layers[stage];
  if (!m->moe.experts)
    return here;
  const uint64_t dense = m->moe.dense_layers;
  const uint32_t v = plan->virtual_stages ? plan->virtual_stages : 1;
  uint64_t n = 0;
  for (uint32_t c = 0; c < v; c++) {
    const uint64_t start = p3cfg__chunk_first_layer(plan, stage, c);
    if (start >= dense)
      break;
    n += p3cfg__min_u64(p3cfg__chunk_layers(plan, stage, c), dense - start);
  }
  return p3cfg__min_u64(n, here);
}

void p3cfg__stage_params_get(p3cfg__stage_params *out, const p3cfg__params *pc,
                             const p3cfg_model *m, const p3cfg_plan *plan, uint32_t stage)
{
  assert(stage < plan->pp && plan->n_stage_layers == plan->pp);
  const uint64_t tp = plan->tp;
  const int first = stage == 0, last = stage + 1 == plan->pp;
  /* vocab_padded is a multiple of 128*tp, so the vocabulary shards are exact. */
  const uint64_t embedding = pc->word_embedding / tp;
  const uint64_t output =
      m->tied_embeddings ? (plan->pp > 1 ? embedding : 0) : pc->output_layer / tp;
  const uint64_t dense = dense_on_rank(m, plan, stage);
  const uint64_t moe = plan->stage_layers[stage] - dense;
  /* One MoE layer's routed experts on one GPU: experts/ep of them, each split etp ways. */
  const uint64_t experts_gpu =
      m->moe.experts ? p3cfg__sat_mul(p3cfg__sat_ceil_div(m->moe.experts, p3cfg__plan_ep(plan)),
                                      p3cfg__sat_ceil_div(pc->expert, p3cfg__plan_etp(plan)))
                     : 0;
  uint64_t params = p3cfg__sat_mul(dense, pc->layer_per_gpu);
  uint64_t experts = p3cfg__sat_mul(moe, experts_gpu);
  params = p3cfg__sat_add(params, p3cfg__sat_mul(moe, pc->moe_layer_base_per_gpu));
  uint64_t unit = dense ? pc->layer_per_gpu : 0;
  if (moe)
    unit = p3cfg__max_u64(unit, p3cfg__sat_add(pc->moe_layer_base_per_gpu, experts_gpu));
  out->layer_unit = unit;
  out->output_unit = last ? output + pc->final_norm : 0;
  if (first) {
    params = p3cfg__sat_add(params, p3cfg__sat_add(embedding, pc->position));
    unit = p3cfg__max_u64(unit, embedding + pc->position);
  }
  if (last) {
    params = p3cfg__sat_add(params, p3cfg__sat_add(output, pc->final_norm));
    unit = p3cfg__max_u64(unit, output + pc->final_norm);
    if (m->mtp_layers) {
      params = p3cfg__sat_add(params, pc->mtp_per_gpu);
      if (m->moe.experts)
        experts = p3cfg__sat_add(experts, p3cfg__sat_mul(m->mtp_layers, experts_gpu));
    }
  }
  out->layers = plan->stage_layers[stage];
  out->dense_layers = dense;
  out->expert_params = experts;
  out->params = p3cfg__sat_add(params, experts);
  out->largest_unit = unit;
}

void p3cfg__model_state_get(p3cfg__model_state *out, const p3cfg_model *m, const p3cfg_plan *plan,
                            const p3cfg__stage_params *sp)
{
  const uint64_t psi = sp->params;
  /* Dense parameters over dp*cp, routed experts over edp (Megatron's two groups); HSDP
   * (a ZeRO-3 shard group of dp_shard < dp) shards over one group of each, replicated
   * dp_replicate times. */
  const uint64_t replicate = p3cfg__plan_dp_replicate(plan);
  const uint64_t edp = p3cfg__plan_edp(plan);
  const uint64_t shard =
      p3cfg__sat_add(p3cfg__sat_ceil_div(psi - sp->expert_params,
                                         (uint64_t)p3cfg__plan_dp_shard(plan) *
                                             p3cfg__plan_cp(plan)),
                     p3cfg__sat_ceil_div(sp->expert_params,
                                         edp % replicate == 0 ? edp / replicate : edp));
  const int mixed = m->precision != P3CFG_PREC_FP32;
  const uint64_t wb = p3cfg__weight_elem_bytes(m);
  /* Megatron's gradient buffer: fp32 for bf16 and fp32 training, 16-bit for fp16 and
   * with grad_reduce bf16 (grad_reduce.h); a 16-bit buffer is copied to fp32 at the step. */
  const uint64_t grad_buffer_b = p3cfg__grad_buffer_elem_bytes(m, plan);
  const int grad_copy = mixed && grad_buffer_b == 2;
  const uint64_t moments = m->optimizer == P3CFG_OPT_SGD ? 1 : 2;
  const uint64_t opt_b = (mixed ? 4 : 0) + 4 * moments; /* master copy + moments */

  out->step_bytes = out->gather_bytes = out->bucket_bytes = 0;
  switch (plan->zero_stage) {
  case 0:
    out->weights_bytes = p3cfg__sat_mul(wb, psi);
    out->gradients_bytes = p3cfg__sat_mul(grad_buffer_b, psi);
    out->optimizer_bytes = p3cfg__sat_mul(opt_b, psi);
    if (grad_copy)
      out->step_bytes = p3cfg__sat_mul(4, psi); /* main_grad.float() for every parameter */
    break;
  case 1:
    out->weights_bytes = p3cfg__sat_mul(wb, psi);
    out->gradients_bytes = p3cfg__sat_mul(grad_buffer_b, psi);
    out->optimizer_bytes = p3cfg__sat_mul(opt_b, shard);
    if (grad_copy)
      out->step_bytes = p3cfg__sat_mul(4, shard); /* the shard's gradients as fp32 */
    break;
  default: /* 2 and 3: DeepSpeed / FSDP layout, 16-bit (or fp32) gradients sharded */
    out->weights_bytes = p3cfg__sat_mul(wb, plan->zero_stage == 3 ? shard : psi);
    out->gradients_bytes = p3cfg__sat_mul(wb, shard);
    out->optimizer_bytes = p3cfg__sat_mul(opt_b, shard);
    if (mixed)
      out->step_bytes = p3cfg__sat_mul(4, shard); /* fp32 gradient shard for the step */
    out->bucket_bytes = p3cfg__sat_mul(wb, sp->largest_unit);
    if (plan->zero_stage == 3) {
      out->gather_bytes = p3cfg__sat_mul3(2, wb, sp->largest_unit);
      /* fp8_param_gather: the linear weights are all-gathered quantized (Megatron-LM
       * --fp8-param-gather with FSDP). The two blocks in flight are the largest and its
       * neighbour, a layer: in low precision, and the largest too where it is a layer
       * (an embedding or output layer stays 16-bit). */
      if (m->fp8_param_gather && p3cfg__precision_is_low(m->precision)) {
        const uint64_t layer = p3cfg__low_precision_saved_bytes(m, sp->layer_unit);
        out->gather_bytes =
            sp->largest_unit == sp->layer_unit
                ? p3cfg__sat_mul(2, layer)
                : p3cfg__sat_add(p3cfg__sat_mul(wb, sp->largest_unit), layer);
      }
    }
    break;
  }
  /* torchtitan's FSDP2, DeepSpeed's buffers (framework_memory.c; the identity for
   * Megatron-LM, whose physics row has none of them) */
  p3cfg__fw_model_state(out, m, plan, sp, shard);
  /* fp8, mxfp8, nvfp4: the quantized weight copies (low_precision_memory.c) */
  out->weights_bytes = p3cfg__low_precision_weights(m, plan, sp, out->weights_bytes);
}
