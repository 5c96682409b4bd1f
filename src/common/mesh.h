/*
 * mesh.h — the parallel mesh of a plan: the one place where the process-group geometry
 * lives. A plan's ranks are the points of a grid with one dimension per kind of
 * parallelism, in Megatron-Core's order (tp, cp, ep, dp, pp; the first varies fastest,
 * so global rank = pp_rank*(dp*ep*cp*tp) + dp_rank*(ep*cp*tp) + ... + tp_rank, which with
 * cp = ep = 1 is Megatron-LM's tp-fastest, then dp, then pp). p3cfg__mesh_dims (mesh.c) is
 * the table of dimensions: a new dimension is one entry there, plus its physics.
 *
 * pp is the outermost dimension, so the ranks of pipeline stage j are consecutive:
 * p3cfg__mesh_step(m, P3CFG__MESH_PP, j) + s for s < stride[PP].
 *
 * A group of dimension D is the ranks that differ only in their D coordinate (the TP
 * group of a rank, the DP ring of a stage and local rank, a rank's pipeline line): it is
 * {first, stride, count}, member i being first + i * stride. Everything here is integer
 * arithmetic without allocation; what the scorer calls in its loops is inline.
 *
 * A plan has two meshes over the same ranks (Megatron-Core's two RankGenerators,
 * megatron/core/parallel_state.py): the dense one (attention, dense FFN, embeddings) with
 * sizes {tp, cp, 1, dp, pp} (p3cfg__mesh_of), and the expert one (the MoE layers' routed
 * experts) with sizes {etp, 1, ep, edp, pp} (p3cfg__mesh_expert_of), etp*ep*edp =
 * tp*cp*dp, so that the ranks of a pipeline stage are the same in both.
 */
#ifndef P3CFG_MESH_H
#define P3CFG_MESH_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* The dimensions, in rank order (fastest first); the order of p3cfg__mesh_dims. */
typedef enum p3cfg__mesh_dim {
  P3CFG__MESH_TP, /* tensor parallel */
  P3CFG__MESH_CP, /* context parallel (the expert mesh: 1) */
  P3CFG__MESH_EP, /* expert parallel (the dense mesh: 1) */
  P3CFG__MESH_DP, /* data parallel */
  P3CFG__MESH_PP, /* pipeline parallel */
  P3CFG__MESH_DIMS
} p3cfg__mesh_dim;

/* A dimension's plan field is absent: its size is 1. */
#define P3CFG__MESH_NO_FIELD ((size_t)-1)

/* One entry of the table: what the dimension is called, its key in JSON (plan files,
 * placements) and on the command line, the uint32_t field of p3cfg_plan holding its
 * size (an offsetof, or P3CFG__MESH_NO_FIELD; a field's 0 means 1), whether only the
 * expert mesh has it (ep: the dense mesh's size is 1), and its key in the expert mesh
 * (tp's place is etp's there, dp's edp's; NULL: size 1 there, as cp). Its stride in the
 * rank order is not stored: it is the product of the sizes of the entries before it. */
typedef struct p3cfg__mesh_dim_info {
  const char *name;
  const char *key;
  size_t plan_field;
  int expert_only;
  const char *expert_key;
} p3cfg__mesh_dim_info;

extern const p3cfg__mesh_dim_info p3cfg__mesh_dims[P3CFG__MESH_DIMS];

/* A plan's mesh: each dimension's size and stride, and the rank count. */
typedef struct p3cfg__mesh {
  uint32_t size[P3CFG__MESH_DIMS];
  uint32_t stride[P3CFG__MESH_DIMS];
  uint32_t ranks;
} p3cfg__mesh;

/* Ranks first + i * stride for i < count. */
typedef struct p3cfg__mesh_group {
  uint32_t first, stride, count;
} p3cfg__mesh_group;

/* The dense mesh of a plan whose sizes are set (dp resolved): {tp, cp, 1, dp, pp}. */
void p3cfg__mesh_of(p3cfg__mesh *out, const p3cfg_plan *plan);

/* The expert mesh of the same plan: {etp, 1, ep, edp, pp} over the same ranks
 * (etp*ep must divide tp*cp*dp, plan_rules.c checks it). */
void p3cfg__mesh_expert_of(p3cfg__mesh *out, const p3cfg_plan *plan);

/* The mesh of the given sizes (one per dimension, each >= 1). */
void p3cfg__mesh_of_sizes(p3cfg__mesh *out, const uint32_t size[P3CFG__MESH_DIMS]);

/* Coordinate of `rank` along dimension d. */
static inline uint32_t p3cfg__mesh_coord(const p3cfg__mesh *m, p3cfg__mesh_dim d, uint32_t rank)
{
  assert(rank < m->ranks);
  return rank / m->stride[d] % m->size[d];
}

/* Every coordinate of `rank`. */
static inline void p3cfg__mesh_coords(const p3cfg__mesh *m, uint32_t rank,
                                      uint32_t coords[P3CFG__MESH_DIMS])
{
  assert(rank < m->ranks);
  for (int d = 0; d < P3CFG__MESH_DIMS; d++) {
    coords[d] = rank % m->size[d];
    rank /= m->size[d];
  }
}

/* The coordinates of rank + 1 from those of rank (no division: a caller walking a run of
 * consecutive ranks steps the first dimension on and carries, like an odometer). Returns
 * the dimension the carry stopped at (the one whose coordinate grew), for
 * p3cfg__mesh_group_index_next. */
static inline int p3cfg__mesh_next(const p3cfg__mesh *m, uint32_t coords[P3CFG__MESH_DIMS])
{
  int d = 0;
  for (; d < P3CFG__MESH_DIMS; d++) {
    if (++coords[d] < m->size[d])
      break;
    coords[d] = 0;
  }
  return d;
}

/* The rank at the given coordinates (each below its size). */
static inline uint32_t p3cfg__mesh_rank(const p3cfg__mesh *m,
                                        const uint32_t coords[P3CFG__MESH_DIMS])
{
  uint32_t rank = 0;
  for (int d = 0; d < P3CFG__MESH_DIMS; d++) {
    assert(coords[d] < m->size[d]);
    rank += coords[d] * m->stride[d];
  }
  return rank;
}

/* What coordinate i along d adds to a rank: the first rank of pipeline stage j is
 * p3cfg__mesh_step(m, P3CFG__MESH_PP, j). */
static inline uint32_t p3cfg__mesh_step(const p3cfg__mesh *m, p3cfg__mesh_dim d, uint32_t i)
{
  return i * m->stride[d];
}

/* `rank` with its coordinate along d replaced by c (the same TP and DP position on
 * another pipeline stage, say). */
static inline uint32_t p3cfg__mesh_with(const p3cfg__mesh *m, p3cfg__mesh_dim d, uint32_t rank,
                                        uint32_t c)
{
  assert(c < m->size[d]);
  return rank - p3cfg__mesh_coord(m, d, rank) * m->stride[d] + c * m->stride[d];
}

/* The group of dimension d that contains `rank`. */
static inline p3cfg__mesh_group p3cfg__mesh_group_of(const p3cfg__mesh *m, p3cfg__mesh_dim d,
                                                     uint32_t rank)
{
  p3cfg__mesh_group g = {rank - p3cfg__mesh_coord(m, d, rank) * m->stride[d], m->stride[d],
                         m->size[d]};
  return g;
}

/* The same, for a caller that knows the coordinate c of `rank` along d already. */
static inline p3cfg__mesh_group p3cfg__mesh_group_at(const p3cfg__mesh *m, p3cfg__mesh_dim d,
                                                     uint32_t rank, uint32_t c)
{
  assert(c == p3cfg__mesh_coord(m, d, rank));
  p3cfg__mesh_group g = {rank - c * m->stride[d], m->stride[d], m->size[d]};
  return g;
}

/* How many groups dimension d has (ranks / size). */
static inline uint32_t p3cfg__mesh_groups(const p3cfg__mesh *m, p3cfg__mesh_dim d)
{
  return m->ranks / m->size[d];
}

/* The groups of d are numbered 0 .. p3cfg__mesh_groups - 1 in the order of their first
 * ranks; those of one pipeline stage j are numbered consecutively from
 * j * p3cfg__mesh_groups / pp (for d != pp). Index of the group holding `rank`: */
static inline uint32_t p3cfg__mesh_group_index(const p3cfg__mesh *m, p3cfg__mesh_dim d,
                                               uint32_t rank)
{
  const uint32_t below = m->stride[d];
  return rank / (below * m->size[d]) * below + rank % below;
}

/* The index of the group of d holding rank + 1, from `index`, that of rank, and the
 * dimension p3cfg__mesh_next's carry stopped at going from one to the other (no division):
 * the other coordinates, read as one number, grew by one, except when the carry stopped at
 * d itself, where they went from stride[d] - 1 to 0. */
static inline uint32_t p3cfg__mesh_group_index_next(const p3cfg__mesh *m, p3cfg__mesh_dim d,
                                                    uint32_t index, int carry)
{
  return carry == (int)d ? index + 1 - m->stride[d] : index + 1;
}

/* Group number `index` of dimension d. */
static inline p3cfg__mesh_group p3cfg__mesh_group_nth(const p3cfg__mesh *m, p3cfg__mesh_dim d,
                                                      uint32_t index)
{
  const uint32_t below = m->stride[d];
  assert(index < p3cfg__mesh_groups(m, d));
  p3cfg__mesh_group g = {index / below * below * m->size[d] + index % below, below, m->size[d]};
  return g;
}

/* Member i of a group. */
static inline uint32_t p3cfg__mesh_member(const p3cfg__mesh_group *g, uint32_t i)
{
  assert(i < g->count);
  return g->first + i * g->stride;
}

/* The context-parallel group of `rank` in the dense mesh (ring attention exchanges K and V
 * around it): Megatron's cp group. */
static inline p3cfg__mesh_group p3cfg__mesh_cp_group(const p3cfg__mesh *dense, uint32_t rank)
{
  return p3cfg__mesh_group_of(dense, P3CFG__MESH_CP, rank);
}

/* The expert-parallel group of `rank` in the expert mesh (the tokens' dispatch and combine
 * all-to-all runs between its members): Megatron's ep group. */
static inline p3cfg__mesh_group p3cfg__mesh_ep_group(const p3cfg__mesh *expert, uint32_t rank)
{
  return p3cfg__mesh_group_of(expert, P3CFG__MESH_EP, rank);
}

/* The expert-tensor-parallel group and the expert-data-parallel group of `rank` in the
 * expert mesh (each expert's matrices are split over the first; its gradients are
 * reduced over the second): Megatron's expt_tp and expt_dp groups. */
static inline p3cfg__mesh_group p3cfg__mesh_etp_group(const p3cfg__mesh *expert, uint32_t rank)
{
  return p3cfg__mesh_group_of(expert, P3CFG__MESH_TP, rank);
}
static inline p3cfg__mesh_group p3cfg__mesh_edp_group(const p3cfg__mesh *expert, uint32_t rank)
{
  return p3cfg__mesh_group_of(expert, P3CFG__MESH_DP, rank);
}

/* The data-and-context-parallel group of `rank` in the dense mesh: the dense parameters'
 * gradients are reduced over dp*cp ranks (Megatron's dp-cp group). cp, ep (1 in the dense
 * mesh) and dp are adjacent in the rank order, so it is one strided run. */
static inline p3cfg__mesh_group p3cfg__mesh_dp_cp_group(const p3cfg__mesh *dense, uint32_t rank)
{
  assert(dense->size[P3CFG__MESH_EP] == 1);
  const uint32_t s = dense->stride[P3CFG__MESH_CP];
  const uint32_t span = s * dense->size[P3CFG__MESH_CP] * dense->size[P3CFG__MESH_DP];
  p3cfg__mesh_group g = {rank / span * span + rank % s, s,
                         dense->size[P3CFG__MESH_CP] * dense->size[P3CFG__MESH_DP]};
  return g;
}

/* The first and the last member of a group (the tied embedding's pair: the same position
 * on the first and the last pipeline stage); the one member of a group of one. */
static inline p3cfg__mesh_group p3cfg__mesh_ends(p3cfg__mesh_group g)
{
  g.stride *= g.count - 1;
  g.count = g.count > 1 ? 2 : 1;
  return g;
}

/* `rank`, whose coordinate along d is `from`, with that coordinate `to` instead (no
 * division: the caller knows where the rank is). */
static inline uint32_t p3cfg__mesh_move(const p3cfg__mesh *m, p3cfg__mesh_dim d, uint32_t rank,
                                        uint32_t from, uint32_t to)
{
  assert(from == p3cfg__mesh_coord(m, d, rank) && to < m->size[d]);
  return rank - from * m->stride[d] + to * m->stride[d];
}

#endif
