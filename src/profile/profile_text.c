/*
 * profile_text.c — the growing text buffer the profiler writes its summary and its
 * cluster file into, with the number and string formatting of the cluster file.
 * Allocation failures are remembered and reported once, at p3cfg__ptext_finish().
 */
#include "profile_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

void p3cfg__ptext_init(p3cfg__ptext *t)
{
  t->data = NULL;
  t->len = t->cap = 0;
  t->nomem = 0;
}

static int reserve(p3cfg__ptext *t, size_t extra)
{
  if (t->nomem)
    return -1;
  if (t->len + extra + 1 <= t->cap)
    return 0;
  size_t cap = t->cap ? t->cap : 1024;
  while (cap < t->len + extra + 1)
    cap *= 2;
  char *p = p3cfg__realloc(t->data, cap);
  if (!p) {
    t->nomem = 1;
    return -1;
  }
  t->data = p;
  t->cap = cap;
  return 0;
}

void p3cfg__ptext_printf(p3cfg__ptext *t, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(t, (size_t)n) != 0)
    return;
  va_start(ap, fmt);
  vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

void p3cfg__ptext_quoted(p3cfg__ptext *t, const char *s)
{
  if (reserve(t, 2 * strlen(s) + 2) != 0)
    return;
  t->data[t->len++] = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      t->data[t->len++] = '\\';
    /* Control characters cannot occur in host names; keep the file one line each. */
    t->data[t->len++] = (c < 0x20) ? '?' : (char)c;
  }
  t->data[t->len++] = '"';
  t->data[t->len] = '\0';
}

void p3cfg__ptext_number(p3cfg__ptext *t, double v)
{
  if (!isfinite(v) || v == 0.0) {
    p3cfg__ptext_printf(t, "0");
    return;
  }
  const double a = fabs(v);
  if (a >= 1e4)
    p3cfg__ptext_printf(t, "%.0f", v);
  else if (a >= 1e-4)
    p3cfg__ptext_printf(t, "%.4g", v);
  else
    p3cfg__ptext_printf(t, "%.3e", v);
}

void p3cfg__ptext_free(p3cfg__ptext *t)
{
  p3cfg__free(t->data);
  p3cfg__ptext_init(t);
}

int p3cfg__ptext_finish(p3cfg__ptext *t, p3cfg_buffer *out)
{
  if (!t->nomem && reserve(t, 0) != 0)
    t->nomem = 1;
  if (t->nomem) {
    p3cfg__ptext_free(t);
    return p3cfg__error_nomem();
  }
  out->data = t->data;
  out->len = t->len;
  out->data[out->len] = '\0';
  p3cfg__ptext_init(t);
  return P3CFG_OK;
}
