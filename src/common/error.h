/*
 * error.h — the thread-local last error (and its save and restore across threads) and
 * the diagnostics list of one input file.
 *
 * A check is one line: `return p3cfg__error_set(P3CFG_EPLAN, "tp %u ...", tp);` sets the
 * message where it is known and returns the code; higher layers pass it up unchanged.
 */
#ifndef P3CFG_ERROR_H
#define P3CFG_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "p3cfg.h"

#if defined(__GNUC__)
#define P3CFG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define P3CFG_PRINTF(fmt, args)
#endif

/* Clear the last error; every public entry point calls this first. */
void p3cfg__error_clear(void);
/* Set the last error (no position) and return `code`. */
int p3cfg__error_set(int code, const char *fmt, ...) P3CFG_PRINTF(2, 3);
/* Set the last error at FILE:LINE:COL (1-based; 0 = unknown) and return `code`. */
int p3cfg__error_set_at(int code, const char *file, int line, int column, const char *fmt,
                        ...) P3CFG_PRINTF(5, 6);
/* Out-of-memory: sets a fixed message without allocating, returns P3CFG_ENOMEM. */
int p3cfg__error_nomem(void);

#define P3CFG__ERROR_MESSAGE_CAP 512
#define P3CFG__ERROR_FILE_CAP 512

/* A last error as a value, to carry it from the thread that set it to the one that
 * reports it (libgit2's git_error_save / git_error_restore): a search worker saves its
 * error before it ends, the thread that joins it restores it. No allocation. */
typedef struct p3cfg__error_state {
  int code, line, column;
  int has_file;
  char message[P3CFG__ERROR_MESSAGE_CAP];
  char file[P3CFG__ERROR_FILE_CAP];
} p3cfg__error_state;

/* Copy this thread's last error into *out. */
void p3cfg__error_save(p3cfg__error_state *out);
/* Make *e this thread's last error; returns its code. */
int p3cfg__error_restore(const p3cfg__error_state *e);

/* The diagnostics list behind the opaque p3cfg_diagnostics. */
struct p3cfg_diagnostics {
  p3cfg_diag *items;
  size_t count, cap;
  char *file;     /* owned copy of the file name every item points to */
  int nomem;      /* an append failed for lack of memory */
};

/* A new, empty list for `file` (copied); NULL when out of memory. */
p3cfg_diagnostics *p3cfg__diags_new(const char *file);
/* Append one problem (the message is formatted and owned by the list). Returns `code`,
 * or P3CFG_ENOMEM when the item could not be stored (the list remembers that). */
int p3cfg__diags_add(p3cfg_diagnostics *d, int code, int line, int column, const char *fmt,
                     ...) P3CFG_PRINTF(5, 6);
int p3cfg__diags_vadd(p3cfg_diagnostics *d, int code, int line, int column, const char *fmt,
                      va_list ap);
/* Sort items by (line, column), keeping insertion order among equals. */
void p3cfg__diags_sort(p3cfg_diagnostics *d);
/* Copy the first problem into the last error and return its code (P3CFG_OK if none;
 * P3CFG_ENOMEM if the list lost items for lack of memory). */
int p3cfg__diags_to_error(const p3cfg_diagnostics *d);

#endif
