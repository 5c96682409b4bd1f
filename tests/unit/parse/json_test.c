/*
 * json_test.c — every preset (models/, clusters/) and every YAML fixture of the parse
 * tests, converted to JSON with tab indentation, loads to exactly the same model or
 * cluster as the YAML file. The conversion walks the libyaml document: plain scalars that
 * are JSON numbers, booleans or null stay bare, everything else becomes a string.
 */
#include <dirent.h>
#include <stdlib.h>

#include <yaml.h>

#include "parse_fields.h"
#include "parse_test.h"

typedef struct out {
  char *buf;
  size_t len, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
  if (o->len + n + 1 > o->cap) {
    o->cap = (o->len + n + 1) * 2;
    o->buf = realloc(o->buf, o->cap);
    cr_assert_not_null(o->buf);
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
}

static void puts_(out *o, const char *s)
{
  put(o, s, strlen(s));
}

static void indent(out *o, int depth)
{
  put(o, "\n", 1);
  for (int i = 0; i < depth; i++)
    put(o, "\t", 1);
}

static int bare_json(const yaml_node_t *n)
{
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return 0;
  const char *t = (const char *)n->data.scalar.value;
  if (strcmp(t, "true") == 0 || strcmp(t, "false") == 0 || strcmp(t, "null") == 0)
    return 1;
  p3cfg__num num;
  p3cfg__parse_num(&num, t, n->data.scalar.length);
  /* JSON has no leading '+', no '.5' and no '5.'. */
  const char *dot = strchr(t, '.');
  return (num.kind == P3CFG__NUM_INT || num.kind == P3CFG__NUM_FLOAT) && t[0] != '+' &&
         t[0] != '.' && !(dot && (dot[1] < '0' || dot[1] > '9'));
}

static void emit(out *o, yaml_document_t *doc, const yaml_node_t *n, int depth)
{
  if (n->type == YAML_SCALAR_NODE) {
    if (bare_json(n)) {
      puts_(o, (const char *)n->data.scalar.value);
      return;
    }
    put(o, "\"", 1);
    for (size_t i = 0; i < n->data.scalar.length; i++) {
      const char ch = (char)n->data.scalar.value[i];
      if (ch == '"' || ch == '\\')
        put(o, "\\", 1);
      put(o, &ch, 1);
    }
    put(o, "\"", 1);
  } else if (n->type == YAML_SEQUENCE_NODE) {
    put(o, "[", 1);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
      if (it > n->data.sequence.items.start)
        put(o, ",", 1);
      indent(o, depth + 1);
      emit(o, doc, yaml_document_get_node(doc, *it), depth + 1);
    }
    indent(o, depth);
    put(o, "]", 1);
  } else {
    put(o, "{", 1);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
      if (p > n->data.mapping.pairs.start)
        put(o, ",", 1);
      indent(o, depth + 1);
      emit(o, doc, yaml_document_get_node(doc, p->key), depth + 1);
      put(o, ": ", 2);
      emit(o, doc, yaml_document_get_node(doc, p->value), depth + 1);
    }
    indent(o, depth);
    put(o, "}", 1);
  }
}

static char *to_json(const char *path)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  cr_assert(yaml_parser_load(&parser, &doc), "%s: %s", path, parser.problem);
  out o = {NULL, 0, 0};
  emit(&o, &doc, yaml_document_get_root_node(&doc), 0);
  put(&o, "\n", 1);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  fclose(f);
  return o.buf;
}

static void same_model(const p3cfg_model *a, const p3cfg_model *b, const char *path)
{
  cr_expect_str_eq(a->name, b->name, "%s", path);
  cr_expect(a->layers == b->layers && a->hidden == b->hidden && a->heads == b->heads &&
                a->kv_heads == b->kv_heads && a->ffn_hidden == b->ffn_hidden &&
                a->vocab == b->vocab && a->seq_len == b->seq_len &&
                a->global_batch == b->global_batch,
            "%s: sizes differ", path);
  cr_expect(a->activation == b->activation && a->tied_embeddings == b->tied_embeddings &&
                a->position_embedding == b->position_embedding && a->norm == b->norm &&
                a->flash_attention == b->flash_attention && a->precision == b->precision &&
                a->optimizer == b->optimizer && a->bias == b->bias && a->dropout == b->dropout,
            "%s: choices differ", path);
}

static void same_cluster(const p3cfg_cluster *a, const p3cfg_cluster *b, const char *path)
{
  cr_expect_str_eq(a->name, b->name, "%s", path);
  cr_expect(a->nodes == b->nodes && a->gpus_per_node == b->gpus_per_node, "%s", path);
  cr_expect(memcmp(&a->gpu, &b->gpu, sizeof a->gpu) == 0, "%s: gpu differs", path);
  cr_expect(a->intra_Bps == b->intra_Bps && a->inter_Bps == b->inter_Bps &&
                a->intra_latency_s == b->intra_latency_s &&
                a->inter_latency_s == b->inter_latency_s,
            "%s: network differs", path);
  cr_assert(a->links.granularity == b->links.granularity && a->links.n == b->links.n, "%s", path);
  const size_t n = a->links.n;
  for (size_t i = 0; i < n; i++)
    cr_expect_str_eq(a->links.names[i], b->links.names[i], "%s", path);
  if (n) {
    cr_expect(memcmp(a->links.bandwidth_Bps, b->links.bandwidth_Bps, n * n * sizeof(double)) == 0,
              "%s: bandwidth differs", path);
    cr_expect(memcmp(a->links.latency_s, b->links.latency_s, n * n * sizeof(double)) == 0,
              "%s: latency differs", path);
  }
  for (uint32_t i = 0; i < a->nodes; i++)
    cr_expect_str_eq(a->node_names[i], b->node_names[i], "%s", path);
}

/* Load `path` and its JSON form and compare them; returns 1 when the file was a model or
 * cluster. */
static int check_file(const char *path)
{
  p3cfg_diagnostics *d = NULL;
  p3cfg_file_kind kind;
  int rc = p3cfg_validate_file(&d, &kind, path, P3CFG_FILE_AUTO);
  p3cfg_diagnostics_free(d);
  cr_assert_eq(rc, P3CFG_OK, "%s: %s", path, p3cfg_error_last()->message);
  char *json = to_json(path);
  if (kind == P3CFG_FILE_MODEL) {
    p3cfg_model *a = NULL, *b = NULL;
    cr_assert_eq(p3cfg_model_load(&a, path, NULL), P3CFG_OK);
    cr_assert_eq(p3cfg_model_load_string(&b, json, strlen(json), path, NULL), P3CFG_OK,
                 "%s as JSON: %s at %d:%d\n%s", path, p3cfg_error_last()->message,
                 p3cfg_error_last()->line, p3cfg_error_last()->column, json);
    same_model(a, b, path);
    p3cfg_model_free(a);
    p3cfg_model_free(b);
  } else {
    p3cfg_cluster *a = NULL, *b = NULL;
    cr_assert_eq(p3cfg_cluster_load(&a, path, NULL), P3CFG_OK);
    cr_assert_eq(p3cfg_cluster_load_string(&b, json, strlen(json), path, NULL), P3CFG_OK,
                 "%s as JSON: %s at %d:%d", path, p3cfg_error_last()->message,
                 p3cfg_error_last()->line, p3cfg_error_last()->column);
    same_cluster(a, b, path);
    p3cfg_cluster_free(a);
    p3cfg_cluster_free(b);
  }
  free(json);
  return 1;
}

static int check_dir(const char *dir)
{
  DIR *dp = opendir(dir);
  cr_assert_not_null(dp, "missing fixture directory %s", dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp)) != NULL;) {
    const size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    n += check_file(path);
  }
  closedir(dp);
  return n;
}

Test(parse, json_form_of_every_preset_loads_the_same)
{
  int n = check_dir(P3CFG_SOURCE_DIR "/models") + check_dir(P3CFG_SOURCE_DIR "/clusters");
  n += check_dir(P3CFG_SOURCE_DIR "/tests/fixtures/parse");
  cr_expect_geq(n, 6);
}
