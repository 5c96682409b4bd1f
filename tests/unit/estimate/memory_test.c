/*
 * memory_test.c — the per-stage assembly: the five terms add up to the peak, reserved
 * memory is context + NCCL + slack, `fits` is peak + reserved against capacity, the
 * transients that set the peak (loss, optimizer step, ZeRO-3 gathers), the pipeline's
 * uneven stages, and arithmetic that saturates instead of wrapping at extreme sizes.
 */
#include "activations.h"
#include "est_fixtures.h"
#include "model_params.h"

static void assert_sums(const p3cfg_memory *mem)
{
  for (uint32_t i = 0; i < mem->n_stages; i++) {
    const p3cfg_stage_memory *s = &mem->stages[i];
    cr_assert_eq(s->weights_bytes + s->gradients_bytes + s->optimizer_bytes + s->activations_bytes +
                     s->other_bytes,
                 s->peak_bytes, "stage %u", i);
    cr_assert_leq(s->peak_bytes, mem->peak_bytes);
  }
}

Test(estimate, stage_peak_is_the_sum_of_its_five_terms)
{
  p3cfg_cluster c = est_cluster("h100-sxm", 4);
  for (int r = 0; r <= 2; r++)
    for (uint32_t zero = 0; zero <= 3; zero++)
      for (int sp = 0; sp <= 1; sp++) {
        p3cfg_model m = est_gpt(32, 4096, 32, 50257, 4096, 64);
        m.flash_attention = r != 1;
        const uint32_t pp = zero >= 2 ? 1 : 4;
        p3cfg_plan p = est_plan(32 / (4 * pp), 4, pp, 1);
        p.recompute = (p3cfg_recompute)r;
        p.zero_stage = zero;
        p.sequence_parallel = sp;
        p3cfg_stage_memory st[4];
        p3cfg_memory mem = est_memory(st, &m, &c, &p);
        assert_sums(&mem);
        cr_assert_eq(mem.stages, st);
        cr_assert_eq(mem.n_stages, pp);
      }
}

Test(estimate, reserved_is_context_nccl_and_allocator_slack)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p.zero_stage = 1;
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_stage_memory st[1];
  p3cfg_memory mem = est_memory(st, &m, &c, &p);
  /* world, tp and dp communicators; no pipeline peers */
  cr_assert_eq(p3cfg__memory_nccl_bytes(&p, &m, 0), 3 * P3CFG_MEM_NCCL_COLLECTIVE_BYTES);
  cr_assert_eq(st[0].reserved_bytes, c.gpu.context_bytes + 3 * P3CFG_MEM_NCCL_COLLECTIVE_BYTES +
                                         st[0].peak_bytes / P3CFG_MEM_SLACK_DIVISOR);
  cr_assert_eq(mem.reserved_bytes, st[0].reserved_bytes);
  cr_assert_eq(mem.total_bytes, st[0].peak_bytes + st[0].reserved_bytes);
  cr_assert_eq(mem.capacity_bytes, c.gpu.memory_bytes);
}

Test(estimate, tied_embeddings_add_the_embedding_group_on_the_end_stages)
{
  p3cfg_model m = est_gpt(32, 4096, 32, 51200, 2048, 64);
  p3cfg_plan p = est_plan(2, 1, 4, 1);
  const uint64_t ends = p3cfg__memory_nccl_bytes(&p, &m, 0);
  cr_assert_eq(ends, p3cfg__memory_nccl_bytes(&p, &m, 3));
  cr_assert_eq(ends - p3cfg__memory_nccl_bytes(&p, &m, 1), P3CFG_MEM_NCCL_COLLECTIVE_BYTES);
  m.tied_embeddings = false;
  cr_assert_eq(p3cfg__memory_nccl_bytes(&p, &m, 0), p3cfg__memory_nccl_bytes(&p, &m, 1));
}

Test(estimate, fits_means_peak_plus_reserved_within_capacity)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p.zero_stage = 1;
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_stage_memory st[1];
  p3cfg_memory mem = est_memory(st, &m, &c, &p);
  cr_assert(mem.fits);
  c.gpu.memory_bytes = mem.total_bytes;
  mem = est_memory(st, &m, &c, &p);
  cr_assert(mem.fits, "exactly at capacity fits");
  c.gpu.memory_bytes = mem.total_bytes - 1;
  mem = est_memory(st, &m, &c, &p);
  cr_assert_not(mem.fits);
}

Test(estimate, the_loss_sets_the_peak_on_the_ci_7b_last_stage)
{
  p3cfg_model m = est_ci_7b();
  p3cfg_plan p = est_plan(2, 4, 1, 2);
  p.zero_stage = 1;
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  p3cfg_stage_memory st[1];
  est_memory(st, &m, &c, &p);
  const uint64_t vocab_tp = p3cfg__vocab_padded(&m, 4) / 4, tok = 8192ull * 2;
  cr_assert_eq(st[0].other_bytes, P3CFG_MEM_WORKSPACE_BYTES + 2 * tok * vocab_tp);
}

Test(estimate, fp16_optimizer_step_can_set_the_peak)
{
  /* Short sequences: activations are small, the fp32 copy of 16-bit grads is not. */
  p3cfg_model m = est_gpt(24, 2304, 24, 51200, 128, 8);
  m.precision = P3CFG_PREC_FP16;
  p3cfg_plan p = est_plan(1, 1, 1, 1);
  p3cfg_cluster c = est_cluster("a100-80gb", 1);
  p3cfg_stage_memory st[1];
  est_memory(st, &m, &c, &p);
  cr_assert_eq(st[0].gradients_bytes, 2 * st[0].params);
  cr_assert_eq(st[0].activations_bytes + st[0].other_bytes,
               4 * st[0].params + P3CFG_MEM_WORKSPACE_BYTES);
}

Test(estimate, zero3_peak_holds_two_gathered_blocks)
{
  p3cfg_model m = est_gpt(32, 4096, 32, 51200, 2048, 64);
  m.flash_attention = true;
  p3cfg_cluster c = est_cluster("h100-sxm", 1);
  /* Megatron-LM's distributed optimizer (ZeRO 1) against its FSDP (ZeRO 3): ZeRO 3 adds
   * two gathered blocks (the one computing and the one prefetched, 16-bit) and one
   * block's unsharded 16-bit gradient waiting for its reduce-scatter. */
  p3cfg_plan p2 = est_plan(8, 1, 1, 1), p3 = est_plan(8, 1, 1, 1);
  p2.zero_stage = 1;
  p3.zero_stage = 3;
  p3cfg_stage_memory s2[1], s3[1];
  est_memory(s2, &m, &c, &p2);
  est_memory(s3, &m, &c, &p3);
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 1);
  const uint64_t unit = pc.word_embedding + pc.position; /* larger than one layer here */
  cr_assert_gt(unit, pc.layer);
  /* The gathered blocks always add; the gradient bucket adds beside the backward's
   * transients, so up to its size (the loss peak can cover part of it). */
  const uint64_t more = s3[0].other_bytes - s2[0].other_bytes;
  cr_assert_geq(more, 2 * 2 * unit, "%llu", (unsigned long long)more);
  cr_assert_leq(more, 2 * 2 * unit + 2 * unit, "%llu", (unsigned long long)more);
  cr_assert_eq(s2[0].weights_bytes - s3[0].weights_bytes,
               2 * s2[0].params - 2 * (s2[0].params / 8));
}

Test(estimate, one_f_one_b_first_stage_holds_the_most_activations)
{
  p3cfg_model m = est_gpt(48, 6144, 64, 51200, 2048, 64);
  p3cfg_plan p = est_plan(1, 8, 8, 1);
  p.recompute = P3CFG_RECOMPUTE_SELECTIVE;
  p.sequence_parallel = 1;
  p3cfg_cluster c = est_cluster("a100-80gb", 8);
  p3cfg_stage_memory st[8];
  est_memory(st, &m, &c, &p);
  for (uint32_t i = 1; i + 1 < 8; i++) {
    cr_assert_gt(st[i - 1].activations_bytes, st[i].activations_bytes);
    cr_assert_eq(st[i].in_flight, 8 - i);
  }
}

Test(estimate, bloom_uneven_split_on_twelve_stages_is_estimated_per_stage)
{
  /* BLOOM 176B: 70 layers on 12 stages (5 on the ends, 6 in the middle), tp 4, mbs 2,
   * full recompute, ZeRO-1, 48 nodes (dp 8). */
  p3cfg_model m = est_gpt(70, 14336, 112, 250880, 2048, 2048);
  m.position_embedding = P3CFG_POS_ALIBI;
  p3cfg_plan p = est_plan(8, 4, 12, 2);
  p.zero_stage = 1;
  p.recompute = P3CFG_RECOMPUTE_FULL;
  p.n_stage_layers = 12;
  for (uint32_t i = 0; i < 12; i++)
    p.stage_layers[i] = i == 0 || i == 11 ? 5 : 6;
  p3cfg_cluster c = est_cluster("a100-80gb", 48);
  p3cfg_stage_memory st[12];
  p3cfg_memory mem = est_memory(st, &m, &c, &p);
  assert_sums(&mem);
  cr_assert_eq(st[0].layers, 5);
  cr_assert_eq(st[6].layers, 6);
  cr_assert_gt(st[0].params, st[6].params, "the embedding outweighs one layer");
  cr_assert(mem.fits, "BLOOM trained this way on A100 80GB: %.2f GiB",
            (double)mem.total_bytes / GIB);
}

Test(estimate, extreme_sizes_saturate_instead_of_wrapping)
{
  /* ~100T parameters, 1M-token sequences and vocabulary, unfused attention (s² terms). */
  p3cfg_model m = est_gpt(800, 102400, 800, 1u << 20, 1u << 20, 8);
  p3cfg_cluster c = est_cluster("h200", 8);
  p3cfg__params pc;
  p3cfg__model_params(&pc, &m, 8);
  cr_assert_gt(pc.total, 100000000000000ull);
  uint64_t previous = 0;
  for (uint32_t mbs = 1; mbs <= (1u << 24); mbs *= 4) {
    p3cfg_plan p = est_plan(1, 8, 8, mbs);
    p.global_batch = 8ull * mbs;
    p3cfg_stage_memory st[8];
    p3cfg_memory mem = est_memory(st, &m, &c, &p);
    cr_assert_geq(mem.peak_bytes, previous, "mbs %u: %llu < %llu", mbs,
                  (unsigned long long)mem.peak_bytes, (unsigned long long)previous);
    cr_assert_not(mem.fits);
    for (uint32_t i = 0; i < 8; i++)
      cr_assert_geq(st[i].peak_bytes, st[i].activations_bytes);
    previous = mem.peak_bytes;
  }
  cr_assert_eq(previous, UINT64_MAX, "2^24 sequences of 1M tokens saturate");
  /* Exact where nothing overflows: one sequence's s² softmax in one layer. */
  p3cfg_plan p = est_plan(1, 8, 8, 1);
  const uint64_t s = 1ull << 20;
  cr_assert_eq(p3cfg__layer_act_bytes(&m, &p, P3CFG_RECOMPUTE_NONE),
               10 * s * 102400 + 24 * s * 102400 / 8 + 5 * 100 * s * s);
}
