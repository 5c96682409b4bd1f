/*
 * import_hf.h — what the files of `p3cfg import-hf` share (import_hf.c: the entry points
 * and the dense keys of the model file; import_hf_text.c: the text written, with the
 * config.json value each key line comes from; import_hf_read.c: lookups of config.json's
 * top-level keys; import_hf_moe.c: the moe and attention sections, mtp_layers and the
 * routing details p3cfg does not model; import_hf_check.c: the text written, loaded with
 * the model loader's own rules).
 */
#ifndef P3CFG_IMPORT_HF_H
#define P3CFG_IMPORT_HF_H

#include <stddef.h>
#include <stdint.h>

#include "parse_objects.h"
#include "text_buffer.h"

/* ---- output text (import_hf_text.c) ------------------------------------------------ */
/* Where line `line` (1-based) of the model file comes from: the config.json value `node`
 * of key `key`, or with node NULL the command-line option `key` ("--seq-len"). */
typedef struct p3cfg__hf_origin {
  size_t line;
  const yaml_node_t *node;
  const char *key;
} p3cfg__hf_origin;

typedef struct p3cfg__hf_text {
  p3cfg__text buf;        /* the file's text (buf.nomem: an append or the origins failed) */
  size_t lines;           /* line breaks written */
  p3cfg__hf_origin *from; /* one per key line with an origin, in line order */
  size_t n_from, cap_from;
  p3cfg__hf_origin next; /* the origin of the next key line (key NULL: none) */
} p3cfg__hf_text;

void p3cfg__hf_printf(p3cfg__hf_text *t, const char *fmt, ...) P3CFG_PRINTF(2, 3);
/* The next key line comes from config.json's `key` (its value node, or the option `key`
 * when node is NULL); nothing when key is NULL. */
void p3cfg__hf_from(p3cfg__hf_text *t, const yaml_node_t *node, const char *key);
/* "key: value" padded so that the comments line up, then "  # comment". */
void p3cfg__hf_key(p3cfg__hf_text *t, const char *key, const char *value, const char *comment);
/* `  key: N  # comment` inside a mapping block. */
void p3cfg__hf_sub(p3cfg__hf_text *t, const char *key, uint64_t value, const char *comment);
/* A number copied from config.json as written (rope_theta, norm_eps, swiglu_limit) when it
 * is a plain number in (0, hi), with `why` as its comment; else a comment saying it was
 * left out. */
void p3cfg__hf_launch_number(p3cfg__hf_text *t, const char *key, const yaml_node_t *n,
                             const char *hf_key, double hi, const char *why);

/* ---- reading config.json (import_hf_read.c) ---------------------------------------- */
typedef struct p3cfg__hf_config {
  p3cfg__pctx c;
  const yaml_node_t *root;
  size_t n_pairs;
  unsigned char *used; /* per top-level pair: read (or reported) by the mapping */
} p3cfg__hf_config;

/* The text of scalar n (NUL-terminated). */
const char *p3cfg__hf_scalar(const yaml_node_t *n);
/* The value of top-level key `name` (marked used when `mark`), or NULL. */
const yaml_node_t *p3cfg__hf_find(p3cfg__hf_config *h, const char *name, int mark);
/* The value of top-level key `name` (marked used), or NULL. */
const yaml_node_t *p3cfg__hf_get(p3cfg__hf_config *h, const char *name);
/* The next key line comes from config.json's `name` when the file has it. */
void p3cfg__hf_from_key(p3cfg__hf_text *t, p3cfg__hf_config *h, const char *name);
/* A null value: `null` or an empty plain scalar. */
int p3cfg__hf_is_null(const yaml_node_t *n);
/* Whether n is the scalar s. */
int p3cfg__hf_str_is(const yaml_node_t *n, const char *s);
/* The value as written, for a comment: a scalar's text (escaped, shortened), "a list of
 * N", "a mapping of N keys". */
const char *p3cfg__hf_shown(char *buf, size_t cap, const yaml_node_t *n);
/* An integer key: the first of names[] present (its name in *which), read in [1, hi]. */
int p3cfg__hf_get_count(p3cfg__hf_config *h, const char *const *names, uint64_t hi, uint64_t *out,
                        const char **which);
/* An integer key in [lo, hi] when present and not null: 1 read, 0 absent, -1 bad. */
int p3cfg__hf_get_uint(p3cfg__hf_config *h, const char *name, uint64_t lo, uint64_t hi,
                       uint64_t *out);
/* The first of `keys` that config.json has with a value other than null and 0, or NULL;
 * not marked used. */
const char *p3cfg__hf_first_set(p3cfg__hf_config *h, const char *const *keys);

/* ---- mixture of experts and latent attention (import_hf_moe.c) --------------------- */
/* config.json's expert count: `node` (the value of key `key`) when the model has routed
 * experts; `none` when it says 0 or 1 with no other MoE key (a dense model). */
typedef struct p3cfg__hf_experts {
  const yaml_node_t *node, *none;
  const char *key;
} p3cfg__hf_experts;

/* Find the expert count; an expert count of 0 next to other MoE keys is a problem. */
void p3cfg__hf_find_experts(p3cfg__hf_config *h, p3cfg__hf_experts *ex);
/* The comment of a dense model's expert count, or the moe section; ffn (has_ffn as
 * p3cfg__hf_get_count returned it) is the dense FFN of config.json's key wf. */
void p3cfg__hf_write_moe(p3cfg__hf_text *t, p3cfg__hf_config *h, const p3cfg__hf_experts *ex,
                         uint64_t ffn, int has_ffn, const char *wf);
/* The attention section of latent attention (kv_lora_rank); latent-attention keys without
 * it are problems. */
void p3cfg__hf_write_attention(p3cfg__hf_text *t, p3cfg__hf_config *h);
/* mtp_layers (num_nextn_predict_layers) when above 0. */
void p3cfg__hf_write_mtp(p3cfg__hf_text *t, p3cfg__hf_config *h);
/* The comments of what p3cfg does not model: the routing keys with their values, and
 * head_dim (config.json's key hd_key, NULL when none) of a latent-attention model. Returns
 * how many. */
unsigned p3cfg__hf_write_unmodeled(p3cfg__hf_text *t, p3cfg__hf_config *h, const char *hd_key,
                                   uint64_t hd);

/* ---- the text written, checked (import_hf_check.c) --------------------------------- */
/* Load the model file written in t as the model loader does (p3cfg__model_from_doc, the
 * one set of model rules) and report each problem it finds into h's diagnostics: at the
 * config.json value its line comes from, naming the key; without a position, naming the
 * option, for a line an option gave; at the top level otherwise. Returns P3CFG_OK (the
 * problems, if any, are in h->c.d) or P3CFG_ENOMEM. */
int p3cfg__hf_check_written(p3cfg__hf_config *h, const p3cfg__hf_text *t, const char *path);

#endif
