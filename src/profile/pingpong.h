/*
 * pingpong.h — the measurement of one rank pair: latency by ping-pong and bandwidth by
 * windows of large messages over a size sweep, both directions.
 */
#ifndef P3CFG_PINGPONG_H
#define P3CFG_PINGPONG_H

#include <stdint.h>

#include "profile_wait.h"

#define P3CFG__MAX_SIZES 16
#define P3CFG__MAX_LATENCY_REPS 1000
#define P3CFG__MAX_BANDWIDTH_REPS 100

/* What each direction of a pair gets: identical on every rank of the run. */
typedef struct p3cfg__measure_plan {
  uint32_t latency_reps;   /* timed ping-pongs */
  uint32_t warmup;         /* untimed ping-pongs, and windows before the first size */
  uint32_t bandwidth_reps; /* timed windows per size */
  uint32_t window;         /* messages in flight */
  uint64_t sizes[P3CFG__MAX_SIZES];
  uint32_t n_sizes;
  double target_s;    /* a window this long: larger sizes are skipped */
  double allowance_s; /* most time one bandwidth direction may take */
} p3cfg__measure_plan;

/* What this rank measured as the sender of its direction of the pair. */
typedef struct p3cfg__direction {
  double Bps;
  double latency_s;
  uint8_t flags; /* P3CFG__LINK_* */
} p3cfg__direction;

/* Measure the pair (me, peer) with the peer doing the same call; the lower rank leads.
 * `buf` holds window * max size bytes. Every wait ends by `deadline`. */
int p3cfg__measure_pair(p3cfg__direction *out, const p3cfg__waiter *w, int peer,
                        const p3cfg__measure_plan *plan, char *buf, double deadline);

#endif
