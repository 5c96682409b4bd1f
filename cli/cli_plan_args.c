/*
 * cli_plan_args.c — the flags, inputs and outputs `search` and `estimate` share.
 */
#include "cli_plan_args.h"

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
