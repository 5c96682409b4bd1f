/*
 * model_moe_test.c — the issue-16 model keys: head_dim (default hidden/heads, always set
 * after load), moe (defaults, dropless null), attention (mha/gqa standard, mla with its
 * ranks; kv_heads follows heads), mtp_layers. The bad values are the tests/invalid/
 * cases model-moe-*, model-attention-* and model-head-dim-mtp.
 */
#include "parse_test.h"

Test(parse_moe, dense_defaults)
{
  p3cfg_model *m = model_from(MODEL_OK);
  cr_expect_eq(m->head_dim, 16, "head_dim defaults to hidden/heads = 64/4");
  cr_expect_eq(m->moe.experts, 0, "no moe: dense");
  cr_expect_eq(m->attention, P3CFG_ATTN_STANDARD);
  cr_expect_eq(m->mtp_layers, 0);
  p3cfg_model_free(m);
}

/* Qwen3-235B-A22B's shape: 64 heads x head_dim 128 on hidden 4096 (HF config.json). */
Test(parse_moe, qwen3_head_dim_and_moe)
{
  p3cfg_model *m = model_from("name: q\nlayers: 94\nhidden: 4096\nheads: 64\nkv_heads: 4\n"
                              "head_dim: 128\nffn_hidden: 12288\nactivation: swiglu\n"
                              "vocab: 151936\nseq_len: 4096\nglobal_batch: 8\n"
                              "moe: {experts: 128, top_k: 8, expert_ffn_hidden: 1536}\n");
  cr_expect_eq(m->head_dim, 128);
  cr_expect_eq(m->moe.experts, 128);
  cr_expect_eq(m->moe.top_k, 8);
  cr_expect_eq(m->moe.expert_ffn_hidden, 1536);
  cr_expect_eq(m->moe.shared_experts, 0);
  cr_expect_eq(m->moe.shared_expert_ffn_hidden, 1536, "defaults to expert_ffn_hidden");
  cr_expect_eq(m->moe.dense_layers, 0);
  cr_expect(m->moe.capacity_factor == 0.0, "absent capacity_factor: dropless");
  cr_expect_eq(m->moe.dispatcher, P3CFG_DISPATCH_ALLTOALL, "absent dispatcher: all-to-all");
  p3cfg_model_free(m);
}

Test(parse_moe, dispatcher_names_the_flex_backends)
{
  static const char *const names[] = {"alltoall", "deepep", "hybridep"};
  for (int i = 0; i < 3; i++) {
    char text[256];
    snprintf(text, sizeof text, MODEL_OK "moe: {experts: 8, top_k: 2, dispatcher: %s}\n",
             names[i]);
    p3cfg_model *m = model_from(text);
    cr_expect_eq((int)m->moe.dispatcher, i, "%s", names[i]);
    p3cfg_model_free(m);
  }
}

Test(parse_moe, expert_ffn_defaults_to_ffn_hidden)
{
  p3cfg_model *m = model_from(MODEL_OK "ffn_hidden: 96\nmoe: {experts: 8, top_k: 2, "
                                       "capacity_factor: 1.25}\n");
  cr_expect_eq(m->moe.expert_ffn_hidden, 96);
  cr_expect(m->moe.capacity_factor == 1.25);
  p3cfg_model_free(m);
}

Test(parse_moe, capacity_null_is_dropless)
{
  p3cfg_model *m = model_from(MODEL_OK "moe: {experts: 8, top_k: 8, capacity_factor: null}\n");
  cr_expect(m->moe.capacity_factor == 0.0);
  cr_expect_eq(m->moe.top_k, 8, "top_k == experts is allowed");
  p3cfg_model_free(m);
}

/* DeepSeek-V3's attention and MoE (HF config.json of deepseek-ai/DeepSeek-V3). */
Test(parse_moe, deepseek_mla)
{
  p3cfg_model *m = model_from(
      "name: d\nlayers: 61\nhidden: 7168\nheads: 128\nffn_hidden: 18432\n"
      "activation: swiglu\nvocab: 129280\nseq_len: 4096\nglobal_batch: 8\n"
      "moe:\n  experts: 256\n  top_k: 8\n  expert_ffn_hidden: 2048\n  shared_experts: 1\n"
      "  dense_layers: 3\n"
      "attention:\n  kind: mla\n  q_lora_rank: 1536\n  kv_lora_rank: 512\n"
      "  qk_nope_head_dim: 128\n  qk_rope_head_dim: 64\n  v_head_dim: 128\n"
      "mtp_layers: 1\n");
  cr_expect_eq(m->attention, P3CFG_ATTN_MLA);
  cr_expect_eq(m->mla.q_lora_rank, 1536);
  cr_expect_eq(m->mla.kv_lora_rank, 512);
  cr_expect_eq(m->mla.qk_nope_head_dim, 128);
  cr_expect_eq(m->mla.qk_rope_head_dim, 64);
  cr_expect_eq(m->mla.v_head_dim, 128);
  cr_expect_eq(m->kv_heads, 128, "MLA: every head has its own K and V");
  cr_expect_eq(m->head_dim, 56, "hidden/heads, unused by MLA");
  cr_expect_eq(m->moe.shared_experts, 1);
  cr_expect_eq(m->moe.dense_layers, 3);
  cr_expect_eq(m->mtp_layers, 1);
  p3cfg_model_free(m);
}

Test(parse_moe, gqa_kind_is_standard)
{
  p3cfg_model *m = model_from(MODEL_OK "kv_heads: 2\nattention: {kind: gqa}\n");
  cr_expect_eq(m->attention, P3CFG_ATTN_STANDARD);
  cr_expect_eq(m->kv_heads, 2);
  p3cfg_model_free(m);
}

Test(parse_moe, head_dim_lifts_the_divisibility_rule)
{
  /* hidden 2880 on 64 heads of 64 (GPT-OSS-120B) divides; 100 on 3 heads only with head_dim. */
  p3cfg_model *m = model_from("name: m\nlayers: 2\nhidden: 100\nheads: 3\nhead_dim: 32\n"
                              "vocab: 1000\nseq_len: 128\nglobal_batch: 8\n");
  cr_expect_eq(m->head_dim, 32);
  p3cfg_model_free(m);
}
