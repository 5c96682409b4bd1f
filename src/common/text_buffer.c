/*
 * text_buffer.c — printf into a growing buffer. An allocation failure is remembered
 * and reported once at the end, so writing code stays a flat list of printf calls. The
 * text is always NUL-terminated.
 */
#include "text_buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

void p3cfg__text_init(p3cfg__text *t) { memset(t, 0, sizeof *t); }

void p3cfg__text_vprintf(p3cfg__text *t, const char *fmt, va_list args)
{
  if (t->nomem)
    return;
  for (;;) {
    va_list ap;
    va_copy(ap, args);
    size_t room = t->cap - t->len;
    int n = vsnprintf(t->data ? t->data + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->nomem = 1;
      return;
    }
    if ((size_t)n < room) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap : 256;
    while (cap - t->len <= (size_t)n)
      cap *= 2;
    char *d = p3cfg__realloc(t->data, cap);
    if (!d) {
      t->nomem = 1;
      return;
    }
    t->data = d;
    t->cap = cap;
  }
}

void p3cfg__text_printf(p3cfg__text *t, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  p3cfg__text_vprintf(t, fmt, ap);
  va_end(ap);
}

void p3cfg__text_append(p3cfg__text *t, const char *s, size_t n)
{
  if (t->nomem)
    return;
  if (t->cap - t->len <= n) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap - t->len <= n)
      cap *= 2;
    char *d = p3cfg__realloc(t->data, cap);
    if (!d) {
      t->nomem = 1;
      return;
    }
    t->data = d;
    t->cap = cap;
  }
  memcpy(t->data + t->len, s, n);
  t->len += n;
  t->data[t->len] = '\0';
}

void p3cfg__text_free(p3cfg__text *t)
{
  p3cfg__free(t->data);
  p3cfg__text_init(t);
}

int p3cfg__text_finish(p3cfg__text *t, p3cfg_buffer *out)
{
  if (!t->nomem && !t->data)
    p3cfg__text_printf(t, "%s", "");
  if (t->nomem) {
    p3cfg__free(t->data);
    p3cfg__text_init(t);
    out->data = NULL;
    out->len = 0;
    return p3cfg__error_nomem();
  }
  out->data = t->data;
  out->len = t->len;
  p3cfg__text_init(t);
  return P3CFG_OK;
}
