/*
 * export_sbatch.c — a plan as a launch: one torchrun per node, on the GPUs the placement
 * gives it, for the plan's framework (docs/exports.md, "sbatch" and "launch").
 *
 * sbatch: a Slurm batch script. #SBATCH asks for the plan's nodes by name (--nodelist,
 * in placement order), one task per node and every GPU of each node (--exclusive), so
 * that the placement's local GPU numbers are the node's; the script then starts one
 * `srun` step per node, pinned to it, whose torchrun gets the node's CUDA_VISIBLE_DEVICES
 * (set by `env` inside the step, after Slurm's own) and --node-rank, and waits for all.
 * Slurm numbers the nodes of a job in its own order, not --nodelist's, so the node rank
 * is written per node rather than taken from SLURM_NODEID.
 *
 * launch: the same lines without Slurm, as a bash script run on each host with the
 * host's name (`bash launch.sh HOST ...`), which execs that host's line.
 *
 * Both need torchrun's numbering (every host one block of N consecutive ranks: the
 * hostfile's rule, p3cfg__export_host_blocks) and write the environment of
 * export_env.c. Arguments after the script's own go to the training program.
 */
#include <string.h>

#include "error.h"
#include "export.h"

/* The training program after torchrun's options, per framework. */
static const struct {
  const char *setup;   /* lines before the launch, or "" */
  const char *program; /* torchrun's training_script and its arguments */
} programs[] = {
    [P3CFG_FRAMEWORK_MEGATRON] =
        {"# Megatron-LM's arguments: `p3cfg export --to megatron` (docs/exports.md).\n"
         "source \"${MEGATRON_ARGS_FILE:-megatron_args.sh}\"\n",
         "\"${MEGATRON_LM:-.}/pretrain_gpt.py\" \"${MEGATRON_ARGS[@]}\" \"$@\""},
    [P3CFG_FRAMEWORK_TORCHTITAN] =
        {"# torchtitan's configuration: `p3cfg export --to torchtitan -o p3cfg_plan.py`, a "
         "module on PYTHONPATH.\n",
         "-m torchtitan.train --module \"${TORCHTITAN_MODULE:-p3cfg_plan}\" --config "
         "\"${TORCHTITAN_CONFIG:-p3cfg_plan}\" \"$@\""},
    [P3CFG_FRAMEWORK_DEEPSPEED] =
        {"# DeepSpeed's configuration: `p3cfg export --to deepspeed` > ds_config.json.\n",
         "\"${TRAIN_SCRIPT:-train.py}\" --deepspeed --deepspeed_config "
         "\"${DS_CONFIG:-ds_config.json}\" \"$@\""},
};

/* Node names go into #SBATCH --nodelist, case patterns and --master-addr: host names
 * only (letters, digits, '.', '-', '_'). */
static int check_names(const p3cfg__plan_record *rec, const char *target)
{
  for (uint32_t k = 0; k < rec->cluster.nodes; k++) {
    const char *name = rec->cluster.node_names[k];
    if (name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")] !=
        '\0')
      return p3cfg__error_set(P3CFG_EUNSUPPORTED,
                              "%s: node name '%s' is not a host name (letters, digits, '.', "
                              "'-', '_'); use --to rankfile",
                              target, name);
  }
  return P3CFG_OK;
}

/* `[env CUDA_VISIBLE_DEVICES=LIST ]torchrun ... PROGRAM` for node rank k. */
static void torchrun_line(p3cfg__text *t, const p3cfg__plan_record *rec, int framework,
                          size_t hosts, size_t per, size_t k)
{
  p3cfg__text_printf(t, "env CUDA_VISIBLE_DEVICES=");
  for (size_t i = 0; i < per; i++)
    p3cfg__text_printf(t, "%s%u", i ? "," : "", rec->ranks[k * per + i].gpu);
  p3cfg__text_printf(t,
                     " \\\n    torchrun --nnodes %zu --node-rank %zu --nproc-per-node %zu "
                     "--master-addr %s \\\n    --master-port \"${MASTER_PORT:-29500}\" %s",
                     hosts, k, per, rec->cluster.node_names[rec->ranks[0].node],
                     programs[framework].program);
}

static void header(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number, const char *what)
{
  p3cfg__text_printf(t, "#!/bin/bash\n# %s for ", what);
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s: one torchrun per node, on the GPUs the "
                        "placement gives it.\n",
                     p3cfg_version_string());
}

int p3cfg__export_sbatch(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  size_t hosts, per;
  int rc = p3cfg__export_host_blocks(rec, "sbatch", &hosts, &per);
  if (rc || (rc = check_names(rec, "sbatch")))
    return rc;
  const int fw = p3cfg__export_framework(rec);
  const p3cfg_plan_cluster *c = &rec->cluster;
  header(t, rec, number, "Slurm batch script");
  p3cfg__text_printf(t, "#   sbatch THIS_FILE [TRAINING ARGUMENTS...]\n");
  p3cfg__text_printf(t, "#SBATCH --job-name=p3cfg-plan%zu\n#SBATCH --nodes=%zu\n"
                        "#SBATCH --ntasks-per-node=1\n#SBATCH --gpus-per-node=%u\n"
                        "#SBATCH --exclusive\n#SBATCH --nodelist=",
                     number, hosts, c->gpus_per_node);
  for (size_t k = 0; k < hosts; k++)
    p3cfg__text_printf(t, "%s%s", k ? "," : "", c->node_names[rec->ranks[k * per].node]);
  p3cfg__text_printf(t, "\nset -euo pipefail\n\n");
  p3cfg__export_env(t, rec, fw);
  p3cfg__text_printf(t, "\n%s\n# One step per node, pinned to it: node rank k runs global "
                        "ranks k*%zu .. k*%zu+%zu.\npids=()\n",
                     programs[fw].setup, per, per, per - 1);
  for (size_t k = 0; k < hosts; k++) {
    p3cfg__text_printf(t, "srun --nodes=1 --ntasks=1 --nodelist=%s ",
                       c->node_names[rec->ranks[k * per].node]);
    torchrun_line(t, rec, fw, hosts, per, k);
    p3cfg__text_printf(t, " &\npids+=($!)\n");
  }
  p3cfg__text_printf(t, "status=0\nfor pid in \"${pids[@]}\"; do wait \"$pid\" || status=1; "
                        "done\nexit \"$status\"\n");
  return P3CFG_OK;
}

int p3cfg__export_launch(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  size_t hosts, per;
  int rc = p3cfg__export_host_blocks(rec, "launch", &hosts, &per);
  if (rc || (rc = check_names(rec, "launch")))
    return rc;
  const int fw = p3cfg__export_framework(rec);
  const p3cfg_plan_cluster *c = &rec->cluster;
  header(t, rec, number, "Per-node launch lines");
  p3cfg__text_printf(t, "#   on each host:  bash THIS_FILE HOST [TRAINING ARGUMENTS...]   "
                        "(HOST: its name below)\nset -euo pipefail\n"
                        "if [ $# -lt 1 ]; then echo \"usage: $0 HOST [ARGS...]\" >&2; exit 2; "
                        "fi\nhost=$1\nshift\n\n");
  p3cfg__export_env(t, rec, fw);
  p3cfg__text_printf(t, "\n%s\ncase \"$host\" in\n", programs[fw].setup);
  for (size_t k = 0; k < hosts; k++) {
    p3cfg__text_printf(t, "  %s)  # node rank %zu\n    exec ", c->node_names[rec->ranks[k * per].node],
                       k);
    torchrun_line(t, rec, fw, hosts, per, k);
    p3cfg__text_printf(t, " ;;\n");
  }
  p3cfg__text_printf(t, "  *) echo \"launch: host '$host' is not one of the plan's %zu hosts\" "
                        ">&2; exit 1 ;;\nesac\n",
                     hosts);
  return P3CFG_OK;
}
