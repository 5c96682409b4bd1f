/*
 * pair_schedule.h — which ranks measure each other when: rounds of disjoint pairs by
 * the circle method, each round split into steps according to the profile mode.
 */
#ifndef P3CFG_PAIR_SCHEDULE_H
#define P3CFG_PAIR_SCHEDULE_H

#include <stdint.h>

#include "p3cfg/mpi.h"

/* Rounds needed for n ranks: n - 1 for even n, n for odd n (one rank rests). */
uint32_t p3cfg__schedule_rounds(uint32_t n);

/* The pairs of round `round` (0-based), each as (a, b) with a < b, into pairs[0..]
 * (room for n / 2). Returns how many. Every unordered pair occurs in exactly one round. */
uint32_t p3cfg__schedule_pairs(uint32_t n, uint32_t round, uint32_t (*pairs)[2]);

/* Split a round's pairs into steps that run one after another: step_of[i] receives the
 * step of pair i. SERIAL puts each pair in its own step, CONCURRENT all in one, and
 * HOST_DISJOINT packs greedily so that no two pairs of a step touch the same host
 * (rank_host[rank] gives the host; host_mark is scratch for n_hosts entries).
 * Returns the number of steps. */
uint32_t p3cfg__schedule_steps(uint32_t *step_of, const uint32_t (*pairs)[2], uint32_t n_pairs,
                               p3cfg_profile_mode mode, const uint32_t *rank_host, uint32_t n_hosts,
                               uint32_t *host_mark);

#endif
