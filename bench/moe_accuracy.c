/*
 * moe_accuracy.c — the time model on the published Megatron-Bridge runs
 * (data/calibration/megatron-bridge-performance.csv, NVIDIA-NeMo/Megatron-Bridge
 * docs/performance-summary.md at 067f987): tokens/s per GPU predicted from each published
 * plan vs published, with the mean absolute percentage error per group (model kind x
 * system). One constant of the time model is fitted on these rows: the GB200's and
 * GB300's training_clock_ratio, on their dense rows (fit_clocks below, with its
 * leave-one-model-out errors); every other error here is out of sample (the A100's and
 * H100's clocks come from bench/time_accuracy.c's sources).
 *
 * Each row is estimated through the public API from the repository's presets: models/
 * (gpt-oss-120b, qwen3-30b-a3b, llama3-8b, llama3-70b, llama3-405b) and clusters/ (the
 * system's DGX or NVL72 preset with enough GPUs). A row whose model, system or precision
 * p3cfg has no preset for is listed as skipped, with why. A configuration published by
 * several releases counts once: the newest release's runs, at their median (the software
 * gets faster from release to release: Qwen3-30B-A3B on GB300 went from 30k to 45k). The plan: tp, pp, cp, vp,
 * ep as published, etp 1 (Megatron-Bridge's MoE recipes), sp where tp > 1, the distributed
 * optimizer with every overlap on (Megatron-Bridge defaults), and the recomputation of the
 * row's perf recipe (table `published` below: Megatron-Bridge src/megatron/bridge/
 * perf_recipes/{qwen,gpt_oss}/SYSTEM/FILE.py at 067f987, the commit of the CSV) where the
 * recipe at that commit has the row's plan; such a row must be judged to fit. A row whose
 * plan the recipes no longer have (older releases) takes the fastest of none / selective /
 * selective {moe_act, layernorm} / full that the memory model says fits ("searched").
 *
 * Megatron-FSDP rows (fsdp = dp: optim_grads_params, p3cfg's ZeRO 3) run as ZeRO 3 with the
 * activations their recipe offloads to host memory (fsdp_recipes below); those whose plan
 * no recipe at 067f987 has are skipped.
 *
 * Every row runs with bf16 gradient buffers (grad_reduce bf16) and Transformer Engine's fused
 * cross entropy (cross_entropy fused), as the recipes do.
 *
 * Usage: bench_moe_accuracy [--all] [--verbose] [--ratios] [--fp32-grads] [--unfused-loss]
 *        [--no-param-gather]   (--all: dense rows too; --ratios: each MoE row's measured /
 * predicted step time, for bench/pooled_interval.py --moe;
 * --fp32-grads: Megatron-LM's default fp32 gradient buffers instead, for comparison)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"
#include "types.h"

#define MAX_ROWS 256
/* Releases from this one on run the current MoE software (permute fusion, the newer
 * dispatcher); older ones are up to 1.8x slower on the same plan (Qwen3-30B-A3B, 16 H100:
 * 5113 vs 9058 tokens/s per GPU). */
#define RECENT "26.04"

typedef struct run {
  char system[32], model[48], precision[48], release[16], task[16];
  unsigned gpus, gbs, mbs, seq, tp, pp, cp, vp, ep;
  unsigned fsdp; /* Megatron-FSDP over this many GPUs (all of dp: ZeRO 3), 0: none */
  int moe;
  double published[16];
  int n_pub;
} run;

static run runs[MAX_ROWS];
static int n_runs;

/* The recomputation of the perf recipe that has the row's plan, at Megatron-Bridge 067f987
 * (recompute_granularity; recompute_modules; "none" where the recipe sets the granularity
 * to None or keeps its base recipe's None; GB200 GPT-OSS MXFP8 sets selective with
 * modules [], which recomputes nothing). */
typedef struct published_rc {
  const char *system, *model, *precision, *release;
  unsigned gpus, ep, mbs, pp;
  p3cfg_recompute recompute;
  uint32_t modules;
  const char *recipe; /* perf_recipes/<file>: <function> */
  /* The recipe's token dispatcher (moe_flex_dispatcher_backend "hybridep" with
   * moe_token_dispatcher_type "flex", else the bridge's "alltoall") and whether it sets
   * comm_overlap.overlap_moe_expert_parallel_comm (directly, or through
   * _enable_hybridep_full_iteration_mxfp8 / _apply_gpt_oss_120b_full_iter_fp8mx_configs). */
  p3cfg_moe_dispatcher dispatcher;
  int ep_overlap;
} published_rc;

#define HEP P3CFG_DISPATCH_HYBRIDEP
#define A2A P3CFG_DISPATCH_ALLTOALL

#define LN_ACT (P3CFG_RECOMPUTE_MODULE_LAYERNORM | P3CFG_RECOMPUTE_MODULE_MOE_ACT)
static const published_rc published[] = {
    {"DGX-GB300", "GPT OSS 120B", "MXFP8", "26.08", 64, 16, 4, 1, P3CFG_RECOMPUTE_NONE, 0,
     "gpt_oss/gb300/gpt_oss.py: gpt_oss_120b_pretrain_64gpu_gb300_fp8mx_config", HEP, 1},
    {"DGX-GB200", "GPT OSS 120B", "MXFP8", "26.08", 64, 64, 4, 1, P3CFG_RECOMPUTE_NONE, 0,
     "gpt_oss/gb200/gpt_oss.py: gpt_oss_120b_pretrain_64gpu_gb200_fp8mx_config (modules [])", HEP, 1},
    {"DGX-GB300", "Qwen3_30B_a3B", "MXFP8", "26.08", 8, 8, 8, 1, P3CFG_RECOMPUTE_NONE, 0,
     "qwen/gb300/qwen3_moe.py: qwen3_30b_a3b_pretrain_8gpu_gb300_fp8mx_config", HEP, 1},
    {"DGX-GB200", "Qwen3_30B_a3B", "MXFP8", "26.08", 8, 8, 4, 1, P3CFG_RECOMPUTE_NONE, 0,
     "qwen/gb200/qwen3_moe.py: qwen3_30b_a3b_pretrain_8gpu_gb200_fp8mx_config", HEP, 1},
    {"DGX-H100", "Qwen3_30B_a3B", "FP8", "26.06", 16, 16, 1, 1, P3CFG_RECOMPUTE_NONE, 0,
     "qwen/h100/qwen3_moe.py: qwen3_30b_a3b_pretrain_16gpu_h100_fp8cs_config", HEP, 0},
    {"DGX-GB300", "GPT OSS 120B", "BF16", "26.04.01", 64, 64, 4, 1, P3CFG_RECOMPUTE_NONE, 0,
     "gpt_oss/gb300/gpt_oss.py: gpt_oss_120b_pretrain_64gpu_gb300_bf16_config", A2A, 0},
    {"DGX-GB200", "GPT OSS 120B", "BF16", "26.04.01", 64, 64, 4, 1, P3CFG_RECOMPUTE_SELECTIVE,
     LN_ACT, "gpt_oss/gb200/gpt_oss.py: gpt_oss_120b_pretrain_64gpu_gb200_bf16_config", A2A, 1},
    {"DGX-B200", "GPT OSS 120B", "BF16", "26.04.01", 64, 8, 4, 1, P3CFG_RECOMPUTE_SELECTIVE,
     LN_ACT, "gpt_oss/b200/gpt_oss.py: gpt_oss_120b_pretrain_64gpu_b200_bf16_config", A2A, 0},
    {"DGX-H100", "GPT OSS 120B", "BF16", "26.04.01", 64, 8, 1, 4, P3CFG_RECOMPUTE_SELECTIVE,
     LN_ACT, "gpt_oss/h100/gpt_oss.py: gpt_oss_120b_pretrain_64gpu_h100_bf16_config", A2A, 0},
    {"DGX-B200", "Qwen3_30B_a3B", "MXFP8", "26.04.01", 8, 8, 4, 1, P3CFG_RECOMPUTE_NONE, 0,
     "qwen/b200/qwen3_moe.py: qwen3_30b_a3b_pretrain_8gpu_b200_fp8mx_config", HEP, 1},
};

/* Megatron-FSDP (optim_grads_params, p3cfg's ZeRO 3) rows: the activations the recipe
 * offloads to host memory (cpu_offloading_num_layers, activations only; no recomputation),
 * perf_recipes/llama/SYSTEM/llama3.py at 067f987, the recipe of the row's plan and format. */
static const struct {
  const char *system, *model, *precision;
  unsigned offload;
  const char *recipe;
} fsdp_recipes[] = {
    {"DGX-GB200", "LLAMA3_70B", "fp8", 40, "llama3_70b_pretrain_64gpu_gb200_fp8cs_config"},
    {"DGX-GB300", "LLAMA3_70B", "fp8", 20, "llama3_70b_pretrain_64gpu_gb300_fp8cs_config"},
    {"DGX-GB200", "LLAMA3_70B", "bf16", 20, "llama3_70b_pretrain_64gpu_gb200_bf16_config"},
    {"DGX-GB300", "LLAMA3_70B", "bf16", 30, "llama3_70b_pretrain_64gpu_gb300_bf16_config"},
};

/* The recipe's offloaded layers of an FSDP row, or -1 where no recipe has its plan. */
static int fsdp_offload(const run *r, const char *prec)
{
  for (size_t i = 0; prec && i < sizeof fsdp_recipes / sizeof fsdp_recipes[0]; i++)
    if (!strcmp(fsdp_recipes[i].system, r->system) && !strcmp(fsdp_recipes[i].model, r->model) &&
        !strcmp(fsdp_recipes[i].precision, prec))
      return (int)fsdp_recipes[i].offload;
  return -1;
}

static const published_rc *published_of(const run *r)
{
  for (size_t i = 0; i < sizeof published / sizeof published[0]; i++) {
    const published_rc *p = &published[i];
    if (!strcmp(p->system, r->system) && !strcmp(p->model, r->model) &&
        !strcmp(p->precision, r->precision) && !strcmp(p->release, r->release) &&
        p->gpus == r->gpus && p->ep == r->ep && p->mbs == r->mbs && p->pp == r->pp)
      return p;
  }
  return NULL;
}

/* Split a CSV line in place (no quoted fields in this file). */
static int split(char *line, char **cells, int max)
{
  int n = 0;
  char *s = line;
  while (n < max) {
    cells[n++] = s;
    s = strpbrk(s, ",\r\n");
    if (!s || *s != ',') {
      if (s)
        *s = '\0';
      break;
    }
    *s++ = '\0';
  }
  return n;
}

static int column(char **h, int n, const char *name)
{
  for (int i = 0; i < n; i++)
    if (strcmp(h[i], name) == 0)
      return i;
  fprintf(stderr, "moe_accuracy: no column %s\n", name);
  exit(1);
}

static unsigned num(const char *s, unsigned dflt)
{
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  return end == s ? dflt : (unsigned)v;
}

static const char *model_file(const char *m)
{
  static const struct {
    const char *csv, *file;
  } map[] = {{"GPT OSS 120B", "gpt-oss-120b"},  {"Qwen3_30B_a3B", "qwen3-30b-a3b"},
             {"LLAMA3_8B", "llama3-8b"},        {"LLAMA3_70B", "llama3-70b"},
             {"LLAMA3.1_405B", "llama3-405b"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(m, map[i].csv) == 0)
      return map[i].file;
  return NULL;
}

/* The smallest cluster preset of the system with at least `gpus` GPUs. */
static const char *cluster_file(const char *system, unsigned gpus)
{
  static const struct {
    const char *system, *file;
    unsigned gpus;
  } map[] = {{"DGX-H100", "dgx-h100-8n", 64},     {"DGX-H100", "dgx-h100-128n", 1024},
             {"DGX-B200", "dgx-b200-8n", 64},     {"DGX-B200", "dgx-b200-32n", 256},
             {"DGX-B300", "dgx-b300-8n", 64},     {"DGX-B300", "dgx-b300-32n", 256},
             {"DGX-GB200", "gb200-nvl72-1r", 72}, {"DGX-GB200", "gb200-nvl72-8r", 576},
             {"DGX-GB300", "gb300-nvl72-1r", 72}, {"DGX-GB300", "gb300-nvl72-8r", 576}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(system, map[i].system) == 0 && gpus <= map[i].gpus)
      return map[i].file;
  return NULL;
}

static const char *precision_word(const char *p)
{
  if (strncmp(p, "BF16", 4) == 0)
    return "bf16";
  if (strncmp(p, "MXFP8", 5) == 0 || strncmp(p, "FP8-MX", 6) == 0)
    return "mxfp8";
  if (strncmp(p, "FP8", 3) == 0)
    return "fp8";
  if (strncmp(p, "NVFP4", 5) == 0)
    return "nvfp4";
  return NULL; /* unstated */
}

static void load(int all)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/calibration/megatron-bridge-performance.csv", P3CFG_DATA_DIR);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "moe_accuracy: cannot open %s\n", path);
    exit(1);
  }
  char hline[2048], line[2048];
  char *h[40], *c[40];
  if (!fgets(hline, sizeof hline, f))
    exit(1);
  const int nh = split(hline, h, 40);
  const int c_sys = column(h, nh, "system"), c_model = column(h, nh, "model");
  const int c_gpus = column(h, nh, "num_gpus"), c_prec = column(h, nh, "precision");
  const int c_gbs = column(h, nh, "gbs"), c_mbs = column(h, nh, "mbs");
  const int c_seq = column(h, nh, "seq_len"), c_tp = column(h, nh, "tp");
  const int c_pp = column(h, nh, "pp"), c_cp = column(h, nh, "cp"), c_vp = column(h, nh, "vp");
  const int c_ep = column(h, nh, "ep"), c_tok = column(h, nh, "tokens_per_s_per_gpu");
  const int c_notes = column(h, nh, "notes"), c_fsdp = column(h, nh, "fsdp");
  const int c_rel = column(h, nh, "release"), c_task = column(h, nh, "task");
  while (fgets(line, sizeof line, f)) {
    const int n = split(line, c, 40);
    if (n < nh)
      continue;
    const int moe = strstr(c[c_notes], "MoE") != NULL;
    if (!moe && !all)
      continue;
    if (strstr(c[c_model], "tokendrop") || strstr(c[c_notes], "regression"))
      continue; /* token dropping, a known regression: not these plans */
    run key = {0};
    snprintf(key.system, sizeof key.system, "%s", c[c_sys]);
    snprintf(key.model, sizeof key.model, "%s", c[c_model]);
    snprintf(key.precision, sizeof key.precision, "%s", c[c_prec]);
    key.gpus = num(c[c_gpus], 0), key.gbs = num(c[c_gbs], 0), key.mbs = num(c[c_mbs], 1);
    key.seq = num(c[c_seq], 0), key.tp = num(c[c_tp], 1), key.pp = num(c[c_pp], 1);
    key.cp = num(c[c_cp], 1), key.vp = num(c[c_vp], 1), key.ep = num(c[c_ep], 1);
    key.moe = moe;
    key.fsdp = num(c[c_fsdp], 0);
    if (key.fsdp && (strchr(c[c_fsdp], '(') ||
                     key.fsdp != key.gpus / (key.tp * key.pp * (key.cp ? key.cp : 1))))
      continue; /* Megatron-FSDP over part of dp, or two configurations in one cell */
    snprintf(key.release, sizeof key.release, "%s", c[c_rel]);
    snprintf(key.task, sizeof key.task, "%s", c[c_task]);
    if (strchr(c[c_tp], '(') || strchr(c[c_pp], '('))
      continue; /* two configurations in one cell */
    const double tok = strtod(c[c_tok], NULL);
    int i = 0;
    for (; i < n_runs; i++) {
      run *r = &runs[i];
      if (!strcmp(r->system, key.system) && !strcmp(r->model, key.model) &&
          !strcmp(r->precision, key.precision) && r->gpus == key.gpus && r->gbs == key.gbs &&
          r->mbs == key.mbs && r->seq == key.seq && r->tp == key.tp && r->pp == key.pp &&
          r->cp == key.cp && r->vp == key.vp && r->ep == key.ep && r->fsdp == key.fsdp &&
          !strcmp(r->task, key.task))
        break;
    }
    if (i == n_runs) {
      if (n_runs == MAX_ROWS)
        continue;
      runs[n_runs++] = key;
    }
    /* The newest release's runs of a configuration (software gets faster). */
    const int newer = strcmp(key.release, runs[i].release);
    if (newer > 0) {
      snprintf(runs[i].release, sizeof runs[i].release, "%s", key.release);
      runs[i].n_pub = 0;
    }
    if (newer >= 0 && runs[i].n_pub < 16)
      runs[i].published[runs[i].n_pub++] = tok;
  }
  fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The model file's text with the run's sequence length, batch and precision, and bf16
 * gradient buffers: every Megatron-Bridge perf recipe sets ddp.grad_reduce_in_fp32 = False
 * (src/megatron/bridge/perf_recipes/_common.py at 067f987, _benchmark_common and
 * _perf_precision; the releases' scripts/performance/configs/{llama3,qwen3,gpt_oss}/ since
 * v0.2.0 likewise), Megatron-LM's --grad-reduce-in-bf16. */
static const char *grad_reduce = "bf16"; /* --fp32-grads: Megatron-LM's default instead */
/* And Transformer Engine's fused cross entropy: _benchmark_common sets
 * cross_entropy_fusion_impl "te" (perf_recipes/_common.py at 067f987) with the provider's
 * cross_entropy_loss_fusion True (models/gpt_provider.py). --unfused-loss: Megatron-LM's. */
static const char *cross_entropy = "fused";

/* And the low-precision weights the recipes keep: every Megatron-Bridge FP8 and MXFP8
 * precision config sets fp8_param_gather = True (training/mixed_precision.py,
 * bf16_with_fp8_current_scaling_mixed and bf16_with_mxfp8_mixed, from v0.2.0 to 067f987;
 * _perf_precision keeps it), NVFP4's fp4_param_gather = True from 26.04 on (False at
 * v0.3.1, True at 26.04-alpha.rc2). Megatron-LM's --fp8-param-gather / --fp4-param-gather:
 * the quantized weight replaces the 16-bit one. --no-param-gather: without. */
static int param_gather = 1;

static int recipe_param_gather(const run *r, const char *prec)
{
  if (!param_gather || !strcmp(prec, "bf16"))
    return 0;
  return strcmp(prec, "nvfp4") != 0 || strcmp(r->release, "26.04") >= 0;
}

static int load_model(p3cfg_model **out, const char *file, const run *r, const char *prec)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/../models/%s.yaml", P3CFG_DATA_DIR, file);
  FILE *f = fopen(path, "r");
  if (!f)
    return -2;
  static char text[1 << 16];
  size_t len = 0;
  char line[1024];
  while (fgets(line, sizeof line, f) && len + 2 * sizeof line < sizeof text) {
    if (!strncmp(line, "seq_len:", 8) || !strncmp(line, "global_batch:", 13) ||
        !strncmp(line, "precision:", 10) || !strncmp(line, "grad_reduce:", 12) ||
        !strncmp(line, "cross_entropy:", 14) || !strncmp(line, "fp8_param_gather:", 17))
      continue;
    len += (size_t)snprintf(text + len, sizeof text - len, "%s", line);
  }
  fclose(f);
  len += (size_t)snprintf(text + len, sizeof text - len,
                          "seq_len: %u\nglobal_batch: %u\nprecision: %s\ngrad_reduce: %s\n"
                          "cross_entropy: %s\n%s",
                          r->seq, r->gbs, prec, grad_reduce, cross_entropy,
                          recipe_param_gather(r, prec) ? "fp8_param_gather: true\n" : "");
  return p3cfg_model_load_string(out, text, len, path, NULL);
}

/* One row's prediction: the tokens/s per GPU of the recipe's recomputation, or of the
 * fastest fitting one (searched); 0 with `why` when the row is skipped. `clock` > 0 takes
 * the place of the GPU preset's training_clock_ratio (the clock fit below). */
typedef struct outcome {
  double tok;
  const char *rc, *why;
  char why_buf[160];
  int pub_nofit;
  double pub_nofit_gib;
} outcome;

static void predict(outcome *o, const run *r, int verbose, double clock)
{
  memset(o, 0, sizeof *o);
  o->rc = "-";
  const char *mf = model_file(r->model), *cf = cluster_file(r->system, r->gpus);
  const char *prec = precision_word(r->precision);
  /* LoRA trains adapters on frozen base weights: no gradients or optimizer state for
   * them, and no weight-gradient GEMMs. p3cfg plans full training, so these rows are
   * not its plans (as full training they do not fit, correctly). */
  const int offload = r->fsdp ? fsdp_offload(r, prec) : 0;
  const char *why = !strcmp(r->task, "LoRA") ? "LoRA (frozen base weights) is not modelled"
                    : !mf                    ? "no model preset"
                    : !cf                    ? "no cluster preset"
                    : !prec                  ? "precision unstated"
                    : offload < 0            ? "Megatron-FSDP plan without a recipe"
                                             : NULL;
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  char cpath[1024];
  if (!why) {
    snprintf(cpath, sizeof cpath, "%s/../clusters/%s.yaml", P3CFG_DATA_DIR, cf);
    const int lm = load_model(&m, mf, r, prec);
    if (lm == -2)
      why = "no model preset file";
    else if (lm) {
      snprintf(o->why_buf, sizeof o->why_buf, "%s", p3cfg_error_last()->message);
      why = o->why_buf;
    } else if (p3cfg_cluster_load(&c, cpath, NULL))
      why = "cluster preset missing";
    else if (clock > 0.0)
      c->gpu.training_clock_ratio = clock;
  }
  double best = 0.0;
  int fits_any = 0;
  char err_msg[160] = "";
  /* The recipe's recomputation, or (searched) none, selective, selective {moe_act,
   * layernorm} (MoE), full. */
  const published_rc *pub_rc = published_of(r);
  static const char *const rc_names[] = {"none", "selective", "sel(moe_act,ln)", "full"};
  for (int k = 0; !why && k < 4; k++) {
    int rc = k == 3 ? 2 : k == 2 ? 1 : k;
    uint32_t modules = k == 2 ? LN_ACT : 0;
    if (k == 2 && !r->moe)
      continue;
    if (pub_rc) {
      if (k > 0)
        break;
      rc = (int)pub_rc->recompute;
      modules = pub_rc->modules;
    }
    p3cfg_plan pl;
    p3cfg_plan_init(&pl);
    pl.tp = r->tp, pl.pp = r->pp, pl.cp = r->cp, pl.ep = r->ep, pl.etp = r->moe ? 1 : 0;
    pl.dp = r->gpus / (r->tp * r->pp * r->cp);
    pl.micro_batch = r->mbs, pl.virtual_stages = r->vp ? r->vp : 1;
    pl.recompute = (p3cfg_recompute)rc, pl.sequence_parallel = r->tp > 1;
    pl.recompute_modules = modules;
    pl.zero_stage = r->fsdp ? 3 : 1;
    pl.cpu_offload_layers = (uint32_t)offload;
    if (offload && rc != P3CFG_RECOMPUTE_NONE)
      continue; /* offloading runs without recomputation (the recipes, and Megatron-LM) */
    /* TP overlap except with NVFP4's fp4_param_gather, which "is incompatible with TP
     * comm overlap" (perf_recipes/qwen/b200/qwen3_moe.py; every tp > 1 NVFP4 recipe,
     * llama/{b200,gb200}/llama3.py, sets tp_comm_overlap False). */
    const int tp_overlap = r->tp > 1 && !(recipe_param_gather(r, prec) && !strcmp(prec, "nvfp4"));
    pl.overlap = P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER |
                 (tp_overlap ? P3CFG_OVERLAP_TP_COMM : 0) |
                 (pub_rc && pub_rc->ep_overlap && r->ep > 1 ? P3CFG_OVERLAP_EP_COMM : 0);
    if (m)
      m->moe.dispatcher = pub_rc ? pub_rc->dispatcher : P3CFG_DISPATCH_ALLTOALL;
    pl.global_batch = r->gbs;
    /* The split: the layers alone, or with the embedding and the loss where they do not
     * fill the published chunks (p3cfg_plan_resolve's rule; Megatron-Bridge's Llama 3.1
     * 405B recipes set both: recipes/llama/h100/llama3.py at 067f987,
     * llama31_405b_pretrain_256gpu_h100_bf16_config, which every perf recipe of the
     * model starts from). */
    p3cfg_result *res = NULL;
    if (p3cfg_estimate(&res, m, c, &pl, NULL)) {
      snprintf(err_msg, sizeof err_msg, "%s", p3cfg_error_last()->message);
      continue;
    }
    const p3cfg_time *t = p3cfg_result_time(res, 0);
    const p3cfg_memory *mem = p3cfg_result_memory(res, 0);
    const double tok = t->tokens_per_s / (double)r->gpus;
    if (verbose)
      printf("    %s rc %d/%x: fits %d peak %.1f GiB, %.0f tok/s/GPU (compute %.3f tp %.3f "
             "ep %.3f cp %.3f pp %.3f dp %.3f bubble %.3f opt %.3f)\n",
             r->model, rc, modules, mem->fits, (double)mem->peak_bytes / 1073741824.0, tok,
             t->compute_s, t->tp_comm_s, t->ep_comm_s, t->cp_comm_s, t->pp_comm_s,
             t->dp_comm_s, t->bubble_s, t->optimizer_s);
    if ((mem->fits || pub_rc) && (tok > best || pub_rc)) {
      best = tok;
      o->rc = pub_rc ? (rc == 0 ? "recipe: none" : modules ? "recipe: sel(moe_act,ln)"
                                                           : "recipe: selective")
                     : rc_names[k];
    }
    if (pub_rc && !mem->fits)
      o->pub_nofit = 1, o->pub_nofit_gib = (double)mem->peak_bytes / 1073741824.0;
    fits_any |= mem->fits;
    p3cfg_result_free(res);
  }
  if (!why && !fits_any) {
    snprintf(o->why_buf, sizeof o->why_buf, "%s", err_msg[0] ? err_msg : "judged not to fit");
    why = o->why_buf;
  }
  o->why = why;
  o->tok = why ? 0.0 : best;
  p3cfg_model_free(m);
  p3cfg_cluster_free(c);
}

/* The training clock of the Blackwell NVL72 parts (gpu_presets.h), fitted as
 * bench/time_accuracy.c fits the A100's and H100's: per GPU, the one ratio that minimises
 * the mean absolute error of the dense rows of that system (MoE rows keep their own
 * open questions: docs/time-model-moe.md), and leave-one-model-out (Llama 3 8B, 70B,
 * 3.1 405B): fitted without one model's rows, those rows predicted. */
#define CLOCK_STEPS 81
static double clock_at(int k) { return 0.60 + 0.005 * k; }

static void fit_clocks(void)
{
  static const char *const systems[] = {"DGX-GB200", "DGX-GB300"};
  static const char *const models[] = {"LLAMA3_8B", "LLAMA3_70B", "LLAMA3.1_405B"};
  printf("\nBlackwell training clock (gpu_presets.h), fitted on the dense rows per system\n");
  printf("  %-10s %5s %8s %8s   leave-one-model-out: fitted without it, its rows predicted\n",
         "system", "rows", "clock", "MAPE");
  for (size_t s = 0; s < sizeof systems / sizeof systems[0]; s++) {
    static double err[MAX_ROWS][CLOCK_STEPS];
    int idx[MAX_ROWS], n = 0;
    for (int i = 0; i < n_runs; i++) {
      run *r = &runs[i];
      if (r->moe || strcmp(r->system, systems[s]))
        continue;
      outcome o;
      predict(&o, r, 0, clock_at(0));
      if (!o.tok)
        continue;
      const double pub = median(r->published, r->n_pub);
      for (int k = 0; k < CLOCK_STEPS; k++) {
        predict(&o, r, 0, clock_at(k));
        err[n][k] = (o.tok - pub) / pub;
      }
      idx[n++] = i;
    }
    if (!n)
      continue;
    /* the best clock over the rows whose model is not `skip` (NULL: all rows) */
    double best_all = 0.0;
    int k_all = 0;
    for (int pass = -1; pass < (int)(sizeof models / sizeof models[0]); pass++) {
      const char *skip = pass < 0 ? NULL : models[pass];
      int kb = 0, used = 0;
      double eb = INFINITY;
      for (int k = 0; k < CLOCK_STEPS; k++) {
        double sum = 0.0;
        int cnt = 0;
        for (int j = 0; j < n; j++)
          if (!skip || strcmp(runs[idx[j]].model, skip))
            sum += fabs(err[j][k]), cnt++;
        if (cnt && sum / cnt < eb)
          eb = sum / cnt, kb = k, used = cnt;
      }
      if (!skip) {
        best_all = eb, k_all = kb;
        printf("  %-10s %5d %8.3f %7.1f %%  ", systems[s], used, clock_at(kb), 100.0 * eb);
        continue;
      }
      double sum = 0.0, above = 0.0;
      int cnt = 0;
      for (int j = 0; j < n; j++)
        if (!strcmp(runs[idx[j]].model, skip))
          sum += fabs(err[j][kb]), above += err[j][kb] > 0.0, cnt++;
      if (cnt)
        printf(" %s %.3f: %.1f %% (%d rows, %d fast);", skip, clock_at(kb), 100.0 * sum / cnt,
               cnt, (int)above);
    }
    (void)best_all, (void)k_all;
    printf("\n");
  }
}

int main(int argc, char **argv)
{
  int all = 0, verbose = 0, print_ratios = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--all"))
      all = 1;
    else if (!strcmp(argv[i], "--ratios"))
      print_ratios = 1;
    else if (!strcmp(argv[i], "--verbose"))
      verbose = 1;
    else if (!strcmp(argv[i], "--fp32-grads"))
      grad_reduce = "fp32";
    else if (!strcmp(argv[i], "--unfused-loss"))
      cross_entropy = "unfused";
    else if (!strcmp(argv[i], "--no-param-gather"))
      param_gather = 0;
    else {
      fprintf(stderr,
              "usage: bench_moe_accuracy [--all] [--verbose] [--ratios] [--fp32-grads] "
              "[--unfused-loss] [--no-param-gather]\n");
      return 2;
    }
  }
  load(all);
  printf("%-10s %-14s %-6s %5s %-28s %9s %9s %7s\n", "system", "model", "prec", "gpus",
         "plan", "published", "predicted", "error");
  double ratios[MAX_ROWS]; /* published / predicted time = predicted / published tokens/s */
  int n_ratios = 0;
  double recent_sum = 0.0;
  int recent_n = 0;
  double sum_err[16] = {0};
  int n_err[16] = {0}, n_nofit = 0, n_skip = 0, n_pub = 0, n_pub_nofit = 0;
  char groups[16][48];
  int n_groups = 0;
  for (int i = 0; i < n_runs; i++) {
    run *r = &runs[i];
    const double pub = median(r->published, r->n_pub);
    char plan_s[64];
    snprintf(plan_s, sizeof plan_s, "tp%u pp%u cp%u vp%u ep%u mbs%u%s", r->tp, r->pp, r->cp,
             r->vp, r->ep, r->mbs, r->fsdp ? " fsdp" : "");
    outcome o;
    predict(&o, r, verbose, 0.0);
    const published_rc *pub_rc = published_of(r);
    const char *why = o.why, *best_rc = o.rc;
    const double best = o.tok;
    if (o.pub_nofit) {
      n_pub_nofit++;
      printf("  ! %s %s %s: the published plan (%s) is judged not to fit: %.1f GiB peak\n",
             r->system, r->model, r->precision, pub_rc->recipe, o.pub_nofit_gib);
    }
    if (why) {
      printf("%-10s %-14.14s %-6.6s %5u %-28s %9.0f %9s  skipped: %s\n", r->system, r->model,
             r->precision, r->gpus, plan_s, pub, "-", why);
      n_skip++;
      n_nofit += strstr(why, "fit") != NULL;
    } else {
      const double err = (best - pub) / pub;
      printf("%-10s %-14.14s %-6.6s %5u %-28s %9.0f %9.0f %+6.1f%% (%s, %s)\n", r->system,
             r->model, r->precision, r->gpus, plan_s, pub, best, 100.0 * err,
             pub_rc ? best_rc : "searched", r->release);
      if (!pub_rc)
        printf("%58s searched: fastest fitting is %s\n", "", best_rc);
      n_pub += pub_rc != NULL;
      if (r->moe)
        ratios[n_ratios++] = best / pub;
      if (r->moe && strcmp(r->release, RECENT) >= 0)
        recent_sum += fabs(err), recent_n++;
      char g[48];
      snprintf(g, sizeof g, "%s %.31s", r->moe ? "MoE" : "dense", r->system);
      int k = 0;
      while (k < n_groups && strcmp(groups[k], g))
        k++;
      if (k == n_groups && n_groups < 16)
        snprintf(groups[n_groups++], sizeof groups[0], "%s", g);
      if (k < 16)
        sum_err[k] += fabs(err), n_err[k]++;
    }
  }
  printf("\nMAPE of tokens/s per GPU by group (out of sample but the GB200 and GB300 dense "
         "rows, whose clocks are fitted on them: below)\n");
  double all_sum = 0.0;
  int all_n = 0;
  for (int k = 0; k < n_groups; k++) {
    printf("  %-22s %6.1f %%  (%d configurations)\n", groups[k], 100.0 * sum_err[k] / n_err[k],
           n_err[k]);
    all_sum += sum_err[k], all_n += n_err[k];
  }
  if (all_n)
    printf("  %-22s %6.1f %%  (%d configurations)\n", "all", 100.0 * all_sum / all_n, all_n);
  if (recent_n)
    printf("  %-22s %6.1f %%  (%d configurations)\n", "MoE, releases >= " RECENT,
           100.0 * recent_sum / recent_n, recent_n);
  for (int i = 0; print_ratios && i < n_ratios; i++)
    printf("ratio megatron-bridge-moe %.6f\n", ratios[i]);
  if (n_ratios >= 5) {
    qsort(ratios, (size_t)n_ratios, sizeof *ratios, cmp_double);
    const double p10 = ratios[(int)floor(0.1 * (n_ratios - 1))];
    const double p90 = ratios[(int)ceil(0.9 * (n_ratios - 1))];
    printf("MoE measured/predicted time: p10 %.3f, p90 %.3f (%d configurations; "
           "src/common/uncertainty.h)\n", p10, p90, n_ratios);
  }
  printf("  skipped %d (of which judged not to fit: %d)\n", n_skip, n_nofit);
  printf("  rows run with their recipe's recomputation: %d, judged not to fit: %d\n", n_pub,
         n_pub_nofit);
  if (all)
    fit_clocks();
  return 0;
}
