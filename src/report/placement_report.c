/*
 * placement_report.c — summarising a placement for people: for each kind of traffic
 * (tensor-parallel groups, pipeline hops between adjacent stages, data-parallel rings,
 * and an expert-parallel plan's all-to-all: every ordered pair of each EP group) how many
 * links it crosses and which is the slowest, read from the cluster's measured links
 * through the plan's rank -> GPU map.
 */
#include "placement_report.h"

#include "links.h"
#include "mesh.h"

typedef struct worst_link {
  double Bps;
  uint32_t src, dst; /* global GPU ids */
  uint64_t inter;    /* hops that leave their node */
  uint64_t total;
} worst_link;

static void see(worst_link *w, const p3cfg_cluster *c, uint32_t src, uint32_t dst)
{
  if (src == dst)
    return;
  double Bps, lat;
  p3cfg__link(c, src, dst, &Bps, &lat);
  w->total++;
  w->inter += src / c->gpus_per_node != dst / c->gpus_per_node;
  if (w->total == 1 || Bps < w->Bps) {
    w->Bps = Bps;
    w->src = src;
    w->dst = dst;
  }
}

static uint32_t gpu_of(const p3cfg__result_entry *e, const p3cfg_cluster *c, uint32_t rank)
{
  return e->placement[rank].node * c->gpus_per_node + e->placement[rank].gpu;
}

static void line(p3cfg__text *t, const char *what, const worst_link *w, const p3cfg_cluster *c)
{
  if (w->total == 0) {
    p3cfg__text_printf(t, "  %-22s none\n", what);
    return;
  }
  const uint32_t gpn = c->gpus_per_node;
  p3cfg__text_printf(t, "  %-22s %llu hops, %llu across nodes; slowest %.1f GB/s: %s:%u -> %s:%u\n",
                     what, (unsigned long long)w->total, (unsigned long long)w->inter,
                     w->Bps / 1e9, p3cfg_cluster_node_name(c, w->src / gpn), w->src % gpn,
                     p3cfg_cluster_node_name(c, w->dst / gpn), w->dst % gpn);
}

void p3cfg__placement_summary(p3cfg__text *t, const p3cfg__result_entry *e,
                              const p3cfg_cluster *c)
{
  if (!e->placement)
    return;
  p3cfg__mesh M;
  p3cfg__mesh_of(&M, &e->plan);
  const uint32_t tp = M.size[P3CFG__MESH_TP], dp = M.size[P3CFG__MESH_DP];
  const uint32_t pp = M.size[P3CFG__MESH_PP];
  worst_link tpw = {0}, ppw = {0}, dpw = {0};
  for (uint32_t r = 0; r < M.ranks; r++) {
    uint32_t co[P3CFG__MESH_DIMS];
    p3cfg__mesh_coords(&M, r, co);
    const uint32_t s = co[P3CFG__MESH_PP], d = co[P3CFG__MESH_DP], k = co[P3CFG__MESH_TP];
    const uint32_t g = gpu_of(e, c, r);
    if (tp > 1) /* ring inside the tensor-parallel group */
      see(&tpw, c, g, gpu_of(e, c, p3cfg__mesh_move(&M, P3CFG__MESH_TP, r, k, (k + 1) % tp)));
    if (s + 1 < pp) /* activations to the next stage */
      see(&ppw, c, g, gpu_of(e, c, p3cfg__mesh_move(&M, P3CFG__MESH_PP, r, s, s + 1)));
    if (dp > 1) /* ring over the replicas */
      see(&dpw, c, g, gpu_of(e, c, p3cfg__mesh_move(&M, P3CFG__MESH_DP, r, d, (d + 1) % dp)));
  }
  p3cfg__text_printf(t, "placement (%s):\n",
                     e->place_info.optimized ? (e->place_info.exact ? "optimised, exact"
                                                                    : "optimised, annealed")
                                             : "default: rank r on GPU r");
  line(t, "tensor-parallel rings", &tpw, c);
  line(t, "pipeline hops", &ppw, c);
  line(t, "data-parallel rings", &dpw, c);
  p3cfg__mesh X; /* the expert mesh (etp, 1, ep, edp, pp): its EP groups' all-to-all */
  p3cfg__mesh_expert_of(&X, &e->plan);
  if (X.size[P3CFG__MESH_EP] > 1) {
    worst_link epw = {0};
    const uint32_t groups = p3cfg__mesh_groups(&X, P3CFG__MESH_EP);
    for (uint32_t k = 0; k < groups; k++) {
      const p3cfg__mesh_group grp = p3cfg__mesh_group_nth(&X, P3CFG__MESH_EP, k);
      for (uint32_t a = 0; a < grp.count; a++)
        for (uint32_t b = 0; b < grp.count; b++)
          if (a != b)
            see(&epw, c, gpu_of(e, c, p3cfg__mesh_member(&grp, a)),
                gpu_of(e, c, p3cfg__mesh_member(&grp, b)));
    }
    line(t, "expert-parallel pairs", &epw, c);
  }
  if (e->place_info.optimized && e->place_info.default_s > 0)
    p3cfg__text_printf(t, "  %-22s %.4f s -> %.4f s per iteration (%.2f%% faster), %llu "
                          "placements evaluated in %.3f s\n",
                       "gain over default", e->place_info.default_s, e->place_info.placed_s,
                       100.0 * (e->place_info.default_s - e->place_info.placed_s) /
                           e->place_info.default_s,
                       (unsigned long long)e->place_info.moves, e->place_info.elapsed_s);
}
