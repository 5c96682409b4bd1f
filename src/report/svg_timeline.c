/*
 * svg_timeline.c — p3cfg_result_svg_timeline: the pipeline schedule of one plan as the
 * time model computed it (perf/pipeline_trace.c replays its critical-path simulation with
 * recording), one row per pipeline stage over one optimizer step: forwards and backwards
 * (shaded by interleaved chunk, numbered by micro-batch when there is room), the
 * recomputation at the start of each backward, the pipeline sends an operation waited
 * for, idle time (the bubble), and the data-parallel sync and optimizer step that end
 * the step.
 *
 * A step can hold thousands of operations per stage. The whole step is drawn exactly
 * when a row has room for its operations; otherwise each pixel column shows the share of
 * its time the stage spent on each kind, stacked, and a second panel zooms on the start
 * of the step (warm-up and the first steady cycles), where the schedule's shape is.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "pipeline_trace.h"
#include "svg_common.h"

#define WIDTH 1400.0
#define LEFT 120.0
#define RIGHT 36.0
#define PLOT_W (WIDTH - LEFT - RIGHT)

enum { K_FWD, K_BWD, K_REC, K_COMM, K_COUNT };
static const char *const kind_colour[K_COUNT] = {SVG_BLUE, SVG_ORANGE, SVG_PURPLE, SVG_RED};

typedef struct panel {
  double t0, t1;  /* time window */
  double y0;      /* top of the first row */
  double row_h, gap;
} panel;

static double x_of(const panel *pn, double t)
{
  return LEFT + (t - pn->t0) * PLOT_W / (pn->t1 - pn->t0);
}

static void rect(p3cfg__text *t, const panel *pn, double a, double b, double y, double h,
                 const char *fill)
{
  if (b <= pn->t0 || a >= pn->t1 || b <= a)
    return;
  const double x0 = x_of(pn, a < pn->t0 ? pn->t0 : a), x1 = x_of(pn, b > pn->t1 ? pn->t1 : b);
  p3cfg__text_printf(t, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"/>\n",
                     x0, y, x1 - x0 > 0.05 ? x1 - x0 : 0.05, h, fill);
}

/* Colour of chunk k of v: the base colour, lighter for later chunks. */
static void chunk_colour(char *buf, const char *base, uint32_t k, uint32_t v)
{
  p3cfg__svg_lighter(buf, base, v > 1 ? 0.45 * (double)k / (double)(v - 1) : 0.0);
}

/* One operation and the send it waited for, exactly. */
static void draw_event(p3cfg__text *t, const panel *pn, const p3cfg__pipe_trace *tr, uint32_t j,
                       const p3cfg__pipe_event *e, double prev_end, double y)
{
  const double h = pn->row_h;
  if (e->send_s > 0 && e->ready_s > prev_end && e->ready_s >= e->start_s) {
    const double from = e->ready_s - e->send_s > prev_end ? e->ready_s - e->send_s : prev_end;
    rect(t, pn, from, e->ready_s, y + h * 0.3, h * 0.4, SVG_RED);
  }
  char colour[8];
  chunk_colour(colour, e->backward ? SVG_ORANGE : SVG_BLUE, e->chunk, tr->v);
  double a = e->start_s;
  if (e->backward) {
    const double rec = tr->recompute_s[j * tr->v + e->chunk];
    if (rec > 0) {
      rect(t, pn, a, a + rec, y, h, SVG_PURPLE);
      a += rec;
    }
  }
  rect(t, pn, a, e->end_s, y, h, colour);
  const double w = x_of(pn, e->end_s) - x_of(pn, e->start_s);
  char label[24];
  snprintf(label, sizeof label, "%llu", (unsigned long long)e->micro_batch);
  if (h >= 12 && w >= 6.0 * (double)strlen(label) + 3 && e->start_s >= pn->t0 && e->end_s <= pn->t1)
    p3cfg__svg_text(t, (x_of(pn, e->start_s) + x_of(pn, e->end_s)) / 2, y + h / 2 + 3.5, "tiny",
                    "middle", label);
}

/* A row too dense to draw exactly: per pixel column, the share of each kind. */
static int draw_binned(p3cfg__text *t, const panel *pn, const p3cfg__pipe_trace *tr, uint32_t j,
                       double y, size_t in_window)
{
  /* About eight operations per column, so that the shares are steady (a column of one
   * pixel would flicker between a forward and a backward). */
  size_t bins = in_window / 8;
  bins = bins < 1 ? 1 : bins > (size_t)PLOT_W ? (size_t)PLOT_W : bins;
  double *cover = p3cfg__calloc(bins * K_COUNT, sizeof *cover);
  if (!cover)
    return p3cfg__error_nomem();
  const double bin_s = (pn->t1 - pn->t0) / (double)bins;
  double prev_end = 0;
  for (size_t q = 0; q < tr->per_rank; q++) {
    const p3cfg__pipe_event *e = &tr->events[j * tr->per_rank + q];
    const double rec = e->backward ? tr->recompute_s[j * tr->v + e->chunk] : 0;
    double from[K_COUNT] = {0}, to[K_COUNT] = {0};
    from[e->backward ? K_BWD : K_FWD] = e->start_s + rec;
    to[e->backward ? K_BWD : K_FWD] = e->end_s;
    from[K_REC] = e->start_s, to[K_REC] = e->start_s + rec;
    if (e->send_s > 0 && e->ready_s > prev_end && e->ready_s >= e->start_s) {
      from[K_COMM] = e->ready_s - e->send_s > prev_end ? e->ready_s - e->send_s : prev_end;
      to[K_COMM] = e->ready_s;
    }
    for (int k = 0; k < K_COUNT; k++) {
      const double a = from[k] < pn->t0 ? pn->t0 : from[k], b = to[k] > pn->t1 ? pn->t1 : to[k];
      if (!(a < b))
        continue;
      const size_t i0 = (size_t)((a - pn->t0) / bin_s), i1 = (size_t)((b - pn->t0) / bin_s);
      for (size_t i = i0; i <= i1 && i < bins; i++) {
        const double lo = pn->t0 + (double)i * bin_s, hi = lo + bin_s;
        const double part = (b < hi ? b : hi) - (a > lo ? a : lo);
        if (part > 0)
          cover[i * K_COUNT + (size_t)k] += part;
      }
    }
    prev_end = e->end_s;
  }
  /* Each column: the shares of the kinds stacked from the top (forward, recomputation,
   * backward, send), in eighths of the row, idle below; equal columns merge into runs. */
  static const int order[K_COUNT] = {K_FWD, K_REC, K_BWD, K_COMM};
  int run[K_COUNT] = {-1, -1, -1, -1};
  size_t run_from = 0;
  for (size_t i = 0; i <= bins; i++) {
    int q[K_COUNT] = {-1, -1, -1, -1};
    if (i < bins)
      for (int k = 0; k < K_COUNT; k++) {
        const double share = cover[i * K_COUNT + (size_t)k] / bin_s;
        q[k] = (int)(share * 8 + 0.5);
      }
    if (i == bins || memcmp(q, run, sizeof q) != 0) {
      if (run[0] >= 0 && i > run_from) {
        double yy = y;
        for (int o = 0; o < K_COUNT; o++) {
          const int k = order[o];
          const double h = pn->row_h * (run[k] > 8 ? 8 : run[k]) / 8.0;
          if (h > 0 && yy + h <= y + pn->row_h + 1e-9)
            rect(t, pn, pn->t0 + (double)run_from * bin_s, pn->t0 + (double)i * bin_s, yy, h,
                 kind_colour[k]);
          yy += h;
        }
      }
      memcpy(run, q, sizeof q);
      run_from = i;
    }
  }
  p3cfg__free(cover);
  return P3CFG_OK;
}

static void time_axis(p3cfg__text *t, const panel *pn, double y)
{
  const double span = pn->t1 - pn->t0, step = p3cfg__svg_tick_step(span, 10);
  p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
                     LEFT, y, LEFT + PLOT_W, y);
  const double first = step * (double)(long long)(pn->t0 / step + 0.999999);
  for (double v = first; v <= pn->t1 + 1e-9 * span; v += step) {
    const double x = x_of(pn, v);
    char label[32];
    p3cfg__svg_tick_label(label, sizeof label, v, step, " s");
    p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
                       x, y, x, y + 5);
    p3cfg__svg_text(t, x, y + 18, "small", "middle", label);
  }
}

/* One panel: grid, rows with their blocks, tail, labels and time axis; *bottom gets
 * the y below it. Returns 0 or P3CFG_ENOMEM. */
static int draw_panel(p3cfg__text *t, const panel *pn, const p3cfg__pipe_trace *tr,
                      const char *heading, double *bottom)
{
  const uint32_t p = tr->p;
  p3cfg__svg_text(t, LEFT, pn->y0 - 10, "label", "start", heading);
  const double span = pn->t1 - pn->t0, step = p3cfg__svg_tick_step(span, 10);
  const double rows_h = (double)p * (pn->row_h + pn->gap) - pn->gap;
  for (double v = step * (double)(long long)(pn->t0 / step + 0.999999); v <= pn->t1; v += step)
    p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
                       x_of(pn, v), pn->y0, x_of(pn, v), pn->y0 + rows_h);
  const double opt_from = tr->time.iteration_s - tr->time.optimizer_s;
  for (uint32_t j = 0; j < p; j++) {
    const double y = pn->y0 + (double)j * (pn->row_h + pn->gap);
    p3cfg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"#efefef\"/>\n",
                       LEFT, y, PLOT_W, pn->row_h);
    char name[48];
    snprintf(name, sizeof name, "stage %u", j);
    if (pn->row_h >= 9 || j % (uint32_t)(9 / (pn->row_h + pn->gap) + 1) == 0)
      p3cfg__svg_text(t, LEFT - 10, y + pn->row_h / 2 + 4, pn->row_h >= 14 ? "label" : "small",
                      "end", name);
    size_t in_window = 0;
    const p3cfg__pipe_event *row = &tr->events[j * tr->per_rank];
    for (size_t q = 0; q < tr->per_rank; q++)
      in_window += row[q].end_s > pn->t0 && row[q].start_s < pn->t1;
    if ((double)in_window > PLOT_W / 4) {
      const int rc = draw_binned(t, pn, tr, j, y, in_window);
      if (rc)
        return rc;
    } else {
      for (size_t q = 0; q < tr->per_rank; q++)
        if (row[q].end_s > pn->t0 && row[q].start_s < pn->t1)
          draw_event(t, pn, tr, j, &row[q], q ? row[q - 1].end_s : 0, y);
    }
    /* What the step spends after the pipeline drains, before the optimizer: the
     * exposed gradient reduction (and parameter gather), the same for every stage. */
    rect(t, pn, tr->pipeline_end_s, opt_from, y + pn->row_h * 0.15, pn->row_h * 0.7, SVG_TEAL);
    rect(t, pn, opt_from, tr->time.iteration_s, y, pn->row_h, SVG_YELLOW);
  }
  time_axis(t, pn, pn->y0 + rows_h + 6);
  *bottom = pn->y0 + rows_h + 40;
  return P3CFG_OK;
}

/* Rank -> global GPU map of entry e into *map (the caller frees it), or NULL when it is
 * the default (rank r on GPU r), which the time model evaluates on its fast path. */
static int rank_map(uint32_t **map, const p3cfg__result_entry *e, const p3cfg_cluster *c)
{
  *map = NULL;
  if (!e->placement)
    return P3CFG_OK;
  int identity = 1;
  for (size_t r = 0; r < e->n_ranks; r++)
    identity &= (uint64_t)e->placement[r].node * c->gpus_per_node + e->placement[r].gpu == r;
  if (identity)
    return P3CFG_OK;
  uint32_t *m = p3cfg__malloc(e->n_ranks * sizeof *m);
  if (!m)
    return p3cfg__error_nomem();
  for (size_t r = 0; r < e->n_ranks; r++)
    m[r] = e->placement[r].node * c->gpus_per_node + e->placement[r].gpu;
  *map = m;
  return P3CFG_OK;
}

static int render(p3cfg__text *t, const p3cfg__pipe_trace *tr, const p3cfg_plan *plan,
                  const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  const uint32_t p = tr->p;
  double row_h = 520.0 / p;
  row_h = row_h > 30 ? 30 : row_h < 4 ? 4 : row_h;
  const double gap = row_h >= 14 ? 4 : row_h >= 8 ? 2 : 0;
  const double rows_h = (double)p * (row_h + gap) - gap;
  /* Zoom: rank 0's warm-up and two more cycles of p*v operations each way. */
  const uint64_t warm = tr->v == 1 ? p - 1 : 2ull * (p - 1) + (uint64_t)(tr->v - 1) * p;
  const uint64_t zq = warm + 4ull * p * tr->v;
  const int zoom = p > 1 && tr->per_rank > 64 && tr->per_rank > zq + 8;
  const double height = 96 + rows_h + 60 + (zoom ? rows_h + 70 : 0) + 70;

  char title[512], sub[640], plan_line[256];
  snprintf(title, sizeof title, "Pipeline schedule \xe2\x80\x94 %s on %s", model->name,
           cluster->name);
  p3cfg__svg_plan_line(plan_line, sizeof plan_line, plan);
  const double bubble_pct = tr->time.iteration_s > 0 ? 100 * tr->time.bubble_s / tr->time.iteration_s : 0;
  snprintf(sub, sizeof sub,
           "%s \xc2\xb7 %llu micro-batches \xc2\xb7 step %.3f s, bubble %.3f s (%.1f%%), "
           "pipeline sends %.3f s",
           plan_line, (unsigned long long)tr->m, tr->time.iteration_s, tr->time.bubble_s,
           bubble_pct, tr->time.pp_comm_s);
  p3cfg__svg_begin(t, WIDTH, height, title, sub);

  panel whole = {0, tr->time.iteration_s, 96, row_h, gap};
  double y = 0;
  int rc = draw_panel(t, &whole, tr,
                      (double)tr->per_rank > PLOT_W / 4
                          ? "whole step (too many operations to draw one by one: each column "
                            "stacks the share of its time per kind)"
                          : "whole step",
                      &y);
  if (rc)
    return rc;
  if (zoom) {
    panel part = {0, tr->events[zq].end_s, y + 30, row_h, gap};
    char heading[96];
    snprintf(heading, sizeof heading, "first %.3f s: warm-up and the first steady cycles",
             part.t1);
    if ((rc = draw_panel(t, &part, tr, heading, &y)) != 0)
      return rc;
  }
  double x = LEFT;
  const double ly = y + 6;
  char fwd[8], bwd[8];
  chunk_colour(fwd, SVG_BLUE, 0, 1);
  chunk_colour(bwd, SVG_ORANGE, 0, 1);
  x = p3cfg__svg_legend(t, x, ly, fwd, "forward");
  x = p3cfg__svg_legend(t, x, ly, bwd, "backward");
  x = p3cfg__svg_legend(t, x, ly, SVG_PURPLE, "recomputation");
  x = p3cfg__svg_legend(t, x, ly, SVG_RED, "pipeline send waited for");
  x = p3cfg__svg_legend(t, x, ly, "#efefef", "idle (bubble)");
  x = p3cfg__svg_legend(t, x, ly, SVG_TEAL, "exposed data-parallel sync");
  p3cfg__svg_legend(t, x, ly, SVG_YELLOW, "optimizer step");
  char note[256];
  snprintf(note, sizeof note,
           "Blocks include exposed tensor-parallel communication.%s Numbers are micro-batches.",
           tr->v > 1 ? " Lighter shades are later interleaved chunks." : "");
  p3cfg__svg_text(t, LEFT, ly + 24, "small", "start", note);
  p3cfg__svg_end(t);
  return P3CFG_OK;
}

P3CFG_API int p3cfg_result_svg_timeline(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                        const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_timeline: NULL out");
  out->data = NULL;
  out->len = 0;
  if (!r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_timeline: NULL argument");
  if (i >= r->count)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_timeline: plan %zu of %zu", i,
                            r->count);
  const p3cfg__result_entry *e = &r->entries[i];
  if (!e->has_time)
    return p3cfg__error_set(P3CFG_EINVALID, "the timeline needs the time model (the result has "
                                            "no time part)");
  uint32_t *map = NULL;
  p3cfg__pipe_trace tr;
  memset(&tr, 0, sizeof tr);
  int rc = rank_map(&map, e, cluster);
  if (rc == P3CFG_OK)
    rc = p3cfg__pipe_trace_plan(&tr, model, cluster, &e->plan, map);
  p3cfg__free(map);
  if (rc)
    return rc;
  p3cfg__text t;
  p3cfg__text_init(&t);
  rc = render(&t, &tr, &e->plan, model, cluster);
  p3cfg__pipe_trace_dispose(&tr);
  if (rc) {
    p3cfg__free(t.data);
    return rc;
  }
  return p3cfg__text_finish(&t, out);
}
