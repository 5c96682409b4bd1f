/*
 * replan.c — p3cfg_replan: the plan to run when GPUs fail. First the old plan's degrees
 * on what is left (dp shrinking to the largest that fits and divides the global batch),
 * with as few ranks moved as possible; otherwise the best plan of a search on the GPUs
 * left. Both report the cost of the change (ranks moved, time before and after).
 *
 * Keeping the degrees: the dp replicas with the fewest ranks on failed GPUs are kept, in
 * their old order. Ranks move in the placement's units (a TP group that fits a node, a
 * whole node when groups span nodes, single GPUs otherwise; exclusion.h): a unit whose
 * old GPUs all survive stays where it was; a unit that lost GPUs keeps its survivors and
 * takes free GPUs of the same node for the lost ranks when the node has them (a TP group
 * stays inside a node), else moves whole to a free aligned unit. When no assignment
 * exists, dp shrinks further.
 */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "exclusion.h"
#include "memory.h"
#include "mesh.h"
#include "perf.h"
#include "plan_rules.h"
#include "plan_version.h"
#include "rank_map.h"
#include "uncertainty.h"

P3CFG_API void p3cfg_replan_options_init(p3cfg_replan_options *opts)
{
  if (opts) {
    static const p3cfg_replan_options init = P3CFG_REPLAN_OPTIONS_INIT;
    *opts = init;
  }
}

/* Time of `plan` on `map` (NULL: the default). */
static int time_on(p3cfg_time *t, const p3cfg_model *m, const p3cfg_cluster *c,
                   const p3cfg_plan *plan, const uint32_t *map)
{
  int rc = p3cfg__perf_workspace_check(plan);
  if (rc)
    return rc;
  const size_t ws_bytes = p3cfg__perf_workspace_bytes(plan);
  void *ws = p3cfg__malloc(ws_bytes ? ws_bytes : 1);
  if (!ws)
    return p3cfg__error_nomem();
  rc = p3cfg__perf_plan(t, m, c, plan, map, ws, ws_bytes);
  p3cfg__free(ws);
  return rc;
}

typedef struct assign_ctx {
  const p3cfg_cluster *c; /* the view with the failed GPUs */
  const p3cfg_plan *old;
  const uint32_t *old_map; /* old rank -> GPU */
  uint32_t u;              /* GPUs per unit */
  uint8_t *used;           /* per GPU */
  uint32_t *kept;          /* new replica -> old replica */
  uint32_t *bad;           /* old replica -> ranks on failed GPUs */
  uint32_t *order;         /* old replicas, fewest failed ranks first */
} assign_ctx;

static int gpu_free(const assign_ctx *a, uint32_t g) { return !a->used[g] && !a->c->excluded[g]; }

/* The old rank of new rank r of a plan with dp replicas `d` (kept[] maps them). */
static uint32_t old_rank(const assign_ctx *a, uint32_t d, uint32_t r)
{
  const uint32_t tp = a->old->tp, per_stage_new = d * tp;
  const uint32_t s = r / per_stage_new, j = (r % per_stage_new) / tp, t = r % tp;
  return (s * a->old->dp + a->kept[j]) * tp + t;
}

/* Place the ranks of a plan with dp `d` on the GPUs left, moving as few as possible.
 * Returns 1 and fills map / *moved, or 0 when no assignment exists. */
static int assign(assign_ctx *a, uint32_t d, uint32_t *map, uint64_t *moved)
{
  const p3cfg_cluster *c = a->c;
  const uint32_t gpn = c->gpus_per_node, u = a->u, tp = a->old->tp;
  const uint64_t all = p3cfg__cluster_gpus(c);
  const uint32_t ranks = d * tp * a->old->pp, slots = ranks / u;
  memset(a->used, 0, all);
  /* Keep the d replicas with the fewest failed ranks, in their old order. */
  memset(a->kept, 0, d * sizeof *a->kept);
  {
    uint32_t n = 0;
    for (uint32_t x = 0; x < a->old->dp && n < d; x++) {
      /* a->order is sorted by failed ranks; take its first d, then sort them by index */
      a->kept[n++] = a->order[x];
    }
    for (uint32_t i = 1; i < n; i++) /* insertion sort: d is small next to the ranks */
      for (uint32_t k = i; k > 0 && a->kept[k - 1] > a->kept[k]; k--) {
        uint32_t tmp = a->kept[k];
        a->kept[k] = a->kept[k - 1];
        a->kept[k - 1] = tmp;
      }
  }
  /* 1. Units whose old GPUs all survive stay. */
  uint64_t pending = 0;
  for (uint32_t k = 0; k < slots; k++) {
    int ok = 1;
    for (uint32_t i = 0; i < u && ok; i++) {
      const uint32_t g = a->old_map[old_rank(a, d, k * u + i)];
      ok = !c->excluded[g] && !a->used[g];
    }
    for (uint32_t i = 0; i < u; i++) {
      const uint32_t g = a->old_map[old_rank(a, d, k * u + i)];
      map[k * u + i] = ok ? g : UINT32_MAX;
      if (ok)
        a->used[g] = 1;
    }
    pending += !ok;
  }
  /* 2. The others: survivors stay and the lost ranks take free GPUs of the same node
   * (units inside a node), else the unit moves whole to a free aligned unit. */
  uint32_t next_unit = 0;
  for (uint32_t k = 0; k < slots && pending; k++) {
    if (map[k * u] != UINT32_MAX)
      continue;
    pending--;
    int done = 0;
    if (u < gpn || u == 1) {
      /* The node of the survivors (all of them on one node), or of the first old GPU. */
      uint32_t node = UINT32_MAX, lost = 0;
      int one_node = 1;
      for (uint32_t i = 0; i < u; i++) {
        const uint32_t g = a->old_map[old_rank(a, d, k * u + i)];
        if (c->excluded[g] || a->used[g]) {
          lost++;
          continue;
        }
        if (node == UINT32_MAX)
          node = g / gpn;
        else if (g / gpn != node)
          one_node = 0;
      }
      if (node == UINT32_MAX && u == 1)
        node = a->old_map[old_rank(a, d, k)] / gpn;
      /* The survivors take their GPUs first; the free GPUs of the node are the others. */
      for (uint32_t i = 0; i < u && one_node; i++) {
        const uint32_t g = a->old_map[old_rank(a, d, k * u + i)];
        if (!c->excluded[g] && !a->used[g]) {
          map[k * u + i] = g;
          a->used[g] = 1;
        }
      }
      uint32_t free_in_node = 0;
      if (one_node && node != UINT32_MAX)
        for (uint32_t l = 0; l < gpn; l++)
          free_in_node += gpu_free(a, node * gpn + l) ? 1u : 0u;
      if (!(one_node && node != UINT32_MAX && free_in_node >= lost)) {
        for (uint32_t i = 0; i < u; i++) /* not enough room: the survivors move too */
          if (map[k * u + i] != UINT32_MAX) {
            a->used[map[k * u + i]] = 0;
            map[k * u + i] = UINT32_MAX;
          }
      } else {
        for (uint32_t i = 0, l = 0; i < u; i++) {
          if (map[k * u + i] != UINT32_MAX)
            continue;
          while (l < gpn && !gpu_free(a, node * gpn + l))
            l++;
          if (l == gpn)
            return 0; /* cannot happen: free_in_node >= lost */
          map[k * u + i] = node * gpn + l;
          a->used[node * gpn + l] = 1;
        }
        done = 1;
      }
    }
    if (!done) {
      const uint32_t n_units = (uint32_t)(all / u);
      for (; next_unit < n_units; next_unit++) {
        int ok = 1;
        for (uint32_t i = 0; i < u && ok; i++)
          ok = gpu_free(a, next_unit * u + i);
        if (ok)
          break;
      }
      if (next_unit == n_units)
        return 0;
      for (uint32_t i = 0; i < u; i++) {
        map[k * u + i] = next_unit * u + i;
        a->used[next_unit * u + i] = 1;
      }
    }
  }
  uint64_t n_moved = 0;
  for (uint32_t r = 0; r < ranks; r++)
    n_moved += map[r] != a->old_map[old_rank(a, d, r)];
  *moved = n_moved;
  return 1;
}

/* Try the old degrees on the view; 1 with *e filled when they fit, 0 when not. */
static int keep_degrees(p3cfg_result *r, p3cfg_replan_info *info, const p3cfg_model *m,
                        const p3cfg_cluster *full, const p3cfg_cluster *c,
                        const p3cfg_plan *old, const uint32_t *old_map, int *rc)
{
  const uint64_t all = p3cfg__cluster_gpus(c);
  assign_ctx a;
  memset(&a, 0, sizeof a);
  a.c = c;
  a.old = old;
  a.old_map = old_map;
  a.u = p3cfg__unit_gpus(c, old->tp);
  a.used = p3cfg__malloc(all ? all : 1);
  a.kept = p3cfg__malloc(old->dp * sizeof *a.kept);
  a.bad = p3cfg__calloc(old->dp, sizeof *a.bad);
  a.order = p3cfg__malloc(old->dp * sizeof *a.order);
  const size_t n_old = (size_t)old->dp * old->tp * old->pp;
  uint32_t *map = p3cfg__malloc(n_old * sizeof *map);
  p3cfg_stage_memory *stages = p3cfg__calloc(old->pp, sizeof *stages);
  int found = 0;
  *rc = P3CFG_OK;
  if (!a.used || !a.kept || !a.bad || !a.order || !map || !stages) {
    *rc = p3cfg__error_nomem();
    goto done;
  }
  for (size_t x = 0; x < n_old; x++) {
    const uint32_t per_stage = old->dp * old->tp;
    a.bad[(x % per_stage) / old->tp] += c->excluded[old_map[x]] ? 1u : 0u;
  }
  /* Replicas by failed ranks (stable: counting sort over the counts). */
  {
    const uint32_t max_bad = old->tp * old->pp;
    uint32_t n = 0;
    for (uint32_t b = 0; b <= max_bad && n < old->dp; b++)
      for (uint32_t x = 0; x < old->dp; x++)
        if (a.bad[x] == b)
          a.order[n++] = x;
  }
  const uint64_t mp = (uint64_t)old->tp * old->pp;
  for (uint32_t d = old->dp; d >= 1 && !found; d--) {
    if (old->global_batch % ((uint64_t)d * old->micro_batch) || d * mp > all - c->n_excluded)
      continue;
    p3cfg_plan p = *old;
    p.dp = d;
    if (p3cfg__plan_rule_check(&p, m, full) != P3CFG_RULE_OK ||
        p3cfg__perf_workspace_bytes(&p) > P3CFG__PERF_WORKSPACE_MAX)
      continue;
    p3cfg_memory mem;
    p3cfg__memory_plan(&mem, stages, m, c, &p);
    if (!mem.fits)
      continue;
    uint64_t moved = 0;
    if (!assign(&a, d, map, &moved))
      continue;
    p3cfg__result_entry *e = p3cfg__result_add(r, &p);
    if (!e) {
      *rc = p3cfg__error_nomem();
      goto done;
    }
    p3cfg__memory_plan(&e->memory, e->stages, m, c, &e->plan);
    if ((*rc = time_on(&e->time, m, c, &e->plan, map)) != 0 ||
        (*rc = p3cfg__entry_set_placement(e, c, map)) != 0)
      goto done;
    e->has_time = 1;
    e->place_info.default_s = e->place_info.placed_s = e->time.iteration_s;
    p3cfg__entry_set_ranges(e, m, c);
    info->kept_degrees = 1;
    info->ranks = d * mp;
    info->ranks_moved = moved;
    found = 1;
  }
done:
  p3cfg__free(a.used);
  p3cfg__free(a.kept);
  p3cfg__free(a.bad);
  p3cfg__free(a.order);
  p3cfg__free(map);
  p3cfg__free(stages);
  return found;
}

P3CFG_API int p3cfg_replan(p3cfg_result **out, const p3cfg_model *model,
                           const p3cfg_cluster *cluster, const p3cfg_plan *plan,
                           const p3cfg_rank_place *ranks, size_t n_ranks,
                           const p3cfg_replan_options *opts)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_replan: NULL out");
  *out = NULL;
  if (!model || !cluster || !plan || !ranks || !opts)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_replan: NULL argument");
  /* The caller's plan may be of an older, shorter version. */
  p3cfg_plan cur;
  int rc = p3cfg__plan_read(&cur, plan, "p3cfg_replan");
  if (rc)
    return rc;
  plan = &cur;
  if (opts->version != P3CFG_REPLAN_OPTIONS_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_replan_options: version %u, expected %u",
                            opts->version, P3CFG_REPLAN_OPTIONS_VERSION);
  if (opts->n_exclude_gpus == 0)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_replan: no GPU excluded");
  p3cfg__plan_normalise_dims(&cur);
  if ((rc = p3cfg__plan_check(plan, model, cluster)) != 0)
    return rc;
  if (cur.cp > 1)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "p3cfg_replan: re-planning a context-parallel plan (cp %u) is not "
                            "supported yet",
                            cur.cp);
  const uint64_t n = (uint64_t)plan->dp * plan->tp * plan->pp;
  if (n_ranks != n)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_replan: %zu ranks placed, the plan has %llu",
                            n_ranks, (unsigned long long)n);
  const uint32_t gpn = cluster->gpus_per_node;
  uint32_t *old_map = p3cfg__malloc(n * sizeof *old_map);
  if (!old_map)
    return p3cfg__error_nomem();
  for (size_t i = 0; i < n_ranks; i++) {
    const p3cfg_rank_place *rp = &ranks[i];
    if (rp->rank >= n || rp->node >= cluster->nodes || rp->gpu >= gpn) {
      p3cfg__free(old_map);
      return p3cfg__error_set(P3CFG_EINVALID,
                              "p3cfg_replan: rank %u on node %u GPU %u is off the cluster "
                              "(%u nodes of %u GPUs)",
                              rp->rank, rp->node, rp->gpu, cluster->nodes, gpn);
    }
    old_map[rp->rank] = rp->node * gpn + rp->gpu;
  }
  p3cfg_replan_info info;
  memset(&info, 0, sizeof info);
  info.old_dp = plan->dp;
  p3cfg_time before;
  if ((rc = time_on(&before, model, cluster, plan, old_map)) != 0) {
    p3cfg__free(old_map);
    return rc;
  }
  info.before_s = before.iteration_s;
  p3cfg__exclusion ex;
  if ((rc = p3cfg__exclusion_view(&ex, cluster, opts->exclude_gpus, opts->n_exclude_gpus))) {
    p3cfg__free(old_map);
    return rc;
  }
  p3cfg_result *r = p3cfg__result_new();
  if (!r) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  if (!keep_degrees(r, &info, model, cluster, &ex.view, plan, old_map, &rc)) {
    if (rc)
      goto done;
    /* The old degrees do not fit what is left: the best plan of a search on it. */
    p3cfg_result_free(r);
    r = NULL;
    p3cfg_search_options so;
    p3cfg_search_options_init(&so);
    so.top_k = 1;
    so.threads = opts->threads ? opts->threads : 1;
    so.global_batch = plan->global_batch;
    so.overlap = plan->overlap;
    so.place = opts->place;
    so.seed = opts->seed;
    so.exclude_gpus = opts->exclude_gpus;
    so.n_exclude_gpus = opts->n_exclude_gpus;
    rc = p3cfg_search(&r, model, cluster, &so);
    if (rc && rc != P3CFG_EINFEASIBLE)
      goto done;
    const p3cfg_plan *np = &r->entries[0].plan;
    info.kept_degrees = 0;
    info.ranks = (uint64_t)np->dp * np->tp * np->pp;
    info.ranks_moved = info.ranks;
  }
  {
    p3cfg__result_entry *e = &r->entries[0];
    info.after_s = e->has_time ? e->time.iteration_s : 0.0;
    info.excluded_gpus = ex.view.n_excluded;
    const uint64_t left = p3cfg__cluster_gpus(cluster) - ex.view.n_excluded;
    info.idle_gpus = left > info.ranks ? left - info.ranks : 0;
    r->cluster_gpus = p3cfg__cluster_gpus(cluster);
    r->excluded_gpus = ex.view.n_excluded;
    r->has_replan = 1;
    r->replan = info;
  }
  *out = r;
  r = NULL;
done:
  p3cfg_result_free(r);
  p3cfg__exclusion_dispose(&ex);
  p3cfg__free(old_map);
  return rc;
}
