/* The deployment file: the shipped workflow.toml, defaults, path resolution,
 * and one case per mistake, each with its exact message and position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_config.h"
#include "jx_err.h"

static char tmpdir[] = "/tmp/jx_test_config.XXXXXX";
static char realdir[PATH_MAX]; /* tmpdir as jx_config resolves it */
static char conf[PATH_MAX];    /* tmpdir/workflow.toml */

/* The [store] and [workflow] every valid file needs; lines 1 to 4. */
#define BASE "[store]\npath = \"s.git\"\n[workflow]\ndefinition = \"w.toml\"\n"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

static void write_in(const char *dir, const char *name, const char *text) {
  jx_buf path = JX_BUF_INIT;
  jx_buf_printf(&path, "%s/%s", dir, name);
  write_file(path.data, text);
  jx_buf_free(&path);
}

static int make_tmpdir(void **state) {
  (void)state;
  char plugins[PATH_MAX];
  if (!mkdtemp(tmpdir) || !realpath(tmpdir, realdir))
    return -1;
  snprintf(conf, sizeof conf, "%s/workflow.toml", tmpdir);
  snprintf(plugins, sizeof plugins, "%s/plugins", tmpdir);
  if (mkdir(plugins, 0700) != 0 || mkdir(strcat(plugins, "/sub"), 0700) != 0)
    return -1;
  write_in(tmpdir, "plugins/a.lua", "");
  write_in(tmpdir, "plugins/b.lua", "");
  return 0;
}

static int remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return -1;
  if (!S_ISDIR(st.st_mode))
    return unlink(path);
  DIR *d = opendir(path);
  if (!d)
    return -1;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    rc |= remove_tree(sub);
  }
  closedir(d);
  return rc | rmdir(path);
}

static int remove_tmpdir(void **state) {
  (void)state;
  return remove_tree(tmpdir);
}

static jx_config *load(const char *text) {
  write_file(conf, text);
  jx_config *c = NULL;
  if (jx_config_load(&c, conf) != 0)
    fail_msg("%s", jx_err_last()->msg);
  return c;
}

/* Loading `text` fails with conf + `tail` as its message ("%s" in tail
 * stands for realdir), leaving the out pointer alone. */
static void expect_error(const char *text, const char *tail) {
  char want[2 * PATH_MAX], rest[PATH_MAX];
  snprintf(rest, sizeof rest, tail, realdir);
  snprintf(want, sizeof want, "%s%s", conf, rest);
  write_file(conf, text);
  jx_config *c = (jx_config *)&c; /* any non-NULL sentinel */
  assert_int_equal(jx_config_load(&c, conf), JX_EINVAL);
  assert_ptr_equal(c, (jx_config *)&c);
  assert_int_equal(jx_err_last()->code, JX_EINVAL);
  assert_string_equal(jx_err_last()->msg, want);
}

static void expect_path(const char *got, const char *rel) {
  char want[2 * PATH_MAX];
  snprintf(want, sizeof want, "%s/%s", realdir, rel);
  assert_string_equal(got, want);
}

static void test_config__shipped_file_loads(void **state) {
  (void)state;
  const char *src = getenv("JX_SOURCE_DIR");
  assert_non_null(src);
  jx_buf path = JX_BUF_INIT, dir = JX_BUF_INIT;
  jx_buf_printf(&path, "%s/workflow.toml", src);
  FILE *f = fopen(path.data, "rb");
  assert_non_null(f);
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';

  /* A copy beside its own plugin files, which may not be written yet. */
  jx_buf_printf(&dir, "%s/shipped", tmpdir);
  assert_int_equal(mkdir(dir.data, 0700), 0);
  write_in(dir.data, "workflow.toml", text);
  jx_buf_puts(&dir, "/plugins");
  assert_int_equal(mkdir(dir.data, 0700), 0);
  write_in(dir.data, "r0_coverage.lua", "");
  write_in(dir.data, "r8_disclosure.lua", "");
  write_in(dir.data, "r9_ranking.lua", "");
  write_in(dir.data, "r10_progress.lua", "");
  write_in(dir.data, "r1_staffing.lua", "");
  write_in(dir.data, "r2_ex_ante.lua", "");
  write_in(dir.data, "r3_targets.lua", "");
  write_in(dir.data, "r4_monitoring.lua", "");
  write_in(dir.data, "r5_recovery.lua", "");
  write_in(dir.data, "r6_evaluation.lua", "");
  write_in(dir.data, "r6_third_party.lua", "");
  write_in(dir.data, "r7_results.lua", "");
  write_in(dir.data, "jx.lua", "");
  path.len = 0;
  jx_buf_printf(&path, "%s/shipped/workflow.toml", tmpdir);
  jx_config *c = NULL;
  if (jx_config_load(&c, path.data) != 0)
    fail_msg("%s", jx_err_last()->msg);

  assert_string_equal(c->path, path.data);
  expect_path(c->dir, "shipped");
  expect_path(c->store_path, "shipped/store.git");
  assert_int_equal(c->max_batch, 1000);
  assert_int_equal(c->max_frame, 1048576);
  expect_path(c->workflow_path, "shipped/workflows/budget.toml");
  expect_path(c->plugin_dir, "shipped/plugins");
  assert_int_equal(c->limits.max_instructions, 1000000);
  assert_int_equal(c->limits.max_memory, 16777216);
  assert_int_equal(c->limits.max_ms, 200);

  /* Looked up by name: the shipped file gains plugins as rules arrive. */
  assert_true(c->nplugins >= 2);
  const jx_plugin_conf *r2 = jx_config_plugin(c, "r2_ex_ante");
  assert_non_null(r2);
  assert_string_equal(r2->name, "r2_ex_ante");
  expect_path(r2->path, "shipped/plugins/r2_ex_ante.lua");
  assert_int_equal(r2->params.type, JX_MAP);
  assert_true(r2->params.u.m.len >= 2);
  int64_t threshold;
  assert_true(jx_map_int(&r2->params, "threshold", &threshold));
  assert_int_equal(threshold, 5000000);
  const jx_value *kinds = jx_map_get(&r2->params, "kinds");
  assert_non_null(kinds);
  assert_int_equal(kinds->type, JX_ARRAY);
  assert_int_equal(kinds->u.a.len, 6);
  assert_string_equal(kinds->u.a.items[3].u.s.ptr, "continue");
  const jx_plugin_conf *r3 = jx_config_plugin(c, "r3_targets");
  assert_non_null(r3);
  assert_non_null(jx_map_get(&r3->params, "kinds"));
  assert_true(r3 > r2); /* in file order: guards run in that order */
  assert_null(jx_config_plugin(c, "r9"));

  assert_int_equal(c->nactors, 25);
  for (size_t i = 1; i < c->nactors; i++)
    assert_true(strcmp(c->actors[i - 1].name, c->actors[i].name) < 0);
  const jx_actor_conf *a = jx_config_actor(c, "edu-dept");
  assert_non_null(a);
  assert_string_equal(a->role, "department");
  assert_string_equal(jx_map_str(&a->scope, "department"), "education");
  assert_null(jx_map_get(&a->scope, "role"));
  a = jx_config_actor(c, "fin-perf");
  assert_non_null(a);
  assert_string_equal(a->role, "finance_performance");
  assert_int_equal(a->scope.u.m.len, 0);
  assert_non_null(jx_config_actor(c, "edu-school-1"));
  assert_non_null(jx_config_actor(c, "hlt-dept"));
  assert_null(jx_config_actor(c, "nobody"));
  jx_config_free(c);
  jx_buf_free(&path);
  jx_buf_free(&dir);
}

static void test_config__defaults(void **state) {
  (void)state;
  jx_config *c = load(BASE);
  assert_string_equal(c->path, conf);
  assert_string_equal(c->dir, realdir);
  expect_path(c->store_path, "s.git");
  expect_path(c->workflow_path, "w.toml");
  expect_path(c->plugin_dir, "plugins");
  assert_int_equal(c->max_batch, 1000);
  assert_int_equal(c->max_frame, 1048576);
  assert_int_equal(c->limits.max_instructions, 1000000);
  assert_int_equal(c->limits.max_memory, 16 * 1024 * 1024);
  assert_int_equal(c->limits.max_ms, 200);
  assert_int_equal(c->nplugins, 0);
  assert_int_equal(c->nactors, 0);
  assert_null(jx_config_actor(c, "x"));
  assert_null(jx_config_plugin(c, "x"));
  jx_config_free(c);
  jx_config_free(NULL);
}

static void test_config__values_and_paths(void **state) {
  (void)state;
  jx_config *c = load("[store]\n"
                      "path = \"/srv/jx/store.git\"\n"
                      "max_batch = 4000\n"
                      "max_frame = 65536\n"
                      "[workflow]\n"
                      "definition = \"defs/../w.toml\"\n"
                      "plugin_dir = \"plugins/\"\n"
                      "[sandbox]\n"
                      "max_instructions = 5\n"
                      "max_memory = 1024\n"
                      "max_ms = 4294967295\n"
                      "[[plugin]]\n"
                      "name = \"a.v2\"\n"
                      "file = \"a.lua\"\n"
                      "when = 2021-06-30\n"
                      "bands = { good = 90, fair = 60 }\n"
                      "[actors]\n"
                      "solo = { role = \"unit\" }\n");
  assert_string_equal(c->store_path, "/srv/jx/store.git");
  assert_int_equal(c->max_batch, 4000);
  assert_int_equal(c->max_frame, 65536);
  expect_path(c->workflow_path, "defs/../w.toml");
  expect_path(c->plugin_dir, "plugins/");
  expect_path(c->plugins[0].path, "plugins/a.lua");
  assert_int_equal(c->limits.max_instructions, 5);
  assert_int_equal(c->limits.max_memory, 1024);
  assert_int_equal(c->limits.max_ms, UINT32_MAX);
  assert_string_equal(jx_map_str(&c->plugins[0].params, "when"), "2021-06-30");
  int64_t good;
  assert_true(
      jx_map_int(jx_map_get(&c->plugins[0].params, "bands"), "good", &good));
  assert_int_equal(good, 90);
  assert_null(jx_map_get(&c->plugins[0].params, "name"));
  assert_null(jx_map_get(&c->plugins[0].params, "file"));
  assert_int_equal(c->nactors, 1);
  assert_string_equal(jx_config_actor(c, "solo")->role, "unit");
  jx_config_free(c);
}

static void test_config__relative_path_resolves_against_its_dir(void **state) {
  (void)state;
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof cwd));
  write_file(conf, BASE);
  assert_int_equal(chdir(tmpdir), 0);
  jx_config *c = NULL;
  int rc = jx_config_load(&c, "workflow.toml");
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(rc, 0);
  assert_string_equal(c->path, "workflow.toml");
  assert_string_equal(c->dir, realdir);
  expect_path(c->store_path, "s.git");
  jx_config_free(c);
}

static void test_config__unreadable_or_malformed_file(void **state) {
  (void)state;
  char path[PATH_MAX], want[2 * PATH_MAX];
  snprintf(path, sizeof path, "%s/absent.toml", tmpdir);
  jx_config *c = NULL;
  assert_int_equal(jx_config_load(&c, path), JX_EINVAL);
  assert_null(c);
  snprintf(want, sizeof want, "%s: cannot read: No such file or directory",
           path);
  assert_string_equal(jx_err_last()->msg, want);
  expect_error(BASE "[sandbox\n",
               ":5:9: Error while parsing table header: expected ']', saw "
               "'\\n'");
}

static void test_config__missing_required_keys(void **state) {
  (void)state;
  expect_error("[workflow]\ndefinition = \"w.toml\"\n[store]\nmax_batch = 5\n",
               ":3:1: [store] has no path, which is required");
  expect_error("[workflow]\ndefinition = \"w.toml\"\n",
               ": [store] has no path, which is required");
  expect_error("[store]\npath = \"s.git\"\n[workflow]\nplugin_dir = \"p\"\n",
               ":3:1: [workflow] has no definition, which is required");
  expect_error("[store]\npath = \"s.git\"\n",
               ": [workflow] has no definition, which is required");
}

static void test_config__wrong_types(void **state) {
  (void)state;
  expect_error("[store]\npath = 5\n",
               ":2:8: [store] path must be a string, not an integer");
  expect_error("[store]\npath = \"s\"\nmax_batch = \"10\"\n",
               ":3:13: [store] max_batch must be an integer, not a string");
  expect_error("store = \"s.git\"\n",
               ":1:9: store must be a table, not a string");
  expect_error(BASE "plugin_dir = []\n",
               ":5:14: [workflow] plugin_dir must be a string, not an array");
  expect_error(BASE "[sandbox]\nmax_ms = 1.5\n",
               ":6:10: [sandbox] max_ms must be an integer, not a float");
  expect_error("plugin = \"a\"\n" BASE,
               ":1:10: plugin must be an array, not a string");
  expect_error("actors = [1]\n" BASE,
               ":1:10: actors must be a table, not an array");
  expect_error(BASE "[[plugin]]\nname = \"a\"\nfile = true\n",
               ":7:8: plugin \"a\" file must be a string, not a boolean");
  expect_error(BASE "[actors]\nx = { role = 7 }\n",
               ":6:14: actor \"x\" role must be a string, not an integer");
  expect_error(BASE "[actors]\nx = { role = \"unit\", department = 1.0 }\n",
               ":6:35: actor \"x\" department must be a string, not a float");
}

static void test_config__bad_numbers_and_strings(void **state) {
  (void)state;
  expect_error("[store]\npath = \"s\"\nmax_batch = 0\n",
               ":3:13: [store] max_batch must be positive, not 0");
  expect_error("[store]\npath = \"s\"\nmax_frame = -1\n",
               ":3:13: [store] max_frame must be positive, not -1");
  expect_error(BASE "[sandbox]\nmax_memory = -16\n",
               ":6:14: [sandbox] max_memory must be positive, not -16");
  expect_error(BASE "[sandbox]\nmax_instructions = 0\n",
               ":6:20: [sandbox] max_instructions must be positive, not 0");
  expect_error(BASE "[sandbox]\nmax_ms = 4294967296\n",
               ":6:10: [sandbox] max_ms is too large: 4294967296 > "
               "4294967295");
  expect_error("[store]\npath = \"\"\n", ":2:8: [store] path is empty");
  expect_error("[store]\npath = \"a\\u0000b\"\n",
               ":2:8: [store] path contains a NUL byte");
}

static void test_config__unknown_sections_and_keys(void **state) {
  (void)state;
  /* Reported before the missing [store] the typo causes. */
  expect_error("[stroe]\npath = \"s.git\"\n[workflow]\ndefinition = \"w\"\n",
               ":1:1: unknown section \"stroe\"; known sections: store, "
               "workflow, sandbox, plugin, actors, calendar, serve");
  expect_error(BASE "debug = true\n",
               ":5:9: unknown key \"debug\" in [workflow]; known keys: "
               "definition, plugin_dir, library");
  expect_error("verbose = true\n" BASE,
               ":1:11: unknown section \"verbose\"; known sections: store, "
               "workflow, sandbox, plugin, actors, calendar, serve");
  expect_error("[store]\npath = \"s\"\nmax_bacth = 10\n",
               ":3:13: unknown key \"max_bacth\" in [store]; known keys: "
               "path, max_batch, max_frame, lock_wait_ms, signing_key");
  expect_error(BASE "[sandbox]\nmax_instrucions = 5\n",
               ":6:19: unknown key \"max_instrucions\" in [sandbox]; known "
               "keys: max_instructions, max_memory, max_ms");
  /* Scope keys are free (checked against the workflow's fields by the
   * engine), but must be strings. */
  expect_error(BASE "[actors]\nx = { role = \"unit\", dept = 1 }\n",
               ":6:29: actor \"x\" dept must be a string, not an integer");
}

static void test_config__plugin_mistakes(void **state) {
  (void)state;
  expect_error(BASE "[[plugin]]\n"       /* 5 */
                    "name = \"a\"\n"     /* 6 */
                    "file = \"a.lua\"\n" /* 7 */
                    "[[plugin]]\n"       /* 8 */
                    "name = \"a\"\n"     /* 9 */
                    "file = \"b.lua\"\n",
               ":9:8: plugin name \"a\" is used twice, first on line 6");
  expect_error(BASE "[[plugin]]\nname = \"bad name\"\nfile = \"a.lua\"\n",
               ":6:8: plugin name \"bad name\" is not valid: it contains a "
               "character outside the allowed set (use 1 to 64 letters, "
               "digits, '.', '_' or '-')");
  expect_error(BASE "[[plugin]]\nname = \"../a\"\nfile = \"a.lua\"\n",
               ":6:8: plugin name \"../a\" is not valid: it contains a path "
               "separator (use 1 to 64 letters, digits, '.', '_' or '-')");
  expect_error(BASE "[[plugin]]\nfile = \"a.lua\"\n",
               ":5:1: [[plugin]] #1 has no name, which is required");
  expect_error(BASE "[[plugin]]\nname = \"a\"\nfile = \"a.lua\"\n"
                    "[[plugin]]\nname = \"b\"\n",
               ":8:1: plugin \"b\" has no file, which is required");
  expect_error("plugin = [1]\n" BASE,
               ":1:11: [[plugin]] #1 must be a table, not an integer");
  expect_error(BASE "[[plugin]]\nname = \"a\"\nfile = \"nope.lua\"\n",
               ":7:8: plugin \"a\": cannot read %s/plugins/nope.lua: No such "
               "file or directory");
  expect_error(BASE "[[plugin]]\nname = \"a\"\nfile = \"sub\"\n",
               ":7:8: plugin \"a\": %s/plugins/sub is not a regular file");
  expect_error("[store]\npath = \"s\"\n[workflow]\ndefinition = \"w\"\n"
               "plugin_dir = \"elsewhere\"\n"
               "[[plugin]]\nname = \"a\"\nfile = \"a.lua\"\n",
               ":8:8: plugin \"a\": cannot read %s/elsewhere/a.lua: No such "
               "file or directory");
}

static void test_config__actor_mistakes(void **state) {
  (void)state;
  expect_error(BASE "[actors]\n\"bad/actor\" = { role = \"unit\" }\n",
               ":6:15: actor \"bad/actor\" is not valid: it contains a path "
               "separator (use 1 to 64 letters, digits, '.', '_' or '-')");
  expect_error(BASE "[actors]\n\"\" = { role = \"unit\" }\n",
               ":6:6: actor \"\" is not valid: it is empty (use 1 to 64 "
               "letters, digits, '.', '_' or '-')");
  expect_error(BASE "[actors]\nx = { department = \"education\" }\n",
               ":6:5: actor \"x\" has no role, which is required");
  expect_error(BASE "[actors]\nx = { role = \"\" }\n",
               ":6:14: actor \"x\" role is empty");
  expect_error(BASE "[actors]\nx = \"unit\"\n",
               ":6:5: actor \"x\" must be a table such as { role = \"unit\" "
               "}, not a string");
  expect_error(BASE "[actors.x]\ndepartment = \"health\"\n",
               ":5:1: actor \"x\" has no role, which is required");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config__shipped_file_loads),
      cmocka_unit_test(test_config__defaults),
      cmocka_unit_test(test_config__values_and_paths),
      cmocka_unit_test(test_config__relative_path_resolves_against_its_dir),
      cmocka_unit_test(test_config__unreadable_or_malformed_file),
      cmocka_unit_test(test_config__missing_required_keys),
      cmocka_unit_test(test_config__wrong_types),
      cmocka_unit_test(test_config__bad_numbers_and_strings),
      cmocka_unit_test(test_config__unknown_sections_and_keys),
      cmocka_unit_test(test_config__plugin_mistakes),
      cmocka_unit_test(test_config__actor_mistakes),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
