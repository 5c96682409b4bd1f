/*
 * offload_test.c — activation offloading's schedule (src/perf/offload.c), against cases
 * derived by hand from Transformer Engine's rule (TransformerEngine
 * docs/features/other_optimizations/cpu_offloading at d0067d0): one copy stream, the first
 * n of L layers offloaded, at most L - n layers' activation sets on the GPU; and the plan
 * rules and memory of Megatron-Core's cpu_offloading_num_layers.
 */
#include "perf_fixtures.h"

#include "memory.h"

/* Copies faster than the layers and a window of several sets: every copy hides behind
 * the next layers' compute, both ways. */
Test(offload, fast_copies_behind_a_wide_window_cost_nothing)
{
  double f, b;
  p3cfg__offload_exposed(&f, &b, 80, 30, 10e-3, 20e-3, 5e-3);
  cr_expect_float_eq(f, 0.0, 1e-12);
  cr_expect_float_eq(b, 0.0, 1e-12);
}

/* n = L - 1 leaves one set on the GPU: TE warns that compute and copies then cannot
 * overlap. Forward: layer k + 1 waits for the copy of layer k (k <= n), so each of the n
 * copies is exposed: n * x. Backward: layer L runs, then each reload waits for the
 * backward before it and the backward for its reload: n * x again. */
Test(offload, one_resident_set_serialises_compute_and_copies)
{
  double f, b;
  const uint32_t L = 8, n = 7;
  const double tf = 1.0, tb = 2.0, x = 0.5;
  p3cfg__offload_exposed(&f, &b, L, n, tf, tb, x);
  cr_expect_float_eq(f, n * x, 1e-12);
  cr_expect_float_eq(b, n * x, 1e-12);
}

/* Copies slower than compute, window 2 (L 4, n 2): by hand, forward c1 = 1, x1 = 4 (copy
 * 3), c2 = 2, x2 = 7, c3 = max(2, x1) + 1 = 5, c4 = max(5, x2) + 1 = 8 against 4 of
 * compute: 4 exposed. Backward from 0: b4 = 1, b3 = 2; reload 2 after b4 (the set it
 * frees): 1 + 3 = 4, b2 = max(2, 4) + 1 = 5; reload 1 after b3 and reload 2: 4 + 3 = 7,
 * b1 = 8 against 4: 4 exposed. */
Test(offload, slow_copies_stall_the_window_as_derived_by_hand)
{
  double f, b;
  p3cfg__offload_exposed(&f, &b, 4, 2, 1.0, 1.0, 3.0);
  cr_expect_float_eq(f, 4.0, 1e-12);
  cr_expect_float_eq(b, 4.0, 1e-12);
}

Test(offload, no_offloaded_layer_costs_nothing)
{
  double f = 1.0, b = 1.0;
  p3cfg__offload_exposed(&f, &b, 8, 0, 1.0, 1.0, 3.0);
  cr_expect(f == 0.0 && b == 0.0);
}

/* Megatron-Core's checks (transformer_config.py __post_init__ at d98e8a6) and the memory:
 * n of L layers offloaded leaves L - n layers' activations in the stash. */
Test(offload, rules_and_resident_activations)
{
  p3cfg_model m = fx_gpt(32, 4096, 32, 51200, 4096, 64);
  p3cfg_cluster c = fx_cluster("h100-sxm", 1, 450e9, 50e9);
  p3cfg_plan p;
  p3cfg_plan_init(&p);
  p.tp = 8, p.pp = 1, p.dp = 1, p.micro_batch = 1, p.global_batch = 64;
  cr_assert_eq(p3cfg__plan_balanced_split(&p, &m), 0);
  cr_assert_eq(p3cfg__plan_check(&p, &m, &c), P3CFG_OK);
  p3cfg_stage_memory s0, s4, s8;
  p3cfg_memory mem;
  p3cfg__memory_plan(&mem, &s0, &m, &c, &p);
  p.cpu_offload_layers = 4;
  p3cfg__memory_plan(&mem, &s4, &m, &c, &p);
  p.cpu_offload_layers = 8;
  cr_assert_eq(p3cfg__plan_check(&p, &m, &c), P3CFG_OK);
  p3cfg__memory_plan(&mem, &s8, &m, &c, &p);
  /* Each offloaded layer takes one layer's activations off the stash; the embedding and
   * output-layer parts stay. */
  cr_expect_gt(s0.activations_bytes, s4.activations_bytes);
  cr_expect_eq(s0.activations_bytes - s8.activations_bytes,
               2 * (s0.activations_bytes - s4.activations_bytes));

  p.cpu_offload_layers = 32; /* every layer: Megatron refuses */
  cr_expect_eq(p3cfg__plan_rule_check(&p, &m, &c), P3CFG_RULE_CPU_OFFLOAD);
  p.cpu_offload_layers = 8, p.recompute = P3CFG_RECOMPUTE_FULL;
  cr_expect_eq(p3cfg__plan_rule_check(&p, &m, &c), P3CFG_RULE_CPU_OFFLOAD);
  p.recompute = P3CFG_RECOMPUTE_NONE, p.framework = P3CFG_FRAMEWORK_TORCHTITAN;
  cr_expect_eq(p3cfg__plan_rule_check(&p, &m, &c), P3CFG_RULE_FRAMEWORK);
}
