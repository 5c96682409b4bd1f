/*
 * plan_rules.h — the validity rules of a plan (spec §4), each written once, and the
 * completion of a partly given plan (dp, stage split, global batch).
 */
#ifndef P3CFG_PLAN_RULES_H
#define P3CFG_PLAN_RULES_H

#include "types.h"

/* Total GPUs of a cluster. */
uint64_t p3cfg__cluster_gpus(const p3cfg_cluster *c);

/* GPUs of a plan: dp*tp*cp*pp (cp 0 counts as 1). */
uint64_t p3cfg__plan_gpus(const p3cfg_plan *p);

/* Micro-batches per pipeline per step: global_batch / (micro_batch * dp). */
uint64_t p3cfg__plan_microbatches(const p3cfg_plan *p);

/* The rules a plan can break (p3cfg__plan_rule_name gives each a short name). The
 * search counts rejections per rule; RULE_MEMORY is the estimator's, not checked here. */
typedef enum p3cfg__plan_rule {
  P3CFG_RULE_OK = 0,
  P3CFG_RULE_POSITIVE,
  P3CFG_RULE_GPUS,
  P3CFG_RULE_TP_HEADS,
  P3CFG_RULE_TP_KV_HEADS,
  P3CFG_RULE_TP_FFN,
  P3CFG_RULE_SP_TP,
  P3CFG_RULE_ENUM,
  P3CFG_RULE_ZERO_PP,
  P3CFG_RULE_OVERLAP,
  P3CFG_RULE_BATCH,
  P3CFG_RULE_VPP_PP,
  P3CFG_RULE_VPP_MICROBATCHES,
  P3CFG_RULE_SPLIT,
  P3CFG_RULE_MEMORY,
  P3CFG_RULE_WORKSPACE, /* the time model's workspace limit (perf.h), checked by the search */
  /* Context and expert parallelism (issue 16), Megatron-Core's rules: */
  P3CFG_RULE_EP_DENSE,    /* ep > 1 or etp != tp on a dense model */
  P3CFG_RULE_EP_EXPERTS,  /* ep does not divide the experts */
  P3CFG_RULE_EP_FOLD,     /* ep*etp does not divide tp*cp*dp */
  P3CFG_RULE_ETP_FFN,     /* etp does not divide expert_ffn_hidden */
  P3CFG_RULE_ETP_BIAS,    /* MoE with biases needs etp 1 */
  P3CFG_RULE_MOE_SP,      /* MoE with tp > 1 needs sequence parallelism */
  P3CFG_RULE_CP_SEQ,      /* seq_len not a multiple of 2*cp */
  P3CFG_RULE_CP_FLASH,    /* cp > 1 without flash attention */
  /* The framework (issue 15, framework.h): */
  P3CFG_RULE_FRAMEWORK,   /* a knob the plan's framework does not have */
  P3CFG_RULE_RECOMPUTE_MODULES, /* a selective-recompute module the plan cannot have */
  P3CFG_RULE_CPU_OFFLOAD, /* activation offloading with pp > 1, recompute or every layer */
  P3CFG_RULE_COUNT
} p3cfg__plan_rule;

const char *p3cfg__plan_rule_name(p3cfg__plan_rule rule);
extern const char *const p3cfg__plan_rule_names[P3CFG_RULE_COUNT];

/* The first rule a complete plan breaks, without touching the last error (the search's
 * fast path). */
p3cfg__plan_rule p3cfg__plan_rule_check(const p3cfg_plan *p, const p3cfg_model *m,
                                        const p3cfg_cluster *c);

/* Check every rule of a complete plan (dp, global_batch and the split all given) and
 * return 0, or P3CFG_EPLAN with the failed rule in the last error. Allocation-free:
 * the search calls it on every candidate. */
int p3cfg__plan_check(const p3cfg_plan *p, const p3cfg_model *m, const p3cfg_cluster *c);

/* Layer-group units (groups of virtual_stages layers) of the first and last stage in
 * the balanced split of `units` over pp ranks. */
void p3cfg__split_balanced_ends(uint32_t pp, uint64_t units, uint64_t *first, uint64_t *last);
/* stage_layers of a split whose first and last stages hold `first` and `last` units and
 * whose middle stages share the rest evenly (extras centre-outward); times v. */
void p3cfg__split_fill(uint32_t *stage_layers, uint32_t pp, uint32_t v, uint64_t units,
                       uint64_t first, uint64_t last);

/* The P3CFG_SPLIT_ACCOUNT_* flags rank j accounts for (the embedding on rank 0, the loss
 * on the last rank). */
static inline uint32_t p3cfg__split_accounts_at(const p3cfg_plan *p, uint32_t j)
{
  return (j == 0 ? p->split_accounts & P3CFG_SPLIT_ACCOUNT_EMBEDDING : 0u) |
         (j + 1 == p->pp ? p->split_accounts & P3CFG_SPLIT_ACCOUNT_LOSS : 0u);
}
/* What split-accounting flags name, for messages: "embedding", "loss", "embedding and the
 * loss" ("" for none). Static. */
const char *p3cfg__split_accounts_what(uint32_t flags);
/* Split accounting (p3cfg_plan.split_accounts, Megatron-Core's
 * account_for_{embedding,loss}_in_pipeline_split): the units rank j's split counts beyond
 * its transformer layers, 0, 1 or (pp 1) 2. */
static inline uint32_t p3cfg__split_extra(const p3cfg_plan *p, uint32_t j)
{
  const uint32_t a = p3cfg__split_accounts_at(p, j);
  return (a & 1u) + ((a >> 1) & 1u);
}

/* Transformer layers of rank j's chunk k (virtual stage k*pp + j): stage_layers[j] plus
 * what the rank accounts for, over virtual_stages, less the accounted unit in rank 0's
 * first chunk and the last rank's last chunk (transformer_block.py
 * get_num_layers_to_build). */
uint32_t p3cfg__chunk_layers(const p3cfg_plan *p, uint32_t j, uint32_t k);
/* Index in the model of the first layer of rank j's chunk k: every layer of the virtual
 * stages before it (Megatron-LM's interleaved assignment). */
uint64_t p3cfg__chunk_first_layer(const p3cfg_plan *p, uint32_t j, uint32_t k);

/* Fill stage_layers with the balanced split of m->layers over p->pp ranks (multiples
 * of virtual_stages; extra layers go to the middle stages, so the first and last
 * stages, which also hold the embedding and the output layer, stay lightest; when an
 * end must take one, the first does, the last running the output layer and loss). With
 * split_accounts, the embedding and/or loss are units of that split and the ends hold
 * their transformer layers less those.
 * Returns 0, or P3CFG_EPLAN when no such split exists. */
int p3cfg__plan_balanced_split(p3cfg_plan *p, const p3cfg_model *m);

#endif
