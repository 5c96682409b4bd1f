/*
 * parse_links.c — the measured `links` of a cluster (spec §3): names, an N x N bandwidth
 * matrix and an optional latency matrix, row = sender, column = receiver.
 *
 * Granularity `node`: one name per node (N == nodes), the diagonal is the intra-node
 * figure. Granularity `gpu`: names are "host:gpu", grouped by host; every host must list
 * each local GPU 0 .. gpus_per_node-1 exactly once (N == nodes * gpus_per_node). Hosts
 * become nodes in the order they first appear, and the matrices are reordered so that
 * index = node * gpus_per_node + local GPU, the numbering links.h and placement use;
 * links.names is stored in that order too. The GPU diagonal is never used (links.h falls
 * back to the network figures), so 0 is accepted there.
 *
 * A missing latency_us is filled from the network latencies (intra-node on the node
 * diagonal or between GPUs of one host, inter-node elsewhere).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "parse_objects.h"
#include "yaml_doc.h"

enum { L_GRANULARITY, L_NAMES, L_BANDWIDTH, L_LATENCY, L_COUNT };
static const p3cfg__key links_keys[L_COUNT] = {
    [L_GRANULARITY] = {"granularity", true},
    [L_NAMES] = {"names", true},
    [L_BANDWIDTH] = {"bandwidth_GBps", true},
    [L_LATENCY] = {"latency_us", false},
};
static const char *const granularities[] = {"node", "gpu"};

/* One entry of links.names. */
typedef struct name_ref {
  const char *s;
  size_t len;
  size_t key_len; /* bytes that identify the node: the host part for `gpu` */
  size_t idx;     /* position in the file */
  uint32_t local; /* GPU number after the colon (`gpu`) */
} name_ref;

typedef struct links_in {
  p3cfg__pctx *c;
  p3cfg_cluster *cl;
  const yaml_node_t *names_node; /* a sequence */
  name_ref *refs;
  size_t n;
  int gran;           /* 0 node, 1 gpu */
  size_t *perm;       /* file index -> canonical index */
  const char **hosts; /* gpu: host of node k */
  size_t *host_lens;
} links_in;

static const char *plural(size_t n)
{
  return n == 1 ? "" : "s";
}

static int ref_cmp(const void *pa, const void *pb)
{
  const name_ref *a = pa, *b = pb;
  int c = memcmp(a->s, b->s, a->key_len < b->key_len ? a->key_len : b->key_len);
  if (c != 0)
    return c;
  if (a->key_len != b->key_len)
    return a->key_len < b->key_len ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

static int same_key(const name_ref *a, const name_ref *b)
{
  return a->key_len == b->key_len && memcmp(a->s, b->s, a->key_len) == 0;
}

static const yaml_node_t *name_node(const links_in *in, size_t idx)
{
  return p3cfg__node(in->c, in->names_node->data.sequence.items.start[idx]);
}

static void report_repeat(const links_in *in, const name_ref *first, const name_ref *dup)
{
  char echo[4 * P3CFG__ECHO_CHARS + 8];
  p3cfg__echo(echo, sizeof echo, dup->s, dup->len);
  p3cfg__problem(in->c, name_node(in, dup->idx), "links.names[%zu] '%s' repeats links.names[%zu]",
                 dup->idx, echo, first->idx);
}

/* Granularity `gpu`: split "host:gpu"; returns 0 or -1 (reported). */
static int split_gpu_name(const links_in *in, name_ref *r)
{
  const char *colon = NULL;
  for (size_t i = 0; i < r->len; i++)
    if (r->s[i] == ':')
      colon = r->s + i;
  size_t digits = colon ? r->len - (size_t)(colon - r->s) - 1 : 0;
  int ok = colon && colon > r->s && digits > 0 && digits <= 9;
  for (size_t i = 0; ok && i < digits; i++)
    ok = colon[1 + i] >= '0' && colon[1 + i] <= '9';
  if (!ok) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(in->c, name_node(in, r->idx),
                   "links.names[%zu] must be 'host:gpu' with a gpu number, got %s", r->idx,
                   p3cfg__describe(buf, name_node(in, r->idx)));
    return -1;
  }
  uint32_t local = 0;
  for (size_t i = 0; i < digits; i++)
    local = local * 10 + (uint32_t)(colon[1 + i] - '0');
  if (local >= in->cl->gpus_per_node) {
    p3cfg__problem(in->c, name_node(in, r->idx),
                   "links.names[%zu]: gpu %u is not below gpus_per_node %u", r->idx, local,
                   in->cl->gpus_per_node);
    return -1;
  }
  r->key_len = (size_t)(colon - r->s);
  r->local = local;
  return 0;
}

typedef struct group {
  size_t first;        /* file index of the host's first name */
  size_t start, count; /* its run in the sorted refs */
} group;

static int group_cmp(const void *pa, const void *pb)
{
  const group *a = pa, *b = pb;
  return a->first < b->first ? -1 : a->first > b->first ? 1 : 0;
}

/* Granularity `gpu`: group the sorted refs by host, number hosts in order of first
 * appearance, fill perm and hosts. Returns 0, -1 (reported) or P3CFG_ENOMEM. */
static int order_gpus(links_in *in, name_ref *sorted)
{
  const uint32_t gpn = in->cl->gpus_per_node;
  int rc = P3CFG_OK, bad = 0;
  group *groups = p3cfg__malloc(in->n * sizeof *groups);
  size_t *seen = p3cfg__malloc(gpn * sizeof *seen); /* file index + 1 per local GPU */
  if (!groups || !seen) {
    rc = P3CFG_ENOMEM;
    goto done;
  }
  size_t ng = 0;
  for (size_t i = 0; i < in->n; i++) {
    if (i == 0 || !same_key(&sorted[i], &sorted[i - 1]))
      groups[ng++] = (group){sorted[i].idx, i, 0};
    groups[ng - 1].count++;
  }
  for (size_t g = 0; g < ng; g++) {
    memset(seen, 0, gpn * sizeof *seen);
    const name_ref *run = sorted + groups[g].start;
    for (size_t k = 0; k < groups[g].count; k++) {
      const size_t prev = seen[run[k].local];
      if (prev) {
        report_repeat(in, &in->refs[prev - 1], &run[k]);
        bad = 1;
      }
      seen[run[k].local] = run[k].idx + 1;
    }
    if (groups[g].count != gpn) {
      char echo[4 * P3CFG__ECHO_CHARS + 8];
      p3cfg__echo(echo, sizeof echo, run->s, run->key_len);
      p3cfg__problem(in->c, name_node(in, groups[g].first),
                     "host '%s' has %zu gpu%s in links.names, expected %u (gpus_per_node)", echo,
                     groups[g].count, plural(groups[g].count), gpn);
      bad = 1;
    }
  }
  if (bad) {
    rc = -1;
    goto done;
  }
  /* n == nodes * gpn and every host has exactly gpn GPUs: there are `nodes` hosts. */
  qsort(groups, ng, sizeof *groups, group_cmp);
  for (size_t g = 0; g < ng; g++) {
    const name_ref *run = sorted + groups[g].start;
    in->hosts[g] = run->s;
    in->host_lens[g] = run->key_len;
    for (size_t k = 0; k < groups[g].count; k++)
      in->perm[run[k].idx] = g * gpn + run[k].local;
  }
done:
  p3cfg__free(groups);
  p3cfg__free(seen);
  return rc;
}

/* Check the names against the counts and work out the canonical order. Returns 0, -1
 * (reported) or P3CFG_ENOMEM. */
static int order_names(links_in *in)
{
  const p3cfg_cluster *cl = in->cl;
  const uint64_t want = in->gran ? (uint64_t)cl->nodes * cl->gpus_per_node : cl->nodes;
  if (in->n != want) {
    p3cfg__problem(in->c, in->names_node, "links.names has %zu name%s, expected %llu (%s)", in->n,
                   plural(in->n), (unsigned long long)want,
                   in->gran ? "nodes * gpus_per_node" : "nodes");
    return -1;
  }
  int bad = 0;
  for (size_t i = 0; i < in->n; i++) {
    in->refs[i].key_len = in->refs[i].len;
    if (in->gran && split_gpu_name(in, &in->refs[i]) != 0)
      bad = 1;
  }
  if (bad)
    return -1;
  name_ref *sorted = p3cfg__malloc(in->n * sizeof *sorted);
  in->perm = p3cfg__malloc(in->n * sizeof *in->perm);
  if (!sorted || !in->perm) {
    p3cfg__free(sorted);
    return P3CFG_ENOMEM;
  }
  memcpy(sorted, in->refs, in->n * sizeof *sorted);
  qsort(sorted, in->n, sizeof *sorted, ref_cmp);
  int rc = P3CFG_OK;
  if (in->gran) {
    in->hosts = p3cfg__malloc(cl->nodes * sizeof *in->hosts);
    in->host_lens = p3cfg__malloc(cl->nodes * sizeof *in->host_lens);
    rc = in->hosts && in->host_lens ? order_gpus(in, sorted) : P3CFG_ENOMEM;
  } else {
    for (size_t i = 0; i < in->n; i++) {
      in->perm[i] = i;
      if (i > 0 && same_key(&sorted[i], &sorted[i - 1])) {
        /* Report against the first of a run of equal names. */
        size_t f = i - 1;
        while (f > 0 && same_key(&sorted[f - 1], &sorted[i]))
          f--;
        report_repeat(in, &sorted[f], &sorted[i]);
        rc = -1;
      }
    }
  }
  p3cfg__free(sorted);
  return rc;
}

/* Read the names (every entry a one-line string). Returns 0, -1 (reported) or ENOMEM. */
static int read_names(links_in *in, const yaml_node_t *node)
{
  if (node->type != YAML_SEQUENCE_NODE) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(in->c, node, "links.names must be a list of names, got %s",
                   p3cfg__describe(buf, node));
    return -1;
  }
  in->names_node = node;
  in->n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
  if (in->n == 0) {
    p3cfg__problem(in->c, node, "links.names must not be empty");
    return -1;
  }
  if ((uint64_t)in->n * in->n > P3CFG__MAX_NODES) {
    p3cfg__problem(in->c, node,
                   "links.names has %zu names: their %zu x %zu matrix is more than the limit of %u "
                   "values",
                   in->n, in->n, in->n, P3CFG__MAX_NODES);
    in->names_node = NULL; /* check the matrices on their own, not against this n */
    return -1;
  }
  in->refs = p3cfg__calloc(in->n, sizeof *in->refs);
  if (!in->refs)
    return P3CFG_ENOMEM;
  int bad = 0;
  for (size_t i = 0; i < in->n; i++) {
    char label[48];
    snprintf(label, sizeof label, "links.names[%zu]", i);
    name_ref *r = &in->refs[i];
    r->idx = i;
    if (p3cfg__read_string(in->c, name_node(in, i), label, P3CFG__MAX_NAME_BYTES, &r->s, &r->len) !=
        0)
      bad = 1;
  }
  return bad ? -1 : 0;
}

typedef struct matrix_spec {
  const char *label;        /* "links.bandwidth_GBps" */
  const p3cfg__range *off;  /* entries off the diagonal */
  const p3cfg__range *diag; /* entries on it */
  double scale;             /* to bytes/s or seconds */
} matrix_spec;

/* Whether `node` is a sequence of n sequences of n entries. */
static int square(const p3cfg__pctx *c, const yaml_node_t *node, size_t n)
{
  if (node->type != YAML_SEQUENCE_NODE ||
      (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) != n)
    return 0;
  for (size_t r = 0; r < n; r++) {
    const yaml_node_t *row = p3cfg__node(c, node->data.sequence.items.start[r]);
    if (row->type != YAML_SEQUENCE_NODE ||
        (size_t)(row->data.sequence.items.top - row->data.sequence.items.start) != n)
      return 0;
  }
  return 1;
}

/* Check matrix `node` against n (0: unknown, take the row count) and, when perm is given
 * and the shape is right, store it reordered into a new *out. *ok tells whether it had no
 * problem. Returns 0 or P3CFG_ENOMEM. */
static int read_matrix(const links_in *in, const yaml_node_t *node, const matrix_spec *m, size_t n,
                       const size_t *perm, double **out, int *ok)
{
  p3cfg__pctx *c = in->c;
  char buf[P3CFG__DESCRIBE_CAP];
  *out = NULL;
  *ok = 1;
  if (node->type != YAML_SEQUENCE_NODE) {
    p3cfg__problem(c, node, "%s must be a list of lists of numbers, got %s", m->label,
                   p3cfg__describe(buf, node));
    *ok = 0;
    return P3CFG_OK;
  }
  const size_t rows = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
  if (n == 0)
    n = rows;
  if (rows != n) {
    p3cfg__problem(c, node, "%s has %zu row%s, expected %zu (one per name)", m->label, rows,
                   plural(rows), n);
    *ok = 0;
  }
  if (perm && square(c, node, n)) {
    *out = p3cfg__malloc(n * n * sizeof **out);
    if (!*out)
      return P3CFG_ENOMEM;
  }
  for (size_t r = 0; r < rows; r++) {
    const yaml_node_t *row = p3cfg__node(c, node->data.sequence.items.start[r]);
    if (row->type != YAML_SEQUENCE_NODE) {
      p3cfg__problem(c, row, "%s[%zu] must be a list of numbers, got %s", m->label, r,
                     p3cfg__describe(buf, row));
      *ok = 0;
      continue;
    }
    const size_t cols = (size_t)(row->data.sequence.items.top - row->data.sequence.items.start);
    if (cols != n) {
      p3cfg__problem(c, row, "%s[%zu] has %zu entr%s, expected %zu", m->label, r, cols,
                     cols == 1 ? "y" : "ies", n);
      *ok = 0;
    }
    for (size_t j = 0; j < cols; j++) {
      const yaml_node_t *e = p3cfg__node(c, row->data.sequence.items.start[j]);
      const p3cfg__range *range = r == j ? m->diag : m->off;
      double v;
      if (p3cfg__number_in(e, range, &v)) {
        if (*out)
          (*out)[perm[r] * n + perm[j]] = v * m->scale;
        continue;
      }
      char label[96];
      snprintf(label, sizeof label, "%s[%zu][%zu]", m->label, r, j);
      p3cfg__read_number(c, e, label, range, &v);
      *ok = 0;
    }
  }
  if (!*ok) {
    p3cfg__free(*out);
    *out = NULL;
  }
  return P3CFG_OK;
}

static const p3cfg__range bw_positive = {0, true, P3CFG__MAX_GBPS, "a positive number", false};
static const p3cfg__range bw_any = {0, false, P3CFG__MAX_GBPS, "a non-negative number", false};
static const p3cfg__range lat_range = {0, false, P3CFG__MAX_LATENCY_US, "a non-negative number",
                                       false};

/* Latencies from the network figures, in canonical order. */
static double *fill_latency(const p3cfg_cluster *cl, int gran, size_t n)
{
  double *lat = p3cfg__malloc(n * n * sizeof *lat);
  if (!lat)
    return NULL;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      const int same = gran ? i / cl->gpus_per_node == j / cl->gpus_per_node : i == j;
      lat[i * n + j] = same ? cl->intra_latency_s : cl->inter_latency_s;
    }
  return lat;
}

/* Move the checked result into the cluster. Returns 0 or P3CFG_ENOMEM. */
static int install(links_in *in, double *bw, double *lat)
{
  p3cfg_cluster *cl = in->cl;
  const size_t n = in->n;
  const char **strs = p3cfg__malloc(n * sizeof *strs);
  size_t *lens = p3cfg__malloc(n * sizeof *lens);
  char **names = NULL, **nodes = NULL;
  if (strs && lens) {
    for (size_t i = 0; i < n; i++) {
      strs[in->perm[i]] = in->refs[i].s;
      lens[in->perm[i]] = in->refs[i].len;
    }
    names = p3cfg__names_block(n, strs, lens);
    nodes = in->gran ? p3cfg__names_block(cl->nodes, in->hosts, in->host_lens)
                     : p3cfg__names_block(n, strs, lens);
  }
  p3cfg__free(strs);
  p3cfg__free(lens);
  if (!names || !nodes) {
    p3cfg__free(names);
    p3cfg__free(nodes);
    return P3CFG_ENOMEM;
  }
  cl->links =
      (p3cfg_links){in->gran ? P3CFG_LINKS_GPU : P3CFG_LINKS_NODE, (uint32_t)n, names, bw, lat};
  cl->node_names = nodes;
  return P3CFG_OK;
}

int p3cfg__links_from_node(p3cfg__pctx *c, const yaml_node_t *map, p3cfg_cluster *cl,
                           bool counts_ok)
{
  const yaml_node_t *v[L_COUNT];
  if (p3cfg__map_fields(c, map, "links", links_keys, L_COUNT, v) != 0)
    return -1;
  links_in in = {c, cl, NULL, NULL, 0, -1, NULL, NULL, NULL};
  double *bw = NULL, *lat = NULL;
  int ok = 1, rc = P3CFG_OK;
  if (v[L_GRANULARITY] &&
      p3cfg__read_enum(c, v[L_GRANULARITY], "links.granularity", granularities, 2, &in.gran) != 0)
    ok = 0;
  if (v[L_NAMES]) {
    rc = read_names(&in, v[L_NAMES]);
    if (rc == P3CFG_ENOMEM)
      goto done;
    if (rc != 0)
      ok = 0;
  }
  rc = P3CFG_OK;
  if (ok && in.gran >= 0 && in.names_node && counts_ok) {
    rc = order_names(&in);
    if (rc == P3CFG_ENOMEM)
      goto done;
    if (rc != 0) {
      ok = 0;
      p3cfg__free(in.perm);
      in.perm = NULL;
    }
    rc = P3CFG_OK;
  }
  const size_t n = in.names_node ? in.n : 0;
  const matrix_spec bw_spec = {"links.bandwidth_GBps", &bw_positive,
                               in.gran == 1 ? &bw_any : &bw_positive, 1e9};
  const matrix_spec lat_spec = {"links.latency_us", &lat_range, &lat_range, 1e-6};
  int mok = 1;
  if (v[L_BANDWIDTH]) {
    rc = read_matrix(&in, v[L_BANDWIDTH], &bw_spec, n, ok ? in.perm : NULL, &bw, &mok);
    if (rc != P3CFG_OK)
      goto done;
    ok = ok && mok;
  }
  if (v[L_LATENCY]) {
    rc = read_matrix(&in, v[L_LATENCY], &lat_spec, n, ok ? in.perm : NULL, &lat, &mok);
    if (rc != P3CFG_OK)
      goto done;
    ok = ok && mok;
  }
  if (!ok || !bw || !in.perm) {
    rc = -1;
    goto done;
  }
  if (!lat && !(lat = fill_latency(cl, in.gran, n))) {
    rc = P3CFG_ENOMEM;
    goto done;
  }
  rc = install(&in, bw, lat);
  if (rc == P3CFG_OK)
    bw = lat = NULL; /* owned by the cluster now */
done:
  p3cfg__free(bw);
  p3cfg__free(lat);
  p3cfg__free(in.refs);
  p3cfg__free(in.perm);
  p3cfg__free(in.hosts);
  p3cfg__free(in.host_lens);
  return rc;
}
