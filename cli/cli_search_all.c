/*
 * cli_search_all.c — `search --framework all` (cli_search_all.h). Each framework's search
 * runs with the same constraints; a constraint one framework cannot honour (ZeRO 2 for
 * Megatron-LM, vpp for DeepSpeed) leaves that framework without a plan, said in its row.
 * The table ranks the frameworks by their best plan's time; the JSON holds each
 * framework's full search result. Public API only.
 */
#include "cli_search_all.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_progress.h"

typedef struct outcome {
  p3cfg_framework framework;
  p3cfg_result *result; /* NULL when the search failed */
  int rc;
  char error[512];
} outcome;

/* Append `n` bytes to a malloc'd string (kept NUL-terminated); 0 or -1 (out of memory). */
static int append_raw(char **s, size_t *len, size_t *cap, const char *data, size_t n)
{
  if (*len + n + 1 > *cap) {
    size_t nc = *cap ? *cap * 2 : 4096;
    while (nc < *len + n + 1)
      nc *= 2;
    char *g = realloc(*s, nc);
    if (!g)
      return -1;
    *s = g;
    *cap = nc;
  }
  memcpy(*s + *len, data, n);
  *len += n;
  (*s)[*len] = '\0';
  return 0;
}

/* Append printf-style text (one line of at most 1023 bytes); 0 or -1. */
static int appendf(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char tmp[1024];
  const int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  return append_raw(s, len, cap, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The JSON string of `text` (quotes and backslashes escaped, control bytes dropped). */
static int append_json_string(char **s, size_t *len, size_t *cap, const char *text)
{
  int rc = appendf(s, len, cap, "\"");
  for (const char *c = text; *c && rc == 0; c++)
    if (*c == '"' || *c == '\\')
      rc = appendf(s, len, cap, "\\%c", *c);
    else if ((unsigned char)*c >= 0x20)
      rc = appendf(s, len, cap, "%c", *c);
  return rc ? rc : appendf(s, len, cap, "\"");
}

/* Index order of the outcomes by best time (those without a fitting plan last). */
static double best_time(const outcome *o)
{
  if (o->rc != P3CFG_OK || !o->result || p3cfg_result_count(o->result) == 0)
    return HUGE_VAL;
  return p3cfg_result_time(o->result, 0)->iteration_s;
}

static int table(char **s, size_t *len, size_t *cap, const outcome *o, size_t n)
{
  size_t order[P3CFG_FRAMEWORK_COUNT];
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && best_time(&o[order[j]]) < best_time(&o[order[j - 1]]); j--) {
      const size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  int rc = appendf(s, len, cap,
                   "Best plan of each framework (same model, cluster and constraints)\n"
                   "  rank  framework    dp  tp  pp  cp  ep  mbs vpp zero recompute  "
                   "iteration   tokens/s/GPU   MFU   peak GiB\n");
  for (size_t k = 0; k < n && rc == 0; k++) {
    const outcome *x = &o[order[k]];
    const char *name = p3cfg_framework_name(x->framework);
    if (best_time(x) == HUGE_VAL) {
      rc = appendf(s, len, cap, "  %4s  %-11s  %s\n", "-", name,
                   x->error[0] ? x->error : "no plan fits");
      continue;
    }
    const p3cfg_plan *p = p3cfg_result_plan(x->result, 0);
    const p3cfg_time *t = p3cfg_result_time(x->result, 0);
    const p3cfg_memory *m = p3cfg_result_memory(x->result, 0);
    const uint64_t gpus = (uint64_t)p->dp * p->tp * (p->cp ? p->cp : 1) * p->pp;
    rc = appendf(s, len, cap,
                 "  %4zu  %-11s %3u %3u %3u %3u %3u %4u %3u %4u %-9s %8.3f s %14.0f %5.1f %%"
                 " %9.1f\n",
                 k + 1, name, p->dp, p->tp, p->pp, p->cp ? p->cp : 1, p->ep ? p->ep : 1,
                 p->micro_batch, p->virtual_stages, p->zero_stage,
                 p3cfg_recompute_name(p->recompute), t->iteration_s,
                 gpus ? t->tokens_per_s / (double)gpus : 0.0, 100.0 * t->mfu,
                 (double)m->peak_bytes / (1024.0 * 1024.0 * 1024.0));
  }
  if (rc == 0)
    rc = appendf(s, len, cap,
                 "Each framework's own plans: p3cfg search ... --framework NAME; the model's "
                 "interval applies to each time (docs/frameworks.md).\n");
  return rc;
}

static int json(char **s, size_t *len, size_t *cap, const outcome *o, size_t n,
                const p3cfg_model *model, const p3cfg_cluster *cluster, unsigned json_flags)
{
  int rc = appendf(s, len, cap, "{\"frameworks\": [");
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = appendf(s, len, cap, "%s{\"framework\": \"%s\", ", i ? ", " : "",
                 p3cfg_framework_name(o[i].framework));
    if (rc)
      break;
    if (o[i].result && (o[i].rc == P3CFG_OK || o[i].rc == P3CFG_EINFEASIBLE)) {
      p3cfg_buffer buf = {0};
      rc = p3cfg_result_search_json_flags(&buf, o[i].result, model, cluster, json_flags);
      if (rc == 0) {
        size_t n_data = buf.len;
        while (n_data && (buf.data[n_data - 1] == '\n'))
          n_data--;
        rc = appendf(s, len, cap, "\"fits\": %s, \"result\": ",
                     o[i].rc == P3CFG_OK ? "true" : "false");
        if (rc == 0)
          rc = append_raw(s, len, cap, buf.data, n_data);
      }
      p3cfg_buffer_dispose(&buf);
    } else {
      rc = appendf(s, len, cap, "\"fits\": false, \"result\": null");
    }
    if (rc == 0 && o[i].error[0]) {
      rc = appendf(s, len, cap, ", \"error\": ");
      if (rc == 0)
        rc = append_json_string(s, len, cap, o[i].error);
    }
    if (rc == 0)
      rc = appendf(s, len, cap, "}");
  }
  return rc ? rc : appendf(s, len, cap, "]}\n");
}

int cli_search_all(p3cfg_search_options *so, const p3cfg_model *model,
                   const p3cfg_cluster *cluster, const cli_plan_args *a, unsigned json_flags)
{
  outcome o[P3CFG_FRAMEWORK_COUNT];
  memset(o, 0, sizeof o);
  int any_fits = 0, exit_code = EXIT_OK;
  for (uint32_t f = 0; f < P3CFG_FRAMEWORK_COUNT; f++) {
    o[f].framework = (p3cfg_framework)f;
    so->framework = f;
    char what[64];
    snprintf(what, sizeof what, "searching %s", p3cfg_framework_name((p3cfg_framework)f));
    cli_progress progress;
    so->progress = cli_progress_start(&progress, what, NULL, a->out.quiet);
    so->progress_payload = &progress;
    o[f].rc = p3cfg_search(&o[f].result, model, cluster, so);
    cli_progress_done(&progress);
    if (o[f].rc != P3CFG_OK)
      snprintf(o[f].error, sizeof o[f].error, "%s", p3cfg_error_last()->message);
    if (o[f].rc == P3CFG_ENOMEM) {
      exit_code = EXIT_BAD_INPUT;
      cli_print_error();
    }
    any_fits |= o[f].rc == P3CFG_OK;
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  int rc = exit_code == EXIT_OK
               ? (a->out.json ? json(&text, &len, &cap, o, P3CFG_FRAMEWORK_COUNT, model, cluster,
                                     json_flags)
                              : table(&text, &len, &cap, o, P3CFG_FRAMEWORK_COUNT))
               : -1;
  if (rc == 0) {
    const p3cfg_buffer buf = {text, len};
    exit_code = cli_write_output(a->out.path, a->out.force, buf.data, buf.len);
    if (exit_code == EXIT_OK && !any_fits) {
      fprintf(stderr, "p3cfg: no framework has a plan that fits\n");
      exit_code = EXIT_NO_FIT;
    }
  } else if (exit_code == EXIT_OK) {
    fprintf(stderr, "p3cfg: out of memory\n");
    exit_code = EXIT_BAD_INPUT;
  }
  free(text);
  for (size_t f = 0; f < P3CFG_FRAMEWORK_COUNT; f++)
    p3cfg_result_free(o[f].result);
  return exit_code;
}
