/*
 * test_search_dims.c — the search's context, expert and expert-tensor dimensions
 * (search_dims.c): cp is searched only from seq_len 16384 and fixed by the option, ep
 * over the divisors of the experts of a mixture-of-experts model (1 for a dense one),
 * etp over 1 and tp; fixed values that break a rule are counted under that rule; a
 * version-3 options struct still searches as before. The MoE model is Mixtral 8x7B's
 * shape (mistralai/Mixtral-8x7B-v0.1 config.json: 8 experts, 2 per token, intermediate
 * 14336) over the Llama 3 8B preset, which has Mixtral's dense dimensions.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "types.h"

#include "../preset_files.h"

static p3cfg_model *mixtral(void)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  m->moe.experts = 8;
  m->moe.top_k = 2;
  m->moe.expert_ffn_hidden = 14336;
  return m;
}

static uint64_t rule_count(const p3cfg_result *r, const char *name)
{
  const p3cfg_search_stats *s = p3cfg_result_search_stats(r);
  for (uint32_t k = 0; k < s->n_rules; k++)
    if (strcmp(s->rule_names[k], name) == 0)
      return s->rejected[k];
  cr_assert_fail("no rule \"%s\"", name);
  return 0;
}

Test(search_dims, a_dense_model_of_8k_tokens_searches_cp_ep_etp_at_their_defaults)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  p3cfg_cluster *c = cluster("dgx-h100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 20;
  o.place = 0;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_expect(p->cp == 1 && p->ep == 1 && p->etp == p->tp, "plan %zu: cp %u ep %u etp %u", i,
              p->cp, p->ep, p->etp);
  }
  /* The same search through a version-3 struct (which ends before cp) is identical. */
  p3cfg_search_options v3 = o;
  v3.version = 3;
  v3.cp = 4; /* past a version-3 struct: never read */
  p3cfg_result *r3 = NULL;
  cr_assert_eq(p3cfg_search(&r3, m, c, &v3), 0, "%s", p3cfg_error_last()->message);
  cr_expect_eq(p3cfg_result_search_stats(r3)->evaluated, p3cfg_result_search_stats(r)->evaluated);
  cr_expect_eq(p3cfg_result_plan(r3, 0)->cp, 1);
  cr_expect_eq(p3cfg_result_time(r3, 0)->iteration_s, p3cfg_result_time(r, 0)->iteration_s);
  p3cfg_result_free(r3);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search_dims, cp_is_searched_from_16k_tokens_and_fixed_by_the_option)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  p3cfg_cluster *c = cluster("dgx-h100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 1000;
  o.place = 0;
  o.tp = 8;
  o.pp = 1;
  p3cfg_result *r = NULL;
  m->seq_len = 16384;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  uint32_t seen = 0; /* bit log2(cp) */
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    seen |= 1u << __builtin_ctz(p->cp);
    cr_expect_eq((uint64_t)p->dp * p->tp * p->cp * p->pp, 64);
    size_t n = 0;
    cr_expect_not_null(p3cfg_result_placement(r, i, &n));
    cr_expect_eq(n, 64, "every GPU has a rank");
  }
  cr_expect_eq(seen, 0xfu, "cp 1, 2, 4 and 8 all among the plans (seen 0x%x)", seen);
  p3cfg_result_free(r);
  o.cp = 2;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  for (size_t i = 0; i < p3cfg_result_count(r); i++)
    cr_expect_eq(p3cfg_result_plan(r, i)->cp, 2);
  cr_expect_eq(p3cfg_result_plan(r, 0)->dp, 4, "64 / (tp 8 * cp 2)");
  p3cfg_result_free(r);
  /* A fixed cp breaking Megatron's seq_len % (2*cp) is counted under its rule. */
  m->seq_len = 16380; /* divisible by 4, not by 8 */
  o.cp = 4;
  o.sequence_parallel = 0; /* else sp's split over tp*cp fails first */
  cr_expect_eq(p3cfg_search(&r, m, c, &o), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "seq_len a multiple of 2*cp"), "%s",
            p3cfg_error_last()->message);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search_dims, ep_and_etp_are_searched_for_a_moe_model)
{
  p3cfg_model *m = mixtral();
  p3cfg_cluster *c = cluster("dgx-h100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.top_k = 1000;
  o.place = 0;
  o.tp = 2;
  o.pp = 4;
  o.micro_batch = 1;
  o.virtual_stages = 1;
  o.recompute = P3CFG_RECOMPUTE_FULL;
  o.zero_stage = 1;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_search(&r, m, c, &o), 0, "%s", p3cfg_error_last()->message);
  /* tp 2 pp 4 dp 8: 16 ranks per stage; ep in {1, 2, 4, 8}, etp in {1, 2}: 8 pairs fold. */
  uint32_t pairs = 0;
  for (size_t i = 0; i < p3cfg_result_count(r); i++) {
    const p3cfg_plan *p = p3cfg_result_plan(r, i);
    cr_expect(p->sequence_parallel, "MoE with tp 2 needs sp");
    cr_expect_eq(8 % p->ep, 0);
    cr_expect(p->etp == 1 || p->etp == 2);
    pairs |= 1u << (__builtin_ctz(p->ep) * 2 + (p->etp == 2));
  }
  /* ep 1 etp 1 holds all 8 experts of 8 layers whole on each GPU (11.3B parameters):
   * it does not fit in 80 GB, every other pair does. */
  cr_expect_eq(pairs, 0xfeu, "every (ep, etp) pair that fits kept (0x%x)", pairs);
  cr_expect_gt(rule_count(r, "mixture of experts with tp > 1 needs sequence parallelism"), 0);
  p3cfg_result_free(r);
  /* ep fixed at a non-divisor of the experts: counted and named. */
  o.ep = 3;
  cr_expect_eq(p3cfg_search(&r, m, c, &o), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "ep does not divide the experts"), "%s",
            p3cfg_error_last()->message);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}

Test(search_dims, ep_on_a_dense_model_is_rejected_by_its_rule)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  p3cfg_cluster *c = cluster("dgx-h100-8n.yaml");
  p3cfg_search_options o = P3CFG_SEARCH_OPTIONS_INIT;
  o.place = 0;
  o.ep = 2;
  p3cfg_result *r = NULL;
  cr_expect_eq(p3cfg_search(&r, m, c, &o), P3CFG_EPLAN);
  cr_expect(strstr(p3cfg_error_last()->message, "expert parallelism on a dense model"), "%s",
            p3cfg_error_last()->message);
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
