/*
 * grad_reduce_time_test.c — the model's `grad_reduce` in time (src/common/grad_reduce.h,
 * perf_plan.c's grad_elem): bf16 main grads halve the bytes of the data-parallel gradient
 * all-reduce (ZeRO 0) and reduce-scatter (ZeRO 1); the parameter all-gather keeps its 16
 * bits; torchtitan and DeepSpeed plans do not read it.
 */
#include "perf_fixtures.h"

static p3cfg_time run_dp2(const p3cfg_model *m, uint32_t zero, uint32_t framework)
{
  p3cfg_cluster c = fx_cluster("h100-sxm", 2, 450e9, 50e9);
  fx_measure_links(&c);
  p3cfg_plan pl = fx_plan(m, &c, 1, 1, 2, 1, 1, P3CFG_RECOMPUTE_NONE, 0, zero, 0);
  pl.framework = framework;
  const uint32_t ranks[2] = {0, 8}; /* one GPU on each node: a two-GPU ring over the NIC */
  const p3cfg_time t = fx_run(m, &c, &pl, ranks);
  fx_free_links(&c);
  return t;
}

Test(perf, bf16_gradients_halve_the_dp_all_reduce_on_a_bandwidth_bound_ring)
{
  p3cfg_model m = fx_gpt(24, 2048, 16, 51200, 2048, 16);
  const p3cfg_time f = run_dp2(&m, 0, P3CFG_FRAMEWORK_MEGATRON);
  m.grad_reduce = P3CFG_GRAD_REDUCE_BF16;
  const p3cfg_time b = run_dp2(&m, 0, P3CFG_FRAMEWORK_MEGATRON);
  p3cfg__params par;
  p3cfg__model_params(&par, &m, 1);
  /* A two-GPU ring all-reduce moves 2 (k-1)/k = 1 times its bytes over the link: 4 bytes
   * per parameter in fp32, 2 in bf16. */
  const double bw = 50e9 * P3CFG_NETWORK_EFFICIENCY;
  fx_assert_close(f.dp_comm_s - b.dp_comm_s, 2.0 * (double)par.total / bw, 1e-6);
  cr_assert_lt(fabs(b.dp_comm_s / f.dp_comm_s - 0.5), 1e-3, "bandwidth-bound: %.6f",
               b.dp_comm_s / f.dp_comm_s);
  fx_assert_close(f.iteration_s - b.iteration_s, f.dp_comm_s - b.dp_comm_s, 1e-9);
  fx_assert_close(b.compute_s, f.compute_s, 1e-12);
}

Test(perf, bf16_gradients_halve_the_reduce_scatter_not_the_parameter_all_gather)
{
  p3cfg_model m = fx_gpt(24, 2048, 16, 51200, 2048, 16);
  const p3cfg_time f = run_dp2(&m, 1, P3CFG_FRAMEWORK_MEGATRON);
  m.grad_reduce = P3CFG_GRAD_REDUCE_BF16;
  const p3cfg_time b = run_dp2(&m, 1, P3CFG_FRAMEWORK_MEGATRON);
  p3cfg__params par;
  p3cfg__model_params(&par, &m, 1);
  /* Distributed optimizer: reduce-scatter (k-1)/k = 1/2 of 4 (now 2) bytes per parameter,
   * all-gather 1/2 of 2 bytes: fp32 3 bytes' time, bf16 2 bytes'. */
  const double bw = 50e9 * P3CFG_NETWORK_EFFICIENCY;
  fx_assert_close(f.dp_comm_s - b.dp_comm_s, (double)par.total / bw, 1e-6);
  cr_assert_lt(fabs(b.dp_comm_s / f.dp_comm_s - 2.0 / 3.0), 1e-3, "%.6f",
               b.dp_comm_s / f.dp_comm_s);
}

Test(perf, grad_reduce_leaves_torchtitan_and_deepspeed_timing_alone)
{
  p3cfg_model m = fx_gpt(24, 2048, 16, 51200, 2048, 16);
  p3cfg_model b = m;
  b.grad_reduce = P3CFG_GRAD_REDUCE_BF16;
  const struct {
    uint32_t zero, framework;
  } keep[] = {{0, P3CFG_FRAMEWORK_TORCHTITAN}, {0, P3CFG_FRAMEWORK_DEEPSPEED},
              {1, P3CFG_FRAMEWORK_DEEPSPEED}};
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
    const p3cfg_time x = run_dp2(&m, keep[i].zero, keep[i].framework);
    const p3cfg_time y = run_dp2(&b, keep[i].zero, keep[i].framework);
    cr_assert_eq(x.iteration_s, y.iteration_s, "zero %u framework %u", keep[i].zero,
                 keep[i].framework);
  }
}
