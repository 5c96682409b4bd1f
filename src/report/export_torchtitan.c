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
 *
 * Context and expert parallelism: context_parallel_degree and expert_parallel_degree of
 * [parallelism] (ParallelismConfig in torchtitan/config/configs.py at torchtitan
 * b5bcd76c, the names tests/export/check_exports.py vendors). torchtitan's expert mesh is
 * [pp, dp_replicate, efsdp, ep] with efsdp = dp_shard * cp * tp / ep: expert parallelism
 * borrows the ranks of FSDP, CP and TP, and the experts are not tensor-parallel, so a plan
 * with ep > 1 needs etp 1 (with ep 1 they follow tp), and under DDP (dp_shard 1) ep must
 * divide cp * tp. Other plans are refused with the reason.
 */
#include <string.h>

#include "error.h"
#include "export.h"
#include "plan_dims.h"

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

/* Whether torchtitan's expert mesh can hold the plan's experts; sets the error when not. */
static int experts_expressible(const p3cfg_plan *p, const p3cfg_plan_model *m)
{
  const uint32_t ep = p3cfg__plan_ep(p), etp = p3cfg__plan_etp(p), cp = p3cfg__plan_cp(p);
  if (!m->moe_experts)
    return P3CFG_OK;
  if (ep > 1 && etp != 1)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: with expert_parallel_degree %u the experts are not "
                            "tensor-parallel (its expert mesh is pp, dp_replicate, efsdp, ep), "
                            "but the plan has etp %u; estimate the plan with --etp 1, or export "
                            "--to megatron",
                            ep, etp);
  if (ep == 1 && etp != p->tp)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: without expert parallelism the experts are split as "
                            "the dense layers (tp %u), but the plan has etp %u; export --to "
                            "megatron",
                            p->tp, etp);
  if (ep > 1 && p->zero_stage == 0 && (cp * p->tp) % ep)
    return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "torchtitan: expert parallelism borrows the ranks of dp_shard * cp * "
                            "tp, and with ZeRO 0 (data_parallel_shard_degree 1) ep %u does not "
                            "divide cp * tp = %u; estimate the plan with ZeRO 1-3 (FSDP), or "
                            "export --to megatron",
                            ep, cp * p->tp);
  return P3CFG_OK;
}

int p3cfg__export_torchtitan(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_model *m = &rec->model;
  const int rc = experts_expressible(p, m);
  if (rc)
    return rc;
  const uint64_t local = p->pp > 1 ? p->global_batch / p->dp : p->micro_batch;

  p3cfg__text_printf(t, "# torchtitan job config for ");
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s. Merge it into a train config (model "
                        "flavor, tokenizer, optimizer, steps).\n",
                     p3cfg_version_string());
  p3cfg__text_printf(t, "# Rank order: torchtitan builds its device mesh [pp, dp_replicate, "
                        "dp_shard, %stp], tp fastest,\n# as the plan's placement assumes: start "
                        "rank r on the GPU the plan gives it (p3cfg export --to hostfile).\n",
                     p3cfg__plan_cp(p) > 1 ? "cp, " : "");
  if (p3cfg__plan_ep(p) > 1)
    p3cfg__text_printf(t, "# Experts: torchtitan's expert mesh [pp, dp_replicate, efsdp, ep], "
                          "ep fastest, is the plan's\n# (etp 1).\n");
  if (p3cfg__plan_cp(p) > 1 && p->zero_stage == 0)
    p3cfg__text_printf(t, "# Context parallelism: torchtitan shards the parameters over cp with "
                          "FSDP even at\n# data_parallel_shard_degree 1; the plan (ZeRO 0) "
                          "holds them whole (it needs less memory so).\n");
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
  if (p3cfg__plan_cp(p) > 1)
    p3cfg__text_printf(t, "context_parallel_degree = %u\n", p3cfg__plan_cp(p));
  if (p3cfg__plan_ep(p) > 1)
    p3cfg__text_printf(t, "expert_parallel_degree = %u\n", p3cfg__plan_ep(p));
  if (p->overlap & P3CFG_OVERLAP_EP_COMM) /* ParallelismConfig at b5bcd76c has no such key */
    p3cfg__text_printf(t, "# the plan overlaps the expert-parallel all-to-alls (Megatron-Core's "
                          "--overlap-moe-expert-parallel-comm): torchtitan has no setting for "
                          "it, so they run exposed and the step is slower than p3cfg's "
                          "time\n");
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
