/*
 * parse_test.h — what the parse tests share: fixture paths and loading a model or
 * cluster from an inline YAML string with every problem at hand.
 */
#ifndef P3CFG_PARSE_TEST_H
#define P3CFG_PARSE_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "p3cfg.h"
#include "types.h"

#define FIXTURE(name) P3CFG_SOURCE_DIR "/tests/fixtures/parse/" name

/* A valid model (the minimal fixture) to derive bad ones from. */
#define MODEL_OK                                                                                   \
  "name: m\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 1000\nseq_len: 128\nglobal_batch: 8\n"
/* A valid cluster, likewise. */
#define CLUSTER_OK                                                                                 \
  "name: c\nnodes: 2\ngpus_per_node: 4\ngpu: h100-sxm\n"                                           \
  "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n"

static inline p3cfg_model *model_from(const char *text)
{
  p3cfg_model *m = NULL;
  int rc = p3cfg_model_load_string(&m, text, strlen(text), "t.yaml", NULL);
  cr_assert_eq(rc, P3CFG_OK, "load failed: %s at %d:%d", p3cfg_error_last()->message,
               p3cfg_error_last()->line, p3cfg_error_last()->column);
  return m;
}

static inline p3cfg_cluster *cluster_from(const char *text)
{
  p3cfg_cluster *c = NULL;
  int rc = p3cfg_cluster_load_string(&c, text, strlen(text), "t.yaml", NULL);
  cr_assert_eq(rc, P3CFG_OK, "load failed: %s at %d:%d", p3cfg_error_last()->message,
               p3cfg_error_last()->line, p3cfg_error_last()->column);
  return c;
}

/* Load `text` as `kind` expecting failure; returns the diagnostics (caller frees). */
static inline p3cfg_diagnostics *problems_of(const char *text, p3cfg_file_kind kind)
{
  p3cfg_diagnostics *d = NULL;
  int rc;
  if (kind == P3CFG_FILE_MODEL) {
    p3cfg_model *m = NULL;
    rc = p3cfg_model_load_string(&m, text, strlen(text), "t.yaml", &d);
    cr_assert_null(m);
  } else {
    p3cfg_cluster *c = NULL;
    rc = p3cfg_cluster_load_string(&c, text, strlen(text), "t.yaml", &d);
    cr_assert_null(c);
  }
  cr_assert_neq(rc, P3CFG_OK, "expected a problem in:\n%s", text);
  cr_assert_not_null(d);
  cr_assert_gt(p3cfg_diagnostics_count(d), 0);
  return d;
}

/* Assert that the only (or first) problem of `text` is `message` at line:col. */
static inline void expect_problem(const char *text, p3cfg_file_kind kind, int line, int col,
                                  const char *message)
{
  p3cfg_diagnostics *d = problems_of(text, kind);
  const p3cfg_diag *g = p3cfg_diagnostics_get(d, 0);
  cr_expect_str_eq(g->message, message);
  cr_expect_eq(g->line, line, "line %d, expected %d (%s)", g->line, line, g->message);
  cr_expect_eq(g->column, col, "column %d, expected %d (%s)", g->column, col, g->message);
  p3cfg_diagnostics_free(d);
}

#endif
