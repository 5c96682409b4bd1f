/*
 * replay_internal.h — the parts of p3cfg_replay_run (replay.c) that are ideas of their
 * own: the start-up that decides which MPI rank runs which plan rank (replay_start.c),
 * and the rings of nonblocking transfers that mimic the time model's collectives over
 * split communicators (replay_rings.c).
 */
#ifndef P3CFG_REPLAY_INTERNAL_H
#define P3CFG_REPLAY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "profile_types.h"
#include "profile_wait.h"

/* One rank's part of the start-up exchange. */
typedef struct p3cfg__replay_hello {
  char magic[16];
  char version[32];
  int32_t status;
  char message[P3CFG__MESSAGE_CAP];
  double fingerprint[8];
  uint64_t placement_hash; /* the placement and the node names (p3cfg__replay_map_ranks' inputs) */
  uint32_t iterations, warmup;
  char host[P3CFG__HOST_NAME_CAP];
  char boot_id[40]; /* the same on every host name of one machine (namespaces, tests) */
  int32_t leader, local_rank;
} p3cfg__replay_hello;

/* What the transfers need: the waiter (communicator, deadline, rank) and two reused
 * buffers of buf_bytes (every transfer goes in pieces of at most that). */
typedef struct p3cfg__replay_ctx {
  p3cfg__waiter w;
  char *sbuf, *rbuf;
  size_t buf_bytes;
} p3cfg__replay_ctx;

/* A ring group: flat (intra only), or hierarchical (intra ring inside the node, inter
 * ring across nodes of the ranks with the same local position). */
typedef struct p3cfg__replay_group {
  MPI_Comm flat, intra, inter;
  int k, g, n; /* members, per node, nodes */
} p3cfg__replay_group;

/* Who runs which plan rank, the same on every rank. */
typedef struct p3cfg__replay_layout {
  uint32_t n;         /* ranks */
  uint32_t *plan_of;  /* world rank -> plan rank */
  uint32_t *world_of; /* plan rank -> world rank */
  uint32_t *node_of;  /* plan rank -> node */
  uint32_t hosts;
  int by_name;
} p3cfg__replay_layout;

/* ---- replay_start.c ------------------------------------------------------------------ */

/* This rank's hello: version, options, host, boot id, and the prediction (into *cm; every
 * rank computes it) with its fingerprint and the placement's hash, or why not. */
void p3cfg__replay_prepare(p3cfg__replay_hello *mine, p3cfg_comm **cm, const p3cfg_plan_file *f,
                           size_t index, const p3cfg_model *m, const p3cfg_cluster *c,
                           const p3cfg_replay_options *o);
/* Gather every rank's hello into *out (caller frees), with a deadline. */
int p3cfg__replay_gather(p3cfg__replay_hello **out, p3cfg__replay_ctx *cx,
                         p3cfg__replay_hello *mine, int n, const char *what);
/* 1 when the gathered hellos disagree (inputs, placement, a local failure); *same_machine:
 * how many ranks share this rank's boot id. */
int p3cfg__replay_disagree(const p3cfg__replay_hello *all, int n, const p3cfg__replay_hello *mine,
                           int *same_machine);
/* This rank's local index and its host's lowest rank into *mine (the only blocking call,
 * the split, comes after the first exchange proved every rank alive). */
int p3cfg__replay_find_host(p3cfg__replay_ctx *cx, p3cfg__replay_hello *mine, int same_machine);
/* The map MPI rank <-> plan rank from the gathered hellos: the same verdict on every rank
 * (a refusal names the rank and what differs). */
int p3cfg__replay_map_ranks(p3cfg__replay_layout *l, const p3cfg__replay_hello *all, int n,
                            const p3cfg_plan_cluster *pc, const p3cfg_rank_place *place,
                            size_t n_plan);
void p3cfg__replay_layout_free(p3cfg__replay_layout *l);

/* ---- replay_rings.c ------------------------------------------------------------------ */

/* Send `bytes` to `to` and receive as many from `from` at once (either may be
 * MPI_PROC_NULL), in pieces, every wait with a deadline; `peer` (a world rank, or -1)
 * is named when it does not answer. */
int p3cfg__replay_exchange(p3cfg__replay_ctx *cx, MPI_Comm comm, int to, int from, uint64_t bytes,
                           const char *what, int peer);
/* Half an all-reduce over the group: a reduce-scatter (reduce_scatter = 1) or an
 * all-gather (0); hierarchical where the group is. */
int p3cfg__replay_ring_half(p3cfg__replay_ctx *cx, const p3cfg__replay_group *g, uint64_t bytes,
                            int reduce_scatter, const char *what);
int p3cfg__replay_allreduce(p3cfg__replay_ctx *cx, const p3cfg__replay_group *g, uint64_t bytes,
                            const char *what);
/* A barrier of every rank, waiting the timeout plus twice `behind_s`. */
int p3cfg__replay_barrier(p3cfg__replay_ctx *cx, const char *what, double behind_s);
/* Split the caller's communicator by color (MPI_UNDEFINED: none), members ordered by
 * key, and where the members' nodes (k of them, in member order) form the time model's
 * hierarchical ring, into its node rings and cross-node rings too. Collective. */
int p3cfg__replay_group_make(p3cfg__replay_group *out, p3cfg__replay_ctx *cx, int color, int key,
                             const uint32_t *nodes, int k);
void p3cfg__replay_group_none(p3cfg__replay_group *g);
void p3cfg__replay_group_free(p3cfg__replay_group *g);

#endif
