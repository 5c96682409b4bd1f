/*
 * link_backend.h — what measures a pair of ranks: a small table of functions, so that
 * profile_run.c walks the same rounds of disjoint pairs (pair_schedule.c) whichever
 * backend measures them. MPI point-to-point between host buffers (pingpong.c, the
 * default) and NCCL send/recv between device buffers (nccl_backend.c) share the
 * measurement plan, the sweep and the fit (link_fit.c), and fill the same matrices.
 *
 * The pure parts (backend names, the sender's size sweep driven by a window-timing
 * callback, the all-reduce bus bandwidth) are in link_backend.c and need no MPI call.
 */
#ifndef P3CFG_LINK_BACKEND_H
#define P3CFG_LINK_BACKEND_H

#include <stdint.h>

#include "pingpong.h"
#include "profile_types.h"

typedef struct p3cfg__link_backend {
  p3cfg_profile_backend id;
  uint32_t min_ranks; /* MPI: 2; NCCL: 1 (one GPU measures its send/recv to itself) */
  /* Local checks before any collective call (libraries, driver, devices): 0, or a
   * P3CFG_E* with the message set. NULL when there is nothing to check. */
  int (*probe)(const p3cfg__waiter *w);
  /* Collective over w->comm, after the start-up exchange: set up what the pairs need
   * (buffers, communicators) into *state and describe the backend in r->backend. */
  int (*open)(void **state, p3cfg_profile_result *r, const p3cfg__waiter *w,
              const p3cfg__measure_plan *plan, double deadline);
  /* One pair, both directions, the peer making the same call (the lower rank leads):
   * out receives this rank's direction as the sender (pingpong.h's contract). */
  int (*measure_pair)(p3cfg__direction *out, void *state, const p3cfg__waiter *w, int peer,
                      const p3cfg__measure_plan *plan, double deadline);
  /* Collective, after the last step: figures beyond the pairs (NCCL: all-reduce within
   * each host, a lone rank's loop to itself) into r. NULL when none. */
  int (*finish)(void *state, p3cfg_profile_result *r, const p3cfg__waiter *w,
                const p3cfg__measure_plan *plan, double deadline);
  /* Release *state (NULL-safe). `failed`: a wait timed out or a peer may be gone, so
   * nothing collective may be attempted. */
  void (*close)(void *state, int failed);
} p3cfg__link_backend;

/* nccl_backend.c: the NCCL backend, or its stub saying it is not built in. */
extern const p3cfg__link_backend p3cfg__nccl_link_backend;

/* profile_run.c: after a local step that may fail on some ranks only (rc != 0 there,
 * the message in the last error), every rank learns the first failing rank's error and
 * returns it, with that rank and its host named: 0 when no rank failed. Collective. */
int p3cfg__profile_agree(const p3cfg__waiter *w, int rc, const char *step);

/* Times one window of `size` bytes in the caller's direction: 0 with *t_s set, or a
 * P3CFG_E* (the sweep stops and returns it). */
typedef int (*p3cfg__window_fn)(double *t_s, void *ctx, uint64_t size);

/* The sender's sweep of one direction, as pingpong.c does it: the plan's sizes from the
 * smallest, `warmup` untimed windows before the first, `bandwidth_reps` timed windows a
 * size, the 25th percentile of each fitted against bytes (link_fit.c); stops once two
 * sizes are measured and a window took target_s, or before a window would overrun
 * allowance_s (then P3CFG__LINK_SCALED). Sets out->Bps and out->flags. `now` gives
 * seconds on any monotonic clock. */
int p3cfg__sweep_direction(p3cfg__direction *out, const p3cfg__measure_plan *plan,
                           p3cfg__window_fn window, void *ctx, double (*now)(void));

/* NCCL's all-reduce bus bandwidth (nccl-tests' convention): bytes * 2(n-1)/n / t, the
 * rate each rank's link carries in a ring all-reduce; 0 for n < 2 or t <= 0. */
double p3cfg__allreduce_busbw(uint64_t bytes, double t_s, uint32_t n);

/* The CUDA device of a rank that is rank `local` of its host and sees `visible` devices:
 * device 0 when it sees one (one GPU per rank, as under `srun --gpus-per-task=1`), its
 * local index when it sees several; -1 when it sees none, or fewer than its local index
 * needs (more ranks on the host than GPUs). */
int p3cfg__nccl_device_of(uint32_t local, int visible);

/* "NCCL 2.28.9" from ncclGetVersion's code (X*10000+Y*100+Z since 2.9, X*1000+Y*100+Z
 * before). */
void p3cfg__nccl_version_text(char *buf, size_t len, int code);

#endif
