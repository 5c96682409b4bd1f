/*
 * export_deepspeed.c — a plan as a DeepSpeed config (JSON: ds_config.json): the batch
 * triple DeepSpeed checks (train_batch_size = micro-batch x gradient accumulation x
 * data-parallel size, where DeepSpeed's data-parallel size is world / (tp x pp)), the ZeRO
 * stage with overlap of its communication when the plan overlaps, the precision, and
 * tensor_parallel.autotp_size = tp where tp > 1 (DeepSpeed's AutoTP training). With
 * Megatron-DeepSpeed the tensor and pipeline degrees belong to the model code (Megatron-DeepSpeed's
 * --tensor-model-parallel-size / --pipeline-model-parallel-size, or PipelineModule's
 * num_stages), which JSON cannot carry: docs/exports.md says so.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "export.h"
#include "plan_dims.h"
#include "plan_json.h"

static int build(cJSON *root, const p3cfg__plan_record *rec)
{
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_model *m = &rec->model;
  if (!p3cfg__json_add_u64(root, "train_batch_size", p->global_batch) ||
      !p3cfg__json_add_u64(root, "train_micro_batch_size_per_gpu", p->micro_batch) ||
      !p3cfg__json_add_u64(root, "gradient_accumulation_steps", p3cfg__export_microbatches(p)))
    return -1;
  cJSON *zero = cJSON_AddObjectToObject(root, "zero_optimization");
  const int overlap = (p->overlap & (P3CFG_OVERLAP_GRAD_REDUCE | P3CFG_OVERLAP_PARAM_GATHER)) != 0;
  if (!zero || !p3cfg__json_add_u64(zero, "stage", p->zero_stage) ||
      !cJSON_AddBoolToObject(zero, "overlap_comm", overlap) ||
      !cJSON_AddBoolToObject(zero, "contiguous_gradients", 1))
    return -1;
  /* DeepSpeed's automatic tensor parallelism for training (TPTrainingConfig.autotp_size,
   * deepspeed/runtime/tensor_parallel/config.py at v0.19.5; 0 = off). */
  cJSON *tensor = p->tp > 1 ? cJSON_AddObjectToObject(root, "tensor_parallel") : NULL;
  if (p->tp > 1 && (!tensor || !p3cfg__json_add_u64(tensor, "autotp_size", p->tp)))
    return -1;
  /* The model's grad_reduce (Megatron-LM's --grad-reduce-in-bf16) needs no key: with bf16
   * DeepSpeed accumulates and reduces 16-bit gradients by default (engine.py at edaa722:
   * grad_accum_dtype = the model dtype, communication_data_type bf16). */
  cJSON *bf16 = cJSON_AddObjectToObject(root, "bf16");
  cJSON *fp16 = cJSON_AddObjectToObject(root, "fp16");
  if (!bf16 || !fp16 || !cJSON_AddBoolToObject(bf16, "enabled", /* bf16 (low precision: refused) */
                             strcmp(m->precision, "fp16") != 0 && strcmp(m->precision, "fp32") != 0) ||
      !cJSON_AddBoolToObject(fp16, "enabled", strcmp(m->precision, "fp16") == 0))
    return -1;
  return 0;
}

int p3cfg__export_deepspeed(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  (void)number; /* JSON has no comments: the title is not written */
  const p3cfg_plan *p = &rec->plan;
  /* ds_config has no context-parallel key (DeepSpeed's Ulysses sequence parallelism is
   * another scheme, set up in the model code), and DeepSpeed-MoE's ep_size is an argument
   * of the model's MoE layer, not of the config. */
  if (p3cfg__plan_cp(p) > 1)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "deepspeed: a ds_config has no key for context parallelism (cp %u; "
                            "DeepSpeed's Ulysses sequence parallelism is another scheme, set up "
                            "in the model code); export --to megatron or torchtitan",
                            p3cfg__plan_cp(p));
  if (p3cfg__plan_ep(p) > 1)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "deepspeed: a ds_config has no key for expert parallelism (ep %u; "
                            "DeepSpeed-MoE takes ep_size as an argument of the model's MoE "
                            "layer); export --to megatron or torchtitan",
                            p3cfg__plan_ep(p));
  if (p->recompute_modules && p->recompute_modules != P3CFG_RECOMPUTE_MODULE_CORE_ATTN)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "deepspeed: a ds_config has no key for Megatron-LM's "
                            "recompute_modules (its activation checkpointing is the model's); "
                            "export --to megatron");
  /* DeepSpeed's config trains in bf16 or fp16 (its bf16 / fp16 sections; FP8 GEMMs are
   * Transformer Engine modules in the model code): a low-precision plan, priced with FP8 or
   * FP4 GEMMs, would launch in bf16. */
  const char *prec = rec->model.precision;
  if (prec && (!strcmp(prec, "fp8") || !strcmp(prec, "mxfp8") || !strcmp(prec, "nvfp4")))
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "deepspeed: a ds_config has no key for %s GEMMs (DeepSpeed trains "
                            "in bf16 or fp16; the plan was priced in %s); export --to megatron",
                            prec, prec);
  cJSON *root = cJSON_CreateObject();
  if (!root || build(root, rec)) {
    cJSON_Delete(root);
    return p3cfg__error_nomem();
  }
  p3cfg_buffer buf = {NULL, 0};
  const int rc = p3cfg__json_to_buffer(&buf, root);
  cJSON_Delete(root);
  if (rc)
    return rc;
  p3cfg__text_printf(t, "%s", buf.data);
  p3cfg_buffer_dispose(&buf);
  return P3CFG_OK;
}
