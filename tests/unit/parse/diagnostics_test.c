/*
 * diagnostics_test.c — every problem of a file, in order; the last error; file-level
 * problems; kind detection of p3cfg_validate_file; NULL arguments; the input limits
 * (nesting, aliases, size, encodings).
 */
#include <stdlib.h>

#include "parse_test.h"
#include "yaml_doc.h"

Test(parse, diagnostics_all_problems_sorted)
{
  const char *text = "global_batch: x\n"
                     "name: m\n"
                     "layers: 0\n"
                     "hidden: 64\n"
                     "heads: 4\n"
                     "vocab: 1000\n"
                     "seq_len: 128\n"
                     "layers: 2\n"
                     "hiden: 3\n";
  p3cfg_diagnostics *d = problems_of(text, P3CFG_FILE_MODEL);
  cr_assert_eq(p3cfg_diagnostics_count(d), 4);
  static const struct {
    int line, col;
    const char *msg;
  } want[] = {
      {1, 15, "global_batch must be a positive integer, got \"x\""},
      {3, 9, "layers must be a positive integer, got 0"},
      {8, 1, "duplicate key 'layers' (first at line 3, column 1)"},
      {9, 1, "unknown key 'hiden'; did you mean 'hidden'?"},
  };
  for (size_t i = 0; i < 4; i++) {
    const p3cfg_diag *g = p3cfg_diagnostics_get(d, i);
    cr_expect_str_eq(g->message, want[i].msg);
    cr_expect_eq(g->line, want[i].line);
    cr_expect_eq(g->column, want[i].col);
    cr_expect_str_eq(g->file, "t.yaml");
  }
  cr_expect_null(p3cfg_diagnostics_get(d, 4));
  p3cfg_diagnostics_free(d);
  /* The last error is the first problem. */
  const p3cfg_error *e = p3cfg_error_last();
  cr_expect_eq(e->code, P3CFG_EVALUE);
  cr_expect_str_eq(e->file, "t.yaml");
  cr_expect_eq(e->line, 1);
  cr_expect_eq(e->column, 15);
  cr_expect_str_eq(e->message, "global_batch must be a positive integer, got \"x\"");
}

Test(parse, diagnostics_empty_on_success)
{
  p3cfg_diagnostics *d = NULL;
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load_string(&m, MODEL_OK, strlen(MODEL_OK), NULL, &d), P3CFG_OK);
  cr_expect_not_null(d);
  cr_expect_eq(p3cfg_diagnostics_count(d), 0);
  cr_expect_eq(p3cfg_error_last()->code, P3CFG_OK);
  cr_expect_str_eq(m->source, "<string>");
  p3cfg_diagnostics_free(d);
  p3cfg_model_free(m);
}

Test(parse, diagnostics_capped)
{
  /* 150 bad entries: 100 reported, then one line saying the list stops. */
  char text[8192];
  size_t o = (size_t)snprintf(text, sizeof text, MODEL_OK);
  for (int i = 0; i < 150; i++)
    o += (size_t)snprintf(text + o, sizeof text - o, "bad%d: 1\n", i);
  p3cfg_diagnostics *d = problems_of(text, P3CFG_FILE_MODEL);
  cr_assert_eq(p3cfg_diagnostics_count(d), P3CFG__MAX_DIAGS + 1);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, P3CFG__MAX_DIAGS)->message,
                   "too many problems; stopped after the first 100");
  cr_expect_eq(p3cfg_diagnostics_get(d, 0)->line, 8);
  p3cfg_diagnostics_free(d);
}

Test(parse, null_arguments_are_einvalid)
{
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  p3cfg_diagnostics *d = NULL;
  cr_expect_eq(p3cfg_model_load(NULL, "x", NULL), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_model_load(&m, NULL, NULL), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_model_load_string(&m, NULL, 0, NULL, NULL), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_cluster_load(NULL, "x", &d), P3CFG_EINVALID);
  cr_expect_null(d);
  cr_expect_eq(p3cfg_cluster_load_string(&c, NULL, 0, NULL, NULL), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_validate_file(NULL, NULL, "x", P3CFG_FILE_AUTO), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_validate_file(&d, NULL, NULL, P3CFG_FILE_AUTO), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_validate_file(&d, NULL, "x", (p3cfg_file_kind)7), P3CFG_EINVALID);
  cr_expect_eq(p3cfg_cluster_get_info(NULL, NULL), P3CFG_EINVALID);
  cr_expect_null(p3cfg_cluster_node_name(NULL, 0));
  p3cfg_model_free(NULL);
  p3cfg_cluster_free(NULL);
  p3cfg_diagnostics_free(NULL);
}

Test(parse, validate_file_detects_kind)
{
  p3cfg_diagnostics *d = NULL;
  p3cfg_file_kind kind;
  cr_expect_eq(p3cfg_validate_file(&d, &kind, FIXTURE("model-full.yaml"), P3CFG_FILE_AUTO),
               P3CFG_OK);
  cr_expect_eq(kind, P3CFG_FILE_MODEL);
  cr_expect_eq(p3cfg_diagnostics_count(d), 0);
  p3cfg_diagnostics_free(d);
  cr_expect_eq(p3cfg_validate_file(&d, &kind, FIXTURE("cluster-links-gpu.yaml"), P3CFG_FILE_AUTO),
               P3CFG_OK);
  cr_expect_eq(kind, P3CFG_FILE_CLUSTER);
  p3cfg_diagnostics_free(d);
  /* Forcing the wrong kind on a file plainly of the other kind says so, once. */
  cr_expect_eq(p3cfg_validate_file(&d, &kind, FIXTURE("model-full.yaml"), P3CFG_FILE_CLUSTER),
               P3CFG_EVALUE);
  cr_expect_eq(kind, P3CFG_FILE_CLUSTER);
  cr_assert_eq(p3cfg_diagnostics_count(d), 1);
  cr_expect(strstr(p3cfg_diagnostics_get(d, 0)->message,
                   "expected a cluster, but this is a model file") != NULL);
  p3cfg_diagnostics_free(d);
  /* Unreadable: a file-level problem without a position. */
  cr_expect_eq(p3cfg_validate_file(&d, &kind, FIXTURE("no-such-file.yaml"), P3CFG_FILE_AUTO),
               P3CFG_EIO);
  cr_expect_eq(kind, P3CFG_FILE_AUTO);
  cr_assert_eq(p3cfg_diagnostics_count(d), 1);
  cr_expect_eq(p3cfg_diagnostics_get(d, 0)->line, 0);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 0)->message,
                   "cannot open file: no such file or directory");
  p3cfg_diagnostics_free(d);
  cr_expect_eq(p3cfg_validate_file(&d, &kind, P3CFG_SOURCE_DIR "/tests", P3CFG_FILE_AUTO),
               P3CFG_EIO);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 0)->message, "is a directory, not a file");
  p3cfg_diagnostics_free(d);
}

Test(parse, syntax_and_structure_problems)
{
  expect_problem("a: [1, 2\n", P3CFG_FILE_MODEL, 2, 1,
                 "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence "
                 "at line 1, column 4)");
  expect_problem("name: m\n\tlayers: 2\n", P3CFG_FILE_MODEL, 2, 1,
                 "invalid YAML: found a tab character that violates indentation (while "
                 "scanning a plain scalar at line 1, column 7); indent with spaces, not tabs");
  expect_problem("- 1\n- 2\n", P3CFG_FILE_MODEL, 1, 1,
                 "the top level must be a mapping, got a sequence");
  expect_problem(MODEL_OK "---\n" MODEL_OK, P3CFG_FILE_MODEL, 8, 1,
                 "a second YAML document starts here; a file holds one document");
  expect_problem("", P3CFG_FILE_MODEL, 0, 0, "file is empty");
  expect_problem("# nothing\n\n", P3CFG_FILE_MODEL, 0, 0,
                 "file is empty (only blanks and comments)");
  expect_problem("{a: 1}: 2\n", P3CFG_FILE_MODEL, 1, 1, "keys must be strings, got a mapping");
}

Test(parse, encoding_problems)
{
  p3cfg_model *m = NULL;
  p3cfg_diagnostics *d = NULL;
  static const char nul[] = "name: a\0b\n";
  cr_expect_eq(p3cfg_model_load_string(&m, nul, sizeof nul - 1, "t.yaml", &d), P3CFG_ESYNTAX);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 0)->message,
                   "NUL byte in the text (is this a binary file?)");
  cr_expect_eq(p3cfg_diagnostics_get(d, 0)->column, 8);
  p3cfg_diagnostics_free(d);
  expect_problem("name: \xc3\xa9t\xc3\xa9\nlayers: \xe2\x82\n", P3CFG_FILE_MODEL, 2, 9,
                 "invalid UTF-8: byte 0xe2 followed by 0x0a");
  expect_problem("name: caf\xc3\xa9 \xff\n", P3CFG_FILE_MODEL, 1, 12, "invalid UTF-8 byte 0xff");
  expect_problem("name: \xc0\xaf\n", P3CFG_FILE_MODEL, 1, 7, "invalid UTF-8 byte 0xc0");
  expect_problem("name: \xe2\xe2\n", P3CFG_FILE_MODEL, 1, 7,
                 "invalid UTF-8: byte 0xe2 followed by 0xe2");
  expect_problem("name: ab\xe2\x82", P3CFG_FILE_MODEL, 1, 9,
                 "invalid UTF-8: the text ends inside a multi-byte character");
  expect_problem("name: \xed\xa0\x80\n", P3CFG_FILE_MODEL, 1, 7,
                 "invalid UTF-8: byte 0xed followed by 0xa0");
  expect_problem("name: a\x07\n", P3CFG_FILE_MODEL, 1, 8,
                 "control character U+0007 is not allowed");
  expect_problem("\xff\xfen\0a\0", P3CFG_FILE_MODEL, 1, 1,
                 "text is UTF-16 or UTF-32 (byte order mark); only UTF-8 is supported");
  /* A UTF-8 byte order mark is fine, and does not count as a column. */
  expect_problem("\xef\xbb\xbfname: m\nlayers: x\n", P3CFG_FILE_MODEL, 1, 1,
                 "missing required key 'hidden'");
  /* Windows line ends count once. */
  expect_problem("name: m\r\nlayers: x\r\n", P3CFG_FILE_MODEL, 1, 1,
                 "missing required key 'hidden'");
  d = problems_of("name: m\r\nlayers: x\r\n", P3CFG_FILE_MODEL);
  const p3cfg_diag *g = NULL;
  for (size_t i = 0; i < p3cfg_diagnostics_count(d); i++)
    if (strstr(p3cfg_diagnostics_get(d, i)->message, "layers must"))
      g = p3cfg_diagnostics_get(d, i);
  cr_assert_not_null(g);
  cr_expect_eq(g->line, 2);
  cr_expect_eq(g->column, 9);
  p3cfg_diagnostics_free(d);
}

Test(parse, alias_limits)
{
  /* Aliases are allowed ... */
  p3cfg_cluster *c = cluster_from(CLUSTER_OK "links:\n  granularity: node\n  names: [x, y]\n"
                                             "  bandwidth_GBps: [&r [400, 40], *r]\n");
  cr_expect_float_eq(c->links.bandwidth_Bps[2], 400e9, 1);
  p3cfg_cluster_free(c);
  /* ... but not recursive ones, undefined ones, or ones that blow up. */
  expect_problem("a: &x [1, *x]\n", P3CFG_FILE_MODEL, 1, 11,
                 "alias '*x' refers to a collection that contains it (anchor at line 1, column 4)");
  expect_problem("a: *x\n", P3CFG_FILE_MODEL, 1, 4, "alias '*x' has no anchor '&x' before it");
  expect_problem("a: &x 1\nb: &x 2\n", P3CFG_FILE_MODEL, 2, 4,
                 "anchor '&x' is defined twice (first at line 1, column 4)");
  char text[4096];
  size_t o = (size_t)snprintf(text, sizeof text, "a: &a [1,1,1,1,1,1,1,1,1,1]\n");
  for (int i = 1; i < 10; i++)
    o += (size_t)snprintf(text + o, sizeof text - o,
                          "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", 'a' + i, 'a' + i,
                          'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
                          'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1);
  p3cfg_diagnostics *d = problems_of(text, P3CFG_FILE_MODEL);
  cr_expect_str_eq(p3cfg_diagnostics_get(d, 0)->message,
                   "the document has more than 532480 nodes (aliases count as the nodes they "
                   "repeat)");
  p3cfg_diagnostics_free(d);
}

Test(parse, nesting_limit)
{
  const size_t depth = 100000;
  char *text = malloc(2 * depth + 8);
  memcpy(text, "a: ", 3);
  memset(text + 3, '[', depth);
  memset(text + 3 + depth, ']', depth);
  text[3 + 2 * depth] = '\0';
  expect_problem(text, P3CFG_FILE_MODEL, 1, 67, "nesting is deeper than 64 levels");
  free(text);
}

Test(parse, size_limit_of_strings)
{
  const size_t len = P3CFG__MAX_INPUT_BYTES + 1;
  char *text = malloc(len + 1);
  memset(text, ' ', len);
  text[len] = '\0';
  expect_problem(text, P3CFG_FILE_MODEL, 0, 0, "text is larger than the limit of 16 MiB");
  free(text);
}
