/* perf_stub.c — placeholder until the time model lands (issue 3); removed by it. */
#include "perf.h"

#include "error.h"

size_t p3cfg__perf_workspace_bytes(const p3cfg_plan *plan)
{
  (void)plan;
  return 0;
}

int p3cfg__perf_plan(p3cfg_time *out, const p3cfg_model *m, const p3cfg_cluster *c,
                     const p3cfg_plan *plan, const uint32_t *rank_gpu, void *workspace,
                     size_t workspace_bytes)
{
  (void)out, (void)m, (void)c, (void)plan, (void)rank_gpu, (void)workspace,
      (void)workspace_bytes;
  return p3cfg__error_set(P3CFG_EUNSUPPORTED, "the time model is not built yet");
}
