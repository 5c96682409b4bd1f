/*
 * profile_analysis.h — what a finished profile says beyond its numbers: node-level
 * medians, links far below their class, asymmetric pairs, the slowest links.
 */
#ifndef P3CFG_PROFILE_ANALYSIS_H
#define P3CFG_PROFILE_ANALYSIS_H

#include <stddef.h>

#include "profile_text.h"
#include "profile_types.h"

typedef struct p3cfg__link_ref {
  uint32_t src, dst; /* ranks */
  double Bps;        /* src -> dst */
  double ratio;      /* flagged/slowest: Bps / class reference; asymmetric: the
                        difference between the directions over the larger */
} p3cfg__link_ref;

/* The class reference a link src -> dst is judged against. */
double p3cfg__profile_reference(const p3cfg_profile_result *r, uint32_t src, uint32_t dst);

/* n_hosts x n_hosts medians of the bandwidth between the ranks of two hosts (row =
 * sending host; the diagonal over distinct ranks of one host, 0 with one rank per host).
 * Caller frees *out. */
int p3cfg__profile_node_matrix(double **out, const p3cfg_profile_result *r);

/* Links below P3CFG__OUTLIER_RATIO x their class reference, worst first (ties by src,
 * dst). Caller frees *out (NULL when none). */
int p3cfg__profile_flagged(p3cfg__link_ref **out, size_t *count, const p3cfg_profile_result *r);

/* Pairs (src < dst) whose directions differ by more than P3CFG__ASYMMETRY, largest
 * difference first. Caller frees *out. */
int p3cfg__profile_asymmetric(p3cfg__link_ref **out, size_t *count, const p3cfg_profile_result *r);

/* The k slowest links (by bandwidth, ties by src, dst) into out[0..k); returns how many. */
size_t p3cfg__profile_slowest(p3cfg__link_ref *out, size_t k, const p3cfg_profile_result *r);

/* profile_summary.c: append the human summary (what p3cfg_profile_summary returns). */
int p3cfg__profile_summary_text(p3cfg__text *t, const p3cfg_profile_result *r);

#endif
