/*
 * pipeline_ds.c — the critical path of one pipeline under DeepSpeed's pipeline engine
 * (deepspeed/runtime/pipe/schedule.py TrainSchedule and pipe/engine.py @ v0.19.5,
 * docs/time-model-frameworks.md): a lock-step 1F1B whose sends and receives block.
 *
 * TrainSchedule runs 2(m + p - 1) steps on every stage. Stage s runs, at step T, the
 * forward of micro-batch i where T = 2i + s, the backward of i where T = 2i + 2p - 1 - s
 * (_step_to_micro_batch), or nothing where that i is not in [0, m). A step's
 * instructions run in order: a forward step SendGrad(previous micro-batch) to s - 1 then
 * RecvActivation from s - 1; a backward step RecvGrad from s + 1 then
 * SendActivation(previous) to s + 1; then the pass. p2p.send / p2p.recv are
 * torch.distributed.send / recv with async_op=False (p2p.py asserts it): each transfer is
 * a rendezvous of the two stages, both busy from the later arrival to its end. So at
 * step T exactly the pairs (s, s + 1) with s on a backward step exchange (the gradient
 * of the micro-batch s + 1 finished in its last step, then the activation s finished in
 * its last step), and nothing of the transfer overlaps a pass: unlike Megatron-LM's
 * program (pipeline_sim.c), a stage cannot run ahead of its neighbours.
 *
 * The state is one time and one critical-path send tag per stage, and each pair of
 * steps is a max-plus linear map of the previous pair's state; in the steady range
 * (every stage's micro-batch valid both steps) the map is the same each period, so once
 * a period's state is the previous period's plus one constant the simulation jumps to
 * the end of the steady range (exact: the next periods repeat that shift). Otherwise it
 * simulates every step, O(p (m + p)).
 */
#include "perf_internal.h"

#include <math.h>
#include <string.h>

/* The micro-batch stage s runs at step T, and whether it is a forward. */
static int64_t mb_at(int64_t T, int64_t s, int64_t p, int *fwd)
{
  *fwd = (T & 1) == (s & 1);
  return *fwd ? (T - s) / 2 : (T - 2 * p + 1 + s) / 2;
}

static int same_shift(const double *cur, const double *old, uint32_t n, double d)
{
  for (uint32_t i = 0; i < n; i++)
    if (fabs(cur[i] - old[i] - d) > 1e-13 * fabs(cur[i]) + 1e-15)
      return 0;
  return 1;
}

/* One schedule step T of every stage: the exchanges of the pairs meeting at T, then the
 * passes. t: each stage's time, c: the send time on the critical path ending there. */
static void step(p3cfg__pipe_result *out, const p3cfg__pipe *pp, int64_t T, double *t, double *c)
{
  const int64_t p = pp->p, m = (int64_t)pp->m;
  for (int64_t s = 0; s + 1 < p; s++) {
    int fwd_s, fwd_n;
    const int64_t i = mb_at(T, s, p, &fwd_s);
    if (fwd_s)
      continue; /* s meets s - 1 at this step */
    const int64_t prev = mb_at(T - 1, s, p, &fwd_n); /* s's forward of the last step */
    const int grad = i >= 0 && i < m, act = T > 0 && prev >= 0 && prev < m;
    const double d = (grad ? pp->send_bwd_s[s] : 0.0) + (act ? pp->send_fwd_s[s] : 0.0);
    if (!grad && !act)
      continue;
    const int later = t[s + 1] > t[s];
    const double start = later ? t[s + 1] : t[s], tag = (later ? c[s + 1] : c[s]) + d;
    t[s] = t[s + 1] = start + d;
    c[s] = c[s + 1] = tag;
  }
  for (int64_t s = 0; s < p; s++) {
    int fwd;
    const int64_t i = mb_at(T, s, p, &fwd);
    if (i < 0 || i >= m)
      continue;
    if (fwd && i == 0)
      out->first_fwd_s[s] = t[s];
    if (!fwd && i == m - 1)
      out->last_bwd_s[s] = t[s];
    t[s] += fwd ? pp->fwd_s[s] : pp->bwd_s[s];
  }
}

int p3cfg__pipe_simulate_deepspeed(p3cfg__pipe_result *out, const p3cfg__pipe *pp, void *ws,
                                   size_t ws_bytes)
{
  const uint32_t p = pp->p;
  if (pp->v != 1 || ws_bytes < 4 * (size_t)p * sizeof(double))
    return -1;
  double *t = ws, *c = t + p, *old_t = c + p, *old_c = old_t + p;
  memset(ws, 0, 4 * (size_t)p * sizeof(double));
  const int64_t ip = p, m = (int64_t)pp->m, total = 2 * (m + ip - 1);
  /* Steady range: steps 2p - 1 .. 2m - 2, every stage's forward and backward valid; the
   * periods compared are the pairs of steps (T, T + 1) starting at odd T in it. */
  const int64_t steady_lo = 2 * ip - 1, steady_hi = 2 * m - 2;
  out->steps = 0;
  int jumped = 0, have_old = 0;
  for (int64_t T = 0; T < total; T++) {
    step(out, pp, T, t, c);
    out->steps++;
    /* After a whole period (T - 1, T) inside the steady range. */
    if (jumped || T < steady_lo + 1 || T + 2 > steady_hi || ((T - steady_lo) & 1) != 1)
      continue;
    if (have_old) {
      const double dt = t[0] - old_t[0], dc = c[0] - old_c[0];
      if (same_shift(t, old_t, p, dt) && same_shift(c, old_c, p, dc)) {
        /* Periods (T + 1, T + 2), ... up to the last whole one inside the range. */
        const int64_t periods = (steady_hi - T) / 2 - 1;
        if (periods > 0) {
          for (uint32_t s = 0; s < p; s++)
            t[s] += (double)periods * dt, c[s] += (double)periods * dc;
          T += 2 * periods;
        }
        jumped = 1;
        continue;
      }
    }
    memcpy(old_t, t, p * sizeof(double));
    memcpy(old_c, c, p * sizeof(double));
    have_old = 1;
  }
  for (uint32_t s = 0; s < p; s++) {
    out->end_s[s] = t[s];
    out->end_comm_s[s] = c[s];
  }
  return 0;
}
