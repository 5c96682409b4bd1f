/*
 * gpu_efficiency.c — a recorded GPU profile (CSV of p3cfg profile --compute --csv, or
 * bench/gpu_gemm --csv) against what the presets of src/common/gpu_presets.c assume:
 * per GEMM shape the measured efficiency (FLOP/s over the dense 16-bit peak) beside
 * what the time model predicts with the preset's parameters and with the fitted ones,
 * then the fitted parameters and the errors of both. Needs no GPU.
 *
 * usage: gpu_efficiency [CSV] [--preset NAME ...]
 *   CSV defaults to tests/fixtures/gpu/h200.csv (the recorded H200 run); each
 *   --preset repeats the comparison against that preset (h100-sxm, h200, ...), whose
 *   peak and bandwidth then become the reference.
 */
#include <stdio.h>
#include <string.h>

#include "p3cfg/gpu.h"

#ifndef P3CFG_SOURCE_DIR
#define P3CFG_SOURCE_DIR "."
#endif

static int compare(const char *csv, const char *preset)
{
  p3cfg_gpu_profile *p = NULL;
  p3cfg_buffer b = {0};
  p3cfg_gpu_fit fit;
  int rc = p3cfg_gpu_profile_load_csv(&p, csv);
  if (rc == 0 && preset)
    rc = p3cfg_gpu_profile_set_gpu(p, preset, 0.0, 0.0);
  if (rc == 0)
    rc = p3cfg_gpu_profile_fit(&fit, p);
  if (rc == 0)
    rc = p3cfg_gpu_profile_report(&b, p, &fit, 1);
  if (rc == 0) {
    printf("== %s against %s ==\n%s\n", csv, p3cfg_gpu_profile_device(p)->gpu, b.data);
    p3cfg_buffer_dispose(&b);
  } else {
    const p3cfg_error *e = p3cfg_error_last();
    fprintf(stderr, "gpu_efficiency: %s%s%s\n", e->file ? e->file : "", e->file ? ": " : "",
            e->message);
  }
  p3cfg_gpu_profile_free(p);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
  const char *csv = P3CFG_SOURCE_DIR "/tests/fixtures/gpu/h200.csv";
  const char *presets[16];
  int n = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc && n < 16)
      presets[n++] = argv[++i];
    else if (argv[i][0] != '-')
      csv = argv[i];
    else {
      fprintf(stderr, "usage: gpu_efficiency [CSV] [--preset NAME ...]\n");
      return 2;
    }
  }
  if (n == 0)
    return compare(csv, NULL);
  int rc = 0;
  for (int i = 0; i < n; i++)
    rc |= compare(csv, presets[i]);
  return rc;
}
