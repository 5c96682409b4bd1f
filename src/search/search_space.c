/*
 * search_space.c — enumerating the pieces of the configuration space (spec §4).
 *
 * Splits: real runs give the first and last pipeline stages fewer layers because they
 * also hold the embedding and the output layer and loss (BLOOM: 70 layers on 12 stages;
 * Llama 3 405B: 126 on 16; Megatron-LM's --decoder-first/last-pipeline-num-layers). The
 * search tries the balanced split and the first/last stages lightened by one or two
 * layer groups each, the middle stages taking the rest evenly.
 */
#include "search_space.h"

#include "plan_rules.h"

/* Divisors of one count kept at once (p3cfg__divisors_of_either): a 64-bit count below
 * 2^40 has at most 6720, a layer count far fewer. */
#define MAX_DIVISORS_EITHER 256

size_t p3cfg__divisors(uint64_t n, uint64_t max, uint32_t *out, size_t cap)
{
  size_t k = 0;
  /* Divisors up to sqrt(n) ascending, then their cofactors (sqrt(n) down to 1 gives
   * them ascending), so the list is in order with nothing held on the side. */
  uint64_t d = 1;
  for (; d * d <= n && k < cap; d++)
    if (n % d == 0 && d <= max)
      out[k++] = (uint32_t)d;
  for (d = d - 1; d >= 1 && k < cap; d--) {
    if (n % d)
      continue;
    const uint64_t e = n / d;
    if (e != d && e <= max)
      out[k++] = (uint32_t)e;
  }
  return k;
}

size_t p3cfg__divisors_of_either(uint64_t a, uint64_t b, uint32_t pp, uint32_t *out, size_t cap)
{
  uint32_t da[MAX_DIVISORS_EITHER], db[MAX_DIVISORS_EITHER];
  const size_t na = p3cfg__divisors(a, a / pp, da, MAX_DIVISORS_EITHER);
  const size_t nb = b ? p3cfg__divisors(b, b / pp, db, MAX_DIVISORS_EITHER) : 0;
  size_t i = 0, j = 0, k = 0;
  while ((i < na || j < nb) && k < cap) {
    uint32_t next;
    if (j >= nb || (i < na && da[i] <= db[j]))
      next = da[i++];
    else
      next = db[j++];
    if (k == 0 || out[k - 1] != next)
      out[k++] = next;
  }
  return k;
}

size_t p3cfg__split_variants(uint32_t pp, uint64_t units, p3cfg__split *out, size_t cap)
{
  size_t k = 0;
  if (pp == 1 || units < pp) {
    if (pp == 1 && cap > 0)
      out[k++] = (p3cfg__split){units, units};
    return k;
  }
  uint64_t bf, bl;
  p3cfg__split_balanced_ends(pp, units, &bf, &bl);
  /* Balanced first, then the ends lightened by one or two units each. With pp = 2 the
   * units move between the two stages. */
  static const int8_t drops[][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {2, 1}, {1, 2}, {2, 2}};
  for (size_t i = 0; i < sizeof drops / sizeof drops[0] && k < cap; i++) {
    uint64_t df = (uint64_t)drops[i][0], dl = (uint64_t)drops[i][1];
    if (df >= bf || dl >= bl)
      continue;
    uint64_t f = bf - df, l = bl - dl;
    if (pp == 2) {
      if (dl > 0 && df > 0)
        continue;
      if (dl > 0) /* lighten the last: the first takes its units */
        f = units - l;
      else
        l = units - f;
      if (f < 1 || l < 1)
        continue;
    } else {
      uint64_t rest = units - f - l;
      /* The middle must stay at least as heavy as the ends, one unit per stage at least. */
      uint64_t heavier = f > l ? f : l;
      if (rest < (uint64_t)(pp - 2) * (heavier > 0 ? heavier : 1))
        continue;
    }
    int dup = 0;
    for (size_t j = 0; j < k; j++)
      dup |= out[j].first_units == f && out[j].last_units == l;
    if (!dup)
      out[k++] = (p3cfg__split){f, l};
  }
  return k;
}

void p3cfg__split_apply(p3cfg_plan *plan, const p3cfg__split *s, uint64_t units)
{
  p3cfg__split_fill(plan->stage_layers, plan->pp, plan->virtual_stages, units, s->first_units,
                    s->last_units);
  plan->n_stage_layers = plan->pp;
  /* The embedding and the loss the split accounts for take their unit from the ends
   * (a stage left with none fails the split rule). */
  if (plan->pp > 1) {
    plan->stage_layers[0] -= p3cfg__split_extra(plan, 0);
    plan->stage_layers[plan->pp - 1] -= p3cfg__split_extra(plan, plan->pp - 1);
  }
}
