/*
 * cli_svg.c — the --svg-* flags of `search` and `estimate`: parse them, then render each
 * asked picture of the first plan with the library (p3cfg_result_svg_*) and write it with
 * cli_write_output's manners (atomic, --force to replace).
 */
#include "cli_svg.h"

#include <string.h>

void cli_svg_init(cli_svg *s) { memset(s, 0, sizeof *s); }

int cli_svg_option(cli_svg *s, const char *command, int id, const char *value)
{
  static const char *const names[] = {"--svg-timeline", "--svg-links", "--svg-memory"};
  if (id >= OPT_SVG_TIMELINE && id <= OPT_SVG_MEMORY &&
      cli_output_path_option(command, names[id - OPT_SVG_TIMELINE], value))
    return -1;
  switch (id) {
  case OPT_SVG_TIMELINE:
    s->timeline = value;
    return 1;
  case OPT_SVG_LINKS:
    s->links = value;
    return 1;
  case OPT_SVG_MEMORY:
    s->memory = value;
    return 1;
  default:
    return 0;
  }
}

int cli_svg_any(const cli_svg *s) { return s->timeline || s->links || s->memory; }

int cli_svg_write(const cli_svg *s, const p3cfg_result *r, const p3cfg_model *model,
                  const p3cfg_cluster *cluster, int force)
{
  typedef int (*render_fn)(p3cfg_buffer *, const p3cfg_result *, size_t, const p3cfg_model *,
                           const p3cfg_cluster *);
  const struct {
    const char *path;
    render_fn render;
  } pictures[] = {
      {s->timeline, p3cfg_result_svg_timeline},
      {s->links, p3cfg_result_svg_links},
      {s->memory, p3cfg_result_svg_memory},
  };
  for (size_t i = 0; i < sizeof pictures / sizeof pictures[0]; i++) {
    if (!pictures[i].path)
      continue;
    p3cfg_buffer buf = {0};
    if (pictures[i].render(&buf, r, 0, model, cluster)) {
      cli_print_error();
      return EXIT_BAD_INPUT;
    }
    const int rc = cli_write_output(pictures[i].path, force, buf.data, buf.len);
    p3cfg_buffer_dispose(&buf);
    if (rc != EXIT_OK)
      return rc;
  }
  return EXIT_OK;
}
