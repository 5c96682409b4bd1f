/*
 * p3cfg/mpi.h — the cluster profiler of libp3cfg_mpi: measure every link of a cluster
 * with MPI and describe it as a cluster file (spec §3, §8 "Profiler").
 *
 * This is the only public header that includes <mpi.h>; it lives in its own library,
 * libp3cfg_mpi, which links libp3cfg, so that the core library builds and runs without
 * MPI. The caller initialises MPI; the library never calls MPI_Init, never prints, never
 * exits and never aborts.
 *
 * Typical use, on every rank (one rank per GPU):
 *
 *   p3cfg_profile_options o = P3CFG_PROFILE_OPTIONS_INIT;
 *   p3cfg_profile_result *r = NULL;
 *   int rc = p3cfg_profile_run(&r, MPI_COMM_WORLD, &o);
 *   if (rc == P3CFG_EMPI)             // a rank died, a link stalled, MPI failed:
 *     MPI_Abort(MPI_COMM_WORLD, 1);   // the communicator is unusable now
 *   if (rc == 0 && rank == 0)
 *     rc = p3cfg_profile_write(r, "cluster.yaml", 0);
 *   p3cfg_profile_result_free(r);
 *
 * Errors: the functions below return 0 or a negative P3CFG_E* code and leave the
 * message in p3cfg_profile_error_last() (libp3cfg_mpi is a separate shared object and
 * keeps its own thread-local last error; p3cfg_error_last() covers libp3cfg's calls).
 */
#ifndef P3CFG_MPI_H
#define P3CFG_MPI_H

#include <mpi.h>
#include <stdint.h>

#include "p3cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the disjoint pairs of one round share the time (see docs/profiling.md). */
typedef enum p3cfg_profile_mode {
  /** Default: pairs of a round run at the same time only when they touch no common
   *  host (no shared NIC, memory bus or cores); the others wait their turn. */
  P3CFG_PROFILE_HOST_DISJOINT = 0,
  /** One pair at a time: N(N-1)/2 steps, nothing shared but the idle fabric. */
  P3CFG_PROFILE_SERIAL = 1,
  /** Every pair of a round at once (N-1 steps): shows shared NICs and uplinks. */
  P3CFG_PROFILE_CONCURRENT = 2
} p3cfg_profile_mode;

/** What measures the links (see docs/profiling.md and docs/gpu-profiling.md). */
typedef enum p3cfg_profile_backend {
  /** Default: MPI point-to-point between host buffers (any MPI, no GPU needed). */
  P3CFG_PROFILE_BACKEND_MPI = 0,
  /** NCCL send/recv between device buffers, one GPU per rank (the rank's local index
   *  on its host picks the GPU), plus NCCL all-reduce bus bandwidth within each host.
   *  Needs a build with CUDA's toolkit and NCCL headers (else P3CFG_EUNSUPPORTED); the
   *  CUDA runtime and libnccl.so.2 are loaded when the run starts. One rank is enough
   *  (a GPU's send/recv to itself and the all-reduce path are then measured). */
  P3CFG_PROFILE_BACKEND_NCCL = 1
} p3cfg_profile_backend;

/** Called on rank 0 after each step: `done` of `total` steps finished. The library's one
 *  progress type (p3cfg_progress_fn), under the name of API version 1. */
typedef p3cfg_progress_fn p3cfg_profile_progress_fn;

/* Version 2 added `backend`; version 1 structs (without it) are still accepted and
 * measure with MPI. */
#define P3CFG_PROFILE_OPTIONS_VERSION 2

typedef struct p3cfg_profile_options {
  unsigned version;        /**< P3CFG_PROFILE_OPTIONS_VERSION */
  p3cfg_profile_mode mode; /**< default P3CFG_PROFILE_HOST_DISJOINT */
  double budget_s;         /**< whole profile, seconds; 0 = no budget. Repetitions and
                                message sizes are scaled down to fit (and counted). */
  double timeout_s;        /**< longest any one step (or start-up exchange) may take
                                before the run fails with P3CFG_EMPI; default 60 */
  uint32_t latency_reps;   /**< timed 8-byte ping-pongs per direction (default 20) */
  uint32_t bandwidth_reps; /**< timed windows per message size (default 5) */
  uint32_t warmup;         /**< untimed repetitions before each series (default 2) */
  uint32_t window;         /**< messages in flight in a bandwidth window (default 8) */
  uint64_t min_bytes;      /**< smallest bandwidth message (default 64 KiB) */
  uint64_t max_bytes;      /**< largest bandwidth message (default 4 MiB); sizes go up
                                by 4x from min_bytes */
  double target_s;         /**< a window this long is bandwidth-bound: once two sizes
                                are measured and one took this long, larger sizes are
                                skipped (default 0.1: shorter windows over TCP vary by
                                +-20 %, see docs/profiling.md) */
  const char *name;        /**< cluster name; NULL: the base's, else "profiled" */
  const char *gpu;         /**< GPU preset name (a100-80gb, h100-sxm, ...); NULL: the
                                base's, else detected from hwloc's PCI device names */
  const char *base_path;   /**< cluster file read on rank 0 for the GPU and whatever is
                                not measured; NULL for none */
  const char *output_path; /**< when set, rank 0 checks at the start that it can write
                                it (and that it does not exist unless `force`) */
  int force;               /**< see output_path */
  p3cfg_profile_progress_fn progress; /**< rank 0 only; NULL for none */
  void *progress_payload;
  p3cfg_profile_backend backend; /**< default P3CFG_PROFILE_BACKEND_MPI (version 2) */
} p3cfg_profile_options;

#define P3CFG_PROFILE_OPTIONS_INIT                                                     \
  {                                                                                    \
    P3CFG_PROFILE_OPTIONS_VERSION, P3CFG_PROFILE_HOST_DISJOINT, 0.0, 60.0, 20, 5, 2,    \
        8, 64u * 1024u, 4u * 1024u * 1024u, 0.1, NULL, NULL, NULL, NULL, 0, NULL, NULL, \
        P3CFG_PROFILE_BACKEND_MPI                                                      \
  }

/** Set *opts to the defaults of P3CFG_PROFILE_OPTIONS_INIT. */
P3CFG_API void p3cfg_profile_options_init(p3cfg_profile_options *opts);

/** "mpi" or "nccl"; NULL for a value that is no backend. */
P3CFG_API const char *p3cfg_profile_backend_name(p3cfg_profile_backend backend);

/** The backend called `name` ("mpi", "nccl"; case-sensitive) into *out: 0, or
 *  P3CFG_EINVALID with the known names in the message. Whether a backend is built in
 *  is only known when a run starts (P3CFG_EUNSUPPORTED). */
P3CFG_API int p3cfg_profile_backend_from_name(p3cfg_profile_backend *out, const char *name);

/** A finished profile: topology and the measured N x N link matrices. */
typedef struct p3cfg_profile_result p3cfg_profile_result;

/**
 * Measure every ordered pair of ranks of `comm` (collective; call it on every rank with
 * the same options). Every rank discovers its host with hwloc; latency (8-byte
 * ping-pong) and bandwidth (windowed large messages over a size sweep, least-squares
 * fit) are measured for both directions of every pair, in rounds of disjoint pairs
 * (circle method: N-1 rounds for even N). On success every rank receives the complete
 * result in *out (caller frees).
 *
 * Returns P3CFG_EINVALID for bad options or fewer than 2 ranks; P3CFG_EVALUE when the
 * ranks cannot be profiled as a cluster (p3cfg versions differ, hosts carry unequal
 * rank counts, no GPU type is known, the base file is invalid, the output exists), the
 * same on every rank; P3CFG_EIO when output_path cannot be written; P3CFG_EMPI when MPI
 * fails, a rank dies or a step exceeds timeout_s: then the other ranks may still be
 * waiting and the caller must call MPI_Abort. comm itself is only duplicated.
 */
P3CFG_API int p3cfg_profile_run(p3cfg_profile_result **out, MPI_Comm comm,
                                const p3cfg_profile_options *opts);

/** Facts about a profile; strings are borrowed from the result. */
typedef struct p3cfg_profile_info {
  uint32_t ranks, hosts, ranks_per_host;
  uint32_t rounds, steps;  /**< circle-method rounds; steps = rounds split by mode */
  p3cfg_profile_mode mode;
  double elapsed_s;        /**< rank 0's wall time for the whole run */
  uint32_t scaled_down;    /**< directions measured with fewer repetitions or sizes
                                than asked, to fit the budget or the timeout */
  double intra_Bps, inter_Bps;         /**< class medians; 0 when no such link */
  double intra_latency_s, inter_latency_s;
  const char *name;        /**< cluster name written */
  const char *gpu_name;    /**< GPU preset or model written */
  const char *backend;     /**< "MPI point-to-point, host buffers" */
} p3cfg_profile_info;

P3CFG_API int p3cfg_profile_get_info(p3cfg_profile_info *out, const p3cfg_profile_result *r);

/** Bandwidth (bytes/s) and latency (s) measured from rank src to rank dst of the
 *  profiled communicator; src == dst gives the intra-node figures written on the
 *  diagonal. P3CFG_EINVALID when a rank is out of range. */
P3CFG_API int p3cfg_profile_link(double *Bps, double *latency_s,
                                 const p3cfg_profile_result *r, uint32_t src, uint32_t dst);

/** Host index (in the order of the cluster file's nodes) and local index of a rank. */
P3CFG_API int p3cfg_profile_rank_place(uint32_t *host, uint32_t *local,
                                       const p3cfg_profile_result *r, uint32_t rank);

/** Name of host `index`; NULL when out of range. Borrowed. */
P3CFG_API const char *p3cfg_profile_host_name(const p3cfg_profile_result *r, uint32_t index);

/** The human summary: hosts, class medians, slowest links, links below 0.7x their
 *  class reference, asymmetric pairs (> 10 %). Release with p3cfg_buffer_dispose(). */
P3CFG_API int p3cfg_profile_summary(p3cfg_buffer *out, const p3cfg_profile_result *r);

/** How the cluster file's `links` describe the measurements. */
typedef enum p3cfg_profile_granularity {
  /** GPU while the file stays within the loader's limits (docs/input-limits.md: 532,480
   *  YAML nodes, 16 MiB; about 515 GPUs), node beyond. The default. */
  P3CFG_PROFILE_GRANULARITY_AUTO = 0,
  /** One entry per GPU pair, as measured. */
  P3CFG_PROFILE_GRANULARITY_GPU = 1,
  /** One entry per node pair: the median of its GPU pairs (bandwidth and latency each);
   *  the diagonal is the median of the node's intra-node pairs. */
  P3CFG_PROFILE_GRANULARITY_NODE = 2
} p3cfg_profile_granularity;

/** Choose the granularity of the file p3cfg_profile_cluster_yaml and p3cfg_profile_write
 *  make (default AUTO). P3CFG_EINVALID for an unknown value. */
P3CFG_API int p3cfg_profile_set_granularity(p3cfg_profile_result *r,
                                            p3cfg_profile_granularity granularity);

/** Whether a profile of `ranks` ranks can be written at `granularity`: 0, or
 *  P3CFG_EVALUE (the message says why and what to use instead) when a GPU matrix that
 *  large would be past the file loader's limits. Check before profiling, so that a run
 *  is not spent on a file that cannot be written. */
P3CFG_API int p3cfg_profile_granularity_check(p3cfg_profile_granularity granularity,
                                              uint32_t ranks);

/** The cluster file (spec §3, links at the granularity chosen, node-level summary as YAML
 *  comments), checked with p3cfg_cluster_load_string before it is returned. */
P3CFG_API int p3cfg_profile_cluster_yaml(p3cfg_buffer *out, const p3cfg_profile_result *r);

/** Write the cluster file atomically: a temporary file in the same directory, fsync,
 *  then rename (or link, which refuses an existing file, unless `force`). Never leaves
 *  a partial file at `path`. P3CFG_EIO with the reason on failure. */
P3CFG_API int p3cfg_profile_write(const p3cfg_profile_result *r, const char *path, int force);

P3CFG_API void p3cfg_profile_result_free(p3cfg_profile_result *r);

/* ------------------------------------------------------------------------------------
 * Replay: a plan's per-iteration communication on the cluster it was placed on
 * (docs/profiling.md, "Replaying a plan"). Errors go to p3cfg_profile_error_last().
 * ---------------------------------------------------------------------------------- */

#define P3CFG_REPLAY_OPTIONS_VERSION 1

typedef struct p3cfg_replay_options {
  unsigned version;    /**< P3CFG_REPLAY_OPTIONS_VERSION */
  double scale;        /**< every message size multiplied by this (default 1) */
  uint32_t iterations; /**< timed iterations (default 5) */
  uint32_t warmup;     /**< untimed iterations first (default 1) */
  double timeout_s;    /**< longest any one operation may wait (default 60) */
} p3cfg_replay_options;

#define P3CFG_REPLAY_OPTIONS_INIT { P3CFG_REPLAY_OPTIONS_VERSION, 1.0, 5, 1, 60.0 }

P3CFG_API void p3cfg_replay_options_init(p3cfg_replay_options *opts);

/** What a replay measured, beside what the time model predicts for the same placement
 *  and message scale (p3cfg_comm_predict). Times are per iteration: for each component
 *  the slowest rank's time, median over the timed iterations. */
typedef struct p3cfg_replay_report {
  uint32_t ranks, hosts, iterations;
  int by_name;           /**< 1: hosts matched to the plan's node names; 0: by order */
  double measured_tp_s, measured_pp_s, measured_dp_s, measured_total_s;
  double min_total_s, max_total_s; /**< spread of the per-iteration totals */
  p3cfg_comm_info predicted;       /**< sizes, counts and predicted times */
} p3cfg_replay_report;

/**
 * Perform plan `index` of `plan`'s communication (collective over `comm`; every rank
 * passes the same files and options): tensor-parallel collectives inside each TP group,
 * each micro-batch's activations and gradients hop by hop through every pipeline, then
 * the data-parallel reduction of the ZeRO stage and the tied-embedding all-reduce, as
 * ring collectives over communicators split per group (hierarchical where the time
 * model's ring is). `comm` needs exactly one rank per GPU the plan uses: MPI rank r runs
 * plan rank p when its host is p's node (by name, else hosts in the order of their lowest
 * rank are the plan's nodes in index order) and its index among the host's ranks is p's
 * GPU. `model` and `cluster` are the files the plan was made from. Every rank receives
 * the same report. P3CFG_EVALUE (the same on every rank) when the world, the hosts or
 * the files do not fit the plan, or ranks were given different files, placements or
 * options (iterations, warmup, scale); P3CFG_EMPI when a rank dies, a link stalls past
 * timeout_s (a barrier between components also allows twice this rank's own time of the
 * component before it) or MPI fails: the caller must then MPI_Abort.
 */
P3CFG_API int p3cfg_replay_run(p3cfg_replay_report *out, MPI_Comm comm,
                               const p3cfg_plan_file *plan, size_t index,
                               const p3cfg_model *model, const p3cfg_cluster *cluster,
                               const p3cfg_replay_options *opts);

/** The last error of a p3cfg_profile_* call on this thread; never NULL. */
P3CFG_API const p3cfg_error *p3cfg_profile_error_last(void);

#ifdef __cplusplus
}
#endif

#endif /* P3CFG_MPI_H */
