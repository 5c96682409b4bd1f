/*
 * plan_text.c — short texts of a plan shared by the search and estimate tables: the
 * compact split of layers over stages, token counts, the training budget.
 */
#include "plan_text.h"
#include "plan_rules.h"

#include <stdio.h>
#include <string.h>

/* Append sep, then "COUNTxLAYERS" when `count` > 1 or the plain count; 0 when it does not
 * fit in buf. */
static int put(char *buf, size_t n, size_t *len, const char *sep, uint32_t count, uint32_t layers)
{
  const int w = count > 1 ? snprintf(buf + *len, n - *len, "%s%ux%u", sep, count, layers)
                          : snprintf(buf + *len, n - *len, "%s%u", sep, layers);
  if (w < 0 || (size_t)w >= n - *len)
    return 0;
  *len += (size_t)w;
  return 1;
}

void p3cfg__split_compact(char *buf, size_t n, const p3cfg_plan *p)
{
  if (n == 0)
    return;
  buf[0] = '\0';
  const uint32_t pp = p->pp < P3CFG_MAX_PP ? p->pp : P3CFG_MAX_PP;
  if (pp == 0)
    return;
  size_t len = 0;
  int ok = 1;
  for (uint32_t i = 0; ok && i < pp;) {
    uint32_t j = i + 1;
    while (j < pp && p->stage_layers[j] == p->stage_layers[i])
      j++;
    const uint32_t run = j - i;
    if (run == pp || run >= 3) /* every stage alike ("8x12", "2x16"), or a long run */
      ok = put(buf, n, &len, i ? "," : "", run == 1 ? 1 : run, p->stage_layers[i]);
    else /* one or two alike: the list is as short and plainer */
      for (uint32_t k = i; ok && k < j; k++)
        ok = put(buf, n, &len, k ? "," : "", 1, p->stage_layers[k]);
    i = j;
  }
  if (!ok && n >= 4)
    snprintf(buf + (len + 4 <= n ? len : n - 4), 4, "...");
}

void p3cfg__tokens_text(char *buf, size_t n, uint64_t tokens)
{
  static const struct {
    uint64_t unit;
    char suffix;
  } units[] = {{1000000000000ull, 'T'}, {1000000000ull, 'B'}, {1000000ull, 'M'}, {1000ull, 'K'}};
  for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
    const uint64_t u = units[k].unit;
    if (tokens < u)
      continue;
    /* At most three decimals, exact. */
    if (tokens % (u / 1000) == 0) {
      const uint64_t whole = tokens / u, frac = (tokens % u) / (u / 1000);
      if (frac == 0)
        snprintf(buf, n, "%llu%c", (unsigned long long)whole, units[k].suffix);
      else {
        char f[24];
        snprintf(f, sizeof f, "%03llu", (unsigned long long)frac);
        for (size_t e = strlen(f); e > 0 && f[e - 1] == '0'; e--)
          f[e - 1] = '\0';
        snprintf(buf, n, "%llu.%s%c", (unsigned long long)whole, f, units[k].suffix);
      }
      return;
    }
    break;
  }
  snprintf(buf, n, "%llu", (unsigned long long)tokens);
}

int p3cfg__budget_of(p3cfg__budget *b, const p3cfg__result_entry *e, uint64_t tokens)
{
  memset(b, 0, sizeof *b);
  if (tokens == 0 || !e->has_time || !e->memory.fits || !(e->time.tokens_per_s > 0.0))
    return 0;
  const double gpus = (double)p3cfg__plan_gpus(&e->plan);
  b->seconds = (double)tokens / e->time.tokens_per_s;
  b->days = b->seconds / 86400.0;
  b->gpu_hours = gpus * b->seconds / 3600.0;
  return 1;
}
