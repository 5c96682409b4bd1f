/*
 * pipeline_sim.c — the critical path of one pipeline through a training step, for
 * Megatron-LM's 1F1B and interleaved 1F1B schedules (Narayanan et al., SC'21, Sec. 2.2;
 * megatron/core/pipeline_parallel/schedules.py): each rank runs its program of forward
 * and backward micro-steps in order, an operation starts when the rank is free and its
 * input has arrived (producer's end + send time), and the step ends when the last
 * backward does. Stages and links may all differ, so a slow stage or link delays what
 * really depends on it, not a closed form (m + p - 1) t.
 *
 * Program of rank j (of p, v chunks, m micro-batches, mv micro-steps each way):
 * w_j warm-up forwards, then alternately forward micro-step w_j+i and backward i, then
 * the remaining backwards. 1F1B: w_j = min(p-1-j, m). Interleaved: w_j = 2(p-1-j) +
 * (v-1)p, at most mv (get_pp_rank_microbatches; Megatron-LM no longer runs every
 * forward first when m == p); micro-step k runs chunk (k mod pv)/p (backward: v-1
 * minus it) of micro-batch (k/pv)p + k mod p (get_schedule_table with the default
 * microbatch_group_size_per_vp_stage = p).
 *
 * Fast path (exact). Call "step" the pair (forward w_j+s, backward s) of rank j. For
 * 1F1B every dependency of step s is the previous step of rank j-1 (forward) or the
 * same step of rank j+1 (backward, computed first by sweeping j downwards). For the
 * interleaved order, skewing rank j by p-1-j steps puts every cross-rank dependency
 * exactly one skewed step back (the wrap-around sends included), so the whole state is
 * O(p) numbers per step, a max-plus linear map of the previous step's. The map is
 * periodic (1 step for 1F1B, pv for interleaved); once the state equals the state c
 * periods earlier plus a constant (c up to the critical cycle's cyclicity: p for 1F1B,
 * 2 interleaved), all further steady periods are that same shift, and the simulation
 * jumps to the cool-down. Warm-up and cool-down are simulated exactly; if the steady
 * state is not seen to repeat, the simulation just goes on (still exact). The states
 * of the last steps live in a ring of slots that is both the simulation's working
 * state and the history the repetition test looks back into. Cases outside these rules
 * (m < p-1 for 1F1B, m == p interleaved) are small and run the reference event
 * simulation. Cost: about 2p + transient steps of p ranks for 1F1B, (3v + 2)p steps for
 * interleaved.
 *
 * Each event also carries the send time on the critical path that ends at it, so the
 * caller can split idle time into communication and bubble.
 */
#include "perf_internal.h"
#include "perf.h"
#include "error.h"
#include "plan_rules.h"

#include <math.h>
#include <string.h>

/* Start an op after the rank's last one and its input (dep_s: arrival, dep_comm_s: the
 * critical-path send time to that arrival); returns the start, sets the tag. */
static inline double start_after(double last_s, double last_comm_s, double dep_s,
                                 double dep_comm_s, double *comm_s)
{
  const int wait = dep_s > last_s;
  *comm_s = wait ? dep_comm_s : last_comm_s;
  return wait ? dep_s : last_s;
}

static int fast_path_applies(const p3cfg__pipe *pp)
{
  if (pp->v == 1)
    return pp->m + 1 >= pp->p;
  return pp->m >= 2ull * pp->p;
}

size_t p3cfg__pipe_ws_bytes_reference(uint32_t p, uint32_t v, uint64_t m)
{
  return (4u * (size_t)p * v * (size_t)m + p) * sizeof(double);
}

/* The states of the last steps, kept in a ring: the simulation writes each step's state
 * into the next slot, and the periodicity test compares it with the slot c periods back.
 * Cyclicity searched for (in periods of the step map): the critical cycles of 1F1B span
 * at most p ranks, so its periodic regime repeats within p steps; interleaved states are
 * compared one and two periods (2pv steps) back. Longer ones simulate on, still exact. */
static uint32_t max_cyclicity(uint32_t p, uint32_t v)
{
  if (v > 1)
    return 2;
  return p < 2 ? 2 : p < 64 ? p : 64; /* memory stays O(64 p) on very deep pipelines */
}

static uint32_t history_slots(uint32_t p, uint32_t v)
{
  return max_cyclicity(p, v) * (v > 1 ? p * v : 1) + 1;
}

size_t p3cfg__pipe_ws_bytes(uint32_t p, uint32_t v, uint64_t m)
{
  const p3cfg__pipe probe = {p, v, m, NULL, NULL, NULL, NULL};
  if (!fast_path_applies(&probe))
    return p3cfg__pipe_ws_bytes_reference(p, v, m);
  const size_t slots = (size_t)history_slots(p, v) * 4 * p;
  return (2 * (size_t)p + slots) * sizeof(double);
}

/* ---- periodic steady state ------------------------------------------------------------ */

typedef struct history {
  double *slots;    /* n slots of 4p values: forward end, its comm tag, backward, tag */
  uint32_t p, cmax; /* ranks, largest cyclicity looked for (in periods) */
  uint32_t period;  /* steps per period of the step map */
  uint32_t n;       /* slots */
  uint32_t count;   /* steps stored */
  uint32_t head;    /* slot of the latest step */
} history;

static inline double *slot_of(const history *h, uint32_t i)
{
  return h->slots + (size_t)i * 4 * h->p;
}

/* Move to the next slot and return it (its old content is stale until written). */
static double *history_next(history *h)
{
  h->head = h->head + 1 == h->n ? 0 : h->head + 1;
  h->count++;
  return slot_of(h, h->head);
}

static double *history_latest(const history *h)
{
  return slot_of(h, h->head);
}

static int same_shift(const double *cur, const double *old, uint32_t n, double dt)
{
  for (uint32_t i = 0; i < n; i++)
    if (fabs(cur[i] - old[i] - dt) > 1e-13 * fabs(cur[i]) + 1e-15)
      return 0;
  return 1;
}

/* When the latest state (fully written: a steady step) is a constant shift (times by
 * dt, comm tags by dc) of the state c periods back, return c. */
static uint32_t history_check(const history *h, double *dt, double *dc)
{
  const uint32_t p = h->p;
  const double *cur = slot_of(h, h->head);
  for (uint32_t c = 1; c <= h->cmax && c * h->period < h->count; c++) {
    const uint32_t back = c * h->period;
    const double *old = slot_of(h, h->head >= back ? h->head - back : h->head + h->n - back);
    const double t = cur[0] - old[0], k = cur[p] - old[p];
    /* Cheap filter on the last rank's backward first, then everything. */
    if (fabs(cur[3 * p - 1] - old[3 * p - 1] - t) > 1e-13 * fabs(cur[3 * p - 1]) + 1e-15)
      continue;
    if (same_shift(cur, old, p, t) && same_shift(cur + p, old + p, p, k) &&
        same_shift(cur + 2 * p, old + 2 * p, p, t) &&
        same_shift(cur + 3 * p, old + 3 * p, p, k)) {
      *dt = t;
      *dc = k;
      return c;
    }
  }
  return 0;
}

/* Jump `periods` periods ahead: the latest state and the ranks' last ends shift. */
static void history_shift(history *h, double *last, double *lastc, double dt, double dc)
{
  const uint32_t p = h->p;
  double *cur = slot_of(h, h->head);
  for (uint32_t j = 0; j < p; j++) {
    cur[j] += dt, cur[p + j] += dc, cur[2 * p + j] += dt, cur[3 * p + j] += dc;
    last[j] += dt, lastc[j] += dc;
  }
  h->count = 1; /* older slots are no longer one period apart */
}

/* ---- 1F1B ---------------------------------------------------------------------------- */

static void simulate_1f1b(p3cfg__pipe_result *out, const p3cfg__pipe *pp, double *ws)
{
  const uint32_t p = pp->p;
  const int64_t m = (int64_t)pp->m, ip = (int64_t)p;
  const double *F = pp->fwd_s, *B = pp->bwd_s, *cf = pp->send_fwd_s, *cb = pp->send_bwd_s;
  double *last = ws, *lastc = ws + p;
  history h = {ws + 2 * p, p, max_cyclicity(p, 1), 1, history_slots(p, 1), 0, 0};
  memset(ws, 0, 2 * p * sizeof(double));

  /* Steps where every rank runs a forward and a backward: s in [0, m - p]. The jump
   * stops short of step m - 1, whose backward starts are recorded. */
  const int64_t steady_end = m - ip < m - 2 ? m - ip : m - 2;
  int jumped = 0;
  out->steps = 0;
  for (int64_t s = -(ip - 1); s < m; s++) {
    out->steps++;
    const double *pf = history_latest(&h), *pfc = pf + p;
    double *nf = history_next(&h), *nfc = nf + p, *nb = nf + 2 * p, *nbc = nf + 3 * p;
    /* Rank j runs the forward of micro-batch s + p-1-j when that is in [0, m); its input
     * is rank j-1's forward of the previous step. */
    const int64_t lo = s + ip - m > 0 ? s + ip - m : 0;
    const int64_t hi = s + ip - 1 < ip - 1 ? s + ip - 1 : ip - 1;
    const int64_t first = s <= 0 ? s + ip - 1 : -1; /* the rank starting micro-batch 0 */
    for (int64_t j = lo; j <= hi; j++) {
      double comm, start;
      if (j > 0)
        start = start_after(last[j], lastc[j], pf[j - 1] + cf[j - 1], pfc[j - 1] + cf[j - 1],
                            &comm);
      else
        start = last[0], comm = lastc[0];
      if (j == first)
        out->first_fwd_s[j] = start;
      nf[j] = last[j] = start + F[j];
      nfc[j] = lastc[j] = comm;
    }
    if (s < 0) {
      h.count = 0; /* warm-up states are partly unwritten: never compare against them */
      continue;
    }
    /* Backward of micro-batch s on every rank, from the last one (whose input is its own
     * forward, just run) down. */
    if (s == m - 1)
      out->last_bwd_s[p - 1] = last[p - 1];
    nb[p - 1] = last[p - 1] = last[p - 1] + B[p - 1];
    nbc[p - 1] = lastc[p - 1];
    for (uint32_t j = p - 1; j-- > 0;) {
      double comm;
      const double start = start_after(last[j], lastc[j], nb[j + 1] + cb[j],
                                       nbc[j + 1] + cb[j], &comm);
      if (s == m - 1)
        out->last_bwd_s[j] = start;
      nb[j] = last[j] = start + B[j];
      nbc[j] = lastc[j] = comm;
    }
    if (!jumped && s <= steady_end) {
      double dt, dc;
      const uint32_t c = history_check(&h, &dt, &dc);
      if (c) {
        const int64_t periods = (steady_end - s) / (int64_t)c;
        s += periods * (int64_t)c;
        history_shift(&h, last, lastc, (double)periods * dt, (double)periods * dc);
        jumped = 1;
      }
    }
  }
  for (uint32_t j = 0; j < p; j++) {
    out->end_s[j] = last[j];
    out->end_comm_s[j] = lastc[j];
  }
}

/* ---- interleaved 1F1B ------------------------------------------------------------------ */

static void simulate_interleaved(p3cfg__pipe_result *out, const p3cfg__pipe *pp, double *ws)
{
  const uint32_t p = pp->p, v = pp->v;
  const int64_t ip = (int64_t)p, pv = ip * v, mv = (int64_t)pp->m * v;
  const double *F = pp->fwd_s, *B = pp->bwd_s, *cf = pp->send_fwd_s, *cb = pp->send_bwd_s;
  double *last = ws, *lastc = ws + p;
  history h = {ws + 2 * p, p, max_cyclicity(p, v), p * v, history_slots(p, v), 0, 0};
  memset(ws, 0, 2 * p * sizeof(double));

  const int64_t last_b_step = mv - (int64_t)(v - 1) * ip - 1; /* chunk v-1, micro-batch m-1 */
  /* Skewed step t: rank j runs its step s = t - (p-1-j): forward micro-step
   * kf = K - j with K = t - t_first, backward micro-step s = S0 + j. Every rank is in
   * steady 1F1B for t in [p-1, (m-p)v]; the map has period pv. Micro-step g (mod pv)
   * runs chunk g / p, so within one step the forwards of ranks 0..rf run chunk kf
   * (K = kf p + rf mod pv) and the others the chunk before; the backwards likewise. */
  const int64_t t_first = -(ip - 1) - (int64_t)(v - 1) * ip, t_end = ip - 2 + mv;
  const int64_t steady_lo = ip - 1, steady_hi = ((int64_t)pp->m - ip) * v;
  const int64_t gb0 = ((t_first - (ip - 1)) % pv + pv) % pv; /* S0 mod pv at t_first */
  uint32_t rf = 0, kf = 0, rb = (uint32_t)(gb0 % ip), kb = (uint32_t)(gb0 / ip);
  int jumped = 0;
  out->steps = 0;
  for (int64_t t = t_first; t <= t_end; t++) {
    out->steps++;
    const int64_t K = t - t_first, S0 = t - (ip - 1);
    const double *pf = history_latest(&h), *pfc = pf + p, *pb = pf + 2 * p, *pbc = pf + 3 * p;
    double *nf = history_next(&h), *nfc = nf + p, *nb = nf + 2 * p, *nbc = nf + 3 * p;
    /* Forwards: ranks j with 0 <= K - j < mv. */
    const int64_t flo = K - mv + 1 > 0 ? K - mv + 1 : 0, fhi = K < ip - 1 ? K : ip - 1;
    int64_t j = flo;
    if (j == 0 && j <= fhi) { /* rank 0: its input comes from the last rank's chunk before */
      double comm, start;
      if (kf > 0)
        start = start_after(last[0], lastc[0], pf[p - 1] + cf[p - 1], pfc[p - 1] + cf[p - 1],
                            &comm);
      else
        start = last[0], comm = lastc[0];
      if (rf == 0 && K < pv) /* micro-batch 0 of chunk kf */
        out->first_fwd_s[kf] = start;
      nf[0] = last[0] = start + F[kf];
      nfc[0] = lastc[0] = comm;
      j = 1;
    }
    for (uint32_t seg = 0; seg < 2; seg++) {
      const uint32_t k = seg == 0 ? kf : (kf ? kf - 1 : v - 1);
      const int64_t end = seg == 0 ? ((int64_t)rf < fhi ? (int64_t)rf : fhi) : fhi;
      for (; j <= end; j++) {
        double comm;
        const double start = start_after(last[j], lastc[j], pf[j - 1] + cf[j - 1],
                                          pfc[j - 1] + cf[j - 1], &comm);
        if (seg == 0 && j == (int64_t)rf && K - j < pv)
          out->first_fwd_s[j * v + k] = start;
        nf[j] = last[j] = start + F[j * v + k];
        nfc[j] = lastc[j] = comm;
      }
    }
    /* Backwards: ranks j with 0 <= S0 + j < mv; ranks below p - rb run backward chunk
     * v-1-kb, the others the chunk before it. */
    const int64_t blo = -S0 > 0 ? -S0 : 0, bhi = mv - 1 - S0 < ip - 1 ? mv - 1 - S0 : ip - 1;
    const int64_t jlb = last_b_step - S0; /* the rank starting its recorded backward */
    const int64_t bmid = bhi < ip - 1 ? bhi : ip - 2;
    j = blo;
    for (uint32_t seg = 0; seg < 2; seg++) {
      const uint32_t k = v - 1 - (seg == 0 ? kb : (kb + 1 == v ? 0 : kb + 1));
      const int64_t end = seg == 0 ? (ip - 1 - rb < bmid ? ip - 1 - rb : bmid) : bmid;
      for (; j <= end; j++) {
        double comm;
        const double start = start_after(last[j], lastc[j], pb[j + 1] + cb[j],
                                          pbc[j + 1] + cb[j], &comm);
        if (j == jlb)
          out->last_bwd_s[j] = start;
        nb[j] = last[j] = start + B[j * v + k];
        nbc[j] = lastc[j] = comm;
      }
    }
    if (bhi == ip - 1 && blo <= bhi) { /* the last rank: input from rank 0, or its own */
      const uint32_t kk = kb + (rb > 0 ? 1u : 0u) == v ? 0 : kb + (rb > 0 ? 1u : 0u);
      const uint32_t k = v - 1 - kk;
      double comm, start;
      if (k < v - 1)
        start = start_after(last[p - 1], lastc[p - 1], pb[0] + cb[p - 1], pbc[0] + cb[p - 1],
                            &comm);
      else /* the last virtual stage's own forward, run this step */
        start = start_after(last[p - 1], lastc[p - 1], nf[p - 1], nfc[p - 1], &comm);
      if (ip - 1 == jlb)
        out->last_bwd_s[p - 1] = start;
      nb[p - 1] = last[p - 1] = start + B[(p - 1) * v + k];
      nbc[p - 1] = lastc[p - 1] = comm;
    }
    if (++rf == p) /* next step: K and S0 advance by one micro-step */
      rf = 0, kf = kf + 1 == v ? 0 : kf + 1;
    if (++rb == p)
      rb = 0, kb = kb + 1 == v ? 0 : kb + 1;
    if (t < steady_lo)
      h.count = 0; /* warm-up states are partly unwritten: never compare against them */
    if (!jumped && t >= steady_lo && t <= steady_hi) {
      double dt, dc;
      const uint32_t c = history_check(&h, &dt, &dc);
      if (c) {
        const int64_t periods = (steady_hi - t) / (pv * (int64_t)c);
        t += periods * pv * (int64_t)c; /* whole periods: the chunk phases are unchanged */
        history_shift(&h, last, lastc, (double)periods * dt, (double)periods * dc);
        jumped = 1;
      }
    }
  }
  for (uint32_t j = 0; j < p; j++) {
    out->end_s[j] = last[j];
    out->end_comm_s[j] = lastc[j];
  }
}

int p3cfg__pipe_simulate(p3cfg__pipe_result *out, const p3cfg__pipe *pp, void *ws,
                         size_t ws_bytes)
{
  if (!fast_path_applies(pp))
    return p3cfg__pipe_simulate_reference(out, pp, ws, ws_bytes);
  if (ws_bytes < p3cfg__pipe_ws_bytes(pp->p, pp->v, pp->m))
    return -1;
  if (pp->v == 1)
    simulate_1f1b(out, pp, ws);
  else
    simulate_interleaved(out, pp, ws);
  return 0;
}

/* ---- reference: one event at a time ------------------------------------------------------ */

p3cfg__pipe_op p3cfg__pipe_program(const p3cfg__pipe *pp, uint32_t j, uint64_t q)
{
  const uint64_t p = pp->p, v = pp->v, m = pp->m, mv = m * v;
  uint64_t w;
  if (v == 1)
    w = p - 1 - j < m ? p - 1 - j : m;
  else {
    w = 2 * (p - 1 - j) + (v - 1) * p;
    if (w > mv)
      w = mv;
  }
  p3cfg__pipe_op op;
  if (q < w) {
    op.fwd = 1;
    op.step = q;
  } else if (q < 2 * mv - w) {
    op.fwd = (q - w) % 2 == 0;
    op.step = op.fwd ? w + (q - w) / 2 : (q - w) / 2;
  } else {
    op.fwd = 0;
    op.step = q - mv;
  }
  const uint64_t g = op.step % (p * v);
  op.chunk = (uint32_t)(g / p);
  if (!op.fwd)
    op.chunk = (uint32_t)(v - 1 - op.chunk);
  op.mb = op.step / (p * v) * p + g % p;
  return op;
}

int p3cfg__pipe_simulate_reference(p3cfg__pipe_result *out, const p3cfg__pipe *pp, void *ws,
                                   size_t ws_bytes)
{
  const uint32_t p = pp->p, v = pp->v;
  const uint64_t m = pp->m, n = (uint64_t)p * v * m, ops = 2 * m * v;
  if (ws_bytes < p3cfg__pipe_ws_bytes_reference(p, v, m))
    return -1;
  double *ft = ws, *fc = ft + n, *bt = fc + n, *bc = bt + n;
  uint64_t *pc = (uint64_t *)(bc + n);
  for (uint64_t i = 0; i < n; i++)
    ft[i] = bt[i] = -1.0; /* not run yet */
  memset(pc, 0, p * sizeof(uint64_t));
  for (uint32_t j = 0; j < p; j++)
    out->end_s[j] = out->end_comm_s[j] = 0.0;

  const uint64_t last_b_step = m * v - (uint64_t)(v - 1) * p - 1;
  int progress = 1;
  while (progress) {
    progress = 0;
    for (uint32_t j = 0; j < p; j++) {
      while (pc[j] < ops) {
        const p3cfg__pipe_op op = p3cfg__pipe_program(pp, j, pc[j]);
        const uint64_t c = (uint64_t)op.chunk * p + j; /* virtual stage */
        double dep = 0.0, dep_comm = 0.0, comm, start;
        if (op.fwd && c > 0) {
          const uint64_t src = (c - 1) * m + op.mb;
          if (ft[src] < 0.0)
            break;
          dep = ft[src] + pp->send_fwd_s[(c - 1) % p];
          dep_comm = fc[src] + pp->send_fwd_s[(c - 1) % p];
        } else if (!op.fwd && c == (uint64_t)p * v - 1) {
          dep = ft[c * m + op.mb];
          dep_comm = fc[c * m + op.mb];
        } else if (!op.fwd) {
          const uint64_t src = (c + 1) * m + op.mb;
          if (bt[src] < 0.0)
            break;
          dep = bt[src] + pp->send_bwd_s[j];
          dep_comm = bc[src] + pp->send_bwd_s[j];
        }
        start = start_after(out->end_s[j], out->end_comm_s[j], dep, dep_comm, &comm);
        const uint64_t at = c * m + op.mb;
        if (op.fwd) {
          if (op.mb == 0)
            out->first_fwd_s[j * v + op.chunk] = start;
          ft[at] = start + pp->fwd_s[j * v + op.chunk];
          fc[at] = comm;
          out->end_s[j] = ft[at];
        } else {
          if (op.step == last_b_step)
            out->last_bwd_s[j] = start;
          bt[at] = start + pp->bwd_s[j * v + op.chunk];
          bc[at] = comm;
          out->end_s[j] = bt[at];
        }
        out->end_comm_s[j] = comm;
        pc[j]++;
        progress = 1;
      }
    }
  }
  out->steps = ops;
  for (uint32_t j = 0; j < p; j++)
    if (pc[j] < ops)
      return -2; /* a schedule that deadlocks: a bug, never a valid plan */
  return 0;
}

/* ---- the workspace limit ------------------------------------------------------------- */

int p3cfg__perf_workspace_check(const p3cfg_plan *plan)
{
  const size_t need = p3cfg__perf_workspace_bytes(plan);
  if (need <= P3CFG__PERF_WORKSPACE_MAX)
    return P3CFG_OK;
  return p3cfg__error_set(P3CFG_EPLAN,
                          "the pipeline simulation of pp %u x vpp %u x %llu micro-batches needs "
                          "%.1f GB of workspace, more than the %zu GiB limit "
                          "(docs/input-limits.md)",
                          plan->pp, plan->virtual_stages,
                          (unsigned long long)p3cfg__plan_microbatches(plan), (double)need / 1e9,
                          P3CFG__PERF_WORKSPACE_MAX >> 30);
}
