/*
 * topology.c — hwloc discovery of one host for the profiler.
 *
 * GPUs are counted as PCI devices of NVIDIA (vendor 0x10de) with a display-controller
 * class (0x03xx), or of AMD (0x1002) with a display or processing-accelerator class
 * (0x12xx: the Instinct MI300X), because hwloc builds without CUDA, NVML or RSMI backends
 * still list them, and each physical GPU appears once (a CUDA and an NVML OS device may
 * both name it). A GPU OS device's "GPUModel" (NVML, RSMI), when hwloc has one, is a
 * better name than the pci.ids string. Containers often lack pci.ids (hwloc then has no
 * name at all), so an NVIDIA GPU's PCI device id is kept too (the GPU table holds
 * NVIDIA's ids only): the preset either names is the GPU table's
 * (p3cfg__gpu_preset_identify, _for_pci_id in src/common/gpu_presets.c). NICs are network
 * and OpenFabrics OS devices: hwloc lists only those behind a PCI device, not loopback,
 * bridges or veths. One rank per host calls this.
 */
#include "topology.h"

#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define PCI_VENDOR_NVIDIA 0x10de
#define PCI_VENDOR_AMD 0x1002
#define PCI_CLASS_DISPLAY 0x03
#define PCI_CLASS_ACCELERATOR 0x12

static int is_gpu(const struct hwloc_pcidev_attr_s *d)
{
  const unsigned cls = (unsigned)d->class_id >> 8;
  if (d->vendor_id == PCI_VENDOR_NVIDIA)
    return cls == PCI_CLASS_DISPLAY;
  return d->vendor_id == PCI_VENDOR_AMD &&
         (cls == PCI_CLASS_DISPLAY || cls == PCI_CLASS_ACCELERATOR);
}

static void append_name(p3cfg__host_info *h, const char *name)
{
  const size_t cap = sizeof h->nic_names;
  size_t len = strlen(h->nic_names);
  if (len >= cap - 4)
    return; /* already truncated */
  int n = snprintf(h->nic_names + len, cap - len, "%s%s", len ? "," : "", name);
  if (n < 0 || (size_t)n >= cap - len)
    snprintf(h->nic_names + cap - 4, 4, "...");
}

static int fail(p3cfg__host_info *out, const char *what)
{
  out->status = P3CFG_EUNSUPPORTED;
  snprintf(out->message, sizeof out->message, "hwloc cannot %s on host %s", what, out->name);
  return out->status;
}

/* A GPU's PCI address as one sortable key, and the CPU package above it. */
typedef struct gpu_at {
  uint64_t bus;
  uint8_t package;
} gpu_at;

static int cmp_bus(const void *a, const void *b)
{
  const uint64_t x = ((const gpu_at *)a)->bus, y = ((const gpu_at *)b)->bus;
  return (x > y) - (x < y);
}

/* The logical index of the package holding the CPU side of PCI device `pci` (its first
 * non-I/O ancestor's package), 0 when hwloc places it under none. */
static uint8_t package_of(hwloc_topology_t topo, hwloc_obj_t pci)
{
  hwloc_obj_t obj = hwloc_get_non_io_ancestor_obj(topo, pci);
  while (obj && obj->type != HWLOC_OBJ_PACKAGE)
    obj = obj->parent;
  return obj && obj->logical_index < 256 ? (uint8_t)obj->logical_index : 0;
}

int p3cfg__topology_discover(p3cfg__host_info *out)
{
  memset(out, 0, sizeof *out);
  if (gethostname(out->name, sizeof out->name - 1) != 0)
    snprintf(out->name, sizeof out->name, "unknown");
  out->name[sizeof out->name - 1] = '\0';

  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0)
    return fail(out, "initialise");
  if (hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) != 0 ||
      hwloc_topology_load(topo) != 0) {
    hwloc_topology_destroy(topo);
    return fail(out, "load the topology");
  }
  int numa = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  out->numa_nodes = numa > 0 ? (uint32_t)numa : 1;
  out->cores = cores > 0 ? (uint32_t)cores : 1;
  out->pus = pus > 0 ? (uint32_t)pus : out->cores;

  const int packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
  out->packages = packages > 0 ? (uint32_t)packages : 1;
  gpu_at at[P3CFG__HOST_GPU_CAP];
  uint32_t n_at = 0;
  for (hwloc_obj_t pci = hwloc_get_next_pcidev(topo, NULL); pci;
       pci = hwloc_get_next_pcidev(topo, pci)) {
    if (!is_gpu(&pci->attr->pcidev))
      continue;
    if (n_at < P3CFG__HOST_GPU_CAP) {
      const struct hwloc_pcidev_attr_s *d = &pci->attr->pcidev;
      at[n_at].bus = (uint64_t)d->domain << 24 | (uint64_t)d->bus << 16 |
                     (uint64_t)d->dev << 8 | d->func;
      at[n_at].package = package_of(topo, pci);
      n_at++;
    }
    if (out->gpus++ == 0) {
      const char *name = hwloc_obj_get_info_by_name(pci, "PCIDevice");
      const int nvidia = pci->attr->pcidev.vendor_id == PCI_VENDOR_NVIDIA;
      out->gpu_device_id = nvidia ? pci->attr->pcidev.device_id : 0;
      if (name)
        snprintf(out->gpu_model, sizeof out->gpu_model, "%s", name);
      else
        snprintf(out->gpu_model, sizeof out->gpu_model, "%s PCI device %04x:%04x",
                 nvidia ? "NVIDIA" : "AMD", (unsigned)pci->attr->pcidev.vendor_id,
                 (unsigned)pci->attr->pcidev.device_id);
    }
  }
  for (hwloc_obj_t os = hwloc_get_next_osdev(topo, NULL); os; os = hwloc_get_next_osdev(topo, os)) {
    switch (os->attr->osdev.type) {
    case HWLOC_OBJ_OSDEV_NETWORK:
    case HWLOC_OBJ_OSDEV_OPENFABRICS:
      out->nics++;
      append_name(out, os->name ? os->name : "?");
      break;
    case HWLOC_OBJ_OSDEV_GPU:
    case HWLOC_OBJ_OSDEV_COPROC: {
      const char *model = hwloc_obj_get_info_by_name(os, "GPUModel");
      if (model && out->gpus > 0)
        snprintf(out->gpu_model, sizeof out->gpu_model, "%s", model);
      break;
    }
    default:
      break;
    }
  }
  qsort(at, n_at, sizeof at[0], cmp_bus);
  for (uint32_t i = 0; i < n_at; i++)
    out->gpu_package[i] = at[i].package;
  hwloc_topology_destroy(topo);
  return 0;
}
