/*
 * search_report.c — a search result for people (a ranked table, and with --explain why
 * the winner wins and what each rule rejected) and for programs (spec §6 JSON:
 * {"plans": [...], "evaluated", "feasible", "elapsed_s"}).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "error.h"
#include "placement_report.h"
#include "plan_json.h"
#include "text_buffer.h"
#include "types.h"

P3CFG_API int p3cfg_result_search_json(p3cfg_buffer *out, const p3cfg_result *r,
                                       const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out || !r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_search_json: NULL argument");
  out->data = NULL;
  out->len = 0;
  int rc = P3CFG_OK;
  cJSON *root = cJSON_CreateObject();
  cJSON *plans = root ? cJSON_AddArrayToObject(root, "plans") : NULL;
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
      !p3cfg__json_add_real(root, "elapsed_s", r->stats.elapsed_s))
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

static void plan_line(p3cfg__text *t, size_t rank, const p3cfg__result_entry *e)
{
  const p3cfg_plan *p = &e->plan;
  char split[64];
  int uneven = 0;
  for (uint32_t s = 1; s < p->pp; s++)
    uneven |= p->stage_layers[s] != p->stage_layers[0];
  if (p->pp == 1)
    snprintf(split, sizeof split, "%u", p->stage_layers[0]);
  else if (!uneven)
    snprintf(split, sizeof split, "%ux%u", p->pp, p->stage_layers[0]);
  else
    snprintf(split, sizeof split, "%u,..,%u (%u-%u)", p->stage_layers[0],
             p->stage_layers[p->pp - 1], p->stage_layers[0], p->stage_layers[p->pp / 2]);
  const double gib = 1024.0 * 1024.0 * 1024.0;
  p3cfg__text_printf(t, "%4zu  %5u %4u %4u %4u %4u  %-9s %-3s %4u  %-18s %10.3f %12.0f %6.1f%% %8.2f\n",
                     rank, p->dp, p->tp, p->pp, p->micro_batch, p->virtual_stages,
                     p3cfg_recompute_name(p->recompute), yesno(p->sequence_parallel),
                     p->zero_stage, split, e->has_time ? e->time.iteration_s : 0.0,
                     e->has_time ? e->time.tokens_per_s : 0.0,
                     e->has_time ? 100.0 * e->time.mfu : 0.0,
                     (double)(e->memory.peak_bytes + e->memory.reserved_bytes) / gib);
}

/* Why the first plan beats the second: the time components, largest difference first. */
static void explain_pair(p3cfg__text *t, const p3cfg__result_entry *a,
                         const p3cfg__result_entry *b)
{
  const p3cfg_time *x = &a->time, *y = &b->time;
  struct part {
    const char *name;
    double a, b;
  } parts[] = {
      {"compute", x->compute_s, y->compute_s},
      {"tensor-parallel comm", x->tp_comm_s, y->tp_comm_s},
      {"pipeline comm", x->pp_comm_s, y->pp_comm_s},
      {"data-parallel comm", x->dp_comm_s, y->dp_comm_s},
      {"pipeline bubble", x->bubble_s, y->bubble_s},
      {"optimizer step", x->optimizer_s, y->optimizer_s},
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
    p3cfg__text_printf(t, "  %-22s %10.4f %10.4f %+10.4f\n", parts[i].name, parts[i].a,
                       parts[i].b, parts[i].b - parts[i].a);
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
  p3cfg__text_printf(&t,
                     "%s on %s: %llu plans evaluated, %llu valid, %llu fit (%llu of them "
                     "bounded out), %.3f s\n\n",
                     model->name, cluster->name, (unsigned long long)r->stats.evaluated,
                     (unsigned long long)r->stats.valid, (unsigned long long)r->stats.feasible,
                     (unsigned long long)r->stats.bounded, r->stats.elapsed_s);
  p3cfg__text_printf(&t, "rank     dp   tp   pp  mbs  vpp  recompute sp  zero  layers/stage       iter (s)     tokens/s    MFU  mem GiB\n");
  for (size_t i = 0; i < r->count; i++)
    plan_line(&t, i + 1, &r->entries[i]);
  if (r->count == 1 && !r->entries[0].memory.fits)
    p3cfg__text_printf(&t, "(the closest miss: it does not fit)\n");
  if (r->count > 0) {
    p3cfg__text_printf(&t, "\n#1 ");
    p3cfg__placement_summary(&t, &r->entries[0], cluster);
  }
  if (explain) {
    if (r->count >= 2 && r->entries[0].has_time && r->entries[1].has_time)
      explain_pair(&t, &r->entries[0], &r->entries[1]);
    p3cfg__text_printf(&t, "\nrejected plans by rule:\n");
    for (uint32_t k = 1; k < r->stats.n_rules; k++)
      if (r->stats.rejected[k])
        p3cfg__text_printf(&t, "  %10llu  %s\n", (unsigned long long)r->stats.rejected[k],
                           r->stats.rule_names[k]);
  }
  return p3cfg__text_finish(&t, out);
}
