/*
 * plan_rules.c — what makes a plan valid. The rules are Megatron-LM's (spec §4): tp
 * divides heads, kv_heads and ffn_hidden; micro_batch*dp divides the global batch;
 * interleaving needs pp > 1 and a number of micro-batches that is a multiple of pp;
 * sequence parallelism needs tp > 1. ZeRO stages 2 and 3 shard gradients/parameters per
 * layer and cannot be combined with pipeline parallelism (DeepSpeed rejects it too).
 * Each rule is written once here; estimate and search both call p3cfg__plan_check.
 */
#include "plan_rules.h"

#include <string.h>

#include "error.h"

uint64_t p3cfg__cluster_gpus(const p3cfg_cluster *c)
{
  return (uint64_t)c->nodes * c->gpus_per_node;
}

uint64_t p3cfg__plan_microbatches(const p3cfg_plan *p)
{
  return p->global_batch / ((uint64_t)p->micro_batch * p->dp);
}

static const char *recompute_names[] = {"none", "selective", "full"};

P3CFG_API const char *p3cfg_recompute_name(p3cfg_recompute r)
{
  return (unsigned)r < 3 ? recompute_names[r] : "invalid";
}

P3CFG_API int p3cfg_recompute_parse(p3cfg_recompute *out, const char *name)
{
  p3cfg__error_clear();
  if (!out || !name)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_recompute_parse: NULL argument");
  for (unsigned i = 0; i < 3; i++)
    if (strcmp(name, recompute_names[i]) == 0) {
      *out = (p3cfg_recompute)i;
      return P3CFG_OK;
    }
  return p3cfg__error_set(P3CFG_EINVALID,
                          "recompute must be none, selective or full, got \"%s\"", name);
}

P3CFG_API void p3cfg_plan_init(p3cfg_plan *plan)
{
  if (plan) {
    static const p3cfg_plan init = P3CFG_PLAN_INIT;
    *plan = init;
  }
}

int p3cfg__plan_check(const p3cfg_plan *p, const p3cfg_model *m, const p3cfg_cluster *c)
{
  if (p->tp == 0 || p->pp == 0 || p->dp == 0 || p->micro_batch == 0 || p->virtual_stages == 0)
    return p3cfg__error_set(P3CFG_EPLAN, "dp, tp, pp, micro_batch and virtual_stages must "
                                         "be positive");
  uint64_t gpus = (uint64_t)p->dp * p->tp * p->pp;
  if (gpus > p3cfg__cluster_gpus(c))
    return p3cfg__error_set(P3CFG_EPLAN,
                            "dp*tp*pp = %llu GPUs, but the cluster has only %llu",
                            (unsigned long long)gpus,
                            (unsigned long long)p3cfg__cluster_gpus(c));
  if (m->heads % p->tp)
    return p3cfg__error_set(P3CFG_EPLAN, "tp %u does not divide heads %llu", p->tp,
                            (unsigned long long)m->heads);
  if (m->kv_heads % p->tp)
    return p3cfg__error_set(P3CFG_EPLAN, "tp %u does not divide kv_heads %llu", p->tp,
                            (unsigned long long)m->kv_heads);
  if (m->ffn_hidden % p->tp)
    return p3cfg__error_set(P3CFG_EPLAN, "tp %u does not divide ffn_hidden %llu", p->tp,
                            (unsigned long long)m->ffn_hidden);
  if (p->sequence_parallel && p->tp < 2)
    return p3cfg__error_set(P3CFG_EPLAN, "sequence parallelism needs tp > 1");
  if ((unsigned)p->recompute > P3CFG_RECOMPUTE_FULL)
    return p3cfg__error_set(P3CFG_EPLAN, "unknown recompute mode %d", (int)p->recompute);
  if (p->zero_stage > 3)
    return p3cfg__error_set(P3CFG_EPLAN, "zero stage must be 0, 1, 2 or 3, got %u",
                            p->zero_stage);
  if (p->zero_stage >= 2 && p->pp > 1)
    return p3cfg__error_set(P3CFG_EPLAN,
                            "zero stage %u cannot be combined with pipeline parallelism "
                            "(pp %u): gradients and parameters would be resharded every "
                            "micro-batch",
                            p->zero_stage, p->pp);
  if (p->overlap & ~(unsigned)(P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER |
                               P3CFG_OVERLAP_TP_COMM))
    return p3cfg__error_set(P3CFG_EPLAN, "unknown overlap flags 0x%x", p->overlap);
  if ((p->overlap & P3CFG_OVERLAP_PARAM_GATHER) && p->zero_stage == 0)
    return p3cfg__error_set(P3CFG_EPLAN, "overlapping the parameter gather needs zero stage "
                                         "1 or more (plain data parallelism gathers nothing)");
  if ((p->overlap & P3CFG_OVERLAP_TP_COMM) && p->tp < 2)
    return p3cfg__error_set(P3CFG_EPLAN, "overlapping tensor-parallel communication needs "
                                         "tp > 1");
  uint64_t per_step = (uint64_t)p->micro_batch * p->dp;
  if (p->global_batch == 0 || p->global_batch % per_step)
    return p3cfg__error_set(P3CFG_EPLAN,
                            "micro_batch*dp = %llu does not divide global_batch %llu",
                            (unsigned long long)per_step, (unsigned long long)p->global_batch);
  uint64_t mb = p->global_batch / per_step;
  if (p->virtual_stages > 1) {
    if (p->pp < 2)
      return p3cfg__error_set(P3CFG_EPLAN, "interleaving (virtual_stages %u) needs pp > 1",
                              p->virtual_stages);
    if (mb % p->pp)
      return p3cfg__error_set(P3CFG_EPLAN,
                              "interleaving needs the number of micro-batches (%llu) to be a "
                              "multiple of pp %u",
                              (unsigned long long)mb, p->pp);
  }
  if (p->pp > P3CFG_MAX_PP)
    return p3cfg__error_set(P3CFG_EPLAN, "pp %u exceeds the supported maximum %u", p->pp,
                            P3CFG_MAX_PP);
  if (p->n_stage_layers != p->pp)
    return p3cfg__error_set(P3CFG_EPLAN, "stage_layers has %u entries, but pp is %u",
                            p->n_stage_layers, p->pp);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < p->pp; i++) {
    if (p->stage_layers[i] == 0)
      return p3cfg__error_set(P3CFG_EPLAN, "stage %u has no layers", i);
    if (p->stage_layers[i] % p->virtual_stages)
      return p3cfg__error_set(P3CFG_EPLAN,
                              "stage %u has %u layers, not a multiple of virtual_stages %u", i,
                              p->stage_layers[i], p->virtual_stages);
    sum += p->stage_layers[i];
  }
  if (sum != m->layers)
    return p3cfg__error_set(P3CFG_EPLAN, "stage_layers add up to %llu, but the model has "
                                         "%llu layers",
                            (unsigned long long)sum, (unsigned long long)m->layers);
  return P3CFG_OK;
}

int p3cfg__plan_balanced_split(p3cfg_plan *p, const p3cfg_model *m)
{
  const uint32_t v = p->virtual_stages ? p->virtual_stages : 1;
  if (p->pp == 0 || p->pp > P3CFG_MAX_PP)
    return p3cfg__error_set(P3CFG_EPLAN, "pp must be in [1, %u], got %u", P3CFG_MAX_PP,
                            p->pp);
  if (m->layers % v)
    return p3cfg__error_set(P3CFG_EPLAN, "layers %llu are not divisible by virtual_stages %u",
                            (unsigned long long)m->layers, v);
  uint64_t units = m->layers / v; /* layer groups of v, one per chunk */
  if (units < p->pp)
    return p3cfg__error_set(P3CFG_EPLAN, "pp %u exceeds the %llu layer%s the model can "
                                         "split into with virtual_stages %u",
                            p->pp, (unsigned long long)units, units == 1 ? "" : "s", v);
  uint64_t base = units / p->pp, extra = units % p->pp;
  /* Extra units go to the middle stages, outward from the centre. */
  for (uint32_t i = 0; i < p->pp; i++)
    p->stage_layers[i] = (uint32_t)(base * v);
  uint32_t lo = (p->pp - 1) / 2, hi = lo + 1;
  for (uint64_t k = 0; k < extra; k++) {
    uint32_t idx;
    if (k % 2 == 0 || hi >= p->pp)
      idx = lo--;
    else
      idx = hi++;
    p->stage_layers[idx] += v;
  }
  p->n_stage_layers = p->pp;
  return P3CFG_OK;
}

P3CFG_API int p3cfg_plan_resolve(p3cfg_plan *plan, const p3cfg_model *model,
                                 const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!plan || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan_resolve: NULL argument");
  if (plan->version != P3CFG_PLAN_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan: version %u, expected %u",
                            plan->version, P3CFG_PLAN_VERSION);
  if (plan->tp == 0 || plan->pp == 0)
    return p3cfg__error_set(P3CFG_EPLAN, "tp and pp must be positive");
  if (plan->dp == 0) {
    uint64_t gpus = p3cfg__cluster_gpus(cluster), mp = (uint64_t)plan->tp * plan->pp;
    if (mp > gpus || gpus % mp)
      return p3cfg__error_set(P3CFG_EPLAN,
                              "tp*pp = %llu does not divide the %llu GPUs of the cluster; "
                              "give dp (or --gpus) explicitly",
                              (unsigned long long)mp, (unsigned long long)gpus);
    plan->dp = (uint32_t)(gpus / mp);
  }
  if (plan->global_batch == 0)
    plan->global_batch = model->global_batch;
  if (plan->n_stage_layers == 0) {
    int rc = p3cfg__plan_balanced_split(plan, model);
    if (rc)
      return rc;
  }
  return p3cfg__plan_check(plan, model, cluster);
}
