/*
 * gpu_table.c — a GPU profile as a CSV table and back (docs/gpu-profiling.md), so that a
 * measurement made on a GPU node can be kept, committed as a test fixture, and fitted
 * on any machine.
 *
 * The first line names the format ("# p3cfg gpu profile 1"); `# key: value` lines
 * describe the device and the reference gpu; then a header row and one row per kernel:
 *   kind,model,op,pass,tp,tokens,m,n,k,bytes,median_s,min_s,max_s,reps
 * Times are seconds (%.9g), so a table reads back to the same numbers the fit saw.
 * Reading checks every field in full (strtoull/strtod on the whole field, ranges, GEMM
 * bytes = 2 (mk + kn + mn)) and reports the first problem at FILE:LINE:COL.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gpufit.h"

#define FORMAT_LINE "# p3cfg gpu profile 1"
#define HEADER_ROW "kind,model,op,pass,tp,tokens,m,n,k,bytes,median_s,min_s,max_s,reps"
#define N_FIELDS 14
#define MAX_TABLE_BYTES (64u << 20)
#define MAX_DIM (1ull << 20)

P3CFG_API int p3cfg_gpu_profile_csv(p3cfg_buffer *out, const p3cfg_gpu_profile *p)
{
  p3cfg__error_clear();
  if (!out || !p)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_csv: NULL argument");
  out->data = NULL;
  out->len = 0;
  const p3cfg_gpu_device *d = &p->device;
  p3cfg__text t;
  p3cfg__text_init(&t);
  p3cfg__text_printf(&t, FORMAT_LINE "\n");
  if (d->name[0])
    p3cfg__text_printf(&t, "# device: %s\n", d->name);
  if (d->gpu[0])
    p3cfg__text_printf(&t, "# gpu: %s\n# peak_flops: %.17g\n# hbm_Bps: %.17g\n", d->gpu,
                        d->peak_flops, d->hbm_Bps);
  if (d->name[0])
    p3cfg__text_printf(&t,
                        "# memory_bytes: %llu\n# sm_count: %u\n# compute_capability: %u.%u\n"
                        "# clock_MHz: %u\n# driver_version: %d\n# runtime_version: %d\n"
                        "# cublas_version: %d\n# date: %s\n",
                        (unsigned long long)d->memory_bytes, d->sm_count, d->cc_major,
                        d->cc_minor, d->clock_MHz, d->driver_version, d->runtime_version,
                        d->cublas_version, d->date);
  p3cfg__text_printf(&t, HEADER_ROW "\n");
  for (size_t i = 0; i < p->count; i++) {
    const p3cfg_gpu_sample *s = &p->samples[i];
    p3cfg__text_printf(&t, "%s,%s,%s,%s,%u,%llu,%llu,%llu,%llu,%llu,%.9g,%.9g,%.9g,%u\n",
                        s->kind == P3CFG_GPU_COPY ? "copy" : "gemm", s->model, s->op,
                        p3cfg__gpu_pass_name(s->pass), s->tp, (unsigned long long)s->tokens,
                        (unsigned long long)s->m, (unsigned long long)s->n,
                        (unsigned long long)s->k, (unsigned long long)s->bytes, s->median_s,
                        s->min_s, s->max_s, s->reps);
  }
  return p3cfg__text_finish(&t, out);
}

/* ---- reading ----------------------------------------------------------------------- */

typedef struct reader {
  const char *name; /* for positions */
  int line;
} reader;

static int bad(const reader *rd, int col, const char *fmt, const char *field, size_t len)
{
  return p3cfg__error_set_at(P3CFG_EVALUE, rd->name, rd->line, col, fmt, (int)len, field);
}

static int parse_u64(const reader *rd, const char *f, size_t len, int col, uint64_t max,
                     uint64_t *out)
{
  char buf[32];
  if (len == 0 || len >= sizeof buf || f[0] < '0' || f[0] > '9')
    return bad(rd, col, "expected a non-negative integer, got \"%.*s\"", f, len);
  memcpy(buf, f, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (errno || *end != '\0' || v > max)
    return bad(rd, col, "expected a non-negative integer in range, got \"%.*s\"", f, len);
  *out = v;
  return 0;
}

static int parse_seconds(const reader *rd, const char *f, size_t len, int col, double *out)
{
  char buf[48];
  if (len == 0 || len >= sizeof buf)
    return bad(rd, col, "expected a time in seconds, got \"%.*s\"", f, len);
  memcpy(buf, f, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (errno || *end != '\0' || !isfinite(v) || v < 0.0 || v > 1e6)
    return bad(rd, col, "expected a time in seconds in [0, 1e6], got \"%.*s\"", f, len);
  *out = v;
  return 0;
}

/* Copy field into a fixed string of `cap` bytes (letters, digits, - _ . + only). */
static int parse_word(const reader *rd, const char *f, size_t len, int col, char *dst, size_t cap)
{
  if (len == 0 || len >= cap)
    return p3cfg__error_set_at(P3CFG_EVALUE, rd->name, rd->line, col,
                               "expected a name of 1 to %zu characters, got \"%.*s\"", cap - 1,
                               (int)len, f);
  for (size_t i = 0; i < len; i++) {
    const char c = f[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_' || c == '.' || c == '+'))
      return bad(rd, col, "unexpected character in name \"%.*s\"", f, len);
  }
  memcpy(dst, f, len);
  dst[len] = '\0';
  return 0;
}

static int parse_row(const reader *rd, const char *line, size_t len, p3cfg_gpu_sample *s)
{
  const char *f[N_FIELDS];
  size_t fl[N_FIELDS];
  int col[N_FIELDS];
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || line[i] == ',') {
      if (n == N_FIELDS)
        return p3cfg__error_set_at(P3CFG_ESYNTAX, rd->name, rd->line, (int)i + 1,
                                   "more than %d fields", N_FIELDS);
      f[n] = line + start;
      fl[n] = i - start;
      col[n] = (int)start + 1;
      n++;
      start = i + 1;
    }
  }
  if (n != N_FIELDS)
    return p3cfg__error_set_at(P3CFG_ESYNTAX, rd->name, rd->line, (int)len + 1,
                               "expected %d fields (%s), got %zu", N_FIELDS, HEADER_ROW, n);
  int rc;
  if (fl[0] == 4 && memcmp(f[0], "gemm", 4) == 0)
    s->kind = P3CFG_GPU_GEMM;
  else if (fl[0] == 4 && memcmp(f[0], "copy", 4) == 0)
    s->kind = P3CFG_GPU_COPY;
  else
    return bad(rd, col[0], "kind must be gemm or copy, got \"%.*s\"", f[0], fl[0]);
  if ((rc = parse_word(rd, f[1], fl[1], col[1], s->model, sizeof s->model)) != 0 ||
      (rc = parse_word(rd, f[2], fl[2], col[2], s->op, sizeof s->op)) != 0)
    return rc;
  static const char *const passes[] = {"fwd", "dgrad", "wgrad"};
  int pass = -1;
  for (int i = 0; i < 3; i++)
    if (fl[3] == strlen(passes[i]) && memcmp(f[3], passes[i], fl[3]) == 0)
      pass = i;
  if (pass < 0)
    return bad(rd, col[3], "pass must be fwd, dgrad or wgrad, got \"%.*s\"", f[3], fl[3]);
  s->pass = (p3cfg_gpu_pass)pass;
  uint64_t v[6];
  const uint64_t max[6] = {1u << 20, MAX_DIM, MAX_DIM, MAX_DIM, MAX_DIM, 1ull << 40};
  for (int i = 0; i < 6; i++)
    if ((rc = parse_u64(rd, f[4 + i], fl[4 + i], col[4 + i], max[i], &v[i])) != 0)
      return rc;
  s->tp = (uint32_t)v[0];
  s->tokens = v[1];
  s->m = v[2], s->n = v[3], s->k = v[4], s->bytes = v[5];
  if ((rc = parse_seconds(rd, f[10], fl[10], col[10], &s->median_s)) != 0 ||
      (rc = parse_seconds(rd, f[11], fl[11], col[11], &s->min_s)) != 0 ||
      (rc = parse_seconds(rd, f[12], fl[12], col[12], &s->max_s)) != 0)
    return rc;
  uint64_t reps;
  if ((rc = parse_u64(rd, f[13], fl[13], col[13], 1000000, &reps)) != 0)
    return rc;
  s->reps = (uint32_t)reps;
  if (s->kind == P3CFG_GPU_GEMM) {
    if (!s->m || !s->n || !s->k)
      return p3cfg__error_set_at(P3CFG_EVALUE, rd->name, rd->line, col[6],
                                 "a gemm needs positive m, n and k");
    if (s->bytes != 2 * (s->m * s->k + s->k * s->n + s->m * s->n))
      return bad(rd, col[9], "bytes must be 2 (mk + kn + mn) for a bf16 gemm, got %.*s", f[9],
                 fl[9]);
  } else if (s->m || s->n || s->k || s->bytes < 2) {
    return p3cfg__error_set_at(P3CFG_EVALUE, rd->name, rd->line, col[6],
                               "a copy has m, n and k 0 and bytes (read + written) >= 2");
  }
  if (s->median_s > 0.0 && !(s->min_s <= s->median_s && s->median_s <= s->max_s && s->reps > 0))
    return p3cfg__error_set_at(P3CFG_EVALUE, rd->name, rd->line, col[10],
                               "a measured row needs min_s <= median_s <= max_s and reps > 0");
  return 0;
}

/* One "# key: value" line into the device description (unknown keys are ignored). */
static int parse_comment(const reader *rd, const char *line, size_t len, p3cfg_gpu_device *d)
{
  const char *colon = memchr(line, ':', len);
  if (len < 2 || line[1] != ' ' || !colon)
    return 0;
  const char *key = line + 2;
  const size_t klen = (size_t)(colon - key);
  const char *val = colon + 1;
  while (val < line + len && *val == ' ')
    val++;
  const size_t vlen = (size_t)(line + len - val);
  const int vcol = (int)(val - line) + 1;
  char buf[128];
  if (vlen >= sizeof buf)
    return bad(rd, vcol, "value too long: \"%.*s\"", val, vlen > 40 ? 40 : vlen);
  memcpy(buf, val, vlen);
  buf[vlen] = '\0';
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
  if (KEY("device") || KEY("gpu") || KEY("date")) {
    char *dst = KEY("device") ? d->name : KEY("gpu") ? d->gpu : d->date;
    const size_t cap = KEY("device") ? sizeof d->name : KEY("gpu") ? sizeof d->gpu : sizeof d->date;
    if (vlen >= cap)
      return bad(rd, vcol, "value too long: \"%.*s\"", val, vlen);
    memcpy(dst, buf, vlen + 1);
    return 0;
  }
  char *end;
  errno = 0;
  if (KEY("peak_flops") || KEY("hbm_Bps")) {
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v) || v <= 0)
      return bad(rd, vcol, "expected a positive number, got \"%.*s\"", val, vlen);
    *(KEY("peak_flops") ? &d->peak_flops : &d->hbm_Bps) = v;
  } else if (KEY("compute_capability")) {
    unsigned long maj = strtoul(buf, &end, 10), min = 0;
    if (*end == '.')
      min = strtoul(end + 1, &end, 10);
    if (errno || *end || maj > 1000 || min > 1000)
      return bad(rd, vcol, "expected MAJOR.MINOR, got \"%.*s\"", val, vlen);
    d->cc_major = (uint32_t)maj, d->cc_minor = (uint32_t)min;
  } else if (KEY("memory_bytes") || KEY("sm_count") || KEY("clock_MHz") ||
             KEY("driver_version") || KEY("runtime_version") || KEY("cublas_version")) {
    if (buf[0] < '0' || buf[0] > '9')
      return bad(rd, vcol, "expected a non-negative integer, got \"%.*s\"", val, vlen);
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end || (!KEY("memory_bytes") && v > 0x7fffffff))
      return bad(rd, vcol, "expected a non-negative integer, got \"%.*s\"", val, vlen);
    if (KEY("memory_bytes"))
      d->memory_bytes = v;
    else if (KEY("sm_count"))
      d->sm_count = (uint32_t)v;
    else if (KEY("clock_MHz"))
      d->clock_MHz = (uint32_t)v;
    else
      *(KEY("driver_version") ? &d->driver_version
        : KEY("runtime_version") ? &d->runtime_version
                                 : &d->cublas_version) = (int)v;
  }
#undef KEY
  return 0;
}

P3CFG_API int p3cfg_gpu_profile_load_csv_string(p3cfg_gpu_profile **out, const char *text,
                                                size_t len, const char *name)
{
  p3cfg__error_clear();
  if (!out)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_load_csv_string: NULL argument");
  *out = NULL;
  if (!text && len)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_load_csv_string: NULL text");
  reader rd = {name ? name : "<string>", 0};
  p3cfg_gpu_profile *p = NULL;
  int rc = p3cfg_gpu_profile_new(&p);
  if (rc != 0)
    return rc;
  int header_seen = 0;
  for (size_t pos = 0; pos < len || rd.line == 0;) {
    const char *line = text ? text + pos : "";
    const char *nl = pos < len ? memchr(line, '\n', len - pos) : NULL;
    size_t ll = nl ? (size_t)(nl - line) : len - pos;
    pos += ll + (nl ? 1 : 0);
    rd.line++;
    if (ll && line[ll - 1] == '\r')
      ll--;
    if (rd.line == 1) {
      if (ll != strlen(FORMAT_LINE) || memcmp(line, FORMAT_LINE, ll) != 0) {
        rc = p3cfg__error_set_at(P3CFG_ESYNTAX, rd.name, 1, 1,
                                 "not a gpu profile: the first line must be \"" FORMAT_LINE
                                 "\"");
        goto done;
      }
      continue;
    }
    if (ll == 0)
      continue;
    if (line[0] == '#') {
      if (header_seen)
        continue;
      if ((rc = parse_comment(&rd, line, ll, &p->device)) != 0)
        goto done;
      continue;
    }
    if (!header_seen) {
      if (ll != strlen(HEADER_ROW) || memcmp(line, HEADER_ROW, ll) != 0) {
        rc = p3cfg__error_set_at(P3CFG_ESYNTAX, rd.name, rd.line, 1,
                                 "expected the header row \"" HEADER_ROW "\"");
        goto done;
      }
      header_seen = 1;
      continue;
    }
    p3cfg_gpu_sample *s = p3cfg__gpu_profile_push(p);
    if (!s) {
      rc = P3CFG_ENOMEM;
      goto done;
    }
    if ((rc = parse_row(&rd, line, ll, s)) != 0)
      goto done;
  }
  if (!header_seen) {
    rc = p3cfg__error_set_at(P3CFG_ESYNTAX, rd.name, rd.line, 1,
                             "no header row \"" HEADER_ROW "\"");
    goto done;
  }
  if (p->device.gpu[0] && !(p->device.peak_flops > 0 && p->device.hbm_Bps > 0)) {
    rc = p3cfg__error_set_at(P3CFG_EVALUE, rd.name, 0, 0,
                             "gpu '%s' needs peak_flops and hbm_Bps lines", p->device.gpu);
    goto done;
  }
done:
  if (rc != 0) {
    p3cfg_gpu_profile_free(p);
    return rc;
  }
  *out = p;
  return P3CFG_OK;
}

P3CFG_API int p3cfg_gpu_profile_load_csv(p3cfg_gpu_profile **out, const char *path)
{
  p3cfg__error_clear();
  if (!out || !path)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_gpu_profile_load_csv: NULL argument");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return p3cfg__error_set_at(P3CFG_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return p3cfg__error_set_at(P3CFG_EIO, path, 0, 0, "cannot read: not a regular file");
  }
  if ((unsigned long)size > MAX_TABLE_BYTES) {
    fclose(f);
    return p3cfg__error_set_at(P3CFG_EVALUE, path, 0, 0, "larger than %u MiB",
                               MAX_TABLE_BYTES >> 20);
  }
  char *text = p3cfg__malloc((size_t)size + 1);
  if (!text) {
    fclose(f);
    return p3cfg__error_nomem();
  }
  const size_t n = fread(text, 1, (size_t)size, f);
  const int err = ferror(f);
  fclose(f);
  int rc = err ? p3cfg__error_set_at(P3CFG_EIO, path, 0, 0, "cannot read: %s", strerror(errno))
               : p3cfg_gpu_profile_load_csv_string(out, text, n, path);
  p3cfg__free(text);
  return rc;
}
