/*
 * profile_text.c — the number and string formats of the profiler's summary and cluster
 * file, written into the library's text buffer (src/common/text_buffer.c).
 */
#include "profile_text.h"

#include <math.h>
#include <string.h>

void p3cfg__ptext_quoted(p3cfg__text *t, const char *s)
{
  p3cfg__text_append(t, "\"", 1);
  for (; *s; s++) {
    const unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      p3cfg__text_append(t, "\\", 1);
    /* Control characters cannot occur in host names; keep the file one line each. */
    const char out = c < 0x20 ? '?' : (char)c;
    p3cfg__text_append(t, &out, 1);
  }
  p3cfg__text_append(t, "\"", 1);
}

void p3cfg__ptext_number(p3cfg__text *t, double v)
{
  if (!isfinite(v) || v == 0.0) {
    p3cfg__text_printf(t, "0");
    return;
  }
  const double a = fabs(v);
  if (a >= 1e4)
    p3cfg__text_printf(t, "%.0f", v);
  else if (a >= 1e-4)
    p3cfg__text_printf(t, "%.4g", v);
  else
    p3cfg__text_printf(t, "%.3e", v);
}
