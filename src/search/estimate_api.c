/*
 * estimate_api.c — p3cfg_estimate: one fully given plan, resolved (defaults filled in,
 * every rule checked), then its memory per stage (estimate/) and, when asked, its time
 * (perf/). A plan that does not fit is still a success; the caller reads `fits`. The
 * placement is left empty here (rank r on GPU r is what the time model assumes).
 */
#include "alloc.h"
#include "error.h"
#include "memory.h"
#include "perf.h"
#include "types.h"

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
  int rc = p3cfg__perf_plan(&e->time, model, cluster, &e->plan, NULL, ws, ws_bytes);
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
  if (opts && opts->version != P3CFG_ESTIMATE_OPTIONS_VERSION)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_estimate_options: version %u, expected %u",
                            opts->version, P3CFG_ESTIMATE_OPTIONS_VERSION);
  const int with_time = opts ? opts->with_time : 1;

  p3cfg_plan resolved = *plan;
  int rc = p3cfg_plan_resolve(&resolved, model, cluster);
  if (rc)
    return rc;
  p3cfg_result *r = p3cfg__result_new();
  p3cfg__result_entry *e = r ? p3cfg__result_add(r, &resolved) : NULL;
  if (!e) {
    rc = p3cfg__error_nomem();
    goto fail;
  }
  p3cfg__memory_plan(&e->memory, e->stages, model, cluster, &e->plan);
  if (with_time && (rc = estimate_time(e, model, cluster)) != P3CFG_OK)
    goto fail;
  *out = r;
  return P3CFG_OK;
fail:
  p3cfg_result_free(r);
  return rc;
}
