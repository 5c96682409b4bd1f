/*
 * comm_test.c — p3cfg_comm_predict (perf_comm.c): the communication of one iteration that
 * `p3cfg replay` performs, and its cost from the time model's own collectives and sends.
 * Counts follow the time model (4 TP all-reduces per layer and micro-batch, one message
 * per pipeline hop and direction, the ZeRO stage's reduction, the tied embedding), costs
 * are p3cfg__allreduce_s / p3cfg__p2p_s on the placed GPUs, the scale multiplies sizes,
 * a slower link on the path raises exactly the component that uses it, GPT-3 175B's real
 * sizes (gradient messages past 2^32 bytes) stay exact integers while a scale that takes
 * a message past 2^53 bytes is refused, and bad arguments are refused.
 */
#include "perf_fixtures.h"

#include "p3cfg.h"

static void fx(p3cfg_model *m, p3cfg_cluster *c, p3cfg_plan *p, uint32_t tp, uint32_t pp,
               uint32_t dp, uint32_t zero)
{
  *m = fx_gpt(8, 1024, 16, 8192, 512, 16);
  *c = fx_cluster("a100-80gb", 4, 300e9, 25e9);
  p3cfg_plan_init(p);
  p->tp = tp, p->pp = pp, p->dp = dp, p->zero_stage = zero, p->micro_batch = 1;
  cr_assert_eq(p3cfg_plan_resolve(p, m, c), 0, "%s", p3cfg_error_last()->message);
}

Test(comm, counts_and_costs_follow_the_time_model)
{
  p3cfg_model m;
  p3cfg_cluster c;
  p3cfg_plan p;
  fx(&m, &c, &p, 8, 2, 2, 1); /* 32 GPUs: stage 0 on nodes 0-1, stage 1 on nodes 2-3 */
  p3cfg_comm *cm = NULL;
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 1.0), 0, "%s",
               p3cfg_error_last()->message);
  const p3cfg_comm_info *in = p3cfg_comm_get_info(cm);
  const uint64_t mb = 16 / 2; /* global batch 16, mbs 1, dp 2 */
  cr_assert_eq(in->micro_batches, mb);
  cr_assert_eq(in->hops, 1u);
  cr_assert_eq(in->send_bytes, 2u * 512 * 1024); /* bf16 b*s*h, no sp */
  const p3cfg_comm_stage *s0 = p3cfg_comm_stage_get(cm, 0), *s1 = p3cfg_comm_stage_get(cm, 1);
  cr_assert_not_null(s1);
  cr_assert_null(p3cfg_comm_stage_get(cm, 2));
  /* 4 layers x 4 all-reduces (8 halves) per micro-batch, plus the embedding's forward
   * all-reduce on stage 0 and the output layer's backward one on stage 1. */
  cr_assert_eq(s0->tp_halves, mb * (4 * 8 + 2));
  cr_assert_eq(s1->tp_halves, mb * (4 * 8 + 2));
  cr_assert_eq(s1->loss_allreduces, 3 * mb);
  cr_assert_eq(s0->loss_allreduces, 0u);
  cr_assert_eq(s0->tp_bytes, 2u * 512 * 1024);
  /* ZeRO 1: one reduce-scatter of fp32 gradients, one all-gather of bf16 parameters. */
  cr_assert_eq(s0->dp_reduce_scatters, 1u);
  cr_assert_eq(s0->dp_all_gathers, 1u);
  cr_assert_eq(s0->dp_allreduces, 0u);
  cr_assert_eq(s0->dp_rs_bytes, 2 * s0->dp_ag_bytes);

  /* Costs: the same functions the time model uses, on the default placement. */
  p3cfg__ring tp_ring, dp_ring;
  p3cfg__ring_of(&tp_ring, &c, NULL, 0, 1, 8);
  const double tp0 =
      (double)s0->tp_halves * p3cfg__reduce_scatter_s(&tp_ring, (double)s0->tp_bytes);
  cr_assert(fabs(s0->tp_s - tp0) <= 1e-12 * tp0, "%g vs %g", s0->tp_s, tp0);
  p3cfg__ring_of(&dp_ring, &c, NULL, 0, 8, 2);
  const double dp0 = p3cfg__reduce_scatter_s(&dp_ring, (double)s0->dp_rs_bytes) +
                     p3cfg__all_gather_s(&dp_ring, (double)s0->dp_ag_bytes);
  cr_assert(fabs(s0->dp_s - dp0) <= 1e-12 * dp0, "%g vs %g", s0->dp_s, dp0);
  const double hop = p3cfg__p2p_s(&c, 0, 16, (double)in->send_bytes);
  cr_assert(fabs(in->pp_s - (double)mb * 2.0 * hop) <= 1e-12 * in->pp_s);
  cr_assert_gt(in->tie_bytes, 0u);
  cr_assert(fabs(in->total_s - (in->tp_s + in->pp_s + in->dp_s)) <= 1e-12 * in->total_s);
  cr_assert_geq(in->dp_s, in->tie_s);

  /* Half the sizes: the bandwidth terms halve, the latencies stay. */
  p3cfg_comm *half = NULL;
  cr_assert_eq(p3cfg_comm_predict(&half, &m, &c, &p, NULL, 0, 0.5), 0);
  const p3cfg_comm_info *hi = p3cfg_comm_get_info(half);
  cr_assert_eq(hi->send_bytes, in->send_bytes / 2);
  cr_assert_lt(hi->total_s, in->total_s);
  cr_assert_gt(hi->total_s, 0.45 * in->total_s);
  p3cfg_comm_free(half);
  p3cfg_comm_free(cm);
}

Test(comm, a_slow_link_raises_the_component_that_uses_it)
{
  p3cfg_model m;
  p3cfg_cluster c;
  p3cfg_plan p;
  fx(&m, &c, &p, 8, 2, 2, 0);
  fx_measure_links(&c);
  p3cfg_comm *base = NULL, *slow = NULL;
  cr_assert_eq(p3cfg_comm_predict(&base, &m, &c, &p, NULL, 0, 1.0), 0);
  /* GPU 0 (stage 0, dp 0, tp 0) -> GPU 16 (stage 1, same dp and tp): a pipeline hop. */
  fx_set_link(&c, 0, 16, fx_link(&c, 0, 16) / 10.0);
  cr_assert_eq(p3cfg_comm_predict(&slow, &m, &c, &p, NULL, 0, 1.0), 0);
  const p3cfg_comm_info *a = p3cfg_comm_get_info(base), *b = p3cfg_comm_get_info(slow);
  cr_assert_gt(b->pp_s, 2.0 * a->pp_s);
  cr_assert_eq(b->tp_s, a->tp_s);
  /* The tied embedding's 2-rank ring (GPU 0 <-> GPU 16) uses it too; the DP rings not. */
  cr_assert_gt(b->tie_s, a->tie_s);
  cr_assert(fabs((b->dp_s - b->tie_s) - (a->dp_s - a->tie_s)) <= 1e-12 * a->dp_s);
  p3cfg_comm_free(base);
  p3cfg_comm_free(slow);

  /* A placement given explicitly: the default map spelled out predicts the same. */
  const size_t n = 32;
  p3cfg_rank_place place[32];
  for (uint32_t r = 0; r < n; r++)
    place[r] = (p3cfg_rank_place){r, r / 8, r % 8, (r / 8) % 2, r / 16, r % 8};
  cr_assert_eq(p3cfg_comm_predict(&base, &m, &c, &p, place, n, 1.0), 0);
  cr_assert_eq(p3cfg_comm_predict(&slow, &m, &c, &p, NULL, 0, 1.0), 0);
  cr_assert_eq(p3cfg_comm_get_info(base)->total_s, p3cfg_comm_get_info(slow)->total_s);
  p3cfg_comm_free(base);
  p3cfg_comm_free(slow);
  fx_free_links(&c);
}

Test(comm, real_sizes_are_exact_and_a_huge_scale_is_refused)
{
  /* GPT-3 175B (Brown et al. 2020) at tp 8, pp 8, dp 16 on 128 nodes: the data-parallel
   * messages are whole stages of fp32 gradients, far above MPI's int counts; the replay
   * sends them in bounded pieces, the sizes stay exact integers. */
  p3cfg_model m = fx_gpt(96, 12288, 96, 51200, 2048, 1536);
  p3cfg_cluster c = fx_cluster("a100-80gb", 128, 300e9, 25e9);
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 8, p.pp = 8, p.dp = 16, p.micro_batch = 1;
  p3cfg_comm *cm = NULL;
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 1.0), 0, "%s",
               p3cfg_error_last()->message);
  const p3cfg_comm_info *in = p3cfg_comm_get_info(cm);
  cr_assert_eq(in->send_bytes, 2ull * 2048 * 12288);
  for (uint32_t j = 0; j < 8; j++) {
    const p3cfg_comm_stage *s = p3cfg_comm_stage_get(cm, j);
    cr_assert_gt(s->dp_allreduce_bytes, 10000000000ull, "stage %u: %llu", j,
                 (unsigned long long)s->dp_allreduce_bytes);
    cr_assert_lt(s->dp_allreduce_bytes, 12000000000ull);
    cr_assert_eq(s->dp_allreduce_bytes % 4, 0u); /* whole fp32 elements */
    cr_assert_eq(s->tp_bytes, 2ull * 2048 * 12288);
  }
  p3cfg_comm_free(cm);
  /* x 1e5 still fits (1.1e15 bytes); x 1e6 would pass 2^53 bytes: refused, not wrapped. */
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 1e5), 0);
  cr_assert_eq(p3cfg_comm_get_info(cm)->send_bytes, 2ull * 2048 * 12288 * 100000);
  p3cfg_comm_free(cm);
  cm = (p3cfg_comm *)&m;
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 1e6), P3CFG_EINVALID);
  cr_assert_null(cm);
  cr_assert(strstr(p3cfg_error_last()->message, "2^53"), "%s", p3cfg_error_last()->message);
}

Test(comm, bad_arguments_are_refused)
{
  p3cfg_model m;
  p3cfg_cluster c;
  p3cfg_plan p;
  fx(&m, &c, &p, 1, 8, 1, 0);
  p3cfg_comm *cm = (p3cfg_comm *)&m; /* must be reset to NULL on failure */
  cr_assert_eq(p3cfg_comm_predict(NULL, &m, &c, &p, NULL, 0, 1.0), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_comm_predict(&cm, NULL, &c, &p, NULL, 0, 1.0), P3CFG_EINVALID);
  cr_assert_null(cm);
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 0.0), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, NAN), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, INFINITY), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, -1.0), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 2e6), P3CFG_EINVALID);
  p3cfg_rank_place place[8];
  for (uint32_t r = 0; r < 8; r++)
    place[r] = (p3cfg_rank_place){r, 0, r, 0, r, 0};
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, place, 7, 1.0), P3CFG_EINVALID);
  place[3].gpu = 2; /* two ranks on one GPU */
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, place, 8, 1.0), P3CFG_EINVALID);
  cr_assert(strstr(p3cfg_error_last()->message, "one GPU"), "%s", p3cfg_error_last()->message);
  place[3].gpu = 9; /* no such GPU */
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, place, 8, 1.0), P3CFG_EINVALID);
  p.tp = 3; /* does not divide the heads */
  cr_assert_eq(p3cfg_comm_predict(&cm, &m, &c, &p, NULL, 0, 1.0), P3CFG_EPLAN);
  cr_assert_null(cm);
  cr_assert_null(p3cfg_comm_get_info(NULL));
  cr_assert_null(p3cfg_comm_stage_get(NULL, 0));
  p3cfg_comm_free(NULL);
}
