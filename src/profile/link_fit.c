/*
 * link_fit.c — medians, quantiles and the bandwidth fit used by the profiler.
 *
 * A bandwidth window of W messages of s bytes takes t(s) = a + W·s / B: a fixed part a
 * (first-byte latency, the acknowledgement, start-up of the transfer) and the
 * streaming part at bandwidth B (Hockney's model, Parallel Computing 20(3), 1994). The
 * profiler times windows at several sizes, takes the median of the repetitions of each,
 * and fits a and B by ordinary least squares; B is the slope's inverse. Points grow by
 * 4x, so the largest sizes dominate the slope, which is what a bandwidth should
 * reflect; the fit also removes a token-bucket shaper's initial burst (a negative a)
 * that would inflate a single bytes/time ratio.
 */
#include "link_fit.h"

#include <stdlib.h>

static int cmp_double(const void *pa, const void *pb)
{
  const double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

double p3cfg__quantile(double *x, size_t n, double q)
{
  if (n == 0)
    return 0.0;
  qsort(x, n, sizeof *x, cmp_double);
  if (q <= 0.0)
    return x[0];
  if (q >= 1.0)
    return x[n - 1];
  const double pos = q * (double)(n - 1);
  const size_t i = (size_t)pos;
  const double frac = pos - (double)i;
  if (i + 1 >= n)
    return x[n - 1];
  return x[i] + frac * (x[i + 1] - x[i]);
}

double p3cfg__median(double *x, size_t n)
{
  return p3cfg__quantile(x, n, 0.5);
}

int p3cfg__fit_bandwidth(p3cfg__fit *out, const double *bytes, const double *t_s, size_t n)
{
  size_t last = n;
  double best_rate = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (t_s[i] <= 0.0)
      continue;
    if (last == n || bytes[i] > bytes[last])
      last = i;
    if (bytes[i] / t_s[i] > best_rate)
      best_rate = bytes[i] / t_s[i];
  }
  if (last == n)
    return -1;
  out->one_point = 1;
  out->Bps = bytes[last] / t_s[last];
  out->intercept_s = 0.0;
  if (n < 2)
    return 0;
  double mx = 0.0, my = 0.0;
  for (size_t i = 0; i < n; i++) {
    mx += bytes[i];
    my += t_s[i];
  }
  mx /= (double)n;
  my /= (double)n;
  double sxx = 0.0, sxy = 0.0;
  for (size_t i = 0; i < n; i++) {
    sxx += (bytes[i] - mx) * (bytes[i] - mx);
    sxy += (bytes[i] - mx) * (t_s[i] - my);
  }
  if (sxx <= 0.0 || sxy <= 0.0)
    return 0;
  const double slope = sxy / sxx;
  const double Bps = 1.0 / slope;
  if (Bps > 2.0 * best_rate)
    return 0;
  out->Bps = Bps;
  out->intercept_s = my - slope * mx;
  out->one_point = 0;
  return 0;
}
