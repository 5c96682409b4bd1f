/*
 * perf_cache_internal.h — what the two files of the incremental time model share
 * (perf_cache.c: the cache, its dense groups and the score; perf_cache_moe.c: its MoE and
 * CP groups): the cache itself, the `extreme` kept for every worst and its updates, the
 * rings kept as their consecutive links (the DP rings and the EDP rings), and the entry
 * points of perf_cache_moe.c. Its helpers are static inline, so both files' hot paths
 * inline them as the one file did; a score calls into perf_cache_moe.c twice (the moved
 * ranks' groups, then the stages' worsts).
 */
#ifndef P3CFG_PERF_CACHE_INTERNAL_H
#define P3CFG_PERF_CACHE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

/* Rings kept as their consecutive links (perf_cache.c): the DP rings of the mesh and, for an
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
static inline void max_scan(extreme *e, const double *a, uint32_t len, uint32_t stride)
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

static inline void min_scan(extreme *e, const double *a, uint32_t len)
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
static inline void max_replace(extreme *e, double old, double now)
{
  if (old == e->v)
    e->n--;
  if (now > e->v)
    e->v = now, e->n = 1;
  else if (now == e->v)
    e->n++;
}

static inline void min_replace(extreme *e, double old, double now)
{
  if (old == e->v)
    e->n--;
  if (now < e->v)
    e->v = now, e->n = 1;
  else if (now == e->v)
    e->n++;
}

static inline void list_add(uint8_t *flag, uint32_t *list, uint32_t *n, uint32_t id)
{
  if (!flag[id]) {
    flag[id] = 1;
    list[(*n)++] = id;
  }
}

/* Ring r of the set, its mesh group. */
static inline p3cfg__mesh_group set_ring(const p3cfg__perf_cache *k, const ring_set *rs, uint32_t r)
{
  return p3cfg__mesh_group_nth(rs->expert ? &k->x.xmesh : &k->x.mesh, P3CFG__MESH_DP, r);
}

/* Members e and e+1 (mod k) of ring r of the set, the mesh group `ring`: the link between
 * them and, unless e+1 wraps to 0, whether e+1 sits on another node, a lower one. */
static inline void redo_pair(p3cfg__perf_cache *k, ring_set *rs, uint32_t r, p3cfg__mesh_group ring,
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
static inline void init_ring(p3cfg__perf_cache *k, ring_set *rs, uint32_t r)
{
  const p3cfg__mesh_group ring = set_ring(k, rs, r);
  for (uint32_t d = 0; d < rs->k; d++)
    redo_pair(k, rs, r, ring, d);
  min_scan(&rs->ring_Bps[r], rs->link_Bps + (size_t)r * rs->k, rs->k);
  max_scan(&rs->ring_lat[r], rs->link_lat + (size_t)r * rs->k, rs->k, 1);
}

/* Ring r of the set from its links, or (when they do not settle it) built again. */
static inline void build_ring(p3cfg__ring *out, p3cfg__perf_cache *k, ring_set *rs, uint32_t r)
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

/* ---- perf_cache_moe.c ---------------------------------------------------------------- */

/* The sizes and numbering of the MoE and CP groups (ep, n_*, x_*, edpr's) of the cache's
 * shape, its x and ranks set, before its arrays are carved. */
void p3cfg__perf_cache_extra_shape(p3cfg__perf_cache *k);

/* Every MoE and CP group's cost in full (a new cache, its arrays carved). */
void p3cfg__perf_cache_extra_init(p3cfg__perf_cache *k);

/* The MoE and CP groups of the moved ranks again (k->where worked out). */
void p3cfg__perf_cache_extra_moved(p3cfg__perf_cache *k);

/* The stages' EP, ETP, CP and expert-gradient worsts: those of every stage (full) or of the
 * stages holding a moved rank. */
void p3cfg__perf_cache_extra_stages(p3cfg__perf_cache *k, int full);

#endif
