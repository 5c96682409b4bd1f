/*
 * import_hf_text.c — the model file that `p3cfg import-hf` writes, as it is written:
 * printf-style appends to a growing buffer, key lines padded so that their comments line
 * up, and for each key line the config.json value (or command-line option) it comes from,
 * so that import_hf_check.c can report a problem of the written file at its source.
 */
#include <stdarg.h>
#include <stdio.h>

#include "alloc.h"
#include "import_hf.h"

/* Append printf-style to t (t->buf.nomem when out of memory), counting its line breaks;
 * the origin set for the next key line is dropped. */
void p3cfg__hf_printf(p3cfg__hf_text *t, const char *fmt, ...)
{
  t->next = (p3cfg__hf_origin){0, NULL, NULL}; /* an origin is for the line that follows it */
  const size_t from = t->buf.len;
  va_list ap;
  va_start(ap, fmt);
  p3cfg__text_vprintf(&t->buf, fmt, ap);
  va_end(ap);
  for (size_t i = from; i < t->buf.len; i++)
    t->lines += t->buf.data[i] == '\n';
}

/* The next key line comes from config.json's `key` (its value node, or the option `key`
 * when node is NULL); nothing when key is NULL. */
void p3cfg__hf_from(p3cfg__hf_text *t, const yaml_node_t *node, const char *key)
{
  t->next = (p3cfg__hf_origin){0, node, key};
}

/* "key: value" padded so that the comments line up, then "  # comment". */
void p3cfg__hf_key(p3cfg__hf_text *t, const char *key, const char *value, const char *comment)
{
  if (t->next.key && !t->buf.nomem) {
    if (t->n_from == t->cap_from) {
      const size_t cap = t->cap_from ? 2 * t->cap_from : 64;
      p3cfg__hf_origin *f = p3cfg__realloc(t->from, cap * sizeof *f);
      if (!f) {
        t->buf.nomem = 1;
        return;
      }
      t->from = f;
      t->cap_from = cap;
    }
    t->next.line = t->lines + 1;
    t->from[t->n_from++] = t->next;
  }
  t->next = (p3cfg__hf_origin){0, NULL, NULL};
  char left[128];
  snprintf(left, sizeof left, "%s: %s", key, value);
  p3cfg__hf_printf(t, "%-26s # %s\n", left, comment);
}

/* A number copied from config.json as written (rope_theta, norm_eps, swiglu_limit) when it
 * is a plain number in (0, hi), with `why` as its comment; else a comment saying it was
 * left out. */
void p3cfg__hf_launch_number(p3cfg__hf_text *t, const char *key, const yaml_node_t *n,
                             const char *hf_key, double hi, const char *why)
{
  const p3cfg__range r = {0.0, true, hi, NULL, false};
  double v = 0;
  char text[64], cmt[128];
  if (n->type == YAML_SCALAR_NODE && p3cfg__number_in(n, &r, &v) && v < hi) {
    snprintf(text, sizeof text, "%.*s", (int)(n->data.scalar.length < 63 ? n->data.scalar.length : 63),
             (const char *)n->data.scalar.value);
    snprintf(cmt, sizeof cmt, "%s (%s)", hf_key, why);
    p3cfg__hf_key(t, key, text, cmt);
  } else {
    p3cfg__hf_printf(t, "# %s left out: %s is not a number in (0, %g)\n", key, hf_key, hi);
  }
}

/* `  key: N  # comment` inside a mapping block. */
void p3cfg__hf_sub(p3cfg__hf_text *t, const char *key, uint64_t value, const char *comment)
{
  char k[64], v[32];
  snprintf(k, sizeof k, "  %s", key);
  snprintf(v, sizeof v, "%llu", (unsigned long long)value);
  p3cfg__hf_key(t, k, v, comment);
}
