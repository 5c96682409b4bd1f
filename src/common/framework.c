/*
 * framework.c — the rows of framework.h: what Megatron-LM, torchtitan and DeepSpeed can
 * run, each fact with where upstream says it (the mirrors named in docs/frameworks.md:
 * Megatron-LM d98e8a6, torchtitan b5bcd76c, DeepSpeed v0.19.5).
 */
#include "framework.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

#define ALL_OVERLAP                                                                      \
  (P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER | P3CFG_OVERLAP_TP_COMM |     \
   P3CFG_OVERLAP_EP_COMM)
#define GRAD_PARAM (P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER)

static const p3cfg__framework frameworks[P3CFG_FRAMEWORK_COUNT] = {
    /* Megatron-LM: DDP (0), the distributed optimizer (1: --use-distributed-optimizer),
     * gradient sharding (2: Megatron-FSDP, --use-megatron-fsdp
     * --data-parallel-sharding-strategy optim_grads) and FSDP (3: --use-torch-fsdp2).
     * Stages 0, 1 and 2 pipeline: arguments.py refuses --use-torch-fsdp2 with pp > 1 but
     * has no such check for Megatron-FSDP, whose optim_grads reduce-scatters every
     * backward even under no_sync (megatron_fsdp.py: grad_reduce_every_bprop), so no
     * unsharded gradient is kept across micro-batches. Interleaving, CP, EP with ETP, TE's
     * FP8 recipes; every overlap is a flag, none implied. */
    [P3CFG_FRAMEWORK_MEGATRON] = {"megatron", "Megatron-LM (Megatron-Core)",
                                  P3CFG__ZERO_BIT(0) | P3CFG__ZERO_BIT(1) | P3CFG__ZERO_BIT(2) |
                                      P3CFG__ZERO_BIT(3),
                                  P3CFG__ZERO_BIT(0) | P3CFG__ZERO_BIT(1) | P3CFG__ZERO_BIT(2),
                                  ALL_OVERLAP,
                                  {0, 0, 0, 0},
                                  1, 0, 0, 0, 1, 1, 1, 1,
                                  "0 (DDP), 1 (distributed optimizer), 2 (Megatron-FSDP "
                                  "optim_grads) or 3 (FSDP)"},
    /* torchtitan: DDP (dp_shard 1: data_parallel_replicate_degree only) and FSDP2 / HSDP
     * (3; data_parallel_shard_degree, replicate x shard), which it combines with pipeline
     * parallelism keeping parameters unsharded between micro-batches
     * (torchtitan/models/llama3/parallelize.py: reshard_after_forward with pp).
     * DTensor TP always shards norms over the sequence (SequenceParallel), async TP is
     * the `tp` overlap; DDP and FSDP2 overlap their collectives with compute by design.
     * Interleaved schedules (Interleaved1F1B, ZBV...), CP, EP with etp 1, Float8. */
    [P3CFG_FRAMEWORK_TORCHTITAN] = {"torchtitan", "torchtitan (FSDP2 + DTensor)",
                                    P3CFG__ZERO_BIT(0) | P3CFG__ZERO_BIT(3),
                                    P3CFG__ZERO_BIT(0) | P3CFG__ZERO_BIT(3),
                                    P3CFG_OVERLAP_TP_COMM,
                                    {P3CFG_OVERLAP_GRAD_REDUCE, 0, 0, GRAD_PARAM},
                                    1, 1, 1, 1, 1, 1, 0, 1,
                                    "0 (DDP) or 3 (FSDP2 / HSDP)"},
    /* DeepSpeed: ZeRO 1-3 and plain DDP; its pipeline engine (runtime/pipe/engine.py)
     * asserts ZeRO stage < 2 and runs 1F1B without interleaving; Megatron-DeepSpeed
     * brings TP and Megatron's sequence parallelism. overlap_comm (the `grad` overlap)
     * is a flag (default off), ZeRO-3 prefetches parameters itself. Its sequence
     * parallelism (Ulysses) is not ring CP, its MoE is not modelled, no FP8 GEMMs. */
    [P3CFG_FRAMEWORK_DEEPSPEED] = {"deepspeed", "DeepSpeed (Megatron-DeepSpeed)",
                                   P3CFG__ZERO_BIT(0) | P3CFG__ZERO_BIT(1) |
                                       P3CFG__ZERO_BIT(2) | P3CFG__ZERO_BIT(3),
                                   P3CFG__ZERO_BIT(0) | P3CFG__ZERO_BIT(1),
                                   P3CFG_OVERLAP_GRAD_REDUCE,
                                   {0, 0, 0, P3CFG_OVERLAP_PARAM_GATHER},
                                   0, 0, 0, 0, 0, 0, 0, 0,
                                   "0 to 3"},
};

const p3cfg__framework *p3cfg__framework_get(uint32_t f)
{
  return f < P3CFG_FRAMEWORK_COUNT ? &frameworks[f] : NULL;
}

const p3cfg__framework *p3cfg__framework_of(const p3cfg_plan *p)
{
  const p3cfg__framework *fw = p3cfg__framework_get(p->framework);
  return fw ? fw : &frameworks[P3CFG_FRAMEWORK_MEGATRON];
}

void p3cfg__framework_apply(p3cfg_plan *p)
{
  const p3cfg__framework *fw = p3cfg__framework_get(p->framework);
  if (!fw)
    return;
  if (fw->sp_always && p->tp > 1)
    p->sequence_parallel = 1;
  if (p->zero_stage <= 3)
    p->overlap |= fw->overlap_implied[p->zero_stage];
}

P3CFG_API void p3cfg_plan_init_framework(p3cfg_plan *plan, p3cfg_framework f)
{
  if (!plan)
    return;
  p3cfg_plan_init(plan);
  plan->framework = (uint32_t)f;
  const p3cfg__framework *fw = p3cfg__framework_get((uint32_t)f);
  plan->compile = fw && fw->compile; /* torchtitan's benchmarks compile */
}

P3CFG_API const char *p3cfg_framework_name(p3cfg_framework f)
{
  const p3cfg__framework *fw = p3cfg__framework_get((uint32_t)f);
  return fw ? fw->name : "?";
}

P3CFG_API int p3cfg_framework_parse(p3cfg_framework *out, const char *name)
{
  p3cfg__error_clear();
  if (!out || !name)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_framework_parse: NULL argument");
  for (uint32_t f = 0; f < P3CFG_FRAMEWORK_COUNT; f++)
    if (strcmp(name, frameworks[f].name) == 0) {
      *out = (p3cfg_framework)f;
      return P3CFG_OK;
    }
  return p3cfg__error_set(P3CFG_EINVALID,
                          "unknown framework \"%s\": expected megatron, torchtitan or deepspeed",
                          name);
}
