/*
 * error_test.c — the last error carried across threads (suite "common"): what a thread
 * saves with p3cfg__error_save, another restores with p3cfg__error_restore, position and
 * all, as the search does with its workers' errors.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "error.h"

static void *fail_in_thread(void *arg)
{
  p3cfg__error_state *out = arg;
  p3cfg__error_set_at(P3CFG_EVALUE, "cluster.yaml", 12, 5, "gpus_per_node must be positive");
  p3cfg__error_save(out);
  return NULL;
}

Test(common, error_saved_on_one_thread_is_restored_on_another)
{
  p3cfg__error_clear();
  p3cfg__error_state saved;
  memset(&saved, 0, sizeof saved);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, fail_in_thread, &saved), 0);
  pthread_join(t, NULL);
  /* the thread's error is its own */
  cr_expect_eq(p3cfg_error_last()->code, P3CFG_OK);
  cr_expect_eq(p3cfg__error_restore(&saved), P3CFG_EVALUE);
  const p3cfg_error *e = p3cfg_error_last();
  cr_expect_eq(e->code, P3CFG_EVALUE);
  cr_expect_str_eq(e->message, "gpus_per_node must be positive");
  cr_assert_not_null(e->file);
  cr_expect_str_eq(e->file, "cluster.yaml");
  cr_expect_eq(e->line, 12);
  cr_expect_eq(e->column, 5);
}

Test(common, error_restore_of_an_error_without_a_file_has_no_file)
{
  p3cfg__error_set_at(P3CFG_EIO, "a.yaml", 1, 1, "first");
  p3cfg__error_state s;
  p3cfg__error_set(P3CFG_ENOMEM, "out of memory");
  p3cfg__error_save(&s);
  p3cfg__error_set_at(P3CFG_EIO, "b.yaml", 2, 2, "second");
  cr_expect_eq(p3cfg__error_restore(&s), P3CFG_ENOMEM);
  cr_expect_null(p3cfg_error_last()->file);
  cr_expect_str_eq(p3cfg_error_last()->message, "out of memory");
}
