/*
 * test_export.c — plan files and exports (suite "export"): a result read back from its
 * own JSON equals the result taken directly (plans, model, cluster, placement, and every
 * export byte for byte), positioned errors of the reader, the search progress callback,
 * and the recording pipeline simulation against the fast one (suite "trace").
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"
#include "pipeline_trace.h"

#include "../preset_files.h"

static void same_records(const p3cfg_plan_file *a, const p3cfg_plan_file *b)
{
  cr_assert_eq(p3cfg_plan_file_count(a), p3cfg_plan_file_count(b));
  for (size_t i = 0; i < p3cfg_plan_file_count(a); i++) {
    const p3cfg_plan *pa = p3cfg_plan_file_plan(a, i), *pb = p3cfg_plan_file_plan(b, i);
    cr_assert(pa->dp == pb->dp && pa->tp == pb->tp && pa->pp == pb->pp &&
              pa->micro_batch == pb->micro_batch && pa->virtual_stages == pb->virtual_stages &&
              pa->recompute == pb->recompute && pa->sequence_parallel == pb->sequence_parallel &&
              pa->zero_stage == pb->zero_stage && pa->overlap == pb->overlap &&
              pa->global_batch == pb->global_batch && pa->n_stage_layers == pb->n_stage_layers);
    cr_assert_arr_eq(pa->stage_layers, pb->stage_layers, pa->n_stage_layers * sizeof(uint32_t));
    const p3cfg_plan_model *ma = p3cfg_plan_file_model(a, i), *mb = p3cfg_plan_file_model(b, i);
    cr_assert_str_eq(ma->name, mb->name);
    cr_assert(ma->layers == mb->layers && ma->kv_heads == mb->kv_heads &&
              ma->vocab == mb->vocab && ma->tied_embeddings == mb->tied_embeddings &&
              ma->flash_attention == mb->flash_attention);
    cr_assert_str_eq(ma->activation, mb->activation);
    cr_assert_str_eq(ma->position_embedding, mb->position_embedding);
    const p3cfg_plan_cluster *ca = p3cfg_plan_file_cluster(a, i), *cb = p3cfg_plan_file_cluster(b, i);
    cr_assert(ca->nodes == cb->nodes && ca->gpus_per_node == cb->gpus_per_node);
    for (uint32_t k = 0; k < ca->nodes; k++)
      cr_assert_str_eq(ca->node_names[k], cb->node_names[k]);
    size_t na = 0, nb = 0;
    const p3cfg_rank_place *ra = p3cfg_plan_file_placement(a, i, &na);
    const p3cfg_rank_place *rb = p3cfg_plan_file_placement(b, i, &nb);
    cr_assert_eq(na, nb);
    cr_assert_arr_eq(ra, rb, na * sizeof *ra);
    for (int f = P3CFG_EXPORT_MEGATRON; f <= P3CFG_EXPORT_HOSTFILE; f++) {
      p3cfg_buffer xa = {0}, xb = {0};
      const int rc = p3cfg_export(&xa, a, i, (p3cfg_export_format)f);
      cr_assert_eq(rc, p3cfg_export(&xb, b, i, (p3cfg_export_format)f));
      if (rc == 0)
        cr_assert_str_eq(xa.data, xb.data, "%s differs", p3cfg_export_format_name(f));
      p3cfg_buffer_dispose(&xa);
      p3cfg_buffer_dispose(&xb);
    }
  }
}

Test(export, json_round_trip_equals_direct_result)
{
  p3cfg_model *m = model("llama3-70b.yaml");
  p3cfg_cluster *c = cluster("pipette-a100-16n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 3;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  p3cfg_buffer json = {0};
  cr_assert_eq(p3cfg_result_search_json(&json, r, m, c), 0);
  p3cfg_plan_file *direct = NULL, *read = NULL;
  cr_assert_eq(p3cfg_plan_file_from_result(&direct, r, m, c), 0);
  cr_assert_eq(p3cfg_plan_file_load_string(&read, json.data, json.len, "plans.json", NULL), 0,
               "%s", p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_plan_file_count(read), 3);
  same_records(direct, read);
  p3cfg_plan_file_free(direct);
  p3cfg_plan_file_free(read);
  p3cfg_buffer_dispose(&json);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* Load `text` as a plan file and return the first problem as "LINE:COL: message". */
static void expect_error(const char *text, const char *want)
{
  p3cfg_plan_file *f = (p3cfg_plan_file *)1;
  p3cfg_diagnostics *d = NULL;
  const int rc = p3cfg_plan_file_load_string(&f, text, strlen(text), "p.json", &d);
  cr_assert_neq(rc, 0);
  cr_assert_null(f);
  const p3cfg_error *e = p3cfg_error_last();
  char got[512];
  snprintf(got, sizeof got, "%d:%d: %s", e->line, e->column, e->message);
  cr_assert_str_eq(got, want);
  cr_assert_str_eq(e->file, "p.json");
  cr_assert_geq(p3cfg_diagnostics_count(d), 1);
  p3cfg_diagnostics_free(d);
}

Test(export, reader_reports_positions)
{
  expect_error("[1, 2]\n", "1:1: the top level must be a mapping, got a sequence");
  expect_error("{\"plans\": []}\n", "1:11: plans is empty: the search found no plan to export");
  expect_error("{\"plans\": [{\"config\": {}}]}\n",
               "1:12: missing required key 'model' in plans[0]");
  expect_error("{\"config\": 3, \"model\": {}, \"cluster\": {}, \"placement\": {}}\n",
               "1:12: config must be a mapping, got 3");
}

Test(export, arguments_and_formats)
{
  p3cfg_export_format f;
  cr_assert_eq(p3cfg_export_format_parse(&f, "torchtitan"), 0);
  cr_assert_eq(f, P3CFG_EXPORT_TORCHTITAN);
  cr_assert_str_eq(p3cfg_export_format_name(P3CFG_EXPORT_HOSTFILE), "hostfile");
  cr_assert_str_eq(p3cfg_export_format_name((p3cfg_export_format)42), "?");
  cr_assert_eq(p3cfg_export_format_parse(&f, "slurm"), P3CFG_EINVALID);
  cr_assert_str_eq(p3cfg_error_last()->message, "unknown export format \"slurm\": expected "
                                                "megatron, torchtitan, deepspeed, rankfile, "
                                                "hostfile, sbatch or launch");
  p3cfg_buffer b = {0};
  cr_assert_eq(p3cfg_export(&b, NULL, 0, P3CFG_EXPORT_MEGATRON), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_export(NULL, NULL, 0, P3CFG_EXPORT_MEGATRON), P3CFG_EINVALID);
  cr_assert_eq(p3cfg_plan_file_count(NULL), 0);
  cr_assert_null(p3cfg_plan_file_plan(NULL, 0));
  p3cfg_plan_file_free(NULL);
}

/* ---- the progress callback of p3cfg_search ------------------------------------------- */

typedef struct seen {
  int calls, ends;
  uint32_t last, total;
  int decreasing;
} seen;

static void on_progress(void *payload, uint32_t done, uint32_t total)
{
  seen *s = payload;
  s->decreasing |= done < s->last;
  s->last = done;
  s->total = total;
  s->ends += done == total;
  s->calls++;
}

Test(export, search_progress_reaches_one)
{
  p3cfg_model *m = model("megatron-18.4b.yaml");
  p3cfg_cluster *c = cluster("pipette-a100-16n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  seen s = {0, 0, 0, 0, 0};
  o.threads = 4;
  o.progress = on_progress;
  o.progress_payload = &s;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  cr_assert_geq(s.calls, 1);
  cr_assert_eq(s.total, 1000);
  cr_assert_eq(s.last, 1000);
  cr_assert_eq(s.ends, 1);
  cr_assert_not(s.decreasing);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

/* ---- the recording simulation equals the fast one ---------------------------------------- */

static double uniform(unsigned *state)
{
  *state = *state * 1103515245u + 12345u;
  return 0.5 + (double)((*state >> 8) & 0xffff) / 65536.0;
}

static void compare(uint32_t p, uint32_t v, uint64_t m, unsigned seed)
{
  double F[64], B[64], sf[16], sb[16];
  for (uint32_t i = 0; i < p * v; i++)
    F[i] = uniform(&seed), B[i] = 2 * uniform(&seed);
  for (uint32_t j = 0; j < p; j++)
    sf[j] = 0.1 * uniform(&seed), sb[j] = 0.1 * uniform(&seed);
  const p3cfg__pipe pipe = {p, v, m, F, B, sf, sb};
  double end[16], end_c[16], first[64], last_b[16];
  p3cfg__pipe_result res;
  memset(&res, 0, sizeof res);
  res.end_s = end, res.end_comm_s = end_c, res.first_fwd_s = first, res.last_bwd_s = last_b;
  const size_t ws_bytes = p3cfg__pipe_ws_bytes(p, v, m);
  void *ws = malloc(ws_bytes);
  cr_assert_eq(p3cfg__pipe_simulate(&res, &pipe, ws, ws_bytes), 0);
  free(ws);
  p3cfg__pipe_trace t;
  cr_assert_eq(p3cfg__pipe_trace_run(&t, &pipe), 0);
  for (uint32_t j = 0; j < p; j++) {
    const p3cfg__pipe_event *e = &t.events[j * t.per_rank];
    for (size_t q = 1; q < t.per_rank; q++)
      cr_assert_geq(e[q].start_s, e[q - 1].end_s, "rank %u overlaps itself", j);
    cr_assert(fabs(e[t.per_rank - 1].end_s - end[j]) <= 1e-9 * end[j],
              "p %u v %u m %llu rank %u: trace ends at %.9g, simulation at %.9g", p, v,
              (unsigned long long)m, j, e[t.per_rank - 1].end_s, end[j]);
  }
  p3cfg__pipe_trace_dispose(&t);
}

Test(trace, recording_simulation_matches_the_fast_one)
{
  /* 1F1B (m < p-1, m = p-1, steady), interleaved (m = p, m = 2p, long). */
  compare(4, 1, 2, 1);
  compare(4, 1, 3, 2);
  compare(8, 1, 64, 3);
  compare(4, 2, 4, 4);
  compare(4, 3, 8, 5);
  compare(8, 3, 96, 6);
  compare(2, 4, 40, 7);
  compare(1, 1, 5, 8);
}
