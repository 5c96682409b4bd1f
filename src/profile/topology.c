/*
 * topology.c — hwloc discovery of one host for the profiler.
 *
 * GPUs are counted as PCI devices of NVIDIA (vendor 0x10de) with a display-controller
 * class (0x03xx), because hwloc builds without CUDA or NVML backends still list them,
 * and each physical GPU appears once (a CUDA and an NVML OS device may both name it).
 * A GPU OS device's "GPUModel" (NVML), when hwloc has one, is a better name than the
 * pci.ids string. Containers often lack pci.ids (hwloc then has no name at all), so the
 * PCI device ids of the preset GPUs are known here too. NICs are network and OpenFabrics OS devices: hwloc lists only those
 * behind a PCI device, not loopback, bridges or veths. One rank per host calls this.
 */
#include "topology.h"

#include <ctype.h>
#include <hwloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define PCI_VENDOR_NVIDIA 0x10de
#define PCI_CLASS_DISPLAY 0x03

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

  for (hwloc_obj_t pci = hwloc_get_next_pcidev(topo, NULL); pci;
       pci = hwloc_get_next_pcidev(topo, pci)) {
    if (pci->attr->pcidev.vendor_id != PCI_VENDOR_NVIDIA ||
        (pci->attr->pcidev.class_id >> 8) != PCI_CLASS_DISPLAY)
      continue;
    if (out->gpus++ == 0) {
      const char *name = hwloc_obj_get_info_by_name(pci, "PCIDevice");
      out->gpu_device_id = pci->attr->pcidev.device_id;
      if (name)
        snprintf(out->gpu_model, sizeof out->gpu_model, "%s", name);
      else
        snprintf(out->gpu_model, sizeof out->gpu_model, "NVIDIA PCI device 10de:%04x",
                 (unsigned)out->gpu_device_id);
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
  hwloc_topology_destroy(topo);
  return 0;
}

/* Upper-case copy with every non-alphanumeric character turned into a space, framed by
 * spaces, so that " 80GB " matches "80GB" in "A100-SXM4-80GB" and "[A100 SXM4 80GB]". */
static void normalise(char *dst, size_t cap, const char *src)
{
  size_t j = 0;
  dst[j++] = ' ';
  for (; *src && j + 2 < cap; src++) {
    unsigned char c = (unsigned char)*src;
    dst[j++] = isalnum(c) ? (char)toupper(c) : ' ';
  }
  dst[j++] = ' ';
  dst[j] = '\0';
}

static int has(const char *norm, const char *word)
{
  char pat[32];
  snprintf(pat, sizeof pat, " %s ", word);
  return strstr(norm, pat) != NULL;
}

/* NVIDIA PCI device ids of the preset GPUs (pci.ids; 0x2335 seen on an H200 as
 * nvidia-smi "NVIDIA H200, 143771 MiB"). Only ids whose memory size is certain. */
static const struct {
  uint32_t id;
  const char *preset;
} device_ids[] = {
    {0x20b0, "a100-40gb"}, /* GA100 [A100 40GB] */
    {0x20b2, "a100-80gb"}, /* GA100 [A100 SXM4 80GB] */
    {0x20b5, "a100-80gb"}, /* GA100 [A100 PCIe 80GB] */
    {0x2330, "h100-sxm"},  /* GH100 [H100 SXM5 80GB] */
    {0x2331, "h100-pcie"}, /* GH100 [H100 PCIe] */
    {0x2335, "h200"},      /* GH100 [H200 SXM 141GB] */
    {0x1db5, "v100-32gb"}, /* GV100GL [Tesla V100 32GB] */
};

const char *p3cfg__gpu_preset_for_device_id(uint32_t device_id)
{
  for (size_t i = 0; i < sizeof device_ids / sizeof device_ids[0]; i++)
    if (device_ids[i].id == device_id)
      return device_ids[i].preset;
  return NULL;
}

const char *p3cfg__gpu_preset_for_model(const char *model)
{
  char s[P3CFG__GPU_MODEL_CAP + 4];
  if (!model || !*model)
    return NULL;
  normalise(s, sizeof s, model);
  if (has(s, "H200"))
    return "h200";
  if (has(s, "H100")) {
    if (has(s, "PCIE"))
      return "h100-pcie";
    if (has(s, "SXM") || has(s, "SXM5") || has(s, "HBM3"))
      return "h100-sxm";
    return NULL; /* NVL and others: no preset */
  }
  if (has(s, "A100")) {
    if (has(s, "80GB"))
      return "a100-80gb";
    if (has(s, "40GB"))
      return "a100-40gb";
    return NULL;
  }
  if (has(s, "V100") && has(s, "32GB"))
    return "v100-32gb";
  return NULL;
}
