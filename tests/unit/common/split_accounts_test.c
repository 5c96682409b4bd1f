/*
 * split_accounts_test.c — Megatron-Core's pipeline split accounting for the embedding and
 * the loss (p3cfg_plan.split_accounts; TransformerConfig's
 * account_for_{embedding,loss}_in_pipeline_split): the balanced split, each chunk's
 * layers and first layer, and the rules, against counts hand-derived from
 * get_num_layers_to_build and get_transformer_layer_offset (transformer_block.py and
 * transformer_layer.py at d98e8a6). The model is Llama 3.1 405B (126 layers;
 * models/llama3-405b.yaml), the plans Megatron-Bridge's 405B recipes (pp 8 x vpp 4 on
 * 256 GB300, pp 16 x vpp 8 on 256 GB200, pp 8 x vpp 8 on 1024 H100; perf_recipes at
 * 067f987), all with both flags set.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "error.h"
#include "plan_rules.h"
#include "types.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

static p3cfg_model *model;
static p3cfg_cluster *cluster;

static void setup(void)
{
  cr_assert_eq(p3cfg_model_load(&model, SRC("models/llama3-405b.yaml"), NULL), P3CFG_OK);
  cr_assert_eq(p3cfg_cluster_load(&cluster, SRC("clusters/dgx-h100-128n.yaml"), NULL), P3CFG_OK);
  cr_assert_eq(model->layers, 126);
}

static void teardown(void)
{
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
}

TestSuite(split_accounts, .init = setup, .fini = teardown);

static p3cfg_plan plan(uint32_t tp, uint32_t pp, uint32_t v, uint32_t accounts)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = tp;
  p.pp = pp;
  p.virtual_stages = v;
  p.sequence_parallel = 1;
  p.dp = 1024 / (tp * pp);
  p.global_batch = (uint64_t)p.dp * pp * 2;
  p.split_accounts = accounts;
  return p;
}

#define BOTH (P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS)

/* 126 + 2 = 128 units, 16 per rank of pp 8, 4 per chunk of vpp 4: rank 0 builds 3 layers
 * in its first chunk (the embedding is the fourth), the last rank 3 in its last. */
Test(split_accounts, pp8_vpp4_gives_the_ends_one_layer_fewer)
{
  p3cfg_plan p = plan(8, 8, 4, BOTH);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  const uint32_t want[8] = {15, 16, 16, 16, 16, 16, 16, 15};
  for (uint32_t j = 0; j < 8; j++)
    cr_expect_eq(p.stage_layers[j], want[j], "rank %u", j);
  cr_expect_eq(p3cfg__chunk_layers(&p, 0, 0), 3);
  cr_expect_eq(p3cfg__chunk_layers(&p, 0, 1), 4);
  cr_expect_eq(p3cfg__chunk_layers(&p, 7, 3), 3);
  cr_expect_eq(p3cfg__chunk_layers(&p, 7, 2), 4);
  cr_expect_eq(p3cfg__chunk_layers(&p, 3, 0), 4);
  /* get_transformer_layer_offset: virtual stage k*pp + j starts after its units, less
   * the embedding's: rank 1 chunk 0 at layer 3, rank 0 chunk 1 at 8*4 - 1 = 31. */
  cr_expect_eq(p3cfg__chunk_first_layer(&p, 0, 0), 0);
  cr_expect_eq(p3cfg__chunk_first_layer(&p, 1, 0), 3);
  cr_expect_eq(p3cfg__chunk_first_layer(&p, 0, 1), 31);
  cr_expect_eq(p3cfg__chunk_first_layer(&p, 7, 3), 123, "the last chunk holds 123..125");
  uint64_t sum = 0;
  for (uint32_t k = 0; k < 4; k++)
    for (uint32_t j = 0; j < 8; j++) {
      cr_expect_eq(p3cfg__chunk_first_layer(&p, j, k), sum, "chunks follow each other");
      sum += p3cfg__chunk_layers(&p, j, k);
    }
  cr_expect_eq(sum, 126);
}

/* pp 16 x vpp 8: one unit per chunk, so rank 0's first chunk is the embedding alone and
 * the last rank's last chunk the loss alone (get_num_layers_to_build returns 0). */
Test(split_accounts, pp16_vpp8_leaves_embedding_and_loss_chunks_empty)
{
  p3cfg_plan p = plan(4, 16, 8, BOTH);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  cr_expect_eq(p.stage_layers[0], 7);
  cr_expect_eq(p.stage_layers[15], 7);
  cr_expect_eq(p.stage_layers[8], 8);
  cr_expect_eq(p3cfg__chunk_layers(&p, 0, 0), 0);
  cr_expect_eq(p3cfg__chunk_layers(&p, 15, 7), 0);
  cr_expect_eq(p3cfg__chunk_layers(&p, 15, 6), 1);
}

/* The layers alone do not fill pp 8 x vpp 4 (126 over 32 chunks): resolving a balanced
 * split takes Megatron-Bridge's accounting of both, and so wherever it makes the only
 * even split; given stage layers get no accounting they did not ask for, and the
 * embedding alone (127 units) is still no split. */
Test(split_accounts, resolve_accounts_for_both_where_the_layers_alone_cannot_interleave)
{
  p3cfg_plan p = plan(8, 8, 4, 0);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  cr_expect_eq(p.split_accounts, BOTH);
  cr_expect_eq(p.stage_layers[0], 15);
  /* pp 8 x vpp 2: the layers fill the chunks (126 = 2 x 63) but split unevenly over
   * the ranks; with both accounted, 8 units a chunk, Megatron's even split. */
  p = plan(8, 8, 2, 0);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK);
  cr_expect_eq(p.split_accounts, BOTH);
  cr_expect_eq(p.stage_layers[0], 15);
  /* pp 7 x vpp 2: 126 layers split evenly on their own, nothing accounted. */
  p = plan(8, 2, 7, 0);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK);
  cr_expect_eq(p.split_accounts, 0, "126 layers fill pp 2 x vpp 7 evenly on their own");
  cr_expect_eq(p.stage_layers[0], 63);
  p = plan(8, 8, 4, 0);
  p.n_stage_layers = 8;
  const uint32_t given[8] = {16, 16, 16, 16, 16, 16, 15, 15};
  memcpy(p.stage_layers, given, sizeof given);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "not a multiple of virtual_stages 4") != NULL,
            "%s", p3cfg_error_last()->message);
  p = plan(8, 8, 4, P3CFG_SPLIT_ACCOUNT_EMBEDDING);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "plus the 1 the split accounts for (127)") != NULL,
            "%s", p3cfg_error_last()->message);
}

/* Meta's 405B run (Llama 3 report, arXiv 2407.21783 s. 3.3.2: "we reduce one Transformer
 * layer each from the first and the last stages"): pp 16 without interleaving, 7 layers
 * on the ends and 8 in between. */
Test(split_accounts, pp16_without_interleaving_is_metas_split)
{
  p3cfg_plan p = plan(8, 16, 1, BOTH);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  for (uint32_t j = 0; j < 16; j++)
    cr_expect_eq(p.stage_layers[j], j == 0 || j == 15 ? 7u : 8u, "rank %u", j);
  cr_expect_eq(p3cfg__chunk_layers(&p, 0, 0), 7);
}

Test(split_accounts, rules_name_what_is_wrong)
{
  /* A given split whose first rank does not make whole chunks with its embedding. */
  p3cfg_plan p = plan(8, 8, 4, BOTH);
  p.n_stage_layers = 8;
  const uint32_t bad[8] = {16, 16, 16, 16, 16, 16, 15, 15};
  memcpy(p.stage_layers, bad, sizeof bad);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message,
                   "stage 0 has 16 layers and accounts for the embedding: 17 units") != NULL,
            "%s", p3cfg_error_last()->message);
  /* One stage: nothing to account in. */
  p = plan(8, 1, 1, P3CFG_SPLIT_ACCOUNT_LOSS);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "loss in the pipeline split needs pp > 1") != NULL,
            "%s", p3cfg_error_last()->message);
  /* Megatron-LM only. */
  p = plan(8, 8, 1, BOTH);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.compile = 1;
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "torchtitan cannot account for") != NULL, "%s",
            p3cfg_error_last()->message);
  p = plan(8, 8, 1, 4);
  cr_assert_eq(p3cfg_plan_resolve(&p, model, cluster), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "unknown split_accounts flags 0x4") != NULL, "%s",
            p3cfg_error_last()->message);
}
