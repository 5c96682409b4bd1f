/*
 * plan_file_model_test.c — the plan file's "model" record carries head_dim, moe,
 * attention and mtp_layers (issue 16): the JSON of a DeepSeek-V3 and a Qwen3-30B-A3B plan
 * (the presets, their sources cited in their model files) reads back with every field equal to the
 * record taken directly from the result; a file written before the keys reads as a dense
 * model with standard attention; bad values are reported at their position.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "types.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

static p3cfg_cluster *cluster;

static void setup(void)
{
  cr_assert_eq(p3cfg_cluster_load(&cluster, SRC("clusters/dgx-h100-1n.yaml"), NULL), P3CFG_OK);
}

static void teardown(void) { p3cfg_cluster_free(cluster); }

TestSuite(plan_file_model, .init = setup, .fini = teardown);

/* Estimate `plan` of `model`, keep its JSON and its record from the result. */
static p3cfg_plan_file *round_trip(const p3cfg_model *model, const p3cfg_plan *plan,
                                   p3cfg_buffer *json, p3cfg_plan_file **direct)
{
  p3cfg_estimate_options eo = P3CFG_ESTIMATE_OPTIONS_INIT;
  eo.with_time = 0;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, model, cluster, plan, &eo), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_result_plan_json(json, r, 0, model, cluster), P3CFG_OK);
  cr_assert_eq(p3cfg_plan_file_from_result(direct, r, model, cluster), P3CFG_OK);
  p3cfg_result_free(r);
  p3cfg_plan_file *f = NULL;
  cr_assert_eq(p3cfg_plan_file_load_string(&f, json->data, json->len, "plan.json", NULL),
               P3CFG_OK, "%s", p3cfg_error_last()->message);
  return f;
}

static void same_shape(const p3cfg_plan_model *a, const p3cfg_plan_model *b)
{
  cr_expect_eq(a->head_dim, b->head_dim);
  cr_expect_eq(a->moe_experts, b->moe_experts);
  cr_expect_eq(a->moe_top_k, b->moe_top_k);
  cr_expect_eq(a->moe_expert_ffn_hidden, b->moe_expert_ffn_hidden);
  cr_expect_eq(a->moe_shared_experts, b->moe_shared_experts);
  cr_expect_eq(a->moe_shared_expert_ffn_hidden, b->moe_shared_expert_ffn_hidden);
  cr_expect_eq(a->moe_dense_layers, b->moe_dense_layers);
  cr_expect_float_eq(a->moe_capacity_factor, b->moe_capacity_factor, 1e-12);
  cr_expect_str_eq(a->attention, b->attention);
  cr_expect_eq(a->mla_q_lora_rank, b->mla_q_lora_rank);
  cr_expect_eq(a->mla_kv_lora_rank, b->mla_kv_lora_rank);
  cr_expect_eq(a->mla_qk_nope_head_dim, b->mla_qk_nope_head_dim);
  cr_expect_eq(a->mla_qk_rope_head_dim, b->mla_qk_rope_head_dim);
  cr_expect_eq(a->mla_v_head_dim, b->mla_v_head_dim);
  cr_expect_eq(a->mtp_layers, b->mtp_layers);
}

Test(plan_file_model, deepseek_v3_moe_mla_and_mtp_round_trip)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, SRC("models/deepseek-v3.yaml"), NULL), P3CFG_OK);
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.ep = 8;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *direct = NULL;
  p3cfg_plan_file *f = round_trip(m, &p, &json, &direct);
  cr_expect(strstr(json.data, "\"kind\":\t\"mla\""), "attention.kind mla in the JSON");
  cr_expect(strstr(json.data, "\"capacity_factor\":\tnull"), "dropless is null");
  const p3cfg_plan_model *got = p3cfg_plan_file_model(f, 0);
  /* deepseek-ai/DeepSeek-V3 config.json */
  cr_expect_eq(got->moe_experts, 256);
  cr_expect_eq(got->moe_top_k, 8);
  cr_expect_eq(got->moe_expert_ffn_hidden, 2048);
  cr_expect_eq(got->moe_shared_experts, 1);
  cr_expect_eq(got->moe_shared_expert_ffn_hidden, 2048);
  cr_expect_eq(got->moe_dense_layers, 3);
  cr_expect_eq(got->moe_capacity_factor, 0.0);
  cr_expect_str_eq(got->attention, "mla");
  cr_expect_eq(got->mla_q_lora_rank, 1536);
  cr_expect_eq(got->mla_kv_lora_rank, 512);
  cr_expect_eq(got->mla_qk_nope_head_dim, 128);
  cr_expect_eq(got->mla_qk_rope_head_dim, 64);
  cr_expect_eq(got->mla_v_head_dim, 128);
  cr_expect_eq(got->mtp_layers, 1);
  same_shape(got, p3cfg_plan_file_model(direct, 0));
  p3cfg_plan_file_free(direct);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
  p3cfg_model_free(m);
}

Test(plan_file_model, qwen3_head_dim_and_a_capacity_factor_round_trip)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, SRC("models/qwen3-30b-a3b.yaml"), NULL), P3CFG_OK);
  m->moe.capacity_factor = 1.25;
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.ep = 8;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *direct = NULL;
  p3cfg_plan_file *f = round_trip(m, &p, &json, &direct);
  const p3cfg_plan_model *got = p3cfg_plan_file_model(f, 0);
  cr_expect_eq(got->head_dim, 128, "Qwen3: 32 heads x 128 on hidden 2048");
  cr_expect_str_eq(got->attention, "gqa");
  cr_expect_eq(got->moe_experts, 128);
  cr_expect_eq(got->moe_shared_experts, 0);
  cr_expect_eq(got->moe_dense_layers, 0);
  cr_expect_float_eq(got->moe_capacity_factor, 1.25, 1e-12);
  cr_expect_eq(got->mla_kv_lora_rank, 0);
  same_shape(got, p3cfg_plan_file_model(direct, 0));
  p3cfg_plan_file_free(direct);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
  p3cfg_model_free(m);
}

/* Remove `key` from `text` (what an older p3cfg wrote). */
static void cut(char *text, const char *key)
{
  char *at = strstr(text, key);
  cr_assert_not_null(at, "%s", key);
  const size_t len = strlen(key);
  memmove(at, at + len, strlen(at + len) + 1);
}

Test(plan_file_model, a_file_without_the_keys_reads_as_dense_standard_attention)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, SRC("models/llama3-8b.yaml"), NULL), P3CFG_OK);
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = 2;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *direct = NULL;
  p3cfg_plan_file *f = round_trip(m, &p, &json, &direct);
  cr_expect_null(strstr(json.data, "\"moe\""), "a dense model has no moe object");
  p3cfg_plan_file_free(f);
  cut(json.data, ",\n\t\t\"head_dim\":\t128");
  cut(json.data, ",\n\t\t\"attention\":\t{\n\t\t\t\"kind\":\t\"gqa\"\n\t\t}");
  cut(json.data, ",\n\t\t\"mtp_layers\":\t0");
  cr_assert_null(strstr(json.data, "head_dim"));
  cr_assert_eq(p3cfg_plan_file_load_string(&f, json.data, strlen(json.data), "old.json", NULL),
               P3CFG_OK, "%s", p3cfg_error_last()->message);
  const p3cfg_plan_model *got = p3cfg_plan_file_model(f, 0);
  cr_expect_eq(got->head_dim, 128, "hidden 4096 / 32 heads");
  cr_expect_str_eq(got->attention, "gqa", "8 kv heads of 32");
  cr_expect_eq(got->moe_experts, 0);
  cr_expect_eq(got->mtp_layers, 0);
  same_shape(got, p3cfg_plan_file_model(direct, 0));
  p3cfg_plan_file_free(direct);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
  p3cfg_model_free(m);
}

/* The first problem of `text` with `old` replaced by `new`, as "LINE:COL: message". */
static void expect_error(const char *old, const char *new, const char *want)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, SRC("models/deepseek-v3.yaml"), NULL), P3CFG_OK);
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.ep = 8;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *direct = NULL;
  p3cfg_plan_file *f = round_trip(m, &p, &json, &direct);
  p3cfg_plan_file_free(f);
  p3cfg_plan_file_free(direct);
  char text[1 << 16];
  const char *at = strstr(json.data, old);
  cr_assert_not_null(at, "%s", old);
  cr_assert_lt(json.len + strlen(new), sizeof text);
  const size_t head = (size_t)(at - json.data);
  snprintf(text, sizeof text, "%.*s%s%s", (int)head, json.data, new, at + strlen(old));
  f = (p3cfg_plan_file *)1;
  cr_assert_neq(p3cfg_plan_file_load_string(&f, text, strlen(text), "p.json", NULL), 0);
  cr_assert_null(f);
  const p3cfg_error *e = p3cfg_error_last();
  /* The line of the replaced text, counted in the modified document. */
  int line = 1;
  for (size_t i = 0; i < head; i++)
    line += text[i] == '\n';
  char got[512], prefix[32];
  snprintf(got, sizeof got, "%d:%d: %s", e->line, e->column, e->message);
  snprintf(prefix, sizeof prefix, "%d:", line);
  cr_expect_eq(strncmp(got, prefix, strlen(prefix)), 0, "%s not on line %d", got, line);
  cr_expect(strstr(got, want), "got \"%s\", want \"%s\"", got, want);
  p3cfg_buffer_dispose(&json);
  p3cfg_model_free(m);
}

Test(plan_file_model, bad_values_are_reported_at_their_key)
{
  expect_error("\"top_k\":\t8", "\"top_k\":\t300",
               "model.moe.top_k 300 is more than model.moe.experts 256");
  expect_error("\"kind\":\t\"mla\"", "\"kind\":\t\"mlaa\"",
               "model.attention.kind must be one of");
  expect_error("\"kv_lora_rank\":\t512", "\"kv_lora_rank\":\t0",
               "model.attention.kv_lora_rank must be");
  expect_error("\"dense_layers\":\t3", "\"dense_layers\":\t61", "model.moe.dense_layers");
  expect_error("\"capacity_factor\":\tnull", "\"capacity_factor\":\t-1",
               "model.moe.capacity_factor must be a positive number or null");
  expect_error("\"mtp_layers\":\t1", "\"mtp_layers\":\t65", "model.mtp_layers");
}
