/* jx_pack against libgit2's indexer and the git CLI: the stream it builds
 * is a pack git accepts, holding exactly the objects added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "jx_pack.h"

static char dir[] = "/tmp/jx-test-pack.XXXXXX";

/* Indexes the pack into a fresh bare repository; returns its odb. */
static git_odb *index_into_repo(const char *data, size_t len,
                                git_repository **repo) {
  git_odb *odb;
  git_odb_writepack *wp;
  git_indexer_progress stats = {0};
  assert_non_null(mkdtemp(dir));
  assert_int_equal(git_repository_init(repo, dir, 1), 0);
  assert_int_equal(git_repository_odb(&odb, *repo), 0);
  assert_int_equal(git_odb_write_pack(&wp, odb, NULL, NULL), 0);
  assert_int_equal(wp->append(wp, data, len, &stats), 0);
  assert_int_equal(wp->commit(wp, &stats), 0);
  wp->free(wp);
  assert_int_equal(git_odb_refresh(odb), 0);
  return odb;
}

static void test_pack__objects_round_trip(void **state) {
  (void)state;
  jx_pack p = JX_PACK_INIT;
  /* Sizes on both sides of the entry header's 4-bit and 11-bit steps. */
  size_t sizes[] = {0, 15, 16, 2047, 2048, 100000};
  git_oid ids[6];
  char *blob = malloc(100000);
  for (size_t i = 0; i < 100000; i++)
    blob[i] = (char)('a' + i % 26);
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(git_odb_hash(&ids[i], blob, sizes[i], GIT_OBJECT_BLOB),
                     0);
    assert_int_equal(jx_pack_add(&p, GIT_OBJECT_BLOB, blob, sizes[i]), 0);
  }
  const char *data;
  size_t len;
  assert_int_equal(jx_pack_finish(&p, &data, &len), 0);
  git_repository *repo;
  git_odb *odb = index_into_repo(data, len, &repo);
  for (size_t i = 0; i < 6; i++) {
    git_odb_object *o;
    assert_int_equal(git_odb_read(&o, odb, &ids[i]), 0);
    assert_int_equal(git_odb_object_size(o), sizes[i]);
    assert_memory_equal(git_odb_object_data(o), blob, sizes[i]);
    git_odb_object_free(o);
  }
  char cmd[256];
  snprintf(cmd, sizeof cmd, "git --git-dir %s fsck --full --strict --no-dangling 2>&1 && "
                            "git --git-dir %s count-objects -v | "
                            "grep -q '^in-pack: 6$'", dir, dir);
  assert_int_equal(system(cmd), 0);
  /* Reset: the next pack starts empty. */
  jx_pack_reset(&p);
  assert_int_equal(jx_pack_finish(&p, &data, &len), 0);
  assert_int_equal(len, 0);
  git_odb_free(odb);
  git_repository_free(repo);
  jx_pack_free(&p);
  free(blob);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  git_libgit2_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pack__objects_round_trip),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  git_libgit2_shutdown();
  return rc;
}
