/*
 * gpu_presets_test.c — the GPU table of gpu_presets.c (suite "common"): the names NVML,
 * CUDA, hwloc and pci.ids give map to the presets they are (with the memory where the
 * caller knows it, without where it does not), the parts no preset describes to none,
 * the PCI device ids, and the platform networks the cluster files take.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "gpu_presets.h"

static void expect(const char *name, uint64_t memory_bytes, const char *want)
{
  const p3cfg_gpu *g = p3cfg__gpu_preset_identify(name, memory_bytes);
  if (want)
    cr_expect(g && strcmp(g->name, want) == 0, "%s (%llu B) -> %s, not %s", name,
              (unsigned long long)memory_bytes, g ? g->name : "NULL", want);
  else
    cr_expect_null(g, "%s (%llu B) -> %s, not NULL", name, (unsigned long long)memory_bytes,
                   g ? g->name : "");
}

/* hwloc's GPUModel or pci.ids string, the memory unknown. */
Test(common, gpu_hwloc_names_map_to_presets)
{
  expect("GA100 [A100 SXM4 80GB]", 0, "a100-80gb");
  expect("NVIDIA A100-SXM4-40GB", 0, "a100-40gb");
  expect("GA100 [A100 PCIe 80GB]", 0, "a100-80gb");
  expect("GH100 [H100 SXM5 80GB]", 0, "h100-sxm");
  expect("NVIDIA H100 80GB HBM3", 0, "h100-sxm");
  expect("GH100 [H100 PCIe]", 0, "h100-pcie");
  expect("NVIDIA H200", 0, "h200");
  expect("GV100GL [Tesla V100 SXM2 32GB]", 0, "v100-32gb");
  expect("GH100 [H100 NVL]", 0, NULL);
  expect("GA102 [GeForce RTX 3090]", 0, NULL);
  expect("", 0, NULL);
  expect(NULL, 0, NULL);
  /* the size unknown from the name and the memory: no guess */
  expect("NVIDIA A100", 0, NULL);
  expect("NVIDIA PCI device 10de:2335", 0, NULL);
}

/* CUDA's and NVML's names, with the memory they report. */
Test(common, gpu_cuda_names_map_to_presets)
{
  const uint64_t GiB = 1ull << 30;
  expect("NVIDIA H200", 140 * GiB, "h200");
  expect("NVIDIA H100 80GB HBM3", 80 * GiB, "h100-sxm");
  expect("NVIDIA H100 PCIe", 80 * GiB, "h100-pcie");
  expect("NVIDIA A100-SXM4-80GB", 80 * GiB, "a100-80gb");
  expect("NVIDIA A100-SXM4-40GB", 40 * GiB, "a100-40gb");
  expect("NVIDIA A100-PCIE-40GB", 40 * GiB, "a100-40gb");
  expect("Tesla V100-SXM2-32GB", 32 * GiB, "v100-32gb");
  expect("NVIDIA H100 NVL", 94 * GiB, NULL);
  expect("NVIDIA H200 NVL", 140 * GiB, NULL);
  expect("NVIDIA GH200 480GB", 96 * GiB, NULL);
  expect("NVIDIA L40S", 48 * GiB, NULL);
  expect("Tesla V100-SXM2-16GB", 16 * GiB, NULL);
}

Test(common, gpu_pci_device_ids_map_to_presets)
{
  /* Without pci.ids hwloc names no device: the id decides (an H200 reads 10de:2335). */
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x2335)->name, "h200");
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x2330)->name, "h100-sxm");
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x20b2)->name, "a100-80gb");
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x20b5)->name, "a100-80gb");
  cr_assert_null(p3cfg__gpu_preset_for_pci_id(0x2321)); /* H100 NVL: no preset */
  cr_assert_null(p3cfg__gpu_preset_for_pci_id(0));
}

/* Every preset has a row with a network, and recognises its own datasheet name. */
Test(common, gpu_every_preset_has_a_network)
{
  for (size_t i = 0; p3cfg__gpu_preset_at(i); i++) {
    double intra = 0, inter = 0;
    cr_assert(p3cfg__gpu_preset_network(p3cfg__gpu_preset_at(i)->name, &intra, &inter));
    cr_expect(intra > inter && inter > 0, "%s", p3cfg__gpu_preset_at(i)->name);
  }
  double intra = -1, inter = -1;
  cr_expect(!p3cfg__gpu_preset_network("l40s", &intra, &inter));
  cr_expect(intra == -1 && inter == -1);
  cr_assert(p3cfg__gpu_preset_network("h100-pcie", &intra, &inter));
  cr_expect(intra == 450 && inter == 50);
}
