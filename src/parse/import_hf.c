/*
 * import_hf.c — a Hugging Face config.json as a p3cfg model file (p3cfg_model_import_hf,
 * `p3cfg import-hf`).
 *
 * The JSON is read by the same checked loader as model and cluster files (JSON is YAML
 * 1.2), so every problem has its FILE:LINE:COL and the input bounds are the same. Each
 * key of the model format is written with a comment naming the config.json key it comes
 * from, or saying "default" and why when config.json does not hold it. Mixture of experts
 * (num_local_experts / num_experts / n_routed_experts, num_experts_per_tok,
 * moe_intermediate_size, n_shared_experts, shared_expert_intermediate_size,
 * first_k_dense_replace), latent attention (q_lora_rank, kv_lora_rank, qk_nope_head_dim,
 * qk_rope_head_dim, v_head_dim), head_dim and num_nextn_predict_layers become the model
 * file's moe, attention, head_dim and mtp_layers keys; routing details p3cfg does not
 * model are written as comments with their values, never dropped; the keys that change
 * neither memory nor time are listed in a last comment.
 *
 * The text written then goes through the model loader's own checks
 * (p3cfg__model_from_doc): every key line remembers the config.json value it comes from,
 * so a model the loader would refuse is an error at that value (or names the option),
 * and nothing is written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "parse_objects.h"
#include "yaml_doc.h"

/* Defaults for what a training run chooses and config.json does not say. */
#define DEFAULT_SEQ_LEN 4096u
#define DEFAULT_GLOBAL_BATCH 1024u

/* ---- output text ------------------------------------------------------------------ */
/* Where line `line` (1-based) of the model file comes from: the config.json value `node`
 * of key `key`, or with node NULL the command-line option `key` ("--seq-len"). */
typedef struct origin {
  size_t line;
  const yaml_node_t *node;
  const char *key;
} origin;

typedef struct out_text {
  char *data;
  size_t len, cap;
  int nomem;
  size_t lines; /* line breaks written */
  origin *from; /* one per key line with an origin, in line order */
  size_t n_from, cap_from;
  origin next; /* the origin of the next key line (key NULL: none) */
} out_text;

static void out_printf(out_text *t, const char *fmt, ...) P3CFG_PRINTF(2, 3);
static void out_printf(out_text *t, const char *fmt, ...)
{
  t->next = (origin){0, NULL, NULL}; /* an origin is for the line that follows it */
  if (t->nomem)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0,
                            fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->nomem = 1;
      return;
    }
    if (t->data && t->len + (size_t)n < t->cap) {
      for (size_t i = t->len; i < t->len + (size_t)n; i++)
        t->lines += t->data[i] == '\n';
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 4096;
    while (cap <= t->len + (size_t)n)
      cap *= 2;
    char *d = p3cfg__realloc(t->data, cap);
    if (!d) {
      t->nomem = 1;
      return;
    }
    t->data = d;
    t->cap = cap;
  }
}

/* The next key line comes from config.json's `key` (its value node, or the option `key`
 * when node is NULL); nothing when key is NULL. */
static void out_from(out_text *t, const yaml_node_t *node, const char *key)
{
  t->next = (origin){0, node, key};
}

/* "key: value" padded so that the comments line up, then "  # comment". */
static void out_key(out_text *t, const char *key, const char *value, const char *comment)
{
  if (t->next.key && !t->nomem) {
    if (t->n_from == t->cap_from) {
      const size_t cap = t->cap_from ? 2 * t->cap_from : 64;
      origin *f = p3cfg__realloc(t->from, cap * sizeof *f);
      if (!f) {
        t->nomem = 1;
        return;
      }
      t->from = f;
      t->cap_from = cap;
    }
    t->next.line = t->lines + 1;
    t->from[t->n_from++] = t->next;
  }
  t->next = (origin){0, NULL, NULL};
  char left[128];
  snprintf(left, sizeof left, "%s: %s", key, value);
  out_printf(t, "%-26s # %s\n", left, comment);
}

/* ---- reading config.json ------------------------------------------------------------ */
typedef struct hf {
  p3cfg__pctx c;
  const yaml_node_t *root;
  size_t n_pairs;
  unsigned char *used; /* per top-level pair: read (or reported) by the mapping */
} hf;

static const char *text_of(const yaml_node_t *n)
{
  return (const char *)n->data.scalar.value;
}

/* The value of top-level key `name` (marked used when `mark`), or NULL. */
static const yaml_node_t *find(hf *h, const char *name, int mark)
{
  const yaml_node_pair_t *pairs = h->root->data.mapping.pairs.start;
  for (size_t i = 0; i < h->n_pairs; i++) {
    const yaml_node_t *k = p3cfg__node(&h->c, pairs[i].key);
    if (k->type == YAML_SCALAR_NODE && strlen(name) == k->data.scalar.length &&
        memcmp(name, text_of(k), k->data.scalar.length) == 0) {
      h->used[i] |= (unsigned char)mark;
      return p3cfg__node(&h->c, pairs[i].value);
    }
  }
  return NULL;
}

/* The value of top-level key `name` (marked used), or NULL. */
static const yaml_node_t *get(hf *h, const char *name)
{
  return find(h, name, 1);
}

/* The next key line comes from config.json's `name` when the file has it. */
static void out_from_key(out_text *t, hf *h, const char *name)
{
  const yaml_node_t *n = name ? find(h, name, 0) : NULL;
  if (n)
    out_from(t, n, name);
}

static int is_null(const yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         (n->data.scalar.length == 0 || strcmp(text_of(n), "null") == 0);
}

/* The value as written, for a comment: a scalar's text (escaped, shortened), "a list of
 * N", "a mapping of N keys". */
static const char *shown(char *buf, size_t cap, const yaml_node_t *n)
{
  if (n->type == YAML_SEQUENCE_NODE) {
    const size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    snprintf(buf, cap, k ? "a list of %zu" : "[]", k);
  } else if (n->type == YAML_MAPPING_NODE) {
    snprintf(buf, cap, "a mapping of %zu keys",
             (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start));
  } else {
    p3cfg__echo(buf, cap, text_of(n), n->data.scalar.length);
  }
  return buf;
}

/* An integer key: the first of names[] present (its name in *which), read in [1, hi]. */
static int get_count(hf *h, const char *const *names, uint64_t hi, uint64_t *out,
                     const char **which)
{
  for (; *names; names++) {
    const yaml_node_t *n = get(h, *names);
    if (n && !is_null(n)) {
      *which = *names;
      return p3cfg__read_uint(&h->c, n, *names, 1, hi, out) == 0 ? 1 : -1;
    }
  }
  return 0;
}

static int str_is(const yaml_node_t *n, const char *s)
{
  return n && n->type == YAML_SCALAR_NODE && strlen(s) == n->data.scalar.length &&
         memcmp(s, text_of(n), n->data.scalar.length) == 0;
}

/* Whether the scalar n starts with `prefix`. */
static int str_starts(const yaml_node_t *n, const char *prefix)
{
  return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length >= strlen(prefix) &&
         memcmp(prefix, text_of(n), strlen(prefix)) == 0;
}

/* A dropout probability of zero ("0", "0.0"), or absent. */
static int zero_or_absent(const yaml_node_t *n)
{
  if (!n || is_null(n))
    return 1;
  if (n->type != YAML_SCALAR_NODE)
    return 0;
  for (size_t i = 0; i < n->data.scalar.length; i++)
    if (text_of(n)[i] != '0' && text_of(n)[i] != '.')
      return 0;
  return 1;
}

/* The routing keys p3cfg does not model, written as comments with their values. */
static const char *const unmodeled_keys[] = {
    "moe_layer_freq", "decoder_sparse_step", "mlp_only_layers", "norm_topk_prob",
    "router_aux_loss_coef", "output_router_logits", "routed_scaling_factor", "topk_group",
    "n_group", "topk_method", "scoring_func", "ep_size", "router_jitter_noise", NULL};

/* An integer key in [lo, hi] when present and not null: 1 read, 0 absent, -1 bad. */
static int get_uint(hf *h, const char *name, uint64_t lo, uint64_t hi, uint64_t *out)
{
  const yaml_node_t *n = get(h, name);
  if (!n || is_null(n))
    return 0;
  return p3cfg__read_uint(&h->c, n, name, lo, hi, out) == 0 ? 1 : -1;
}

/* `  key: N  # comment` inside a mapping block. */
/* A number copied from config.json as written (rope_theta, norm_eps, swiglu_limit) when it
 * is a plain number in (0, hi), with `why` as its comment; else a comment saying it was
 * left out. */
static void out_launch_number(out_text *t, const char *key, const yaml_node_t *n,
                              const char *hf_key, double hi, const char *why)
{
  const p3cfg__range r = {0.0, true, hi, NULL, false};
  double v = 0;
  char text[64], cmt[128];
  if (n->type == YAML_SCALAR_NODE && p3cfg__number_in(n, &r, &v) && v < hi) {
    snprintf(text, sizeof text, "%.*s", (int)(n->data.scalar.length < 63 ? n->data.scalar.length : 63),
             (const char *)n->data.scalar.value);
    snprintf(cmt, sizeof cmt, "%s (%s)", hf_key, why);
    out_key(t, key, text, cmt);
  } else {
    out_printf(t, "# %s left out: %s is not a number in (0, %g)\n", key, hf_key, hi);
  }
}

static void out_sub(out_text *t, const char *key, uint64_t value, const char *comment)
{
  char k[64], v[32];
  snprintf(k, sizeof k, "  %s", key);
  snprintf(v, sizeof v, "%llu", (unsigned long long)value);
  out_key(t, k, v, comment);
}

/* The first of `keys` that config.json has with a value other than null and 0, or NULL;
 * not marked used. */
static const char *first_set(hf *h, const char *const *keys)
{
  for (; *keys; keys++) {
    const yaml_node_t *n = find(h, *keys, 0);
    if (n && !is_null(n) && !str_is(n, "0"))
      return *keys;
  }
  return NULL;
}

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

/* The moe, attention and mtp_layers keys (after the dense ones); experts is the value of
 * config.json's key experts_key. */
static void write_moe_mla(out_text *t, hf *h, const yaml_node_t *experts, const char *experts_key,
                          uint64_t ffn, int has_ffn, const char *wf)
{
  char w[P3CFG__DESCRIBE_CAP];
  uint64_t n = 0, k = 0, ef = 0, shared = 0, sffn = 0, dense = 0;
  if (experts && p3cfg__read_uint(&h->c, experts, experts_key, 1, P3CFG__MAX_EXPERTS, &n) == 0) {
    static const char *const k_top[] = {"num_experts_per_tok", "experts_per_token", NULL};
    const char *wk = NULL;
    if (get_count(h, k_top, P3CFG__MAX_EXPERTS, &k, &wk) == 0)
      p3cfg__problem(&h->c, h->root, "config.json has experts but no num_experts_per_tok");
    const int has_ef = get_uint(h, "moe_intermediate_size", 1, P3CFG__MAX_FFN_HIDDEN, &ef);
    if (has_ef == 0 && has_ffn == 0)
      p3cfg__problem(&h->c, h->root,
                     "config.json has experts but no moe_intermediate_size or intermediate_size");
    const int has_shared = get_uint(h, "n_shared_experts", 0, P3CFG__MAX_EXPERTS, &shared);
    const int has_sffn =
        get_uint(h, "shared_expert_intermediate_size", 0, P3CFG__MAX_FFN_HIDDEN, &sffn);
    const int has_dense = get_uint(h, "first_k_dense_replace", 0, P3CFG__MAX_LAYERS, &dense);
    out_printf(t, "moe:\n");
    snprintf(w, sizeof w, "%s (routed experts per MoE layer)", experts_key);
    out_from(t, experts, experts_key);
    out_sub(t, "experts", n, w);
    out_from_key(t, h, wk);
    out_sub(t, "top_k", k, wk ? wk : "?");
    if (has_ef > 0) {
      out_from_key(t, h, "moe_intermediate_size");
      out_sub(t, "expert_ffn_hidden", ef, "moe_intermediate_size");
    } else {
      out_from_key(t, h, has_ffn > 0 ? wf : NULL);
      out_sub(t, "expert_ffn_hidden", has_ffn > 0 ? ffn : 0, "intermediate_size (every expert)");
    }
    if (has_shared > 0 && shared > 0) {
      out_from_key(t, h, "n_shared_experts");
      out_sub(t, "shared_experts", shared, "n_shared_experts");
      if (has_sffn > 0 && sffn > 0) {
        out_from_key(t, h, "shared_expert_intermediate_size");
        out_sub(t, "shared_expert_ffn_hidden", sffn / shared,
                "shared_expert_intermediate_size / n_shared_experts");
      }
    } else if (has_sffn > 0 && sffn > 0) {
      out_from_key(t, h, "shared_expert_intermediate_size");
      out_sub(t, "shared_experts", 1, "one shared expert (shared_expert_intermediate_size)");
      out_from_key(t, h, "shared_expert_intermediate_size");
      out_sub(t, "shared_expert_ffn_hidden", sffn, "shared_expert_intermediate_size");
    }
    if (has_dense > 0 && dense > 0) {
      out_from_key(t, h, "first_k_dense_replace");
      out_sub(t, "dense_layers", dense, "first_k_dense_replace (dense FFN of ffn_hidden)");
    }
    out_key(t, "  capacity_factor", "null", "default: dropless (config.json has no capacity)");
    const yaml_node_t *limit = get(h, "swiglu_limit");
    if (limit) {
      out_from(t, limit, "swiglu_limit");
      out_launch_number(t, "  activation_clamp", limit, "swiglu_limit", 1e6,
                        "the experts' fc1 clamp, timed as its own passes");
    }
  }
  /* Latent-attention keys without kv_lora_rank would be dropped, and the model written
   * with standard attention: refused, at the key that is missing its partner. */
  const yaml_node_t *kv_lora = get(h, "kv_lora_rank");
  const char *mla_key = !kv_lora || is_null(kv_lora) ? first_set(h, mla_keys) : NULL;
  if (mla_key && kv_lora)
    p3cfg__problem(&h->c, kv_lora,
                   "kv_lora_rank is null, but config.json has %s (latent attention): give "
                   "kv_lora_rank for multi-head latent attention, or remove the latent-attention "
                   "keys for standard attention",
                   mla_key);
  else if (mla_key)
    p3cfg__problem(&h->c, find(h, mla_key, 0),
                   "%s is a key of latent attention, but config.json has no kv_lora_rank: give "
                   "kv_lora_rank for multi-head latent attention, or remove the latent-attention "
                   "keys for standard attention",
                   mla_key);
  uint64_t kvl = 0;
  if (get_uint(h, "kv_lora_rank", 1, P3CFG__MAX_HIDDEN, &kvl) > 0) {
    uint64_t ql = 0, nope = 0, rope = 0, vd = 0;
    const int has_q = get_uint(h, "q_lora_rank", 0, P3CFG__MAX_HIDDEN, &ql);
    const int has_nope = get_uint(h, "qk_nope_head_dim", 1, P3CFG__MAX_HIDDEN, &nope);
    const int has_rope = get_uint(h, "qk_rope_head_dim", 0, P3CFG__MAX_HIDDEN, &rope);
    const int has_v = get_uint(h, "v_head_dim", 1, P3CFG__MAX_HIDDEN, &vd);
    if (has_nope == 0 || has_rope == 0 || has_v == 0)
      p3cfg__problem(&h->c, h->root,
                     "config.json has kv_lora_rank but not qk_nope_head_dim, qk_rope_head_dim "
                     "and v_head_dim");
    out_printf(t, "attention:\n");
    out_from(t, kv_lora, "kv_lora_rank");
    out_key(t, "  kind", "mla", "kv_lora_rank: multi-head latent attention");
    out_from_key(t, h, "q_lora_rank");
    out_sub(t, "q_lora_rank", ql, has_q > 0 ? "q_lora_rank" : "q_lora_rank null: none");
    out_from(t, kv_lora, "kv_lora_rank");
    out_sub(t, "kv_lora_rank", kvl, "kv_lora_rank");
    out_from_key(t, h, "qk_nope_head_dim");
    out_sub(t, "qk_nope_head_dim", nope, "qk_nope_head_dim");
    out_from_key(t, h, "qk_rope_head_dim");
    out_sub(t, "qk_rope_head_dim", rope, "qk_rope_head_dim");
    out_from_key(t, h, "v_head_dim");
    out_sub(t, "v_head_dim", vd, "v_head_dim");
  }
  uint64_t mtp = 0;
  if (get_uint(h, "num_nextn_predict_layers", 0, P3CFG__MAX_MTP_LAYERS, &mtp) > 0 && mtp > 0) {
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)mtp);
    out_from_key(t, h, "num_nextn_predict_layers");
    out_key(t, "mtp_layers", v, "num_nextn_predict_layers");
  }
}

/* A name for the model: the last part of `_name_or_path`, the folder holding the file,
 * or model_type; made of [A-Za-z0-9._+-] (others become '-'). */
static void model_name(char *buf, size_t cap, hf *h, const char *path, const char *given)
{
  const char *src = given;
  size_t len = src ? strlen(src) : 0;
  const yaml_node_t *nop = get(h, "_name_or_path");
  if (!src && nop && nop->type == YAML_SCALAR_NODE && nop->data.scalar.length) {
    src = text_of(nop);
    len = nop->data.scalar.length;
    while (len && src[len - 1] == '/')
      len--;
    for (size_t i = len; i > 0; i--)
      if (src[i - 1] == '/') {
        src += i;
        len -= i;
        break;
      }
  }
  if (!src || !len) {
    const char *slash = strrchr(path, '/');
    if (slash && slash > path) {
      const char *start = slash;
      while (start > path && start[-1] != '/')
        start--;
      if (!(slash - start == 1 && start[0] == '.') && !(slash - start == 2 && start[0] == '.'))
        src = start, len = (size_t)(slash - start);
    }
  }
  const yaml_node_t *type = get(h, "model_type");
  if ((!src || !len) && type && type->type == YAML_SCALAR_NODE && type->data.scalar.length)
    src = text_of(type), len = type->data.scalar.length;
  if (!src || !len)
    src = "imported", len = 8;
  if (len > cap - 1)
    len = cap - 1;
  for (size_t i = 0; i < len; i++) {
    const char ch = src[i];
    const int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' || ch == '-';
    buf[i] = ok ? ch : '-';
  }
  buf[len] = '\0';
}

/* Write the model file of config.json into t; problems go to h->c.d. Returns the number
 * of keys written as "not modelled yet" comments. */
static unsigned write_model(out_text *t, hf *h, const char *path,
                            const p3cfg_import_options *o)
{
  char v[64], w[P3CFG__DESCRIBE_CAP], cmt[400];
  const yaml_node_t *type = get(h, "model_type");
  const yaml_node_t *arch = get(h, "architectures");
  char type_s[P3CFG__DESCRIBE_CAP] = "unknown";
  if (type && type->type == YAML_SCALAR_NODE)
    shown(type_s, sizeof type_s, type);

  static const char *const k_layers[] = {"num_hidden_layers", "n_layer", "num_layers", NULL};
  static const char *const k_hidden[] = {"hidden_size", "n_embd", "d_model", NULL};
  static const char *const k_heads[] = {"num_attention_heads", "n_head", NULL};
  static const char *const k_kv[] = {"num_key_value_heads", NULL};
  static const char *const k_ffn[] = {"intermediate_size", "n_inner", "ffn_dim", NULL};
  static const char *const k_vocab[] = {"vocab_size", NULL};
  static const char *const k_pos[] = {"max_position_embeddings", "n_positions", "seq_length",
                                      NULL};
  static const char *const k_head_dim[] = {"head_dim", NULL};
  uint64_t layers = 0, hidden = 0, heads = 0, kv = 0, ffn = 0, vocab = 0, pos = 0, hd = 0;
  const char *wl = NULL, *wh = NULL, *wa = NULL, *wk = NULL, *wf = NULL, *wv = NULL,
             *wp = NULL, *wd = NULL;
  const int has_layers = get_count(h, k_layers, P3CFG__MAX_LAYERS, &layers, &wl);
  const int has_hidden = get_count(h, k_hidden, P3CFG__MAX_HIDDEN, &hidden, &wh);
  const int has_heads = get_count(h, k_heads, P3CFG__MAX_HEADS, &heads, &wa);
  const int has_kv = get_count(h, k_kv, P3CFG__MAX_HEADS, &kv, &wk);
  const int has_ffn = get_count(h, k_ffn, P3CFG__MAX_FFN_HIDDEN, &ffn, &wf);
  const int has_vocab = get_count(h, k_vocab, P3CFG__MAX_VOCAB, &vocab, &wv);
  const int has_pos = get_count(h, k_pos, 1ull << 40, &pos, &wp);
  const int has_hd = get_count(h, k_head_dim, P3CFG__MAX_HIDDEN, &hd, &wd);
  if (!has_layers)
    p3cfg__problem(&h->c, h->root, "config.json has no num_hidden_layers");
  if (!has_hidden)
    p3cfg__problem(&h->c, h->root, "config.json has no hidden_size");
  if (!has_heads)
    p3cfg__problem(&h->c, h->root, "config.json has no num_attention_heads");
  if (!has_vocab)
    p3cfg__problem(&h->c, h->root, "config.json has no vocab_size");

  /* Activation: silu is a gated MLP (gate, up, down) in every Llama-style model. */
  const yaml_node_t *act = get(h, "hidden_act");
  if (!act)
    act = get(h, "activation_function");
  const char *activation = "gelu";
  char act_note[400] = "default: config.json has no hidden_act";
  if (act && act->type == YAML_SCALAR_NODE) {
    shown(w, sizeof w, act);
    if (str_is(act, "silu") || str_is(act, "swish")) {
      activation = "swiglu";
      snprintf(act_note, sizeof act_note, "hidden_act %s: a gated MLP (gate, up, down)", w);
    } else if (str_starts(act, "gelu") || str_is(act, "quick_gelu")) {
      const int gated = str_starts(type, "gemma");
      activation = gated ? "swiglu" : "gelu";
      snprintf(act_note, sizeof act_note, "hidden_act %s%s", w,
               gated ? ": GeGLU, three matrices as swiglu" : "");
    } else if (str_is(act, "relu")) {
      snprintf(act_note, sizeof act_note, "hidden_act %s: two matrices, as gelu", w);
    } else {
      p3cfg__problem(&h->c, act,
                     "hidden_act \"%s\" has no p3cfg equivalent (silu, gelu or relu)", w);
    }
  } else if (act) {
    p3cfg__problem(&h->c, act, "hidden_act must be a string, got %s", p3cfg__describe(w, act));
  }

  /* What the run chooses: the sequence length and the global batch. */
  uint64_t seq_len = o->seq_len ? o->seq_len : has_pos > 0 ? pos : DEFAULT_SEQ_LEN;
  char seq_note[200];
  if (o->seq_len)
    snprintf(seq_note, sizeof seq_note, "given (--seq-len)");
  else if (has_pos > 0)
    snprintf(seq_note, sizeof seq_note,
             "%s (the context window; --seq-len for less)", wp);
  else
    snprintf(seq_note, sizeof seq_note,
             "default %u: no max_position_embeddings (--seq-len)",
             DEFAULT_SEQ_LEN);
  if (seq_len > P3CFG__MAX_SEQ_LEN) {
    seq_len = P3CFG__MAX_SEQ_LEN;
    snprintf(seq_note, sizeof seq_note, "%s is past p3cfg's limit: cut to 2^24 (--seq-len)", wp);
  }
  const uint64_t global_batch = o->global_batch ? o->global_batch : DEFAULT_GLOBAL_BATCH;

  char name[P3CFG__MAX_NAME_BYTES + 1];
  model_name(name, sizeof name, h, path, o->name);

  /* Experts: 0 or 1 without any other MoE key is the dense model (a comment says so); 1
   * with them is one routed expert; 0 with them would drop them, and is refused. */
  const yaml_node_t *experts = NULL, *no_experts = NULL;
  const char *experts_key = NULL;
  static const char *const expert_keys[] = {"num_local_experts", "num_experts",
                                            "n_routed_experts", NULL};
  for (const char *const *k = expert_keys; *k && !experts; k++) {
    const yaml_node_t *n = get(h, *k);
    if (n && !is_null(n))
      experts = n, experts_key = *k;
  }
  const char *moe_key = experts ? first_set(h, moe_keys) : NULL;
  if (experts && (str_is(experts, "0") || (str_is(experts, "1") && !moe_key))) {
    if (moe_key)
      p3cfg__problem(&h->c, experts,
                     "%s 0, but config.json has %s (a mixture-of-experts key): give the number "
                     "of routed experts, or remove the mixture-of-experts keys for a dense model",
                     experts_key, moe_key);
    else
      no_experts = experts;
    experts = NULL;
  }

  out_printf(t, "# Imported by p3cfg import-hf from a Hugging Face config.json\n# (model_type %s",
             type_s);
  if (arch && arch->type == YAML_SEQUENCE_NODE &&
      arch->data.sequence.items.top > arch->data.sequence.items.start) {
    const yaml_node_t *a0 = p3cfg__node(&h->c, arch->data.sequence.items.start[0]);
    if (a0 && a0->type == YAML_SCALAR_NODE)
      out_printf(t, ", %s", shown(w, sizeof w, a0));
  }
  out_printf(t, ").\n# Each comment names the config.json key a value comes from; \"default\" "
                "marks what\n# config.json does not hold: check those.\n");
  out_printf(t, "name: %-20s # %s\n", name,
             o->name ? "given (--name)" : "from the file's folder, _name_or_path or model_type");
  snprintf(v, sizeof v, "%llu", (unsigned long long)layers);
  out_from_key(t, h, wl);
  out_key(t, "layers", v, wl ? wl : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)hidden);
  out_from_key(t, h, wh);
  out_key(t, "hidden", v, wh ? wh : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)heads);
  out_from_key(t, h, wa);
  out_key(t, "heads", v, wa ? wa : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)(has_kv > 0 ? kv : heads));
  out_from_key(t, h, has_kv > 0 ? wk : wa);
  out_key(t, "kv_heads", v, has_kv > 0 ? wk : "default: heads (no num_key_value_heads)");
  const yaml_node_t *kv_lora = get(h, "kv_lora_rank");
  const int mla = kv_lora && !is_null(kv_lora);
  if (has_hd > 0 && has_hidden > 0 && has_heads > 0 && hd * heads != hidden && !mla) {
    snprintf(v, sizeof v, "%llu", (unsigned long long)hd);
    snprintf(cmt, sizeof cmt, "%s (not hidden/heads = %llu)", wd,
             (unsigned long long)(hidden / heads));
    out_from_key(t, h, wd);
    out_key(t, "head_dim", v, cmt);
  }
  snprintf(v, sizeof v, "%llu", (unsigned long long)(has_ffn > 0 ? ffn : 4 * hidden));
  out_from_key(t, h, has_ffn > 0 ? wf : wh);
  out_key(t, "ffn_hidden", v,
          has_ffn > 0 ? (experts ? "intermediate_size (the dense FFN; experts under moe)" : wf)
                      : "default: 4*hidden (no intermediate_size)");
  out_key(t, "activation", activation, act_note);
  snprintf(v, sizeof v, "%llu", (unsigned long long)vocab);
  out_from_key(t, h, wv);
  out_key(t, "vocab", v, wv ? wv : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)seq_len);
  if (o->seq_len)
    out_from(t, NULL, "--seq-len");
  else
    out_from_key(t, h, has_pos > 0 ? wp : NULL);
  out_key(t, "seq_len", v, seq_note);

  const yaml_node_t *tie = get(h, "tie_word_embeddings");
  bool tied = false;
  if (tie && p3cfg__read_bool(&h->c, tie, "tie_word_embeddings", &tied) == 0)
    out_key(t, "tied_embeddings", tied ? "true" : "false", "tie_word_embeddings");
  else if (!tie)
    out_key(t, "tied_embeddings", "false",
            "default: no tie_word_embeddings (transformers' default depends on the model "
            "class)");

  const yaml_node_t *theta = get(h, "rope_theta");
  const yaml_node_t *scaling = get(h, "rope_scaling");
  if (theta) {
    snprintf(cmt, sizeof cmt, "rope_theta %s (memory and time do not depend on it)",
             shown(w, sizeof w, theta));
    out_key(t, "position_embedding", "rope", cmt);
  } else if (str_is(type, "bloom") || str_is(type, "mpt")) {
    out_key(t, "position_embedding", "alibi", "model_type: ALiBi");
  } else if (str_is(type, "gpt2") || str_is(type, "opt") || str_is(type, "gpt_bigcode")) {
    out_key(t, "position_embedding", "learned", "model_type: learned positions");
  } else {
    out_key(t, "position_embedding", "rope", "default: no rope_theta");
  }
  (void)scaling; /* listed with the ignored keys when present */
  if (theta)
    out_launch_number(t, "rope_theta", theta, "rope_theta", 1e12,
                      "launch only: memory and time do not depend on it");

  const yaml_node_t *rms = get(h, "rms_norm_eps");
  const yaml_node_t *ln = get(h, "layer_norm_eps");
  if (!ln)
    ln = get(h, "layer_norm_epsilon");
  if (rms) {
    snprintf(cmt, sizeof cmt, "rms_norm_eps %s", shown(w, sizeof w, rms));
    out_key(t, "norm", "rmsnorm", cmt);
  } else if (ln) {
    snprintf(cmt, sizeof cmt, "layer_norm_eps %s", shown(w, sizeof w, ln));
    out_key(t, "norm", "layernorm", cmt);
  } else {
    out_key(t, "norm", "layernorm", "default: no rms_norm_eps or layer_norm_eps");
  }
  if (rms || ln)
    out_launch_number(t, "norm_eps", rms ? rms : ln, rms ? "rms_norm_eps" : "layer_norm_eps",
                      1.0, "launch only: memory and time do not depend on it");
  out_key(t, "flash_attention", "true", "default: p3cfg's");
  snprintf(v, sizeof v, "%llu", (unsigned long long)global_batch);
  if (o->global_batch)
    out_from(t, NULL, "--global-batch");
  out_key(t, "global_batch", v,
          o->global_batch ? "given (--global-batch)"
                          : "default: a training choice, not in config.json (--global-batch)");

  const yaml_node_t *dtype = get(h, "torch_dtype");
  const yaml_node_t *dtype2 = get(h, "dtype");
  if (!dtype || is_null(dtype))
    dtype = dtype2;
  const char *prec = "bf16";
  if (dtype && !is_null(dtype)) {
    shown(w, sizeof w, dtype);
    if (str_is(dtype, "float16"))
      prec = "fp16";
    else if (str_is(dtype, "float32"))
      prec = "fp32";
    snprintf(cmt, sizeof cmt, "torch_dtype %s%s (mixed precision with fp32 master weights)", w,
             str_is(dtype, "bfloat16") || str_is(dtype, "float16") || str_is(dtype, "float32")
                 ? ""
                 : ": not a training precision, bf16 assumed");
    out_key(t, "precision", prec, cmt);
  } else {
    out_key(t, "precision", prec, "default: no torch_dtype");
  }
  out_key(t, "optimizer", "adam", "default: p3cfg's (Adam, two fp32 moments)");

  const yaml_node_t *abias = get(h, "attention_bias");
  const yaml_node_t *mbias = get(h, "mlp_bias");
  bool bias = false;
  if (abias && p3cfg__read_bool(&h->c, abias, "attention_bias", &bias) == 0)
    out_key(t, "bias", bias ? "true" : "false",
            mbias ? "attention_bias (mlp_bias is not told apart)" : "attention_bias");
  else if (!abias)
    out_key(t, "bias", "false", "default: no attention_bias (Llama-family models have none)");

  const yaml_node_t *drops[] = {get(h, "attention_dropout"), get(h, "hidden_dropout"),
                                get(h, "resid_pdrop"), get(h, "attn_pdrop"),
                                get(h, "embd_pdrop")};
  int any_drop = 0, all_absent = 1;
  for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++) {
    any_drop |= !zero_or_absent(drops[i]);
    all_absent &= drops[i] == NULL;
  }
  out_key(t, "dropout", any_drop ? "true" : "false",
          all_absent ? "default: no dropout key"
                     : any_drop ? "a dropout probability above 0" : "dropout probabilities 0");

  if (no_experts)
    out_printf(t, "# %s: %s (%s)\n", experts_key, shown(w, sizeof w, no_experts),
               str_is(no_experts, "0") ? "no routed experts: a dense model"
                                       : "one expert and no other MoE key: the dense FFN");
  write_moe_mla(t, h, experts, experts_key, ffn, has_ffn, wf);

  /* What p3cfg does not model: every such key with its value. */
  unsigned unmodeled = 0;
  for (const char *const *k = unmodeled_keys; *k; k++) {
    const yaml_node_t *n = get(h, *k);
    if (!n || is_null(n))
      continue;
    if (unmodeled++ == 0)
      out_printf(t, "# Not modelled by p3cfg (routing details):\n");
    out_printf(t, "#   %s: %s\n", *k, shown(w, sizeof w, n));
  }
  if (has_hd > 0 && mla) {
    if (unmodeled++ == 0)
      out_printf(t, "# Not modelled by p3cfg:\n");
    out_printf(t, "#   %s: %llu (latent attention: its head widths are the qk and v dims)\n", wd,
               (unsigned long long)hd);
  }

  /* Everything else: named, so that nothing is dropped silently. */
  const yaml_node_pair_t *pairs = h->root->data.mapping.pairs.start;
  size_t col = 0;
  for (size_t i = 0; i < h->n_pairs; i++) {
    if (h->used[i])
      continue;
    const yaml_node_t *k = p3cfg__node(&h->c, pairs[i].key);
    if (k->type != YAML_SCALAR_NODE)
      continue;
    p3cfg__echo(w, sizeof w, text_of(k), k->data.scalar.length);
    const size_t n = strlen(w);
    if (col == 0) {
      out_printf(t, "# Ignored (no effect on memory or time):");
      col = 40;
    }
    if (col + n + 2 > 88) {
      out_printf(t, "\n#  ");
      col = 3;
    }
    out_printf(t, " %s", w);
    col += n + 1;
  }
  if (col)
    out_printf(t, "\n");
  return unmodeled;
}

/* The origin of line `line` of the model file, or NULL. */
static const origin *origin_of(const out_text *t, int line)
{
  for (size_t i = 0; i < t->n_from; i++)
    if (t->from[i].line == (size_t)line)
      return &t->from[i];
  return NULL;
}

/* Load the model file written in t as the model loader does (p3cfg__model_from_doc, the
 * one set of model rules) and report each problem it finds into h's diagnostics: at the
 * config.json value its line comes from, naming the key; without a position, naming the
 * option, for a line an option gave; at the top level otherwise. Returns P3CFG_OK (the
 * problems, if any, are in h->c.d) or P3CFG_ENOMEM. */
static int check_written(hf *h, const out_text *t, const char *path)
{
  p3cfg_diagnostics *d = p3cfg__diags_new(path);
  if (!d)
    return P3CFG_ENOMEM;
  p3cfg__ydoc y;
  memset(&y, 0, sizeof y);
  int rc = p3cfg__ydoc_load(&y, d, t->data, t->len);
  if (rc == P3CFG_OK) {
    p3cfg__pctx c = {&y.doc, d};
    p3cfg_model *m = NULL;
    rc = p3cfg__model_from_doc(&m, &c, yaml_document_get_root_node(&y.doc), path);
    p3cfg_model_free(m);
  }
  p3cfg__ydoc_dispose(&y);
  if (rc == P3CFG_ENOMEM || d->nomem) {
    p3cfg_diagnostics_free(d);
    return P3CFG_ENOMEM;
  }
  p3cfg__diags_finish(d);
  char w[P3CFG__DESCRIBE_CAP];
  for (size_t i = 0; i < d->count; i++) {
    const p3cfg_diag *e = &d->items[i];
    const origin *o = origin_of(t, e->line);
    if (o && o->node)
      p3cfg__problem(&h->c, o->node, "%s %s makes an invalid model file: %s", o->key,
                     shown(w, sizeof w, o->node), e->message);
    else if (o)
      p3cfg__diag(h->c.d, P3CFG_EVALUE, 0, 0, "%s makes an invalid model file: %s", o->key,
                  e->message);
    else
      p3cfg__problem(&h->c, h->root, "the model file would be invalid: %s", e->message);
  }
  p3cfg_diagnostics_free(d);
  return P3CFG_OK;
}

P3CFG_API void p3cfg_import_options_init(p3cfg_import_options *opts)
{
  if (opts) {
    static const p3cfg_import_options init = P3CFG_IMPORT_OPTIONS_INIT;
    *opts = init;
  }
}

P3CFG_API int p3cfg_model_import_hf(p3cfg_buffer *out, const char *path,
                                    const p3cfg_import_options *opts, unsigned *n_unmodeled)
{
  p3cfg__error_clear();
  if (out)
    *out = (p3cfg_buffer){0};
  if (n_unmodeled)
    *n_unmodeled = 0;
  if (!out || !path)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_model_import_hf: a required argument is NULL");
  p3cfg_import_options o;
  p3cfg_import_options_init(&o);
  if (opts) {
    if (opts->version != P3CFG_IMPORT_OPTIONS_VERSION)
      return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_import_options: version %u, expected %u",
                              opts->version, P3CFG_IMPORT_OPTIONS_VERSION);
    o = *opts;
  }
  if (o.seq_len > P3CFG__MAX_SEQ_LEN || o.global_batch > P3CFG__MAX_GLOBAL_BATCH)
    return p3cfg__error_set(P3CFG_EINVALID, "seq_len must be at most %llu and global_batch at "
                                            "most %llu",
                            (unsigned long long)P3CFG__MAX_SEQ_LEN,
                            (unsigned long long)P3CFG__MAX_GLOBAL_BATCH);
  if (o.name && (!o.name[0] || strlen(o.name) > P3CFG__MAX_NAME_BYTES))
    return p3cfg__error_set(P3CFG_EINVALID, "name must be 1 to %d bytes long",
                            P3CFG__MAX_NAME_BYTES);

  p3cfg_diagnostics *d = p3cfg__diags_new(path);
  if (!d)
    return p3cfg__error_nomem();
  char *text = NULL;
  size_t len = 0;
  p3cfg__ydoc y;
  memset(&y, 0, sizeof y);
  out_text t = {0};
  unsigned unmodeled = 0;
  int rc = p3cfg__read_file(&text, &len, d, path);
  if (rc == P3CFG_OK)
    rc = p3cfg__ydoc_load(&y, d, text, len);
  if (rc == P3CFG_OK) {
    hf h = {{&y.doc, d}, yaml_document_get_root_node(&y.doc), 0, NULL};
    if (h.root->type != YAML_MAPPING_NODE) {
      char buf[P3CFG__DESCRIBE_CAP];
      p3cfg__problem(&h.c, h.root, "config.json must be an object, got %s",
                     p3cfg__describe(buf, h.root));
    } else {
      h.n_pairs = (size_t)(h.root->data.mapping.pairs.top - h.root->data.mapping.pairs.start);
      h.used = p3cfg__calloc(h.n_pairs ? h.n_pairs : 1, 1);
      if (!h.used)
        rc = P3CFG_ENOMEM;
      else
        unmodeled = write_model(&t, &h, path, &o);
      /* Only a complete text is checked: after a problem in config.json, what was written
       * may lack keys, and the loader would report them as well. */
      if (rc == P3CFG_OK && !t.nomem && d->count == 0)
        rc = check_written(&h, &t, path);
      p3cfg__free(h.used);
    }
  }
  p3cfg__ydoc_dispose(&y);
  p3cfg__free(text);
  p3cfg__free(t.from);
  if (rc == P3CFG_ENOMEM || t.nomem || d->nomem) {
    rc = p3cfg__error_nomem();
  } else {
    p3cfg__diags_finish(d);
    rc = p3cfg__diags_to_error(d);
  }
  p3cfg_diagnostics_free(d);
  if (rc != P3CFG_OK) {
    p3cfg__free(t.data);
    return rc;
  }
  out->data = t.data;
  out->len = t.len;
  if (n_unmodeled)
    *n_unmodeled = unmodeled;
  return P3CFG_OK;
}
