/*
 * export_launch.c — where each rank runs, for launchers (docs/exports.md):
 *
 * rankfile: Open MPI's `rank N=HOST slot=S:*`, one line per global rank, realising the
 * placement exactly whatever it is. In Open MPI a slot list names CPUs, not GPUs
 * (`S:*` = every core of logical socket S), so each rank is bound to the cores of the
 * socket its GPU hangs off (the cluster file's host.gpu_sockets, or the default halves);
 * the GPU itself is in the line's comment (`# gpu=G`), which a one-line wrapper turns
 * into CUDA_VISIBLE_DEVICES (the header comment holds it).
 *
 * hostfile: one line per host in node-rank order, `HOST slots=N # CUDA_VISIBLE_DEVICES=
 * LIST`, the form torchrun (--node-rank = line index), DeepSpeed and mpirun hostfiles
 * take: global rank = line x N + local rank, and local rank i uses the i-th GPU of LIST.
 * It can express a placement only when every host holds one block of N consecutive
 * ranks (how torchrun numbers them); otherwise it says so and points to the rankfile.
 * The same test serves the sbatch and launch scripts (export_sbatch.c).
 */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "export.h"

uint32_t p3cfg__export_gpu_socket(const p3cfg_plan_cluster *c, uint32_t g)
{
  return c->gpu_sockets ? c->gpu_sockets[g] : p3cfg__gpu_socket_default(g, c->gpus_per_node);
}

int p3cfg__export_rankfile(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan_cluster *c = &rec->cluster;
  p3cfg__text_printf(t, "# Open MPI rankfile for ");
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s: every rank on the GPU the plan gives it.\n",
                     p3cfg_version_string());
  p3cfg__text_printf(
      t,
      "# slot=S:* binds the rank to every core of CPU socket S, the socket of its GPU (%s);\n"
      "# the GPU is the line's gpu=G, which use-gpu.sh shows the process:\n"
      "#   mpirun -np %zu --host HOSTS --rankfile THIS_FILE ./use-gpu.sh python train.py ...\n"
      "#   use-gpu.sh: export CUDA_VISIBLE_DEVICES=$(awk -v r=\"rank "
      "$OMPI_COMM_WORLD_RANK=\" \\\n#     'index($0, r) == 1 { sub(/.*gpu=/, \"\"); print }' "
      "THIS_FILE); exec \"$@\"\n",
      c->gpu_sockets ? "the cluster file's host.gpu_sockets"
                     : "by default GPUs 0..N/2-1 on socket 0, the others on socket 1",
      rec->n_ranks);
  for (size_t r = 0; r < rec->n_ranks; r++) {
    const p3cfg_rank_place *pl = &rec->ranks[r];
    p3cfg__text_printf(t, "rank %u=%s slot=%u:* # gpu=%u\n", pl->rank, c->node_names[pl->node],
                       p3cfg__export_gpu_socket(c, pl->gpu), pl->gpu);
  }
  return P3CFG_OK;
}

int p3cfg__export_host_blocks(const p3cfg__plan_record *rec, const char *target, size_t *hosts_out,
                              size_t *per_out)
{
  const p3cfg_plan_cluster *c = &rec->cluster;
  const size_t n = rec->n_ranks;
  /* Ranks per host: the GPUs of the plan over the hosts it uses. */
  uint32_t *count = p3cfg__calloc(c->nodes, sizeof *count);
  if (!count)
    return p3cfg__error_nomem();
  size_t hosts = 0;
  for (size_t r = 0; r < n; r++)
    hosts += count[rec->ranks[r].node]++ == 0;
  const size_t per = n / hosts;
  int rc = P3CFG_OK;
  for (size_t r = 0; r < n && rc == P3CFG_OK; r++) {
    const p3cfg_rank_place *pl = &rec->ranks[r], *head = &rec->ranks[r - r % per];
    if (count[pl->node] != per)
      rc = p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "%s: node '%s' runs %u ranks but others run %zu: torchrun "
                            "gives every host the same number; use --to rankfile",
                            target, c->node_names[pl->node], count[pl->node], per);
    else if (pl->node != head->node)
      rc = p3cfg__error_set(P3CFG_EUNSUPPORTED,
                            "%s: rank %u runs on node '%s' but rank %u on '%s': torchrun "
                            "numbers ranks host by host (%zu consecutive ranks each), so only "
                            "a rankfile can express this placement; use --to rankfile",
                            target, head->rank, c->node_names[head->node], pl->rank,
                            c->node_names[pl->node], per);
  }
  p3cfg__free(count);
  *hosts_out = hosts;
  *per_out = per;
  return rc;
}

int p3cfg__export_hostfile(p3cfg__text *t, const p3cfg__plan_record *rec, size_t number)
{
  const p3cfg_plan_cluster *c = &rec->cluster;
  size_t hosts, per;
  const int rc = p3cfg__export_host_blocks(rec, "hostfile", &hosts, &per);
  if (rc)
    return rc;

  p3cfg__text_printf(t, "# Hostfile for ");
  p3cfg__export_title(t, rec, number);
  p3cfg__text_printf(t, ",\n# written by p3cfg %s: %zu hosts, %zu ranks each, in node-rank "
                        "order.\n",
                     p3cfg_version_string(), hosts, per);
  p3cfg__text_printf(t, "# Line k (from 0) is node rank k: global rank = k * %zu + local rank, "
                        "and local rank i\n# uses the i-th GPU of the line's "
                        "CUDA_VISIBLE_DEVICES. With torchrun, on the host of line k:\n#   "
                        "CUDA_VISIBLE_DEVICES=LIST torchrun --nnodes %zu --nproc-per-node %zu "
                        "--node-rank k \\\n#     --master-addr FIRST_HOST ...\n",
                     per, hosts, per);
  for (size_t k = 0; k < hosts; k++) {
    const p3cfg_rank_place *first = &rec->ranks[k * per];
    p3cfg__text_printf(t, "%s slots=%zu # CUDA_VISIBLE_DEVICES=", c->node_names[first->node],
                       per);
    for (size_t i = 0; i < per; i++)
      p3cfg__text_printf(t, "%s%u", i ? "," : "", rec->ranks[k * per + i].gpu);
    p3cfg__text_printf(t, "\n");
  }
  return P3CFG_OK;
}
