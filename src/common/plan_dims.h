/*
 * plan_dims.h — a plan's context-, expert- and expert-tensor-parallel sizes as every
 * stage reads them: 0 in a plan means 1 for cp and ep and tp for etp (Megatron-Core's
 * defaults), and the expert-data-parallel size follows from dp*tp*cp = etp*ep*edp.
 */
#ifndef P3CFG_PLAN_DIMS_H
#define P3CFG_PLAN_DIMS_H

#include <stdint.h>

#include "p3cfg.h"

static inline uint32_t p3cfg__plan_cp(const p3cfg_plan *p) { return p->cp ? p->cp : 1; }
static inline uint32_t p3cfg__plan_ep(const p3cfg_plan *p) { return p->ep ? p->ep : 1; }
static inline uint32_t p3cfg__plan_etp(const p3cfg_plan *p) { return p->etp ? p->etp : p->tp; }
static inline uint32_t p3cfg__plan_edp(const p3cfg_plan *p) {
  return p->dp * p->tp * p3cfg__plan_cp(p) / (p3cfg__plan_ep(p) * p3cfg__plan_etp(p)); }

#endif
