/*
 * fuzz_validate_kind.c — libFuzzer target for p3cfg_validate_file, the entry point of
 * `p3cfg validate`, with the kind chosen by the first byte (auto, model or cluster) and
 * the rest of the input as the file: YAML or JSON, either schema, or neither.
 *
 * The file is an in-memory file (memfd) opened through /proc/self/fd, so the reader of
 * input_file.c runs as it does on disk without writing anything. Oracles (beyond
 * fuzz_common.h): a forced kind is reported back as given; a valid file has a kind; and
 * a file that validates loads as that kind with the matching p3cfg_*_load, while one
 * that does not validate does not load either (what `validate` says is what `search`
 * does).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

static int mem_fd = -1;
static char mem_path[64];

static void setup(void)
{
  if (mem_fd >= 0)
    return;
  mem_fd = memfd_create("p3cfg-fuzz", MFD_CLOEXEC);
  if (mem_fd < 0)
    abort();
  snprintf(mem_path, sizeof mem_path, "/proc/self/fd/%d", mem_fd);
}

static void put_file(const uint8_t *data, size_t size)
{
  if (ftruncate(mem_fd, 0) != 0)
    abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(mem_fd, data + done, size - done, (off_t)done);
    if (n <= 0)
      abort();
    done += (size_t)n;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  setup();
  if (size == 0)
    return 0;
  static const p3cfg_file_kind kinds[3] = {P3CFG_FILE_AUTO, P3CFG_FILE_MODEL,
                                           P3CFG_FILE_CLUSTER};
  const p3cfg_file_kind kind = kinds[data[0] % 3];
  put_file(data + 1, size - 1);

  p3cfg_diagnostics *d = NULL;
  p3cfg_file_kind found = (p3cfg_file_kind)-1;
  int rc = p3cfg_validate_file(&d, &found, mem_path, kind);
  fuzz_check_diags(d, rc, mem_path);
  p3cfg_diagnostics_free(d);
  if (kind != P3CFG_FILE_AUTO)
    FUZZ_CHECK(found == kind);
  if (rc == P3CFG_OK)
    FUZZ_CHECK(found == P3CFG_FILE_MODEL || found == P3CFG_FILE_CLUSTER);

  /* The load of the kind found agrees with the validation. */
  if (found == P3CFG_FILE_MODEL) {
    p3cfg_model *m = NULL;
    int lrc = p3cfg_model_load(&m, mem_path, NULL);
    FUZZ_CHECK(lrc == rc && (m != NULL) == (rc == P3CFG_OK));
    p3cfg_model_free(m);
  } else if (found == P3CFG_FILE_CLUSTER) {
    p3cfg_cluster *c = NULL;
    int lrc = p3cfg_cluster_load(&c, mem_path, NULL);
    FUZZ_CHECK(lrc == rc && (c != NULL) == (rc == P3CFG_OK));
    p3cfg_cluster_free(c);
  }
  return 0;
}
