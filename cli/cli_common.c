/*
 * cli_common.c — option-table parsing, --help generation and error printing shared by
 * every subcommand, so that all of them behave alike.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const p3cfg_knob *cli_knob(const char *name)
{
  const p3cfg_knob *k = p3cfg_knob_find(name);
  assert(k);
  return k;
}

/* The knob whose flag or flag_off is `flag`; asserts it exists. */
static const p3cfg_knob *cli_knob_of_flag(const char *flag)
{
  for (size_t i = 0; i < p3cfg_knob_count(); i++) {
    const p3cfg_knob *k = p3cfg_knob_at(i);
    if (strcmp(k->flag, flag) == 0 || (k->flag_off && strcmp(k->flag_off, flag) == 0))
      return k;
  }
  assert(!"an option table names a knob the library does not have");
  return NULL;
}

/* Copy the option table `src` into dst[0..cap), its knob entries filled in from the
 * library's table, and terminate it. */
static void resolve_options(cli_option *dst, size_t cap, const cli_option *src)
{
  size_t n = 0;
  for (; src && src->name && n + 1 < cap; src++) {
    dst[n] = *src;
    if (!src->help) {
      const p3cfg_knob *k = cli_knob_of_flag(src->name);
      const int off = k && k->flag_off && strcmp(k->flag_off, src->name) == 0;
      dst[n].arg = k ? k->arg : NULL;
      dst[n].help = !k ? "" : off ? k->help_off : k->help;
    }
    n++;
  }
  assert(!src || !src->name); /* CLI_MAX_OPTIONS is enough */
  dst[n] = (cli_option){NULL, 0, NULL, NULL, 0};
}

void cli_parser_init(cli_parser *p, const char *command, const cli_option *options, int argc,
                     char **argv, const char **positional_storage)
{
  memset(p, 0, sizeof *p);
  p->command = command;
  resolve_options(p->resolved, CLI_MAX_OPTIONS, options);
  p->options = p->resolved;
  p->argc = argc;
  p->argv = argv;
  p->positional = positional_storage;
}

static const cli_option *find_long(const cli_option *opts, const char *name, size_t len)
{
  for (; opts && opts->name; opts++)
    if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
      return opts;
  return NULL;
}

const char *cli_did_you_mean(char *buf, size_t cap, const char *word, const char *prefix,
                             const char *const *cands, size_t n)
{
  const char *hint = p3cfg_suggest(word, cands, n);
  if (hint)
    snprintf(buf, cap, "; did you mean '%s%s'?", prefix, hint);
  else if (cap)
    buf[0] = '\0';
  return buf;
}

/* "; did you mean '--NAME'?" for an unknown long option name[0..len). */
static const char *option_hint(char *buf, size_t cap, const cli_option *opts, const char *name,
                               size_t len)
{
  const char *names[128];
  size_t n = 0;
  for (; opts && opts->name && n < 127; opts++)
    names[n++] = opts->name;
  names[n++] = "help";
  char word[64];
  snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), name);
  return cli_did_you_mean(buf, cap, word, "--", names, n);
}

static const cli_option *find_short(const cli_option *opts, char c)
{
  for (; opts && opts->name; opts++)
    if (opts->short_name && opts->short_name == c)
      return opts;
  return NULL;
}

int cli_next_option(cli_parser *p)
{
  while (p->index < p->argc) {
    char *a = p->argv[p->index++];
    if (p->only_positional || a[0] != '-' || a[1] == '\0') {
      p->positional[p->n_positional++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      p->only_positional = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return CLI_HELP;
    const cli_option *o;
    const char *inline_value = NULL;
    if (a[1] == '-') {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      o = find_long(p->options, name, len);
      if (!o) {
        char hint[96];
        cli_usage_error(p->command, "unknown option '--%.*s'%s", (int)len, name,
                        option_hint(hint, sizeof hint, p->options, name, len));
        return -1;
      }
      if (eq)
        inline_value = eq + 1;
    } else {
      if (a[2] != '\0') {
        cli_usage_error(p->command, "unknown option '%s'", a);
        return -1;
      }
      o = find_short(p->options, a[1]);
      if (!o) {
        cli_usage_error(p->command, "unknown option '%s'", a);
        return -1;
      }
    }
    p->value = NULL;
    if (o->arg) {
      if (inline_value) {
        p->value = inline_value;
      } else if (p->index < p->argc) {
        p->value = p->argv[p->index++];
      } else {
        cli_usage_error(p->command, "option '--%s' needs a value (%s)", o->name, o->arg);
        return -1;
      }
    } else if (inline_value) {
      cli_usage_error(p->command, "option '--%s' takes no value", o->name);
      return -1;
    }
    return o->id;
  }
  return 0;
}

void cli_print_help(FILE *out, const char *command, const char *synopsis, const char *summary,
                    const cli_option *options)
{
  fprintf(out, "usage: p3cfg %s %s\n\n%s\n\noptions:\n", command, synopsis, summary);
  cli_option resolved[CLI_MAX_OPTIONS];
  resolve_options(resolved, CLI_MAX_OPTIONS, options);
  for (const cli_option *o = resolved; o->name; o++) {
    char left[64];
    if (o->short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
               o->arg ? o->arg : "");
    else
      snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(out, "  %-28s %s\n", left, o->help);
  }
  fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

int cli_parse_knob_u64(const char *command, const p3cfg_knob *k, const char *text,
                       uint64_t *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = 0;
  if (text[0] >= '0' && text[0] <= '9')
    v = strtoull(text, &end, 10);
  if (end && !errno && *end == '\0' && v >= k->min && v <= k->max) {
    *out = v;
    return 0;
  }
  if (k->min == 0 && k->max == UINT64_MAX) {
    cli_usage_error(command, "--%s must be a non-negative integer, got \"%s\"", k->flag, text);
  } else if (k->max - k->min <= 3) {
    char list[64] = "";
    for (uint64_t i = k->min; i <= k->max; i++) {
      const size_t at = strlen(list);
      snprintf(list + at, sizeof list - at, "%s%llu",
               i == k->min ? "" : i == k->max ? " or " : ", ", (unsigned long long)i);
    }
    cli_usage_error(command, "--%s must be %s, got \"%s\"", k->flag, list, text);
  } else {
    cli_usage_error(command, "--%s must be an integer in [%llu, %llu], got \"%s\"", k->flag,
                    (unsigned long long)k->min, (unsigned long long)k->max, text);
  }
  return -1;
}

int cli_parse_knob_u32(const char *command, const char *name, const char *text, unsigned *out)
{
  const p3cfg_knob *k = cli_knob(name);
  assert(k->max <= UINT32_MAX);
  uint64_t v = 0;
  if (cli_parse_knob_u64(command, k, text, &v))
    return -1;
  *out = (unsigned)v;
  return 0;
}

int cli_parse_u32(const char *command, const char *option, const char *text, unsigned min,
                  unsigned max, unsigned *out)
{
  char *end = NULL;
  errno = 0;
  if (text[0] == '-' || text[0] == '+' || text[0] == '\0') {
    cli_usage_error(command, "--%s must be an integer in [%u, %u], got \"%s\"", option, min, max,
                    text);
    return -1;
  }
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end != '\0' || v < min || v > max) {
    cli_usage_error(command, "--%s must be an integer in [%u, %u], got \"%s\"", option, min, max,
                    text);
    return -1;
  }
  *out = (unsigned)v;
  return 0;
}

int cli_parse_positive(const char *command, const char *option, const char *text, double max,
                       const char *what, double *out)
{
  char *end = NULL;
  errno = 0;
  const double v = strtod(text, &end);
  if (errno || end == text || *end != '\0' || !(v > 0.0) || !isfinite(v) || v > max)
    return cli_usage_error(command, "--%s must be a positive %s up to %g, got \"%s\"", option, what,
                           max, text);
  *out = v;
  return 0;
}

static p3cfg_file_kind kind_of(const char *path)
{
  p3cfg_diagnostics *d = NULL;
  p3cfg_file_kind kind = P3CFG_FILE_AUTO;
  p3cfg_validate_file(&d, &kind, path, P3CFG_FILE_AUTO);
  p3cfg_diagnostics_free(d);
  return kind;
}

int cli_inputs_swapped(const char *command, const char *const *paths)
{
  /* Model files are small: reading the first one twice costs nothing noticeable. */
  if (kind_of(paths[0]) != P3CFG_FILE_CLUSTER || kind_of(paths[1]) != P3CFG_FILE_MODEL)
    return 0;
  cli_usage_error(command,
                  "MODEL and CLUSTER look swapped: '%s' is a cluster file and '%s' a model "
                  "file; give the model first",
                  paths[0], paths[1]);
  return 1;
}

void cli_print_error(void)
{
  cli_print_error_of(p3cfg_error_last());
}

void cli_print_error_of(const p3cfg_error *e)
{
  if (e->file && e->line > 0)
    fprintf(stderr, "p3cfg: %s:%d:%d: %s\n", e->file, e->line, e->column, e->message);
  else if (e->file)
    fprintf(stderr, "p3cfg: %s: %s\n", e->file, e->message);
  else
    fprintf(stderr, "p3cfg: %s\n", e->message[0] ? e->message : p3cfg_strerror(e->code));
}

static int usage_silent; /* set on the ranks but the first of an MPI job */

void cli_silence_usage_errors(void)
{
  usage_silent = 1;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
  if (usage_silent)
    return EXIT_USAGE;
  va_list ap;
  /* Spec §5: errors not about an input file are "p3cfg: message". */
  fprintf(stderr, "p3cfg: %s: ", command);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see 'p3cfg %s --help')\n", command);
  return EXIT_USAGE;
}

int cli_library_error(const char *command, int rc)
{
  if (rc == P3CFG_EINVALID)
    return cli_usage_error(command, "%s", p3cfg_error_last()->message);
  cli_print_error();
  return cli_exit_code(rc);
}

int cli_exit_code(int rc)
{
  switch (rc) {
  case P3CFG_OK:
    return EXIT_OK;
  case P3CFG_EINFEASIBLE:
    return EXIT_NO_FIT;
  case P3CFG_EINVALID:
    return EXIT_USAGE;
  default:
    return EXIT_BAD_INPUT;
  }
}

void cli_json_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(out, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", out);
    else if (*c == '\t')
      fputs("\\t", out);
    else if (*c < 0x20 || *c == 0x7f)
      fprintf(out, "\\u%04x", *c);
    else
      fputc(*c, out);
  }
  fputc('"', out);
}
