/*
 * export_torchtitan.c — a plan as a torchtitan job-config TOML fragment (the sections
 * and keys of torchtitan/config/job_config.py: [training], [parallelism],
 * [activation_checkpoint]) to merge into a train config whose model flavor, tokenizer,
 * optimizer and schedule are the user's.
 *
 * Mapping (docs/exports.md): torchtitan's data parallelism is replicate (DDP) x shard
 * (FSDP2). ZeRO 0 is pure replication; ZeRO 1 and 2 are FSDP2 that keeps parameters
 * gathered between forward and backward (reshard "never": optimizer state and gradients
 * sharded, the closest torchtitan has, as it has no optimizer-only sharding); ZeRO 3
 * reshards after every forward. With pipelining, local_batch_size is a DP rank's whole
 * share of the step, cut into micro-batches of pipeline_parallel_microbatch_size; without
 * it, local_batch_size is the micro-batch and torchtitan accumulates gradients up to
 * global_batch_size. Virtual stage k*pp + j (on rank j) starts at the split point after
 * the layers of the virtual stages before it.
 */
#include <string.h>

#include "error.h"
#include "export.h"

static void split_points(p3cfg__text *t, const p3cfg_plan *p)
{
  const uint32_t v = p->virtual_stages;
  uint64_t at = 0;
  p3cfg__text_printf(t, "pipeline_parallel_split_points = [");
  for (uint32_t k = 0; k < v; k++)
    for (uint32_t j = 0; j < p->pp; j++) {
      if (k || j)
        p3cfg__text_printf(t, "%s\"layers.%llu\"", k || j > 1 ? ", " : "",
                           (unsigned long long)at);
      at += p->stage_layers[j] / v;
    }
  p3cfg__text_printf(t, "]\n");
}

int p3cfg__export_torchtitan(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_model *m = &rec->model;
  const uint64_t local = p->pp > 1 ? p->global_batch / p->dp : p->micro_batch;

  p3cfg__text_printf(t, "# torchtitan job config for ");
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s. Merge it into a train config (model "
                        "flavor, tokenizer, optimizer, steps).\n",
                     p3cfg_version_string());
  p3cfg__text_printf(t, "# Rank order: torchtitan builds its device mesh [pp, dp_replicate, "
                        "dp_shard, tp], tp fastest,\n# as the plan's placement assumes: start "
                        "rank r on the GPU the plan gives it (p3cfg export --to hostfile).\n");
  if (p->tp > 1 && !p->sequence_parallel)
    p3cfg__text_printf(t, "# torchtitan's tensor parallelism always shards norms and dropout "
                          "over the sequence;\n# this plan was estimated without sequence "
                          "parallelism (it needs less memory with it).\n");
  if (strcmp(m->precision, "fp16") == 0)
    p3cfg__text_printf(t, "# fp16: torchtitan trains in bfloat16 or float32; the plan was "
                          "estimated for fp16 (same sizes as bfloat16).\n");

  p3cfg__text_printf(t, "\n[training]\n");
  p3cfg__text_printf(t, "local_batch_size = %llu\n", (unsigned long long)local);
  p3cfg__text_printf(t, "global_batch_size = %llu\n", (unsigned long long)p->global_batch);
  p3cfg__text_printf(t, "seq_len = %llu\n", (unsigned long long)m->seq_len);
  p3cfg__text_printf(t, "mixed_precision_param = \"%s\"\n",
                     strcmp(m->precision, "fp32") == 0 ? "float32" : "bfloat16");

  p3cfg__text_printf(t, "\n[parallelism]\n");
  const int shard = p->zero_stage > 0;
  p3cfg__text_printf(t, "data_parallel_replicate_degree = %u\n", shard ? 1u : p->dp);
  p3cfg__text_printf(t, "data_parallel_shard_degree = %u\n", shard ? p->dp : 1u);
  if (shard)
    p3cfg__text_printf(t, "fsdp_reshard_after_forward = \"%s\"\n",
                       p->zero_stage == 3 ? "always" : "never");
  p3cfg__text_printf(t, "tensor_parallel_degree = %u\n", p->tp);
  if (p->overlap & P3CFG_OVERLAP_TP_COMM)
    p3cfg__text_printf(t, "enable_async_tensor_parallel = true # needs training.compile\n");
  p3cfg__text_printf(t, "pipeline_parallel_degree = %u\n", p->pp);
  p3cfg__text_printf(t, "pipeline_parallel_schedule = \"%s\"\n",
                     p->virtual_stages > 1 ? "Interleaved1F1B" : "1F1B");
  if (p->pp > 1) {
    p3cfg__text_printf(t, "pipeline_parallel_microbatch_size = %u\n", p->micro_batch);
    split_points(t, p);
  }

  p3cfg__text_printf(t, "\n[activation_checkpoint]\n");
  p3cfg__text_printf(t, "mode = \"%s\"\n", p3cfg_recompute_name(p->recompute));
  if (p->recompute == P3CFG_RECOMPUTE_SELECTIVE)
    p3cfg__text_printf(t, "selective_ac_option = \"op\" # per-op: attention recomputed, "
                          "matmul outputs kept\n");
  return P3CFG_OK;
}
