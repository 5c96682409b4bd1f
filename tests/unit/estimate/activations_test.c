/*
 * activations_test.c — activation memory per layer against Korthikanti et al. 2022
 * (arXiv 2205.05198, Table 2 / references.md) exactly, in their own configurations
 * (16-bit, GELU 4h, multi-head, dropout, no flash attention), for the four models of
 * their Table 5; then what each deviation from that configuration changes (flash
 * attention, GQA, SwiGLU, dropout off, fp32), and the micro-batches Megatron-LM's
 * 1F1B and interleaved schedules keep in flight.
 */
#include "activations.h"
#include "est_fixtures.h"
#include "model_params.h"

/* Korthikanti Table 5 models at their tp 8 (h, a, l, micro-batch), s 2048. */
static const struct {
  uint64_t h, a, l, b;
} paper[] = {{6144, 64, 48, 4}, {12288, 96, 96, 1}, {20480, 128, 105, 1}, {25600, 160, 128, 1}};

static uint64_t layer(const p3cfg_model *m, uint32_t t, uint32_t b, int sp, p3cfg_recompute r)
{
  p3cfg_plan p = est_plan(1, t, 1, b);
  p.sequence_parallel = sp;
  return p3cfg__layer_act_bytes(m, &p, r);
}

Test(estimate, korthikanti_layer_formulas_hold_exactly)
{
  for (size_t i = 0; i < sizeof paper / sizeof paper[0]; i++) {
    const uint64_t h = paper[i].h, a = paper[i].a, s = 2048, b = paper[i].b, t = 8;
    p3cfg_model m = est_gpt(paper[i].l, h, a, 51200, s, 64);
    const uint64_t sbh = s * b * h, s2 = 5 * a * s * s * b;
    /* no parallelism: sbh(34 + 5as/h) */
    cr_assert_eq(layer(&m, 1, (uint32_t)b, 0, P3CFG_RECOMPUTE_NONE), 34 * sbh + s2);
    /* tensor parallel: sbh(10 + 24/t + 5as/(ht)) */
    cr_assert_eq(layer(&m, 8, (uint32_t)b, 0, P3CFG_RECOMPUTE_NONE),
                 10 * sbh + 24 * sbh / t + s2 / t);
    /* tensor + sequence parallel: sbh(34/t + 5as/(ht)) */
    cr_assert_eq(layer(&m, 8, (uint32_t)b, 1, P3CFG_RECOMPUTE_NONE), 34 * sbh / t + s2 / t);
    /* tp + selective recompute: sbh(10 + 24/t) */
    cr_assert_eq(layer(&m, 8, (uint32_t)b, 0, P3CFG_RECOMPUTE_SELECTIVE), 10 * sbh + 24 * sbh / t);
    /* tp + sp + selective: sbh(34/t) */
    cr_assert_eq(layer(&m, 8, (uint32_t)b, 1, P3CFG_RECOMPUTE_SELECTIVE), 34 * sbh / t);
    /* full recompute: 2sbh, the layer input */
    cr_assert_eq(layer(&m, 8, (uint32_t)b, 0, P3CFG_RECOMPUTE_FULL), 2 * sbh);
  }
}

Test(estimate, flash_attention_drops_s2_terms_but_keeps_softmax_stats)
{
  const uint64_t h = 6144, a = 64, s = 2048, b = 4, t = 8, sbh = s * b * h;
  p3cfg_model m = est_gpt(48, h, a, 51200, s, 4);
  m.flash_attention = true;
  /* Q, K, V, output (twice: kernel layout and projection input) and the MLP: 26sbh/t;
   * fp32 log-sum-exp per head and token: 4as b/t. */
  cr_assert_eq(layer(&m, 8, 4, 0, P3CFG_RECOMPUTE_NONE),
               10 * sbh + 26 * sbh / t + 4 * a * s * b / t);
  /* Selective recompute of a flash core attention keeps just its inputs. */
  cr_assert_eq(layer(&m, 8, 4, 0, P3CFG_RECOMPUTE_SELECTIVE), 10 * sbh + 24 * sbh / t);
}

Test(estimate, gqa_shrinks_only_k_and_v)
{
  p3cfg_model mha = est_ci_7b(), gqa = est_ci_7b();
  mha.kv_heads = mha.heads;
  const uint64_t sbh = 8192ull * 2 * 4096, t = 4;
  /* K and V of 8 of 32 heads: 2 tensors x 2 bytes x sbh x (1 - 8/32) / t less. */
  cr_assert_eq(layer(&mha, 4, 2, 0, P3CFG_RECOMPUTE_NONE) -
                   layer(&gqa, 4, 2, 0, P3CFG_RECOMPUTE_NONE),
               2 * 2 * sbh * 3 / 4 / t);
  /* Unfused attention expands K and V to every head (mcore DotProductAttention). */
  mha.flash_attention = gqa.flash_attention = false;
  cr_assert_eq(layer(&mha, 4, 2, 0, P3CFG_RECOMPUTE_NONE),
               layer(&gqa, 4, 2, 0, P3CFG_RECOMPUTE_NONE));
}

Test(estimate, swiglu_keeps_gate_and_up_projections)
{
  p3cfg_model gelu = est_ci_7b(), swiglu = est_ci_7b();
  swiglu.activation = P3CFG_ACT_SWIGLU;
  const uint64_t sbf = 8192ull * 2 * 16384, t = 4;
  cr_assert_eq(layer(&swiglu, 4, 2, 0, P3CFG_RECOMPUTE_NONE) -
                   layer(&gelu, 4, 2, 0, P3CFG_RECOMPUTE_NONE),
               2 * sbf / t, "fc1 output is 2f wide");
}

Test(estimate, no_dropout_drops_masks_and_dropout_output)
{
  const uint64_t h = 6144, a = 64, s = 2048, b = 4, t = 8, sbh = s * b * h;
  p3cfg_model m = est_gpt(48, h, a, 51200, s, 4);
  m.dropout = false;
  /* Two 1-byte residual masks gone (replicated under tp); s² keeps only the softmax. */
  cr_assert_eq(layer(&m, 8, 4, 0, P3CFG_RECOMPUTE_NONE),
               8 * sbh + 24 * sbh / t + 2 * a * s * s * b / t);
}

Test(estimate, fp32_activations_take_four_bytes_per_element)
{
  p3cfg_model m16 = est_ci_7b(), m32 = est_ci_7b();
  m16.dropout = m32.dropout = false;
  m32.precision = P3CFG_PREC_FP32;
  const uint64_t lse = 4ull * 32 / 4 * 8192 * 2; /* fp32 in both */
  cr_assert_eq(layer(&m32, 4, 2, 0, P3CFG_RECOMPUTE_NONE) - lse,
               2 * (layer(&m16, 4, 2, 0, P3CFG_RECOMPUTE_NONE) - lse));
}

static p3cfg_plan pipe(uint32_t pp, uint32_t v, uint64_t m, uint32_t layers)
{
  p3cfg_plan p = est_plan(1, 1, pp, 1);
  p.virtual_stages = v;
  p.global_batch = m;
  p.n_stage_layers = pp;
  for (uint32_t i = 0; i < pp; i++)
    p.stage_layers[i] = layers / pp;
  return p;
}

Test(estimate, one_f_one_b_rank_r_holds_min_of_pp_minus_r_and_m)
{
  p3cfg_plan p = pipe(8, 1, 64, 32);
  for (uint32_t r = 0; r < 8; r++)
    cr_assert_eq(p3cfg__inflight_units(&p, r, 64), 8 - r);
  cr_assert_eq(p3cfg__inflight_units(&p, 0, 3), 3, "fewer micro-batches than stages");
  p3cfg_plan one = pipe(1, 1, 64, 32);
  cr_assert_eq(p3cfg__inflight_units(&one, 0, 64), 1, "no pipelining: one at a time");
}

Test(estimate, interleaving_holds_korthikanti_factor_on_the_first_rank)
{
  /* pp 4, v 2, m 8: rank 0 warms up (4-1)*2 + (2-1)*4 = 10 units, +1 in steady state;
   * each unit is 32/(4*2) = 4 layers: 44 layers = L(1 + (p-1)/(p v)) = 32 * 11/8. */
  p3cfg_plan p = pipe(4, 2, 8, 32);
  cr_assert_eq(p3cfg__inflight_units(&p, 0, 8), 11);
  cr_assert_eq(p3cfg__inflight_units(&p, 0, 8) * 4, 32 * 11 / 8);
  cr_assert_eq(p3cfg__inflight_units(&p, 3, 8), 5, "last rank: (v-1)*pp + 1");
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 11, 0), 7, "2pp - 1 units of chunk 0");
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 11, 1), 4);
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 5, 1), 1, "one unit of the last chunk");
}

/* The plan of the issue "schedule-exact memory": 7B GQA, pp 4, v 8, m 4. Hand-derived
 * from Megatron-LM's get_pp_rank_microbatches (megatron/core/pipeline_parallel/
 * schedules.py at d98e8a6, microbatch_group_size_per_vp_stage = pp = 4):
 * num_warmup = (4 - r - 1) * 2 + (8 - 1) * 4 = 34, 32, 30, 28 for r = 0..3, capped at
 * m v = 32; one more forward before the first backward: 32, 32, 31, 29 units held. The
 * schedule table runs chunk 7 (the output layer's) only from unit 28 on, so the last
 * rank holds the logits of one micro-batch, not of all four. */
Test(estimate, interleaving_with_m_equal_pp_follows_megatron_warmup_per_rank)
{
  p3cfg_plan p = pipe(4, 8, 4, 32);
  const uint64_t held[4] = {32, 32, 31, 29};
  for (uint32_t r = 0; r < 4; r++)
    cr_assert_eq(p3cfg__inflight_units(&p, r, 4), held[r], "rank %u", r);
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 29, 7), 1, "one micro-batch of logits");
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 29, 0), 4);
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 32, 7), 4, "rank 0 holds every unit");
}

/* Every rank of pp 4, v 2, m 8 and of pp 2, v 3, m 4, hand-derived from
 * get_pp_rank_microbatches: num_warmup = (pp - r - 1) * 2 + (v - 1) * pp, capped at m v,
 * plus one forward of the steady state. */
Test(estimate, interleaved_warmup_per_rank_matches_megatron)
{
  p3cfg_plan a = pipe(4, 2, 8, 32);
  const uint64_t held_a[4] = {11, 9, 7, 5};
  for (uint32_t r = 0; r < 4; r++)
    cr_assert_eq(p3cfg__inflight_units(&a, r, 8), held_a[r], "pp 4 v 2 rank %u", r);
  p3cfg_plan b = pipe(2, 3, 4, 12);
  const uint64_t held_b[2] = {7, 5}; /* warm-up 2 + 4 = 6 and 0 + 4 = 4, plus one */
  for (uint32_t r = 0; r < 2; r++)
    cr_assert_eq(p3cfg__inflight_units(&b, r, 4), held_b[r], "pp 2 v 3 rank %u", r);
  /* The last chunk's units (the output layer's logits) on the last rank of each. */
  cr_assert_eq(p3cfg__inflight_of_chunk(&a, 5, 1), 1);
  cr_assert_eq(p3cfg__inflight_of_chunk(&b, 5, 2), 1);
}

/* Llama 3.1 405B's 126 layers on pp 8 x vpp 4 with the embedding and the loss counted in
 * the split (Megatron-Bridge's recipe): rank 0 warms up (8 - 1) * 2 + 3 * 8 = 38 units of
 * m v = 64, plus one: 39, of which 15 of chunk 0 (2pp - 1: the first group of 32 and 7 of
 * the second), which builds 3 layers, and 8 of each other chunk, 4 layers each: 141
 * layers held, not 39 * 4 = 156. */
Test(estimate, an_accounted_chunk_holds_one_layer_fewer_per_unit)
{
  p3cfg_plan p = pipe(8, 4, 16, 128);
  p.split_accounts = P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS;
  p.stage_layers[0] = p.stage_layers[7] = 15;
  p3cfg_model m = est_gpt(126, 16384, 128, 128256, 8192, 16);
  m.flash_attention = true;
  m.dropout = false; /* Llama: no dropout, so no embedding mask beside the layers */
  p3cfg__act_terms terms;
  p3cfg__act_terms_get(&terms, &m, &p);
  cr_assert_eq(terms.embedding_bytes, 0);
  p3cfg__stage_acts first, mid;
  p3cfg__stage_acts_get(&first, &terms, &p, 0);
  p3cfg__stage_acts_get(&mid, &terms, &p, 1);
  cr_assert_eq(first.in_flight, 39);
  cr_assert_eq(p3cfg__inflight_of_chunk(&p, 39, 0), 15);
  cr_assert_eq(first.stash_bytes, 141 * terms.layer_bytes);
  cr_assert_eq(mid.in_flight, 37, "(8 - 2) * 2 + 24 + 1");
  cr_assert_eq(mid.stash_bytes, 37 * 4 * terms.layer_bytes);
}

Test(estimate, first_stage_stashes_pp_micro_batches_and_last_keeps_fp32_logits)
{
  p3cfg_model m = est_gpt(32, 4096, 32, 51200, 2048, 64);
  m.flash_attention = true;
  p3cfg_plan p = est_plan(1, 2, 4, 1);
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  est_resolve(&p, &m, &c);
  const uint64_t lay = p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_NONE);
  const uint64_t sbh = 2048ull * 4096, vocab_tp = p3cfg__vocab_padded(&m, 2) / 2;
  p3cfg__act_terms terms;
  p3cfg__act_terms_get(&terms, &m, &p);
  p3cfg__stage_acts first, last;
  p3cfg__stage_acts_get(&first, &terms, &p, 0);
  p3cfg__stage_acts_get(&last, &terms, &p, 3);
  cr_assert_eq(first.in_flight, 4);
  cr_assert_eq(first.stash_bytes, 4 * 8 * lay + 4 * sbh, "4 micro-batches + embedding masks");
  cr_assert_eq(last.in_flight, 1);
  cr_assert_eq(last.stash_bytes, 8 * lay + 2 * 2 * sbh + 4 * 2048 * vocab_tp);
  cr_assert_eq(last.loss_bytes, 2 * 2048 * vocab_tp, "bf16 logits beside the fp32 copy");
  cr_assert_eq(first.loss_bytes, 0);
}

Test(estimate, full_recompute_rematerialises_one_whole_layer)
{
  p3cfg_model m = est_gpt(48, 6144, 64, 51200, 2048, 4);
  p3cfg_plan p = est_plan(1, 8, 1, 4);
  p.recompute = P3CFG_RECOMPUTE_FULL;
  p3cfg_cluster c = est_cluster("a100-80gb", 1);
  est_resolve(&p, &m, &c);
  p3cfg__act_terms terms;
  p3cfg__act_terms_get(&terms, &m, &p);
  p3cfg__stage_acts full, none;
  p3cfg__stage_acts_get(&full, &terms, &p, 0);
  const uint64_t whole = p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_NONE);
  p.recompute = P3CFG_RECOMPUTE_NONE;
  p3cfg__act_terms_get(&terms, &m, &p);
  p3cfg__stage_acts_get(&none, &terms, &p, 0);
  cr_assert_eq(full.backward_bytes - none.backward_bytes, whole);
  cr_assert_lt(full.stash_bytes, none.stash_bytes / 10);
}
