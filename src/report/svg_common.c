/*
 * svg_common.c — the shared pieces of the SVG pictures (svg_common.h): frame, styles,
 * escaping, legend swatches, colour maps and axis ticks. Styles live in one <style>
 * element so that every picture has the same type and weights; the fonts are the
 * system's sans-serif, so a picture looks native in a browser and needs no download.
 */
#include "svg_common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void p3cfg__svg_begin(p3cfg__text *t, double width, double height, const char *title,
                      const char *subtitle)
{
  p3cfg__text_printf(t,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
                     width, height, width, height);
  p3cfg__text_printf(t, "<title>");
  p3cfg__svg_escaped(t, title);
  p3cfg__text_printf(t, "</title>\n");
  p3cfg__text_printf(
      t, "<style>\n"
         "text { font-family: 'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', sans-serif; "
         "fill: " SVG_INK "; }\n"
         ".title { font-size: 18px; font-weight: 600; }\n"
         ".sub { font-size: 13px; fill: " SVG_MUTED "; }\n"
         ".label { font-size: 12px; }\n"
         ".small { font-size: 10px; fill: " SVG_MUTED "; }\n"
         ".tiny { font-size: 9px; fill: #ffffff; }\n"
         ".axis { stroke: " SVG_MUTED "; stroke-width: 1; }\n"
         ".grid { stroke: #ececec; stroke-width: 1; }\n"
         "</style>\n");
  p3cfg__text_printf(t, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
  p3cfg__svg_text(t, 24, 32, "title", "start", title);
  if (subtitle)
    p3cfg__svg_text(t, 24, 54, "sub", "start", subtitle);
}

void p3cfg__svg_end(p3cfg__text *t) { p3cfg__text_printf(t, "</svg>\n"); }

void p3cfg__svg_escaped(p3cfg__text *t, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&':
      p3cfg__text_printf(t, "&amp;");
      break;
    case '<':
      p3cfg__text_printf(t, "&lt;");
      break;
    case '>':
      p3cfg__text_printf(t, "&gt;");
      break;
    case '"':
      p3cfg__text_printf(t, "&quot;");
      break;
    default:
      /* Control characters are not allowed in XML 1.0; names never hold them. */
      if ((unsigned char)*s >= 0x20 || *s == '\t')
        p3cfg__text_printf(t, "%c", *s);
    }
  }
}

void p3cfg__svg_text(p3cfg__text *t, double x, double y, const char *cls, const char *anchor,
                     const char *s)
{
  p3cfg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\" text-anchor=\"%s\">", x, y,
                     cls, anchor);
  p3cfg__svg_escaped(t, s);
  p3cfg__text_printf(t, "</text>\n");
}

double p3cfg__svg_legend(p3cfg__text *t, double x, double y, const char *fill, const char *label)
{
  p3cfg__text_printf(t,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" rx=\"2\" "
                     "fill=\"%s\" stroke=\"#00000033\"/>\n",
                     x, y - 11, fill);
  p3cfg__svg_text(t, x + 20, y, "label", "start", label);
  /* Width of the label: about 6.6 px per character at 12 px. */
  return x + 20 + 6.6 * (double)strlen(label) + 22;
}

/* Viridis (matplotlib), 9 samples; linear in between. */
static const unsigned char viridis[9][3] = {
    {68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
    {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37},
};

void p3cfg__svg_viridis(char *buf, double u)
{
  if (!(u > 0))
    u = 0;
  if (u > 1)
    u = 1;
  const double x = u * 8;
  int i = (int)x;
  if (i > 7)
    i = 7;
  const double f = x - i;
  int rgb[3];
  for (int k = 0; k < 3; k++)
    rgb[k] = (int)lround(viridis[i][k] + f * (viridis[i + 1][k] - viridis[i][k]));
  snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

void p3cfg__svg_lighter(char *buf, const char *hex, double amount)
{
  unsigned r = 0, g = 0, b = 0;
  if (sscanf(hex, "#%2x%2x%2x", &r, &g, &b) != 3)
    r = g = b = 0;
  const double a = amount < 0 ? 0 : amount > 1 ? 1 : amount;
  snprintf(buf, 8, "#%02x%02x%02x", (unsigned)lround(r + (255 - r) * a),
           (unsigned)lround(g + (255 - g) * a), (unsigned)lround(b + (255 - b) * a));
}

double p3cfg__svg_tick_step(double max, int count)
{
  if (!(max > 0))
    return 1;
  const double raw = max / (count > 0 ? count : 1);
  const double mag = pow(10, floor(log10(raw)));
  const double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void p3cfg__svg_tick_label(char *buf, size_t n, double value, double step, const char *unit)
{
  int decimals = 0;
  while (decimals < 6 && step * pow(10, decimals) < 0.999)
    decimals++;
  snprintf(buf, n, "%.*f%s", decimals, value, unit);
}

void p3cfg__svg_plan_line(char *buf, size_t n, const p3cfg_plan *p)
{
  char vpp[32] = "", zero[32] = "", dims[64] = "";
  if (p->cp > 1 && p->ep > 1) /* cp, ep and etp only where the plan has them */
    snprintf(dims, sizeof dims, " \xc2\xb7 cp %u \xc2\xb7 ep %u \xc2\xb7 etp %u", p->cp, p->ep,
             p->etp ? p->etp : p->tp);
  else if (p->cp > 1)
    snprintf(dims, sizeof dims, " \xc2\xb7 cp %u", p->cp);
  else if (p->ep > 1)
    snprintf(dims, sizeof dims, " \xc2\xb7 ep %u \xc2\xb7 etp %u", p->ep, p->etp ? p->etp : p->tp);
  if (p->virtual_stages > 1)
    snprintf(vpp, sizeof vpp, " \xc2\xb7 vpp %u", p->virtual_stages);
  if (p->zero_stage)
    snprintf(zero, sizeof zero, " \xc2\xb7 ZeRO-%u", p->zero_stage);
  snprintf(buf, n, "dp %u \xc2\xb7 tp %u%s \xc2\xb7 pp %u%s \xc2\xb7 micro-batch %u%s%s%s", p->dp,
           p->tp, dims, p->pp, vpp, p->micro_batch,
           p->recompute == P3CFG_RECOMPUTE_NONE
               ? ""
               : p->recompute == P3CFG_RECOMPUTE_SELECTIVE ? " \xc2\xb7 selective recompute"
                                                           : " \xc2\xb7 full recompute",
           p->sequence_parallel ? " \xc2\xb7 sequence parallel" : "", zero);
}
