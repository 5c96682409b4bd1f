/*
 * cli_output.c — where results go, and the one writer of every file the CLI writes.
 *
 * Standard output (no path, or "-") gets the bytes as they are; main() checks at exit
 * that everything written to it arrived (cli_finish_stdout). A path is written
 * atomically: a temporary file PATH.tmpXXXXXX beside it, fsync, then published with
 * link(), which fails when PATH exists, so that of two writers racing for the same PATH
 * without --force exactly one wins (renameat2(RENAME_NOREPLACE) where the filesystem has
 * no hard links; rename() only with --force). SIGINT, SIGTERM and SIGHUP while the
 * temporary file exists remove it before the signal takes its default course.
 *
 * A PATH that exists but is not a regular file is never renamed over: a FIFO or a
 * character device (/dev/null, /dev/tty) is refused unless --force, and then opened
 * with O_NONBLOCK (a FIFO without a reader is an error, never a hang) and written in
 * place; a directory, a socket or a block device is always refused.
 */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ---- standard output -------------------------------------------------------------- */

static int stdout_reported; /* a failure on stdout was already printed */

int cli_stdout_failed(void)
{
  if (!stdout_reported)
    fprintf(stderr, "p3cfg: cannot write to standard output: %s\n",
            errno ? strerror(errno) : "part of the output was lost");
  stdout_reported = 1;
  return EXIT_BAD_INPUT;
}

int cli_finish_stdout(int status)
{
  /* Flush first: what stdio still holds is lost when the descriptor is bad. A closed
   * descriptor with nothing pending (a command that wrote only to -o FILE) loses
   * nothing, so fclose's EBADF alone is no failure. */
  errno = 0;
  int bad = fflush(stdout) != 0 || ferror(stdout);
  int saved = errno;
  if (fclose(stdout) != 0 && !bad && errno != EBADF) {
    bad = 1;
    saved = errno;
  }
  if (!bad)
    return status;
  errno = saved;
  cli_stdout_failed();
  return status == EXIT_OK ? EXIT_BAD_INPUT : status;
}

/* ---- the temporary file and the signals that would leave it behind ------------------ */

#define TMP_SUFFIX ".tmpXXXXXX"
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS (sizeof cleanup_signals / sizeof cleanup_signals[0])

static char tmp_path[4096 + sizeof TMP_SUFFIX]; /* the temporary file, while armed */
static volatile sig_atomic_t tmp_armed;
static struct sigaction saved_actions[N_SIGNALS];
static int saved_valid[N_SIGNALS];

/* Async-signal-safe: unlink the temporary file, then let the signal do what it would
 * have done (SA_RESETHAND restored the default action; the raised signal is delivered
 * when the handler returns). */
static void on_signal(int sig)
{
  const int e = errno;
  if (tmp_armed)
    unlink(tmp_path);
  tmp_armed = 0;
  raise(sig);
  errno = e;
}

static void block_signals(sigset_t *old)
{
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < N_SIGNALS; i++)
    sigaddset(&set, cleanup_signals[i]);
  sigprocmask(SIG_BLOCK, &set, old);
}

/* With the signals blocked: catch each one that is not ignored. */
static void install_handlers(void)
{
  for (size_t i = 0; i < N_SIGNALS; i++) {
    saved_valid[i] = 0;
    struct sigaction cur;
    if (sigaction(cleanup_signals[i], NULL, &cur) != 0 || cur.sa_handler == SIG_IGN)
      continue; /* nohup, a background job of a non-interactive shell: stay ignored */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = (int)SA_RESETHAND;
    if (sigaction(cleanup_signals[i], &sa, &saved_actions[i]) == 0)
      saved_valid[i] = 1;
  }
}

static void restore_handlers(void)
{
  for (size_t i = 0; i < N_SIGNALS; i++)
    if (saved_valid[i])
      sigaction(cleanup_signals[i], &saved_actions[i], NULL);
}

/* ---- writing ------------------------------------------------------------------------ */

static int write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    const size_t chunk = len < (1u << 20) ? len : (1u << 20);
    ssize_t w = write(fd, data, chunk);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

static int fail(const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "p3cfg: %s: ", path);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return EXIT_BAD_INPUT;
}

static const char *kind_of(mode_t m)
{
  return S_ISFIFO(m)  ? "a FIFO"
         : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device"
         : S_ISDIR(m) ? "a directory"
         : S_ISSOCK(m) ? "a socket"
                       : "not a regular file";
}

/* PATH exists and is no regular file: write into a FIFO or a character device with
 * --force, never block on a FIFO without a reader, refuse everything else. */
static int write_special(const char *path, const struct stat *st, int force, const char *data,
                         size_t len)
{
  if (!S_ISFIFO(st->st_mode) && !S_ISCHR(st->st_mode))
    return fail(path, "is %s, not a file: cannot write the result there", kind_of(st->st_mode));
  if (!force)
    return fail(path, "is %s, not a regular file (use --force to write into it)",
                kind_of(st->st_mode));
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENXIO)
      return fail(path, "is a FIFO that nothing reads: nothing written");
    return fail(path, "cannot open: %s", strerror(errno));
  }
  struct stat now;
  int e = 0;
  if (fstat(fd, &now) != 0)
    e = errno;
  else if (!S_ISFIFO(now.st_mode) && !S_ISCHR(now.st_mode)) {
    close(fd);
    return fail(path, "was replaced while being opened: nothing written");
  }
  /* The reader is there: from now on a full pipe waits for it, as `> FIFO` does. */
  const int flags = e ? -1 : fcntl(fd, F_GETFL);
  if (!e && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0))
    e = errno;
  if (!e && write_all(fd, data, len) != 0)
    e = errno;
  if (close(fd) != 0 && !e && errno != EINTR)
    e = errno;
  return e ? fail(path, "cannot write: %s", strerror(e)) : EXIT_OK;
}

/* Make the new directory entry durable: fsync the directory holding `path` (best
 * effort). */
static void sync_dir(const char *path)
{
  char dir[sizeof tmp_path];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* Put the finished temporary file at `path`: 0 or an errno value (EEXIST: it exists). */
static int publish(const char *tmp, const char *path, int force)
{
  if (force)
    return rename(tmp, path) == 0 ? 0 : errno;
  if (link(tmp, path) == 0) {
    unlink(tmp);
    return 0;
  }
  const int e = errno;
  if (e == EEXIST)
    return e;
#ifdef RENAME_NOREPLACE
  /* Filesystems without hard links (FAT, some FUSE): the same promise from rename. */
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
    return 0;
  return errno;
#else
  return e;
#endif
}

int cli_write_output(const char *path, int force, const char *data, size_t len)
{
  /* /dev/stdout is standard output whatever fd 1 is: a regular file there must not be
   * replaced by a rename over the /dev/stdout link. */
  if (!path || strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0) {
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
      return cli_stdout_failed();
    return EXIT_OK;
  }
  if (!*path) {
    fprintf(stderr, "p3cfg: the output file name is empty\n");
    return EXIT_USAGE;
  }
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return write_special(path, &st, force, data, len);
  /* An early answer: the link() below is what makes it certain. */
  if (!force && lstat(path, &st) == 0)
    return fail(path, "already exists (use --force to replace it)");
  if (strlen(path) + sizeof TMP_SUFFIX > sizeof tmp_path)
    return fail(path, "the path is too long");

  sigset_t old_mask;
  block_signals(&old_mask);
  install_handlers();
  snprintf(tmp_path, sizeof tmp_path, "%s" TMP_SUFFIX, path);
  const int fd = mkstemp(tmp_path);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0)
    tmp_armed = 1;
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  if (fd < 0) {
    block_signals(&old_mask);
    restore_handlers();
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return fail(path, "cannot create: %s", strerror(e));
  }

  /* mkstemp makes the file 0600; a result file gets the usual 0666 & ~umask. */
  const mode_t mask = umask(0);
  umask(mask);
  if (write_all(fd, data, len) != 0 || fsync(fd) != 0 || fchmod(fd, 0666 & ~mask) != 0)
    e = errno;
  if (close(fd) != 0 && !e && errno != EINTR)
    e = errno;

  block_signals(&old_mask);
  if (!e)
    e = publish(tmp_path, path, force);
  if (e)
    unlink(tmp_path);
  tmp_armed = 0;
  restore_handlers();
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  if (e == EEXIST)
    return fail(path, "already exists (use --force to replace it)");
  if (e)
    return fail(path, "cannot write: %s", strerror(e));
  sync_dir(path);
  return EXIT_OK;
}

int cli_output_path_option(const char *command, const char *option, const char *value)
{
  if (value && !*value) {
    cli_usage_error(command, "%s needs a file name (or - for standard output), got \"\"",
                    option);
    return -1;
  }
  return 0;
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
    if (cli_output_path_option(command, "--output", value))
      return -1;
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
