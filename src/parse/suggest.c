/*
 * suggest.c — "did you mean" for unknown keys, enum values and GPU names: the candidate
 * at the smallest edit distance (Damerau-Levenshtein, adjacent swaps counting one edit,
 * letters compared case-insensitively), when that distance is small for the word's
 * length; a word that starts a candidate ("h100" for "h100-sxm") counts as distance 0.
 * p3cfg_suggest is the same for the CLI (commands, options and option values).
 */
#include <string.h>

#include "parse_fields.h"

#define WORD_MAX 64

static char lower(char ch)
{
  return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static size_t min3(size_t a, size_t b, size_t c)
{
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* Optimal string alignment distance between a[0..la) and b[0..lb), both <= WORD_MAX. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
  size_t rows[3][WORD_MAX + 1];
  size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < cur[j])
        cur[j] = prev2[j - 2] + 1;
    }
    size_t *t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

static int starts_with(const char *cand, size_t clen, const char *word, size_t len)
{
  if (len > clen)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (lower(cand[i]) != lower(word[i]))
      return 0;
  return 1;
}

/* Letters word and cand share at their start (case-insensitive). */
static size_t common_prefix(const char *word, size_t len, const char *cand, size_t clen)
{
  size_t i = 0;
  while (i < len && i < clen && lower(word[i]) == lower(cand[i]))
    i++;
  return i;
}

const char *p3cfg__suggest(const char *word, size_t len, const char *const *cands, size_t n)
{
  if (len == 0 || len > WORD_MAX)
    return NULL;
  const size_t max_d = len <= 3 ? 1 : len <= 6 ? 2 : 3;
  const char *best = NULL;
  size_t best_d = max_d + 1, best_prefix = 0;
  for (size_t i = 0; i < n; i++) {
    if (!cands[i])
      continue;
    const size_t clen = strlen(cands[i]);
    if (clen > WORD_MAX)
      continue;
    /* A word that starts a candidate ("h100" of "h100-sxm") beats any typo. */
    size_t d = len >= 3 && starts_with(cands[i], clen, word, len)
                   ? 0
                   : distance(word, len, cands[i], clen);
    if (d >= len || d > max_d)
      continue;
    /* Ties go to the longer common start ("tpp": "tp" over "top"), then to the first. */
    const size_t prefix = common_prefix(word, len, cands[i], clen);
    if (d < best_d || (d == best_d && prefix > best_prefix)) {
      best = cands[i];
      best_d = d;
      best_prefix = prefix;
    }
  }
  return best;
}

P3CFG_API const char *p3cfg_suggest(const char *word, const char *const *candidates, size_t n)
{
  p3cfg__error_clear();
  if (!word || !candidates)
    return NULL;
  return p3cfg__suggest(word, strlen(word), candidates, n);
}
