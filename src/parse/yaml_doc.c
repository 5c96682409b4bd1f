/*
 * yaml_doc.c — loading one checked YAML (or JSON) text with libyaml's document API, and
 * the checks that concern the document rather than a schema: no document at all, and
 * duplicate keys, which libyaml accepts silently (the later value would win).
 *
 * Order: bytes (input_text.c), then the bounded event pre-pass (yaml_guard.c), then
 * yaml_parser_load. The pre-pass makes the load safe: no cycles, bounded size and depth.
 * Also here: the capped diagnostics list every parser file reports into.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "yaml_doc.h"

int p3cfg__diag(p3cfg_diagnostics *d, int code, int line, int column, const char *fmt, ...)
{
  if (d->count > P3CFG__MAX_DIAGS)
    return code;
  va_list ap;
  va_start(ap, fmt);
  p3cfg__diags_vadd(d, code, line, column, fmt, ap);
  va_end(ap);
  return code;
}

void p3cfg__diags_finish(p3cfg_diagnostics *d)
{
  p3cfg__diags_sort(d);
  if (d->count <= P3CFG__MAX_DIAGS)
    return;
  for (size_t i = P3CFG__MAX_DIAGS; i < d->count; i++)
    p3cfg__free((void *)d->items[i].message);
  d->count = P3CFG__MAX_DIAGS;
  p3cfg__diags_add(d, P3CFG_EVALUE, 0, 0, "too many problems; stopped after the first %d",
                   P3CFG__MAX_DIAGS);
}

void p3cfg__ydoc_dispose(p3cfg__ydoc *y)
{
  if (y->loaded)
    yaml_document_delete(&y->doc);
  y->loaded = 0;
}

int p3cfg__ydoc_load(p3cfg__ydoc *y, p3cfg_diagnostics *d, const char *text, size_t len)
{
  memset(y, 0, sizeof *y);
  int rc = p3cfg__text_check(d, text, len);
  if (rc != P3CFG_OK)
    return rc;
  int docs = 0;
  rc = p3cfg__yaml_guard(d, text, len, &docs);
  if (rc != P3CFG_OK)
    return rc;
  if (docs == 0)
    return p3cfg__diag(d, P3CFG_ESYNTAX, 0, 0, "file is empty (only blanks and comments)");

  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return P3CFG_ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &y->doc)) {
    rc = p3cfg__yaml_problem(d, &parser, text, len);
    yaml_parser_delete(&parser);
    return rc;
  }
  yaml_parser_delete(&parser);
  y->loaded = 1;
  if (!yaml_document_get_root_node(&y->doc)) {
    p3cfg__ydoc_dispose(y);
    return p3cfg__diag(d, P3CFG_ESYNTAX, 0, 0, "file is empty (only blanks and comments)");
  }
  return p3cfg__check_duplicate_keys(d, &y->doc);
}

/* Total order on scalar keys: by text, then by position. */
static int key_cmp(const void *pa, const void *pb)
{
  const yaml_node_t *a = *(const yaml_node_t *const *)pa;
  const yaml_node_t *b = *(const yaml_node_t *const *)pb;
  const size_t la = a->data.scalar.length, lb = b->data.scalar.length;
  int c = memcmp(a->data.scalar.value, b->data.scalar.value, la < lb ? la : lb);
  if (c != 0)
    return c;
  if (la != lb)
    return la < lb ? -1 : 1;
  return a->start_mark.index < b->start_mark.index   ? -1
         : a->start_mark.index > b->start_mark.index ? 1
                                                     : 0;
}

static int same_key(const yaml_node_t *a, const yaml_node_t *b)
{
  return a->data.scalar.length == b->data.scalar.length &&
         memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

static void report_dup(p3cfg_diagnostics *d, const yaml_node_t *first, const yaml_node_t *dup)
{
  char echo[4 * P3CFG__ECHO_CHARS + 8];
  p3cfg__echo(echo, sizeof echo, (const char *)dup->data.scalar.value, dup->data.scalar.length);
  p3cfg__diag(d, P3CFG_EVALUE, (int)dup->start_mark.line + 1, (int)dup->start_mark.column + 1,
              "duplicate key '%s' (first at line %zu, column %zu)", echo,
              first->start_mark.line + 1, first->start_mark.column + 1);
}

/* Scalar keys of one mapping into keys[]; returns how many. */
static size_t scalar_keys(yaml_document_t *doc, const yaml_node_t *map, const yaml_node_t **keys)
{
  size_t n = 0;
  for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    const yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (k && k->type == YAML_SCALAR_NODE)
      keys[n++] = k;
  }
  return n;
}

int p3cfg__check_duplicate_keys(p3cfg_diagnostics *d, yaml_document_t *doc)
{
  /* Each mapping once, however often aliases repeat it: linear in the document. Small
   * mappings are compared pairwise, large ones sorted (n log n). */
  enum { SMALL = 16 };
  for (yaml_node_t *node = doc->nodes.start; node < doc->nodes.top; node++) {
    if (node->type != YAML_MAPPING_NODE)
      continue;
    const size_t pairs = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (pairs < 2)
      continue;
    if (pairs <= SMALL) {
      const yaml_node_t *keys[SMALL];
      size_t n = scalar_keys(doc, node, keys);
      for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++)
          if (same_key(keys[i], keys[j])) {
            report_dup(d, keys[i], keys[j]);
            break;
          }
      continue;
    }
    const yaml_node_t **keys = p3cfg__malloc(pairs * sizeof *keys);
    if (!keys)
      return P3CFG_ENOMEM;
    size_t n = scalar_keys(doc, node, keys);
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0, first = 0; i < n; i++) {
      if (i > 0 && same_key(keys[first], keys[i]))
        report_dup(d, keys[first], keys[i]);
      else
        first = i;
    }
    p3cfg__free(keys);
  }
  return P3CFG_OK;
}
