/*
 * example.c — libp3cfg from C, end to end (docs/api.md): load a model and a cluster,
 * search the plans, print the best one and where its first ranks run, and write its
 * Megatron-LM arguments. tests/install/run.sh builds it against the installed library
 * and runs it on the presets:
 *
 *   cc example.c $(pkg-config --cflags --libs p3cfg) -o example
 *   ./example models/llama3-8b.yaml clusters/dgx-h100-8n.yaml
 */
#include <stdio.h>

#include <p3cfg.h>

/* Print the last error the way the p3cfg CLI does and return 1. */
static int fail(const char *what)
{
  const p3cfg_error *e = p3cfg_error_last();
  if (e->file && e->line > 0)
    fprintf(stderr, "%s: %s:%d:%d: %s\n", what, e->file, e->line, e->column, e->message);
  else
    fprintf(stderr, "%s: %s (%s)\n", what, e->message, p3cfg_error_name(e->code));
  return 1;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.yaml CLUSTER.yaml\n", argv[0]);
    return 2;
  }
  int status = 1;
  p3cfg_model *model = NULL;
  p3cfg_cluster *cluster = NULL;
  p3cfg_result *result = NULL;
  p3cfg_plan_file *plans = NULL;
  p3cfg_buffer args = {NULL, 0};

  /* Inputs: every problem is positioned (FILE:LINE:COL). */
  if (p3cfg_model_load(&model, argv[1], NULL) != 0) {
    status = fail("model");
    goto done;
  }
  if (p3cfg_cluster_load(&cluster, argv[2], NULL) != 0) {
    status = fail("cluster");
    goto done;
  }

  /* Search: defaults plus two constraints; three plans kept. */
  p3cfg_search_options opts = P3CFG_SEARCH_OPTIONS_INIT;
  opts.top_k = 3;
  opts.threads = 4;
  opts.zero_stage = 1; /* distributed optimizer */
  /* P3CFG_EINFEASIBLE: nothing fits; result then holds the closest miss. */
  if (p3cfg_search(&result, model, cluster, &opts) != 0) {
    status = fail("search");
    goto done;
  }

  /* The best plan: its configuration, time and memory. */
  const p3cfg_plan *best = p3cfg_result_plan(result, 0);
  const p3cfg_time *time = p3cfg_result_time(result, 0);
  const p3cfg_memory *mem = p3cfg_result_memory(result, 0);
  printf("best of %zu plans: dp %u tp %u pp %u, micro-batch %u, %u virtual stages, "
         "recompute %s\n",
         p3cfg_result_count(result), best->dp, best->tp, best->pp, best->micro_batch,
         best->virtual_stages, p3cfg_recompute_name(best->recompute));
  printf("  %.3f s per step, %.0f tokens/s, MFU %.1f%%, peak %.1f GiB of %.1f GiB\n",
         time->iteration_s, time->tokens_per_s, 100.0 * time->mfu,
         (double)mem->peak_bytes / (1 << 30), (double)mem->capacity_bytes / (1 << 30));

  /* Where the first ranks run (global rank order: tp fastest, then dp, then pp). */
  size_t n_ranks = 0;
  const p3cfg_rank_place *place = p3cfg_result_placement(result, 0, &n_ranks);
  for (size_t r = 0; r < n_ranks && r < 4; r++)
    printf("  rank %u -> %s GPU %u (dp %u, pp %u, tp %u)\n", place[r].rank,
           p3cfg_cluster_node_name(cluster, place[r].node), place[r].gpu, place[r].dp,
           place[r].pp, place[r].tp);

  /* Launcher arguments for the best plan, without going through a JSON file. */
  if (p3cfg_plan_file_from_result(&plans, result, model, cluster) != 0 ||
      p3cfg_export(&args, plans, 0, P3CFG_EXPORT_MEGATRON) != 0) {
    status = fail("export");
    goto done;
  }
  fputs(args.data, stdout);
  status = 0;

done:
  p3cfg_buffer_dispose(&args);
  p3cfg_plan_file_free(plans);
  p3cfg_result_free(result);
  p3cfg_cluster_free(cluster);
  p3cfg_model_free(model);
  return status;
}
