/*
 * model_grad_reduce_test.c — the model file's `grad_reduce` (docs/formats.md): fp32 by
 * default, bf16 under a bf16-family precision, refused at its position for fp16 and
 * fp32; carried in the plan file's model record, read back as written, "fp32" from a
 * plan file written before the key. Likewise the low-precision recipe keys fp8_recipe and
 * fp8_param_gather, which the Megatron export turns into --fp8-recipe and
 * --fp8-param-gather.
 */
#include "parse_test.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

Test(model, grad_reduce_defaults_to_fp32_and_takes_bf16_under_bf16_family_precisions)
{
  p3cfg_model *m = model_from(MODEL_OK);
  cr_expect_eq(m->grad_reduce, P3CFG_GRAD_REDUCE_FP32, "Megatron-LM's default");
  p3cfg_model_free(m);
  static const char *const precisions[] = {"bf16", "fp8", "mxfp8", "nvfp4"};
  for (size_t i = 0; i < sizeof precisions / sizeof precisions[0]; i++) {
    char text[512];
    snprintf(text, sizeof text, MODEL_OK "precision: %s\ngrad_reduce: bf16\n", precisions[i]);
    m = model_from(text);
    cr_expect_eq(m->grad_reduce, P3CFG_GRAD_REDUCE_BF16, "%s", precisions[i]);
    p3cfg_model_free(m);
  }
  m = model_from(MODEL_OK "precision: fp32\ngrad_reduce: fp32\n");
  cr_expect_eq(m->grad_reduce, P3CFG_GRAD_REDUCE_FP32);
  p3cfg_model_free(m);
}

Test(model, grad_reduce_bf16_is_refused_for_fp16_and_fp32)
{
  expect_problem(MODEL_OK "precision: fp16\ngrad_reduce: bf16\n", P3CFG_FILE_MODEL, 9, 14,
                 "grad_reduce bf16 needs precision bf16, fp8, mxfp8 or nvfp4, but precision is "
                 "fp16");
  expect_problem(MODEL_OK "precision: fp32\ngrad_reduce: bf16\n", P3CFG_FILE_MODEL, 9, 14,
                 "grad_reduce bf16 needs precision bf16, fp8, mxfp8 or nvfp4, but precision is "
                 "fp32");
  expect_problem(MODEL_OK "precision: fp16\ngrad_reduce: fp32\n", P3CFG_FILE_MODEL, 9, 14,
                 "grad_reduce fp32 is for precision bf16, fp8, mxfp8 or nvfp4: precision fp16 "
                 "keeps and reduces fp16 gradients (remove the key)");
  expect_problem(MODEL_OK "grad_reduce: bf61\n", P3CFG_FILE_MODEL, 8, 14,
                 "grad_reduce must be fp32 or bf16, got \"bf61\"; did you mean 'bf16'?");
}

/* The JSON of a one-GPU estimate of `text`'s model, and its plan file read back. */
static p3cfg_plan_file *plan_file_of(const char *text, p3cfg_buffer *json)
{
  p3cfg_model *m = model_from(text);
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, SRC("clusters/dgx-h100-1n.yaml"), NULL), P3CFG_OK);
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.dp = 1;
  p.zero_stage = 1; /* the distributed optimizer, which fp8_param_gather needs */
  p3cfg_estimate_options eo = P3CFG_ESTIMATE_OPTIONS_INIT;
  eo.with_time = 0;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &p, &eo), P3CFG_OK, "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_result_plan_json(json, r, 0, m, c), P3CFG_OK);
  p3cfg_plan_file *direct = NULL;
  cr_assert_eq(p3cfg_plan_file_from_result(&direct, r, m, c), P3CFG_OK);
  p3cfg_plan_file *f = NULL;
  cr_assert_eq(p3cfg_plan_file_load_string(&f, json->data, json->len, "plan.json", NULL),
               P3CFG_OK, "%s", p3cfg_error_last()->message);
  cr_expect_str_eq(p3cfg_plan_file_model(f, 0)->grad_reduce,
                   p3cfg_plan_file_model(direct, 0)->grad_reduce, "the record from the result");
  p3cfg_plan_file_free(direct);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  return f;
}

Test(model, grad_reduce_round_trips_through_the_plan_file)
{
  p3cfg_buffer json = {0};
  p3cfg_plan_file *f = plan_file_of(MODEL_OK "grad_reduce: bf16\n", &json);
  cr_expect(strstr(json.data, "\"grad_reduce\":\t\"bf16\""), "written in the model record");
  cr_expect_str_eq(p3cfg_plan_file_model(f, 0)->grad_reduce, "bf16");
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);

  f = plan_file_of(MODEL_OK, &json);
  cr_expect(strstr(json.data, "\"grad_reduce\":\t\"fp32\""), "always written");
  p3cfg_plan_file_free(f);
  /* What an older p3cfg wrote: no key, read as fp32. */
  char *at = strstr(json.data, "\n\t\t\"grad_reduce\":\t\"fp32\",");
  cr_assert_not_null(at);
  const size_t cut = strlen("\n\t\t\"grad_reduce\":\t\"fp32\",");
  memmove(at, at + cut, strlen(at + cut) + 1);
  cr_assert_eq(p3cfg_plan_file_load_string(&f, json.data, strlen(json.data), "old.json", NULL),
               P3CFG_OK, "%s", p3cfg_error_last()->message);
  cr_expect_str_eq(p3cfg_plan_file_model(f, 0)->grad_reduce, "fp32");
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
}

Test(model, fp8_recipe_and_param_gather_round_trip_through_the_plan_file)
{
  p3cfg_buffer json = {0};
  p3cfg_plan_file *f = plan_file_of(MODEL_OK "precision: fp8\nfp8_recipe: current\n"
                                             "fp8_param_gather: true\n",
                                    &json);
  cr_expect(strstr(json.data, "\"fp8_recipe\":\t\"current\""), "written in the model record");
  cr_expect(strstr(json.data, "\"fp8_param_gather\":\ttrue"), "written in the model record");
  cr_expect_str_eq(p3cfg_plan_file_model(f, 0)->fp8_recipe, "current");
  cr_expect_eq(p3cfg_plan_file_model(f, 0)->fp8_param_gather, 1);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
  /* The defaults are not written, and read back as delayed scaling, 16-bit weights. */
  f = plan_file_of(MODEL_OK "precision: fp8\n", &json);
  cr_expect_null(strstr(json.data, "fp8_recipe"));
  cr_expect_null(strstr(json.data, "fp8_param_gather"));
  cr_expect_str_eq(p3cfg_plan_file_model(f, 0)->fp8_recipe, "delayed");
  cr_expect_eq(p3cfg_plan_file_model(f, 0)->fp8_param_gather, 0);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
  f = plan_file_of(MODEL_OK, &json);
  cr_expect_null(p3cfg_plan_file_model(f, 0)->fp8_recipe, "no recipe outside precision fp8");
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
}
