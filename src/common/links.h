/*
 * links.h — bandwidth and latency between two GPUs of a cluster: measured `links`
 * where present (node or GPU granularity), the `network` figures otherwise, on the
 * cluster's fabric: the node, the NVLink domain above it (GPUs of one domain talk at the
 * NVLink figure even on different trays), and the leaf and spine tiers of the network
 * (traffic between leaves sees the spine's oversubscription). This is the one place that
 * says which pairs are fast: every collective, send and placement asks it.
 */
#ifndef P3CFG_LINKS_H
#define P3CFG_LINKS_H

#include <stdint.h>

#include "types.h"

/* GPUs of one NVLink domain (gpus_per_node unless the cluster file says more). */
static inline uint32_t p3cfg__domain_gpus(const p3cfg_cluster *c)
{
  return c->nvlink_domain > c->gpus_per_node ? c->nvlink_domain : c->gpus_per_node;
}

/* Whether GPUs a and b (global ids) share an NVLink domain (a node, or an NVL72 rack). */
static inline int p3cfg__same_domain(const p3cfg_cluster *c, uint32_t a, uint32_t b)
{
  const uint32_t d = p3cfg__domain_gpus(c);
  return a / d == b / d;
}

/* Whether the cluster has a spine that slows some cross-leaf traffic: with one, a link's
 * cost depends on more than which domains its GPUs are in. */
static inline int p3cfg__has_spine(const p3cfg_cluster *c)
{
  return c->leaf_gpus > 0 && c->spine_oversubscription > 1.0;
}

/* The GPU count after which the `network` figures of a cluster repeat: a translation of
 * every GPU id by it changes no link (the domain; with a spine or rails the leaf group).
 * The time model evaluates one group per class of this period on a uniform network. */
static inline uint32_t p3cfg__link_period(const p3cfg_cluster *c)
{
  /* Rails repeat every node, so every domain (a multiple of the node) keeps them. */
  return p3cfg__has_spine(c) ? c->leaf_gpus : p3cfg__domain_gpus(c);
}

/* Whether two placements of one plan can differ in time: measured links, or a fabric
 * above the node (several NVLink domains of several nodes, an oversubscribed spine over
 * several leaves, rails). On a plain two-tier network, or inside one NVLink domain,
 * every placement that keeps the units is equal. */
static inline int p3cfg__placement_matters(const p3cfg_cluster *c)
{
  const uint64_t gpus = (uint64_t)c->nodes * c->gpus_per_node;
  const uint32_t d = p3cfg__domain_gpus(c);
  if (c->links.granularity != P3CFG_LINKS_NONE)
    return 1;
  if (gpus <= d) /* one domain: every pair at the NVLink figure */
    return 0;
  return d > c->gpus_per_node || (p3cfg__has_spine(c) && gpus > c->leaf_gpus) ||
         c->rail_optimized;
}

/* Whether every link is the same both ways (p3cfg__link(a, b) is p3cfg__link(b, a), and
 * so is p3cfg__link_achieved): on the `network` figures, where every test p3cfg__link and
 * p3cfg__network_link make is symmetric in the pair; a measured matrix need not be. */
static inline int p3cfg__links_symmetric(const p3cfg_cluster *c)
{
  return c->links.granularity == P3CFG_LINKS_NONE;
}

/* GPUs per unit the collectives group a ring by (collectives.c, perf_cache.c): the
 * NVLink domain on `network` figures; the node where links were measured (the matrix
 * itself then says which pairs are fast, and its per-node-pair entries are what the
 * placement's cache keys on). */
static inline uint32_t p3cfg__ring_unit_gpus(const p3cfg_cluster *c)
{
  return c->links.granularity == P3CFG_LINKS_NONE ? p3cfg__domain_gpus(c) : c->gpus_per_node;
}

/* The `network` figures between two GPUs of different domains: inter_Bps, divided by the
 * spine's oversubscription between leaf groups; on rail-optimized leaves a message to
 * another rail is first relayed over NVLink to the GPU on the destination's rail (NCCL's
 * PXN, on by default), which adds one NVLink hop's latency but keeps it off the spine. */
static inline void p3cfg__network_link(const p3cfg_cluster *c, uint32_t src, uint32_t dst,
                                       double *Bps, double *latency_s)
{
  *Bps = c->inter_Bps;
  *latency_s = c->inter_latency_s;
  if (c->leaf_gpus > 0 && src / c->leaf_gpus != dst / c->leaf_gpus &&
      c->spine_oversubscription > 1.0)
    *Bps /= c->spine_oversubscription;
  if (c->rail_optimized && src % c->gpus_per_node != dst % c->gpus_per_node)
    *latency_s += c->intra_latency_s;
}

/* Per-direction bandwidth (bytes/s) and latency (s) from GPU `src` to GPU `dst`
 * (global ids: node * gpus_per_node + local). src == dst gives the intra-node figures.
 * Measured links take precedence over the fabric. */
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
  if (sn == dn || p3cfg__same_domain(c, src, dst)) {
    *Bps = c->intra_Bps;
    *latency_s = c->intra_latency_s;
  } else {
    p3cfg__network_link(c, src, dst, Bps, latency_s);
  }
}

#endif
