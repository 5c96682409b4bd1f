/*
 * deepspeed_pipe_test.c — DeepSpeed's pipeline engine (src/perf/pipeline_ds.c): the
 * lock-step TrainSchedule with blocking sends, hand-derived on two stages, and against
 * an independent oracle that runs every stage's instruction list (schedule.py @ v0.19.5,
 * transcribed) with each send / receive a rendezvous of the two stages.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf_fixtures.h"

typedef struct sim {
  double end[16], comm[16], first[16], last[16];
  uint64_t steps;
} sim;

static void run_ds(sim *o, const p3cfg__pipe *pp)
{
  const size_t n = p3cfg__pipe_ws_bytes(pp->p, 1, pp->m);
  void *ws = malloc(n);
  cr_assert(ws);
  p3cfg__pipe_result r = {o->end, o->comm, o->first, o->last, 0};
  cr_assert_eq(p3cfg__pipe_simulate_deepspeed(&r, pp, ws, n), 0);
  o->steps = r.steps;
  free(ws);
}

/* Two stages, one micro-batch, by hand: F0; stage 0 sends the activation (cf) while
 * stage 1 waits for it; F1, B1; stage 1 sends the gradient (cb) and is held until
 * stage 0 has it; B0. Stage 1 ends after its send, not after its backward. */
Test(perf, deepspeed_two_stages_one_microbatch_by_hand)
{
  const double F[2] = {1.0, 2.0}, B[2] = {3.0, 5.0}, cf[2] = {0.25, 0.0}, cb[2] = {0.5, 0.0};
  const p3cfg__pipe pp = {2, 1, 1, F, B, cf, cb};
  sim o;
  run_ds(&o, &pp);
  const double sent = 1.0 + 0.25, s1_end = sent + 2.0 + 5.0 + 0.5;
  fx_assert_close(o.end[1], s1_end, 1e-12);
  fx_assert_close(o.end[0], s1_end + 3.0, 1e-12);
  fx_assert_close(o.comm[0], 0.75, 1e-12);
  fx_assert_close(o.first[1], sent, 1e-12);
  fx_assert_close(o.last[0], s1_end, 1e-12);
}

/* ---- oracle: instruction lists with rendezvous ----------------------------------- */

enum { OP_F, OP_B, OP_SENDG, OP_RECVA, OP_RECVG, OP_SENDA };
typedef struct ins {
  int op, peer;
  int64_t mb;
} ins;

/* TrainSchedule.steps() of stage s, as in schedule.py. */
static size_t program(ins *out, int64_t m, int64_t p, int64_t s)
{
  size_t n = 0;
  int64_t prev = -1;
  for (int64_t t = 0; t < 2 * (m + p - 1); t++) {
    const int fwd = (t % 2) == (s % 2);
    int64_t i;
    if (fwd)
      i = (t % 2 == 0 ? t / 2 : (t - 1) / 2) - s / 2;
    else
      i = t % 2 == 0 ? t / 2 - p + (s + 1) / 2 : (t - 1) / 2 - p + 1 + s / 2;
    const int vi = i >= 0 && i < m, vp = prev >= 0 && prev < m;
    if (fwd) {
      if (vp && s > 0)
        out[n++] = (ins){OP_SENDG, (int)s - 1, prev};
      if (vi && s > 0)
        out[n++] = (ins){OP_RECVA, (int)s - 1, i};
    } else {
      if (vi && s < p - 1)
        out[n++] = (ins){OP_RECVG, (int)s + 1, i};
      if (vp && s < p - 1)
        out[n++] = (ins){OP_SENDA, (int)s + 1, prev};
    }
    if (vi)
      out[n++] = (ins){fwd ? OP_F : OP_B, -1, i};
    prev = i;
  }
  return n;
}

static void oracle(double *end, const p3cfg__pipe *pp)
{
  const int64_t p = pp->p, m = (int64_t)pp->m, cap = 6 * (m + p) + 8;
  ins *prog[16];
  size_t len[16], pos[16] = {0};
  double t[16] = {0};
  for (int64_t s = 0; s < p; s++) {
    prog[s] = malloc((size_t)cap * sizeof(ins));
    cr_assert(prog[s]);
    len[s] = program(prog[s], m, p, s);
  }
  static const int match[] = {-1, -1, OP_RECVG, OP_SENDA, OP_SENDG, OP_RECVA};
  for (int moved = 1; moved;) {
    moved = 0;
    for (int64_t s = 0; s < p; s++)
      while (pos[s] < len[s]) {
        const ins a = prog[s][pos[s]];
        if (a.op == OP_F || a.op == OP_B) {
          t[s] += a.op == OP_F ? pp->fwd_s[s] : pp->bwd_s[s];
          pos[s]++, moved = 1;
          continue;
        }
        const int q = a.peer;
        if (pos[q] >= len[q])
          break;
        const ins b = prog[q][pos[q]];
        if (b.op != match[a.op] || b.peer != s || b.mb != a.mb)
          break;
        const int grad = a.op == OP_SENDG || a.op == OP_RECVG;
        const int64_t lo = s < q ? s : q;
        const double d = grad ? pp->send_bwd_s[lo] : pp->send_fwd_s[lo];
        t[s] = t[q] = (t[s] > t[q] ? t[s] : t[q]) + d;
        pos[s]++, pos[q]++, moved = 1;
      }
  }
  for (int64_t s = 0; s < p; s++) {
    cr_assert_eq(pos[s], len[s], "stage %lld deadlocked", (long long)s);
    end[s] = t[s];
    free(prog[s]);
  }
}

Test(perf, deepspeed_lockstep_matches_the_instruction_oracle)
{
  srand(15);
  int jumped = 0;
  for (int trial = 0; trial < 300; trial++) {
    const uint32_t p = 2 + (uint32_t)(rand() % 10);
    const uint64_t m = 1 + (uint64_t)(rand() % (trial % 3 == 0 ? 200 : 30));
    double F[16], B[16], cf[16], cb[16];
    const int uniform = trial % 2 == 0;
    for (uint32_t j = 0; j < p; j++) {
      F[j] = uniform && j > 0 ? F[0] : 1.0 + (double)(rand() % 1000) / 500.0;
      B[j] = uniform && j > 0 ? B[0] : 2.0 + (double)(rand() % 1000) / 250.0;
      cf[j] = uniform && j > 0 ? cf[0] : (double)(rand() % 1000) / 4000.0;
      cb[j] = uniform && j > 0 ? cb[0] : (double)(rand() % 1000) / 4000.0;
    }
    const p3cfg__pipe pp = {p, 1, m, F, B, cf, cb};
    sim o;
    double want[16];
    run_ds(&o, &pp);
    oracle(want, &pp);
    for (uint32_t j = 0; j < p; j++)
      fx_assert_close(o.end[j], want[j], 1e-9);
    jumped |= o.steps < 2 * (m + p - 1);
  }
  cr_assert(jumped, "the steady state was never seen to repeat");
}

/* Blocking never helps: the lock-step engine is never faster than Megatron-LM's
 * program (whose sends do not hold the sender) on the same stages and links. */
Test(perf, deepspeed_lockstep_is_no_faster_than_megatrons_program)
{
  const double F[4] = {1.0, 1.2, 1.0, 1.4}, B[4] = {2.0, 2.5, 2.1, 2.9};
  const double c[4] = {0.1, 0.2, 0.1, 0.0};
  for (uint64_t m = 4; m <= 64; m *= 2) {
    const p3cfg__pipe pp = {4, 1, m, F, B, c, c};
    sim o, g;
    run_ds(&o, &pp);
    const size_t n = p3cfg__pipe_ws_bytes(4, 1, m);
    void *ws = malloc(n);
    cr_assert(ws);
    p3cfg__pipe_result r = {g.end, g.comm, g.first, g.last, 0};
    cr_assert_eq(p3cfg__pipe_simulate(&r, &pp, ws, n), 0);
    free(ws);
    double a = 0.0, b = 0.0;
    for (int j = 0; j < 4; j++)
      a = fmax(a, o.end[j]), b = fmax(b, g.end[j]);
    cr_assert(a >= b - 1e-12, "m %llu: lock-step %.6f < Megatron %.6f", (unsigned long long)m, a, b);
  }
}
