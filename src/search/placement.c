/*
 * placement.c — map every global rank to a physical GPU so that the measured links hurt
 * least, minimising the time model itself (not a proxy).
 *
 * Ranks are moved in units that keep what must stay together together: a unit is a
 * whole tensor-parallel group when it fits in a node (tp divides gpus_per_node), a
 * whole node when a group spans nodes, single GPUs otherwise. A placement is a
 * permutation of units over the physical units of the cluster (extra physical units,
 * when the plan uses fewer GPUs, are free slots a move can bring into use).
 *
 * NVLink domains (links.h): where a stage replica's model-parallel group (its TP group)
 * fits in a domain but does not divide it (TP 16 on a 72-GPU NVL72 rack), the default
 * order lets some groups straddle two domains; the search then also tries the
 * domain-packed order, which fills each domain with whole groups and leaves the rest of
 * it for last, and starts from whichever is faster.
 *
 * Search: exhaustive over node permutations when the cluster has few nodes (exact, and
 * what the tests compare against), else simulated annealing from the default placement
 * with the moves that matter — swap two nodes, swap two units between nodes, reverse or
 * rotate one pipeline chain, exchange two data-parallel replicas at one stage — each
 * undone when rejected. Each move reports the ranks it moved to the time model's cache
 * (p3cfg__perf_cache_*), which recomputes only the groups holding them, so a move costs
 * what it changes rather than what its stages hold. A seeded xorshift generator and a
 * move budget make it deterministic; an optional wall-time cap trades that for a bound.
 */
#include "placement.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "exclusion.h"
#include "links.h"
#include "mesh.h"
#include "perf.h"
#include "plan_rules.h"

typedef struct placer {
  const p3cfg_model *m;
  const p3cfg_cluster *c;
  p3cfg__mesh mesh;    /* the plan's geometry */
  uint32_t u;          /* GPUs per unit */
  uint32_t upn;        /* units per node */
  uint32_t n_units;    /* physical units in the cluster */
  uint32_t rank_units; /* units the plan's ranks fill (slots below this are used) */
  uint32_t group_units;/* units per replica of a stage (its TP group while cp = ep = 1) */
  uint32_t *slot_unit; /* slot -> physical unit */
  uint32_t *unit_slot; /* physical unit -> slot */
  uint32_t *rank_gpu;
  uint8_t *unit_bad;   /* physical unit -> 1 when it holds an excluded GPU (never moved);
                          NULL without exclusions */
  p3cfg__perf_cache *cache; /* the time model of rank_gpu, told of every rank moved */
  uint64_t rng;
  /* Undo log of unit swaps made by the current move. */
  uint32_t *log_a, *log_b;
  size_t log_n, log_cap;
} placer;

static uint64_t rnd(placer *p)
{
  /* xorshift64* (Vigna 2016). */
  p->rng ^= p->rng >> 12;
  p->rng ^= p->rng << 25;
  p->rng ^= p->rng >> 27;
  return p->rng * 2685821657736338717ull;
}

static uint32_t rnd_below(placer *p, uint32_t n) { return (uint32_t)(rnd(p) % n); }

static double rnd_unit(placer *p) { return (double)(rnd(p) >> 11) * (1.0 / 9007199254740992.0); }

/* Write the GPUs of slot k into rank_gpu (only slots holding ranks) and tell the time
 * model's cache which ranks moved. */
static void sync_slot(placer *p, uint32_t k)
{
  if (k >= p->rank_units)
    return;
  const uint32_t base = p->slot_unit[k] * p->u;
  for (uint32_t i = 0; i < p->u; i++)
    p->rank_gpu[k * p->u + i] = base + i;
  if (p->cache)
    p3cfg__perf_cache_moved(p->cache, k * p->u, p->u);
}

/* Swap the slots held by physical units a and b, logging it for undo. */
static void swap_units(placer *p, uint32_t a, uint32_t b, int log)
{
  if (a == b || (p->unit_bad && (p->unit_bad[a] || p->unit_bad[b])))
    return;
  uint32_t ka = p->unit_slot[a], kb = p->unit_slot[b];
  p->unit_slot[a] = kb;
  p->unit_slot[b] = ka;
  p->slot_unit[ka] = b;
  p->slot_unit[kb] = a;
  sync_slot(p, ka);
  sync_slot(p, kb);
  if (log && p->log_n < p->log_cap) {
    p->log_a[p->log_n] = a;
    p->log_b[p->log_n] = b;
    p->log_n++;
  }
}

static void undo(placer *p)
{
  while (p->log_n > 0) {
    p->log_n--;
    swap_units(p, p->log_a[p->log_n], p->log_b[p->log_n], 0);
  }
}

static void swap_nodes(placer *p, uint32_t na, uint32_t nb, int log)
{
  for (uint32_t i = 0; i < p->upn; i++)
    swap_units(p, na * p->upn + i, nb * p->upn + i, log);
}

/* Slot of unit `off` of replica d at stage s: the ranks of pipeline coordinate s and data
 * coordinate d, consecutive (every dimension faster than dp varies inside them). */
static uint32_t group_slot(const placer *p, uint32_t s, uint32_t d, uint32_t off)
{
  const uint32_t rank =
      p3cfg__mesh_step(&p->mesh, P3CFG__MESH_PP, s) + p3cfg__mesh_step(&p->mesh, P3CFG__MESH_DP, d);
  return rank / p->u + off;
}

static void swap_groups(placer *p, uint32_t s1, uint32_t d1, uint32_t s2, uint32_t d2)
{
  for (uint32_t off = 0; off < p->group_units; off++)
    swap_units(p, p->slot_unit[group_slot(p, s1, d1, off)],
               p->slot_unit[group_slot(p, s2, d2, off)], 1);
}

/* Time of the current placement: the cache re-scores what moved since the last call. */
static double score(placer *p)
{
  p3cfg_time t;
  return p3cfg__perf_cache_score(&t, p->cache) ? HUGE_VAL : t.iteration_s;
}

/* Move `kind` (0-4, below), drawn at random where it has choices; returns 0 when it does
 * not apply to this instance. Kind 1 draws its second unit anywhere and gives up when both
 * lie on one node, unless `other_node`, when it draws it among the other nodes' units. */
static int apply_move(placer *p, uint32_t kind, int other_node)
{
  const uint32_t nodes = p->c->nodes, pp = p->mesh.size[P3CFG__MESH_PP],
                 dp = p->mesh.size[P3CFG__MESH_DP];
  switch (kind) {
  case 0: /* swap two nodes */
    if (nodes < 2)
      return 0;
    {
      uint32_t a = rnd_below(p, nodes), b = rnd_below(p, nodes - 1);
      swap_nodes(p, a, b >= a ? b + 1 : b, 1);
    }
    return 1;
  case 1: /* swap two units on different nodes */
    if (nodes < 2)
      return 0;
    {
      uint32_t a = rnd_below(p, p->n_units), b;
      if (other_node) {
        const uint32_t first = a / p->upn * p->upn; /* a's node's first unit */
        b = rnd_below(p, p->n_units - p->upn);
        b = b >= first ? b + p->upn : b;
      } else {
        b = rnd_below(p, p->n_units);
        if (a / p->upn == b / p->upn)
          return 0;
      }
      swap_units(p, a, b, 1);
    }
    return 1;
  case 2: /* reverse one pipeline chain */
    if (pp < 2)
      return 0;
    {
      uint32_t d = rnd_below(p, dp);
      for (uint32_t s = 0; s < pp / 2; s++)
        swap_groups(p, s, d, pp - 1 - s, d);
    }
    return 1;
  case 3: /* rotate one pipeline chain by one stage */
    if (pp < 3)
      return 0;
    {
      uint32_t d = rnd_below(p, dp);
      for (uint32_t s = 0; s + 1 < pp; s++)
        swap_groups(p, s, d, s + 1, d);
    }
    return 1;
  case 4: /* exchange two replicas at one stage */
    if (dp < 2)
      return 0;
    {
      uint32_t s = rnd_below(p, pp), a = rnd_below(p, dp), b = rnd_below(p, dp - 1);
      swap_groups(p, s, a, s, b >= a ? b + 1 : b);
    }
    return 1;
  }
  return 0;
}

/* One random move; returns 0 only when no move applies to this instance. Eight draws over
 * all five kinds first (the sequence every placement of earlier versions was found with);
 * should all eight miss, one draw among the kinds that apply: with pp = 1 three kinds never
 * apply, and eight misses in a row (about once in 1500 moves) used to end the annealing
 * early. */
static int random_move(placer *p)
{
  for (int tries = 0; tries < 8; tries++)
    if (apply_move(p, rnd_below(p, 5), 0))
      return 1;
  const uint32_t nodes = p->c->nodes, pp = p->mesh.size[P3CFG__MESH_PP],
                 dp = p->mesh.size[P3CFG__MESH_DP];
  uint32_t kinds[5], n = 0;
  if (nodes >= 2)
    kinds[n++] = 0, kinds[n++] = 1;
  if (pp >= 2)
    kinds[n++] = 2;
  if (pp >= 3)
    kinds[n++] = 3;
  if (dp >= 2)
    kinds[n++] = 4;
  return n > 0 && apply_move(p, kinds[rnd_below(p, n)], 1);
}

/* The best placement so far is kept as the units of the slots holding ranks (rank_gpu
 * follows from them): a fraction of the ranks to copy at each improvement. */
static void keep_best(const placer *p, uint32_t *best_units)
{
  memcpy(best_units, p->slot_unit, p->rank_units * sizeof *best_units);
}

/* Heap's algorithm over node permutations, keeping the best. */
static void exhaustive(placer *p, double *best, uint32_t *best_units, p3cfg__place_stats *st)
{
  const uint32_t n = p->c->nodes;
  uint32_t cnt[16] = {0};
  uint32_t i = 1;
  while (i < n) {
    if (cnt[i] < i) {
      uint32_t j = (i % 2 == 0) ? 0 : cnt[i];
      swap_nodes(p, j, i, 0);
      double s = score(p);
      st->moves++;
      if (s < *best) {
        *best = s;
        keep_best(p, best_units);
      }
      cnt[i]++;
      i = 1;
    } else {
      cnt[i] = 0;
      i++;
    }
  }
}

static void anneal(placer *p, double *best, uint32_t *best_units, const p3cfg__place_opts *o,
                   p3cfg__place_stats *st, double t0)
{
  uint64_t budget = o->max_moves;
  if (budget == 0) {
    budget = 60ull * p->n_units;
    budget = budget < 3000 ? 3000 : budget > 20000 ? 20000 : budget;
  }
  double cur = *best;
  /* Temperatures relative to the default time: link differences move iteration time
   * by fractions of a percent to tens of percent. */
  const double temp0 = 2e-3 * cur, temp1 = 1e-6 * cur;
  const double decay = pow(temp1 / temp0, 1.0 / (double)budget);
  double temp = temp0;
  for (uint64_t k = 0; k < budget; k++, temp *= decay) {
    if (o->max_s > 0 && (k & 63) == 0 && p3cfg__monotonic_s() - t0 > o->max_s)
      break;
    p->log_n = 0;
    if (!random_move(p))
      break;
    st->moves++;
    double s = score(p);
    if (s <= cur || rnd_unit(p) < exp((cur - s) / temp)) {
      cur = s;
      st->accepted++;
      if (s < *best) {
        *best = s;
        keep_best(p, best_units);
      }
    } else {
      undo(p);
    }
  }
}

/* Write the slots' GPUs into rank_gpu (the cache, if any, is not told). */
static void sync_all(placer *p)
{
  for (uint32_t k = 0; k < p->rank_units; k++)
    for (uint32_t i = 0; i < p->u; i++)
      p->rank_gpu[k * p->u + i] = p->slot_unit[k] * p->u + i;
}

/* The domain-packed order: each domain's first floor(D / G) * G GPUs (G: the GPUs of one
 * stage replica's model-parallel group), domain after domain, then the remainders. 1
 * when it applies (G divides no domain but fits one, and the packed slots hold every
 * rank), 0 (nothing changed) otherwise. */
static int domain_order(placer *p)
{
  const uint32_t d = p3cfg__domain_gpus(p->c), g = p->group_units * p->u;
  if (p->c->excluded || d <= p->c->gpus_per_node || g > d || d % g == 0 || d % p->u)
    return 0;
  const uint32_t per = d / p->u, packed = d / g * p->group_units, domains = p->n_units / per;
  if ((uint64_t)packed * domains < p->rank_units)
    return 0;
  uint32_t k = 0;
  for (int rest = 0; rest < 2; rest++)
    for (uint32_t x = 0; x < domains; x++)
      for (uint32_t y = rest ? packed : 0; y < (rest ? per : packed); y++)
        p->slot_unit[k] = x * per + y, p->unit_slot[x * per + y] = k, k++;
  return 1;
}

int p3cfg__place(uint32_t *rank_gpu, p3cfg_time *time, p3cfg__place_stats *stats,
                 const p3cfg_model *m, const p3cfg_cluster *c, const p3cfg_plan *plan,
                 const p3cfg__place_opts *opts)
{
  const double t0 = p3cfg__monotonic_s();
  p3cfg__place_stats st;
  memset(&st, 0, sizeof st);
  const uint64_t gpus = p3cfg__cluster_gpus(c);
  placer p;
  memset(&p, 0, sizeof p);
  p.m = m;
  p.c = c;
  p3cfg__mesh_of(&p.mesh, plan);
  const uint32_t gpn = c->gpus_per_node, tp = p.mesh.size[P3CFG__MESH_TP];
  const uint32_t ranks = p.mesh.ranks;
  p.u = p3cfg__unit_gpus(c, tp);
  p.upn = gpn / p.u;
  p.n_units = (uint32_t)(gpus / p.u);
  p.group_units = p.mesh.stride[P3CFG__MESH_DP] / p.u;
  /* Ranks fill whole units only when u divides the rank count (always: u divides tp). */
  p.rank_units = ranks / p.u;
  p.rng = opts->seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  if (p.rng == 0)
    p.rng = 1;
  const size_t ws_bytes = p3cfg__perf_workspace_bytes(plan);
  p.log_cap = 2ull * p.mesh.size[P3CFG__MESH_PP] * p.group_units + 2ull * p.upn + 8;
  int rc = P3CFG_OK;
  uint32_t *best_units = NULL;
  void *ws = NULL;
  p.slot_unit = p3cfg__malloc(p.n_units * sizeof *p.slot_unit);
  p.unit_slot = p3cfg__malloc(p.n_units * sizeof *p.unit_slot);
  p.rank_gpu = rank_gpu;
  ws = p3cfg__malloc(ws_bytes ? ws_bytes : 1);
  p.log_a = p3cfg__malloc(p.log_cap * sizeof *p.log_a);
  p.log_b = p3cfg__malloc(p.log_cap * sizeof *p.log_b);
  best_units = p3cfg__malloc(p.rank_units * sizeof *best_units);
  if (!p.slot_unit || !p.unit_slot || !ws || !p.log_a || !p.log_b || !best_units) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  if (c->excluded) {
    /* Excluded GPUs: the usable units take the first slots in order (the default map
     * skips the others), the units holding an excluded GPU the last; those never move. */
    p.unit_bad = p3cfg__malloc(p.n_units ? p.n_units : 1);
    if (!p.unit_bad) {
      rc = p3cfg__error_nomem();
      goto done;
    }
    uint32_t k = 0;
    for (uint32_t x = 0; x < p.n_units; x++) {
      p.unit_bad[x] = (uint8_t)!p3cfg__unit_usable(c, p.u, x);
      if (!p.unit_bad[x])
        p.slot_unit[k] = x, p.unit_slot[x] = k, k++;
    }
    if (k < p.rank_units) {
      rc = p3cfg__error_set(P3CFG_EPLAN, "%llu ranks, but only %llu GPUs are usable",
                            (unsigned long long)ranks, (unsigned long long)k * p.u);
      goto done;
    }
    for (uint32_t x = 0; x < p.n_units; x++)
      if (p.unit_bad[x])
        p.slot_unit[k] = x, p.unit_slot[x] = k, k++;
  } else {
    for (uint32_t k = 0; k < p.n_units; k++) {
      p.slot_unit[k] = k;
      p.unit_slot[k] = k;
    }
  }
  for (uint32_t k = 0; k < p.rank_units; k++)
    for (uint32_t i = 0; i < p.u; i++)
      rank_gpu[k * p.u + i] = p.slot_unit[k] * p.u + i;
  p3cfg_time t_default;
  rc = p3cfg__perf_plan(&t_default, m, c, plan, rank_gpu, ws, ws_bytes);
  if (rc)
    goto done;
  double best = t_default.iteration_s;
  st.default_s = best;
  keep_best(&p, best_units);
  if (domain_order(&p)) {
    sync_all(&p);
    p3cfg_time t_packed;
    rc = p3cfg__perf_plan(&t_packed, m, c, plan, rank_gpu, ws, ws_bytes);
    if (rc)
      goto done;
    if (t_packed.iteration_s < best) {
      best = t_packed.iteration_s;
      keep_best(&p, best_units);
    } else { /* back to the default order */
      for (uint32_t k = 0; k < p.n_units; k++)
        p.slot_unit[k] = p.unit_slot[k] = k;
      sync_all(&p);
    }
  }
  if (p3cfg__placement_matters(c)) {
    /* On a two-tier network without measured links every placement is equal: no
     * search, no cache. */
    p3cfg_time t_cache;
    rc = p3cfg__perf_cache_new(&p.cache, &t_cache, m, c, plan, rank_gpu);
    if (rc)
      goto done;
    const uint32_t exact_max = opts->exact_max_nodes ? opts->exact_max_nodes : 8;
    if (c->nodes <= exact_max && c->nodes <= 12) {
      exhaustive(&p, &best, best_units, &st);
      /* With units that never move, not every node permutation was reachable. */
      st.exact = !c->excluded;
    } else {
      anneal(&p, &best, best_units, opts, &st, t0);
    }
  }
  for (uint32_t k = 0; k < p.rank_units; k++)
    for (uint32_t i = 0; i < p.u; i++)
      rank_gpu[k * p.u + i] = best_units[k] * p.u + i;
  p3cfg_time t_best;
  rc = p3cfg__perf_plan(time ? time : &t_best, m, c, plan, rank_gpu, ws, ws_bytes);
  if (rc)
    goto done;
  st.best_s = (time ? time : &t_best)->iteration_s;
  st.elapsed_s = p3cfg__monotonic_s() - t0;
  if (stats)
    *stats = st;
done:
  p3cfg__perf_cache_free(p.cache);
  p3cfg__free(p.slot_unit);
  p3cfg__free(p.unit_slot);
  p3cfg__free(p.unit_bad);
  p3cfg__free(ws);
  p3cfg__free(p.log_a);
  p3cfg__free(p.log_b);
  p3cfg__free(best_units);
  return rc;
}
