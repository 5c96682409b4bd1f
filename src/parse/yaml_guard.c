/*
 * yaml_guard.c — a bounded pre-pass over libyaml's events before the document is loaded.
 *
 * libyaml's loader has no limits: deep flow nesting costs it quadratic time, an alias
 * may point at a collection that contains it (the loaded graph then has a cycle), and a
 * few nested aliases stand for billions of nodes ("billion laughs"). The event parser
 * emits events one by one, so this pass stops after at most P3CFG__MAX_NODES nodes or
 * P3CFG__MAX_DEPTH levels, whatever the input. It measures every anchored collection
 * (nodes inside, aliases expanded), so that the expanded size of the whole document is
 * known exactly and every walk over the loaded tree is bounded by P3CFG__MAX_NODES.
 */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "yaml_doc.h"

typedef struct anchor {
  char *name;          /* NULL: free slot */
  uint64_t size;       /* nodes it stands for, aliases inside expanded */
  int open;            /* its collection has not ended yet */
  size_t line, column; /* libyaml mark, 0-based */
} anchor;

typedef struct anchor_table {
  anchor *slots;
  size_t cap, count; /* cap is 0 or a power of two */
} anchor_table;

typedef struct frame {
  uint64_t size;      /* nodes so far, the collection itself included */
  const char *anchor; /* name (the table's copy) of the anchor on it, or NULL; slots move
                        when the table grows, names do not */
} frame;

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The slot for `name`: its anchor, or the free slot where it would go. */
static anchor *slot_for(const anchor_table *t, const char *name)
{
  size_t i = (size_t)hash(name) & (t->cap - 1);
  while (t->slots[i].name && strcmp(t->slots[i].name, name) != 0)
    i = (i + 1) & (t->cap - 1);
  return &t->slots[i];
}

static anchor *find_anchor(const anchor_table *t, const char *name)
{
  if (t->cap == 0)
    return NULL;
  anchor *a = slot_for(t, name);
  return a->name ? a : NULL;
}

/* Keep the table at most half full. Returns 0 or P3CFG_ENOMEM. */
static int grow(anchor_table *t)
{
  if (2 * (t->count + 1) <= t->cap)
    return P3CFG_OK;
  anchor_table n = {NULL, t->cap ? t->cap * 2 : 16, t->count};
  n.slots = p3cfg__calloc(n.cap, sizeof *n.slots);
  if (!n.slots)
    return P3CFG_ENOMEM;
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].name)
      *slot_for(&n, t->slots[i].name) = t->slots[i];
  p3cfg__free(t->slots);
  *t = n;
  return P3CFG_OK;
}

static void table_free(anchor_table *t)
{
  for (size_t i = 0; i < t->cap; i++)
    p3cfg__free(t->slots[i].name);
  p3cfg__free(t->slots);
}

/* Register anchor `name` at `mark`; *out is the new entry. */
static int define_anchor(p3cfg_diagnostics *d, anchor_table *t, const char *name, yaml_mark_t mark,
                         int open, anchor **out)
{
  const anchor *old = find_anchor(t, name);
  if (old)
    return p3cfg__diag(d, P3CFG_ESYNTAX, (int)mark.line + 1, (int)mark.column + 1,
                       "anchor '&%s' is defined twice (first at line %zu, column %zu)", name,
                       old->line + 1, old->column + 1);
  if (grow(t) != P3CFG_OK)
    return P3CFG_ENOMEM;
  char *copy = p3cfg__strdup(name);
  if (!copy)
    return P3CFG_ENOMEM;
  anchor *a = slot_for(t, name);
  *a = (anchor){copy, 1, open, mark.line, mark.column};
  t->count++;
  *out = a;
  return P3CFG_OK;
}

int p3cfg__yaml_problem(p3cfg_diagnostics *d, const yaml_parser_t *parser, const char *text,
                        size_t len)
{
  const char *problem = parser->problem ? parser->problem : "unknown error";
  if (parser->error == YAML_MEMORY_ERROR)
    return P3CFG_ENOMEM;
  if (parser->error == YAML_READER_ERROR) {
    int line, col;
    p3cfg__text_position(text, len, parser->problem_offset, &line, &col);
    return p3cfg__diag(d, P3CFG_ESYNTAX, line, col, "invalid text: %s", problem);
  }
  const yaml_mark_t m = parser->problem_mark;
  size_t at = p3cfg__text_offset(text, len, m.line, m.column);
  const char *hint = (at < len && text[at] == '\t') || strstr(problem, "tab")
                         ? "; indent with spaces, not tabs"
                         : "";
  const yaml_mark_t cm = parser->context_mark;
  if (parser->context && cm.line == m.line && cm.column == m.column)
    return p3cfg__diag(d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                       "invalid YAML: %s (%s)%s", problem, parser->context, hint);
  if (parser->context)
    return p3cfg__diag(d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                       "invalid YAML: %s (%s at line %zu, column %zu)%s", problem, parser->context,
                       parser->context_mark.line + 1, parser->context_mark.column + 1, hint);
  return p3cfg__diag(d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1, "invalid YAML: %s%s",
                     problem, hint);
}

typedef struct guard {
  p3cfg_diagnostics *d;
  anchor_table anchors;
  frame stack[P3CFG__MAX_DEPTH];
  int depth;
  uint64_t total; /* nodes so far, aliases expanded */
  int docs;
} guard;

/* Count `n` more nodes inside the innermost open collection. */
static int count_nodes(guard *g, uint64_t n, yaml_mark_t at)
{
  g->total += n;
  if (g->depth > 0)
    g->stack[g->depth - 1].size += n;
  if (g->total > P3CFG__MAX_NODES)
    return p3cfg__diag(g->d, P3CFG_ESYNTAX, (int)at.line + 1, (int)at.column + 1,
                       "the document has more than %u nodes (aliases count as the nodes they "
                       "repeat)",
                       P3CFG__MAX_NODES);
  return P3CFG_OK;
}

static int on_alias(guard *g, const yaml_event_t *ev)
{
  const char *name = (const char *)ev->data.alias.anchor;
  const yaml_mark_t m = ev->start_mark;
  const anchor *a = find_anchor(&g->anchors, name);
  if (!a)
    return p3cfg__diag(g->d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                       "alias '*%s' has no anchor '&%s' before it", name, name);
  if (a->open)
    return p3cfg__diag(g->d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                       "alias '*%s' refers to a collection that contains it (anchor at line "
                       "%zu, column %zu)",
                       name, a->line + 1, a->column + 1);
  return count_nodes(g, a->size, m);
}

static int on_start(guard *g, const yaml_event_t *ev, const yaml_char_t *anchor_name)
{
  const yaml_mark_t m = ev->start_mark;
  if (g->depth == P3CFG__MAX_DEPTH)
    return p3cfg__diag(g->d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                       "nesting is deeper than %d levels", P3CFG__MAX_DEPTH);
  int rc = count_nodes(g, 1, m);
  if (rc != P3CFG_OK)
    return rc;
  anchor *a = NULL;
  if (anchor_name) {
    rc = define_anchor(g->d, &g->anchors, (const char *)anchor_name, m, 1, &a);
    if (rc != P3CFG_OK)
      return rc;
  }
  g->stack[g->depth++] = (frame){1, a ? a->name : NULL};
  return P3CFG_OK;
}

static void on_end(guard *g)
{
  /* libyaml pairs every end event with its start event. */
  const frame f = g->stack[--g->depth];
  if (f.anchor) {
    anchor *a = find_anchor(&g->anchors, f.anchor);
    a->size = f.size;
    a->open = 0;
  }
  if (g->depth > 0)
    g->stack[g->depth - 1].size += f.size;
}

/* Tags are not part of p3cfg's formats: "!!str 96" would read as the number 96 and a
 * custom tag would be ignored, so any explicit tag is refused where it stands. */
static int refuse_tag(guard *g, const yaml_event_t *ev, const yaml_char_t *tag)
{
  const yaml_mark_t m = ev->start_mark;
  static const char core[] = "tag:yaml.org,2002:"; /* written "!!" */
  const char *t = (const char *)tag;
  const int is_core = strncmp(t, core, sizeof core - 1) == 0;
  if (is_core)
    t += sizeof core - 1;
  char echo[4 * P3CFG__ECHO_CHARS + 8];
  p3cfg__echo(echo, sizeof echo, t, strlen(t));
  return p3cfg__diag(g->d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                     "YAML tags are not part of p3cfg's formats: remove the tag '%s%s'",
                     is_core ? "!!" : "", echo);
}

static int on_event(guard *g, const yaml_event_t *ev, int *end)
{
  const yaml_char_t *tag = ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.tag
                           : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
                           : ev->type == YAML_MAPPING_START_EVENT  ? ev->data.mapping_start.tag
                                                                   : NULL;
  if (tag)
    return refuse_tag(g, ev, tag);
  const yaml_mark_t m = ev->start_mark;
  switch (ev->type) {
  case YAML_STREAM_END_EVENT:
    *end = 1;
    return P3CFG_OK;
  case YAML_DOCUMENT_START_EVENT:
    if (++g->docs > 1)
      return p3cfg__diag(g->d, P3CFG_ESYNTAX, (int)m.line + 1, (int)m.column + 1,
                         "a second YAML document starts here; a file holds one document");
    return P3CFG_OK;
  case YAML_ALIAS_EVENT:
    return on_alias(g, ev);
  case YAML_SCALAR_EVENT: {
    anchor *a = NULL;
    if (ev->data.scalar.anchor) {
      int rc = define_anchor(g->d, &g->anchors, (const char *)ev->data.scalar.anchor, m, 0, &a);
      if (rc != P3CFG_OK)
        return rc;
    }
    return count_nodes(g, 1, m);
  }
  case YAML_SEQUENCE_START_EVENT:
    return on_start(g, ev, ev->data.sequence_start.anchor);
  case YAML_MAPPING_START_EVENT:
    return on_start(g, ev, ev->data.mapping_start.anchor);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    on_end(g);
    return P3CFG_OK;
  default:
    return P3CFG_OK;
  }
}

int p3cfg__yaml_guard(p3cfg_diagnostics *d, const char *text, size_t len, int *n_docs)
{
  guard g;
  memset(&g, 0, sizeof g);
  g.d = d;
  *n_docs = 0;
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return P3CFG_ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int rc = P3CFG_OK, end = 0;
  while (rc == P3CFG_OK && !end) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      rc = p3cfg__yaml_problem(d, &parser, text, len);
      break;
    }
    rc = on_event(&g, &ev, &end);
    yaml_event_delete(&ev);
  }
  *n_docs = g.docs;
  yaml_parser_delete(&parser);
  table_free(&g.anchors);
  return rc;
}
