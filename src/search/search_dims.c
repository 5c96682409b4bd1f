/*
 * search_dims.c — the values of context, expert and expert-tensor parallelism a search
 * tries (docs/search.md, "Context and expert parallelism"). cp: the options' value, else
 * 1, 2, 4 and 8 when the model's sequence is at least 16384 tokens long (ring attention
 * pays for itself only on long sequences), else 1. ep: the options' value, else the
 * divisors of a mixture-of-experts model's experts, else 1. etp: the options' value, else
 * 1 and tp for a mixture-of-experts model (Megatron-Core's two common choices), else tp.
 * A searched (ep, etp) that does not fold into the stage's tp*cp*dp ranks is skipped
 * before the rules; a value the caller fixed is always tried, so that the rule that
 * rejects it is counted and named.
 */
#include "search_internal.h"

#include "plan_dims.h"

/* The longest sequence for which cp is left at 1 unless asked for. */
#define CP_SEARCH_MIN_SEQ 16384u

void p3cfg__search_dims_init(search_ctx *ctx)
{
  const p3cfg_search_options *o = &ctx->opts;
  const p3cfg_model *m = ctx->model;
  ctx->n_cps = 0;
  if (o->cp) {
    ctx->cps[ctx->n_cps++] = o->cp;
  } else if (m->seq_len >= CP_SEARCH_MIN_SEQ) {
    for (uint32_t cp = 1; cp <= 8; cp *= 2)
      ctx->cps[ctx->n_cps++] = cp;
  } else {
    ctx->cps[ctx->n_cps++] = 1;
  }
  ctx->n_eps = 0;
  if (o->ep)
    ctx->eps[ctx->n_eps++] = o->ep;
  else if (m->moe.experts)
    ctx->n_eps = p3cfg__divisors(m->moe.experts, m->moe.experts, ctx->eps, MAX_DIVISORS);
  else
    ctx->eps[ctx->n_eps++] = 1;
}

size_t p3cfg__search_expert_pairs(const search_ctx *ctx, const p3cfg_plan *plan,
                                  uint32_t pairs[][2])
{
  const p3cfg_search_options *o = &ctx->opts;
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
      pairs[n][0] = ctx->eps[a];
      pairs[n][1] = etps[b];
      n++;
    }
  return n;
}
