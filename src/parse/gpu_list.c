/*
 * gpu_list.c — p3cfg_cluster_parse_gpus: a list of hosts and host:gpu entries (the
 * GPUs `--exclude` takes out of a cluster), each problem at its 1-based line and column.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "parse_fields.h"
#include "plan_rules.h"
#include "types.h"

P3CFG_API void p3cfg_gpu_list_dispose(p3cfg_gpu_list *list)
{
  if (list) {
    p3cfg__free(list->gpus);
    list->gpus = NULL;
    list->count = 0;
  }
}

static int is_sep(char ch) { return ch == ',' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* Index of node `word` (len bytes) or -1. */
static int64_t find_node(const p3cfg_cluster *c, const char *word, size_t len)
{
  for (uint32_t i = 0; i < c->nodes; i++)
    if (strlen(c->node_names[i]) == len && memcmp(c->node_names[i], word, len) == 0)
      return i;
  return -1;
}

P3CFG_API int p3cfg_cluster_parse_gpus(p3cfg_gpu_list *out, const p3cfg_cluster *c,
                                       const char *text, size_t len, const char *name)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_cluster_parse_gpus: NULL out");
  out->gpus = NULL;
  out->count = 0;
  if (!c || (!text && len))
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_cluster_parse_gpus: NULL argument");
  if (!name)
    name = "<exclude>";
  const uint64_t all = p3cfg__cluster_gpus(c);
  const uint32_t gpn = c->gpus_per_node;
  uint8_t *seen = p3cfg__calloc(all ? all : 1, 1);
  uint32_t *ids = NULL;
  size_t n = 0, cap = 0;
  int rc = P3CFG_OK;
  if (!seen)
    return p3cfg__error_nomem();
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < len;) {
    const char ch = text[i];
    if (ch == '\n') {
      line++;
      line_start = ++i;
      continue;
    }
    if (is_sep(ch)) {
      i++;
      continue;
    }
    if (ch == '#') {
      while (i < len && text[i] != '\n')
        i++;
      continue;
    }
    const size_t start = i;
    while (i < len && !is_sep(text[i]) && text[i] != '#')
      i++;
    const char *word = text + start;
    const size_t wlen = i - start;
    const int col = (int)(start - line_start) + 1;
    const char *colon = memchr(word, ':', wlen);
    const size_t hlen = colon ? (size_t)(colon - word) : wlen;
    const int64_t node = find_node(c, word, hlen);
    if (node < 0) {
      const char *hint = p3cfg__suggest(word, hlen, (const char *const *)c->node_names, c->nodes);
      rc = p3cfg__error_set_at(P3CFG_EVALUE, name, line, col,
                               "unknown host '%.*s'%s%s%s (the cluster's nodes are %s .. %s)",
                               (int)(hlen > 200 ? 200 : hlen), word, hint ? " (did you mean '" : "",
                               hint ? hint : "", hint ? "'?)" : "", c->node_names[0],
                               c->node_names[c->nodes - 1]);
      goto fail;
    }
    uint32_t lo = 0, hi = gpn; /* local GPUs [lo, hi) */
    if (colon) {
      const char *g = colon + 1;
      const size_t glen = wlen - hlen - 1;
      uint64_t v = 0;
      size_t k = 0;
      for (; k < glen && g[k] >= '0' && g[k] <= '9' && v <= UINT32_MAX; k++)
        v = v * 10 + (uint64_t)(g[k] - '0');
      if (glen == 0 || k != glen || v >= gpn) {
        rc = p3cfg__error_set_at(P3CFG_EVALUE, name, line, col + (int)hlen + 1,
                                 "bad GPU index '%.*s' of host '%.*s': expected 0 .. %u "
                                 "(the cluster has %u GPUs per node)",
                                 (int)(glen > 200 ? 200 : glen), g, (int)hlen, word, gpn - 1, gpn);
        goto fail;
      }
      lo = (uint32_t)v;
      hi = lo + 1;
    }
    for (uint32_t l = lo; l < hi; l++) {
      const uint64_t id = (uint64_t)node * gpn + l;
      if (seen[id])
        continue;
      seen[id] = 1;
      if (n == cap) {
        size_t ncap = cap ? 2 * cap : 16;
        uint32_t *t = p3cfg__realloc(ids, ncap * sizeof *ids);
        if (!t) {
          rc = p3cfg__error_nomem();
          goto fail;
        }
        ids = t;
        cap = ncap;
      }
      ids[n++] = (uint32_t)id;
    }
  }
  if (n == 0) {
    rc = p3cfg__error_set_at(P3CFG_EVALUE, name, line, 1, "the list names no host or GPU");
    goto fail;
  }
  p3cfg__free(seen);
  out->gpus = ids;
  out->count = n;
  return P3CFG_OK;
fail:
  p3cfg__free(seen);
  p3cfg__free(ids);
  return rc;
}
