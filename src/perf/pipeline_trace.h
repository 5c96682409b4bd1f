/*
 * pipeline_trace.h — every forward and backward of one training step with its start
 * and end, for pictures (report/svg_timeline.c). It re-runs the time model of a plan
 * and then the pipeline schedule one event at a time with recording, apart from the
 * search's hot path, which it leaves untouched (pipeline_sim.c's fast simulation
 * records nothing).
 */
#ifndef P3CFG_PIPELINE_TRACE_H
#define P3CFG_PIPELINE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "perf_internal.h"

/* Most events a trace holds: 2 x pp x virtual stages x micro-batches. */
#define P3CFG__TRACE_MAX_EVENTS (1u << 20)

typedef struct p3cfg__pipe_event {
  double start_s, end_s;
  double ready_s;  /* when its input had arrived (0 for the first stage's forwards) */
  double send_s;   /* the send that carried the input (0 when none) */
  uint64_t micro_batch;
  uint32_t chunk;  /* virtual stage of the rank, 0..v-1 */
  uint32_t backward;
} p3cfg__pipe_event;

typedef struct p3cfg__pipe_trace {
  uint32_t p, v;
  uint64_t m;
  size_t per_rank;            /* events of each rank: 2 m v */
  p3cfg__pipe_event *events;  /* [j * per_rank + q]: rank j's q-th operation, in order */
  double *recompute_s;        /* [j * v + k]: what a backward of chunk k re-runs first */
  double pipeline_end_s;      /* end of the last backward */
  p3cfg_time time;            /* the time model's answer for the same plan and map */
} p3cfg__pipe_trace;

/* Trace a resolved, valid plan on `rank_gpu` (NULL: rank r on GPU r). Returns 0,
 * P3CFG_EUNSUPPORTED when the step has more than P3CFG__TRACE_MAX_EVENTS events, or
 * P3CFG_ENOMEM / the time model's error (last error set). Dispose with
 * p3cfg__pipe_trace_dispose. */
int p3cfg__pipe_trace_plan(p3cfg__pipe_trace *out, const p3cfg_model *m, const p3cfg_cluster *c,
                           const p3cfg_plan *plan, const uint32_t *rank_gpu);
void p3cfg__pipe_trace_dispose(p3cfg__pipe_trace *t);

/* The recording simulation alone, on a given pipeline: fills out's p, v, m, per_rank,
 * events and pipeline_end_s (recompute_s stays NULL, time zero). Returns 0,
 * P3CFG_EUNSUPPORTED (too many events) or P3CFG_ENOMEM. For tests: each rank's last
 * event ends where p3cfg__pipe_simulate says the rank ends. */
int p3cfg__pipe_trace_run(p3cfg__pipe_trace *out, const p3cfg__pipe *pipe);

/* The pipeline perf_plan.c simulated in its workspace, after p3cfg__perf_plan returned 0
 * on it (perf_plan.c): arrays point into `workspace`. */
void p3cfg__perf_pipe_view(p3cfg__pipe *out, const p3cfg_plan *plan, const void *workspace);

#endif
