/*
 * parse_fields.c — the mapping walk and the typed value readers of parse_fields.h.
 *
 * Type rules (YAML 1.2 core schema, which JSON also follows): numbers and booleans must
 * be plain (unquoted) scalars, so "8" in quotes is a string, not a number; null is an
 * empty plain scalar, ~, null, Null or NULL. Strings may be written any way, and a plain
 * number or word is a string where a string is expected (name: 175).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse_fields.h"
#include "yaml_doc.h"

/* The integer that a number written as a float denotes, decided from its text alone
 * (never from the double, which rounds: 24.0000000000000001 is 24 as a double but not an
 * integer). text[0..len) has the syntax p3cfg__parse_num accepts for floats; a sign is
 * skipped. Returns 1 with *u (or *too_big past UINT64_MAX) when the value is an integer,
 * 0 when it has a non-zero fraction. */
static int float_text_integer(const char *text, size_t len, uint64_t *u, bool *too_big)
{
  size_t i = 0;
  if (i < len && (text[i] == '-' || text[i] == '+'))
    i++;
  const char *mant[2];
  size_t mlen[2] = {0, 0};
  mant[0] = text + i;
  while (i < len && text[i] >= '0' && text[i] <= '9')
    i++, mlen[0]++;
  mant[1] = text + i;
  if (i < len && text[i] == '.') {
    i++;
    mant[1] = text + i;
    while (i < len && text[i] >= '0' && text[i] <= '9')
      i++, mlen[1]++;
  }
  long exp = 0;
  int exp_neg = 0;
  if (i < len && (text[i] == 'e' || text[i] == 'E')) {
    i++;
    if (i < len && (text[i] == '-' || text[i] == '+'))
      exp_neg = text[i++] == '-';
    for (; i < len; i++)
      if (exp < 1000000)
        exp = exp * 10 + (text[i] - '0');
  }
  if (exp_neg)
    exp = -exp;
  /* The decimal point sits after `point` digits of the mantissa (integer digits, then
   * fraction digits); every digit at or after it must be zero. */
  const long n_digits = (long)(mlen[0] + mlen[1]);
  const long point = (long)mlen[0] + exp;
  uint64_t v = 0;
  *too_big = false;
  for (long k = 0; k < n_digits; k++) {
    const char ch = k < (long)mlen[0] ? mant[0][k] : mant[1][k - (long)mlen[0]];
    const unsigned d = (unsigned)(ch - '0');
    if (k >= point) {
      if (d != 0)
        return 0;
      continue;
    }
    if (v > (UINT64_MAX - d) / 10)
      *too_big = true;
    else
      v = v * 10 + d;
  }
  /* Trailing zeros the exponent adds past the written digits. */
  for (long k = n_digits; k < point && !*too_big && v != 0; k++) {
    if (v > UINT64_MAX / 10)
      *too_big = true;
    else
      v *= 10;
  }
  *u = v;
  return 1;
}

void p3cfg__problem(p3cfg__pctx *c, const yaml_node_t *at, const char *fmt, ...)
{
  if (c->d->count > P3CFG__MAX_DIAGS)
    return;
  va_list ap;
  va_start(ap, fmt);
  p3cfg__diags_vadd(c->d, P3CFG_EVALUE, (int)at->start_mark.line + 1,
                    (int)at->start_mark.column + 1, fmt, ap);
  va_end(ap);
}

const yaml_node_t *p3cfg__node(const p3cfg__pctx *c, int index)
{
  return yaml_document_get_node(c->doc, index);
}

static int is_plain(const yaml_node_t *n)
{
  return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *text_of(const yaml_node_t *n)
{
  return (const char *)n->data.scalar.value;
}

/* Whether the scalar's text is one of the NULL-terminated list `words`. */
static int scalar_in(const yaml_node_t *n, const char *const *words)
{
  for (; *words; words++)
    if (strlen(*words) == n->data.scalar.length &&
        memcmp(text_of(n), *words, n->data.scalar.length) == 0)
      return 1;
  return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

static int looks_null(const yaml_node_t *n)
{
  return scalar_in(n, null_words);
}

static int looks_bool(const yaml_node_t *n)
{
  return scalar_in(n, true_words) || scalar_in(n, false_words);
}

bool p3cfg__is_null(const yaml_node_t *node)
{
  return node->type == YAML_SCALAR_NODE && is_plain(node) && looks_null(node);
}

const char *p3cfg__describe(char *buf, const yaml_node_t *node)
{
  if (!node)
    return "nothing";
  if (node->type == YAML_MAPPING_NODE)
    return "a mapping";
  if (node->type == YAML_SEQUENCE_NODE)
    return "a sequence";
  if (node->type != YAML_SCALAR_NODE)
    return "nothing";
  p3cfg__num num;
  p3cfg__parse_num(&num, text_of(node), node->data.scalar.length);
  const int special = looks_null(node) || looks_bool(node) || num.kind != P3CFG__NUM_NONE;
  char echo[4 * P3CFG__ECHO_CHARS + 8];
  p3cfg__echo(echo, sizeof echo, text_of(node), node->data.scalar.length);
  if (is_plain(node)) {
    if (looks_null(node))
      return "null";
    snprintf(buf, P3CFG__DESCRIBE_CAP, special ? "%s" : "\"%s\"", echo);
  } else {
    snprintf(buf, P3CFG__DESCRIBE_CAP, special ? "\"%s\" (a quoted string)" : "\"%s\"", echo);
  }
  return buf;
}

/* "KEY must be WANT, got VALUE" */
static int bad_value(p3cfg__pctx *c, const yaml_node_t *node, const char *label, const char *want)
{
  char buf[P3CFG__DESCRIBE_CAP];
  p3cfg__problem(c, node, "%s must be %s, got %s", label, want, p3cfg__describe(buf, node));
  return -1;
}

int p3cfg__map_fields(p3cfg__pctx *c, const yaml_node_t *map, const char *where,
                      const p3cfg__key *keys, size_t n, const yaml_node_t **values)
{
  for (size_t i = 0; i < n; i++)
    values[i] = NULL;
  if (map->type != YAML_MAPPING_NODE)
    return bad_value(c, map, where ? where : "the top level", "a mapping");
  const char *in = where ? " in " : "";
  const char *wh = where ? where : "";
  /* First the known keys, so that an unknown key can tell whether the key it is close
   * to is missing; then the other keys, in file order. */
  const yaml_node_pair_t *const pairs = map->data.mapping.pairs.start;
  const size_t n_pairs = (size_t)(map->data.mapping.pairs.top - pairs);
  for (size_t pi = 0; pi < n_pairs; pi++) {
    const yaml_node_t *k = p3cfg__node(c, pairs[pi].key);
    if (k->type != YAML_SCALAR_NODE)
      continue;
    for (size_t i = 0; i < n; i++)
      if (strlen(keys[i].name) == k->data.scalar.length &&
          memcmp(keys[i].name, text_of(k), k->data.scalar.length) == 0) {
        if (!values[i])
          values[i] = p3cfg__node(c, pairs[pi].value);
        break;
      }
  }
  bool told[32] = {false}; /* a missing required key already named by a "did you mean" */
  const char *names[32];
  const size_t nn = n < 32 ? n : 32;
  for (size_t j = 0; j < nn; j++)
    names[j] = keys[j].name;
  for (size_t pi = 0; pi < n_pairs; pi++) {
    const yaml_node_t *k = p3cfg__node(c, pairs[pi].key);
    if (k->type != YAML_SCALAR_NODE) {
      char buf[P3CFG__DESCRIBE_CAP];
      p3cfg__problem(c, k, "keys must be strings, got %s%s%s", p3cfg__describe(buf, k), in, wh);
      continue;
    }
    size_t i = 0;
    while (i < n && !(strlen(keys[i].name) == k->data.scalar.length &&
                      memcmp(keys[i].name, text_of(k), k->data.scalar.length) == 0))
      i++;
    if (i < n)
      continue;
    const char *hint = p3cfg__suggest(text_of(k), k->data.scalar.length, names, nn);
    char echo[4 * P3CFG__ECHO_CHARS + 8];
    p3cfg__echo(echo, sizeof echo, text_of(k), k->data.scalar.length);
    size_t h = 0;
    while (hint && h < nn && names[h] != hint)
      h++;
    if (hint && keys[h].required && !values[h]) {
      /* One problem, where it is: the misspelt key stands for the missing one. */
      p3cfg__problem(c, k, "unknown key '%s'%s%s; did you mean '%s'? ('%s' is required)", echo,
                     in, wh, hint, hint);
      told[h] = true;
    } else if (hint) {
      p3cfg__problem(c, k, "unknown key '%s'%s%s; did you mean '%s'?", echo, in, wh, hint);
    } else {
      p3cfg__problem(c, k, "unknown key '%s'%s%s", echo, in, wh);
    }
  }
  for (size_t i = 0; i < n; i++)
    if (keys[i].required && !values[i] && !(i < 32 && told[i]))
      p3cfg__problem(c, map, "missing required key '%s'%s%s", keys[i].name, in, wh);
  return 0;
}

int p3cfg__read_uint(p3cfg__pctx *c, const yaml_node_t *node, const char *label, uint64_t lo,
                     uint64_t hi, uint64_t *out)
{
  char want[64];
  if (lo == 0)
    snprintf(want, sizeof want, "a non-negative integer");
  else if (lo == 1)
    snprintf(want, sizeof want, "a positive integer");
  else
    snprintf(want, sizeof want, "an integer of at least %llu", (unsigned long long)lo);
  if (!is_plain(node))
    return bad_value(c, node, label, want);
  p3cfg__num num;
  p3cfg__parse_num(&num, text_of(node), node->data.scalar.length);
  uint64_t u = 0;
  int above = 0;
  switch (num.kind) {
  case P3CFG__NUM_INT:
    if (num.negative && num.u > 0)
      return bad_value(c, node, label, want);
    above = num.too_big;
    u = num.u;
    break;
  case P3CFG__NUM_FLOAT: {
    /* Exact: integrality and value come from the text, not from the rounded double. */
    bool big = false;
    if (!float_text_integer(text_of(node), node->data.scalar.length, &u, &big))
      return bad_value(c, node, label, want);
    if (num.negative && (u != 0 || big))
      return bad_value(c, node, label, want);
    above = big;
    break;
  }
  default:
    return bad_value(c, node, label, want);
  }
  if (above || u > hi) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(c, node, "%s must be at most %llu, got %s", label, (unsigned long long)hi,
                   p3cfg__describe(buf, node));
    return -1;
  }
  if (u < lo)
    return bad_value(c, node, label, want);
  *out = u;
  return 0;
}

/* A bandwidth written with its unit, "400Gbps", "400 Gb/s" or "50 GB/s", where a
 * _GBps key wants the number of GB/s alone: "; did you mean 50 (GB/s)?" in buf, the bits
 * of a "b" unit divided by 8. "" when `label` is not a _GBps key or the text is not a
 * number and a known unit. */
static const char *bandwidth_hint(char *buf, size_t cap, const yaml_node_t *node,
                                  const char *label)
{
  static const struct {
    const char *unit;
    double to_GBps;
  } units[] = {{"Gbps", 0.125},   {"Gb/s", 0.125},   {"Gbit/s", 0.125}, {"Gbits/s", 0.125},
               {"GBps", 1.0},     {"GB/s", 1.0},     {"Tbps", 125.0},   {"Tb/s", 125.0},
               {"TBps", 1000.0},  {"TB/s", 1000.0},  {"Mbps", 0.000125}, {"Mb/s", 0.000125},
               {"MBps", 0.001},   {"MB/s", 0.001},   {"GiB/s", 1.073741824}};
  buf[0] = '\0';
  if (!strstr(label, "_GBps") || node->type != YAML_SCALAR_NODE)
    return buf;
  const char *t = text_of(node);
  const size_t len = node->data.scalar.length;
  size_t i = 0;
  while (i < len && ((t[i] >= '0' && t[i] <= '9') || t[i] == '.'))
    i++;
  p3cfg__num num;
  p3cfg__parse_num(&num, t, i);
  if (num.kind != P3CFG__NUM_INT && num.kind != P3CFG__NUM_FLOAT)
    return buf;
  size_t u = i;
  while (u < len && t[u] == ' ')
    u++;
  for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
    if (strlen(units[k].unit) == len - u && memcmp(units[k].unit, t + u, len - u) == 0) {
      snprintf(buf, cap, "; did you mean %.6g (GB/s)?", num.v * units[k].to_GBps);
      return buf;
    }
  return buf;
}

int p3cfg__read_number(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                       const p3cfg__range *r, double *out)
{
  p3cfg__num num;
  if (is_plain(node))
    p3cfg__parse_num(&num, text_of(node), node->data.scalar.length);
  if (!is_plain(node) || (num.kind != P3CFG__NUM_INT && num.kind != P3CFG__NUM_FLOAT)) {
    char hint[64], buf[P3CFG__DESCRIBE_CAP];
    if (!bandwidth_hint(hint, sizeof hint, node, label)[0])
      return bad_value(c, node, label, r->what);
    p3cfg__problem(c, node, "%s must be %s, got %s%s", label, r->what,
                   p3cfg__describe(buf, node), hint);
    return -1;
  }
  const double v = num.v;
  if (v < r->lo || (r->lo_open && v == r->lo) || (v > r->hi && r->what_names_hi))
    return bad_value(c, node, label, r->what);
  if (v > r->hi) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(c, node, "%s must be at most %.15g, got %s", label, r->hi,
                   p3cfg__describe(buf, node));
    return -1;
  }
  *out = v;
  return 0;
}

bool p3cfg__number_in(const yaml_node_t *node, const p3cfg__range *r, double *out)
{
  if (!is_plain(node))
    return false;
  p3cfg__num num;
  p3cfg__parse_num(&num, text_of(node), node->data.scalar.length);
  const double v = num.v;
  if ((num.kind != P3CFG__NUM_INT && num.kind != P3CFG__NUM_FLOAT) || v < r->lo ||
      (r->lo_open && v == r->lo) || v > r->hi)
    return false;
  *out = v;
  return true;
}

int p3cfg__read_bool(p3cfg__pctx *c, const yaml_node_t *node, const char *label, bool *out)
{
  if (is_plain(node) && scalar_in(node, true_words)) {
    *out = true;
    return 0;
  }
  if (is_plain(node) && scalar_in(node, false_words)) {
    *out = false;
    return 0;
  }
  return bad_value(c, node, label, "true or false");
}

int p3cfg__read_enum(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                     const char *const *names, size_t n, int *out)
{
  if (node->type == YAML_SCALAR_NODE && !(is_plain(node) && looks_null(node))) {
    for (size_t i = 0; i < n; i++)
      if (strlen(names[i]) == node->data.scalar.length &&
          memcmp(names[i], text_of(node), node->data.scalar.length) == 0) {
        *out = (int)i;
        return 0;
      }
  }
  char want[160];
  size_t o = (size_t)snprintf(want, sizeof want, n == 2 ? "%s" : "one of %s", names[0]);
  for (size_t i = 1; i < n && o < sizeof want; i++)
    o += (size_t)snprintf(want + o, sizeof want - o, n == 2 ? " or %s" : ", %s", names[i]);
  const char *hint = node->type == YAML_SCALAR_NODE
                         ? p3cfg__suggest(text_of(node), node->data.scalar.length, names, n)
                         : NULL;
  char buf[P3CFG__DESCRIBE_CAP];
  if (hint)
    p3cfg__problem(c, node, "%s must be %s, got %s; did you mean '%s'?", label, want,
                   p3cfg__describe(buf, node), hint);
  else
    p3cfg__problem(c, node, "%s must be %s, got %s", label, want, p3cfg__describe(buf, node));
  return -1;
}

int p3cfg__read_string(p3cfg__pctx *c, const yaml_node_t *node, const char *label, size_t max_len,
                       const char **out, size_t *len)
{
  if (node->type != YAML_SCALAR_NODE || (is_plain(node) && looks_null(node)))
    return bad_value(c, node, label, "a string");
  const size_t n = node->data.scalar.length;
  const unsigned char *t = node->data.scalar.value;
  if (n == 0) {
    p3cfg__problem(c, node, "%s must not be empty", label);
    return -1;
  }
  if (n > max_len) {
    p3cfg__problem(c, node, "%s must be at most %zu bytes long, got %zu", label, max_len, n);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    if (t[i] < 0x20 || t[i] == 0x7F) {
      char buf[P3CFG__DESCRIBE_CAP];
      p3cfg__problem(c, node, "%s must be one line without control characters, got %s", label,
                     p3cfg__describe(buf, node));
      return -1;
    }
  *out = text_of(node);
  *len = n;
  return 0;
}
