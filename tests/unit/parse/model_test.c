/*
 * model_test.c — the model schema: defaults, every key, value types and bounds, the
 * rules between values, and the info of a loaded model.
 */
#include "parse_test.h"

Test(parse, model_defaults)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, FIXTURE("model-minimal.yaml"), NULL), P3CFG_OK);
  cr_expect_str_eq(m->name, "minimal-model");
  cr_expect_eq(m->layers, 24);
  cr_expect_eq(m->hidden, 2048);
  cr_expect_eq(m->heads, 16);
  cr_expect_eq(m->kv_heads, 16, "kv_heads defaults to heads");
  cr_expect_eq(m->ffn_hidden, 4 * 2048, "ffn_hidden defaults to 4*hidden");
  cr_expect_eq(m->activation, P3CFG_ACT_GELU);
  cr_expect_eq(m->vocab, 51200);
  cr_expect_eq(m->seq_len, 2048);
  cr_expect_eq(m->tied_embeddings, false);
  cr_expect_eq(m->position_embedding, P3CFG_POS_ROPE);
  cr_expect_eq(m->norm, P3CFG_NORM_LAYERNORM);
  cr_expect_eq(m->flash_attention, true);
  cr_expect_eq(m->global_batch, 256);
  cr_expect_eq(m->precision, P3CFG_PREC_BF16);
  cr_expect_eq(m->optimizer, P3CFG_OPT_ADAM);
  cr_expect_eq(m->bias, true);
  cr_expect_eq(m->dropout, true);
  cr_expect_str_eq(m->source, FIXTURE("model-minimal.yaml"));
  p3cfg_model_free(m);
}

Test(parse, model_every_key)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, FIXTURE("model-full.yaml"), NULL), P3CFG_OK);
  cr_expect_str_eq(m->name, "full-model");
  cr_expect_eq(m->layers, 32);
  cr_expect_eq(m->hidden, 4096);
  cr_expect_eq(m->heads, 32);
  cr_expect_eq(m->kv_heads, 8);
  cr_expect_eq(m->ffn_hidden, 14336);
  cr_expect_eq(m->activation, P3CFG_ACT_SWIGLU);
  cr_expect_eq(m->vocab, 128256);
  cr_expect_eq(m->seq_len, 8192);
  cr_expect_eq(m->tied_embeddings, true);
  cr_expect_eq(m->position_embedding, P3CFG_POS_LEARNED);
  cr_expect_eq(m->norm, P3CFG_NORM_RMSNORM);
  cr_expect_eq(m->flash_attention, false);
  cr_expect_eq(m->global_batch, 512);
  cr_expect_eq(m->precision, P3CFG_PREC_FP16);
  cr_expect_eq(m->optimizer, P3CFG_OPT_SGD);
  cr_expect_eq(m->bias, false);
  cr_expect_eq(m->dropout, false);
  p3cfg_model_free(m);
}

Test(parse, model_enum_values_all_accepted)
{
  static const char *const lines[] = {
      "activation: gelu\n",          "activation: swiglu\n",  "position_embedding: rope\n",
      "position_embedding: alibi\n", "norm: layernorm\n",     "precision: bf16\n",
      "precision: fp32\n",           "optimizer: adam\n",     "flash_attention: True\n",
      "tied_embeddings: FALSE\n",    "precision: \"fp16\"\n", "activation: 'swiglu'\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    char text[512];
    snprintf(text, sizeof text, MODEL_OK "%s", lines[i]);
    p3cfg_model_free(model_from(text));
  }
}

Test(parse, model_load_string_and_json)
{
  p3cfg_model *a = model_from(MODEL_OK);
  p3cfg_model *b = model_from("{\"name\": \"m\", \"layers\": 2, \"hidden\": 64, \"heads\": 4,"
                              "\"vocab\": 1000, \"seq_len\": 128, \"global_batch\": 8}");
  p3cfg_model *c = model_from("{\"name\":\"m\",\"layers\":2,\"hidden\":64,\"heads\":4,"
                              "\"vocab\":1000,\"seq_len\":128,\"global_batch\":8}");
  cr_expect_eq(a->hidden, b->hidden);
  cr_expect_eq(b->global_batch, c->global_batch);
  cr_expect_str_eq(a->source, "t.yaml");
  p3cfg_model_free(a);
  p3cfg_model_free(b);
  p3cfg_model_free(c);
}

Test(parse, model_float_written_integers)
{
  p3cfg_model *m = model_from(MODEL_OK "kv_heads: 0.2e1\nffn_hidden: 256.0\n");
  cr_expect_eq(m->kv_heads, 2);
  cr_expect_eq(m->ffn_hidden, 256);
  p3cfg_model_free(m);
  expect_problem(MODEL_OK "ffn_hidden: 1000.5\n", P3CFG_FILE_MODEL, 8, 13,
                 "ffn_hidden must be a positive integer, got 1000.5");
}

/* Integrality is read from the text: a literal that rounds to an integer as a double
 * is still refused. */
Test(parse, model_integer_decided_from_the_text)
{
  expect_problem(MODEL_OK "kv_heads: 2.0000000000000001\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got 2.0000000000000001");
  expect_problem(MODEL_OK "kv_heads: 20000000000000001e-16\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got 20000000000000001e-16");
  expect_problem(MODEL_OK "kv_heads: 0.5e-400\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got 0.5e-400");
  expect_problem(MODEL_OK "kv_heads: 1.5e100000000\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be at most 1048576, got 1.5e100000000");
  expect_problem(MODEL_OK "kv_heads: -0.0\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got -0.0");
  p3cfg_model *m = model_from(MODEL_OK "kv_heads: 400e-2\nffn_hidden: 0.000256e6\n");
  cr_expect_eq(m->kv_heads, 4);
  cr_expect_eq(m->ffn_hidden, 256);
  p3cfg_model_free(m);
}

Test(parse, model_integer_problems)
{
  expect_problem(MODEL_OK "kv_heads: eight\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got \"eight\"");
  expect_problem(MODEL_OK "kv_heads: 0\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got 0");
  expect_problem(MODEL_OK "kv_heads: -2\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got -2");
  expect_problem(MODEL_OK "kv_heads: \"4\"\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got \"4\" (a quoted string)");
  expect_problem(MODEL_OK "kv_heads: 99999999999999999999999\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be at most 1048576, got 99999999999999999999999");
  expect_problem(MODEL_OK "kv_heads: 1e300\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be at most 1048576, got 1e300");
  expect_problem(MODEL_OK "kv_heads: .nan\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got .nan");
  expect_problem(MODEL_OK "kv_heads: -.inf\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got -.inf");
  expect_problem(MODEL_OK "kv_heads: 0x10\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got \"0x10\"");
  expect_problem(MODEL_OK "kv_heads:\n", P3CFG_FILE_MODEL, 8, 10,
                 "kv_heads must be a positive integer, got null");
  expect_problem(MODEL_OK "kv_heads: [4]\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got a sequence");
  expect_problem(MODEL_OK "kv_heads: {a: 1}\n", P3CFG_FILE_MODEL, 8, 11,
                 "kv_heads must be a positive integer, got a mapping");
}

Test(parse, model_bounds)
{
  /* The largest accepted value of each key loads ... */
  p3cfg_model *m = model_from("name: m\nlayers: 1048576\nhidden: 64\nheads: 4\nvocab: 1000\n"
                              "seq_len: 1048576\nglobal_batch: 16\n");
  cr_expect_eq(m->layers, 1u << 20);
  cr_expect_eq(m->seq_len, 1u << 20);
  p3cfg_model_free(m);
  /* ... and one more does not. */
  expect_problem("name: m\nlayers: 1048577\nhidden: 64\nheads: 4\nvocab: 1000\n"
                 "seq_len: 128\nglobal_batch: 8\n",
                 P3CFG_FILE_MODEL, 2, 9, "layers must be at most 1048576, got 1048577");
  expect_problem(MODEL_OK "ffn_hidden: 67108865\n", P3CFG_FILE_MODEL, 8, 13,
                 "ffn_hidden must be at most 67108864, got 67108865");
}

Test(parse, model_hundred_trillion_parameters_ok)
{
  /* ~100T parameters: 512 layers of hidden 128k. */
  p3cfg_model *m = model_from("name: big\nlayers: 512\nhidden: 131072\nheads: 1024\n"
                              "vocab: 1000000\nseq_len: 1048576\nglobal_batch: 1024\n");
  p3cfg_model_info info;
  cr_assert_eq(p3cfg_model_get_info(&info, m), P3CFG_OK);
  cr_expect_gt(info.params_total, 90000000000000ull);
  p3cfg_model_free(m);
}

Test(parse, model_derived_limits)
{
  expect_problem("name: m\nlayers: 1048576\nhidden: 1048576\nheads: 8\nvocab: 1000\n"
                 "seq_len: 128\nglobal_batch: 8\n",
                 P3CFG_FILE_MODEL, 1, 1,
                 "the model has 1.38e+19 parameters, more than the limit of 2^50");
  expect_problem("name: m\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 1000\n"
                 "seq_len: 16777216\nglobal_batch: 16777216\n",
                 P3CFG_FILE_MODEL, 7, 15,
                 "seq_len * global_batch (2.81e+14 tokens per step) is more than the limit of "
                 "2^44");
  expect_problem("name: m\nlayers: 2\nhidden: 64\nheads: 8\nvocab: 1000\n"
                 "seq_len: 16777216\nglobal_batch: 1\nflash_attention: false\n",
                 P3CFG_FILE_MODEL, 6, 10,
                 "heads * seq_len^2 (2.25e+15 attention scores per layer) is more than the "
                 "limit of 2^50 without flash_attention");
}

Test(parse, model_inconsistent_values)
{
  expect_problem("name: m\nlayers: 2\nhidden: 100\nheads: 3\nvocab: 1000\nseq_len: 128\n"
                 "global_batch: 8\n",
                 P3CFG_FILE_MODEL, 4, 8, "hidden 100 is not divisible by heads 3");
  expect_problem(MODEL_OK "kv_heads: 3\n", P3CFG_FILE_MODEL, 8, 11,
                 "heads 4 is not divisible by kv_heads 3");
  expect_problem(MODEL_OK "kv_heads: 8\n", P3CFG_FILE_MODEL, 8, 11,
                 "heads 4 is not divisible by kv_heads 8");
}

Test(parse, model_strings_and_enums)
{
  expect_problem(MODEL_OK "activation: relu\n", P3CFG_FILE_MODEL, 8, 13,
                 "activation must be gelu or swiglu, got \"relu\"; did you mean 'gelu'?");
  expect_problem(MODEL_OK "position_embedding: sinusoidal\n", P3CFG_FILE_MODEL, 8, 21,
                 "position_embedding must be one of learned, rope, alibi, got \"sinusoidal\"");
  expect_problem(MODEL_OK "flash_attention: yes\n", P3CFG_FILE_MODEL, 8, 18,
                 "flash_attention must be true or false, got \"yes\"");
  expect_problem("name: \"\"\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 1000\nseq_len: 128\n"
                 "global_batch: 8\n",
                 P3CFG_FILE_MODEL, 1, 7, "name must not be empty");
  expect_problem("name: \"a\\nb\"\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 1000\nseq_len: 128\n"
                 "global_batch: 8\n",
                 P3CFG_FILE_MODEL, 1, 7,
                 "name must be one line without control characters, got \"a\\nb\"");
  /* A plain number is a fine name. */
  p3cfg_model *m = model_from("name: 175\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 1000\n"
                              "seq_len: 128\nglobal_batch: 8\n");
  cr_expect_str_eq(m->name, "175");
  p3cfg_model_free(m);
}

Test(parse, model_unknown_and_missing_keys)
{
  expect_problem(MODEL_OK "hiden: 64\n", P3CFG_FILE_MODEL, 8, 1,
                 "unknown key 'hiden'; did you mean 'hidden'?");
  expect_problem(MODEL_OK "colour: blue\n", P3CFG_FILE_MODEL, 8, 1, "unknown key 'colour'");
  expect_problem("name: m\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 1000\nseq_len: 128\n",
                 P3CFG_FILE_MODEL, 1, 1, "missing required key 'global_batch'");
}

Test(parse, model_info)
{
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, FIXTURE("model-minimal.yaml"), NULL), P3CFG_OK);
  p3cfg_model_info info;
  cr_assert_eq(p3cfg_model_get_info(&info, m), P3CFG_OK);
  cr_expect_str_eq(info.name, "minimal-model");
  cr_expect_eq(info.layers, 24);
  cr_expect_eq(info.kv_heads, 16);
  cr_expect_eq(info.ffn_hidden, 8192);
  /* GPT with h = 2048: 12h^2 + 13h per block (Megatron SC'21 eq. 2). */
  cr_expect_eq(info.params_per_layer, 12ull * 2048 * 2048 + 13ull * 2048);
  cr_expect_gt(info.params_total, info.params_non_embedding / 2);
  cr_expect_eq(p3cfg_model_get_info(NULL, m), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_model_get_info(&info, NULL), P3CFG_EINVALID);
  p3cfg_model_free(m);
}
