/*
 * mesh.c — the table of parallel dimensions (mesh.h) and a plan's mesh built from it.
 * The order of the table is the rank order (Megatron-Core's: tp, cp, ep, dp, pp, the
 * first fastest), so each stride is the product of the sizes before it.
 */
#include "mesh.h"

const p3cfg__mesh_dim_info p3cfg__mesh_dims[P3CFG__MESH_DIMS] = {
    [P3CFG__MESH_TP] = {"tensor", "tp", offsetof(p3cfg_plan, tp)},
    [P3CFG__MESH_CP] = {"context", "cp", P3CFG__MESH_NO_FIELD},
    [P3CFG__MESH_EP] = {"expert", "ep", P3CFG__MESH_NO_FIELD},
    [P3CFG__MESH_DP] = {"data", "dp", offsetof(p3cfg_plan, dp)},
    [P3CFG__MESH_PP] = {"pipeline", "pp", offsetof(p3cfg_plan, pp)},
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
    const uint32_t size =
        at == P3CFG__MESH_NO_FIELD ? 1 : *(const uint32_t *)((const char *)plan + at);
    assert(size >= 1);
    out->size[d] = size;
    out->stride[d] = stride;
    stride *= size;
  }
  out->ranks = stride;
}
