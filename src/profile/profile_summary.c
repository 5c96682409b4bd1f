/*
 * profile_summary.c — the human summary of a profile (p3cfg_profile_summary), which
 * the CLI prints on rank 0 and the cluster writer copies into the file as comments.
 *
 * Order: what ran and how, the hosts, the class medians, the node-level matrix, then
 * what needs a look: flagged links grouped by host (a host whose every inter-node link
 * is flagged is named once, as that usually means one slow NIC, port or cable) and by
 * host pair, the slowest links, and pairs whose directions differ by more than 10 %.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "link_fit.h"
#include "profile_analysis.h"
#include "profile_text.h"
#include "profile_types.h"

#define MAX_NODE_MATRIX 32 /* hosts up to which the node-level matrix is printed */
#define MAX_LINES 40       /* flagged host pairs or asymmetric pairs listed */
#define SLOWEST 5

static const char *mode_name(p3cfg_profile_mode m)
{
  switch (m) {
  case P3CFG_PROFILE_SERIAL:
    return "one pair at a time";
  case P3CFG_PROFILE_CONCURRENT:
    return "all pairs of a round at once";
  case P3CFG_PROFILE_HOST_DISJOINT:
  default:
    return "pairs at once only on disjoint hosts";
  }
}

static void print_size(p3cfg__text *t, uint64_t bytes)
{
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
    p3cfg__text_printf(t, "%llu MiB", (unsigned long long)(bytes >> 20));
  else if (bytes >= 1024 && bytes % 1024 == 0)
    p3cfg__text_printf(t, "%llu KiB", (unsigned long long)(bytes >> 10));
  else
    p3cfg__text_printf(t, "%llu B", (unsigned long long)bytes);
}

static void rank_label(char *buf, size_t cap, const p3cfg_profile_result *r, uint32_t rank)
{
  snprintf(buf, cap, "%s:%u", r->hosts[r->rank_host[rank]].name, r->rank_local[rank]);
}

static void header(p3cfg__text *t, const p3cfg_profile_result *r)
{
  p3cfg__text_printf(t,
                      "p3cfg profile: %u ranks on %u host%s (%u per host), %u round%s "
                      "in %u step%s (%s), %.1f s\n",
                      r->n, r->n_hosts, r->n_hosts == 1 ? "" : "s", r->per_host, r->rounds,
                      r->rounds == 1 ? "" : "s", r->steps, r->steps == 1 ? "" : "s",
                      mode_name(r->mode), r->elapsed_s);
  if (r->link_backend == P3CFG_PROFILE_BACKEND_NCCL)
    p3cfg__text_printf(t, "measured with: %s (start-up and control messages over %s)\n%s\n",
                        r->backend, r->mpi_library, r->backend_note);
  else
    p3cfg__text_printf(t, "measured with: %s (%s)\n", r->backend, r->mpi_library);
  p3cfg__text_printf(t,
                      "method: latency = median half round trip of %d-byte "
                      "ping-pongs (%u timed after %u warm-up); bandwidth = "
                      "least-squares fit of window time against bytes, ",
                      P3CFG__LATENCY_BYTES, r->latency_reps, r->warmup);
  print_size(t, r->min_bytes);
  p3cfg__text_printf(t, " to ");
  print_size(t, r->max_bytes);
  p3cfg__text_printf(t,
                      " messages by 4x, %u in flight, 25th percentile of %u windows "
                      "per size\n",
                      r->window, r->bandwidth_reps);
  if (r->budget_s > 0.0 || r->scaled_down > 0) {
    if (r->budget_s > 0.0)
      p3cfg__text_printf(t, "budget: %.1f s; ", r->budget_s);
    else
      p3cfg__text_printf(t, "timeout: %.0f s per step; ", r->timeout_s);
    p3cfg__text_printf(t,
                        "%u of %u directions measured with fewer repetitions or sizes "
                        "than asked\n",
                        r->scaled_down, r->n * (r->n - 1));
  }
}

static void hosts(p3cfg__text *t, const p3cfg_profile_result *r, int width)
{
  p3cfg__text_printf(t, "hosts:\n");
  for (uint32_t h = 0; h < r->n_hosts; h++) {
    const p3cfg__host_info *x = &r->hosts[h];
    p3cfg__text_printf(t, "  %-*s  %u ranks  GPUs: ", width, x->name, r->per_host);
    if (x->gpus)
      p3cfg__text_printf(t, "%u x %s", x->gpus, x->gpu_model);
    else
      p3cfg__text_printf(t, "none found");
    p3cfg__text_printf(t, "  NICs: %s  NUMA nodes: %u  cores: %u  PUs: %u\n",
                        x->nics ? x->nic_names : "none found", x->numa_nodes, x->cores, x->pus);
    if (x->gpus && x->gpus != r->per_host)
      p3cfg__text_printf(t,
                          "  note: %s has %u GPUs but runs %u ranks (one rank per GPU "
                          "is what the cluster file describes)\n",
                          x->name, x->gpus, r->per_host);
  }
}

static void classes(p3cfg__text *t, const p3cfg_profile_result *r)
{
  const p3cfg__link_class *c[2] = {&r->intra, &r->inter};
  const char *names[2] = {"intra-node", "inter-node"};
  p3cfg__text_printf(t, "links (GB/s per direction; latency in us):\n");
  for (int i = 0; i < 2; i++) {
    if (c[i]->count == 0) {
      p3cfg__text_printf(t, "  %s  none measured\n", names[i]);
      continue;
    }
    p3cfg__text_printf(t, "  %s  %5u links  median %.4g  reference %.4g  latency %.3g\n", names[i],
                        c[i]->count, c[i]->median_Bps / 1e9, c[i]->reference_Bps / 1e9,
                        c[i]->median_latency_s * 1e6);
  }
}

static int node_matrix(p3cfg__text *t, const p3cfg_profile_result *r, int width)
{
  if (r->n_hosts < 2 || r->n_hosts > MAX_NODE_MATRIX)
    return 0;
  double *m = NULL;
  int rc = p3cfg__profile_node_matrix(&m, r);
  if (rc != 0)
    return rc;
  const int col = width > 8 ? width : 8;
  p3cfg__text_printf(t,
                      "node-level bandwidth (GB/s, median over rank pairs, row = "
                      "sender):\n  %-*s",
                      width, "");
  for (uint32_t h = 0; h < r->n_hosts; h++)
    p3cfg__text_printf(t, "  %*s", col, r->hosts[h].name);
  p3cfg__text_printf(t, "\n");
  for (uint32_t a = 0; a < r->n_hosts; a++) {
    p3cfg__text_printf(t, "  %-*s", width, r->hosts[a].name);
    for (uint32_t b = 0; b < r->n_hosts; b++) {
      const double v = m[(size_t)a * r->n_hosts + b];
      if (v > 0.0)
        p3cfg__text_printf(t, "  %*.4g", col, v / 1e9);
      else
        p3cfg__text_printf(t, "  %*s", col, "-");
    }
    p3cfg__text_printf(t, "\n");
  }
  p3cfg__free(m);
  return 0;
}

/* Flagged links: whole hosts first, then host pairs not explained by a whole host. */
static int flagged(p3cfg__text *t, const p3cfg_profile_result *r)
{
  p3cfg__link_ref *f = NULL;
  size_t nf = 0;
  int rc = p3cfg__profile_flagged(&f, &nf, r);
  if (rc != 0)
    return rc;
  if (nf == 0) {
    p3cfg__text_printf(t, "flagged: none (no link below %.1fx its class reference)\n",
                        P3CFG__OUTLIER_RATIO);
    return 0;
  }
  const size_t H = r->n_hosts;
  uint32_t *host_flags = p3cfg__calloc(H, sizeof *host_flags);
  uint8_t *whole = p3cfg__calloc(H, 1); /* hosts whose every inter-node link is flagged */
  uint32_t *pair_flags = p3cfg__calloc(H * H, sizeof *pair_flags);
  double *vals = p3cfg__malloc(nf * sizeof *vals);
  if (!host_flags || !whole || !pair_flags || !vals) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  for (size_t i = 0; i < nf; i++) {
    const uint32_t ha = r->rank_host[f[i].src], hb = r->rank_host[f[i].dst];
    pair_flags[(size_t)ha * H + hb]++;
    if (ha != hb) {
      host_flags[ha]++;
      host_flags[hb]++;
    }
  }
  p3cfg__text_printf(t, "flagged (%zu links below %.1fx their class reference):\n", nf,
                      P3CFG__OUTLIER_RATIO);
  const uint32_t G = r->per_host;
  const uint32_t host_total = 2 * G * (r->n - G); /* inter-node links to and from a host */
  for (uint32_t h = 0; h < H; h++) {
    whole[h] = host_total > 0 && host_flags[h] == host_total;
    if (!whole[h])
      continue;
    size_t k = 0;
    for (size_t i = 0; i < nf; i++)
      if (r->rank_host[f[i].src] != r->rank_host[f[i].dst] &&
          (r->rank_host[f[i].src] == h || r->rank_host[f[i].dst] == h))
        vals[k++] = f[i].Bps;
    const double med = p3cfg__median(vals, k);
    p3cfg__text_printf(t,
                        "  %s: all %u inter-node links to and from it, median %.4g GB/s "
                        "(%.3gx the reference): a slow NIC, port or cable?\n",
                        r->hosts[h].name, host_total, med / 1e9, med / r->inter.reference_Bps);
  }
  size_t lines = 0, skipped = 0;
  for (uint32_t a = 0; a < H; a++)
    for (uint32_t b = 0; b < H; b++) {
      const uint32_t count = pair_flags[(size_t)a * H + b];
      if (count == 0 || (a != b && (whole[a] || whole[b])))
        continue;
      if (lines++ >= MAX_LINES) {
        skipped++;
        continue;
      }
      size_t k = 0;
      for (size_t i = 0; i < nf; i++)
        if (r->rank_host[f[i].src] == a && r->rank_host[f[i].dst] == b)
          vals[k++] = f[i].Bps;
      const double med = p3cfg__median(vals, k);
      const uint32_t total = a == b ? G * (G - 1) : G * G;
      const double ref = a == b ? r->intra.reference_Bps : r->inter.reference_Bps;
      if (a == b)
        p3cfg__text_printf(t, "  %s (intra-node): ", r->hosts[a].name);
      else
        p3cfg__text_printf(t, "  %s -> %s: ", r->hosts[a].name, r->hosts[b].name);
      p3cfg__text_printf(t, "%u of %u links, median %.4g GB/s (%.3gx the %s reference)\n", count,
                          total, med / 1e9, med / ref, a == b ? "intra-node" : "inter-node");
    }
  if (skipped)
    p3cfg__text_printf(t, "  ... and %zu more host pairs\n", skipped);
done:
  p3cfg__free(f);
  p3cfg__free(whole);
  p3cfg__free(host_flags);
  p3cfg__free(pair_flags);
  p3cfg__free(vals);
  return rc;
}

static void slowest(p3cfg__text *t, const p3cfg_profile_result *r)
{
  p3cfg__link_ref s[SLOWEST];
  const size_t k = p3cfg__profile_slowest(s, SLOWEST, r);
  p3cfg__text_printf(t, "slowest links:\n");
  for (size_t i = 0; i < k; i++) {
    char a[P3CFG__HOST_NAME_CAP + 16], b[P3CFG__HOST_NAME_CAP + 16];
    rank_label(a, sizeof a, r, s[i].src);
    rank_label(b, sizeof b, r, s[i].dst);
    p3cfg__text_printf(
        t,
        "  %s -> %s  %.4g GB/s (%.3gx the %s reference)  latency %.3g "
        "us%s\n",
        a, b, s[i].Bps / 1e9, s[i].ratio,
        r->rank_host[s[i].src] == r->rank_host[s[i].dst] ? "intra-node" : "inter-node",
        r->lat_s[(size_t)s[i].src * r->n + s[i].dst] * 1e6,
        (r->flags[(size_t)s[i].src * r->n + s[i].dst] & P3CFG__LINK_SCALED) ? "  (scaled down)"
                                                                            : "");
  }
}

static int asymmetric(p3cfg__text *t, const p3cfg_profile_result *r)
{
  p3cfg__link_ref *v = NULL;
  size_t nv = 0;
  int rc = p3cfg__profile_asymmetric(&v, &nv, r);
  if (rc != 0)
    return rc;
  p3cfg__text_printf(t, "asymmetric pairs (directions differ by more than %.0f %%): %zu\n",
                      100.0 * P3CFG__ASYMMETRY, nv);
  for (size_t i = 0; i < nv && i < MAX_LINES; i++) {
    char a[P3CFG__HOST_NAME_CAP + 16], b[P3CFG__HOST_NAME_CAP + 16];
    rank_label(a, sizeof a, r, v[i].src);
    rank_label(b, sizeof b, r, v[i].dst);
    p3cfg__text_printf(t, "  %s <-> %s  %.4g vs %.4g GB/s (%.0f %%)\n", a, b, v[i].Bps / 1e9,
                        r->bw_Bps[(size_t)v[i].dst * r->n + v[i].src] / 1e9, 100.0 * v[i].ratio);
  }
  if (nv > MAX_LINES)
    p3cfg__text_printf(t, "  ... and %zu more\n", nv - MAX_LINES);
  p3cfg__free(v);
  return 0;
}

/* NCCL: all-reduce within each host, and a lone rank's loop to itself. */
static void allreduce(p3cfg__text *t, const p3cfg_profile_result *r, int width)
{
  if (r->self_Bps > 0.0)
    p3cfg__text_printf(t,
                        "one rank: its GPU's send/recv to itself %.4g GB/s, latency %.3g us "
                        "(the diagonal of the file)\n",
                        r->self_Bps / 1e9, r->self_lat_s * 1e6);
  if (!r->allreduce_Bps)
    return;
  p3cfg__text_printf(t, "all-reduce within each host (NCCL, float sum, 1 MiB to ");
  print_size(t, r->allreduce_max_bytes);
  p3cfg__text_printf(t, " by 4x; bus bandwidth = bytes * 2(n-1)/n / time at the best size, "
                         "of the host's slowest rank):\n");
  for (uint32_t h = 0; h < r->n_hosts && h < MAX_NODE_MATRIX; h++) {
    if (r->per_host < 2)
      p3cfg__text_printf(t,
                          "  %-*s  1 GPU   no bus bandwidth with one GPU (a local copy at "
                          "%.4g GB/s)\n",
                          width, r->hosts[h].name, r->allreduce_alg_Bps[h] / 1e9);
    else
      p3cfg__text_printf(t, "  %-*s  %u GPUs  bus bandwidth %.4g GB/s  (algorithm %.4g GB/s)\n",
                          width, r->hosts[h].name, r->per_host, r->allreduce_Bps[h] / 1e9,
                          r->allreduce_alg_Bps[h] / 1e9);
  }
  if (r->n_hosts > MAX_NODE_MATRIX)
    p3cfg__text_printf(t, "  ... and %u more hosts\n", r->n_hosts - MAX_NODE_MATRIX);
}

int p3cfg__profile_summary_text(p3cfg__text *t, const p3cfg_profile_result *r)
{
  int width = 4, rc;
  for (uint32_t h = 0; h < r->n_hosts; h++) {
    const int len = (int)strlen(r->hosts[h].name);
    if (len > width)
      width = len;
  }
  header(t, r);
  hosts(t, r, width);
  classes(t, r);
  allreduce(t, r, width);
  if ((rc = node_matrix(t, r, width)) != 0 || (rc = flagged(t, r)) != 0)
    return rc;
  slowest(t, r);
  return asymmetric(t, r);
}

P3CFG_API int p3cfg_profile_summary(p3cfg_buffer *out, const p3cfg_profile_result *r)
{
  p3cfg__error_clear();
  if (!out || !r)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_profile_summary: NULL argument");
  out->data = NULL;
  out->len = 0;
  p3cfg__text t;
  p3cfg__text_init(&t);
  int rc = p3cfg__profile_summary_text(&t, r);
  if (rc != 0) {
    p3cfg__text_free(&t);
    return rc;
  }
  return p3cfg__text_finish(&t, out);
}
