/*
 * cli_plan_args.c — the flags, inputs and outputs `search` and `estimate` share.
 */
#include "cli_plan_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cli_plan_args_init(cli_plan_args *a)
{
  cli_constraints_init(&a->cons);
  cli_place_init(&a->place);
  cli_svg_init(&a->svg);
  a->out = (cli_output){0};
}

int cli_plan_args_option(cli_plan_args *a, const char *command, int id, const char *value)
{
  int handled = cli_constraints_option(&a->cons, command, id, value);
  if (handled == 0)
    handled = cli_place_option(&a->place, command, id, value);
  if (handled == 0)
    handled = cli_svg_option(&a->svg, command, id, value);
  if (handled == 0)
    handled = cli_output_option(&a->out, command, id, value);
  return handled;
}

int cli_load_inputs(p3cfg_model **model, p3cfg_cluster **cluster, const char *const *positional)
{
  if (p3cfg_model_load(model, positional[0], NULL) ||
      p3cfg_cluster_load(cluster, positional[1], NULL)) {
    cli_print_error();
    return -1;
  }
  return 0;
}

int cli_write_report(const cli_plan_args *a, const p3cfg_buffer *buf, const p3cfg_result *r,
                     const p3cfg_model *model, const p3cfg_cluster *cluster)
{
  int exit_code = cli_write_output(a->out.path, a->out.force, buf->data, buf->len);
  if (exit_code == EXIT_OK && cli_svg_any(&a->svg))
    exit_code = cli_svg_write(&a->svg, r, model, cluster, a->out.force);
  return exit_code;
}

/* Read a whole file (at most 64 MiB) into a malloc'd buffer; prints why on failure. */
static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "p3cfg: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      char *t = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
      if (!t) {
        fprintf(stderr, "p3cfg: %s: too large for a list of GPUs\n", path);
        free(buf);
        buf = NULL;
        break;
      }
      buf = t;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        fprintf(stderr, "p3cfg: %s: read error\n", path);
        free(buf);
        buf = NULL;
      }
      break;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

int cli_load_exclude(p3cfg_gpu_list *out, const p3cfg_cluster *cluster, const char *arg)
{
  out->gpus = NULL;
  out->count = 0;
  const int is_file = arg[0] == '@' || strchr(arg, '/') != NULL;
  const char *path = arg[0] == '@' ? arg + 1 : arg;
  int rc;
  if (is_file) {
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
      return EXIT_BAD_INPUT;
    rc = p3cfg_cluster_parse_gpus(out, cluster, text, len, path);
    free(text);
  } else {
    rc = p3cfg_cluster_parse_gpus(out, cluster, arg, strlen(arg), "--exclude");
  }
  if (rc) {
    cli_print_error();
    return EXIT_BAD_INPUT;
  }
  p3cfg_cluster_info info;
  if (p3cfg_cluster_get_info(&info, cluster) == 0 &&
      out->count >= (uint64_t)info.nodes * info.gpus_per_node) {
    fprintf(stderr, "p3cfg: --exclude takes out every GPU of the cluster (%u nodes x %u): "
                    "nothing is left to plan on\n",
            info.nodes, info.gpus_per_node);
    p3cfg_gpu_list_dispose(out);
    return EXIT_BAD_INPUT;
  }
  return EXIT_OK;
}
