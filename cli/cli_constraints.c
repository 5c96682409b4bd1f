/*
 * cli_constraints.c — parsing of the constraint flags shared by `search` and `estimate`.
 * Every value is checked here, with a usage error naming the flag and the bad value.
 */
#include "cli_constraints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_constraints_init(cli_constraints *c)
{
  memset(c, 0, sizeof *c);
  c->recompute = -1;
  c->sp = -1;
  c->zero = -1;
}

static int parse_u64(const char *command, const char *option, const char *text, uint64_t max,
                     uint64_t *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = 0;
  if (text[0] >= '0' && text[0] <= '9')
    v = strtoull(text, &end, 10);
  if (!end || errno || *end != '\0' || v < 1 || v > max) {
    cli_usage_error(command, "--%s must be an integer in [1, %llu], got \"%s\"", option,
                    (unsigned long long)max, text);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_stage_layers(cli_constraints *c, const char *command, const char *text)
{
  const char *p = text;
  c->n_stage_layers = 0;
  for (;;) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = 0;
    if (*p >= '0' && *p <= '9')
      v = strtoull(p, &end, 10);
    if (!end || errno || end == p || v < 1 || v > 1000000 || (*end != ',' && *end != '\0')) {
      cli_usage_error(command,
                      "--stage-layers must be a comma list of positive integers, got \"%s\"",
                      text);
      return -1;
    }
    if (c->n_stage_layers == P3CFG_MAX_PP) {
      cli_usage_error(command, "--stage-layers has more than %d entries", P3CFG_MAX_PP);
      return -1;
    }
    c->stage_layers[c->n_stage_layers++] = (uint32_t)v;
    if (*end == '\0')
      return 0;
    p = end + 1;
  }
}

static int parse_overlap(cli_constraints *c, const char *command, const char *text)
{
  c->overlap = 0;
  if (strcmp(text, "none") == 0)
    return 0;
  const char *p = text;
  while (*p) {
    size_t n = strcspn(p, ",");
    if (n == 4 && strncmp(p, "grad", 4) == 0)
      c->overlap |= P3CFG_OVERLAP_GRAD_REDUCE;
    else if (n == 5 && strncmp(p, "param", 5) == 0)
      c->overlap |= P3CFG_OVERLAP_PARAM_GATHER;
    else if (n == 2 && strncmp(p, "tp", 2) == 0)
      c->overlap |= P3CFG_OVERLAP_TP_COMM;
    else {
      static const char *const kinds[] = {"none", "grad", "param", "tp"};
      char word[64], hint[96];
      snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), p);
      cli_usage_error(command, "--overlap takes none or a comma list of grad, param, tp; "
                               "got \"%s\"%s",
                      text, cli_did_you_mean(hint, sizeof hint, word, "", kinds, 4));
      return -1;
    }
    p += n;
    if (*p == ',')
      p++;
  }
  return 0;
}

int cli_constraints_option(cli_constraints *c, const char *command, int id, const char *value)
{
  uint64_t v = 0;
  switch (id) {
  case OPT_DP:
  case OPT_TP:
  case OPT_PP:
  case OPT_MBS:
  case OPT_VPP: {
    static const char *names[] = {"dp", "tp", "pp", "mbs", "vpp"};
    unsigned *slots[] = {&c->dp, &c->tp, &c->pp, &c->mbs, &c->vpp};
    const int k = id - OPT_DP;
    if (parse_u64(command, names[k], value, 1u << 24, &v))
      return -1;
    *slots[k] = (unsigned)v;
    return 1;
  }
  case OPT_RECOMPUTE: {
    p3cfg_recompute r;
    if (p3cfg_recompute_parse(&r, value)) {
      static const char *const modes[] = {"none", "selective", "full"};
      char hint[96];
      cli_usage_error(command, "--recompute must be none, selective or full, got \"%s\"%s",
                      value, cli_did_you_mean(hint, sizeof hint, value, "", modes, 3));
      return -1;
    }
    c->recompute = (int)r;
    return 1;
  }
  case OPT_SP:
    c->sp = 1;
    return 1;
  case OPT_NO_SP:
    c->sp = 0;
    return 1;
  case OPT_ZERO:
    if (strlen(value) != 1 || value[0] < '0' || value[0] > '3') {
      cli_usage_error(command, "--zero must be 0, 1, 2 or 3, got \"%s\"", value);
      return -1;
    }
    c->zero = value[0] - '0';
    return 1;
  case OPT_STAGE_LAYERS:
    return parse_stage_layers(c, command, value) ? -1 : 1;
  case OPT_OVERLAP:
    return parse_overlap(c, command, value) ? -1 : 1;
  case OPT_GPUS:
    if (parse_u64(command, "gpus", value, 1ull << 40, &c->gpus))
      return -1;
    return 1;
  case OPT_GLOBAL_BATCH:
    if (parse_u64(command, "global-batch", value, 1ull << 40, &c->global_batch))
      return -1;
    return 1;
  case OPT_EXCLUDE:
    if (value[0] == '\0' || (value[0] == '@' && value[1] == '\0')) {
      cli_usage_error(command, "--exclude needs hosts, host:gpu entries or @FILE");
      return -1;
    }
    c->exclude = value;
    return 1;
  default:
    return 0;
  }
}

int cli_constraints_check(const cli_constraints *c, const char *command,
                          const p3cfg_cluster *cluster)
{
  p3cfg_cluster_info info;
  if (!c->gpus || p3cfg_cluster_get_info(&info, cluster) != P3CFG_OK)
    return EXIT_OK;
  const uint64_t all = (uint64_t)info.nodes * info.gpus_per_node;
  if (c->gpus > all)
    return cli_usage_error(command, "--gpus %llu is more than the %llu GPUs of cluster %s",
                           (unsigned long long)c->gpus, (unsigned long long)all, info.name);
  return EXIT_OK;
}
