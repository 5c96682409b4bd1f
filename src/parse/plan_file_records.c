/*
 * plan_file_records.c — the "model" and "cluster" records of a plan object (written by
 * report/plan_json.c): the model facts the exporters need, with spec §2's names, and the
 * cluster the plan was placed on with its node names (each once).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "parse_objects.h"
#include "plan_file_read.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- model -------------------------------------------------------------------------- */

bool p3cfg__pf_read_model(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                          const char *prefix)
{
  static const struct {
    const char *key;
    uint64_t hi;
    size_t offset;
  } counts[] = {
      {"layers", P3CFG__MAX_LAYERS, offsetof(p3cfg_plan_model, layers)},
      {"hidden", P3CFG__MAX_HIDDEN, offsetof(p3cfg_plan_model, hidden)},
      {"heads", P3CFG__MAX_HEADS, offsetof(p3cfg_plan_model, heads)},
      {"kv_heads", P3CFG__MAX_HEADS, offsetof(p3cfg_plan_model, kv_heads)},
      {"ffn_hidden", P3CFG__MAX_FFN_HIDDEN, offsetof(p3cfg_plan_model, ffn_hidden)},
      {"vocab", P3CFG__MAX_VOCAB, offsetof(p3cfg_plan_model, vocab)},
      {"seq_len", P3CFG__MAX_SEQ_LEN, offsetof(p3cfg_plan_model, seq_len)},
  };
  static const struct {
    const char *key;
    const char *const *names;
    size_t n;
    size_t offset;
  } choices[] = {
      {"activation", p3cfg__activation_names, N_OF(p3cfg__activation_names),
       offsetof(p3cfg_plan_model, activation)},
      {"norm", p3cfg__norm_names, N_OF(p3cfg__norm_names), offsetof(p3cfg_plan_model, norm)},
      {"position_embedding", p3cfg__posemb_names, N_OF(p3cfg__posemb_names),
       offsetof(p3cfg_plan_model, position_embedding)},
      {"precision", p3cfg__precision_names, N_OF(p3cfg__precision_names),
       offsetof(p3cfg_plan_model, precision)},
      {"optimizer", p3cfg__optimizer_names, N_OF(p3cfg__optimizer_names),
       offsetof(p3cfg_plan_model, optimizer)},
  };
  static const struct {
    const char *key;
    size_t offset;
  } flags[] = {
      {"tied_embeddings", offsetof(p3cfg_plan_model, tied_embeddings)},
      {"bias", offsetof(p3cfg_plan_model, bias)},
      {"dropout", offsetof(p3cfg_plan_model, dropout)},
      {"flash_attention", offsetof(p3cfg_plan_model, flash_attention)},
  };
  bool ok = (m->name = p3cfg__pf_string(rd, map, prefix, "name")) != NULL;
  for (size_t i = 0; i < N_OF(counts); i++)
    ok &= p3cfg__pf_uint(rd, map, prefix, counts[i].key, 1, counts[i].hi,
                         (uint64_t *)((char *)m + counts[i].offset));
  for (size_t i = 0; i < N_OF(choices); i++) {
    int k = 0;
    const bool got =
        p3cfg__pf_enum(rd, map, prefix, choices[i].key, choices[i].names, choices[i].n, &k);
    *(const char **)((char *)m + choices[i].offset) = got ? choices[i].names[k] : NULL;
    ok &= got;
  }
  for (size_t i = 0; i < N_OF(flags); i++)
    ok &= p3cfg__pf_bool(rd, map, prefix, flags[i].key, (int *)((char *)m + flags[i].offset));
  return ok;
}

/* ---- cluster ------------------------------------------------------------------------ */

static int cmp_named(const void *a, const void *b)
{
  const p3cfg__pf_named *x = a, *y = b;
  const int c = strcmp(x->name, y->name);
  return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The node index of name[0..len), or UINT32_MAX. */
uint32_t p3cfg__pf_find_node(const p3cfg__pf_name_index *ix, const char *name, size_t len)
{
  size_t lo = 0, hi = ix->n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const char *s = ix->sorted[mid].name;
    int c = strncmp(s, name, len);
    if (c == 0 && s[len] != '\0')
      c = 1;
    if (c == 0)
      return ix->sorted[mid].index;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return UINT32_MAX;
}

bool p3cfg__pf_read_cluster(p3cfg__pf_reader *rd, p3cfg_plan_cluster *cl, p3cfg__pf_name_index *ix,
                            const yaml_node_t *map, const char *prefix)
{
  bool ok = (cl->name = p3cfg__pf_string(rd, map, prefix, "name")) != NULL;
  ok &= (cl->gpu = p3cfg__pf_string(rd, map, prefix, "gpu")) != NULL;
  ok &= p3cfg__pf_u32(rd, map, prefix, "nodes", 1, P3CFG__MAX_CLUSTER_NODES, &cl->nodes);
  ok &= p3cfg__pf_u32(rd, map, prefix, "gpus_per_node", 1, P3CFG__MAX_GPUS_PER_NODE,
                      &cl->gpus_per_node);
  char label[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *seq = p3cfg__pf_need(rd, map, prefix, "node_names");
  p3cfg__pf_label(label, prefix, "node_names");
  if (!ok || !seq || !p3cfg__pf_is_kind(rd, seq, label, YAML_SEQUENCE_NODE))
    return false;
  const size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
  if (n != cl->nodes) {
    p3cfg__problem(&rd->c, seq, "%s has %zu names, expected nodes = %u", label, n, cl->nodes);
    return false;
  }
  const char **names = p3cfg__plan_file_alloc(rd->f, n * sizeof *names);
  ix->sorted = p3cfg__malloc(n * sizeof *ix->sorted);
  if (!names || !ix->sorted) {
    rd->nomem = 1;
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    char item[P3CFG__PF_LABEL_CAP + 24];
    snprintf(item, sizeof item, "%s[%zu]", label, i);
    names[i] =
        p3cfg__pf_copy_string(rd, p3cfg__node(&rd->c, seq->data.sequence.items.start[i]), item);
    ok &= names[i] != NULL;
    ix->sorted[i] = (p3cfg__pf_named){names[i], (uint32_t)i};
  }
  if (!ok)
    return false;
  cl->node_names = names;
  ix->n = (uint32_t)n;
  qsort(ix->sorted, n, sizeof *ix->sorted, cmp_named);
  for (size_t i = 1; i < n; i++)
    if (strcmp(ix->sorted[i - 1].name, ix->sorted[i].name) == 0) {
      const uint32_t later = ix->sorted[i].index;
      p3cfg__problem(&rd->c, p3cfg__node(&rd->c, seq->data.sequence.items.start[later]),
                     "%s[%u] repeats the node name '%s'", label, later, names[later]);
      ok = false;
    }
  return ok;
}
