/* clock.h — the one monotonic clock of the library: seconds since an arbitrary start,
 * for elapsed times, budgets and progress rates (never for results). */
#ifndef P3CFG_CLOCK_H
#define P3CFG_CLOCK_H

#include <time.h>

static inline double p3cfg__monotonic_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
