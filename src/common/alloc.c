/*
 * alloc.c — every allocation of the library goes through here, so that a test can make
 * the N-th one fail (p3cfg_test_fail_alloc_after) and prove that each error path frees
 * what it took, as curl and Lua do. The counter is process-wide and atomic: the hook is
 * for single-threaded torture tests, but must not be a data race elsewhere.
 */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "p3cfg.h"

static atomic_ulong fail_countdown; /* 0 = never fail */

P3CFG_API void p3cfg_test_fail_alloc_after(unsigned long n)
{
  atomic_store(&fail_countdown, n);
}

/* True when this allocation is the one the test asked to fail. */
static int should_fail(void)
{
  unsigned long cur = atomic_load(&fail_countdown);
  while (cur != 0) {
    if (atomic_compare_exchange_weak(&fail_countdown, &cur, cur - 1))
      return cur == 1;
  }
  return 0;
}

void *p3cfg__malloc(size_t n)
{
  if (should_fail())
    return NULL;
  return malloc(n ? n : 1);
}

void *p3cfg__calloc(size_t count, size_t size)
{
  if (should_fail())
    return NULL;
  if (count == 0 || size == 0)
    return calloc(1, 1);
  return calloc(count, size);
}

void *p3cfg__realloc(void *p, size_t n)
{
  if (should_fail())
    return NULL;
  return realloc(p, n ? n : 1);
}

void p3cfg__free(void *p) { free(p); }

char *p3cfg__strndup(const char *s, size_t n)
{
  size_t len = strnlen(s, n);
  char *d = p3cfg__malloc(len + 1);
  if (!d)
    return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *p3cfg__strdup(const char *s) { return p3cfg__strndup(s, strlen(s)); }
