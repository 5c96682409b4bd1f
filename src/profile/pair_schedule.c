/*
 * pair_schedule.c — the order in which the profiler measures rank pairs.
 *
 * The circle method (round-robin tournament) pins the last position and rotates the
 * others, so n ranks (plus a resting dummy when n is odd) meet every other rank exactly
 * once in n - 1 rounds of n / 2 disjoint pairs: the whole matrix in O(n) rounds. Pairs
 * of a round share no rank, but they may share a host and with it a NIC, a memory bus
 * or cores; the profile mode decides which of them run at the same time (steps).
 */
#include "pair_schedule.h"

#include <assert.h>

uint32_t p3cfg__schedule_rounds(uint32_t n)
{
  if (n < 2)
    return 0;
  return (n % 2 == 0) ? n - 1 : n;
}

uint32_t p3cfg__schedule_pairs(uint32_t n, uint32_t round, uint32_t (*pairs)[2])
{
  const uint32_t m = (n % 2 == 0) ? n : n + 1; /* position m - 1 is the dummy if odd */
  const uint32_t ring = m - 1;
  uint32_t count = 0;
  assert(round < p3cfg__schedule_rounds(n));
  for (uint32_t i = 0; i < m / 2; i++) {
    uint32_t a, b;
    if (i == 0) {
      a = m - 1;
      b = round % ring;
    } else {
      a = (round + i) % ring;
      b = (round + ring - i) % ring;
    }
    if (a >= n || b >= n)
      continue; /* the dummy's partner rests this round */
    pairs[count][0] = a < b ? a : b;
    pairs[count][1] = a < b ? b : a;
    count++;
  }
  return count;
}

uint32_t p3cfg__schedule_steps(uint32_t *step_of, const uint32_t (*pairs)[2], uint32_t n_pairs,
                               p3cfg_profile_mode mode, const uint32_t *rank_host, uint32_t n_hosts,
                               uint32_t *host_mark)
{
  if (n_pairs == 0)
    return 0;
  if (mode == P3CFG_PROFILE_CONCURRENT) {
    for (uint32_t i = 0; i < n_pairs; i++)
      step_of[i] = 0;
    return 1;
  }
  if (mode == P3CFG_PROFILE_SERIAL) {
    for (uint32_t i = 0; i < n_pairs; i++)
      step_of[i] = i;
    return n_pairs;
  }
  /* HOST_DISJOINT: fill step s with every unplaced pair whose hosts are still free in
   * it, in pair order, until all are placed. host_mark[h] = 1 + the last step that
   * used host h, so it never needs clearing between steps. */
  for (uint32_t h = 0; h < n_hosts; h++)
    host_mark[h] = 0;
  for (uint32_t i = 0; i < n_pairs; i++)
    step_of[i] = UINT32_MAX;
  uint32_t placed = 0, steps = 0;
  while (placed < n_pairs) {
    const uint32_t mark = steps + 1;
    for (uint32_t i = 0; i < n_pairs; i++) {
      if (step_of[i] != UINT32_MAX)
        continue;
      const uint32_t ha = rank_host[pairs[i][0]], hb = rank_host[pairs[i][1]];
      assert(ha < n_hosts && hb < n_hosts);
      if (host_mark[ha] == mark || host_mark[hb] == mark)
        continue;
      host_mark[ha] = mark;
      host_mark[hb] = mark;
      step_of[i] = steps;
      placed++;
    }
    steps++;
  }
  return steps;
}
