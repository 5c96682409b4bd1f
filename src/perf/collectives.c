/*
 * collectives.c — the time of NCCL-style collectives over the links a rank group really
 * uses. A group is the ranks first, first+stride, ... (a TP group has stride 1, a DP
 * group stride tp); each rank runs on the GPU the placement gives it, and every link is
 * looked up between those two GPUs (measured `links` where the cluster has them).
 *
 * Inside one node the group is a ring at its slowest link (Megatron SC'21: ring
 * all-reduce 2(k-1)/k n/bw + 2(k-1) latency, reduce-scatter and all-gather half of it).
 * A group spanning n nodes with the same g ranks on each is hierarchical, as NCCL's
 * rings behave on multi-rail clusters with one NIC per GPU: a reduce-scatter inside each
 * node, g concurrent rings across the nodes (one per local rank, each on its own NIC)
 * carrying n/g bytes each, and an all-gather inside the node. An uneven group falls back
 * to one flat ring at its slowest link. "Node" here is the unit links.h groups rings by
 * (p3cfg__ring_unit_gpus): the NVLink domain, so that a TP group over the trays of one
 * NVL72 rack is one ring on NVLink.
 */
#include "perf_internal.h"

static inline uint32_t member_gpu(const uint32_t *rank_gpu, uint32_t first, uint32_t stride,
                                  uint32_t i)
{
  const uint32_t rank = first + i * stride;
  return rank_gpu ? rank_gpu[rank] : rank;
}

/* Fold the link a -> b into (slowest bandwidth, largest latency). */
static inline void fold_link(const p3cfg_cluster *c, uint32_t a, uint32_t b, double *Bps,
                             double *latency_s)
{
  double bw, lat;
  p3cfg__link_achieved(c, a, b, &bw, &lat);
  if (bw < *Bps)
    *Bps = bw;
  if (lat > *latency_s)
    *latency_s = lat;
}

static void ring_links(p3cfg__ring *out, const p3cfg_cluster *c, const uint32_t *rank_gpu,
                       uint32_t first, uint32_t stride, uint32_t k);

/* A two-tier network on its `network` figures (no measured links, no spine, no rails): a
 * link is the domain's or the network's, and a ring is priced from its shape alone;
 * elsewhere from the links it folds. */
static int two_link_kinds(const p3cfg_cluster *c)
{
  return c->links.granularity == P3CFG_LINKS_NONE && !p3cfg__has_spine(c) && !c->rail_optimized;
}

/* Ring all-reduce (Megatron SC'21, NCCL): 2(k-1)/k n/bw + 2(k-1) latency; hierarchical:
 * that inside the node on n, plus across the nodes on n/g. Kept as latency + slope. */
static void ring_time(p3cfg__ring *out)
{
  out->ar_latency_s = out->ar_s_per_byte = 0.0;
  if (out->k <= 1)
    return;
  if (out->g > 1) {
    const double g = (double)out->g;
    out->ar_latency_s += 2.0 * (g - 1.0) * out->intra_latency_s;
    out->ar_s_per_byte += 2.0 * (g - 1.0) / (g * out->intra_Bps);
  }
  if (out->n > 1) {
    const double n = (double)out->n;
    out->ar_latency_s += 2.0 * (n - 1.0) * out->inter_latency_s;
    out->ar_s_per_byte += 2.0 * (n - 1.0) / (n * (double)out->g * out->inter_Bps);
  }
}

void p3cfg__ring_of(p3cfg__ring *out, const p3cfg_cluster *c, const uint32_t *rank_gpu,
                    uint32_t first, uint32_t stride, uint32_t k)
{
  ring_links(out, c, rank_gpu, first, stride, k);
  ring_time(out);
}

void p3cfg__ring_split(p3cfg__ring *shard, p3cfg__ring *rep, const p3cfg__ring *full,
                       uint32_t shard_k)
{
  const uint32_t k = full->k, g = full->g, n = full->n, r = shard_k ? k / shard_k : 1;
  *shard = *rep = *full;
  shard->k = shard_k, rep->k = r;
  if (n <= 1 || g % shard_k == 0) {
    /* Flat ring, or shards inside a node: the shard ring is flat inside; the replicas
     * keep the full ring's nodes with g / shard_k members on each (flat: g = k). */
    shard->g = shard_k, shard->n = 1;
    rep->g = n <= 1 ? r : g / shard_k, rep->n = n <= 1 ? 1 : n;
  } else if (shard_k % g == 0) { /* shards of whole nodes: replicas one per node */
    shard->g = g, shard->n = shard_k / g;
    rep->g = 1, rep->n = r;
  } else { /* shards across a part of a node: taken as flat at the slower link */
    shard->g = shard_k, shard->n = 1;
    shard->intra_Bps = full->inter_Bps < full->intra_Bps ? full->inter_Bps : full->intra_Bps;
    shard->intra_latency_s = full->inter_latency_s > full->intra_latency_s
                                 ? full->inter_latency_s
                                 : full->intra_latency_s;
    rep->g = 1, rep->n = r;
  }
  ring_time(shard);
  ring_time(rep);
}

/* What ring_links decides from a ring's node sequence, in the cases its consecutive links
 * alone settle: all members on one node, one on a lower node than the member before it,
 * or runs that cannot all be as long (changes + 1 of them not dividing k) make the ring
 * flat at its slowest link; members each on their own node in increasing order make it
 * hierarchical with g = 1, whose rings across the nodes are again the consecutive links. */
int p3cfg__ring_of_chain(p3cfg__ring *out, const p3cfg_cluster *c, uint32_t k,
                         uint32_t descents, uint32_t changes, double min_Bps,
                         double max_latency_s)
{
  if (two_link_kinds(c) || k <= 1 ||
      (descents == 0 && changes != 0 && changes != k - 1 && k % (changes + 1) == 0))
    return -1;
  out->k = k;
  out->intra_Bps = out->inter_Bps = 1e300;
  out->intra_latency_s = out->inter_latency_s = 0.0;
  if (descents > 0 || changes != k - 1) {
    out->g = k, out->n = 1;
    out->intra_Bps = min_Bps, out->intra_latency_s = max_latency_s;
  } else {
    out->g = 1, out->n = k;
    out->inter_Bps = min_Bps, out->inter_latency_s = max_latency_s;
  }
  ring_time(out);
  return 0;
}

static void ring_links(p3cfg__ring *out, const p3cfg_cluster *c, const uint32_t *rank_gpu,
                       uint32_t first, uint32_t stride, uint32_t k)
{
  const uint32_t gpn = p3cfg__ring_unit_gpus(c);
  out->k = k;
  out->g = k;
  out->n = 1;
  out->intra_Bps = out->inter_Bps = 1e300;
  out->intra_latency_s = out->inter_latency_s = 0.0;
  if (k <= 1)
    return;

  /* Runs of consecutive members on one node: hierarchical when every run has the same
   * length g and the runs' nodes increase (so no node appears twice). With the default
   * placement the node of each member follows from the previous one without dividing. */
  const uint32_t step_nodes = stride / gpn, step_rest = stride % gpn;
  uint32_t node = member_gpu(rank_gpu, first, stride, 0) / gpn;
  uint32_t rest = first % gpn;
  uint32_t g = 0, runs = 1, run_len = 1, prev_node = node;
  int even = 1;
  for (uint32_t i = 1; i < k; i++) {
    if (rank_gpu) {
      node = rank_gpu[first + i * stride] / gpn;
    } else {
      node += step_nodes;
      rest += step_rest;
      if (rest >= gpn)
        rest -= gpn, node++;
    }
    if (node != prev_node) {
      if (node < prev_node || (g && run_len != g)) {
        even = 0;
        break;
      }
      if (!g)
        g = run_len;
      runs++;
      run_len = 0;
    }
    run_len++;
    prev_node = node;
  }
  if (even && runs > 1 && run_len != g)
    even = 0;

  if (two_link_kinds(c)) { /* no lookups needed */
    const double intra = c->intra_Bps * P3CFG_NVLINK_EFFICIENCY;
    const double inter = c->inter_Bps * P3CFG_NETWORK_EFFICIENCY;
    if (runs == 1) {
      out->intra_Bps = intra, out->intra_latency_s = c->intra_latency_s;
    } else if (!even) {
      out->intra_Bps = inter < intra ? inter : intra;
      out->intra_latency_s = c->inter_latency_s > c->intra_latency_s ? c->inter_latency_s
                                                                     : c->intra_latency_s;
    } else {
      out->g = g, out->n = runs;
      out->intra_Bps = intra, out->intra_latency_s = c->intra_latency_s;
      out->inter_Bps = inter, out->inter_latency_s = c->inter_latency_s;
    }
    return;
  }

  if (runs == 1 || !even) { /* one flat ring, at its slowest link */
    for (uint32_t i = 0; i < k; i++)
      fold_link(c, member_gpu(rank_gpu, first, stride, i),
                member_gpu(rank_gpu, first, stride, (i + 1) % k), &out->intra_Bps,
                &out->intra_latency_s);
    return;
  }

  out->g = g;
  out->n = runs;
  for (uint32_t r = 0; r < runs; r++)
    for (uint32_t s = 0; s < g; s++) {
      const uint32_t a = member_gpu(rank_gpu, first, stride, r * g + s);
      if (g > 1) /* ring inside node r */
        fold_link(c, a, member_gpu(rank_gpu, first, stride, r * g + (s + 1) % g),
                  &out->intra_Bps, &out->intra_latency_s);
      /* ring s across the nodes */
      fold_link(c, a, member_gpu(rank_gpu, first, stride, ((r + 1) % runs) * g + s),
                &out->inter_Bps, &out->inter_latency_s);
    }
}

/* The links an all-to-all member sees (p3cfg__a2a_member, perf_internal.h), shared by
 * the two dispatchers' collectives. */
typedef p3cfg__a2a_member member_links;

/* Default map on the `network` figures: the members' GPUs increase, so each domain's
 * members are one run starting at member i; its members see the same counts, and each
 * link class is priced by one lookup (the slowest peer off the domain: the farthest one,
 * across the spine where there is one). Returns the run's length. */
static uint32_t run_links(member_links *o, const p3cfg_cluster *c, p3cfg__mesh_group grp,
                          uint32_t i)
{
  const uint32_t k = grp.count, dom = p3cfg__domain_gpus(c);
  const uint32_t first_gpu = grp.first, last_gpu = grp.first + (k - 1) * grp.stride;
  const uint32_t a = grp.first + i * grp.stride, d = a / dom;
  uint32_t run = 1;
  while (i + run < k && (grp.first + (i + run) * grp.stride) / dom == d)
    run++;
  *o = (member_links){run - 1, k - run, 1e300, 1e300, 0.0};
  double bw, l;
  if (run > 1) {
    p3cfg__link_achieved(c, a, a + grp.stride, &o->near_bw, &l);
    o->lat = l;
  }
  if (run < k) { /* the peer farthest from a: the group's first or last GPU */
    const uint32_t far = a - first_gpu > last_gpu - a ? first_gpu : last_gpu;
    p3cfg__link_achieved(c, a, far / dom != d ? far : (d == first_gpu / dom ? last_gpu : first_gpu),
                         &bw, &l);
    o->far_bw = bw, o->lat = l > o->lat ? l : o->lat;
  }
  return run;
}

/* Any placement: member i's walk over every other member. */
static void walk_links(member_links *o, const p3cfg_cluster *c, const uint32_t *rank_gpu,
                       p3cfg__mesh_group grp, uint32_t i)
{
  const uint32_t a = member_gpu(rank_gpu, grp.first, grp.stride, i);
  *o = (member_links){0, 0, 1e300, 1e300, 0.0};
  for (uint32_t q = 0; q < grp.count; q++) {
    if (q == i)
      continue;
    const uint32_t b = member_gpu(rank_gpu, grp.first, grp.stride, q);
    double bw, l;
    p3cfg__link_achieved(c, a, b, &bw, &l);
    if (p3cfg__same_domain(c, a, b)) {
      o->n_near++;
      o->near_bw = bw < o->near_bw ? bw : o->near_bw;
    } else {
      o->n_far++;
      o->far_bw = bw < o->far_bw ? bw : o->far_bw;
    }
    o->lat = l > o->lat ? l : o->lat;
  }
}

/* All-to-all (NCCL's grouped send/recv, as Megatron-Core's token dispatcher issues it):
 * every member sends bytes/k to each other member at once. A GPU's sends to members of
 * its own NVLink domain share its NVLink ports, those to other domains its NIC, and both
 * run together: a member takes the longer of (bytes to its domain's members) / (its
 * slowest link among them) and (bytes off its domain) / (its slowest link off it), plus
 * the largest latency it sees; the collective ends with its slowest member. The
 * bandwidths are those p3cfg__link_achieved gives (measured links where the cluster has
 * them, the spine's oversubscription between leaves), so an EP group inside a node and
 * one across nodes differ as they do. */
static double member_a2a(double share, uint32_t n_near, double near_bw, uint32_t n_far,
                         double far_bw, double lat)
{
  const double t_near = n_near ? share * n_near / near_bw : 0.0;
  const double t_far = n_far ? share * n_far / far_bw : 0.0;
  return lat + (t_near > t_far ? t_near : t_far);
}

double p3cfg__alltoall_s(const p3cfg_cluster *c, const uint32_t *rank_gpu,
                         p3cfg__mesh_group grp, double bytes)
{
  const uint32_t k = grp.count;
  if (k <= 1 || bytes <= 0.0)
    return 0.0;
  const double share = bytes / (double)k;
  const int shortcut = !rank_gpu && c->links.granularity == P3CFG_LINKS_NONE;
  double worst = 0.0;
  for (uint32_t i = 0; i < k;) {
    member_links m;
    const uint32_t step = shortcut ? run_links(&m, c, grp, i) : (walk_links(&m, c, rank_gpu, grp, i), 1u);
    const double t = member_a2a(share, m.n_near, m.near_bw, m.n_far, m.far_bw, m.lat);
    worst = t > worst ? t : worst;
    i += step;
  }
  return worst;
}

/* The same over members whose links are known (the placement's cache keeps them): the
 * walk above, member by member. */
double p3cfg__alltoall_members_s(const p3cfg__a2a_member *members, uint32_t k, double bytes)
{
  if (k <= 1 || bytes <= 0.0)
    return 0.0;
  const double share = bytes / (double)k;
  double worst = 0.0;
  for (uint32_t i = 0; i < k; i++) {
    const member_links *m = &members[i];
    const double t = member_a2a(share, m->n_near, m->near_bw, m->n_far, m->far_bw, m->lat);
    worst = t > worst ? t : worst;
  }
  return worst;
}

/* Megatron-Core's flex token dispatcher on DeepEP or HybridEP (token_dispatcher.py
 * MoEFlexTokenDispatcher at d98e8a6; DeepEP's README: "normal kernels" forward a token
 * to each destination node once over RDMA, to the GPU of the same local index, which
 * passes it on over NVLink to the node's GPUs that hold its experts; one copy per
 * destination GPU inside the domain). With top_k of E experts chosen per token and the
 * experts spread evenly (E/k_g per member of the k_g-member group; forced balanced
 * routing, as the benchmarks run), a set of x experts is missed by a token with
 * probability C(E-x, top_k) / C(E, top_k). So a member of a domain with m members of
 * the group, in a group over n_d domains, sends per token:
 *   - to each other member of its domain:  p_r = 1 - C(E - E/k_g, top_k)/C(E, top_k)
 *     copies, and forwards as many for each of the n_d - 1 other domains' proxies:
 *     m - 1 peers x p_r x n_d copies over its NVLink ports;
 *   - to each other domain d of m_d members: 1 - C(E - m_d E/k_g, top_k)/C(E, top_k)
 *     copies over its NIC.
 * The all-to-all dispatcher (p3cfg__alltoall_s) sends top_k/k_g copies to every member
 * instead. The two link classes run together, as there; the combine sends the same
 * bytes back. */
static double miss_prob(double experts, double top_k, double x)
{
  double q = 1.0;
  for (double i = 0.0; i < top_k; i += 1.0) {
    const double f = (experts - x - i) / (experts - i);
    if (f <= 0.0)
      return 0.0;
    q *= f;
  }
  return q;
}

static double member_flex(double token_bytes, double p_rank, uint32_t n_near, double near_bw,
                          double n_domains, double far_hits, double far_bw, double lat)
{
  const double t_near = n_near ? token_bytes * p_rank * n_near * n_domains / near_bw : 0.0;
  const double t_far = far_hits > 0.0 ? token_bytes * far_hits / far_bw : 0.0;
  return lat + (t_near > t_far ? t_near : t_far);
}

double p3cfg__flex_dispatch_s(const p3cfg_cluster *c, const uint32_t *rank_gpu,
                              p3cfg__mesh_group grp, double token_bytes, double experts,
                              double top_k)
{
  const uint32_t k = grp.count;
  if (k <= 1 || token_bytes <= 0.0 || experts < 1.0)
    return 0.0;
  const double per = experts / (double)k; /* experts on one member */
  const double p_rank = 1.0 - miss_prob(experts, top_k, per);
  const int shortcut = !rank_gpu && c->links.granularity == P3CFG_LINKS_NONE;
  /* First the domains and the copies a token sends to all of them: a domain of m members
   * adds hit(m)/m for each of them (on the default map, hit(m) once per run). */
  double hits = 0.0, n_domains = 0.0;
  for (uint32_t i = 0; i < k;) {
    member_links m;
    const uint32_t step = shortcut ? run_links(&m, c, grp, i) : (walk_links(&m, c, rank_gpu, grp, i), 1u);
    const double size = (double)(m.n_near + 1);
    hits += (1.0 - miss_prob(experts, top_k, per * size)) * (double)step / size;
    n_domains += (double)step / size;
    i += step;
  }
  /* Then each member: its domain's own term out of the far hits. */
  double worst = 0.0;
  for (uint32_t i = 0; i < k;) {
    member_links m;
    const uint32_t step = shortcut ? run_links(&m, c, grp, i) : (walk_links(&m, c, rank_gpu, grp, i), 1u);
    const double far_hits = hits - (1.0 - miss_prob(experts, top_k, per * (m.n_near + 1)));
    const double t = member_flex(token_bytes, p_rank, m.n_near, m.near_bw, n_domains,
                                 far_hits > 1e-12 ? far_hits : 0.0, m.far_bw, m.lat);
    worst = t > worst ? t : worst;
    i += step;
  }
  return worst;
}

/* The same over members whose links are known: the walk above with a step of one member
 * (x * 1.0 / size is x / size), the same sums in the same order. */
double p3cfg__flex_members_s(const p3cfg__a2a_member *members, uint32_t k, double token_bytes,
                             double experts, double top_k)
{
  if (k <= 1 || token_bytes <= 0.0 || experts < 1.0)
    return 0.0;
  const double per = experts / (double)k;
  const double p_rank = 1.0 - miss_prob(experts, top_k, per);
  double hits = 0.0, n_domains = 0.0;
  for (uint32_t i = 0; i < k; i++) {
    const double size = (double)(members[i].n_near + 1);
    hits += (1.0 - miss_prob(experts, top_k, per * size)) / size;
    n_domains += 1.0 / size;
  }
  double worst = 0.0;
  for (uint32_t i = 0; i < k; i++) {
    const member_links *m = &members[i];
    const double far_hits = hits - (1.0 - miss_prob(experts, top_k, per * (m->n_near + 1)));
    const double t = member_flex(token_bytes, p_rank, m->n_near, m->near_bw, n_domains,
                                 far_hits > 1e-12 ? far_hits : 0.0, m->far_bw, m->lat);
    worst = t > worst ? t : worst;
  }
  return worst;
}
