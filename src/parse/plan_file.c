/*
 * plan_file.c — reading plans back from the JSON of spec §6 (what `search --format
 * json` and `estimate --format json` write) for `p3cfg export`: libyaml loads the JSON
 * with positions (yaml_doc.c), the typed readers of plan_file_fields.c read each value
 * (the "model" and "cluster" records are plan_file_records.c's), and every problem is
 * reported at its FILE:LINE:COL, as for model and cluster files.
 *
 * Unlike input files, a plan file may carry keys this version does not know (the JSON
 * grows new optional keys, spec §6): they are skipped. What the exporters rely on must be
 * there and consistent: "config", "model", "cluster" and "placement" of every plan, the
 * split of the model's layers, whole gradient-accumulation steps, and a placement with
 * dp*tp*pp ranks, each once, with Megatron-LM's rank coordinates (tp fastest, then dp,
 * then pp), on nodes of the cluster, and no GPU used twice. A document's
 * "schema_version" (absent in files of p3cfg before it) must be a version this reader
 * knows: 1 up to P3CFG_JSON_SCHEMA_VERSION.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "knobs.h"
#include "mesh.h"
#include "parse_objects.h"
#include "plan_file_read.h"
#include "plan_rules.h"
#include "recompute_modules.h"
#include "plan_record.h"
#include "yaml_doc.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- config ------------------------------------------------------------------------- */

/* cp, ep and etp (issue 16): optional (1, 1 and tp when absent, as files written before
 * them); etp at most tp*cp*dp, the ranks of a stage. */
static bool read_dims(p3cfg__pf_reader *rd, p3cfg_plan *p, const yaml_node_t *map,
                      const char *prefix)
{
  bool ok = true;
  p->cp = p->ep = 1;
  p->etp = p->tp;
  if (p3cfg__pf_lookup(rd, map, "cp"))
    ok &= p3cfg__pf_u32(rd, map, prefix, "cp", 1, P3CFG__MAX_GPUS, &p->cp);
  if (p3cfg__pf_lookup(rd, map, "ep"))
    ok &= p3cfg__pf_u32(rd, map, prefix, "ep", 1, P3CFG__MAX_GPUS, &p->ep);
  if (p3cfg__pf_lookup(rd, map, "etp"))
    ok &= p3cfg__pf_u32(rd, map, prefix, "etp", 1, P3CFG__MAX_GPUS, &p->etp);
  return ok;
}

/* framework, dp_shard, dp_replicate and compile (issue 15): optional (Megatron-LM, all of
 * dp, 1 and eager when absent, as files written before them); dp_shard divides dp and
 * dp_replicate, when given, is dp / dp_shard. */
static bool read_framework(p3cfg__pf_reader *rd, p3cfg_plan *p, const yaml_node_t *map,
                           const char *prefix)
{
  static const char *const names[] = {"megatron", "torchtitan", "deepspeed"};
  _Static_assert(N_OF(names) == P3CFG_FRAMEWORK_COUNT, "one name per framework");
  bool ok = true;
  if (p3cfg__pf_lookup(rd, map, "framework")) {
    int f = 0;
    ok &= p3cfg__pf_enum(rd, map, prefix, "framework", names, N_OF(names), &f);
    p->framework = (uint32_t)f;
  }
  if (p3cfg__pf_lookup(rd, map, "compile")) {
    int on = 0;
    ok &= p3cfg__pf_bool(rd, map, prefix, "compile", &on);
    p->compile = on != 0;
  }
  const yaml_node_t *shard = p3cfg__pf_lookup(rd, map, "dp_shard");
  if (!shard || !ok)
    return ok;
  uint32_t replicate = 0;
  if (!p3cfg__pf_u32(rd, map, prefix, "dp_shard", 1, P3CFG__MAX_GPUS, &p->dp_shard))
    return false;
  if (p->dp && p->dp % p->dp_shard) {
    p3cfg__problem(&rd->c, shard, "%s.dp_shard %u does not divide dp %u", prefix, p->dp_shard,
                   p->dp);
    return false;
  }
  const yaml_node_t *rep = p3cfg__pf_lookup(rd, map, "dp_replicate");
  if (rep) {
    if (!p3cfg__pf_u32(rd, map, prefix, "dp_replicate", 1, P3CFG__MAX_GPUS, &replicate))
      return false;
    if (p->dp && (uint64_t)replicate * p->dp_shard != p->dp) {
      p3cfg__problem(&rd->c, rep, "%s.dp_replicate %u times dp_shard %u is not dp %u", prefix,
                     replicate, p->dp_shard, p->dp);
      return false;
    }
  }
  if (p->dp_shard == p->dp)
    p->dp_shard = 0; /* all of dp: plain FSDP, as a plan written without HSDP */
  return true;
}

/* recompute_modules (issue 16): optional (the default {core_attn} when absent); a list of
 * Megatron-Core's module words, none twice, non-empty only with recompute selective. */
/* An optional list of distinct words under `key` as a bit set (word i is 1 << i); *node
 * is the list (NULL when absent: bits 0). */
static bool read_word_set(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                          const char *key, const char *const *words, size_t n_words,
                          uint32_t *bits, const yaml_node_t **node)
{
  char label[P3CFG__PF_LABEL_CAP];
  *bits = 0;
  *node = p3cfg__pf_lookup(rd, map, key);
  if (!*node)
    return true;
  p3cfg__pf_label(label, prefix, key);
  if (!p3cfg__pf_is_kind(rd, *node, label, YAML_SEQUENCE_NODE))
    return false;
  for (yaml_node_item_t *it = (*node)->data.sequence.items.start;
       it < (*node)->data.sequence.items.top; it++) {
    int k = 0;
    const yaml_node_t *w = p3cfg__node(&rd->c, *it);
    if (p3cfg__read_enum(&rd->c, w, label, words, n_words, &k) != 0)
      return false;
    if (*bits & (1u << k)) {
      p3cfg__problem(&rd->c, w, "%s names %s twice", label, words[k]);
      return false;
    }
    *bits |= 1u << k;
  }
  return true;
}

static bool read_recompute_modules(p3cfg__pf_reader *rd, p3cfg_plan *p, const yaml_node_t *map,
                                   const char *prefix)
{
  char label[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *rm;
  uint32_t bits;
  if (!read_word_set(rd, map, prefix, "recompute_modules", p3cfg__recompute_module_words,
                     P3CFG__RECOMPUTE_MODULE_WORDS, &bits, &rm))
    return false;
  if (!rm)
    return true;
  p3cfg__pf_label(label, prefix, "recompute_modules");
  if (p->recompute == P3CFG_RECOMPUTE_SELECTIVE && !bits) {
    p3cfg__problem(&rd->c, rm, "%s is empty under recompute selective (recompute nothing: "
                               "recompute none)", label);
    return false;
  }
  if (p->recompute != P3CFG_RECOMPUTE_SELECTIVE && bits) {
    p3cfg__problem(&rd->c, rm, "%s needs recompute selective, got %s", label,
                   p3cfg_recompute_name(p->recompute));
    return false;
  }
  /* {core_attn} is the default: stored as 0, as a plan written without the key. */
  p->recompute_modules = bits == P3CFG_RECOMPUTE_MODULE_CORE_ATTN ? 0 : bits;
  return true;
}

static bool read_config(p3cfg__pf_reader *rd, p3cfg_plan *p, const yaml_node_t *map,
                        const char *prefix, const yaml_node_t **layers_node)
{
  static const char *const recompute[] = {"none", "selective", "full"};
  p3cfg_plan_init(p);
  bool ok = p3cfg__pf_u32(rd, map, prefix, "dp", 1, P3CFG__MAX_GPUS, &p->dp);
  ok &= p3cfg__pf_u32(rd, map, prefix, "tp", 1, P3CFG__MAX_GPUS, &p->tp);
  ok &= p3cfg__pf_u32(rd, map, prefix, "pp", 1, P3CFG_MAX_PP, &p->pp);
  ok &= p3cfg__pf_u32(rd, map, prefix, "micro_batch", 1, P3CFG__MAX_GLOBAL_BATCH, &p->micro_batch);
  ok &=
      p3cfg__pf_uint(rd, map, prefix, "global_batch", 1, P3CFG__MAX_GLOBAL_BATCH, &p->global_batch);
  ok &= p3cfg__pf_u32(rd, map, prefix, "virtual_stages", 1, P3CFG__MAX_LAYERS, &p->virtual_stages);
  ok &= p3cfg__pf_u32(rd, map, prefix, "zero_stage", 0, 3, &p->zero_stage);
  ok &= read_dims(rd, p, map, prefix);
  if (ok)
    ok &= read_framework(rd, p, map, prefix);
  int r = 0;
  ok &= p3cfg__pf_enum(rd, map, prefix, "recompute", recompute, N_OF(recompute), &r);
  p->recompute = (p3cfg_recompute)r;
  if (ok)
    ok &= read_recompute_modules(rd, p, map, prefix);
  /* cpu_offload_layers: optional (0, no offloading, as files written before it); its
   * rules (pp 1, no recompute, fewer than the layers) are the plan's (plan_rules.c). */
  if (p3cfg__pf_lookup(rd, map, "cpu_offload_layers"))
    ok &= p3cfg__pf_u32(rd, map, prefix, "cpu_offload_layers", 0, P3CFG__MAX_LAYERS,
                        &p->cpu_offload_layers);
  /* split_accounts: optional (none, as files written before it); its rules (pp > 1,
   * Megatron-LM, the per-rank counts) are the plan's. */
  {
    const yaml_node_t *sa;
    ok &= read_word_set(rd, map, prefix, "split_accounts", p3cfg__split_account_words,
                        P3CFG__SPLIT_ACCOUNT_WORDS, &p->split_accounts, &sa);
  }
  ok &= p3cfg__pf_bool(rd, map, prefix, "sequence_parallel", &p->sequence_parallel);
  char label[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *ov = p3cfg__pf_lookup(rd, map, "overlap");
  if (ov &&
      p3cfg__pf_is_kind(rd, ov, p3cfg__pf_label(label, prefix, "overlap"), YAML_SEQUENCE_NODE)) {
    for (yaml_node_item_t *it = ov->data.sequence.items.start; it < ov->data.sequence.items.top;
         it++) {
      int k = 0;
      if (p3cfg__read_enum(&rd->c, p3cfg__node(&rd->c, *it), label, p3cfg__overlap_words,
                           P3CFG__OVERLAP_WORDS, &k) == 0)
        p->overlap |= 1u << k;
      else
        ok = false;
    }
  } else if (ov) {
    ok = false;
  }
  const yaml_node_t *seq = p3cfg__pf_need(rd, map, prefix, "stage_layers");
  p3cfg__pf_label(label, prefix, "stage_layers");
  if (!seq || !p3cfg__pf_is_kind(rd, seq, label, YAML_SEQUENCE_NODE))
    return false;
  *layers_node = seq;
  const size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
  if (ok && n != p->pp) {
    p3cfg__problem(&rd->c, seq, "%s has %zu entries, expected pp = %u", label, n, p->pp);
    return false;
  }
  for (size_t i = 0; i < n && i < P3CFG_MAX_PP; i++) {
    char item[P3CFG__PF_LABEL_CAP + 24];
    uint64_t v = 0;
    snprintf(item, sizeof item, "%s[%zu]", label, i);
    const yaml_node_t *node = p3cfg__node(&rd->c, seq->data.sequence.items.start[i]);
    if (p3cfg__read_uint(&rd->c, node, item, 0, P3CFG__MAX_LAYERS, &v) != 0) {
      ok = false;
      continue;
    }
    p->stage_layers[i] = (uint32_t)v;
    /* With split_accounts, the first and last ranks' counts and the embedding or loss
     * they account for make the multiple (p3cfg__split_extra). */
    const uint32_t extra = p3cfg__split_extra(p, (uint32_t)i);
    if (ok && (v + extra) % p->virtual_stages) {
      if (extra)
        p3cfg__problem(&rd->c, node, "%s = %llu plus the %s the split accounts for is not a "
                                     "multiple of virtual_stages %u",
                       item, (unsigned long long)v,
                       p3cfg__split_accounts_what(p3cfg__split_accounts_at(p, (uint32_t)i)),
                       p->virtual_stages);
      else
        p3cfg__problem(&rd->c, node, "%s = %llu is not a multiple of virtual_stages %u", item,
                       (unsigned long long)v, p->virtual_stages);
      ok = false;
    }
  }
  p->n_stage_layers = (uint32_t)n;
  if (ok && p->global_batch % ((uint64_t)p->micro_batch * p->dp)) {
    p3cfg__problem(&rd->c, p3cfg__pf_lookup(rd, map, "global_batch"),
                   "%s.global_batch %llu is not a multiple of micro_batch * dp = %llu", prefix,
                   (unsigned long long)p->global_batch, (unsigned long long)p->micro_batch * p->dp);
    ok = false;
  }
  return ok;
}

/* ---- placement ---------------------------------------------------------------------- */

/* What both forms of a placement fill: the ranks of the record, and which entry holds
 * each rank and each GPU. */
typedef struct placing {
  p3cfg__plan_record *rec;
  p3cfg__mesh mesh;
  uint32_t *rank_at; /* rank -> entry (or run) that placed it, UINT32_MAX when none */
  uint32_t *gpu_at;  /* node * gpus_per_node + gpu -> rank on it, UINT32_MAX when free */
  size_t n;          /* dp*tp*pp */
} placing;

/* Put rank r.rank (coordinates checked or filled by the caller) on its GPU, found in
 * entry `entry` at node `at`; false (reported) when the GPU is taken. */
static bool place_rank(p3cfg__pf_reader *rd, placing *pg, const p3cfg_rank_place *r, uint32_t entry,
                       const yaml_node_t *at)
{
  const p3cfg_plan_cluster *cl = &pg->rec->cluster;
  const size_t g = (size_t)r->node * cl->gpus_per_node + r->gpu;
  if (pg->gpu_at[g] != UINT32_MAX) {
    p3cfg__problem(&rd->c, at, "GPU %u of node '%s' is used twice: by rank %u and by rank %u",
                   r->gpu, cl->node_names[r->node], pg->gpu_at[g], r->rank);
    return false;
  }
  pg->rank_at[r->rank] = entry;
  pg->gpu_at[g] = r->rank;
  pg->rec->ranks[r->rank] = *r;
  return true;
}

/* The node named by `node` (a string among the cluster's node_names), or UINT32_MAX
 * (reported). */
static uint32_t read_node(p3cfg__pf_reader *rd, const yaml_node_t *node, const char *label,
                          const p3cfg__pf_name_index *ix)
{
  const char *name = NULL;
  size_t len = 0;
  if (p3cfg__read_string(&rd->c, node, label, P3CFG__MAX_NAME_BYTES, &name, &len) != 0)
    return UINT32_MAX;
  const uint32_t k = p3cfg__pf_find_node(ix, name, len);
  if (k == UINT32_MAX) {
    char echo[4 * P3CFG__ECHO_CHARS + 8];
    p3cfg__echo(echo, sizeof echo, name, len);
    p3cfg__problem(&rd->c, node, "%s: node '%s' is not one of the cluster's node_names", label,
                   echo);
  }
  return k;
}

/* "ranks": [{"rank", "node", "gpu", "dp", "pp", "tp"}, ...] (spec §6), any order. */
static bool read_rank_list(p3cfg__pf_reader *rd, placing *pg, const yaml_node_t *seq,
                           const char *label, const p3cfg__pf_name_index *ix)
{
  const p3cfg_plan *p = &pg->rec->plan;
  const p3cfg_plan_cluster *cl = &pg->rec->cluster;
  const size_t n = pg->n;
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    const yaml_node_t *e = p3cfg__node(&rd->c, seq->data.sequence.items.start[i]);
    char at[P3CFG__PF_LABEL_CAP + 24];
    snprintf(at, sizeof at, "%s[%zu]", label, i);
    if (!p3cfg__pf_is_kind(rd, e, at, YAML_MAPPING_NODE)) {
      ok = false;
      continue;
    }
    p3cfg_rank_place r = {0, 0, 0, 0, 0, 0};
    bool got = p3cfg__pf_u32(rd, e, at, "rank", 0, n - 1, &r.rank);
    got &= p3cfg__pf_u32(rd, e, at, "gpu", 0, cl->gpus_per_node - 1, &r.gpu);
    got &= p3cfg__pf_u32(rd, e, at, "dp", 0, p->dp - 1, &r.dp);
    got &= p3cfg__pf_u32(rd, e, at, "pp", 0, p->pp - 1, &r.pp);
    got &= p3cfg__pf_u32(rd, e, at, "tp", 0, p->tp - 1, &r.tp);
    const yaml_node_t *node = p3cfg__pf_need(rd, e, at, "node");
    char nl[P3CFG__PF_LABEL_CAP + 32];
    if (!node || (r.node = read_node(rd, node, p3cfg__pf_label(nl, at, "node"), ix)) == UINT32_MAX)
      got = false;
    if (!got) {
      ok = false;
      continue;
    }
    uint32_t co[P3CFG__MESH_DIMS];
    p3cfg__mesh_coords(&pg->mesh, r.rank, co);
    const uint32_t tp = co[P3CFG__MESH_TP], dp = co[P3CFG__MESH_DP], pp = co[P3CFG__MESH_PP];
    if (r.tp != tp || r.dp != dp || r.pp != pp) {
      p3cfg__problem(&rd->c, e,
                     "rank %u has dp %u, pp %u, tp %u, but Megatron-LM's rank order (tp "
                     "fastest, then dp, then pp) gives dp %u, pp %u, tp %u",
                     r.rank, r.dp, r.pp, r.tp, dp, pp, tp);
      ok = false;
      continue;
    }
    if (pg->rank_at[r.rank] != UINT32_MAX) {
      p3cfg__problem(&rd->c, p3cfg__pf_lookup(rd, e, "rank"),
                     "rank %u appears twice (first in %s[%u])", r.rank, label, pg->rank_at[r.rank]);
      ok = false;
      continue;
    }
    ok &= place_rank(rd, pg, &r, (uint32_t)i, e);
  }
  return ok;
}

/* "encoding": "runs", "runs": [[first_rank, count, node, gpu], ...]: in rank order,
 * together ranks 0 .. dp*tp*pp-1; rank first_rank + k runs on the GPU k places after
 * (node, gpu) in the cluster's GPU order (node_names order, then GPU index), so a run
 * may go on into the next node. Coordinates follow from the rank (Megatron-LM's order).
 * The walk stops at the first run that is out of order, since every later one would
 * be reported for the same cause. */
static bool read_rank_runs(p3cfg__pf_reader *rd, placing *pg, const yaml_node_t *seq,
                           const char *label, const p3cfg__pf_name_index *ix)
{
  const p3cfg_plan_cluster *cl = &pg->rec->cluster;
  const uint64_t gpus = (uint64_t)cl->nodes * cl->gpus_per_node;
  const size_t n = pg->n;
  const size_t n_runs = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
  uint64_t next = 0; /* the rank the next run starts at */
  for (size_t j = 0; j < n_runs; j++) {
    const yaml_node_t *e = p3cfg__node(&rd->c, seq->data.sequence.items.start[j]);
    char at[P3CFG__PF_LABEL_CAP + 24];
    snprintf(at, sizeof at, "%s[%zu]", label, j);
    if (!p3cfg__pf_is_kind(rd, e, at, YAML_SEQUENCE_NODE))
      return false;
    const yaml_node_item_t *v = e->data.sequence.items.start;
    const size_t k = (size_t)(e->data.sequence.items.top - v);
    if (k != 4) {
      p3cfg__problem(&rd->c, e, "%s must be [first_rank, count, node, gpu], got %zu entries", at,
                     k);
      return false;
    }
    char item[P3CFG__PF_LABEL_CAP + 48];
    uint64_t first = 0, count = 0, gpu = 0;
    snprintf(item, sizeof item, "%s first_rank", at);
    bool got = p3cfg__read_uint(&rd->c, p3cfg__node(&rd->c, v[0]), item, 0, n - 1, &first) == 0;
    snprintf(item, sizeof item, "%s count", at);
    got &= p3cfg__read_uint(&rd->c, p3cfg__node(&rd->c, v[1]), item, 1, n, &count) == 0;
    snprintf(item, sizeof item, "%s node", at);
    const uint32_t node = read_node(rd, p3cfg__node(&rd->c, v[2]), item, ix);
    snprintf(item, sizeof item, "%s gpu", at);
    got &= p3cfg__read_uint(&rd->c, p3cfg__node(&rd->c, v[3]), item, 0, cl->gpus_per_node - 1,
                            &gpu) == 0;
    if (!got || node == UINT32_MAX)
      return false;
    if (first != next) {
      p3cfg__problem(&rd->c, p3cfg__node(&rd->c, v[0]),
                     "%s starts at rank %llu, expected %llu (runs go in rank order, each "
                     "starting where the one before ends)",
                     at, (unsigned long long)first, (unsigned long long)next);
      return false;
    }
    const uint64_t g0 = (uint64_t)node * cl->gpus_per_node + gpu;
    if (first + count > n || g0 + count > gpus) {
      p3cfg__problem(&rd->c, p3cfg__node(&rd->c, v[1]),
                     "%s: %llu ranks from rank %llu on GPU %llu of node '%s' go past %s", at,
                     (unsigned long long)count, (unsigned long long)first, (unsigned long long)gpu,
                     cl->node_names[node],
                     first + count > n ? "the last rank (dp*tp*pp - 1)" : "the cluster's last GPU");
      return false;
    }
    for (uint64_t q = 0; q < count; q++) {
      const uint64_t g = g0 + q;
      p3cfg_rank_place r = {(uint32_t)(first + q), (uint32_t)(g / cl->gpus_per_node),
                            (uint32_t)(g % cl->gpus_per_node), 0, 0, 0};
      uint32_t co[P3CFG__MESH_DIMS];
      p3cfg__mesh_coords(&pg->mesh, r.rank, co);
      r.tp = co[P3CFG__MESH_TP];
      r.dp = co[P3CFG__MESH_DP];
      r.pp = co[P3CFG__MESH_PP];
      if (!place_rank(rd, pg, &r, (uint32_t)j, e))
        return false;
    }
    next = first + count;
  }
  if (next != n) {
    p3cfg__problem(&rd->c, seq, "%s cover %llu ranks, expected dp*tp*pp = %zu", label,
                   (unsigned long long)next, n);
    return false;
  }
  return true;
}

static bool read_placement(p3cfg__pf_reader *rd, p3cfg__plan_record *rec, const yaml_node_t *map,
                           const char *prefix, const p3cfg__pf_name_index *ix)
{
  static const char *const encodings[] = {"ranks", "runs"};
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_cluster *cl = &rec->cluster;
  char label[P3CFG__PF_LABEL_CAP];
  int encoding = 0;
  const yaml_node_t *enc = p3cfg__pf_lookup(rd, map, "encoding");
  if (enc && p3cfg__read_enum(&rd->c, enc, p3cfg__pf_label(label, prefix, "encoding"), encodings,
                              N_OF(encodings), &encoding) != 0)
    return false;
  const char *key = encodings[encoding];
  const yaml_node_t *seq = p3cfg__pf_need(rd, map, prefix, key);
  p3cfg__pf_label(label, prefix, key);
  if (!seq || !p3cfg__pf_is_kind(rd, seq, label, YAML_SEQUENCE_NODE))
    return false;
  const uint64_t want = (uint64_t)p->dp * p->tp * p->cp * p->pp;
  const char *want_name = p->cp > 1 ? "dp*tp*cp*pp" : "dp*tp*pp";
  const uint64_t gpus = (uint64_t)cl->nodes * cl->gpus_per_node;
  const size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
  if (want > gpus) {
    p3cfg__problem(&rd->c, seq, "%s: %s = %llu ranks, but the cluster has %llu GPUs", label,
                   want_name, (unsigned long long)want, (unsigned long long)gpus);
    return false;
  }
  if (encoding == 0 && n != want) {
    p3cfg__problem(&rd->c, seq, "%s has %zu entries, expected %s = %llu", label, n, want_name,
                   (unsigned long long)want);
    return false;
  }
  placing pg;
  pg.rec = rec;
  pg.n = (size_t)want;
  p3cfg__mesh_of(&pg.mesh, p); /* rank count checked above: it fits */
  /* Which entry holds each rank and which rank each GPU (n + gpus slots). */
  pg.rank_at = p3cfg__malloc((pg.n + (size_t)gpus) * sizeof *pg.rank_at);
  rec->ranks = p3cfg__plan_file_alloc(rd->f, pg.n * sizeof *rec->ranks);
  if (!pg.rank_at || !rec->ranks) {
    p3cfg__free(pg.rank_at);
    rd->nomem = 1;
    return false;
  }
  pg.gpu_at = pg.rank_at + pg.n;
  memset(pg.rank_at, 0xff, (pg.n + (size_t)gpus) * sizeof *pg.rank_at);
  rec->n_ranks = pg.n;
  const bool ok = encoding == 0 ? read_rank_list(rd, &pg, seq, label, ix)
                                : read_rank_runs(rd, &pg, seq, label, ix);
  p3cfg__free(pg.rank_at);
  return ok;
}

/* ---- one plan object ---------------------------------------------------------------- */

/* What makes a plan valid, checked again on a plan read back (a hand-edited file must not
 * export a launch p3cfg would never have planned): the model record's own cross-key rules,
 * as the model file has them (parse_model.c, parse_moe.c), then the plan rules of
 * plan_rules.c on the model the record describes and the cluster's shape. Runs only on a
 * record read without problems. */
static void check_plan_rules(p3cfg__pf_reader *rd, const p3cfg__plan_record *rec,
                             const yaml_node_t *model, const yaml_node_t *config,
                             const char *prefix)
{
  const p3cfg_plan_model *pm = &rec->model;
  char item[P3CFG__PF_LABEL_CAP];
  const int mla = pm->attention && strcmp(pm->attention, "mla") == 0;
  p3cfg__pf_label(item, prefix, "model");
  if (mla && pm->kv_heads != pm->heads) {
    p3cfg__problem(&rd->c, model, "%s: attention mla gives every head its own key and value, "
                                  "so kv_heads must equal heads %llu, got %llu",
                   item, (unsigned long long)pm->heads, (unsigned long long)pm->kv_heads);
    return;
  }
  if (!mla && pm->heads % pm->kv_heads) {
    p3cfg__problem(&rd->c, model, "%s: heads %llu is not divisible by kv_heads %llu", item,
                   (unsigned long long)pm->heads, (unsigned long long)pm->kv_heads);
    return;
  }
  if (pm->moe_experts && pm->moe_top_k > pm->moe_experts) {
    p3cfg__problem(&rd->c, model, "%s: moe.top_k %llu is more than moe.experts %llu", item,
                   (unsigned long long)pm->moe_top_k, (unsigned long long)pm->moe_experts);
    return;
  }
  if (pm->moe_experts && pm->moe_dense_layers >= pm->layers) {
    p3cfg__problem(&rd->c, model, "%s: moe.dense_layers %llu leaves no MoE layer of %llu", item,
                   (unsigned long long)pm->moe_dense_layers, (unsigned long long)pm->layers);
    return;
  }
  p3cfg_model m;
  if (p3cfg__model_of_record(&m, pm, rec->plan.global_batch) != 0)
    return; /* a name the reader refused already */
  p3cfg_cluster c;
  memset(&c, 0, sizeof c);
  c.nodes = rec->cluster.nodes, c.gpus_per_node = rec->cluster.gpus_per_node;
  if (p3cfg__plan_check(&rec->plan, &m, &c) != P3CFG_OK) {
    p3cfg__pf_label(item, prefix, "config");
    p3cfg__problem(&rd->c, config, "%s: %s (p3cfg would not plan it; was the file edited?)",
                   item, p3cfg_error_last()->message);
  }
}

static void read_plan(p3cfg__pf_reader *rd, const yaml_node_t *obj, const char *prefix)
{
  if (!p3cfg__pf_is_kind(rd, obj, prefix[0] ? prefix : "the top level", YAML_MAPPING_NODE))
    return;
  p3cfg__plan_record *rec = p3cfg__plan_file_add(rd->f);
  if (!rec) {
    rd->nomem = 1;
    return;
  }
  char label[P3CFG__PF_LABEL_CAP];
  p3cfg__pf_name_index ix = {NULL, 0};
  const size_t problems_before = rd->c.d ? rd->c.d->count : 0;
  const yaml_node_t *config = p3cfg__pf_need_map(rd, obj, prefix, "config", label);
  const yaml_node_t *layers = NULL;
  const bool config_ok = config && read_config(rd, &rec->plan, config, label, &layers);
  const yaml_node_t *model = p3cfg__pf_need_map(rd, obj, prefix, "model", label);
  const bool model_ok = model && p3cfg__pf_read_model(rd, &rec->model, model, label);
  const yaml_node_t *cluster = p3cfg__pf_need_map(rd, obj, prefix, "cluster", label);
  const bool cluster_ok = cluster && p3cfg__pf_read_cluster(rd, &rec->cluster, &ix, cluster, label);
  const yaml_node_t *placement = p3cfg__pf_need_map(rd, obj, prefix, "placement", label);
  if (config_ok && model_ok) {
    uint64_t sum = 0;
    for (uint32_t j = 0; j < rec->plan.pp; j++)
      sum += rec->plan.stage_layers[j];
    if (sum != rec->model.layers)
      p3cfg__problem(&rd->c, layers,
                     "%s%sconfig.stage_layers add up to %llu layers, but "
                     "model.layers is %llu",
                     prefix, prefix[0] ? "." : "", (unsigned long long)sum,
                     (unsigned long long)rec->model.layers);
  }
  if (placement && config_ok && cluster_ok)
    read_placement(rd, rec, placement, label, &ix);
  if (config_ok && model_ok && cluster_ok && rd->c.d && rd->c.d->count == problems_before)
    check_plan_rules(rd, rec, model, config, prefix);
  p3cfg__free(ix.sorted);
}

/* The document's "schema_version", when it has one: a version this p3cfg__pf_reader knows. */
static bool read_schema_version(p3cfg__pf_reader *rd, const yaml_node_t *root)
{
  const yaml_node_t *v = p3cfg__pf_lookup(rd, root, "schema_version");
  uint64_t version = 0;
  if (!v)
    return true;
  if (p3cfg__read_uint(&rd->c, v, "schema_version", 1, UINT32_MAX, &version) != 0)
    return false;
  if (version > P3CFG_JSON_SCHEMA_VERSION) {
    p3cfg__problem(&rd->c, v,
                   "schema_version %llu is newer than this p3cfg reads (%d): "
                   "export it with the p3cfg that wrote it, or a newer one",
                   (unsigned long long)version, P3CFG_JSON_SCHEMA_VERSION);
    return false;
  }
  return true;
}

static void read_document(p3cfg__pf_reader *rd, const yaml_node_t *root)
{
  if (!p3cfg__pf_is_kind(rd, root, "the top level", YAML_MAPPING_NODE))
    return;
  if (!read_schema_version(rd, root))
    return;
  const yaml_node_t *plans = p3cfg__pf_lookup(rd, root, "plans");
  if (!plans) {
    if (p3cfg__pf_lookup(rd, root, "config"))
      read_plan(rd, root, "");
    else
      p3cfg__problem(&rd->c, root,
                     "not a plan file: expected a plan object (with \"config\") or a search "
                     "result (with \"plans\"), as `p3cfg estimate|search --format json` writes");
    return;
  }
  if (!p3cfg__pf_is_kind(rd, plans, "plans", YAML_SEQUENCE_NODE))
    return;
  const size_t n = (size_t)(plans->data.sequence.items.top - plans->data.sequence.items.start);
  if (n == 0)
    p3cfg__problem(&rd->c, plans, "plans is empty: the search found no plan to export");
  for (size_t i = 0; i < n && !rd->nomem; i++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "plans[%zu]", i);
    read_plan(rd, p3cfg__node(&rd->c, plans->data.sequence.items.start[i]), prefix);
  }
}

/* Load `path` (or text[0..len) when path is NULL), named `name` in positions. */
static int load_plans(p3cfg_plan_file **out, const char *path, const char *text, size_t len,
                      const char *name, p3cfg_diagnostics **diags_out)
{
  p3cfg_diagnostics *d = p3cfg__diags_new(name);
  p3cfg__pf_reader rd = {{NULL, d}, p3cfg__plan_file_new(), 0};
  char *buf = NULL;
  p3cfg__ydoc y;
  memset(&y, 0, sizeof y);
  int rc = P3CFG_OK;
  if (!d || !rd.f) {
    rc = P3CFG_ENOMEM;
    goto done;
  }
  if (path) {
    rc = p3cfg__read_file(&buf, &len, d, path);
    text = buf;
  } else if (len > P3CFG__MAX_INPUT_BYTES) {
    rc = p3cfg__diag(d, P3CFG_EIO, 0, 0, "text is larger than the limit of %u MiB",
                     P3CFG__MAX_INPUT_BYTES / (1024u * 1024u));
  }
  if (rc == P3CFG_OK)
    rc = p3cfg__ydoc_load(&y, d, text, len);
  if (rc == P3CFG_OK) {
    rd.c.doc = &y.doc;
    read_document(&rd, yaml_document_get_root_node(&y.doc));
    if (rd.nomem)
      rc = P3CFG_ENOMEM;
  }
done:
  p3cfg__ydoc_dispose(&y);
  p3cfg__free(buf);
  if (rc != P3CFG_ENOMEM && d)
    p3cfg__diags_finish(d);
  rc = rc == P3CFG_ENOMEM || !d || d->nomem ? p3cfg__error_nomem() : p3cfg__diags_to_error(d);
  if (rc != P3CFG_OK) {
    p3cfg_plan_file_free(rd.f);
    rd.f = NULL;
  }
  *out = rd.f;
  if (diags_out && rc != P3CFG_ENOMEM)
    *diags_out = d;
  else
    p3cfg_diagnostics_free(d);
  return rc;
}

P3CFG_API int p3cfg_plan_file_load(p3cfg_plan_file **out, const char *path,
                                   p3cfg_diagnostics **diags)
{
  p3cfg__error_clear();
  if (diags)
    *diags = NULL;
  if (!out || !path)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan_file_load: a required argument is NULL");
  return load_plans(out, path, NULL, 0, path, diags);
}

P3CFG_API int p3cfg_plan_file_load_string(p3cfg_plan_file **out, const char *text, size_t len,
                                          const char *name, p3cfg_diagnostics **diags)
{
  p3cfg__error_clear();
  if (diags)
    *diags = NULL;
  if (!out || !text)
    return p3cfg__error_set(P3CFG_EINVALID,
                            "p3cfg_plan_file_load_string: a required argument is NULL");
  return load_plans(out, NULL, text, len, name ? name : "<string>", diags);
}
