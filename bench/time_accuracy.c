/*
 * time_accuracy.c — the time model against published measurements: predicted vs
 * published for every row of
 *   korthikanti2022-table5-iteration.csv  iteration seconds, full recompute and sp +
 *                                          selective (Korthikanti et al. 2022, Table 5),
 *   korthikanti2022-table4-layer-22b.csv  one 22B layer's forward and backward ms under
 *                                          five settings (Table 4),
 *   megatron-core-h100-weak-scaling.csv   TFLOP/s per GPU of Megatron-Core on H100,
 *                                          compared as iteration seconds,
 * with the mean absolute percentage error of each and of all. Data are read at run time
 * from P3CFG_DATA_DIR (data/). `--verbose` prints each plan's time breakdown; `--fit`
 * grid-searches the three efficiency constants of each GPU (docs/time-model.md,
 * "Calibration") instead of using the presets', within the bounds FIT_MEM_MIN and
 * FIT_KNEE_MAX (environment; FIT_SKIP_A100 fits the H100 only).
 *
 * Readings of what the sources leave open are in docs/time-model.md; in short: Table 5
 * runs are tp 8, dp 1, tied embeddings, learned positions, no flash attention,
 * interleaving v = 3 for 175B and 530B; the Megatron-Core rows are GPT models (4h GELU
 * MLP, untied embeddings) with the distributed optimizer, sp, flash attention and every
 * overlap on (its README); micro-batch, interleaving and recompute are unpublished, so
 * each row takes the fastest setting the memory estimator says fits, as NVIDIA's tuned
 * runs would.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "gpu_presets.h"
#include "memory.h"
#include "perf.h"
#include "perf_internal.h"
#include "plan_rules.h"

#define MAX_ROWS 64
#define WS_BYTES (64u << 20)

typedef struct row {
  char name[96];
  const char *set;
  const char *source; /* the calibration file it comes from: the unit left out */
  int gpu;            /* GPU_A100 or GPU_H100: whose training_clock_ratio it informs */
  double predicted, published;
  char config[96];
} row;

enum { GPU_A100, GPU_H100, N_GPUS };
static const char *const sources[] = {"korthikanti2022-table5", "korthikanti2022-table4",
                                      "megatron-core-h100-weak-scaling",
                                      "megatron-ci-memory-tp4pp1"};
#define N_SOURCES (int)(sizeof sources / sizeof sources[0])
static const char *cur_source;
static int cur_gpu;

static row rows[MAX_ROWS];
static int n_rows;
static void *ws;

static p3cfg_model gpt(uint64_t layers, uint64_t h, uint64_t heads, uint64_t vocab,
                       uint64_t seq, uint64_t gb, int tied, int flash)
{
  p3cfg_model m;
  memset(&m, 0, sizeof m);
  m.name = (char *)"gpt";
  m.layers = layers, m.hidden = h, m.heads = heads, m.kv_heads = heads, m.ffn_hidden = 4 * h;
  m.vocab = vocab, m.seq_len = seq, m.global_batch = gb;
  m.activation = P3CFG_ACT_GELU, m.tied_embeddings = tied;
  m.position_embedding = P3CFG_POS_LEARNED, m.norm = P3CFG_NORM_LAYERNORM;
  m.flash_attention = flash, m.precision = P3CFG_PREC_BF16, m.optimizer = P3CFG_OPT_ADAM;
  m.bias = true, m.dropout = true;
  return m;
}

static p3cfg_gpu gpu_a100, gpu_h100;

static p3cfg_cluster cluster(const p3cfg_gpu *gpu, uint32_t nodes, double nvlink_Bps,
                             double nic_Bps)
{
  p3cfg_cluster c;
  memset(&c, 0, sizeof c);
  c.name = (char *)"bench";
  c.nodes = nodes, c.gpus_per_node = 8, c.gpu = *gpu;
  c.intra_Bps = nvlink_Bps, c.intra_latency_s = 3e-6;
  c.inter_Bps = nic_Bps, c.inter_latency_s = 6e-6;
  c.links.granularity = P3CFG_LINKS_NONE;
  return c;
}

static int make_plan(p3cfg_plan *pl, const p3cfg_model *m, const p3cfg_cluster *c, uint32_t tp,
                     uint32_t pp, uint32_t dp, uint32_t mbs, uint32_t v, p3cfg_recompute rc,
                     int sp, uint32_t zero, uint32_t overlap)
{
  p3cfg_plan_init(pl);
  pl->tp = tp, pl->pp = pp, pl->dp = dp, pl->micro_batch = mbs, pl->virtual_stages = v;
  pl->recompute = rc, pl->sequence_parallel = sp, pl->zero_stage = zero;
  pl->overlap = overlap, pl->global_batch = m->global_batch;
  if (p3cfg__plan_balanced_split(pl, m))
    return -1;
  return p3cfg__plan_check(pl, m, c);
}

static int verbose;

static double iteration(const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *pl)
{
  p3cfg_time t;
  if (p3cfg__perf_plan(&t, m, c, pl, NULL, ws, WS_BYTES))
    return NAN;
  if (verbose)
    printf("    [tp%u pp%u dp%u mbs%u v%u rc%d sp%d] iter %.4f = compute %.4f tp %.4f pp %.4f "
           "dp %.4f bubble %.4f opt %.4f; mfu %.3f\n",
           pl->tp, pl->pp, pl->dp, pl->micro_batch, pl->virtual_stages, (int)pl->recompute,
           pl->sequence_parallel, t.iteration_s, t.compute_s, t.tp_comm_s, t.pp_comm_s,
           t.dp_comm_s, t.bubble_s, t.optimizer_s, t.mfu);
  return t.iteration_s;
}

static void add(const char *name, const char *set, double pred, double pub, const char *cfg)
{
  if (n_rows == MAX_ROWS)
    return;
  row *r = &rows[n_rows++];
  snprintf(r->name, sizeof r->name, "%s", name);
  r->set = set, r->predicted = pred, r->published = pub;
  r->source = cur_source, r->gpu = cur_gpu;
  snprintf(r->config, sizeof r->config, "%s", cfg);
}

/* ---- CSV ---------------------------------------------------------------------------- */

typedef struct csv {
  char cells[40][64];
  int n;
} csv;

static int csv_line(csv *out, FILE *f)
{
  char line[2048];
  if (!fgets(line, sizeof line, f))
    return 0;
  out->n = 0;
  char *s = line;
  while (*s && out->n < 40) {
    size_t len = strcspn(s, ",\r\n");
    snprintf(out->cells[out->n++], sizeof out->cells[0], "%.*s", (int)len, s);
    s += len;
    if (*s == ',')
      s++;
    else
      break;
  }
  return 1;
}

static int col(const csv *header, const char *name)
{
  for (int i = 0; i < header->n; i++)
    if (strcmp(header->cells[i], name) == 0)
      return i;
  fprintf(stderr, "time_accuracy: no column %s\n", name);
  exit(1);
}

static FILE *open_data(const char *file)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/calibration/%s", P3CFG_DATA_DIR, file);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "time_accuracy: cannot open %s\n", path);
    exit(1);
  }
  return f;
}

#define NUM(r, h, name) strtod((r).cells[col(&(h), name)], NULL)

/* ---- Korthikanti et al. 2022, Tables 4 and 5 ----------------------------------------- */

static void korthikanti_table5(void)
{
  cur_source = sources[0], cur_gpu = GPU_A100;
  FILE *f = open_data("korthikanti2022-table5-iteration.csv");
  csv h, r;
  csv_line(&h, f);
  while (csv_line(&r, f)) {
    const double hid = NUM(r, h, "hidden"), gpus = NUM(r, h, "gpus");
    const uint32_t tp = (uint32_t)NUM(r, h, "tp"), pp = (uint32_t)NUM(r, h, "pp");
    p3cfg_model m = gpt((uint64_t)NUM(r, h, "layers"), (uint64_t)hid,
                        (uint64_t)NUM(r, h, "heads"), (uint64_t)NUM(r, h, "vocab"),
                        (uint64_t)NUM(r, h, "seq_len"), (uint64_t)NUM(r, h, "global_batch"), 1,
                        0);
    p3cfg_cluster c = cluster(&gpu_a100, (uint32_t)((gpus + 7) / 8), 300e9, 25e9);
    const uint32_t dp = (uint32_t)(gpus / (tp * pp)), mbs = (uint32_t)NUM(r, h, "micro_batch");
    /* Korthikanti Sec. 6: interleaving with 3 chunks for 175B and 530B. */
    const uint32_t v = (hid == 12288 || hid == 20480) ? 3 : 1;
    char cfg[96];
    snprintf(cfg, sizeof cfg, "tp%u pp%u dp%u mbs%u v%u", tp, pp, dp, mbs, v);
    p3cfg_plan pl;
    if (make_plan(&pl, &m, &c, tp, pp, dp, mbs, v, P3CFG_RECOMPUTE_FULL, 0, 0, 0) == 0)
      add(r.cells[0], "K22 T5 full recompute [s]", iteration(&m, &c, &pl),
          NUM(r, h, "iter_s_full_recompute"), cfg);
    if (make_plan(&pl, &m, &c, tp, pp, dp, mbs, v, P3CFG_RECOMPUTE_SELECTIVE, 1, 0, 0) == 0)
      add(r.cells[0], "K22 T5 sp+selective [s]", iteration(&m, &c, &pl),
          NUM(r, h, "iter_s_seqpar_selective"), cfg);
  }
  fclose(f);
}

static void korthikanti_table4(void)
{
  /* One 22B layer (h 6144, 64 heads, s 2048), micro-batch 4, tp 8 (Table 3's 22B row). */
  static const struct {
    const char *experiment;
    p3cfg_recompute rc;
    int sp;
  } settings[] = {
      {"Baseline no recompute", P3CFG_RECOMPUTE_NONE, 0},
      {"Sequence parallelism", P3CFG_RECOMPUTE_NONE, 1},
      {"Baseline with recompute", P3CFG_RECOMPUTE_FULL, 0},
      {"Selective recompute", P3CFG_RECOMPUTE_SELECTIVE, 0},
      {"Selective + sequence", P3CFG_RECOMPUTE_SELECTIVE, 1},
  };
  cur_source = sources[1], cur_gpu = GPU_A100;
  FILE *f = open_data("korthikanti2022-table4-layer-22b.csv");
  csv h, r;
  csv_line(&h, f);
  p3cfg_model m = gpt(48, 6144, 64, 51200, 2048, 4, 1, 0);
  p3cfg_cluster c = cluster(&gpu_a100, 1, 300e9, 25e9);
  while (csv_line(&r, f)) {
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
      if (strcmp(r.cells[0], settings[i].experiment))
        continue;
      p3cfg_plan pl;
      if (make_plan(&pl, &m, &c, 8, 1, 1, 4, 1, settings[i].rc, settings[i].sp, 0, 0))
        continue;
      double fwd, bwd;
      p3cfg__perf_layer_s(&fwd, &bwd, &m, &c, &pl, NULL);
      char name[96];
      snprintf(name, sizeof name, "22B layer: %s", settings[i].experiment);
      add(name, "K22 T4 forward [ms]", fwd * 1e3, NUM(r, h, "forward_ms"), "tp8 b4");
      add(name, "K22 T4 backward [ms]", bwd * 1e3, NUM(r, h, "backward_ms"), "tp8 b4");
    }
  }
  fclose(f);
}

/* ---- Megatron-Core weak scaling on H100 ---------------------------------------------- */

/* Megatron-LM's num_floating_point_operations for a GPT (MHA, 4h GELU MLP): 72 B s l h^2
 * (1 + s/6h + V/12lh), i.e. 3x the forward, no recompute, full attention matrix. */
static double megatron_flops(double gb, double s, double l, double h, double V)
{
  return 72.0 * gb * s * l * h * h * (1.0 + s / (6.0 * h) + V / (12.0 * l * h));
}

/* Whether the plan fits in the GPU's memory, by the memory estimator (src/estimate). */
static int fits(const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *pl)
{
  p3cfg_memory mem;
  p3cfg_stage_memory stages[P3CFG_MAX_PP];
  p3cfg__memory_plan(&mem, stages, m, c, pl);
  return mem.fits;
}

static void megatron_core_h100(void)
{
  cur_source = sources[2], cur_gpu = GPU_H100;
  FILE *f = open_data("megatron-core-h100-weak-scaling.csv");
  csv h, r;
  csv_line(&h, f);
  while (csv_line(&r, f)) {
    const double hid = NUM(r, h, "hidden"), layers = NUM(r, h, "layers");
    const double gb = NUM(r, h, "global_batch"), s = NUM(r, h, "seq_len");
    const double V = NUM(r, h, "vocab"), gpus = NUM(r, h, "gpus");
    const uint32_t tp = (uint32_t)NUM(r, h, "tp"), pp = (uint32_t)NUM(r, h, "pp");
    const uint32_t dp = (uint32_t)NUM(r, h, "dp");
    p3cfg_model m = gpt((uint64_t)layers, (uint64_t)hid, (uint64_t)NUM(r, h, "heads"),
                        (uint64_t)V, (uint64_t)s, (uint64_t)gb, 0, 1);
    p3cfg_cluster c = cluster(&gpu_h100, (uint32_t)(gpus / 8), 450e9, 50e9);
    const double published = megatron_flops(gb, s, layers, hid, V) /
                             (NUM(r, h, "tflops_per_gpu") * 1e12 * gpus);
    uint32_t overlap = P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER;
    if (tp > 1)
      overlap |= P3CFG_OVERLAP_TP_COMM;
    /* Unpublished knobs (micro-batch, interleaving, recompute): the fastest setting
     * that fits, as NVIDIA's tuned runs would be. */
    double best = INFINITY;
    char cfg[96] = "";
    for (uint32_t mbs = 1; mbs <= 8; mbs *= 2)
      for (uint32_t v = 1; v <= (uint32_t)layers; v++)
        for (int rc = 0; rc < 2; rc++) {
          p3cfg_plan pl;
          if (pp == 1 && v > 1)
            break;
          if (make_plan(&pl, &m, &c, tp, pp, dp, mbs, v, (p3cfg_recompute)rc, tp > 1, 1,
                        overlap) ||
              !fits(&m, &c, &pl))
            continue;
          const double it = iteration(&m, &c, &pl);
          if (it < best) {
            best = it;
            snprintf(cfg, sizeof cfg, "tp%u pp%u dp%u mbs%u v%u %s", tp, pp, dp, mbs, v,
                     rc ? "sel" : "");
          }
        }
    add(r.cells[0], "MCore H100 [s/iter]", best, published, cfg);
  }
  fclose(f);
}

/* ---- Megatron-LM CI: gpt3_7b_tp4_pp1_memory_speed ------------------------------------ */

/* The 7B GQA model of tests/fixtures/estimate/gpt3-7b-ci.yaml (tp 4, dp 2, micro-batch 2,
 * global batch 8, s 8192, distributed optimizer, no recompute, no sp) as the test's
 * model_config.yaml runs it (Megatron-LM @ d98e8a6, tests/functional_tests/test_cases/
 * gpt/gpt3_7b_tp4_pp1_memory_speed): --overlap-grad-reduce and --overlap-param-gather on,
 * and --deterministic-mode with NVTE_ALLOW_NONDETERMINISTIC_ALGO=0, under which the A100's
 * attention is FlashAttention-2's deterministic backward (compute_cost.c). Its median
 * iteration time on one DGX node. `platform` picks the row; 0 with its plan and
 * published time set, or -1 when the file has no such row. */
static int megatron_ci_row(const char *platform, p3cfg_model *m, p3cfg_plan *pl,
                           double *published, p3cfg_cluster *c, const p3cfg_gpu *gpu,
                           double nvlink_Bps, double nic_Bps)
{
  FILE *f = open_data("megatron-ci-memory-tp4pp1.csv");
  csv h, r;
  csv_line(&h, f);
  int found = -1;
  while (found && csv_line(&r, f)) {
    if (strcmp(r.cells[col(&h, "platform")], platform))
      continue;
    *m = gpt((uint64_t)NUM(r, h, "layers"), (uint64_t)NUM(r, h, "hidden"),
             (uint64_t)NUM(r, h, "heads"), (uint64_t)NUM(r, h, "vocab"),
             (uint64_t)NUM(r, h, "seq_len"), (uint64_t)NUM(r, h, "global_batch"), 0, 1);
    m->kv_heads = (uint64_t)NUM(r, h, "query_groups");
    m->ffn_hidden = (uint64_t)NUM(r, h, "ffn_hidden");
    m->deterministic = true;
    *c = cluster(gpu, 1, nvlink_Bps, nic_Bps);
    const uint32_t tp = (uint32_t)NUM(r, h, "tp"), dp = (uint32_t)NUM(r, h, "dp");
    if (make_plan(pl, m, c, tp, 1, dp, (uint32_t)NUM(r, h, "micro_batch"), 1,
                  P3CFG_RECOMPUTE_NONE, 0, 1,
                  P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER) == 0) {
      *published = NUM(r, h, "iter_time_s_median");
      found = 0;
    }
  }
  fclose(f);
  return found;
}

static void megatron_ci(void)
{
  cur_source = sources[3];
  static const char *const platforms[] = {"dgx_h100", "dgx_a100"};
  for (int k = 0; k < 2; k++) {
    const int h100 = k == 0;
    p3cfg_model m;
    p3cfg_plan pl;
    p3cfg_cluster c;
    double published;
    cur_gpu = h100 ? GPU_H100 : GPU_A100;
    if (megatron_ci_row(platforms[k], &m, &pl, &published, &c, h100 ? &gpu_h100 : &gpu_a100,
                        h100 ? 450e9 : 300e9, h100 ? 50e9 : 25e9) == 0) {
      char cfg[96];
      snprintf(cfg, sizeof cfg, "tp%u pp1 dp%u mbs%u", pl.tp, pl.dp, pl.micro_batch);
      add(platforms[k], "MLM CI 7B [s/iter]", iteration(&m, &c, &pl), published, cfg);
    }
  }
}

/* The same test's DGX GB200 row, printed beside the sources and not one of them: the
 * GB200's training clock is fitted on Megatron-Bridge's runs (bench_moe_accuracy), not
 * here, and no constant of this bench touches it. Two trays of an NVL72 rack, NVLink 5
 * between all eight GPUs. */
static void megatron_ci_gb200(void)
{
  p3cfg_model m;
  p3cfg_plan pl;
  p3cfg_cluster c;
  double published;
  const p3cfg_gpu gb200 = *p3cfg__gpu_preset("gb200");
  if (megatron_ci_row("dgx_gb200", &m, &pl, &published, &c, &gb200, 900e9, 50e9))
    return;
  const double t = iteration(&m, &c, &pl);
  printf("\nnot a calibration source: MLM CI 7B on DGX GB200 (tp%u pp1 dp%u mbs%u): predicted "
         "%.3f s, published %.3f s, %+.1f %% (docs/time-model.md section 5)\n",
         pl.tp, pl.dp, pl.micro_batch, t, published, 100.0 * (t - published) / published);
}

/* ---- driver ------------------------------------------------------------------------- */

static double row_err(const row *r)
{
  return 100.0 * (r->predicted - r->published) / r->published;
}

/* Every row with the current constants. */
static void run_all(void)
{
  n_rows = 0;
  korthikanti_table5();
  korthikanti_table4();
  megatron_core_h100();
  megatron_ci();
}

/* Mean absolute error over the rows of `gpu` (or all with -1), leaving out source `skip`.
 * Every row weighs the same: a clock ratio is one GPU's constant and each row one
 * measurement of it. Weighing each source once instead gave the one A100 row of the
 * Megatron-LM CI source as much say as a whole Korthikanti table, so that with the other
 * table held out the A100's constant followed that single row (docs/time-model.md,
 * section 5). */
static double score(int gpu, const char *skip)
{
  double sum = 0.0;
  int n = 0;
  for (int i = 0; i < n_rows; i++) {
    if ((skip && strcmp(rows[i].source, skip) == 0) || (gpu >= 0 && rows[i].gpu != gpu))
      continue;
    sum += fabs(row_err(&rows[i])), n++;
  }
  return n ? sum / n : 0.0;
}

static int fit_gap_fixed;

static p3cfg_gpu *gpu_of(int g) { return g == GPU_A100 ? &gpu_a100 : &gpu_h100; }

/* The constants calibrated on training steps: the kernel gap (every GPU) and each GPU's
 * training_clock_ratio, fitted without source `skip` (NULL: on every source). The gap
 * takes a few physical values (1-12 us); for each, every clock ratio is a 1-D search. */
static void fit(const char *skip)
{
  static const double all_gaps[] = {1e-6, 2e-6, 3e-6, 5e-6, 8e-6, 12e-6, 16e-6, 20e-6, 30e-6};
  const double *gaps = all_gaps;
  size_t n_gaps = sizeof all_gaps / sizeof all_gaps[0];
  if (fit_gap_fixed) /* the default: keep the preset's physical launch gap */
    gaps = &gpu_a100.kernel_gap_s, n_gaps = 1;
  const double keep_gap = gpu_a100.kernel_gap_s;
  double best = INFINITY, best_gap = 0.0, best_clock[N_GPUS] = {0};
  for (size_t k = 0; k < n_gaps; k++) {
    double clock[N_GPUS], total = 0.0;
    for (int g = 0; g < N_GPUS; g++) {
      double gs = INFINITY;
      clock[g] = 1.0;
      for (double c = 0.60; c <= 1.0501; c += 0.005) {
        gpu_a100.kernel_gap_s = gpu_h100.kernel_gap_s = fit_gap_fixed ? keep_gap : gaps[k];
        gpu_of(g)->training_clock_ratio = c;
        run_all();
        const double e = score(g, skip);
        if (e < gs)
          gs = e, clock[g] = c;
      }
      gpu_of(g)->training_clock_ratio = clock[g];
      total += gs;
    }
    if (total < best) {
      best = total, best_gap = fit_gap_fixed ? keep_gap : gaps[k];
      memcpy(best_clock, clock, sizeof clock);
    }
  }
  gpu_a100.kernel_gap_s = gpu_h100.kernel_gap_s = best_gap;
  for (int g = 0; g < N_GPUS; g++)
    gpu_of(g)->training_clock_ratio = best_clock[g];
}

static void print_rows(void)
{
  printf("\n  %-38s %-26s %10s %10s %8s\n", "row", "config", "predicted", "published", "error");
  for (int i = 0; i < n_rows; i++) {
    int seen = 0;
    for (int k = 0; k < i && !seen; k++)
      seen = strcmp(rows[k].set, rows[i].set) == 0;
    if (seen)
      continue;
    double set_sum = 0.0;
    int set_n = 0;
    printf("\n%s\n", rows[i].set);
    for (int k = i; k < n_rows; k++) {
      const row *r = &rows[k];
      if (strcmp(r->set, rows[i].set))
        continue;
      set_sum += fabs(row_err(r)), set_n++;
      printf("  %-38s %-26s %10.3f %10.3f %+7.1f %%\n", r->name, r->config, r->predicted,
             r->published, row_err(r));
    }
    printf("  %-64s MAPE %5.2f %%\n", "", set_sum / set_n);
  }
}

static void print_constants(const char *what)
{
  printf("%s: kernel_gap %.0f us, training_clock_ratio a100 %.3f, h100 %.3f\n", what,
         gpu_a100.kernel_gap_s * 1e6, gpu_a100.training_clock_ratio,
         gpu_h100.training_clock_ratio);
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Leave-one-source-out: for each source, fit on the others, predict it. Prints per
 * source MAPE, worst and side, and the 10th / 90th percentiles of measured/predicted
 * over every held-out prediction (the 80 % interval of src/common/uncertainty.c). */
static int print_ratios; /* --ratios: each held-out measured / predicted, for
                            bench/pooled_interval.py */

static void cross_validate(const p3cfg_gpu *a100, const p3cfg_gpu *h100)
{
  static row held[MAX_ROWS];
  int n_held = 0;
  printf("\nleave-one-source-out (fit on the other sources, predict this one)\n");
  printf("  %-34s %5s %8s %8s %8s  %s\n", "source", "rows", "MAPE", "worst", "above",
         "constants fitted without it");
  double all = 0.0;
  for (int k = 0; k < N_SOURCES; k++) {
    gpu_a100 = *a100, gpu_h100 = *h100;
    fit(sources[k]);
    run_all();
    double sum = 0.0, worst = 0.0;
    int n = 0, above = 0;
    for (int i = 0; i < n_rows; i++) {
      if (rows[i].source != sources[k])
        continue;
      const double e = row_err(&rows[i]);
      sum += fabs(e), n++, above += e > 0.0;
      if (fabs(e) > fabs(worst))
        worst = e;
      if (n_held < MAX_ROWS)
        held[n_held++] = rows[i];
    }
    all += sum;
    printf("  %-34s %5d %7.2f %% %+7.1f %% %5d/%-2d  gap %.0f us, clock a100 %.3f h100 %.3f\n",
           sources[k], n, sum / n, worst, above, n, gpu_a100.kernel_gap_s * 1e6,
           gpu_a100.training_clock_ratio, gpu_h100.training_clock_ratio);
  }
  double ratio[MAX_ROWS], worst = 0.0;
  int above = 0;
  for (int i = 0; i < n_held; i++) {
    ratio[i] = held[i].published / held[i].predicted;
    if (print_ratios)
      printf("ratio %s %.6f\n", held[i].source, ratio[i]);
    above += held[i].predicted > held[i].published;
    worst = fmax(worst, fabs(row_err(&held[i])));
  }
  qsort(ratio, (size_t)n_held, sizeof ratio[0], cmp_double);
  const double p10 = ratio[(int)floor(0.1 * (n_held - 1))];
  const double p90 = ratio[(int)ceil(0.9 * (n_held - 1))];
  printf("  %-34s %5d %7.2f %% %7.1f %% %5d/%-2d\n", "all (cross-validated)", n_held,
         all / n_held, worst, above, n_held);
  printf("measured / predicted, held out: p10 %.3f, p90 %.3f (the 80 %% interval)\n", p10, p90);
  gpu_a100 = *a100, gpu_h100 = *h100;
}

int main(int argc, char **argv)
{
  struct utsname u;
  if (uname(&u) == 0)
    printf("machine: %s %s %s\n", u.nodename, u.sysname, u.machine);
  ws = malloc(WS_BYTES);
  if (!ws)
    return 1;
  gpu_a100 = *p3cfg__gpu_preset("a100-80gb");
  gpu_h100 = *p3cfg__gpu_preset("h100-sxm");
  for (int i = 1; i < argc; i++) {
    verbose |= strcmp(argv[i], "--verbose") == 0;
    print_ratios |= strcmp(argv[i], "--ratios") == 0;
  }
  const int do_fit = argc > 1 && strcmp(argv[1], "--fit") == 0;
  /* The launch gap stays at its physical preset unless FIT_GAP=free. */
  fit_gap_fixed = !(getenv("FIT_GAP") && strcmp(getenv("FIT_GAP"), "free") == 0);
  const p3cfg_gpu a100 = gpu_a100, h100 = gpu_h100;
  if (do_fit) {
    fit(NULL);
    print_constants("fitted on every source");
  } else {
    print_constants("presets");
  }
  run_all();
  print_rows();
  double sum = 0.0, worst = 0.0;
  int worst_row = 0, above = 0;
  for (int i = 0; i < n_rows; i++) {
    const double e = fabs(row_err(&rows[i]));
    sum += e, above += rows[i].predicted > rows[i].published;
    if (e > worst)
      worst = e, worst_row = i;
  }
  printf("\nin-sample, all %d rows: MAPE %.2f %%, worst %.1f %% (%s, %s), %d predicted slower\n",
         n_rows, sum / n_rows, worst, rows[worst_row].name, rows[worst_row].set, above);
  const int saved = verbose;
  verbose = 0;
  cross_validate(&a100, &h100);
  megatron_ci_gb200();
  verbose = saved;
  free(ws);
  return 0;
}
