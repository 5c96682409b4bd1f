/*
 * placement_default.c — fill a result entry with the default placement (rank r on GPU
 * r). The placement search (issue "Placement") starts from this map.
 */
#include "placement_default.h"

#include "alloc.h"
#include "error.h"

int p3cfg__placement_default(p3cfg__result_entry *entry, const p3cfg_cluster *c)
{
  const p3cfg_plan *p = &entry->plan;
  const size_t n = (size_t)p->dp * p->tp * p->pp;
  p3cfg_rank_place *ranks = p3cfg__calloc(n, sizeof *ranks);
  if (!ranks)
    return p3cfg__error_nomem();
  for (uint32_t r = 0; r < n; r++) {
    p3cfg_rank_place *rp = &ranks[r];
    rp->rank = r;
    rp->node = r / c->gpus_per_node;
    rp->gpu = r % c->gpus_per_node;
    p3cfg__rank_coords(p, r, &rp->dp, &rp->pp, &rp->tp);
  }
  p3cfg__free(entry->placement);
  entry->placement = ranks;
  entry->n_ranks = n;
  return P3CFG_OK;
}
