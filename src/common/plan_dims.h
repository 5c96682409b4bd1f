/*
 * plan_dims.h — the sizes of a plan's version-2 dimensions with their defaults applied
 * (p3cfg_plan: 0 means 1 for cp and ep, tp for etp), and Megatron-Core's expert folding
 * of the same ranks: dp*tp*cp = edp*ep*etp (parallel_state.py, the expert-data-parallel
 * group of the expert layers).
 */
#ifndef P3CFG_PLAN_DIMS_H
#define P3CFG_PLAN_DIMS_H

#include <stdint.h>

#include "p3cfg.h"

static inline uint32_t p3cfg__plan_cp(const p3cfg_plan *p)
{
  return p->cp ? p->cp : 1;
}

static inline uint32_t p3cfg__plan_ep(const p3cfg_plan *p)
{
  return p->ep ? p->ep : 1;
}

static inline uint32_t p3cfg__plan_etp(const p3cfg_plan *p)
{
  return p->etp ? p->etp : p->tp;
}

/* Expert data parallel: dp*tp*cp / (ep*etp), at least 1 (a plan whose product does not
 * divide is refused by the validity rules before anything asks). */
static inline uint64_t p3cfg__plan_edp(const p3cfg_plan *p)
{
  const uint64_t ranks = (uint64_t)p->dp * p->tp * p3cfg__plan_cp(p);
  const uint64_t folded = (uint64_t)p3cfg__plan_ep(p) * p3cfg__plan_etp(p);
  return ranks >= folded && folded ? ranks / folded : 1;
}

#endif
