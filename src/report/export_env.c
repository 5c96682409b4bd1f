/*
 * export_env.c — the environment a launch of a plan needs, written once for every
 * launch export (sbatch, launch; the rankfile's and hostfile's comments point here):
 *
 * - CUDA_DEVICE_MAX_CONNECTIONS: Megatron-LM's validate_args() (arguments.py at
 *   d98e8a64) asserts it is 1 when tp > 1 or cp > 1 on GPUs before Blackwell, and that
 *   it is not 1 with --use-torch-fsdp2 (ZeRO 3) or --use-megatron-fsdp (ZeRO 2): the
 *   first plans get `export ...=1`, the FSDP ones `unset`. A plan overlapping the expert all-to-all
 *   (--overlap-moe-expert-parallel-comm) would like more than one connection, where
 *   Megatron only warns: it keeps the 1 validate_args asserts, with a comment. torchtitan
 *   and DeepSpeed plans do not need it. The Megatron-LM arguments file sets the same.
 * - NCCL_SOCKET_IFNAME, NCCL_IB_HCA: from the cluster file's `host` where it names them
 *   (docs/formats.md); nothing is guessed when it does not.
 */
#include "export.h"
#include "plan_dims.h"

int p3cfg__export_framework(const p3cfg__plan_record *rec)
{
  return (int)rec->plan.framework; /* a p3cfg_framework */
}

void p3cfg__export_env(p3cfg__text *t, const p3cfg__plan_record *rec, int framework)
{
  const p3cfg_plan *p = &rec->plan;
  const p3cfg_plan_cluster *c = &rec->cluster;
  p3cfg__text_printf(t, "# The environment of the launch.\n");
  if (framework == P3CFG_FRAMEWORK_MEGATRON) {
    const int model_parallel = p->tp > 1 || p3cfg__plan_cp(p) > 1;
    if (p->zero_stage == 3)
      p3cfg__text_printf(t, "unset CUDA_DEVICE_MAX_CONNECTIONS  # Megatron-LM: FSDP2 "
                            "(--use-torch-fsdp2) requires it unset or > 1\n");
    else if (p->zero_stage == 2)
      p3cfg__text_printf(t, "unset CUDA_DEVICE_MAX_CONNECTIONS  # Megatron-LM: Megatron-FSDP "
                            "(--use-megatron-fsdp) requires it unset or > 1\n");
    else if (model_parallel)
      p3cfg__text_printf(t, "export CUDA_DEVICE_MAX_CONNECTIONS=1  # Megatron-LM: tp > 1 or cp "
                            "> 1 (validate_args; harmless on Blackwell)%s\n",
                         p->overlap & P3CFG_OVERLAP_EP_COMM
                             ? "\n# (the expert all-to-all overlap would like more "
                               "connections; Megatron-LM only warns)"
                             : "");
  }
  /* Megatron-LM's --deterministic-mode fills these in when they are unset and refuses
   * other values (megatron/training/determinism.py, DETERMINISM_ENV_VAR_DEFAULTS);
   * releases before it raised unless NVTE_ALLOW_NONDETERMINISTIC_ALGO=0 was exported
   * (core/extensions/transformer_engine.py). torchtitan's debug.deterministic sets its own. */
  if (framework == P3CFG_FRAMEWORK_MEGATRON && rec->model.deterministic)
    p3cfg__text_printf(t, "export NVTE_ALLOW_NONDETERMINISTIC_ALGO=0  # --deterministic-mode: "
                          "Transformer Engine's deterministic kernels\n"
                          "export NCCL_ALGO=Ring  # --deterministic-mode: a fixed reduction "
                          "order\n"
                          "export CUBLAS_WORKSPACE_CONFIG=:4096:8  # --deterministic-mode: "
                          "deterministic cuBLAS\n");
  if (c->nccl_socket_ifname)
    p3cfg__text_printf(t, "export NCCL_SOCKET_IFNAME=%s  # the cluster file's host\n",
                       c->nccl_socket_ifname);
  if (c->nccl_ib_hca)
    p3cfg__text_printf(t, "export NCCL_IB_HCA=%s  # the cluster file's host\n", c->nccl_ib_hca);
}
