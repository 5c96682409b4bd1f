/*
 * profile_result.c — the result handle of a profile: allocation, the class medians
 * computed once the matrices are filled, the public accessors, and the profiler's
 * options defaults. Nothing here needs MPI.
 */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "link_fit.h"
#include "profile_types.h"

P3CFG_API void p3cfg_profile_options_init(p3cfg_profile_options *opts)
{
  const p3cfg_profile_options defaults = P3CFG_PROFILE_OPTIONS_INIT;
  if (opts)
    *opts = defaults;
}

P3CFG_API const p3cfg_error *p3cfg_profile_error_last(void)
{
  /* libp3cfg_mpi carries its own copy of common/ (see CMakeLists.txt): this is the last
   * error of that copy, the one the profiler sets. */
  return p3cfg_error_last();
}

p3cfg_profile_result *p3cfg__profile_result_new(uint32_t n, uint32_t n_hosts)
{
  p3cfg_profile_result *r = p3cfg__calloc(1, sizeof *r);
  if (!r)
    return NULL;
  const size_t nn = (size_t)n * n;
  r->n = n;
  r->n_hosts = n_hosts;
  r->hosts = p3cfg__calloc(n_hosts ? n_hosts : 1, sizeof *r->hosts);
  r->rank_host = p3cfg__calloc(n ? n : 1, sizeof *r->rank_host);
  r->rank_local = p3cfg__calloc(n ? n : 1, sizeof *r->rank_local);
  r->bw_Bps = p3cfg__calloc(nn ? nn : 1, sizeof *r->bw_Bps);
  r->lat_s = p3cfg__calloc(nn ? nn : 1, sizeof *r->lat_s);
  r->flags = p3cfg__calloc(nn ? nn : 1, sizeof *r->flags);
  if (!r->hosts || !r->rank_host || !r->rank_local || !r->bw_Bps || !r->lat_s || !r->flags) {
    p3cfg_profile_result_free(r);
    return NULL;
  }
  return r;
}

P3CFG_API void p3cfg_profile_result_free(p3cfg_profile_result *r)
{
  if (!r)
    return;
  p3cfg__free(r->hosts);
  p3cfg__free(r->rank_host);
  p3cfg__free(r->rank_local);
  p3cfg__free(r->bw_Bps);
  p3cfg__free(r->lat_s);
  p3cfg__free(r->flags);
  p3cfg__free(r->name);
  p3cfg__free(r->allreduce_Bps);
  p3cfg__free(r->allreduce_alg_Bps);
  p3cfg__free(r);
}

/* Medians of one class (same_host = 1: intra-node) over the off-diagonal entries. */
static int class_stats(p3cfg__link_class *out, const p3cfg_profile_result *r, int same_host,
                       double *bw, double *lat)
{
  size_t k = 0;
  for (uint32_t a = 0; a < r->n; a++)
    for (uint32_t b = 0; b < r->n; b++) {
      if (a == b || (r->rank_host[a] == r->rank_host[b]) != same_host)
        continue;
      bw[k] = r->bw_Bps[(size_t)a * r->n + b];
      lat[k] = r->lat_s[(size_t)a * r->n + b];
      k++;
    }
  out->count = (uint32_t)k;
  out->median_latency_s = p3cfg__median(lat, k);
  out->median_Bps = p3cfg__median(bw, k);
  /* A slow node drags the plain median down (with one node of four behind a slow NIC,
   * half of the inter-node links are slow): a healthy link is judged against the
   * median of the upper half instead. */
  out->reference_Bps = p3cfg__quantile(bw, k, 0.75);
  return 0;
}

int p3cfg__profile_finish(p3cfg_profile_result *r)
{
  const size_t nn = (size_t)r->n * r->n;
  double *bw = p3cfg__malloc((nn ? nn : 1) * sizeof *bw);
  double *lat = p3cfg__malloc((nn ? nn : 1) * sizeof *lat);
  if (!bw || !lat) {
    p3cfg__free(bw);
    p3cfg__free(lat);
    return p3cfg__error_nomem();
  }
  class_stats(&r->intra, r, 1, bw, lat);
  class_stats(&r->inter, r, 0, bw, lat);
  r->scaled_down = 0;
  for (size_t i = 0; i < nn; i++)
    if (r->flags[i] & P3CFG__LINK_SCALED)
      r->scaled_down++;
  p3cfg__free(bw);
  p3cfg__free(lat);
  return 0;
}

void p3cfg__profile_self_link(const p3cfg_profile_result *r, double *Bps, double *lat_s)
{
  if (r->intra.count > 0) {
    *Bps = r->intra.median_Bps;
    *lat_s = r->intra.median_latency_s;
    return;
  }
  if (r->has_base) {
    *Bps = r->base_intra_Bps;
    *lat_s = r->base_intra_latency_s;
    return;
  }
  if (r->self_Bps > 0.0) { /* one rank: what its GPU's loop to itself measured */
    *Bps = r->self_Bps;
    *lat_s = r->self_lat_s;
    return;
  }
  /* One rank per host and no base: a GPU reaches itself at least as fast as any
   * other GPU, so the fastest measured link and the shortest latency. */
  double best = 0.0, least = INFINITY;
  for (size_t i = 0; i < (size_t)r->n * r->n; i++) {
    if (r->bw_Bps[i] > best)
      best = r->bw_Bps[i];
    if (r->lat_s[i] > 0.0 && r->lat_s[i] < least)
      least = r->lat_s[i];
  }
  *Bps = best;
  *lat_s = isfinite(least) ? least : 0.0;
}

P3CFG_API int p3cfg_profile_get_info(p3cfg_profile_info *out, const p3cfg_profile_result *r)
{
  p3cfg__error_clear();
  if (!out || !r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_get_info: NULL argument");
  memset(out, 0, sizeof *out);
  out->ranks = r->n;
  out->hosts = r->n_hosts;
  out->ranks_per_host = r->per_host;
  out->rounds = r->rounds;
  out->steps = r->steps;
  out->mode = r->mode;
  out->elapsed_s = r->elapsed_s;
  out->scaled_down = r->scaled_down;
  out->intra_Bps = r->intra.median_Bps;
  out->inter_Bps = r->inter.median_Bps;
  out->intra_latency_s = r->intra.median_latency_s;
  out->inter_latency_s = r->inter.median_latency_s;
  out->name = r->name ? r->name : "";
  out->gpu_name = r->gpu.name;
  out->backend = r->backend;
  return 0;
}

P3CFG_API int p3cfg_profile_link(double *Bps, double *latency_s, const p3cfg_profile_result *r,
                                 uint32_t src, uint32_t dst)
{
  p3cfg__error_clear();
  if (!Bps || !latency_s || !r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_link: NULL argument");
  if (src >= r->n || dst >= r->n)
    return p3cfg__error_set(P3CFG_EINVALID, "rank %u or %u out of range (%u ranks)", src, dst,
                            r->n);
  if (src == dst) {
    p3cfg__profile_self_link(r, Bps, latency_s);
    return 0;
  }
  *Bps = r->bw_Bps[(size_t)src * r->n + dst];
  *latency_s = r->lat_s[(size_t)src * r->n + dst];
  return 0;
}

P3CFG_API int p3cfg_profile_rank_place(uint32_t *host, uint32_t *local,
                                       const p3cfg_profile_result *r, uint32_t rank)
{
  p3cfg__error_clear();
  if (!host || !local || !r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_rank_place: NULL argument");
  if (rank >= r->n)
    return p3cfg__error_set(P3CFG_EINVALID, "rank %u out of range (%u ranks)", rank, r->n);
  *host = r->rank_host[rank];
  *local = r->rank_local[rank];
  return 0;
}

P3CFG_API const char *p3cfg_profile_host_name(const p3cfg_profile_result *r, uint32_t index)
{
  if (!r || index >= r->n_hosts)
    return NULL;
  return r->hosts[index].name;
}
