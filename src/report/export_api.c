/*
 * export_api.c — the public side of `p3cfg export`: the table of formats (name and
 * writer), p3cfg_export (which hands one plan record to the writer of its target:
 * export_megatron.c, export_torchtitan.c, export_deepspeed.c, export_launch.c,
 * export_sbatch.c), and
 * p3cfg_plan_file_from_result, which turns a search or estimate result into the same
 * records the JSON reader (parse/plan_file.c) builds, so that a C caller exports without
 * a round trip through JSON.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "export.h"
#include "plan_rules.h"
#include "plan_dims.h"

/* The export formats, one row each (indexed by p3cfg_export_format): the name
 * `p3cfg export --format` takes and the writer of the target. A new format is its enum
 * value in p3cfg.h, its row here and its writer. */
typedef int (*export_writer)(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number);
static const struct {
  const char *name;
  export_writer write;
} formats[] = {
    [P3CFG_EXPORT_MEGATRON] = {"megatron", p3cfg__export_megatron},
    [P3CFG_EXPORT_TORCHTITAN] = {"torchtitan", p3cfg__export_torchtitan},
    [P3CFG_EXPORT_DEEPSPEED] = {"deepspeed", p3cfg__export_deepspeed},
    [P3CFG_EXPORT_RANKFILE] = {"rankfile", p3cfg__export_rankfile},
    [P3CFG_EXPORT_HOSTFILE] = {"hostfile", p3cfg__export_hostfile},
    [P3CFG_EXPORT_SBATCH] = {"sbatch", p3cfg__export_sbatch},
    [P3CFG_EXPORT_LAUNCH] = {"launch", p3cfg__export_launch},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

P3CFG_API const char *p3cfg_export_format_name(p3cfg_export_format fmt)
{
  return (unsigned)fmt < N_FORMATS ? formats[fmt].name : "?";
}

P3CFG_API int p3cfg_export_format_parse(p3cfg_export_format *out, const char *name)
{
  p3cfg__error_clear();
  if (!out || !name)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_export_format_parse: NULL argument");
  for (size_t i = 0; i < N_FORMATS; i++)
    if (strcmp(name, formats[i].name) == 0) {
      *out = (p3cfg_export_format)i;
      return P3CFG_OK;
    }
  char expected[256] = "";
  for (size_t i = 0, at = 0; i < N_FORMATS && at < sizeof expected; i++) {
    const int n = snprintf(expected + at, sizeof expected - at, "%s%s",
                           i == 0 ? "" : i + 1 == N_FORMATS ? " or " : ", ", formats[i].name);
    at += n > 0 ? (size_t)n : 0;
  }
  return p3cfg__error_set(P3CFG_EINVALID, "unknown export format \"%s\": expected %s", name,
                          expected);
}

void p3cfg__export_title(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan *p = &rec->plan;
  const uint32_t cp = p3cfg__plan_cp(p), ep = p3cfg__plan_ep(p);
  p3cfg__text_printf(t, "plan %zu: %s on %s, %llu GPUs (dp %u, tp %u, ", number, rec->model.name,
                     rec->cluster.name, (unsigned long long)p->dp * p->tp * cp * p->pp, p->dp,
                     p->tp);
  if (cp > 1) /* dense and cp-free plans keep the title they had */
    p3cfg__text_printf(t, "cp %u, ", cp);
  if (ep > 1)
    p3cfg__text_printf(t, "ep %u, etp %u, ", ep, p3cfg__plan_etp(p));
  p3cfg__text_printf(t, "pp %u)", p->pp);
}

uint64_t p3cfg__export_microbatches(const p3cfg_plan *p)
{
  return p->global_batch / ((uint64_t)p->micro_batch * p->dp);
}

int p3cfg__export_even_split(const p3cfg_plan *p)
{
  const uint32_t units = p->stage_layers[0] + p3cfg__split_extra(p, 0);
  for (uint32_t j = 1; j < p->pp; j++)
    if (p->stage_layers[j] + p3cfg__split_extra(p, j) != units)
      return 0;
  return 1;
}

P3CFG_API int p3cfg_export(p3cfg_buffer *out, const p3cfg_plan_file *f, size_t index,
                           p3cfg_export_format fmt)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_export: NULL out");
  out->data = NULL;
  out->len = 0;
  if (!f)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_export: NULL plan file");
  if (index >= f->count)
    return p3cfg__error_set(P3CFG_EINVALID, "plan %zu does not exist: the file has %zu plan%s",
                            index + 1, f->count, f->count == 1 ? "" : "s");
  const p3cfg__plan_record *rec = &f->records[index];
  p3cfg__text t;
  p3cfg__text_init(&t);
  const int rc =
      (unsigned)fmt < N_FORMATS
          ? formats[fmt].write(&t, rec, index + 1)
          : p3cfg__error_set(P3CFG_EINVALID, "p3cfg_export: unknown format %d", (int)fmt);
  if (rc != P3CFG_OK) {
    p3cfg__free(t.data);
    return rc;
  }
  return p3cfg__text_finish(&t, out);
}

/* ---- from a result -------------------------------------------------------------------- */

static const char *keep(p3cfg_plan_file *f, const char *s)
{
  return p3cfg__plan_file_strdup(f, s, strlen(s));
}

/* The model part of a record; returns 0 or -1 when out of memory. */
static int record_model(p3cfg_plan_file *f, p3cfg_plan_model *o, const p3cfg_model *m)
{
  const int mla = m->attention == P3CFG_ATTN_MLA;
  *o = (p3cfg_plan_model){keep(f, m->name),
                          m->layers,
                          m->hidden,
                          m->heads,
                          m->kv_heads,
                          m->ffn_hidden,
                          m->vocab,
                          m->seq_len,
                          p3cfg__activation_names[m->activation],
                          p3cfg__norm_names[m->norm],
                          p3cfg__posemb_names[m->position_embedding],
                          p3cfg__precision_names[m->precision],
                          p3cfg__optimizer_names[m->optimizer],
                          m->tied_embeddings,
                          m->bias,
                          m->dropout,
                          m->flash_attention,
                          p3cfg__head_dim(m),
                          m->moe.experts,
                          m->moe.top_k,
                          m->moe.expert_ffn_hidden,
                          m->moe.shared_experts,
                          m->moe.shared_expert_ffn_hidden,
                          m->moe.dense_layers,
                          m->moe.capacity_factor,
                          mla ? "mla" : m->kv_heads == m->heads ? "mha" : "gqa",
                          mla ? m->mla.q_lora_rank : 0,
                          mla ? m->mla.kv_lora_rank : 0,
                          mla ? m->mla.qk_nope_head_dim : 0,
                          mla ? m->mla.qk_rope_head_dim : 0,
                          mla ? m->mla.v_head_dim : 0,
                          m->mtp_layers,
                          m->rope_theta,
                          m->norm_eps,
                          p3cfg__grad_reduce_names[m->grad_reduce],
                          m->moe.activation_clamp,
                          p3cfg__cross_entropy_names[m->cross_entropy],
                          m->deterministic,
                          p3cfg__moe_dispatcher_names[m->moe.dispatcher],
                          m->precision == P3CFG_PREC_FP8 ? p3cfg__fp8_recipe_names[m->fp8_recipe]
                                                         : NULL,
                          m->fp8_param_gather};
  return o->name ? 0 : -1;
}

static int record_cluster(p3cfg_plan_file *f, p3cfg_plan_cluster *o, const p3cfg_cluster *c)
{
  const char **names = p3cfg__plan_file_alloc(f, c->nodes * sizeof *names);
  if (!names)
    return -1;
  for (uint32_t k = 0; k < c->nodes; k++) {
    char fallback[24];
    const char *name = c->node_names ? c->node_names[k] : NULL;
    if (!name) {
      snprintf(fallback, sizeof fallback, "node%u", k);
      name = fallback;
    }
    if (!(names[k] = keep(f, name)))
      return -1;
  }
  *o = (p3cfg_plan_cluster){keep(f, c->name), keep(f, c->gpu.name), c->nodes, c->gpus_per_node,
                            names, NULL, NULL, NULL};
  if (c->gpu_sockets) {
    uint32_t *sockets = p3cfg__plan_file_alloc(f, c->gpus_per_node * sizeof *sockets);
    if (!sockets)
      return -1;
    memcpy(sockets, c->gpu_sockets, c->gpus_per_node * sizeof *sockets);
    o->gpu_sockets = sockets;
  }
  if ((c->nccl_socket_ifname && !(o->nccl_socket_ifname = keep(f, c->nccl_socket_ifname))) ||
      (c->nccl_ib_hca && !(o->nccl_ib_hca = keep(f, c->nccl_ib_hca))))
    return -1;
  return o->name && o->gpu ? 0 : -1;
}

/* The keys of a model record compared by p3cfg_plan_file_check_made_for, in the plan
 * file's spelling: every one but the name. */
typedef enum { KEY_U64, KEY_REAL, KEY_INT, KEY_STR } key_kind;
static const struct {
  const char *key;
  key_kind kind;
  size_t offset;
} model_keys[] = {
#define U(k, f) {k, KEY_U64, offsetof(p3cfg_plan_model, f)}
#define R(k, f) {k, KEY_REAL, offsetof(p3cfg_plan_model, f)}
#define I(k, f) {k, KEY_INT, offsetof(p3cfg_plan_model, f)}
#define S(k, f) {k, KEY_STR, offsetof(p3cfg_plan_model, f)}
    U("layers", layers), U("hidden", hidden), U("heads", heads), U("kv_heads", kv_heads),
    U("ffn_hidden", ffn_hidden), U("vocab", vocab), U("seq_len", seq_len),
    S("activation", activation), S("norm", norm), S("position_embedding", position_embedding),
    S("precision", precision), S("optimizer", optimizer), I("tied_embeddings", tied_embeddings),
    I("bias", bias), I("dropout", dropout), I("flash_attention", flash_attention),
    U("head_dim", head_dim), U("moe.experts", moe_experts), U("moe.top_k", moe_top_k),
    U("moe.expert_ffn_hidden", moe_expert_ffn_hidden),
    U("moe.shared_experts", moe_shared_experts),
    U("moe.shared_expert_ffn_hidden", moe_shared_expert_ffn_hidden),
    U("moe.dense_layers", moe_dense_layers), R("moe.capacity_factor", moe_capacity_factor),
    S("attention.kind", attention), U("attention.q_lora_rank", mla_q_lora_rank),
    U("attention.kv_lora_rank", mla_kv_lora_rank),
    U("attention.qk_nope_head_dim", mla_qk_nope_head_dim),
    U("attention.qk_rope_head_dim", mla_qk_rope_head_dim),
    U("attention.v_head_dim", mla_v_head_dim), U("mtp_layers", mtp_layers),
    R("rope_theta", rope_theta), R("norm_eps", norm_eps), S("grad_reduce", grad_reduce),
    R("moe.activation_clamp", moe_activation_clamp), S("cross_entropy", cross_entropy),
    I("deterministic", deterministic), S("moe.dispatcher", moe_dispatcher),
    S("fp8_recipe", fp8_recipe), I("fp8_param_gather", fp8_param_gather),
#undef U
#undef R
#undef I
#undef S
};

/* The value of model_keys[k] of `m` as text in buf[cap]. */
static const char *key_text(char *buf, size_t cap, const p3cfg_plan_model *m, size_t k)
{
  const char *at = (const char *)m + model_keys[k].offset;
  switch (model_keys[k].kind) {
  case KEY_U64: snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)at); break;
  case KEY_REAL: snprintf(buf, cap, "%.17g", *(const double *)at); break;
  case KEY_INT: snprintf(buf, cap, "%s", *(const int *)at ? "true" : "false"); break;
  case KEY_STR: snprintf(buf, cap, "%s", *(const char *const *)at ? *(const char *const *)at
                                                                   : "(none)"); break;
  }
  return buf;
}

P3CFG_API int p3cfg_plan_file_check_made_for(const p3cfg_plan_file *f, size_t i,
                                             const p3cfg_model *model,
                                             const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!f || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan_file_check_made_for: NULL argument");
  if (i >= f->count)
    return p3cfg__error_set(P3CFG_EINVALID, "plan %zu does not exist: the file has %zu plan%s",
                            i + 1, f->count, f->count == 1 ? "" : "s");
  const p3cfg__plan_record *rec = &f->records[i];
  p3cfg_plan_file *tmp = p3cfg__plan_file_new();
  p3cfg_plan_model given;
  if (!tmp || record_model(tmp, &given, model)) {
    p3cfg_plan_file_free(tmp);
    return p3cfg__error_nomem();
  }
  int rc = P3CFG_OK;
  for (size_t k = 0; k < sizeof model_keys / sizeof model_keys[0] && rc == P3CFG_OK; k++) {
    char was[64], is[64];
    key_text(was, sizeof was, &rec->model, k);
    key_text(is, sizeof is, &given, k);
    /* rope_theta and norm_eps are launch-only facts, 0 where the plan file does not give
     * them (files written before the keys): nothing to compare then. */
    const int unknown = model_keys[k].kind == KEY_REAL && strcmp(was, "0") == 0 &&
                        (!strcmp(model_keys[k].key, "rope_theta") ||
                         !strcmp(model_keys[k].key, "norm_eps"));
    if (!unknown && strcmp(was, is) != 0)
      rc = p3cfg__error_set(P3CFG_EINVALID,
                            "the plan was made for %s with %s %s, but %s has %s %s",
                            rec->model.name, model_keys[k].key, was,
                            model->source ? model->source : model->name, model_keys[k].key,
                            is);
  }
  p3cfg_plan_file_free(tmp);
  if (rc != P3CFG_OK)
    return rc;
  const p3cfg_plan_cluster *pc = &rec->cluster;
  if (pc->nodes != cluster->nodes || pc->gpus_per_node != cluster->gpus_per_node)
    return p3cfg__error_set(P3CFG_EINVALID,
                            "the plan was placed on %u nodes of %u GPUs, but %s has %u of %u",
                            pc->nodes, pc->gpus_per_node, cluster->name, cluster->nodes,
                            cluster->gpus_per_node);
  if (pc->gpu && strcmp(pc->gpu, cluster->gpu.name) != 0)
    return p3cfg__error_set(P3CFG_EINVALID, "the plan was made for GPU %s, but %s has %s",
                            pc->gpu, cluster->name, cluster->gpu.name);
  return P3CFG_OK;
}

P3CFG_API int p3cfg_plan_file_from_result(p3cfg_plan_file **out, const p3cfg_result *r,
                                          const p3cfg_model *model,
                                          const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan_file_from_result: NULL out");
  *out = NULL;
  if (!r || !model || !cluster)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_plan_file_from_result: NULL argument");
  for (size_t i = 0; i < r->count; i++)
    if (!r->entries[i].placement)
      return p3cfg__error_set(P3CFG_EINVALID, "plan %zu of the result is not placed", i + 1);
  p3cfg_plan_file *f = p3cfg__plan_file_new();
  if (!f)
    return p3cfg__error_nomem();
  for (size_t i = 0; i < r->count; i++) {
    const p3cfg__result_entry *e = &r->entries[i];
    p3cfg__plan_record *rec = p3cfg__plan_file_add(f);
    if (!rec || record_model(f, &rec->model, model) ||
        record_cluster(f, &rec->cluster, cluster))
      goto nomem;
    rec->plan = e->plan;
    rec->ranks = p3cfg__plan_file_alloc(f, e->n_ranks * sizeof *rec->ranks);
    if (!rec->ranks)
      goto nomem;
    memcpy(rec->ranks, e->placement, e->n_ranks * sizeof *rec->ranks);
    rec->n_ranks = e->n_ranks;
  }
  *out = f;
  return P3CFG_OK;
nomem:
  p3cfg_plan_file_free(f);
  return p3cfg__error_nomem();
}
