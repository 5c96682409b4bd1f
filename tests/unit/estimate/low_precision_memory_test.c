/*
 * low_precision_memory_test.c — Transformer Engine's fp8 memory (low_precision_memory.c):
 * the linear layers' saved inputs shrink to one byte, the cached fp8 weight copies add two
 * bytes per linear weight, and fp8_param_gather replaces the bf16 weight with them (and
 * with ZeRO 3 gathers the layers quantized).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "activations.h"
#include "model_params.h"
#include "model_state.h"
#include "p3cfg.h"
#include "types.h"

static p3cfg_model *llama8b(void)
{
  p3cfg_model *m;
  char path[512];
  snprintf(path, sizeof path, "%s/models/llama3-8b.yaml", P3CFG_SOURCE_DIR);
  cr_assert_eq(p3cfg_model_load(&m, path, NULL), 0);
  return m;
}

/* Llama 3 8B's 32 layers on one stage, dp 8, tp 1, at ZeRO stage `zero`: its parameters. */
static void dp8_one_stage(p3cfg_plan *pl, p3cfg__params *pc, p3cfg__stage_params *sp,
                          const p3cfg_model *m, uint32_t zero)
{
  *pl = (p3cfg_plan)P3CFG_PLAN_INIT;
  pl->dp = 8, pl->zero_stage = zero, pl->n_stage_layers = 1, pl->stage_layers[0] = 32;
  p3cfg__model_params(pc, m, 1);
  p3cfg__stage_params_get(sp, pc, m, pl, 0);
}

/* Llama 3 8B, tp 1, micro-batch 1, s 8192: QKV and MLP-up inputs (2 x s h), projection
 * input (s h) and MLP-down input (s f) drop from 2 bytes to 1. */
Test(estimate, fp8_saves_the_linear_inputs_in_one_byte)
{
  p3cfg_model *m = llama8b();
  p3cfg_plan pl = P3CFG_PLAN_INIT;
  pl.dp = 1;
  const uint64_t bf16 = p3cfg__layer_act_bytes(m, &pl, P3CFG_RECOMPUTE_NONE);
  m->precision = P3CFG_PREC_FP8;
  const uint64_t fp8 = p3cfg__layer_act_bytes(m, &pl, P3CFG_RECOMPUTE_NONE);
  const uint64_t s = 8192, h = 4096, f = 14336;
  cr_expect_eq(bf16 - fp8, 3 * s * h + s * f);
  cr_expect_eq(p3cfg__layer_act_bytes(m, &pl, P3CFG_RECOMPUTE_FULL), 2 * s * h);
  p3cfg_model_free(m);
}

Test(estimate, fp8_weight_copies_and_param_gather)
{
  p3cfg_model *m = llama8b();
  p3cfg_plan pl;
  p3cfg__params pc;
  p3cfg__stage_params sp;
  dp8_one_stage(&pl, &pc, &sp, m, 1);
  p3cfg__model_state bf, fp8, gather;
  p3cfg__model_state_get(&bf, m, &pl, &sp);
  m->precision = P3CFG_PREC_FP8;
  p3cfg__model_state_get(&fp8, m, &pl, &sp);
  m->fp8_param_gather = true;
  p3cfg__model_state_get(&gather, m, &pl, &sp);
  const uint64_t linear = 32 * pc.layer_per_gpu;
  cr_expect_eq(fp8.weights_bytes, bf.weights_bytes + 2 * linear); /* fp8 + its transpose */
  cr_expect_eq(gather.weights_bytes, bf.weights_bytes);           /* 2 bytes become 1 + 1 */
  cr_expect_eq(fp8.optimizer_bytes, bf.optimizer_bytes); /* fp32 main weights and moments */
  cr_expect_eq(fp8.gradients_bytes, bf.gradients_bytes); /* fp32 main gradients */
  p3cfg_model_free(m);
}

/* ZeRO 3 with fp8_param_gather: the blocks in flight are gathered quantized. For Llama 3 8B
 * the embedding (V h = 525M) is the largest block: it and a layer (218M, fp8: one byte)
 * are held, not two embeddings in 16 bits. */
Test(estimate, zero3_fp8_param_gather_holds_the_largest_block_and_a_quantized_layer)
{
  p3cfg_model *m = llama8b();
  p3cfg_plan pl;
  p3cfg__params pc;
  p3cfg__stage_params sp;
  dp8_one_stage(&pl, &pc, &sp, m, 3);
  cr_assert_gt(sp.largest_unit, sp.layer_unit, "the embedding is the largest block");
  m->precision = P3CFG_PREC_FP8;
  p3cfg__model_state fp8, gather;
  p3cfg__model_state_get(&fp8, m, &pl, &sp);
  cr_expect_eq(fp8.gather_bytes, 2 * 2 * sp.largest_unit); /* two 16-bit blocks */
  m->fp8_param_gather = true;
  p3cfg__model_state_get(&gather, m, &pl, &sp);
  cr_expect_eq(gather.gather_bytes, 2 * sp.largest_unit + sp.layer_unit);
  p3cfg_model_free(m);
}
