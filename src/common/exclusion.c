/*
 * exclusion.c — the view of a cluster without its excluded GPUs (see exclusion.h).
 */
#include "exclusion.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "plan_rules.h"

uint32_t p3cfg__unit_gpus(const p3cfg_cluster *c, uint32_t tp)
{
  const uint32_t gpn = c->gpus_per_node;
  if (tp == 0 || gpn == 0)
    return 1;
  return (tp <= gpn && gpn % tp == 0) ? tp : (tp % gpn == 0 ? gpn : 1);
}

uint64_t p3cfg__usable_gpus(const p3cfg_cluster *c, uint32_t tp)
{
  if (!c->excluded || !c->usable_by_unit)
    return p3cfg__cluster_gpus(c);
  return c->usable_by_unit[p3cfg__unit_gpus(c, tp)];
}

int p3cfg__unit_usable(const p3cfg_cluster *c, uint32_t u, uint32_t k)
{
  if (!c->excluded)
    return 1;
  const uint64_t first = (uint64_t)k * u;
  for (uint32_t i = 0; i < u; i++)
    if (c->excluded[first + i])
      return 0;
  return 1;
}

uint32_t p3cfg__largest_dp(uint64_t max_dp, uint64_t global_batch, uint32_t micro_batch)
{
  if (max_dp > UINT32_MAX)
    max_dp = UINT32_MAX;
  const uint64_t mbs = micro_batch ? micro_batch : 1;
  for (uint64_t d = max_dp; d >= 1; d--)
    if (global_batch % (d * mbs) == 0)
      return (uint32_t)d;
  return 0;
}

int p3cfg__default_map(uint32_t *rank_gpu, const p3cfg_cluster *c, uint32_t tp, uint64_t ranks)
{
  const uint64_t gpus = p3cfg__cluster_gpus(c);
  if (!c->excluded) {
    if (ranks > gpus)
      return p3cfg__error_set(P3CFG_EPLAN, "%llu ranks, but the cluster has %llu GPUs",
                              (unsigned long long)ranks, (unsigned long long)gpus);
    for (uint64_t r = 0; r < ranks; r++)
      rank_gpu[r] = (uint32_t)r;
    return P3CFG_OK;
  }
  const uint32_t u = p3cfg__unit_gpus(c, tp);
  const uint32_t n_units = (uint32_t)(gpus / u);
  uint64_t r = 0;
  for (uint32_t k = 0; k < n_units && r < ranks; k++) {
    if (!p3cfg__unit_usable(c, u, k))
      continue;
    for (uint32_t i = 0; i < u && r < ranks; i++)
      rank_gpu[r++] = k * u + i;
  }
  if (r < ranks)
    return p3cfg__error_set(P3CFG_EPLAN,
                            "%llu ranks, but only %llu GPUs are usable (%llu excluded)",
                            (unsigned long long)ranks,
                            (unsigned long long)p3cfg__usable_gpus(c, tp),
                            (unsigned long long)c->n_excluded);
  return P3CFG_OK;
}

int p3cfg__exclusion_view(p3cfg__exclusion *x, const p3cfg_cluster *c, const uint32_t *gpus,
                          size_t n)
{
  memset(x, 0, sizeof *x);
  x->view = *c;
  x->view.excluded = NULL;
  x->view.n_excluded = 0;
  x->view.usable_by_unit = NULL;
  if (n == 0)
    return P3CFG_OK;
  if (!gpus)
    return p3cfg__error_set(P3CFG_EINVALID, "exclude_gpus is NULL but n_exclude_gpus is %zu", n);
  const uint64_t all = p3cfg__cluster_gpus(c);
  const uint32_t gpn = c->gpus_per_node;
  x->mask = p3cfg__calloc(all ? all : 1, 1);
  x->usable = p3cfg__calloc((size_t)gpn + 1, sizeof *x->usable);
  if (!x->mask || !x->usable) {
    p3cfg__exclusion_dispose(x);
    return p3cfg__error_nomem();
  }
  uint64_t count = 0;
  for (size_t i = 0; i < n; i++) {
    if (gpus[i] >= all) {
      const uint32_t g = gpus[i];
      p3cfg__exclusion_dispose(x);
      return p3cfg__error_set(P3CFG_EINVALID,
                              "excluded GPU %u is out of range: the cluster has %llu GPUs "
                              "(node %u GPU %u does not exist)",
                              g, (unsigned long long)all, g / gpn, g % gpn);
    }
    count += !x->mask[gpus[i]];
    x->mask[gpus[i]] = 1;
  }
  if (count == all) {
    p3cfg__exclusion_dispose(x);
    return p3cfg__error_set(P3CFG_EINVALID, "every GPU of the cluster (%llu) is excluded: "
                                            "nothing is left to plan on",
                            (unsigned long long)all);
  }
  x->view.excluded = x->mask;
  x->view.n_excluded = count;
  for (uint32_t u = 1; u <= gpn; u++) {
    if (gpn % u)
      continue;
    uint64_t usable = 0;
    for (uint64_t k = 0; k < all / u; k++)
      usable += p3cfg__unit_usable(&x->view, u, (uint32_t)k) ? u : 0;
    x->usable[u] = usable;
  }
  x->view.usable_by_unit = x->usable;
  return P3CFG_OK;
}

void p3cfg__exclusion_dispose(p3cfg__exclusion *x)
{
  if (!x)
    return;
  p3cfg__free(x->mask);
  p3cfg__free(x->usable);
  x->mask = NULL;
  x->usable = NULL;
}
