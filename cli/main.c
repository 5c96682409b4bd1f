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

static int run(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("p3cfg %s\n", p3cfg_version_string());
    return EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 2, argv + 2);
  fprintf(stderr, "p3cfg: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return EXIT_USAGE;
}

/* Every command's output is checked at exit: a result lost on the way to stdout (a full
 * disk, a closed descriptor) is a failure, not a success. */
int main(int argc, char **argv) { return cli_finish_stdout(run(argc, argv)); }
