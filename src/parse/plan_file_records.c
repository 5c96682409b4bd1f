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

/* An optional count: `def` when the key is absent. */
static bool opt_uint(p3cfg__pf_reader *rd, const yaml_node_t *map, const char *prefix,
                     const char *key, uint64_t lo, uint64_t hi, uint64_t def, uint64_t *out)
{
  *out = def;
  return !p3cfg__pf_lookup(rd, map, key) || p3cfg__pf_uint(rd, map, prefix, key, lo, hi, out);
}

/* "moe" (absent or null: dense), with the model file's keys and defaults. */
static bool read_moe(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *model,
                     const char *prefix)
{
  m->moe_dispatcher = p3cfg__moe_dispatcher_names[P3CFG_DISPATCH_ALLTOALL];
  const yaml_node_t *o = p3cfg__pf_lookup(rd, model, "moe");
  if (!o || p3cfg__is_null(o))
    return true;
  char label[P3CFG__PF_LABEL_CAP];
  p3cfg__pf_label(label, prefix, "moe");
  if (!p3cfg__pf_is_kind(rd, o, label, YAML_MAPPING_NODE))
    return false;
  const uint64_t max_dense = m->layers ? m->layers - 1 : P3CFG__MAX_LAYERS;
  bool ok = p3cfg__pf_uint(rd, o, label, "experts", 1, P3CFG__MAX_EXPERTS, &m->moe_experts);
  ok &= p3cfg__pf_uint(rd, o, label, "top_k", 1, P3CFG__MAX_EXPERTS, &m->moe_top_k);
  ok &= opt_uint(rd, o, label, "expert_ffn_hidden", 1, P3CFG__MAX_FFN_HIDDEN, m->ffn_hidden,
                 &m->moe_expert_ffn_hidden);
  ok &= opt_uint(rd, o, label, "shared_experts", 0, P3CFG__MAX_EXPERTS, 0, &m->moe_shared_experts);
  ok &= opt_uint(rd, o, label, "shared_expert_ffn_hidden", 1, P3CFG__MAX_FFN_HIDDEN,
                 m->moe_expert_ffn_hidden, &m->moe_shared_expert_ffn_hidden);
  ok &= opt_uint(rd, o, label, "dense_layers", 0, max_dense, 0, &m->moe_dense_layers);
  if (ok && m->moe_top_k > m->moe_experts) {
    p3cfg__problem(&rd->c, p3cfg__pf_lookup(rd, o, "top_k"),
                   "%s.top_k %llu is more than %s.experts %llu", label,
                   (unsigned long long)m->moe_top_k, label, (unsigned long long)m->moe_experts);
    ok = false;
  }
  const yaml_node_t *cf = p3cfg__pf_lookup(rd, o, "capacity_factor");
  if (cf && !p3cfg__is_null(cf)) {
    static const p3cfg__range capacity = {0.0, true, 1000.0, "a positive number or null", false};
    char item[P3CFG__PF_LABEL_CAP];
    ok &= p3cfg__read_number(&rd->c, cf, p3cfg__pf_label(item, label, "capacity_factor"), &capacity,
                             &m->moe_capacity_factor) == 0;
  }
  const yaml_node_t *clamp = p3cfg__pf_lookup(rd, o, "activation_clamp");
  if (clamp && !p3cfg__is_null(clamp)) {
    static const p3cfg__range limit = {0.0, true, 1e6, "a positive number or null", false};
    char item[P3CFG__PF_LABEL_CAP];
    ok &= p3cfg__read_number(&rd->c, clamp, p3cfg__pf_label(item, label, "activation_clamp"),
                             &limit, &m->moe_activation_clamp) == 0;
  }
  int k = P3CFG_DISPATCH_ALLTOALL;
  if (p3cfg__pf_lookup(rd, o, "dispatcher"))
    ok &= p3cfg__pf_enum(rd, o, label, "dispatcher", p3cfg__moe_dispatcher_names,
                         P3CFG_DISPATCH_COUNT, &k);
  m->moe_dispatcher = p3cfg__moe_dispatcher_names[k];
  return ok;
}

/* "attention" (absent: "mha" or "gqa" from heads and kv_heads): its kind and, for "mla",
 * the five widths (q_lora_rank and qk_rope_head_dim may be 0, as in the model file). */
static bool read_attention(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *model,
                           const char *prefix)
{
  static const char *const kinds[] = {"mha", "gqa", "mla"};
  m->attention = m->kv_heads == m->heads ? kinds[0] : kinds[1];
  const yaml_node_t *o = p3cfg__pf_lookup(rd, model, "attention");
  if (!o)
    return true;
  char label[P3CFG__PF_LABEL_CAP];
  p3cfg__pf_label(label, prefix, "attention");
  int k = 0;
  if (!p3cfg__pf_is_kind(rd, o, label, YAML_MAPPING_NODE) ||
      !p3cfg__pf_enum(rd, o, label, "kind", kinds, N_OF(kinds), &k))
    return false;
  m->attention = kinds[k];
  if (k == 0 && m->kv_heads != m->heads) {
    p3cfg__problem(&rd->c, p3cfg__pf_lookup(rd, o, "kind"),
                   "%s.kind mha has as many key/value heads as heads (%llu), but kv_heads is "
                   "%llu",
                   label, (unsigned long long)m->heads, (unsigned long long)m->kv_heads);
    return false;
  }
  if (k != 2)
    return true;
  bool ok = opt_uint(rd, o, label, "q_lora_rank", 0, P3CFG__MAX_HIDDEN, 0, &m->mla_q_lora_rank);
  ok &= p3cfg__pf_uint(rd, o, label, "kv_lora_rank", 1, P3CFG__MAX_HIDDEN, &m->mla_kv_lora_rank);
  ok &= p3cfg__pf_uint(rd, o, label, "qk_nope_head_dim", 1, P3CFG__MAX_HIDDEN,
                       &m->mla_qk_nope_head_dim);
  ok &= p3cfg__pf_uint(rd, o, label, "qk_rope_head_dim", 0, P3CFG__MAX_HIDDEN,
                       &m->mla_qk_rope_head_dim);
  ok &= p3cfg__pf_uint(rd, o, label, "v_head_dim", 1, P3CFG__MAX_HIDDEN, &m->mla_v_head_dim);
  return ok;
}

/* The keys of issue 16, all optional (plan files written before them are dense models
 * with standard attention): head_dim, moe, attention, mtp_layers. */
static bool read_shape(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                       const char *prefix)
{
  bool ok = opt_uint(rd, map, prefix, "head_dim", 1, P3CFG__MAX_HIDDEN,
                     m->heads ? m->hidden / m->heads : 0, &m->head_dim);
  ok &= read_moe(rd, m, map, prefix);
  ok &= read_attention(rd, m, map, prefix);
  ok &= opt_uint(rd, map, prefix, "mtp_layers", 0, P3CFG__MAX_MTP_LAYERS, 0, &m->mtp_layers);
  /* Issue 15: optional launch-only facts (0 when absent). */
  static const p3cfg__range theta_range = {0.0, true, 1e12, NULL, false};
  static const p3cfg__range eps_range = {0.0, true, 1.0, "a number in (0, 1)", false};
  char item[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *theta = p3cfg__pf_lookup(rd, map, "rope_theta");
  if (theta)
    ok &= p3cfg__read_number(&rd->c, theta, p3cfg__pf_label(item, prefix, "rope_theta"),
                             &theta_range, &m->rope_theta) == 0;
  const yaml_node_t *eps = p3cfg__pf_lookup(rd, map, "norm_eps");
  if (eps)
    ok &= p3cfg__read_number(&rd->c, eps, p3cfg__pf_label(item, prefix, "norm_eps"), &eps_range,
                             &m->norm_eps) == 0;
  return ok;
}

/* The gradient buffer's dtype (grad_reduce.h): "fp32" when absent (plan files written
 * before the key); "bf16" only with a bf16-family precision, as in the model file. Runs
 * after the precision is read (NULL when that was bad). */
static bool read_grad_reduce(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                             const char *prefix)
{
  m->grad_reduce = p3cfg__grad_reduce_names[P3CFG_GRAD_REDUCE_FP32];
  const yaml_node_t *v = p3cfg__pf_lookup(rd, map, "grad_reduce");
  int k = 0;
  if (!v)
    return true;
  if (!p3cfg__pf_enum(rd, map, prefix, "grad_reduce", p3cfg__grad_reduce_names,
                      N_OF(p3cfg__grad_reduce_names), &k))
    return false;
  m->grad_reduce = p3cfg__grad_reduce_names[k];
  if (k == P3CFG_GRAD_REDUCE_BF16 && m->precision &&
      (!strcmp(m->precision, "fp16") || !strcmp(m->precision, "fp32"))) {
    char item[P3CFG__PF_LABEL_CAP];
    p3cfg__problem(&rd->c, v,
                   "%s bf16 needs precision bf16, fp8, mxfp8 or nvfp4, but precision is %s",
                   p3cfg__pf_label(item, prefix, "grad_reduce"), m->precision);
    return false;
  }
  return true;
}

/* The loss kernel (cross_entropy_cost.h): "unfused" when absent (plan files written before
 * the key); "native" only with a bf16-family precision, as in the model file. */
static bool read_cross_entropy(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                               const char *prefix)
{
  m->cross_entropy = p3cfg__cross_entropy_names[P3CFG_CE_UNFUSED];
  const yaml_node_t *v = p3cfg__pf_lookup(rd, map, "cross_entropy");
  int k = 0;
  if (!v)
    return true;
  if (!p3cfg__pf_enum(rd, map, prefix, "cross_entropy", p3cfg__cross_entropy_names,
                      N_OF(p3cfg__cross_entropy_names), &k))
    return false;
  m->cross_entropy = p3cfg__cross_entropy_names[k];
  if (k == P3CFG_CE_NATIVE && m->precision &&
      (!strcmp(m->precision, "fp16") || !strcmp(m->precision, "fp32"))) {
    char item[P3CFG__PF_LABEL_CAP];
    p3cfg__problem(&rd->c, v,
                   "%s native needs precision bf16, fp8, mxfp8 or nvfp4, but precision is %s",
                   p3cfg__pf_label(item, prefix, "cross_entropy"), m->precision);
    return false;
  }
  return true;
}

/* The low-precision recipe (docs/formats.md "Precision"): fp8_recipe "delayed" when absent
 * and only with precision fp8 (NULL otherwise); fp8_param_gather false when absent and only
 * with a low precision, as in the model file. Runs after the precision is read. */
static bool read_low_precision(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                               const char *prefix)
{
  const int fp8 = m->precision && !strcmp(m->precision, "fp8");
  const int low =
      fp8 || (m->precision && (!strcmp(m->precision, "mxfp8") || !strcmp(m->precision, "nvfp4")));
  m->fp8_recipe = fp8 ? p3cfg__fp8_recipe_names[P3CFG_FP8_DELAYED] : NULL;
  m->fp8_param_gather = 0;
  bool ok = true;
  char item[P3CFG__PF_LABEL_CAP];
  const yaml_node_t *v = p3cfg__pf_lookup(rd, map, "fp8_recipe");
  int k = 0;
  if (v && p3cfg__pf_enum(rd, map, prefix, "fp8_recipe", p3cfg__fp8_recipe_names,
                          N_OF(p3cfg__fp8_recipe_names), &k)) {
    if (m->precision && !fp8) {
      p3cfg__problem(&rd->c, v, "%s is for precision fp8, but precision is %s",
                     p3cfg__pf_label(item, prefix, "fp8_recipe"), m->precision);
      ok = false;
    } else {
      m->fp8_recipe = p3cfg__fp8_recipe_names[k];
    }
  } else if (v) {
    ok = false;
  }
  v = p3cfg__pf_lookup(rd, map, "fp8_param_gather");
  if (v) {
    if (!p3cfg__pf_bool(rd, map, prefix, "fp8_param_gather", &m->fp8_param_gather))
      return false;
    if (m->fp8_param_gather && m->precision && !low) {
      p3cfg__problem(&rd->c, v, "%s needs precision fp8, mxfp8 or nvfp4, but precision is %s",
                     p3cfg__pf_label(item, prefix, "fp8_param_gather"), m->precision);
      return false;
    }
  }
  return ok;
}

/* The model file's deterministic: false when absent (plan files written before the key,
 * and the plans of every model without it); unfused loss only, as in the model file. */
static bool read_deterministic(p3cfg__pf_reader *rd, p3cfg_plan_model *m, const yaml_node_t *map,
                               const char *prefix)
{
  m->deterministic = 0;
  const yaml_node_t *v = p3cfg__pf_lookup(rd, map, "deterministic");
  if (!v)
    return true;
  if (!p3cfg__pf_bool(rd, map, prefix, "deterministic", &m->deterministic))
    return false;
  if (m->deterministic && m->cross_entropy && strcmp(m->cross_entropy, "unfused") != 0) {
    char item[P3CFG__PF_LABEL_CAP];
    p3cfg__problem(&rd->c, v,
                   "%s needs cross_entropy unfused (Megatron-LM's "
                   "--deterministic-mode), but cross_entropy is %s",
                   p3cfg__pf_label(item, prefix, "deterministic"), m->cross_entropy);
    return false;
  }
  return true;
}

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
  ok &= read_grad_reduce(rd, m, map, prefix);
  ok &= read_cross_entropy(rd, m, map, prefix);
  ok &= read_low_precision(rd, m, map, prefix);
  ok &= read_deterministic(rd, m, map, prefix);
  return read_shape(rd, m, map, prefix) && ok;
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

/* The optional host keys of the cluster record (issue 15; absent in plans of clusters
 * without a `host`, and in files written before it). */
static bool read_host(p3cfg__pf_reader *rd, p3cfg_plan_cluster *cl, const yaml_node_t *map,
                      const char *prefix)
{
  char label[P3CFG__PF_LABEL_CAP];
  bool ok = true;
  const yaml_node_t *seq = p3cfg__pf_lookup(rd, map, "gpu_sockets");
  p3cfg__pf_label(label, prefix, "gpu_sockets");
  if (seq && p3cfg__pf_is_kind(rd, seq, label, YAML_SEQUENCE_NODE)) {
    const size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    uint32_t *sockets = p3cfg__plan_file_alloc(rd->f, (n ? n : 1) * sizeof *sockets);
    if (!sockets) {
      rd->nomem = 1;
      return false;
    }
    if (n != cl->gpus_per_node) {
      p3cfg__problem(&rd->c, seq, "%s has %zu entries, expected gpus_per_node = %u", label, n,
                     cl->gpus_per_node);
      ok = false;
    }
    for (size_t i = 0; ok && i < n; i++) {
      char item[P3CFG__PF_LABEL_CAP + 24];
      uint64_t v;
      snprintf(item, sizeof item, "%s[%zu]", label, i);
      ok = p3cfg__read_uint(&rd->c, p3cfg__node(&rd->c, seq->data.sequence.items.start[i]), item, 0,
                            P3CFG__MAX_SOCKETS - 1, &v) == 0;
      sockets[i] = (uint32_t)v;
    }
    cl->gpu_sockets = ok ? sockets : NULL;
  } else if (seq) {
    ok = false;
  }
  static const char *const nccl_keys[] = {"nccl_socket_ifname", "nccl_ib_hca"};
  const char **outs[] = {&cl->nccl_socket_ifname, &cl->nccl_ib_hca};
  for (size_t k = 0; k < 2; k++) {
    const yaml_node_t *v = p3cfg__pf_lookup(rd, map, nccl_keys[k]);
    if (!v)
      continue;
    p3cfg__pf_label(label, prefix, nccl_keys[k]);
    const char *s = p3cfg__pf_copy_string(rd, v, label);
    if (!s || !p3cfg__nccl_list_ok(&rd->c, v, label, s, strlen(s)))
      ok = false;
    else
      *outs[k] = s;
  }
  return ok;
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
  if (!ok || !read_host(rd, cl, map, prefix))
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
