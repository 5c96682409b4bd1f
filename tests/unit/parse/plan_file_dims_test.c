/*
 * plan_file_dims_test.c — plan files carry cp, ep, etp (and edp) through a round trip:
 * the JSON p3cfg writes for a context- and an expert-parallel plan reads back as the same
 * plan, with dp*tp*cp*pp ranks placed and each rank's cp / ep coordinate in the JSON; a
 * file written before these keys reads as cp = ep = 1, etp = tp. The MoE model is
 * Mixtral 8x7B's shape (mistralai/Mixtral-8x7B-v0.1 config.json: 8 experts of 14336)
 * over the Llama 3 8B preset.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "types.h"

#define SRC(path) P3CFG_SOURCE_DIR "/" path

static p3cfg_model *model;
static p3cfg_cluster *cluster;

static void setup(void)
{
  cr_assert_eq(p3cfg_model_load(&model, SRC("models/llama3-8b.yaml"), NULL), P3CFG_OK);
  cr_assert_eq(p3cfg_cluster_load(&cluster, SRC("clusters/dgx-h100-1n.yaml"), NULL), P3CFG_OK);
}

static void teardown(void)
{
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
}

TestSuite(plan_file_dims, .init = setup, .fini = teardown);

/* Estimate `plan`, write its JSON, read it back. */
static p3cfg_plan_file *round_trip(const p3cfg_plan *plan, p3cfg_buffer *json)
{
  p3cfg_estimate_options eo = P3CFG_ESTIMATE_OPTIONS_INIT;
  eo.with_time = 0;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, model, cluster, plan, &eo), P3CFG_OK, "%s",
               p3cfg_error_last()->message);
  cr_assert_eq(p3cfg_result_plan_json(json, r, 0, model, cluster), P3CFG_OK);
  p3cfg_result_free(r);
  p3cfg_plan_file *f = NULL;
  cr_assert_eq(p3cfg_plan_file_load_string(&f, json->data, json->len, "plan.json", NULL),
               P3CFG_OK, "%s", p3cfg_error_last()->message);
  return f;
}

Test(plan_file_dims, a_context_parallel_plan_round_trips)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = 2;
  p.cp = 2;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *f = round_trip(&p, &json);
  cr_expect(strstr(json.data, "\"cp\":\t2"), "config.cp in %s", json.data);
  cr_expect(strstr(json.data, "\"edp\":\t4"), "edp = tp 2 * cp 2 * dp 2 / (ep 1 * etp 2)");
  const p3cfg_plan *got = p3cfg_plan_file_plan(f, 0);
  cr_expect_eq(got->cp, 2);
  cr_expect_eq(got->ep, 1);
  cr_expect_eq(got->etp, 2);
  cr_expect_eq(got->dp, 2, "8 GPUs / (tp 2 * cp 2)");
  size_t n = 0;
  const p3cfg_rank_place *ranks = p3cfg_plan_file_placement(f, 0, &n);
  cr_assert_eq(n, 8);
  /* Rank 2 = tp 0 of cp 1 of dp 0 (tp fastest, then cp, then dp). */
  cr_expect(ranks[2].tp == 0 && ranks[2].dp == 0 && ranks[2].pp == 0);
  cr_expect(ranks[4].dp == 1, "rank 4 starts dp 1");
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
}

Test(plan_file_dims, an_expert_parallel_plan_round_trips)
{
  model->moe.experts = 8;
  model->moe.top_k = 2;
  model->moe.expert_ffn_hidden = 14336;
  model->moe.shared_expert_ffn_hidden = 14336; /* the parser's default */
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = 2;
  p.sequence_parallel = 1;
  p.ep = 4;
  p.etp = 1;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *f = round_trip(&p, &json);
  cr_expect(strstr(json.data, "\"ep\":\t4"), "config.ep");
  cr_expect(strstr(json.data, "\"edp\":\t2"), "edp = tp 2 * dp 4 / (ep 4 * etp 1)");
  cr_expect(strstr(json.data, "\"ep\":\t3"), "rank 3's expert coordinate");
  const p3cfg_plan *got = p3cfg_plan_file_plan(f, 0);
  cr_expect_eq(got->ep, 4);
  cr_expect_eq(got->etp, 1);
  cr_expect_eq(got->cp, 1);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
}

Test(plan_file_dims, a_file_without_the_keys_reads_as_version_1)
{
  p3cfg_plan p = P3CFG_PLAN_INIT;
  p.tp = 4;
  p3cfg_buffer json = {0};
  p3cfg_plan_file *f = round_trip(&p, &json);
  p3cfg_plan_file_free(f);
  /* Remove the new keys (what an older p3cfg wrote). */
  const char *keys[] = {"\"cp\":\t1,", "\"ep\":\t1,", "\"etp\":\t4,", "\"edp\":\t2,"};
  for (size_t k = 0; k < 4; k++) {
    char *at = strstr(json.data, keys[k]);
    cr_assert_not_null(at, "%s", keys[k]);
    const size_t len = strlen(keys[k]);
    memmove(at, at + len, strlen(at + len) + 1);
  }
  cr_assert_eq(p3cfg_plan_file_load_string(&f, json.data, strlen(json.data), "old.json", NULL),
               P3CFG_OK, "%s", p3cfg_error_last()->message);
  const p3cfg_plan *got = p3cfg_plan_file_plan(f, 0);
  cr_expect(got->cp == 1 && got->ep == 1 && got->etp == 4);
  p3cfg_plan_file_free(f);
  p3cfg_buffer_dispose(&json);
}
