/*
 * cards_accuracy.c — the time model on mixture-of-experts runs of current Megatron-Core
 * software, each with the exact recipe that ran it (data/calibration/
 * megatron-bridge-verification-cards.csv: Megatron-Bridge's model verification cards and
 * Megatron-LM pull request 5728, mid-2026). Nothing is fitted here: every constant comes
 * from bench/time_accuracy.c's sources, the kernel tables and bench/moe_accuracy.c's
 * GB200 / GB300 clocks (fitted on dense rows only), so every error below is out of sample.
 *
 * Each row runs its models/ preset with the row's precision, sequence, global batch and
 * moe.dispatcher, bf16 gradient reduction and TE's fused cross entropy, on its clusters/
 * preset (the first `gpus` GPUs), and the published plan: tp, pp, cp, vp, ep as published,
 * etp 1, sequence parallelism where tp > 1, the distributed optimizer with overlapped
 * gradient reduce and parameter gather, the embedding and the loss counted in the pipeline
 * split (pp > 1), no recomputation, --overlap ep where the recipe overlaps the expert
 * all-to-alls. Rows with a step time compare it; the TFLOPS-only row compares TFLOPS per
 * GPU in Megatron-LM's count (p3cfg's time.model_tflops_per_gpu), its error taken on the
 * implied step time so that every error has one sign: > 0 predicted slow.
 *
 * The weak-scaling points (one recipe at 8 to 256 GPUs, global batch in proportion) are
 * also compared as scaling: each point's tokens/s per GPU over the 8-GPU point's, measured
 * and predicted. An A/B pair (table ab: the same run without and with one change, here the
 * expert all-to-all overlap) is also compared as the change's saving, measured and
 * predicted.
 *
 *   build/bench_cards_accuracy            the table and its summaries
 *   build/bench_cards_accuracy --ratios   and each single run's measured / predicted step
 *                                         time (for bench/pooled_interval.py --moe; the
 *                                         weak-scaling points are left out: their 8-GPU
 *                                         run is bench_moe_accuracy's GB300 Qwen3 row)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_csv.h"
#include "p3cfg.h"
#include "plan_record.h"
#include "types.h"

#define MAX_ROWS 32

/* The index of `name` in the plan files' name table `names` (plan_record.c), or -1. */
static int name_index(const char *const *names, int n, const char *name)
{
  for (int i = 0; i < n; i++)
    if (names[i] && !strcmp(names[i], name))
      return i;
  return -1;
}

int main(int argc, char **argv)
{
  int print_ratios = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--ratios"))
      print_ratios = 1;
    else {
      fprintf(stderr, "usage: bench_cards_accuracy [--ratios]\n");
      return 2;
    }
  }
  const char *csv = P3CFG_DATA_DIR "/calibration/megatron-bridge-verification-cards.csv";
  csv_row h, r;
  FILE *f = csv_open(csv, &h);
  if (!f)
    return 1;
  printf("Megatron-Core MoE runs with their recipes, mid-2026 software "
         "(data/calibration/megatron-bridge-verification-cards.csv)\n");
  printf("  %-5s %-9s %-9s %-15s %-6s %4s  %-26s %-8s %-14s %9s %9s %8s  %s\n", "table", "source",
         "system", "model", "prec", "gpus", "plan (tp/pp/cp/vp/ep, mbs)", "dispatch", "graphs",
         "pred", "pub", "error", "fits");
  int n = 0, slow = 0, n_fit = 0, n_ratios = 0;
  double sum = 0.0, worst = 0.0, ratios[MAX_ROWS];
  double weak_gpus[MAX_ROWS], weak_pub[MAX_ROWS], weak_pred[MAX_ROWS];
  int n_weak = 0;
  double ab_pub[2] = {0.0, 0.0}, ab_pred[2] = {0.0, 0.0};
  int n_ab = 0;
  char path[512];
  while (next_row(&r, f)) {
    p3cfg_model *m = NULL;
    p3cfg_cluster *c = NULL;
    snprintf(path, sizeof path, "%s/models/%s.yaml", P3CFG_SOURCE_DIR, get(&h, &r, "model"));
    if (p3cfg_model_load(&m, path, NULL)) {
      fprintf(stderr, "cards_accuracy: %s: %s\n", path, p3cfg_error_last()->message);
      return 1;
    }
    snprintf(path, sizeof path, "%s/clusters/%s.yaml", P3CFG_SOURCE_DIR, get(&h, &r, "cluster"));
    if (p3cfg_cluster_load(&c, path, NULL)) {
      fprintf(stderr, "cards_accuracy: %s: %s\n", path, p3cfg_error_last()->message);
      return 1;
    }
    const int prec = name_index(p3cfg__precision_names, 6, get(&h, &r, "precision"));
    const int disp =
        name_index(p3cfg__moe_dispatcher_names, P3CFG_DISPATCH_COUNT, get(&h, &r, "dispatcher"));
    if (prec < 0 || disp < 0) {
      fprintf(stderr, "cards_accuracy: unknown precision %s or dispatcher %s\n",
              get(&h, &r, "precision"), get(&h, &r, "dispatcher"));
      return 1;
    }
    m->precision = (p3cfg_precision)prec;
    m->moe.dispatcher = (p3cfg_moe_dispatcher)disp;
    m->seq_len = (uint64_t)num(&h, &r, "seq_len");
    m->global_batch = (uint64_t)num(&h, &r, "gbs");
    m->cross_entropy = P3CFG_CE_FUSED;
    m->grad_reduce = P3CFG_GRAD_REDUCE_BF16;

    p3cfg_plan pl = P3CFG_PLAN_INIT;
    pl.tp = (uint32_t)num(&h, &r, "tp"), pl.pp = (uint32_t)num(&h, &r, "pp");
    pl.cp = (uint32_t)num(&h, &r, "cp"), pl.virtual_stages = (uint32_t)num(&h, &r, "vp");
    pl.ep = (uint32_t)num(&h, &r, "ep"), pl.etp = 1;
    pl.micro_batch = (uint32_t)num(&h, &r, "mbs");
    pl.dp = (uint32_t)num(&h, &r, "gpus") / (pl.tp * pl.pp * pl.cp);
    pl.global_batch = m->global_batch;
    pl.sequence_parallel = pl.tp > 1;
    pl.zero_stage = 1;
    pl.overlap = P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER |
                 (num(&h, &r, "ep_overlap") > 0 ? P3CFG_OVERLAP_EP_COMM : 0);
    pl.split_accounts = pl.pp > 1 ? P3CFG_SPLIT_ACCOUNT_EMBEDDING | P3CFG_SPLIT_ACCOUNT_LOSS : 0;

    char plan[48];
    snprintf(plan, sizeof plan, "%u/%u/%u/%u/%u, mbs %u", pl.tp, pl.pp, pl.cp, pl.virtual_stages,
             pl.ep, pl.micro_batch);
    p3cfg_result *res = NULL;
    if (p3cfg_estimate(&res, m, c, &pl, NULL)) {
      printf("  %-5s %-9s %-9s %-15s %-6s %4s  %-26s estimate failed: %s\n", get(&h, &r, "table"),
             get(&h, &r, "source"), get(&h, &r, "system"), get(&h, &r, "model"),
             get(&h, &r, "precision"), get(&h, &r, "gpus"), plan, p3cfg_error_last()->message);
      p3cfg_model_free(m);
      p3cfg_cluster_free(c);
      continue;
    }
    const p3cfg_time *t = p3cfg_result_time(res, 0);
    const p3cfg_memory *mem = p3cfg_result_memory(res, 0);
    const int by_step = num(&h, &r, "step_s") > 0.0;
    const double pub = by_step ? num(&h, &r, "step_s") : num(&h, &r, "tflops_per_gpu");
    const double pred = by_step ? t->iteration_s : t->model_tflops_per_gpu;
    const double err = by_step ? pred / pub - 1.0 : pub / pred - 1.0; /* > 0: predicted slow */
    printf("  %-5s %-9s %-9s %-15s %-6s %4s  %-26s %-8s %-14s %9.2f %9.2f %+7.1f%%  %s%s\n",
           get(&h, &r, "table"), get(&h, &r, "source"), get(&h, &r, "system"), get(&h, &r, "model"),
           get(&h, &r, "precision"), get(&h, &r, "gpus"), plan, get(&h, &r, "dispatcher"),
           get(&h, &r, "graphs"), pred, pub, 100.0 * err, mem->fits ? "yes" : "NO",
           by_step ? " s" : " TFLOPS");
    /* The weak-scaling points are one recipe whose 8-GPU run bench_moe_accuracy already
     * pools (Megatron-Bridge's 26.08 table): a scaling check, not more runs. */
    const int weak = !strcmp(get(&h, &r, "table"), "weak");
    if (!weak && n_ratios < MAX_ROWS)
      ratios[n_ratios++] = 1.0 / (1.0 + err); /* measured / predicted step time */
    n++, sum += fabs(err), worst = fmax(worst, fabs(err)), slow += err > 0, n_fit += mem->fits;
    if (!strcmp(get(&h, &r, "table"), "ab") && by_step && n_ab < 2) {
      ab_pub[n_ab] = pub, ab_pred[n_ab] = pred;
      n_ab++;
    }
    if (weak && n_weak < MAX_ROWS) {
      weak_gpus[n_weak] = num(&h, &r, "gpus");
      weak_pub[n_weak] = num(&h, &r, "tokens_per_s_per_gpu");
      weak_pred[n_weak] = t->tokens_per_s / num(&h, &r, "gpus");
      n_weak++;
    }
    p3cfg_result_free(res);
    p3cfg_model_free(m);
    p3cfg_cluster_free(c);
  }
  fclose(f);
  if (!n)
    return 1;
  printf("\n  step time (or implied step time): MAPE %.1f %% (%d rows), worst %.1f %%, "
         "%d predicted slow, %d predicted fast, %d of %d judged to fit\n",
         100.0 * sum / n, n, 100.0 * worst, slow, n - slow, n_fit, n);
  if (n_weak > 1) {
    printf("  weak scaling, tokens/s per GPU over the %.0f-GPU point's:", weak_gpus[0]);
    for (int i = 1; i < n_weak; i++)
      printf("  %.0f GPUs %.3f measured, %.3f predicted;", weak_gpus[i], weak_pub[i] / weak_pub[0],
             weak_pred[i] / weak_pred[0]);
    printf("\n");
  }
  if (n_ab == 2)
    printf("  A/B (EP overlap off, on): step time saved %.1f %% measured, %.1f %% predicted "
           "(%.2f s and %.2f s)\n",
           100.0 * (1.0 - ab_pub[1] / ab_pub[0]), 100.0 * (1.0 - ab_pred[1] / ab_pred[0]),
           ab_pub[0] - ab_pub[1], ab_pred[0] - ab_pred[1]);
  for (int i = 0; print_ratios && i < n_ratios; i++)
    printf("ratio megatron-bridge-cards %.6f\n", ratios[i]);
  return 0;
}
