/*
 * moe_memory_test.c — model state of MoE plans, with the expected bytes derived by hand
 * from Qwen3-30B-A3B's config.json (models/qwen3-30b-a3b.yaml): expert weights split
 * over ep (and etp), the distributed optimizer over dp*cp for dense parameters and over
 * edp = dp*tp*cp/(ep*etp) for expert ones; the leading dense layers and the MTP module of
 * DeepSeek-V3 where they live; the routed tokens of the MoE activations.
 *
 * Qwen3-30B-A3B per layer: attention 2048 (4096 + 2*512) + 4096*2048 = 18,874,368,
 * two RMSNorms 4096, router 128*2048 = 262,144: base 19,140,608; one SwiGLU expert
 * 3*2048*768 = 4,718,592. Embedding and output layer 151936*2048 = 311,164,928 each,
 * final norm 2048. At tp 1, pp 1, ep 8: 16 experts per GPU per layer, so
 *   dense  Ψd = 48*19,140,608 + 2*311,164,928 + 2048 = 1,541,081,088
 *   expert Ψe = 48*16*4,718,592                       = 3,623,878,656
 */
#include <stdio.h>

#include "est_fixtures.h"

#include "activations.h"
#include "model_params.h"
#include "model_state.h"

static p3cfg_model *preset(const char *stem)
{
  char path[512];
  snprintf(path, sizeof path, "%s/models/%s.yaml", P3CFG_SOURCE_DIR, stem);
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, path, NULL), P3CFG_OK, "%s", path);
  return m;
}

static void state_of(p3cfg__stage_params *sp, p3cfg__model_state *ms, const p3cfg_model *m,
                     p3cfg_plan *p, uint32_t stage)
{
  p3cfg__params pc;
  p3cfg__model_params(&pc, m, p->tp);
  if (!p->n_stage_layers) {
    p->n_stage_layers = p->pp;
    for (uint32_t i = 0; i < p->pp; i++)
      p->stage_layers[i] = (uint32_t)(m->layers / p->pp);
  }
  p3cfg__stage_params_get(sp, &pc, m, p, stage);
  p3cfg__model_state_get(ms, m, p, sp);
}

Test(moe_memory, qwen3_30b_ep8_distributed_optimizer)
{
  p3cfg_model *m = preset("qwen3-30b-a3b");
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.ep = 8;
  p.zero_stage = 1;
  p3cfg__stage_params sp;
  p3cfg__model_state ms;
  state_of(&sp, &ms, m, &p, 0);
  const uint64_t dense = 1541081088ull, expert = 3623878656ull;
  cr_expect_eq(sp.expert_params, expert);
  cr_expect_eq(sp.params, dense + expert);
  cr_expect_eq(ms.weights_bytes, 2 * (dense + expert), "bf16 weights");
  cr_expect_eq(ms.gradients_bytes, 4 * (dense + expert), "fp32 main-grad buffer");
  /* edp = 8*1*1/(8*1) = 1: expert optimizer state is not sharded; dense over dp 8. */
  cr_expect_eq(ms.optimizer_bytes, 12 * (dense / 8 + expert), "%llu",
               (unsigned long long)ms.optimizer_bytes);
  p3cfg_model_free(m);
}

Test(moe_memory, qwen3_30b_edp_shards_expert_optimizer)
{
  p3cfg_model *m = preset("qwen3-30b-a3b");
  p3cfg_plan p = est_plan(16, 1, 1, 1);
  p.ep = 8;
  p.zero_stage = 1;
  p3cfg__stage_params sp;
  p3cfg__model_state ms;
  state_of(&sp, &ms, m, &p, 0);
  const uint64_t expert = 3623878656ull;
  /* edp = 16/8 = 2. ceil(1,541,081,088 / 16) = 96,317,568. */
  cr_expect_eq(ms.optimizer_bytes, 12 * (96317568ull + expert / 2));
  p3cfg_model_free(m);
}

Test(moe_memory, etp_splits_each_expert)
{
  p3cfg_model *m = preset("qwen3-30b-a3b");
  p3cfg_plan p = est_plan(4, 2, 1, 1);
  p.ep = 4;
  p.etp = 2; /* dp*tp = 8 = ep*etp: edp 1 */
  p3cfg__stage_params sp;
  p3cfg__model_state ms;
  state_of(&sp, &ms, m, &p, 0);
  /* 32 experts per GPU, each half: 48 * 32 * 4,718,592 / 2. */
  cr_expect_eq(sp.expert_params, 48ull * 32 * 4718592 / 2);
  p3cfg_model_free(m);
}

Test(moe_memory, cp_folds_into_the_dense_optimizer_shard)
{
  p3cfg_model *m = preset("llama3-8b-128k");
  p3cfg_plan p = est_plan(2, 1, 1, 1), q = est_plan(2, 1, 1, 1);
  p.zero_stage = q.zero_stage = 1;
  q.cp = 4;
  p3cfg__stage_params sp, sq;
  p3cfg__model_state ms, mq;
  state_of(&sp, &ms, m, &p, 0);
  state_of(&sq, &mq, m, &q, 0);
  cr_expect_eq(sp.expert_params, 0);
  cr_expect_eq(ms.weights_bytes, mq.weights_bytes, "cp does not split weights");
  cr_expect_eq(mq.optimizer_bytes, 12 * ((sp.params + 7) / 8), "sharded over dp*cp = 8");
  /* Activations: each CP rank holds s/cp = 32768 tokens of the 131072. */
  cr_expect_eq(p3cfg__layer_act_bytes(m, &q, P3CFG_RECOMPUTE_FULL), 2ull * 32768 * 4096);
  p3cfg_model_free(m);
}

Test(moe_memory, deepseek_v3_dense_layers_and_mtp_where_they_live)
{
  p3cfg_model *m = preset("deepseek-v3");
  p3cfg__params pc;
  p3cfg__model_params(&pc, m, 1);
  p3cfg_plan p = est_plan(8, 1, 4, 1);
  p.ep = 8;
  const uint32_t split[4] = {16, 15, 15, 15};
  p.n_stage_layers = 4;
  for (int i = 0; i < 4; i++)
    p.stage_layers[i] = split[i];
  p3cfg__stage_params first, last;
  p3cfg__model_state ms;
  state_of(&first, &ms, m, &p, 0);
  state_of(&last, &ms, m, &p, 3);
  cr_expect_eq(first.dense_layers, 3, "DeepSeek-V3's three dense layers on stage 0");
  cr_expect_eq(last.dense_layers, 0);
  const uint64_t experts_gpu = 32 * pc.expert; /* 256 / 8 per layer */
  cr_expect_eq(first.expert_params, 13 * experts_gpu);
  cr_expect_eq(last.expert_params, (15 + 1) * experts_gpu, "the MTP module's experts too");
  cr_expect_eq(last.params - last.expert_params,
               15 * pc.moe_layer_base_per_gpu + pc.output_layer + pc.final_norm + pc.mtp_per_gpu);
  p3cfg_model_free(m);
}

Test(moe_memory, routed_tokens_top_k_times_the_shard)
{
  p3cfg_model *m = preset("qwen3-30b-a3b");
  p3cfg_plan p = est_plan(8, 2, 1, 2);
  p.ep = 8;
  p.sequence_parallel = 1;
  /* sp shard 4096/2 * 2 sequences, gathered over etp = tp = 2: 8192 tokens, top 8. */
  cr_expect_eq(p3cfg__moe_routed_tokens(m, &p), 8ull * 8192);
  p.etp = 1;
  cr_expect_eq(p3cfg__moe_routed_tokens(m, &p), 8ull * 4096);
  m->moe.capacity_factor = 1.25;
  /* 128 experts, each padded to ceil(8 x 4096 / 128 x 1.25) = 320 rows. */
  cr_expect_eq(p3cfg__moe_routed_tokens(m, &p), 128ull * 320, "capped at 1.25 x the mean");
  /* The MoE layer holds at least the routed tokens' input and output (2 x e x R x h). */
  cr_expect_gt(p3cfg__moe_layer_act_bytes(m, &p, P3CFG_RECOMPUTE_NONE), 2ull * 2 * 40960 * 2048);
  /* An expert takes at most all 4096 tokens of the shard, one copy each: any factor from
   * E / top_k = 16 up holds what 16 holds (the time model stops there too). */
  m->moe.capacity_factor = 16.0;
  cr_expect_eq(p3cfg__moe_routed_tokens(m, &p), 128ull * 4096);
  m->moe.capacity_factor = 500.0;
  cr_expect_eq(p3cfg__moe_routed_tokens(m, &p), 128ull * 4096, "not 500 x the mean");
  /* And a capacity rounds up to whole rows: 8 x 4096 / 128 x 0.001 = 0.256 -> 1 row. */
  m->moe.capacity_factor = 0.001;
  cr_expect_eq(p3cfg__moe_routed_tokens(m, &p), 128ull);
  p3cfg_model_free(m);
}
