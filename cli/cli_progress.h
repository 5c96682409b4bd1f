/*
 * cli_progress.h — a progress bar on standard error for long searches: shown only when
 * stderr is a terminal, not with --quiet, and only once the work has taken a second, so
 * that quick runs and redirected output stay clean.
 */
#ifndef P3CFG_CLI_PROGRESS_H
#define P3CFG_CLI_PROGRESS_H

#include "cli.h"

typedef struct cli_progress {
  const char *what;  /* "searching" */
  double start_s;
  int enabled, shown;
} cli_progress;

/* Hook the bar into search options (nothing when quiet or stderr is not a terminal). */
void cli_progress_attach(cli_progress *p, p3cfg_search_options *so, const char *what, int quiet);
/* Erase the bar if it was drawn. */
void cli_progress_done(cli_progress *p);

#endif
