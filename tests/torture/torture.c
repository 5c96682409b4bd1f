/*
 * torture.c — allocation-failure torture of the whole library (CTest label `torture`).
 *
 * Each step below is one public call whose outputs the step frees again: loading a model
 * and a cluster (YAML and JSON), validating a file with many problems, an estimate placed
 * on measured links (Pipette's 16-node A100 cluster, Megatron 18.4B), a search with
 * placement, a search that finds no fitting plan (closest miss), every report, and when
 * the library has them the SVG pictures, plan files and launcher exports (also of an
 * expert-parallel MoE plan: its plan file's model record and its EP groups). For N = 1, 2,
 * ... the N-th allocation of the step is made to fail (p3cfg_test_fail_alloc_after): the
 * step must return P3CFG_ENOMEM with the last error saying so, until N passes the number
 * of allocations it makes; then it must return what an unfailed run returns, with the
 * same output bytes (an allocation failure must never be swallowed into a different
 * answer). Leaks are caught by running this program under ASan (the sanitizer build of
 * tests/ci/reliability.sh) or valgrind (the CTest torture_valgrind).
 *
 * cJSON allocates with malloc; the program installs cJSON_InitHooks with the library's
 * own allocator, so the N-th allocation counts cJSON's as well. Not covered: libyaml's
 * allocations (libyaml has no allocator hook; its YAML_MEMORY_ERROR path maps to
 * P3CFG_ENOMEM in yaml_guard.c and is reviewed by reading), and the C library's own
 * (stdio, pthread_create).
 *
 * Usage: torture [--quick] [STEP...]. --quick (for valgrind) takes smaller search budgets
 * and, past the 64th allocation of a step, fails every (N/32)-th one instead of each:
 * reports make thousands of cJSON nodes, all freed by the same few paths.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "p3cfg.h"

#ifndef P3CFG_SOURCE_DIR
#define P3CFG_SOURCE_DIR "."
#endif
#define SRC(path) P3CFG_SOURCE_DIR "/" path

static int quick;
static int failures;

/* Fixed inputs every step reads (made once, without failures). */
static p3cfg_model *model18, *model1t;
static p3cfg_cluster *pipette, *dgx1;
static p3cfg_result *estimated, *searched;
static p3cfg_model *qwen3;           /* Qwen3-30B-A3B: experts and head_dim */
static p3cfg_cluster *h100;          /* one DGX H100 */
static p3cfg_result *moe_estimated;  /* ep 4 on it */
static char *model_json_text;

/* What one step hands back for comparison with the unfailed run. */
typedef struct outcome {
  int rc;
  char *text; /* owned (malloc), or NULL */
} outcome;

typedef void (*step_fn)(outcome *o);

static char *dup_text(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (!d) {
    fprintf(stderr, "torture: out of memory\n");
    exit(2);
  }
  memcpy(d, s, n);
  return d;
}

/* Keep a buffer's text as the step's output and release the buffer. */
static void take_buffer(outcome *o, int rc, p3cfg_buffer *b)
{
  o->rc = rc;
  if (rc == P3CFG_OK)
    o->text = dup_text(b->data);
  p3cfg_buffer_dispose(b);
}

/* A fingerprint of a result that does not depend on timing. */
static char *result_text(const p3cfg_result *r)
{
  char buf[4096];
  size_t o = 0;
  for (size_t i = 0; i < p3cfg_result_count(r) && o < sizeof buf - 200; i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    const p3cfg_memory *m = p3cfg_result_memory(r, i);
    const p3cfg_time *t = p3cfg_result_time(r, i);
    size_t ranks = 0;
    const p3cfg_rank_place *pl = p3cfg_result_placement(r, i, &ranks);
    unsigned long long h = 1469598103934665603ull;
    for (size_t k = 0; pl && k < ranks; k++)
      h = (h ^ (pl[k].node * 131u + pl[k].gpu)) * 1099511628211ull;
    o += (size_t)snprintf(buf + o, sizeof buf - o,
                          "dp%u tp%u pp%u mbs%u v%u rc%d sp%d z%u peak%llu fit%d t%.9g pl%llx\n",
                          p->dp, p->tp, p->pp, p->micro_batch, p->virtual_stages,
                          (int)p->recompute, p->sequence_parallel, p->zero_stage,
                          (unsigned long long)m->peak_bytes, m->fits,
                          t ? t->iteration_s : -1.0, h);
  }
  return dup_text(buf);
}

/* ---- steps -------------------------------------------------------------------------- */

static void step_model_load(outcome *o)
{
  p3cfg_model *m = NULL;
  o->rc = p3cfg_model_load(&m, SRC("models/megatron-18.4b.yaml"), NULL);
  if ((o->rc == P3CFG_OK) != (m != NULL))
    o->rc = P3CFG_EINTERNAL;
  p3cfg_model_info info;
  if (m && p3cfg_model_get_info(&info, m) == P3CFG_OK) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s %llu", info.name, (unsigned long long)info.params_total);
    o->text = dup_text(buf);
  }
  p3cfg_model_free(m);
}

static void step_model_json(outcome *o)
{
  p3cfg_model *m = NULL;
  p3cfg_diagnostics *d = NULL;
  o->rc = p3cfg_model_load_string(&m, model_json_text, strlen(model_json_text), "m.json", &d);
  if (o->rc != P3CFG_ENOMEM && !d)
    o->rc = P3CFG_EINTERNAL;
  p3cfg_diagnostics_free(d);
  p3cfg_model_free(m);
}

static void step_cluster_load(outcome *o)
{
  p3cfg_cluster *c = NULL;
  p3cfg_diagnostics *d = NULL;
  o->rc = p3cfg_cluster_load(&c, SRC("clusters/pipette-a100-16n.yaml"), &d);
  if ((o->rc == P3CFG_OK) != (c != NULL))
    o->rc = P3CFG_EINTERNAL;
  if (c)
    o->text = dup_text(p3cfg_cluster_node_name(c, 15));
  p3cfg_diagnostics_free(d);
  p3cfg_cluster_free(c);
}

static void step_cluster_gpu_links(outcome *o)
{
  p3cfg_cluster *c = NULL;
  o->rc = p3cfg_cluster_load(&c, SRC("tests/fixtures/parse/cluster-links-gpu.yaml"), NULL);
  if (c)
    o->text = dup_text(p3cfg_cluster_node_name(c, 0));
  p3cfg_cluster_free(c);
}

static void step_validate_bad(outcome *o)
{
  p3cfg_diagnostics *d = NULL;
  o->rc = p3cfg_validate_file(&d, NULL, SRC("tests/invalid/cluster-many-problems.yaml"),
                              P3CFG_FILE_AUTO);
  if (d) {
    char buf[64];
    snprintf(buf, sizeof buf, "%zu problems", p3cfg_diagnostics_count(d));
    o->text = dup_text(buf);
  } else if (o->rc != P3CFG_ENOMEM) {
    o->rc = P3CFG_EINTERNAL;
  }
  p3cfg_diagnostics_free(d);
}

static void step_estimate_placed(outcome *o)
{
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = 8;
  plan.pp = 2;
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  eo.place = 1;
  eo.place_moves = quick ? 40 : 400;
  p3cfg_result *r = NULL;
  o->rc = p3cfg_estimate(&r, model18, pipette, &plan, &eo);
  if (r)
    o->text = result_text(r);
  p3cfg_result_free(r);
}

static void step_search_placed(outcome *o)
{
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 2;
  so.tp = 8;
  so.max_micro_batch = quick ? 2 : 4;
  so.place_top = 2;
  so.place_moves = quick ? 40 : 200;
  p3cfg_result *r = NULL;
  o->rc = p3cfg_search(&r, model18, pipette, &so);
  if (r)
    o->text = result_text(r);
  p3cfg_result_free(r);
}

static void step_search_threads(outcome *o)
{
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 2;
  so.threads = 2;
  so.pp = 1;
  so.max_micro_batch = 2;
  so.place = 0;
  p3cfg_result *r = NULL;
  o->rc = p3cfg_search(&r, model18, pipette, &so);
  if (r)
    o->text = result_text(r);
  p3cfg_result_free(r);
}

static void step_search_no_fit(outcome *o)
{
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 2;
  so.max_micro_batch = 2;
  p3cfg_result *r = NULL;
  o->rc = p3cfg_search(&r, model1t, dgx1, &so);
  if (r)
    o->text = result_text(r);
  if (o->rc == P3CFG_EINFEASIBLE && !r)
    o->rc = P3CFG_EINTERNAL;
  p3cfg_result_free(r);
}

static void step_plan_json(outcome *o)
{
  p3cfg_buffer b = {0};
  take_buffer(o, p3cfg_result_plan_json(&b, estimated, 0, model18, pipette), &b);
}

static void step_plan_table(outcome *o)
{
  p3cfg_buffer b = {0};
  take_buffer(o, p3cfg_result_plan_table(&b, estimated, 0, model18, pipette), &b);
}

static void step_search_json(outcome *o)
{
  p3cfg_buffer b = {0};
  take_buffer(o, p3cfg_result_search_json(&b, searched, model18, pipette), &b);
}

static void step_search_table(outcome *o)
{
  p3cfg_buffer b = {0};
  take_buffer(o, p3cfg_result_search_table(&b, searched, model18, pipette, 1), &b);
}

#if P3CFG_TORTURE_SVG
static void step_svg(outcome *o)
{
  p3cfg_buffer b = {0};
  size_t total = 0;
  int rc = p3cfg_result_svg_timeline(&b, estimated, 0, model18, pipette);
  total += b.len;
  p3cfg_buffer_dispose(&b);
  if (rc == P3CFG_OK) {
    rc = p3cfg_result_svg_links(&b, estimated, 0, model18, pipette);
    total += b.len;
    p3cfg_buffer_dispose(&b);
  }
  if (rc == P3CFG_OK) {
    rc = p3cfg_result_svg_memory(&b, estimated, 0, model18, pipette);
    total += b.len;
    p3cfg_buffer_dispose(&b);
  }
  o->rc = rc;
  char buf[64];
  snprintf(buf, sizeof buf, "%zu bytes", total);
  o->text = rc == P3CFG_OK ? dup_text(buf) : NULL;
}
#endif

#if P3CFG_TORTURE_EXPORT
static void step_plan_file_from_result(outcome *o)
{
  p3cfg_plan_file *f = NULL;
  o->rc = p3cfg_plan_file_from_result(&f, searched, model18, pipette);
  if (f) {
    char buf[64];
    snprintf(buf, sizeof buf, "%zu plans", p3cfg_plan_file_count(f));
    o->text = dup_text(buf);
  }
  p3cfg_plan_file_free(f);
}

static char *search_json_text;

static void step_plan_file_load(outcome *o)
{
  p3cfg_plan_file *f = NULL;
  p3cfg_diagnostics *d = NULL;
  o->rc = p3cfg_plan_file_load_string(&f, search_json_text, strlen(search_json_text),
                                      "plans.json", &d);
  if (f) {
    size_t n = 0;
    p3cfg_plan_file_placement(f, 0, &n);
    char buf[64];
    snprintf(buf, sizeof buf, "%zu plans, %zu ranks", p3cfg_plan_file_count(f), n);
    o->text = dup_text(buf);
  }
  p3cfg_diagnostics_free(d);
  p3cfg_plan_file_free(f);
}

static void step_export(outcome *o)
{
  p3cfg_plan_file *f = NULL;
  int rc = p3cfg_plan_file_from_result(&f, searched, model18, pipette);
  char *all = NULL;
  size_t all_len = 0;
  for (int fmt = P3CFG_EXPORT_MEGATRON; rc == P3CFG_OK && fmt <= P3CFG_EXPORT_HOSTFILE; fmt++) {
    p3cfg_buffer b = {0};
    int erc = p3cfg_export(&b, f, 0, (p3cfg_export_format)fmt);
    if (erc == P3CFG_OK) {
      char *n = realloc(all, all_len + b.len + 1);
      if (!n)
        exit(2);
      all = n;
      memcpy(all + all_len, b.data, b.len + 1);
      all_len += b.len;
    } else if (erc != P3CFG_EUNSUPPORTED) {
      rc = erc;
    }
    p3cfg_buffer_dispose(&b);
  }
  p3cfg_plan_file_free(f);
  o->rc = rc;
  o->text = rc == P3CFG_OK ? all : NULL;
  if (rc != P3CFG_OK)
    free(all);
}
#endif

#if P3CFG_TORTURE_EXPORT && P3CFG_TORTURE_SVG
/* An expert-parallel plan through its JSON, the plan-file reader (moe, attention,
 * head_dim), every export and the links picture (EP groups). */
static void step_moe_plan(outcome *o)
{
  p3cfg_buffer json = {0}, b = {0};
  p3cfg_plan_file *f = NULL;
  char *all = NULL;
  size_t all_len = 0;
  int rc = p3cfg_result_plan_json(&json, moe_estimated, 0, qwen3, h100);
  if (rc == P3CFG_OK)
    rc = p3cfg_plan_file_load_string(&f, json.data, json.len, "moe.json", NULL);
  for (int fmt = P3CFG_EXPORT_MEGATRON; rc == P3CFG_OK && fmt <= P3CFG_EXPORT_HOSTFILE; fmt++) {
    const int erc = p3cfg_export(&b, f, 0, (p3cfg_export_format)fmt);
    if (erc == P3CFG_OK) {
      char *n = realloc(all, all_len + b.len + 1);
      if (!n)
        exit(2);
      all = n;
      memcpy(all + all_len, b.data, b.len + 1);
      all_len += b.len;
    } else if (erc != P3CFG_EUNSUPPORTED) {
      rc = erc;
    }
    p3cfg_buffer_dispose(&b);
  }
  if (rc == P3CFG_OK) {
    rc = p3cfg_result_svg_links(&b, moe_estimated, 0, qwen3, h100);
    char *n = rc == P3CFG_OK ? realloc(all, all_len + b.len + 1) : all;
    if (!n)
      exit(2);
    all = n;
    if (rc == P3CFG_OK)
      memcpy(all + all_len, b.data, b.len + 1);
    p3cfg_buffer_dispose(&b);
  }
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
  o->rc = rc;
  o->text = rc == P3CFG_OK ? all : NULL;
  if (rc != P3CFG_OK)
    free(all);
}
#endif

typedef struct step {
  const char *name;
  step_fn fn;
} step;

static const step steps[] = {
    {"model_load", step_model_load},
    {"model_json", step_model_json},
    {"cluster_load", step_cluster_load},
    {"cluster_gpu_links", step_cluster_gpu_links},
    {"validate_bad", step_validate_bad},
    {"estimate_placed", step_estimate_placed},
    {"search_placed", step_search_placed},
    {"search_threads", step_search_threads},
    {"search_no_fit", step_search_no_fit},
    {"plan_json", step_plan_json},
    {"plan_table", step_plan_table},
    {"search_json", step_search_json},
    {"search_table", step_search_table},
#if P3CFG_TORTURE_SVG
    {"svg", step_svg},
#endif
#if P3CFG_TORTURE_EXPORT
    {"plan_file_from_result", step_plan_file_from_result},
    {"plan_file_load", step_plan_file_load},
    {"export", step_export},
#endif
#if P3CFG_TORTURE_EXPORT && P3CFG_TORTURE_SVG
    {"moe_plan", step_moe_plan},
#endif
};

/* ---- the loop ----------------------------------------------------------------------- */

static void fail(const char *name, unsigned long n, const char *fmt, const char *a, const char *b)
{
  fprintf(stderr, "torture: FAIL %s at n = %lu: ", name, n);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  failures++;
}

static int same_text(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Fail allocation 1, 2, ... of one step until it gets through; returns the count. */
static unsigned long torture_step(const step *s)
{
  outcome want = {0, NULL};
  s->fn(&want);
  if (want.rc == P3CFG_ENOMEM || want.rc == P3CFG_EINTERNAL) {
    fail(s->name, 0, "the unfailed run returned %s%s", p3cfg_error_name(want.rc), "");
    free(want.text);
    return 0;
  }
  unsigned long n = 1, tried = 0;
  for (;; n += quick && n > 64 ? n / 32 : 1) {
    outcome got = {0, NULL};
    tried++;
    p3cfg_test_fail_alloc_after(n);
    s->fn(&got);
    p3cfg_test_fail_alloc_after(0);
    if (got.rc == P3CFG_ENOMEM) {
      const p3cfg_error *e = p3cfg_error_last();
      if (e->code != P3CFG_ENOMEM)
        fail(s->name, n, "returned P3CFG_ENOMEM but the last error is %s%s",
             p3cfg_error_name(e->code), "");
      free(got.text);
      continue;
    }
    if (got.rc != want.rc)
      fail(s->name, n, "returned %s instead of %s", p3cfg_error_name(got.rc),
           p3cfg_error_name(want.rc));
    else if (!same_text(got.text, want.text))
      fail(s->name, n, "output differs from the unfailed run:\n%s\n---- expected ----\n%s",
           got.text ? got.text : "(none)", want.text ? want.text : "(none)");
    free(got.text);
    break;
  }
  free(want.text);
  printf("%-24s %6lu allocation points (%lu failed), then %s\n", s->name, n - 1, tried - 1,
         p3cfg_error_name(want.rc));
  fflush(stdout);
  return tried - 1;
}

static void *hook_malloc(size_t n) { return p3cfg__malloc(n); }
static void hook_free(void *p) { p3cfg__free(p); }

static void setup(void)
{
  cJSON_Hooks hooks = {hook_malloc, hook_free};
  cJSON_InitHooks(&hooks);
  if (p3cfg_model_load(&model18, SRC("models/megatron-18.4b.yaml"), NULL) ||
      p3cfg_model_load(&model1t, SRC("models/megatron-1t.yaml"), NULL) ||
      p3cfg_cluster_load(&pipette, SRC("clusters/pipette-a100-16n.yaml"), NULL) ||
      p3cfg_cluster_load(&dgx1, SRC("clusters/dgx-a100-1n.yaml"), NULL)) {
    fprintf(stderr, "torture: cannot load the inputs: %s\n", p3cfg_error_last()->message);
    exit(2);
  }
  model_json_text = dup_text(
      "{\"name\": \"j\", \"layers\": 32, \"hidden\": 4096, \"heads\": 32, \"kv_heads\": 8,"
      " \"ffn_hidden\": 14336, \"activation\": \"swiglu\", \"vocab\": 128256,"
      " \"seq_len\": 8192, \"global_batch\": 1024, \"norm\": \"rmsnorm\", \"bias\": false}");
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = 8;
  plan.pp = 2;
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 2;
  so.tp = 8;
  so.max_micro_batch = 2;
  so.place_top = 2;
  so.place_moves = 40;
  if (p3cfg_estimate(&estimated, model18, pipette, &plan, NULL) ||
      p3cfg_search(&searched, model18, pipette, &so)) {
    fprintf(stderr, "torture: cannot make the results: %s\n", p3cfg_error_last()->message);
    exit(2);
  }
  p3cfg_plan moe;
  p3cfg_plan_init(&moe);
  moe.ep = 4;
  moe.zero_stage = 1;
  if (p3cfg_model_load(&qwen3, SRC("models/qwen3-30b-a3b.yaml"), NULL) ||
      p3cfg_cluster_load(&h100, SRC("clusters/dgx-h100-1n.yaml"), NULL) ||
      p3cfg_estimate(&moe_estimated, qwen3, h100, &moe, NULL)) {
    fprintf(stderr, "torture: cannot make the MoE result: %s\n", p3cfg_error_last()->message);
    exit(2);
  }
#if P3CFG_TORTURE_EXPORT
  p3cfg_buffer b = {0};
  if (p3cfg_result_search_json(&b, searched, model18, pipette)) {
    fprintf(stderr, "torture: no search JSON: %s\n", p3cfg_error_last()->message);
    exit(2);
  }
  search_json_text = dup_text(b.data);
  p3cfg_buffer_dispose(&b);
#endif
}

static void teardown(void)
{
  p3cfg_result_free(estimated);
  p3cfg_result_free(searched);
  p3cfg_result_free(moe_estimated);
  p3cfg_model_free(qwen3);
  p3cfg_cluster_free(h100);
  p3cfg_model_free(model18);
  p3cfg_model_free(model1t);
  p3cfg_cluster_free(pipette);
  p3cfg_cluster_free(dgx1);
  free(model_json_text);
#if P3CFG_TORTURE_EXPORT
  free(search_json_text);
#endif
}

int main(int argc, char **argv)
{
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    quick = 1;
    first = 2;
  }
  setup();
  unsigned long total = 0;
  const size_t n_steps = sizeof steps / sizeof steps[0];
  for (size_t i = 0; i < n_steps; i++) {
    int wanted = first >= argc;
    for (int a = first; a < argc; a++)
      wanted |= strcmp(argv[a], steps[i].name) == 0;
    if (wanted)
      total += torture_step(&steps[i]);
  }
  teardown();
  printf("%lu allocation points failed, %d failure%s\n", total, failures,
         failures == 1 ? "" : "s");
  return failures ? 1 : 0;
}
