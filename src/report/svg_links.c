/*
 * svg_links.c — p3cfg_result_svg_links: the cluster's link bandwidth matrix as a heat
 * map (row = sender, column = receiver), with the links one plan actually uses marked
 * over it: its pipeline sends between adjacent stages (both directions: activations and
 * gradients), its data-parallel rings and its tensor-parallel rings, as placed, and, for
 * an expert-parallel plan, its EP groups: the all-to-all between every pair of a group's
 * GPUs (triangles) and, where a group's GPUs are consecutive cells, its block outlined. A
 * plan whose marks sit on dark (slow) cells is one a better placement could speed up.
 *
 * The matrix is per GPU when the cluster has at most 128 GPUs and either measured GPU
 * pairs or has fewer than SMALL_NODES nodes (a per-node matrix of one to three cells
 * cannot show which GPUs talk; there the cells take the nominal or per-node figures),
 * per node otherwise (a GPU-granularity matrix reduced to its slowest GPU pair per node
 * pair), and per block of nodes beyond 128 nodes. Inter-node cells take the viridis
 * scale between the slowest and fastest inter-node link; intra-node cells, often ten
 * times faster, are grey with their value written, so that they do not flatten the scale.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "links.h"
#include "mesh.h"
#include "svg_common.h"

#define MAX_CELLS 128
#define SMALL_NODES 4
#define MATRIX_PX 720.0
#define X0 170.0
#define Y0 96.0

enum { F_PP = 1, F_DP = 2, F_TP = 4, F_EP = 8 };
#define KINDS 4 /* pipeline, data-parallel, tensor-parallel, expert-parallel */

typedef struct grid {
  uint32_t n;          /* cells per side */
  int per_gpu;         /* cells are GPUs (else nodes or blocks of nodes) */
  uint32_t block;      /* nodes per cell (node level) */
  double *Bps;         /* n*n; < 0: no value (a GPU to itself) */
  unsigned char *intra;
  unsigned char *flags;
  double used_min[KINDS]; /* slowest link used by PP, DP, TP hops, EP pairs (bytes/s) */
  uint32_t used_at[KINDS][2];
  uint32_t ep;            /* the plan's ep (1: no EP marks, legend as for a dense plan) */
  uint32_t *outline;      /* EP group blocks [first cell, last cell], n_outlines of them */
  uint32_t n_outlines;
} grid;

static uint32_t cell_of(const grid *g, const p3cfg_cluster *c, uint32_t gpu)
{
  return g->per_gpu ? gpu : gpu / c->gpus_per_node / g->block;
}

/* Slowest link from node a to node b (GPU pairs of distinct GPUs). */
static double node_Bps(const p3cfg_cluster *c, uint32_t a, uint32_t b)
{
  const uint32_t gpn = c->gpus_per_node;
  double bw, lat, best = -1;
  if (c->links.granularity != P3CFG_LINKS_GPU) {
    p3cfg__link(c, a * gpn, b * gpn + (a == b && gpn > 1), &bw, &lat);
    return bw;
  }
  for (uint32_t x = 0; x < gpn; x++)
    for (uint32_t y = 0; y < gpn; y++)
      if (a != b || x != y) {
        p3cfg__link(c, a * gpn + x, b * gpn + y, &bw, &lat);
        if (best < 0 || bw < best)
          best = bw;
      }
  return best < 0 ? c->intra_Bps : best;
}

static int grid_fill(grid *g, const p3cfg_cluster *c)
{
  const uint32_t gpn = c->gpus_per_node, gpus = c->nodes * gpn;
  g->per_gpu = gpus <= MAX_CELLS &&
               (c->links.granularity == P3CFG_LINKS_GPU || c->nodes < SMALL_NODES);
  g->block = g->per_gpu || c->nodes <= MAX_CELLS ? 1 : (c->nodes + MAX_CELLS - 1) / MAX_CELLS;
  g->n = g->per_gpu ? gpus : (c->nodes + g->block - 1) / g->block;
  const size_t cells = (size_t)g->n * g->n;
  g->Bps = p3cfg__malloc(cells * sizeof *g->Bps);
  g->intra = p3cfg__calloc(cells, 2);
  if (!g->Bps || !g->intra)
    return p3cfg__error_nomem();
  g->flags = g->intra + cells;
  for (uint32_t a = 0; a < g->n; a++)
    for (uint32_t b = 0; b < g->n; b++) {
      double *v = &g->Bps[(size_t)a * g->n + b], lat;
      unsigned char *in = &g->intra[(size_t)a * g->n + b];
      if (g->per_gpu) {
        *in = a / gpn == b / gpn;
        if (a == b)
          *v = -1;
        else
          p3cfg__link(c, a, b, v, &lat);
        continue;
      }
      *v = -1;
      for (uint32_t x = a * g->block; x < (a + 1) * g->block && x < c->nodes; x++)
        for (uint32_t y = b * g->block; y < (b + 1) * g->block && y < c->nodes; y++)
          if (x != y || g->block == 1) {
            const double bw = node_Bps(c, x, y);
            if (*v < 0 || bw < *v)
              *v = bw;
          }
      *in = a == b && g->block == 1;
    }
  return P3CFG_OK;
}

static void mark(grid *g, const p3cfg_cluster *c, const p3cfg__result_entry *e, uint32_t ra,
                 uint32_t rb, int kind)
{
  const p3cfg_rank_place *pa = &e->placement[ra], *pb = &e->placement[rb];
  const uint32_t ga = pa->node * c->gpus_per_node + pa->gpu;
  const uint32_t gb = pb->node * c->gpus_per_node + pb->gpu;
  const size_t k = (size_t)cell_of(g, c, ga) * g->n + cell_of(g, c, gb);
  static const unsigned char flag[KINDS] = {F_PP, F_DP, F_TP, F_EP};
  g->flags[k] |= flag[kind];
  double bw, lat;
  p3cfg__link(c, ga, gb, &bw, &lat);
  if (g->used_min[kind] <= 0 || bw < g->used_min[kind]) {
    g->used_min[kind] = bw;
    g->used_at[kind][0] = ga;
    g->used_at[kind][1] = gb;
  }
}

/* The EP groups of an expert-parallel plan (the expert mesh, etp-ep-edp-pp): every ordered
 * pair of a group's ranks (the dispatch and combine all-to-all), and the block of cells of
 * each group whose GPUs are consecutive cells (once per distinct block). */
static int mark_experts(grid *g, const p3cfg_cluster *c, const p3cfg__result_entry *e)
{
  p3cfg__mesh X;
  p3cfg__mesh_expert_of(&X, &e->plan);
  g->ep = X.size[P3CFG__MESH_EP];
  if (g->ep < 2)
    return P3CFG_OK;
  const uint32_t groups = p3cfg__mesh_groups(&X, P3CFG__MESH_EP);
  /* seen: the cells of one group (n), then which blocks are outlined already (n * n) */
  unsigned char *seen = p3cfg__calloc((size_t)g->n * (g->n + 1), 1);
  const uint32_t max_outlines = groups < g->n * g->n ? groups : g->n * g->n;
  g->outline = p3cfg__malloc((size_t)max_outlines * 2 * sizeof *g->outline);
  if (!seen || !g->outline) {
    p3cfg__free(seen);
    return p3cfg__error_nomem();
  }
  for (uint32_t k = 0; k < groups; k++) {
    const p3cfg__mesh_group grp = p3cfg__mesh_group_nth(&X, P3CFG__MESH_EP, k);
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t a = 0; a < grp.count; a++) {
      const uint32_t ra = p3cfg__mesh_member(&grp, a);
      const p3cfg_rank_place *pa = &e->placement[ra];
      const uint32_t cell = cell_of(g, c, pa->node * c->gpus_per_node + pa->gpu);
      seen[cell] = 1;
      lo = cell < lo ? cell : lo;
      hi = cell > hi ? cell : hi;
      for (uint32_t b = 0; b < grp.count; b++)
        if (a != b)
          mark(g, c, e, ra, p3cfg__mesh_member(&grp, b), 3);
    }
    int whole = 1; /* the group covers every cell of [lo, hi] */
    for (uint32_t x = lo; x <= hi; x++) {
      whole &= seen[x];
      seen[x] = 0;
    }
    unsigned char *drawn = seen + g->n + (size_t)lo * g->n + hi; /* that block once */
    if (whole && !*drawn) {
      *drawn = 1;
      g->outline[2 * g->n_outlines] = lo;
      g->outline[2 * g->n_outlines + 1] = hi;
      g->n_outlines++;
    }
  }
  p3cfg__free(seen);
  return P3CFG_OK;
}

/* The hops of the plan: pipeline sends both ways (and the interleaved wrap-around), the
 * data-parallel and tensor-parallel rings in rank order. */
static void mark_plan(grid *g, const p3cfg_cluster *c, const p3cfg__result_entry *e)
{
  const p3cfg_plan *p = &e->plan;
  p3cfg__mesh M;
  p3cfg__mesh_of(&M, p);
  const uint32_t pp = M.size[P3CFG__MESH_PP], per_stage = M.stride[P3CFG__MESH_PP];
  for (uint32_t j = 0; j < pp && pp > 1; j++) {
    if (j + 1 == pp && p->virtual_stages == 1)
      break;
    const uint32_t from = p3cfg__mesh_step(&M, P3CFG__MESH_PP, j);
    const uint32_t to = p3cfg__mesh_step(&M, P3CFG__MESH_PP, (j + 1) % pp);
    for (uint32_t x = 0; x < per_stage; x++) {
      mark(g, c, e, from + x, to + x, 0);
      mark(g, c, e, to + x, from + x, 0);
    }
  }
  for (uint32_t r = 0; r < e->n_ranks; r++) {
    const uint32_t dp = M.size[P3CFG__MESH_DP], tp = M.size[P3CFG__MESH_TP];
    const uint32_t d = p3cfg__mesh_coord(&M, P3CFG__MESH_DP, r);
    const uint32_t t = p3cfg__mesh_coord(&M, P3CFG__MESH_TP, r);
    if (dp > 1)
      mark(g, c, e, r, p3cfg__mesh_move(&M, P3CFG__MESH_DP, r, d, (d + 1) % dp), 1);
    if (tp > 1)
      mark(g, c, e, r, p3cfg__mesh_move(&M, P3CFG__MESH_TP, r, t, (t + 1) % tp), 2);
  }
}

static void gpu_name(char *buf, size_t n, const p3cfg_cluster *c, uint32_t gpu)
{
  snprintf(buf, n, "%s:%u", c->node_names[gpu / c->gpus_per_node], gpu % c->gpus_per_node);
}

static void cell_name(char *buf, size_t n, const grid *g, const p3cfg_cluster *c, uint32_t i)
{
  if (g->per_gpu && c->links.granularity == P3CFG_LINKS_GPU && c->links.names)
    snprintf(buf, n, "%s", c->links.names[i]);
  else if (g->per_gpu)
    gpu_name(buf, n, c, i);
  else if (g->block == 1)
    snprintf(buf, n, "%s", c->node_names[i]);
  else {
    const uint32_t last = (i + 1) * g->block < c->nodes ? (i + 1) * g->block - 1 : c->nodes - 1;
    snprintf(buf, n, "%s\xe2\x80\x93%s", c->node_names[i * g->block], c->node_names[last]);
  }
}

static void marker(p3cfg__text *t, int kind, double cx, double cy, double r)
{
  if (kind == F_PP)
    p3cfg__text_printf(t, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"#ffffff\" "
                          "stroke=\"#111111\" stroke-width=\"%.2f\"/>\n",
                       cx, cy, r, r > 4 ? 1.4 : 0.8);
  else if (kind == F_DP)
    p3cfg__text_printf(t, "<path d=\"M%.2f %.2fL%.2f %.2fL%.2f %.2fL%.2f %.2fZ\" fill=\"" SVG_PINK
                          "\" stroke=\"#111111\" stroke-width=\"%.2f\"/>\n",
                       cx, cy - r * 1.2, cx + r * 1.2, cy, cx, cy + r * 1.2, cx - r * 1.2, cy,
                       r > 4 ? 1.4 : 0.8);
  else if (kind == F_TP)
    p3cfg__text_printf(t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                          "fill=\"#111111\"/>\n",
                       cx - r * 0.8, cy - r * 0.8, r * 1.6, r * 1.6);
  else
    p3cfg__text_printf(t, "<path d=\"M%.2f %.2fL%.2f %.2fL%.2f %.2fZ\" fill=\"" SVG_ORANGE
                          "\" stroke=\"#111111\" stroke-width=\"%.2f\"/>\n",
                       cx, cy - r * 1.1, cx + r * 1.1, cy + r * 0.9, cx - r * 1.1, cy + r * 0.9,
                       r > 4 ? 1.0 : 0.6);
}

/* A dashed outline of the cells [lo, hi] x [lo, hi] (an EP group's block). */
static void outline_block(p3cfg__text *t, double x0, double y0, double cs, uint32_t lo,
                          uint32_t hi)
{
  p3cfg__text_printf(t, "<rect class=\"ep-group\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                        "height=\"%.2f\" fill=\"none\" stroke=\"" SVG_ORANGE "\" "
                        "stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
                     x0 + lo * cs, y0 + lo * cs, (hi - lo + 1) * cs, (hi - lo + 1) * cs);
}

static void render(p3cfg__text *t, const grid *g, const p3cfg__result_entry *e,
                   const p3cfg_model *model, const p3cfg_cluster *c)
{
  const uint32_t n = g->n;
  double cs = MATRIX_PX / n;
  cs = cs > 44 ? 44 : cs;
  const double M = cs * n, height = Y0 + M + 150 > 640 ? Y0 + M + 150 : 640;
  const double width = X0 + M + 470 > 1100 ? X0 + M + 470 : 1100;
  double lo = -1, hi = -1;
  for (size_t k = 0; k < (size_t)n * n; k++)
    if (!g->intra[k] && g->Bps[k] >= 0) {
      lo = lo < 0 || g->Bps[k] < lo ? g->Bps[k] : lo;
      hi = g->Bps[k] > hi ? g->Bps[k] : hi;
    }
  char title[512], sub[640], plan_line[256];
  snprintf(title, sizeof title, "Links used \xe2\x80\x94 %s on %s", model->name, c->name);
  p3cfg__svg_plan_line(plan_line, sizeof plan_line, &e->plan);
  snprintf(sub, sizeof sub, "%s \xc2\xb7 %s bandwidth per direction, %s", plan_line,
           c->links.granularity != P3CFG_LINKS_NONE ? "measured" : "nominal (no measured links)",
           g->per_gpu ? "per GPU pair" : g->block == 1 ? "per node pair" : "per block of nodes (slowest pair)");
  p3cfg__svg_begin(t, width, height, title, sub);

  for (uint32_t a = 0; a < n; a++)
    for (uint32_t b = 0; b < n; b++) {
      const size_t k = (size_t)a * n + b;
      const double x = X0 + b * cs, y = Y0 + a * cs, v = g->Bps[k];
      char fill[8] = "#ffffff";
      if (v >= 0 && g->intra[k])
        snprintf(fill, sizeof fill, "#d9d9d9");
      else if (v >= 0)
        p3cfg__svg_viridis(fill, hi > lo ? (v - lo) / (hi - lo) : 0.6);
      char a_name[128], b_name[128];
      cell_name(a_name, sizeof a_name, g, c, a);
      cell_name(b_name, sizeof b_name, g, c, b);
      p3cfg__text_printf(t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                            "fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"%.2f\"><title>",
                         x, y, cs, cs, fill, cs > 6 ? 0.5 : 0.0);
      p3cfg__svg_escaped(t, a_name);
      p3cfg__text_printf(t, " \xe2\x86\x92 ");
      p3cfg__svg_escaped(t, b_name);
      p3cfg__text_printf(t, ": %.2f GB/s</title></rect>\n", v >= 0 ? v / 1e9 : 0.0);
      if (v >= 0 && g->intra[k] && cs >= 30) {
        char label[16];
        snprintf(label, sizeof label, "%.0f", v / 1e9);
        p3cfg__svg_text(t, x + cs / 2, y + cs - 4, "small", "middle", label);
      }
      const unsigned char f = g->flags[k];
      if (!f)
        continue;
      if (cs >= 24) { /* one slot per kind */
        const double r = cs * 0.13;
        if (f & F_PP)
          marker(t, F_PP, x + cs * 0.25, y + cs * 0.38, r);
        if (f & F_DP)
          marker(t, F_DP, x + cs * 0.5, y + cs * 0.38, r);
        if (f & F_TP)
          marker(t, F_TP, x + cs * 0.75, y + cs * 0.38, r);
        if (f & F_EP) /* lower left, clear of the intra-node value */
          marker(t, F_EP, x + cs * 0.16, y + cs * 0.76, r * 0.85);
      } else {
        const double r = cs * 0.26 > 1.2 ? cs * 0.26 : 1.2;
        marker(t, f & F_PP ? F_PP : f & F_DP ? F_DP : f & F_TP ? F_TP : F_EP, x + cs / 2,
               y + cs / 2, r);
      }
    }
  for (uint32_t q = 0; q < g->n_outlines; q++)
    outline_block(t, X0, Y0, cs, g->outline[2 * q], g->outline[2 * q + 1]);
  /* Axis labels. */
  const uint32_t every = cs >= 9 ? 1 : (uint32_t)(9 / cs) + 1;
  for (uint32_t i = 0; i < n; i += every) {
    char name[128];
    cell_name(name, sizeof name, g, c, i);
    p3cfg__svg_text(t, X0 - 6, Y0 + i * cs + cs / 2 + 3.5, "small", "end", name);
    const double x = X0 + i * cs + cs / 2 + 3, y = Y0 + M + 8;
    p3cfg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"small\" text-anchor=\"end\" "
                          "transform=\"rotate(-50 %.1f %.1f)\">",
                       x, y, x, y);
    p3cfg__svg_escaped(t, name);
    p3cfg__text_printf(t, "</text>\n");
  }
  p3cfg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 %.1f %.1f)\">sender</text>\n",
                     28.0, Y0 + M / 2, 28.0, Y0 + M / 2);
  p3cfg__svg_text(t, X0 + M / 2, Y0 + M + 96, "label", "middle", "receiver");

  /* Colour bar of the inter-node scale (one swatch when every link is the same). */
  const double bx = X0 + M + 48, by = Y0 + 8;
  double bh = 240;
  if (lo >= 0 && hi > lo) {
    p3cfg__text_printf(t, "<defs><linearGradient id=\"viridis\" x1=\"0\" y1=\"1\" x2=\"0\" "
                          "y2=\"0\">\n");
    for (int s = 0; s <= 8; s++) {
      char col[8];
      p3cfg__svg_viridis(col, s / 8.0);
      p3cfg__text_printf(t, "<stop offset=\"%.3f\" stop-color=\"%s\"/>\n", s / 8.0, col);
    }
    p3cfg__text_printf(t, "</linearGradient></defs>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" "
                          "height=\"%.1f\" fill=\"url(#viridis)\"/>\n",
                       bx, by, bh);
    p3cfg__svg_text(t, bx, by - 10, "label", "start", "inter-node GB/s");
    for (int s = 0; s <= 4; s++) {
      char label[32];
      snprintf(label, sizeof label, hi - lo < 10e9 ? "%.2f" : "%.1f",
               (lo + (hi - lo) * s / 4.0) / 1e9);
      p3cfg__svg_text(t, bx + 26, by + bh - bh * s / 4.0 + 4, "small", "start", label);
    }
  } else {
    char col[8], label[64];
    p3cfg__svg_viridis(col, 0.6);
    bh = 18;
    if (lo >= 0)
      p3cfg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"18\" "
                            "fill=\"%s\"/>\n",
                         bx, by, col);
    snprintf(label, sizeof label, "every inter-node link: %.2f GB/s", lo / 1e9);
    p3cfg__svg_text(t, lo >= 0 ? bx + 26 : bx, by + 13, "label", "start",
                    lo >= 0 ? label : "one node: no inter-node link");
  }
  double ly = by + bh + 36;
  p3cfg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"18\" fill=\"#d9d9d9\"/>\n",
                     bx, ly - 13);
  p3cfg__svg_text(t, bx + 26, ly, "label", "start", "intra-node link (GB/s written)");
  static const char *const what[KINDS] = {
      "pipeline send (activations and gradients)", "data-parallel ring hop",
      "tensor-parallel ring hop", "expert-parallel all-to-all (GPU pairs of an EP group)"};
  static const int flag[KINDS] = {F_PP, F_DP, F_TP, F_EP};
  for (int k = 0; k < (g->ep > 1 ? KINDS : 3); k++) {
    ly += 26;
    marker(t, flag[k], bx + 9, ly - 4, 5);
    p3cfg__svg_text(t, bx + 26, ly, "label", "start", what[k]);
  }
  if (g->ep > 1) {
    char line[96];
    ly += 26;
    p3cfg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"18\" "
                          "fill=\"none\" stroke=\"" SVG_ORANGE "\" stroke-width=\"2\" "
                          "stroke-dasharray=\"5 3\"/>\n",
                       bx, ly - 13);
    snprintf(line, sizeof line, "EP group of %u GPUs (outlined where its cells are adjacent)",
             g->ep);
    p3cfg__svg_text(t, bx + 26, ly, "label", "start", line);
  }
  ly += 34;
  p3cfg__svg_text(t, bx, ly, "label", "start", "slowest link each kind uses:");
  static const char *const kind[KINDS] = {"pipeline", "data-parallel", "tensor-parallel",
                                          "expert-parallel"};
  for (int k = 0; k < KINDS; k++) {
    if (g->used_min[k] <= 0)
      continue;
    char a[96], b[96], line[320];
    gpu_name(a, sizeof a, c, g->used_at[k][0]);
    gpu_name(b, sizeof b, c, g->used_at[k][1]);
    snprintf(line, sizeof line, "%s %.1f GB/s: %s \xe2\x86\x92 %s", kind[k], g->used_min[k] / 1e9,
             a, b);
    ly += 20;
    p3cfg__svg_text(t, bx, ly, "small", "start", line);
  }
  p3cfg__svg_end(t);
}

P3CFG_API int p3cfg_result_svg_links(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                     const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_links: NULL out");
  out->data = NULL;
  out->len = 0;
  if (!r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_links: NULL argument");
  if (i >= r->count)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_svg_links: plan %zu of %zu", i,
                            r->count);
  const p3cfg__result_entry *e = &r->entries[i];
  if (!e->placement)
    return p3cfg__error_set(P3CFG_EINVALID, "the links picture needs a placed plan");
  grid g;
  memset(&g, 0, sizeof g);
  int rc = grid_fill(&g, cluster);
  p3cfg__text t;
  p3cfg__text_init(&t);
  if (rc == P3CFG_OK)
    rc = mark_experts(&g, cluster, e);
  if (rc == P3CFG_OK) {
    mark_plan(&g, cluster, e);
    render(&t, &g, e, model, cluster);
    rc = p3cfg__text_finish(&t, out);
  }
  p3cfg__free(g.Bps);
  p3cfg__free(g.intra);
  p3cfg__free(g.outline);
  return rc;
}
