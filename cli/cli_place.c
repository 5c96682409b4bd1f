/*
 * cli_place.c — parsing the placement flags shared by `search` and `estimate`.
 */
#include "cli_place.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_place_init(cli_place *p)
{
  memset(p, 0, sizeof *p);
  p->place = -1;
  p->seed = 1;
}

/* "20000" -> moves; "500ms", "2s", "1.5s" -> seconds. */
static int parse_budget(cli_place *p, const char *command, const char *text)
{
  char *end = NULL;
  errno = 0;
  if (!(text[0] >= '0' && text[0] <= '9'))
    goto bad;
  double v = strtod(text, &end);
  if (errno || end == text || !isfinite(v) || v <= 0)
    goto bad;
  if (*end == '\0') {
    if (v != floor(v) || v > 1e12)
      goto bad;
    p->moves = (uint64_t)v;
    p->max_s = 0;
    return 0;
  }
  if (strcmp(end, "s") == 0)
    p->max_s = v;
  else if (strcmp(end, "ms") == 0)
    p->max_s = v / 1000.0;
  else
    goto bad;
  if (p->max_s > 86400)
    goto bad;
  p->moves = 0;
  return 0;
bad:
  cli_usage_error(command, "--place-budget must be a number of moves or a time such as "
                           "500ms or 2s, got \"%s\"",
                  text);
  return -1;
}

int cli_place_option(cli_place *p, const char *command, int id, const char *value)
{
  switch (id) {
  case OPT_PLACE:
    p->place = 1;
    return 1;
  case OPT_NO_PLACE:
    p->place = 0;
    return 1;
  case OPT_PLACE_TOP: {
    unsigned v;
    if (cli_parse_knob_u32(command, "place-top", value, &v))
      return -1;
    p->place_top = v;
    return 1;
  }
  case OPT_SEED:
    return cli_parse_knob_u64(command, cli_knob("seed"), value, &p->seed) ? -1 : 1;
  case OPT_PLACE_BUDGET:
    return parse_budget(p, command, value) ? -1 : 1;
  default:
    return 0;
  }
}
