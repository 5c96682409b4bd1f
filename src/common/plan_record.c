/*
 * plan_record.c — the p3cfg_plan_file container (plan_record.h): records grown by
 * doubling, every string and array they point to tracked in one list of blocks so that
 * p3cfg_plan_file_free releases them all, and the read-only public accessors.
 */
#include "plan_record.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

const char *const p3cfg__activation_names[2] = {"gelu", "swiglu"};
const char *const p3cfg__posemb_names[3] = {"learned", "rope", "alibi"};
const char *const p3cfg__norm_names[2] = {"layernorm", "rmsnorm"};
const char *const p3cfg__precision_names[6] = {"bf16", "fp16", "fp32",
                                                 "fp8",  "mxfp8", "nvfp4"};
const char *const p3cfg__fp8_recipe_names[2] = {"delayed", "current"};
const char *const p3cfg__optimizer_names[2] = {"adam", "sgd"};
const char *const p3cfg__grad_reduce_names[2] = {"fp32", "bf16"};
const char *const p3cfg__cross_entropy_names[3] = {"unfused", "fused", "native"};
const char *const p3cfg__moe_dispatcher_names[P3CFG_DISPATCH_COUNT] = {"alltoall", "deepep",
                                                                      "hybridep"};

/* The index of `name` in names[0..n), or -1 (also for NULL). */
static int name_index(const char *const *names, int n, const char *name)
{
  for (int i = 0; name && i < n; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return -1;
}

#define NAME_OF(table, name) name_index(table, (int)(sizeof(table) / sizeof(table[0])), name)

int p3cfg__model_of_record(p3cfg_model *out, const p3cfg_plan_model *r, uint64_t global_batch)
{
  memset(out, 0, sizeof *out);
  const int act = NAME_OF(p3cfg__activation_names, r->activation);
  const int norm = NAME_OF(p3cfg__norm_names, r->norm);
  const int pos = NAME_OF(p3cfg__posemb_names, r->position_embedding);
  const int prec = NAME_OF(p3cfg__precision_names, r->precision);
  const int opt = NAME_OF(p3cfg__optimizer_names, r->optimizer);
  const int grad = r->grad_reduce ? NAME_OF(p3cfg__grad_reduce_names, r->grad_reduce) : 0;
  const int ce = r->cross_entropy ? NAME_OF(p3cfg__cross_entropy_names, r->cross_entropy) : 0;
  const int disp = r->moe_dispatcher ? NAME_OF(p3cfg__moe_dispatcher_names, r->moe_dispatcher) : 0;
  const int recipe = r->fp8_recipe ? NAME_OF(p3cfg__fp8_recipe_names, r->fp8_recipe) : 0;
  if ((act | norm | pos | prec | opt | grad | ce | disp | recipe) < 0)
    return -1;
  out->name = (char *)r->name;
  out->layers = r->layers, out->hidden = r->hidden, out->heads = r->heads;
  out->kv_heads = r->kv_heads, out->ffn_hidden = r->ffn_hidden, out->vocab = r->vocab;
  out->seq_len = r->seq_len, out->global_batch = global_batch;
  out->activation = (p3cfg_activation)act, out->norm = (p3cfg_norm)norm;
  out->position_embedding = (p3cfg_posemb)pos, out->precision = (p3cfg_precision)prec;
  out->optimizer = (p3cfg_optimizer)opt;
  out->tied_embeddings = r->tied_embeddings != 0, out->bias = r->bias != 0;
  out->dropout = r->dropout != 0, out->flash_attention = r->flash_attention != 0;
  out->head_dim = r->head_dim;
  out->moe = (p3cfg_moe){r->moe_experts,
                         r->moe_top_k,
                         r->moe_expert_ffn_hidden,
                         r->moe_shared_experts,
                         r->moe_shared_expert_ffn_hidden,
                         r->moe_dense_layers,
                         r->moe_capacity_factor,
                         r->moe_activation_clamp,
                         (p3cfg_moe_dispatcher)disp};
  out->attention = r->attention && strcmp(r->attention, "mla") == 0 ? P3CFG_ATTN_MLA
                                                                     : P3CFG_ATTN_STANDARD;
  out->mla = (p3cfg_mla){r->mla_q_lora_rank, r->mla_kv_lora_rank, r->mla_qk_nope_head_dim,
                         r->mla_qk_rope_head_dim, r->mla_v_head_dim};
  out->mtp_layers = r->mtp_layers;
  out->fp8_recipe = (p3cfg_fp8_recipe)recipe, out->fp8_param_gather = r->fp8_param_gather != 0;
  out->rope_theta = r->rope_theta, out->norm_eps = r->norm_eps;
  out->grad_reduce = (p3cfg_grad_reduce)grad, out->cross_entropy = (p3cfg_cross_entropy)ce;
  out->deterministic = r->deterministic != 0;
  return 0;
}

p3cfg_plan_file *p3cfg__plan_file_new(void) { return p3cfg__calloc(1, sizeof(p3cfg_plan_file)); }

p3cfg__plan_record *p3cfg__plan_file_add(p3cfg_plan_file *f)
{
  if (f->count == f->cap) {
    const size_t cap = f->cap ? f->cap * 2 : 4;
    p3cfg__plan_record *r = p3cfg__realloc(f->records, cap * sizeof *r);
    if (!r)
      return NULL;
    f->records = r;
    f->cap = cap;
  }
  p3cfg__plan_record *r = &f->records[f->count++];
  memset(r, 0, sizeof *r);
  return r;
}

void *p3cfg__plan_file_alloc(p3cfg_plan_file *f, size_t bytes)
{
  if (f->n_blocks == f->cap_blocks) {
    const size_t cap = f->cap_blocks ? f->cap_blocks * 2 : 16;
    void **b = p3cfg__realloc(f->blocks, cap * sizeof *b);
    if (!b)
      return NULL;
    f->blocks = b;
    f->cap_blocks = cap;
  }
  void *p = p3cfg__calloc(1, bytes ? bytes : 1);
  if (p)
    f->blocks[f->n_blocks++] = p;
  return p;
}

const char *p3cfg__plan_file_strdup(p3cfg_plan_file *f, const char *s, size_t len)
{
  char *d = p3cfg__plan_file_alloc(f, len + 1);
  if (d)
    memcpy(d, s, len);
  return d;
}

P3CFG_API void p3cfg_plan_file_free(p3cfg_plan_file *f)
{
  if (!f)
    return;
  for (size_t i = 0; i < f->n_blocks; i++)
    p3cfg__free(f->blocks[i]);
  p3cfg__free(f->blocks);
  p3cfg__free(f->records);
  p3cfg__free(f);
}

static const p3cfg__plan_record *record(const p3cfg_plan_file *f, size_t i)
{
  p3cfg__error_clear();
  return f && i < f->count ? &f->records[i] : NULL;
}

P3CFG_API size_t p3cfg_plan_file_count(const p3cfg_plan_file *f) { return f ? f->count : 0; }

P3CFG_API const p3cfg_plan *p3cfg_plan_file_plan(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg__plan_record *r = record(f, i);
  return r ? &r->plan : NULL;
}

P3CFG_API const p3cfg_plan_model *p3cfg_plan_file_model(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg__plan_record *r = record(f, i);
  return r ? &r->model : NULL;
}

P3CFG_API const p3cfg_plan_cluster *p3cfg_plan_file_cluster(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg__plan_record *r = record(f, i);
  return r ? &r->cluster : NULL;
}

P3CFG_API const p3cfg_rank_place *p3cfg_plan_file_placement(const p3cfg_plan_file *f, size_t i,
                                                            size_t *n_ranks)
{
  const p3cfg__plan_record *r = record(f, i);
  if (n_ranks)
    *n_ranks = r ? r->n_ranks : 0;
  return r ? r->ranks : NULL;
}
