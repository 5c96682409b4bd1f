/*
 * p3cfg.h — the public API of libp3cfg.
 *
 * p3cfg finds the fastest way to split the training of a large transformer over a GPU
 * cluster (data, tensor and pipeline parallelism plus micro-batch, interleaving,
 * recomputation, sequence parallelism and optimizer sharding), checks that it fits in
 * every GPU's memory, and maps every rank to a physical GPU.
 *
 * Conventions (see docs/api.md):
 *  - Every function returning int returns 0 on success or a negative P3CFG_E* code.
 *    On failure the thread-local last error (p3cfg_error_last()) holds a message and,
 *    for input files, the 1-based file/line/column. Every entry point clears it first.
 *  - `T **out` parameters receive objects owned by the caller, released with
 *    p3cfg_T_free() (NULL-safe). A returned `const T *` is borrowed from its parent and
 *    lives as long as the parent.
 *  - Value structs (plans, options) carry a `version` field first; initialise them with
 *    their *_INIT macro or *_init() function. Passing NULL options means defaults.
 *  - The library never prints, never exits and never calls MPI_Init.
 */
#ifndef P3CFG_H
#define P3CFG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(P3CFG_BUILDING) && defined(__GNUC__)
#define P3CFG_API __attribute__((visibility("default")))
#else
#define P3CFG_API
#endif

#define P3CFG_VERSION_MAJOR 0
#define P3CFG_VERSION_MINOR 1
#define P3CFG_VERSION_PATCH 0

/** "MAJOR.MINOR.PATCH" of the library actually linked. Never NULL. */
P3CFG_API const char *p3cfg_version_string(void);

/** The version of the public API (this header and p3cfg/gpu.h, p3cfg/mpi.h), apart from
 *  the release version: it grows by one with every change a caller could notice at
 *  compile or link time (a function, type, struct field, macro or callback signature
 *  added, changed or removed), in whichever release it comes, and never otherwise.
 *  docs/api.md, "Versions", lists what each number added. */
#define P3CFG_API_VERSION 11

/** P3CFG_API_VERSION of the library actually linked: a program built against API
 *  version N runs with a library whose version is N (and, for what it uses, later). */
P3CFG_API int p3cfg_api_version(void);

/* ------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------- */

/* X(NAME, value, description): the one list of error codes. */
#define P3CFG_ERROR_LIST(X)                                                            \
  X(P3CFG_OK, 0, "success")                                                            \
  X(P3CFG_EINVALID, -1, "invalid argument")                                            \
  X(P3CFG_ESYNTAX, -2, "syntax error in input")                                        \
  X(P3CFG_EVALUE, -3, "invalid value in input")                                        \
  X(P3CFG_ENOTFOUND, -4, "not found")                                                  \
  X(P3CFG_EPLAN, -5, "invalid plan")                                                   \
  X(P3CFG_EINFEASIBLE, -6, "no plan fits")                                             \
  X(P3CFG_EIO, -7, "input/output error")                                               \
  X(P3CFG_ENOMEM, -8, "out of memory")                                                 \
  X(P3CFG_EMPI, -9, "MPI failure")                                                     \
  X(P3CFG_EUNSUPPORTED, -10, "not supported by this build")                            \
  X(P3CFG_EINTERNAL, -11, "internal error")

enum p3cfg_error_code {
#define P3CFG_X_ENUM(name, value, desc) name = value,
  P3CFG_ERROR_LIST(P3CFG_X_ENUM)
#undef P3CFG_X_ENUM
};

/** Where and why the last call on this thread failed. */
typedef struct p3cfg_error {
  int code;            /**< P3CFG_E* (P3CFG_OK when nothing failed) */
  const char *message; /**< one lowercase line, never NULL */
  const char *file;    /**< input file, or NULL when not about a file */
  int line;            /**< 1-based, 0 when unknown */
  int column;          /**< 1-based, 0 when unknown */
} p3cfg_error;

/** The last error of the calling thread; borrowed until the next p3cfg call. */
P3CFG_API const p3cfg_error *p3cfg_error_last(void);
/** Fixed description of a code ("invalid value in input"); never NULL. */
P3CFG_API const char *p3cfg_strerror(int code);
/** Symbolic name of a code ("P3CFG_EVALUE"); never NULL. */
P3CFG_API const char *p3cfg_error_name(int code);

/**
 * "Did you mean": the entry of candidates[0..n) closest to `word` (edit distance with
 * adjacent swaps, letters compared case-insensitively; a word of 3 letters or more that
 * starts a candidate counts as exact), when it is close enough for a likely typo (1 edit
 * up to 3 letters, 2 up to 6, 3 beyond); ties go to the longer common start, then to
 * the first. NULL when none is close. Borrowed from candidates; NULL entries are skipped.
 * The file parsers use the same rule for keys, enumeration values and GPU names.
 */
P3CFG_API const char *p3cfg_suggest(const char *word, const char *const *candidates, size_t n);

/** The one progress callback of the library's long calls (p3cfg_search, the GPU and link
 *  profilers): `done` of `total` units finished, total > 0, done non-decreasing, and
 *  done == total once, at the end. Each call says what its units are and from which
 *  thread it reports. */
typedef void (*p3cfg_progress_fn)(void *payload, uint32_t done, uint32_t total);

/* ------------------------------------------------------------------------------------
 * Diagnostics: every problem found in one input file (for `p3cfg validate`).
 * ---------------------------------------------------------------------------------- */

typedef struct p3cfg_diag {
  int code;            /**< P3CFG_ESYNTAX, P3CFG_EVALUE, P3CFG_EIO, ... */
  const char *file;    /**< as given by the caller */
  int line, column;    /**< 1-based, 0 when unknown */
  const char *message; /**< one lowercase line without the position */
} p3cfg_diag;

typedef struct p3cfg_diagnostics p3cfg_diagnostics;

P3CFG_API size_t p3cfg_diagnostics_count(const p3cfg_diagnostics *d);
/** The i-th problem, in file order; NULL when i is out of range. Borrowed. */
P3CFG_API const p3cfg_diag *p3cfg_diagnostics_get(const p3cfg_diagnostics *d, size_t i);
P3CFG_API void p3cfg_diagnostics_free(p3cfg_diagnostics *d);

/* ------------------------------------------------------------------------------------
 * Models and clusters (spec §2, §3). Loaded from YAML or JSON files or strings.
 * ---------------------------------------------------------------------------------- */

typedef struct p3cfg_model p3cfg_model;
typedef struct p3cfg_cluster p3cfg_cluster;

typedef enum p3cfg_file_kind {
  P3CFG_FILE_AUTO = 0, /**< decided from the keys present */
  P3CFG_FILE_MODEL = 1,
  P3CFG_FILE_CLUSTER = 2
} p3cfg_file_kind;

/**
 * Load a model file. On failure *out is NULL, the return is P3CFG_ESYNTAX,
 * P3CFG_EVALUE, P3CFG_EIO or P3CFG_ENOMEM, and the last error holds the first problem
 * with its position. Pass a non-NULL `diags` to receive every problem found (also on
 * success, where it is empty); the caller frees it.
 */
P3CFG_API int p3cfg_model_load(p3cfg_model **out, const char *path, p3cfg_diagnostics **diags);
/** As p3cfg_model_load, from `len` bytes of text; `name` is used in positions. */
P3CFG_API int p3cfg_model_load_string(p3cfg_model **out, const char *text, size_t len,
                                      const char *name, p3cfg_diagnostics **diags);
P3CFG_API void p3cfg_model_free(p3cfg_model *model);

P3CFG_API int p3cfg_cluster_load(p3cfg_cluster **out, const char *path,
                                 p3cfg_diagnostics **diags);
P3CFG_API int p3cfg_cluster_load_string(p3cfg_cluster **out, const char *text, size_t len,
                                        const char *name, p3cfg_diagnostics **diags);
P3CFG_API void p3cfg_cluster_free(p3cfg_cluster *cluster);

/**
 * Check one file and collect every problem in *diags (caller frees). `kind` may be
 * P3CFG_FILE_AUTO; the kind decided is stored in *kind_out when not NULL. Returns 0
 * when the file is valid, the code of the first problem otherwise; *diags is set in
 * both cases unless the return is P3CFG_EINVALID or P3CFG_ENOMEM.
 */
P3CFG_API int p3cfg_validate_file(p3cfg_diagnostics **diags, p3cfg_file_kind *kind_out,
                                  const char *path, p3cfg_file_kind kind);

/** Options of p3cfg_model_import_hf: what config.json does not hold. */
#define P3CFG_IMPORT_OPTIONS_VERSION 1
typedef struct p3cfg_import_options {
  unsigned version;      /**< P3CFG_IMPORT_OPTIONS_VERSION */
  const char *name;      /**< NULL: the file's folder, _name_or_path or model_type */
  uint64_t seq_len;      /**< 0: max_position_embeddings, else 4096 */
  uint64_t global_batch; /**< 0: 1024 sequences */
} p3cfg_import_options;

#define P3CFG_IMPORT_OPTIONS_INIT { P3CFG_IMPORT_OPTIONS_VERSION, NULL, 0, 0 }

P3CFG_API void p3cfg_import_options_init(p3cfg_import_options *opts);

/**
 * A Hugging Face config.json (at `path`) as the text of a p3cfg model file (YAML), with
 * a comment on every key naming the config.json key it comes from or the default used
 * (docs/formats.md, "Importing a Hugging Face config.json"). Keys p3cfg does not model
 * yet (mixture of experts, multi-head latent attention, a head_dim other than
 * hidden/heads) are written as comments; their count goes to *n_unmodeled when not NULL.
 * The text loads with p3cfg_model_load_string. Returns 0, or P3CFG_ESYNTAX, P3CFG_EVALUE,
 * P3CFG_EIO or P3CFG_ENOMEM with the first problem of the file at its FILE:LINE:COL;
 * P3CFG_EINVALID on bad options. Release *out with p3cfg_buffer_dispose().
 */
struct p3cfg_buffer;
P3CFG_API int p3cfg_model_import_hf(struct p3cfg_buffer *out, const char *path,
                                    const p3cfg_import_options *opts, unsigned *n_unmodeled);

/** Read-only facts about a loaded model (derived quantities included). */
typedef struct p3cfg_model_info {
  const char *name;
  uint64_t layers, hidden, heads, kv_heads, ffn_hidden, vocab, seq_len, global_batch;
  uint64_t params_total;         /**< every parameter, embeddings included */
  uint64_t params_non_embedding; /**< what MFU counts (spec §6) */
  uint64_t params_per_layer;
} p3cfg_model_info;

/** Fill *out; strings are borrowed from the model. */
P3CFG_API int p3cfg_model_get_info(p3cfg_model_info *out, const p3cfg_model *model);

typedef struct p3cfg_cluster_info {
  const char *name;
  const char *gpu_name;
  uint32_t nodes, gpus_per_node;
  uint64_t gpu_memory_bytes;
  double gpu_peak_flops;    /**< dense 16-bit FLOP/s */
  double gpu_hbm_Bps;       /**< bytes/s */
  int has_links;            /**< 1 when measured links are present */
} p3cfg_cluster_info;

P3CFG_API int p3cfg_cluster_get_info(p3cfg_cluster_info *out, const p3cfg_cluster *cluster);

/** Name of node `index` (links.names host part, or "node<i>"); NULL when out of range. */
P3CFG_API const char *p3cfg_cluster_node_name(const p3cfg_cluster *cluster, uint32_t index);

/** A list of global GPU ids (node * gpus_per_node + local GPU), filled by the library;
 *  release with p3cfg_gpu_list_dispose(). */
typedef struct p3cfg_gpu_list {
  uint32_t *gpus; /**< `count` ids, in the order listed, duplicates dropped */
  size_t count;
} p3cfg_gpu_list;

/**
 * Parse a list of GPUs of `cluster` (docs/cli.md, "--exclude"): entries separated by
 * commas, spaces or newlines, `#` starting a comment to the end of the line; an entry is
 * a host (every GPU of that node) or `host:gpu` (one GPU, local index from 0). Hosts
 * are the cluster's node names (p3cfg_cluster_node_name: the links' host names, or
 * node0, node1, ...). `name` is used in positions ("failed.txt:3:1"). Returns 0;
 * P3CFG_EVALUE for an unknown host (with "did you mean"), a bad GPU index or an empty
 * list, at its 1-based line and column; P3CFG_EINVALID, P3CFG_ENOMEM.
 */
P3CFG_API int p3cfg_cluster_parse_gpus(p3cfg_gpu_list *out, const p3cfg_cluster *cluster,
                                       const char *text, size_t len, const char *name);
P3CFG_API void p3cfg_gpu_list_dispose(p3cfg_gpu_list *list);

/* ------------------------------------------------------------------------------------
 * Plans (spec §4)
 * ---------------------------------------------------------------------------------- */

typedef enum p3cfg_recompute {
  P3CFG_RECOMPUTE_NONE = 0,
  P3CFG_RECOMPUTE_SELECTIVE = 1,
  P3CFG_RECOMPUTE_FULL = 2
} p3cfg_recompute;

/** The training framework a plan is for (issue 15): its plan space (which ZeRO stages,
 *  with or without pipelining, interleaving, HSDP, torch.compile), its memory rules and
 *  its efficiency (docs/frameworks.md). Megatron-LM is the default. */
typedef enum p3cfg_framework {
  P3CFG_FRAMEWORK_MEGATRON = 0,   /**< Megatron-LM / Megatron-Core ("megatron") */
  P3CFG_FRAMEWORK_TORCHTITAN = 1, /**< torchtitan: FSDP2/HSDP, DTensor TP, PP, CP */
  P3CFG_FRAMEWORK_DEEPSPEED = 2,  /**< DeepSpeed ZeRO 1-3 and its pipeline engine */
  P3CFG_FRAMEWORK_COUNT
} p3cfg_framework;

/** "megatron", "torchtitan" or "deepspeed" ("?" out of range). */
P3CFG_API const char *p3cfg_framework_name(p3cfg_framework f);
/** The framework named `name`; P3CFG_EINVALID with the names expected otherwise. */
P3CFG_API int p3cfg_framework_parse(p3cfg_framework *out, const char *name);

/** Communication overlap flags (spec §4; all off by default, as in Megatron-LM). */
enum {
  P3CFG_OVERLAP_GRAD_REDUCE = 1u << 0,
  P3CFG_OVERLAP_PARAM_GATHER = 1u << 1,
  P3CFG_OVERLAP_TP_COMM = 1u << 2,
  /** MoE token all-to-alls under the other micro-batch's compute (Megatron-Core's
   *  --overlap-moe-expert-parallel-comm: ep > 1, no full recompute, interleaving when
   *  pp > 1, at most one MTP layer). */
  P3CFG_OVERLAP_EP_COMM = 1u << 3
};

/** Megatron-Core's selective-recompute modules (TransformerConfig.recompute_modules,
 *  `--recompute-modules`), a bit set in p3cfg_plan.recompute_modules; only with
 *  P3CFG_RECOMPUTE_SELECTIVE. 0 means Megatron's default, {core_attn}. Names: "core_attn",
 *  "moe_act", "layernorm", "mla_up_proj", "mlp", "moe", "shared_experts". */
enum {
  P3CFG_RECOMPUTE_MODULE_CORE_ATTN = 1u << 0,     /**< core attention (the default) */
  P3CFG_RECOMPUTE_MODULE_MOE_ACT = 1u << 1,       /**< the routed experts' activation */
  P3CFG_RECOMPUTE_MODULE_LAYERNORM = 1u << 2,     /**< input and pre-MLP norms (unfused) */
  P3CFG_RECOMPUTE_MODULE_MLA_UP_PROJ = 1u << 3,   /**< MLA's up-projections and RoPE */
  P3CFG_RECOMPUTE_MODULE_MLP = 1u << 4,           /**< a dense layer's whole MLP */
  P3CFG_RECOMPUTE_MODULE_MOE = 1u << 5,           /**< an MoE layer's whole MoE block */
  P3CFG_RECOMPUTE_MODULE_SHARED_EXPERTS = 1u << 6, /**< the shared experts */
  P3CFG_RECOMPUTE_MODULE_ALL = (1u << 7) - 1u
};

/** Megatron-Core's pipeline split accounting (p3cfg_plan.split_accounts; TransformerConfig's
 *  account_for_embedding_in_pipeline_split and account_for_loss_in_pipeline_split): the
 *  embedding (the loss) counts as one layer of the split, so the first (last) rank's
 *  first (last) chunk holds one transformer layer fewer than its others. Llama 3 405B's
 *  126 layers on pp 8 x vpp 4 are 128 units of 4 per chunk (Megatron-Bridge's recipes);
 *  Meta's 405B run took one layer off the first and the last stage the same way. */
enum {
  P3CFG_SPLIT_ACCOUNT_EMBEDDING = 1u << 0, /**< --account-for-embedding-in-pipeline-split */
  P3CFG_SPLIT_ACCOUNT_LOSS = 1u << 1       /**< --account-for-loss-in-pipeline-split */
};

/** Upper bound on pipeline stages a plan can describe. */
#define P3CFG_MAX_PP 1024

/** Version 2 added cp, ep and etp; a version 1 plan has cp = ep = 1, etp = tp. Version 3
 *  added framework, dp_shard, compile and recompute_modules, version 4
 *  cpu_offload_layers (0 in an older plan), version 5 split_accounts (0). */
#define P3CFG_PLAN_VERSION 5

typedef struct p3cfg_plan {
  unsigned version; /**< P3CFG_PLAN_VERSION */
  uint32_t dp, tp, pp;
  uint32_t micro_batch;
  uint32_t virtual_stages; /**< interleaved chunks per pipeline rank; 1 = plain 1F1B */
  p3cfg_recompute recompute;
  int sequence_parallel; /**< 0 or 1; needs tp > 1 */
  uint32_t zero_stage;   /**< 0 plain DP, 1 distributed optimizer, 2 + grads, 3 + params */
  uint32_t overlap;      /**< P3CFG_OVERLAP_* flags */
  uint64_t global_batch; /**< sequences per step; 0 = the model's global_batch */
  /** Transformer layers per pipeline rank; n_stage_layers == 0 means balanced
   *  (the estimator fills it in). Each count is a multiple of virtual_stages, counting
   *  the embedding on rank 0 and the loss on the last rank where split_accounts says
   *  so (rank j's chunks then hold (stage_layers[j] + accounted) / virtual_stages layers
   *  each, one fewer in the accounted chunk). */
  uint32_t n_stage_layers;
  uint32_t stage_layers[P3CFG_MAX_PP];
  /** Version 2. Context parallel (sequence split over cp ranks, ring attention), expert
   *  parallel (routed experts split over ep ranks) and expert tensor parallel (each
   *  expert's matrices split etp ways). GPUs = dp*tp*cp*pp; the expert layers fold the
   *  same ranks as etp*ep*edp (Megatron-Core). 0 means 1 for cp and ep, tp for etp. */
  uint32_t cp, ep, etp;
  /** Version 3. The framework (a p3cfg_framework); dp_shard, the FSDP shard group of a
   *  ZeRO-3 plan (torchtitan's data_parallel_shard_degree; HSDP replicates over
   *  dp / dp_shard groups; 0 means dp: plain FSDP); compile, torch.compile on (1) or
   *  eager (0), torchtitan only. */
  uint32_t framework, dp_shard, compile;
  /** Version 3. Megatron-LM's selective-recompute modules (P3CFG_RECOMPUTE_MODULE_*
   *  flags; 0 = the default {core_attn}); only with recompute selective, else 0. */
  uint32_t recompute_modules;
  /** Version 4. Megatron-Core's activation offloading to host memory
   *  (TransformerConfig.cpu_offloading_num_layers, Transformer Engine's CPU offload
   *  context): the activations of the first n transformer layers are copied to the host
   *  in the forward and back in the backward, overlapped with compute, so that at most
   *  layers - n layers' activations are on the GPU at once. 0 = off. Megatron-LM only,
   *  with pp 1, no recomputation and n < layers (docs/memory-model.md). */
  uint32_t cpu_offload_layers;
  /** Version 5. P3CFG_SPLIT_ACCOUNT_* flags: the embedding and/or the loss counted as a
   *  layer in the pipeline split (Megatron-LM only, pp > 1). 0 = neither. */
  uint32_t split_accounts;
} p3cfg_plan;

#define P3CFG_PLAN_INIT                                                                \
  {                                                                                    \
    P3CFG_PLAN_VERSION, 0, 1, 1, 1, 1, P3CFG_RECOMPUTE_NONE, 0, 0, 0, 0, 0, { 0 }, 1, 1, 0, \
        P3CFG_FRAMEWORK_MEGATRON, 0, 0, 0, 0, 0                                        \
  }

/** Set *plan to Megatron-LM's defaults (tp = pp = mbs = vpp = 1, dp = 0 meaning
 *  "every GPU left", no recompute, no sp, zero 0, no overlap). */
P3CFG_API void p3cfg_plan_init(p3cfg_plan *plan);

/** Set *plan to the defaults of framework f: p3cfg_plan_init's, with plan->framework = f
 *  and what f does unless told otherwise (torchtitan: torch.compile on). An unknown f
 *  leaves the plan at Megatron-LM's defaults with framework f (the rules reject it). */
P3CFG_API void p3cfg_plan_init_framework(p3cfg_plan *plan, p3cfg_framework f);

/** Names for printing and parsing: "none"/"selective"/"full". */
P3CFG_API const char *p3cfg_recompute_name(p3cfg_recompute r);
P3CFG_API int p3cfg_recompute_parse(p3cfg_recompute *out, const char *name);

/**
 * Complete and check a plan against a model and cluster: dp = 0 becomes the GPUs
 * left, n_stage_layers = 0 becomes a balanced split (for a Megatron-LM plan whose
 * layers make no even split over pp * virtual_stages chunks but do with the embedding
 * and the loss, or cannot fill the chunks but can with them or the embedding,
 * Megatron-Core's split accounting: split_accounts set),
 * global_batch = 0 becomes the model's. Returns P3CFG_EPLAN with the rule that failed in the last error
 * ("tp 3 does not divide heads 32") when the plan is not valid.
 */
P3CFG_API int p3cfg_plan_resolve(p3cfg_plan *plan, const p3cfg_model *model,
                                 const p3cfg_cluster *cluster);

/* ------------------------------------------------------------------------------------
 * Results: one or more evaluated plans with memory, time and placement.
 * ---------------------------------------------------------------------------------- */

typedef struct p3cfg_stage_memory {
  uint32_t stage;             /**< pipeline rank */
  uint32_t layers;            /**< transformer layers on this rank */
  uint64_t params;            /**< parameters held by one GPU of this stage (tp-sharded) */
  uint64_t weights_bytes;     /**< 16-bit (or fp32) working weights, after ZeRO-3 sharding */
  uint64_t gradients_bytes;   /**< gradient buffers held across the step */
  uint64_t optimizer_bytes;   /**< fp32 master weights and optimizer moments */
  uint64_t activations_bytes; /**< stashed activations at the peak, all micro-batches in flight */
  uint64_t other_bytes;       /**< transient peak: logits, recompute workspace, gathers */
  uint64_t peak_bytes;        /**< allocator peak: the sum of the five above */
  uint64_t reserved_bytes;    /**< outside the allocator: CUDA context, NCCL, slack */
  uint32_t in_flight;         /**< micro-batch chunks whose activations are stashed */
  /** 80 % prediction interval of peak_bytes (docs/time-model.md, "Prediction
   *  intervals"): low <= peak_bytes <= high, rounded outwards, saturating at UINT64_MAX. */
  uint64_t peak_bytes_low, peak_bytes_high;
} p3cfg_stage_memory;

typedef struct p3cfg_memory {
  uint64_t peak_bytes;     /**< largest stage peak (torch.cuda.max_memory_allocated) */
  uint64_t reserved_bytes; /**< fixed overheads of the GPU with the largest total */
  uint64_t total_bytes;    /**< largest peak + reserved over the stages */
  uint64_t capacity_bytes; /**< the GPU's memory */
  int fits;                /**< total_bytes + margin_bytes <= capacity_bytes on every stage */
  uint32_t n_stages;
  const p3cfg_stage_memory *stages; /**< n_stages entries, borrowed */
  /** 80 % prediction interval of peak_bytes, as each stage's. */
  uint64_t peak_bytes_low, peak_bytes_high;
  /** Headroom the plan must leave free on every GPU (the options' mem_margin_bytes plus
   *  mem_margin_fraction of capacity_bytes, rounded up); 0 by default. */
  uint64_t margin_bytes;
} p3cfg_memory;

typedef struct p3cfg_time {
  double iteration_s;
  double tokens_per_s;
  double mfu;
  double compute_s;
  double tp_comm_s;
  double pp_comm_s;
  double dp_comm_s;
  double bubble_s;
  double optimizer_s;
  /** 80 % prediction interval of iteration_s: the measured time falls inside it for 8 in
   *  10 calibration runs (cross-validated; wider on a GPU whose efficiency constants
   *  were not fitted on measurements). low < iteration_s < high for a positive time;
   *  docs/time-model.md, "Prediction intervals". The components above are points. */
  double iteration_s_low, iteration_s_high;
  /** The MFU ceiling of this plan on this GPU: the fraction of the dense peak its layer's
   *  weight GEMMs reach in training (kernel efficiency at their shapes times the training
   *  clock ratio). mfu is always below it; the gap is attention, memory-bound work,
   *  communication, the bubble and the optimizer. */
  double gemm_ceiling_mfu;
  /** Exposed expert-parallel communication (the MoE layers' token dispatch and combine
   *  all-to-alls, the expert-tensor-parallel gather/scatter) and context-parallel
   *  communication (ring attention's K/V sends beyond their overlap), on the critical
   *  stage. Parts of iteration_s like tp_comm_s (issue 16); 0 for dense, cp 1 plans. */
  double ep_comm_s, cp_comm_s;
  /** GPU time waiting for the host (CPU) to issue work, on the critical stage: where the
   *  framework's per-kernel launch time exceeds the GPU's work (small micro-batches, fast
   *  GPUs) and after each MoE layer's host synchronisation (issue 14 "CPU-side
   *  overhead"; docs/time-model.md, "Host"). A part of iteration_s. */
  double host_s;
  /** Model FLOPs of one iteration as Megatron-LM's num_floating_point_operations counts
   *  them (GQA, MLA, SwiGLU, MoE top_k and shared experts, MTP, logits; causal attention
   *  core halved; docs/time-model.md, "Model FLOPs"), and that over iteration_s and the
   *  GPUs in TFLOP/s: the figures a Megatron-LM log prints. mfu = model_tflops_per_gpu *
   *  1e12 / the GPU's dense peak. */
  double model_flops_per_iteration;
  double model_tflops_per_gpu;
  /** With activation offloading (p3cfg_plan.cpu_offload_layers): the time the critical
   *  stage's compute waits for the host copies of the offloaded activations (forward
   *  and backward), on the GPU's host link (docs/time-model.md, "Activation
   *  offloading"). A part of iteration_s; 0 without offloading. */
  double offload_s;
} p3cfg_time;

typedef struct p3cfg_rank_place {
  uint32_t rank;
  uint32_t node; /**< node index; p3cfg_cluster_node_name() gives its name */
  uint32_t gpu;  /**< local GPU index on that node */
  uint32_t dp, pp, tp;
} p3cfg_rank_place;

typedef struct p3cfg_result p3cfg_result;

P3CFG_API size_t p3cfg_result_count(const p3cfg_result *r);
/** The i-th plan (best first), resolved; NULL when out of range. Borrowed. */
P3CFG_API const p3cfg_plan *p3cfg_result_plan(const p3cfg_result *r, size_t i);
P3CFG_API const p3cfg_memory *p3cfg_result_memory(const p3cfg_result *r, size_t i);
/** Time breakdown, or NULL when the result has no time part. */
P3CFG_API const p3cfg_time *p3cfg_result_time(const p3cfg_result *r, size_t i);
/** dp*tp*pp entries in global rank order, or NULL when not placed. */
P3CFG_API const p3cfg_rank_place *p3cfg_result_placement(const p3cfg_result *r, size_t i,
                                                         size_t *n_ranks);
/** How the placement of plan i was found. */
typedef struct p3cfg_placement_info {
  int optimized;      /**< 0: the default map (not asked, or every placement is equal:
                           no measured links and no NVLink domain / spine above the node) */
  int exact;          /**< 1: optimal over every permutation of the nodes */
  double default_s;   /**< iteration time with the default placement */
  double placed_s;    /**< iteration time with the returned placement */
  uint64_t moves;     /**< placements evaluated */
  double elapsed_s;
} p3cfg_placement_info;

/** Placement facts of plan i, or NULL when out of range. Borrowed. */
P3CFG_API const p3cfg_placement_info *p3cfg_result_placement_info(const p3cfg_result *r,
                                                                  size_t i);

/** How plan i uses the cluster's GPUs. */
typedef struct p3cfg_gpu_use {
  uint64_t total;    /**< GPUs of the cluster */
  uint64_t excluded; /**< taken out by exclude_gpus */
  uint64_t used;     /**< dp * tp * pp */
  uint64_t idle;     /**< total - excluded - used: healthy GPUs the plan leaves unused */
} p3cfg_gpu_use;

/** Fill *out for plan i; P3CFG_EINVALID when i is out of range. */
P3CFG_API int p3cfg_result_gpu_use(p3cfg_gpu_use *out, const p3cfg_result *r, size_t i);

P3CFG_API void p3cfg_result_free(p3cfg_result *r);

/** Version 2 added exclude_gpus / n_exclude_gpus, version 3 mem_margin_bytes,
 *  mem_margin_fraction and train_tokens, version 4 cp, ep and etp; version 1 to 3
 *  structs are still accepted (no GPU excluded, no margin, no budget, the plan's cp, ep
 *  and etp). */
#define P3CFG_ESTIMATE_OPTIONS_VERSION 4

typedef struct p3cfg_estimate_options {
  unsigned version; /**< P3CFG_ESTIMATE_OPTIONS_VERSION */
  int with_time;    /**< also run the time model (1 by default) */
  int place;        /**< optimise the placement on the measured links (0 = default map) */
  uint64_t seed;    /**< placement search seed (same seed, same placement) */
  uint64_t place_moves; /**< placement move budget; 0 = a default for the size */
  double place_max_s;   /**< optional wall-time cap of the placement (0 = none) */
  /** GPUs taken out of use (global ids, e.g. from p3cfg_cluster_parse_gpus): no rank is
   *  placed on them, dp = 0 becomes the largest dp that fits the GPUs left and divides
   *  the global batch. NULL / 0 = none. (version 2) */
  const uint32_t *exclude_gpus;
  size_t n_exclude_gpus;
  /** Memory headroom (version 3): a plan fits when, on every GPU, peak + reserved +
   *  margin <= capacity, with margin = mem_margin_bytes + mem_margin_fraction * capacity
   *  (rounded up). Both 0 by default; mem_margin_fraction in [0, 1). */
  uint64_t mem_margin_bytes;
  double mem_margin_fraction;
  /** Tokens of the whole training run (version 3): when not 0, the reports give each
   *  plan's training budget, days and GPU-hours at its tokens/s. 0 = none. */
  uint64_t train_tokens;
  /** Context-, expert- and expert-tensor-parallel degrees (version 4): when not 0, they
   *  replace the plan's (for a caller holding a version-1 p3cfg_plan). 0 = the plan's. */
  uint32_t cp, ep, etp;
} p3cfg_estimate_options;

#define P3CFG_ESTIMATE_OPTIONS_INIT                                                    \
  { P3CFG_ESTIMATE_OPTIONS_VERSION, 1, 0, 1, 0, 0.0, NULL, 0, 0, 0.0, 0, 0, 0, 0 }

P3CFG_API void p3cfg_estimate_options_init(p3cfg_estimate_options *opts);

/**
 * Evaluate one plan. The plan is resolved first (see p3cfg_plan_resolve): an invalid
 * plan returns P3CFG_EPLAN. A plan that does not fit is still a success: read
 * p3cfg_result_memory()->fits.
 */
P3CFG_API int p3cfg_estimate(p3cfg_result **out, const p3cfg_model *model,
                             const p3cfg_cluster *cluster, const p3cfg_plan *plan,
                             const p3cfg_estimate_options *opts);

/* ------------------------------------------------------------------------------------
 * Search (spec §4, §5): every valid plan scored, the top K kept.
 * ---------------------------------------------------------------------------------- */

/** Version 2 added exclude_gpus / n_exclude_gpus, version 3 mem_margin_bytes,
 *  mem_margin_fraction and train_tokens (as in p3cfg_estimate_options), version 4 cp, ep
 *  and etp, version 5 framework, dp_shard, compile and recompute_modules, version 6
 *  cpu_offload_layers, version 7 split_accounts; version 1 to 6 structs are still
 *  accepted (cp, ep and etp searched; Megatron-LM plans; no offloading; splits of
 *  transformer layers alone). */
#define P3CFG_SEARCH_OPTIONS_VERSION 7

/** Constraints fix a dimension; 0 (or -1 for the int fields) leaves it searched. */
typedef struct p3cfg_search_options {
  unsigned version;      /**< P3CFG_SEARCH_OPTIONS_VERSION */
  uint32_t top_k;        /**< plans kept, best first (default 10, at most 1000) */
  uint32_t threads;      /**< worker threads (default 1; results do not depend on it) */
  uint64_t gpus;         /**< GPUs used; 0 = every GPU of the cluster */
  uint64_t global_batch; /**< 0 = the model's */
  uint32_t dp, tp, pp, micro_batch, virtual_stages; /**< 0 = searched */
  int recompute;         /**< -1 searched, else a p3cfg_recompute */
  int sequence_parallel; /**< -1 searched, 0 or 1 */
  int zero_stage;        /**< -1 searched (0 and 1, and 2/3 where pp = 1), else 0..3 */
  uint32_t overlap;      /**< P3CFG_OVERLAP_* flags applied to every plan (not searched) */
  uint32_t max_micro_batch; /**< largest micro-batch tried (default 16) */
  uint32_t n_stage_layers;  /**< a fixed split (pp entries), or 0 = searched */
  const uint32_t *stage_layers;
  int place;             /**< place the best plans on the measured links (default 1) */
  uint32_t place_top;    /**< how many of the best plans to place before the final
                              ranking (0 = max(top_k, 8)) */
  uint64_t seed;         /**< placement seed */
  uint64_t place_moves;  /**< placement move budget per plan; 0 = a default */
  double place_max_s;    /**< optional wall-time cap per placement (0 = none) */
  /** Optional progress report: thousandths of the work done (done of total = 1000;
   *  enumeration, then placement), at most about 10 times per second and once with
   *  1000 at the end; from a worker thread, never two calls at once. It must not call
   *  back into p3cfg_search. NULL = no report. */
  p3cfg_progress_fn progress;
  void *progress_payload; /**< passed to progress unchanged */
  /** GPUs taken out of use (global ids; version 2). Plans use only the GPUs left: with
   *  `gpus` 0, each (tp, pp) gets the largest dp that fits them and divides the global
   *  batch, so some GPUs may idle (p3cfg_result_gpu_use); TP groups that fit a node stay
   *  in whole aligned groups of tp GPUs with none excluded (docs/search.md, "Excluded
   *  GPUs"). No rank is placed on an excluded GPU. NULL / 0 = none. */
  const uint32_t *exclude_gpus;
  size_t n_exclude_gpus;
  /** Memory headroom (version 3): only plans with peak + reserved + margin <= capacity
   *  on every GPU fit, margin = mem_margin_bytes + mem_margin_fraction * capacity
   *  (rounded up). Both 0 by default; mem_margin_fraction in [0, 1). */
  uint64_t mem_margin_bytes;
  double mem_margin_fraction;
  /** Tokens of the whole training run (version 3): when not 0, the reports give each
   *  plan's days and GPU-hours for it. 0 = none. */
  uint64_t train_tokens;
  /** Context-, expert- and expert-tensor-parallel degrees (version 4); 0 = searched:
   *  cp over 1, 2, 4, 8 when the model's seq_len is at least 16384 (else 1), ep over the
   *  divisors of a mixture-of-experts model's experts (1 for a dense model), etp over 1
   *  and tp (docs/search.md, "Context and expert parallelism"). */
  uint32_t cp, ep, etp;
  /** Version 5. The framework whose plan space is searched (a p3cfg_framework; 0 =
   *  Megatron-LM); dp_shard, the FSDP shard group of torchtitan ZeRO-3 plans (0 =
   *  searched: FSDP over all of dp, and HSDP sharding within one node where that
   *  differs); compile, torch.compile for torchtitan (-1 = on, torchtitan's benchmarked
   *  setting; 0 eager; 1 on). Versions 1 to 4 search Megatron-LM plans. */
  uint32_t framework;
  uint32_t dp_shard;
  int compile;
  /** Version 5. Megatron-LM's selective-recompute modules (P3CFG_RECOMPUTE_MODULE_*) of
   *  every selective plan; 0 = searched: the default {core_attn}, and for an MoE model
   *  also Megatron-Bridge's {moe_act, layernorm} (docs/search.md). */
  uint32_t recompute_modules;
  /** Version 6. Activation offloading of every plan (p3cfg_plan.cpu_offload_layers; not
   *  searched): 0 = none; n > 0 leaves only the plans it is valid for (Megatron-LM, pp 1,
   *  no recomputation). */
  uint32_t cpu_offload_layers;
  /** Version 7. P3CFG_SPLIT_ACCOUNT_* flags (p3cfg_plan.split_accounts) of every pipelined
   *  plan (pp > 1; not searched): the splits tried, and the interleaving degrees, count
   *  the embedding and/or the loss as a layer. 0 = neither. */
  uint32_t split_accounts;
} p3cfg_search_options;

#define P3CFG_SEARCH_OPTIONS_INIT                                                      \
  {                                                                                    \
    P3CFG_SEARCH_OPTIONS_VERSION, 10, 1, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, 0, 16, 0, NULL,  \
        1, 0, 1, 0, 0.0, NULL, NULL, NULL, 0, 0, 0.0, 0, 0, 0, 0, P3CFG_FRAMEWORK_MEGATRON, \
        0, -1, 0, 0, 0                                                                 \
  }

P3CFG_API void p3cfg_search_options_init(p3cfg_search_options *opts);

/**
 * Enumerate every valid plan under the constraints, drop those that do not fit, score the
 * rest with the time model and keep the best top_k (ties broken by a total order on the
 * plan, so the result is deterministic). Returns 0 with at least one plan;
 * P3CFG_EINFEASIBLE when valid plans exist but none fits: *out then holds the single
 * closest miss (its memory.fits is 0) and the last error says how far off it is; P3CFG_EPLAN when the constraints admit
 * no valid plan at all; P3CFG_EINVALID on bad options.
 */
P3CFG_API int p3cfg_search(p3cfg_result **out, const p3cfg_model *model,
                           const p3cfg_cluster *cluster, const p3cfg_search_options *opts);

/* ------------------------------------------------------------------------------------
 * Knobs: every setting of a search or an estimate, in one read-only table (as zstd's
 * ZSTD_cParam_getBounds). The CLI's flags, their --help lines, the bounds the library
 * checks in p3cfg_search_options and the docs' table of flags all come from it.
 * ---------------------------------------------------------------------------------- */

/** How a knob's value is written. */
typedef enum p3cfg_knob_kind {
  P3CFG_KNOB_INT,    /**< an integer in [min, max] */
  P3CFG_KNOB_CHOICE, /**< one word of `choices` (an enum from 0; min, max its range) */
  P3CFG_KNOB_SWITCH, /**< on (`flag`) or off (`flag_off`) */
  P3CFG_KNOB_LIST,   /**< a comma list: of integers in [min, max] (at most max_count of
                          them), of words of `choices`, or of names (exclude) */
  P3CFG_KNOB_TEXT    /**< a value with its own syntax: a size or share, a count with a
                          suffix, a placement budget */
} p3cfg_knob_kind;

/** One knob. Every string is static; NULL where the knob has none. */
typedef struct p3cfg_knob {
  const char *name;     /**< its field in p3cfg_search_options ("micro_batch") */
  const char *flag;     /**< the CLI's long option without "--" ("mbs") */
  const char *flag_off; /**< a switch's "off" option ("no-sp") */
  const char *json_key; /**< its key in a plan's JSON "config" ("micro_batch") */
  const char *arg;      /**< the value's placeholder in --help ("N"); NULL for a switch */
  p3cfg_knob_kind kind;
  uint64_t min, max;    /**< bounds of an integer (of each entry of a list) */
  uint32_t max_count;   /**< a list's most entries (0 = no limit of its own) */
  const char *const *choices; /**< the words of a CHOICE or a LIST of words */
  size_t n_choices;
  const char *default_text; /**< what an unset knob means ("searched", "10") */
  const char *help;     /**< the --help line of `flag` */
  const char *help_off; /**< the --help line of `flag_off` */
  const char *doc;      /**< the docs' sentence (docs/cli.md, "Knobs") */
} p3cfg_knob;

/** Number of knobs. */
P3CFG_API size_t p3cfg_knob_count(void);
/** Knob i (0 <= i < p3cfg_knob_count()), or NULL when out of range. Borrowed, static. */
P3CFG_API const p3cfg_knob *p3cfg_knob_at(size_t i);
/** The knob whose `name` or `flag` is `name`, or NULL. Borrowed, static. */
P3CFG_API const p3cfg_knob *p3cfg_knob_find(const char *name);

/* ------------------------------------------------------------------------------------
 * Re-planning when nodes fail (docs/search.md, "Re-planning")
 * ---------------------------------------------------------------------------------- */

#define P3CFG_REPLAN_OPTIONS_VERSION 1

typedef struct p3cfg_replan_options {
  unsigned version;             /**< P3CFG_REPLAN_OPTIONS_VERSION */
  const uint32_t *exclude_gpus; /**< GPUs that failed (global ids); at least one */
  size_t n_exclude_gpus;
  uint32_t threads; /**< worker threads of the fallback search (default 1) */
  int place;        /**< place a fallback plan on the measured links (default 1) */
  uint64_t seed;    /**< its placement seed (default 1) */
} p3cfg_replan_options;

#define P3CFG_REPLAN_OPTIONS_INIT { P3CFG_REPLAN_OPTIONS_VERSION, NULL, 0, 1, 1, 1 }

P3CFG_API void p3cfg_replan_options_init(p3cfg_replan_options *opts);

/** What a re-plan changed (p3cfg_result_replan_info). */
typedef struct p3cfg_replan_info {
  int kept_degrees;     /**< 1: the old plan's tp, pp, mbs, vpp, split, recompute, sp, zero
                             and overlap kept (dp may have shrunk); 0: a new plan */
  uint32_t old_dp;      /**< the old plan's dp */
  uint64_t ranks;       /**< ranks of the new plan */
  uint64_t ranks_moved; /**< ranks of the new plan that run on another GPU than the same
                             rank (replica, stage, tp index) of the old plan; every rank
                             when the degrees changed (each rank gets a new shard) */
  uint64_t excluded_gpus, idle_gpus; /**< excluded; healthy but unused by the new plan */
  double before_s;      /**< iteration time of the old plan, on the whole cluster */
  double after_s;       /**< iteration time of the new plan, on the GPUs left */
} p3cfg_replan_info;

/**
 * Re-plan `plan` (resolved, with its placement `ranks`, n_ranks = dp*tp*pp entries as
 * p3cfg_plan_file_placement gives them) when the GPUs opts->exclude_gpus fail. Keeps the
 * old plan's degrees when they still fit on what is left: dp shrinks to the largest that
 * fits and divides the global batch (more micro-batches per pipeline), the replicas
 * with the most failed ranks are dropped, and every rank whose GPU survived stays on it;
 * the others move to free GPUs (a TP group stays inside one node). Otherwise returns the
 * best plan of a search on the GPUs left. *out holds one plan; p3cfg_result_replan_info
 * says what changed. P3CFG_EINVALID on bad arguments (no GPU excluded, a placement off
 * the cluster); P3CFG_EPLAN when the old plan is not valid on this model and cluster;
 * the search's errors (P3CFG_EINFEASIBLE, with the closest miss in *out) otherwise.
 */
P3CFG_API int p3cfg_replan(p3cfg_result **out, const p3cfg_model *model,
                           const p3cfg_cluster *cluster, const p3cfg_plan *plan,
                           const p3cfg_rank_place *ranks, size_t n_ranks,
                           const p3cfg_replan_options *opts);

/** The re-plan facts of a result from p3cfg_replan; NULL for any other result. The plan's
 *  JSON (p3cfg_result_plan_json) then carries a "replan" object and its table a section. */
P3CFG_API const p3cfg_replan_info *p3cfg_result_replan_info(const p3cfg_result *r);

/** Search statistics (spec §6). */
typedef struct p3cfg_search_stats {
  uint64_t evaluated; /**< candidate plans considered (valid or not) */
  uint64_t valid;     /**< passed every validity rule */
  uint64_t feasible;  /**< valid and fit in memory (each was scored or bounded) */
  double elapsed_s;
  uint32_t n_rules;   /**< entries in rule_names / rejected */
  const char *const *rule_names; /**< why plans were rejected, one name per rule */
  const uint64_t *rejected;      /**< how many plans each rule rejected */
  uint64_t bounded;   /**< feasible plans whose lower bound already exceeded the worst
                           plan kept, so the pipeline simulation was skipped (exact). A
                           statistic of the run like elapsed_s: it depends on top_k and on
                           the order the threads met the plans, so the reports do not
                           print it; the other counts depend on the inputs only */
} p3cfg_search_stats;

/** Statistics of a search result (zeroes for an estimate). Borrowed from r. */
P3CFG_API const p3cfg_search_stats *p3cfg_result_search_stats(const p3cfg_result *r);

/* ------------------------------------------------------------------------------------
 * Reports
 * ---------------------------------------------------------------------------------- */

/** A library-filled text buffer; release with p3cfg_buffer_dispose(). */
typedef struct p3cfg_buffer {
  char *data; /**< NUL-terminated */
  size_t len; /**< without the NUL */
} p3cfg_buffer;

P3CFG_API void p3cfg_buffer_dispose(p3cfg_buffer *buf);

/** The version of the JSON documents p3cfg writes: every document (a plan object, a
 *  search result, `validate --format json`, `replay --format json`) carries it as its
 *  first key, "schema_version". It grows when a key changes meaning or goes away, not
 *  when keys are added; the plan-file reader refuses a document newer than it. */
#define P3CFG_JSON_SCHEMA_VERSION 1

/** The JSON of spec §6: one plan object for index i, "schema_version" first. */
P3CFG_API int p3cfg_result_plan_json(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                     const p3cfg_model *model, const p3cfg_cluster *cluster);
/** Flags of p3cfg_result_search_json_flags. */
#define P3CFG_JSON_TIMINGS 1u /**< "elapsed_s": the search's wall time (else 0) */
/** The JSON of a search (spec §6): {"schema_version", "plans": [...], "evaluated", "valid",
 *  "feasible", "elapsed_s"}. Identical searches give identical bytes: "elapsed_s" is
 *  0 here; p3cfg_result_search_json_flags with P3CFG_JSON_TIMINGS fills it in. */
P3CFG_API int p3cfg_result_search_json(p3cfg_buffer *out, const p3cfg_result *r,
                                       const p3cfg_model *model, const p3cfg_cluster *cluster);
/** p3cfg_result_search_json with `flags` (P3CFG_JSON_TIMINGS or 0). */
P3CFG_API int p3cfg_result_search_json_flags(p3cfg_buffer *out, const p3cfg_result *r,
                                             const p3cfg_model *model,
                                             const p3cfg_cluster *cluster, unsigned flags);
/** A table of the ranked plans of a search, one line each with the 80 % interval of its
 *  iteration time ("-5/+8 %"), and a line under it when the first plans are within the
 *  model's interval of each other (p3cfg_result_indistinguishable); with `explain`, why
 *  the first wins over the second, which knobs differ between the first and each plan
 *  the model cannot tell apart from it and by how much their times differ against the
 *  interval, and how many plans each rule rejected. */
P3CFG_API int p3cfg_result_search_table(p3cfg_buffer *out, const p3cfg_result *r,
                                        const p3cfg_model *model,
                                        const p3cfg_cluster *cluster, int explain);
/** How many of the best plans the time model cannot tell apart: the longest run of plans
 *  1..n whose 80 % intervals of iteration time (p3cfg_time.iteration_s_low/high) all
 *  overlap one another. 1 when plan 2 is outside plan 1's interval (or there is one
 *  plan); 0 for an empty result or one without a time part. */
P3CFG_API size_t p3cfg_result_indistinguishable(const p3cfg_result *r);
/** A human-readable table of plan i (memory per stage, time breakdown). */
P3CFG_API int p3cfg_result_plan_table(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                      const p3cfg_model *model, const p3cfg_cluster *cluster);

/**
 * Pictures of plan i as standalone SVG documents (docs/pictures.md), for people:
 *  - timeline: the pipeline schedule from the time model's critical-path simulation,
 *    one row per pipeline stage, forward, backward, recomputation, pipeline sends,
 *    bubbles and the end-of-step data-parallel sync and optimizer, with a legend. Needs
 *    the time part (P3CFG_EINVALID without it); P3CFG_EUNSUPPORTED when the step has
 *    more than 2^20 forward and backward operations to draw.
 *  - links: the cluster's link bandwidth matrix (measured links, or the network figures)
 *    as a heat map, with the plan's pipeline hops and data-parallel rings over it.
 *  - memory: per-stage stacked bars (weights, gradients, optimizer, activations, other,
 *    reserved) against the GPU's capacity.
 * Deterministic: the same result gives the same bytes.
 */
P3CFG_API int p3cfg_result_svg_timeline(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                        const p3cfg_model *model, const p3cfg_cluster *cluster);
P3CFG_API int p3cfg_result_svg_links(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                     const p3cfg_model *model, const p3cfg_cluster *cluster);
P3CFG_API int p3cfg_result_svg_memory(p3cfg_buffer *out, const p3cfg_result *r, size_t i,
                                      const p3cfg_model *model, const p3cfg_cluster *cluster);

/* ------------------------------------------------------------------------------------
 * Plan files and launcher exports (spec §5 `p3cfg export`, docs/exports.md)
 * ---------------------------------------------------------------------------------- */

/** Plans read back from the JSON of spec §6 (`search --format json` or `estimate
 *  --format json` output), or taken from a result. */
typedef struct p3cfg_plan_file p3cfg_plan_file;

/** The model a plan was made for, as recorded in the plan object's "model". Strings
 *  are borrowed from the plan file; enumerations are their spec §2 names. */
typedef struct p3cfg_plan_model {
  const char *name;
  uint64_t layers, hidden, heads, kv_heads, ffn_hidden, vocab, seq_len;
  const char *activation;         /**< "gelu" or "swiglu" */
  const char *norm;               /**< "layernorm" or "rmsnorm" */
  const char *position_embedding; /**< "learned", "rope" or "alibi" */
  const char *precision;          /**< "bf16", "fp16", "fp32", "fp8", "mxfp8" or "nvfp4" */
  const char *optimizer;          /**< "adam" or "sgd" */
  int tied_embeddings, bias, dropout, flash_attention; /**< 0 or 1 */
  /* API 5 (issue 16): the model's head width, experts, attention kind and multi-token
   * prediction. A plan file written before these keys reads as a dense model with
   * standard attention: head_dim hidden/heads, moe_experts 0, attention "gqa" ("mha" when
   * kv_heads == heads), mtp_layers 0. */
  uint64_t head_dim;                     /**< width of one attention head */
  uint64_t moe_experts;                  /**< routed experts per MoE layer; 0 = dense */
  uint64_t moe_top_k;                    /**< routed experts per token */
  uint64_t moe_expert_ffn_hidden;        /**< inner width of one routed expert */
  uint64_t moe_shared_experts;           /**< always-on experts per MoE layer */
  uint64_t moe_shared_expert_ffn_hidden; /**< inner width of each shared expert */
  uint64_t moe_dense_layers;             /**< leading layers with a dense FFN of ffn_hidden */
  double moe_capacity_factor;            /**< 0 = dropless */
  const char *attention;                 /**< "mha", "gqa" or "mla" */
  /** (mla; 0 otherwise) DeepSeek's multi-head latent attention: query and key/value
   *  compression ranks (q_lora_rank 0: queries not compressed), per-head widths. */
  uint64_t mla_q_lora_rank, mla_kv_lora_rank, mla_qk_nope_head_dim, mla_qk_rope_head_dim,
      mla_v_head_dim;
  uint64_t mtp_layers; /**< multi-token-prediction modules after the last layer */
  /* API 6 (issue 15): launch-only shape facts (0 = not given): the rotary base and the
   * norm's epsilon, as the model file's rope_theta and norm_eps. */
  double rope_theta, norm_eps;
  /* The dtype of Megatron-LM's gradient buffer and data-parallel reduction, as the model
   * file's grad_reduce: "fp32" (Megatron-LM's default; also what a plan file without the
   * key reads as) or "bf16" (--grad-reduce-in-bf16; bf16-family precisions only). */
  const char *grad_reduce;
  /* The experts' activation clamp (the model file's moe.activation_clamp; 0 = none). */
  double moe_activation_clamp;
  /* The loss kernel, as the model file's cross_entropy: "unfused" (Megatron-LM's
   * vocab-parallel cross entropy, its default; also what a plan file without the key
   * reads as), "fused" (Transformer Engine's Triton kernel, Megatron-Bridge's recipes) or
   * "native" (Megatron-Core's JIT-fused cross entropy). */
  const char *cross_entropy;
  /* API 9: the run is bit-reproducible, as the model file's deterministic (Megatron-LM's
   * --deterministic-mode, torchtitan's debug.deterministic); 0 in a plan file without the
   * key. */
  int deterministic;
  /* API 10: the token dispatcher, as the model file's moe.dispatcher: "alltoall"
   * (Megatron-Core's all-to-all dispatcher; also what a plan file without the key reads
   * as), "deepep" or "hybridep" (its flex dispatcher on that backend). */
  const char *moe_dispatcher;
  /* API 11: the low-precision recipe, as the model file's fp8_recipe ("delayed", also what
   * a plan file without the key reads as, or "current"; NULL unless precision is fp8) and
   * fp8_param_gather (0 in a plan file without the key). */
  const char *fp8_recipe;
  int fp8_param_gather;
} p3cfg_plan_model;

/** The cluster a plan was placed on, as recorded in the plan object's "cluster". */
typedef struct p3cfg_plan_cluster {
  const char *name;
  const char *gpu;             /**< GPU name */
  uint32_t nodes, gpus_per_node;
  const char *const *node_names; /**< `nodes` names, in node index order */
  /* Issue 15: the host of a node (the cluster file's `host`, docs/formats.md), for the
   * launch exports; the plan object's cluster "gpu_sockets", "nccl_socket_ifname",
   * "nccl_ib_hca", each written only where the cluster file gives it. */
  const uint32_t *gpu_sockets; /**< CPU socket of each local GPU (gpus_per_node entries);
                                    NULL = the first half of the GPUs on socket 0, the
                                    second half on socket 1 (DGX A100 / H100 / B200) */
  const char *nccl_socket_ifname; /**< NCCL_SOCKET_IFNAME for every node, or NULL */
  const char *nccl_ib_hca;        /**< NCCL_IB_HCA for every node, or NULL */
} p3cfg_plan_cluster;

/**
 * Read a plan file: a search document ({"plans": [...]}) or one plan object. Every plan
 * needs "config", "model", "cluster" and "placement" (written by this version); other
 * keys are ignored. The placement must be consistent: dp*tp*pp ranks, each once, with
 * the coordinates of Megatron-LM's rank order, on known nodes and GPUs, no GPU twice.
 * On failure *out is NULL, the return is P3CFG_ESYNTAX, P3CFG_EVALUE, P3CFG_EIO or
 * P3CFG_ENOMEM, and the last error holds the first problem at its FILE:LINE:COL; a
 * non-NULL `diags` receives every problem found (the caller frees it).
 */
P3CFG_API int p3cfg_plan_file_load(p3cfg_plan_file **out, const char *path,
                                   p3cfg_diagnostics **diags);
/** As p3cfg_plan_file_load, from `len` bytes of text; `name` is used in positions. */
P3CFG_API int p3cfg_plan_file_load_string(p3cfg_plan_file **out, const char *text, size_t len,
                                          const char *name, p3cfg_diagnostics **diags);
/** The plans of a result, as a plan file (what loading its JSON would give). The result,
 *  model and cluster may be freed afterwards. P3CFG_EINVALID when a plan is not placed. */
P3CFG_API int p3cfg_plan_file_from_result(p3cfg_plan_file **out, const p3cfg_result *r,
                                          const p3cfg_model *model,
                                          const p3cfg_cluster *cluster);
P3CFG_API void p3cfg_plan_file_free(p3cfg_plan_file *f);
/** API 11: whether plan `i` was made for `model` and `cluster`: every key of its model
 *  record but the name (shape, precision and its recipe, experts, attention, loss, ...)
 *  as `model` has it, and its cluster's GPU, node count and GPUs per node as `cluster`
 *  has them. P3CFG_OK, or P3CFG_EINVALID with the first key that differs in the last
 *  error ("the plan was made for ... with moe.experts 8, but MODEL has 16"). */
P3CFG_API int p3cfg_plan_file_check_made_for(const p3cfg_plan_file *f, size_t i,
                                             const p3cfg_model *model,
                                             const p3cfg_cluster *cluster);

P3CFG_API size_t p3cfg_plan_file_count(const p3cfg_plan_file *f);
/** Plan i (resolved: dp, global_batch and stage_layers given); NULL when out of range. */
P3CFG_API const p3cfg_plan *p3cfg_plan_file_plan(const p3cfg_plan_file *f, size_t i);
P3CFG_API const p3cfg_plan_model *p3cfg_plan_file_model(const p3cfg_plan_file *f, size_t i);
P3CFG_API const p3cfg_plan_cluster *p3cfg_plan_file_cluster(const p3cfg_plan_file *f,
                                                            size_t i);
/** dp*tp*pp entries in global rank order (node indexes p3cfg_plan_file_cluster()'s
 *  node_names); NULL when out of range. Borrowed. */
P3CFG_API const p3cfg_rank_place *p3cfg_plan_file_placement(const p3cfg_plan_file *f, size_t i,
                                                            size_t *n_ranks);

typedef enum p3cfg_export_format {
  P3CFG_EXPORT_MEGATRON = 0,   /**< Megatron-LM arguments (a bash array) */
  P3CFG_EXPORT_TORCHTITAN = 1, /**< torchtitan job config TOML fragment */
  P3CFG_EXPORT_DEEPSPEED = 2,  /**< DeepSpeed config JSON */
  P3CFG_EXPORT_RANKFILE = 3,   /**< Open MPI rankfile: every rank on its GPU */
  P3CFG_EXPORT_HOSTFILE = 4,   /**< host order and per-host CUDA_VISIBLE_DEVICES */
  P3CFG_EXPORT_SBATCH = 5,     /**< Slurm batch script: one torchrun step per node */
  P3CFG_EXPORT_LAUNCH = 6      /**< bash script: the torchrun line of each node */
} p3cfg_export_format;

/** "megatron", "torchtitan", "deepspeed", "rankfile", "hostfile"; "?" when unknown. */
P3CFG_API const char *p3cfg_export_format_name(p3cfg_export_format fmt);
/** Parse a format name; P3CFG_EINVALID (message lists the names) when unknown. */
P3CFG_API int p3cfg_export_format_parse(p3cfg_export_format *out, const char *name);

/**
 * Launcher-ready text for plan `index` of `f` (docs/exports.md). Returns 0;
 * P3CFG_EINVALID on bad arguments or an index out of range; P3CFG_EUNSUPPORTED when
 * the target cannot express the plan (the message says why and what can), e.g. ZeRO-2
 * in Megatron-LM or a placement that torchrun cannot launch from a hostfile.
 */
P3CFG_API int p3cfg_export(p3cfg_buffer *out, const p3cfg_plan_file *f, size_t index,
                           p3cfg_export_format fmt);

/* ------------------------------------------------------------------------------------
 * Communication of one iteration (what `p3cfg replay` performs; docs/profiling.md)
 * ---------------------------------------------------------------------------------- */

/** One pipeline stage's communication per iteration, as the time model counts it.
 *  Sizes are after the message scale. */
typedef struct p3cfg_comm_stage {
  uint64_t tp_halves;        /**< reduce-scatters and all-gathers of tp_bytes in each TP
                                  group (an all-reduce is one of each) */
  uint64_t tp_bytes;
  uint64_t loss_allreduces;  /**< small all-reduces of the loss (last stage) */
  uint64_t loss_bytes;
  uint64_t dp_allreduces;    /**< in each DP group: ZeRO 0 gradient all-reduce */
  uint64_t dp_allreduce_bytes;
  uint64_t dp_reduce_scatters; /**< ZeRO >= 1: gradient reduce-scatters */
  uint64_t dp_rs_bytes;
  uint64_t dp_all_gathers;   /**< ZeRO >= 1: parameter all-gathers */
  uint64_t dp_ag_bytes;
  double tp_s;               /**< predicted: the stage's slowest TP group */
  double dp_s;               /**< predicted: the stage's slowest DP group (tie excluded) */
} p3cfg_comm_stage;

typedef struct p3cfg_comm_info {
  uint32_t n_stages;         /**< pp */
  uint32_t tp, pp, dp, virtual_stages;
  uint32_t hops;             /**< pipeline hops a micro-batch crosses each way: pp*vpp-1 */
  uint64_t micro_batches;    /**< per iteration */
  uint64_t send_bytes;       /**< one pipeline message */
  uint64_t tie_bytes;        /**< tied-embedding all-reduce, first <-> last stage; 0: none */
  double scale;              /**< every size multiplied by this */
  double tp_s, pp_s, dp_s;   /**< predicted per component, nothing overlapped */
  double tie_s;              /**< part of dp_s */
  double total_s;            /**< tp_s + pp_s + dp_s */
} p3cfg_comm_info;

typedef struct p3cfg_comm p3cfg_comm;

/**
 * The communication of one iteration of `plan` placed by `ranks` (n_ranks entries as
 * p3cfg_plan_file_placement gives them; NULL = the default placement), with every
 * message size multiplied by `scale` (1 = the real sizes), and the time the time model
 * predicts for each component when nothing overlaps and nothing computes: tensor-
 * parallel collectives, pipeline sends of every micro-batch through the whole pipeline
 * and back, the data-parallel reduction of the ZeRO stage plus the tied-embedding
 * all-reduce. Costs are the time model's own (ring collectives and sends over the links
 * the ranks use). P3CFG_EPLAN for an invalid plan, P3CFG_EINVALID for a placement that
 * does not fit the plan or the cluster, or a scale that makes a message larger than
 * 2^53 bytes (sizes stay exact as doubles). Free with p3cfg_comm_free().
 */
P3CFG_API int p3cfg_comm_predict(p3cfg_comm **out, const p3cfg_model *model,
                                 const p3cfg_cluster *cluster, const p3cfg_plan *plan,
                                 const p3cfg_rank_place *ranks, size_t n_ranks, double scale);
/** Totals of a prediction; borrowed. */
P3CFG_API const p3cfg_comm_info *p3cfg_comm_get_info(const p3cfg_comm *comm);
/** Stage `stage` (pipeline rank); NULL when out of range. Borrowed. */
P3CFG_API const p3cfg_comm_stage *p3cfg_comm_stage_get(const p3cfg_comm *comm, uint32_t stage);
P3CFG_API void p3cfg_comm_free(p3cfg_comm *comm);

/* ------------------------------------------------------------------------------------
 * Test hooks
 * ---------------------------------------------------------------------------------- */

/** Make the n-th allocation from now fail (1 = the next); 0 disables. For torture tests. */
P3CFG_API void p3cfg_test_fail_alloc_after(unsigned long n);

#ifdef __cplusplus
}
#endif

#endif /* P3CFG_H */
