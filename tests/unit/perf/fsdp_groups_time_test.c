/*
 * fsdp_groups_time_test.c — torchtitan's FSDP2 collectives in the time model
 * (src/perf/perf_groups.c, collectives.c, perf_plan.c): HSDP's shard and replica rings
 * and their cost, hand-derived; FSDP2's fp32 gradient reduction against the 16-bit one of
 * Megatron-FSDP and DeepSpeed; HSDP and FSDP across nodes on slow links, which cross the
 * network with the same bytes; FSDP2 with pp > 1 gathers and reduce-scatters once per
 * step, not per micro-batch.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "framework_physics.h"
#include "perf_fixtures.h"

static p3cfg_model llama_like(uint64_t layers)
{
  p3cfg_model m = fx_gpt(layers, 4096, 32, 128256, 8192, 64);
  m.kv_heads = 8, m.ffn_hidden = 14336, m.activation = P3CFG_ACT_SWIGLU;
  m.norm = P3CFG_NORM_RMSNORM, m.position_embedding = P3CFG_POS_ROPE;
  m.tied_embeddings = false, m.flash_attention = true, m.bias = false, m.dropout = false;
  return m;
}

static p3cfg_plan titan_plan(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t pp,
                             uint32_t dp, uint32_t dp_shard, uint64_t gbs)
{
  p3cfg_plan pl;
  p3cfg_plan_init_framework(&pl, P3CFG_FRAMEWORK_TORCHTITAN);
  pl.tp = 1, pl.pp = pp, pl.dp = dp, pl.micro_batch = 1, pl.virtual_stages = 1;
  pl.recompute = P3CFG_RECOMPUTE_FULL, pl.zero_stage = 3, pl.dp_shard = dp_shard;
  pl.global_batch = gbs;
  cr_assert_eq(p3cfg__plan_balanced_split(&pl, m), 0);
  cr_assert_eq(p3cfg__plan_check(&pl, m, c), 0, "%s", p3cfg_error_last()->message);
  return pl;
}

/* dp 16 on two nodes of 8, shards of 8: the shard ring is one node's NVLink ring, the
 * replica ring one GPU per node across the network. */
Test(perf, hsdp_rings_split_by_hand)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  p3cfg__ring full, shard, rep;
  p3cfg__ring_of(&full, &c, NULL, 0, 1, 16);
  cr_assert_eq(full.g, 8u);
  cr_assert_eq(full.n, 2u);
  p3cfg__ring_split(&shard, &rep, &full, 8);
  const double intra = 450e9 * P3CFG_NVLINK_EFFICIENCY, inter = 50e9 * P3CFG_NETWORK_EFFICIENCY;
  cr_assert_eq(shard.k, 8u);
  cr_assert_eq(shard.n, 1u);
  fx_assert_close(shard.ar_s_per_byte, 2.0 * 7.0 / (8.0 * intra), 1e-12);
  fx_assert_close(shard.ar_latency_s, 14.0 * 3e-6, 1e-12);
  cr_assert_eq(rep.k, 2u);
  cr_assert_eq(rep.g, 1u);
  cr_assert_eq(rep.n, 2u);
  fx_assert_close(rep.ar_s_per_byte, 2.0 * 1.0 / (2.0 * inter), 1e-12);
  /* Shards of 4: two per node; the replicas are 4 rings of 2 per node. */
  p3cfg__ring_split(&shard, &rep, &full, 4);
  fx_assert_close(shard.ar_s_per_byte, 2.0 * 3.0 / (4.0 * intra), 1e-12);
  cr_assert_eq(rep.k, 4u);
  cr_assert_eq(rep.g, 2u);
  cr_assert_eq(rep.n, 2u);
  fx_assert_close(rep.ar_s_per_byte, 2.0 * 1.0 / (2.0 * intra) + 2.0 * 1.0 / (2.0 * 2.0 * inter),
                  1e-12);
}

/* HSDP's per-micro-batch cost: the shard ring's reduce-scatter and gather of the whole
 * stage, plus the replicas' all-reduce of one shard (1/8 of it). */
Test(perf, hsdp_costs_shard_collectives_and_a_replica_all_reduce)
{
  p3cfg_model m = llama_like(8);
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  p3cfg_plan pl = titan_plan(&m, &c, 1, 16, 8, 64);
  p3cfg__perf_ctx x;
  p3cfg__perf_ctx_of(&x, &m, &c, &pl);
  p3cfg__ring full, shard, rep;
  p3cfg__ring_of(&full, &c, NULL, 0, 1, 16);
  p3cfg__ring_split(&shard, &rep, &full, 8);
  const double pj = p3cfg__perf_stage_params(&x, 0), ge = x.grad_elem;
  p3cfg__dp_cost cost;
  p3cfg__perf_dp_ring(&cost, &x, pj, &full);
  fx_assert_close(cost.mb_rs,
                  0.5 * p3cfg__allreduce_s(&shard, ge * pj) + p3cfg__allreduce_s(&rep, ge * pj / 8.0),
                  1e-12);
  fx_assert_close(cost.mb_ag, 0.5 * p3cfg__allreduce_s(&shard, x.r.gather_elem_bytes * pj), 1e-12);
  /* Plain FSDP (dp_shard 0 = dp): the whole ring. */
  pl.dp_shard = 0;
  p3cfg__perf_ctx_of(&x, &m, &c, &pl);
  p3cfg__perf_dp_ring(&cost, &x, pj, &full);
  fx_assert_close(cost.mb_rs, 0.5 * p3cfg__allreduce_s(&full, ge * pj), 1e-12);
}

/* FSDP2 reduces in fp32 (torchtitan's mixed_precision_reduce): its gradient collectives
 * move 4 bytes per parameter; Megatron-FSDP's optim_grads (its 'auto' gradient dtype) and
 * DeepSpeed's ZeRO 2/3 (communication_data_type) move the 16-bit gradients. */
Test(perf, fsdp2_reduces_fp32_gradients_megatron_fsdp_and_deepspeed_16_bit)
{
  p3cfg_model m = llama_like(8);
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  p3cfg_plan pl = titan_plan(&m, &c, 1, 16, 0, 16);
  p3cfg__perf_ctx x;
  p3cfg__perf_ctx_of(&x, &m, &c, &pl);
  cr_assert_eq(x.grad_elem, 4.0);
  pl.framework = P3CFG_FRAMEWORK_DEEPSPEED;
  p3cfg__perf_ctx_of(&x, &m, &c, &pl);
  cr_assert_eq(x.grad_elem, 2.0);
  pl.framework = P3CFG_FRAMEWORK_MEGATRON, pl.zero_stage = 2;
  p3cfg__perf_ctx_of(&x, &m, &c, &pl);
  cr_assert_eq(x.grad_elem, 2.0);
}

/* On slow inter-node links (5 GB/s per GPU) HSDP with one node's shard never gathers
 * parameters across the network, but its replicas all-reduce the fp32 gradient shard
 * there: over the rails that is as many bytes per GPU as FSDP's cross-node reduce-scatter
 * of fp32 gradients and its two bf16 gathers (B/8 each, collectives.c), so the two stay
 * close; HSDP's share sits in the backward, FSDP's gathers are prefetched. */
Test(perf, hsdp_and_fsdp_cross_the_network_with_the_same_bytes_under_fp32_reduce)
{
  p3cfg_model m = llama_like(8);
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 5e9);
  const p3cfg_plan fsdp = titan_plan(&m, &c, 1, 16, 0, 16);
  const p3cfg_plan hsdp = titan_plan(&m, &c, 1, 16, 8, 16);
  const p3cfg_time a = fx_run(&m, &c, &fsdp, NULL), b = fx_run(&m, &c, &hsdp, NULL);
  cr_assert(b.dp_comm_s > 0.0 && a.dp_comm_s > 0.0);
  cr_assert(fabs(b.iteration_s / a.iteration_s - 1.0) < 0.15, "hsdp %.4f s, fsdp %.4f s",
            b.iteration_s, a.iteration_s);
}

/* FSDP2 with pp > 1 (reshard_after_forward off): one gather and one reduce-scatter a
 * step per stage, so the exposed data-parallel time does not grow with the number of
 * micro-batches, and stays below one micro-batch's collectives each way. */
Test(perf, fsdp_with_pp_collects_once_per_step)
{
  p3cfg_model m = llama_like(8);
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 5e9);
  const p3cfg_plan a = titan_plan(&m, &c, 2, 8, 0, 16), b = titan_plan(&m, &c, 2, 8, 0, 64);
  const p3cfg_time ta = fx_run(&m, &c, &a, NULL), tb = fx_run(&m, &c, &b, NULL);
  fx_assert_close(tb.dp_comm_s, ta.dp_comm_s, 1e-9);
  p3cfg__perf_ctx x;
  p3cfg__perf_ctx_of(&x, &m, &c, &a);
  p3cfg__ring ring;
  p3cfg__ring_of(&ring, &c, NULL, 0, 1, 8);
  p3cfg__dp_cost cost;
  p3cfg__perf_dp_ring(&cost, &x, p3cfg__perf_stage_params(&x, 0), &ring);
  cr_assert(ta.dp_comm_s > 0.0);
  cr_assert(ta.dp_comm_s <= cost.mb_rs + cost.mb_ag + 1e-12, "%.6f vs %.6f", ta.dp_comm_s,
            cost.mb_rs + cost.mb_ag);
}
