/*
 * plan_dims.h — the sizes of a plan's context-, expert- and expert-tensor-parallel
 * dimensions, with p3cfg_plan's "0 means the default" read out (cp, ep: 1; etp: tp),
 * and the expert-data-parallel degree of Megatron-Core's folding: the expert layers use
 * the same tp*cp*dp ranks of a pipeline stage as etp*ep*edp.
 */
#ifndef P3CFG_PLAN_DIMS_H
#define P3CFG_PLAN_DIMS_H

#include <stdint.h>

#include "types.h"

static inline uint32_t p3cfg__plan_cp(const p3cfg_plan *p)  { return p->cp ? p->cp : 1; }
static inline uint32_t p3cfg__plan_ep(const p3cfg_plan *p)  { return p->ep ? p->ep : 1; }
static inline uint32_t p3cfg__plan_etp(const p3cfg_plan *p) { return p->etp ? p->etp : p->tp; }
static inline uint32_t p3cfg__plan_edp(const p3cfg_plan *p) {
  return p->dp * p->tp * p3cfg__plan_cp(p) / (p3cfg__plan_ep(p) * p3cfg__plan_etp(p)); }

#endif
