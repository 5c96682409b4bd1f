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
 * - for an MoE plan, each EP group's all-to-all (as each member's links to the others),
 *   ETP group's ring and EDP ring (as its links, as the DP rings are), and, with cp > 1,
 *   each CP ring's slowest send: perf_cache_moe.c keeps those (perf_cache_internal.h holds
 *   the cache and what the two files share).
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
 * _send, _dp_ring, _tie; in perf_cache_moe.c _ep_members, _etp_group, _cp_group) on the
 * same rings and links, and a max over the same values does not depend on the order, so a
 * score equals p3cfg__perf_plan's to the bit (tests/unit/perf/cache_test.c checks every
 * field after random moves).
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "perf.h"
#include "perf_cache_internal.h"
#include "perf_internal.h"

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
  p3cfg__perf_cache_extra_moved(k);
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
  p3cfg__perf_cache_extra_stages(k, full);
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
  p3cfg__perf_cache_extra_shape(&shape);
  shape.dpr.k = shape.dp;
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
  p3cfg__perf_cache_extra_init(k);
  int rc = score(time, k, 1);
  if (rc) {
    p3cfg__perf_cache_free(k);
    return rc;
  }
  *out = k;
  return P3CFG_OK;
}