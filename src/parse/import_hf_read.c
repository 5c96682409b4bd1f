/*
 * import_hf_read.c — lookups of a Hugging Face config.json's top-level keys for
 * `p3cfg import-hf`: each value read marks its key used, so that the keys nothing read
 * can be listed in the model file; counts are read with the model loader's range checks
 * (p3cfg__read_uint), so that a bad value is a problem at its FILE:LINE:COL.
 */
#include <stdio.h>
#include <string.h>

#include "import_hf.h"
#include "yaml_doc.h"

/* The text of scalar n (NUL-terminated). */
const char *p3cfg__hf_scalar(const yaml_node_t *n)
{
  return (const char *)n->data.scalar.value;
}

/* The value of top-level key `name` (marked used when `mark`), or NULL. */
const yaml_node_t *p3cfg__hf_find(p3cfg__hf_config *h, const char *name, int mark)
{
  const yaml_node_pair_t *pairs = h->root->data.mapping.pairs.start;
  for (size_t i = 0; i < h->n_pairs; i++) {
    const yaml_node_t *k = p3cfg__node(&h->c, pairs[i].key);
    if (k->type == YAML_SCALAR_NODE && strlen(name) == k->data.scalar.length &&
        memcmp(name, p3cfg__hf_scalar(k), k->data.scalar.length) == 0) {
      h->used[i] |= (unsigned char)mark;
      return p3cfg__node(&h->c, pairs[i].value);
    }
  }
  return NULL;
}

/* The value of top-level key `name` (marked used), or NULL. */
const yaml_node_t *p3cfg__hf_get(p3cfg__hf_config *h, const char *name)
{
  return p3cfg__hf_find(h, name, 1);
}

/* The next key line comes from config.json's `name` when the file has it. */
void p3cfg__hf_from_key(p3cfg__hf_text *t, p3cfg__hf_config *h, const char *name)
{
  const yaml_node_t *n = name ? p3cfg__hf_find(h, name, 0) : NULL;
  if (n)
    p3cfg__hf_from(t, n, name);
}

/* A null value: `null` or an empty plain scalar. */
int p3cfg__hf_is_null(const yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         (n->data.scalar.length == 0 || strcmp(p3cfg__hf_scalar(n), "null") == 0);
}

/* The value as written, for a comment: a scalar's text (escaped, shortened), "a list of
 * N", "a mapping of N keys". */
const char *p3cfg__hf_shown(char *buf, size_t cap, const yaml_node_t *n)
{
  if (n->type == YAML_SEQUENCE_NODE) {
    const size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    snprintf(buf, cap, k ? "a list of %zu" : "[]", k);
  } else if (n->type == YAML_MAPPING_NODE) {
    snprintf(buf, cap, "a mapping of %zu keys",
             (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start));
  } else {
    p3cfg__echo(buf, cap, p3cfg__hf_scalar(n), n->data.scalar.length);
  }
  return buf;
}

/* An integer key: the first of names[] present (its name in *which), read in [1, hi]. */
int p3cfg__hf_get_count(p3cfg__hf_config *h, const char *const *names, uint64_t hi, uint64_t *out,
                        const char **which)
{
  for (; *names; names++) {
    const yaml_node_t *n = p3cfg__hf_get(h, *names);
    if (n && !p3cfg__hf_is_null(n)) {
      *which = *names;
      return p3cfg__read_uint(&h->c, n, *names, 1, hi, out) == 0 ? 1 : -1;
    }
  }
  return 0;
}

/* Whether n is the scalar s. */
int p3cfg__hf_str_is(const yaml_node_t *n, const char *s)
{
  return n && n->type == YAML_SCALAR_NODE && strlen(s) == n->data.scalar.length &&
         memcmp(s, p3cfg__hf_scalar(n), n->data.scalar.length) == 0;
}

/* An integer key in [lo, hi] when present and not null: 1 read, 0 absent, -1 bad. */
int p3cfg__hf_get_uint(p3cfg__hf_config *h, const char *name, uint64_t lo, uint64_t hi,
                       uint64_t *out)
{
  const yaml_node_t *n = p3cfg__hf_get(h, name);
  if (!n || p3cfg__hf_is_null(n))
    return 0;
  return p3cfg__read_uint(&h->c, n, name, lo, hi, out) == 0 ? 1 : -1;
}

/* The first of `keys` that config.json has with a value other than null and 0, or NULL;
 * not marked used. */
const char *p3cfg__hf_first_set(p3cfg__hf_config *h, const char *const *keys)
{
  for (; *keys; keys++) {
    const yaml_node_t *n = p3cfg__hf_find(h, *keys, 0);
    if (n && !p3cfg__hf_is_null(n) && !p3cfg__hf_str_is(n, "0"))
      return *keys;
  }
  return NULL;
}
