/*
 * perf_cache_moe.c — the MoE and context-parallel groups of the incremental time model
 * (perf_cache.c): for an MoE plan, each EP group's all-to-all, as each member's links to
 * the others (how many share its NVLink domain, the slowest link of each kind, the largest
 * latency): a moved member takes its old link out of each other member's and puts its new
 * one in, then walks its own: 2k or 3k lookups, not the group's k(k-1) (a group most of
 * whose members moved is walked whole); each ETP group's ring; each EDP ring kept as its
 * links, as the DP rings are (perf_cache_internal.h); and, with cp > 1, each CP ring's
 * slowest send. The groups are numbered as mesh.h numbers them (expert mesh: EP, ETP, EDP;
 * dense mesh: CP), one flag array over all of them; each lies inside one stage, so a score
 * takes the worsts again only of the stages holding a moved rank.
 *
 * The group costs come from the functions p3cfg__perf_plan uses (p3cfg__perf_ep_members,
 * _etp_group, _dp_ring, _cp_group), so they equal its to the bit.
 */
#include <assert.h>
#include <string.h>

#include "perf.h"
#include "perf_cache_internal.h"
#include "perf_internal.h"

void p3cfg__perf_cache_extra_shape(p3cfg__perf_cache *k)
{
  const p3cfg__mesh *X = &k->x.xmesh;
  const uint32_t ranks = k->ranks, ep = X->size[P3CFG__MESH_EP];
  const uint32_t etp = X->size[P3CFG__MESH_TP], edp = X->size[P3CFG__MESH_DP];
  const uint32_t cp = k->x.gmesh.size[P3CFG__MESH_CP];
  k->ep = ep;
  k->n_ep = k->x.moe && ep > 1 ? ranks / ep : 0;
  k->n_etp = k->x.moe && etp > 1 ? ranks / etp : 0;
  k->n_edp = k->x.moe && edp > 1 ? ranks / edp : 0;
  k->n_cp = cp > 1 ? ranks / cp : 0;
  k->x_etp = k->n_ep, k->x_edp = k->x_etp + k->n_etp;
  k->x_cp = k->x_edp + k->n_edp;
  k->edpr.expert = 1, k->edpr.k = edp;
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
void p3cfg__perf_cache_extra_moved(p3cfg__perf_cache *k)
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

void p3cfg__perf_cache_extra_stages(p3cfg__perf_cache *k, int full)
{
  for (uint32_t st = 0; st < k->p; st++) {
    if (full || k->extra_flag[st])
      stage_extra(k, st);
    k->extra_flag[st] = 0;
  }
}

void p3cfg__perf_cache_extra_init(p3cfg__perf_cache *k)
{
  const uint32_t p = k->p;
  if (k->n_ep) {
    memcpy(k->view, k->rank_gpu, k->ranks * sizeof *k->view);
    for (uint32_t g = 0; g < k->n_ep; g++)
      for (uint32_t i = 0; i < k->ep; i++)
        a2a_walk(k, p3cfg__mesh_group_nth(&k->x.xmesh, P3CFG__MESH_EP, g), i);
  }
  for (uint32_t g = 0; g < k->n_edp; g++)
    init_ring(k, &k->edpr, g);
  for (uint32_t id = 0; id < k->x_cp + k->n_cp; id++)
    if (id < k->x_edp || id >= k->x_cp || k->stage_xparams[(id - k->x_edp) / (k->n_edp / p)] > 0.0)
      redo_extra_group(k, id);
}
