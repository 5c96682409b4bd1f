/*
 * cli_progress.c — the progress bar of cli_progress.h, fed by the library's progress
 * callback (at most ~10 calls a second in a search, one per kernel or step in the
 * profilers; never two at once). Drawn with a carriage return on one line and erased at
 * the end; the last call (done == total) draws nothing.
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

static void on_progress(void *payload, uint32_t done, uint32_t total)
{
  cli_progress *p = payload;
  const double elapsed = now_s() - p->start_s;
  if (elapsed < DELAY_S || total == 0 || done >= total)
    return;
  const double fraction = (double)done / (double)total;
  char bar[BAR_WIDTH + 1];
  const int fill = (int)(fraction * BAR_WIDTH);
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  if (p->unit)
    fprintf(stderr, "\r%s [%s] %u/%u %s  %.0f s", p->what, bar, done, total, p->unit, elapsed);
  else
    fprintf(stderr, "\r%s [%s] %3d%%  %.0f s", p->what, bar, (int)(fraction * 100), elapsed);
  fflush(stderr);
  p->shown = 1;
}

p3cfg_progress_fn cli_progress_start(cli_progress *p, const char *what, const char *unit,
                                     int quiet)
{
  memset(p, 0, sizeof *p);
  p->what = what;
  p->unit = unit;
  p->start_s = now_s();
  return !quiet && isatty(STDERR_FILENO) ? on_progress : NULL;
}

void cli_progress_done(cli_progress *p)
{
  if (p->shown) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
  }
  p->shown = 0;
}
