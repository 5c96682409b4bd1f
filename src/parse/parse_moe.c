/*
 * parse_moe.c — the model file's issue-16 mappings (docs/formats.md, "Mixture of experts
 * and attention"): `moe:` (routed and shared experts, top_k, leading dense layers,
 * capacity factor or dropless) and `attention:` (mha / gqa, or DeepSeek's multi-head
 * latent attention with its ranks and head widths). Every value is read with its bounds
 * and every rule across keys is reported at the key that breaks it.
 */
#include "parse_objects.h"

#include "plan_record.h"

enum { E_EXPERTS, E_TOP_K, E_FFN, E_SHARED, E_SHARED_FFN, E_DENSE, E_CAPACITY, E_CLAMP,
       E_DISPATCHER, E_COUNT };

static const p3cfg__key moe_keys[E_COUNT] = {
    [E_EXPERTS] = {"experts", true},
    [E_TOP_K] = {"top_k", true},
    [E_FFN] = {"expert_ffn_hidden", false},
    [E_SHARED] = {"shared_experts", false},
    [E_SHARED_FFN] = {"shared_expert_ffn_hidden", false},
    [E_DENSE] = {"dense_layers", false},
    [E_CAPACITY] = {"capacity_factor", false},
    [E_CLAMP] = {"activation_clamp", false},
    [E_DISPATCHER] = {"dispatcher", false},
};

enum { A_KIND, A_Q_LORA, A_KV_LORA, A_QK_NOPE, A_QK_ROPE, A_V_HEAD, A_COUNT };

static const p3cfg__key attention_keys[A_COUNT] = {
    [A_KIND] = {"kind", true},
    [A_Q_LORA] = {"q_lora_rank", false},
    [A_KV_LORA] = {"kv_lora_rank", false},
    [A_QK_NOPE] = {"qk_nope_head_dim", false},
    [A_QK_ROPE] = {"qk_rope_head_dim", false},
    [A_V_HEAD] = {"v_head_dim", false},
};

/* `attention.kind`, in this order: mha and gqa are the standard attention (heads,
 * kv_heads), mla is P3CFG_ATTN_MLA. */
static const char *const attention_kinds[] = {"mha", "gqa", "mla"};
enum { KIND_MHA, KIND_GQA, KIND_MLA };

/* Integer `moe.KEY` / `attention.KEY` in [lo, hi] when present; *ok when usable. */
static void read_sub(p3cfg__pctx *c, const yaml_node_t *node, const char *label, uint64_t lo,
                     uint64_t hi, uint64_t *out, bool *ok)
{
  *ok = node && p3cfg__read_uint(c, node, label, lo, hi, out) == 0;
}

bool p3cfg__moe_from_node(p3cfg__pctx *c, const yaml_node_t *node, p3cfg_model *m,
                          const p3cfg__model_ok *ok)
{
  m->moe = (p3cfg_moe){0};
  const yaml_node_t *v[E_COUNT];
  if (!node || p3cfg__map_fields(c, node, "moe", moe_keys, E_COUNT, v) != 0)
    return true;
  p3cfg_moe e = {0};
  bool experts_ok, top_ok, ffn_ok, shared_ok, sffn_ok, dense_ok;
  read_sub(c, v[E_EXPERTS], "moe.experts", 1, P3CFG__MAX_EXPERTS, &e.experts, &experts_ok);
  read_sub(c, v[E_TOP_K], "moe.top_k", 1, P3CFG__MAX_EXPERTS, &e.top_k, &top_ok);
  read_sub(c, v[E_FFN], "moe.expert_ffn_hidden", 1, P3CFG__MAX_FFN_HIDDEN, &e.expert_ffn_hidden,
           &ffn_ok);
  read_sub(c, v[E_SHARED], "moe.shared_experts", 0, P3CFG__MAX_EXPERTS, &e.shared_experts,
           &shared_ok);
  read_sub(c, v[E_SHARED_FFN], "moe.shared_expert_ffn_hidden", 1, P3CFG__MAX_FFN_HIDDEN,
           &e.shared_expert_ffn_hidden, &sffn_ok);
  read_sub(c, v[E_DENSE], "moe.dense_layers", 0, P3CFG__MAX_LAYERS, &e.dense_layers, &dense_ok);
  if (v[E_CAPACITY] && !p3cfg__is_null(v[E_CAPACITY])) {
    static const p3cfg__range capacity = {0.0, true, 1000.0, "a positive number or null", false};
    if (p3cfg__read_number(c, v[E_CAPACITY], "moe.capacity_factor", &capacity,
                           &e.capacity_factor) != 0)
      e.capacity_factor = 0;
  }
  if (v[E_CLAMP] && !p3cfg__is_null(v[E_CLAMP])) {
    static const p3cfg__range clamp = {0.0, true, 1e6, "a positive number or null", false};
    if (p3cfg__read_number(c, v[E_CLAMP], "moe.activation_clamp", &clamp,
                           &e.activation_clamp) != 0)
      e.activation_clamp = 0;
    else if (m->activation != P3CFG_ACT_SWIGLU)
      p3cfg__problem(c, v[E_CLAMP], "moe.activation_clamp is for activation swiglu (the "
                                    "experts' gated unit)");
  }
  if (v[E_DISPATCHER]) {
    int which = P3CFG_DISPATCH_ALLTOALL;
    if (p3cfg__read_enum(c, v[E_DISPATCHER], "moe.dispatcher", p3cfg__moe_dispatcher_names,
                         P3CFG_DISPATCH_COUNT, &which) == 0)
      e.dispatcher = (p3cfg_moe_dispatcher)which;
  }

  /* Megatron-Core's TransformerConfig.__post_init__ (d98e8a6): "Flex token dispatcher
   * with deepep backend does not support moe_pad_expert_input_to_capacity", which a
   * capacity factor's plans run with (the Megatron-LM export). */
  if (e.dispatcher == P3CFG_DISPATCH_DEEPEP && e.capacity_factor > 0)
    p3cfg__problem(c, v[E_DISPATCHER], "moe.dispatcher deepep cannot drop tokens at a capacity "
                                       "(Megatron-Core's DeepEP dispatcher does not pad experts "
                                       "to capacity): set moe.capacity_factor null, or "
                                       "moe.dispatcher hybridep or alltoall");

  if (!v[E_FFN])
    e.expert_ffn_hidden = m->ffn_hidden;
  if (!v[E_SHARED_FFN])
    e.shared_expert_ffn_hidden = e.expert_ffn_hidden;
  if (experts_ok && top_ok && e.top_k > e.experts)
    p3cfg__problem(c, v[E_TOP_K], "moe.top_k %llu is more than moe.experts %llu",
                   (unsigned long long)e.top_k, (unsigned long long)e.experts);
  /* layers - dense_layers MoE layers: the derived sizes count them, so none of those is
   * computed from a dense_layers that leaves none (the count would wrap). */
  const bool layers_fit = !(dense_ok && ok->layers && e.dense_layers >= m->layers);
  if (!layers_fit)
    p3cfg__problem(c, v[E_DENSE],
                   "moe.dense_layers %llu leaves no MoE layer of the %llu layers (at most %llu)",
                   (unsigned long long)e.dense_layers, (unsigned long long)m->layers,
                   (unsigned long long)m->layers - 1);
  if (v[E_SHARED_FFN] && sffn_ok && !(shared_ok && e.shared_experts > 0))
    p3cfg__problem(c, v[E_SHARED_FFN],
                   "moe.shared_expert_ffn_hidden needs moe.shared_experts of at least 1");
  m->moe = e;
  return layers_fit;
}

void p3cfg__attention_from_node(p3cfg__pctx *c, const yaml_node_t *node, p3cfg_model *m,
                                const yaml_node_t *kv_node, const yaml_node_t *head_dim_node,
                                const p3cfg__model_ok *ok)
{
  m->attention = P3CFG_ATTN_STANDARD;
  m->mla = (p3cfg_mla){0};
  const yaml_node_t *v[A_COUNT];
  if (!node || p3cfg__map_fields(c, node, "attention", attention_keys, A_COUNT, v) != 0)
    return;
  int kind = KIND_GQA;
  if (!v[A_KIND] || p3cfg__read_enum(c, v[A_KIND], "attention.kind", attention_kinds, 3, &kind))
    kind = -1; /* unknown: check nothing that depends on it */
  static const char *const labels[A_COUNT] = {
      NULL, "attention.q_lora_rank", "attention.kv_lora_rank", "attention.qk_nope_head_dim",
      "attention.qk_rope_head_dim", "attention.v_head_dim"};
  uint64_t *const dst[A_COUNT] = {NULL, &m->mla.q_lora_rank, &m->mla.kv_lora_rank,
                                  &m->mla.qk_nope_head_dim, &m->mla.qk_rope_head_dim,
                                  &m->mla.v_head_dim};
  for (int k = A_Q_LORA; k < A_COUNT; k++) {
    if (!v[k])
      continue;
    if (kind == KIND_MHA || kind == KIND_GQA) {
      p3cfg__problem(c, v[k], "%s is a key of attention.kind mla, not %s", labels[k],
                     attention_kinds[kind]);
      continue;
    }
    /* q_lora_rank 0: queries projected from the hidden state directly (DeepSeek-V2-Lite);
     * qk_rope_head_dim 0: no decoupled rotary part. */
    const uint64_t lo = k == A_Q_LORA || k == A_QK_ROPE ? 0 : 1;
    bool read_ok;
    read_sub(c, v[k], labels[k], lo, P3CFG__MAX_HIDDEN, dst[k], &read_ok);
  }
  if (kind == KIND_MHA && kv_node && ok->kv && ok->heads && m->kv_heads != m->heads)
    p3cfg__problem(c, v[A_KIND],
                   "attention.kind mha has as many key/value heads as heads (%llu), but kv_heads "
                   "is %llu; write gqa",
                   (unsigned long long)m->heads, (unsigned long long)m->kv_heads);
  if (kind != KIND_MLA)
    return;
  m->attention = P3CFG_ATTN_MLA;
  for (int k = A_KV_LORA; k < A_COUNT; k++)
    if (!v[k])
      p3cfg__problem(c, node, "missing required key '%s' in attention (kind mla)",
                     attention_keys[k].name);
  if (kv_node && ok->kv && ok->heads && m->kv_heads != m->heads)
    p3cfg__problem(c, kv_node,
                   "kv_heads %llu with attention.kind mla: every head has its own key and value "
                   "(leave kv_heads out or write %llu)",
                   (unsigned long long)m->kv_heads, (unsigned long long)m->heads);
  if (head_dim_node)
    p3cfg__problem(c, head_dim_node,
                   "head_dim with attention.kind mla: the head widths are "
                   "attention.qk_nope_head_dim + qk_rope_head_dim and v_head_dim");
  m->kv_heads = m->heads;
}
