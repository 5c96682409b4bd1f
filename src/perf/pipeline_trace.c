/*
 * pipeline_trace.c — one training step of a plan, operation by operation, for the
 * timeline picture: the time model is run as the search runs it (perf_plan.c), its
 * per-(rank, chunk) forward and backward times and per-stage send times are taken from
 * its workspace, and the schedule is simulated once more one event at a time, as
 * pipeline_sim.c's reference simulation does (the same program, p3cfg__pipe_program), recording each operation's start, end and
 * the arrival of its input. A test checks that the recorded end of every rank equals the
 * fast simulation's, so the picture shows exactly the schedule the ranking used.
 *
 * Program of rank j (Megatron-LM's 1F1B and interleaved 1F1B, pipeline_sim.c): w_j
 * warm-up forwards, then forward and backward alternately, then the remaining backwards;
 * micro-step k runs chunk (k mod pv)/p (backwards: v-1 minus it) of micro-batch
 * (k/pv)p + k mod p. What recomputation re-runs at the start of a backward is the
 * difference of the layer's backward with and without it (compute only: under full
 * recomputation the repeated tensor-parallel collectives stay in the backward part).
 */
#include "pipeline_trace.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "perf.h"
#include "plan_rules.h"

/* Run the schedule with recording: ft/bt hold the end of each (virtual stage,
 * micro-batch) forward/backward, -1 until it has run. */
static int simulate(p3cfg__pipe_trace *t, const p3cfg__pipe *pp, double *ft, double *bt,
                    uint64_t *pc, double *rank_end)
{
  const uint32_t p = pp->p, v = pp->v;
  const uint64_t m = pp->m, n = (uint64_t)p * v * m, ops = 2 * m * v;
  for (uint64_t i = 0; i < n; i++)
    ft[i] = bt[i] = -1.0;
  memset(pc, 0, p * sizeof *pc);
  memset(rank_end, 0, p * sizeof *rank_end);
  int progress = 1;
  while (progress) {
    progress = 0;
    for (uint32_t j = 0; j < p; j++) {
      while (pc[j] < ops) {
        const p3cfg__pipe_op o = p3cfg__pipe_program(pp, j, pc[j]);
        const uint64_t c = (uint64_t)o.chunk * p + j; /* virtual stage */
        double ready = 0.0, send = 0.0;
        if (o.fwd && c > 0) {
          const double src = ft[(c - 1) * m + o.mb];
          if (src < 0.0)
            break;
          send = pp->send_fwd_s[(c - 1) % p];
          ready = src + send;
        } else if (!o.fwd && c == (uint64_t)p * v - 1) {
          ready = ft[c * m + o.mb]; /* its own forward, already run */
        } else if (!o.fwd) {
          const double src = bt[(c + 1) * m + o.mb];
          if (src < 0.0)
            break;
          send = pp->send_bwd_s[j];
          ready = src + send;
        }
        p3cfg__pipe_event *e = &t->events[j * t->per_rank + pc[j]];
        e->start_s = ready > rank_end[j] ? ready : rank_end[j];
        e->end_s = e->start_s + (o.fwd ? pp->fwd_s : pp->bwd_s)[j * v + o.chunk];
        e->ready_s = ready;
        e->send_s = send;
        e->micro_batch = o.mb;
        e->chunk = o.chunk;
        e->backward = !o.fwd;
        (o.fwd ? ft : bt)[c * m + o.mb] = e->end_s;
        rank_end[j] = e->end_s;
        pc[j]++;
        progress = 1;
      }
    }
  }
  for (uint32_t j = 0; j < p; j++)
    if (pc[j] < ops)
      return p3cfg__error_set(P3CFG_EINTERNAL, "timeline: the schedule deadlocks on rank %u", j);
  return P3CFG_OK;
}

/* Recomputation at the start of each backward: nl x (backward with it - without it). */
static void recompute_times(double *out, const p3cfg_model *m, const p3cfg_cluster *c,
                            const p3cfg_plan *plan)
{
  p3cfg__rates r;
  p3cfg__dims d;
  p3cfg__layer_cost with, without;
  p3cfg__rates_of_plan(&r, m, &c->gpu, plan);
  p3cfg__dims_of(&d, m, plan);
  p3cfg__layer_cost_of(&with, &d, &r);
  d.recompute = P3CFG_RECOMPUTE_NONE;
  p3cfg__layer_cost_of(&without, &d, &r);
  const uint32_t v = plan->virtual_stages;
  for (uint32_t j = 0; j < plan->pp; j++)
    for (uint32_t k = 0; k < v; k++)
      out[j * v + k] = (double)p3cfg__chunk_layers(plan, j, k) * (with.bwd_s - without.bwd_s);
}

/* P3CFG_EUNSUPPORTED when a step of (p, v, m) has too many events to record. */
static int check_size(uint32_t p, uint32_t v, uint64_t m)
{
  const double events = 2.0 * (double)p * v * (double)m;
  if (events > (double)P3CFG__TRACE_MAX_EVENTS)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "timeline: the step has %.0f forward and backward operations, more "
                            "than the %u a picture draws",
                            events, P3CFG__TRACE_MAX_EVENTS);
  return P3CFG_OK;
}

int p3cfg__pipe_trace_run(p3cfg__pipe_trace *out, const p3cfg__pipe *pipe)
{
  memset(out, 0, sizeof *out);
  const uint32_t p = pipe->p, v = pipe->v;
  const uint64_t mb = pipe->m;
  int rc = check_size(p, v, mb);
  if (rc)
    return rc;
  const size_t n = (size_t)p * v * mb;
  double *scratch = p3cfg__malloc((2 * n + 2 * (size_t)p) * sizeof(double));
  out->events = p3cfg__malloc(2 * n * sizeof *out->events);
  if (!scratch || !out->events) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  out->p = p;
  out->v = v;
  out->m = mb;
  out->per_rank = 2 * (size_t)mb * v;
  double *rank_end = scratch + 2 * n;
  rc = simulate(out, pipe, scratch, scratch + n, (uint64_t *)(rank_end + p), rank_end);
  for (uint32_t j = 0; j < p && rc == P3CFG_OK; j++)
    if (rank_end[j] > out->pipeline_end_s)
      out->pipeline_end_s = rank_end[j];
done:
  p3cfg__free(scratch);
  if (rc)
    p3cfg__pipe_trace_dispose(out);
  return rc;
}

int p3cfg__pipe_trace_plan(p3cfg__pipe_trace *out, const p3cfg_model *m, const p3cfg_cluster *c,
                           const p3cfg_plan *plan, const uint32_t *rank_gpu)
{
  memset(out, 0, sizeof *out);
  int rc = check_size(plan->pp, plan->virtual_stages, p3cfg__plan_microbatches(plan));
  if (rc)
    return rc;
  const size_t ws_bytes = p3cfg__perf_workspace_bytes(plan);
  void *ws = p3cfg__malloc(ws_bytes);
  double *recompute = p3cfg__malloc((size_t)plan->pp * plan->virtual_stages * sizeof *recompute);
  p3cfg_time time;
  if (!ws || !recompute) {
    rc = p3cfg__error_nomem();
    goto done;
  }
  if ((rc = p3cfg__perf_plan(&time, m, c, plan, rank_gpu, ws, ws_bytes)) != 0)
    goto done;
  p3cfg__pipe pipe;
  p3cfg__perf_pipe_view(&pipe, plan, ws);
  if ((rc = p3cfg__pipe_trace_run(out, &pipe)) != 0)
    goto done;
  recompute_times(recompute, m, c, plan);
  out->recompute_s = recompute;
  recompute = NULL;
  out->time = time;
done:
  p3cfg__free(ws);
  p3cfg__free(recompute);
  return rc;
}

void p3cfg__pipe_trace_dispose(p3cfg__pipe_trace *t)
{
  p3cfg__free(t->events);
  p3cfg__free(t->recompute_s);
  memset(t, 0, sizeof *t);
}
