/*
 * cli_constraints.c — parsing of the constraint flags shared by `search` and `estimate`.
 * Every value is checked here against the library's knob table (p3cfg_knob_find: bounds,
 * words), with a usage error naming the flag and the bad value.
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
  c->framework = P3CFG_FRAMEWORK_MEGATRON;
  c->compile = -1;
}

static int parse_stage_layers(cli_constraints *c, const char *command, const char *text)
{
  const p3cfg_knob *k = cli_knob("stage-layers");
  const char *p = text;
  c->n_stage_layers = 0;
  for (;;) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = 0;
    if (*p >= '0' && *p <= '9')
      v = strtoull(p, &end, 10);
    if (!end || errno || end == p || v < k->min || v > k->max || (*end != ',' && *end != '\0')) {
      cli_usage_error(command,
                      "--%s must be a comma list of positive integers, got \"%s\"", k->flag,
                      text);
      return -1;
    }
    if (c->n_stage_layers == k->max_count) {
      cli_usage_error(command, "--%s has more than %u entries", k->flag, k->max_count);
      return -1;
    }
    c->stage_layers[c->n_stage_layers++] = (uint32_t)v;
    if (*end == '\0')
      return 0;
    p = end + 1;
  }
}

/* "none" or a comma list of the knob's words, each at most once (as parse_word_flags):
 * word i is the flag 1 << i (P3CFG_OVERLAP_GRAD_REDUCE, _PARAM_GATHER, _TP_COMM). An
 * empty list or an empty word ("", "grad,") is refused, not read as none. */
static int parse_overlap(cli_constraints *c, const char *command, const char *text)
{
  const p3cfg_knob *k = cli_knob("overlap");
  c->overlap = 0;
  if (strcmp(text, "none") == 0)
    return 0;
  const char *p = text;
  do {
    const size_t n = strcspn(p, ",");
    size_t i = 0;
    while (i < k->n_choices && !(strlen(k->choices[i]) == n && strncmp(p, k->choices[i], n) == 0))
      i++;
    char word[64], hint[96];
    snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), p);
    if (strcmp(word, "none") == 0) {
      cli_usage_error(command, "--%s none stands alone, got \"%s\"", k->flag, text);
      return -1;
    }
    if (i == k->n_choices) {
      const char *kinds[8] = {"none"};
      char words[64] = "";
      for (size_t j = 0; j < k->n_choices && j + 1 < 8; j++) {
        kinds[j + 1] = k->choices[j];
        const size_t at = strlen(words);
        snprintf(words + at, sizeof words - at, "%s%s", j ? ", " : "", k->choices[j]);
      }
      cli_usage_error(command, "--%s takes none or a comma list of %s; got \"%s\"%s", k->flag,
                      words, text,
                      cli_did_you_mean(hint, sizeof hint, word, "", kinds, k->n_choices + 1));
      return -1;
    }
    if (c->overlap & (1u << i)) {
      cli_usage_error(command, "--%s names %s twice in \"%s\"", k->flag, word, text);
      return -1;
    }
    c->overlap |= 1u << i;
    p += n;
  } while (*p++ == ',');
  return 0;
}

/* A comma list of Megatron-LM's selective-recompute modules (the knob's words; word i is
 * the flag 1 << i, P3CFG_RECOMPUTE_MODULE_*): at least one, none twice. */
/* A comma list of the words of LIST knob `flag` as a bit set (word i is 1 << i), each
 * word at most once. */
static int parse_word_flags(unsigned *out, const char *command, const char *flag,
                            const char *text)
{
  const p3cfg_knob *k = cli_knob(flag);
  char words[160] = "";
  for (size_t j = 0; j < k->n_choices; j++) {
    const size_t at = strlen(words);
    snprintf(words + at, sizeof words - at, "%s%s", j ? ", " : "", k->choices[j]);
  }
  *out = 0;
  const char *p = text;
  do {
    const size_t n = strcspn(p, ",");
    size_t i = 0;
    while (i < k->n_choices && !(strlen(k->choices[i]) == n && strncmp(p, k->choices[i], n) == 0))
      i++;
    char word[64], hint[96];
    snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), p);
    if (i == k->n_choices) {
      cli_usage_error(command, "--%s takes a comma list of %s; got \"%s\"%s", k->flag, words,
                      text, cli_did_you_mean(hint, sizeof hint, word, "", k->choices, k->n_choices));
      return -1;
    }
    if (*out & (1u << i)) {
      cli_usage_error(command, "--%s names %s twice in \"%s\"", k->flag, word, text);
      return -1;
    }
    *out |= 1u << i;
    p += n;
  } while (*p++ == ',');
  return 0;
}

/* The word of a CHOICE knob (its index), with a did-you-mean when it is none of them. */
static int parse_choice(int *out, const char *command, const p3cfg_knob *k, const char *text)
{
  for (size_t i = 0; i < k->n_choices; i++)
    if (strcmp(text, k->choices[i]) == 0) {
      *out = (int)i;
      return 0;
    }
  char words[96] = "", hint[96];
  for (size_t i = 0; i < k->n_choices; i++) {
    const size_t at = strlen(words);
    snprintf(words + at, sizeof words - at, "%s%s",
             i == 0 ? "" : i + 1 == k->n_choices ? " or " : ", ", k->choices[i]);
  }
  cli_usage_error(command, "--%s must be %s, got \"%s\"%s", k->flag, words, text,
                  cli_did_you_mean(hint, sizeof hint, text, "", k->choices, k->n_choices));
  return -1;
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
    static const char *const flags[] = {"dp", "tp", "pp", "mbs", "vpp"};
    unsigned *slots[] = {&c->dp, &c->tp, &c->pp, &c->mbs, &c->vpp};
    const int k = id - OPT_DP;
    if (cli_parse_knob_u64(command, cli_knob(flags[k]), value, &v))
      return -1;
    *slots[k] = (unsigned)v;
    return 1;
  }
  case OPT_CP:
  case OPT_EP:
  case OPT_ETP: {
    static const char *const flags[] = {"cp", "ep", "etp"};
    unsigned *slots[] = {&c->cp, &c->ep, &c->etp};
    const int k = id - OPT_CP;
    if (cli_parse_knob_u64(command, cli_knob(flags[k]), value, &v))
      return -1;
    *slots[k] = (unsigned)v;
    return 1;
  }
  case OPT_RECOMPUTE:
    return parse_choice(&c->recompute, command, cli_knob("recompute"), value) ? -1 : 1;
  case OPT_SP:
    c->sp = 1;
    return 1;
  case OPT_NO_SP:
    c->sp = 0;
    return 1;
  case OPT_ZERO:
    if (cli_parse_knob_u64(command, cli_knob("zero"), value, &v))
      return -1;
    c->zero = (int)v;
    return 1;
  case OPT_FRAMEWORK: {
    /* search also takes "all": the knob's words and that one. */
    p3cfg_knob k = *cli_knob("framework");
    const char *words[8];
    const int search = strcmp(command, "search") == 0;
    for (size_t i = 0; i < k.n_choices && i < 7; i++)
      words[i] = k.choices[i];
    if (search && k.n_choices < 8) {
      words[k.n_choices] = "all";
      k.choices = words;
      k.n_choices++;
    }
    if (parse_choice(&c->framework, command, &k, value))
      return -1;
    if (search && (size_t)c->framework + 1 == k.n_choices)
      c->framework = CLI_FRAMEWORK_ALL;
    return 1;
  }
  case OPT_DP_SHARD:
    if (cli_parse_knob_u64(command, cli_knob("dp-shard"), value, &v))
      return -1;
    c->dp_shard = (unsigned)v;
    return 1;
  case OPT_COMPILE:
    c->compile = 1;
    return 1;
  case OPT_NO_COMPILE:
    c->compile = 0;
    return 1;
  case OPT_RECOMPUTE_MODULES:
    return parse_word_flags(&c->recompute_modules, command, "recompute-modules", value) ? -1
                                                                                         : 1;
  case OPT_SPLIT_ACCOUNTS:
    return parse_word_flags(&c->split_accounts, command, "split-accounts", value) ? -1 : 1;
  case OPT_CPU_OFFLOAD:
    if (cli_parse_knob_u64(command, cli_knob("cpu-offload-layers"), value, &v))
      return -1;
    c->cpu_offload_layers = (unsigned)v;
    return 1;
  case OPT_STAGE_LAYERS:
    return parse_stage_layers(c, command, value) ? -1 : 1;
  case OPT_OVERLAP:
    return parse_overlap(c, command, value) ? -1 : 1;
  case OPT_GPUS:
    return cli_parse_knob_u64(command, cli_knob("gpus"), value, &c->gpus) ? -1 : 1;
  case OPT_GLOBAL_BATCH:
    return cli_parse_knob_u64(command, cli_knob("global-batch"), value, &c->global_batch) ? -1
                                                                                           : 1;
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
