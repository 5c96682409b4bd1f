/*
 * sat_math.h — saturating uint64 arithmetic for the memory estimator.
 *
 * Byte counts of extreme but valid plans (100T parameters, 1M-token sequences, 1M-token
 * vocabularies, large micro-batches) can exceed 2^64. Every product and sum of the
 * estimator goes through these helpers: a result that does not fit is UINT64_MAX, and
 * UINT64_MAX stays UINT64_MAX through every later step (division included), so a
 * saturated term reads as "far beyond any GPU" and never wraps around to a small number.
 */
#ifndef P3CFG_SAT_MATH_H
#define P3CFG_SAT_MATH_H

#include <stdint.h>

#define P3CFG_SAT UINT64_MAX

static inline uint64_t p3cfg__sat_add(uint64_t a, uint64_t b)
{
  return a > P3CFG_SAT - b ? P3CFG_SAT : a + b;
}

static inline uint64_t p3cfg__sat_mul(uint64_t a, uint64_t b)
{
  if (a == 0 || b == 0)
    return 0;
  if (a == P3CFG_SAT || b == P3CFG_SAT || a > P3CFG_SAT / b)
    return P3CFG_SAT;
  return a * b;
}

static inline uint64_t p3cfg__sat_mul3(uint64_t a, uint64_t b, uint64_t c)
{
  return p3cfg__sat_mul(p3cfg__sat_mul(a, b), c);
}

static inline uint64_t p3cfg__sat_mul4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
  return p3cfg__sat_mul(p3cfg__sat_mul(a, b), p3cfg__sat_mul(c, d));
}

/* a / d (d > 0), keeping saturation. */
static inline uint64_t p3cfg__sat_div(uint64_t a, uint64_t d)
{
  return a == P3CFG_SAT ? P3CFG_SAT : a / d;
}

/* ceil(a / d) (d > 0), keeping saturation: what one of d shards holds. */
static inline uint64_t p3cfg__sat_ceil_div(uint64_t a, uint64_t d)
{
  return a == P3CFG_SAT ? P3CFG_SAT : a / d + (a % d != 0);
}

/* a - b, 0 when b >= a; saturation of a is kept. */
static inline uint64_t p3cfg__sat_sub(uint64_t a, uint64_t b)
{
  if (a == P3CFG_SAT)
    return P3CFG_SAT;
  return a > b ? a - b : 0;
}

static inline uint64_t p3cfg__max_u64(uint64_t a, uint64_t b)
{
  return a > b ? a : b;
}
static inline uint64_t p3cfg__min_u64(uint64_t a, uint64_t b)
{
  return a < b ? a : b;
}

#endif
