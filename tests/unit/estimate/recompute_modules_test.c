/*
 * recompute_modules_test.c — Megatron-Core's selective-recompute modules: what each
 * removes from a layer's saved activations (docs/memory-model.md, "Selective-recompute
 * modules"), by hand for Qwen3-30B-A3B at tp 1, ep 8, micro-batch 1, s 4096, bf16
 * (h 2048, 32 heads of 128, 4 kv heads, 128 experts, top 8, expert_ffn 768, SwiGLU,
 * flash attention, no dropout), and the rules of transformer_config.py.
 *
 * Per MoE layer, bytes (e = 2, T = 4096 tokens, R = 8*4096 routed copies):
 *   attention: norm input e*T*h and QKV input e*T*h: 16,777,216 each; projection input
 *     e*T*4096 = 33,554,432; Q, K, V e*T*5120 = 41,943,040; flash log-sum-exp 4*32*T =
 *     524,288 and the kernel's output copy 33,554,432  -> 143,130,624
 *   pre-MLP norm input and output 2*16,777,216 = 33,554,432
 *   router logits and map 5*T*128 = 2,621,440
 *   experts: fc1 input e*R*h = 134,217,728; fc1 output e*R*1536 = 100,663,296; fc2 input
 *     e*R*768 = 50,331,648; fp32 probabilities 4*R = 131,072 (the experts' output is not
 *     saved: the probabilities are applied in the activation)
 *   no recompute: 464,650,240
 */
#include <stdio.h>

#include "est_fixtures.h"

#include "activations.h"

static p3cfg_model *qwen3(void)
{
  char path[512];
  snprintf(path, sizeof path, "%s/models/qwen3-30b-a3b.yaml", P3CFG_SOURCE_DIR);
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, path, NULL), P3CFG_OK, "%s", path);
  return m;
}

static uint64_t moe_layer(const p3cfg_model *m, uint32_t modules)
{
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.ep = 8;
  p.zero_stage = 1;
  p.recompute = modules ? P3CFG_RECOMPUTE_SELECTIVE : P3CFG_RECOMPUTE_NONE;
  p.recompute_modules = modules;
  return p3cfg__moe_layer_act_bytes(m, &p, p.recompute);
}

Test(recompute_modules, qwen3_moe_layer_by_hand)
{
  p3cfg_model *m = qwen3();
  const uint64_t none = 464650240ull;
  cr_expect_eq(moe_layer(m, 0), none, "got %llu", (unsigned long long)moe_layer(m, 0));
  cr_expect_eq(moe_layer(m, P3CFG_RECOMPUTE_MODULE_CORE_ATTN), none - 524288 - 33554432,
               "core_attn: flash's statistics and output copy");
  cr_expect_eq(moe_layer(m, P3CFG_RECOMPUTE_MODULE_MOE_ACT), none - 50331648,
               "moe_act: fc2's input; attention as without recompute");
  cr_expect_eq(moe_layer(m, P3CFG_RECOMPUTE_MODULE_MOE_ACT | P3CFG_RECOMPUTE_MODULE_LAYERNORM),
               none - 50331648 - 16777216, "layernorm: the pre-MLP norm's output");
  cr_expect_eq(moe_layer(m, P3CFG_RECOMPUTE_MODULE_MOE), 143130624ull + 33554432ull,
               "moe: the block keeps only its input (got %llu)",
               (unsigned long long)moe_layer(m, P3CFG_RECOMPUTE_MODULE_MOE));
  p3cfg_model_free(m);
}

Test(recompute_modules, dense_mlp_and_default)
{
  /* Megatron-LM CI 7B (est_ci_7b) at tp 4, sp off, mbs 1, s 8192: the "mlp" module drops
   * the fc1 input, fc1 output and activation output (e*T*(h + f/t + f/t), f = 16384) and
   * the dropout mask stays; the default list is core_attn. */
  p3cfg_model m = est_ci_7b();
  p3cfg_plan p = est_plan(2, 4, 1, 1);
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  const uint64_t def = p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_SELECTIVE);
  p.recompute_modules = P3CFG_RECOMPUTE_MODULE_CORE_ATTN;
  cr_expect_eq(p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_SELECTIVE), def, "0 = core_attn");
  p.recompute_modules = P3CFG_RECOMPUTE_MODULE_CORE_ATTN | P3CFG_RECOMPUTE_MODULE_MLP;
  const uint64_t T = 8192, h = 4096, ft = 16384 / 4;
  cr_expect_eq(p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_SELECTIVE),
               def - 2 * T * (h + ft + ft));
  /* layernorm changes nothing in a dense layer: its norms are fused into TE's linears. */
  p.recompute_modules = P3CFG_RECOMPUTE_MODULE_CORE_ATTN | P3CFG_RECOMPUTE_MODULE_LAYERNORM;
  cr_expect_eq(p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_SELECTIVE), def);
}

Test(recompute_modules, rules_follow_transformer_config)
{
  p3cfg_model *moe = qwen3();
  p3cfg_model dense = est_ci_7b();
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.ep = 8;
  p.global_batch = 8;
  p.n_stage_layers = 1;
  p.stage_layers[0] = (uint32_t)moe->layers;
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.recompute_modules = P3CFG_RECOMPUTE_MODULE_MOE_ACT | P3CFG_RECOMPUTE_MODULE_LAYERNORM;
  cr_expect_eq(p3cfg__plan_check(&p, moe, &c), P3CFG_OK, "%s", p3cfg_error_last()->message);
  p.recompute = P3CFG_RECOMPUTE_FULL;
  cr_expect_eq(p3cfg__plan_check(&p, moe, &c), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "needs recompute selective"));
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.recompute_modules = P3CFG_RECOMPUTE_MODULE_MLA_UP_PROJ;
  cr_expect_eq(p3cfg__plan_check(&p, moe, &c), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "multi-latent attention"));
  p.recompute_modules = P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS;
  cr_expect_eq(p3cfg__plan_check(&p, moe, &c), P3CFG_EPLAN, "Qwen3 has no shared experts");
  p.recompute_modules = 1u << 9;
  cr_expect_eq(p3cfg__plan_check(&p, moe, &c), P3CFG_EPLAN);
  p3cfg_plan d = est_plan(2, 4, 1, 1);
  d.global_batch = 8;
  d.n_stage_layers = 1;
  d.stage_layers[0] = (uint32_t)dense.layers;
  d.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  d.recompute_modules = P3CFG_RECOMPUTE_MODULE_MOE_ACT;
  cr_expect_eq(p3cfg__plan_check(&d, &dense, &c), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "mixture-of-experts"));
  d.recompute_modules = P3CFG_RECOMPUTE_MODULE_MLP;
  cr_expect_eq(p3cfg__plan_check(&d, &dense, &c), P3CFG_OK, "%s", p3cfg_error_last()->message);
  d.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  d.zero_stage = 3;
  d.sequence_parallel = 1;
  cr_expect_eq(p3cfg__plan_check(&d, &dense, &c), P3CFG_EPLAN, "Megatron-LM only");
  p3cfg_model_free(moe);
}
