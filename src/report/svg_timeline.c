/*
 * svg_timeline.c — p3cfg_result_svg_timeline: the pipeline schedule of one plan as the
 * time model computed it (perf/pipeline_trace.c replays its critical-path simulation with
 * recording), one row per pipeline stage over one optimizer step: forwards and backwards
 * (shaded by interleaved chunk, numbered by micro-batch and chunk when there is room),
 * the recomputation at the start of each backward, the pipeline sends, idle time (the
 * bubble), and the data-parallel sync and optimizer step that end the step.
 *
 * A step can hold thousands of operations per stage. The whole step is drawn exactly
 * when a row has room for its operations; otherwise each pixel column shows the share of
 * its time the stage spent on each kind, stacked. When a row holds more operations than
 * can be numbered, a second panel zooms on the start of the step: stage 0's warm-up and
 * the first steady cycles (STEADY_PAIRS forward-backward pairs of stage 0 after its
 * first backward), one box per operation, the window cut shorter when the busiest row
 * would hold more than ZOOM_MAX_OPS operations (a very long warm-up). Many stages are
 * sampled: the whole step draws at most WHOLE_MAX_ROWS rows, the zoom at most
 * ZOOM_MAX_ROWS; beyond, the first and last half of them with a row saying which
 * stages are left out.
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
/* A 9 px digit is about 5.6 px wide. */
#define CHAR_W 5.6
/* Zoom: forward-backward pairs of stage 0 after its warm-up; most operations in the
 * busiest drawn row (about 10 px each); zoom when a row has more operations than this. */
#define STEADY_PAIRS 3
#define ZOOM_MAX_OPS ((size_t)(PLOT_W / 10))
#define ZOOM_MIN_OPS 48
#define WHOLE_MAX_ROWS 128
#define ZOOM_MAX_ROWS 8
#define ELIDED UINT32_MAX

enum { K_FWD, K_BWD, K_REC, K_COMM, K_COUNT };
static const char *const kind_colour[K_COUNT] = {SVG_BLUE, SVG_ORANGE, SVG_PURPLE, SVG_RED};

/* The stages a panel draws, top to bottom: every stage, or the first and last `max/2`
 * with one ELIDED slot between. */
typedef struct rows {
  uint32_t n;
  uint32_t stage[WHOLE_MAX_ROWS + 1];
} rows;

static void rows_of(rows *r, uint32_t p, uint32_t max)
{
  r->n = 0;
  if (p <= max + 2) { /* eliding one or two stages saves nothing */
    for (uint32_t j = 0; j < p; j++)
      r->stage[r->n++] = j;
    return;
  }
  for (uint32_t j = 0; j < max / 2; j++)
    r->stage[r->n++] = j;
  r->stage[r->n++] = ELIDED;
  for (uint32_t j = p - max / 2; j < p; j++)
    r->stage[r->n++] = j;
}

typedef struct panel {
  double t0, t1;  /* time window */
  double y0;      /* top of the first row */
  double row_h, gap;
  int detail;     /* one box per operation: sends in flight, a tooltip per operation */
  const char *name; /* "whole" or "zoom": the class of its group */
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

/* One operation and its send, exactly. The part of the send the operation waited for
 * sits in the idle time before it (mid-height); in detail, the whole flight of the send
 * is a thin line on the side it came from: above the row for activations (from the
 * previous stage), below for gradients (from the next). */
static void draw_event(p3cfg__text *t, const panel *pn, const p3cfg__pipe_trace *tr, uint32_t j,
                       const p3cfg__pipe_event *e, double prev_end, double y)
{
  const double h = pn->row_h;
  if (pn->detail) {
    p3cfg__text_printf(t, "<g><title>stage %u \xc2\xb7 %s \xc2\xb7 micro-batch %llu", j,
                       e->backward ? "backward" : "forward", (unsigned long long)e->micro_batch);
    if (tr->v > 1)
      p3cfg__text_printf(t, " \xc2\xb7 chunk %u", e->chunk);
    p3cfg__text_printf(t, " \xc2\xb7 %.6f\xe2\x80\x93%.6f s", e->start_s, e->end_s);
    if (e->send_s > 0)
      p3cfg__text_printf(t, " \xc2\xb7 input sent %.6f\xe2\x80\x93%.6f s", e->ready_s - e->send_s,
                         e->ready_s);
    p3cfg__text_printf(t, "</title>\n");
  }
  if (e->send_s > 0 && e->ready_s > prev_end && e->ready_s >= e->start_s) {
    const double from = e->ready_s - e->send_s > prev_end ? e->ready_s - e->send_s : prev_end;
    rect(t, pn, from, e->ready_s, y + h * 0.3, h * 0.4, SVG_RED);
  }
  if (pn->detail && pn->gap >= 4 && e->send_s > 0) { /* at least 1.5 px wide */
    const double min_s = 1.5 * (pn->t1 - pn->t0) / PLOT_W;
    rect(t, pn, e->send_s < min_s ? e->ready_s - min_s : e->ready_s - e->send_s, e->ready_s,
         e->backward ? y + h + 1 : y - 3, 2, SVG_RED);
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
  const double xm = (x_of(pn, e->start_s) + x_of(pn, e->end_s)) / 2;
  char label[24], chunk[16];
  snprintf(label, sizeof label, "%llu", (unsigned long long)e->micro_batch);
  snprintf(chunk, sizeof chunk, "c%u", e->chunk);
  const int inside = e->start_s >= pn->t0 && e->end_s <= pn->t1;
  const int fits = h >= 12 && w >= CHAR_W * (double)strlen(label) + 2 && inside;
  if (fits && tr->v > 1 && h >= 22 && w >= CHAR_W * (double)strlen(chunk) + 2) {
    p3cfg__svg_text(t, xm, y + h / 2 - 1.5, "tiny", "middle", label);
    p3cfg__svg_text(t, xm, y + h / 2 + 8.5, "tiny", "middle", chunk);
  } else if (fits) {
    p3cfg__svg_text(t, xm, y + h / 2 + 3.5, "tiny", "middle", label);
  }
  if (pn->detail)
    p3cfg__text_printf(t, "</g>\n");
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
 * the y below it. `mark_s` > 0 outlines [0, mark_s] (the zoom's window). Returns 0 or
 * P3CFG_ENOMEM. */
static int draw_panel(p3cfg__text *t, const panel *pn, const p3cfg__pipe_trace *tr,
                      const rows *rw, const char *heading, double mark_s, double *bottom)
{
  p3cfg__text_printf(t, "<g class=\"panel %s\" data-window-s=\"%.6f %.6f\">\n", pn->name,
                     pn->t0, pn->t1);
  p3cfg__svg_text(t, LEFT, pn->y0 - 12, "label", "start", heading);
  const double span = pn->t1 - pn->t0, step = p3cfg__svg_tick_step(span, 10);
  const double rows_h = (double)rw->n * (pn->row_h + pn->gap) - pn->gap;
  for (double v = step * (double)(long long)(pn->t0 / step + 0.999999); v <= pn->t1; v += step)
    p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
                       x_of(pn, v), pn->y0, x_of(pn, v), pn->y0 + rows_h);
  const double opt_from = tr->time.iteration_s - tr->time.optimizer_s;
  const uint32_t label_every = pn->row_h >= 9 ? 1 : (uint32_t)(9 / (pn->row_h + pn->gap)) + 1;
  for (uint32_t i = 0; i < rw->n; i++) {
    const double y = pn->y0 + (double)i * (pn->row_h + pn->gap);
    const uint32_t j = rw->stage[i];
    if (j == ELIDED) {
      const uint32_t from = rw->stage[i - 1] + 1, to = rw->stage[i + 1] - 1;
      char what[96];
      snprintf(what, sizeof what, "\xe2\x8b\xae  stages %u\xe2\x80\x93%u (%u stages) not drawn",
               from, to, to - from + 1);
      p3cfg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"" SVG_RULE "\" stroke-dasharray=\"4 4\"/>\n",
                         LEFT, y + pn->row_h / 2, LEFT + PLOT_W, y + pn->row_h / 2);
      p3cfg__svg_text(t, LEFT - 10, y + pn->row_h / 2 + 4, "small", "end", "\xe2\x8b\xae");
      if (pn->row_h >= 8)
        p3cfg__svg_text(t, LEFT + 8, y + pn->row_h / 2 - 3, "small", "start", what);
      else
        p3cfg__text_printf(t, "<title>%s</title>\n", what);
      continue;
    }
    p3cfg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"#efefef\"/>\n",
                       LEFT, y, PLOT_W, pn->row_h);
    char name[48];
    snprintf(name, sizeof name, "stage %u", j);
    if (i % label_every == 0 || i + 1 == rw->n || (i + 1 < rw->n && rw->stage[i + 1] == ELIDED) ||
        (i > 0 && rw->stage[i - 1] == ELIDED))
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
  if (mark_s > 0) {
    const double x1 = x_of(pn, mark_s);
    p3cfg__text_printf(t, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                          "fill=\"none\" stroke=\"" SVG_INK "\" stroke-width=\"1.2\" "
                          "stroke-dasharray=\"5 3\"/>\n",
                       LEFT - 1, pn->y0 - 2, x1 - LEFT + 2, rows_h + 4);
    p3cfg__svg_text(t, LEFT, pn->y0 + rows_h + 36, "small", "start",
                    "dashed: the window zoomed below");
  }
  time_axis(t, pn, pn->y0 + rows_h + 6);
  p3cfg__text_printf(t, "</g>\n");
  *bottom = pn->y0 + rows_h + 40;
  return P3CFG_OK;
}

/* Operations of the busiest drawn row that start before t. */
static size_t busiest(const p3cfg__pipe_trace *tr, const rows *rw, double t)
{
  size_t most = 0;
  for (uint32_t i = 0; i < rw->n; i++) {
    if (rw->stage[i] == ELIDED)
      continue;
    const p3cfg__pipe_event *row = &tr->events[rw->stage[i] * tr->per_rank];
    size_t lo = 0, hi = tr->per_rank; /* first operation starting at or after t */
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (row[mid].start_s < t)
        lo = mid + 1;
      else
        hi = mid;
    }
    most = lo > most ? lo : most;
  }
  return most;
}

/* The zoom's window: up to the end of stage 0's operation q, q = its warm-up forwards
 * plus STEADY_PAIRS pairs, fewer while the busiest drawn row would hold more than
 * ZOOM_MAX_OPS. Sets *warm (stage 0's warm-up forwards) and *cut (the window is shorter
 * than the warm-up plus its pairs). Returns the window's operation count q on stage 0, 0
 * when no zoom is worth drawing (the whole step is small enough to number). */
static size_t zoom_ops(const p3cfg__pipe_trace *tr, const rows *rw, size_t *warm, int *cut)
{
  const p3cfg__pipe_event *row0 = tr->events;
  size_t w = 0;
  while (w < tr->per_rank && !row0[w].backward)
    w++;
  *warm = w;
  *cut = 0;
  size_t q = w + 2 * STEADY_PAIRS;
  if (tr->per_rank <= ZOOM_MIN_OPS || 2 * q > tr->per_rank)
    return 0;
  if (busiest(tr, rw, row0[q - 1].end_s) > ZOOM_MAX_OPS) {
    size_t lo = 1, hi = q; /* the largest q whose window fits */
    while (lo < hi) {
      const size_t mid = lo + (hi - lo + 1) / 2;
      if (busiest(tr, rw, row0[mid - 1].end_s) <= ZOOM_MAX_OPS)
        lo = mid;
      else
        hi = mid - 1;
    }
    q = lo;
    *cut = 1;
  }
  return q;
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
  rows whole_rows, zoom_rows;
  rows *wr = &whole_rows, *zr = &zoom_rows;
  rows_of(wr, tr->p, WHOLE_MAX_ROWS);
  rows_of(zr, tr->p, ZOOM_MAX_ROWS);
  double row_h = 520.0 / wr->n;
  row_h = row_h > 30 ? 30 : row_h < 4 ? 4 : row_h;
  const double gap = row_h >= 14 ? 4 : row_h >= 8 ? 2 : 0;
  const double rows_h = (double)wr->n * (row_h + gap) - gap;
  size_t warm = 0;
  int cut = 0;
  const size_t zq = zoom_ops(tr, zr, &warm, &cut);
  const double zrow_h = tr->v > 1 ? 26 : 20, zgap = 8;
  const double zrows_h = (double)zr->n * (zrow_h + zgap) - zgap;
  const double height = 96 + rows_h + 60 + (zq ? zrows_h + 74 : 0) + 84;

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

  panel whole = {0, tr->time.iteration_s, 96, row_h, gap, !zq, "whole"};
  const double zoom_end = zq ? tr->events[zq - 1].end_s : 0;
  double y = 0;
  int rc = draw_panel(t, &whole, tr, wr,
                      (double)tr->per_rank > PLOT_W / 4
                          ? "whole step (too many operations to draw one by one: each column "
                            "stacks the share of its time per kind)"
                          : "whole step",
                      zoom_end, &y);
  if (rc == P3CFG_OK && zq) {
    panel part = {0, zoom_end, y + 40, zrow_h, zgap, 1, "zoom"};
    char heading[256];
    if (cut)
      snprintf(heading, sizeof heading,
               "first %.3f s of the %.3f s step, one box per operation: the start of the "
               "warm-up (stage 0 runs %zu forward%s before its first backward)",
               zoom_end, tr->time.iteration_s, warm, warm == 1 ? "" : "s");
    else
      snprintf(heading, sizeof heading,
               "first %.3f s of the %.3f s step, one box per operation: the warm-up (stage 0 "
               "runs %zu forward%s before its first backward) and the first steady cycles",
               zoom_end, tr->time.iteration_s, warm, warm == 1 ? "" : "s");
    rc = draw_panel(t, &part, tr, zr, heading, 0, &y);
  }
  if (rc)
    return rc;
  double x = LEFT;
  const double ly = y + 6;
  char fwd[8], bwd[8];
  chunk_colour(fwd, SVG_BLUE, 0, 1);
  chunk_colour(bwd, SVG_ORANGE, 0, 1);
  x = p3cfg__svg_legend(t, x, ly, fwd, "forward");
  x = p3cfg__svg_legend(t, x, ly, bwd, "backward");
  x = p3cfg__svg_legend(t, x, ly, SVG_PURPLE, "recomputation");
  x = p3cfg__svg_legend(t, x, ly, SVG_RED, "pipeline send");
  x = p3cfg__svg_legend(t, x, ly, "#efefef", "idle (bubble)");
  x = p3cfg__svg_legend(t, x, ly, SVG_TEAL, "exposed data-parallel sync");
  p3cfg__svg_legend(t, x, ly, SVG_YELLOW, "optimizer step");
  char note[320];
  snprintf(note, sizeof note,
           "Blocks include exposed tensor-parallel communication. Numbers are micro-batches%s.",
           tr->v > 1 ? " (below them, cK: the stage's interleaved chunk K; lighter shades are "
                       "later chunks)"
                     : "");
  p3cfg__svg_text(t, LEFT, ly + 24, "small", "start", note);
  p3cfg__svg_text(t, LEFT, ly + 40, "small", "start",
                  "Red, in an idle gap: the send an operation waited for. Thin red lines beside a "
                  "stage: every send in flight, above the row for activations from the "
                  "previous stage, below for gradients from the next. Hover a box for its times.");
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
