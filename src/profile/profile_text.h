/* profile_text.h — a growing text buffer for the profiler's summary and cluster file. */
#ifndef P3CFG_PROFILE_TEXT_H
#define P3CFG_PROFILE_TEXT_H

#include <stddef.h>

#include "error.h"

typedef struct p3cfg__ptext {
  char *data;
  size_t len, cap;
  int nomem; /* an append failed; p3cfg__ptext_finish reports P3CFG_ENOMEM */
} p3cfg__ptext;

void p3cfg__ptext_init(p3cfg__ptext *t);
void p3cfg__ptext_printf(p3cfg__ptext *t, const char *fmt, ...) P3CFG_PRINTF(2, 3);
/* Append s as a double-quoted YAML scalar (backslash and quote escaped). */
void p3cfg__ptext_quoted(p3cfg__ptext *t, const char *s);
/* Append a number in the fixed format of the cluster file ("%.4g"-like, no exponent
 * for the magnitudes that occur, never "-0"). */
void p3cfg__ptext_number(p3cfg__ptext *t, double v);
void p3cfg__ptext_free(p3cfg__ptext *t);
/* Hand the text to `out` (P3CFG_OK), or free it and return P3CFG_ENOMEM. */
int p3cfg__ptext_finish(p3cfg__ptext *t, p3cfg_buffer *out);

#endif
