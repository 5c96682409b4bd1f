/*
 * fuzz_plan_file.c — libFuzzer target for p3cfg_plan_file_load_string, the reader of the
 * plan JSON of spec §6 that `p3cfg export` consumes (src/parse/plan_file.c).
 *
 * Every input must satisfy the oracles of fuzz_common.h. A plan file that loads must be
 * consistent as its documentation promises (dp*tp*pp ranks in rank order, each on a node
 * of its cluster and a GPU below gpus_per_node, the layers split over pp stages), and is
 * then exported to every launcher format: each export either succeeds with text or says
 * P3CFG_EUNSUPPORTED with a message, never anything else.
 */
#include "fuzz_common.h"

static void check_plan(const p3cfg_plan_file *f, size_t i)
{
  const p3cfg_plan *p = p3cfg_plan_file_plan(f, i);
  const p3cfg_plan_model *m = p3cfg_plan_file_model(f, i);
  const p3cfg_plan_cluster *c = p3cfg_plan_file_cluster(f, i);
  size_t n = 0;
  const p3cfg_rank_place *pl = p3cfg_plan_file_placement(f, i, &n);
  FUZZ_CHECK(p && m && c && pl);
  FUZZ_CHECK(p->dp > 0 && p->tp > 0 && p->pp > 0 && p->pp <= P3CFG_MAX_PP);
  FUZZ_CHECK(n == (size_t)p->dp * p->tp * (p->cp ? p->cp : 1) * p->pp);
  FUZZ_CHECK(p->n_stage_layers == p->pp);
  uint64_t layers = 0;
  for (uint32_t s = 0; s < p->pp; s++)
    layers += p->stage_layers[s];
  FUZZ_CHECK(layers == m->layers);
  FUZZ_CHECK(m->name && c->name && c->gpu && c->node_names);
  for (uint32_t k = 0; k < c->nodes; k++)
    FUZZ_CHECK(c->node_names[k] != NULL);
  for (size_t r = 0; r < n; r++) {
    FUZZ_CHECK(pl[r].rank == r);
    FUZZ_CHECK(pl[r].node < c->nodes && pl[r].gpu < c->gpus_per_node);
    FUZZ_CHECK(pl[r].tp == r % p->tp);
    FUZZ_CHECK(pl[r].dp == (r / p->tp) % p->dp);
    FUZZ_CHECK(pl[r].pp == r / ((size_t)p->tp * p->dp));
  }
  for (int fmt = P3CFG_EXPORT_MEGATRON; fmt <= P3CFG_EXPORT_HOSTFILE; fmt++) {
    p3cfg_buffer b = {0};
    int rc = p3cfg_export(&b, f, i, (p3cfg_export_format)fmt);
    FUZZ_CHECK(rc == P3CFG_OK || rc == P3CFG_EUNSUPPORTED);
    if (rc == P3CFG_OK)
      FUZZ_CHECK(b.data && b.len > 0 && strlen(b.data) == b.len);
    else
      FUZZ_CHECK(fuzz_one_line(p3cfg_error_last()->message));
    p3cfg_buffer_dispose(&b);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  p3cfg_plan_file *f = NULL;
  p3cfg_diagnostics *d = NULL;
  int rc = p3cfg_plan_file_load_string(&f, (const char *)data, size, "fuzz.json", &d);
  FUZZ_CHECK((rc == P3CFG_OK) == (f != NULL));
  fuzz_check_diags(d, rc, "fuzz.json");
  p3cfg_diagnostics_free(d);
  if (!f)
    return 0;
  const size_t n = p3cfg_plan_file_count(f);
  FUZZ_CHECK(n > 0);
  FUZZ_CHECK(p3cfg_plan_file_plan(f, n) == NULL);
  for (size_t i = 0; i < n && i < 16; i++)
    check_plan(f, i);
  p3cfg_buffer b = {0};
  FUZZ_CHECK(p3cfg_export(&b, f, n, P3CFG_EXPORT_MEGATRON) == P3CFG_EINVALID);
  p3cfg_buffer_dispose(&b);
  p3cfg_plan_file_free(f);
  return 0;
}
