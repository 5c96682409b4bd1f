/*
 * plan_rules.c — what makes a plan valid. The rules are Megatron-LM's (spec §4): tp
 * divides heads, kv_heads and ffn_hidden; micro_batch*dp divides the global batch;
 * interleaving needs pp > 1 and a number of micro-batches that is a multiple of pp;
 * sequence parallelism needs tp > 1 dividing seq_len. ZeRO stages 2 and 3 shard
 * gradients/parameters per layer and cannot be combined with pipeline parallelism
 * (DeepSpeed rejects it too). Context and expert parallelism follow Megatron-Core
 * (cp_expert_rules, each rule citing where Megatron asserts it).
 * Each rule is written once here; estimate and search both call p3cfg__plan_check.
 */
#include "plan_rules.h"

#include <string.h>

#include "error.h"
#include "exclusion.h"
#include "framework.h"
#include "plan_record.h"
#include "plan_dims.h"
#include "plan_version.h"
#include "precision.h"
#include "recompute_modules.h"

uint64_t p3cfg__cluster_gpus(const p3cfg_cluster *c)
{
  return (uint64_t)c->nodes * c->gpus_per_node;
}

uint64_t p3cfg__plan_gpus(const p3cfg_plan *p)
{
  return (uint64_t)p->dp * p->tp * p3cfg__plan_cp(p) * p->pp;
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

/* Fail with `rule`, formatting the message into the last error only when `explain` is
 * set (the search's fast path never formats a string). */
#define FAIL(rule, ...)                                                                  \
  do {                                                                                   \
    if (explain)                                                                         \
      p3cfg__error_set(P3CFG_EPLAN, __VA_ARGS__);                                        \
    return rule;                                                                         \
  } while (0)

/* Context and expert parallelism, as Megatron-Core checks them (the mirror's
 * megatron/training/arguments.py, megatron/core/transformer/transformer_config.py,
 * moe/moe_layer.py, dot_product_attention.py, parallel_state.py). */
static p3cfg__plan_rule cp_expert_rules(const p3cfg_plan *p, const p3cfg_model *m,
                                        int explain)
{
  const uint32_t cp = p3cfg__plan_cp(p), ep = p3cfg__plan_ep(p), etp = p3cfg__plan_etp(p);
  const uint64_t experts = m->moe.experts;
  /* arguments.py: "num_experts must be non None to use expert model parallelism"; an
   * expert tensor split differing from tp has no experts to split either. */
  if (experts == 0 && ep > 1)
    FAIL(P3CFG_RULE_EP_DENSE, "expert parallelism (ep %u) needs a mixture-of-experts model", ep);
  if (experts == 0 && etp != p->tp)
    FAIL(P3CFG_RULE_EP_DENSE,
         "expert tensor parallelism (etp %u) needs a mixture-of-experts model (a dense "
         "model's etp is its tp %u)",
         etp, p->tp);
  if (experts) {
    /* arguments.py: "Number of experts should be a multiple of expert model parallel_size." */
    if (experts % ep)
      FAIL(P3CFG_RULE_EP_EXPERTS, "ep %u does not divide the %llu experts", ep,
           (unsigned long long)experts);
    /* parallel_state.py: the expert mesh folds a stage's tp*cp*dp ranks as etp*ep*edp. */
    const uint64_t stage = (uint64_t)p->tp * cp * p->dp;
    if (stage % ((uint64_t)ep * etp))
      FAIL(P3CFG_RULE_EP_FOLD,
           "ep*etp = %llu does not divide tp*cp*dp = %llu (the expert layers fold the "
           "same ranks as etp*ep*edp)",
           (unsigned long long)ep * etp, (unsigned long long)stage);
    /* Each expert's linear layers are split etp ways (an even split). */
    if (m->moe.expert_ffn_hidden % etp)
      FAIL(P3CFG_RULE_ETP_FFN, "etp %u does not divide expert_ffn_hidden %llu", etp,
           (unsigned long long)m->moe.expert_ffn_hidden);
    /* transformer_config.py: "Bias in Moe is only supported when ETP==1". */
    if (m->bias && etp != 1)
      FAIL(P3CFG_RULE_ETP_BIAS, "a mixture-of-experts model with biases needs etp 1, got %u",
           etp);
    /* moe_layer.py refuses to train MoE with tensor parallelism without sequence
     * parallelism. */
    if (p->tp > 1 && !p->sequence_parallel)
      FAIL(P3CFG_RULE_MOE_SP,
           "a mixture-of-experts model with tp %u needs sequence parallelism", p->tp);
  }
  if (cp > 1) {
    /* arguments.py: "seq-length should be a multiple of 2 * context-parallel-size" (the
     * causal load balance gives each cp rank two chunks). */
    if (m->seq_len % (2ull * cp))
      FAIL(P3CFG_RULE_CP_SEQ, "context parallelism needs seq_len %llu to be a multiple of "
                              "2*cp = %u",
           (unsigned long long)m->seq_len, 2 * cp);
    /* dot_product_attention.py: "Context parallelism is only supported by
     * TEDotProductAttention!" (the fused, flash attention). */
    if (!m->flash_attention)
      FAIL(P3CFG_RULE_CP_FLASH, "context parallelism (cp %u) needs flash attention", cp);
  }
  return P3CFG_RULE_OK;
}

/* What the plan's framework can run (framework.h): its ZeRO stages, which of them
 * pipeline, interleaving, HSDP, torch.compile, CP, EP, its overlap flags and precisions.
 * Each message names the framework and, where one exists, the framework that can. */
static p3cfg__plan_rule framework_rules(const p3cfg_plan *p, const p3cfg_model *m, int explain)
{
  const p3cfg__framework *fw = p3cfg__framework_get(p->framework);
  if (!fw)
    FAIL(P3CFG_RULE_ENUM, "unknown framework %u (0 megatron, 1 torchtitan, 2 deepspeed)",
         p->framework);
  const uint32_t z = p->zero_stage, bit = P3CFG__ZERO_BIT(z);
  if (!(fw->zero_stages & bit))
    FAIL(P3CFG_RULE_FRAMEWORK, "%s has no ZeRO stage %u (its stages: %s)%s", fw->name, z,
         fw->zero_names,
         z == 2 ? "; Megatron-LM and DeepSpeed have it (--framework megatron or deepspeed)" : "");
  if (p->pp > 1 && !(fw->zero_with_pp & bit))
    FAIL(P3CFG_RULE_ZERO_PP,
         "zero stage %u cannot be combined with pipeline parallelism (pp %u) in %s: %s", z,
         p->pp, fw->name,
         z == 3 ? "parameters would be resharded every micro-batch (torchtitan keeps them "
                  "unsharded between micro-batches: --framework torchtitan)"
         : z == 2 ? "its pipeline does not reduce-scatter the gradients every micro-batch "
                    "(Megatron-FSDP does: --framework megatron)"
                  : "unsupported");
  if (p->virtual_stages > 1 && !fw->interleaved)
    FAIL(P3CFG_RULE_FRAMEWORK,
         "%s's pipeline has no interleaved schedule (virtual_stages %u): use 1", fw->name,
         p->virtual_stages);
  if (p->dp_shard && p->dp_shard != p->dp) {
    if (!fw->hsdp)
      FAIL(P3CFG_RULE_FRAMEWORK, "%s has no hybrid sharding (dp_shard %u of dp %u; torchtitan "
                                 "has: --framework torchtitan)",
           fw->name, p->dp_shard, p->dp);
    if (z != 3)
      FAIL(P3CFG_RULE_FRAMEWORK, "dp_shard %u needs zero stage 3 (FSDP), got %u", p->dp_shard,
           z);
    if (p->dp % p->dp_shard)
      FAIL(P3CFG_RULE_FRAMEWORK, "dp_shard %u does not divide dp %u", p->dp_shard, p->dp);
  }
  if (p->compile > 1)
    FAIL(P3CFG_RULE_ENUM, "compile must be 0 or 1, got %u", p->compile);
  if (p->compile && !fw->compile)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s does not compile the model with torch.compile (torchtitan "
                               "does: --framework torchtitan)",
         fw->name);
  if (fw->sp_always && p->tp > 1 && !p->sequence_parallel)
    FAIL(P3CFG_RULE_FRAMEWORK,
         "%s's tensor parallelism always shards the sequence: tp %u needs sequence parallelism",
         fw->name, p->tp);
  if (p3cfg__plan_cp(p) > 1 && !fw->context_parallel)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s has no ring context parallelism (cp %u)", fw->name,
         p3cfg__plan_cp(p));
  if (p3cfg__plan_ep(p) > 1 && !fw->expert_parallel)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s's expert parallelism is not modelled (ep %u)", fw->name,
         p3cfg__plan_ep(p));
  /* DeepEP and HybridEP are timed as Megatron-Core's flex dispatcher drives them; the
   * other frameworks' expert parallelism is timed with its all-to-all. */
  if (p3cfg__plan_ep(p) > 1 && m->moe.dispatcher != P3CFG_DISPATCH_ALLTOALL &&
      p->framework != P3CFG_FRAMEWORK_MEGATRON)
    FAIL(P3CFG_RULE_FRAMEWORK, "moe.dispatcher %s is timed and exported as Megatron-LM's flex "
                               "token dispatcher (--framework megatron); %s plans are timed with "
                               "the all-to-all dispatcher: set moe.dispatcher alltoall",
         p3cfg__moe_dispatcher_names[m->moe.dispatcher], fw->name);
  if (p3cfg__plan_ep(p) > 1 && p3cfg__plan_etp(p) > 1 && !fw->expert_tp_with_ep)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s does not split experts over tensor parallelism when ep > 1 "
                               "(etp %u): use etp 1",
         fw->name, p3cfg__plan_etp(p));
  const uint32_t allowed = fw->overlap | fw->overlap_implied[z & 3u];
  if (p->overlap & ~allowed) {
    const uint32_t bad = p->overlap & ~allowed;
    FAIL(P3CFG_RULE_FRAMEWORK, "%s has no %s overlap", fw->name,
         bad & P3CFG_OVERLAP_GRAD_REDUCE    ? "gradient-reduce"
         : bad & P3CFG_OVERLAP_PARAM_GATHER ? "parameter-gather"
         : bad & P3CFG_OVERLAP_TP_COMM      ? "tensor-parallel communication"
                                            : "expert all-to-all");
  }
  if (p3cfg__precision_is_low(m->precision) && !fw->low_precision)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s has no low-precision (fp8, mxfp8, nvfp4) GEMMs", fw->name);
  /* Megatron-LM validate_args() at d98e8a6: "--fp8-param-gather only supported with
   * distributed optimizer, torch fsdp2, megatron fsdp, or inference mode". */
  if (m->fp8_param_gather && p->framework == P3CFG_FRAMEWORK_MEGATRON && z == 0)
    FAIL(P3CFG_RULE_FRAMEWORK,
         "fp8_param_gather needs the distributed optimizer or FSDP (zero stage 1-3): "
         "Megatron-LM all-gathers the low-precision weights there, got zero stage 0");
  return P3CFG_RULE_OK;
}

/* Megatron-Core's recompute_modules (transformer_config.py __post_init__): only with
 * selective granularity; mla_up_proj needs multi-latent attention; moe_act (which also
 * needs moe_grouped_gemm, which the Megatron-LM export always sets), moe and
 * shared_experts need an MoE model (shared_experts one with shared experts). Only
 * Megatron-LM has the list: torchtitan's and DeepSpeed's selective recompute is their own. */
static p3cfg__plan_rule recompute_module_rules(const p3cfg_plan *p, const p3cfg_model *m,
                                               int explain)
{
  const uint32_t r = p->recompute_modules;
  if (!r)
    return P3CFG_RULE_OK;
  if (r & ~(uint32_t)P3CFG_RECOMPUTE_MODULE_ALL)
    FAIL(P3CFG_RULE_ENUM, "unknown recompute_modules flags 0x%x", r);
  if (p->recompute != P3CFG_RECOMPUTE_SELECTIVE)
    FAIL(P3CFG_RULE_RECOMPUTE_MODULES, "recompute_modules needs recompute selective, got %s",
         p3cfg_recompute_name(p->recompute));
  if (p->framework != P3CFG_FRAMEWORK_MEGATRON)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s has no recompute_modules (Megatron-LM's "
                               "--recompute-modules): leave them at the default",
         p3cfg_framework_name((p3cfg_framework)p->framework));
  if ((r & P3CFG_RECOMPUTE_MODULE_MLA_UP_PROJ) && m->attention != P3CFG_ATTN_MLA)
    FAIL(P3CFG_RULE_RECOMPUTE_MODULES,
         "recompute module mla_up_proj needs multi-latent attention (attention.kind mla)");
  const uint32_t moe = P3CFG_RECOMPUTE_MODULE_MOE_ACT | P3CFG_RECOMPUTE_MODULE_MOE |
                       P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS;
  if ((r & moe) && !m->moe.experts)
    FAIL(P3CFG_RULE_RECOMPUTE_MODULES,
         "recompute module %s needs a mixture-of-experts model",
         r & P3CFG_RECOMPUTE_MODULE_MOE_ACT ? "moe_act"
         : r & P3CFG_RECOMPUTE_MODULE_MOE   ? "moe"
                                            : "shared_experts");
  if ((r & P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS) && !m->moe.shared_experts)
    FAIL(P3CFG_RULE_RECOMPUTE_MODULES, "recompute module shared_experts needs shared experts "
                                       "(moe.shared_experts > 0)");
  return P3CFG_RULE_OK;
}

/* Megatron-Core's activation offloading (transformer_config.py __post_init__ at d98e8a6):
 * fewer layers than the model has ("CPU offloading can be done only for layers less than
 * num_layers"), no pipeline parallelism, no activation recomputation. Only Megatron-LM
 * has it. */
static p3cfg__plan_rule cpu_offload_rules(const p3cfg_plan *p, const p3cfg_model *m, int explain)
{
  const uint32_t n = p->cpu_offload_layers;
  if (!n)
    return P3CFG_RULE_OK;
  if (p->framework != P3CFG_FRAMEWORK_MEGATRON)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s has no activation offloading (Megatron-LM's "
                               "--cpu-offloading-num-layers)",
         p3cfg_framework_name((p3cfg_framework)p->framework));
  if (n >= m->layers)
    FAIL(P3CFG_RULE_CPU_OFFLOAD, "cpu_offload_layers %u must be less than the model's %llu "
                                 "layers",
         n, (unsigned long long)m->layers);
  if (p->pp > 1)
    FAIL(P3CFG_RULE_CPU_OFFLOAD, "activation offloading (cpu_offload_layers %u) needs pp 1, "
                                 "got %u (Megatron-Core has no offloading with pipelining)",
         n, p->pp);
  if (p->recompute != P3CFG_RECOMPUTE_NONE)
    FAIL(P3CFG_RULE_CPU_OFFLOAD, "activation offloading (cpu_offload_layers %u) needs recompute "
                                 "none, got %s",
         n, p3cfg_recompute_name(p->recompute));
  return P3CFG_RULE_OK;
}

/* Megatron-Core's split accounting (transformer_config.py, transformer_block.py at
 * d98e8a6): known flags, Megatron-LM only, and pipelining (with one stage there is no
 * split to account in). The per-rank counts are checked with the split below. */
static p3cfg__plan_rule split_account_rules(const p3cfg_plan *p, int explain)
{
  if (!p->split_accounts)
    return P3CFG_RULE_OK;
  if (p->split_accounts & ~(uint32_t)(P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS))
    FAIL(P3CFG_RULE_ENUM, "unknown split_accounts flags 0x%x", p->split_accounts);
  if (p->framework != P3CFG_FRAMEWORK_MEGATRON)
    FAIL(P3CFG_RULE_FRAMEWORK, "%s cannot account for the embedding or the loss in its "
                               "pipeline split (Megatron-LM's "
                               "--account-for-embedding-in-pipeline-split)",
         p3cfg_framework_name((p3cfg_framework)p->framework));
  if (p->pp < 2)
    FAIL(P3CFG_RULE_SPLIT, "accounting for the %s in the pipeline split needs pp > 1",
         p3cfg__split_accounts_what(p->split_accounts));
  return P3CFG_RULE_OK;
}

const char *p3cfg__split_accounts_what(uint32_t flags)
{
  flags &= P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS;
  return flags == P3CFG_SPLIT_ACCOUNT_EMBEDDING ? "embedding"
         : flags == P3CFG_SPLIT_ACCOUNT_LOSS    ? "loss"
         : flags                                ? "embedding and the loss"
                                                : "";
}

uint32_t p3cfg__chunk_layers(const p3cfg_plan *p, uint32_t j, uint32_t k)
{
  const uint32_t v = p->virtual_stages ? p->virtual_stages : 1;
  uint32_t n = (p->stage_layers[j] + p3cfg__split_extra(p, j)) / v;
  /* (A plan the rules passed has n >= 1 there; an unchecked one gets 0, not a wrap.) */
  if (n && j == 0 && k == 0 && (p->split_accounts & P3CFG_SPLIT_ACCOUNT_EMBEDDING))
    n--;
  if (n && j + 1 == p->pp && k + 1 == v && (p->split_accounts & P3CFG_SPLIT_ACCOUNT_LOSS))
    n--;
  return n;
}

uint64_t p3cfg__chunk_first_layer(const p3cfg_plan *p, uint32_t j, uint32_t k)
{
  /* Every virtual stage before (j, k) holds its rank's units per chunk; only rank 0's
   * first chunk holds one layer fewer (the last rank's last chunk comes after all). */
  const uint32_t v = p->virtual_stages ? p->virtual_stages : 1;
  uint64_t all = 0, before = 0;
  for (uint32_t i = 0; i < p->pp; i++) {
    const uint64_t units = (p->stage_layers[i] + p3cfg__split_extra(p, i)) / v;
    all += units;
    if (i < j)
      before += units;
  }
  uint64_t first = (uint64_t)k * all + before;
  if ((j || k) && (p->split_accounts & P3CFG_SPLIT_ACCOUNT_EMBEDDING))
    first--;
  return first;
}

/* The rules, in the order they are checked. Each returns its rule id on failure and,
 * when `explain` is set, formats its message into the last error. The search calls this
 * with explain = 0 on every candidate, so the fast path never formats a string. */
static p3cfg__plan_rule check(const p3cfg_plan *p, const p3cfg_model *m,
                              const p3cfg_cluster *c, int explain)
{
  if (p->tp == 0 || p->pp == 0 || p->dp == 0 || p->micro_batch == 0 || p->virtual_stages == 0)
    FAIL(P3CFG_RULE_POSITIVE, "dp, tp, pp, micro_batch and virtual_stages must be positive");
  const uint32_t cp = p3cfg__plan_cp(p);
  const char *const gpus_name = cp > 1 ? "dp*tp*cp*pp" : "dp*tp*pp";
  uint64_t gpus = (uint64_t)p->dp * p->tp * cp * p->pp;
  if (gpus > p3cfg__cluster_gpus(c))
    FAIL(P3CFG_RULE_GPUS, "%s = %llu GPUs, but the cluster has only %llu", gpus_name,
         (unsigned long long)gpus, (unsigned long long)p3cfg__cluster_gpus(c));
  if (c->excluded && gpus > p3cfg__usable_gpus(c, p->tp))
    FAIL(P3CFG_RULE_GPUS,
         "%s = %llu GPUs, but only %llu are usable with tp %u (%llu excluded; TP "
         "groups need whole units of %u GPUs without an excluded one)",
         gpus_name, (unsigned long long)gpus, (unsigned long long)p3cfg__usable_gpus(c, p->tp), p->tp,
         (unsigned long long)c->n_excluded, p3cfg__unit_gpus(c, p->tp));
  if (m->heads % p->tp)
    FAIL(P3CFG_RULE_TP_HEADS, "tp %u does not divide heads %llu", p->tp,
         (unsigned long long)m->heads);
  if (m->kv_heads % p->tp)
    FAIL(P3CFG_RULE_TP_KV_HEADS, "tp %u does not divide kv_heads %llu", p->tp,
         (unsigned long long)m->kv_heads);
  if (m->ffn_hidden % p->tp)
    FAIL(P3CFG_RULE_TP_FFN, "tp %u does not divide ffn_hidden %llu", p->tp,
         (unsigned long long)m->ffn_hidden);
  if (p->sequence_parallel && p->tp < 2)
    FAIL(P3CFG_RULE_SP_TP, "sequence parallelism needs tp > 1");
  /* Megatron scatters the sequence over the tp group and asserts an even split (of each
   * cp rank's part of it with context parallelism). */
  if (p->sequence_parallel && m->seq_len % ((uint64_t)p->tp * cp))
    FAIL(P3CFG_RULE_SP_TP,
         cp > 1 ? "sequence parallelism needs tp %u to divide seq_len %llu / cp %u"
                : "sequence parallelism needs tp %u to divide seq_len %llu",
         p->tp, (unsigned long long)m->seq_len, cp);
  {
    const p3cfg__plan_rule rule = cp_expert_rules(p, m, explain);
    if (rule != P3CFG_RULE_OK)
      return rule;
  }
  if ((unsigned)p->recompute > P3CFG_RECOMPUTE_FULL)
    FAIL(P3CFG_RULE_ENUM, "unknown recompute mode %d", (int)p->recompute);
  if (p->zero_stage > 3)
    FAIL(P3CFG_RULE_ENUM, "zero stage must be 0, 1, 2 or 3, got %u", p->zero_stage);
  if (p->overlap & ~(unsigned)(P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER |
                               P3CFG_OVERLAP_TP_COMM | P3CFG_OVERLAP_EP_COMM))
    FAIL(P3CFG_RULE_ENUM, "unknown overlap flags 0x%x", p->overlap);
  {
    const p3cfg__plan_rule rule = framework_rules(p, m, explain);
    if (rule != P3CFG_RULE_OK)
      return rule;
  }
  {
    const p3cfg__plan_rule rule = recompute_module_rules(p, m, explain);
    if (rule != P3CFG_RULE_OK)
      return rule;
  }
  {
    const p3cfg__plan_rule rule = cpu_offload_rules(p, m, explain);
    if (rule != P3CFG_RULE_OK)
      return rule;
  }
  if ((p->overlap & P3CFG_OVERLAP_PARAM_GATHER) && p->zero_stage == 0)
    FAIL(P3CFG_RULE_OVERLAP, "overlapping the parameter gather needs zero stage 1 or more "
                             "(plain data parallelism gathers nothing)");
  if ((p->overlap & P3CFG_OVERLAP_TP_COMM) && p->tp < 2)
    FAIL(P3CFG_RULE_OVERLAP, "overlapping tensor-parallel communication needs tp > 1");
  /* megatron/training/determinism.py (ARG_VALUES_REQUIRED_FOR_DETERMINISM): tp_comm_overlap
   * must be False under --deterministic-mode. */
  if ((p->overlap & P3CFG_OVERLAP_TP_COMM) && m->deterministic &&
      p->framework == P3CFG_FRAMEWORK_MEGATRON)
    FAIL(P3CFG_RULE_OVERLAP, "overlapping tensor-parallel communication cannot be combined "
                             "with a deterministic model (Megatron-LM's --deterministic-mode "
                             "requires tp_comm_overlap off)");
  /* Megatron-Core's TransformerConfig.__post_init__ for overlap_moe_expert_parallel_comm. */
  if (p->overlap & P3CFG_OVERLAP_EP_COMM) {
    if (p->ep < 2)
      FAIL(P3CFG_RULE_OVERLAP, "overlapping the expert-parallel all-to-alls needs ep > 1");
    if (p->recompute == P3CFG_RECOMPUTE_FULL)
      FAIL(P3CFG_RULE_OVERLAP,
           "overlapping the expert-parallel all-to-alls cannot be combined with full recompute");
    if (p->pp > 1 && p->virtual_stages < 2)
      FAIL(P3CFG_RULE_OVERLAP, "overlapping the expert-parallel all-to-alls with pp %u needs "
                               "interleaving (vpp > 1)",
           p->pp);
    if (m->mtp_layers > 1)
      FAIL(P3CFG_RULE_OVERLAP, "overlapping the expert-parallel all-to-alls allows at most one "
                               "MTP layer, the model has %llu",
           (unsigned long long)m->mtp_layers);
  }
  uint64_t per_step = (uint64_t)p->micro_batch * p->dp;
  if (p->global_batch == 0 || p->global_batch % per_step)
    FAIL(P3CFG_RULE_BATCH, "micro_batch*dp = %llu does not divide global_batch %llu",
         (unsigned long long)per_step, (unsigned long long)p->global_batch);
  uint64_t mb = p->global_batch / per_step;
  if (p->virtual_stages > 1) {
    if (p->pp < 2)
      FAIL(P3CFG_RULE_VPP_PP, "interleaving (virtual_stages %u) needs pp > 1",
           p->virtual_stages);
    if (mb % p->pp)
      FAIL(P3CFG_RULE_VPP_MICROBATCHES,
           "interleaving needs the number of micro-batches (%llu) to be a multiple of pp %u",
           (unsigned long long)mb, p->pp);
  }
  if (p->pp > P3CFG_MAX_PP)
    FAIL(P3CFG_RULE_SPLIT, "pp %u exceeds the supported maximum %u", p->pp, P3CFG_MAX_PP);
  if (p->n_stage_layers != p->pp)
    FAIL(P3CFG_RULE_SPLIT, "stage_layers has %u entries, but pp is %u", p->n_stage_layers,
         p->pp);
  {
    const p3cfg__plan_rule rule = split_account_rules(p, explain);
    if (rule != P3CFG_RULE_OK)
      return rule;
  }
  uint64_t sum = 0;
  for (uint32_t i = 0; i < p->pp; i++) {
    if (p->stage_layers[i] == 0)
      FAIL(P3CFG_RULE_SPLIT, "stage %u has no layers", i);
    const uint32_t extra = p3cfg__split_extra(p, i);
    if (!extra && p->stage_layers[i] % p->virtual_stages)
      FAIL(P3CFG_RULE_SPLIT, "stage %u has %u layers, not a multiple of virtual_stages %u", i,
           p->stage_layers[i], p->virtual_stages);
    if (extra && (p->stage_layers[i] + extra) % p->virtual_stages)
      FAIL(P3CFG_RULE_SPLIT,
           "stage %u has %u layers and accounts for the %s: %u units, not a multiple of "
           "virtual_stages %u",
           i, p->stage_layers[i], p3cfg__split_accounts_what(p3cfg__split_accounts_at(p, i)),
           p->stage_layers[i] + extra, p->virtual_stages);
    sum += p->stage_layers[i];
  }
  if (sum != m->layers)
    FAIL(P3CFG_RULE_SPLIT, "stage_layers add up to %llu, but the model has %llu layers",
         (unsigned long long)sum, (unsigned long long)m->layers);
  return P3CFG_RULE_OK;
}

p3cfg__plan_rule p3cfg__plan_rule_check(const p3cfg_plan *p, const p3cfg_model *m,
                                        const p3cfg_cluster *c)
{
  return check(p, m, c, 0);
}

int p3cfg__plan_check(const p3cfg_plan *p, const p3cfg_model *m, const p3cfg_cluster *c)
{
  return check(p, m, c, 1) == P3CFG_RULE_OK ? P3CFG_OK : P3CFG_EPLAN;
}

const char *const p3cfg__plan_rule_names[P3CFG_RULE_COUNT] = {
      [P3CFG_RULE_OK] = "valid",
      [P3CFG_RULE_POSITIVE] = "a degree is zero",
      [P3CFG_RULE_GPUS] = "more GPUs than the cluster has",
      [P3CFG_RULE_TP_HEADS] = "tp does not divide heads",
      [P3CFG_RULE_TP_KV_HEADS] = "tp does not divide kv_heads",
      [P3CFG_RULE_TP_FFN] = "tp does not divide ffn_hidden",
      [P3CFG_RULE_SP_TP] = "sequence parallelism needs tp > 1 dividing seq_len",
      [P3CFG_RULE_ENUM] = "unknown option value",
      [P3CFG_RULE_ZERO_PP] = "zero stage the framework cannot pipeline",
      [P3CFG_RULE_OVERLAP] = "overlap not applicable",
      [P3CFG_RULE_BATCH] = "micro_batch*dp does not divide global_batch",
      [P3CFG_RULE_VPP_PP] = "interleaving needs pp > 1",
      [P3CFG_RULE_VPP_MICROBATCHES] = "interleaving needs micro-batches to be a multiple of pp",
      [P3CFG_RULE_SPLIT] = "invalid split of layers over stages",
      [P3CFG_RULE_MEMORY] = "does not fit in GPU memory",
      [P3CFG_RULE_WORKSPACE] = "pipeline simulation needs more than 1 GiB of workspace",
      [P3CFG_RULE_EP_DENSE] = "expert parallelism on a dense model",
      [P3CFG_RULE_EP_EXPERTS] = "ep does not divide the experts",
      [P3CFG_RULE_EP_FOLD] = "ep*etp does not divide tp*cp*dp",
      [P3CFG_RULE_ETP_FFN] = "etp does not divide expert_ffn_hidden",
      [P3CFG_RULE_ETP_BIAS] = "mixture of experts with biases needs etp 1",
      [P3CFG_RULE_MOE_SP] = "mixture of experts with tp > 1 needs sequence parallelism",
      [P3CFG_RULE_CP_SEQ] = "context parallelism needs seq_len a multiple of 2*cp",
      [P3CFG_RULE_CP_FLASH] = "context parallelism needs flash attention",
      [P3CFG_RULE_FRAMEWORK] = "not in the framework's plan space",
      [P3CFG_RULE_RECOMPUTE_MODULES] = "recompute module not applicable",
      [P3CFG_RULE_CPU_OFFLOAD] = "activation offloading not applicable",
};

const char *p3cfg__plan_rule_name(p3cfg__plan_rule rule)
{
  return (unsigned)rule < P3CFG_RULE_COUNT ? p3cfg__plan_rule_names[rule] : "unknown rule";
}

void p3cfg__split_balanced_ends(uint32_t pp, uint64_t units, uint64_t *first,
                                uint64_t *last)
{
  if (pp == 1) {
    *first = *last = units;
    return;
  }
  const uint64_t base = units / pp, extra = units % pp;
  /* The middle stages absorb up to pp - 2 extra units; one more goes to the first stage:
   * the last stage also runs the output layer and the loss, the heavier end. */
  *first = base + (extra == pp - 1 ? 1 : 0);
  *last = base;
  if (pp == 2) {
    *first = units - base;
    *last = base;
  }
}

void p3cfg__split_fill(uint32_t *stage_layers, uint32_t pp, uint32_t v, uint64_t units,
                       uint64_t first, uint64_t last)
{
  if (pp == 1) {
    stage_layers[0] = (uint32_t)(units * v);
    return;
  }
  stage_layers[0] = (uint32_t)first;
  stage_layers[pp - 1] = (uint32_t)last;
  if (pp > 2) {
    /* Middle stages share the rest evenly; extras go to the centre, outward. */
    const uint32_t n = pp - 2;
    const uint64_t rest = units - first - last, base = rest / n, extra = rest % n;
    for (uint32_t i = 1; i + 1 < pp; i++)
      stage_layers[i] = (uint32_t)base;
    uint32_t lo = (n - 1) / 2, hi = lo + 1;
    for (uint64_t k = 0; k < extra; k++) {
      uint32_t idx = (k % 2 == 0 || hi >= n) ? lo-- : hi++;
      stage_layers[1 + idx]++;
    }
  }
  for (uint32_t i = 0; i < pp; i++)
    stage_layers[i] *= v;
}

int p3cfg__plan_balanced_split(p3cfg_plan *p, const p3cfg_model *m)
{
  const uint32_t v = p->virtual_stages ? p->virtual_stages : 1;
  if (p->pp == 0 || p->pp > P3CFG_MAX_PP)
    return p3cfg__error_set(P3CFG_EPLAN, "pp must be in [1, %u], got %u", P3CFG_MAX_PP,
                            p->pp);
  /* The embedding and the loss, where the split accounts for them, are layers of it. */
  const uint32_t acc = p->pp > 1 ? p3cfg__split_extra(p, 0) + p3cfg__split_extra(p, p->pp - 1)
                                 : 0;
  const uint64_t total = m->layers + acc;
  if (total % v) {
    if (acc)
      return p3cfg__error_set(P3CFG_EPLAN,
                              "layers %llu plus the %u the split accounts for (%llu) are not "
                              "divisible by virtual_stages %u",
                              (unsigned long long)m->layers, acc, (unsigned long long)total, v);
    return p3cfg__error_set(P3CFG_EPLAN, "layers %llu are not divisible by virtual_stages %u",
                            (unsigned long long)m->layers, v);
  }
  const uint64_t units = total / v; /* layer groups of v, one layer per chunk */
  if (units < p->pp)
    return p3cfg__error_set(P3CFG_EPLAN, "pp %u exceeds the %llu layer%s the model can "
                                         "split into with virtual_stages %u",
                            p->pp, (unsigned long long)units, units == 1 ? "" : "s", v);
  uint64_t first, last;
  p3cfg__split_balanced_ends(p->pp, units, &first, &last);
  p3cfg__split_fill(p->stage_layers, p->pp, v, units, first, last);
  p->n_stage_layers = p->pp;
  if (p->pp > 1 && acc) {
    const uint32_t e = p3cfg__split_extra(p, 0), l = p3cfg__split_extra(p, p->pp - 1);
    if (p->stage_layers[0] <= e || p->stage_layers[p->pp - 1] <= l)
      return p3cfg__error_set(P3CFG_EPLAN, "pp %u leaves the first or last stage no layer "
                                           "beside the embedding or the loss it accounts for",
                              p->pp);
    p->stage_layers[0] -= e;
    p->stage_layers[p->pp - 1] -= l;
  }
  return P3CFG_OK;
}

/* p3cfg_plan_resolve on a current-version plan. */
static int resolve(p3cfg_plan *plan, const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  if (plan->tp == 0 || plan->pp == 0)
    return p3cfg__error_set(P3CFG_EPLAN, "tp and pp must be positive");
  p3cfg__plan_normalise_dims(plan);
  p3cfg__framework_apply(plan);
  if (plan->global_batch == 0)
    plan->global_batch = model->global_batch;
  /* Model parallelism within a replica: tp*cp*pp GPUs (ep and etp fold into them). */
  const uint64_t mp = (uint64_t)plan->tp * plan->cp * plan->pp;
  if (plan->dp == 0 && cluster->excluded) {
    /* GPUs excluded: the largest dp that fits what is left and keeps the global batch. */
    const uint64_t usable = p3cfg__usable_gpus(cluster, plan->tp);
    plan->dp = p3cfg__largest_dp(usable / mp, plan->global_batch, plan->micro_batch);
    if (plan->dp == 0)
      return p3cfg__error_set(P3CFG_EPLAN,
                              "%s = %llu does not fit the %llu usable GPUs (%llu "
                              "excluded) with a dp that divides global_batch %llu",
                              plan->cp > 1 ? "tp*cp*pp" : "tp*pp", (unsigned long long)mp,
                              (unsigned long long)usable,
                              (unsigned long long)cluster->n_excluded,
                              (unsigned long long)plan->global_batch);
  }
  if (plan->dp == 0) {
    uint64_t gpus = p3cfg__cluster_gpus(cluster);
    if (mp > gpus || gpus % mp)
      return p3cfg__error_set(P3CFG_EPLAN,
                              "%s = %llu does not divide the %llu GPUs of the cluster; "
                              "give dp (or --gpus) explicitly",
                              plan->cp > 1 ? "tp*cp*pp" : "tp*pp", (unsigned long long)mp,
                              (unsigned long long)gpus);
    plan->dp = (uint32_t)(gpus / mp);
  }
  if (plan->n_stage_layers == 0) {
    /* Where the layers alone make no even Megatron split (layers % (pp v)) but the
     * layers with the embedding and the loss do, Megatron-Core's accounting, as
     * Megatron-Bridge's recipes set it for exactly such models (126-layer Llama 3.1 405B,
     * 94-layer Qwen3-235B-A22B). Where the layers alone cannot even fill the chunks
     * (layers % v), the accounting of both, or of the embedding, that can. */
    const uint64_t v = plan->virtual_stages, chunks = (uint64_t)plan->pp * v;
    const uint64_t L = model->layers;
    if (!plan->split_accounts && plan->pp > 1 && plan->framework == P3CFG_FRAMEWORK_MEGATRON &&
        L % chunks) {
      if ((L + 2) % chunks == 0 || (L % v && (L + 2) % v == 0))
        plan->split_accounts = P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS;
      else if (L % v && (L + 1) % v == 0)
        plan->split_accounts = P3CFG_SPLIT_ACCOUNT_EMBEDDING;
    }
    int rc = p3cfg__plan_balanced_split(plan, model);
    if (rc)
      return rc;
  }
  return p3cfg__plan_check(plan, model, cluster);
}

P3CFG_API int p3cfg_plan_resolve(p3cfg_plan *plan, const p3cfg_model *model,
                                 const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!plan || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan_resolve: NULL argument");
  /* The caller's plan may be an older, shorter struct: work on a current copy and write
   * back only the fields its version has. */
  p3cfg_plan cur;
  int rc = p3cfg__plan_read(&cur, plan, "p3cfg_plan_resolve");
  if (rc)
    return rc;
  rc = resolve(&cur, model, cluster);
  p3cfg__plan_write(plan, &cur);
  return rc;
}
