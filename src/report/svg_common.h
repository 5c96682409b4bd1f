/*
 * svg_common.h — what the three pictures share (svg_timeline.c, svg_links.c,
 * svg_memory.c): the document frame and title, escaped text, a palette, the viridis
 * colour map, "nice" axis ticks and the plan summary line. Coordinates are written with
 * fixed precision so that the same result gives the same bytes.
 */
#ifndef P3CFG_SVG_COMMON_H
#define P3CFG_SVG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "text_buffer.h"
#include "types.h"

/* Palette (Tableau 10): one colour per kind of block. */
#define SVG_BLUE "#4c78a8"
#define SVG_ORANGE "#f58518"
#define SVG_RED "#e45756"
#define SVG_TEAL "#72b7b2"
#define SVG_GREEN "#54a24b"
#define SVG_YELLOW "#eeca3b"
#define SVG_PURPLE "#b279a2"
#define SVG_PINK "#ff9da6"
#define SVG_BROWN "#9d755d"
#define SVG_GREY "#bab0ac"
#define SVG_INK "#222222"
#define SVG_MUTED "#666666"
#define SVG_RULE "#d0d0d0"

/* <svg> with a white background and the shared styles; then a title and a subtitle
 * (both escaped; subtitle may be NULL). */
void p3cfg__svg_begin(p3cfg__text *t, double width, double height, const char *title,
                      const char *subtitle);
void p3cfg__svg_end(p3cfg__text *t);

/* Escaped text: characters that XML reserves become entities. */
void p3cfg__svg_escaped(p3cfg__text *t, const char *s);
/* <text x y class anchor>escaped</text>; anchor is "start", "middle" or "end". */
void p3cfg__svg_text(p3cfg__text *t, double x, double y, const char *cls, const char *anchor,
                     const char *s);

/* A legend entry: a swatch of `fill` and its label; returns the x where the next entry
 * starts. */
double p3cfg__svg_legend(p3cfg__text *t, double x, double y, const char *fill, const char *label);

/* Viridis at u in [0, 1] as "#rrggbb" into buf[8]. */
void p3cfg__svg_viridis(char *buf, double u);
/* A colour `amount` (0..1) of the way from `hex` to white, into buf[8]. */
void p3cfg__svg_lighter(char *buf, const char *hex, double amount);

/* Tick step for an axis from 0 to `max` with about `count` ticks: 1, 2 or 5 x 10^k. */
double p3cfg__svg_tick_step(double max, int count);
/* A tick label: the value with as many decimals as the step needs, then `unit`. */
void p3cfg__svg_tick_label(char *buf, size_t n, double value, double step, const char *unit);

/* "dp 8 · tp 8 · pp 8 · vpp 3 · mbs 1 · selective recompute · sp · ZeRO-1" */
void p3cfg__svg_plan_line(char *buf, size_t n, const p3cfg_plan *p);

#endif
