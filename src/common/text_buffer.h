/* text_buffer.h — the growing text buffer the library writes its texts into: the reports
 * (tables, exports, SVG), the GPU profiler's table and cluster files, the profiler's
 * summary and cluster file. Each writer keeps its own formats (numbers, quoting). */
#ifndef P3CFG_TEXT_BUFFER_H
#define P3CFG_TEXT_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

typedef struct p3cfg__text {
  char *data;
  size_t len, cap;
  int nomem; /* an append failed; finish reports P3CFG_ENOMEM */
} p3cfg__text;

void p3cfg__text_init(p3cfg__text *t);
void p3cfg__text_printf(p3cfg__text *t, const char *fmt, ...) P3CFG_PRINTF(2, 3);
/* The same with a va_list (its caller's; left as it was). */
void p3cfg__text_vprintf(p3cfg__text *t, const char *fmt, va_list args) P3CFG_PRINTF(2, 0);
/* Append n bytes of s. */
void p3cfg__text_append(p3cfg__text *t, const char *s, size_t n);
/* Free the text (for a writer that gives up before finishing); t is empty again. */
void p3cfg__text_free(p3cfg__text *t);
/* Hand the text to `out` (P3CFG_OK), or free it and return P3CFG_ENOMEM. */
int p3cfg__text_finish(p3cfg__text *t, p3cfg_buffer *out);

#endif
