/*
 * plan_table.c — one evaluated plan for people: the configuration, memory per pipeline
 * stage in GiB (2 decimals) term by term with the 80 % interval of each peak, whether and
 * by how much it fits, and the time breakdown when the result has one, its iteration
 * time with its 80 % interval ("0.5123 s (80 % interval 0.4867-0.5533 s, -5/+8 %)").
 * The same numbers as the JSON (plan_json.c), fixed formatting, nothing printed: the
 * text goes into a caller's buffer.
 */
#include <stdio.h>
#include <string.h>

#include "recompute_modules.h"
#include "error.h"
#include "framework.h"
#include "knobs.h"
#include "placement_report.h"
#include "plan_dims.h"
#include "plan_rules.h"
#include "plan_text.h"
#include "text_buffer.h"
#include "types.h"
#include "uncertainty.h"

static double gib(uint64_t bytes)
{
  return (double)bytes / (1024.0 * 1024.0 * 1024.0);
}

/* peak + reserved of one stage, saturating. */
static uint64_t stage_total(const p3cfg_stage_memory *s)
{
  const uint64_t sum = s->peak_bytes + s->reserved_bytes;
  return sum < s->peak_bytes ? UINT64_MAX : sum;
}

static void config_part(p3cfg__text *t, const p3cfg_plan *p)
{
  char overlap[32];
  p3cfg__overlap_text(overlap, sizeof overlap, p->overlap);
  const uint64_t per_step = (uint64_t)p->micro_batch * p->dp;
  const uint64_t mb = per_step ? p->global_batch / per_step : 0;
  p3cfg__text_printf(t,
                     "  dp %u  tp %u  pp %u  micro-batch %u  global batch %llu (%llu "
                     "micro-batch%s per pipeline)\n",
                     p->dp, p->tp, p->pp, p->micro_batch, (unsigned long long)p->global_batch,
                     (unsigned long long)mb, mb == 1 ? "" : "es");
  /* Context and expert parallelism, only where the plan has them (dense tables stay). */
  if (p3cfg__plan_cp(p) > 1 || p3cfg__plan_ep(p) > 1 || p3cfg__plan_etp(p) != p->tp)
    p3cfg__text_printf(t, "  cp %u  ep %u  etp %u  edp %u\n", p3cfg__plan_cp(p),
                       p3cfg__plan_ep(p), p3cfg__plan_etp(p), p3cfg__plan_edp(p));
  /* Selective recompute names its modules when they are not Megatron's default. */
  char modules[128] = "", words[112];
  if (p->recompute == P3CFG_RECOMPUTE_SELECTIVE && p->recompute_modules &&
      p->recompute_modules != P3CFG_RECOMPUTE_MODULE_CORE_ATTN) {
    p3cfg__recompute_modules_text(words, sizeof words, p->recompute_modules, ",");
    snprintf(modules, sizeof modules, " (%s)", words);
  }
  p3cfg__text_printf(t,
                     "  virtual stages %u  recompute %s%s  sequence parallel %s  zero %u  "
                     "overlap %s\n",
                     p->virtual_stages, p3cfg_recompute_name(p->recompute), modules,
                     p->sequence_parallel ? "yes" : "no", p->zero_stage, overlap);
  if (p->cpu_offload_layers)
    p3cfg__text_printf(t, "  activations of the first %u layers offloaded to host memory\n",
                       p->cpu_offload_layers);
  if (p->split_accounts) {
    static const char *const chunks[] = {"", "the first chunk", "the last chunk",
                                         "the first and the last chunk"};
    p3cfg__text_printf(t, "  the split counts the %s as a layer (%s one layer fewer)\n",
                       p3cfg__split_accounts_what(p->split_accounts), chunks[p->split_accounts & 3u]);
  }
  /* The framework always; its data-parallel sharding and compile where it has them. */
  p3cfg__text_printf(t, "  framework %s", p3cfg_framework_name((p3cfg_framework)p->framework));
  if (p3cfg__framework_of(p)->hsdp && p->zero_stage == 3)
    p3cfg__text_printf(t, "  dp_shard %u  dp_replicate %u", p3cfg__plan_dp_shard(p),
                       p3cfg__plan_dp_replicate(p));
  if (p3cfg__framework_of(p)->compile)
    p3cfg__text_printf(t, "  %s", p->compile ? "torch.compile" : "eager");
  p3cfg__text_printf(t, "\n  layers per stage:");
  for (uint32_t i = 0; i < p->n_stage_layers && i < P3CFG_MAX_PP; i++)
    p3cfg__text_printf(t, "%s%u", i ? "," : " ", p->stage_layers[i]);
  p3cfg__text_printf(t, "\n");
}

static void memory_part(p3cfg__text *t, const p3cfg_memory *m)
{
  p3cfg__text_printf(t, "\nmemory per GPU (GiB)\n");
  p3cfg__text_printf(t, "%5s %6s %10s %8s %8s %9s %8s %8s %8s %13s %8s %8s %6s\n", "stage",
                     "layers", "params", "weights", "grads", "optimizer", "activ.", "other",
                     "peak", "80 % range", "reserved", "total", "in-fl");
  uint32_t worst = 0;
  for (uint32_t i = 0; i < m->n_stages; i++) {
    const p3cfg_stage_memory *s = &m->stages[i];
    const uint64_t total = stage_total(s);
    if (total > stage_total(&m->stages[worst]))
      worst = i;
    char range[48];
    snprintf(range, sizeof range, "%.2f-%.2f", gib(s->peak_bytes_low), gib(s->peak_bytes_high));
    p3cfg__text_printf(t,
                       "%5u %6u %9.2fM %8.2f %8.2f %9.2f %8.2f %8.2f %8.2f %13s %8.2f %8.2f %6u\n",
                       s->stage, s->layers, (double)s->params / 1e6, gib(s->weights_bytes),
                       gib(s->gradients_bytes), gib(s->optimizer_bytes), gib(s->activations_bytes),
                       gib(s->other_bytes), gib(s->peak_bytes), range, gib(s->reserved_bytes),
                       gib(total), s->in_flight);
  }
  p3cfg__text_printf(t,
                     "\npeak %.2f GiB + reserved %.2f GiB = %.2f GiB of %.2f GiB per GPU, "
                     "margin %.2f GiB: ",
                     gib(m->peak_bytes), gib(m->reserved_bytes), gib(m->total_bytes),
                     gib(m->capacity_bytes), gib(m->margin_bytes));
  /* It fits when total + margin <= capacity (saturating, as the estimator decides). */
  uint64_t need = m->total_bytes + m->margin_bytes;
  if (need < m->total_bytes)
    need = UINT64_MAX;
  if (m->fits && m->margin_bytes)
    p3cfg__text_printf(t, "fits (%.2f GiB free on the fullest GPU, %.2f GiB beyond the margin)\n",
                       gib(m->capacity_bytes - m->total_bytes),
                       gib(m->capacity_bytes - m->total_bytes - m->margin_bytes));
  else if (m->fits)
    p3cfg__text_printf(t, "fits (%.2f GiB free on the fullest GPU)\n",
                       gib(m->capacity_bytes - m->total_bytes));
  else
    p3cfg__text_printf(t, "does not fit (stage %u is %.2f GiB over%s)\n",
                       m->n_stages ? m->stages[worst].stage : 0,
                       gib(need - m->capacity_bytes), m->margin_bytes ? " with the margin" : "");
}

static void time_part(p3cfg__text *t, const p3cfg_time *tm)
{
  char pct[48];
  p3cfg__range_pct(pct, sizeof pct, tm->iteration_s, tm->iteration_s_low, tm->iteration_s_high);
  p3cfg__text_printf(t,
                     "\ntime per iteration %.4f s (80 %% interval %.4f-%.4f s, %s), %.0f "
                     "tokens/s, MFU %.1f %%\n",
                     tm->iteration_s, tm->iteration_s_low, tm->iteration_s_high, pct,
                     tm->tokens_per_s, 100.0 * tm->mfu);
  /* How the MFU compares with what this GPU's GEMMs allow at the plan's shapes. */
  if (tm->gemm_ceiling_mfu > 0.0)
    p3cfg__text_printf(t,
                       "  MFU is %.0f %% of the GEMM ceiling: the layer's weight GEMMs run at "
                       "%.1f %% of peak here in training\n",
                       100.0 * tm->mfu / tm->gemm_ceiling_mfu, 100.0 * tm->gemm_ceiling_mfu);
  const struct {
    const char *name;
    double s;
    int always; /* shown at 0 too (the expert and context parts only where they occur) */
  } parts[] = {{"compute", tm->compute_s, 1},
               {"tensor-parallel comm", tm->tp_comm_s, 1},
               {"expert-parallel comm", tm->ep_comm_s, 0},
               {"context-parallel comm", tm->cp_comm_s, 0},
               {"waiting for the host", tm->host_s, 0},
               {"activation offloading", tm->offload_s, 0},
               {"pipeline comm", tm->pp_comm_s, 1},
               {"data-parallel comm", tm->dp_comm_s, 1},
               {"pipeline bubble", tm->bubble_s, 1},
               {"optimizer step", tm->optimizer_s, 1}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (parts[i].always || parts[i].s > 0.0)
      /* A part the rounding left a hair below zero prints as 0 (not -0.0000). */
      p3cfg__text_printf(t, "  %-22s %10.4f s\n", parts[i].name,
                         parts[i].s < 0.0 && parts[i].s > -5e-5 ? 0.0 : parts[i].s);
}

P3CFG_API int p3cfg_result_plan_table(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                      const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_plan_table: NULL out");
  out->data = NULL;
  out->len = 0;
  if (!r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_plan_table: NULL argument");
  if (i >= r->count)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_plan_table: plan %zu of %zu", i,
                            r->count);
  const p3cfg__result_entry *e = &r->entries[i];
  p3cfg__text t;
  p3cfg__text_init(&t);
  p3cfg__text_printf(&t, "plan: %s on %s (%s, %.2f GiB per GPU)\n",
                     model->name ? model->name : "model", cluster->name ? cluster->name : "cluster",
                     cluster->gpu.name, gib(cluster->gpu.memory_bytes));
  config_part(&t, &e->plan);
  p3cfg_gpu_use use;
  if (r->excluded_gpus && p3cfg_result_gpu_use(&use, r, i) == P3CFG_OK)
    p3cfg__text_printf(&t, "gpus: %llu used of %llu, %llu excluded, %llu idle\n",
                       (unsigned long long)use.used, (unsigned long long)use.total,
                       (unsigned long long)use.excluded, (unsigned long long)use.idle);
  memory_part(&t, &e->memory);
  if (e->has_time)
    time_part(&t, &e->time);
  if (r->train_tokens) {
    char tok[32];
    p3cfg__tokens_text(tok, sizeof tok, r->train_tokens);
    p3cfg__budget b;
    if (p3cfg__budget_of(&b, e, r->train_tokens))
      p3cfg__text_printf(&t,
                         "\ntraining budget for %s tokens: %.1f days, %.0f GPU-hours (%u GPUs "
                         "at %.0f tokens/s)\n\n",
                         tok, b.days, b.gpu_hours, (unsigned)p3cfg__plan_gpus(&e->plan),
                         e->time.tokens_per_s);
    else
      p3cfg__text_printf(&t, "\ntraining budget for %s tokens: - (%s)\n\n", tok,
                         !e->memory.fits ? "the plan does not fit" : "no time model");
  }
  if (e->placement)
    p3cfg__placement_summary(&t, e, cluster);
  if (r->has_replan) {
    const p3cfg_replan_info *x = &r->replan;
    const double change = x->before_s > 0 ? 100.0 * (x->after_s / x->before_s - 1.0) : 0.0;
    p3cfg__text_printf(&t, "replan: %s\n",
                       x->kept_degrees ? "the old plan's degrees kept"
                                       : "the old degrees do not fit: a new plan from a search");
    if (x->kept_degrees && x->old_dp != e->plan.dp)
      p3cfg__text_printf(&t, "  dp %u -> %u (%llu micro-batches per pipeline)\n", x->old_dp,
                         e->plan.dp, (unsigned long long)p3cfg__plan_microbatches(&e->plan));
    p3cfg__text_printf(&t, "  ranks moved     %llu of %llu\n", (unsigned long long)x->ranks_moved,
                       (unsigned long long)x->ranks);
    p3cfg__text_printf(&t, "  GPUs            %llu excluded, %llu idle\n",
                       (unsigned long long)x->excluded_gpus, (unsigned long long)x->idle_gpus);
    p3cfg__text_printf(&t, "  iteration (s)   %.3f before, %.3f after (%+.1f %%)\n", x->before_s,
                       x->after_s, change);
  }
  return p3cfg__text_finish(&t, out);
}
