/*
 * gpu_gemm.c — time this GPU's bf16 GEMMs and copy bandwidth (p3cfg_gpu_measure) and
 * write the table as CSV: the standard set of p3cfg profile --compute (GPT-3 175B and
 * Llama 3 70B layers at tp 1/2/4/8 and 2048..16384 tokens, forward and both backward
 * GEMMs; squares 1024..8192; device copies of 256 MiB and 1 GiB), then the fit and the
 * per-shape report against the reference preset.
 *
 * It uses only the public API, so besides CMake's bench_gpu_gemm it builds by hand where
 * libyaml is missing (bench/gpu_check.sh does that on the GPU machine):
 *   gcc -std=c11 -O2 ... bench/gpu_gemm.c src/gpu/...c src/gpufit/gpu_{profile,table,fit,
 *       report,measure_stub}.c src/perf/compute_cost.c src/common/...c -ldl -lpthread -lm
 *
 * usage: gpu_gemm [--csv FILE] [--reps N] [--warmup N] [--device N] [--gpu NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "p3cfg/gpu.h"

static void progress(void *payload, uint32_t done, uint32_t total)
{
  const time_t *start = payload;
  if (done == total || done % 50 == 0)
    fprintf(stderr, "  %u/%u kernels, %.0f s\n", done, total, difftime(time(NULL), *start));
}

static int fail(const char *what)
{
  const p3cfg_error *e = p3cfg_error_last();
  fprintf(stderr, "gpu_gemm: %s: %s\n", what, e->message);
  return 1;
}

int main(int argc, char **argv)
{
  const char *csv = NULL, *gpu = NULL;
  p3cfg_gpu_measure_options o = P3CFG_GPU_MEASURE_OPTIONS_INIT;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--csv") == 0 && v)
      csv = v, i++;
    else if (strcmp(argv[i], "--gpu") == 0 && v)
      gpu = v, i++;
    else if (strcmp(argv[i], "--reps") == 0 && v)
      o.reps = (uint32_t)strtoul(v, NULL, 10), i++;
    else if (strcmp(argv[i], "--warmup") == 0 && v)
      o.warmup = (uint32_t)strtoul(v, NULL, 10), i++;
    else if (strcmp(argv[i], "--device") == 0 && v)
      o.device = (int)strtol(v, NULL, 10), i++;
    else {
      fprintf(stderr, "usage: gpu_gemm [--csv FILE] [--reps N] [--warmup N] [--device N] "
                      "[--gpu NAME]\n");
      return 2;
    }
  }
  struct utsname u;
  if (uname(&u) == 0)
    printf("machine: %s %s %s, p3cfg %s\n", u.nodename, u.sysname, u.machine,
           p3cfg_version_string());
  p3cfg_gpu_profile *p = NULL;
  if (p3cfg_gpu_profile_new(&p) != 0 || p3cfg_gpu_profile_add_standard(p) != 0)
    return fail("profile");
  if (gpu && p3cfg_gpu_profile_set_gpu(p, gpu, 0.0, 0.0) != 0)
    return fail("--gpu");
  /* The large GEMM on a cold GPU first (no settling): the burst rate, for comparison
   * with the sustained one of the standard set. */
  p3cfg_gpu_profile *cold = NULL;
  p3cfg_gpu_measure_options oc = o;
  oc.settle_s = 0.0;
  if (p3cfg_gpu_profile_new(&cold) == 0 && p3cfg_gpu_profile_add_square(cold, 8192) == 0 &&
      p3cfg_gpu_measure(cold, &oc) == 0) {
    const p3cfg_gpu_sample *s = p3cfg_gpu_profile_sample(cold, 0);
    printf("cold GPU, 8192^3 GEMM: %.1f TFLOP/s (median of %u after %u warm-up runs)\n",
           2.0 * 8192.0 * 8192.0 * 8192.0 / s->median_s / 1e12, s->reps, oc.warmup);
  }
  p3cfg_gpu_profile_free(cold);
  time_t start = time(NULL);
  o.progress = progress;
  o.progress_payload = &start;
  fprintf(stderr, "timing %zu kernels (%.0f s settling, then %u warm-up + %u timed runs "
                  "each)\n",
          p3cfg_gpu_profile_count(p), o.settle_s, o.warmup, o.reps);
  int rc = p3cfg_gpu_measure(p, &o);
  if (rc != 0) {
    fail("measure");
    p3cfg_gpu_profile_free(p);
    return 1;
  }
  p3cfg_buffer b = {0};
  if (csv) {
    FILE *f = fopen(csv, "w");
    if (!f || p3cfg_gpu_profile_csv(&b, p) != 0 || fwrite(b.data, 1, b.len, f) != b.len) {
      perror(csv);
      rc = 1;
    }
    if (f && fclose(f) != 0)
      rc = 1;
    p3cfg_buffer_dispose(&b);
  }
  p3cfg_gpu_fit fit;
  if (p3cfg_gpu_profile_fit(&fit, p) != 0) {
    fail("fit");
    rc = 1;
  } else if (p3cfg_gpu_profile_report(&b, p, &fit, 1) == 0) {
    fputs(b.data, stdout);
    p3cfg_buffer_dispose(&b);
  }
  p3cfg_gpu_profile_free(p);
  return rc;
}
