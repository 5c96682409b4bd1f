/*
 * link_fit.h — the statistics behind every measured number: medians, percentiles and
 * the least-squares fit of transfer time against size (Hockney's t = a + bytes / B).
 */
#ifndef P3CFG_LINK_FIT_H
#define P3CFG_LINK_FIT_H

#include <stddef.h>

/* Median of x[0..n) (sorted in place); 0 when n == 0. */
double p3cfg__median(double *x, size_t n);
/* The q-quantile (0 <= q <= 1, linear interpolation) of x[0..n), sorted in place. */
double p3cfg__quantile(double *x, size_t n, double q);

typedef struct p3cfg__fit {
  double Bps; /* bandwidth: 1 / slope, or the fallback below */
  double intercept_s;
  int one_point; /* 1 when the fit was not usable and Bps = bytes / time of the
                    largest point */
} p3cfg__fit;

/* Fit t = a + bytes / B over n points (bytes[i], t_s[i]), ordinary least squares.
 * Falls back to the largest point's bytes / time when n < 2, the slope is not
 * positive, or the fitted B exceeds twice the best point rate (noise on tiny times).
 * Returns 0, or -1 when no point has positive time. */
int p3cfg__fit_bandwidth(p3cfg__fit *out, const double *bytes, const double *t_s, size_t n);

#endif
