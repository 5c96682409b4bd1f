/*
 * nccl_single.c — `p3cfg profile --backend nccl` as one process on one GPU where no MPI
 * is installed: the profiler (src/profile, with the NCCL backend) linked against the
 * single-process MPI of tests/profile/mpi_single. It runs the whole NCCL path of a lone
 * rank — loading, device set-up, communicators, the GPU's send/recv to itself, the
 * all-reduce of one rank — and prints the summary (stderr) and the cluster file
 * (stdout). Built and run by bench/gpu_nccl_check.sh; not part of the CMake build.
 * usage: nccl_single GPU_PRESET [OUTPUT.yaml]
 */
#include <stdio.h>
#include <string.h>

#include "p3cfg/mpi.h"

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  p3cfg_profile_options o = P3CFG_PROFILE_OPTIONS_INIT;
  o.backend = P3CFG_PROFILE_BACKEND_NCCL;
  o.gpu = argc > 1 ? argv[1] : NULL;
  o.timeout_s = 30.0;
  const char *output = argc > 2 ? argv[2] : NULL;
  p3cfg_profile_result *r = NULL;
  int rc = p3cfg_profile_run(&r, MPI_COMM_WORLD, &o);
  if (rc != 0) {
    fprintf(stderr, "p3cfg: %s\n", p3cfg_profile_error_last()->message);
    MPI_Finalize();
    return 1;
  }
  p3cfg_buffer b = {0};
  if (p3cfg_profile_summary(&b, r) == 0) {
    fputs(b.data, stderr);
    p3cfg_buffer_dispose(&b);
  }
  if (p3cfg_profile_cluster_yaml(&b, r) != 0) {
    fprintf(stderr, "p3cfg: %s\n", p3cfg_profile_error_last()->message);
    rc = 1;
  } else {
    fputs(b.data, stdout);
    p3cfg_buffer_dispose(&b);
    if (output && p3cfg_profile_write(r, output, 1) != 0) {
      fprintf(stderr, "p3cfg: %s\n", p3cfg_profile_error_last()->message);
      rc = 1;
    }
  }
  p3cfg_profile_result_free(r);
  MPI_Finalize();
  return rc == 0 ? 0 : 1;
}
