/*
 * export_megatron.c — a plan as Megatron-LM command-line arguments: a bash array
 * MEGATRON_ARGS=( ... ) for `torchrun ... pretrain_gpt.py "${MEGATRON_ARGS[@]}"`, with
 * only flags that megatron/training/arguments.py defines (docs/exports.md lists each and
 * where it comes from): the parallel degrees, interleaving, batch sizes, sequence
 * parallelism, recomputation, the distributed optimizer, overlap, the split of layers
 * over stages, and the model's shape so that Megatron builds the model the plan was
 * estimated for.
 *
 * Splits: an even one is --num-layers-per-virtual-pipeline-stage (when interleaved), with
 * --account-for-embedding/loss-in-pipeline-split where the plan's split accounts for
 * them (p3cfg_plan.split_accounts); an
 * uneven one without interleaving whose middle stages are equal is
 * --decoder-first/last-pipeline-num-layers; any other is --pipeline-model-parallel-layout
 * (E embedding, t*N layers, L loss, '|' between virtual stages, dealt round-robin over
 * the pipeline ranks), since Megatron's first/last flags shorten only the first and last
 * virtual stage, not every chunk of the first and last rank.
 */
#include <string.h>

#include "error.h"
#include "export.h"
#include "plan_rules.h"
#include "recompute_modules.h"

/* The Megatron-LM commit the export is validated against (tests/upstream/megatron-lm/). */
#define P3CFG__MEGATRON_COMMIT "d98e8a64"

static void flag(p3cfg__text *t, const char *name) { p3cfg__text_printf(t, "  %s\n", name); }

static void flag_u(p3cfg__text *t, const char *name, unsigned long long v)
{
  p3cfg__text_printf(t, "  %s %llu\n", name, v);
}

static void flag_s(p3cfg__text *t, const char *name, const char *v)
{
  p3cfg__text_printf(t, "  %s %s\n", name, v);
}

/* The layout string of --pipeline-model-parallel-layout: virtual stage k*pp + j holds
 * stage_layers[j] / v layers of pipeline rank j. */
static void layout(p3cfg__text *t, const p3cfg_plan *p, uint64_t mtp_layers)
{
  const uint32_t v = p->virtual_stages;
  p3cfg__text_printf(t, "  --pipeline-model-parallel-layout \"");
  for (uint32_t k = 0; k < v; k++)
    for (uint32_t j = 0; j < p->pp; j++) {
      const uint32_t n = p3cfg__chunk_layers(p, j, k);
      const int first = k == 0 && j == 0, last = k == v - 1 && j == p->pp - 1;
      p3cfg__text_printf(t, "%s%s", first ? "" : "|", first ? "E" : "");
      if (n == 1)
        p3cfg__text_printf(t, "t");
      else if (n > 1)
        p3cfg__text_printf(t, "t*%u", n);
      if (last && mtp_layers == 1) /* the MTP modules go on the last stage, before the loss */
        p3cfg__text_printf(t, "m");
      else if (last && mtp_layers > 1)
        p3cfg__text_printf(t, "m*%llu", (unsigned long long)mtp_layers);
      p3cfg__text_printf(t, "%s", last ? "L" : "");
    }
  p3cfg__text_printf(t, "\"\n");
}

/* The pipeline split flags (nothing when pp == 1). */
static void split(p3cfg__text *t, const p3cfg_plan *p, uint64_t layers, uint64_t mtp_layers)
{
  if (p->pp == 1)
    return;
  const uint32_t v = p->virtual_stages, pp = p->pp;
  const uint32_t acc = p3cfg__split_extra(p, 0) + p3cfg__split_extra(p, pp - 1);
  if (p3cfg__export_even_split(p)) {
    /* Megatron's own split of layers + what it accounts for (arguments.py adds them to
     * num_layers before dividing by pp and by the layers per virtual stage). */
    if (p->split_accounts & P3CFG_SPLIT_ACCOUNT_EMBEDDING)
      flag(t, "--account-for-embedding-in-pipeline-split");
    if (p->split_accounts & P3CFG_SPLIT_ACCOUNT_LOSS)
      flag(t, "--account-for-loss-in-pipeline-split");
    if (v > 1)
      flag_u(t, "--num-layers-per-virtual-pipeline-stage", (layers + acc) / ((uint64_t)pp * v));
    return;
  }
  if (acc) { /* an uneven split with the accounting: only a layout says it exactly */
    layout(t, p, mtp_layers);
    return;
  }
  int middles_equal = 1;
  for (uint32_t j = 2; j + 1 < pp; j++)
    middles_equal &= p->stage_layers[j] == p->stage_layers[1];
  if (v > 1 || !middles_equal) {
    layout(t, p, mtp_layers);
    return;
  }
  /* Megatron gives the first and last stages these counts and splits the rest evenly
   * over the pp - 2 others. */
  const uint32_t mid = pp > 2 ? p->stage_layers[1] : 0;
  if (pp == 2 || p->stage_layers[0] != mid)
    flag_u(t, "--decoder-first-pipeline-num-layers", p->stage_layers[0]);
  if (pp == 2 || p->stage_layers[pp - 1] != mid)
    flag_u(t, "--decoder-last-pipeline-num-layers", p->stage_layers[pp - 1]);
}

/* Experts (TransformerConfig's num_moe_experts is --num-experts, moe_layer_freq
 * --moe-layer-freq, both in arguments.py's _add_moe_args; the other moe_* fields are flags
 * of their own name). The time model prices the routed experts as grouped GEMMs and the
 * dispatch as the model's moe.dispatcher (the all-to-all one, or the flex one on DeepEP or
 * HybridEP), so those are asked for; a capacity factor is charged in memory at the full
 * capacity, i.e. padded. */
static void moe_flags(p3cfg__text *t, const p3cfg_plan_model *m)
{
  if (!m->moe_experts)
    return;
  flag_u(t, "--num-experts", m->moe_experts);
  flag_u(t, "--moe-router-topk", m->moe_top_k);
  flag_u(t, "--moe-ffn-hidden-size", m->moe_expert_ffn_hidden);
  if (m->moe_shared_experts) /* the total width of the shared experts */
    flag_u(t, "--moe-shared-expert-intermediate-size",
           m->moe_shared_experts * m->moe_shared_expert_ffn_hidden);
  if (m->moe_dense_layers)
    p3cfg__text_printf(t, "  --moe-layer-freq \"([0]*%llu+[1]*%llu)\"\n",
                       (unsigned long long)m->moe_dense_layers,
                       (unsigned long long)(m->layers - m->moe_dense_layers));
  flag(t, "--moe-grouped-gemm");
  /* TransformerConfig.moe_token_dispatcher_type / moe_flex_dispatcher_backend. */
  if (m->moe_dispatcher && strcmp(m->moe_dispatcher, "alltoall") != 0) {
    flag_s(t, "--moe-token-dispatcher-type", "flex");
    flag_s(t, "--moe-flex-dispatcher-backend", m->moe_dispatcher);
  } else {
    flag_s(t, "--moe-token-dispatcher-type", "alltoall");
  }
  flag_s(t, "--moe-router-load-balancing-type", "aux_loss");
  if (m->moe_activation_clamp > 0) /* TransformerConfig.activation_func_clamp_value */
    p3cfg__text_printf(t, "  --activation-func-clamp-value %.9g\n", m->moe_activation_clamp);
  if (m->moe_capacity_factor > 0) {
    p3cfg__text_printf(t, "  --moe-expert-capacity-factor %.9g\n", m->moe_capacity_factor);
    flag_s(t, "--moe-token-drop-policy", "probs");
    flag(t, "--moe-pad-expert-input-to-capacity");
  }
}

/* Attention widths: MLA's (_add_mla_args; --qk-head-dim is the part without the rotary
 * embedding, Megatron's q head being qk_head_dim + qk_pos_emb_head_dim; q_lora_rank 0 is
 * Megatron's None), and --kv-channels where the head width is not hidden/heads. */
static void attention_flags(p3cfg__text *t, const p3cfg_plan_model *m)
{
  if (strcmp(m->attention, "mla") == 0) {
    flag(t, "--multi-latent-attention");
    if (m->mla_q_lora_rank)
      flag_u(t, "--q-lora-rank", m->mla_q_lora_rank);
    flag_u(t, "--kv-lora-rank", m->mla_kv_lora_rank);
    flag_u(t, "--qk-head-dim", m->mla_qk_nope_head_dim);
    flag_u(t, "--qk-pos-emb-head-dim", m->mla_qk_rope_head_dim);
    flag_u(t, "--v-head-dim", m->mla_v_head_dim);
  }
  if (m->head_dim && m->head_dim * m->heads != m->hidden)
    flag_u(t, "--kv-channels", m->head_dim);
}

/* What Megatron-LM's validate_args() (d98e8a64) refuses: the last error set and
 * P3CFG_EUNSUPPORTED, else 0. */
static int refuse(const p3cfg_plan *p, const p3cfg_plan_model *m)
{
  const char *why = NULL;
  if (strcmp(m->position_embedding, "alibi") == 0)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "megatron: Megatron-LM has no alibi position embedding (model "
                            "%s); export --to deepspeed for Megatron-DeepSpeed",
                            m->name);
  else if (p->zero_stage == 3 && m->tied_embeddings)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "megatron: ZeRO-3 is Megatron-LM's --use-torch-fsdp2, which needs "
                            "untied embeddings (--untie-embeddings-and-output-weights) and model "
                            "%s ties them; plan it with --zero 1, or export --to torchtitan or "
                            "deepspeed",
                            m->name);
  else if (m->rope_theta > 0 && strcmp(m->position_embedding, "rope") == 0 &&
           (m->rope_theta != (double)(unsigned long long)m->rope_theta || m->rope_theta > 2e9))
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "megatron: Megatron-LM's --rotary-base takes an integer, but model "
                            "%s has rope_theta %g",
                            m->name, m->rope_theta);
  else if (p->zero_stage == 3 && p->dp_shard && p->dp_shard != p->dp)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "megatron: the plan shards over dp_shard %u of dp %u (%s's "
                            "HSDP), which Megatron-LM's --use-torch-fsdp2 does not; export "
                            "--to torchtitan, or plan it --framework megatron",
                            p->dp_shard, p->dp,
                            p3cfg_framework_name((p3cfg_framework)p->framework));
  else if (p->zero_stage == 3 && strcmp(m->precision, "fp16") == 0)
    why = "ZeRO-3 is Megatron-LM's --use-torch-fsdp2, which does not support fp16; plan it in "
          "bf16 or with --zero 1";
  else if (p->zero_stage == 3 && (p->pp > 1 || p->ep > 1))
    why = "ZeRO-3 is Megatron-LM's --use-torch-fsdp2, which supports neither pipeline nor "
          "expert parallelism; export --to torchtitan";
  else if ((p->overlap & P3CFG_OVERLAP_PARAM_GATHER) && !(p->overlap & P3CFG_OVERLAP_GRAD_REDUCE))
    why = "Megatron-LM overlaps the parameter all-gather (--overlap-param-gather) only together "
          "with the gradient reduce-scatter (--overlap-grad-reduce); plan it with "
          "--overlap grad,param";
  else if ((p->overlap & P3CFG_OVERLAP_PARAM_GATHER) && p->zero_stage == 0)
    why = "Megatron-LM overlaps the parameter all-gather (--overlap-param-gather) only with the "
          "distributed optimizer (--zero 1), and without it there is no parameter all-gather";
  else if (m->cross_entropy && strcmp(m->cross_entropy, "fused") == 0)
    why = "the model's cross_entropy fused is Transformer Engine's kernel "
          "(--cross-entropy-loss-fusion --cross-entropy-fusion-impl te, Megatron-Bridge's "
          "recipes), which Megatron-LM's validate_args() refuses (\"disabled due to stability "
          "issues\"); set cross_entropy native in the model file, or launch it through "
          "Megatron-Bridge";
  else if ((p->overlap & P3CFG_OVERLAP_TP_COMM) && p->tp > 1 && !p->sequence_parallel)
    why = "Megatron-LM overlaps tensor-parallel communication with GEMMs (--tp-comm-overlap) "
          "only with sequence parallelism; plan it with --sp";
  return why ? p3cfg__error_set(P3CFG_EUNSUPPORTED, "megatron: %s", why) : P3CFG_OK;
}

int p3cfg__export_megatron(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_model *m = &rec->model;
  const int rc = refuse(p, m);
  if (rc)
    return rc;

  p3cfg__text_printf(t, "# Megatron-LM arguments for ");
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s for Megatron-LM %s (p3cfg's tests run "
                        "its parse_args(),\n# validate_args() and TransformerConfig on "
                        "such exports). Use them as\n",
                     p3cfg_version_string(), P3CFG__MEGATRON_COMMIT);
  p3cfg__text_printf(t, "#   source megatron_args.sh   # the environment below, and MEGATRON_ARGS\n"
                        "#   torchrun ... pretrain_gpt.py \"${MEGATRON_ARGS[@]}\" "
                        "<data, tokenizer, optimizer and schedule arguments>\n"
                        "# e.g. --data-path ... --tokenizer-type HuggingFaceTokenizer "
                        "--tokenizer-model ... (or --mock-data\n# --tokenizer-type "
                        "NullTokenizer --vocab-size %llu), --lr ..., --train-iters ...\n",
                     (unsigned long long)m->vocab);
  if (p->framework != P3CFG_FRAMEWORK_MEGATRON)
    p3cfg__text_printf(t, "# NOTE: this plan was searched for %s, not Megatron-LM: its memory "
                          "and time are %s's\n# (its sharding buffers, recompute policy%s and "
                          "efficiency), and Megatron-LM runs it\n# differently. For a "
                          "Megatron-LM plan, search again with --framework megatron.\n",
                       p3cfg_framework_name((p3cfg_framework)p->framework),
                       p3cfg_framework_name((p3cfg_framework)p->framework),
                       p->compile ? ", torch.compile" : "");
  p3cfg__text_printf(t, "# Rank order: Megatron-LM's default tp-cp-ep-dp-pp (tp fastest, "
                        "%s),\n# the order the plan's placement "
                        "uses: start rank r on the GPU the plan gives it\n# (p3cfg export "
                        "--to rankfile or --to hostfile).\n",
                     p->cp > 1 ? "then cp, then dp, then pp; the expert layers fold "
                                 "them as etp-ep-edp"
                     : p->ep > 1 ? "then dp, then pp; cp = 1; the expert layers fold "
                                   "them as etp-ep-edp"
                                 : "then dp, then pp; cp = ep = 1");
  p3cfg__text_printf(t, "# The vocabulary (%llu) comes from the tokenizer; Megatron-LM pads "
                        "it to a multiple of 128 * tp.\n",
                     (unsigned long long)m->vocab);
  if (m->moe_experts)
    p3cfg__text_printf(t, "# Routing (score function, expert bias, aux-loss coefficient) is "
                          "not in the plan: add\n# --moe-router-score-function, "
                          "--moe-aux-loss-coeff and the like as the model wants.\n");
  /* What the model file did not give (rope_theta, norm_eps), and RoPE scaling, which it
   * has no key for: the user's to add from the model's own config. */
  const int rope = strcmp(m->position_embedding, "rope") == 0;
  if (rope || !(m->norm_eps > 0))
    p3cfg__text_printf(t, "# Not in the plan, from the model's own config:\n#  %s%s%s.\n",
                       rope && !(m->rope_theta > 0) ? " --rotary-base (Megatron-LM's default "
                                                      "10000)," : "",
                       rope ? " RoPE scaling" : "",
                       !(m->norm_eps > 0) ? (rope ? ", --norm-epsilon (default 1e-5)"
                                                  : " --norm-epsilon (Megatron-LM's default 1e-5)")
                                          : "");
  if (p->zero_stage == 2)
    p3cfg__text_printf(t, "# ZeRO-2: Megatron-FSDP shards gradients and optimizer state, not "
                          "parameters\n# (--data-parallel-sharding-strategy optim_grads): each "
                          "micro-batch's gradients are\n# reduce-scattered in its backward; "
                          "checkpoints are in its fsdp_dtensor format.\n");
  if (p->zero_stage == 3)
    p3cfg__text_printf(t, "# ZeRO-3: Megatron-LM shards parameters with torch FSDP2 "
                          "(--use-torch-fsdp2), without the fused\n# gradient "
                          "accumulation it does not support%s.\n",
                       p->overlap & P3CFG_OVERLAP_PARAM_GATHER
                           ? "; FSDP2 prefetches the parameters itself (no "
                             "--overlap-param-gather)"
                           : "");
  p3cfg__export_env(t, rec, P3CFG_FRAMEWORK_MEGATRON);
  p3cfg__text_printf(t, "MEGATRON_ARGS=(\n");

  /* Parallelism and batch. */
  flag_u(t, "--tensor-model-parallel-size", p->tp);
  flag_u(t, "--pipeline-model-parallel-size", p->pp);
  /* Context and expert parallelism (ModelParallelConfig's context_parallel_size,
   * expert_model_parallel_size, expert_tensor_parallel_size), where not the defaults. */
  if (p->cp > 1)
    flag_u(t, "--context-parallel-size", p->cp);
  if (p->ep > 1)
    flag_u(t, "--expert-model-parallel-size", p->ep);
  if (p->etp && p->etp != p->tp)
    flag_u(t, "--expert-tensor-parallel-size", p->etp);
  split(t, p, m->layers, m->mtp_layers);
  if (p->sequence_parallel)
    flag(t, "--sequence-parallel");
  flag_u(t, "--micro-batch-size", p->micro_batch);
  flag_u(t, "--global-batch-size", p->global_batch);
  if (p->recompute == P3CFG_RECOMPUTE_SELECTIVE) {
    flag_s(t, "--recompute-granularity", "selective");
    if (p->recompute_modules && p->recompute_modules != P3CFG_RECOMPUTE_MODULE_CORE_ATTN) {
      char words[128];
      p3cfg__recompute_modules_text(words, sizeof words, p->recompute_modules, " ");
      flag_s(t, "--recompute-modules", words); /* TransformerConfig.recompute_modules */
    }
  } else if (p->recompute == P3CFG_RECOMPUTE_FULL) {
    flag_s(t, "--recompute-granularity", "full");
    flag_s(t, "--recompute-method", "uniform");
    flag_u(t, "--recompute-num-layers", 1);
  }
  /* Activation offloading: TransformerConfig.cpu_offloading_num_layers, which turns
   * cpu_offloading on (arguments.py validate_args); activations only, as its defaults. */
  if (p->cpu_offload_layers)
    flag_u(t, "--cpu-offloading-num-layers", p->cpu_offload_layers);
  if (p->zero_stage == 1)
    flag(t, "--use-distributed-optimizer");
  else if (p->zero_stage == 2) { /* arguments.py: Megatron-FSDP v1 needs both of the last two */
    flag(t, "--use-megatron-fsdp");
    flag_s(t, "--data-parallel-sharding-strategy", "optim_grads");
    flag(t, "--use-distributed-optimizer");
    flag_s(t, "--ckpt-format", "fsdp_dtensor");
  } else if (p->zero_stage == 3) {
    flag(t, "--use-torch-fsdp2");
    flag(t, "--no-gradient-accumulation-fusion");
  }
  if (p->overlap & P3CFG_OVERLAP_GRAD_REDUCE)
    flag(t, "--overlap-grad-reduce");
  if ((p->overlap & P3CFG_OVERLAP_PARAM_GATHER) && (p->zero_stage == 1 || p->zero_stage == 2))
    flag(t, "--overlap-param-gather");
  if ((p->overlap & P3CFG_OVERLAP_TP_COMM) && p->tp > 1) /* tp 1: no TP communication */
    flag(t, "--tp-comm-overlap");
  if (p->overlap & P3CFG_OVERLAP_EP_COMM) /* ModelParallelConfig.overlap_moe_expert_parallel_comm */
    flag(t, "--overlap-moe-expert-parallel-comm");

  /* Model shape. */
  flag_u(t, "--num-layers", m->layers);
  flag_u(t, "--hidden-size", m->hidden);
  flag_u(t, "--num-attention-heads", m->heads);
  if (m->kv_heads != m->heads) {
    flag(t, "--group-query-attention");
    flag_u(t, "--num-query-groups", m->kv_heads);
  }
  flag_u(t, "--ffn-hidden-size", m->ffn_hidden);
  attention_flags(t, m);
  moe_flags(t, m);
  if (m->mtp_layers)
    flag_u(t, "--mtp-num-layers", m->mtp_layers);
  flag_u(t, "--seq-length", m->seq_len);
  flag_u(t, "--max-position-embeddings", m->seq_len);
  flag_s(t, "--position-embedding-type",
         strcmp(m->position_embedding, "rope") == 0 ? "rope" : "learned_absolute");
  if (strcmp(m->activation, "swiglu") == 0)
    flag(t, "--swiglu");
  flag_s(t, "--normalization", strcmp(m->norm, "rmsnorm") == 0 ? "RMSNorm" : "LayerNorm");
  /* The model file's launch-only facts (issue 15), where it gives them. */
  if (m->rope_theta > 0 && strcmp(m->position_embedding, "rope") == 0)
    flag_u(t, "--rotary-base", (unsigned long long)m->rope_theta);
  if (m->norm_eps > 0)
    p3cfg__text_printf(t, "  --norm-epsilon %.9g\n", m->norm_eps);
  if (!m->tied_embeddings)
    flag(t, "--untie-embeddings-and-output-weights");
  if (!m->bias)
    flag(t, "--disable-bias-linear");
  if (!m->dropout) {
    flag_s(t, "--hidden-dropout", "0.0");
    flag_s(t, "--attention-dropout", "0.0");
  }
  flag_s(t, "--attention-backend", m->flash_attention ? "flash" : "unfused");
  const int fp8 = strcmp(m->precision, "fp8") == 0, mxfp8 = strcmp(m->precision, "mxfp8") == 0;
  const int nvfp4 = strcmp(m->precision, "nvfp4") == 0;
  if (strcmp(m->precision, "bf16") == 0 || fp8 || mxfp8 || nvfp4)
    flag(t, "--bf16"); /* the low-precision recipes run inside bf16 mixed precision */
  else if (strcmp(m->precision, "fp16") == 0)
    flag(t, "--fp16");
  /* grad_reduce bf16: main_grad and its data-parallel reduction in bf16 (arguments.py:
   * --grad-reduce-in-bf16 clears accumulate_allreduce_grads_in_fp32 under --bf16; the
   * plan file reader admits it only with a bf16-family precision). */
  if (m->grad_reduce && strcmp(m->grad_reduce, "bf16") == 0)
    flag(t, "--grad-reduce-in-bf16");
  /* cross_entropy native: Megatron-Core's JIT-fused vocab-parallel cross entropy
   * (ModelParallelConfig.cross_entropy_loss_fusion, cross_entropy_fusion_impl "native";
   * fused, Transformer Engine's, is refused above). */
  if (m->cross_entropy && strcmp(m->cross_entropy, "native") == 0) {
    flag(t, "--cross-entropy-loss-fusion");
    flag_s(t, "--cross-entropy-fusion-impl", "native");
  }
  /* deterministic: megatron/training/determinism.py (cross entropy fusion and TP comm
   * overlap off, which the model file and the plan rules already require); the
   * environment it wants is written above (export_env.c). */
  if (m->deterministic)
    flag(t, "--deterministic-mode");
  if (fp8) /* e4m3 forward, e5m2 gradients; Megatron-LM's default recipe (delayed) */
    flag_s(t, "--fp8-format", "hybrid");
  /* TransformerConfig: "Delayed scaling does not support moe_act and layernorm recompute
   * for fp8": those modules take current (tensorwise) scaling, Megatron-Bridge's fp8_cs. */
  if (fp8 && ((m->fp8_recipe && strcmp(m->fp8_recipe, "current") == 0) ||
              (p3cfg__plan_recompute_modules(p) &
               (P3CFG_RECOMPUTE_MODULE_MOE_ACT | P3CFG_RECOMPUTE_MODULE_LAYERNORM))))
    flag_s(t, "--fp8-recipe", "tensorwise");
  if (mxfp8) {
    flag_s(t, "--fp8-format", "e4m3");
    flag_s(t, "--fp8-recipe", "mxfp8");
  }
  if (nvfp4) {
    flag_s(t, "--fp4-format", "e2m1");
    flag_s(t, "--fp4-recipe", "nvfp4");
  }
  /* fp8_param_gather: the linear weights kept in the low-precision format and all-gathered
   * so (arguments.py _add_transformer_engine_args at d98e8a6: --fp8-param-gather, and for
   * NVFP4 --fp4-param-gather; the plan rules require the distributed optimizer or FSDP). */
  if (m->fp8_param_gather)
    flag(t, nvfp4 ? "--fp4-param-gather" : "--fp8-param-gather");
  flag_s(t, "--optimizer", m->optimizer);
  p3cfg__text_printf(t, ")\n");
  return P3CFG_OK;
}
