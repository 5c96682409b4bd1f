/*
 * threads.c — concurrent use of the library from several threads on different handles
 * (docs/api.md promises it): four threads, each loading its own model and cluster,
 * estimating, searching (itself with two worker threads, reporting progress to a
 * callback that must be called serially), rendering every report and freeing everything,
 * several rounds over, while the main thread checks that each
 * thread's result is the one a lone run gives and that each thread's last error is its
 * own (an invalid call in one thread must not show in another).
 *
 * Built twice: plainly (CTest `threads`, label unit) and, with -DP3CFG_TSAN=ON, against
 * a copy of the library compiled with -fsanitize=thread (CTest `threads_tsan`, label
 * tsan), where any data race fails the test.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"

#ifndef P3CFG_SOURCE_DIR
#define P3CFG_SOURCE_DIR "."
#endif

#define N_THREADS 4
#define ROUNDS 3

typedef struct job {
  const char *model, *cluster;
  uint32_t tp, pp;
  int place;
  char digest[512]; /* what the lone run gives */
  char got[ROUNDS][512];
  int rc;
  char why[256];
} job;

static job jobs[N_THREADS] = {
    {"models/megatron-1.7b.yaml", "clusters/dgx-a100-1n.yaml", 2, 1, 0, "", {""}, 0, ""},
    {"models/megatron-18.4b.yaml", "clusters/pipette-a100-16n.yaml", 8, 2, 1, "", {""}, 0, ""},
    {"models/llama3-8b.yaml", "clusters/dgx-h100-8n.yaml", 4, 2, 0, "", {""}, 0, ""},
    {"models/gpt3-175b.yaml", "clusters/dgx-a100-64n.yaml", 8, 8, 0, "", {""}, 0, ""},
};

/* The search's progress callback: calls are promised to be serial and non-decreasing,
 * ending with done == total. The plain writes let ThreadSanitizer see two calls that
 * overlap. */
typedef struct progress {
  uint32_t last, total;
  unsigned calls;
  int backwards;
} progress;

static void on_progress(void *payload, uint32_t done, uint32_t total)
{
  progress *pr = payload;
  if (done < pr->last || done > total)
    pr->backwards = 1;
  pr->last = done;
  pr->total = total;
  pr->calls++;
}

static int failed(job *j, const char *what)
{
  snprintf(j->why, sizeof j->why, "%s: %s (%s)", what, p3cfg_error_last()->message,
           p3cfg_error_name(p3cfg_error_last()->code));
  return 1;
}

/* One round: load, estimate, search, report, free. Writes a digest of the results. */
static int one_round(job *j, char *digest, size_t cap)
{
  char path_m[512], path_c[512];
  snprintf(path_m, sizeof path_m, "%s/%s", P3CFG_SOURCE_DIR, j->model);
  snprintf(path_c, sizeof path_c, "%s/%s", P3CFG_SOURCE_DIR, j->cluster);
  p3cfg_model *m = NULL;
  p3cfg_cluster *c = NULL;
  p3cfg_result *est = NULL, *srch = NULL;
  p3cfg_buffer b = {0};
  int bad = 0;
  if (p3cfg_model_load(&m, path_m, NULL) || p3cfg_cluster_load(&c, path_c, NULL)) {
    bad = failed(j, "load");
    goto done;
  }
  /* A bad call on this thread: its error must stay on this thread. */
  if (p3cfg_model_load(NULL, path_m, NULL) != P3CFG_EINVALID ||
      p3cfg_error_last()->code != P3CFG_EINVALID) {
    bad = failed(j, "invalid call");
    goto done;
  }
  p3cfg_plan plan;
  p3cfg_plan_init(&plan);
  plan.tp = j->tp;
  plan.pp = j->pp;
  p3cfg_estimate_options eo;
  p3cfg_estimate_options_init(&eo);
  eo.place = j->place;
  eo.place_moves = 300;
  if (p3cfg_estimate(&est, m, c, &plan, &eo)) {
    bad = failed(j, "estimate");
    goto done;
  }
  p3cfg_search_options so;
  p3cfg_search_options_init(&so);
  so.top_k = 3;
  so.threads = 2;
  so.max_micro_batch = 2;
  so.tp = j->tp;
  so.place_top = 2;
  so.place_moves = 100;
  progress pr = {0, 0, 0, 0};
  so.progress = on_progress;
  so.progress_payload = &pr;
  int src = p3cfg_search(&srch, m, c, &so);
  if (src != P3CFG_OK && src != P3CFG_EINFEASIBLE) {
    bad = failed(j, "search");
    goto done;
  }
  if (pr.backwards || pr.calls == 0 || pr.last != pr.total) {
    snprintf(j->why, sizeof j->why, "progress: %u calls, last %u of %u, backwards %d",
             pr.calls, pr.last, pr.total, pr.backwards);
    bad = 1;
    goto done;
  }
  size_t o = 0;
  const p3cfg_time *t = p3cfg_result_time(est, 0);
  o += (size_t)snprintf(digest + o, cap - o, "est peak %llu t %.9g;",
                        (unsigned long long)p3cfg_result_memory(est, 0)->peak_bytes,
                        t ? t->iteration_s : -1.0);
  for (size_t i = 0; i < p3cfg_result_count(srch) && o < cap; i++) {
    const p3cfg_plan *p = p3cfg_result_plan(srch, i);
    const p3cfg_time *st = p3cfg_result_time(srch, i);
    o += (size_t)snprintf(digest + o, cap - o, " %u/%u/%u/%u %.9g", p->dp, p->tp, p->pp,
                          p->micro_batch, st ? st->iteration_s : -1.0);
  }
  if (p3cfg_result_plan_json(&b, est, 0, m, c) || !b.len) {
    bad = failed(j, "plan json");
    goto done;
  }
  p3cfg_buffer_dispose(&b);
  if (p3cfg_result_plan_table(&b, est, 0, m, c)) {
    bad = failed(j, "plan table");
    goto done;
  }
  p3cfg_buffer_dispose(&b);
  if (p3cfg_result_search_json(&b, srch, m, c) ||
      (p3cfg_buffer_dispose(&b), p3cfg_result_search_table(&b, srch, m, c, 1))) {
    bad = failed(j, "search report");
    goto done;
  }
done:
  p3cfg_buffer_dispose(&b);
  p3cfg_result_free(est);
  p3cfg_result_free(srch);
  p3cfg_cluster_free(c);
  p3cfg_model_free(m);
  return bad;
}

static void *thread_main(void *arg)
{
  job *j = arg;
  for (int r = 0; r < ROUNDS && !j->rc; r++)
    j->rc = one_round(j, j->got[r], sizeof j->got[r]);
  return NULL;
}

int main(void)
{
  /* The lone runs first: what each thread must reproduce. */
  for (int i = 0; i < N_THREADS; i++)
    if (one_round(&jobs[i], jobs[i].digest, sizeof jobs[i].digest)) {
      fprintf(stderr, "threads: lone run %d failed: %s\n", i, jobs[i].why);
      return 1;
    }
  pthread_t th[N_THREADS];
  for (int i = 0; i < N_THREADS; i++)
    if (pthread_create(&th[i], NULL, thread_main, &jobs[i]) != 0) {
      fprintf(stderr, "threads: pthread_create failed\n");
      return 1;
    }
  for (int i = 0; i < N_THREADS; i++)
    pthread_join(th[i], NULL);
  int bad = 0;
  for (int i = 0; i < N_THREADS; i++) {
    if (jobs[i].rc) {
      fprintf(stderr, "threads: thread %d failed: %s\n", i, jobs[i].why);
      bad = 1;
      continue;
    }
    for (int r = 0; r < ROUNDS; r++)
      if (strcmp(jobs[i].got[r], jobs[i].digest) != 0) {
        fprintf(stderr, "threads: thread %d round %d differs from the lone run:\n  %s\n  %s\n",
                i, r, jobs[i].got[r], jobs[i].digest);
        bad = 1;
      }
    printf("thread %d (%s on %s): %d rounds as the lone run\n", i, jobs[i].model,
           jobs[i].cluster, ROUNDS);
  }
  return bad;
}
