/*
 * parse_numbers.c — the one place where text becomes a number.
 *
 * Accepted: YAML 1.2 core-schema and JSON numbers, i.e. [-+]?digits for integers and
 * [-+]?(digits[.digits*]|.digits)([eE][-+]?digits)? for floats, plus .nan and [-+].inf
 * (also .NaN/.NAN, .Inf/.INF). Leading zeros are decimal (YAML 1.2), never octal; hex,
 * octal (0o), underscores and strtod's own extras ("inf", "nan", "0x1p3") are not numbers
 * here. The syntax is checked first, then the whole text goes through strtoull or strtod
 * and must be consumed to its end; overflow is reported, never wrapped. Numbers read the
 * same whatever the locale of the program the library runs in.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse_fields.h"

/* Longest text taken as a number (a longer one is not a number). */
#define NUM_MAX_CHARS 400

static int is_digit(char ch)
{
  return ch >= '0' && ch <= '9';
}

static int text_is(const char *text, size_t len, const char *a, const char *b, const char *c)
{
  return (strlen(a) == len && memcmp(text, a, len) == 0) ||
         (strlen(b) == len && memcmp(text, b, len) == 0) ||
         (strlen(c) == len && memcmp(text, c, len) == 0);
}

void p3cfg__parse_num(p3cfg__num *out, const char *text, size_t len)
{
  memset(out, 0, sizeof *out);
  if (len == 0 || len > NUM_MAX_CHARS)
    return;
  size_t i = 0;
  if (text[0] == '-' || text[0] == '+') {
    out->negative = text[0] == '-';
    i = 1;
  }
  if (i == 0 && text_is(text, len, ".nan", ".NaN", ".NAN")) {
    out->kind = P3CFG__NUM_NAN;
    out->v = strtod("nan", NULL);
    return;
  }
  if (text_is(text + i, len - i, ".inf", ".Inf", ".INF")) {
    out->kind = P3CFG__NUM_INF;
    out->v = out->negative ? -HUGE_VAL : HUGE_VAL;
    return;
  }
  size_t int_digits = 0, frac_digits = 0;
  int is_float = 0;
  while (i < len && is_digit(text[i]))
    i++, int_digits++;
  if (i < len && text[i] == '.') {
    is_float = 1;
    i++;
    while (i < len && is_digit(text[i]))
      i++, frac_digits++;
  }
  if (int_digits + frac_digits == 0)
    return;
  if (i < len && (text[i] == 'e' || text[i] == 'E')) {
    is_float = 1;
    i++;
    if (i < len && (text[i] == '-' || text[i] == '+'))
      i++;
    size_t exp_digits = 0;
    while (i < len && is_digit(text[i]))
      i++, exp_digits++;
    if (exp_digits == 0)
      return;
  }
  if (i != len)
    return;

  char buf[NUM_MAX_CHARS + 1];
  memcpy(buf, text, len);
  buf[len] = '\0';
  char *end = NULL;
  errno = 0;
  if (!is_float) {
    /* strtoull accepts a sign and negates; convert the digits alone. */
    const char *digits = buf + (buf[0] == '-' || buf[0] == '+');
    unsigned long long u = strtoull(digits, &end, 10);
    if (end != buf + len)
      return;
    out->kind = P3CFG__NUM_INT;
    out->too_big = errno == ERANGE;
    out->u = out->too_big ? UINT64_MAX : (uint64_t)u;
    out->v = out->too_big ? HUGE_VAL : (double)u;
    if (out->negative)
      out->v = -out->v;
    return;
  }
  double v = strtod(buf, &end);
  if (end != buf + len) {
    /* strtod reads the decimal point of the C library's locale: a program that called
     * setlocale(LC_ALL, "") in, say, de_DE expects "0,75". Write the text its way. */
    const char *point = localeconv()->decimal_point;
    char *dot = strchr(buf, '.');
    if (dot && point && point[0] && !point[1]) {
      *dot = point[0];
      errno = 0;
      v = strtod(buf, &end);
    }
    if (end != buf + len)
      return; /* not a number after all: leave kind NONE */
  }
  out->kind = P3CFG__NUM_FLOAT;
  out->v = v;
  out->too_big = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
}
