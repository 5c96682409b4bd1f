/*
 * est_fixtures.h — models, clusters and plans for the estimate tests, filled by hand
 * from published configurations (the parser is another stage; these tests see only the
 * structs of src/common/types.h).
 */
#ifndef P3CFG_EST_FIXTURES_H
#define P3CFG_EST_FIXTURES_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_presets.h"
#include "memory.h"
#include "p3cfg.h"
#include "plan_rules.h"
#include "types.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* A Megatron-LM GPT: GELU 4h MLP, LayerNorm, biases, dropout, learned positions, tied
 * embeddings, no flash attention, bf16 + Adam (Megatron SC'21 and Korthikanti setups). */
static inline p3cfg_model est_gpt(uint64_t layers, uint64_t hidden, uint64_t heads, uint64_t vocab,
                                  uint64_t seq, uint64_t global_batch)
{
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.name = (char *)"gpt";
  m.layers = layers;
  m.hidden = hidden;
  m.heads = m.kv_heads = heads;
  m.ffn_hidden = 4 * hidden;
  m.vocab = vocab;
  m.seq_len = seq;
  m.global_batch = global_batch;
  m.activation = P3CFG_ACT_GELU;
  m.tied_embeddings = true;
  m.position_embedding = P3CFG_POS_LEARNED;
  m.norm = P3CFG_NORM_LAYERNORM;
  m.flash_attention = false;
  m.precision = P3CFG_PREC_BF16;
  m.optimizer = P3CFG_OPT_ADAM;
  m.bias = true;
  m.dropout = true;
  return m;
}

/* NVIDIA/Megatron-LM tests/functional_tests/test_cases/gpt/gpt3_7b_tp4_pp1_memory_speed/
 * model_config.yaml: 32 layers, h 4096, 32 heads in 8 query groups, ffn 16384 (GELU),
 * untied embeddings, learned positions of 8192, vocab 131072 + 1 (the null tokenizer's
 * end-of-document token), TE attention (flash), bias and dropout on, global batch 8. */
static inline p3cfg_model est_ci_7b(void)
{
  p3cfg_model m = est_gpt(32, 4096, 32, 131073, 8192, 8);
  m.name = (char *)"gpt3-7b-ci";
  m.kv_heads = 8;
  m.tied_embeddings = false;
  m.flash_attention = true;
  return m;
}

/* `nodes` nodes of 8 GPUs of preset `gpu` (h100-sxm, a100-80gb, ...). */
static inline p3cfg_cluster est_cluster(const char *gpu, uint32_t nodes)
{
  p3cfg_cluster c;
  memset(&c, 0, sizeof c);
  c.name = (char *)"test-cluster";
  c.nodes = nodes;
  c.gpus_per_node = 8;
  const p3cfg_gpu *g = p3cfg__gpu_preset(gpu);
  cr_assert_not_null(g, "no GPU preset %s", gpu);
  c.gpu = *g;
  c.intra_Bps = 450e9;
  c.inter_Bps = 50e9;
  c.intra_latency_s = 2e-6;
  c.inter_latency_s = 5e-6;
  return c;
}

static inline p3cfg_plan est_plan(uint32_t dp, uint32_t tp, uint32_t pp, uint32_t mbs)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.dp = dp;
  p.tp = tp;
  p.pp = pp;
  p.micro_batch = mbs;
  return p;
}

/* Complete (balanced split unless given, the model's global batch) and check `p`. */
static inline void est_resolve(p3cfg_plan *p, const p3cfg_model *m, const p3cfg_cluster *c)
{
  /* ZeRO stage 2 is DeepSpeed's (Megatron-LM has none): such a plan is DeepSpeed's. */
  if (p->zero_stage == 2)
    p->framework = P3CFG_FRAMEWORK_DEEPSPEED;
  if (p->global_batch == 0)
    p->global_batch = m->global_batch;
  if (p->n_stage_layers == 0)
    cr_assert_eq(p3cfg__plan_balanced_split(p, m), 0, "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg__plan_check(p, m, c), 0, "%s", p3cfg_error_last()->message);
}

/* Memory of a resolved plan; stages[] must have room for p->pp entries. */
static inline p3cfg_memory est_memory(p3cfg_stage_memory *stages, const p3cfg_model *m,
                                      const p3cfg_cluster *c, p3cfg_plan *p)
{
  est_resolve(p, m, c);
  p3cfg_memory mem;
  p3cfg__memory_plan(&mem, stages, m, c, p);
  return mem;
}

static inline uint64_t est_steady(const p3cfg_stage_memory *s)
{
  return s->weights_bytes + s->gradients_bytes + s->optimizer_bytes;
}

static inline double est_rel(double predicted, double expected)
{
  return (predicted - expected) / expected;
}

#endif
