/*
 * fuzz_common.h — what the fuzz targets of tests/fuzz/ share: the oracles every input
 * must satisfy beyond "no crash, no leak" (a failed load returns no object, a successful
 * one returns no problem; every message is one printable line with a sane position; the
 * last error agrees with the first problem), and a small model and cluster to run the
 * estimator and the search on whatever the parsers accept.
 *
 * A broken oracle calls abort(), which libFuzzer reports as a crash and the replay driver
 * (replay_main.c) as a failed test. Only the public API is used, so the targets build
 * against the shared or the static library alike.
 */
#ifndef P3CFG_FUZZ_COMMON_H
#define P3CFG_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"

/* The libFuzzer entry point every target defines (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
      abort();                                                                             \
    }                                                                                      \
  } while (0)

/* One line, printable (bytes >= 0x20 other than DEL; UTF-8 passes), not empty. */
static inline int fuzz_one_line(const char *s)
{
  if (!s || !s[0])
    return 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7F)
      return 0;
  return 1;
}

/* The diagnostics of a load that returned `rc`: at most 101 problems, each a one-line
 * message with a known code and a position inside the text (or none), and the first one
 * is the last error. */
static inline void fuzz_check_diags(const p3cfg_diagnostics *d, int rc, const char *name)
{
  if (rc == P3CFG_ENOMEM) {
    FUZZ_CHECK(d == NULL);
    return;
  }
  FUZZ_CHECK(d != NULL);
  const size_t n = p3cfg_diagnostics_count(d);
  FUZZ_CHECK((n == 0) == (rc == P3CFG_OK));
  FUZZ_CHECK(n <= 101);
  FUZZ_CHECK(p3cfg_diagnostics_get(d, n) == NULL);
  for (size_t i = 0; i < n; i++) {
    const p3cfg_diag *g = p3cfg_diagnostics_get(d, i);
    FUZZ_CHECK(g != NULL);
    FUZZ_CHECK(g->code == P3CFG_ESYNTAX || g->code == P3CFG_EVALUE || g->code == P3CFG_EIO);
    FUZZ_CHECK(fuzz_one_line(g->message));
    FUZZ_CHECK(strcmp(g->file, name) == 0);
    FUZZ_CHECK(g->line >= 0 && g->column >= 0);
    FUZZ_CHECK((g->line == 0) == (g->column == 0));
  }
  if (n > 0) {
    const p3cfg_error *e = p3cfg_error_last();
    const p3cfg_diag *first = p3cfg_diagnostics_get(d, 0);
    FUZZ_CHECK(e->code == rc && rc == first->code);
    FUZZ_CHECK(strcmp(e->message, first->message) == 0);
    FUZZ_CHECK(e->line == first->line && e->column == first->column);
  }
}

/* A small model and cluster for the estimator and the search (a 2-layer model on 2 x 4
 * GPUs keeps each run in the microseconds). */
static const char fuzz_model_text[] =
    "name: fuzz-model\nlayers: 4\nhidden: 256\nheads: 8\nkv_heads: 4\nvocab: 1000\n"
    "seq_len: 512\nglobal_batch: 16\nactivation: swiglu\n";
static const char fuzz_cluster_text[] =
    "name: fuzz-cluster\nnodes: 2\ngpus_per_node: 4\ngpu: h100-sxm\n"
    "network: {intra_node_GBps: 450, inter_node_GBps: 50}\n"
    "links:\n  granularity: node\n  names: [a, b]\n"
    "  bandwidth_GBps: [[450, 40], [35, 450]]\n";

/* Every accessor of a result, over every plan, with the reports (JSON, tables, SVG
 * pictures) on top: nothing may crash, leak or come back inconsistent. */
static inline void fuzz_walk_result(const p3cfg_result *r, const p3cfg_model *m,
                                    const p3cfg_cluster *c, int reports)
{
  const size_t n = p3cfg_result_count(r);
  for (size_t i = 0; i <= n; i++) {
    const p3cfg_plan *plan = p3cfg_result_plan(r, i);
    const p3cfg_memory *mem = p3cfg_result_memory(r, i);
    FUZZ_CHECK((plan != NULL) == (i < n));
    FUZZ_CHECK((mem != NULL) == (i < n));
    size_t ranks = 0;
    const p3cfg_rank_place *place = p3cfg_result_placement(r, i, &ranks);
    if (i == n) {
      FUZZ_CHECK(place == NULL && p3cfg_result_time(r, i) == NULL);
      continue;
    }
    FUZZ_CHECK(mem->n_stages == plan->pp);
    FUZZ_CHECK(mem->total_bytes >= mem->peak_bytes);
    for (uint32_t s = 0; s < mem->n_stages; s++)
      FUZZ_CHECK(mem->stages[s].peak_bytes <= mem->peak_bytes);
    if (place) {
      p3cfg_cluster_info ci;
      FUZZ_CHECK(p3cfg_cluster_get_info(&ci, c) == P3CFG_OK);
      FUZZ_CHECK(ranks == (size_t)plan->dp * plan->tp * (plan->cp ? plan->cp : 1) * plan->pp);
      for (size_t k = 0; k < ranks; k++) {
        FUZZ_CHECK(place[k].rank == k && place[k].gpu < ci.gpus_per_node);
        FUZZ_CHECK(p3cfg_cluster_node_name(c, place[k].node) != NULL);
        FUZZ_CHECK(place[k].dp < plan->dp && place[k].tp < plan->tp && place[k].pp < plan->pp);
      }
    }
    const p3cfg_time *t = p3cfg_result_time(r, i);
    if (t)
      FUZZ_CHECK(t->iteration_s > 0 && t->iteration_s < 1e300 && t->mfu >= 0);
    if (reports) {
      p3cfg_buffer b = {0};
      if (p3cfg_result_plan_json(&b, r, i, m, c) == P3CFG_OK)
        FUZZ_CHECK(b.data && strlen(b.data) == b.len);
      p3cfg_buffer_dispose(&b);
      if (p3cfg_result_plan_table(&b, r, i, m, c) == P3CFG_OK)
        FUZZ_CHECK(b.data && strlen(b.data) == b.len);
      p3cfg_buffer_dispose(&b);
      /* The pictures: SVG documents, or a refusal with a reason (no time part, too many
       * operations to draw). */
      int (*const svg[3])(p3cfg_buffer *, const p3cfg_result *, size_t, const p3cfg_model *,
                          const p3cfg_cluster *) = {
          p3cfg_result_svg_timeline, p3cfg_result_svg_links, p3cfg_result_svg_memory};
      for (int k = 0; k < 3; k++) {
        int rc = svg[k](&b, r, i, m, c);
        FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EINVALID || rc == P3CFG_EUNSUPPORTED);
        if (rc == P3CFG_OK)
          FUZZ_CHECK(b.data && strlen(b.data) == b.len && strstr(b.data, "</svg>"));
        p3cfg_buffer_dispose(&b);
      }
    }
  }
}

#endif
