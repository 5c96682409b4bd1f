/*
 * memory.c — the memory estimator's assembly: for every pipeline rank, the model state
 * (model_state.c), the activations in flight (activations.c), the transients of forward,
 * backward and the optimizer step, and the fixed overheads outside PyTorch's allocator.
 *
 * peak_bytes is what torch.cuda.max_memory_allocated would report: the model state plus
 * the larger of two moments, forward/backward (stashed activations, framework
 * workspaces, ZeRO-3 gathers, and the larger of the loss transient and one layer's
 * backward working set) and the optimizer step (activations freed, fp32 gradient copies
 * made). reserved_bytes is what the allocator does not see but the GPU must hold: the
 * CUDA context, NCCL's buffers for every communicator the rank uses, and allocator slack.
 * A plan fits when peak + reserved + margin <= capacity on every rank (the margin is the
 * headroom the caller asks for, 0 by default). Allocation-free: the search
 * calls this for every candidate. Terms and sources: docs/memory-model.md.
 */
#include "memory.h"

#include <assert.h>
#include <math.h>

#include "activations.h"
#include "framework_memory.h"
#include "model_params.h"
#include "model_state.h"
#include "plan_dims.h"
#include "sat_math.h"

uint64_t p3cfg__memory_nccl_bytes(const p3cfg_plan *plan, const p3cfg_model *m, uint32_t stage)
{
  const uint64_t cp = p3cfg__plan_cp(plan);
  const uint64_t gpus = (uint64_t)plan->dp * plan->tp * cp * plan->pp;
  /* One communicator per group in use: the world (barriers, loss and timer reductions),
   * tp, dp, and Megatron's embedding group (first and last stage, tied embeddings); with
   * cp, the cp group and dp with cp folded in; with experts, the ep, etp and edp groups. */
  uint64_t collectives = (uint64_t)(gpus > 1) + (plan->tp > 1) + (plan->dp > 1);
  if (cp > 1)
    collectives += 2;
  if (m->moe.experts)
    collectives += (uint64_t)(p3cfg__plan_ep(plan) > 1) + (p3cfg__plan_etp(plan) > 1) +
                   (p3cfg__plan_edp(plan) > 1);
  if (m->tied_embeddings && plan->pp > 1 && (stage == 0 || stage + 1 == plan->pp))
    collectives++;
  uint64_t bytes = collectives * P3CFG_MEM_NCCL_COLLECTIVE_BYTES;
  if (plan->pp > 1)
    bytes += P3CFG_MEM_NCCL_P2P_BYTES;
  return bytes;
}

uint64_t p3cfg__memory_margin(const p3cfg_cluster *c, uint64_t bytes, double fraction)
{
  assert(fraction >= 0.0 && fraction < 1.0);
  const double part = ceil(fraction * (double)c->gpu.memory_bytes);
  return p3cfg__sat_add(bytes, part >= 18446744073709551616.0 ? P3CFG_SAT : (uint64_t)part);
}

void p3cfg__memory_plan(p3cfg_memory *out, p3cfg_stage_memory *stages, const p3cfg_model *m,
                        const p3cfg_cluster *c, const p3cfg_plan *plan)
{
  p3cfg__memory_plan_margin(out, stages, m, c, plan, 0);
}

void p3cfg__memory_plan_margin(p3cfg_memory *out, p3cfg_stage_memory *stages,
                               const p3cfg_model *m, const p3cfg_cluster *c,
                               const p3cfg_plan *plan, uint64_t margin_bytes)
{
  assert(plan->pp > 0 && plan->n_stage_layers == plan->pp);
  p3cfg__params pc;
  p3cfg__model_params(&pc, m, plan->tp);
  p3cfg__act_terms terms;
  p3cfg__act_terms_get(&terms, m, plan);

  out->stages = stages;
  out->n_stages = plan->pp;
  out->capacity_bytes = c->gpu.memory_bytes;
  out->peak_bytes = out->reserved_bytes = out->total_bytes = 0;
  out->margin_bytes = margin_bytes;
  out->fits = 1;
  for (uint32_t i = 0; i < plan->pp; i++) {
    p3cfg__stage_params sp;
    p3cfg__model_state ms;
    p3cfg__stage_acts sa;
    p3cfg__stage_params_get(&sp, &pc, m, plan, i);
    p3cfg__model_state_get(&ms, m, plan, &sp);
    p3cfg__stage_acts_mixed(&sa, &terms, plan, i, sp.dense_layers);

    const uint64_t state =
        p3cfg__sat_add(ms.weights_bytes, p3cfg__sat_add(ms.gradients_bytes, ms.optimizer_bytes));
    uint64_t during =
        p3cfg__max_u64(sa.loss_bytes, p3cfg__sat_add(sa.backward_bytes, ms.bucket_bytes));
    during = p3cfg__sat_add(during, p3cfg__sat_add(P3CFG_MEM_WORKSPACE_BYTES, ms.gather_bytes));
    const uint64_t step = p3cfg__sat_add(P3CFG_MEM_WORKSPACE_BYTES, ms.step_bytes);
    const uint64_t live = p3cfg__max_u64(p3cfg__sat_add(sa.stash_bytes, during), step);
    const uint64_t peak = p3cfg__sat_add(state, live);
    const uint64_t reserved =
        p3cfg__sat_add(p3cfg__sat_add(c->gpu.context_bytes, p3cfg__memory_nccl_bytes(plan, m, i)),
                       p3cfg__fw_slack_bytes(plan, peak));
    const uint64_t total = p3cfg__sat_add(peak, reserved);

    p3cfg_stage_memory *s = &stages[i];
    s->stage = i;
    s->layers = plan->stage_layers[i];
    s->params = sp.params;
    s->weights_bytes = ms.weights_bytes;
    s->gradients_bytes = ms.gradients_bytes;
    s->optimizer_bytes = ms.optimizer_bytes;
    s->activations_bytes = sa.stash_bytes;
    /* Whatever the peak holds beyond state and stash (saturation aside, the five sum
     * to peak exactly). */
    s->other_bytes = live == P3CFG_SAT ? P3CFG_SAT : live - p3cfg__min_u64(live, sa.stash_bytes);
    s->peak_bytes = peak;
    s->reserved_bytes = reserved;
    s->in_flight = sa.in_flight > UINT32_MAX ? UINT32_MAX : (uint32_t)sa.in_flight;

    if (peak > out->peak_bytes)
      out->peak_bytes = peak;
    if (i == 0 || total > out->total_bytes) {
      out->total_bytes = total;
      out->reserved_bytes = reserved;
    }
    if (p3cfg__sat_add(total, margin_bytes) > out->capacity_bytes)
      out->fits = 0;
  }
}
