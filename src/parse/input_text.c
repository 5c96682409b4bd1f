/*
 * input_text.c — the byte-level checks that run before libyaml sees an input, and the
 * mapping between byte offsets and the 1-based line:column positions users see.
 *
 * libyaml validates UTF-8 too, but reports a bad byte by offset only and says little
 * about what is wrong; checking here gives every encoding problem a position and a
 * message of its own. The characters allowed are YAML 1.1's printable set, exactly what
 * libyaml's reader accepts, so a text that passes here never fails in libyaml's reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "yaml_doc.h"

/* Length of a UTF-8 byte order mark at the start of text, or 0. */
static size_t bom_len(const unsigned char *t, size_t len)
{
  return len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF ? 3 : 0;
}

/* Bytes of the line break at t[i] (CR LF counts once; NEL, LS and PS count as breaks as
 * in libyaml), or 0 when t[i] does not start one. */
static size_t break_len(const unsigned char *t, size_t len, size_t i)
{
  if (t[i] == '\r')
    return i + 1 < len && t[i + 1] == '\n' ? 2 : 1;
  if (t[i] == '\n')
    return 1;
  if (t[i] == 0xC2 && i + 1 < len && t[i + 1] == 0x85)
    return 2;
  if (t[i] == 0xE2 && i + 2 < len && t[i + 1] == 0x80 && (t[i + 2] == 0xA8 || t[i + 2] == 0xA9))
    return 3;
  return 0;
}

/* Bytes of the character at t[i]: the lead byte and the continuation bytes after it. */
static size_t char_len(const unsigned char *t, size_t len, size_t i)
{
  size_t n = 1;
  while (i + n < len && (t[i + n] & 0xC0) == 0x80)
    n++;
  return n;
}

void p3cfg__text_position(const char *text, size_t len, size_t offset, int *line, int *column)
{
  const unsigned char *t = (const unsigned char *)text;
  long l = 1, c = 1;
  size_t i = bom_len(t, len);
  if (offset > len)
    offset = len;
  while (i < offset) {
    size_t b = break_len(t, len, i);
    size_t step = b ? b : char_len(t, len, i);
    if (i + step > offset)
      break; /* offset lies inside this character */
    if (b) {
      l++;
      c = 1;
    } else {
      c++;
    }
    i += step;
  }
  /* Inputs are at most P3CFG__MAX_INPUT_BYTES long, so both fit an int. */
  *line = (int)l;
  *column = (int)c;
}

size_t p3cfg__text_offset(const char *text, size_t len, size_t line, size_t column)
{
  const unsigned char *t = (const unsigned char *)text;
  size_t l = 0, c = 0, i = bom_len(t, len);
  while (i < len) {
    if (l == line && c == column)
      return i;
    size_t b = break_len(t, len, i);
    if (b) {
      if (l == line)
        return i; /* the column is past the end of this line */
      l++;
      c = 0;
      i += b;
      continue;
    }
    i += char_len(t, len, i);
    c++;
  }
  return len;
}

/* Why a UTF-8 sequence is invalid (decode's negative returns). */
enum { BAD_LEAD = -1, BAD_FOLLOW = -2, BAD_END = -3 };

/* Code point of the UTF-8 sequence at t[i] with its length in *n; or BAD_LEAD (t[i]
 * cannot start a character), BAD_FOLLOW (the byte *bad cannot follow t[i]) or BAD_END
 * (the text ends inside the sequence). */
static int32_t decode(const unsigned char *t, size_t len, size_t i, size_t *n, int *bad)
{
  const unsigned char b0 = t[i];
  uint32_t cp;
  unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    *n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    *n = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0)
      lo = 0xA0; /* overlong */
    if (b0 == 0xED)
      hi = 0x9F; /* surrogates */
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    *n = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0)
      lo = 0x90; /* overlong */
    if (b0 == 0xF4)
      hi = 0x8F; /* past U+10FFFF */
  } else {
    return BAD_LEAD;
  }
  for (size_t k = 1; k < *n; k++) {
    if (i + k >= len)
      return BAD_END;
    const unsigned char b = t[i + k];
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
      *bad = b;
      return BAD_FOLLOW;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  return (int32_t)cp;
}

/* YAML 1.1's printable characters (what libyaml's reader accepts). */
static int printable(uint32_t cp)
{
  return cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 ||
         (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

int p3cfg__text_check(p3cfg_diagnostics *d, const char *text, size_t len)
{
  const unsigned char *t = (const unsigned char *)text;
  if (len == 0)
    return p3cfg__diag(d, P3CFG_ESYNTAX, 0, 0, "file is empty");
  if (len >= 2 && ((t[0] == 0xFF && t[1] == 0xFE) || (t[0] == 0xFE && t[1] == 0xFF)))
    return p3cfg__diag(d, P3CFG_ESYNTAX, 1, 1,
                       "text is UTF-16 or UTF-32 (byte order mark); only UTF-8 is supported");
  if (len >= 4 && t[0] == 0 && t[1] == 0 && t[2] == 0xFE && t[3] == 0xFF)
    return p3cfg__diag(d, P3CFG_ESYNTAX, 1, 1,
                       "text is UTF-32 (byte order mark); only UTF-8 is supported");
  long line = 1, col = 1;
  size_t i = bom_len(t, len);
  while (i < len) {
    size_t b = break_len(t, len, i);
    if (b) {
      line++;
      col = 1;
      i += b;
      continue;
    }
    size_t n = 1;
    uint32_t cp = t[i];
    if (cp == 0)
      return p3cfg__diag(d, P3CFG_ESYNTAX, (int)line, (int)col,
                         "NUL byte in the text (is this a binary file?)");
    if (cp >= 0x80) {
      int bad = 0;
      int32_t v = decode(t, len, i, &n, &bad);
      if (v < 0) {
        if (v == BAD_END)
          return p3cfg__diag(d, P3CFG_ESYNTAX, (int)line, (int)col,
                             "invalid UTF-8: the text ends inside a multi-byte character");
        if (v == BAD_LEAD)
          return p3cfg__diag(d, P3CFG_ESYNTAX, (int)line, (int)col, "invalid UTF-8 byte 0x%02x",
                             (unsigned)t[i]);
        return p3cfg__diag(d, P3CFG_ESYNTAX, (int)line, (int)col,
                           "invalid UTF-8: byte 0x%02x followed by 0x%02x", (unsigned)t[i],
                           (unsigned)bad);
      }
      cp = (uint32_t)v;
    }
    if (!printable(cp))
      return p3cfg__diag(d, P3CFG_ESYNTAX, (int)line, (int)col,
                         "control character U+%04X is not allowed", (unsigned)cp);
    i += n;
    col++;
  }
  return P3CFG_OK;
}

void p3cfg__echo(char *buf, size_t cap, const char *text, size_t len)
{
  const unsigned char *t = (const unsigned char *)text;
  size_t o = 0, chars = 0, i = 0;
  while (i < len && chars < P3CFG__ECHO_CHARS && o + 8 < cap) {
    const unsigned char ch = t[i];
    if (ch == '"' || ch == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)ch;
      i++;
    } else if (ch == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
      i++;
    } else if (ch == '\t') {
      buf[o++] = '\\';
      buf[o++] = 't';
      i++;
    } else if (ch < 0x20 || ch == 0x7F) {
      o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
      i++;
    } else {
      size_t n = char_len(t, len, i);
      for (size_t k = 0; k < n; k++)
        buf[o++] = (char)t[i + k];
      i += n;
    }
    chars++;
  }
  if (i < len && o + 4 <= cap) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
}
