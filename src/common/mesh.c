/*
 * mesh.c — the table of parallel dimensions (mesh.h) and a plan's mesh built from it.
 * The order of the table is the rank order (Megatron-Core's: tp, cp, ep, dp, pp, the
 * first fastest), so each stride is the product of the sizes before it. A plan's dense
 * mesh reads the table's fields (ep, expert-only, is 1 there); its expert mesh folds the
 * same ranks as {etp, 1, ep, edp, pp} (Megatron-Core's expert RankGenerator).
 */
#include "mesh.h"

#include "plan_dims.h"

const p3cfg__mesh_dim_info p3cfg__mesh_dims[P3CFG__MESH_DIMS] = {
    [P3CFG__MESH_TP] = {"tensor", "tp", offsetof(p3cfg_plan, tp), 0, "etp"},
    [P3CFG__MESH_CP] = {"context", "cp", offsetof(p3cfg_plan, cp), 0, NULL},
    [P3CFG__MESH_EP] = {"expert", "ep", offsetof(p3cfg_plan, ep), 1, "ep"},
    [P3CFG__MESH_DP] = {"data", "dp", offsetof(p3cfg_plan, dp), 0, "edp"},
    [P3CFG__MESH_PP] = {"pipeline", "pp", offsetof(p3cfg_plan, pp), 0, "pp"},
};

void p3cfg__mesh_of_sizes(p3cfg__mesh *out, const uint32_t size[P3CFG__MESH_DIMS])
{
  uint32_t stride = 1;
  for (int d = 0; d < P3CFG__MESH_DIMS; d++) {
    assert(size[d] >= 1);
    out->size[d] = size[d];
    out->stride[d] = stride;
    stride *= size[d];
  }
  out->ranks = stride;
}

/* One walk of the table (the time model builds a mesh for every plan it scores). */
void p3cfg__mesh_of(p3cfg__mesh *out, const p3cfg_plan *plan)
{
  uint32_t stride = 1;
  for (int d = 0; d < P3CFG__MESH_DIMS; d++) {
    const size_t at = p3cfg__mesh_dims[d].plan_field;
    uint32_t size = at == P3CFG__MESH_NO_FIELD || p3cfg__mesh_dims[d].expert_only
                        ? 1
                        : *(const uint32_t *)((const char *)plan + at);
    if (size == 0) /* cp's "0 means 1" */
      size = 1;
    out->size[d] = size;
    out->stride[d] = stride;
    stride *= size;
  }
  out->ranks = stride;
}

void p3cfg__mesh_expert_of(p3cfg__mesh *out, const p3cfg_plan *plan)
{
  assert(plan->dp >= 1 && plan->tp >= 1 && plan->pp >= 1);
  assert((uint64_t)plan->dp * plan->tp * p3cfg__plan_cp(plan) %
             ((uint64_t)p3cfg__plan_ep(plan) * p3cfg__plan_etp(plan)) ==
         0);
  const uint32_t size[P3CFG__MESH_DIMS] = {
      [P3CFG__MESH_TP] = p3cfg__plan_etp(plan), [P3CFG__MESH_CP] = 1,
      [P3CFG__MESH_EP] = p3cfg__plan_ep(plan),  [P3CFG__MESH_DP] = p3cfg__plan_edp(plan),
      [P3CFG__MESH_PP] = plan->pp};
  p3cfg__mesh_of_sizes(out, size);
}
