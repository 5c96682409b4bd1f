/*
 * framework_memory_test.c — the framework memory rules (src/estimate/framework_memory.c)
 * with numbers derived by hand from the upstream code paths: torchtitan's FSDP2 shards
 * and buffers, its per-op SAC policy, HSDP; Megatron plans unchanged.
 */
#include <criterion/criterion.h>

#include "activations.h"
#include "est_fixtures.h"
#include "framework_memory.h"
#include "framework_physics.h"
#include "memory.h"
#include "model_params.h"
#include "model_state.h"

/* A small Llama: h 1024, 16 heads of 64 in 4 KV groups, SwiGLU f 2816, RMSNorm, rope,
 * flash, untied, no bias or dropout, s 1024. */
static p3cfg_model llama_small(void)
{
  p3cfg_model m = est_gpt(4, 1024, 16, 32000, 1024, 64);
  m.kv_heads = 4;
  m.ffn_hidden = 2816;
  m.activation = P3CFG_ACT_SWIGLU;
  m.norm = P3CFG_NORM_RMSNORM;
  m.position_embedding = P3CFG_POS_ROPE;
  m.tied_embeddings = false;
  m.flash_attention = true;
  m.bias = false;
  m.dropout = false;
  return m;
}

Test(estimate, torchtitan_sac_keeps_the_odd_matmuls_sdpa_and_the_block_input)
{
  p3cfg_model m = llama_small();
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  /* tokens 1024; matmuls wq 1024, wk 256, wv 256, wo 1024, w1 2816, w3 2816, w2 1024:
   * the 1st, 3rd, 5th, 7th saved = 1024 + 256 + 2816 + 1024 = 5120 wide; the block input
   * and SDPA's output 1024 each; bf16: 2 * 1024 * 7168 = 14 680 064; SDPA's fp32
   * log-sum-exp 4 * 1024 * 16 = 65 536. */
  cr_assert_eq(p3cfg__sac_layer_bytes(&m, &p), 14680064u + 65536u);
  cr_assert_eq(p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_SELECTIVE), 14680064u + 65536u);
  p.framework = P3CFG_FRAMEWORK_MEGATRON; /* Megatron keeps its own selective rule */
  cr_assert_eq(p3cfg__sac_layer_bytes(&m, &p), 0u);
}

Test(estimate, torchtitan_sac_lies_between_no_recompute_and_full)
{
  p3cfg_model m = llama_small();
  p3cfg_plan p = est_plan(8, 1, 1, 2);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  const uint64_t none = p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_NONE);
  const uint64_t sac = p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_SELECTIVE);
  const uint64_t full = p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_FULL);
  cr_assert(full < sac && sac < none, "full %lu sac %lu none %lu", (unsigned long)full,
            (unsigned long)sac, (unsigned long)none);
}

Test(estimate, fsdp2_shards_fp32_params_and_grads_and_gathers_two_blocks_and_the_output)
{
  p3cfg_model m = llama_small();
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.zero_stage = 3;
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.n_stage_layers = 1;
  p.stage_layers[0] = 4;
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 1);
  p3cfg__stage_params sp;
  p3cfg__stage_params_get(&sp, &pc, &m, &p, 0);
  p3cfg__model_state ms;
  p3cfg__model_state_get(&ms, &m, &p, &sp);
  const uint64_t shard = (sp.params + 7) / 8;
  /* configs.py: fp32 training dtype (the shard is the master), reduce in fp32. */
  cr_assert_eq(ms.weights_bytes, 4 * shard);
  cr_assert_eq(ms.gradients_bytes, 4 * shard);
  cr_assert_eq(ms.optimizer_bytes, 8 * shard);
  cr_assert_eq(ms.step_bytes, 0u);
  /* bf16 current + prefetched block, and [norm, lm_head] kept unsharded (fsdp.py). */
  cr_assert_eq(ms.gather_bytes, 2 * 2 * sp.layer_unit + 2 * sp.output_unit);
  cr_assert_eq(sp.output_unit, pc.output_layer + pc.final_norm);
  /* one block's bf16 gradient and its fp32 reduce-scatter input */
  cr_assert_eq(ms.bucket_bytes, 6 * sp.layer_unit);
  /* same totals as Megatron's ZeRO-3 (2 + 2 + 12 bytes) */
  p.framework = P3CFG_FRAMEWORK_MEGATRON;
  p3cfg__model_state mg;
  p3cfg__model_state_get(&mg, &m, &p, &sp);
  cr_assert_eq(mg.weights_bytes + mg.gradients_bytes + mg.optimizer_bytes,
               ms.weights_bytes + ms.gradients_bytes + ms.optimizer_bytes);
}

Test(estimate, fsdp2_with_pp_holds_the_stage_unsharded)
{
  p3cfg_model m = llama_small();
  p3cfg_plan p = est_plan(4, 1, 2, 1);
  p.zero_stage = 3;
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.n_stage_layers = 2;
  p.stage_layers[0] = p.stage_layers[1] = 2;
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 1);
  p3cfg__stage_params sp;
  p3cfg__stage_params_get(&sp, &pc, &m, &p, 0);
  p3cfg__model_state ms;
  p3cfg__model_state_get(&ms, &m, &p, &sp);
  cr_assert_eq(ms.gather_bytes, 2 * sp.params); /* reshard_after_forward off with pp */
  /* torch.distributed.pipelining defers the reduce-scatter to REDUCE_GRAD after the last
   * micro-batch (set_requires_gradient_sync(False) in every backward) and FSDP2 keeps the
   * unsharded gradients meanwhile in its reduce dtype, fp32: 4 bytes per parameter held,
   * beside the fp32 shard of the gradient. */
  const uint64_t shard = (sp.params + 3) / 4;
  cr_assert_eq(ms.gradients_bytes, 4 * sp.params + 4 * shard);
  /* without pp the gradients are reduce-scattered block by block: only the shard stays */
  p = est_plan(8, 1, 1, 1);
  p.zero_stage = 3;
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p.n_stage_layers = 1;
  p.stage_layers[0] = 4;
  p3cfg__stage_params_get(&sp, &pc, &m, &p, 0);
  p3cfg__model_state_get(&ms, &m, &p, &sp);
  cr_assert_eq(ms.gradients_bytes, 4 * ((sp.params + 7) / 8));
}

Test(estimate, hsdp_holds_more_than_fsdp_and_less_than_one_shard_group_per_gpu)
{
  p3cfg_model m = llama_small();
  p3cfg_cluster c = est_cluster("h100-sxm", 2);
  p3cfg_stage_memory s1[1], s2[1];
  p3cfg_plan fsdp = est_plan(16, 1, 1, 1);
  fsdp.zero_stage = 3;
  fsdp.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p3cfg_plan hsdp = fsdp;
  hsdp.dp_shard = 8; /* 2 replicas of 8 shards */
  est_memory(s1, &m, &c, &fsdp);
  est_memory(s2, &m, &c, &hsdp);
  const uint64_t psi = s1[0].params;
  cr_assert_eq(est_steady(&s1[0]), 16 * ((psi + 15) / 16));
  cr_assert_eq(est_steady(&s2[0]), 16 * ((psi + 7) / 8));
  cr_assert(s2[0].peak_bytes > s1[0].peak_bytes);
}

Test(estimate, torchtitan_loss_transient_is_two_fp32_logit_tensors)
{
  p3cfg_model m = llama_small();
  p3cfg_plan p = est_plan(8, 1, 1, 2);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  p3cfg__act_terms t;
  p3cfg__act_terms_get(&t, &m, &p);
  const uint64_t logits = 2u * 1024u * p3cfg__vocab_padded(&m, 1);
  cr_assert_eq(t.loss_bytes, 8 * logits);
  p.framework = P3CFG_FRAMEWORK_MEGATRON;
  p3cfg__act_terms_get(&t, &m, &p);
  cr_assert_eq(t.loss_bytes, 2 * logits);
}

Test(estimate, eager_keeps_more_allocator_headroom_than_compiled)
{
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  const uint64_t peak = 1000000000u;
  const uint64_t eager = p3cfg__fw_slack_bytes(&p, peak);
  p.compile = 1;
  const uint64_t compiled = p3cfg__fw_slack_bytes(&p, peak);
  cr_assert(eager > compiled && compiled > 0);
  p.framework = P3CFG_FRAMEWORK_MEGATRON;
  cr_assert_eq(p3cfg__fw_slack_bytes(&p, peak), peak / P3CFG_MEM_SLACK_DIVISOR);
}

Test(estimate, deepspeed_zero1_holds_its_contiguous_buckets)
{
  p3cfg_model m = est_gpt(8, 4096, 32, 51200, 2048, 64);
  p3cfg_plan p = est_plan(8, 1, 1, 1);
  p.zero_stage = 1;
  p.n_stage_layers = 1;
  p.stage_layers[0] = 8;
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 1);
  p3cfg__stage_params sp;
  p3cfg__stage_params_get(&sp, &pc, &m, &p, 0);
  p3cfg__model_state mg, ds;
  p3cfg__model_state_get(&mg, &m, &p, &sp);
  p.framework = P3CFG_FRAMEWORK_DEEPSPEED;
  p3cfg__model_state_get(&ds, &m, &p, &sp);
  /* reduce_bucket_size / allgather_bucket_size 5e8 elements, 16-bit, capped at Ψ */
  const uint64_t b = 2 * (sp.params < 500000000u ? sp.params : 500000000u);
  cr_assert_eq(ds.bucket_bytes, b);
  cr_assert_eq(ds.step_bytes, mg.step_bytes + b);
  cr_assert_eq(ds.optimizer_bytes, mg.optimizer_bytes);
}
