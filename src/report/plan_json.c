/*
 * plan_json.c — the plan object of spec §6 (config, memory, time, placement) built with
 * cJSON, and p3cfg_result_plan_json, which prints one of them.
 *
 * Stable keys are the spec's; extensions are config.stage_layers and config.overlap,
 * memory.reserved_bytes and memory.total_bytes, and per stage layers, params,
 * reserved_bytes and in_flight; time.optimizer_s; the 80 % prediction intervals
 * time.iteration_s_range, memory.peak_bytes_range and each stage's peak_bytes_range, as
 * [low, high] beside their point; and the "model" (shape, spec §2 names)
 * and "cluster" (name, nodes, gpus_per_node, gpu, node_names) objects that `p3cfg
 * export` reads back (parse/plan_file.c). `time` appears only when the result has a time
 * part and `placement` only when it is placed.
 *
 * Numbers are deterministic: integers are written from their uint64_t value as raw text
 * (cJSON keeps numbers as doubles, which would round byte counts above 2^53), reals with
 * "%.9g" (always the same text for the same double, locale "C" assumed as the library
 * never calls setlocale). cJSON allocates with the C library's malloc; the finished text
 * is copied into a buffer from the library's allocator.
 */
#include "knobs.h"
#include "mesh.h"
#include "plan_dims.h"
#include "recompute_modules.h"
#include "plan_json.h"
#include "plan_text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "plan_record.h"
#include "text_buffer.h"

cJSON *p3cfg__json_add_u64(cJSON *object, const char *key, uint64_t value)
{
  char text[24];
  snprintf(text, sizeof text, "%llu", (unsigned long long)value);
  return cJSON_AddRawToObject(object, key, text);
}

cJSON *p3cfg__json_add_real(cJSON *object, const char *key, double value)
{
  char text[40];
  if (!isfinite(value))
    return cJSON_AddNullToObject(object, key);
  snprintf(text, sizeof text, "%.9g", value);
  return cJSON_AddRawToObject(object, key, text);
}

static cJSON *add_u64_item(cJSON *array, uint64_t value)
{
  char text[24];
  snprintf(text, sizeof text, "%llu", (unsigned long long)value);
  cJSON *item = cJSON_CreateRaw(text);
  if (item && !cJSON_AddItemToArray(array, item)) {
    cJSON_Delete(item);
    return NULL;
  }
  return item;
}

static cJSON *add_real_item(cJSON *array, double value)
{
  char text[40];
  cJSON *item = NULL;
  if (isfinite(value)) {
    snprintf(text, sizeof text, "%.9g", value);
    item = cJSON_CreateRaw(text);
  } else {
    item = cJSON_CreateNull();
  }
  if (item && !cJSON_AddItemToArray(array, item)) {
    cJSON_Delete(item);
    return NULL;
  }
  return item;
}

/* `key`: [low, high], an 80 % prediction interval (uncertainty.h). */
static cJSON *add_u64_range(cJSON *object, const char *key, uint64_t low, uint64_t high)
{
  cJSON *a = cJSON_AddArrayToObject(object, key);
  return a && add_u64_item(a, low) && add_u64_item(a, high) ? a : NULL;
}

static cJSON *add_real_range(cJSON *object, const char *key, double low, double high)
{
  cJSON *a = cJSON_AddArrayToObject(object, key);
  return a && add_real_item(a, low) && add_real_item(a, high) ? a : NULL;
}

static cJSON *add_string_item(cJSON *array, const char *text)
{
  cJSON *item = cJSON_CreateString(text);
  if (item && !cJSON_AddItemToArray(array, item)) {
    cJSON_Delete(item);
    return NULL;
  }
  return item;
}

/* key: the words whose bit (word k is 1 << k) is set in bits, as a JSON array. */
static int add_word_array(cJSON *c, const char *key, uint32_t bits, const char *const *words,
                          uint32_t n_words)
{
  cJSON *a = cJSON_AddArrayToObject(c, key);
  if (!a)
    return 0;
  for (uint32_t k = 0; k < n_words; k++)
    if ((bits & (1u << k)) && !add_string_item(a, words[k]))
      return 0;
  return 1;
}

static int config_json(cJSON *root, const p3cfg_plan *p)
{
  cJSON *c = cJSON_AddObjectToObject(root, "config");
  if (!c || !p3cfg__json_add_u64(c, "dp", p->dp) || !p3cfg__json_add_u64(c, "tp", p->tp) ||
      !p3cfg__json_add_u64(c, "pp", p->pp) || !p3cfg__json_add_u64(c, "cp", p3cfg__plan_cp(p)) ||
      !p3cfg__json_add_u64(c, "ep", p3cfg__plan_ep(p)) ||
      !p3cfg__json_add_u64(c, "etp", p3cfg__plan_etp(p)) ||
      !p3cfg__json_add_u64(c, "edp", p3cfg__plan_edp(p)) ||
      !p3cfg__json_add_u64(c, "micro_batch", p->micro_batch) ||
      !p3cfg__json_add_u64(c, "global_batch", p->global_batch) ||
      !p3cfg__json_add_u64(c, "virtual_stages", p->virtual_stages) ||
      !cJSON_AddStringToObject(c, "recompute", p3cfg_recompute_name(p->recompute)) ||
      !cJSON_AddBoolToObject(c, "sequence_parallel", p->sequence_parallel != 0) ||
      !p3cfg__json_add_u64(c, "zero_stage", p->zero_stage) ||
      !cJSON_AddStringToObject(c, "framework", p3cfg_framework_name((p3cfg_framework)p->framework)) ||
      !p3cfg__json_add_u64(c, "dp_shard", p3cfg__plan_dp_shard(p)) ||
      !p3cfg__json_add_u64(c, "dp_replicate", p3cfg__plan_dp_replicate(p)) ||
      !cJSON_AddBoolToObject(c, "compile", p->compile != 0))
    return -1;
  cJSON *layers = cJSON_AddArrayToObject(c, "stage_layers");
  if (!layers)
    return -1;
  for (uint32_t i = 0; i < p->n_stage_layers && i < P3CFG_MAX_PP; i++)
    if (!add_u64_item(layers, p->stage_layers[i]))
      return -1;
  if (!add_word_array(c, "overlap", p->overlap, p3cfg__overlap_words, P3CFG__OVERLAP_WORDS))
    return -1;
  /* Megatron-LM's selective-recompute modules, always: those recomputed (the default
   * ["core_attn"] under selective; [] under none and full). */
  if (!add_word_array(c, "recompute_modules", p3cfg__plan_recompute_modules(p),
                      p3cfg__recompute_module_words, P3CFG__RECOMPUTE_MODULE_WORDS))
    return -1;
  /* Activation offloading, always (0: off). */
  if (!p3cfg__json_add_u64(c, "cpu_offload_layers", p->cpu_offload_layers))
    return -1;
  /* What the pipeline split accounts for beside the layers, always ([]: nothing). */
  if (!add_word_array(c, "split_accounts", p->split_accounts, p3cfg__split_account_words,
                      P3CFG__SPLIT_ACCOUNT_WORDS))
    return -1;
  return 0;
}

static int stage_json(cJSON *stages, const p3cfg_stage_memory *s)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return -1;
  if (!cJSON_AddItemToArray(stages, o)) {
    cJSON_Delete(o);
    return -1;
  }
  if (!p3cfg__json_add_u64(o, "stage", s->stage) ||
      !p3cfg__json_add_u64(o, "weights_bytes", s->weights_bytes) ||
      !p3cfg__json_add_u64(o, "gradients_bytes", s->gradients_bytes) ||
      !p3cfg__json_add_u64(o, "optimizer_bytes", s->optimizer_bytes) ||
      !p3cfg__json_add_u64(o, "activations_bytes", s->activations_bytes) ||
      !p3cfg__json_add_u64(o, "other_bytes", s->other_bytes) ||
      !p3cfg__json_add_u64(o, "peak_bytes", s->peak_bytes) ||
      !add_u64_range(o, "peak_bytes_range", s->peak_bytes_low, s->peak_bytes_high) ||
      !p3cfg__json_add_u64(o, "layers", s->layers) ||
      !p3cfg__json_add_u64(o, "params", s->params) ||
      !p3cfg__json_add_u64(o, "reserved_bytes", s->reserved_bytes) ||
      !p3cfg__json_add_u64(o, "in_flight", s->in_flight))
    return -1;
  return 0;
}

static int memory_json(cJSON *root, const p3cfg_memory *m)
{
  cJSON *o = cJSON_AddObjectToObject(root, "memory");
  if (!o || !p3cfg__json_add_u64(o, "peak_bytes", m->peak_bytes) ||
      !add_u64_range(o, "peak_bytes_range", m->peak_bytes_low, m->peak_bytes_high) ||
      !p3cfg__json_add_u64(o, "capacity_bytes", m->capacity_bytes) ||
      !cJSON_AddBoolToObject(o, "fits", m->fits != 0) ||
      !p3cfg__json_add_u64(o, "reserved_bytes", m->reserved_bytes) ||
      !p3cfg__json_add_u64(o, "total_bytes", m->total_bytes) ||
      !p3cfg__json_add_u64(o, "margin_bytes", m->margin_bytes))
    return -1;
  cJSON *stages = cJSON_AddArrayToObject(o, "stages");
  if (!stages)
    return -1;
  for (uint32_t i = 0; i < m->n_stages; i++)
    if (stage_json(stages, &m->stages[i]))
      return -1;
  return 0;
}

static int time_json(cJSON *root, const p3cfg_time *t)
{
  cJSON *o = cJSON_AddObjectToObject(root, "time");
  if (!o || !p3cfg__json_add_real(o, "iteration_s", t->iteration_s) ||
      !add_real_range(o, "iteration_s_range", t->iteration_s_low, t->iteration_s_high) ||
      !p3cfg__json_add_real(o, "tokens_per_s", t->tokens_per_s) ||
      !p3cfg__json_add_real(o, "mfu", t->mfu) ||
      !p3cfg__json_add_real(o, "gemm_ceiling_mfu", t->gemm_ceiling_mfu) ||
      !p3cfg__json_add_real(o, "compute_s", t->compute_s) ||
      !p3cfg__json_add_real(o, "tp_comm_s", t->tp_comm_s) ||
      !p3cfg__json_add_real(o, "ep_comm_s", t->ep_comm_s) ||
      !p3cfg__json_add_real(o, "cp_comm_s", t->cp_comm_s) ||
      !p3cfg__json_add_real(o, "host_s", t->host_s) ||
      !p3cfg__json_add_real(o, "offload_s", t->offload_s) ||
      !p3cfg__json_add_real(o, "pp_comm_s", t->pp_comm_s) ||
      !p3cfg__json_add_real(o, "dp_comm_s", t->dp_comm_s) ||
      !p3cfg__json_add_real(o, "bubble_s", t->bubble_s) ||
      !p3cfg__json_add_real(o, "optimizer_s", t->optimizer_s) ||
      !p3cfg__json_add_real(o, "model_flops_per_iteration", t->model_flops_per_iteration) ||
      !p3cfg__json_add_real(o, "model_tflops_per_gpu", t->model_tflops_per_gpu))
    return -1;
  return 0;
}

static const char *node_name(const p3cfg_cluster *c, uint32_t node, char *fallback, size_t n)
{
  if (c->node_names && node < c->nodes && c->node_names[node])
    return c->node_names[node];
  snprintf(fallback, n, "node%u", node);
  return fallback;
}

/* The placement as the list of spec §6, one object per rank (plans up to
 * P3CFG__PLACEMENT_LIST_MAX ranks). */
static int placement_list_json(cJSON *o, const p3cfg__result_entry *e,
                               const p3cfg_cluster *cluster)
{
  cJSON *ranks = cJSON_AddArrayToObject(o, "ranks");
  if (!ranks)
    return -1;
  /* A rank's context-parallel coordinate (dense mesh) and expert-parallel one (expert
   * mesh), where the plan has those dimensions. */
  p3cfg__mesh dense, expert;
  p3cfg__mesh_of(&dense, &e->plan);
  p3cfg__mesh_expert_of(&expert, &e->plan);
  const int has_cp = dense.size[P3CFG__MESH_CP] > 1, has_ep = expert.size[P3CFG__MESH_EP] > 1;
  for (size_t i = 0; i < e->n_ranks; i++) {
    const p3cfg_rank_place *pl = &e->placement[i];
    cJSON *r = cJSON_CreateObject();
    if (!r)
      return -1;
    if (!cJSON_AddItemToArray(ranks, r)) {
      cJSON_Delete(r);
      return -1;
    }
    char fallback[24];
    const char *node = node_name(cluster, pl->node, fallback, sizeof fallback);
    if (!p3cfg__json_add_u64(r, "rank", pl->rank) || !cJSON_AddStringToObject(r, "node", node) ||
        !p3cfg__json_add_u64(r, "gpu", pl->gpu) || !p3cfg__json_add_u64(r, "dp", pl->dp) ||
        !p3cfg__json_add_u64(r, "pp", pl->pp) || !p3cfg__json_add_u64(r, "tp", pl->tp))
      return -1;
    if (has_cp && !p3cfg__json_add_u64(r, "cp", p3cfg__mesh_coord(&dense, P3CFG__MESH_CP, pl->rank)))
      return -1;
    if (has_ep &&
        !p3cfg__json_add_u64(r, "ep", p3cfg__mesh_coord(&expert, P3CFG__MESH_EP, pl->rank)))
      return -1;
  }
  return 0;
}

/* `s` as a JSON string (quotes included), escaped as cJSON escapes. */
static void json_string(p3cfg__text *t, const char *s)
{
  p3cfg__text_printf(t, "\"");
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    switch (*c) {
    case '"': p3cfg__text_printf(t, "\\\""); break;
    case '\\': p3cfg__text_printf(t, "\\\\"); break;
    case '\b': p3cfg__text_printf(t, "\\b"); break;
    case '\f': p3cfg__text_printf(t, "\\f"); break;
    case '\n': p3cfg__text_printf(t, "\\n"); break;
    case '\r': p3cfg__text_printf(t, "\\r"); break;
    case '\t': p3cfg__text_printf(t, "\\t"); break;
    default:
      if (*c < 0x20)
        p3cfg__text_printf(t, "\\u%04x", (unsigned)*c);
      else
        p3cfg__text_printf(t, "%c", (char)*c);
    }
  }
  p3cfg__text_printf(t, "\"");
}

/* The placement as runs (larger plans): {"encoding": "runs", "runs": [[first_rank,
 * count, node, gpu], ...]}, where a run is `count` consecutive ranks on consecutive GPUs
 * of the cluster's GPU order (node_names order, then GPU index; a run may go on into the
 * next node). The default placement is one run. The runs are written as one raw text,
 * never as a cJSON item per rank: the document's memory stays a few bytes per run. */
static int placement_runs_json(cJSON *o, const p3cfg__result_entry *e,
                               const p3cfg_cluster *cluster)
{
  if (!cJSON_AddStringToObject(o, "encoding", "runs"))
    return -1;
  const uint64_t gpn = cluster->gpus_per_node;
  p3cfg__text t;
  p3cfg__text_init(&t);
  p3cfg__text_printf(&t, "[");
  for (size_t i = 0; i < e->n_ranks;) {
    const p3cfg_rank_place *first = &e->placement[i];
    const uint64_t g0 = (uint64_t)first->node * gpn + first->gpu;
    size_t n = 1;
    while (i + n < e->n_ranks) {
      const p3cfg_rank_place *next = &e->placement[i + n];
      if (next->rank != first->rank + n || (uint64_t)next->node * gpn + next->gpu != g0 + n)
        break;
      n++;
    }
    char fallback[24];
    p3cfg__text_printf(&t, "%s[%u, %zu, ", i ? ", " : "", first->rank, n);
    json_string(&t, node_name(cluster, first->node, fallback, sizeof fallback));
    p3cfg__text_printf(&t, ", %u]", first->gpu);
    i += n;
  }
  p3cfg__text_printf(&t, "]");
  p3cfg_buffer text = {NULL, 0};
  if (p3cfg__text_finish(&t, &text) != P3CFG_OK)
    return -1;
  const int rc = cJSON_AddRawToObject(o, "runs", text.data) ? 0 : -1;
  p3cfg_buffer_dispose(&text);
  return rc;
}

static int placement_json(cJSON *root, const p3cfg__result_entry *e, const p3cfg_cluster *cluster)
{
  cJSON *o = cJSON_AddObjectToObject(root, "placement");
  if (!o)
    return -1;
  return e->n_ranks <= P3CFG__PLACEMENT_LIST_MAX ? placement_list_json(o, e, cluster)
                                                  : placement_runs_json(o, e, cluster);
}

/* "attention": {"kind": "mha" | "gqa"} (standard attention of heads and kv_heads), or
 * {"kind": "mla", and the five widths of the model file} (docs/exports.md). */
static int attention_json(cJSON *model, const p3cfg_model *m)
{
  cJSON *o = cJSON_AddObjectToObject(model, "attention");
  if (!o)
    return -1;
  if (m->attention != P3CFG_ATTN_MLA)
    return cJSON_AddStringToObject(o, "kind", m->kv_heads == m->heads ? "mha" : "gqa") ? 0 : -1;
  const p3cfg_mla *a = &m->mla;
  const int ok = cJSON_AddStringToObject(o, "kind", "mla") &&
                 p3cfg__json_add_u64(o, "q_lora_rank", a->q_lora_rank) &&
                 p3cfg__json_add_u64(o, "kv_lora_rank", a->kv_lora_rank) &&
                 p3cfg__json_add_u64(o, "qk_nope_head_dim", a->qk_nope_head_dim) &&
                 p3cfg__json_add_u64(o, "qk_rope_head_dim", a->qk_rope_head_dim) &&
                 p3cfg__json_add_u64(o, "v_head_dim", a->v_head_dim);
  return ok ? 0 : -1;
}

/* "moe" with the model file's keys, every one written (capacity_factor null when
 * dropless); absent for a dense model, as in the model file. */
static int moe_json(cJSON *model, const p3cfg_moe *e)
{
  if (e->experts == 0)
    return 0;
  cJSON *o = cJSON_AddObjectToObject(model, "moe");
  const int ok =
      o && p3cfg__json_add_u64(o, "experts", e->experts) &&
      p3cfg__json_add_u64(o, "top_k", e->top_k) &&
      p3cfg__json_add_u64(o, "expert_ffn_hidden", e->expert_ffn_hidden) &&
      p3cfg__json_add_u64(o, "shared_experts", e->shared_experts) &&
      p3cfg__json_add_u64(o, "shared_expert_ffn_hidden", e->shared_expert_ffn_hidden) &&
      p3cfg__json_add_u64(o, "dense_layers", e->dense_layers) &&
      (e->capacity_factor > 0 ? p3cfg__json_add_real(o, "capacity_factor", e->capacity_factor)
                              : cJSON_AddNullToObject(o, "capacity_factor"));
  if (ok && e->activation_clamp > 0 && !p3cfg__json_add_real(o, "activation_clamp", e->activation_clamp))
    return -1;
  /* Written when not the default all-to-all one, so that older plan files read the same. */
  if (ok && e->dispatcher != P3CFG_DISPATCH_ALLTOALL &&
      !cJSON_AddStringToObject(o, "dispatcher", p3cfg__moe_dispatcher_names[e->dispatcher]))
    return -1;
  return ok ? 0 : -1;
}

/* The model facts a launcher needs to be told (for `p3cfg export`). */
static int model_json(cJSON *root, const p3cfg_model *m)
{
  cJSON *o = cJSON_AddObjectToObject(root, "model");
  if (!o || !cJSON_AddStringToObject(o, "name", m->name) ||
      !p3cfg__json_add_u64(o, "layers", m->layers) ||
      !p3cfg__json_add_u64(o, "hidden", m->hidden) || !p3cfg__json_add_u64(o, "heads", m->heads) ||
      !p3cfg__json_add_u64(o, "kv_heads", m->kv_heads) ||
      !p3cfg__json_add_u64(o, "ffn_hidden", m->ffn_hidden) ||
      !p3cfg__json_add_u64(o, "vocab", m->vocab) ||
      !p3cfg__json_add_u64(o, "seq_len", m->seq_len) ||
      !cJSON_AddStringToObject(o, "activation", p3cfg__activation_names[m->activation]) ||
      !cJSON_AddStringToObject(o, "norm", p3cfg__norm_names[m->norm]) ||
      !cJSON_AddStringToObject(o, "position_embedding",
                               p3cfg__posemb_names[m->position_embedding]) ||
      !cJSON_AddBoolToObject(o, "tied_embeddings", m->tied_embeddings) ||
      !cJSON_AddBoolToObject(o, "bias", m->bias) ||
      !cJSON_AddBoolToObject(o, "dropout", m->dropout) ||
      !cJSON_AddBoolToObject(o, "flash_attention", m->flash_attention) ||
      !cJSON_AddStringToObject(o, "precision", p3cfg__precision_names[m->precision]) ||
      !cJSON_AddStringToObject(o, "grad_reduce", p3cfg__grad_reduce_names[m->grad_reduce]) ||
      !cJSON_AddStringToObject(o, "cross_entropy",
                               p3cfg__cross_entropy_names[m->cross_entropy]) ||
      !cJSON_AddStringToObject(o, "optimizer", p3cfg__optimizer_names[m->optimizer]) ||
      !p3cfg__json_add_u64(o, "head_dim", p3cfg__head_dim(m)) || attention_json(o, m) ||
      moe_json(o, &m->moe) || !p3cfg__json_add_u64(o, "mtp_layers", m->mtp_layers))
    return -1;
  /* Issue 15: written only when the model file gives them. */
  if (m->rope_theta > 0 && !p3cfg__json_add_real(o, "rope_theta", m->rope_theta))
    return -1;
  if (m->norm_eps > 0 && !p3cfg__json_add_real(o, "norm_eps", m->norm_eps))
    return -1;
  /* Written only when set, so that every other plan keeps its bytes. */
  if (m->deterministic && !cJSON_AddBoolToObject(o, "deterministic", 1))
    return -1;
  /* Likewise the low-precision recipe when not the default (delayed scaling, 16-bit model
   * weights): the export needs them (--fp8-recipe tensorwise, --fp8-param-gather). */
  if (m->precision == P3CFG_PREC_FP8 && m->fp8_recipe != P3CFG_FP8_DELAYED &&
      !cJSON_AddStringToObject(o, "fp8_recipe", p3cfg__fp8_recipe_names[m->fp8_recipe]))
    return -1;
  if (m->fp8_param_gather && !cJSON_AddBoolToObject(o, "fp8_param_gather", 1))
    return -1;
  return 0;
}

/* The cluster file's `host` (issue 15), only where it gives each key, so that plans on
 * clusters without one keep their bytes. */
static int host_json(cJSON *o, const p3cfg_cluster *c)
{
  if (c->gpu_sockets) {
    cJSON *s = cJSON_AddArrayToObject(o, "gpu_sockets");
    if (!s)
      return -1;
    for (uint32_t g = 0; g < c->gpus_per_node; g++) {
      cJSON *n = cJSON_CreateNumber(c->gpu_sockets[g]);
      if (!n || !cJSON_AddItemToArray(s, n)) {
        cJSON_Delete(n);
        return -1;
      }
    }
  }
  if ((c->nccl_socket_ifname &&
       !cJSON_AddStringToObject(o, "nccl_socket_ifname", c->nccl_socket_ifname)) ||
      (c->nccl_ib_hca && !cJSON_AddStringToObject(o, "nccl_ib_hca", c->nccl_ib_hca)))
    return -1;
  return 0;
}

/* The cluster facts a launcher needs: node names in index order (the placement's "node"
 * values are among them) and the GPUs per node. */
static int cluster_json(cJSON *root, const p3cfg_cluster *c)
{
  cJSON *o = cJSON_AddObjectToObject(root, "cluster");
  if (!o || !cJSON_AddStringToObject(o, "name", c->name) ||
      !p3cfg__json_add_u64(o, "nodes", c->nodes) ||
      !p3cfg__json_add_u64(o, "gpus_per_node", c->gpus_per_node) ||
      !cJSON_AddStringToObject(o, "gpu", c->gpu.name))
    return -1;
  cJSON *names = cJSON_AddArrayToObject(o, "node_names");
  if (!names)
    return -1;
  for (uint32_t k = 0; k < c->nodes; k++) {
    char fallback[24];
    if (!add_string_item(names, node_name(c, k, fallback, sizeof fallback)))
      return -1;
  }
  return host_json(o, c);
}

/* How the plan uses the cluster's GPUs: only when some are excluded (so that plans on a
 * whole cluster keep their bytes). */
static int gpus_json(cJSON *root, const p3cfg_result *r, size_t i)
{
  p3cfg_gpu_use use;
  if (!r->excluded_gpus || p3cfg_result_gpu_use(&use, r, i) != P3CFG_OK)
    return 0;
  cJSON *o = cJSON_AddObjectToObject(root, "gpus");
  return !o || !cJSON_AddNumberToObject(o, "total", (double)use.total) ||
                 !cJSON_AddNumberToObject(o, "excluded", (double)use.excluded) ||
                 !cJSON_AddNumberToObject(o, "used", (double)use.used) ||
                 !cJSON_AddNumberToObject(o, "idle", (double)use.idle)
             ? -1
             : 0;
}

/* What a re-plan changed (p3cfg_replan results only). */
static int replan_json(cJSON *root, const p3cfg_result *r)
{
  if (!r->has_replan)
    return 0;
  const p3cfg_replan_info *x = &r->replan;
  cJSON *o = cJSON_AddObjectToObject(root, "replan");
  return !o || !cJSON_AddBoolToObject(o, "kept_degrees", x->kept_degrees) ||
                 !cJSON_AddNumberToObject(o, "old_dp", (double)x->old_dp) ||
                 !cJSON_AddNumberToObject(o, "ranks", (double)x->ranks) ||
                 !cJSON_AddNumberToObject(o, "ranks_moved", (double)x->ranks_moved) ||
                 !cJSON_AddNumberToObject(o, "excluded_gpus", (double)x->excluded_gpus) ||
                 !cJSON_AddNumberToObject(o, "idle_gpus", (double)x->idle_gpus) ||
                 !cJSON_AddNumberToObject(o, "iteration_s_before", x->before_s) ||
                 !cJSON_AddNumberToObject(o, "iteration_s_after", x->after_s)
             ? -1
             : 0;
}

/* "budget": the training run of `tokens` tokens at this plan's tokens/s (days and
 * GPU-hours null when the plan is not timed or does not fit). */
static int budget_json(cJSON *root, const p3cfg__result_entry *e, uint64_t tokens)
{
  p3cfg__budget b;
  const int ok = p3cfg__budget_of(&b, e, tokens);
  cJSON *o = cJSON_AddObjectToObject(root, "budget");
  if (!o || !p3cfg__json_add_u64(o, "tokens", tokens) ||
      !p3cfg__json_add_real(o, "days", ok ? b.days : NAN) ||
      !p3cfg__json_add_real(o, "gpu_hours", ok ? b.gpu_hours : NAN))
    return -1;
  return 0;
}

cJSON *p3cfg__plan_json(const p3cfg_result *r, size_t i, const p3cfg_model *model,
                        const p3cfg_cluster *cluster)
{
  const p3cfg__result_entry *e = &r->entries[i];
  cJSON *root = cJSON_CreateObject();
  if (!root || config_json(root, &e->plan) || memory_json(root, &e->memory) ||
      (e->has_time && time_json(root, &e->time)) ||
      (r->train_tokens && budget_json(root, e, r->train_tokens)) ||
      (e->placement && placement_json(root, e, cluster)) || model_json(root, model) ||
      cluster_json(root, cluster) || gpus_json(root, r, i) || replan_json(root, r)) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

int p3cfg__json_to_buffer(p3cfg_buffer *out, const cJSON *root)
{
  out->data = NULL;
  out->len = 0;
  char *text = cJSON_Print(root);
  if (!text)
    return p3cfg__error_nomem();
  const size_t len = strlen(text);
  char *data = p3cfg__malloc(len + 2);
  if (!data) {
    cJSON_free(text);
    return p3cfg__error_nomem();
  }
  memcpy(data, text, len);
  data[len] = '\n';
  data[len + 1] = '\0';
  cJSON_free(text);
  out->data = data;
  out->len = len + 1;
  return P3CFG_OK;
}

P3CFG_API int p3cfg_result_plan_json(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                     const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_plan_json: NULL out");
  out->data = NULL;
  out->len = 0;
  if (!r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_plan_json: NULL argument");
  if (i >= r->count)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_result_plan_json: plan %zu of %zu", i, r->count);
  cJSON *root = p3cfg__plan_json(r, i, model, cluster);
  if (!root)
    return p3cfg__error_nomem();
  /* A document of its own: the schema version first (a plan inside a search result has
   * the result's). */
  cJSON *version = p3cfg__json_add_u64(root, "schema_version", P3CFG_JSON_SCHEMA_VERSION);
  if (!version) {
    cJSON_Delete(root);
    return p3cfg__error_nomem();
  }
  cJSON_DetachItemViaPointer(root, version);
  if (!cJSON_InsertItemInArray(root, 0, version)) {
    cJSON_Delete(version);
    cJSON_Delete(root);
    return p3cfg__error_nomem();
  }
  int rc = p3cfg__json_to_buffer(out, root);
  cJSON_Delete(root);
  return rc;
}
