/*
 * import_hf_moe.c — the mixture-of-experts and latent-attention part of the model file
 * `p3cfg import-hf` writes: the expert count (num_local_experts / num_experts /
 * n_routed_experts) and the moe section (num_experts_per_tok, moe_intermediate_size,
 * n_shared_experts, shared_expert_intermediate_size, first_k_dense_replace,
 * swiglu_limit); the attention section of multi-head latent attention (q_lora_rank,
 * kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim); mtp_layers
 * (num_nextn_predict_layers); and the routing details p3cfg does not model, written as
 * comments with their values. A key of either part without the key that turns the part
 * on (an expert count of 0, no kv_lora_rank) would be dropped, and is refused.
 */
#include <stdio.h>

#include "import_hf.h"

/* The keys of a mixture of experts besides the expert count, and of latent attention
 * besides kv_lora_rank: with no experts or no kv_lora_rank, they would be dropped. */
static const char *const moe_keys[] = {"num_experts_per_tok",
                                       "experts_per_token",
                                       "moe_intermediate_size",
                                       "n_shared_experts",
                                       "shared_expert_intermediate_size",
                                       "first_k_dense_replace",
                                       NULL};
static const char *const mla_keys[] = {"q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                                       "v_head_dim", NULL};

/* The routing keys p3cfg does not model, written as comments with their values. */
static const char *const unmodeled_keys[] = {
    "moe_layer_freq", "decoder_sparse_step", "mlp_only_layers", "norm_topk_prob",
    "router_aux_loss_coef", "output_router_logits", "routed_scaling_factor", "topk_group",
    "n_group", "topk_method", "scoring_func", "ep_size", "router_jitter_noise", NULL};

/* Experts: 0 or 1 without any other MoE key is the dense model (a comment says so); 1
 * with them is one routed expert; 0 with them would drop them, and is refused. */
void p3cfg__hf_find_experts(p3cfg__hf_config *h, p3cfg__hf_experts *ex)
{
  const yaml_node_t *experts = NULL, *no_experts = NULL;
  const char *experts_key = NULL;
  static const char *const expert_keys[] = {"num_local_experts", "num_experts",
                                            "n_routed_experts", NULL};
  for (const char *const *k = expert_keys; *k && !experts; k++) {
    const yaml_node_t *n = p3cfg__hf_get(h, *k);
    if (n && !p3cfg__hf_is_null(n))
      experts = n, experts_key = *k;
  }
  const char *moe_key = experts ? p3cfg__hf_first_set(h, moe_keys) : NULL;
  if (experts && (p3cfg__hf_str_is(experts, "0") || (p3cfg__hf_str_is(experts, "1") && !moe_key))) {
    if (moe_key)
      p3cfg__problem(&h->c, experts,
                     "%s 0, but config.json has %s (a mixture-of-experts key): give the number "
                     "of routed experts, or remove the mixture-of-experts keys for a dense model",
                     experts_key, moe_key);
    else
      no_experts = experts;
    experts = NULL;
  }
  ex->node = experts;
  ex->none = no_experts;
  ex->key = experts_key;
}

/* The comment of a dense model's expert count, or the moe section. */
void p3cfg__hf_write_moe(p3cfg__hf_text *t, p3cfg__hf_config *h, const p3cfg__hf_experts *ex,
                         uint64_t ffn, int has_ffn, const char *wf)
{
  const yaml_node_t *experts = ex->node, *no_experts = ex->none;
  const char *experts_key = ex->key;
  char w[P3CFG__DESCRIBE_CAP];
  if (no_experts)
    p3cfg__hf_printf(t, "# %s: %s (%s)\n", experts_key, p3cfg__hf_shown(w, sizeof w, no_experts),
                     p3cfg__hf_str_is(no_experts, "0")
                         ? "no routed experts: a dense model"
                         : "one expert and no other MoE key: the dense FFN");
  uint64_t n = 0, k = 0, ef = 0, shared = 0, sffn = 0, dense = 0;
  if (experts && p3cfg__read_uint(&h->c, experts, experts_key, 1, P3CFG__MAX_EXPERTS, &n) == 0) {
    static const char *const k_top[] = {"num_experts_per_tok", "experts_per_token", NULL};
    const char *wk = NULL;
    if (p3cfg__hf_get_count(h, k_top, P3CFG__MAX_EXPERTS, &k, &wk) == 0)
      p3cfg__problem(&h->c, h->root, "config.json has experts but no num_experts_per_tok");
    const int has_ef =
        p3cfg__hf_get_uint(h, "moe_intermediate_size", 1, P3CFG__MAX_FFN_HIDDEN, &ef);
    if (has_ef == 0 && has_ffn == 0)
      p3cfg__problem(&h->c, h->root,
                     "config.json has experts but no moe_intermediate_size or intermediate_size");
    const int has_shared =
        p3cfg__hf_get_uint(h, "n_shared_experts", 0, P3CFG__MAX_EXPERTS, &shared);
    const int has_sffn =
        p3cfg__hf_get_uint(h, "shared_expert_intermediate_size", 0, P3CFG__MAX_FFN_HIDDEN, &sffn);
    const int has_dense =
        p3cfg__hf_get_uint(h, "first_k_dense_replace", 0, P3CFG__MAX_LAYERS, &dense);
    p3cfg__hf_printf(t, "moe:\n");
    snprintf(w, sizeof w, "%s (routed experts per MoE layer)", experts_key);
    p3cfg__hf_from(t, experts, experts_key);
    p3cfg__hf_sub(t, "experts", n, w);
    p3cfg__hf_from_key(t, h, wk);
    p3cfg__hf_sub(t, "top_k", k, wk ? wk : "?");
    if (has_ef > 0) {
      p3cfg__hf_from_key(t, h, "moe_intermediate_size");
      p3cfg__hf_sub(t, "expert_ffn_hidden", ef, "moe_intermediate_size");
    } else {
      p3cfg__hf_from_key(t, h, has_ffn > 0 ? wf : NULL);
      p3cfg__hf_sub(t, "expert_ffn_hidden", has_ffn > 0 ? ffn : 0,
                    "intermediate_size (every expert)");
    }
    if (has_shared > 0 && shared > 0) {
      p3cfg__hf_from_key(t, h, "n_shared_experts");
      p3cfg__hf_sub(t, "shared_experts", shared, "n_shared_experts");
      if (has_sffn > 0 && sffn > 0) {
        p3cfg__hf_from_key(t, h, "shared_expert_intermediate_size");
        p3cfg__hf_sub(t, "shared_expert_ffn_hidden", sffn / shared,
                      "shared_expert_intermediate_size / n_shared_experts");
      }
    } else if (has_sffn > 0 && sffn > 0) {
      p3cfg__hf_from_key(t, h, "shared_expert_intermediate_size");
      p3cfg__hf_sub(t, "shared_experts", 1, "one shared expert (shared_expert_intermediate_size)");
      p3cfg__hf_from_key(t, h, "shared_expert_intermediate_size");
      p3cfg__hf_sub(t, "shared_expert_ffn_hidden", sffn, "shared_expert_intermediate_size");
    }
    if (has_dense > 0 && dense > 0) {
      p3cfg__hf_from_key(t, h, "first_k_dense_replace");
      p3cfg__hf_sub(t, "dense_layers", dense, "first_k_dense_replace (dense FFN of ffn_hidden)");
    }
    p3cfg__hf_key(t, "  capacity_factor", "null",
                  "default: dropless (config.json has no capacity)");
    const yaml_node_t *limit = p3cfg__hf_get(h, "swiglu_limit");
    if (limit) {
      p3cfg__hf_from(t, limit, "swiglu_limit");
      p3cfg__hf_launch_number(t, "  activation_clamp", limit, "swiglu_limit", 1e6,
                              "the experts' fc1 clamp, timed as its own passes");
    }
  }
}

/* The attention section of latent attention. */
void p3cfg__hf_write_attention(p3cfg__hf_text *t, p3cfg__hf_config *h)
{
  /* Latent-attention keys without kv_lora_rank would be dropped, and the model written
   * with standard attention: refused, at the key that is missing its partner. */
  const yaml_node_t *kv_lora = p3cfg__hf_get(h, "kv_lora_rank");
  const char *mla_key =
      !kv_lora || p3cfg__hf_is_null(kv_lora) ? p3cfg__hf_first_set(h, mla_keys) : NULL;
  if (mla_key && kv_lora)
    p3cfg__problem(&h->c, kv_lora,
                   "kv_lora_rank is null, but config.json has %s (latent attention): give "
                   "kv_lora_rank for multi-head latent attention, or remove the latent-attention "
                   "keys for standard attention",
                   mla_key);
  else if (mla_key)
    p3cfg__problem(&h->c, p3cfg__hf_find(h, mla_key, 0),
                   "%s is a key of latent attention, but config.json has no kv_lora_rank: give "
                   "kv_lora_rank for multi-head latent attention, or remove the latent-attention "
                   "keys for standard attention",
                   mla_key);
  uint64_t kvl = 0;
  if (p3cfg__hf_get_uint(h, "kv_lora_rank", 1, P3CFG__MAX_HIDDEN, &kvl) > 0) {
    uint64_t ql = 0, nope = 0, rope = 0, vd = 0;
    const int has_q = p3cfg__hf_get_uint(h, "q_lora_rank", 0, P3CFG__MAX_HIDDEN, &ql);
    const int has_nope = p3cfg__hf_get_uint(h, "qk_nope_head_dim", 1, P3CFG__MAX_HIDDEN, &nope);
    const int has_rope = p3cfg__hf_get_uint(h, "qk_rope_head_dim", 0, P3CFG__MAX_HIDDEN, &rope);
    const int has_v = p3cfg__hf_get_uint(h, "v_head_dim", 1, P3CFG__MAX_HIDDEN, &vd);
    if (has_nope == 0 || has_rope == 0 || has_v == 0)
      p3cfg__problem(&h->c, h->root,
                     "config.json has kv_lora_rank but not qk_nope_head_dim, qk_rope_head_dim "
                     "and v_head_dim");
    p3cfg__hf_printf(t, "attention:\n");
    p3cfg__hf_from(t, kv_lora, "kv_lora_rank");
    p3cfg__hf_key(t, "  kind", "mla", "kv_lora_rank: multi-head latent attention");
    p3cfg__hf_from_key(t, h, "q_lora_rank");
    p3cfg__hf_sub(t, "q_lora_rank", ql, has_q > 0 ? "q_lora_rank" : "q_lora_rank null: none");
    p3cfg__hf_from(t, kv_lora, "kv_lora_rank");
    p3cfg__hf_sub(t, "kv_lora_rank", kvl, "kv_lora_rank");
    p3cfg__hf_from_key(t, h, "qk_nope_head_dim");
    p3cfg__hf_sub(t, "qk_nope_head_dim", nope, "qk_nope_head_dim");
    p3cfg__hf_from_key(t, h, "qk_rope_head_dim");
    p3cfg__hf_sub(t, "qk_rope_head_dim", rope, "qk_rope_head_dim");
    p3cfg__hf_from_key(t, h, "v_head_dim");
    p3cfg__hf_sub(t, "v_head_dim", vd, "v_head_dim");
  }
}

/* mtp_layers (num_nextn_predict_layers) when above 0. */
void p3cfg__hf_write_mtp(p3cfg__hf_text *t, p3cfg__hf_config *h)
{
  uint64_t mtp = 0;
  if (p3cfg__hf_get_uint(h, "num_nextn_predict_layers", 0, P3CFG__MAX_MTP_LAYERS, &mtp) > 0 &&
      mtp > 0) {
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)mtp);
    p3cfg__hf_from_key(t, h, "num_nextn_predict_layers");
    p3cfg__hf_key(t, "mtp_layers", v, "num_nextn_predict_layers");
  }
}

/* What p3cfg does not model: every such key with its value. */
unsigned p3cfg__hf_write_unmodeled(p3cfg__hf_text *t, p3cfg__hf_config *h, const char *hd_key,
                                   uint64_t hd)
{
  char w[P3CFG__DESCRIBE_CAP];
  unsigned unmodeled = 0;
  for (const char *const *k = unmodeled_keys; *k; k++) {
    const yaml_node_t *n = p3cfg__hf_get(h, *k);
    if (!n || p3cfg__hf_is_null(n))
      continue;
    if (unmodeled++ == 0)
      p3cfg__hf_printf(t, "# Not modelled by p3cfg (routing details):\n");
    p3cfg__hf_printf(t, "#   %s: %s\n", *k, p3cfg__hf_shown(w, sizeof w, n));
  }
  if (hd_key) {
    if (unmodeled++ == 0)
      p3cfg__hf_printf(t, "# Not modelled by p3cfg:\n");
    p3cfg__hf_printf(t, "#   %s: %llu (latent attention: its head widths are the qk and v dims)\n",
                     hd_key, (unsigned long long)hd);
  }
  return unmodeled;
}
