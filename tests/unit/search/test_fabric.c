/*
 * test_fabric.c — the fabric above the node on the shipped presets, through the public
 * API (issue 14): a TP-16 group inside one GB200 NVL72 domain is timed on NVLink, the
 * same plan on DGX B200 nodes of 8 across the NIC; an oversubscribed spine slows a plan
 * whose data-parallel rings cross it; the placement search runs on a fabric without
 * measured links and never does worse than the default placement.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "p3cfg.h"

#include "../preset_files.h"

static p3cfg_time estimate(const p3cfg_model *m, const p3cfg_cluster *c, uint32_t tp,
                           uint32_t pp, uint32_t dp, int place)
{
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = tp, plan.pp = pp, plan.dp = dp, plan.micro_batch = 1;
  p3cfg_estimate_options o;
  p3cfg_estimate_options_init(&o);
  o.place = place;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &plan, &o), 0, "%s", p3cfg_error_last()->message);
  const p3cfg_time t = *p3cfg_result_time(r, 0);
  p3cfg_result_free(r);
  return t;
}

/* GPT-3 175B, tp 16 pp 4 on 64 GPUs: the same GPU (B200 vs GB200 differ in peak, not in
 * links), the TP group on four trays of one NVL72 rack against two DGX B200 nodes. */
Test(search, a_tp16_group_inside_an_nvl72_domain_is_timed_on_nvlink)
{
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *rack = cluster("gb200-nvl72-1r.yaml"), *dgx = cluster("dgx-b200-8n.yaml");
  const p3cfg_time in_domain = estimate(m, rack, 16, 4, 1, 0);
  const p3cfg_time across_nic = estimate(m, dgx, 16, 4, 1, 0);
  cr_expect(in_domain.tp_comm_s < 0.7 * across_nic.tp_comm_s,
            "TP comm inside the NVL72 domain %.3f s, across DGX B200 nodes %.3f s",
            in_domain.tp_comm_s, across_nic.tp_comm_s);
  /* pipeline sends between trays of one rack are NVLink too */
  cr_expect(in_domain.pp_comm_s < 0.1 * across_nic.pp_comm_s, "%.4f vs %.4f s",
            in_domain.pp_comm_s, across_nic.pp_comm_s);
  cr_expect(in_domain.iteration_s < across_nic.iteration_s);
  p3cfg_cluster_free(rack);
  p3cfg_cluster_free(dgx);
  p3cfg_model_free(m);
}

/* Llama 3 8B with dp 64 (tp 8, pp 2) on h100-rail-256n: each stage's DP ring spans 64
 * nodes, two scalable units of 32, so it crosses the 2:1 spine; on the non-blocking DGX
 * H100 cluster it does not. */
Test(search, a_dp_ring_across_the_spine_sees_its_oversubscription)
{
  p3cfg_model *m = model("llama3-8b.yaml");
  p3cfg_cluster *rail = cluster("h100-rail-256n.yaml"), *flat = cluster("dgx-h100-128n.yaml");
  const p3cfg_time spine = estimate(m, rail, 8, 2, 64, 0); /* 1024 of 2048 GPUs */
  const p3cfg_time fat = estimate(m, flat, 8, 2, 64, 0);
  cr_expect(spine.dp_comm_s > 1.5 * fat.dp_comm_s, "spine %.4f s, non-blocking %.4f s",
            spine.dp_comm_s, fat.dp_comm_s);
  cr_expect(spine.tp_comm_s == fat.tp_comm_s, "TP inside nodes: no spine");
  p3cfg_cluster_free(rail);
  p3cfg_cluster_free(flat);
  p3cfg_model_free(m);
}

/* TP 16 on 512 of the 576 GPUs of eight NVL72 racks: by default some TP groups straddle
 * two racks (64-79, ...) and run on the NIC; the placement search, on the fabric alone
 * (no measured links), packs 64 GPUs per rack so that every group is inside one domain. */
Test(search, placement_keeps_tp_groups_inside_nvlink_domains)
{
  p3cfg_model *m = model("gpt3-175b.yaml");
  p3cfg_cluster *c = cluster("gb200-nvl72-8r.yaml");
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = 16, plan.pp = 4, plan.dp = 8, plan.micro_batch = 1;
  p3cfg_estimate_options o;
  p3cfg_estimate_options_init(&o);
  o.place = 1;
  p3cfg_result *r = NULL;
  cr_assert_eq(p3cfg_estimate(&r, m, c, &plan, &o), 0, "%s", p3cfg_error_last()->message);
  const p3cfg_placement_info *info = p3cfg_result_placement_info(r, 0);
  cr_assert_not_null(info);
  cr_expect(info->optimized, "a fabric without measured links is placed");
  cr_expect(info->placed_s < 0.95 * info->default_s, "placed %.3f s, default %.3f s",
            info->placed_s, info->default_s);
  size_t n = 0;
  const p3cfg_rank_place *ranks = p3cfg_result_placement(r, 0, &n);
  cr_assert_eq(n, 512);
  for (size_t g = 0; g < n / 16; g++) {
    const uint32_t rack = ranks[g * 16].node / 18; /* 18 trays of 4 per rack */
    for (size_t i = 1; i < 16; i++)
      cr_expect_eq(ranks[g * 16 + i].node / 18, rack, "TP group %zu spans racks", g);
  }
  p3cfg_result_free(r);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
}
