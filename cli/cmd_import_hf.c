/*
 * cmd_import_hf.c — `p3cfg import-hf CONFIG.json [-o FILE]`: a Hugging Face config.json
 * as a p3cfg model file (p3cfg_model_import_hf does the mapping), on stdout or in FILE.
 * A note on stderr counts the keys written as "not modelled yet" comments.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum { OPT_NAME = 1, OPT_SEQ_LEN, OPT_GLOBAL_BATCH, OPT_OUTPUT, OPT_FORCE, OPT_QUIET };

static const cli_option options[] = {
    {"name", 0, "NAME", "the model's name (default: the file's folder, _name_or_path or "
                        "model_type)", OPT_NAME},
    {"seq-len", 0, "N", "tokens per sequence (default: max_position_embeddings, else 4096)",
     OPT_SEQ_LEN},
    {"global-batch", 0, "N", "sequences per optimizer step (default 1024)", OPT_GLOBAL_BATCH},
    {"output", 'o', "FILE", "write the model file to FILE instead of stdout", OPT_OUTPUT},
    {"force", 0, NULL, "replace FILE if it exists", OPT_FORCE},
    {"quiet", 'q', NULL, "no note about the keys p3cfg does not model", OPT_QUIET},
    {NULL, 0, NULL, NULL, 0},
};

static const char synopsis[] = "CONFIG.json [--name NAME] [--seq-len N] [--global-batch N] "
                               "[-o FILE]";
static const char summary[] =
    "Write a Hugging Face config.json as a p3cfg model file: every key with a comment\n"
    "naming where it comes from or the default used (experts, latent attention and\n"
    "head_dim included); routing details p3cfg does not model kept as comments.";

int cmd_import_hf(int argc, char **argv)
{
  const char *positional[argc > 0 ? argc : 1];
  cli_parser p;
  cli_parser_init(&p, "import-hf", options, argc, argv, positional);
  p3cfg_import_options o;
  p3cfg_import_options_init(&o);
  const char *output = NULL;
  int force = 0, quiet = 0, id;
  unsigned v = 0;
  while ((id = cli_next_option(&p)) != 0) {
    if (id == CLI_HELP) {
      cli_print_help(stdout, "import-hf", synopsis, summary, options);
      return EXIT_OK;
    }
    if (id < 0)
      return EXIT_USAGE;
    switch (id) {
    case OPT_NAME:
      if (!p.value[0] || strlen(p.value) > 256)
        return cli_usage_error("import-hf", "--name must be 1 to 256 bytes long");
      o.name = p.value;
      break;
    case OPT_SEQ_LEN:
      if (cli_parse_u32("import-hf", "seq-len", p.value, 1, 1u << 24, &v))
        return EXIT_USAGE;
      o.seq_len = v;
      break;
    case OPT_GLOBAL_BATCH:
      if (cli_parse_u32("import-hf", "global-batch", p.value, 1, 1u << 24, &v))
        return EXIT_USAGE;
      o.global_batch = v;
      break;
    case OPT_OUTPUT:
      output = p.value;
      break;
    case OPT_FORCE:
      force = 1;
      break;
    case OPT_QUIET:
      quiet = 1;
      break;
    }
  }
  if (p.n_positional != 1)
    return cli_usage_error("import-hf", "expected one CONFIG.json, got %d arguments",
                           p.n_positional);
  p3cfg_buffer buf = {0};
  unsigned unmodeled = 0;
  int rc = p3cfg_model_import_hf(&buf, positional[0], &o, &unmodeled);
  if (rc)
    return cli_library_error("import-hf", rc);
  int exit_code = cli_write_output(output, force, buf.data, buf.len);
  p3cfg_buffer_dispose(&buf);
  if (exit_code == EXIT_OK && unmodeled && !quiet)
    fprintf(stderr,
            "p3cfg import-hf: note: %u key%s of %s that p3cfg does not model (routing "
            "details) %s written as comments\n",
            unmodeled, unmodeled == 1 ? "" : "s", positional[0], unmodeled == 1 ? "is" : "are");
  return exit_code;
}
