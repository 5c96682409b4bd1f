/*
 * search_report.c — a search result for people (a ranked table with each plan's 80 %
 * interval of iteration time and a line naming the leading plans whose intervals
 * overlap; with --explain why the winner wins, which knobs separate it from the plans
 * the model cannot tell apart from it, and what each rule rejected) and for programs
 * (spec §6 JSON: {"schema_version", "plans": [...], "evaluated", "valid", "feasible",
 * "elapsed_s"}; "elapsed_s" is 0 unless P3CFG_JSON_TIMINGS, so that the same search
 * gives the same bytes while the key keeps the spec's type, a number).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "error.h"
#include "framework.h"
#include "knobs.h"
#include "placement_report.h"
#include "plan_dims.h"
#include "plan_json.h"
#include "plan_text.h"
#include "text_buffer.h"
#include "types.h"
#include "uncertainty.h"

P3CFG_API int p3cfg_result_search_json(p3cfg_buffer *out, const p3cfg_result *r,
                                       const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  return p3cfg_result_search_json_flags(out, r, model, cluster, 0);
}

P3CFG_API int p3cfg_result_search_json_flags(p3cfg_buffer *out, const p3cfg_result *r,
                                             const p3cfg_model *model,
                                             const p3cfg_cluster *cluster, unsigned flags)
{
  p3cfg__error_clear();
  if (!out || !r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_search_json: NULL argument");
  if (flags & ~P3CFG_JSON_TIMINGS)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_search_json_flags: unknown flags 0x%x",
                            flags & ~P3CFG_JSON_TIMINGS);
  out->data = NULL;
  out->len = 0;
  int rc = P3CFG_OK;
  cJSON *root = cJSON_CreateObject();
  cJSON *plans = root && p3cfg__json_add_u64(root, "schema_version", P3CFG_JSON_SCHEMA_VERSION)
                     ? cJSON_AddArrayToObject(root, "plans")
                     : NULL;
  if (!plans)
    goto nomem;
  for (size_t i = 0; i < r->count; i++) {
    cJSON *plan = p3cfg__plan_json(r, i, model, cluster);
    if (!plan)
      goto nomem;
    cJSON_AddItemToArray(plans, plan);
  }
  if (!p3cfg__json_add_u64(root, "evaluated", r->stats.evaluated) ||
      !p3cfg__json_add_u64(root, "valid", r->stats.valid) ||
      !p3cfg__json_add_u64(root, "feasible", r->stats.feasible) ||
      !p3cfg__json_add_real(root, "elapsed_s",
                            (flags & P3CFG_JSON_TIMINGS) ? r->stats.elapsed_s : 0.0))
    goto nomem;
  rc = p3cfg__json_to_buffer(out, root);
  goto done;
nomem:
  rc = p3cfg__error_nomem();
done:
  cJSON_Delete(root);
  return rc;
}

static const char *yesno(int v) { return v ? "yes" : "no"; }

static const double gib_ = 1024.0 * 1024.0 * 1024.0;

/* The column of layers per stage is as wide as its longest entry. */
#define SPLIT_MAX 8192

static void plan_line(p3cfg__text *t, size_t rank, const p3cfg__result_entry *e, int split_w,
                      int mem_w, uint64_t tokens, int dims, int shard_col)
{
  const p3cfg_plan *p = &e->plan;
  char split[SPLIT_MAX]; /* on the stack: the tables are made from many threads at once */
  p3cfg__split_compact(split, sizeof split, p);
  /* A plan that does not fit has no time worth printing: "-" in the time columns. */
  const int timed = e->has_time && e->memory.fits;
  char iter[32] = "-", pct[48] = "-", tps[32] = "-", mfu[32] = "-";
  if (timed) {
    snprintf(iter, sizeof iter, "%.3f", e->time.iteration_s);
    p3cfg__range_pct(pct, sizeof pct, e->time.iteration_s, e->time.iteration_s_low,
                     e->time.iteration_s_high);
    snprintf(tps, sizeof tps, "%.0f", e->time.tokens_per_s);
    snprintf(mfu, sizeof mfu, "%.1f%%", 100.0 * e->time.mfu);
  }
  p3cfg__text_printf(t, "%4zu  %5u %4u %4u", rank, p->dp, p->tp, p->pp);
  if (dims) /* context, expert, expert-tensor parallel (MoE models, long sequences) */
    p3cfg__text_printf(t, " %4u %4u %4u", p3cfg__plan_cp(p), p3cfg__plan_ep(p), p3cfg__plan_etp(p));
  p3cfg__text_printf(t,
                     " %4u %4u  %-9s %-3s %4u  %-*s %9s %11s %12s %7s  %*.2f",
                     p->micro_batch, p->virtual_stages,
                     p3cfg_recompute_name(p->recompute), yesno(p->sequence_parallel),
                     p->zero_stage, split_w, split, iter, pct, tps, mfu, mem_w,
                     (double)(e->memory.peak_bytes + e->memory.reserved_bytes) / gib_);
  if (shard_col) /* the FSDP shard group (HSDP) and compile, where the framework has them */
    p3cfg__text_printf(t, " %6u  %-5s", p3cfg__plan_dp_shard(p), p->compile ? "yes" : "no");
  if (tokens) {
    p3cfg__budget b;
    char days[32] = "-", gpuh[32] = "-";
    if (p3cfg__budget_of(&b, e, tokens)) {
      snprintf(days, sizeof days, "%.1f", b.days);
      snprintf(gpuh, sizeof gpuh, "%.0f", b.gpu_hours);
    }
    p3cfg__text_printf(t, " %8s %12s", days, gpuh);
  }
  p3cfg__text_printf(t, "\n");
}

/* Why the first plan beats the second: the time components, largest difference first. */
static void explain_pair(p3cfg__text *t, const p3cfg__result_entry *a,
                         const p3cfg__result_entry *b)
{
  const p3cfg_time *x = &a->time, *y = &b->time;
  struct part {
    const char *name;
    double a, b;
    int optional; /* left out when 0 in both plans (dense, cp 1, GPU-bound) */
  } parts[] = {
      {"compute", x->compute_s, y->compute_s, 0},
      {"tensor-parallel comm", x->tp_comm_s, y->tp_comm_s, 0},
      {"expert-parallel comm", x->ep_comm_s, y->ep_comm_s, 1},
      {"context-parallel comm", x->cp_comm_s, y->cp_comm_s, 1},
      {"waiting for the host", x->host_s, y->host_s, 1},
      {"activation offloading", x->offload_s, y->offload_s, 1},
      {"pipeline comm", x->pp_comm_s, y->pp_comm_s, 0},
      {"data-parallel comm", x->dp_comm_s, y->dp_comm_s, 0},
      {"pipeline bubble", x->bubble_s, y->bubble_s, 0},
      {"optimizer step", x->optimizer_s, y->optimizer_s, 0},
  };
  const size_t n = sizeof parts / sizeof parts[0];
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0; j--) {
      double dj = parts[j].b - parts[j].a, dk = parts[j - 1].b - parts[j - 1].a;
      if ((dj < 0 ? -dj : dj) <= (dk < 0 ? -dk : dk))
        break;
      struct part tmp = parts[j];
      parts[j] = parts[j - 1];
      parts[j - 1] = tmp;
    }
  const double gap = y->iteration_s - x->iteration_s;
  p3cfg__text_printf(t, "\nwhy #1 beats #2: %.4f s vs %.4f s per iteration (%.2f%% less)\n",
                     x->iteration_s, y->iteration_s,
                     y->iteration_s > 0 ? 100.0 * gap / y->iteration_s : 0.0);
  p3cfg__text_printf(t, "  %-22s %10s %10s %10s\n", "component", "#1 (s)", "#2 (s)", "#2 - #1");
  for (size_t i = 0; i < n; i++)
    if (!parts[i].optional || parts[i].a != 0.0 || parts[i].b != 0.0)
      p3cfg__text_printf(t, "  %-22s %10.4f %10.4f %+10.4f\n", parts[i].name, parts[i].a,
                         parts[i].b, parts[i].b - parts[i].a);
}

P3CFG_API size_t p3cfg_result_indistinguishable(const p3cfg_result *r)
{
  p3cfg__error_clear();
  if (!r || r->count == 0 || !r->entries[0].has_time)
    return 0;
  /* Intervals on a line overlap pairwise exactly when the largest low end is at most
   * the smallest high end (Helly's theorem in one dimension). */
  double low = r->entries[0].time.iteration_s_low, high = r->entries[0].time.iteration_s_high;
  size_t n = 1;
  for (; n < r->count && r->entries[n].has_time; n++) {
    const p3cfg_time *t = &r->entries[n].time;
    const double l = t->iteration_s_low > low ? t->iteration_s_low : low;
    const double h = t->iteration_s_high < high ? t->iteration_s_high : high;
    if (!(l <= h))
      break;
    low = l, high = h;
  }
  return n;
}

/* "plans 1-3 ..." or "plans 1 and 2 ..."; when that is every plan shown, plans further
 * down the ranking may be within too. */
static void overlap_line(p3cfg__text *t, size_t n, size_t shown)
{
  const char *all = n == shown ? " (every plan shown)" : "";
  if (n == 2)
    p3cfg__text_printf(t, "plans 1 and 2%s are within the model's 80 %% interval of each other\n",
                       all);
  else
    p3cfg__text_printf(t, "plans 1-%zu%s are within the model's 80 %% interval of each other\n",
                       n, all);
}

static void split_text(char *buf, size_t n, const p3cfg_plan *p)
{
  size_t len = 0;
  buf[0] = '\0';
  for (uint32_t i = 0; i < p->pp && i < P3CFG_MAX_PP; i++) {
    const int w = snprintf(buf + len, n - len, "%s%u", i ? "," : "", p->stage_layers[i]);
    if (w < 0 || (size_t)w >= n - len) {
      snprintf(buf, n, "(%u stages)", p->pp);
      return;
    }
    len += (size_t)w;
  }
}

/* The knobs of plan `b` that differ from plan `a`, as "pp 4 -> 8, recompute none ->
 * selective"; the config keys of the JSON. */
static void knob_diff(p3cfg__text *t, const p3cfg_plan *a, const p3cfg_plan *b)
{
  int any = 0;
#define P3CFG_KNOB_U32(name, field)                                                    \
  if (a->field != b->field) {                                                          \
    p3cfg__text_printf(t, "%s%s %u -> %u", any ? ", " : "", name, (unsigned)a->field,   \
                       (unsigned)b->field);                                            \
    any = 1;                                                                           \
  }
  P3CFG_KNOB_U32("tp", tp)
  P3CFG_KNOB_U32("pp", pp)
  P3CFG_KNOB_U32("dp", dp)
  P3CFG_KNOB_U32("micro_batch", micro_batch)
  P3CFG_KNOB_U32("virtual_stages", virtual_stages)
#undef P3CFG_KNOB_U32
  if (a->recompute != b->recompute) {
    p3cfg__text_printf(t, "%srecompute %s -> %s", any ? ", " : "",
                       p3cfg_recompute_name(a->recompute), p3cfg_recompute_name(b->recompute));
    any = 1;
  }
  if (a->sequence_parallel != b->sequence_parallel) {
    p3cfg__text_printf(t, "%ssequence_parallel %s -> %s", any ? ", " : "",
                       yesno(a->sequence_parallel), yesno(b->sequence_parallel));
    any = 1;
  }
  if (a->zero_stage != b->zero_stage) {
    p3cfg__text_printf(t, "%szero_stage %u -> %u", any ? ", " : "", a->zero_stage,
                       b->zero_stage);
    any = 1;
  }
  if (a->overlap != b->overlap) {
    char from[32], to[32];
    p3cfg__overlap_text(from, sizeof from, a->overlap);
    p3cfg__overlap_text(to, sizeof to, b->overlap);
    p3cfg__text_printf(t, "%soverlap %s -> %s", any ? ", " : "", from, to);
    any = 1;
  }
  if (a->pp == b->pp &&
      memcmp(a->stage_layers, b->stage_layers, a->pp * sizeof a->stage_layers[0]) != 0) {
    char sa[64], sb[64];
    split_text(sa, sizeof sa, a);
    split_text(sb, sizeof sb, b);
    p3cfg__text_printf(t, "%sstage_layers %s -> %s", any ? ", " : "", sa, sb);
    any = 1;
  }
  if (!any)
    p3cfg__text_printf(t, "the same knobs (only the placement differs)");
}

/* How far (fraction of #1's time) plan `e` may be from `best` while their intervals still
 * meet: best's high end over e's low end, with e's interval scaled to its own point. */
static double overlap_limit(const p3cfg__result_entry *best, const p3cfg__result_entry *e)
{
  const double lo_ratio = e->time.iteration_s_low / e->time.iteration_s;
  return best->time.iteration_s_high / (lo_ratio * best->time.iteration_s) - 1.0;
}

/* One line of --explain: what differs between #1 and #k, and their separation against
 * the separation their intervals allow. */
static void separation_line(p3cfg__text *t, const p3cfg__result_entry *best,
                            const p3cfg__result_entry *e, size_t k, const char *verdict)
{
  p3cfg__text_printf(t, "  #%zu differs from #1 in ", k + 1);
  knob_diff(t, &best->plan, &e->plan);
  p3cfg__text_printf(t, ": separated by %.1f %% vs an interval of %.1f %%: %s\n",
                     100.0 * (e->time.iteration_s - best->time.iteration_s) /
                         best->time.iteration_s,
                     100.0 * overlap_limit(best, e), verdict);
}

/* For each plan within the leading run of overlapping intervals, what differs from #1 and
 * by how much; then the first plan past the run, if any. */
static void explain_overlap(p3cfg__text *t, const p3cfg_result *r, size_t n)
{
  const p3cfg__result_entry *best = &r->entries[0];
  if (r->count < 2 || !(best->time.iteration_s > 0.0))
    return;
  char pct[48];
  p3cfg__range_pct(pct, sizeof pct, best->time.iteration_s, best->time.iteration_s_low,
                   best->time.iteration_s_high);
  p3cfg__text_printf(t,
                     "\nwhich plans the model can tell apart (80 %% interval of #1 %s; two "
                     "plans closer than the interval below have overlapping intervals):\n",
                     pct);
  for (size_t k = 1; k < n; k++)
    separation_line(t, best, &r->entries[k], k, "the model cannot tell them apart");
  if (n < r->count && r->entries[n].has_time && r->entries[n].time.iteration_s > 0.0)
    separation_line(t, best, &r->entries[n], n,
                    "the first plan the model tells apart from those above");
}

P3CFG_API int p3cfg_result_search_table(p3cfg_buffer *out, const p3cfg_result *r,
                                        const p3cfg_model *model,
                                        const p3cfg_cluster *cluster, int explain)
{
  p3cfg__error_clear();
  if (!out || !r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_search_table: NULL argument");
  p3cfg__text t;
  p3cfg__text_init(&t);
  const uint64_t capacity = cluster->gpu.memory_bytes;
  const uint64_t margin = r->count ? r->entries[0].memory.margin_bytes : 0;
  const uint64_t gpus = (uint64_t)cluster->nodes * cluster->gpus_per_node;
  /* Every count printed is a property of the inputs, never of --threads. */
  p3cfg__text_printf(&t,
                     "%s on %s (%llu x %s, %.2f GiB each), %s plans: %llu enumerated, %llu "
                     "valid, %llu fit in memory with a margin of %.2f GiB (%.1f %%)\n",
                     model->name, cluster->name, (unsigned long long)gpus, cluster->gpu.name,
                     (double)capacity / gib_, p3cfg_framework_name((p3cfg_framework)r->framework),
                     (unsigned long long)r->stats.evaluated,
                     (unsigned long long)r->stats.valid, (unsigned long long)r->stats.feasible,
                     (double)margin / gib_,
                     capacity ? 100.0 * (double)margin / (double)capacity : 0.0);
  if (r->stats.feasible)
    p3cfg__text_printf(&t,
                       "all %llu that fit were ranked by step time (those a lower bound proved "
                       "slower than the best kept were not simulated in full); the %zu "
                       "fastest:\n",
                       (unsigned long long)r->stats.feasible, r->count);
  if (r->train_tokens) {
    char tok[32];
    p3cfg__tokens_text(tok, sizeof tok, r->train_tokens);
    p3cfg__text_printf(&t, "training budget for %s tokens (%llu): days and GPU-hours at each "
                           "plan's tokens/s\n",
                       tok, (unsigned long long)r->train_tokens);
  }
  p3cfg_gpu_use use;
  if (r->excluded_gpus && r->count > 0 && p3cfg_result_gpu_use(&use, r, 0) == P3CFG_OK) {
    p3cfg__text_printf(&t,
                       "excluded: %llu of %llu GPUs; plans use at most the %llu left (#1 uses "
                       "%llu, %llu idle)\n",
                       (unsigned long long)use.excluded, (unsigned long long)use.total,
                       (unsigned long long)(use.total - use.excluded),
                       (unsigned long long)use.used, (unsigned long long)use.idle);
    p3cfg__error_clear();
  }
  int split_w = (int)strlen("layers/stage");
  for (size_t i = 0; i < r->count; i++) {
    char split[SPLIT_MAX];
    p3cfg__split_compact(split, sizeof split, &r->entries[i].plan);
    const int w = (int)strlen(split);
    if (w > split_w)
      split_w = w;
  }
  char mem_head[48];
  snprintf(mem_head, sizeof mem_head, "mem GiB of %.2f", (double)capacity / gib_);
  /* The cp, ep, etp columns where they can differ from 1: an MoE model, or a plan with
   * cp > 1 (dense tables keep their columns). */
  int dims = model->moe.experts > 0;
  for (size_t i = 0; i < r->count && !dims; i++)
    dims = p3cfg__plan_cp(&r->entries[i].plan) > 1;
  const p3cfg__framework *fw = p3cfg__framework_get(r->framework);
  const int shard_col = fw && (fw->hsdp || fw->compile);
  p3cfg__text_printf(&t,
                     "\nrank     dp   tp   pp%s  mbs  vpp  recompute sp  zero  %-*s  iter (s)  "
                     "80 %% range     tokens/s     MFU  %s%s%s\n",
                     dims ? "   cp   ep  etp" : "", split_w, "layers/stage", mem_head,
                     shard_col ? "  shard  compile" : "",
                     r->train_tokens ? "     days    GPU-hours" : "");
  for (size_t i = 0; i < r->count; i++)
    plan_line(&t, i + 1, &r->entries[i], split_w, (int)strlen(mem_head), r->train_tokens,
              dims, shard_col);
  if (r->count == 1 && !r->entries[0].memory.fits)
    p3cfg__text_printf(&t, "(the closest miss: it does not fit)\n");
  const size_t tied = p3cfg_result_indistinguishable(r);
  if (tied >= 2)
    overlap_line(&t, tied, r->count);
  if (r->count > 0)
    p3cfg__text_printf(
        &t, "columns: dp tp pp%s parallel degrees; mbs micro-batch; vpp chunks per pipeline "
            "rank; sp sequence parallel; zero ZeRO stage; NxL N stages of L layers\n"
            "  iter one optimizer step; 80 %% range where 8 in 10 measured steps fall; mem "
            "peak + reserved on the fullest GPU; - not timed: the plan does not fit\n",
        dims ? " cp ep etp (context, expert, expert-tensor)" : "");
  if (r->count > 0) {
    p3cfg__text_printf(&t, "\n#1 ");
    p3cfg__placement_summary(&t, &r->entries[0], cluster);
  }
  if (explain) {
    if (r->count >= 2 && r->entries[0].has_time && r->entries[1].has_time)
      explain_pair(&t, &r->entries[0], &r->entries[1]);
    if (tied >= 1)
      explain_overlap(&t, r, tied);
    p3cfg__text_printf(&t, "\nrejected plans by rule:\n");
    for (uint32_t k = 1; k < r->stats.n_rules; k++)
      if (r->stats.rejected[k])
        p3cfg__text_printf(&t, "  %10llu  %s\n", (unsigned long long)r->stats.rejected[k],
                           r->stats.rule_names[k]);
  }
  return p3cfg__text_finish(&t, out);
}
