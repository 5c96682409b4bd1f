/*
 * main.c — the p3cfg command line: a table of subcommands, each in cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"search", cmd_search, "every valid plan scored, the best ones printed"},
    {"estimate", cmd_estimate, "memory and time of one fully given plan"},
    {"replan", cmd_replan, "when nodes fail: the old plan kept where it fits, or a new one"},
    {"export", cmd_export, "one plan of a JSON plan file in a launcher's terms"},
    {"validate", cmd_validate, "check model and cluster files, report every problem"},
    {"import-hf", cmd_import_hf, "a Hugging Face config.json as a model file"},
    {"profile", cmd_profile, "under mpirun: measure every link, write a cluster file"},
    {"replay", cmd_replay, "under mpirun: a plan's communication, measured vs predicted"},
};

static void usage(FILE *out)
{
  fprintf(out, "usage: p3cfg COMMAND [options] [args]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'p3cfg COMMAND --help' describes one command; 'p3cfg --version' prints "
               "the version.\n");
}

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(name, commands[i].name) == 0)
      return &commands[i];
  return NULL;
}

/* "unknown command" with the closest command when one is close (then without the list,
 * which the hint line points to), or with the list of commands. */
static int unknown_command(const char *name)
{
  const char *names[N_COMMANDS + 2];
  for (size_t i = 0; i < N_COMMANDS; i++)
    names[i] = commands[i].name;
  names[N_COMMANDS] = "help";
  names[N_COMMANDS + 1] = "version";
  char hint[96];
  cli_did_you_mean(hint, sizeof hint, name, "", names, N_COMMANDS + 2);
  if (hint[0]) {
    fprintf(stderr, "p3cfg: unknown command '%s'%s (see 'p3cfg help')\n", name, hint);
  } else {
    fprintf(stderr, "p3cfg: unknown command '%s'\n", name);
    usage(stderr);
  }
  return EXIT_USAGE;
}

/* `p3cfg help [COMMAND]`: the list of commands, or `p3cfg COMMAND --help`. */
static int help(int argc, char **argv)
{
  if (argc == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  if (argc > 1) {
    fprintf(stderr, "p3cfg: help: expected at most one COMMAND, got %d arguments (see 'p3cfg "
                    "help')\n",
            argc);
    return EXIT_USAGE;
  }
  if (strcmp(argv[0], "help") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  const command *c = find_command(argv[0]);
  if (!c)
    return unknown_command(argv[0]);
  char help_flag[] = "--help";
  char *args[] = {help_flag, NULL};
  return c->run(1, args);
}

/* `s` for a Markdown table cell: '|' escaped. */
static void cell(const char *s)
{
  for (; *s; s++) {
    if (*s == '|')
      putchar('\\');
    putchar(*s);
  }
}

/* `p3cfg --list-knobs` (not in the usage): the knob table of the library as the Markdown
 * table of docs/cli.md, "Knobs", which the docs_knobs test compares with this output. */
static int list_knobs(void)
{
  fputs("| flag | field | JSON key | values | default | meaning |\n"
        "|---|---|---|---|---|---|\n",
        stdout);
  for (size_t i = 0; i < p3cfg_knob_count(); i++) {
    const p3cfg_knob *k = p3cfg_knob_at(i);
    fputs("| `--", stdout);
    cell(k->flag);
    if (k->arg) {
      putchar(' ');
      cell(k->arg);
    }
    putchar('`');
    if (k->flag_off)
      printf(", `--%s`", k->flag_off);
    printf(" | `%s` | %s%s%s | ", k->name, k->json_key ? "`" : "", k->json_key ? k->json_key : "-",
           k->json_key ? "`" : "");
    if (k->kind == P3CFG_KNOB_INT || (k->kind == P3CFG_KNOB_LIST && k->max > 0))
      printf("%llu to %llu", (unsigned long long)k->min, (unsigned long long)k->max);
    else if (k->kind == P3CFG_KNOB_SWITCH)
      fputs("on, off", stdout);
    for (size_t j = 0; j < k->n_choices; j++)
      printf("%s`%s`", j ? ", " : "", k->choices[j]);
    if (k->kind == P3CFG_KNOB_LIST && k->max_count)
      printf(", at most %u", k->max_count);
    if (k->kind == P3CFG_KNOB_TEXT || (k->kind == P3CFG_KNOB_LIST && !k->max && !k->n_choices))
      fputs("its own syntax (above)", stdout);
    fputs(" | ", stdout);
    cell(k->default_text);
    fputs(" | ", stdout);
    cell(k->doc);
    fputs(" |\n", stdout);
  }
  return EXIT_OK;
}

static int run(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return help(0, NULL);
  if (strcmp(argv[1], "help") == 0)
    return help(argc - 2, argv + 2);
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("p3cfg %s\n", p3cfg_version_string());
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--list-knobs") == 0 && argc == 2)
    return list_knobs();
  const command *c = find_command(argv[1]);
  if (c)
    return c->run(argc - 2, argv + 2);
  return unknown_command(argv[1]);
}

/* Every command's output is checked at exit: a result lost on the way to stdout (a full
 * disk, a closed descriptor) is a failure, not a success. */
int main(int argc, char **argv) { return cli_finish_stdout(run(argc, argv)); }
