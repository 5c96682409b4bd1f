/*
 * fields_test.c — the small pieces under the schemas: number syntax and conversion,
 * "did you mean", positions in bytes, and how values are echoed in messages.
 */
#include <locale.h>
#include <math.h>

#include "parse_fields.h"
#include "parse_test.h"
#include "yaml_doc.h"

static p3cfg__num num_of(const char *text)
{
  p3cfg__num n;
  p3cfg__parse_num(&n, text, strlen(text));
  return n;
}

Test(parse, numbers_integers)
{
  cr_expect_eq(num_of("42").kind, P3CFG__NUM_INT);
  cr_expect_eq(num_of("42").u, 42);
  cr_expect_eq(num_of("007").u, 7, "leading zeros are decimal, not octal");
  cr_expect_eq(num_of("18446744073709551615").u, UINT64_MAX);
  cr_expect(!num_of("18446744073709551615").too_big);
  cr_expect(num_of("18446744073709551616").too_big);
  cr_expect(num_of("-5").negative);
  cr_expect_eq(num_of("-5").v, -5.0);
  cr_expect_eq(num_of("+5").u, 5);
}

Test(parse, numbers_floats_and_specials)
{
  cr_expect_eq(num_of("8.5").kind, P3CFG__NUM_FLOAT);
  cr_expect_eq(num_of("8.5").v, 8.5);
  cr_expect_eq(num_of("1e3").v, 1000.0);
  cr_expect_eq(num_of(".5").v, 0.5);
  cr_expect_eq(num_of("5.").v, 5.0);
  cr_expect_eq(num_of("-2.5E-1").v, -0.25);
  cr_expect(num_of("1e999").too_big);
  cr_expect_eq(num_of(".nan").kind, P3CFG__NUM_NAN);
  cr_expect_eq(num_of(".NaN").kind, P3CFG__NUM_NAN);
  cr_expect_eq(num_of("-.inf").kind, P3CFG__NUM_INF);
  cr_expect(num_of("-.Inf").negative);
  cr_expect_eq(num_of("+.INF").kind, P3CFG__NUM_INF);
}

Test(parse, numbers_ignore_the_locale)
{
  /* A program may run with a locale whose decimal point is a comma. */
  if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8"))
    cr_skip_test("no locale with a decimal comma installed");
  cr_expect_eq(num_of("0.75").v, 0.75);
  cr_expect_eq(num_of("0.75").kind, P3CFG__NUM_FLOAT);
  setlocale(LC_NUMERIC, "C");
}

Test(parse, numbers_not_numbers)
{
  static const char *const bad[] = {"",   "nan",  "inf",      "0x10",  "1_000", "1e",
                                    "e3", ".",    "-",        "1.2.3", "12a",   " 1",
                                    "1 ", "0o17", "infinity", "--1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(num_of(bad[i]).kind, P3CFG__NUM_NONE, "'%s' is not a number", bad[i]);
}

Test(parse, suggest_close_words)
{
  static const char *const keys[] = {"layers", "hidden", "heads", "kv_heads", "global_batch"};
  cr_expect_str_eq(p3cfg__suggest("hiden", 5, keys, 5), "hidden");
  cr_expect_str_eq(p3cfg__suggest("Layers", 6, keys, 5), "layers");
  cr_expect_str_eq(p3cfg__suggest("haeds", 5, keys, 5), "heads", "a swap is one edit");
  cr_expect_str_eq(p3cfg__suggest("global_bach", 11, keys, 5), "global_batch");
  cr_expect_null(p3cfg__suggest("colour", 6, keys, 5));
  cr_expect_null(p3cfg__suggest("x", 1, keys, 5));
  static const char *const gpus[] = {"a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie"};
  cr_expect_str_eq(p3cfg__suggest("h100", 4, gpus, 4), "h100-sxm", "a prefix counts");
  cr_expect_str_eq(p3cfg__suggest("a100-80GB", 9, gpus, 4), "a100-80gb");
}

/* The public form the CLI uses for commands, options and option values. */
Test(parse, suggest_public_api)
{
  static const char *const commands[] = {"search", "estimate", "export", "validate"};
  cr_expect_str_eq(p3cfg_suggest("serach", commands, 4), "search");
  cr_expect_str_eq(p3cfg_suggest("exprot", commands, 4), "export");
  cr_expect_null(p3cfg_suggest("frobnicate", commands, 4));
  static const char *const options[] = {"dp", "tp", "pp", "top", "threads"};
  cr_expect_str_eq(p3cfg_suggest("tpp", options, 5), "tp", "a tie goes to the longer start");
  cr_expect_str_eq(p3cfg_suggest("thread", options, 5), "threads");
  static const char *const modes[] = {"none", NULL, "selective", "full"};
  cr_expect_str_eq(p3cfg_suggest("selectve", modes, 4), "selective", "NULL entries skipped");
  cr_expect_null(p3cfg_suggest(NULL, modes, 4));
  cr_expect_null(p3cfg_suggest("x", NULL, 0));
}

Test(parse, text_positions)
{
  const char *t = "ab\ncd\r\nef\rg\xc3\xa9h";
  int line, col;
  p3cfg__text_position(t, strlen(t), 0, &line, &col);
  cr_expect(line == 1 && col == 1);
  p3cfg__text_position(t, strlen(t), 4, &line, &col); /* 'd' */
  cr_expect(line == 2 && col == 2);
  p3cfg__text_position(t, strlen(t), 7, &line, &col); /* 'e' after CR LF */
  cr_expect(line == 3 && col == 1);
  p3cfg__text_position(t, strlen(t), 13, &line, &col); /* 'h' after a 2-byte char */
  cr_expect(line == 4 && col == 3, "got %d:%d", line, col);
  cr_expect_eq(p3cfg__text_offset(t, strlen(t), 3, 2), 13);
  cr_expect_eq(p3cfg__text_offset(t, strlen(t), 1, 0), 3);
  cr_expect_eq(p3cfg__text_offset(t, strlen(t), 9, 0), strlen(t));
}

Test(parse, echo_escapes_and_truncates)
{
  char buf[4 * P3CFG__ECHO_CHARS + 8];
  p3cfg__echo(buf, sizeof buf, "a\"b\\c\nd\x01", 8);
  cr_expect_str_eq(buf, "a\\\"b\\\\c\\nd\\x01");
  const char *longer = "0123456789012345678901234567890123456789extra";
  p3cfg__echo(buf, sizeof buf, longer, strlen(longer));
  cr_expect_str_eq(buf, "0123456789012345678901234567890123456789...");
  p3cfg__echo(buf, sizeof buf, "\xc3\xa9t\xc3\xa9", 5);
  cr_expect_str_eq(buf, "\xc3\xa9t\xc3\xa9");
}
