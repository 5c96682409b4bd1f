/*
 * parse_objects.h — the schemas of spec §2 (model) and §3 (cluster, links): from the
 * root node of a loaded document to a filled p3cfg_model or p3cfg_cluster, with the
 * bounds every value must keep (documented for users in docs/input-limits.md).
 *
 * Each builder walks the whole schema, reporting every problem into the context's
 * diagnostics, and returns P3CFG_OK or P3CFG_ENOMEM; the object it returns is only
 * meaningful when no problem was reported (the caller checks, and frees it otherwise).
 */
#ifndef P3CFG_PARSE_OBJECTS_H
#define P3CFG_PARSE_OBJECTS_H

#include <stdbool.h>

#include "parse_fields.h"
#include "types.h"

/* Model bounds: generous for real models (100T parameters, 1M-token sequences, a 1M
 * vocabulary), small enough that every derived product fits in uint64_t. */
#define P3CFG__MAX_LAYERS (1ull << 20)
#define P3CFG__MAX_HIDDEN (1ull << 24)
#define P3CFG__MAX_HEADS (1ull << 20)
#define P3CFG__MAX_FFN_HIDDEN (1ull << 26)
#define P3CFG__MAX_VOCAB (1ull << 26)
#define P3CFG__MAX_SEQ_LEN (1ull << 24)
#define P3CFG__MAX_GLOBAL_BATCH (1ull << 24)
/* Routed or shared experts of one MoE layer (DeepSeek-V3 has 256; 2^16 is far beyond). */
#define P3CFG__MAX_EXPERTS (1ull << 16)
/* Multi-token-prediction modules. */
#define P3CFG__MAX_MTP_LAYERS 64ull
/* Derived: parameters, tokens per step (seq_len * global_batch), activation elements of
 * one sequence in one layer (seq_len * hidden) and, without flash attention, attention
 * score elements of one sequence in one layer (heads * seq_len^2). */
#define P3CFG__MAX_PARAMS_LOG2 50
#define P3CFG__MAX_TOKENS_LOG2 44
#define P3CFG__MAX_SEQ_HIDDEN_LOG2 40
#define P3CFG__MAX_SCORES_LOG2 50
/* Longest model, cluster or node name in bytes. */
#define P3CFG__MAX_NAME_BYTES 256

/* Cluster bounds. */
#define P3CFG__MAX_CLUSTER_NODES (1u << 20)
#define P3CFG__MAX_GPUS_PER_NODE 1024u
#define P3CFG__MAX_GPUS (1u << 22)
/* Numbers of the network, links and GPU (GB/s, us, GiB, TFLOP/s). */
#define P3CFG__MAX_GBPS 1e6
#define P3CFG__MAX_LATENCY_US 1e6

/* Defaults of spec §3 where the file gives none. */
#define P3CFG__DEFAULT_INTRA_LATENCY_US 2.0
#define P3CFG__DEFAULT_INTER_LATENCY_US 5.0

int p3cfg__model_from_doc(p3cfg_model **out, p3cfg__pctx *c, const yaml_node_t *root,
                          const char *source);
/* Which model keys read well (the rules across keys check only usable values). */
typedef struct p3cfg__model_ok {
  bool layers, heads, kv;
} p3cfg__model_ok;

/* The `moe:` mapping (NULL: a dense model) into m->moe, defaults filled in (expert_ffn_hidden
 * = m->ffn_hidden, which must be final; shared_expert_ffn_hidden = expert_ffn_hidden).
 * Returns false when moe.dense_layers leaves no MoE layer (reported): then the derived
 * sizes, which count layers - dense_layers MoE layers, must not be checked. */
bool p3cfg__moe_from_node(p3cfg__pctx *c, const yaml_node_t *node, p3cfg_model *m,
                          const p3cfg__model_ok *ok);
/* The `attention:` mapping (NULL: standard attention) into m->attention and m->mla;
 * kv_node and head_dim_node are the top-level kv_heads and head_dim values (or NULL), for
 * the rules that tie them to the kind. MLA sets kv_heads = heads. */
void p3cfg__attention_from_node(p3cfg__pctx *c, const yaml_node_t *node, p3cfg_model *m,
                                const yaml_node_t *kv_node, const yaml_node_t *head_dim_node,
                                const p3cfg__model_ok *ok);

int p3cfg__cluster_from_doc(p3cfg_cluster **out, p3cfg__pctx *c, const yaml_node_t *root,
                            const char *source);

/* Fill cl->links and, from the link names, cl->node_names from the `links` mapping.
 * cl->nodes and cl->gpus_per_node are used when counts_ok, cl's network latencies (to
 * fill a missing latency_us) in any case. Returns 0, -1 after reporting problems, or
 * P3CFG_ENOMEM. */
int p3cfg__links_from_node(p3cfg__pctx *c, const yaml_node_t *map, p3cfg_cluster *cl,
                           bool counts_ok);

/* The cluster file's optional `host` mapping into cl (parse_host.c): gpu_sockets (checked
 * against gpus_per_node when counts_ok), nccl_socket_ifname, nccl_ib_hca. */
int p3cfg__host_from_node(p3cfg__pctx *c, const yaml_node_t *map, p3cfg_cluster *cl,
                          bool counts_ok);
/* Sockets of a node: more than any server has (8-socket machines are the largest sold). */
#define P3CFG__MAX_SOCKETS 64
/* NCCL's interface lists are short (a few names); the value goes into shell scripts. */
#define P3CFG__MAX_NCCL_BYTES 256
/* Whether s[0..len) is an NCCL interface list as NCCL reads it (names, ports after ':',
 * '^' to exclude, '=' for exact names, commas between) and nothing a shell would read
 * otherwise; reports it at `node` when not. */
bool p3cfg__nccl_list_ok(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                         const char *s, size_t len);

/* One p3cfg__malloc block holding n pointers followed by the n NUL-terminated strings
 * they point to (strs[i] of lens[i] bytes): released by one p3cfg__free. NULL when out
 * of memory. */
char **p3cfg__names_block(size_t n, const char *const *strs, const size_t *lens);

#endif
