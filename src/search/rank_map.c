/*
 * rank_map.c — filling a result entry's placement, default or optimised.
 */
#include "rank_map.h"

#include "alloc.h"
#include "error.h"
#include "exclusion.h"
#include "links.h"
#include "mesh.h"

int p3cfg__entry_set_placement(p3cfg__result_entry *entry, const p3cfg_cluster *c,
                               const uint32_t *rank_gpu)
{
  p3cfg__mesh M;
  p3cfg__mesh_of(&M, &entry->plan);
  const size_t n = M.ranks;
  uint32_t *own = NULL;
  if (!rank_gpu && c->excluded) {
    /* The default map skips the excluded GPUs. */
    if (!(own = p3cfg__malloc(n * sizeof *own)))
      return p3cfg__error_nomem();
    int rc = p3cfg__default_map(own, c, entry->plan.tp, n);
    if (rc) {
      p3cfg__free(own);
      return rc;
    }
    rank_gpu = own;
  }
  p3cfg_rank_place *ranks = p3cfg__calloc(n, sizeof *ranks);
  if (!ranks) {
    p3cfg__free(own);
    return p3cfg__error_nomem();
  }
  for (uint32_t r = 0; r < n; r++) {
    p3cfg_rank_place *rp = &ranks[r];
    const uint32_t gpu = rank_gpu ? rank_gpu[r] : r;
    rp->rank = r;
    rp->node = gpu / c->gpus_per_node;
    rp->gpu = gpu % c->gpus_per_node;
    uint32_t at[P3CFG__MESH_DIMS];
    p3cfg__mesh_coords(&M, r, at);
    rp->dp = at[P3CFG__MESH_DP], rp->pp = at[P3CFG__MESH_PP], rp->tp = at[P3CFG__MESH_TP];
  }
  p3cfg__free(own);
  p3cfg__free(entry->placement);
  entry->placement = ranks;
  entry->n_ranks = n;
  return P3CFG_OK;
}

int p3cfg__entry_place(p3cfg__result_entry *entry, const p3cfg_model *m, const p3cfg_cluster *c,
                       const p3cfg__place_opts *opts)
{
  const p3cfg_plan *p = &entry->plan;
  p3cfg__mesh M;
  p3cfg__mesh_of(&M, p);
  const size_t n = M.ranks;
  uint32_t *map = p3cfg__malloc(n * sizeof *map);
  if (!map)
    return p3cfg__error_nomem();
  p3cfg__place_stats st;
  p3cfg_time t;
  int rc = p3cfg__place(map, &t, &st, m, c, p, opts);
  if (rc == P3CFG_OK)
    rc = p3cfg__entry_set_placement(entry, c, map);
  if (rc == P3CFG_OK) {
    entry->time = t;
    entry->has_time = 1;
    entry->place_info.optimized = p3cfg__placement_matters(c);
    entry->place_info.exact = st.exact;
    entry->place_info.default_s = st.default_s;
    entry->place_info.placed_s = st.best_s;
    entry->place_info.moves = st.moves;
    entry->place_info.elapsed_s = st.elapsed_s;
  }
  p3cfg__free(map);
  return rc;
}
