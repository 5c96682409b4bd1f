/*
 * calibration_test.c — the estimator against measurements: Megatron-LM CI's golden
 * memory values for gpt3_7b_tp4_pp1_memory_speed (read at run time from
 * data/calibration/megatron-ci-memory-tp4pp1.csv): the steady state
 * (weights + gradients + optimizer = torch.cuda.memory_allocated after a step) within 3 %
 * and the peak (max_memory_allocated) within 5 %, on the H100 and A100 rows; and the
 * runs of Korthikanti et al. 2022 Table 5, which trained on A100 80GB, predicted to fit.
 */
#include <math.h>
#include <stdio.h>

#include "est_fixtures.h"

#define CSV P3CFG_DATA_DIR "/calibration/megatron-ci-memory-tp4pp1.csv"

typedef struct ci_row {
  char platform[32];
  uint64_t tp, pp, dp, micro_batch, global_batch, seq_len, layers, hidden, heads, groups, ffn,
      vocab;
  int dist_opt, sp;
  uint64_t allocated, peak;
} ci_row;

/* Split a CSV line (no quoted fields in this file) in place; returns the field count. */
static int split(char *line, char **fields, int max)
{
  int n = 0;
  char *p = line;
  while (n < max) {
    fields[n++] = p;
    p += strcspn(p, ",\r\n");
    if (*p != ',') {
      *p = '\0';
      break;
    }
    *p++ = '\0';
  }
  return n;
}

/* The CSV row of `platform`, columns found by header name. */
static ci_row read_row(const char *platform)
{
  FILE *f = fopen(CSV, "r");
  cr_assert_not_null(f, "missing fixture %s (data/ is part of the repository)", CSV);
  char header[2048], line[2048];
  cr_assert_not_null(fgets(header, sizeof header, f));
  char *names[64] = {0}, *vals[64] = {0};
  const int n = split(header, names, 64);
  int platform_col = -1;
  for (int i = 0; i < n; i++)
    if (!strcmp(names[i], "platform"))
      platform_col = i;
  cr_assert_geq(platform_col, 0, "no platform column in %s", CSV);
  ci_row row;
  memset(&row, 0, sizeof row);
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    const int k = split(line, vals, 64);
    if (k < n || strcmp(vals[platform_col], platform) != 0)
      continue;
    found = 1;
    for (int i = 0; i < n; i++) {
      const char *c = names[i], *v = vals[i];
      uint64_t u = strtoull(v, NULL, 10);
      if (!strcmp(c, "platform"))
        snprintf(row.platform, sizeof row.platform, "%.31s", v);
      else if (!strcmp(c, "tp"))
        row.tp = u;
      else if (!strcmp(c, "pp"))
        row.pp = u;
      else if (!strcmp(c, "dp"))
        row.dp = u;
      else if (!strcmp(c, "micro_batch"))
        row.micro_batch = u;
      else if (!strcmp(c, "global_batch"))
        row.global_batch = u;
      else if (!strcmp(c, "seq_len"))
        row.seq_len = u;
      else if (!strcmp(c, "layers"))
        row.layers = u;
      else if (!strcmp(c, "hidden"))
        row.hidden = u;
      else if (!strcmp(c, "heads"))
        row.heads = u;
      else if (!strcmp(c, "query_groups"))
        row.groups = u;
      else if (!strcmp(c, "ffn_hidden"))
        row.ffn = u;
      else if (!strcmp(c, "vocab"))
        row.vocab = u;
      else if (!strcmp(c, "distributed_optimizer"))
        row.dist_opt = !strcmp(v, "true");
      else if (!strcmp(c, "sequence_parallel"))
        row.sp = !strcmp(v, "true");
      else if (!strcmp(c, "mem_allocated_bytes"))
        row.allocated = u;
      else if (!strcmp(c, "mem_peak_allocated_bytes"))
        row.peak = u;
    }
  }
  fclose(f);
  cr_assert(found, "no row for %s in %s", platform, CSV);
  return row;
}

/* Predicted memory of the row's last rank (the one Megatron CI measures). */
static p3cfg_stage_memory predict(const ci_row *row, const char *gpu)
{
  p3cfg_model m = est_ci_7b();
  m.layers = row->layers;
  m.hidden = row->hidden;
  m.heads = row->heads;
  m.kv_heads = row->groups;
  m.ffn_hidden = row->ffn;
  m.vocab = row->vocab;
  m.seq_len = row->seq_len;
  m.global_batch = row->global_batch;
  p3cfg_plan p =
      est_plan((uint32_t)row->dp, (uint32_t)row->tp, (uint32_t)row->pp, (uint32_t)row->micro_batch);
  p.zero_stage = row->dist_opt ? 1 : 0;
  p.sequence_parallel = row->sp;
  p3cfg_cluster c = est_cluster(gpu, 1);
  cr_assert_leq(p.pp, 8);
  p3cfg_stage_memory st[8];
  p3cfg_memory mem = est_memory(st, &m, &c, &p);
  cr_assert(mem.fits, "the CI run trained, so it must fit");
  return st[p.pp - 1];
}

static void check(const char *platform, const char *gpu)
{
  ci_row row = read_row(platform);
  cr_assert_eq(row.dist_opt, 1);
  p3cfg_stage_memory s = predict(&row, gpu);
  const double steady = est_rel((double)est_steady(&s), (double)row.allocated);
  const double peak = est_rel((double)s.peak_bytes, (double)row.peak);
  cr_log_info("%s: steady %+.2f %%, peak %+.2f %%", platform, 100 * steady, 100 * peak);
  cr_assert_lt(fabs(steady), 0.03, "%s steady state off by %.2f %%", platform, 100 * steady);
  cr_assert_lt(fabs(peak), 0.05, "%s peak off by %.2f %%", platform, 100 * peak);
}

Test(estimate, megatron_ci_7b_h100_within_3pct_steady_and_5pct_peak)
{
  check("dgx_h100", "h100-sxm");
}

Test(estimate, megatron_ci_7b_a100_within_3pct_steady_and_5pct_peak)
{
  check("dgx_a100", "a100-80gb");
}

Test(estimate, megatron_ci_7b_steady_state_is_12_bytes_per_param_with_dp2)
{
  /* 2 (bf16) + 4 (fp32 main grads) + 12/dp (distributed optimizer, dp 2) = 12 Ψ. */
  ci_row row = read_row("dgx_h100");
  p3cfg_stage_memory s = predict(&row, "h100-sxm");
  cr_assert_eq(est_steady(&s), 12 * s.params);
  cr_assert_eq(s.params, 1713299456ull);
}

Test(estimate, korthikanti_table5_runs_fit_on_a100_80gb)
{
  /* h, a, l, tp, pp, micro-batch, global batch; 175B and 530B interleaved with 3 chunks. */
  static const struct {
    uint64_t h, a, l;
    uint32_t tp, pp, b, v;
    uint64_t gb;
  } runs[] = {{6144, 64, 48, 8, 1, 4, 1, 4},
              {12288, 96, 96, 8, 8, 1, 3, 64},
              {20480, 128, 105, 8, 35, 1, 3, 280},
              {25600, 160, 128, 8, 64, 1, 1, 512}};
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
    for (int selective = 0; selective < 2; selective++) {
      p3cfg_model m = est_gpt(runs[i].l, runs[i].h, runs[i].a, 51200, 2048, runs[i].gb);
      p3cfg_plan p = est_plan(1, runs[i].tp, runs[i].pp, runs[i].b);
      p.virtual_stages = runs[i].v;
      p.recompute = selective ? P3CFG_RECOMPUTE_SELECTIVE : P3CFG_RECOMPUTE_FULL;
      p.sequence_parallel = selective;
      p3cfg_cluster c = est_cluster("a100-80gb", 64);
      p3cfg_stage_memory *st = calloc(p.pp, sizeof *st);
      p3cfg_memory mem = est_memory(st, &m, &c, &p);
      cr_assert(mem.fits, "h %llu %s: %.2f GiB of %.2f", (unsigned long long)runs[i].h,
                selective ? "selective" : "full", (double)mem.total_bytes / GIB,
                (double)mem.capacity_bytes / GIB);
      free(st);
    }
}
