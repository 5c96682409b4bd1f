/*
 * model_params_test.c — parameter counts of the MoE / MLA / MTP presets against the
 * figures their authors publish (total and activated per token), and the matrix-by-matrix
 * pieces that make them (router, shared experts, MLA's duplicated down-projections).
 *
 * Published figures:
 *  - Mixtral 8x7B: 46.7B total, 12.9B active (Jiang et al., arXiv 2401.04088, sec. 1 and
 *    Table 2's "Active Params" 13B).
 *  - DeepSeek-V3: 671B total, 37B activated; the MTP module adds 14B (685B on Hugging
 *    Face) (arXiv 2412.19437, sec. 1 and the repository's README_WEIGHTS.md).
 *  - Qwen3-235B-A22B: 235B / 22B; Qwen3-30B-A3B: 30.5B / 3.3B (arXiv 2505.09388, Table 2
 *    and the model cards).
 *  - GPT-OSS-120B: 116.83B total, 5.13B active (model card, Table 1; the active figure
 *    counts the unembedding, not the input embedding).
 * Published figures are rounded (and count some small tensors p3cfg leaves out), so the
 * checks hold them to their last digit.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "model_params.h"
#include "p3cfg.h"
#include "types.h"

static p3cfg_model *preset(const char *stem)
{
  char path[512];
  snprintf(path, sizeof path, "%s/models/%s.yaml", P3CFG_SOURCE_DIR, stem);
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, path, NULL), P3CFG_OK, "%s: %s", path,
               p3cfg_error_last()->message);
  return m;
}

/* |got - want| <= tol, all in billions. */
static void near_b(uint64_t got, double want_b, double tol_b, const char *what)
{
  const double g = (double)got / 1e9;
  cr_expect(fabs(g - want_b) <= tol_b, "%s: %.4f B, published %.2f B (+-%.2f)", what, g, want_b,
            tol_b);
}

Test(model_params, mixtral_8x7b)
{
  p3cfg_model *m = preset("mixtral-8x7b");
  p3cfg__params p;
  p3cfg__model_params(&p, m, 1);
  near_b(p.total, 46.7, 0.05, "total");
  near_b(p.active, 12.9, 0.05, "active");
  cr_expect_eq(p.moe_layers, 32);
  cr_expect_eq(p.dense_layers, 0);
  /* One expert: SwiGLU 3 x 4096 x 14336; router 8 x 4096 in every layer. */
  cr_expect_eq(p.expert, 3ull * 4096 * 14336);
  const uint64_t attn = 4096ull * (4096 + 2 * 1024) + 4096ull * 4096;
  cr_expect_eq(p.moe_layer_base, attn + 8 * 4096 + 2 * 4096);
  p3cfg_model_free(m);
}

Test(model_params, deepseek_v3)
{
  p3cfg_model *m = preset("deepseek-v3");
  p3cfg__params p;
  p3cfg__model_params(&p, m, 1);
  near_b(p.total, 671, 0.5, "total");
  /* 37B activated: the blocks with 8 routed experts and the output layer (36.6B); with the
   * input embedding too it would be 37.6B. */
  near_b(p.active - p.word_embedding, 37, 0.5, "activated");
  /* The MTP module: one MoE layer + eh_proj + 3 norms. README_WEIGHTS.md: 14B stored, of
   * which 11.5B unique (the rest is its copy of the embedding and output head, which
   * p3cfg shares with the main model). */
  near_b(p.mtp, 11.5, 0.15, "MTP module, unique parameters");
  cr_expect_eq(p.dense_layers, 3);
  cr_expect_eq(p.moe_layers, 58);
  /* MLA: q_a 7168x1536 + norm, q_b 1536 x 128*192, kv_a 7168 x (512+64) + norm,
   * kv_b 512 x 128*256, o 128*128 x 7168. */
  const uint64_t mla = 7168ull * 1536 + 1536 + 1536ull * 128 * 192 + 7168ull * 576 + 512 +
                       512ull * 128 * 256 + 128ull * 128 * 7168;
  cr_expect_eq(p.layer, mla + 3ull * 7168 * 18432 + 2 * 7168);
  cr_expect_eq(p.moe_layer_base, mla + 3ull * 7168 * 2048 /* shared */ + 256ull * 7168 + 2 * 7168);
  p3cfg_model_free(m);
}

Test(model_params, deepseek_v3_tp_shares)
{
  p3cfg_model *m = preset("deepseek-v3");
  p3cfg__params p;
  p3cfg__model_params(&p, m, 8);
  /* Duplicated over tp: q_a, kv_a and their norms, the router, the two layer norms. */
  const uint64_t dup = 7168ull * 1536 + 1536 + 7168ull * 576 + 512;
  const uint64_t split = 1536ull * 128 * 192 + 512ull * 128 * 256 + 128ull * 128 * 7168;
  cr_expect_eq(p.moe_layer_base_per_gpu,
               dup + split / 8 + 3ull * 7168 * 2048 / 8 + 256ull * 7168 + 2 * 7168);
  cr_expect_eq(p.mtp_per_gpu, 3 * 7168 + 2ull * 7168 * 7168 / 8 + p.moe_layer_base_per_gpu);
  p3cfg_model_free(m);
}

Test(model_params, qwen3)
{
  p3cfg_model *m = preset("qwen3-235b-a22b");
  p3cfg__params p;
  p3cfg__model_params(&p, m, 1);
  near_b(p.total, 235, 0.5, "qwen3-235b total");
  near_b(p.active, 22, 0.5, "qwen3-235b activated");
  /* head_dim 128: Q is 64 x 128 = 8192 wide on hidden 4096. */
  cr_expect_eq(p.moe_layer_base, 4096ull * (8192 + 2 * 512) + 8192ull * 4096 + 128ull * 4096 +
                                     2 * 4096);
  p3cfg_model_free(m);
  m = preset("qwen3-30b-a3b");
  p3cfg__model_params(&p, m, 1);
  near_b(p.total, 30.5, 0.05, "qwen3-30b total");
  near_b(p.active, 3.3, 0.06, "qwen3-30b activated (3.35B, published truncated)");
  p3cfg_model_free(m);
}

Test(model_params, gpt_oss_120b)
{
  p3cfg_model *m = preset("gpt-oss-120b");
  p3cfg__params p;
  p3cfg__model_params(&p, m, 1);
  near_b(p.total, 116.83, 0.01, "total");
  near_b(p.active - p.word_embedding, 5.13, 0.01, "active without the input embedding");
  /* Biased SwiGLU expert: gate+up 2880 x 5760 + 5760, down 2880 x 2880 + 2880. */
  cr_expect_eq(p.expert, 2880ull * 5760 + 5760 + 2880ull * 2880 + 2880);
  p3cfg_model_free(m);
}

Test(model_params, dense_unchanged_by_moe_fields)
{
  p3cfg_model *m = preset("llama3-70b");
  p3cfg__params p;
  p3cfg__model_params(&p, m, 4);
  cr_expect_eq(p.moe_layers, 0);
  cr_expect_eq(p.dense_layers, 80);
  cr_expect_eq(p.total, 80 * p.layer + p.word_embedding + p.output_layer + p.final_norm);
  cr_expect_eq(p.active, p.total, "a dense model's every parameter is active");
  cr_expect_eq(p.mtp, 0);
  p3cfg_model_free(m);
}
