/*
 * cli_progress.c — the progress bar of cli_progress.h, fed by the library's progress
 * callback (p3cfg_search_options.progress, at most ~10 calls a second, never two at
 * once). Drawn with a carriage return on one line and erased at the end.
 */
#include "cli_progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define DELAY_S 1.0

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_progress(void *payload, double fraction)
{
  cli_progress *p = payload;
  const double elapsed = now_s() - p->start_s;
  if (elapsed < DELAY_S || fraction >= 1.0)
    return;
  char bar[BAR_WIDTH + 1];
  const int done = (int)(fraction * BAR_WIDTH);
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < done ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  fprintf(stderr, "\r%s [%s] %3d%%  %.0f s", p->what, bar, (int)(fraction * 100), elapsed);
  fflush(stderr);
  p->shown = 1;
}

void cli_progress_attach(cli_progress *p, p3cfg_search_options *so, const char *what, int quiet)
{
  memset(p, 0, sizeof *p);
  p->what = what;
  p->start_s = now_s();
  p->enabled = !quiet && isatty(STDERR_FILENO);
  if (p->enabled) {
    so->progress = on_progress;
    so->progress_payload = p;
  }
}

void cli_progress_done(cli_progress *p)
{
  if (p->shown) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
  }
  p->shown = 0;
}
