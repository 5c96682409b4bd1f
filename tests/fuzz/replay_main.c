/*
 * replay_main.c — a main() for the fuzz targets without libFuzzer: every file named on
 * the command line, or found directly inside a directory named there, is read and passed
 * once to LLVMFuzzerTestOneInput. With it the corpora under tests/fuzz/corpus/ (seeds,
 * and every input that once crashed a target) run as the CTest regression tests of label
 * fuzz-regress, built with any compiler and run under valgrind or the sanitizers.
 *
 * A target reports a broken oracle by aborting, so a regression shows as a crash of this
 * program; it prints the file it was on first. Exit 0 after all inputs, 1 when a file
 * or directory could not be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read the whole file at path; NULL (with *size 0) when it cannot be read. */
static uint8_t *read_all(const char *path, size_t *size)
{
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap)
      break;
    uint8_t *nbuf = realloc(buf, cap * 2);
    if (!nbuf) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nbuf;
    cap *= 2;
  }
  const int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *size = len;
  return buf;
}

static int run_file(const char *path)
{
  size_t size;
  uint8_t *data = read_all(path, &size);
  if (!data) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return 1;
  }
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
  /* An exact-size copy, so that a read past the input is caught as under libFuzzer. */
  uint8_t *exact = malloc(size ? size : 1);
  if (!exact) {
    free(data);
    return 1;
  }
  memcpy(exact, data, size);
  free(data);
  LLVMFuzzerTestOneInput(exact, size);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every regular file directly inside dir, in name order (the run is reproducible). */
static int run_dir(const char *dir, size_t *count)
{
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot open directory %s\n", dir);
    return 1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int bad = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) {
        bad = 1;
        break;
      }
      names = nn;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(len))) {
      bad = 1;
      break;
    }
    snprintf(names[n++], len, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (!bad && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      bad |= run_file(names[i]);
      ++*count;
    }
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  size_t count = 0;
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      bad |= run_dir(argv[i], &count);
    } else {
      bad |= run_file(argv[i]);
      count++;
    }
  }
  fprintf(stderr, "replay: %zu input%s run%s\n", count, count == 1 ? "" : "s",
          bad ? ", some could not be read" : "");
  return bad ? 1 : 0;
}
