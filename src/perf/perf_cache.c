/*
 * perf_cache.c — the time model for a search that moves a few ranks at a time (the
 * placement annealer): every group cost that p3cfg__perf_plan takes a worst over is kept,
 * and a score recomputes only the groups holding a rank reported moved since the last
 * one, so a move costs what it changes, not what its pipeline stages hold.
 *
 * Kept per plan, its groups numbered as the mesh numbers them (mesh.h: those of stage j
 * consecutive, from j times the stage's count):
 * - each TP group's two all-reduce times (a moved rank: its group's ring again, tp links);
 * - each send slot (stage j, position s -> stage j+1, position s), both directions;
 * - each tied-embedding pair (stage 0 and stage pp-1 at position s);
 * - each DP ring (the mesh's dp group of a rank; dp members) as its dp consecutive links
 *   member d -> d+1 mod dp and, per member, whether its node differs from / is below the
 *   previous member's. A moved member changes two links and two of those marks; the
 *   slowest link and the counts then give the ring (p3cfg__ring_of_chain), except a ring
 *   whose nodes never decrease and repeat in runs that may all be as long, which
 *   p3cfg__ring_of builds again in full;
 * - for an MoE plan, each EP group's all-to-all, as each member's links to the others
 *   (how many share its NVLink domain, the slowest link of each kind, the largest
 *   latency): a moved member takes its old link out of each other member's and puts its
 *   new one in, then walks its own: 2k or 3k lookups, not the group's k(k-1) (a group
 *   most of whose members moved is walked whole); each ETP group's ring; each EDP ring
 *   kept as its links, as the DP rings are; and, with cp > 1, each CP ring's slowest send.
 * Every worst (over a stage's groups, slots, rings; over a ring's links; over a member's
 * links) is an `extreme`: the value and how many entries equal it, so replacing an entry
 * is O(1) and the array is scanned again only when the last entry equal to the worst got
 * better. The stage costs then go to p3cfg__perf_finish (the pipeline schedule and the
 * step's tail), which is skipped when no stage cost changed and looked up when the same
 * stage costs were met before: it is a function of them alone, and the annealer's moves,
 * mostly undone, come back to a few dozen to a few thousand of them in 20,000 moves (a
 * table keyed by their bytes, each hit checked byte for byte).
 *
 * A score first lists what the moved ranks touch, each send slot, tied pair, TP group and
 * ring once (a chain move shifts both ends of most sends), then redoes each. Ranks arrive
 * in runs (the placement moves whole units), so their coordinates step on without dividing
 * (p3cfg__mesh_next), and so do their groups' numbers (_group_index_next).
 *
 * With links measured per node pair and every TP group of a stage inside one node (the
 * placement's units keep them so whenever tp divides the node), a link depends on the two
 * nodes alone and the stage's DP rings that differ only in their tp coordinate visit the
 * same nodes in the same order: they cost the same, so only the ring of tp coordinate 0 is
 * kept (the others are rebuilt if a group ever spans nodes again). Likewise the send slots
 * and tied pairs between two such stages are kept for tp coordinate 0 alone, and a TP group
 * inside a node is one lookup. A move of a unit of tp ranks then costs about what a move
 * of one rank costs.
 *
 * The group costs come from the functions p3cfg__perf_plan uses (p3cfg__perf_tp_group,
 * _send, _dp_ring, _tie, _ep_members, _etp_group, _cp_group) on the same rings and links,
 * and a max over the same values does not depend on the order, so a score equals
 * p3cfg__perf_plan's to the bit (tests/unit/perf/cache_test.c checks every field after
 * random moves).
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "perf.h"
#include "perf_internal.h"

/* The largest (or smallest) entry of an array and how many entries equal it. n == 0: v
 * is only a bound that every entry is strictly inside, and the array must be scanned. */
typedef struct extreme {
  double v;
  uint32_t n;
} extreme;

/* Where a moved rank is: its coordinates, s, its place among the ranks of its stage, and
 * the numbers of its TP group and DP ring. */
typedef struct pos {
  uint32_t rank, s, group, ring;
  uint32_t c[P3CFG__MESH_DIMS];
} pos;

/* Rings kept as their consecutive links (see above): the DP rings of the mesh and, for an
 * MoE plan, the expert-data-parallel rings of the expert mesh. */
typedef struct ring_set {
  int expert;                   /* the expert mesh's rings (else the mesh's) */
  uint32_t k;                   /* members per ring */
  double *link_Bps, *link_lat;  /* [ranks] ring r (the mesh's number), d -> d+1 at r*k + d */
  uint8_t *step;                /* [ranks] member d (>= 1) of ring r vs d-1: STEP_* */
  uint32_t *descents, *changes; /* [rings] */
  extreme *ring_Bps, *ring_lat; /* [rings] slowest link of each ring */
} ring_set;

/* What member i of an all-to-all sees of the other members (p3cfg__a2a_member), each
 * slowest link and the largest latency kept as an extreme. */
typedef struct a2a_link {
  uint32_t n_near, n_far;
  extreme near, far, lat;
} a2a_link;

struct p3cfg__perf_cache {
  p3cfg__perf_ctx x; /* with x.mesh, the plan's geometry; the sizes below are its, copied */
  const uint32_t *rank_gpu;
  uint32_t p, v, t, dp, ps, gpn; /* ps: ranks per stage */
  uint32_t tp_ps, dp_ps;         /* TP groups, DP rings per stage */
  uint32_t ranks;
  int tied;       /* a tied-embedding all-reduce between stages 0 and p-1 */
  int node_links; /* links measured per node pair: a link depends on the nodes alone */
  double *stage_params;         /* [p] */
  double *tp_ar, *tp_loss;      /* [p*tp_ps] per TP group (the mesh's number) */
  double *send_f, *send_b;      /* [ranks] per send slot (j, s) at j*ps + s */
  double *tie;                  /* [ps] */
  uint32_t *node;               /* [ranks] node of each rank's GPU */
  uint8_t *group_spans;         /* [p*tp_ps] 1: the TP group's GPUs are on several nodes */
  uint32_t *spans;              /* [p] TP groups of the stage that span nodes */
  uint8_t *ring_pack;           /* [p] the stage's DP rings of tp coordinate >= 1 left to 0 */
  uint8_t *send_pack;           /* [p] the stage's send slots likewise */
  int tie_pack;                 /* the same for the tied pairs */
  ring_set dpr;                 /* the DP rings, p*dp_ps of them */
  p3cfg__dp_cost *ring_cost;    /* [p*dp_ps] */
  extreme *w_ar, *w_loss, *w_f, *w_b; /* [p] worst TP group and send slot of each stage */
  extreme w_tie;
  p3cfg__stage_links *links, *scored; /* [p] now, and as last simulated */
  uint64_t *stage_key;                /* [p] stage_hash of each stage's scored costs */
  double scored_tie;
  p3cfg_time scored_time;
  /* Step times of stage costs met before, direct-mapped by a hash of their bytes:
   * memo_n slots (a power of two), each its key (0: empty), stage costs, tie and time. */
  uint32_t memo_n;
  uint64_t *memo_key;
  p3cfg__stage_links *memo_links; /* [memo_n * p] */
  double *memo_tie;
  p3cfg_time *memo_time;
  /* Moved since the last score: ranks; send slots (with their stage), tied pairs, TP
   * groups and DP rings to redo; stages whose DP worst is stale. Each list has a flag
   * array so that an entry is listed once (a chain move would redo a send twice). */
  uint8_t *rank_flag, *send_flag, *tie_flag, *group_flag, *ring_flag, *stage_flag;
  uint8_t *extra_flag; /* [p]: a group of the stage below changed: its worsts again */
  /* The groups of MoE and context parallelism, numbered as mesh.h numbers them (expert
   * mesh: EP, ETP, EDP; dense mesh: CP), each group's cost kept: n_* groups of each kind
   * over the plan (0: the kind is not priced). One flag array over all of them, EP groups
   * from 0, then ETP from x_etp, EDP from x_edp, CP from x_cp. An EP group's all-to-all is
   * kept as its members' links (ep_link: rank r's as a member of its group, with view[r]
   * the GPU the other members' links to r assume), so a moved member changes one link of
   * each other member and its own walk, not the group's k^2 links. */
  uint32_t ep, n_ep, n_etp, n_edp, n_cp, x_etp, x_edp, x_cp;
  double *ep_cost, *etp_cost, *cp_cost; /* [n_ep], [n_etp], [n_cp] */
  p3cfg__dp_cost *edp_cost;             /* [n_edp] */
  ring_set edpr;                        /* the EDP rings (with n_edp) */
  double *stage_xparams;                /* [p] expert parameters per GPU of each stage */
  a2a_link *ep_link;                    /* [ranks] */
  uint32_t *view;                       /* [ranks] */
  uint32_t *ep_count;                   /* [n_ep] moved members of a listed group */
  p3cfg__a2a_member *members;           /* [ep] one group's, for p3cfg__perf_ep_members */
  uint8_t *x_flag;                      /* [x_cp + n_cp] */
  uint32_t *x_list, n_x;                /* groups to redo */
  uint32_t *moved, *sends, *send_stage, *ties, *groups, *group_stage, *rings, *ring_stage;
  pos *where; /* [ranks] of each moved rank, worked out once per score */
  uint32_t n_moved, n_sends, n_ties, n_groups, n_rings;
  void *ws;
  size_t ws_bytes;
};

enum { STEP_OTHER_NODE = 1, STEP_LOWER_NODE = 2 };

/* Entries 0, stride, 2 stride, ... below len. */
static void max_scan(extreme *e, const double *a, uint32_t len, uint32_t stride)
{
  double v = a[0];
  uint32_t n = 1;
  for (uint32_t i = stride; i < len; i += stride) {
    if (a[i] > v)
      v = a[i], n = 1;
    else if (a[i] == v)
      n++;
  }
  e->v = v, e->n = n;
}

static void min_scan(extreme *e, const double *a, uint32_t len)
{
  double v = a[0];
  uint32_t n = 1;
  for (uint32_t i = 1; i < len; i++) {
    if (a[i] < v)
      v = a[i], n = 1;
    else if (a[i] == v)
      n++;
  }
  e->v = v, e->n = n;
}

/* An entry of the array went from `old` to `now`. */
static void max_replace(extreme *e, double old, double now)
{
  if (old == e->v)
    e->n--;
  if (now > e->v)
    e->v = now, e->n = 1;
  else if (now == e->v)
    e->n++;
}

static void min_replace(extreme *e, double old, double now)
{
  if (old == e->v)
    e->n--;
  if (now < e->v)
    e->v = now, e->n = 1;
  else if (now == e->v)
    e->n++;
}

static int has_send(const p3cfg__perf_cache *k, uint32_t j)
{
  return k->p > 1 && (j + 1 < k->p || k->v > 1);
}

/* With links per node pair and every TP group of stage j inside one node, the stage's DP
 * rings that differ only in their tp coordinate visit the same nodes in the same order
 * (member d of each is in the same TP group), so they cost the same: only the ring of tp
 * coordinate 0 is kept up to date. Likewise the send slots between two such stages, and
 * the tied pairs: only those of tp coordinate 0 are kept, and the worst is taken over
 * those (the others equal them). tp is the fastest dimension, so those are every t-th
 * ring of the stage, every t-th slot. */
static int stage_compact(const p3cfg__perf_cache *k, uint32_t j)
{
  return k->node_links && k->t > 1 && k->spans[j] == 0;
}

/* Send slot `at` = j*ps + s of stage j: its GPU to the same position of the next stage. */
static void redo_send(p3cfg__perf_cache *k, uint32_t j, uint32_t at)
{
  const uint32_t to = p3cfg__mesh_move(&k->x.mesh, P3CFG__MESH_PP, at, j, j + 1 < k->p ? j + 1 : 0);
  double f, b;
  p3cfg__perf_send(&f, &b, &k->x, k->rank_gpu[at], k->rank_gpu[to]);
  max_replace(&k->w_f[j], k->send_f[at], f);
  max_replace(&k->w_b[j], k->send_b[at], b);
  k->send_f[at] = f, k->send_b[at] = b;
}

static void redo_tie(p3cfg__perf_cache *k, uint32_t s)
{
  p3cfg__ring ring;
  p3cfg__ring_of_group(&ring, k->x.c, k->rank_gpu,
                       p3cfg__mesh_ends(p3cfg__mesh_group_at(&k->x.mesh, P3CFG__MESH_PP, s, 0)));
  const double now = p3cfg__perf_tie(&k->x, &ring);
  max_replace(&k->w_tie, k->tie[s], now);
  k->tie[s] = now;
}

/* Ring r of the set, its mesh group. */
static p3cfg__mesh_group set_ring(const p3cfg__perf_cache *k, const ring_set *rs, uint32_t r)
{
  return p3cfg__mesh_group_nth(rs->expert ? &k->x.xmesh : &k->x.mesh, P3CFG__MESH_DP, r);
}

/* Members e and e+1 (mod k) of ring r of the set, the mesh group `ring`: the link between
 * them and, unless e+1 wraps to 0, whether e+1 sits on another node, a lower one. */
static void redo_pair(p3cfg__perf_cache *k, ring_set *rs, uint32_t r, p3cfg__mesh_group ring,
                      uint32_t e)
{
  const uint32_t at = r * rs->k + e, f = e + 1 == rs->k ? 0 : e + 1;
  const uint32_t a = p3cfg__mesh_member(&ring, e), b = p3cfg__mesh_member(&ring, f);
  double Bps, lat;
  p3cfg__link_achieved(k->x.c, k->rank_gpu[a], k->rank_gpu[b], &Bps, &lat);
  min_replace(&rs->ring_Bps[r], rs->link_Bps[at], Bps);
  max_replace(&rs->ring_lat[r], rs->link_lat[at], lat);
  rs->link_Bps[at] = Bps, rs->link_lat[at] = lat;
  if (f == 0)
    return;
  const uint32_t node = k->node[b], prev = k->node[a];
  const uint8_t now = (uint8_t)((node != prev ? STEP_OTHER_NODE : 0) |
                                (node < prev ? STEP_LOWER_NODE : 0));
  const uint8_t old = rs->step[at + 1];
  rs->changes[r] += (uint32_t)(now & STEP_OTHER_NODE) - (uint32_t)(old & STEP_OTHER_NODE);
  rs->descents[r] +=
      (uint32_t)((now & STEP_LOWER_NODE) >> 1) - (uint32_t)((old & STEP_LOWER_NODE) >> 1);
  rs->step[at + 1] = now;
}

/* Every link of ring r of the set, and its worsts by a scan. */
static void init_ring(p3cfg__perf_cache *k, ring_set *rs, uint32_t r)
{
  const p3cfg__mesh_group ring = set_ring(k, rs, r);
  for (uint32_t d = 0; d < rs->k; d++)
    redo_pair(k, rs, r, ring, d);
  min_scan(&rs->ring_Bps[r], rs->link_Bps + (size_t)r * rs->k, rs->k);
  max_scan(&rs->ring_lat[r], rs->link_lat + (size_t)r * rs->k, rs->k, 1);
}

/* Ring r of the set from its links, or (when they do not settle it) built again. */
static void build_ring(p3cfg__ring *out, p3cfg__perf_cache *k, ring_set *rs, uint32_t r)
{
  const uint32_t n = rs->k;
  if (rs->ring_Bps[r].n == 0)
    min_scan(&rs->ring_Bps[r], rs->link_Bps + (size_t)r * n, n);
  if (rs->ring_lat[r].n == 0)
    max_scan(&rs->ring_lat[r], rs->link_lat + (size_t)r * n, n, 1);
  if (p3cfg__ring_of_chain(out, k->x.c, n, rs->descents[r], rs->changes[r], rs->ring_Bps[r].v,
                           rs->ring_lat[r].v))
    p3cfg__ring_of_group(out, k->x.c, k->rank_gpu, set_ring(k, rs, r));
}

/* TP group g of stage j. Inside one node, with links per node pair, every link of its
 * ring is that node's own: one lookup gives the ring. */
static void redo_group(p3cfg__perf_cache *k, uint32_t g, uint32_t j)
{
  const p3cfg__mesh_group group = p3cfg__mesh_group_nth(&k->x.mesh, P3CFG__MESH_TP, g);
  const uint32_t first = group.first;
  uint8_t spans = 0;
  for (uint32_t m = 1; m < k->t && !spans; m++)
    spans = k->node[p3cfg__mesh_member(&group, m)] != k->node[first];
  k->spans[j] += (uint32_t)spans - (uint32_t)k->group_spans[g];
  k->group_spans[g] = spans;
  p3cfg__ring ring;
  double ar, loss, Bps, lat;
  int built = 0;
  if (k->node_links && !spans) {
    p3cfg__link_achieved(k->x.c, k->rank_gpu[first], k->rank_gpu[p3cfg__mesh_member(&group, 1)],
                         &Bps, &lat);
    built = !p3cfg__ring_of_chain(&ring, k->x.c, k->t, 0, 0, Bps, lat);
  }
  if (!built)
    p3cfg__ring_of_group(&ring, k->x.c, k->rank_gpu, group);
  p3cfg__perf_tp_group(&ar, &loss, &k->x, &ring);
  max_replace(&k->w_ar[j], k->tp_ar[g], ar);
  max_replace(&k->w_loss[j], k->tp_loss[g], loss);
  k->tp_ar[g] = ar, k->tp_loss[g] = loss;
}

/* DP ring r of stage j. */
static void redo_ring(p3cfg__perf_cache *k, uint32_t r, uint32_t j)
{
  p3cfg__ring ring;
  build_ring(&ring, k, &k->dpr, r);
  p3cfg__perf_dp_ring(&k->ring_cost[r], &k->x, k->stage_params[j], &ring);
}

/* The stage's worst DP ring (its rings, or those of tp coordinate 0: scanned). */
static void redo_stage_dp(p3cfg__perf_cache *k, uint32_t j)
{
  p3cfg__dp_cost *w = &k->links[j].dp;
  memset(w, 0, sizeof *w);
  if (k->dp > 1)
    for (uint32_t i = 0, step = stage_compact(k, j) ? k->t : 1; i < k->dp_ps; i += step)
      p3cfg__dp_cost_max(w, &k->ring_cost[j * k->dp_ps + i]);
}

/* Stage j's send slots after its or the next stage's TP groups moved: kept for tp
 * coordinate 0 alone, or (no longer both inside nodes) all of them again. The worsts are
 * scanned anew over the slots kept, at once: a worst must always be exact or a strict
 * bound. */
static void repack_sends(p3cfg__perf_cache *k, uint32_t j)
{
  if (!has_send(k, j))
    return;
  const uint8_t want =
      (uint8_t)(stage_compact(k, j) && stage_compact(k, j + 1 < k->p ? j + 1 : 0));
  if (want == k->send_pack[j])
    return;
  if (!want)
    for (uint32_t s = 0; s < k->ps; s++)
      if (p3cfg__mesh_coord(&k->x.mesh, P3CFG__MESH_TP, s))
        redo_send(k, j, p3cfg__mesh_step(&k->x.mesh, P3CFG__MESH_PP, j) + s);
  k->send_pack[j] = want;
  max_scan(&k->w_f[j], k->send_f + (size_t)j * k->ps, k->ps, want ? k->t : 1);
  max_scan(&k->w_b[j], k->send_b + (size_t)j * k->ps, k->ps, want ? k->t : 1);
}

static void repack_ties(p3cfg__perf_cache *k)
{
  const int want = k->tied && stage_compact(k, 0) && stage_compact(k, k->p - 1);
  if (want == k->tie_pack)
    return;
  if (!want)
    for (uint32_t s = 0; s < k->ps; s++)
      if (p3cfg__mesh_coord(&k->x.mesh, P3CFG__MESH_TP, s))
        redo_tie(k, s);
  k->tie_pack = want;
  max_scan(&k->w_tie, k->tie, k->ps, want ? k->t : 1);
}

static void list_ring(p3cfg__perf_cache *k, uint32_t r, uint32_t j)
{
  if (!k->ring_flag[r]) {
    k->ring_flag[r] = 1;
    k->rings[k->n_rings] = r, k->ring_stage[k->n_rings++] = j;
  }
}

/* Stage j's TP groups no longer all sit inside a node: its rings of tp coordinate >= 1,
 * left to those of 0 while they did, are built again from every link. */
static void unpack_rings(p3cfg__perf_cache *k, uint32_t j)
{
  for (uint32_t r = j * k->dp_ps; r < (j + 1) * k->dp_ps && k->dp > 1; r++) {
    if (r % k->t == 0)
      continue;
    init_ring(k, &k->dpr, r);
    list_ring(k, r, j);
  }
}

static void list_add(uint8_t *flag, uint32_t *list, uint32_t *n, uint32_t id)
{
  if (!flag[id]) {
    flag[id] = 1;
    list[(*n)++] = id;
  }
}

static inline double max2(double a, double b)
{
  return a > b ? a : b;
}

/* One entry of the array left (drop) or joined it (add); an emptied or stale worst stays a
 * strict bound (n == 0) until scanned again. */
static void min_drop(extreme *e, double old)
{
  if (old == e->v) {
    assert(e->n > 0);
    e->n--;
  }
}

static void min_add(extreme *e, double now)
{
  if (now < e->v)
    e->v = now, e->n = 1;
  else if (now == e->v)
    e->n++;
}

static void max_drop(extreme *e, double old)
{
  if (old == e->v) {
    assert(e->n > 0);
    e->n--;
  }
}

static void max_add(extreme *e, double now)
{
  if (now > e->v)
    e->v = now, e->n = 1;
  else if (now == e->v)
    e->n++;
}

/* The link from an all-to-all member on GPU a to one on GPU b, joining (sign 1) or leaving
 * (-1) what the member sees: near when they share an NVLink domain (collectives.c). */
static void a2a_peer(a2a_link *m, const p3cfg_cluster *c, uint32_t a, uint32_t b, int sign)
{
  double Bps, lat;
  p3cfg__link_achieved(c, a, b, &Bps, &lat);
  const int near = p3cfg__same_domain(c, a, b);
  uint32_t *count = near ? &m->n_near : &m->n_far;
  extreme *bw = near ? &m->near : &m->far;
  if (sign > 0) {
    (*count)++;
    min_add(bw, Bps);
    max_add(&m->lat, lat);
  } else {
    (*count)--;
    min_drop(bw, Bps);
    max_drop(&m->lat, lat);
  }
}

/* The link between members on GPUs a and b joining both (the link is the same both ways:
 * p3cfg__links_symmetric): m's from a to b, own's from b to a. */
static void a2a_both(a2a_link *m, a2a_link *own, const p3cfg_cluster *c, uint32_t a, uint32_t b)
{
  double Bps, lat;
  p3cfg__link_achieved(c, a, b, &Bps, &lat);
  if (p3cfg__same_domain(c, a, b)) {
    m->n_near++, own->n_near++;
    min_add(&m->near, Bps), min_add(&own->near, Bps);
  } else {
    m->n_far++, own->n_far++;
    min_add(&m->far, Bps), min_add(&own->far, Bps);
  }
  max_add(&m->lat, lat), max_add(&own->lat, lat);
}

/* Member i of EP group grp, from its links to every other member (each on its view GPU). */
static void a2a_walk(p3cfg__perf_cache *k, p3cfg__mesh_group grp, uint32_t i)
{
  const uint32_t r = p3cfg__mesh_member(&grp, i), a = k->view[r];
  a2a_link *m = &k->ep_link[r];
  *m = (a2a_link){0, 0, {1e300, 0}, {1e300, 0}, {0.0, 0}};
  for (uint32_t q = 0; q < grp.count; q++)
    if (q != i)
      a2a_peer(m, k->x.c, a, k->view[p3cfg__mesh_member(&grp, q)], 1);
}

/* EP group g's all-to-all from its members' links (a member whose slowest link or
 * largest latency left it walks again). */
static void redo_ep(p3cfg__perf_cache *k, uint32_t g)
{
  const p3cfg__mesh_group grp = p3cfg__mesh_group_nth(&k->x.xmesh, P3CFG__MESH_EP, g);
  for (uint32_t i = 0; i < grp.count; i++) {
    const a2a_link *m = &k->ep_link[p3cfg__mesh_member(&grp, i)];
    if ((m->n_near && !m->near.n) || (m->n_far && !m->far.n) || !m->lat.n)
      a2a_walk(k, grp, i);
    k->members[i] = (p3cfg__a2a_member){m->n_near, m->n_far, m->n_near ? m->near.v : 1e300,
                                        m->n_far ? m->far.v : 1e300, m->lat.v};
  }
  k->ep_cost[g] = p3cfg__perf_ep_members(&k->x, k->members);
}

/* MoE and CP group `id` (the numbering of x_flag). */
static void redo_extra_group(p3cfg__perf_cache *k, uint32_t id)
{
  if (id < k->x_etp) {
    redo_ep(k, id);
  } else if (id < k->x_edp) {
    k->etp_cost[id - k->x_etp] = p3cfg__perf_etp_group(&k->x, k->rank_gpu, id - k->x_etp);
  } else if (id < k->x_cp) {
    const uint32_t g = id - k->x_edp, j = g / (k->n_edp / k->p);
    p3cfg__ring ring;
    build_ring(&ring, k, &k->edpr, g);
    p3cfg__perf_dp_ring(&k->edp_cost[g], &k->x, k->stage_xparams[j], &ring);
  } else {
    k->cp_cost[id - k->x_cp] = p3cfg__perf_cp_group(&k->x, k->rank_gpu, id - k->x_cp);
  }
}

/* The MoE and CP groups of the moved ranks are listed (an EDP ring's two links of the
 * member are redone), and each moved EP member's new GPU is told to the other members of
 * its group: one link of each leaves and one joins, then the member walks its own. Where
 * enough of a group moved, every member walks instead (fewer lookups). */
static void extra_moved(p3cfg__perf_cache *k)
{
  const p3cfg__mesh *X = &k->x.xmesh;
  /* Lookups per moved member: 2 or 3 per other member (p3cfg__links_symmetric: the
   * member's own walk comes with the others' links), against k - 1 per member for all. */
  const uint32_t ep = k->ep, per = p3cfg__links_symmetric(k->x.c) ? 2 : 3;
  if (k->x_cp + k->n_cp == 0) /* a dense plan with cp 1: none */
    return;
  for (uint32_t x = 0; x < k->n_moved; x++) {
    const uint32_t r = k->moved[x], j = k->where[x].c[P3CFG__MESH_PP];
    if (k->n_ep && k->view[r] != k->rank_gpu[r]) {
      const uint32_t g = p3cfg__mesh_group_index(X, P3CFG__MESH_EP, r);
      if (!k->x_flag[g])
        k->ep_count[g] = 0;
      list_add(k->x_flag, k->x_list, &k->n_x, g);
      k->ep_count[g]++;
    }
    if (k->n_etp)
      list_add(k->x_flag, k->x_list, &k->n_x,
               k->x_etp + p3cfg__mesh_group_index(X, P3CFG__MESH_TP, r));
    if (k->n_edp && k->stage_xparams[j] > 0.0) {
      const uint32_t g = p3cfg__mesh_group_index(X, P3CFG__MESH_DP, r), e = k->edpr.k;
      const uint32_t d = p3cfg__mesh_coord(X, P3CFG__MESH_DP, r);
      const p3cfg__mesh_group ring = p3cfg__mesh_group_at(X, P3CFG__MESH_DP, r, d);
      redo_pair(k, &k->edpr, g, ring, d ? d - 1 : e - 1);
      redo_pair(k, &k->edpr, g, ring, d);
      list_add(k->x_flag, k->x_list, &k->n_x, k->x_edp + g);
    }
    if (k->n_cp)
      list_add(k->x_flag, k->x_list, &k->n_x,
               k->x_cp + p3cfg__mesh_group_index(&k->x.gmesh, P3CFG__MESH_CP, r));
    k->extra_flag[j] = 1;
  }
  for (uint32_t x = 0; k->n_ep && x < k->n_moved; x++) {
    const uint32_t r = k->moved[x], now = k->rank_gpu[r];
    if (k->view[r] == now)
      continue;
    const uint32_t g = p3cfg__mesh_group_index(X, P3CFG__MESH_EP, r);
    if (per * k->ep_count[g] >= ep)
      continue;
    const uint32_t i = p3cfg__mesh_coord(X, P3CFG__MESH_EP, r);
    const p3cfg__mesh_group grp = p3cfg__mesh_group_at(X, P3CFG__MESH_EP, r, i);
    if (!p3cfg__links_symmetric(k->x.c)) {
      for (uint32_t q = 0; q < ep; q++) {
        const uint32_t rq = p3cfg__mesh_member(&grp, q);
        if (q == i)
          continue;
        a2a_peer(&k->ep_link[rq], k->x.c, k->view[rq], k->view[r], -1);
        a2a_peer(&k->ep_link[rq], k->x.c, k->view[rq], now, 1);
      }
      k->view[r] = now;
      a2a_walk(k, grp, i);
      continue;
    }
    /* Each link both ways at once: the member's own walk is the links just added. */
    a2a_link *own = &k->ep_link[r];
    *own = (a2a_link){0, 0, {1e300, 0}, {1e300, 0}, {0.0, 0}};
    for (uint32_t q = 0; q < ep; q++) {
      const uint32_t rq = p3cfg__mesh_member(&grp, q);
      if (q == i)
        continue;
      a2a_peer(&k->ep_link[rq], k->x.c, k->view[rq], k->view[r], -1);
      a2a_both(&k->ep_link[rq], own, k->x.c, k->view[rq], now);
    }
    k->view[r] = now;
  }
  for (uint32_t y = 0; y < k->n_x; y++) {
    const uint32_t g = k->x_list[y];
    if (g >= k->x_etp || per * k->ep_count[g] < ep)
      continue;
    const p3cfg__mesh_group grp = p3cfg__mesh_group_nth(X, P3CFG__MESH_EP, g);
    for (uint32_t i = 0; i < ep; i++)
      k->view[p3cfg__mesh_member(&grp, i)] = k->rank_gpu[p3cfg__mesh_member(&grp, i)];
    for (uint32_t i = 0; i < ep; i++)
      a2a_walk(k, grp, i);
  }
  for (uint32_t y = 0; y < k->n_x; y++) {
    redo_extra_group(k, k->x_list[y]);
    k->x_flag[k->x_list[y]] = 0;
  }
  k->n_x = 0;
}

/* Stage j's EP, ETP, CP and expert-gradient worsts over its groups (p3cfg__perf_stage_extra
 * takes the same maxima). */
static void stage_extra(p3cfg__perf_cache *k, uint32_t j)
{
  p3cfg__stage_links *l = &k->links[j];
  const uint32_t p = k->p;
  l->ep_a2a = l->etp_ar = l->cp_p2p = 0.0;
  memset(&l->xdp, 0, sizeof l->xdp);
  for (uint32_t n = k->n_ep / p, g = j * n; g < (j + 1) * n; g++)
    l->ep_a2a = max2(l->ep_a2a, k->ep_cost[g]);
  for (uint32_t n = k->n_etp / p, g = j * n; g < (j + 1) * n; g++)
    l->etp_ar = max2(l->etp_ar, k->etp_cost[g]);
  for (uint32_t n = k->n_edp / p, g = j * n; g < (j + 1) * n && k->stage_xparams[j] > 0.0; g++)
    p3cfg__dp_cost_max(&l->xdp, &k->edp_cost[g]);
  for (uint32_t n = k->n_cp / p, g = j * n; g < (j + 1) * n; g++)
    l->cp_p2p = max2(l->cp_p2p, k->cp_cost[g]);
}

void p3cfg__perf_cache_moved(p3cfg__perf_cache *k, uint32_t first, uint32_t count)
{
  assert(first <= k->ranks && count <= k->ranks - first);
  for (uint32_t r = first; r < first + count; r++)
    list_add(k->rank_flag, k->moved, &k->n_moved, r);
}

/* Where `rank` is, `prev` being where the moved rank before it in the list is (or NULL).
 * The ranks come in runs (units of the placement): along a run the position steps on
 * without dividing. */
static void pos_at(const p3cfg__perf_cache *k, pos *q, const pos *prev, uint32_t rank)
{
  const p3cfg__mesh *M = &k->x.mesh;
  if (prev && rank == prev->rank + 1) {
    *q = *prev;
    const int carry = p3cfg__mesh_next(M, q->c);
    q->s = q->s + 1 == k->ps ? 0 : q->s + 1;
    q->group = p3cfg__mesh_group_index_next(M, P3CFG__MESH_TP, q->group, carry);
    q->ring = p3cfg__mesh_group_index_next(M, P3CFG__MESH_DP, q->ring, carry);
  } else {
    p3cfg__mesh_coords(M, rank, q->c);
    q->s = rank - p3cfg__mesh_step(M, P3CFG__MESH_PP, q->c[P3CFG__MESH_PP]);
    q->group = p3cfg__mesh_group_index(M, P3CFG__MESH_TP, rank);
    q->ring = p3cfg__mesh_group_index(M, P3CFG__MESH_DP, rank);
  }
  q->rank = rank;
  assert(rank == p3cfg__mesh_rank(M, q->c) && q->s == rank % M->stride[P3CFG__MESH_PP] &&
         q->group == p3cfg__mesh_group_index(M, P3CFG__MESH_TP, rank) &&
         q->ring == p3cfg__mesh_group_index(M, P3CFG__MESH_DP, rank));
}

/* Everything the moved rank at q is part of. */
static void redo_rank(p3cfg__perf_cache *k, const pos *q)
{
  const uint32_t p = k->p, dp = k->dp, rank = q->rank;
  const uint32_t j = q->c[P3CFG__MESH_PP], d = q->c[P3CFG__MESH_DP], i = q->c[P3CFG__MESH_TP];
  if (has_send(k, j) && (i == 0 || !k->send_pack[j]) && !k->send_flag[rank]) {
    k->send_flag[rank] = 1;
    k->sends[k->n_sends] = rank, k->send_stage[k->n_sends++] = j;
  }
  const uint32_t before = j ? j - 1 : p - 1,
                 from = p3cfg__mesh_move(&k->x.mesh, P3CFG__MESH_PP, rank, j, before);
  if (before != j && has_send(k, before) && (i == 0 || !k->send_pack[before]) &&
      !k->send_flag[from]) {
    k->send_flag[from] = 1;
    k->sends[k->n_sends] = from, k->send_stage[k->n_sends++] = before;
  }
  if (k->tied && (j == 0 || j == p - 1) && (i == 0 || !k->tie_pack))
    list_add(k->tie_flag, k->ties, &k->n_ties, q->s);
  if (dp > 1 && (i == 0 || !stage_compact(k, j))) {
    const uint32_t r = q->ring;
    const p3cfg__mesh_group ring = p3cfg__mesh_group_at(&k->x.mesh, P3CFG__MESH_DP, rank, d);
    redo_pair(k, &k->dpr, r, ring, d ? d - 1 : dp - 1);
    redo_pair(k, &k->dpr, r, ring, d);
    list_ring(k, r, j);
  }
}

static void refresh_max(extreme *e, const double *a, uint32_t len, uint32_t stride)
{
  if (e->n == 0)
    max_scan(e, a, len, stride);
}

/* One word into a 64-bit hash (a multiply and a fold of the high half). */
static uint64_t mix(uint64_t h, uint64_t w)
{
  h = (h ^ w) * 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 32);
}

/* Stage j's costs, hashed by their bytes: the memo's key is the sum over the stages (kept
 * per stage, so a score hashes only the stages whose costs changed) mixed with the tie's
 * bytes (never 0). Bytes, not values: costs equal as values but not as bytes (0.0 and
 * -0.0) are two entries, so a hit, checked byte for byte, is p3cfg__perf_finish of the
 * very same input. */
static uint64_t stage_hash(const p3cfg__stage_links *l, uint32_t j)
{
  static_assert(sizeof *l % sizeof(uint64_t) == 0, "stage costs are whole words");
  const unsigned char *b = (const unsigned char *)l;
  uint64_t h = mix(0x9E3779B97F4A7C15ull, j), w;
  for (size_t i = 0; i < sizeof *l; i += sizeof w) {
    memcpy(&w, b + i, sizeof w);
    h = mix(h, w);
  }
  return h;
}

static int score(p3cfg_time *out, p3cfg__perf_cache *k, int full)
{
  const uint32_t p = k->p, ps = k->ps, t = k->t, tp_ps = k->tp_ps;
  /* Nodes first: a rank's DP links look at its neighbours', which may have moved too.
   * Then the TP groups, which tell whether a stage's DP rings all cost the same. */
  for (uint32_t x = 0; x < k->n_moved; x++) {
    k->node[k->moved[x]] = k->rank_gpu[k->moved[x]] / k->gpn;
    pos_at(k, &k->where[x], x ? &k->where[x - 1] : NULL, k->moved[x]);
  }
  for (uint32_t x = 0; t > 1 && x < k->n_moved; x++) {
    const uint32_t g = k->where[x].group;
    if (!k->group_flag[g]) {
      k->group_flag[g] = 1;
      k->groups[k->n_groups] = g, k->group_stage[k->n_groups++] = k->where[x].c[P3CFG__MESH_PP];
    }
  }
  for (uint32_t x = 0; x < k->n_groups; x++)
    redo_group(k, k->groups[x], k->group_stage[x]);
  for (uint32_t x = 0; x < k->n_groups; x++) {
    const uint32_t j = k->group_stage[x];
    k->group_flag[k->groups[x]] = 0;
    if (k->ring_pack[j] != stage_compact(k, j)) {
      if (k->ring_pack[j])
        unpack_rings(k, j);
      k->ring_pack[j] = (uint8_t)stage_compact(k, j);
      k->stage_flag[j] = 1;
      repack_sends(k, j);
      repack_sends(k, j ? j - 1 : k->p - 1);
      if (j == 0 || j == k->p - 1)
        repack_ties(k);
    }
  }
  k->n_groups = 0;
  extra_moved(k);
  for (uint32_t x = 0; x < k->n_moved; x++) {
    redo_rank(k, &k->where[x]);
    k->rank_flag[k->where[x].rank] = 0;
  }
  k->n_moved = 0;
  for (uint32_t x = 0; x < k->n_sends; x++) {
    redo_send(k, k->send_stage[x], k->sends[x]);
    k->send_flag[k->sends[x]] = 0;
  }
  k->n_sends = 0;
  for (uint32_t x = 0; x < k->n_ties; x++) {
    redo_tie(k, k->ties[x]);
    k->tie_flag[k->ties[x]] = 0;
  }
  k->n_ties = 0;
  for (uint32_t x = 0; x < k->n_rings; x++) {
    const uint32_t r = k->rings[x];
    redo_ring(k, r, k->ring_stage[x]);
    k->ring_flag[r] = 0;
    k->stage_flag[k->ring_stage[x]] = 1;
  }
  k->n_rings = 0;
  for (uint32_t st = 0; st < p; st++) {
    p3cfg__stage_links *l = &k->links[st];
    if (k->stage_flag[st])
      redo_stage_dp(k, st);
    k->stage_flag[st] = 0;
    if (t > 1) {
      refresh_max(&k->w_ar[st], k->tp_ar + (size_t)st * tp_ps, tp_ps, 1);
      refresh_max(&k->w_loss[st], k->tp_loss + (size_t)st * tp_ps, tp_ps, 1);
      l->tp_ar = k->w_ar[st].v, l->tp_loss = k->w_loss[st].v;
    }
    if (has_send(k, st)) {
      const uint32_t stride = k->send_pack[st] ? t : 1;
      refresh_max(&k->w_f[st], k->send_f + (size_t)st * ps, ps, stride);
      refresh_max(&k->w_b[st], k->send_b + (size_t)st * ps, ps, stride);
      l->send_f = k->w_f[st].v, l->send_b = k->w_b[st].v;
    }
  }
  /* EP, ETP, CP groups and the expert gradients' rings (MoE and cp > 1 plans only): the
   * worsts of the stages that hold a moved rank (each of those groups lies inside one
   * stage, so the others' are unchanged). */
  for (uint32_t st = 0; st < p; st++) {
    if (full || k->extra_flag[st])
      stage_extra(k, st);
    k->extra_flag[st] = 0;
  }
  double tie = 0.0;
  if (k->tied) {
    refresh_max(&k->w_tie, k->tie, ps, k->tie_pack ? t : 1);
    tie = k->w_tie.v;
  }
  /* The rest of the step depends on the stage costs alone: unchanged, it is as before. */
  int changed = full || tie != k->scored_tie;
  for (uint32_t st = 0; st < p; st++)
    if (full || memcmp(&k->links[st], &k->scored[st], sizeof *k->links)) {
      k->stage_key[st] = stage_hash(&k->links[st], st);
      changed = 1;
    }
  if (!changed) {
    *out = k->scored_time;
    return P3CFG_OK;
  }
  const size_t bytes = p * sizeof *k->links;
  uint64_t key = 0, w;
  for (uint32_t st = 0; st < p; st++)
    key += k->stage_key[st];
  memcpy(&w, &tie, sizeof w);
  key = mix(key, w) | 1;
  const uint32_t slot = (uint32_t)(key >> 40) & (k->memo_n - 1);
  p3cfg__stage_links *seen = k->memo_links + (size_t)slot * p;
  if (k->memo_key[slot] == key && !memcmp(&k->memo_tie[slot], &tie, sizeof tie) &&
      !memcmp(seen, k->links, bytes)) {
    *out = k->memo_time[slot];
  } else {
    int rc = p3cfg__perf_finish(out, &k->x, k->links, tie, k->ws, k->ws_bytes, HUGE_VAL, NULL);
    if (rc)
      return rc;
    k->memo_key[slot] = key, k->memo_tie[slot] = tie, k->memo_time[slot] = *out;
    memcpy(seen, k->links, bytes);
  }
  memcpy(k->scored, k->links, p * sizeof *k->links);
  k->scored_tie = tie;
  k->scored_time = *out;
  return P3CFG_OK;
}

int p3cfg__perf_cache_score(p3cfg_time *out, p3cfg__perf_cache *cache)
{
  return score(out, cache, 0);
}

/* Bump allocation of the arrays in one block: `at` counts bytes, 8-aligned. */
static void *carve(char *base, size_t *at, size_t bytes)
{
  void *p = base ? base + *at : NULL;
  *at += (bytes + 7) & ~(size_t)7;
  return p;
}

static void carve_rings(ring_set *rs, uint32_t rings, char *base, size_t *at)
{
  const size_t links = (size_t)rings * rs->k;
  rs->link_Bps = carve(base, at, links * sizeof(double));
  rs->link_lat = carve(base, at, links * sizeof(double));
  rs->step = carve(base, at, links);
  rs->descents = carve(base, at, rings * sizeof(uint32_t));
  rs->changes = carve(base, at, rings * sizeof(uint32_t));
  rs->ring_Bps = carve(base, at, rings * sizeof(extreme));
  rs->ring_lat = carve(base, at, rings * sizeof(extreme));
}

static void carve_all(p3cfg__perf_cache *k, char *base, size_t *at)
{
  const size_t p = k->p, ranks = k->ranks;
  const size_t groups = p3cfg__mesh_groups(&k->x.mesh, P3CFG__MESH_TP);
  const size_t rings = p3cfg__mesh_groups(&k->x.mesh, P3CFG__MESH_DP);
  k->stage_params = carve(base, at, p * sizeof(double));
  k->tp_ar = carve(base, at, groups * sizeof(double));
  k->tp_loss = carve(base, at, groups * sizeof(double));
  k->send_f = carve(base, at, ranks * sizeof(double));
  k->send_b = carve(base, at, ranks * sizeof(double));
  k->tie = carve(base, at, k->ps * sizeof(double));
  k->node = carve(base, at, ranks * sizeof(uint32_t));
  k->spans = carve(base, at, p * sizeof(uint32_t));
  k->group_spans = carve(base, at, groups);
  k->ring_pack = carve(base, at, p);
  k->send_pack = carve(base, at, p);
  k->ring_cost = carve(base, at, rings * sizeof(p3cfg__dp_cost));
  k->links = carve(base, at, p * sizeof(p3cfg__stage_links));
  k->scored = carve(base, at, p * sizeof(p3cfg__stage_links));
  k->stage_key = carve(base, at, p * sizeof(uint64_t));
  k->w_ar = carve(base, at, p * sizeof(extreme));
  k->w_loss = carve(base, at, p * sizeof(extreme));
  k->w_f = carve(base, at, p * sizeof(extreme));
  k->w_b = carve(base, at, p * sizeof(extreme));
  k->moved = carve(base, at, ranks * sizeof(uint32_t));
  k->where = carve(base, at, ranks * sizeof(pos));
  k->sends = carve(base, at, ranks * sizeof(uint32_t));
  k->send_stage = carve(base, at, ranks * sizeof(uint32_t));
  k->ties = carve(base, at, k->ps * sizeof(uint32_t));
  k->groups = carve(base, at, groups * sizeof(uint32_t));
  k->group_stage = carve(base, at, groups * sizeof(uint32_t));
  k->rings = carve(base, at, rings * sizeof(uint32_t));
  k->ring_stage = carve(base, at, rings * sizeof(uint32_t));
  k->rank_flag = carve(base, at, ranks);
  k->send_flag = carve(base, at, ranks);
  k->tie_flag = carve(base, at, k->ps);
  k->group_flag = carve(base, at, groups);
  k->ring_flag = carve(base, at, rings);
  k->stage_flag = carve(base, at, p);
  k->extra_flag = carve(base, at, p);
  k->ep_cost = carve(base, at, k->n_ep * sizeof(double));
  k->etp_cost = carve(base, at, k->n_etp * sizeof(double));
  k->cp_cost = carve(base, at, k->n_cp * sizeof(double));
  k->edp_cost = carve(base, at, k->n_edp * sizeof(p3cfg__dp_cost));
  k->stage_xparams = carve(base, at, p * sizeof(double));
  k->ep_link = carve(base, at, (k->n_ep ? ranks : 0) * sizeof(a2a_link));
  k->view = carve(base, at, (k->n_ep ? ranks : 0) * sizeof(uint32_t));
  k->ep_count = carve(base, at, k->n_ep * sizeof(uint32_t));
  k->members = carve(base, at, (k->n_ep ? k->ep : 0) * sizeof(p3cfg__a2a_member));
  k->memo_key = carve(base, at, k->memo_n * sizeof(uint64_t));
  k->memo_links = carve(base, at, (size_t)k->memo_n * p * sizeof(p3cfg__stage_links));
  k->memo_tie = carve(base, at, k->memo_n * sizeof(double));
  k->memo_time = carve(base, at, k->memo_n * sizeof(p3cfg_time));
  carve_rings(&k->dpr, (uint32_t)rings, base, at);
  carve_rings(&k->edpr, k->n_edp, base, at);
  k->x_flag = carve(base, at, k->x_cp + k->n_cp);
  k->x_list = carve(base, at, (k->x_cp + k->n_cp) * sizeof(uint32_t));
}

void p3cfg__perf_cache_free(p3cfg__perf_cache *cache)
{
  if (!cache)
    return;
  p3cfg__free(cache->ws);
  p3cfg__free(cache);
}

int p3cfg__perf_cache_new(p3cfg__perf_cache **out, p3cfg_time *time, const p3cfg_model *m,
                          const p3cfg_cluster *c, const p3cfg_plan *plan,
                          const uint32_t *rank_gpu)
{
  *out = NULL;
  const size_t ws_bytes = p3cfg__perf_workspace_bytes(plan);
  if (!time || !m || !c || !rank_gpu || ws_bytes == 0)
    return p3cfg__error_set(P3CFG_EINVALID, "time model cache: invalid arguments");
  p3cfg__perf_cache shape;
  memset(&shape, 0, sizeof shape);
  p3cfg__perf_ctx_of(&shape.x, m, c, plan);
  shape.p = shape.x.mesh.size[P3CFG__MESH_PP], shape.v = plan->virtual_stages;
  shape.t = shape.x.mesh.size[P3CFG__MESH_TP], shape.dp = shape.x.mesh.size[P3CFG__MESH_DP];
  shape.ps = shape.x.mesh.stride[P3CFG__MESH_PP], shape.gpn = p3cfg__ring_unit_gpus(c);
  shape.tp_ps = p3cfg__mesh_groups(&shape.x.mesh, P3CFG__MESH_TP) / shape.p;
  shape.dp_ps = p3cfg__mesh_groups(&shape.x.mesh, P3CFG__MESH_DP) / shape.p;
  shape.ranks = shape.x.mesh.ranks;
  const p3cfg__mesh *X = &shape.x.xmesh;
  const uint32_t ranks = shape.ranks, ep = X->size[P3CFG__MESH_EP];
  const uint32_t etp = X->size[P3CFG__MESH_TP], edp = X->size[P3CFG__MESH_DP];
  const uint32_t cp = shape.x.gmesh.size[P3CFG__MESH_CP];
  shape.ep = ep;
  shape.n_ep = shape.x.moe && ep > 1 ? ranks / ep : 0;
  shape.n_etp = shape.x.moe && etp > 1 ? ranks / etp : 0;
  shape.n_edp = shape.x.moe && edp > 1 ? ranks / edp : 0;
  shape.n_cp = cp > 1 ? ranks / cp : 0;
  shape.x_etp = shape.n_ep, shape.x_edp = shape.x_etp + shape.n_etp;
  shape.x_cp = shape.x_edp + shape.n_edp;
  shape.dpr.k = shape.dp;
  shape.edpr.expert = 1, shape.edpr.k = edp;
  /* The annealer's moves, mostly undone, come back to a few stage costs (a few dozen to a
   * few thousand in 20,000 moves on the fabrics of clusters/): up to 2048 slots in at
   * most 4 MiB. */
  const size_t slot_bytes =
      shape.p * sizeof(p3cfg__stage_links) + sizeof(uint64_t) + sizeof(double) + sizeof(p3cfg_time);
  shape.memo_n = 2048;
  while (shape.memo_n > 16 && shape.memo_n * slot_bytes > ((size_t)4 << 20))
    shape.memo_n /= 2;
  size_t bytes = (sizeof shape + 7) & ~(size_t)7;
  carve_all(&shape, NULL, &bytes);
  p3cfg__perf_cache *k = p3cfg__calloc(1, bytes);
  void *ws = p3cfg__malloc(ws_bytes);
  if (!k || !ws) {
    p3cfg__free(k);
    p3cfg__free(ws);
    return p3cfg__error_nomem();
  }
  *k = shape;
  size_t at = (sizeof shape + 7) & ~(size_t)7;
  carve_all(k, (char *)k, &at);
  k->ws = ws, k->ws_bytes = ws_bytes;
  k->rank_gpu = rank_gpu;
  k->tied = m->tied_embeddings && k->p > 1;
  k->node_links = c->links.granularity == P3CFG_LINKS_NODE;
  for (uint32_t j = 0; j < k->p; j++) {
    k->stage_params[j] = p3cfg__perf_stage_params(&k->x, j);
    k->stage_xparams[j] = p3cfg__perf_stage_expert_params(&k->x, j);
  }

  /* Every group once (the worsts are not kept up to date yet), then every worst by a
   * scan. */
  const uint32_t p = k->p, t = k->t, dp = k->dp, ps = k->ps;
  const uint32_t groups = p * k->tp_ps, rings = p * k->dp_ps;
  for (uint32_t r = 0; r < k->ranks; r++)
    k->node[r] = rank_gpu[r] / k->gpn;
  if (t > 1)
    for (uint32_t g = 0; g < groups; g++)
      redo_group(k, g,
                 p3cfg__mesh_coord(&k->x.mesh, P3CFG__MESH_PP,
                                   p3cfg__mesh_group_nth(&k->x.mesh, P3CFG__MESH_TP, g).first));
  for (uint32_t j = 0; j < p; j++)
    k->ring_pack[j] = (uint8_t)stage_compact(k, j);
  for (uint32_t j = 0; j < p; j++)
    if (has_send(k, j))
      for (uint32_t s = 0; s < ps; s++)
        redo_send(k, j, p3cfg__mesh_step(&k->x.mesh, P3CFG__MESH_PP, j) + s);
  if (k->tied)
    for (uint32_t s = 0; s < ps; s++)
      redo_tie(k, s);
  if (dp > 1)
    for (uint32_t r = 0; r < rings; r++) {
      init_ring(k, &k->dpr, r);
      redo_ring(k, r, r / k->dp_ps);
    }
  for (uint32_t j = 0; j < p; j++) {
    k->stage_flag[j] = 1;
    k->send_pack[j] =
        (uint8_t)(has_send(k, j) && stage_compact(k, j) && stage_compact(k, (j + 1) % p));
    k->w_ar[j].n = k->w_loss[j].n = k->w_f[j].n = k->w_b[j].n = 0;
  }
  k->tie_pack = k->tied && stage_compact(k, 0) && stage_compact(k, p - 1);
  k->w_tie.n = 0;
  if (k->n_ep) {
    memcpy(k->view, rank_gpu, k->ranks * sizeof *k->view);
    for (uint32_t g = 0; g < k->n_ep; g++)
      for (uint32_t i = 0; i < k->ep; i++)
        a2a_walk(k, p3cfg__mesh_group_nth(&k->x.xmesh, P3CFG__MESH_EP, g), i);
  }
  for (uint32_t g = 0; g < k->n_edp; g++)
    init_ring(k, &k->edpr, g);
  for (uint32_t id = 0; id < k->x_cp + k->n_cp; id++)
    if (id < k->x_edp || id >= k->x_cp || k->stage_xparams[(id - k->x_edp) / (k->n_edp / p)] > 0.0)
      redo_extra_group(k, id);
  int rc = score(time, k, 1);
  if (rc) {
    p3cfg__perf_cache_free(k);
    return rc;
  }
  *out = k;
  return P3CFG_OK;
}
