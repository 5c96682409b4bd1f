/*
 * plan_rules_cp_ep_test.c — the validity rules of context, expert and expert-tensor
 * parallelism (plan_rules.c, Megatron-Core's asserts), each with its rule id and message.
 * The MoE model is Mixtral 8x7B's shape (mistralai/Mixtral-8x7B-v0.1 config.json: hidden
 * 4096, 32 layers, 32 heads, 8 kv heads, intermediate 14336, 8 local experts, 2 per
 * token) over Llama 3 8B's preset (the same dense dimensions), set in the struct since
 * the model parser's moe: block is another change.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "error.h"
#include "plan_rules.h"
#include "types.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

static p3cfg_model *dense, *moe;
static p3cfg_cluster *cluster;

static void setup(void)
{
  cr_assert_eq(p3cfg_model_load(&dense, SRC("models/llama3-8b.yaml"), NULL), P3CFG_OK);
  cr_assert_eq(p3cfg_model_load(&moe, SRC("models/llama3-8b.yaml"), NULL), P3CFG_OK);
  moe->moe.experts = 8;
  moe->moe.top_k = 2;
  moe->moe.expert_ffn_hidden = 14336;
  cr_assert_eq(p3cfg_cluster_load(&cluster, SRC("clusters/dgx-h100-8n.yaml"), NULL), P3CFG_OK);
}

static void teardown(void)
{
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(dense);
  p3cfg_model_free(moe);
}

TestSuite(plan_rules, .init = setup, .fini = teardown);

/* A complete plan on 64 GPUs: tp, cp, dp, pp with pp dividing 32 layers evenly. */
static p3cfg_plan plan(uint32_t tp, uint32_t cp, uint32_t dp, uint32_t ep, uint32_t etp, int sp)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = tp, p.cp = cp, p.dp = dp, p.pp = 1, p.ep = ep, p.etp = etp;
  p.sequence_parallel = sp;
  p.global_batch = 512;
  p.n_stage_layers = 1;
  p.stage_layers[0] = 32;
  return p;
}

static void expect_rule(const p3cfg_plan *p, const p3cfg_model *m, p3cfg__plan_rule want,
                        const char *words)
{
  cr_expect_eq(p3cfg__plan_rule_check(p, m, cluster), want, "rule %s, got %s",
               p3cfg__plan_rule_name(want), p3cfg__plan_rule_name(p3cfg__plan_rule_check(p, m, cluster)));
  const int rc = p3cfg__plan_check(p, m, cluster);
  if (want == P3CFG_RULE_OK) {
    cr_expect_eq(rc, P3CFG_OK, "%s", p3cfg_error_last()->message);
  } else {
    cr_expect_eq(rc, P3CFG_EPLAN);
    cr_expect(strstr(p3cfg_error_last()->message, words), "message '%s' lacks '%s'",
              p3cfg_error_last()->message, words);
  }
}

Test(plan_rules, megatron_expert_plans_pass)
{
  const p3cfg_plan a = plan(2, 1, 32, 8, 1, 1); /* ep 8 etp 1: edp 8 */
  expect_rule(&a, moe, P3CFG_RULE_OK, "");
  const p3cfg_plan b = plan(4, 2, 8, 4, 4, 1); /* etp = tp */
  expect_rule(&b, moe, P3CFG_RULE_OK, "");
  const p3cfg_plan c = plan(1, 1, 64, 8, 1, 0); /* tp 1 needs no sp */
  expect_rule(&c, moe, P3CFG_RULE_OK, "");
}

Test(plan_rules, expert_parallelism_needs_experts)
{
  const p3cfg_plan a = plan(1, 1, 64, 2, 1, 0);
  expect_rule(&a, dense, P3CFG_RULE_EP_DENSE, "ep 2");
  const p3cfg_plan b = plan(2, 1, 32, 1, 1, 1);
  expect_rule(&b, dense, P3CFG_RULE_EP_DENSE, "etp 1");
  const p3cfg_plan c = plan(2, 1, 32, 1, 0, 1); /* etp 0 means tp */
  expect_rule(&c, dense, P3CFG_RULE_OK, "");
}

Test(plan_rules, ep_divides_the_experts)
{
  const p3cfg_plan a = plan(1, 1, 64, 16, 1, 0);
  expect_rule(&a, moe, P3CFG_RULE_EP_EXPERTS, "ep 16 does not divide the 8 experts");
}

Test(plan_rules, ep_etp_divide_tp_cp_dp)
{
  /* tp 8 dp 8: 64 ranks per stage; ep 8 etp 8 = 64 folds; on tp 8 dp 4 pp 2 it does not. */
  p3cfg_plan a = plan(8, 1, 4, 8, 8, 1);
  a.pp = 2, a.n_stage_layers = 2, a.stage_layers[0] = a.stage_layers[1] = 16;
  expect_rule(&a, moe, P3CFG_RULE_EP_FOLD, "ep*etp = 64 does not divide tp*cp*dp = 32");
}

Test(plan_rules, etp_divides_expert_ffn_hidden)
{
  moe->moe.expert_ffn_hidden = 1004; /* 4 * 251: etp 4 divides it, etp 8 does not */
  const p3cfg_plan a = plan(8, 1, 8, 1, 8, 1);
  expect_rule(&a, moe, P3CFG_RULE_ETP_FFN, "etp 8 does not divide expert_ffn_hidden 1004");
  const p3cfg_plan b = plan(8, 1, 8, 2, 4, 1);
  expect_rule(&b, moe, P3CFG_RULE_OK, "");
  moe->moe.expert_ffn_hidden = 14336;
}

Test(plan_rules, moe_bias_needs_etp_1)
{
  moe->bias = true;
  const p3cfg_plan a = plan(2, 1, 32, 8, 2, 1);
  expect_rule(&a, moe, P3CFG_RULE_ETP_BIAS, "needs etp 1, got 2");
  const p3cfg_plan b = plan(2, 1, 32, 8, 1, 1);
  expect_rule(&b, moe, P3CFG_RULE_OK, "");
  moe->bias = false;
}

Test(plan_rules, moe_with_tp_needs_sequence_parallelism)
{
  const p3cfg_plan a = plan(2, 1, 32, 8, 1, 0);
  expect_rule(&a, moe, P3CFG_RULE_MOE_SP, "tp 2 needs sequence parallelism");
  const p3cfg_plan b = plan(2, 1, 32, 1, 0, 0); /* a dense model does not need it */
  expect_rule(&b, dense, P3CFG_RULE_OK, "");
}

Test(plan_rules, cp_needs_seq_len_a_multiple_of_2cp)
{
  dense->seq_len = 8190; /* a multiple of 2 and 6, not of 4 */
  const p3cfg_plan a = plan(1, 2, 32, 1, 0, 0);
  expect_rule(&a, dense, P3CFG_RULE_CP_SEQ, "seq_len 8190 to be a multiple of 2*cp = 4");
  dense->seq_len = 8192;
  expect_rule(&a, dense, P3CFG_RULE_OK, "");
}

Test(plan_rules, cp_needs_flash_attention)
{
  dense->flash_attention = false;
  const p3cfg_plan a = plan(1, 2, 32, 1, 0, 0);
  expect_rule(&a, dense, P3CFG_RULE_CP_FLASH, "cp 2");
  dense->flash_attention = true;
}

Test(plan_rules, cp_counts_in_the_gpus_and_the_sp_split)
{
  const p3cfg_plan a = plan(2, 2, 32, 1, 0, 1); /* 128 GPUs > 64 */
  expect_rule(&a, dense, P3CFG_RULE_GPUS, "dp*tp*cp*pp = 128 GPUs");
  dense->seq_len = 8196; /* 2*cp = 4 divides it; tp 2 * cp 2 = 4 too; tp 4 * cp 2 does not */
  const p3cfg_plan b = plan(4, 2, 8, 1, 0, 1);
  expect_rule(&b, dense, P3CFG_RULE_SP_TP, "tp 4 to divide seq_len 8196 / cp 2");
  dense->seq_len = 8192;
}

Test(plan_rules, every_rule_has_a_name)
{
  for (int k = 0; k < P3CFG_RULE_COUNT; k++)
    cr_expect(p3cfg__plan_rule_names[k] && p3cfg__plan_rule_names[k][0], "rule %d", k);
  cr_expect_leq(P3CFG_RULE_COUNT, P3CFG__MAX_RULES);
}
