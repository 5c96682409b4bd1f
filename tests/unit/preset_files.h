/*
 * preset_files.h — the repository's model and cluster presets (models/, clusters/) loaded
 * for a test through the public API, failing the test with the loader's message. Shared
 * by the search, placement and export tests.
 */
#ifndef P3CFG_TEST_PRESET_FILES_H
#define P3CFG_TEST_PRESET_FILES_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "p3cfg.h"

/* models/<name>, e.g. model("llama3-8b.yaml"); the caller frees it. */
static inline p3cfg_model *model(const char *name)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/models/%s", P3CFG_SOURCE_DIR, name);
  p3cfg_model *m = NULL;
  cr_assert_eq(p3cfg_model_load(&m, path, NULL), 0, "%s", p3cfg_error_last()->message);
  return m;
}

/* clusters/<name>; the caller frees it. */
static inline p3cfg_cluster *cluster(const char *name)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/clusters/%s", P3CFG_SOURCE_DIR, name);
  p3cfg_cluster *c = NULL;
  cr_assert_eq(p3cfg_cluster_load(&c, path, NULL), 0, "%s", p3cfg_error_last()->message);
  return c;
}

#endif
