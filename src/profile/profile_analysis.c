/*
 * profile_analysis.c — judging a measured link matrix.
 *
 * Links fall in two classes, intra-node (same host) and inter-node. A link is flagged
 * when it reaches less than 0.7x its class reference, the 75th percentile of the class
 * (profile_result.c says why not the median). Asymmetry compares the two directions of
 * a pair: more than 10 % apart is worth a look (a half-duplex port, a shaper on one
 * side, a busy core). Sorting is by a total order so the report is deterministic.
 */
#include "profile_analysis.h"

#include <stdlib.h>

#include "alloc.h"
#include "error.h"
#include "link_fit.h"

double p3cfg__profile_reference(const p3cfg_profile_result *r, uint32_t src, uint32_t dst)
{
  return r->rank_host[src] == r->rank_host[dst] ? r->intra.reference_Bps : r->inter.reference_Bps;
}

int p3cfg__profile_node_matrix(double **out, const p3cfg_profile_result *r)
{
  const size_t H = r->n_hosts, G = r->per_host ? r->per_host : 1;
  double *m = p3cfg__calloc(H * H > 0 ? H * H : 1, sizeof *m);
  double *vals = p3cfg__malloc(G * G * sizeof *vals);
  uint32_t **members = p3cfg__calloc(H ? H : 1, sizeof *members);
  uint32_t *storage = p3cfg__malloc((r->n ? r->n : 1) * sizeof *storage);
  uint32_t *fill = p3cfg__calloc(H ? H : 1, sizeof *fill);
  int rc = 0;
  if (!m || !vals || !members || !storage || !fill) {
    p3cfg__free(m);
    rc = p3cfg__error_nomem();
    goto done;
  }
  for (size_t h = 0; h < H; h++)
    members[h] = storage + h * G;
  for (uint32_t a = 0; a < r->n; a++) {
    const uint32_t h = r->rank_host[a];
    if (fill[h] < G)
      members[h][fill[h]++] = a;
  }
  for (size_t h1 = 0; h1 < H; h1++)
    for (size_t h2 = 0; h2 < H; h2++) {
      size_t k = 0;
      for (uint32_t i = 0; i < fill[h1]; i++)
        for (uint32_t j = 0; j < fill[h2]; j++) {
          const uint32_t a = members[h1][i], b = members[h2][j];
          if (a != b)
            vals[k++] = r->bw_Bps[(size_t)a * r->n + b];
        }
      m[h1 * H + h2] = p3cfg__median(vals, k);
    }
  *out = m;
done:
  p3cfg__free(vals);
  p3cfg__free(members);
  p3cfg__free(storage);
  p3cfg__free(fill);
  return rc;
}

static int cmp_ratio_up(const void *pa, const void *pb)
{
  const p3cfg__link_ref *a = pa, *b = pb;
  if (a->ratio != b->ratio)
    return a->ratio < b->ratio ? -1 : 1;
  if (a->src != b->src)
    return a->src < b->src ? -1 : 1;
  return (a->dst > b->dst) - (a->dst < b->dst);
}

static int cmp_ratio_down(const void *pa, const void *pb)
{
  return cmp_ratio_up(pb, pa);
}

static int cmp_bw_up(const void *pa, const void *pb)
{
  const p3cfg__link_ref *a = pa, *b = pb;
  if (a->Bps != b->Bps)
    return a->Bps < b->Bps ? -1 : 1;
  if (a->src != b->src)
    return a->src < b->src ? -1 : 1;
  return (a->dst > b->dst) - (a->dst < b->dst);
}

/* Every off-diagonal link with its ratio to the class reference. */
static p3cfg__link_ref *all_links(const p3cfg_profile_result *r, size_t *count)
{
  const size_t nn = (size_t)r->n * r->n;
  p3cfg__link_ref *v = p3cfg__malloc((nn ? nn : 1) * sizeof *v);
  if (!v)
    return NULL;
  size_t k = 0;
  for (uint32_t a = 0; a < r->n; a++)
    for (uint32_t b = 0; b < r->n; b++) {
      if (a == b)
        continue;
      const double bw = r->bw_Bps[(size_t)a * r->n + b];
      const double ref = p3cfg__profile_reference(r, a, b);
      v[k++] = (p3cfg__link_ref){a, b, bw, ref > 0.0 ? bw / ref : 1.0};
    }
  *count = k;
  return v;
}

int p3cfg__profile_flagged(p3cfg__link_ref **out, size_t *count, const p3cfg_profile_result *r)
{
  size_t n = 0, k = 0;
  p3cfg__link_ref *v = all_links(r, &n);
  if (!v)
    return p3cfg__error_nomem();
  for (size_t i = 0; i < n; i++)
    if (v[i].ratio < P3CFG__OUTLIER_RATIO)
      v[k++] = v[i];
  qsort(v, k, sizeof *v, cmp_ratio_up);
  if (k == 0) {
    p3cfg__free(v);
    v = NULL;
  }
  *out = v;
  *count = k;
  return 0;
}

int p3cfg__profile_asymmetric(p3cfg__link_ref **out, size_t *count, const p3cfg_profile_result *r)
{
  const size_t n = r->n;
  p3cfg__link_ref *v = p3cfg__malloc((n * n / 2 + 1) * sizeof *v);
  if (!v)
    return p3cfg__error_nomem();
  size_t k = 0;
  for (uint32_t a = 0; a < r->n; a++)
    for (uint32_t b = a + 1; b < r->n; b++) {
      const double ab = r->bw_Bps[(size_t)a * n + b], ba = r->bw_Bps[(size_t)b * n + a];
      const double hi = ab > ba ? ab : ba, lo = ab > ba ? ba : ab;
      if (hi > 0.0 && (hi - lo) / hi > P3CFG__ASYMMETRY)
        v[k++] = (p3cfg__link_ref){a, b, ab, (hi - lo) / hi};
    }
  qsort(v, k, sizeof *v, cmp_ratio_down);
  if (k == 0) {
    p3cfg__free(v);
    v = NULL;
  }
  *out = v;
  *count = k;
  return 0;
}

size_t p3cfg__profile_slowest(p3cfg__link_ref *out, size_t k, const p3cfg_profile_result *r)
{
  size_t n = 0;
  p3cfg__link_ref *v = all_links(r, &n);
  if (!v)
    return 0;
  qsort(v, n, sizeof *v, cmp_bw_up);
  if (k > n)
    k = n;
  for (size_t i = 0; i < k; i++)
    out[i] = v[i];
  p3cfg__free(v);
  return k;
}
