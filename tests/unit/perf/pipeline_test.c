/*
 * pipeline_test.c — the schedule simulator: the fast path (warm-up and cool-down
 * simulated, periodic steady state extrapolated) equals the event-by-event reference on
 * random heterogeneous pipelines, bubble fractions match Megatron SC'21's (p-1)/m and
 * (1/v)(p-1)/m, and a slow send costs what the critical path says it costs.
 */
#include "perf_fixtures.h"

#define MAXP 16
#define MAXV 4

typedef struct sim_out {
  double end[MAXP], comm[MAXP], first[MAXP * MAXV], last_b[MAXP];
  uint64_t steps;
} sim_out;

static void simulate(sim_out *o, const p3cfg__pipe *pp, int reference)
{
  p3cfg__pipe_result r = {o->end, o->comm, o->first, o->last_b, 0};
  const size_t n = reference ? p3cfg__pipe_ws_bytes_reference(pp->p, pp->v, pp->m)
                             : p3cfg__pipe_ws_bytes(pp->p, pp->v, pp->m);
  void *ws = malloc(n);
  cr_assert(ws);
  const int rc = reference ? p3cfg__pipe_simulate_reference(&r, pp, ws, n)
                           : p3cfg__pipe_simulate(&r, pp, ws, n);
  cr_assert_eq(rc, 0);
  o->steps = r.steps;
  free(ws);
}

static double uniform01(unsigned *state)
{
  *state = *state * 1103515245u + 12345u;
  return (double)((*state >> 8) & 0xffffff) / (double)0x1000000;
}

static void compare(const p3cfg__pipe *pp)
{
  sim_out a, b;
  simulate(&a, pp, 1);
  simulate(&b, pp, 0);
  for (uint32_t j = 0; j < pp->p; j++) {
    fx_assert_close(b.end[j], a.end[j], 1e-9);
    fx_assert_close(b.comm[j], a.comm[j], 1e-9);
    fx_assert_close(b.last_b[j], a.last_b[j], 1e-9);
    for (uint32_t k = 0; k < pp->v; k++)
      fx_assert_close(b.first[j * pp->v + k], a.first[j * pp->v + k], 1e-9);
  }
}

Test(perf, fast_path_equals_full_simulation_on_random_pipelines)
{
  unsigned seed = 12345;
  double F[MAXP * MAXV], B[MAXP * MAXV], cf[MAXP], cb[MAXP];
  for (int it = 0; it < 1500; it++) {
    const uint32_t p = 1 + (uint32_t)(uniform01(&seed) * MAXP);
    const uint32_t v = p == 1 ? 1 : 1 + (uint32_t)(uniform01(&seed) * MAXV);
    uint64_t m;
    if (v == 1)
      m = 1 + (uint64_t)(uniform01(&seed) * (it % 3 == 0 ? 2000 : 80));
    else
      m = p * (1 + (uint64_t)(uniform01(&seed) * (it % 3 == 0 ? 200 : 12)));
    /* Three kinds: fully random, a real model's shape (equal layers, heavier first and
     * last chunks), and one slow stage or link. */
    const int kind = it % 3;
    for (uint32_t i = 0; i < p * v; i++) {
      F[i] = kind == 0 ? 0.2 + uniform01(&seed) : 1.0;
      B[i] = kind == 0 ? 0.4 + 2 * uniform01(&seed) : 2.0;
    }
    for (uint32_t j = 0; j < p; j++) {
      cf[j] = kind == 0 ? 0.1 * uniform01(&seed) : 0.01;
      cb[j] = kind == 0 ? 0.1 * uniform01(&seed) : 0.01;
    }
    if (kind == 1)
      F[0] += 0.05, B[0] += 0.1, F[p * v - 1] += 0.2, B[p * v - 1] += 0.3;
    if (kind == 2) {
      const uint32_t j = (uint32_t)(uniform01(&seed) * p);
      F[j * v] += 0.5, B[j * v] += 1.0, cf[j] = 0.8;
    }
    const p3cfg__pipe pp = {p, v, m, F, B, cf, cb};
    compare(&pp);
  }
}

Test(perf, the_fast_path_skips_the_steady_state_of_real_shapes)
{
  /* Equal layers, a heavier first (embedding) and last (loss) chunk, small sends: the
   * steady state repeats at once, so the work no longer grows with m. */
  double F[64], B[64], c[16];
  for (uint32_t v = 1; v <= 4; v++) {
    for (uint32_t p = 2; p <= 16; p *= 2) {
      for (uint32_t i = 0; i < p * v; i++)
        F[i] = 1.0 / v, B[i] = 2.0 / v;
      for (uint32_t j = 0; j < p; j++)
        c[j] = 0.003;
      F[0] += 0.05, B[0] += 0.1, F[p * v - 1] += 0.2, B[p * v - 1] += 0.3;
      const p3cfg__pipe pp = {p, v, 256 * (uint64_t)p, F, B, c, c};
      sim_out o;
      simulate(&o, &pp, 0);
      cr_assert_lt(o.steps, (uint64_t)(4 * v + 4) * p, "p %u v %u: %llu steps", p, v,
                   (unsigned long long)o.steps);
      compare(&pp);
    }
  }
}

Test(perf, bubble_fraction_of_1f1b_is_p_minus_1_over_m)
{
  double F[8], B[8], c[8] = {0};
  for (int j = 0; j < 8; j++)
    F[j] = 1.0, B[j] = 2.0;
  for (uint64_t m = 8; m <= 256; m *= 2) {
    const p3cfg__pipe pp = {8, 1, m, F, B, c, c};
    sim_out o;
    simulate(&o, &pp, 0);
    const double busy = 3.0 * (double)m;
    fx_assert_close((o.end[0] - busy) / busy, 7.0 / (double)m, 1e-12);
  }
}

Test(perf, interleaving_divides_the_bubble_by_v)
{
  double F[32], B[32], c[8] = {0};
  for (uint32_t v = 2; v <= 4; v++) {
    for (uint32_t i = 0; i < 8 * v; i++)
      F[i] = 1.0 / v, B[i] = 2.0 / v; /* a stage's work split into v chunks */
    for (uint64_t m = 16; m <= 128; m *= 2) {
      const p3cfg__pipe pp = {8, v, m, F, B, c, c};
      sim_out o;
      simulate(&o, &pp, 0);
      const double busy = 3.0 * (double)m;
      /* Megatron SC'21: (1/v)(p-1)/m. */
      fx_assert_close((o.end[0] - busy) / busy, 7.0 / (v * (double)m), 1e-9);
    }
  }
}

Test(perf, a_slow_send_between_two_stages_costs_one_send_per_micro_batch)
{
  /* Two uniform stages: the critical cycle is the loop forward(0) -> send -> forward(1),
   * backward(1) -> send -> backward(0), two micro-batches long and two sends heavy, so
   * the step takes (m + 1)(F + B) + 2 ceil(m/2) C, all of C on the critical path. */
  double F[2] = {1.0, 1.0}, B[2] = {2.0, 2.0};
  for (double C = 0.0; C <= 1.0; C += 0.25) {
    double cf[2] = {C, 0.0}, cb[2] = {C, 0.0};
    for (uint64_t m = 1; m <= 65; m += 4) {
      const p3cfg__pipe pp = {2, 1, m, F, B, cf, cb};
      sim_out o;
      simulate(&o, &pp, 0);
      const double sends = 2.0 * (double)((m + 1) / 2);
      fx_assert_close(o.end[0], (double)(m + 1) * 3.0 + sends * C, 1e-12);
      fx_assert_close(o.comm[0], sends * C, 1e-12);
    }
  }
}

Test(perf, a_slow_stage_sets_the_pace)
{
  double F[8], B[8], c[8];
  for (int j = 0; j < 8; j++)
    F[j] = 1.0, B[j] = 2.0, c[j] = 0.001;
  F[5] = 1.5, B[5] = 3.0; /* 50 % slower */
  const uint64_t m = 128;
  const p3cfg__pipe pp = {8, 1, m, F, B, c, c};
  sim_out o;
  simulate(&o, &pp, 0);
  /* Every micro-batch waits for stage 5: m (F5 + B5), plus fill and drain. */
  cr_assert_geq(o.end[0], (double)m * 4.5);
  cr_assert_leq(o.end[0], (double)m * 4.5 + 7 * 4.5 + 1.0);
  compare(&pp);
}

/* The workspace limit: pipelines up to it pass, past it the plan is refused with the
 * size and the limit named (issue 17 §5: pp 1024 x vpp 1024 asked for 68.7 GB). */
Test(perf, workspace_limit_refuses_pipelines_too_large_to_simulate)
{
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 1;
  p.dp = 1;
  p.micro_batch = 1;
  p.pp = 256;
  p.virtual_stages = 255;
  p.global_batch = 2048;
  cr_expect_leq(p3cfg__perf_workspace_bytes(&p), P3CFG__PERF_WORKSPACE_MAX);
  cr_expect_eq(p3cfg__perf_workspace_check(&p), P3CFG_OK);
  p.virtual_stages = 256;
  cr_expect_gt(p3cfg__perf_workspace_bytes(&p), P3CFG__PERF_WORKSPACE_MAX);
  cr_expect_eq(p3cfg__perf_workspace_check(&p), P3CFG_EPLAN);
  p.pp = 1024;
  p.virtual_stages = 1024;
  cr_expect_eq(p3cfg__perf_workspace_check(&p), P3CFG_EPLAN);
  cr_expect_str_eq(p3cfg_error_last()->message,
                   "the pipeline simulation of pp 1024 x vpp 1024 x 2048 micro-batches needs "
                   "68.7 GB of workspace, more than the 1 GiB limit (docs/input-limits.md)");
}
