/*
 * search_dims.c — the values of context, expert and expert-tensor parallelism a search
 * tries (docs/search.md, "Context and expert parallelism"). cp: the options' value, else
 * 1, 2, 4 and 8 when the model's sequence is at least 16384 tokens long (ring attention
 * pays for itself only on long sequences), else 1. ep: the options' value, else the
 * divisors of a mixture-of-experts model's experts, else 1. etp: the options' value, else
 * 1 and tp for a mixture-of-experts model (Megatron-Core's two common choices), else tp.
 * A searched (ep, etp) that does not fold into the stage's tp*cp*dp ranks is skipped
 * before the rules; a value the caller fixed is always tried, so that the rule that
 * rejects it is counted and named. The framework (framework.h) limits them: no cp or ep
 * where it has none, etp 1 with ep > 1 where its experts are not tensor-parallel. Its
 * data-parallel sharding: FSDP over all of dp, and HSDP within a node where it has HSDP;
 * torch.compile on by default where it compiles.
 */
#include "search_internal.h"

#include "framework.h"
#include "plan_dims.h"

/* The longest sequence for which cp is left at 1 unless asked for. */
#define CP_SEARCH_MIN_SEQ 16384u

void p3cfg__search_dims_init(search_ctx *ctx)
{
  const p3cfg_search_options *o = &ctx->opts;
  const p3cfg_model *m = ctx->model;
  const p3cfg__framework *fw = p3cfg__framework_get(o->framework);
  ctx->n_cps = 0;
  if (o->cp) {
    ctx->cps[ctx->n_cps++] = o->cp;
  } else if (m->seq_len >= CP_SEARCH_MIN_SEQ && fw->context_parallel) {
    for (uint32_t cp = 1; cp <= 8; cp *= 2)
      ctx->cps[ctx->n_cps++] = cp;
  } else {
    ctx->cps[ctx->n_cps++] = 1;
  }
  ctx->n_eps = 0;
  if (o->ep)
    ctx->eps[ctx->n_eps++] = o->ep;
  else if (m->moe.experts && fw->expert_parallel)
    ctx->n_eps = p3cfg__divisors(m->moe.experts, m->moe.experts, ctx->eps, MAX_DIVISORS);
  else
    ctx->eps[ctx->n_eps++] = 1;
}

size_t p3cfg__search_expert_pairs(const search_ctx *ctx, const p3cfg_plan *plan,
                                  uint32_t pairs[][2])
{
  const p3cfg_search_options *o = &ctx->opts;
  const p3cfg__framework *fw = p3cfg__framework_of(plan);
  const uint64_t stage = (uint64_t)plan->tp * p3cfg__plan_cp(plan) * plan->dp;
  uint32_t etps[2];
  size_t n_etp = 0;
  if (o->etp)
    etps[n_etp++] = o->etp;
  else if (ctx->model->moe.experts && plan->tp > 1)
    etps[n_etp++] = 1, etps[n_etp++] = plan->tp;
  else
    etps[n_etp++] = ctx->model->moe.experts ? 1 : plan->tp;
  size_t n = 0;
  for (size_t a = 0; a < ctx->n_eps; a++)
    for (size_t b = 0; b < n_etp; b++) {
      const uint64_t fold = (uint64_t)ctx->eps[a] * etps[b];
      if (!o->ep && !o->etp && (fold > stage || stage % fold))
        continue;
      if (!o->etp && ctx->eps[a] > 1 && etps[b] > 1 && !fw->expert_tp_with_ep)
        continue; /* the framework's experts are not tensor-parallel with ep > 1 */
      pairs[n][0] = ctx->eps[a];
      pairs[n][1] = etps[b];
      n++;
    }
  return n;
}

size_t p3cfg__search_dp_shards(const search_ctx *ctx, const p3cfg_plan *plan,
                               uint32_t shards[2])
{
  const p3cfg_search_options *o = &ctx->opts;
  size_t n = 0;
  shards[n++] = o->dp_shard; /* the caller's, or 0: FSDP over all of dp */
  if (o->dp_shard || !p3cfg__framework_of(plan)->hsdp)
    return n;
  /* HSDP within a node: the shard group holds the data-parallel ranks of one node
   * (gpus_per_node / (tp*cp) of them), replicated across nodes. */
  const uint64_t model_ranks = (uint64_t)plan->tp * p3cfg__plan_cp(plan);
  const uint32_t gpn = ctx->cluster->gpus_per_node;
  if (model_ranks < gpn && gpn % model_ranks == 0) {
    const uint32_t in_node = (uint32_t)(gpn / model_ranks);
    if (in_node > 1 && in_node < plan->dp && plan->dp % in_node == 0)
      shards[n++] = in_node;
  }
  return n;
}

uint32_t p3cfg__search_compile(const p3cfg_search_options *o)
{
  if (!p3cfg__framework_get(o->framework)->compile)
    return 0;
  return o->compile < 0 ? 1u : (uint32_t)o->compile;
}
