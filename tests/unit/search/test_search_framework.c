/*
 * test_search_framework.c — the plan space of each framework (src/common/framework.c,
 * docs/frameworks.md) as the search walks it and the rules refuse it: Megatron-LM
 * pipelines ZeRO 0-2 (ZeRO 2 is Megatron-FSDP's optim_grads) but not its FSDP (ZeRO 3:
 * --use-torch-fsdp2, which arguments.py refuses with pp > 1); torchtitan pipelines FSDP (ZeRO 3,
 * parameters unsharded between micro-batches) and always shards the sequence with tp > 1;
 * DeepSpeed's pipeline engine runs 1F1B with ZeRO < 2 and no interleaving
 * (runtime/pipe/engine.py); HSDP shards the model state over dp_shard GPUs only; a
 * version-4 options struct searches Megatron-LM plans.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "types.h"

#include "../preset_files.h"

static p3cfg_result *search_for(p3cfg_framework f, const char *model_file,
                                const char *cluster_file, uint32_t pp)
{
  p3cfg_model *m = model(model_file);
  p3cfg_cluster *c = cluster(cluster_file);
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 1000;
  o.place = 0;
  o.framework = (uint32_t)f;
  o.pp = pp;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  return r;
}

Test(search_framework, megatron_plans_pipeline_zero_0_to_2_but_not_fsdp)
{
  p3cfg_result *r = search_for(P3CFG_FRAMEWORK_MEGATRON, "llama3-8b.yaml", "dgx-h100-1n.yaml", 0);
  size_t zero3 = 0, zero2_pp = 0;
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_expect_eq(p->framework, P3CFG_FRAMEWORK_MEGATRON);
    cr_expect(p->pp == 1 || p->zero_stage <= 2, "plan %zu: pp %u zero %u", i, p->pp,
              p->zero_stage);
    cr_expect_eq(p->compile, 0);
    zero3 += p->zero_stage == 3;
    zero2_pp += p->zero_stage == 2 && p->pp > 1;
  }
  cr_expect_gt(zero3, 0, "Megatron's FSDP (ZeRO 3) is searched without pipelining");
  cr_expect_gt(zero2_pp, 0, "Megatron-FSDP's optim_grads (ZeRO 2) is searched with pipelining");
  p3cfg_result_free(r);
}

Test(search_framework, torchtitan_pipelines_fsdp_and_always_shards_the_sequence)
{
  p3cfg_result *r = search_for(P3CFG_FRAMEWORK_TORCHTITAN, "llama3-70b.yaml", "dgx-h100-8n.yaml", 4);
  size_t fsdp_pp = 0;
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_expect_eq(p->framework, P3CFG_FRAMEWORK_TORCHTITAN);
    cr_expect(p->zero_stage == 0 || p->zero_stage == 3, "plan %zu: zero %u", i, p->zero_stage);
    cr_expect(p->tp == 1 || p->sequence_parallel, "plan %zu: tp %u without sp", i, p->tp);
    cr_expect_eq(p->compile, 1, "compiled by default");
    cr_expect(p->zero_stage != 3 || (p->overlap & P3CFG_OVERLAP_PARAM_GATHER),
              "FSDP2 prefetches the next gather");
    fsdp_pp += p->zero_stage == 3;
  }
  cr_expect_gt(fsdp_pp, 0, "torchtitan's FSDP + PP (pp 4) is in the space");
  p3cfg_result_free(r);
}

Test(search_framework, deepspeed_pipelines_without_interleaving_or_zero_2)
{
  p3cfg_result *r = search_for(P3CFG_FRAMEWORK_DEEPSPEED, "llama3-70b.yaml", "dgx-h100-8n.yaml", 4);
  cr_assert_gt(p3cfg_result_count(r), 0);
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_expect_eq(p->virtual_stages, 1, "plan %zu", i);
    cr_expect_leq(p->zero_stage, 1, "plan %zu", i);
  }
  p3cfg_result_free(r);
}

Test(search_framework, hsdp_shards_the_model_state_over_its_group_only)
{
  p3cfg_model *m = model("llama3-70b.yaml");
  p3cfg_cluster *c = cluster("dgx-h100-64n.yaml");
  p3cfg_plan fsdp;
  p3cfg_plan_init_framework(&fsdp, P3CFG_FRAMEWORK_TORCHTITAN);
  fsdp.tp = 8, fsdp.zero_stage = 3, fsdp.recompute = P3CFG_RECOMPUTE_FULL;
  p3cfg_plan hsdp = fsdp;
  hsdp.dp_shard = 8; /* dp 64: 8 replicas of 8-way shards */
  p3cfg_estimate_options eo = P3CFG_ESTIMATE_OPTIONS_INIT;
  eo.with_time = 0;
  p3cfg_result *a = NULL, *b = NULL;
  cr_assert_eq(p3cfg_estimate(&a, m, c, &fsdp, &eo), 0, "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_estimate(&b, m, c, &hsdp, &eo), 0, "%s", p3cfg_error_last()->message);
  const p3cfg_stage_memory *sa = &p3cfg_result_memory(a, 0)->stages[0];
  const p3cfg_stage_memory *sb = &p3cfg_result_memory(b, 0)->stages[0];
  /* 16-bit weights, 32-bit Adam state: each 8x the full-FSDP shard (to rounding). */
  cr_expect_eq((sb->optimizer_bytes + 7) / 8, sa->optimizer_bytes,
               "HSDP over 8 of 64: %llu vs %llu", (unsigned long long)sb->optimizer_bytes,
               (unsigned long long)sa->optimizer_bytes);
  p3cfg_result_free(a);
  p3cfg_result_free(b);
  /* dp_shard must divide dp, and only torchtitan has it. */
  hsdp.dp_shard = 7;
  cr_expect_eq(p3cfg_estimate(&a, m, c, &hsdp, &eo), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "dp_shard 7 does not divide dp 64"), "%s",
            p3cfg_error_last()->message);
  hsdp.dp_shard = 8;
  hsdp.framework = P3CFG_FRAMEWORK_DEEPSPEED;
  hsdp.compile = 0;
  cr_expect_eq(p3cfg_estimate(&a, m, c, &hsdp, &eo), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "deepspeed has no hybrid sharding"), "%s",
            p3cfg_error_last()->message);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search_framework, a_version_4_options_struct_searches_megatron_plans)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  p3cfg_cluster *c = cluster("dgx-h100-1n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.version = 4;
  o.place = 0;
  o.framework = P3CFG_FRAMEWORK_DEEPSPEED; /* past a version-4 struct: never read */
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  cr_expect_eq(p3cfg_result_plan(r, 0)->framework, P3CFG_FRAMEWORK_MEGATRON);
  p3cfg_result_free(r);
  o.version = P3CFG_SEARCH_OPTIONS_VERSION;
  o.framework = 7;
  cr_expect_eq(p3cfg_search(&r, m, c, &o), P3CFG_EINVALID);
  cr_expect(strstr(p3cfg_error_last()->message, "framework must be"), "%s",
            p3cfg_error_last()->message);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
