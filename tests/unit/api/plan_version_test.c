/*
 * plan_version_test.c — the plan's ABI across versions (API version 4; version 3 of the
 * plan, API 6, appended framework, dp_shard and compile: a version-2 caller is read and
 * written by its prefix too). A caller built
 * against version 1 of p3cfg_plan (before cp, ep and etp) passes a shorter struct: every
 * public entry must read only its fields (cp = ep = 1, etp = tp) and p3cfg_plan_resolve
 * must write back only those, never past the caller's struct. A version-2 plan gets cp,
 * ep and etp normalised (0: 1, 1 and tp).
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "p3cfg.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

/* p3cfg_plan as a program built against P3CFG_PLAN_VERSION 1 declared it. */
typedef struct plan_v1 {
  unsigned version;
  uint32_t dp, tp, pp;
  uint32_t micro_batch;
  uint32_t virtual_stages;
  p3cfg_recompute recompute;
  int sequence_parallel;
  uint32_t zero_stage;
  uint32_t overlap;
  uint64_t global_batch;
  uint32_t n_stage_layers;
  uint32_t stage_layers[P3CFG_MAX_PP];
} plan_v1;

/* The caller's version-1 plan, with bytes after it that no call may touch. */
typedef struct guarded_v1 {
  plan_v1 plan;
  unsigned char guard[64];
} guarded_v1;

static p3cfg_model *model;
static p3cfg_cluster *cluster;

static void setup(void)
{
  cr_assert_eq(p3cfg_model_load(&model, SRC("models/megatron-1.7b.yaml"), NULL), P3CFG_OK);
  cr_assert_eq(p3cfg_cluster_load(&cluster, SRC("clusters/dgx-a100-1n.yaml"), NULL), P3CFG_OK);
}

static void teardown(void)
{
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
}

TestSuite(plan_abi, .init = setup, .fini = teardown);

static void make_v1(guarded_v1 *g, uint32_t tp, uint32_t pp)
{
  memset(g, 0xA5, sizeof *g);
  memset(&g->plan, 0, sizeof g->plan);
  g->plan.version = 1;
  g->plan.tp = tp;
  g->plan.pp = pp;
  g->plan.micro_batch = 1;
  g->plan.virtual_stages = 1;
}

static int guard_intact(const guarded_v1 *g)
{
  for (size_t i = 0; i < sizeof g->guard; i++)
    if (g->guard[i] != 0xA5)
      return 0;
  return 1;
}

Test(plan_abi, the_v1_prefix_is_the_v2_layout)
{
  cr_expect_eq(offsetof(plan_v1, stage_layers), offsetof(p3cfg_plan, stage_layers));
  cr_expect_eq(offsetof(plan_v1, global_batch), offsetof(p3cfg_plan, global_batch));
  cr_expect_geq(offsetof(p3cfg_plan, cp), offsetof(plan_v1, stage_layers) + sizeof(uint32_t) * P3CFG_MAX_PP);
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  cr_expect_eq(p.version, 5);
  cr_expect_eq(P3CFG_PLAN_VERSION, 5);
  cr_expect_eq(P3CFG_API_VERSION, 11); /* 11: p3cfg_plan_model.fp8_recipe, fp8_param_gather */
  cr_expect_eq(p.cpu_offload_layers, 0, "no activation offloading by default");
  cr_expect_eq(p.split_accounts, 0, "a split of transformer layers alone by default");
  cr_expect_eq(p.framework, P3CFG_FRAMEWORK_MEGATRON, "Megatron-LM by default");
  cr_expect_eq(p.dp_shard, 0, "dp_shard 0 means dp");
  cr_expect_eq(p.compile, 0);
  cr_expect_eq(p.cp, 1);
  cr_expect_eq(p.ep, 1);
  cr_expect_eq(p.etp, 0, "etp 0 means tp");
}

Test(plan_abi, resolve_fills_a_v1_plan_without_writing_past_it)
{
  guarded_v1 g;
  make_v1(&g, 2, 2);
  cr_assert_eq(p3cfg_plan_resolve((p3cfg_plan *)&g.plan, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  cr_expect(guard_intact(&g), "p3cfg_plan_resolve wrote past a version-1 plan");
  cr_expect_eq(g.plan.version, 1, "the caller's version stays");
  cr_expect_eq(g.plan.dp, 2, "8 GPUs / (tp 2 * pp 2)");
  cr_expect_eq(g.plan.n_stage_layers, 2);
  cr_expect_eq(g.plan.stage_layers[0] + g.plan.stage_layers[1], 24);
  cr_expect_eq(g.plan.global_batch, 512);
}

Test(plan_abi, resolve_refuses_a_bad_v1_plan_without_writing_past_it)
{
  guarded_v1 g;
  make_v1(&g, 3, 1);
  cr_expect_eq(p3cfg_plan_resolve((p3cfg_plan *)&g.plan, model, cluster), P3CFG_EPLAN);
  cr_expect(guard_intact(&g));
}

Test(plan_abi, estimate_of_a_v1_plan_is_that_of_v2_with_cp_ep_one)
{
  guarded_v1 g;
  make_v1(&g, 2, 1);
  p3cfg_plan v2;
  p3cfg_plan_init(&v2);
  v2.tp = 2;
  p3cfg_result *a = NULL, *b = NULL;
  cr_assert_eq(p3cfg_estimate(&a, model, cluster, (const p3cfg_plan *)&g.plan, NULL), P3CFG_OK,
               "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_estimate(&b, model, cluster, &v2, NULL), P3CFG_OK);
  cr_expect(guard_intact(&g));
  const p3cfg_plan *pa = p3cfg_result_plan(a, 0), *pb = p3cfg_result_plan(b, 0);
  cr_expect_eq(pa->version, P3CFG_PLAN_VERSION, "results hold current plans");
  cr_expect_eq(pa->cp, 1);
  cr_expect_eq(pa->ep, 1);
  cr_expect_eq(pa->etp, 2, "etp of a v1 plan is its tp");
  cr_expect_eq(pa->dp, pb->dp);
  cr_expect_eq(p3cfg_result_memory(a, 0)->peak_bytes, p3cfg_result_memory(b, 0)->peak_bytes);
  cr_expect_eq(p3cfg_result_time(a, 0)->iteration_s, p3cfg_result_time(b, 0)->iteration_s);
  p3cfg_result_free(a);
  p3cfg_result_free(b);
}

Test(plan_abi, resolve_normalises_cp_ep_etp)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 4;
  p.cp = 0;
  p.ep = 0;
  p.etp = 0;
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  cr_expect_eq(p.cp, 1);
  cr_expect_eq(p.ep, 1);
  cr_expect_eq(p.etp, 4, "etp of a dense model is tp");
  cr_expect_eq(p.dp, 2);
}

Test(plan_abi, resolve_counts_cp_in_the_gpus)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 2;
  p.cp = 2;
  /* megatron-1.7b has no flash attention, which context parallelism needs */
  cr_expect_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "flash attention"));
  cr_expect_eq(p.dp, 2, "8 GPUs / (tp 2 * cp 2), written back before the check");
}

/* p3cfg_plan as a program built against P3CFG_PLAN_VERSION 2 declared it (before the
 * framework, dp_shard and compile of version 3): the bytes of its prefix, with bytes after
 * it that no call may touch. */
typedef struct guarded_v2 {
  _Alignas(p3cfg_plan) unsigned char plan[offsetof(p3cfg_plan, framework)];
  unsigned char guard[64];
} guarded_v2;

static void make_v2(guarded_v2 *g, uint32_t tp, uint32_t pp, uint32_t zero)
{
  p3cfg_plan p;
  memset(&p, 0, sizeof p);
  p.version = 2;
  p.tp = tp;
  p.pp = pp;
  p.micro_batch = 1;
  p.virtual_stages = 1;
  p.zero_stage = zero;
  memset(g, 0xA5, sizeof *g);
  memcpy(g->plan, &p, sizeof g->plan);
}

/* The caller's fields back as a full plan (the version-3 fields left 0). */
static p3cfg_plan read_v2(const guarded_v2 *g)
{
  p3cfg_plan p;
  memset(&p, 0, sizeof p);
  memcpy(&p, g->plan, sizeof g->plan);
  return p;
}

Test(plan_abi, resolve_fills_a_v2_plan_without_writing_past_it)
{
  guarded_v2 g;
  make_v2(&g, 2, 2, 1);
  cr_assert_eq(p3cfg_plan_resolve((p3cfg_plan *)(void *)g.plan, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  for (size_t i = 0; i < sizeof g.guard; i++)
    cr_assert_eq(g.guard[i], 0xA5, "p3cfg_plan_resolve wrote past a version-2 plan");
  const p3cfg_plan p = read_v2(&g);
  cr_expect_eq(p.version, 2);
  cr_expect_eq(p.dp, 2);
  cr_expect_eq(p.cp, 1);
  cr_expect_eq(p.etp, 2, "etp 0 becomes tp");
}

Test(plan_abi, a_v2_plan_is_a_megatron_plan)
{
  /* Version 2 had no framework: its ZeRO 3 with pp is Megatron-LM's, which refuses it
   * (torchtitan would run it). */
  guarded_v2 g;
  make_v2(&g, 1, 2, 3);
  cr_assert_eq(p3cfg_plan_resolve((p3cfg_plan *)(void *)g.plan, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "pipeline parallelism (pp 2) in megatron") !=
                NULL,
            "%s", p3cfg_error_last()->message);
}
