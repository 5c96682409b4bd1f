/*
 * cli.h — what the subcommands of the p3cfg CLI share: the option table that drives
 * both parsing and --help, and the exit codes of spec §5. The CLI sees only the public
 * headers; anything a C user might want lives in the library.
 */
#ifndef P3CFG_CLI_H
#define P3CFG_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "p3cfg.h"

/* Exit codes (spec §5). */
enum {
  EXIT_OK = 0,
  EXIT_BAD_INPUT = 1, /* bad input or runtime failure */
  EXIT_USAGE = 2,
  EXIT_NO_FIT = 3 /* no plan fits in memory */
};

typedef struct cli_option {
  const char *name;     /* long name without "--" */
  char short_name;      /* 0 when none */
  const char *arg;      /* argument placeholder for --help, NULL for a flag */
  const char *help;     /* one line */
  int id;               /* returned by cli_next_option */
} cli_option;

/* An option that is a knob of the library's table (p3cfg_knob_find of its flag, or of a
 * switch's flag_off): the value placeholder and the --help line are the table's. An
 * entry with help NULL is such an entry. */
#define CLI_KNOB(flag, id) {(flag), 0, NULL, NULL, (id)}
/* The most options one command has (knob entries resolved). */
#define CLI_MAX_OPTIONS 64

typedef struct cli_parser {
  const char *command; /* "estimate" */
  const cli_option *options; /* = resolved */
  cli_option resolved[CLI_MAX_OPTIONS]; /* the command's table, knob entries filled in */
  int argc;
  char **argv;
  int index;           /* next argv index */
  const char **positional; /* collected positional arguments */
  int n_positional;
  const char *value;   /* argument of the option just returned */
  int only_positional; /* after "--" */
} cli_parser;

/* Start parsing argv[0..argc) (argv[0] is the first argument after the command). */
void cli_parser_init(cli_parser *p, const char *command, const cli_option *options, int argc,
                     char **argv, const char **positional_storage);
/* The id of the next option (its argument in p->value), 0 at the end, or -1 after
 * printing a usage error to stderr. Positional arguments are collected on the way.
 * "--help"/"-h" returns CLI_HELP. */
#define CLI_HELP (-2)
int cli_next_option(cli_parser *p);
/* Print "usage: p3cfg COMMAND SYNOPSIS" and the option table. */
void cli_print_help(FILE *out, const char *command, const char *synopsis, const char *summary,
                    const cli_option *options);

/* Parse the value of an integer knob (P3CFG_KNOB_INT, or each entry of a list) within
 * the table's bounds: "--FLAG must be an integer in [MIN, MAX]" (or "a non-negative
 * integer", or "0, 1, 2 or 3" for a short range) and -1 on failure. */
int cli_parse_knob_u64(const char *command, const p3cfg_knob *k, const char *text,
                       uint64_t *out);
/* cli_parse_knob_u64 of p3cfg_knob_find(name), for a knob no wider than 32 bits. */
int cli_parse_knob_u32(const char *command, const char *name, const char *text, unsigned *out);
/* The knob `name` of the table; asserts it exists. */
const p3cfg_knob *cli_knob(const char *name);

/* Parse a positive/non-negative integer option value; prints a usage error and
 * returns -1 on failure. */
int cli_parse_u32(const char *command, const char *option, const char *text, unsigned min,
                  unsigned max, unsigned *out);

/* Parse a number in (0, max] (`what` names it in the error, e.g. "number of seconds");
 * prints a usage error and returns EXIT_USAGE on failure. */
int cli_parse_positive(const char *command, const char *option, const char *text, double max,
                       const char *what, double *out);

/* "; did you mean 'WORD'?" for the entry of cands[0..n) closest to `word`
 * (p3cfg_suggest), written into buf; "" when none is close. `prefix` goes before the
 * word ("--" for options, "" for values). Returns buf. */
const char *cli_did_you_mean(char *buf, size_t cap, const char *word, const char *prefix,
                             const char *const *cands, size_t n);

/* Whether MODEL and CLUSTER (paths[0], paths[1]) were given the other way round: the
 * first reads as a cluster file and the second as a model file. Then prints a usage
 * error saying so and returns 1; 0 otherwise (the load then reports what is wrong). */
int cli_inputs_swapped(const char *command, const char *const *paths);

/* Print an error as "p3cfg: FILE:LINE:COL: message" or "p3cfg: message": the one form of
 * every library error the CLI shows (libp3cfg's and libp3cfg_mpi's). */
void cli_print_error_of(const p3cfg_error *e);
/* Print libp3cfg's last error (cli_print_error_of). */
void cli_print_error(void);
/* Print a usage error "p3cfg COMMAND: message" and a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* From now on cli_usage_error only returns EXIT_USAGE: the commands run under mpirun call
 * it on every rank but the first, so that a usage error is printed once, not per rank. */
void cli_silence_usage_errors(void);
/* Print `s` as a JSON string (quoted; ", \\ and control characters escaped). */
void cli_json_string(FILE *out, const char *s);
/* Report the failure `rc` of a library call made for `command`: P3CFG_EINVALID (bad
 * options) as a usage error, anything else as cli_print_error does. Returns the exit
 * code (cli_exit_code). */
int cli_library_error(const char *command, int rc);
/* Map a library error code to the CLI exit code. */
int cli_exit_code(int rc);

/* The output flags of the commands that print a result: --format table|json,
 * -o/--output FILE, --force, -q/--quiet. */
enum { OPT_OUT_FORMAT = 400, OPT_OUT_FILE, OPT_OUT_FORCE, OPT_OUT_QUIET };

#define CLI_OUTPUT_OPTIONS                                                               \
  {"format", 0, "table|json", "output format (default table)", OPT_OUT_FORMAT},          \
      {"output", 'o', "FILE", "write the result to FILE instead of stdout", OPT_OUT_FILE}, \
      {"force", 0, NULL, "replace FILE if it exists", OPT_OUT_FORCE},                    \
      {"quiet", 'q', NULL, "print nothing but the result and errors", OPT_OUT_QUIET}

typedef struct cli_output {
  int json, force, quiet;
  const char *path; /* NULL = stdout */
} cli_output;

/* 1 when `id` was an output flag, 0 when not, -1 after a usage error. */
int cli_output_option(cli_output *o, const char *command, int id, const char *value);

/* The one writer of every file the CLI writes (cli_output.c): `len` bytes to stdout
 * (path NULL or "-") or atomically to `path` (a temporary file beside it, published with
 * link() so that an existing file is never replaced unless `force`, and removed on
 * SIGINT/SIGTERM/SIGHUP). A FIFO or character device is written in place only with
 * `force` (a FIFO without a reader is an error, never a wait); a directory, socket or
 * block device is refused. Returns an exit code, after printing why. */
int cli_write_output(const char *path, int force, const char *data, size_t len);
/* A usage error (returns -1, after printing it) when an output path option's value is
 * the empty string; 0 otherwise. */
int cli_output_path_option(const char *command, const char *option, const char *value);
/* At exit: flush and close stdout; when what was written to it did not all arrive
 * (/dev/full, a closed descriptor), say so (once) and turn `status` 0 into 1. */
int cli_finish_stdout(int status);
/* Say (once) that writing to stdout failed, with errno's reason; returns EXIT_BAD_INPUT. */
int cli_stdout_failed(void);

/* Subcommands: each returns the process exit code. */
int cmd_validate(int argc, char **argv);
int cmd_estimate(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_replan(int argc, char **argv);
int cmd_import_hf(int argc, char **argv);

#endif
