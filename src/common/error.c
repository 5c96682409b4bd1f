/*
 * error.c — thread-local last error (saved and restored across threads), the error-code
 * table (from P3CFG_ERROR_LIST), and the diagnostics list that the parsers fill with every
 * problem of a file.
 */
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define MSG_CAP P3CFG__ERROR_MESSAGE_CAP
#define FILE_CAP P3CFG__ERROR_FILE_CAP

typedef struct last_error {
  p3cfg_error pub;
  char message[MSG_CAP];
  char file[FILE_CAP];
} last_error;

static _Thread_local last_error tls_error = {{P3CFG_OK, "", NULL, 0, 0}, "", ""};

P3CFG_API const p3cfg_error *p3cfg_error_last(void)
{
  tls_error.pub.message = tls_error.message;
  return &tls_error.pub;
}

P3CFG_API const char *p3cfg_strerror(int code)
{
  switch (code) {
#define P3CFG_X_DESC(name, value, desc)                                                \
  case value:                                                                          \
    return desc;
    P3CFG_ERROR_LIST(P3CFG_X_DESC)
#undef P3CFG_X_DESC
  default:
    return "unknown error";
  }
}

P3CFG_API const char *p3cfg_error_name(int code)
{
  switch (code) {
#define P3CFG_X_NAME(name, value, desc)                                                \
  case value:                                                                          \
    return #name;
    P3CFG_ERROR_LIST(P3CFG_X_NAME)
#undef P3CFG_X_NAME
  default:
    return "P3CFG_EUNKNOWN";
  }
}

void p3cfg__error_clear(void)
{
  tls_error.pub.code = P3CFG_OK;
  tls_error.pub.file = NULL;
  tls_error.pub.line = 0;
  tls_error.pub.column = 0;
  tls_error.message[0] = '\0';
}

static int vset(int code, const char *file, int line, int column, const char *fmt,
                va_list ap)
{
  tls_error.pub.code = code;
  tls_error.pub.line = line;
  tls_error.pub.column = column;
  if (file) {
    snprintf(tls_error.file, sizeof tls_error.file, "%s", file);
    tls_error.pub.file = tls_error.file;
  } else {
    tls_error.pub.file = NULL;
  }
  vsnprintf(tls_error.message, sizeof tls_error.message, fmt, ap);
  return code;
}

int p3cfg__error_set(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vset(code, NULL, 0, 0, fmt, ap);
  va_end(ap);
  return code;
}

int p3cfg__error_set_at(int code, const char *file, int line, int column, const char *fmt,
                        ...)
{
  va_list ap;
  va_start(ap, fmt);
  vset(code, file, line, column, fmt, ap);
  va_end(ap);
  return code;
}

int p3cfg__error_nomem(void)
{
  return p3cfg__error_set(P3CFG_ENOMEM, "out of memory");
}

void p3cfg__error_save(p3cfg__error_state *out)
{
  out->code = tls_error.pub.code;
  out->line = tls_error.pub.line;
  out->column = tls_error.pub.column;
  out->has_file = tls_error.pub.file != NULL;
  memcpy(out->message, tls_error.message, sizeof out->message);
  memcpy(out->file, tls_error.file, sizeof out->file);
}

int p3cfg__error_restore(const p3cfg__error_state *e)
{
  tls_error.pub.code = e->code;
  tls_error.pub.line = e->line;
  tls_error.pub.column = e->column;
  memcpy(tls_error.message, e->message, sizeof tls_error.message);
  memcpy(tls_error.file, e->file, sizeof tls_error.file);
  tls_error.pub.file = e->has_file ? tls_error.file : NULL;
  return e->code;
}

p3cfg_diagnostics *p3cfg__diags_new(const char *file)
{
  p3cfg_diagnostics *d = p3cfg__calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->file = p3cfg__strdup(file ? file : "<input>");
  if (!d->file) {
    p3cfg__free(d);
    return NULL;
  }
  return d;
}

int p3cfg__diags_vadd(p3cfg_diagnostics *d, int code, int line, int column, const char *fmt,
                      va_list ap)
{
  char buf[MSG_CAP];
  vsnprintf(buf, sizeof buf, fmt, ap);
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    p3cfg_diag *items = p3cfg__realloc(d->items, cap * sizeof *items);
    if (!items) {
      d->nomem = 1;
      return P3CFG_ENOMEM;
    }
    d->items = items;
    d->cap = cap;
  }
  char *msg = p3cfg__strdup(buf);
  if (!msg) {
    d->nomem = 1;
    return P3CFG_ENOMEM;
  }
  d->items[d->count++] = (p3cfg_diag){code, d->file, line, column, msg};
  return code;
}

int p3cfg__diags_add(p3cfg_diagnostics *d, int code, int line, int column, const char *fmt,
                     ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = p3cfg__diags_vadd(d, code, line, column, fmt, ap);
  va_end(ap);
  return rc;
}

void p3cfg__diags_sort(p3cfg_diagnostics *d)
{
  /* Insertion sort: stable, and lists are short. */
  for (size_t i = 1; i < d->count; i++) {
    p3cfg_diag cur = d->items[i];
    size_t j = i;
    while (j > 0 && (d->items[j - 1].line > cur.line ||
                     (d->items[j - 1].line == cur.line && d->items[j - 1].column > cur.column))) {
      d->items[j] = d->items[j - 1];
      j--;
    }
    d->items[j] = cur;
  }
}

int p3cfg__diags_to_error(const p3cfg_diagnostics *d)
{
  if (d->nomem)
    return p3cfg__error_nomem();
  if (d->count == 0)
    return P3CFG_OK;
  const p3cfg_diag *f = &d->items[0];
  return p3cfg__error_set_at(f->code, f->file, f->line, f->column, "%s", f->message);
}

P3CFG_API size_t p3cfg_diagnostics_count(const p3cfg_diagnostics *d)
{
  return d ? d->count : 0;
}

P3CFG_API const p3cfg_diag *p3cfg_diagnostics_get(const p3cfg_diagnostics *d, size_t i)
{
  if (!d || i >= d->count)
    return NULL;
  return &d->items[i];
}

P3CFG_API void p3cfg_diagnostics_free(p3cfg_diagnostics *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->count; i++)
    p3cfg__free((void *)d->items[i].message);
  p3cfg__free(d->items);
  p3cfg__free(d->file);
  p3cfg__free(d);
}
