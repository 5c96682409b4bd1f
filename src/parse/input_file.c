/*
 * input_file.c — reading one input file into memory for the parsers, within the size
 * limit of yaml_doc.h. The file is opened non-blocking and checked with fstat before any
 * read, so that a directory, a FIFO or a device is refused at once instead of hanging
 * or filling memory; everything that goes wrong becomes one file-level problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "yaml_doc.h"

/* strerror's text with a lowercase first letter (messages are lowercase). */
static void errno_text(char *buf, size_t cap, int err)
{
  if (strerror_r(err, buf, cap) != 0)
    snprintf(buf, cap, "error %d", err);
  if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
    buf[0] = (char)(buf[0] - 'A' + 'a');
}

static int io_problem(p3cfg_diagnostics *d, const char *what, int err)
{
  char text[128];
  errno_text(text, sizeof text, err);
  return p3cfg__diag(d, P3CFG_EIO, 0, 0, "%s: %s", what, text);
}

/* Read everything from fd into *buf (capacity *cap), growing up to the limit + 1 byte so
 * that a file larger than the limit is recognised even if it grew after fstat. */
static int read_all(int fd, char **buf, size_t *cap, size_t *len, p3cfg_diagnostics *d)
{
  const size_t max = (size_t)P3CFG__MAX_INPUT_BYTES + 1;
  *len = 0;
  for (;;) {
    if (*len + 1 >= *cap) {
      if (*cap >= max + 1)
        return P3CFG_OK; /* holds limit + 1 bytes: the caller reports the size */
      size_t ncap = *cap * 2 > max + 1 ? max + 1 : *cap * 2;
      char *nbuf = p3cfg__realloc(*buf, ncap);
      if (!nbuf)
        return P3CFG_ENOMEM;
      *buf = nbuf;
      *cap = ncap;
    }
    ssize_t n = read(fd, *buf + *len, *cap - 1 - *len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return io_problem(d, "cannot read file", errno);
    }
    if (n == 0)
      return P3CFG_OK;
    *len += (size_t)n;
  }
}

int p3cfg__read_file(char **out, size_t *len, p3cfg_diagnostics *d, const char *path)
{
  int rc = P3CFG_OK;
  char *buf = NULL;
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return io_problem(d, "cannot open file", errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    rc = io_problem(d, "cannot read file", errno);
    goto done;
  }
  if (S_ISDIR(st.st_mode)) {
    rc = p3cfg__diag(d, P3CFG_EIO, 0, 0, "is a directory, not a file");
    goto done;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = p3cfg__diag(d, P3CFG_EIO, 0, 0, "not a regular file");
    goto done;
  }
  if (st.st_size > (off_t)P3CFG__MAX_INPUT_BYTES)
    goto too_large;
  size_t cap = (size_t)st.st_size + 2; /* room to notice growth without a realloc */
  if (cap < 4096)
    cap = 4096;
  buf = p3cfg__malloc(cap);
  if (!buf) {
    rc = P3CFG_ENOMEM;
    goto done;
  }
  rc = read_all(fd, &buf, &cap, len, d);
  if (rc != P3CFG_OK)
    goto done;
  if (*len > P3CFG__MAX_INPUT_BYTES)
    goto too_large;
  buf[*len] = '\0';
  *out = buf;
  buf = NULL;
  goto done;

too_large:
  rc = p3cfg__diag(d, P3CFG_EIO, 0, 0, "file is larger than the limit of %u MiB",
                   P3CFG__MAX_INPUT_BYTES / (1024u * 1024u));
done:
  p3cfg__free(buf);
  if (rc != P3CFG_OK)
    *len = 0;
  close(fd);
  return rc;
}
