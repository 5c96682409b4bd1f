/*
 * cli_budget.c — --mem-margin and --tokens of `search` and `estimate`, checked here with
 * a usage error naming the flag and the bad value.
 */
#include "cli_budget.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cli_budget_init(cli_budget *b)
{
  memset(b, 0, sizeof *b);
}

/* A non-negative finite decimal number at the start of `text` (no sign, no hex, no
 * inf/nan); *end after it. -1 when there is none. */
static int leading_number(const char *text, double *v, const char **end)
{
  if (!((text[0] >= '0' && text[0] <= '9') || (text[0] == '.' && text[1] >= '0' && text[1] <= '9')))
    return -1;
  char *e = NULL;
  errno = 0;
  *v = strtod(text, &e);
  if (errno || e == text || !isfinite(*v) || *v < 0)
    return -1;
  for (const char *p = text; p < e; p++) /* decimal only: no hex floats */
    if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
          *p == '-'))
      return -1;
  *end = e;
  return 0;
}

static int parse_margin(cli_budget *b, const char *command, const char *text)
{
  static const struct {
    const char *unit;
    double bytes;
  } units[] = {{"B", 1.0},
               {"KiB", 1024.0},
               {"MiB", 1024.0 * 1024.0},
               {"GiB", 1024.0 * 1024.0 * 1024.0},
               {"TiB", 1024.0 * 1024.0 * 1024.0 * 1024.0},
               {"KB", 1e3},
               {"MB", 1e6},
               {"GB", 1e9},
               {"TB", 1e12}};
  double v = 0;
  const char *unit = NULL;
  if (text[0] == '-')
    return cli_usage_error(command, "--mem-margin must not be negative, got \"%s\"", text);
  if (leading_number(text, &v, &unit))
    return cli_usage_error(command,
                           "--mem-margin must be a percentage (5%%) or a size with a unit "
                           "(2GiB, 512MiB, 1.5GB), got \"%s\"",
                           text);
  if (strcmp(unit, "%") == 0) {
    if (!(v < 100.0))
      return cli_usage_error(command,
                             "--mem-margin must be less than 100%% of the GPU's memory, got "
                             "\"%s\"",
                             text);
    b->margin_fraction = v / 100.0;
    b->margin_bytes = 0;
    b->margin_text = text;
    return 0;
  }
  if (unit[0] == '\0' && v == 0.0) { /* "0" needs no unit */
    b->margin_fraction = 0.0;
    b->margin_bytes = 0;
    b->margin_text = text;
    return 0;
  }
  if (unit[0] == '\0')
    return cli_usage_error(command,
                           "--mem-margin %s needs a unit: a percentage (%s%%) or a size (%sGiB)",
                           text, text, text);
  for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
    if (strcasecmp(unit, units[k].unit) == 0) {
      const double bytes = ceil(v * units[k].bytes);
      if (!(bytes < 18446744073709551616.0))
        return cli_usage_error(command, "--mem-margin is too large, got \"%s\"", text);
      b->margin_bytes = (uint64_t)bytes;
      b->margin_fraction = 0.0;
      b->margin_text = text;
      return 0;
    }
  return cli_usage_error(command,
                         "--mem-margin: unknown unit \"%s\" in \"%s\" (use %%, B, KiB, MiB, "
                         "GiB, TiB, KB, MB, GB or TB)",
                         unit, text);
}

static int parse_tokens(cli_budget *b, const char *command, const char *text)
{
  static const struct {
    char suffix;
    double scale;
  } suffixes[] = {{'K', 1e3}, {'M', 1e6}, {'G', 1e9}, {'B', 1e9}, {'T', 1e12}};
  double v = 0;
  const char *rest = NULL;
  double scale = 0;
  if (leading_number(text, &v, &rest) == 0) {
    if (rest[0] == '\0')
      scale = 1.0;
    else if (rest[1] == '\0')
      for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++)
        if (rest[0] == suffixes[k].suffix || rest[0] == suffixes[k].suffix + ('a' - 'A'))
          scale = suffixes[k].scale;
  }
  /* A fraction of a token is no count: refused, not rounded up to 1 (or, without a
   * suffix, to the next whole number). */
  if (scale > 0 && v * scale > 0 && v * scale < 1.0)
    return cli_usage_error(command, "--tokens must be at least 1 token, got \"%s\"", text);
  if (scale == 1.0 && v != floor(v))
    return cli_usage_error(command,
                           "--tokens must be a whole number of tokens (or have a suffix: 1.5T), "
                           "got \"%s\"",
                           text);
  const double tokens = floor(v * scale + 0.5);
  if (scale == 0 || !(tokens >= 1.0) || tokens > 1e18)
    return cli_usage_error(command,
                           "--tokens must be a positive token count up to 1e18 with an "
                           "optional suffix K, M, G, B or T (15T, 300B), got \"%s\"",
                           text);
  b->tokens = (uint64_t)tokens;
  b->tokens_text = text;
  return 0;
}

int cli_budget_option(cli_budget *b, const char *command, int id, const char *value)
{
  switch (id) {
  case OPT_MEM_MARGIN:
    return parse_margin(b, command, value) ? -1 : 1;
  case OPT_TOKENS:
    return parse_tokens(b, command, value) ? -1 : 1;
  default:
    return 0;
  }
}

int cli_budget_check(const cli_budget *b, const char *command, const p3cfg_cluster *cluster)
{
  p3cfg_cluster_info info;
  if (!b->margin_bytes || p3cfg_cluster_get_info(&info, cluster) != 0)
    return 0;
  if (b->margin_bytes >= info.gpu_memory_bytes)
    return cli_usage_error(command,
                           "--mem-margin %s is not less than the GPU's memory (%.2f GiB of %s)",
                           b->margin_text, (double)info.gpu_memory_bytes / (1024.0 * 1024.0 * 1024.0),
                           info.gpu_name);
  return 0;
}
