/*
 * export_torchtitan.c — a plan as a torchtitan config module: a Python file defining
 * p3cfg_plan() -> Trainer.Config for torchtitan b5bcd76c, launched with
 * `-m torchtitan.train --module p3cfg_plan --config p3cfg_plan`.
 *
 * torchtitan at that commit configures a run with config_registry functions returning a
 * Trainer.Config (torchtitan/config/manager.py imports --module's config_registry, or the
 * module itself when given by its path, and calls --config); its TOML job config and
 * pipeline_parallel_split_points are gone. The module starts from the registry function
 * of the model's flavor (export_torchtitan_models.c), so tokenizer, data, optimizer and
 * schedule are torchtitan's for that model, and replaces the training, parallelism,
 * activation-checkpoint and compile configs with dataclasses.replace, which runs each
 * config's own __post_init__ checks (and Trainer.Config's) at load time.
 *
 * Mapping (docs/exports.md, torchtitan): torchtitan counts tokens, not sequences. A
 * micro-batch is num_tokens_per_microbatch_per_dp_rank = micro_batch * seq_len; the step
 * is num_tokens_per_train_step = global_batch * seq_len over dp = dp_replicate * dp_shard.
 * With pipelining every micro-batch of the step is a pipeline micro-batch
 * (num_pp_microbatches = global / (dp * micro), no gradient accumulation); without, the
 * trainer accumulates global / (dp * micro) micro-batches. Virtual stage k*pp + j runs on
 * pipeline rank j (torchtitan's looped schedules) and holds rank j's layers / vpp, written
 * out as module_fqns_per_model_part. A Megatron or DeepSpeed plan maps ZeRO 0 to DDP
 * (dp_replicate = dp), ZeRO 1/2 to FSDP2 without resharding after forward, ZeRO 3 to FSDP2
 * resharding always, and the header lists what does not carry over; a torchtitan plan
 * keeps its dp_shard and compile. Expert parallelism follows torchtitan's expert mesh
 * [pp, dp_replicate, efsdp, ep] with efsdp = dp_shard * cp * tp / ep (no expert tensor
 * parallelism); plans it cannot hold are refused with the reason.
 */
#include <string.h>

#include "error.h"
#include "export.h"
#include "export_torchtitan.h"
#include "plan_dims.h"
#include "plan_rules.h"

/* The plan's framework fields (p3cfg_plan version 3): a torchtitan plan carries its own
 * FSDP shard group and compile flag; a Megatron-LM or DeepSpeed plan is translated. */
static int tt_native(const p3cfg_plan *p) { return p->framework == P3CFG_FRAMEWORK_TORCHTITAN; }
static uint32_t tt_dp_shard(const p3cfg_plan *p) { return p3cfg__plan_dp_shard(p); }
static int tt_compile(const p3cfg_plan *p) { return p->compile != 0; }
static const char *tt_framework_name(const p3cfg_plan *p)
{
  return p3cfg_framework_name((p3cfg_framework)p->framework);
}

typedef struct tt_layout {
  uint32_t replicate, shard;
  const char *reshard;
  int compile, async_tp, mtp;
  const char *converter; /* NULL, "Float8LinearConverter" or "MXFP8LinearConverter" */
} tt_layout;

/* Whether torchtitan can run the plan's parallelism and model; sets the error when not. */
static int expressible(const p3cfg_plan *p, const p3cfg_plan_model *m, const tt_layout *l,
                       const p3cfg__tt_flavor *f)
{
  const uint32_t ep = p3cfg__plan_ep(p), etp = p3cfg__plan_etp(p), cp = p3cfg__plan_cp(p);
  if (m->moe_experts && ep > 1 && etp != 1)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: with expert_parallel_degree %u the experts are not "
                            "tensor-parallel (its expert mesh is pp, dp_replicate, efsdp, ep), "
                            "but the plan has etp %u; estimate the plan with --etp 1, or export "
                            "--to megatron",
                            ep, etp);
  if (m->moe_experts && ep == 1 && etp != p->tp)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: without expert parallelism the experts are split as "
                            "the dense layers (tp %u), but the plan has etp %u; export --to "
                            "megatron",
                            p->tp, etp);
  if (m->moe_experts && ep > 1 && (l->shard * cp * p->tp) % ep)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: expert parallelism borrows the ranks of dp_shard * cp * "
                            "tp (ParallelDims), and with %s (data_parallel_shard_degree %u) ep %u "
                            "does not divide dp_shard * cp * tp = %u; estimate the plan with "
                            "ZeRO 1-3 (FSDP), or export --to megatron",
                            p->zero_stage == 0 && !tt_native(p) ? "ZeRO 0" : "this sharding",
                            l->shard, ep, l->shard * cp * p->tp);
  if (m->mtp_layers && strcmp(f->family, "deepseek_v3") != 0)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: only deepseek_v3 has multi-token prediction, and the "
                            "plan's model has %llu MTP layers; export --to megatron",
                            (unsigned long long)m->mtp_layers);
  if (m->mtp_layers && (p->pp > 1 || cp > 1))
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: MTP does not support %s parallelism yet "
                            "(MTPDecoder.Config.update_from_config); estimate the plan with "
                            "--pp 1 --cp 1, or export --to megatron",
                            p->pp > 1 ? "pipeline" : "context");
  if (p->recompute_modules && p->recompute_modules != P3CFG_RECOMPUTE_MODULE_CORE_ATTN)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: its selective activation checkpointing is per op "
                            "(SelectiveAC), with no Megatron-LM recompute_modules, and the plan "
                            "recomputes non-default modules; estimate the plan without "
                            "--recompute-modules, or export --to megatron");
  if (strcmp(m->precision, "nvfp4") == 0)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: this export writes no NVFP4LinearConverter (its layer "
                            "selection is per model); export the plan at --precision bf16 or "
                            "fp8, or --to megatron");
  return P3CFG_OK;
}

static tt_layout layout_of(const p3cfg_plan *p, const p3cfg_plan_model *m)
{
  tt_layout l = {0};
  if (tt_native(p)) {
    l.shard = tt_dp_shard(p);
    l.replicate = p->dp / l.shard;
    l.reshard = "default";
  } else {
    l.shard = p->zero_stage ? p->dp : 1;
    l.replicate = p->zero_stage ? 1 : p->dp;
    l.reshard = p->zero_stage == 3 ? "always" : p->zero_stage ? "never" : "default";
  }
  l.async_tp = p->tp > 1 && (p->overlap & P3CFG_OVERLAP_TP_COMM);
  l.mtp = m->mtp_layers > 0;
  if (strcmp(m->precision, "fp8") == 0)
    l.converter = "Float8LinearConverter";
  else if (strcmp(m->precision, "mxfp8") == 0)
    l.converter = "MXFP8LinearConverter";
  l.compile = tt_compile(p) || l.async_tp || (l.converter && l.converter[0] == 'M');
  return l;
}

/* What a plan scored for another framework does not keep when torchtitan runs it. */
static void not_carried(p3cfg__text *t, const p3cfg_plan *p, const p3cfg_plan_model *m,
                        const tt_layout *l)
{
  if (tt_native(p))
    return;
  p3cfg__text_printf(t, "#\n# The plan was estimated for %s; torchtitan runs it differently "
                        "(its time and memory\n# are %s's):\n",
                     tt_framework_name(p), tt_framework_name(p));
  if (p->zero_stage == 0)
    p3cfg__text_printf(t, "#   - ZeRO 0 -> DDP (data_parallel_replicate_degree %u).\n", p->dp);
  else if (p->zero_stage < 3)
    p3cfg__text_printf(t, "#   - ZeRO %u (distributed optimizer) -> FSDP2 over dp %u with "
                          "fsdp_reshard_after_forward \"never\":\n#     torchtitan has no "
                          "optimizer-only sharding; parameters are all-gathered each step.\n",
                       p->zero_stage, p->dp);
  else
    p3cfg__text_printf(t, "#   - ZeRO 3 -> FSDP2 over dp %u, resharding after every "
                          "forward.\n", p->dp);
  if (p->recompute == P3CFG_RECOMPUTE_SELECTIVE)
    p3cfg__text_printf(t, "#   - selective recompute -> SelectiveAC (per op: saves matmul "
                          "outputs but every second one);\n#     Megatron's recomputes the "
                          "attention core only.\n");
  if (p->pp > 1 && p->virtual_stages > 1)
    p3cfg__text_printf(t, "#   - interleaved schedule -> torch.distributed.pipelining's "
                          "Interleaved1F1B (its own warm-up order).\n");
  if (p->overlap & (P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER))
    p3cfg__text_printf(t, "#   - --overlap grad/param: FSDP2 prefetches and reduce-scatters "
                          "on its own; there is no flag.\n");
  if (l->async_tp)
    p3cfg__text_printf(t, "#   - --overlap tp -> async TP, which needs torch.compile of the "
                          "model (compile.enable).\n");
  if (p->overlap & P3CFG_OVERLAP_EP_COMM)
    p3cfg__text_printf(t, "#   - expert all-to-all overlap: torchtitan has no setting; they "
                          "run exposed.\n");
  if (p3cfg__plan_cp(p) > 1 && p->zero_stage == 0)
    p3cfg__text_printf(t, "#   - cp > 1: torchtitan shards the parameters over cp with FSDP "
                          "even under DDP.\n");
  if (strcmp(m->precision, "fp16") == 0)
    p3cfg__text_printf(t, "#   - fp16: torchtitan trains in bfloat16 or float32; bfloat16 "
                          "(same sizes).\n");
  p3cfg__text_printf(t, "#   - Transformer Engine, fused kernels and gradient-accumulation "
                        "fusion are Megatron's.\n");
}

static void stage_modules(p3cfg__text *t, const p3cfg_plan *p)
{
  const uint32_t v = p->virtual_stages ? p->virtual_stages : 1;
  uint64_t at = 0;
  p3cfg__text_printf(t, "        module_fqns_per_model_part=[\n");
  for (uint32_t k = 0; k < v; k++)
    for (uint32_t j = 0; j < p->pp; j++) {
      const uint64_t n = p3cfg__chunk_layers(p, j, k); /* the plan's chunks, as they are */
      p3cfg__text_printf(t, "            [%s", k == 0 && j == 0 ? "\"tok_embeddings\", " : "");
      p3cfg__text_printf(t, "*layers(%llu, %llu)", (unsigned long long)at,
                         (unsigned long long)(at + n));
      at += n;
      p3cfg__text_printf(t, "%s],  # virtual stage %u on pipeline rank %u\n",
                         k == v - 1 && j == p->pp - 1 ? ", \"norm\", \"lm_head\"" : "",
                         k * p->pp + j, j);
    }
  p3cfg__text_printf(t, "        ],\n");
}

static void header(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number,
                   const p3cfg__tt_flavor *f, const tt_layout *l)
{
  const p3cfg_plan *p = &rec->plan;
  const uint64_t gpus = (uint64_t)p->dp * p->tp * p3cfg__plan_cp(p) * p->pp;
  const uint32_t per_node = rec->cluster.gpus_per_node ? rec->cluster.gpus_per_node : 8;
  const uint64_t nodes = (gpus + per_node - 1) / per_node;
  p3cfg__text_printf(t, "# torchtitan config module for ");
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s for torchtitan %s (github.com/pytorch/"
                        "torchtitan): save it as\n# p3cfg_plan.py in DIR and launch on each "
                        "of the %llu nodes\n",
                     p3cfg_version_string(), P3CFG_TORCHTITAN_COMMIT,
                     (unsigned long long)nodes);
  p3cfg__text_printf(t, "#   PYTHONPATH=DIR torchrun --nnodes %llu --nproc-per-node %llu "
                        "--node-rank K ... \\\n#       -m torchtitan.train --module p3cfg_plan "
                        "--config p3cfg_plan\n",
                     (unsigned long long)nodes,
                     (unsigned long long)(gpus < per_node ? gpus : per_node));
  p3cfg__text_printf(t, "# (or MODULE=p3cfg_plan CONFIG=p3cfg_plan NGPU=%llu ./run_train.sh "
                        "on one node).\n#\n",
                     (unsigned long long)(gpus < per_node ? gpus : per_node));
  p3cfg__text_printf(t, "# Model: torchtitan %s flavor \"%s\" (config_registry.%s%s):\n#   ",
                     f->family, f->flavor, f->base_fn,
                     l->mtp || l->converter || f->borrowed ? ", model_spec rebuilt below" : "");
  p3cfg__tt_flavor_dims(t, f);
  p3cfg__text_printf(t, "%s\n# = the dims of the plan's model %s. Tokenizer (hf_assets_path), data, "
                        "optimizer and steps\n# are the registry's: change them here or with "
                        "--training.steps etc.\n",
                     l->mtp ? ", 1 MTP layer" : "", rec->model.name);
  p3cfg__text_printf(t, "# Rank order: torchtitan's mesh [pp, dp_replicate, dp_shard, cp, tp] "
                        "(tp fastest) is the plan's;\n# start rank r on the GPU the plan "
                        "gives it (p3cfg export --to hostfile).\n");
  if (p3cfg__plan_ep(p) > 1)
    p3cfg__text_printf(t, "# Experts: torchtitan's expert mesh [pp, dp_replicate, efsdp, ep], "
                          "ep fastest, is the plan's (etp 1).\n");
  if (p->pp > 1 || p3cfg__plan_ep(p) > 1)
    p3cfg__text_printf(t, "# CUDA graphs are off (training.disable_cuda_graphs): torchtitan "
                          "captures none with %s.\n",
                       p->pp > 1 ? "pipelining" : "the all-to-all expert dispatcher");
  not_carried(t, p, &rec->model, l);
  /* The loss kernels of Megatron (cross_entropy_cost.h) are not torchtitan's: its loss is
   * torch.nn.functional.cross_entropy on the fp32 logits, as estimated. */
  if (rec->model.cross_entropy && strcmp(rec->model.cross_entropy, "unfused") != 0)
    p3cfg__text_printf(t, "#\n# The model's cross_entropy %s is a Megatron kernel: torchtitan's "
                          "loss is torch's cross_entropy\n# on fp32 logits, which the plan was "
                          "estimated with.\n",
                       rec->model.cross_entropy);
  /* Megatron-LM's --grad-reduce-in-bf16 has no torchtitan counterpart (grad_reduce.h). */
  if (rec->model.grad_reduce && strcmp(rec->model.grad_reduce, "bf16") == 0)
    p3cfg__text_printf(t, "#\n# The model's grad_reduce bf16 is Megatron-LM's: torchtitan "
                          "reduces gradients in float32 only\n# "
                          "(training.mixed_precision_reduce is Literal[\"float32\"] at %s)%s.\n",
                       P3CFG_TORCHTITAN_COMMIT,
                       tt_native(p) ? ", as this plan was estimated"
                                    : ": twice the gradient bytes\n# the plan was estimated "
                                      "with");
  /* torchtitan's Float8LinearConverter at the pinned commit scales row-wise only
   * (Config.recipe_name: Literal["rowwise", "rowwise_with_gw_hp"],
   * torchtitan/components/quantization/float8.py) and has no quantized weight all-gather;
   * the plan's fp8 is per-tensor (docs/formats.md "Precision"). */
  if (!strcmp(rec->model.precision, "fp8"))
    p3cfg__text_printf(t, "#\n# The plan's fp8 scales per tensor (%s scaling); torchtitan's "
                          "Float8LinearConverter at %s\n# scales per row (recipe_name "
                          "\"rowwise\", its only family), with its own GEMMs and casts.\n",
                       rec->model.fp8_recipe ? rec->model.fp8_recipe : "delayed",
                       P3CFG_TORCHTITAN_COMMIT);
  if (rec->model.fp8_param_gather)
    p3cfg__text_printf(t, "#\n# The model's fp8_param_gather (quantized weights, gathered "
                          "quantized) has no torchtitan\n# key at %s: FSDP2 gathers the "
                          "bf16 weights, twice the bytes the plan was estimated with.\n",
                       P3CFG_TORCHTITAN_COMMIT);
}

int p3cfg__export_torchtitan(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_model *m = &rec->model;
  const p3cfg__tt_flavor *f = p3cfg__tt_flavor_of(m);
  if (!f)
    return P3CFG_EUNSUPPORTED;
  const tt_layout l = layout_of(p, m);
  const int rc = expressible(p, m, &l, f);
  if (rc)
    return rc;
  const uint32_t cp = p3cfg__plan_cp(p), ep = p3cfg__plan_ep(p);
  const uint64_t micro = p3cfg__export_microbatches(p), seq = m->seq_len;
  const int rebuild = l.mtp || l.converter || f->borrowed;

  header(t, rec, number, f, &l);
  p3cfg__text_printf(t, "import dataclasses\n\n");
  if (l.converter)
    p3cfg__text_printf(t, "from torchtitan.components.quantization import %s\n", l.converter);
  if (p->recompute != P3CFG_RECOMPUTE_NONE)
    p3cfg__text_printf(t, "from torchtitan.distributed.activation_checkpoint import %s\n",
                       p->recompute == P3CFG_RECOMPUTE_FULL ? "FullAC" : "SelectiveAC");
  if (l.mtp)
    p3cfg__text_printf(t, "from torchtitan.models.common.config_utils import "
                          "decoder_vocab_size\n");
  if (rebuild)
    p3cfg__text_printf(t, "from torchtitan.models.%s import model_registry\n", f->family);
  p3cfg__text_printf(t, "from torchtitan.models.%s.config_registry import %s\n", f->family,
                     f->base_fn);
  if (l.mtp)
    p3cfg__text_printf(t, "from torchtitan.models.deepseek_v3.mtp import MTPLoss\n");
  p3cfg__text_printf(t, "from torchtitan.trainer import Trainer\n\n\n");
  if (p->pp > 1)
    p3cfg__text_printf(t, "def layers(first: int, end: int) -> list[str]:\n"
                          "    return [f\"layers.{i}\" for i in range(first, end)]\n\n\n");

  p3cfg__text_printf(t, "def p3cfg_plan() -> Trainer.Config:\n");
  p3cfg__text_printf(t, "    config = %s()\n", f->base_fn);
  if (rebuild) {
    p3cfg__text_printf(t, "    model_spec = model_registry(\n        \"%s\",\n", f->flavor);
    if (l.converter)
      p3cfg__text_printf(t, "        converters=[%s.Config(%smodel_compile_enabled=%s)],\n",
                         l.converter, l.converter[0] == 'F' ? "filter_fqns=[\"lm_head\"], " : "",
                         l.compile ? "True" : "False");
    if (l.mtp)
      p3cfg__text_printf(t, "        num_mtp_layers=%llu,\n", (unsigned long long)m->mtp_layers);
    p3cfg__text_printf(t, "    )\n");
  }
  p3cfg__text_printf(t, "    training = dataclasses.replace(\n        config.training,\n");
  p3cfg__text_printf(t, "        num_tokens_per_microbatch_per_dp_rank=%u * %llu,  # micro-batch "
                        "x seq_len\n",
                     p->micro_batch, (unsigned long long)seq);
  p3cfg__text_printf(t, "        num_tokens_per_train_step=%llu * %llu,  # global batch x "
                        "seq_len\n",
                     (unsigned long long)p->global_batch, (unsigned long long)seq);
  p3cfg__text_printf(t, "        max_context_length=%llu,\n", (unsigned long long)seq);
  p3cfg__text_printf(t, "        mixed_precision_param=\"%s\",\n",
                     strcmp(m->precision, "fp32") == 0 ? "float32" : "bfloat16");
  if (p->pp > 1 || ep > 1)
    p3cfg__text_printf(t, "        disable_cuda_graphs=True,\n");
  p3cfg__text_printf(t, "    )\n");

  p3cfg__text_printf(t, "    parallelism = dataclasses.replace(\n        config.parallelism,\n");
  p3cfg__text_printf(t, "        data_parallel_replicate_degree=%u,\n", l.replicate);
  p3cfg__text_printf(t, "        data_parallel_shard_degree=%u,\n", l.shard);
  p3cfg__text_printf(t, "        fsdp_reshard_after_forward=\"%s\",\n", l.reshard);
  p3cfg__text_printf(t, "        tensor_parallel_degree=%u,\n", p->tp);
  p3cfg__text_printf(t, "        enable_sequence_parallel=%s,\n",
                     p->tp > 1 && !p->sequence_parallel ? "False" : "True");
  p3cfg__text_printf(t, "        context_parallel_degree=%u,\n", cp);
  p3cfg__text_printf(t, "        expert_parallel_degree=%u,\n", ep);
  p3cfg__text_printf(t, "        pipeline_parallel_degree=%u,\n", p->pp);
  p3cfg__text_printf(t, "        pipeline_parallel_schedule=\"%s\",\n",
                     p->pp > 1 && p->virtual_stages > 1 ? "Interleaved1F1B" : "1F1B");
  p3cfg__text_printf(t, "        pipeline_parallel_layers_per_stage=None,\n");
  if (p->pp > 1) {
    p3cfg__text_printf(t, "        num_pp_microbatches=%llu,  # global / (dp x micro-batch)\n",
                       (unsigned long long)micro);
    stage_modules(t, p);
  } else {
    p3cfg__text_printf(t, "        num_pp_microbatches=1,\n");
    p3cfg__text_printf(t, "        module_fqns_per_model_part=None,\n");
  }
  p3cfg__text_printf(t, "    )\n");

  p3cfg__text_printf(t, "    compile = dataclasses.replace(\n        config.compile,\n");
  p3cfg__text_printf(t, "        enable=%s,\n", l.compile ? "True" : "False");
  if (l.compile)
    p3cfg__text_printf(t, "        components=[\"model\", \"loss\"],\n");
  p3cfg__text_printf(t, "        enable_async_tensor_parallel=%s,\n", l.async_tp ? "True" : "False");
  p3cfg__text_printf(t, "    )\n");

  p3cfg__text_printf(t, "    return dataclasses.replace(\n        config,\n");
  if (rebuild)
    p3cfg__text_printf(t, "        model_spec=model_spec,\n");
  if (l.mtp)
    p3cfg__text_printf(t, "        loss=MTPLoss.Config(global_vocab_size=decoder_vocab_size("
                          "model_spec)),\n");
  p3cfg__text_printf(t, "        training=training,\n        parallelism=parallelism,\n");
  p3cfg__text_printf(t, "        activation_checkpoint=%s,\n",
                     p->recompute == P3CFG_RECOMPUTE_FULL        ? "FullAC.Config()"
                     : p->recompute == P3CFG_RECOMPUTE_SELECTIVE ? "SelectiveAC.Config()"
                                                                 : "None");
  p3cfg__text_printf(t, "        compile=compile,\n");
  /* The model's deterministic: torchtitan's debug.deterministic (distributed/utils.py
   * set_determinism: torch.use_deterministic_algorithms, cuDNN and cuBLAS settings). */
  if (rec->model.deterministic)
    p3cfg__text_printf(t, "        debug=dataclasses.replace(config.debug, deterministic=True),\n");
  p3cfg__text_printf(t, "    )\n");
  return P3CFG_OK;
}
