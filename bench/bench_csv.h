/*
 * bench_csv.h — the comma-separated files of data/ as the benches read them: '#' lines
 * and blank lines are comments, the first data line names the columns, no field is
 * quoted. Header-only: each bench source is its own program.
 */
#ifndef P3CFG_BENCH_CSV_H
#define P3CFG_BENCH_CSV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_CSV_MAX_COLS 32
#define BENCH_CSV_LINE_BYTES 2048

typedef struct csv_row {
  char buf[BENCH_CSV_LINE_BYTES];
  char *col[BENCH_CSV_MAX_COLS];
  int n;
} csv_row;

/* One data line split at commas; 0 at end of file. */
static inline int next_row(csv_row *r, FILE *f)
{
  while (fgets(r->buf, sizeof r->buf, f)) {
    if (r->buf[0] == '#' || r->buf[0] == '\n')
      continue;
    r->buf[strcspn(r->buf, "\r\n")] = '\0';
    r->n = 0;
    for (char *p = r->buf; p && r->n < BENCH_CSV_MAX_COLS;) {
      r->col[r->n++] = p;
      p = strchr(p, ',');
      if (p)
        *p++ = '\0';
    }
    return 1;
  }
  return 0;
}

/* The column named `name` of the header line; exits when there is none (a bench run
 * against a file of another layout is a bug, not a result). */
static inline int col_of(const csv_row *header, const char *name)
{
  for (int i = 0; i < header->n; i++)
    if (strcmp(header->col[i], name) == 0)
      return i;
  fprintf(stderr, "bench: no column %s\n", name);
  exit(1);
}

static inline const char *get(const csv_row *h, const csv_row *r, const char *name)
{
  const int i = col_of(h, name);
  return i < r->n ? r->col[i] : "";
}

static inline double num(const csv_row *h, const csv_row *r, const char *name)
{
  return strtod(get(h, r, name), NULL);
}

/* `path` opened and its header line read into *header; NULL (told on stderr) when the file
 * cannot be read or has no header line. */
static inline FILE *csv_open(const char *path, csv_row *header)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return NULL;
  }
  if (!next_row(header, f)) {
    fprintf(stderr, "bench: %s: no header line\n", path);
    fclose(f);
    return NULL;
  }
  return f;
}

#endif
