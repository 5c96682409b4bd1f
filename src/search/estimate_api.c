/*
 * estimate_api.c — p3cfg_estimate: one fully given plan, resolved (defaults filled in,
 * every rule checked), then its memory per stage (estimate/) and, when asked, its time
 * (perf/). A plan that does not fit is still a success; the caller reads `fits`. The
 * placement is the default one (rank r on GPU r), or, with opts->place, the one the
 * placement search finds on the cluster's measured links (which needs the time model).
 */
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "exclusion.h"
#include "knobs.h"
#include "memory.h"
#include "perf.h"
#include "plan_rules.h"
#include "plan_version.h"
#include "precision.h"
#include "rank_map.h"
#include "types.h"
#include "uncertainty.h"

P3CFG_API void p3cfg_estimate_options_init(p3cfg_estimate_options *opts)
{
  if (opts) {
    static const p3cfg_estimate_options init = P3CFG_ESTIMATE_OPTIONS_INIT;
    *opts = init;
  }
}

/* The time of `e`'s plan; P3CFG_EUNSUPPORTED (time model not built) leaves has_time 0. */
static int estimate_time(p3cfg__result_entry *e, const p3cfg_model *model,
                         const p3cfg_cluster *cluster)
{
  const size_t ws_bytes = p3cfg__perf_workspace_bytes(&e->plan);
  void *ws = NULL;
  if (ws_bytes && !(ws = p3cfg__malloc(ws_bytes)))
    return p3cfg__error_nomem();
  /* With excluded GPUs the time is that of the default map that skips them. */
  uint32_t *map = NULL;
  int rc = P3CFG_OK;
  if (cluster->excluded) {
    const size_t n = (size_t)p3cfg__plan_gpus(&e->plan);
    if (!(map = p3cfg__malloc(n * sizeof *map))) {
      p3cfg__free(ws);
      return p3cfg__error_nomem();
    }
    rc = p3cfg__default_map(map, cluster, e->plan.tp, n);
  }
  if (rc == P3CFG_OK)
    rc = p3cfg__perf_plan(&e->time, model, cluster, &e->plan, map, ws, ws_bytes);
  p3cfg__free(map);
  p3cfg__free(ws);
  if (rc == P3CFG_OK) {
    e->has_time = 1;
  } else if (rc == P3CFG_EUNSUPPORTED) {
    p3cfg__error_clear();
    rc = P3CFG_OK;
  }
  return rc;
}

P3CFG_API int p3cfg_estimate(p3cfg_result **out, const p3cfg_model *model,
                             const p3cfg_cluster *cluster, const p3cfg_plan *plan,
                             const p3cfg_estimate_options *opts)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_estimate: NULL out");
  *out = NULL;
  if (!model || !cluster || !plan)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_estimate: NULL argument");
  int rc;
  p3cfg_estimate_options upgraded;
  if (opts && opts->version >= 1 && opts->version <= 3) {
    /* An older struct: the fields it has, the defaults of the rest (version 1 ends
     * before exclude_gpus, version 2 before the margin and the budget, version 3 before
     * cp, ep and etp). */
    const size_t have = opts->version == 1   ? offsetof(p3cfg_estimate_options, exclude_gpus)
                        : opts->version == 2 ? offsetof(p3cfg_estimate_options, mem_margin_bytes)
                                             : offsetof(p3cfg_estimate_options, cp);
    p3cfg_estimate_options_init(&upgraded);
    memcpy(&upgraded, opts, have);
    upgraded.version = P3CFG_ESTIMATE_OPTIONS_VERSION;
    opts = &upgraded;
  }
  if (opts && opts->version != P3CFG_ESTIMATE_OPTIONS_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_estimate_options: version %u, expected %u",
                            opts->version, P3CFG_ESTIMATE_OPTIONS_VERSION);
  if (opts && ((rc = p3cfg__knob_check(P3CFG__KNOB_CP, opts->cp, 1)) ||
               (rc = p3cfg__knob_check(P3CFG__KNOB_EP, opts->ep, 1)) ||
               (rc = p3cfg__knob_check(P3CFG__KNOB_ETP, opts->etp, 1))))
    return rc;
  if (opts && !(opts->mem_margin_fraction >= 0.0 && opts->mem_margin_fraction < 1.0))
    return p3cfg__error_set(P3CFG_EINVALID, "mem_margin_fraction must be in [0, 1), got %g",
                            opts->mem_margin_fraction);
  const int with_time = opts ? opts->with_time : 1;
  const int place = opts ? opts->place : 0;
  if (place && !with_time)
    return p3cfg__error_set(P3CFG_EINVALID, "placement needs the time model (with_time)");
  if (opts && !(opts->place_max_s >= 0.0))
    return p3cfg__error_set(P3CFG_EINVALID, "place_max_s must be >= 0");
  if (p3cfg__precision_check(model, &cluster->gpu) != P3CFG_OK) /* fp8 without FP8 cores */
    return P3CFG_EVALUE;

  /* The plan sees the cluster without its excluded GPUs. */
  p3cfg__exclusion ex;
  rc = p3cfg__exclusion_view(&ex, cluster, opts ? opts->exclude_gpus : NULL,
                                 opts ? opts->n_exclude_gpus : 0);
  if (rc)
    return rc;
  const p3cfg_cluster *full = cluster;
  cluster = &ex.view;
  p3cfg_plan resolved;
  rc = p3cfg__plan_read(&resolved, plan, "p3cfg_estimate");
  if (rc == P3CFG_OK && opts) {
    if (opts->cp)
      resolved.cp = opts->cp;
    if (opts->ep)
      resolved.ep = opts->ep;
    if (opts->etp)
      resolved.etp = opts->etp;
  }
  if (rc == P3CFG_OK)
    rc = p3cfg_plan_resolve(&resolved, model, cluster);
  if (rc) {
    p3cfg__exclusion_dispose(&ex);
    return rc;
  }
  /* A pipeline too large to simulate is refused before anything is allocated. */
  if (with_time && (rc = p3cfg__perf_workspace_check(&resolved)) != P3CFG_OK) {
    p3cfg__exclusion_dispose(&ex);
    return rc;
  }
  p3cfg_result *r = p3cfg__result_new();
  p3cfg__result_entry *e = r ? p3cfg__result_add(r, &resolved) : NULL;
  if (!e) {
    rc = p3cfg__error_nomem();
    goto fail;
  }
  const uint64_t margin =
      opts ? p3cfg__memory_margin(cluster, opts->mem_margin_bytes, opts->mem_margin_fraction) : 0;
  p3cfg__memory_plan_margin(&e->memory, e->stages, model, cluster, &e->plan, margin);
  r->train_tokens = opts ? opts->train_tokens : 0;
  r->framework = resolved.framework;
  if (with_time && (rc = estimate_time(e, model, cluster)) != P3CFG_OK)
    goto fail;
  if (place && e->has_time) {
    const p3cfg__place_opts po = {opts->seed, opts->place_moves, opts->place_max_s, 0};
    rc = p3cfg__entry_place(e, model, cluster, &po);
  } else {
    e->place_info.default_s = e->place_info.placed_s = e->has_time ? e->time.iteration_s : 0;
    rc = p3cfg__entry_set_placement(e, cluster, NULL);
  }
  if (rc)
    goto fail;
  p3cfg__entry_set_ranges(e, model, cluster);
  r->cluster_gpus = p3cfg__cluster_gpus(full);
  r->excluded_gpus = ex.view.n_excluded;
  p3cfg__exclusion_dispose(&ex);
  *out = r;
  return P3CFG_OK;
fail:
  p3cfg__exclusion_dispose(&ex);
  p3cfg_result_free(r);
  return rc;
}
