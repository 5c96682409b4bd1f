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
 * (v-1)p (all mv when m == p); micro-step k runs chunk (k mod pv)/p (backward: v-1
 * minus it) of micro-batch (k/pv)p + k mod p.
 *
 * Fast path (exact). Call "step" the pair (forward w_j+s, backward s) of rank j. For
 * 1F1B every dependency of step s is the previous step of rank j-1 (forward) or the
 * same step of rank j+1 (backward, computed first by sweeping j downwards). For the
 * interleaved order, skewing rank j by p-1-j steps puts every cross-rank dependency
 * exactly one skewed step back (the wrap-around sends included), so the whole state is
 * O(p) numbers per step, a max-plus linear map of the previous step's. The map is
 * periodic (1 step for 1F1B, pv for interleaved); once the state after a period equals
 * the state c periods earlier plus a constant (cyclicity c <= 4), all further steady
 * periods are that same shift, and the simulation jumps to the cool-down. Warm-up and
 * cool-down are simulated exactly. Cases outside these rules (m < p-1 for 1F1B, m == p
 * interleaved) are small and run the reference event simulation.
 *
 * Each event also carries the send time on the critical path that ends at it, so the
 * caller can split idle time into communication and bubble.
 */
#include "perf_internal.h"

#include <math.h>
#include <string.h>

#define MAX_CYCLICITY 4

/* Start an op after the rank's last one and its input (dep_s: arrival, dep_comm_s: the
 * critical-path send time to that arrival); returns the start, updates the tag. */
static inline double start_after(double last_s, double last_comm_s, double dep_s,
                                 double dep_comm_s, double *comm_s)
{
  if (dep_s > last_s) {
    *comm_s = dep_comm_s;
    return dep_s;
  }
  *comm_s = last_comm_s;
  return last_s;
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

size_t p3cfg__pipe_ws_bytes(uint32_t p, uint32_t v, uint64_t m)
{
  const p3cfg__pipe probe = {p, v, m, NULL, NULL, NULL, NULL};
  if (!fast_path_applies(&probe))
    return p3cfg__pipe_ws_bytes_reference(p, v, m);
  return (size_t)(10 + 4 * (MAX_CYCLICITY + 1)) * p * sizeof(double);
}

/* ---- periodic steady state ------------------------------------------------------------ */

typedef struct snapshots {
  double *slot[MAX_CYCLICITY + 1]; /* 4p values each: F, F comm, B, B comm */
  unsigned count;                  /* snapshots taken so far */
  uint32_t p;
} snapshots;

/* Store the state; when it is a constant shift of the one c snapshots back, return c
 * and the shifts of times and of comm tags. */
static unsigned snapshot_check(snapshots *sn, const double *f, const double *fc,
                               const double *b, const double *bc, double *shift_s,
                               double *shift_comm_s)
{
  const uint32_t p = sn->p;
  double *cur = sn->slot[sn->count % (MAX_CYCLICITY + 1)];
  memcpy(cur, f, p * sizeof(double));
  memcpy(cur + p, fc, p * sizeof(double));
  memcpy(cur + 2 * p, b, p * sizeof(double));
  memcpy(cur + 3 * p, bc, p * sizeof(double));
  sn->count++;
  for (unsigned c = 1; c <= MAX_CYCLICITY && c < sn->count; c++) {
    const double *old = sn->slot[(sn->count - 1 - c) % (MAX_CYCLICITY + 1)];
    const double lt = cur[0] - old[0], lc = cur[p] - old[p];
    int same = 1;
    for (uint32_t i = 0; i < 4 * p && same; i++) {
      const double want = (i / p) % 2 ? lc : lt;
      const double d = cur[i] - old[i] - want;
      same = fabs(d) <= 1e-13 * fabs(cur[i]) + 1e-15;
    }
    if (same) {
      *shift_s = lt;
      *shift_comm_s = lc;
      return c;
    }
  }
  return 0;
}

static void add_shift(double *x, uint32_t n, double d)
{
  for (uint32_t i = 0; i < n; i++)
    x[i] += d;
}

/* ---- 1F1B ---------------------------------------------------------------------------- */

static void simulate_1f1b(p3cfg__pipe_result *out, const p3cfg__pipe *pp, double *ws)
{
  const uint32_t p = pp->p;
  const int64_t m = (int64_t)pp->m;
  double *fe = ws, *fc = ws + p, *be = ws + 2 * p, *bc = ws + 3 * p;
  double *last = ws + 4 * p, *lastc = ws + 5 * p;
  snapshots sn = {{0}, 0, p};
  for (unsigned i = 0; i <= MAX_CYCLICITY; i++)
    sn.slot[i] = ws + 10 * p + 4 * p * i;
  memset(ws, 0, 6 * p * sizeof(double));

  /* Steps where every rank runs a forward and a backward: s in [0, m - p]. The jump
   * stops short of step m - 1, whose backward starts are recorded. */
  const int64_t steady_end = m - (int64_t)p < m - 2 ? m - (int64_t)p : m - 2;
  int jumped = 0;
  for (int64_t s = -(int64_t)(p - 1); s < m; s++) {
    for (uint32_t jj = p; jj-- > 0;) {
      const int64_t mb = s + (int64_t)(p - 1 - jj); /* forward micro-batch */
      if (mb >= 0 && mb < m) {
        double comm, start;
        if (jj == 0)
          start = start_after(last[0], lastc[0], 0.0, 0.0, &comm);
        else
          start = start_after(last[jj], lastc[jj], fe[jj - 1] + pp->send_fwd_s[jj - 1],
                              fc[jj - 1] + pp->send_fwd_s[jj - 1], &comm);
        if (mb == 0)
          out->first_fwd_s[jj] = start;
        fe[jj] = last[jj] = start + pp->fwd_s[jj];
        fc[jj] = lastc[jj] = comm;
      }
      if (s >= 0) {
        double comm, start;
        if (jj == p - 1)
          start = start_after(last[jj], lastc[jj], fe[jj], fc[jj], &comm);
        else
          start = start_after(last[jj], lastc[jj], be[jj + 1] + pp->send_bwd_s[jj],
                              bc[jj + 1] + pp->send_bwd_s[jj], &comm);
        if (s == m - 1)
          out->last_bwd_s[jj] = start;
        be[jj] = last[jj] = start + pp->bwd_s[jj];
        bc[jj] = lastc[jj] = comm;
      }
    }
    if (!jumped && s >= 0 && s <= steady_end) {
      double dt, dc;
      const unsigned c = snapshot_check(&sn, fe, fc, be, bc, &dt, &dc);
      if (c) {
        const int64_t periods = (steady_end - s) / (int64_t)c;
        s += periods * (int64_t)c;
        add_shift(fe, p, (double)periods * dt);
        add_shift(be, p, (double)periods * dt);
        add_shift(last, p, (double)periods * dt);
        add_shift(fc, p, (double)periods * dc);
        add_shift(bc, p, (double)periods * dc);
        add_shift(lastc, p, (double)periods * dc);
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
  const int64_t pv = (int64_t)p * v, mv = (int64_t)pp->m * v;
  double *pf = ws, *pfc = ws + p, *pb = ws + 2 * p, *pbc = ws + 3 * p; /* step - 1 */
  double *cf = ws + 4 * p, *cfc = ws + 5 * p, *cb = ws + 6 * p, *cbc = ws + 7 * p;
  double *last = ws + 8 * p, *lastc = ws + 9 * p;
  snapshots sn = {{0}, 0, p};
  for (unsigned i = 0; i <= MAX_CYCLICITY; i++)
    sn.slot[i] = ws + 10 * p + 4 * p * i;
  memset(ws, 0, 10 * p * sizeof(double));

  const int64_t last_b_step = mv - (int64_t)(v - 1) * p - 1; /* chunk v-1, micro-batch m-1 */
  /* Skewed step t: rank j runs its step t - (p-1-j). All ranks are in 1F1B steady
   * state for t in [p-1, (m-p)v]; the map has period pv. */
  const int64_t t_first = -(int64_t)(p - 1) - (int64_t)(v - 1) * p;
  const int64_t t_end = (int64_t)p - 2 + mv;
  const int64_t steady_lo = (int64_t)p - 1, steady_hi = ((int64_t)pp->m - p) * v;
  int jumped = 0;
  for (int64_t t = t_first; t <= t_end; t++) {
    for (uint32_t j = 0; j < p; j++) {
      const int64_t s = t - (int64_t)(p - 1 - j);
      const int64_t kf = s + 2 * (int64_t)(p - 1 - j) + (int64_t)(v - 1) * p;
      if (kf >= 0 && kf < mv) {
        const int64_t g = kf % pv;
        const uint32_t k = (uint32_t)(g / p);
        double comm, start;
        if (j > 0)
          start = start_after(last[j], lastc[j], pf[j - 1] + pp->send_fwd_s[j - 1],
                              pfc[j - 1] + pp->send_fwd_s[j - 1], &comm);
        else if (k > 0)
          start = start_after(last[0], lastc[0], pf[p - 1] + pp->send_fwd_s[p - 1],
                              pfc[p - 1] + pp->send_fwd_s[p - 1], &comm);
        else
          start = start_after(last[0], lastc[0], 0.0, 0.0, &comm);
        if (kf < pv && g % p == 0)
          out->first_fwd_s[j * v + k] = start;
        cf[j] = last[j] = start + pp->fwd_s[j * v + k];
        cfc[j] = lastc[j] = comm;
      }
      if (s >= 0 && s < mv) {
        const uint32_t k = v - 1 - (uint32_t)((s % pv) / p);
        double comm, start;
        if (j < p - 1)
          start = start_after(last[j], lastc[j], pb[j + 1] + pp->send_bwd_s[j],
                              pbc[j + 1] + pp->send_bwd_s[j], &comm);
        else if (k < v - 1)
          start = start_after(last[j], lastc[j], pb[0] + pp->send_bwd_s[p - 1],
                              pbc[0] + pp->send_bwd_s[p - 1], &comm);
        else
          start = start_after(last[j], lastc[j], cf[j], cfc[j], &comm);
        if (s == last_b_step)
          out->last_bwd_s[j] = start;
        cb[j] = last[j] = start + pp->bwd_s[j * v + k];
        cbc[j] = lastc[j] = comm;
      }
    }
    double *tmp;
    tmp = pf, pf = cf, cf = tmp;
    tmp = pfc, pfc = cfc, cfc = tmp;
    tmp = pb, pb = cb, cb = tmp;
    tmp = pbc, pbc = cbc, cbc = tmp;
    if (!jumped && t >= steady_lo && t <= steady_hi && (t - steady_lo) % pv == 0) {
      double dt, dc;
      const unsigned c = snapshot_check(&sn, pf, pfc, pb, pbc, &dt, &dc);
      if (c) {
        const int64_t periods = (steady_hi - t) / (pv * (int64_t)c);
        t += periods * pv * (int64_t)c;
        add_shift(pf, p, (double)periods * dt);
        add_shift(pb, p, (double)periods * dt);
        add_shift(last, p, (double)periods * dt);
        add_shift(pfc, p, (double)periods * dc);
        add_shift(pbc, p, (double)periods * dc);
        add_shift(lastc, p, (double)periods * dc);
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

typedef struct micro_op {
  int fwd;
  uint32_t chunk;
  uint64_t mb, step;
} micro_op;

static micro_op program_op(const p3cfg__pipe *pp, uint32_t j, uint64_t q)
{
  const uint64_t p = pp->p, v = pp->v, m = pp->m, mv = m * v;
  uint64_t w;
  if (v == 1)
    w = p - 1 - j < m ? p - 1 - j : m;
  else if (m == p)
    w = mv;
  else {
    w = 2 * (p - 1 - j) + (v - 1) * p;
    if (w > mv)
      w = mv;
  }
  micro_op op;
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
        const micro_op op = program_op(pp, j, pc[j]);
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
  for (uint32_t j = 0; j < p; j++)
    if (pc[j] < ops)
      return -2; /* a schedule that deadlocks: a bug, never a valid plan */
  return 0;
}
