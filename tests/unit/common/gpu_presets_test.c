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

/* The 2025-26 parts (issue 14) by the names NVML / the NVIDIA driver README and hwloc's
 * GPUModel give (ROCm's marketing name on AMD), the memory unknown. */
Test(common, gpu_blackwell_h800_mi300x_names_map_to_presets)
{
  expect("NVIDIA B200", 0, "b200");
  expect("NVIDIA GB200", 0, "gb200");
  expect("NVIDIA B300 SXM6 AC", 0, "b300");
  expect("NVIDIA GB300", 0, "gb300");
  expect("NVIDIA H800", 0, "h800");
  expect("NVIDIA H800 80GB HBM3", 0, "h800");
  expect("AMD Instinct MI300X", 0, "mi300x");
  /* other parts carrying a near word: no preset */
  expect("NVIDIA H800 PCIe", 0, NULL);
  expect("NVIDIA H800 NVL", 0, NULL);
  expect("NVIDIA GB10", 0, NULL);
  expect("AMD Instinct MI300A", 0, NULL);
  expect("AMD Instinct MI325X", 0, NULL);
  expect("NVIDIA H20", 0, NULL);
}

/* With the memory CUDA reports (nvidia-smi Total, PyTorch total_memory). */
Test(common, gpu_blackwell_h800_mi300x_cuda_names_map_to_presets)
{
  const uint64_t MiB = 1ull << 20;
  expect("NVIDIA B200", 183359 * MiB, "b200");
  expect("NVIDIA GB200", 189471 * MiB, "gb200");
  expect("NVIDIA B300 SXM6 AC", 275040 * MiB, "b300");
  expect("NVIDIA GB300", 284208 * MiB, "gb300");
  /* the DGX Station's GB300, 252 GB: not the NVL72 part */
  expect("NVIDIA GB300", 240000 * MiB, NULL);
  expect("NVIDIA H800", 81559 * MiB, "h800");
  expect("AMD Instinct MI300X", 196592 * MiB, "mi300x");
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
  /* NVIDIA driver README, Appendix A (supported GPUs) */
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x2901)->name, "b200");
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x2941)->name, "gb200");
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x3182)->name, "b300");
  cr_assert_str_eq(p3cfg__gpu_preset_for_pci_id(0x2324)->name, "h800");
  cr_assert_null(p3cfg__gpu_preset_for_pci_id(0x2322)); /* H800 PCIe: no preset */
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
  cr_assert(p3cfg__gpu_preset_network("h800", &intra, &inter));
  cr_expect(intra == 200 && inter == 50, "H800: NVLink cut to 400 GB/s bidirectional");
  cr_assert(p3cfg__gpu_preset_network("gb300", &intra, &inter));
  cr_expect(intra == 900 && inter == 100, "GB300: NVLink 5, ConnectX-8 800 Gb/s");
  cr_assert(p3cfg__gpu_preset_network("mi300x", &intra, &inter));
  cr_expect(intra == 448 && inter == 50, "MI300X: 7 Infinity Fabric links of 64 GB/s");
}

/* Dense low-precision peaks: NVIDIA's sparse Blackwell figures halved (FP8 twice BF16,
 * FP4 twice FP8 on B200/GB200, 1.5x more on Blackwell Ultra), none where the part has no
 * such tensor cores. */
Test(common, gpu_low_precision_peaks_are_dense)
{
  const p3cfg_gpu *b200 = p3cfg__gpu_preset("b200"), *gb300 = p3cfg__gpu_preset("gb300");
  cr_assert(b200 && gb300);
  cr_expect(b200->peak_flops == 2.25e15 && b200->peak_fp8_flops == 2 * b200->peak_flops &&
            b200->peak_fp4_flops == 4 * b200->peak_flops);
  cr_expect(gb300->peak_fp4_flops == 6 * gb300->peak_flops);
  const char *no_fp4[] = {"h800", "mi300x", "h100-sxm", "h200"};
  for (size_t i = 0; i < sizeof no_fp4 / sizeof no_fp4[0]; i++) {
    const p3cfg_gpu *g = p3cfg__gpu_preset(no_fp4[i]);
    cr_assert_not_null(g, "%s", no_fp4[i]);
    const double ratio = g->peak_fp8_flops / g->peak_flops;
    cr_expect(g->peak_fp4_flops == 0 && ratio > 1.999 && ratio < 2.001, "%s", no_fp4[i]);
  }
  for (size_t i = 0; p3cfg__gpu_preset_at(i); i++) {
    const p3cfg_gpu *g = p3cfg__gpu_preset_at(i);
    cr_expect(g->peak_fp4_flops == 0 || g->peak_fp4_flops > g->peak_fp8_flops, "%s", g->name);
  }
}
