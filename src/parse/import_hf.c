/*
 * import_hf.c — a Hugging Face config.json as a p3cfg model file (p3cfg_model_import_hf,
 * `p3cfg import-hf`): the entry points, and the model file's keys of a dense model.
 *
 * The JSON is read by the same checked loader as model and cluster files (JSON is YAML
 * 1.2), so every problem has its FILE:LINE:COL and the input bounds are the same. Each
 * key of the model format is written with a comment naming the config.json key it comes
 * from, or saying "default" and why when config.json does not hold it. write_model writes
 * the file one section at a time: the name, the sizes (layers, hidden, heads, kv_heads,
 * head_dim, ffn_hidden, activation, vocab), seq_len, the embeddings, the norm, the
 * training choices, bias and dropout; then import_hf_moe.c's moe, attention and
 * mtp_layers keys (mixture of experts, latent attention, multi-token prediction) and its
 * comments on the routing details p3cfg does not model; the keys that change neither
 * memory nor time are listed in a last comment.
 *
 * The text written then goes through the model loader's own checks (import_hf_check.c):
 * every key line remembers the config.json value it comes from, so a model the loader
 * would refuse is an error at that value (or names the option), and nothing is written.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "import_hf.h"
#include "yaml_doc.h"

/* Defaults for what a training run chooses and config.json does not say. */
#define DEFAULT_SEQ_LEN 4096u
#define DEFAULT_GLOBAL_BATCH 1024u

/* Whether the scalar n starts with `prefix`. */
static int str_starts(const yaml_node_t *n, const char *prefix)
{
  return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length >= strlen(prefix) &&
         memcmp(prefix, p3cfg__hf_scalar(n), strlen(prefix)) == 0;
}

/* A dropout probability of zero ("0", "0.0"), or absent. */
static int zero_or_absent(const yaml_node_t *n)
{
  if (!n || p3cfg__hf_is_null(n))
    return 1;
  if (n->type != YAML_SCALAR_NODE)
    return 0;
  for (size_t i = 0; i < n->data.scalar.length; i++)
    if (p3cfg__hf_scalar(n)[i] != '0' && p3cfg__hf_scalar(n)[i] != '.')
      return 0;
  return 1;
}

/* A name for the model: the last part of `_name_or_path`, the folder holding the file,
 * or model_type; made of [A-Za-z0-9._+-] (others become '-'). */
static void model_name(char *buf, size_t cap, p3cfg__hf_config *h, const char *path,
                       const char *given)
{
  const char *src = given;
  size_t len = src ? strlen(src) : 0;
  const yaml_node_t *nop = p3cfg__hf_get(h, "_name_or_path");
  if (!src && nop && nop->type == YAML_SCALAR_NODE && nop->data.scalar.length) {
    src = p3cfg__hf_scalar(nop);
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
  const yaml_node_t *type = p3cfg__hf_get(h, "model_type");
  if ((!src || !len) && type && type->type == YAML_SCALAR_NODE && type->data.scalar.length)
    src = p3cfg__hf_scalar(type), len = type->data.scalar.length;
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

/* The sizes of the model, each with the config.json key it came from (NULL: absent) and
 * what p3cfg__hf_get_count returned for it (1 read, 0 absent, -1 bad). */
typedef struct hf_shape {
  uint64_t layers, hidden, heads, kv, ffn, vocab, pos, hd;
  const char *wl, *wh, *wa, *wk, *wf, *wv, *wp, *wd;
  int has_hidden, has_heads, has_kv, has_ffn, has_pos, has_hd;
} hf_shape;

/* Read the sizes; the ones a model file cannot do without are problems when absent. */
static void read_shape(p3cfg__hf_config *h, hf_shape *s)
{
  static const char *const k_layers[] = {"num_hidden_layers", "n_layer", "num_layers", NULL};
  static const char *const k_hidden[] = {"hidden_size", "n_embd", "d_model", NULL};
  static const char *const k_heads[] = {"num_attention_heads", "n_head", NULL};
  static const char *const k_kv[] = {"num_key_value_heads", NULL};
  static const char *const k_ffn[] = {"intermediate_size", "n_inner", "ffn_dim", NULL};
  static const char *const k_vocab[] = {"vocab_size", NULL};
  static const char *const k_pos[] = {"max_position_embeddings", "n_positions", "seq_length",
                                      NULL};
  static const char *const k_head_dim[] = {"head_dim", NULL};
  *s = (hf_shape){0};
  const int has_layers = p3cfg__hf_get_count(h, k_layers, P3CFG__MAX_LAYERS, &s->layers, &s->wl);
  s->has_hidden = p3cfg__hf_get_count(h, k_hidden, P3CFG__MAX_HIDDEN, &s->hidden, &s->wh);
  s->has_heads = p3cfg__hf_get_count(h, k_heads, P3CFG__MAX_HEADS, &s->heads, &s->wa);
  s->has_kv = p3cfg__hf_get_count(h, k_kv, P3CFG__MAX_HEADS, &s->kv, &s->wk);
  s->has_ffn = p3cfg__hf_get_count(h, k_ffn, P3CFG__MAX_FFN_HIDDEN, &s->ffn, &s->wf);
  const int has_vocab = p3cfg__hf_get_count(h, k_vocab, P3CFG__MAX_VOCAB, &s->vocab, &s->wv);
  s->has_pos = p3cfg__hf_get_count(h, k_pos, 1ull << 40, &s->pos, &s->wp);
  s->has_hd = p3cfg__hf_get_count(h, k_head_dim, P3CFG__MAX_HIDDEN, &s->hd, &s->wd);
  if (!has_layers)
    p3cfg__problem(&h->c, h->root, "config.json has no num_hidden_layers");
  if (!s->has_hidden)
    p3cfg__problem(&h->c, h->root, "config.json has no hidden_size");
  if (!s->has_heads)
    p3cfg__problem(&h->c, h->root, "config.json has no num_attention_heads");
  if (!has_vocab)
    p3cfg__problem(&h->c, h->root, "config.json has no vocab_size");
}

/* The activation key's value and its comment. */
typedef struct hf_activation {
  const char *name;
  char note[400];
} hf_activation;

/* Activation: silu is a gated MLP (gate, up, down) in every Llama-style model. */
static void read_activation(p3cfg__hf_config *h, const yaml_node_t *type, hf_activation *a)
{
  char w[P3CFG__DESCRIBE_CAP];
  const yaml_node_t *act = p3cfg__hf_get(h, "hidden_act");
  if (!act)
    act = p3cfg__hf_get(h, "activation_function");
  a->name = "gelu";
  snprintf(a->note, sizeof a->note, "default: config.json has no hidden_act");
  if (act && act->type == YAML_SCALAR_NODE) {
    p3cfg__hf_shown(w, sizeof w, act);
    if (p3cfg__hf_str_is(act, "silu") || p3cfg__hf_str_is(act, "swish")) {
      a->name = "swiglu";
      snprintf(a->note, sizeof a->note, "hidden_act %s: a gated MLP (gate, up, down)", w);
    } else if (str_starts(act, "gelu") || p3cfg__hf_str_is(act, "quick_gelu")) {
      const int gated = str_starts(type, "gemma");
      a->name = gated ? "swiglu" : "gelu";
      snprintf(a->note, sizeof a->note, "hidden_act %s%s", w,
               gated ? ": GeGLU, three matrices as swiglu" : "");
    } else if (p3cfg__hf_str_is(act, "relu")) {
      snprintf(a->note, sizeof a->note, "hidden_act %s: two matrices, as gelu", w);
    } else {
      p3cfg__problem(&h->c, act,
                     "hidden_act \"%s\" has no p3cfg equivalent (silu, gelu or relu)", w);
    }
  } else if (act) {
    p3cfg__problem(&h->c, act, "hidden_act must be a string, got %s", p3cfg__describe(w, act));
  }
}

/* The comments that open the file, and name. */
static void write_header(p3cfg__hf_text *t, p3cfg__hf_config *h, const yaml_node_t *type,
                         const char *name, const p3cfg_import_options *o)
{
  char w[P3CFG__DESCRIBE_CAP];
  const yaml_node_t *arch = p3cfg__hf_get(h, "architectures");
  char type_s[P3CFG__DESCRIBE_CAP] = "unknown";
  if (type && type->type == YAML_SCALAR_NODE)
    p3cfg__hf_shown(type_s, sizeof type_s, type);
  p3cfg__hf_printf(
      t, "# Imported by p3cfg import-hf from a Hugging Face config.json\n# (model_type %s", type_s);
  if (arch && arch->type == YAML_SEQUENCE_NODE &&
      arch->data.sequence.items.top > arch->data.sequence.items.start) {
    const yaml_node_t *a0 = p3cfg__node(&h->c, arch->data.sequence.items.start[0]);
    if (a0 && a0->type == YAML_SCALAR_NODE)
      p3cfg__hf_printf(t, ", %s", p3cfg__hf_shown(w, sizeof w, a0));
  }
  p3cfg__hf_printf(t,
                   ").\n# Each comment names the config.json key a value comes from; \"default\" "
                   "marks what\n# config.json does not hold: check those.\n");
  p3cfg__hf_printf(t, "name: %-20s # %s\n", name,
                   o->name ? "given (--name)"
                           : "from the file's folder, _name_or_path or model_type");
}

/* layers, hidden, heads, kv_heads, head_dim (when not hidden/heads), ffn_hidden,
 * activation and vocab; `moe` when the model has routed experts, `mla` with latent
 * attention. */
static void write_shape(p3cfg__hf_text *t, p3cfg__hf_config *h, const hf_shape *s,
                        const hf_activation *a, int moe, int mla)
{
  char v[64], cmt[400];
  snprintf(v, sizeof v, "%llu", (unsigned long long)s->layers);
  p3cfg__hf_from_key(t, h, s->wl);
  p3cfg__hf_key(t, "layers", v, s->wl ? s->wl : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)s->hidden);
  p3cfg__hf_from_key(t, h, s->wh);
  p3cfg__hf_key(t, "hidden", v, s->wh ? s->wh : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)s->heads);
  p3cfg__hf_from_key(t, h, s->wa);
  p3cfg__hf_key(t, "heads", v, s->wa ? s->wa : "?");
  snprintf(v, sizeof v, "%llu", (unsigned long long)(s->has_kv > 0 ? s->kv : s->heads));
  p3cfg__hf_from_key(t, h, s->has_kv > 0 ? s->wk : s->wa);
  p3cfg__hf_key(t, "kv_heads", v,
                s->has_kv > 0 ? s->wk : "default: heads (no num_key_value_heads)");
  if (s->has_hd > 0 && s->has_hidden > 0 && s->has_heads > 0 && s->hd * s->heads != s->hidden &&
      !mla) {
    snprintf(v, sizeof v, "%llu", (unsigned long long)s->hd);
    snprintf(cmt, sizeof cmt, "%s (not hidden/heads = %llu)", s->wd,
             (unsigned long long)(s->hidden / s->heads));
    p3cfg__hf_from_key(t, h, s->wd);
    p3cfg__hf_key(t, "head_dim", v, cmt);
  }
  snprintf(v, sizeof v, "%llu", (unsigned long long)(s->has_ffn > 0 ? s->ffn : 4 * s->hidden));
  p3cfg__hf_from_key(t, h, s->has_ffn > 0 ? s->wf : s->wh);
  p3cfg__hf_key(t, "ffn_hidden", v,
                s->has_ffn > 0
                    ? (moe ? "intermediate_size (the dense FFN; experts under moe)" : s->wf)
                    : "default: 4*hidden (no intermediate_size)");
  p3cfg__hf_key(t, "activation", a->name, a->note);
  snprintf(v, sizeof v, "%llu", (unsigned long long)s->vocab);
  p3cfg__hf_from_key(t, h, s->wv);
  p3cfg__hf_key(t, "vocab", v, s->wv ? s->wv : "?");
}

/* What the run chooses: the sequence length (--seq-len, else the context window). */
static void write_seq_len(p3cfg__hf_text *t, p3cfg__hf_config *h, const hf_shape *s,
                          const p3cfg_import_options *o)
{
  char v[64];
  uint64_t seq_len = o->seq_len ? o->seq_len : s->has_pos > 0 ? s->pos : DEFAULT_SEQ_LEN;
  char seq_note[200];
  if (o->seq_len)
    snprintf(seq_note, sizeof seq_note, "given (--seq-len)");
  else if (s->has_pos > 0)
    snprintf(seq_note, sizeof seq_note, "%s (the context window; --seq-len for less)", s->wp);
  else
    snprintf(seq_note, sizeof seq_note,
             "default %u: no max_position_embeddings (--seq-len)",
             DEFAULT_SEQ_LEN);
  if (seq_len > P3CFG__MAX_SEQ_LEN) {
    seq_len = P3CFG__MAX_SEQ_LEN;
    snprintf(seq_note, sizeof seq_note, "%s is past p3cfg's limit: cut to 2^24 (--seq-len)", s->wp);
  }
  snprintf(v, sizeof v, "%llu", (unsigned long long)seq_len);
  if (o->seq_len)
    p3cfg__hf_from(t, NULL, "--seq-len");
  else
    p3cfg__hf_from_key(t, h, s->has_pos > 0 ? s->wp : NULL);
  p3cfg__hf_key(t, "seq_len", v, seq_note);
}

/* tied_embeddings, position_embedding and rope_theta. */
static void write_embeddings(p3cfg__hf_text *t, p3cfg__hf_config *h, const yaml_node_t *type)
{
  char w[P3CFG__DESCRIBE_CAP], cmt[400];
  const yaml_node_t *tie = p3cfg__hf_get(h, "tie_word_embeddings");
  bool tied = false;
  if (tie && p3cfg__read_bool(&h->c, tie, "tie_word_embeddings", &tied) == 0)
    p3cfg__hf_key(t, "tied_embeddings", tied ? "true" : "false", "tie_word_embeddings");
  else if (!tie)
    p3cfg__hf_key(t, "tied_embeddings", "false",
                  "default: no tie_word_embeddings (transformers' default depends on the model "
                  "class)");

  const yaml_node_t *theta = p3cfg__hf_get(h, "rope_theta");
  if (theta) {
    snprintf(cmt, sizeof cmt, "rope_theta %s (memory and time do not depend on it)",
             p3cfg__hf_shown(w, sizeof w, theta));
    p3cfg__hf_key(t, "position_embedding", "rope", cmt);
  } else if (p3cfg__hf_str_is(type, "bloom") || p3cfg__hf_str_is(type, "mpt")) {
    p3cfg__hf_key(t, "position_embedding", "alibi", "model_type: ALiBi");
  } else if (p3cfg__hf_str_is(type, "gpt2") || p3cfg__hf_str_is(type, "opt") ||
             p3cfg__hf_str_is(type, "gpt_bigcode")) {
    p3cfg__hf_key(t, "position_embedding", "learned", "model_type: learned positions");
  } else {
    p3cfg__hf_key(t, "position_embedding", "rope", "default: no rope_theta");
  }
  /* rope_scaling is not read: it is listed with the ignored keys when present. */
  if (theta)
    p3cfg__hf_launch_number(t, "rope_theta", theta, "rope_theta", 1e12,
                            "launch only: memory and time do not depend on it");
}

/* norm and norm_eps. */
static void write_norm(p3cfg__hf_text *t, p3cfg__hf_config *h)
{
  char w[P3CFG__DESCRIBE_CAP], cmt[400];
  const yaml_node_t *rms = p3cfg__hf_get(h, "rms_norm_eps");
  const yaml_node_t *ln = p3cfg__hf_get(h, "layer_norm_eps");
  if (!ln)
    ln = p3cfg__hf_get(h, "layer_norm_epsilon");
  if (rms) {
    snprintf(cmt, sizeof cmt, "rms_norm_eps %s", p3cfg__hf_shown(w, sizeof w, rms));
    p3cfg__hf_key(t, "norm", "rmsnorm", cmt);
  } else if (ln) {
    snprintf(cmt, sizeof cmt, "layer_norm_eps %s", p3cfg__hf_shown(w, sizeof w, ln));
    p3cfg__hf_key(t, "norm", "layernorm", cmt);
  } else {
    p3cfg__hf_key(t, "norm", "layernorm", "default: no rms_norm_eps or layer_norm_eps");
  }
  if (rms || ln)
    p3cfg__hf_launch_number(t, "norm_eps", rms ? rms : ln, rms ? "rms_norm_eps" : "layer_norm_eps",
                            1.0, "launch only: memory and time do not depend on it");
}

/* What a training run chooses beyond the model: flash_attention, global_batch, precision
 * (torch_dtype) and optimizer. */
static void write_training(p3cfg__hf_text *t, p3cfg__hf_config *h, const p3cfg_import_options *o)
{
  char v[64], w[P3CFG__DESCRIBE_CAP], cmt[400];
  const uint64_t global_batch = o->global_batch ? o->global_batch : DEFAULT_GLOBAL_BATCH;
  p3cfg__hf_key(t, "flash_attention", "true", "default: p3cfg's");
  snprintf(v, sizeof v, "%llu", (unsigned long long)global_batch);
  if (o->global_batch)
    p3cfg__hf_from(t, NULL, "--global-batch");
  p3cfg__hf_key(t, "global_batch", v,
                o->global_batch
                    ? "given (--global-batch)"
                    : "default: a training choice, not in config.json (--global-batch)");

  const yaml_node_t *dtype = p3cfg__hf_get(h, "torch_dtype");
  const yaml_node_t *dtype2 = p3cfg__hf_get(h, "dtype");
  if (!dtype || p3cfg__hf_is_null(dtype))
    dtype = dtype2;
  const char *prec = "bf16";
  if (dtype && !p3cfg__hf_is_null(dtype)) {
    p3cfg__hf_shown(w, sizeof w, dtype);
    if (p3cfg__hf_str_is(dtype, "float16"))
      prec = "fp16";
    else if (p3cfg__hf_str_is(dtype, "float32"))
      prec = "fp32";
    snprintf(cmt, sizeof cmt, "torch_dtype %s%s (mixed precision with fp32 master weights)", w,
             p3cfg__hf_str_is(dtype, "bfloat16") || p3cfg__hf_str_is(dtype, "float16") ||
                     p3cfg__hf_str_is(dtype, "float32")
                 ? ""
                 : ": not a training precision, bf16 assumed");
    p3cfg__hf_key(t, "precision", prec, cmt);
  } else {
    p3cfg__hf_key(t, "precision", prec, "default: no torch_dtype");
  }
  p3cfg__hf_key(t, "optimizer", "adam", "default: p3cfg's (Adam, two fp32 moments)");
}

/* bias (attention_bias). */
static void write_bias(p3cfg__hf_text *t, p3cfg__hf_config *h)
{
  const yaml_node_t *abias = p3cfg__hf_get(h, "attention_bias");
  const yaml_node_t *mbias = p3cfg__hf_get(h, "mlp_bias");
  bool bias = false;
  if (abias && p3cfg__read_bool(&h->c, abias, "attention_bias", &bias) == 0)
    p3cfg__hf_key(t, "bias", bias ? "true" : "false",
                  mbias ? "attention_bias (mlp_bias is not told apart)" : "attention_bias");
  else if (!abias)
    p3cfg__hf_key(t, "bias", "false", "default: no attention_bias (Llama-family models have none)");
}

/* dropout: whether any dropout probability is above 0. */
static void write_dropout(p3cfg__hf_text *t, p3cfg__hf_config *h)
{
  const yaml_node_t *drops[] = {p3cfg__hf_get(h, "attention_dropout"),
                                p3cfg__hf_get(h, "hidden_dropout"), p3cfg__hf_get(h, "resid_pdrop"),
                                p3cfg__hf_get(h, "attn_pdrop"), p3cfg__hf_get(h, "embd_pdrop")};
  int any_drop = 0, all_absent = 1;
  for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++) {
    any_drop |= !zero_or_absent(drops[i]);
    all_absent &= drops[i] == NULL;
  }
  p3cfg__hf_key(t, "dropout", any_drop ? "true" : "false",
                all_absent ? "default: no dropout key"
                : any_drop ? "a dropout probability above 0"
                           : "dropout probabilities 0");
}

/* Everything else: named, so that nothing is dropped silently. */
static void write_ignored(p3cfg__hf_text *t, p3cfg__hf_config *h)
{
  char w[P3CFG__DESCRIBE_CAP];
  const yaml_node_pair_t *pairs = h->root->data.mapping.pairs.start;
  size_t col = 0;
  for (size_t i = 0; i < h->n_pairs; i++) {
    if (h->used[i])
      continue;
    const yaml_node_t *k = p3cfg__node(&h->c, pairs[i].key);
    if (k->type != YAML_SCALAR_NODE)
      continue;
    p3cfg__echo(w, sizeof w, p3cfg__hf_scalar(k), k->data.scalar.length);
    const size_t n = strlen(w);
    if (col == 0) {
      p3cfg__hf_printf(t, "# Ignored (no effect on memory or time):");
      col = 40;
    }
    if (col + n + 2 > 88) {
      p3cfg__hf_printf(t, "\n#  ");
      col = 3;
    }
    p3cfg__hf_printf(t, " %s", w);
    col += n + 1;
  }
  if (col)
    p3cfg__hf_printf(t, "\n");
}

/* Write the model file of config.json into t; problems go to h->c.d, in the order they
 * are found: the sizes, the activation, the expert count, then each section's own.
 * Returns the number of keys written as "not modelled yet" comments. */
static unsigned write_model(p3cfg__hf_text *t, p3cfg__hf_config *h, const char *path,
                            const p3cfg_import_options *o)
{
  const yaml_node_t *type = p3cfg__hf_get(h, "model_type");
  hf_shape s;
  read_shape(h, &s);
  hf_activation a;
  read_activation(h, type, &a);
  char name[P3CFG__MAX_NAME_BYTES + 1];
  model_name(name, sizeof name, h, path, o->name);
  p3cfg__hf_experts ex;
  p3cfg__hf_find_experts(h, &ex);
  const yaml_node_t *kv_lora = p3cfg__hf_get(h, "kv_lora_rank");
  const int mla = kv_lora && !p3cfg__hf_is_null(kv_lora);

  write_header(t, h, type, name, o);
  write_shape(t, h, &s, &a, ex.node != NULL, mla);
  write_seq_len(t, h, &s, o);
  write_embeddings(t, h, type);
  write_norm(t, h);
  write_training(t, h, o);
  write_bias(t, h);
  write_dropout(t, h);
  p3cfg__hf_write_moe(t, h, &ex, s.ffn, s.has_ffn, s.wf);
  p3cfg__hf_write_attention(t, h);
  p3cfg__hf_write_mtp(t, h);
  const unsigned unmodeled =
      p3cfg__hf_write_unmodeled(t, h, s.has_hd > 0 && mla ? s.wd : NULL, s.hd);
  write_ignored(t, h);
  return unmodeled;
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
  p3cfg__hf_text t = {0};
  unsigned unmodeled = 0;
  int rc = p3cfg__read_file(&text, &len, d, path);
  if (rc == P3CFG_OK)
    rc = p3cfg__ydoc_load(&y, d, text, len);
  if (rc == P3CFG_OK) {
    p3cfg__hf_config h = {{&y.doc, d}, yaml_document_get_root_node(&y.doc), 0, NULL};
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
      if (rc == P3CFG_OK && !t.buf.nomem && d->count == 0)
        rc = p3cfg__hf_check_written(&h, &t, path);
      p3cfg__free(h.used);
    }
  }
  p3cfg__ydoc_dispose(&y);
  p3cfg__free(text);
  p3cfg__free(t.from);
  if (rc == P3CFG_ENOMEM || t.buf.nomem || d->nomem) {
    rc = p3cfg__error_nomem();
  } else {
    p3cfg__diags_finish(d);
    rc = p3cfg__diags_to_error(d);
  }
  p3cfg_diagnostics_free(d);
  if (rc != P3CFG_OK) {
    p3cfg__text_free(&t.buf);
    return rc;
  }
  out->data = t.buf.data;
  out->len = t.buf.len;
  if (n_unmodeled)
    *n_unmodeled = unmodeled;
  return P3CFG_OK;
}
