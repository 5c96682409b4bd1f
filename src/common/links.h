/*
 * links.h — bandwidth and latency between two GPUs of a cluster: measured `links`
 * where present (node or GPU granularity), the `network` figures otherwise.
 */
#ifndef P3CFG_LINKS_H
#define P3CFG_LINKS_H

#include <stdint.h>

#include "types.h"

/* Per-direction bandwidth (bytes/s) and latency (s) from GPU `src` to GPU `dst`
 * (global ids: node * gpus_per_node + local). src == dst gives the intra-node figures. */
static inline void p3cfg__link(const p3cfg_cluster *c, uint32_t src, uint32_t dst,
                               double *Bps, double *latency_s)
{
  const uint32_t gpn = c->gpus_per_node;
  const uint32_t sn = src / gpn, dn = dst / gpn;
  switch (c->links.granularity) {
  case P3CFG_LINKS_GPU:
    if (src != dst) {
      const uint64_t k = (uint64_t)src * c->links.n + dst;
      *Bps = c->links.bandwidth_Bps[k];
      *latency_s = c->links.latency_s[k];
      return;
    }
    break;
  case P3CFG_LINKS_NODE: {
    const uint64_t k = (uint64_t)sn * c->links.n + dn;
    *Bps = c->links.bandwidth_Bps[k];
    *latency_s = c->links.latency_s[k];
    return;
  }
  case P3CFG_LINKS_NONE:
    break;
  }
  if (sn == dn) {
    *Bps = c->intra_Bps;
    *latency_s = c->intra_latency_s;
  } else {
    *Bps = c->inter_Bps;
    *latency_s = c->inter_latency_s;
  }
}

#endif
