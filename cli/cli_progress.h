/*
 * cli_progress.h — the CLI's one progress bar on standard error, for every long command
 * (search, profile, profile --compute), fed by the library's one progress callback
 * (p3cfg_progress_fn): shown only when stderr is a terminal, not with --quiet, and only
 * once the work has taken a second, so that quick runs and redirected output stay clean.
 */
#ifndef P3CFG_CLI_PROGRESS_H
#define P3CFG_CLI_PROGRESS_H

#include "cli.h"

typedef struct cli_progress {
  const char *what; /* "searching" */
  const char *unit; /* what done/total count ("steps"); NULL: a percentage */
  double start_s;
  int shown;
} cli_progress;

/* Start a bar: the callback to hand to the library with `p` as its payload, or NULL
 * (no bar) when quiet or stderr is not a terminal. */
p3cfg_progress_fn cli_progress_start(cli_progress *p, const char *what, const char *unit,
                                     int quiet);
/* Erase the bar if it was drawn. */
void cli_progress_done(cli_progress *p);

#endif
