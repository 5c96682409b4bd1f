/*
 * knobs.c — the one table of the knobs of a search and an estimate (p3cfg_knob_at):
 * the options struct field, the CLI flag, the JSON key, the bounds, the default and the
 * help and docs text of each. The CLI builds its option tables, --help lines and bound
 * errors from it, the library checks p3cfg_search_options against it, and
 * `p3cfg --list-knobs` prints the docs' table from it (checked by the docs_knobs test).
 * Adding a knob is one row here, its field and its use.
 */
#include "knobs.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "recompute_modules.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const recompute_modes[] = {"none", "selective", "full"};
static const char *const framework_names[] = {"megatron", "torchtitan", "deepspeed"};
_Static_assert(COUNT_OF(framework_names) == P3CFG_FRAMEWORK_COUNT, "one word per framework");
const char *const p3cfg__overlap_words[P3CFG__OVERLAP_WORDS] = {"grad", "param", "tp", "ep"};
_Static_assert(P3CFG_OVERLAP_GRAD_REDUCE == 1u << 0 && P3CFG_OVERLAP_PARAM_GATHER == 1u << 1 &&
                   P3CFG_OVERLAP_TP_COMM == 1u << 2 && P3CFG_OVERLAP_EP_COMM == 1u << 3,
               "p3cfg__overlap_words[i] is the flag 1 << i");

/* Degrees and sizes take at most 2^24 (a degree) or 2^40 (GPUs, sequences): far above
 * any cluster, low enough that products of them never overflow 64 bits. */
#define DEGREE_MAX (1ull << 24)
#define COUNT_MAX (1ull << 40)

static const p3cfg_knob knobs[P3CFG__KNOB_COUNT] = {
    [P3CFG__KNOB_DP] = {"dp", "dp", NULL, "dp", "N", P3CFG_KNOB_INT, 1, DEGREE_MAX, 0, NULL, 0,
                        "searched (estimate: GPUs / (tp*pp))", "data-parallel degree", NULL,
                        "data-parallel degree"},
    [P3CFG__KNOB_TP] = {"tp", "tp", NULL, "tp", "N", P3CFG_KNOB_INT, 1, DEGREE_MAX, 0, NULL, 0,
                        "searched (estimate: 1)", "tensor-parallel degree", NULL,
                        "tensor-parallel degree"},
    [P3CFG__KNOB_PP] = {"pp", "pp", NULL, "pp", "N", P3CFG_KNOB_INT, 1, DEGREE_MAX, 0, NULL, 0,
                        "searched (estimate: 1)", "pipeline-parallel degree", NULL,
                        "pipeline-parallel degree (a plan has at most 1024 stages)"},
    [P3CFG__KNOB_CP] = {"cp", "cp", NULL, "cp", "N", P3CFG_KNOB_INT, 1, DEGREE_MAX, 0, NULL, 0,
                        "searched from seq_len 16384 (else 1; estimate: 1)",
                        "context-parallel degree (GPUs = dp*tp*cp*pp)", NULL,
                        "context-parallel degree: the sequence split over cp ranks (GPUs = "
                        "`dp*tp*cp*pp`; needs flash attention and seq_len a multiple of `2*cp`)"},
    [P3CFG__KNOB_EP] = {"ep", "ep", NULL, "ep", "N", P3CFG_KNOB_INT, 1, DEGREE_MAX, 0, NULL, 0,
                        "searched for MoE models (else 1; estimate: 1)",
                        "expert-parallel degree (MoE: divides the experts)", NULL,
                        "expert-parallel degree: the routed experts split over ep ranks (MoE "
                        "models; ep divides the experts, `ep*etp` divides `tp*cp*dp`)"},
    [P3CFG__KNOB_ETP] = {"etp", "etp", NULL, "etp", "N", P3CFG_KNOB_INT, 1, DEGREE_MAX, 0, NULL,
                         0, "searched: 1 or tp (estimate: tp)",
                         "expert tensor-parallel degree (MoE; default tp)", NULL,
                         "expert tensor-parallel degree: each expert split etp ways (MoE "
                         "models; `edp = dp*tp*cp / (ep*etp)`)"},
    [P3CFG__KNOB_MBS] = {"micro_batch", "mbs", NULL, "micro_batch", "N", P3CFG_KNOB_INT, 1,
                         DEGREE_MAX, 0, NULL, 0, "searched (estimate: 1)",
                         "micro-batch size (sequences)", NULL, "micro-batch size (sequences)"},
    [P3CFG__KNOB_VPP] = {"virtual_stages", "vpp", NULL, "virtual_stages", "N", P3CFG_KNOB_INT, 1,
                         DEGREE_MAX, 0, NULL, 0, "searched (estimate: 1)",
                         "interleaved chunks per pipeline rank (1 = plain 1F1B)", NULL,
                         "interleaved chunks per pipeline rank (1 = plain 1F1B)"},
    [P3CFG__KNOB_RECOMPUTE] = {"recompute", "recompute", NULL, "recompute", "MODE",
                               P3CFG_KNOB_CHOICE, P3CFG_RECOMPUTE_NONE, P3CFG_RECOMPUTE_FULL, 0,
                               recompute_modes, COUNT_OF(recompute_modes),
                               "searched (estimate: none)",
                               "activation recomputation: none, selective or full", NULL,
                               "activation recomputation: `none`, `selective` or `full`"},
    [P3CFG__KNOB_SP] = {"sequence_parallel", "sp", "no-sp", "sequence_parallel", NULL,
                        P3CFG_KNOB_SWITCH, 0, 1, 0, NULL, 0, "searched (estimate: off)",
                        "sequence parallelism on", "sequence parallelism off",
                        "sequence parallelism on / off (on needs tp > 1)"},
    [P3CFG__KNOB_ZERO] = {"zero_stage", "zero", NULL, "zero_stage", "0-3", P3CFG_KNOB_INT, 0, 3,
                          0, NULL, 0, "searched (estimate: 0)",
                          "optimizer sharding: 0 plain DP, 1 distributed optimizer, 2 + "
                          "gradients (Megatron-FSDP, DeepSpeed), 3 + parameters (FSDP)",
                          NULL,
                          "0 plain DP, 1 distributed optimizer, 2 + gradients (Megatron-FSDP "
                          "`optim_grads`, DeepSpeed), 3 + parameters (FSDP); the stages the "
                          "framework has"},
    [P3CFG__KNOB_STAGE_LAYERS] = {"stage_layers", "stage-layers", NULL, "stage_layers",
                                  "N,N,...", P3CFG_KNOB_LIST, 1, 1000000, P3CFG_MAX_PP, NULL, 0,
                                  "searched (estimate: balanced)",
                                  "transformer layers per pipeline rank", NULL,
                                  "transformer layers per pipeline rank (pp entries)"},
    [P3CFG__KNOB_OVERLAP] = {"overlap", "overlap", NULL, "overlap", "none|LIST", P3CFG_KNOB_LIST,
                             0, 0, 0, p3cfg__overlap_words, P3CFG__OVERLAP_WORDS, "none",
                             "overlap communication: none, or a comma list of grad, param, tp, ep",
                             NULL,
                             "overlap communication: `none`, or a comma list of `grad`, "
                             "`param`, `tp`, `ep` (none, as Megatron-LM)"},
    [P3CFG__KNOB_GPUS] = {"gpus", "gpus", NULL, NULL, "N", P3CFG_KNOB_INT, 1, COUNT_MAX, 0, NULL,
                          0, "all of the cluster", "GPUs to use (default: all of the cluster)",
                          NULL, "GPUs to use"},
    [P3CFG__KNOB_GLOBAL_BATCH] = {"global_batch", "global-batch", NULL, "global_batch", "N",
                                  P3CFG_KNOB_INT, 1, COUNT_MAX, 0, NULL, 0, "the model's",
                                  "sequences per optimizer step (default: the model's)", NULL,
                                  "sequences per optimizer step"},
    [P3CFG__KNOB_EXCLUDE] = {"exclude_gpus", "exclude", NULL, NULL, "LIST", P3CFG_KNOB_LIST, 0, 0,
                             0, NULL, 0, "none",
                             "GPUs out of use: hosts and host:gpu entries, comma-separated, or "
                             "@FILE (one a line, # comments)",
                             NULL,
                             "GPUs out of use: hosts and `host:gpu` entries, or `@FILE` (see "
                             "\"Excluding failed GPUs\")"},
    [P3CFG__KNOB_MEM_MARGIN] = {"mem_margin", "mem-margin", NULL, NULL, "P%|SIZE",
                                P3CFG_KNOB_TEXT, 0, 0, 0, NULL, 0, "0",
                                "memory each GPU keeps free: a share of it (5%) or a size "
                                "(2GiB, 512MiB, 1.5GB); default 0",
                                NULL,
                                "memory every GPU keeps free: a share of its memory (`5%`, "
                                "below 100 %) or a size (`2GiB`, `512MiB`, `1.5GB`); fields "
                                "`mem_margin_bytes`, `mem_margin_fraction`"},
    [P3CFG__KNOB_TOKENS] = {"train_tokens", "tokens", NULL, NULL, "N[K|M|G|B|T]", P3CFG_KNOB_TEXT,
                            1, 1000000000000000000ull, 0, NULL, 0, "none",
                            "tokens of the training run (15T, 300B): days and GPU-hours per "
                            "plan",
                            NULL, "tokens of the training run (`15T`, `300B`, up to 10^18): "
                                  "days and GPU-hours per plan"},
    [P3CFG__KNOB_TOP] = {"top_k", "top", NULL, NULL, "K", P3CFG_KNOB_INT, 1, 1000, 0, NULL, 0,
                         "10", "plans to print, best first (default 10)", NULL,
                         "plans kept, best first (search)"},
    [P3CFG__KNOB_THREADS] = {"threads", "threads", NULL, NULL, "N", P3CFG_KNOB_INT, 1, 256, 0,
                             NULL, 0, "1",
                             "worker threads (default 1; the result does not depend on it)",
                             NULL,
                             "worker threads of the search (the result does not depend on it)"},
    [P3CFG__KNOB_MAX_MBS] = {"max_micro_batch", "max-mbs", NULL, NULL, "N", P3CFG_KNOB_INT, 1,
                             1u << 20, 0, NULL, 0, "16",
                             "largest micro-batch size tried (default 16)", NULL,
                             "largest micro-batch size the search tries"},
    [P3CFG__KNOB_PLACE] = {"place", "place", "no-place", NULL, NULL, P3CFG_KNOB_SWITCH, 0, 1, 0,
                           NULL, 0, "search: on; estimate: off",
                           "optimise the rank -> GPU placement on the measured links",
                           "keep the default rank -> GPU placement",
                           "optimise the rank -> GPU placement on the measured links "
                           "(`--place`, estimate) or keep the default one (`--no-place`, "
                           "search)"},
    [P3CFG__KNOB_PLACE_TOP] = {"place_top", "place-top", NULL, NULL, "N", P3CFG_KNOB_INT, 1, 1000,
                               0, NULL, 0, "max(top, 8)",
                               "how many of the best plans to place before the final ranking "
                               "(default max(top, 8))",
                               NULL,
                               "how many of the best plans the search places before the final "
                               "ranking"},
    [P3CFG__KNOB_SEED] = {"seed", "seed", NULL, NULL, "N", P3CFG_KNOB_INT, 0, UINT64_MAX, 0, NULL,
                          0, "1", "placement search seed (default 1; same seed, same placement)",
                          NULL, "placement search seed (same seed, same placement)"},
    [P3CFG__KNOB_PLACE_BUDGET] = {"place_budget", "place-budget", NULL, NULL, "N|TIME",
                                  P3CFG_KNOB_TEXT, 0, 0, 0, NULL, 0, "a default for the size",
                                  "placement budget: N moves (deterministic), or a wall time "
                                  "such as 500ms or 2s",
                                  NULL,
                                  "placement budget: N moves (deterministic), or a wall time "
                                  "such as `500ms` or `2s`; fields `place_moves`, "
                                  "`place_max_s`"},
    [P3CFG__KNOB_FRAMEWORK] = {"framework", "framework", NULL, "framework", "NAME",
                               P3CFG_KNOB_CHOICE, 0, P3CFG_FRAMEWORK_COUNT - 1, 0,
                               framework_names, COUNT_OF(framework_names), "megatron",
                               "training framework: megatron, torchtitan or deepspeed (search: "
                               "also all)",
                               NULL,
                               "the training framework whose plan space, memory rules and "
                               "efficiency are used: `megatron`, `torchtitan` or `deepspeed` "
                               "(`search --framework all`: the best plans of each, side by "
                               "side; docs/frameworks.md)"},
    [P3CFG__KNOB_DP_SHARD] = {"dp_shard", "dp-shard", NULL, "dp_shard", "N", P3CFG_KNOB_INT, 1,
                              DEGREE_MAX, 0, NULL, 0,
                              "searched for torchtitan ZeRO 3 (estimate: dp)",
                              "FSDP shard group (torchtitan HSDP: dp / N replicas)", NULL,
                              "the FSDP shard group of a ZeRO-3 plan (torchtitan's "
                              "`data_parallel_shard_degree`; HSDP replicates over dp / N "
                              "groups; it divides dp)"},
    [P3CFG__KNOB_COMPILE] = {"compile", "compile", "no-compile", "compile", NULL,
                             P3CFG_KNOB_SWITCH, 0, 1, 0, NULL, 0, "on for torchtitan",
                             "torch.compile the model (torchtitan)", "run eager (torchtitan)",
                             "`torch.compile` of the model on / off (torchtitan only)"},
    [P3CFG__KNOB_RECOMPUTE_MODULES] = {"recompute_modules", "recompute-modules", NULL,
                                       "recompute_modules", "LIST", P3CFG_KNOB_LIST, 0, 0, 0,
                                       p3cfg__recompute_module_words,
                                       P3CFG__RECOMPUTE_MODULE_WORDS,
                                       "core_attn (search, MoE: also moe_act,layernorm)",
                                       "selective-recompute modules (Megatron-LM): a comma list "
                                       "of core_attn, moe_act, layernorm, mla_up_proj, mlp, moe, "
                                       "shared_experts",
                                       NULL,
                                       "Megatron-LM's selective-recompute modules "
                                       "(`--recompute-modules`; with `--recompute selective`): "
                                       "a comma list of `core_attn` (the default), `moe_act`, "
                                       "`layernorm`, `mla_up_proj` (MLA), `mlp`, `moe`, "
                                       "`shared_experts` (MoE models); docs/memory-model.md"},
    [P3CFG__KNOB_CPU_OFFLOAD] = {"cpu_offload_layers", "cpu-offload-layers", NULL,
                                 "cpu_offload_layers", "N", P3CFG_KNOB_INT, 0, DEGREE_MAX, 0,
                                 NULL, 0, "0 (none; not searched)",
                                 "offload the activations of the first N layers to host "
                                 "memory (Megatron-LM; pp 1, no recompute)",
                                 NULL,
                                 "activations of the first N transformer layers offloaded to "
                                 "host memory and back, overlapped with compute (Megatron-LM's "
                                 "`--cpu-offloading-num-layers`; pp 1, recompute none, N below "
                                 "the layers; docs/memory-model.md)"},
    [P3CFG__KNOB_SPLIT_ACCOUNTS] = {"split_accounts", "split-accounts", NULL, "split_accounts",
                                    "LIST", P3CFG_KNOB_LIST, 0, 0, 0, p3cfg__split_account_words,
                                    P3CFG__SPLIT_ACCOUNT_WORDS, "none (not searched)",
                                    "count the embedding and/or the loss as a layer of the "
                                    "pipeline split: embedding, loss (Megatron-LM; pp > 1)",
                                    NULL,
                                    "the embedding and/or the loss counted as a layer of the "
                                    "pipeline split, so that the first and/or last chunk holds "
                                    "one transformer layer fewer (Megatron-LM's "
                                    "`--account-for-embedding-in-pipeline-split`, "
                                    "`--account-for-loss-in-pipeline-split`): a comma list of "
                                    "`embedding`, `loss`; pipelined plans only"},
};

const char *const p3cfg__split_account_words[P3CFG__SPLIT_ACCOUNT_WORDS] = {"embedding", "loss"};
_Static_assert(P3CFG_SPLIT_ACCOUNT_EMBEDDING == 1u << 0 && P3CFG_SPLIT_ACCOUNT_LOSS == 1u << 1,
               "p3cfg__split_account_words[i] is the flag 1 << i");

P3CFG_API size_t p3cfg_knob_count(void)
{
  return P3CFG__KNOB_COUNT;
}

P3CFG_API const p3cfg_knob *p3cfg_knob_at(size_t i)
{
  return i < P3CFG__KNOB_COUNT ? &knobs[i] : NULL;
}

P3CFG_API const p3cfg_knob *p3cfg_knob_find(const char *name)
{
  if (!name)
    return NULL;
  for (size_t i = 0; i < P3CFG__KNOB_COUNT; i++)
    if (strcmp(knobs[i].name, name) == 0 || strcmp(knobs[i].flag, name) == 0)
      return &knobs[i];
  return NULL;
}

const p3cfg_knob *p3cfg__knob(p3cfg__knob_id id)
{
  assert(id < P3CFG__KNOB_COUNT && knobs[id].name);
  return &knobs[id];
}

int p3cfg__knob_check(p3cfg__knob_id id, uint64_t v, int unset_ok)
{
  const p3cfg_knob *k = p3cfg__knob(id);
  if ((unset_ok && v == 0) || (v >= k->min && v <= k->max))
    return P3CFG_OK;
  return p3cfg__error_set(P3CFG_EINVALID, "%s must be in [%llu, %llu], got %llu", k->name,
                          (unsigned long long)k->min, (unsigned long long)k->max,
                          (unsigned long long)v);
}

int p3cfg__knob_check_int(p3cfg__knob_id id, int v)
{
  const p3cfg_knob *k = p3cfg__knob(id);
  if (v == -1 || (v >= 0 && (uint64_t)v >= k->min && (uint64_t)v <= k->max))
    return P3CFG_OK;
  return p3cfg__error_set(P3CFG_EINVALID, "%s must be -1 (searched) or in [%llu, %llu], got %d",
                          k->name, (unsigned long long)k->min, (unsigned long long)k->max, v);
}

void p3cfg__overlap_text(char *buf, size_t n, uint32_t overlap)
{
  if (n == 0)
    return;
  snprintf(buf, n, "%s", overlap ? "" : "none");
  size_t len = strlen(buf);
  for (uint32_t i = 0; i < P3CFG__OVERLAP_WORDS && len + 1 < n; i++)
    if (overlap & (1u << i)) {
      snprintf(buf + len, n - len, "%s%s", len ? "," : "", p3cfg__overlap_words[i]);
      len = strlen(buf);
    }
}
