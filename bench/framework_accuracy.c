/*
 * framework_accuracy.c — accuracy of the framework rules (docs/time-model.md and
 * docs/memory-model.md, "Frameworks") on the published torchtitan and DeepSpeed runs of
 * data/calibration/framework-runs.csv: every row's plan built with the row's framework
 * and knobs, tokens/s per GPU and (where published) the allocator's reserved peak
 * predicted; errors per row, MAPE per framework, and leave-one-source-out errors for the
 * fitted constants:
 *   - compute_efficiency, one per framework (time): fitted on the framework's other
 *     sources, the held-out source predicted with it;
 *   - headroom_eager / headroom_compiled (torchtitan memory): fitted on one T1 table,
 *     the other table predicted.
 *
 *   build/bench_framework_accuracy
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cluster.h"
#include "framework_physics.h"
#include "p3cfg.h"
#include "types.h"

#define MAX_ROWS 64
#define LINE_BYTES 2048
#define GIB 1073741824.0

typedef struct row {
  char source[16], framework[16], model[64], gpu[32], recompute[16], notes[128];
  char stage_layers[128];
  double nodes, intra, inter, hbm, mem_gib, gbs, mbs, tp, pp, zero, sp, compile, overlap;
  double tps, iter_s, mem_meas;
  uint32_t fw;
} row;

static row rows[MAX_ROWS];
static int n_rows;

static void load(void)
{
  FILE *f = fopen(P3CFG_DATA_DIR "/calibration/framework-runs.csv", "r");
  if (!f) {
    perror("framework_accuracy: framework-runs.csv");
    exit(1);
  }
  char line[LINE_BYTES];
  int header = 1;
  while (fgets(line, sizeof line, f) && n_rows < MAX_ROWS) {
    if (line[0] == '#' || line[0] == '\n')
      continue;
    if (header) {
      header = 0;
      continue;
    }
    line[strcspn(line, "\r\n")] = '\0';
    char *col[32];
    int n = 0;
    for (char *p = line; p && n < 32;) {
      col[n++] = p;
      p = strchr(p, ',');
      if (p)
        *p++ = '\0';
    }
    if (n < 23) {
      fprintf(stderr, "framework_accuracy: short row (%d columns)\n", n);
      exit(1);
    }
    row *r = &rows[n_rows++];
    snprintf(r->source, sizeof r->source, "%s", col[0]);
    snprintf(r->framework, sizeof r->framework, "%s", col[1]);
    snprintf(r->model, sizeof r->model, "%s", col[2]);
    snprintf(r->gpu, sizeof r->gpu, "%s", col[3]);
    double *v[] = {&r->nodes, &r->intra, &r->inter, &r->hbm, &r->mem_gib, &r->gbs, &r->mbs,
                   &r->tp, &r->pp, &r->zero};
    for (int i = 0; i < 10; i++)
      *v[i] = strtod(col[4 + i], NULL);
    snprintf(r->recompute, sizeof r->recompute, "%s", col[14]);
    r->sp = strtod(col[15], NULL), r->compile = strtod(col[16], NULL);
    r->overlap = strtod(col[17], NULL);
    snprintf(r->stage_layers, sizeof r->stage_layers, "%s", col[18]);
    r->tps = strtod(col[19], NULL), r->iter_s = strtod(col[20], NULL);
    r->mem_meas = strtod(col[21], NULL);
    snprintf(r->notes, sizeof r->notes, "%s", col[22]);
    r->fw = strcmp(r->framework, "torchtitan") == 0  ? P3CFG_FRAMEWORK_TORCHTITAN
            : strcmp(r->framework, "deepspeed") == 0 ? P3CFG_FRAMEWORK_DEEPSPEED
                                                      : P3CFG_FRAMEWORK_MEGATRON;
  }
  fclose(f);
}

typedef struct pred {
  double tps, alloc_gib;
  int fits, ok;
} pred;

/* Predict row r with the framework's compute efficiency `eff` (through the GPU's
 * training clock: the framework row multiplies it by its own constant). */
static pred predict(const row *r, double eff)
{
  pred out = {0, 0, 0, 0};
  char path[512];
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  p3cfg_result *res = NULL;
  snprintf(path, sizeof path, "%s/models/%s.yaml", P3CFG_SOURCE_DIR, r->model);
  if (p3cfg_model_load(&m, path, NULL))
    goto done;
  char name[128];
  snprintf(name, sizeof name, "%s-%.0fn", r->source, r->nodes);
  if (bench_cluster_load(&c, name, r->nodes, 8, r->gpu, r->intra, r->inter, "framework-runs.csv"))
    goto done;
  if (r->hbm > 0)
    c->gpu.hbm_Bps = r->hbm * 1e9;
  if (r->mem_gib > 0)
    c->gpu.memory_bytes = (uint64_t)(r->mem_gib * GIB);
  const double base = c->gpu.training_clock_ratio > 0 ? c->gpu.training_clock_ratio : 1.0;
  c->gpu.training_clock_ratio = base * eff / p3cfg__framework_physics_of(r->fw)->compute_efficiency;
  p3cfg_plan pl = P3CFG_PLAN_INIT;
  pl.tp = (uint32_t)r->tp, pl.pp = (uint32_t)r->pp;
  pl.dp = (uint32_t)(r->nodes * 8 / (r->tp * r->pp));
  pl.micro_batch = (uint32_t)r->mbs;
  pl.zero_stage = (uint32_t)r->zero;
  pl.sequence_parallel = (int)r->sp;
  pl.overlap = (uint32_t)r->overlap;
  pl.global_batch = (uint64_t)r->gbs;
  pl.recompute = strcmp(r->recompute, "full") == 0        ? P3CFG_RECOMPUTE_FULL
                 : strcmp(r->recompute, "selective") == 0 ? P3CFG_RECOMPUTE_SELECTIVE
                                                          : P3CFG_RECOMPUTE_NONE;
  pl.framework = r->fw;
  pl.compile = (uint32_t)r->compile;
  if (r->stage_layers[0]) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", r->stage_layers);
    for (char *p = buf; p && pl.n_stage_layers < P3CFG_MAX_PP;) {
      pl.stage_layers[pl.n_stage_layers++] = (uint32_t)strtoul(p, NULL, 10);
      p = strchr(p, ';');
      if (p)
        p++;
    }
  }
  if (p3cfg_estimate(&res, m, c, &pl, NULL)) {
    fprintf(stderr, "framework_accuracy: %s %s: %s\n", r->source, r->model,
            p3cfg_error_last()->message);
    goto done;
  }
  const p3cfg_memory *mem = p3cfg_result_memory(res, 0);
  const p3cfg_time *t = p3cfg_result_time(res, 0);
  const double gpus = r->nodes * 8;
  out.tps = r->tps > 0 ? t->tokens_per_s / gpus : t->iteration_s; /* iteration rows: s */
  out.alloc_gib = (double)mem->peak_bytes / GIB;
  out.fits = mem->fits;
  out.ok = 1;
done:
  p3cfg_result_free(res);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  return out;
}

/* Signed error of a prediction against the published figure (tokens/s or seconds). */
static double err_of(const row *r, const pred *p)
{
  return r->tps > 0 ? p->tps / r->tps - 1.0 : r->iter_s / p->tps - 1.0; /* as throughput */
}

/* MAPE over the framework's rows, each source weighing the same; `skip` a source left
 * out ("" none), `only` the one source to score ("" all). */
static double mape(uint32_t fw, double eff, const char *skip, const char *only)
{
  double sum = 0.0;
  int n_src = 0;
  for (int i = 0; i < n_rows; i++) {
    const row *r = &rows[i];
    if (r->fw != fw || (skip[0] && !strcmp(r->source, skip)) || (only[0] && strcmp(r->source, only)))
      continue;
    int first = 1;
    for (int j = 0; j < i; j++)
      if (rows[j].fw == fw && !strcmp(rows[j].source, r->source))
        first = 0;
    if (!first)
      continue;
    double s = 0.0;
    int n = 0;
    for (int j = i; j < n_rows; j++) {
      if (rows[j].fw != fw || strcmp(rows[j].source, r->source))
        continue;
      const pred p = predict(&rows[j], eff);
      s += p.ok ? fabs(err_of(&rows[j], &p)) : 1.0;
      n++;
    }
    sum += s / n, n_src++;
  }
  return n_src ? sum / n_src : 0.0;
}

static double fit(uint32_t fw, const char *skip)
{
  double best = 1.0, best_err = HUGE_VAL;
  for (double e = 0.60; e <= 1.2001; e += 0.01) {
    const double err = mape(fw, e, skip, "");
    if (err < best_err)
      best_err = err, best = e;
  }
  return best;
}

int main(void)
{
  load();
  static const uint32_t fws[] = {P3CFG_FRAMEWORK_TORCHTITAN, P3CFG_FRAMEWORK_DEEPSPEED};
  printf("framework runs (data/calibration/framework-runs.csv), constants as in "
         "src/common/framework_physics.c\n");
  printf("  %-3s %-10s %-16s %5s %-9s %2s  %10s %10s %7s  %9s %9s %7s %s\n", "src", "framework",
         "model", "gpus", "recompute", "cc", "predicted", "published", "error", "mem pred",
         "mem meas", "error", "");
  for (size_t k = 0; k < 2; k++) {
    const uint32_t fw = fws[k];
    const p3cfg__framework_physics *phys = p3cfg__framework_physics_of(fw);
    double sum = 0.0, worst = 0.0, msum = 0.0;
    int n = 0, nm = 0, unfit = 0;
    for (int i = 0; i < n_rows; i++) {
      const row *r = &rows[i];
      if (r->fw != fw)
        continue;
      const pred p = predict(r, phys->compute_efficiency);
      if (!p.ok)
        continue;
      const double e = err_of(r, &p);
      const double slack = r->compile ? phys->headroom_compiled : phys->headroom_eager;
      const double mem = p.alloc_gib * (1.0 + (slack > 0 ? slack : 0.05));
      char merr[32] = "";
      if (r->mem_meas > 0) {
        snprintf(merr, sizeof merr, "%+6.1f %%", 100.0 * (mem / r->mem_meas - 1.0));
        msum += fabs(mem / r->mem_meas - 1.0), nm++;
      }
      printf("  %-3s %-10s %-16s %5.0f %-9s %2.0f  %10.1f %10.1f %+6.1f %%  %9.1f %9.1f %7s %s%s\n",
             r->source, r->framework, r->model, r->nodes * 8, r->recompute, r->compile,
             p.tps,
             r->tps > 0 ? r->tps : r->iter_s, 100.0 * e, mem, r->mem_meas, merr,
             p.fits ? "" : "(does not fit) ", r->notes);
      sum += fabs(e), worst = fmax(worst, fabs(e)), n++;
      unfit += !p.fits;
    }
    printf("  %s: %d runs, throughput MAPE %.1f %%, worst %.1f %%; %d judged not to fit", phys->name,
           n, 100.0 * sum / (n ? n : 1), 100.0 * worst, unfit);
    if (nm)
      printf("; reserved peak MAPE %.1f %% over %d", 100.0 * msum / nm, nm);
    printf("\n");
  }

  printf("\nleave-one-source-out: compute_efficiency fitted without the source (0.60-1.20 by "
         "0.01), the source predicted\n");
  printf("  %-10s %-4s %8s  %8s  %s\n", "framework", "src", "fitted", "MAPE", "(in table)");
  for (size_t k = 0; k < 2; k++) {
    const uint32_t fw = fws[k];
    const char *seen[8];
    int ns = 0;
    double all = 0.0;
    for (int i = 0; i < n_rows; i++) {
      if (rows[i].fw != fw)
        continue;
      int dup = 0;
      for (int s = 0; s < ns; s++)
        dup |= !strcmp(seen[s], rows[i].source);
      if (dup)
        continue;
      seen[ns++] = rows[i].source;
      const double e = fit(fw, rows[i].source);
      const double held = mape(fw, e, "", rows[i].source);
      all += held;
      printf("  %-10s %-4s %8.2f  %6.1f %%\n", p3cfg__framework_physics_of(fw)->name,
             rows[i].source, e, 100.0 * held);
    }
    printf("  %-10s all  in sample %.2f  %6.1f %% held out (mean over %d sources)  %.2f\n",
           p3cfg__framework_physics_of(fw)->name, fit(fw, ""), 100.0 * all / (ns ? ns : 1), ns,
           p3cfg__framework_physics_of(fw)->compute_efficiency);
  }

  /* Memory: torchtitan's reserved / allocated headroom per mode, from one T1 table,
   * predicted on the other (rows 0-1: table 1, 2-3: table 3). */
  printf("\nleave-one-table-out: torchtitan allocator headroom (reserved / allocated - 1)\n");
  const p3cfg__framework_physics *tt = p3cfg__framework_physics_of(P3CFG_FRAMEWORK_TORCHTITAN);
  for (int mode = 0; mode < 2; mode++) {
    double ratio[2] = {0, 0}, alloc[2] = {0, 0}, meas[2] = {0, 0};
    int k = 0;
    for (int i = 0; i < n_rows && k < 2; i++) {
      const row *r = &rows[i];
      if (r->fw != P3CFG_FRAMEWORK_TORCHTITAN || r->mem_meas <= 0 || (int)r->compile != mode)
        continue;
      const pred p = predict(r, tt->compute_efficiency);
      alloc[k] = p.alloc_gib, meas[k] = r->mem_meas, ratio[k] = meas[k] / alloc[k] - 1.0;
      k++;
    }
    for (int h = 0; h < 2 && k == 2; h++) {
      const double fitted = ratio[1 - h], predm = alloc[h] * (1.0 + fitted);
      printf("  %-8s fitted on table %d: %.3f; table %d predicted %.1f GiB, measured %.1f "
             "(%+.1f %%)\n",
             mode ? "compiled" : "eager", h ? 1 : 3, fitted, h ? 3 : 1, predm, meas[h],
             100.0 * (predm / meas[h] - 1.0));
    }
    printf("  %-8s in table: %.3f\n", mode ? "compiled" : "eager",
           mode ? tt->headroom_compiled : tt->headroom_eager);
  }
  return 0;
}
