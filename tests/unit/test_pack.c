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

#include "jx_compact.h"
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

static size_t count_packs(const char *pack_dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls %s/*.pack | wc -l", pack_dir);
  FILE *f = popen(cmd, "r");
  size_t n = 0;
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%zu", &n), 1);
  pclose(f);
  return n;
}

/* 40 packs of one blob each, "PREFIX <i>", through jx_pack and libgit2's
 * indexer as the store writes them; their ids into ids unless NULL. */
static void write_blob_packs(git_odb *odb, jx_pack *p, const char *prefix,
                             git_oid *ids) {
  for (int i = 0; i < 40; i++) {
    char blob[64];
    int len = snprintf(blob, sizeof blob, "%s %d", prefix, i);
    if (ids)
      assert_int_equal(
          git_odb_hash(&ids[i], blob, (size_t)len, GIT_OBJECT_BLOB), 0);
    assert_int_equal(jx_pack_add(p, GIT_OBJECT_BLOB, blob, (size_t)len), 0);
    const char *data;
    size_t n;
    git_odb_writepack *wp;
    git_indexer_progress stats = {0};
    assert_int_equal(jx_pack_finish(p, &data, &n), 0);
    assert_int_equal(git_odb_write_pack(&wp, odb, NULL, NULL), 0);
    assert_int_equal(wp->append(wp, data, n, &stats), 0);
    assert_int_equal(wp->commit(wp, &stats), 0);
    wp->free(wp);
    jx_pack_reset(p);
  }
}

/* 40 packs of one blob each (one kept with a .keep file): alike in size,
 * none is twice another, so compaction merges all but the kept one, and
 * loses nothing. */
static void test_pack__compact(void **state) {
  (void)state;
  char tmpl[] = "/tmp/jx-test-compact.XXXXXX";
  char *d = mkdtemp(tmpl), pack_dir[256], cmd[512];
  git_repository *repo;
  git_odb *odb;
  git_oid ids[40];
  jx_pack p = JX_PACK_INIT;
  assert_non_null(d);
  assert_int_equal(git_repository_init(&repo, d, 1), 0);
  assert_int_equal(git_repository_odb(&odb, repo), 0);
  write_blob_packs(odb, &p, "blob number", ids);
  snprintf(pack_dir, sizeof pack_dir, "%s/objects/pack", d);
  /* git leaves a kept pack alone: so does compaction. */
  snprintf(cmd, sizeof cmd, "touch \"$(ls %s/*.pack | head -n 1 | "
                            "sed 's/\\.pack$/.keep/')\"", pack_dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(count_packs(pack_dir), 40);
  size_t merged;
  assert_int_equal(jx_compact(odb, pack_dir, &p, &merged), 0);
  assert_int_equal(merged, 39);
  assert_int_equal(count_packs(pack_dir), 2);
  for (int i = 0; i < 40; i++)
    assert_true(git_odb_exists(odb, &ids[i]));
  /* Under the limit now: nothing to do. */
  assert_int_equal(jx_compact(odb, pack_dir, &p, &merged), 0);
  assert_int_equal(merged, 0);
  snprintf(cmd, sizeof cmd,
           "git --git-dir %s fsck --full --strict --no-dangling && "
           "git --git-dir %s count-objects -v | grep -q '^in-pack: 40$'",
           d, d);
  assert_int_equal(system(cmd), 0);
  git_odb_free(odb);
  git_repository_free(repo);
  jx_pack_free(&p);
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  assert_int_equal(system(cmd), 0);
}

/* A crash after a merge and before its removals leaves the merged pack
 * beside its inputs; merging them again makes the same pack, of the same
 * name, which must not be removed as an input. */
static void test_pack__compact_again_after_crash(void **state) {
  (void)state;
  char tmpl[] = "/tmp/jx-test-again.XXXXXX";
  char *d = mkdtemp(tmpl), pack_dir[256], cmd[1024];
  git_repository *repo;
  git_odb *odb;
  git_oid ids[40];
  jx_pack p = JX_PACK_INIT;
  assert_non_null(d);
  assert_int_equal(git_repository_init(&repo, d, 1), 0);
  assert_int_equal(git_repository_odb(&odb, repo), 0);
  write_blob_packs(odb, &p, "again", ids);
  snprintf(pack_dir, sizeof pack_dir, "%s/objects/pack", d);
  snprintf(cmd, sizeof cmd, "cp -p %s/pack-* %s/..", pack_dir, pack_dir);
  assert_int_equal(system(cmd), 0);
  size_t merged;
  assert_int_equal(jx_compact(odb, pack_dir, &p, &merged), 0);
  assert_int_equal(merged, 40);
  /* The crash: the inputs are back beside the merged pack. */
  snprintf(cmd, sizeof cmd, "mv %s/../pack-* %s/", pack_dir, pack_dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(count_packs(pack_dir), 41);
  assert_int_equal(jx_compact(odb, pack_dir, &p, &merged), 0);
  assert_int_equal(merged, 41);
  assert_int_equal(count_packs(pack_dir), 1);
  git_odb_free(odb);
  git_repository_free(repo);
  assert_int_equal(git_repository_open(&repo, d), 0);
  assert_int_equal(git_repository_odb(&odb, repo), 0);
  for (int i = 0; i < 40; i++)
    assert_true(git_odb_exists(odb, &ids[i]));
  snprintf(cmd, sizeof cmd,
           "git --git-dir %s fsck --full --strict --no-dangling && "
           "git --git-dir %s count-objects -v | grep -q '^in-pack: 40$'",
           d, d);
  assert_int_equal(system(cmd), 0);
  git_odb_free(odb);
  git_repository_free(repo);
  jx_pack_free(&p);
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  assert_int_equal(system(cmd), 0);
}

/* A pack git wrote, with deltas (as after `git repack`), merged with ours:
 * its deltas are read whole, since their bases move; nothing is lost. */
static void test_pack__compact_deltas(void **state) {
  (void)state;
  char tmpl[] = "/tmp/jx-test-deltas.XXXXXX";
  char *d = mkdtemp(tmpl), pack_dir[256], cmd[1024];
  git_repository *repo;
  git_odb *odb;
  jx_pack p = JX_PACK_INIT;
  assert_non_null(d);
  assert_int_equal(git_repository_init(&repo, d, 1), 0);
  snprintf(cmd, sizeof cmd,
           "cd %s && for i in 1 2 3 4 5 6; do "
           "  (seq 1 60; echo version $i) | git hash-object -w --stdin; "
           "done | git pack-objects -q --window=10 objects/pack/pack "
           ">/dev/null && git prune-packed && "
           "git verify-pack -v objects/pack/pack-*.pack | "
           "grep -q ' 1 [0-9a-f]\\{40\\}$'", d);
  assert_int_equal(system(cmd), 0); /* some object is a delta */
  assert_int_equal(git_repository_odb(&odb, repo), 0);
  write_blob_packs(odb, &p, "small blob", NULL);
  snprintf(pack_dir, sizeof pack_dir, "%s/objects/pack", d);
  size_t merged;
  assert_int_equal(jx_compact(odb, pack_dir, &p, &merged), 0);
  assert_int_equal(merged, 41);
  assert_int_equal(count_packs(pack_dir), 1);
  snprintf(cmd, sizeof cmd,
           "git --git-dir %s fsck --full --strict --no-dangling && "
           "git --git-dir %s count-objects -v | grep -q '^in-pack: 46$'",
           d, d);
  assert_int_equal(system(cmd), 0);
  git_odb_free(odb);
  git_repository_free(repo);
  jx_pack_free(&p);
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  git_libgit2_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pack__objects_round_trip),
      cmocka_unit_test(test_pack__compact),
      cmocka_unit_test(test_pack__compact_deltas),
      cmocka_unit_test(test_pack__compact_again_after_crash),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  git_libgit2_shutdown();
  return rc;
}
