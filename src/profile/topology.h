/*
 * topology.h — what is on this host, from hwloc: GPUs (as PCI devices where hwloc has
 * no GPU backend), NICs, NUMA nodes, cores; and the GPU preset a device name means.
 */
#ifndef P3CFG_TOPOLOGY_H
#define P3CFG_TOPOLOGY_H

#include <stdint.h>

#include "profile_types.h"

/* Fill *out for the calling host (name from gethostname). On failure out->status and
 * out->message say why, and the same code is returned. */
int p3cfg__topology_discover(p3cfg__host_info *out);

/* The GPU preset (a100-80gb, h100-sxm, ...) a device name from hwloc means
 * ("GA100 [A100 SXM4 80GB]", "NVIDIA H100 80GB HBM3"), or NULL when unsure. */
const char *p3cfg__gpu_preset_for_model(const char *model);

/* The GPU preset an NVIDIA PCI device id means (0x2335 -> h200), or NULL. */
const char *p3cfg__gpu_preset_for_device_id(uint32_t device_id);

#endif
