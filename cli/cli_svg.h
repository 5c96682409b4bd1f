/*
 * cli_svg.h — the picture flags that `search` and `estimate` share: --svg-timeline,
 * --svg-links and --svg-memory FILE, each an SVG of the best (or only) plan written like
 * every output file (atomically, never over an existing file without --force).
 */
#ifndef P3CFG_CLI_SVG_H
#define P3CFG_CLI_SVG_H

#include "cli.h"

enum { OPT_SVG_TIMELINE = 300, OPT_SVG_LINKS, OPT_SVG_MEMORY };

#define CLI_SVG_OPTIONS                                                                  \
  {"svg-timeline", 0, "FILE", "write the pipeline schedule of the plan as SVG",          \
   OPT_SVG_TIMELINE},                                                                    \
      {"svg-links", 0, "FILE", "write the link matrix with the plan's hops as SVG",      \
       OPT_SVG_LINKS},                                                                   \
      {"svg-memory", 0, "FILE", "write the memory per stage as SVG", OPT_SVG_MEMORY}

typedef struct cli_svg {
  const char *timeline, *links, *memory; /* NULL = not asked */
} cli_svg;

void cli_svg_init(cli_svg *s);
/* 1 when `id` was a picture flag, 0 when not, -1 after a usage error (an empty FILE). */
int cli_svg_option(cli_svg *s, const char *command, int id, const char *value);
/* Whether any picture is asked for. */
int cli_svg_any(const cli_svg *s);
/* Write the pictures of plan 0 of `r`. Returns an exit code (after printing why). */
int cli_svg_write(const cli_svg *s, const p3cfg_result *r, const p3cfg_model *model,
                  const p3cfg_cluster *cluster, int force);

#endif
