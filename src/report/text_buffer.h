/* text_buffer.h — a growing text buffer for the reports (tables, exports, SVG). */
#ifndef P3CFG_TEXT_BUFFER_H
#define P3CFG_TEXT_BUFFER_H

#include <stddef.h>

#include "error.h"

typedef struct p3cfg__text {
  char *data;
  size_t len, cap;
  int nomem; /* an append failed; finish reports P3CFG_ENOMEM */
} p3cfg__text;

void p3cfg__text_init(p3cfg__text *t);
void p3cfg__text_printf(p3cfg__text *t, const char *fmt, ...) P3CFG_PRINTF(2, 3);
/* Hand the text to `out` (P3CFG_OK), or free it and return P3CFG_ENOMEM. */
int p3cfg__text_finish(p3cfg__text *t, p3cfg_buffer *out);

/* An 80 % interval [low, high] around `point` as the tables show it, asymmetric and
 * relative to the point: "-5/+8 %" (whole percent, rounded); "-" when the point is not
 * positive and finite. */
void p3cfg__range_pct(char *buf, size_t n, double point, double low, double high);

#endif
