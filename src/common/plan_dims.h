/*
 * plan_dims.h — the sizes of a plan's context-, expert- and expert-tensor-parallel
 * dimensions, with p3cfg_plan's "0 means the default" read out (cp, ep: 1; etp: tp),
 * and the expert-data-parallel degree of Megatron-Core's folding: the expert layers use
 * the same tp*cp*dp ranks of a pipeline stage as etp*ep*edp; and the FSDP shard and
 * replicate groups of data parallelism (HSDP, issue 15).
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

/* The FSDP shard group of a ZeRO-3 plan (0: all of dp) and the replicas across groups
 * (HSDP; 1 for plain FSDP). Below stage 3 the whole dp shards what it shards. */
static inline uint32_t p3cfg__plan_dp_shard(const p3cfg_plan *p) {
  return p->zero_stage == 3 && p->dp_shard ? p->dp_shard : p->dp; }
static inline uint32_t p3cfg__plan_dp_replicate(const p3cfg_plan *p) {
  return p->dp / p3cfg__plan_dp_shard(p); }

#endif
