/*
 * svg_memory.c — p3cfg_result_svg_memory: what one GPU of each pipeline stage holds at
 * its peak, as stacked bars (weights, gradients, optimizer state, activations, other
 * transients, and the reserved memory outside the allocator) against the GPU's capacity,
 * so that the fullest stage and the headroom (or the overflow) read at a glance. The
 * numbers are the estimator's, as in the JSON's memory.stages.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "svg_common.h"

#define WIDTH 1400.0
#define LEFT 90.0
#define RIGHT 40.0
#define TOP 110.0
#define PLOT_H 460.0
#define GIB (1024.0 * 1024.0 * 1024.0)

static const struct part {
  const char *label, *colour;
} parts[] = {
    {"weights", SVG_BLUE},    {"gradients", SVG_ORANGE}, {"optimizer state", SVG_GREEN},
    {"activations", SVG_RED}, {"other (transient)", SVG_PURPLE},
    {"reserved (CUDA context, NCCL, allocator)", SVG_GREY},
};
#define N_PARTS (sizeof parts / sizeof parts[0])

static void stage_parts(double *v, const p3cfg_stage_memory *s)
{
  v[0] = (double)s->weights_bytes / GIB;
  v[1] = (double)s->gradients_bytes / GIB;
  v[2] = (double)s->optimizer_bytes / GIB;
  v[3] = (double)s->activations_bytes / GIB;
  v[4] = (double)s->other_bytes / GIB;
  v[5] = (double)s->reserved_bytes / GIB;
}

static void render(p3cfg__text *t, const p3cfg__result_entry *e, const p3cfg_model *model,
                   const p3cfg_cluster *cluster)
{
  const p3cfg_memory *m = &e->memory;
  const uint32_t n = m->n_stages;
  const double cap = (double)m->capacity_bytes / GIB;
  double top = cap;
  for (uint32_t j = 0; j < n; j++) {
    double v[N_PARTS], sum = 0;
    stage_parts(v, &m->stages[j]);
    for (size_t k = 0; k < N_PARTS; k++)
      sum += v[k];
    if (sum > top)
      top = sum;
  }
  const double step = p3cfg__svg_tick_step(top * 1.08, 8);
  const double ymax = step * (double)(long long)(top * 1.08 / step + 0.999999);
  const double plot_w = WIDTH - LEFT - RIGHT, slot = plot_w / n;
  const double bar = slot * (n > 1 ? 0.7 : 0.3) > 90 ? 90 : slot * (n > 1 ? 0.7 : 0.3);
  const double base = TOP + PLOT_H;

  char title[512], sub[640], plan_line[256];
  snprintf(title, sizeof title, "Memory per GPU \xe2\x80\x94 %s on %s", model->name,
           cluster->name);
  p3cfg__svg_plan_line(plan_line, sizeof plan_line, &e->plan);
  const double worst = (double)m->total_bytes / GIB;
  snprintf(sub, sizeof sub, "%s \xc2\xb7 fullest GPU %.2f GiB of %.2f GiB: %s", plan_line, worst,
           cap, m->fits ? "fits" : "does not fit");
  p3cfg__svg_begin(t, WIDTH, base + 130, title, sub);

  /* Axis and grid in GiB. */
  for (double v = 0; v <= ymax + step * 1e-9; v += step) {
    const double y = base - v / ymax * PLOT_H;
    char label[32];
    p3cfg__svg_tick_label(label, sizeof label, v, step, "");
    p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n",
                       LEFT, y, LEFT + plot_w, y, v == 0 ? "axis" : "grid");
    p3cfg__svg_text(t, LEFT - 8, y + 4, "small", "end", label);
  }
  p3cfg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 %.1f %.1f)\">GiB per GPU</text>\n",
                     LEFT - 52, base - PLOT_H / 2, LEFT - 52, base - PLOT_H / 2);

  const uint32_t label_every = n <= 32 ? 1 : (n + 31) / 32;
  for (uint32_t j = 0; j < n; j++) {
    const p3cfg_stage_memory *s = &m->stages[j];
    double v[N_PARTS], y = base, sum = 0;
    stage_parts(v, s);
    const double x = LEFT + slot * j + (slot - bar) / 2;
    for (size_t k = 0; k < N_PARTS; k++) {
      const double h = v[k] / ymax * PLOT_H;
      sum += v[k];
      if (h <= 0)
        continue;
      y -= h;
      p3cfg__text_printf(t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                            "fill=\"%s\"%s><title>stage %u %s: %.2f GiB</title></rect>\n",
                         x, y, bar, h, parts[k].colour,
                         k == N_PARTS - 1 ? " fill-opacity=\"0.8\"" : "", s->stage,
                         parts[k].label, v[k]);
    }
    if (j % label_every == 0) {
      char label[48];
      snprintf(label, sizeof label, "%.1f", sum);
      if (bar >= 22)
        p3cfg__svg_text(t, x + bar / 2, y - 6, "small", "middle", label);
      snprintf(label, sizeof label, "%u", s->stage);
      p3cfg__svg_text(t, x + bar / 2, base + 16, "label", "middle", label);
      if (bar >= 40) {
        snprintf(label, sizeof label, "%u layers", s->layers);
        p3cfg__svg_text(t, x + bar / 2, base + 30, "small", "middle", label);
      }
    }
  }
  p3cfg__svg_text(t, LEFT + plot_w / 2, base + 48, "label", "middle", "pipeline stage");

  /* Capacity line. */
  const double cy = base - cap / ymax * PLOT_H;
  p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                        "stroke-width=\"2\" stroke-dasharray=\"7 5\"/>\n",
                     LEFT, cy, LEFT + plot_w, cy, SVG_INK);
  char caption[96];
  snprintf(caption, sizeof caption, "GPU memory %.1f GiB (%s)", cap, cluster->gpu.name);
  p3cfg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" "
                        "fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n",
                     LEFT + plot_w - 8 - 6.4 * (double)strlen(caption), cy - 22,
                     6.4 * (double)strlen(caption) + 6);
  p3cfg__svg_text(t, LEFT + plot_w - 6, cy - 8, "label", "end", caption);

  double x = LEFT;
  for (size_t k = 0; k < N_PARTS; k++)
    x = p3cfg__svg_legend(t, x, base + 80, parts[k].colour, parts[k].label);
  p3cfg__svg_text(t, LEFT, base + 104, "small", "start",
                  "Bars are the allocator's peak (weights to other) plus memory reserved "
                  "outside it; a bar above the dashed line does not fit.");
  p3cfg__svg_end(t);
}

P3CFG_API int p3cfg_result_svg_memory(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                      const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_memory: NULL out");
  out->data = NULL;
  out->len = 0;
  if (!r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_memory: NULL argument");
  if (i >= r->count)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_memory: plan %zu of %zu", i,
                            r->count);
  p3cfg__text t;
  p3cfg__text_init(&t);
  render(&t, &r->entries[i], model, cluster);
  return p3cfg__text_finish(&t, out);
}
