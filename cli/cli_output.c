/*
 * cli_output.c — where results go: stdout, or a file written atomically (a temporary
 * file beside it, then rename) that never replaces an existing file unless --force;
 * and the output flags (--format, -o, --force, -q) of every result-printing command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* mkstemp creates the file 0600; a result file gets the usual 0666 & ~umask. */
static int fchmod_default(const char *path)
{
  mode_t mask = umask(0);
  umask(mask);
  return chmod(path, 0666 & ~mask);
}

int cli_write_output(const char *path, int force, const char *data, size_t len)
{
  if (!path || strcmp(path, "-") == 0) {
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
      fprintf(stderr, "p3cfg: cannot write to standard output: %s\n", strerror(errno));
      return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
  }
  struct stat st;
  const int exists = stat(path, &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    /* A device or a pipe (/dev/stdout, /dev/null, a FIFO): write into it; renaming a
     * temporary file over it would replace the device itself. */
    FILE *f = fopen(path, "w");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
      ok = 0;
    if (!ok) {
      fprintf(stderr, "p3cfg: %s: cannot write: %s\n", path, strerror(errno));
      return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
  }
  if (!force && (exists || lstat(path, &st) == 0)) {
    fprintf(stderr, "p3cfg: %s: already exists (use --force to replace it)\n", path);
    return EXIT_BAD_INPUT;
  }
  size_t n = strlen(path) + 16;
  char *tmp = malloc(n);
  if (!tmp) {
    fprintf(stderr, "p3cfg: out of memory\n");
    return EXIT_BAD_INPUT;
  }
  snprintf(tmp, n, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "p3cfg: %s: cannot create: %s\n", path, strerror(errno));
    free(tmp);
    return EXIT_BAD_INPUT;
  }
  size_t off = 0;
  int ok = 1;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      ok = 0;
      break;
    }
    off += (size_t)w;
  }
  if (ok && fsync(fd) != 0)
    ok = 0;
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (ok && fchmod_default(tmp) != 0)
    ok = 0, saved = errno;
  if (ok && rename(tmp, path) != 0)
    ok = 0, saved = errno;
  if (!ok) {
    fprintf(stderr, "p3cfg: %s: cannot write: %s\n", path, strerror(saved));
    unlink(tmp);
    free(tmp);
    return EXIT_BAD_INPUT;
  }
  free(tmp);
  return EXIT_OK;
}

int cli_output_option(cli_output *o, const char *command, int id, const char *value)
{
  switch (id) {
  case OPT_OUT_FORMAT:
    if (strcmp(value, "json") == 0)
      o->json = 1;
    else if (strcmp(value, "table") == 0)
      o->json = 0;
    else {
      static const char *const formats[] = {"table", "json"};
      char hint[96];
      cli_usage_error(command, "--format must be table or json, got \"%s\"%s", value,
                      cli_did_you_mean(hint, sizeof hint, value, "", formats, 2));
      return -1;
    }
    return 1;
  case OPT_OUT_FILE:
    o->path = value;
    return 1;
  case OPT_OUT_FORCE:
    o->force = 1;
    return 1;
  case OPT_OUT_QUIET:
    o->quiet = 1;
    return 1;
  default:
    return 0;
  }
}
