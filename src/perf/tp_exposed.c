/*
 * tp_exposed.c — the exposed tensor-parallel communication of one transformer layer, one
 * micro-batch, forward and backward: Megatron-LM's collectives, exposed or overlapped
 * with their GEMMs (Transformer Engine's ring exchange), and torchtitan's async TP
 * (framework_time.c). perf_plan.c charges it per layer of every stage.
 */
#include "perf_internal.h"

/* Exposed TP communication of one layer, forward and backward (P3CFG__LAYER_TP_AR_*;
 * with overlap, each all-reduce hides behind its GEMM, slowing it). Megatron-LM issues
 * the backward's input-gradient all-reduce (and, with sp, the re-gather) asynchronously
 * beside a GEMM, but crediting that overlap makes every calibration source worse
 * (docs/time-model.md, section 5): in measured steps they stay exposed. lp: tp_ag_cut. */
void p3cfg__tp_exposed(double *fwd_s, double *bwd_s, const p3cfg__layer_cost *L, double ar_s,
                       double tp, int overlap)
{
  const double half = 0.5 * ar_s * (1.0 - L->tp_ag_cut); /* an all-gather: the re-gathers */
  const double unit = half + 0.5 * ar_s; /* an all-gather + a 16-bit reduce-scatter */
  if (overlap && L->tp_fused_only) {
    p3cfg__tp_exposed_fused_only(fwd_s, bwd_s, L, ar_s, tp);
  } else if (!overlap) {
    *fwd_s = P3CFG__LAYER_TP_AR_FWD * unit;
    *bwd_s = P3CFG__LAYER_TP_AR_BWD * unit;
    if (L->sp_regather)
      *bwd_s += P3CFG__LAYER_SP_AG_BWD * half;
  } else {
    *fwd_s = p3cfg__overlap_cost(unit, p3cfg__overlap_exposed_s(unit, L->gemm_attn_s, tp)) +
             p3cfg__overlap_cost(unit, p3cfg__overlap_exposed_s(unit, L->gemm_mlp_s, tp));
    *bwd_s = p3cfg__overlap_cost(unit, p3cfg__overlap_exposed_s(unit, 2.0 * L->gemm_attn_s, tp)) +
             p3cfg__overlap_cost(unit, p3cfg__overlap_exposed_s(unit, 2.0 * L->gemm_mlp_s, tp));
    if (L->sp_regather) /* under the data-gradient GEMMs of QKV and MLP up */
      *bwd_s += p3cfg__overlap_cost(half, p3cfg__overlap_exposed_s(half, L->gemm_qkv_s, tp)) +
                p3cfg__overlap_cost(half, p3cfg__overlap_exposed_s(half, L->gemm_fc1_s, tp));
  }
  if (L->recompute_comm)
    *bwd_s += *fwd_s;
}
