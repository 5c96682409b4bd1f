/*
 * import_hf_test.c — p3cfg_model_import_hf: four published config.json files (dense
 * GQA, Mixtral's experts, Qwen3-MoE's experts and head_dim, DeepSeek-V3's MLA, shared
 * experts, dense layers and MTP) map to model files that
 * load, with the values config.json gives, the documented defaults, and the keys p3cfg
 * does not model kept as comments; bad input is a positioned error.
 */
#include <stdlib.h>

#include "parse_test.h"

#define HF(name) P3CFG_SOURCE_DIR "/tests/fixtures/hf/" name "/config.json"

/* Import `path`, load the text as a model and return it; *text gets the YAML. */
static p3cfg_model *import(const char *path, const p3cfg_import_options *o, unsigned *unmodeled,
                           p3cfg_buffer *text)
{
  cr_assert_eq(p3cfg_model_import_hf(text, path, o, unmodeled), P3CFG_OK, "%s: %s", path,
               p3cfg_error_last()->message);
  return model_from(text->data);
}

Test(parse, import_hf_llama3_8b)
{
  p3cfg_buffer t = {0};
  unsigned un = 99;
  p3cfg_model *m = import(HF("llama-3-8b"), NULL, &un, &t);
  cr_expect_str_eq(m->name, "llama-3-8b");
  cr_expect_eq(m->layers, 32);
  cr_expect_eq(m->hidden, 4096);
  cr_expect_eq(m->heads, 32);
  cr_expect_eq(m->kv_heads, 8);
  cr_expect_eq(m->ffn_hidden, 14336);
  cr_expect_eq(m->activation, P3CFG_ACT_SWIGLU);
  cr_expect_eq(m->vocab, 128256);
  cr_expect_eq(m->seq_len, 8192);
  cr_expect_eq(m->global_batch, 1024, "the documented default");
  cr_expect_eq(m->tied_embeddings, false);
  cr_expect_eq(m->position_embedding, P3CFG_POS_ROPE);
  cr_expect_eq(m->norm, P3CFG_NORM_RMSNORM);
  cr_expect_eq(m->precision, P3CFG_PREC_BF16);
  cr_expect_eq(m->bias, false);
  cr_expect_eq(m->dropout, false);
  cr_expect_eq(un, 0);
  cr_expect(strstr(t.data, "rope_theta 500000.0") != NULL, "rope_theta kept as a comment");
  cr_expect(strstr(t.data, "pretraining_tp") != NULL, "ignored keys are named");
  p3cfg_model_free(m);
  p3cfg_buffer_dispose(&t);
}

Test(parse, import_hf_options)
{
  p3cfg_import_options o;
  p3cfg_import_options_init(&o);
  o.name = "llama3-8b-4k";
  o.seq_len = 4096;
  o.global_batch = 512;
  p3cfg_buffer t = {0};
  p3cfg_model *m = import(HF("llama-3-8b"), &o, NULL, &t);
  cr_expect_str_eq(m->name, "llama3-8b-4k");
  cr_expect_eq(m->seq_len, 4096);
  cr_expect_eq(m->global_batch, 512);
  p3cfg_model_free(m);
  p3cfg_buffer_dispose(&t);
  o.version = 7;
  cr_expect_eq(p3cfg_model_import_hf(&t, HF("llama-3-8b"), &o, NULL), P3CFG_EINVALID);
  cr_expect_null(t.data);
}

Test(parse, import_hf_mixtral_experts)
{
  p3cfg_buffer t = {0};
  unsigned un = 0;
  p3cfg_model *m = import(HF("mixtral-8x7b"), NULL, &un, &t);
  cr_expect_eq(m->ffn_hidden, 14336, "one expert's MLP");
  cr_expect_eq(m->moe.experts, 8, "num_local_experts");
  cr_expect_eq(m->moe.top_k, 2, "num_experts_per_tok");
  cr_expect_eq(m->moe.expert_ffn_hidden, 14336, "intermediate_size: every expert");
  cr_expect(m->moe.capacity_factor == 0.0, "dropless");
  cr_expect_eq(m->vocab, 32000);
  cr_expect_eq(m->seq_len, 32768);
  cr_expect_eq(un, 2, "output_router_logits, router_aux_loss_coef");
  cr_expect(strstr(t.data, "#   router_aux_loss_coef: 0.02\n") != NULL);
  cr_expect(strstr(t.data, "WARNING") == NULL, "experts are modelled now");
  p3cfg_model_free(m);
  p3cfg_buffer_dispose(&t);
}

Test(parse, import_hf_qwen3_moe_head_dim)
{
  p3cfg_buffer t = {0};
  unsigned un = 0;
  p3cfg_model *m = import(HF("qwen3-30b-a3b"), NULL, &un, &t);
  cr_expect_eq(m->layers, 48);
  cr_expect_eq(m->hidden, 2048);
  cr_expect_eq(m->kv_heads, 4);
  cr_expect_eq(m->head_dim, 128, "head_dim, not hidden/heads = 64");
  cr_expect_eq(m->vocab, 151936);
  cr_expect_eq(m->moe.experts, 128, "num_experts");
  cr_expect_eq(m->moe.top_k, 8);
  cr_expect_eq(m->moe.expert_ffn_hidden, 768, "moe_intermediate_size");
  cr_expect_eq(m->moe.dense_layers, 0);
  cr_expect_eq(un, 5, "decoder_sparse_step, mlp_only_layers, norm_topk_prob, "
                      "router_aux_loss_coef, output_router_logits");
  cr_expect(strstr(t.data, "#   mlp_only_layers: []\n") != NULL);
  p3cfg_model_free(m);
  p3cfg_buffer_dispose(&t);
}

/* DeepSeek-V3's config.json gives the same model as models/deepseek-v3.yaml. */
Test(parse, import_hf_deepseek_v3_mla_moe_mtp)
{
  p3cfg_buffer t = {0};
  unsigned un = 0;
  p3cfg_model *m = import(HF("deepseek-v3"), NULL, &un, &t);
  cr_expect_eq(m->attention, P3CFG_ATTN_MLA);
  cr_expect_eq(m->mla.q_lora_rank, 1536);
  cr_expect_eq(m->mla.kv_lora_rank, 512);
  cr_expect_eq(m->mla.qk_nope_head_dim, 128);
  cr_expect_eq(m->mla.qk_rope_head_dim, 64);
  cr_expect_eq(m->mla.v_head_dim, 128);
  cr_expect_eq(m->moe.experts, 256, "n_routed_experts");
  cr_expect_eq(m->moe.shared_experts, 1, "n_shared_experts");
  cr_expect_eq(m->moe.shared_expert_ffn_hidden, 2048, "as wide as a routed expert");
  cr_expect_eq(m->moe.dense_layers, 3, "first_k_dense_replace");
  cr_expect_eq(m->ffn_hidden, 18432, "the dense layers' FFN");
  cr_expect_eq(m->mtp_layers, 1, "num_nextn_predict_layers");
  cr_expect_eq(un, 8, "moe_layer_freq, norm_topk_prob, routed_scaling_factor, topk_group, "
                      "n_group, topk_method, scoring_func, ep_size");
  p3cfg_model_free(m);
  p3cfg_buffer_dispose(&t);
}

Test(parse, import_hf_bad_input_is_positioned)
{
  p3cfg_buffer t = {0};
  /* A p3cfg model file is not a config.json: no num_hidden_layers. */
  cr_expect_eq(p3cfg_model_import_hf(&t, FIXTURE("model-minimal.yaml"), NULL, NULL),
               P3CFG_EVALUE);
  cr_expect_null(t.data);
  cr_expect_str_eq(p3cfg_error_last()->message, "config.json has no num_hidden_layers");
  cr_expect_gt(p3cfg_error_last()->line, 0);
  cr_expect_eq(p3cfg_model_import_hf(&t, FIXTURE("no-such-file.json"), NULL, NULL), P3CFG_EIO);
  cr_expect_eq(p3cfg_model_import_hf(NULL, HF("llama-3-8b"), NULL, NULL), P3CFG_EINVALID);
}

/* Write `json` to a new temporary file; its path in path[cap]. */
static void temp_config(char *path, size_t cap, const char *json)
{
  snprintf(path, cap, "/tmp/p3cfg-import-hf-XXXXXX");
  const int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  cr_assert_not_null(f);
  fputs(json, f);
  fclose(f);
}

#define HF_DENSE                                                                                   \
  "{\"num_hidden_layers\": 4, \"hidden_size\": 256, \"num_attention_heads\": 8,\n"                 \
  " \"vocab_size\": 1000, \"hidden_act\": \"silu\", \"intermediate_size\": 512,"

/* Import `json` expecting the model loader's refusal; returns the last error. */
static const p3cfg_error *refused(const char *json)
{
  char path[64];
  temp_config(path, sizeof path, json);
  p3cfg_buffer t = {0};
  const int rc = p3cfg_model_import_hf(&t, path, NULL, NULL);
  remove(path);
  cr_expect_eq(rc, P3CFG_EVALUE, "%s", json);
  cr_expect_null(t.data, "nothing written");
  return p3cfg_error_last();
}

/* What the model file would hold is checked by the loader's rules, at the config.json
 * value the line comes from. */
Test(parse, import_hf_refuses_what_validate_would)
{
  const p3cfg_error *e =
      refused(HF_DENSE "\n \"num_local_experts\": 4, \"num_experts_per_tok\": 6}\n");
  cr_expect_str_eq(e->message, "num_experts_per_tok 6 makes an invalid model file: moe.top_k 6 "
                               "is more than moe.experts 4");
  cr_expect_eq(e->line, 3);
  cr_expect_eq(e->column, 49);
  e = refused(HF_DENSE " \"num_key_value_heads\": 3}\n");
  cr_expect_str_eq(e->message, "num_key_value_heads 3 makes an invalid model file: heads 8 is "
                               "not divisible by kv_heads 3");
  cr_expect_eq(e->line, 2);
  e = refused(HF_DENSE "\n \"n_routed_experts\": 4, \"num_experts_per_tok\": 2,"
                       " \"first_k_dense_replace\": 4}\n");
  cr_expect(strstr(e->message, "first_k_dense_replace 4 makes an invalid model file: "
                               "moe.dense_layers 4 leaves no MoE layer") == e->message,
            "%s", e->message);
}

/* Keys that would be dropped are refused; a lone 0 experts is a dense model, said so. */
Test(parse, import_hf_refuses_dropped_moe_and_mla_keys)
{
  const p3cfg_error *e = refused(HF_DENSE " \"n_routed_experts\": 0, \"num_experts_per_tok\": 2}");
  cr_expect(strstr(e->message, "n_routed_experts 0, but config.json has num_experts_per_tok") ==
                e->message,
            "%s", e->message);
  e = refused(HF_DENSE " \"kv_lora_rank\": null, \"qk_nope_head_dim\": 32}");
  cr_expect(strstr(e->message, "kv_lora_rank is null, but config.json has qk_nope_head_dim") ==
                e->message,
            "%s", e->message);
  e = refused(HF_DENSE " \"v_head_dim\": 32}");
  cr_expect(strstr(e->message, "v_head_dim is a key of latent attention, but config.json has no "
                               "kv_lora_rank") == e->message,
            "%s", e->message);

  char path[64];
  temp_config(path, sizeof path, HF_DENSE " \"num_experts\": 0}");
  p3cfg_buffer t = {0};
  cr_assert_eq(p3cfg_model_import_hf(&t, path, NULL, NULL), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  remove(path);
  p3cfg_model *m = model_from(t.data);
  cr_expect_eq(m->moe.experts, 0);
  cr_expect(strstr(t.data, "# num_experts: 0 (no routed experts: a dense model)\n") != NULL);
  p3cfg_model_free(m);
  p3cfg_buffer_dispose(&t);
}
