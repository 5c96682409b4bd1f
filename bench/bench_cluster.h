/*
 * bench_cluster.h — a cluster of `nodes` nodes of `gpus_per_node` GPUs of preset `gpu`
 * with datasheet NVLink and network rates, built as a cluster file would say it (so it
 * takes the preset's figures and the parser's checks), for benchmarks whose published
 * runs name a machine rather than ship a cluster file. Header-only: each bench source
 * is its own program.
 */
#ifndef P3CFG_BENCH_CLUSTER_H
#define P3CFG_BENCH_CLUSTER_H

#include <stdio.h>

#include "p3cfg.h"

/* 0 and *out set, or non-zero (the parser's error, told as coming from `what`). */
static inline int bench_cluster_load(p3cfg_cluster **out, const char *name, double nodes,
                                     unsigned gpus_per_node, const char *gpu,
                                     double intra_GBps, double inter_GBps, const char *what)
{
  char yaml[512];
  const int n = snprintf(yaml, sizeof yaml,
                         "name: %s\nnodes: %.0f\ngpus_per_node: %u\ngpu: %s\nnetwork:\n"
                         "  intra_node_GBps: %g\n  inter_node_GBps: %g\n",
                         name, nodes, gpus_per_node, gpu, intra_GBps, inter_GBps);
  if (n < 0 || (size_t)n >= sizeof yaml)
    return -1;
  return p3cfg_cluster_load_string(out, yaml, (size_t)n, what, NULL) ? -1 : 0;
}

#endif
