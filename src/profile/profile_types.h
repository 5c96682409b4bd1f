/*
 * profile_types.h — what the profiler knows about one run: the hosts hwloc found, the
 * rank -> host -> local index map, and the N x N matrices of measured links. Filled by
 * profile_run.c (MPI), read by the analysis, the summary and the cluster writer, which
 * need no MPI.
 */
#ifndef P3CFG_PROFILE_TYPES_H
#define P3CFG_PROFILE_TYPES_H

#include <stdint.h>

#include "p3cfg/mpi.h"
#include "types.h"

#define P3CFG__HOST_NAME_CAP 64
#define P3CFG__GPU_MODEL_CAP 96
#define P3CFG__NIC_NAMES_CAP 160
#define P3CFG__MESSAGE_CAP 256

/* Bytes of the latency ping-pong message. */
#define P3CFG__LATENCY_BYTES 8
/* A link below this fraction of its class reference is flagged (docs/profiling.md). */
#define P3CFG__OUTLIER_RATIO 0.7
/* Directions differing by more than this fraction are reported as asymmetric. */
#define P3CFG__ASYMMETRY 0.10

/* GPUs per host whose CPU package the profile records (a GB200 tray has 4, a DGX 8). */
#define P3CFG__HOST_GPU_CAP 64

/* One host as hwloc sees it. Plain bytes: it travels in MPI messages as MPI_BYTE. */
typedef struct p3cfg__host_info {
  char name[P3CFG__HOST_NAME_CAP];
  uint32_t gpus;                          /* NVIDIA PCI display/3D controllers */
  char gpu_model[P3CFG__GPU_MODEL_CAP];   /* name of the first one, "" when none */
  uint32_t gpu_device_id;                 /* its PCI device id (0x2335), 0 when none */
  uint32_t nics;                          /* network and OpenFabrics OS devices */
  char nic_names[P3CFG__NIC_NAMES_CAP];   /* comma-separated, may end in "..." */
  uint32_t numa_nodes, cores, pus;
  /* The CPU package (socket, logical index) of each GPU in PCI bus order, the order CUDA
   * numbers them with CUDA_DEVICE_ORDER=PCI_BUS_ID (and, on one GPU model, by default):
   * the first min(gpus, P3CFG__HOST_GPU_CAP) GPUs; `packages` CPU packages in all. */
  uint8_t gpu_package[P3CFG__HOST_GPU_CAP];
  uint32_t packages;
  int32_t status;                         /* 0, or the P3CFG_E* of a failed discovery */
  char message[P3CFG__MESSAGE_CAP];       /* why it failed */
} p3cfg__host_info;

/* Per-direction flags of a measured link. */
enum {
  P3CFG__LINK_SCALED = 1u << 0,   /* fewer repetitions or sizes than asked (budget) */
  P3CFG__LINK_ONE_POINT = 1u << 1 /* one message size only: bytes/time, no fit */
};

/* Medians of one class of links (intra-node or inter-node). */
typedef struct p3cfg__link_class {
  uint32_t count;          /* ordered rank pairs in the class */
  double median_Bps;       /* written to network.*_GBps */
  double reference_Bps;    /* what a healthy link of the class does: the 75th percentile */
  double median_latency_s; /* written to network.*_latency_us */
} p3cfg__link_class;

struct p3cfg_profile_result {
  uint32_t n;               /* ranks */
  uint32_t n_hosts, per_host;
  p3cfg__host_info *hosts;  /* n_hosts, in the order of the cluster file */
  uint32_t *rank_host;      /* n: host index of each rank */
  uint32_t *rank_local;     /* n: local index of each rank on its host */
  double *bw_Bps;           /* n*n by rank, row = sender; the diagonal is 0 */
  double *lat_s;            /* n*n, same layout */
  uint8_t *flags;           /* n*n P3CFG__LINK_* */

  char *name;               /* cluster name */
  p3cfg_gpu gpu;            /* what `gpu:` says */
  int gpu_is_preset;        /* write the preset name alone */
  int has_base;             /* base figures below come from --base */
  double base_intra_Bps, base_inter_Bps, base_intra_latency_s, base_inter_latency_s;

  /* How it was measured, for the comments of the file and the summary. */
  p3cfg_profile_mode mode;
  uint32_t rounds, steps, scaled_down;
  double elapsed_s, budget_s, timeout_s;
  uint32_t latency_reps, bandwidth_reps, warmup, window;
  uint64_t min_bytes, max_bytes;
  char backend[64];         /* "MPI point-to-point, host buffers" */
  char mpi_library[128];    /* first line of MPI_Get_library_version */
  char date[32];            /* UTC, ISO 8601 */
  p3cfg_profile_granularity granularity; /* of the file's links (cluster_writer.c) */

  /* Beyond the pairs (link_backend.h; zero when the backend measures none of it). */
  p3cfg_profile_backend link_backend;
  char backend_note[160];   /* NCCL: the CUDA device, driver and runtime of rank 0 */
  double *allreduce_Bps;    /* n_hosts or NULL: NCCL all-reduce bus bandwidth within the
                               host (its slowest rank; 0 with one rank per host) */
  double *allreduce_alg_Bps; /* n_hosts or NULL: bytes / time of the same */
  uint64_t allreduce_max_bytes; /* largest all-reduce message timed */
  double self_Bps, self_lat_s; /* one rank: its GPU's send/recv to itself (the diagonal) */

  /* Derived by p3cfg__profile_finish(). */
  p3cfg__link_class intra, inter;
};

/* profile_result.c: an empty result for n ranks on n_hosts hosts (matrices zeroed);
 * NULL when out of memory. */
p3cfg_profile_result *p3cfg__profile_result_new(uint32_t n, uint32_t n_hosts);
/* Compute the class medians (call once the matrices are filled). */
int p3cfg__profile_finish(p3cfg_profile_result *r);
/* The diagonal figures: the intra-node medians, else --base's, else the fastest link. */
void p3cfg__profile_self_link(const p3cfg_profile_result *r, double *Bps, double *lat_s);

#endif
