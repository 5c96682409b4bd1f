/*
 * modelzoo_accuracy.c — the time model on Megatron-Core's published Qwen3-235B-A22B runs on
 * 256 H100 (data/calibration/megatron-moe-modelzoo-qwen3-h100.csv: yanring/Megatron-MoE-
 * ModelZoo best_practice/qwen3/readme.md at e8650517): five plans of one step (cross-node
 * and intra-node expert parallelism, DeepEP and all-to-all dispatchers, the 1F1B
 * all-to-all overlap, Megatron-FSDP) and a context-parallel sweep from 16K to 128K tokens
 * at cp 1 to 8. Nothing is fitted here: every constant comes from bench/time_accuracy.c's
 * sources and the kernel tables, so every error below is out of sample.
 *
 * Each row runs the repository's models/qwen3-235b-a22b.yaml with the row's sequence,
 * global batch and moe.dispatcher on clusters/dgx-h100-32n.yaml, and the published plan:
 * tp, cp, ep, pp, vpp, etp 1, micro-batch as published; sequence parallelism (tp > 1); the
 * distributed optimizer (Megatron-FSDP, ZeRO 3, where the table says FSDP); overlapped
 * gradient reduce and parameter gather; the embedding and the loss counted in the
 * pipeline split (pp > 1); the row's recomputation; --overlap ep where the row overlaps
 * the all-to-alls. The plans are compared on step time, the sweep on TFLOPS per GPU in
 * the table's own count: Megatron-LM's (p3cfg's time.model_tflops_per_gpu) with the
 * attention core counted in full, without its causal half (the CSV's header gives the
 * evidence). Every published plan must be judged to fit.
 *
 * The model routes tokens evenly (forced balance): the sweep's dropless rows are printed
 * beside it, not counted.
 *
 *   build/bench_modelzoo_accuracy            the table and its summaries
 *   build/bench_modelzoo_accuracy --ratios   and each counted row's measured / predicted
 *                                            step time (for bench/pooled_interval.py)
 *   build/bench_modelzoo_accuracy --alltoall every row timed with the all-to-all
 *                                            dispatcher, DeepEP's rows too (comparison)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_csv.h"
#include "p3cfg.h"
#include "types.h"

#define MAX_PLANS 16

/* "layernorm+moe_act" (selective with those modules), "full", "none". */
static void recompute_of(p3cfg_plan *pl, const char *s)
{
  pl->recompute = P3CFG_RECOMPUTE_NONE, pl->recompute_modules = 0;
  if (!strcmp(s, "full")) {
    pl->recompute = P3CFG_RECOMPUTE_FULL;
    return;
  }
  if (!strcmp(s, "none") || !*s)
    return;
  pl->recompute = P3CFG_RECOMPUTE_SELECTIVE;
  if (strstr(s, "layernorm"))
    pl->recompute_modules |= P3CFG_RECOMPUTE_MODULE_LAYERNORM;
  if (strstr(s, "moe_act"))
    pl->recompute_modules |= P3CFG_RECOMPUTE_MODULE_MOE_ACT;
  else if (strstr(s, "moe"))
    pl->recompute_modules |= P3CFG_RECOMPUTE_MODULE_MOE;
}

int main(int argc, char **argv)
{
  int print_ratios = 0, all_alltoall = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--ratios"))
      print_ratios = 1;
    else if (!strcmp(argv[i], "--alltoall"))
      all_alltoall = 1;
    else {
      fprintf(stderr, "usage: bench_modelzoo_accuracy [--ratios] [--alltoall]\n");
      return 2;
    }
  }
  const char *csv = P3CFG_DATA_DIR "/calibration/megatron-moe-modelzoo-qwen3-h100.csv";
  csv_row h, r;
  FILE *f = csv_open(csv, &h);
  if (!f)
    return 1;
  char path[512];
  p3cfg_cluster *c = NULL;
  snprintf(path, sizeof path, "%s/clusters/dgx-h100-32n.yaml", P3CFG_SOURCE_DIR);
  if (p3cfg_cluster_load(&c, path, NULL)) {
    fprintf(stderr, "modelzoo_accuracy: %s: %s\n", path, p3cfg_error_last()->message);
    return 1;
  }
  printf("Megatron-MoE-ModelZoo Qwen3-235B-A22B, 256 DGX H100, BF16 "
         "(data/calibration/megatron-moe-modelzoo-qwen3-h100.csv)\n");
  printf("  %-5s %-8s %6s  %-30s %-16s %-8s %9s %9s %8s  %s\n", "table", "dispatch", "seq",
         "plan (tp/cp/ep/pp/vpp, mbs)", "recompute", "routing", "pred", "pub", "error",
         "fits (peak GiB)");
  int n = 0, above = 0, n_fit = 0, n_plans = 0;
  double sum = 0.0, worst = 0.0, sum_plans = 0.0, sum_long = 0.0;
  int n_long = 0;
  double plan_pred[MAX_PLANS], plan_pub[MAX_PLANS];
  double ratios[64];
  int n_ratios = 0;
  while (next_row(&r, f)) {
    const int is_plans = !strcmp(get(&h, &r, "table"), "plans");
    const int counted = strcmp(get(&h, &r, "routing"), "dropless") != 0;
    p3cfg_model *m = NULL;
    snprintf(path, sizeof path, "%s/models/qwen3-235b-a22b.yaml", P3CFG_SOURCE_DIR);
    if (p3cfg_model_load(&m, path, NULL)) {
      fprintf(stderr, "modelzoo_accuracy: %s: %s\n", path, p3cfg_error_last()->message);
      return 1;
    }
    m->seq_len = (uint64_t)num(&h, &r, "seq_len");
    m->global_batch = (uint64_t)num(&h, &r, "gbs");
    /* The launch settings of model_configs/benchmarking/Qwen3-235B-A22B.yaml: TE's fused
     * cross entropy; Megatron-LM's default fp32 gradient buffers (no --grad-reduce-in-bf16). */
    m->cross_entropy = P3CFG_CE_FUSED;
    m->moe.dispatcher = !all_alltoall && !strcmp(get(&h, &r, "dispatcher"), "deepep")
                            ? P3CFG_DISPATCH_DEEPEP
                            : P3CFG_DISPATCH_ALLTOALL;

    p3cfg_plan pl = P3CFG_PLAN_INIT;
    pl.tp = (uint32_t)num(&h, &r, "tp"), pl.cp = (uint32_t)num(&h, &r, "cp");
    pl.ep = (uint32_t)num(&h, &r, "ep"), pl.etp = (uint32_t)num(&h, &r, "etp");
    pl.pp = (uint32_t)num(&h, &r, "pp"), pl.virtual_stages = (uint32_t)num(&h, &r, "vp");
    pl.dp = (uint32_t)num(&h, &r, "dp");
    pl.micro_batch = (uint32_t)num(&h, &r, "mbs");
    pl.global_batch = m->global_batch;
    pl.sequence_parallel = pl.tp > 1;
    pl.zero_stage = num(&h, &r, "fsdp") > 0 ? 3 : 1;
    pl.overlap = P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER |
                 (num(&h, &r, "a2a_overlap") > 0 ? P3CFG_OVERLAP_EP_COMM : 0);
    pl.split_accounts =
        pl.pp > 1 ? P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS : 0;
    recompute_of(&pl, get(&h, &r, "recompute"));

    char plan[48];
    snprintf(plan, sizeof plan, "%u/%u/%u/%u/%u, mbs %u%s", pl.tp, pl.cp, pl.ep, pl.pp,
             pl.virtual_stages, pl.micro_batch, pl.zero_stage == 3 ? " fsdp" : "");
    p3cfg_result *res = NULL;
    if (p3cfg_estimate(&res, m, c, &pl, NULL)) {
      printf("  %-5s %-8s %6s  %-30s estimate failed: %s\n", get(&h, &r, "table"),
             get(&h, &r, "dispatcher"), get(&h, &r, "seq_len"), plan,
             p3cfg_error_last()->message);
      p3cfg_model_free(m);
      continue;
    }
    const p3cfg_time *t = p3cfg_result_time(res, 0);
    const p3cfg_memory *mem = p3cfg_result_memory(res, 0);
    /* Plans: step time; the sweep: TFLOPS per GPU (a higher prediction is a faster one, so
     * its error is taken on the implied step time, pub/pred - 1, to share one sign). */
    /* The sweep's TFLOPS count the attention core in full, without the causal half (see
     * the CSV's header): p3cfg's count plus that half once more. */
    const double s_len = (double)m->seq_len, q = (double)(m->heads * m->head_dim);
    const double core_half = 6.0 * s_len * q * (double)m->layers * s_len *
                             (double)m->global_batch / num(&h, &r, "gpus") / 1e12;
    const double pub = is_plans ? num(&h, &r, "step_s") : num(&h, &r, "tflops_per_gpu");
    const double pred = is_plans ? t->iteration_s
                                 : t->model_tflops_per_gpu + core_half / t->iteration_s;
    const double err = is_plans ? pred / pub - 1.0 : pub / pred - 1.0; /* > 0: predicted slow */
    printf("  %-5s %-8s %6s  %-30s %-16s %-8s %9.2f %9.2f %+7.1f%%  %s (%.1f)%s\n",
           get(&h, &r, "table"), get(&h, &r, "dispatcher"), get(&h, &r, "seq_len"), plan,
           get(&h, &r, "recompute"), get(&h, &r, "routing"), pred, pub, 100.0 * err,
           mem->fits ? "yes" : "NO", (double)mem->peak_bytes / 1073741824.0,
           counted ? "" : "   (dropless: not counted)");
    if (counted) {
      n++, sum += fabs(err), worst = fmax(worst, fabs(err)), above += err > 0, n_fit += mem->fits;
      if (n_ratios < 64)
        ratios[n_ratios++] = 1.0 / (1.0 + err); /* measured / predicted step time */
      if (is_plans) {
        sum_plans += fabs(err);
        if (n_plans < MAX_PLANS)
          plan_pred[n_plans] = pred, plan_pub[n_plans] = pub, n_plans++;
      } else {
        sum_long += fabs(err), n_long++;
      }
    }
    p3cfg_result_free(res);
    p3cfg_model_free(m);
  }
  fclose(f);
  p3cfg_cluster_free(c);
  if (!n)
    return 1;
  printf("\n  step time (plans) or implied step time (sweep), forced-balance rows: MAPE %.1f %% "
         "(%d rows), worst %.1f %%, %d predicted slow, %d of %d judged to fit\n",
         100.0 * sum / n, n, 100.0 * worst, above, n_fit, n);
  if (n_plans)
    printf("    the five plans: %.1f %%; the cp sweep: %.1f %%\n", 100.0 * sum_plans / n_plans,
           n_long ? 100.0 * sum_long / n_long : 0.0);
  /* The plans ranked as measured: pairs whose measured times differ (ties are the table's
   * own: 17.6 and 17.6), ordered the same way by the model. */
  int concordant = 0, pairs = 0;
  for (int i = 0; i < n_plans; i++)
    for (int j = i + 1; j < n_plans; j++)
      if (plan_pub[i] != plan_pub[j]) {
        pairs++;
        concordant += (plan_pub[i] < plan_pub[j]) == (plan_pred[i] < plan_pred[j]);
      }
  if (pairs)
    printf("    plans ranked as measured: %d of %d pairs\n", concordant, pairs);
  for (int i = 0; print_ratios && i < n_ratios; i++)
    printf("ratio megatron-moe-modelzoo-qwen3 %.6f\n", ratios[i]);
  return 0;
}
