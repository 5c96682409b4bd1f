/*
 * plan_file_fields.c — typed reads of one key of a plan file (plan_file_read.h) on top of
 * parse_fields.h's readers: the key's label ("plans[0].config.tp") in every message, a
 * missing required key reported at its mapping, strings copied into the plan file.
 */
#include <stddef.h>
#include <string.h>

#include "parse_objects.h"
#include "plan_file_read.h"

/* "PREFIX.KEY" (or "KEY" at the top) in buf[P3CFG__PF_LABEL_CAP], cut when longer. */
const char *p3cfg__pf_label(char *buf, const char *prefix, const char *key)
{
  size_t n = 0;
  for (const char *s = prefix; *s && n + 1 < P3CFG__PF_LABEL_CAP; s++)
    buf[n++] = *s;
  if (prefix[0] && n + 1 < P3CFG__PF_LABEL_CAP)
    buf[n++] = '.';
  for (const char *s = key; *s && n + 1 < P3CFG__PF_LABEL_CAP; s++)
    buf[n++] = *s;
  buf[n] = '\0';
  return buf;
}

static int key_is(const yaml_node_t *k, const char *name)
{
  return k->type == YAML_SCALAR_NODE && strlen(name) == k->data.scalar.length &&
         memcmp(name, k->data.scalar.value, k->data.scalar.length) == 0;
}

/* The value of `key` in mapping `map`, or NULL. Unknown keys are not problems here. */
const yaml_node_t *p3cfg__pf_lookup(const p3cfg__pf_reader *rd, const yaml_node_t *map,
                                    const char *key)
{
  for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++)
    if (key_is(p3cfg__node(&rd->c, p->key), key))
      return p3cfg__node(&rd->c, p->value);
  return NULL;
}

/* The value of a required key; reports it missing (at the mapping) when absent. */
const yaml_node_t *p3cfg__pf_need(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                                  const char *key)
{
  const yaml_node_t *v = p3cfg__pf_lookup(rd, map, key);
  if (!v)
    p3cfg__problem(&rd->c, map, "missing required key '%s'%s%s", key, prefix[0] ? " in " : "",
                   prefix);
  return v;
}

/* Whether `node` is a mapping (or a sequence); reports it when not. */
bool p3cfg__pf_is_kind(p3cfg__pf_reader *rd, const yaml_node_t *node, const char *label,
                       yaml_node_type_t kind)
{
  if (node->type == kind)
    return true;
  char buf[P3CFG__DESCRIBE_CAP];
  p3cfg__problem(&rd->c, node, "%s must be %s, got %s", label,
                 kind == YAML_MAPPING_NODE ? "a mapping" : "a list", p3cfg__describe(buf, node));
  return false;
}

/* A required mapping `key` of `map`, or NULL (reported). */
const yaml_node_t *p3cfg__pf_need_map(p3cfg__pf_reader *rd, const yaml_node_t *map,
                                      const char *prefix, const char *key, char *label)
{
  const yaml_node_t *v = p3cfg__pf_need(rd, map, prefix, key);
  p3cfg__pf_label(label, prefix, key);
  return v && p3cfg__pf_is_kind(rd, v, label, YAML_MAPPING_NODE) ? v : NULL;
}

bool p3cfg__pf_uint(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                    const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
  char label[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *v = p3cfg__pf_need(rd, map, prefix, key);
  return v && p3cfg__read_uint(&rd->c, v, p3cfg__pf_label(label, prefix, key), lo, hi, out) == 0;
}

bool p3cfg__pf_u32(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                   const char *key, uint64_t lo, uint64_t hi, uint32_t *out)
{
  uint64_t v = 0;
  if (!p3cfg__pf_uint(rd, map, prefix, key, lo, hi, &v))
    return false;
  *out = (uint32_t)v;
  return true;
}

bool p3cfg__pf_bool(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                    const char *key, int *out)
{
  char label[P3CFG__PF_LABEL_CAP];
  bool b = false;
  const yaml_node_t *v = p3cfg__pf_need(rd, map, prefix, key);
  if (!v || p3cfg__read_bool(&rd->c, v, p3cfg__pf_label(label, prefix, key), &b) != 0)
    return false;
  *out = b ? 1 : 0;
  return true;
}

bool p3cfg__pf_enum(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                    const char *key, const char *const *names, size_t n, int *out)
{
  char label[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *v = p3cfg__pf_need(rd, map, prefix, key);
  return v && p3cfg__read_enum(&rd->c, v, p3cfg__pf_label(label, prefix, key), names, n, out) == 0;
}

/* A string copied into the plan file (NULL when missing, bad or out of memory). */
const char *p3cfg__pf_copy_string(p3cfg__pf_reader *rd, const yaml_node_t *v, const char *label)
{
  const char *s = NULL;
  size_t len = 0;
  if (p3cfg__read_string(&rd->c, v, label, P3CFG__MAX_NAME_BYTES, &s, &len) != 0)
    return NULL;
  const char *d = p3cfg__plan_file_strdup(rd->f, s, len);
  if (!d)
    rd->nomem = 1;
  return d;
}

const char *p3cfg__pf_string(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                             const char *key)
{
  char label[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *v = p3cfg__pf_need(rd, map, prefix, key);
  return v ? p3cfg__pf_copy_string(rd, v, p3cfg__pf_label(label, prefix, key)) : NULL;
}
