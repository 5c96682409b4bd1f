/*
 * topology.h — what is on this host, from hwloc: GPUs (as PCI devices where hwloc has
 * no GPU backend), NICs, NUMA nodes, cores. The GPU preset its name or PCI device id
 * means is the GPU table's (gpu_presets.h).
 */
#ifndef P3CFG_TOPOLOGY_H
#define P3CFG_TOPOLOGY_H

#include <stdint.h>

#include "profile_types.h"

/* Fill *out for the calling host (name from gethostname). On failure out->status and
 * out->message say why, and the same code is returned. */
int p3cfg__topology_discover(p3cfg__host_info *out);

#endif
