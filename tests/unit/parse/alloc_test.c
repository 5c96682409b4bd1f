/*
 * alloc_test.c — allocation failure at every point of a load: failing the n-th
 * allocation for n = 1, 2, ... until a load gets through, every run must return
 * P3CFG_ENOMEM (nothing returned, nothing leaked: run under ASan) or the same result as
 * a load that never fails.
 */
#include "parse_test.h"

typedef int (*load_fn)(const char *path, p3cfg_diagnostics **diags);

static int load_model(const char *path, p3cfg_diagnostics **diags)
{
  p3cfg_model *m = NULL;
  int rc = p3cfg_model_load(&m, path, diags);
  cr_assert((rc == P3CFG_OK) == (m != NULL));
  p3cfg_model_free(m);
  return rc;
}

static int load_cluster(const char *path, p3cfg_diagnostics **diags)
{
  p3cfg_cluster *c = NULL;
  int rc = p3cfg_cluster_load(&c, path, diags);
  cr_assert((rc == P3CFG_OK) == (c != NULL));
  p3cfg_cluster_free(c);
  return rc;
}

static int validate_auto(const char *path, p3cfg_diagnostics **diags)
{
  return p3cfg_validate_file(diags, NULL, path, P3CFG_FILE_AUTO);
}

/* Fail each allocation in turn; the final, unfailed run must give `want` problems. */
static void torture(load_fn load, const char *path, int want_rc, size_t want_problems)
{
  unsigned long n = 1;
  for (;; n++) {
    p3cfg_diagnostics *d = NULL;
    p3cfg_test_fail_alloc_after(n);
    int rc = load(path, &d);
    p3cfg_test_fail_alloc_after(0);
    if (rc == P3CFG_ENOMEM) {
      cr_assert_null(d, "%s: diagnostics returned with ENOMEM at n = %lu", path, n);
      cr_assert_eq(p3cfg_error_last()->code, P3CFG_ENOMEM);
      continue;
    }
    cr_assert_eq(rc, want_rc, "%s: n = %lu gave %d", path, n, rc);
    cr_assert_eq(p3cfg_diagnostics_count(d), want_problems, "%s: n = %lu", path, n);
    p3cfg_diagnostics_free(d);
    break;
  }
  cr_expect_gt(n, 3, "%s: the loop failed only %lu allocations", path, n);
}

Test(parse, alloc_failure_model)
{
  torture(load_model, FIXTURE("model-full.yaml"), P3CFG_OK, 0);
}

Test(parse, alloc_failure_clusters)
{
  torture(load_cluster, FIXTURE("cluster-links-gpu.yaml"), P3CFG_OK, 0);
  torture(load_cluster, FIXTURE("cluster-links-node.yaml"), P3CFG_OK, 0);
  torture(load_cluster, FIXTURE("cluster-gpu-map.yaml"), P3CFG_OK, 0);
}

Test(parse, alloc_failure_with_problems)
{
  /* A file with problems of every layer: the count must come out the same. */
  torture(validate_auto, P3CFG_SOURCE_DIR "/tests/invalid/cluster-many-problems.yaml", P3CFG_EVALUE,
          4);
  torture(validate_auto, P3CFG_SOURCE_DIR "/tests/invalid/alias-recursive.yaml", P3CFG_ESYNTAX, 1);
  torture(validate_auto, P3CFG_SOURCE_DIR "/tests/invalid/model-duplicate-keys-many.yaml",
          P3CFG_EVALUE, 20);
}
