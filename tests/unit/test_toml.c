/* The TOML bridge: conversion of every TOML type, syntax errors and
 * unreadable files with their positions, and jx_toml_error_at's lookup of
 * source positions with its fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jx_err.h"
#include "jx_toml.h"

static char tmpdir[] = "/tmp/jx_test_toml.XXXXXX";

static int make_tmpdir(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  return rmdir(tmpdir);
}

/* Writes text to tmpdir/name; the path goes into path[256]. */
static void write_file(char *path, const char *name, const char *text) {
  snprintf(path, 256, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

static jx_toml_doc *load_string(const char *text) {
  jx_toml_doc *doc = NULL;
  int rc = jx_toml_load_string(&doc, text, strlen(text), "mem.toml");
  if (rc != 0)
    fail_msg("%s", jx_err_last()->msg);
  return doc;
}

/* Loading `text` fails with exactly `msg`, leaving the out pointer alone. */
static void expect_syntax_error(const char *text, const char *msg) {
  jx_toml_doc *doc = (jx_toml_doc *)&doc; /* any non-NULL sentinel */
  assert_int_equal(jx_toml_load_string(&doc, text, strlen(text), "mem.toml"),
                   JX_EINVAL);
  assert_ptr_equal(doc, (jx_toml_doc *)&doc);
  assert_int_equal(jx_err_last()->code, JX_EINVAL);
  assert_string_equal(jx_err_last()->msg, msg);
}

static const char ALL_TYPES[] = "title = \"jixiao\"\n"
                                "count = 42\n"
                                "neg = -7\n"
                                "big = 9_223_372_036_854_775_807\n"
                                "ratio = 0.25\n"
                                "yes = true\n"
                                "no = false\n"
                                "nul = \"a\\u0000b\"\n"
                                "list = [1, \"two\", [3.5]]\n"
                                "empty = []\n"
                                "point = { x = 1, y = 2 }\n"
                                "a.b.c = \"deep\"\n"
                                "\n"
                                "[budget.year]\n"
                                "total = 5_000_000\n"
                                "\n"
                                "[[plugin]]\n"
                                "name = \"r2\"\n"
                                "kinds = [\"new\", \"adjust\"]\n"
                                "\n"
                                "[[plugin]]\n"
                                "name = \"r3\"\n";

static jx_value all_types_expected(void) {
  jx_value m = jx_map();
  jx_map_set(&m, "title", jx_str("jixiao"));
  jx_map_set(&m, "count", jx_int(42));
  jx_map_set(&m, "neg", jx_int(-7));
  jx_map_set(&m, "big", jx_int(INT64_MAX));
  jx_map_set(&m, "ratio", jx_float(0.25));
  jx_map_set(&m, "yes", jx_bool(true));
  jx_map_set(&m, "no", jx_bool(false));
  jx_map_set(&m, "nul", jx_strn("a\0b", 3));
  jx_value *list = jx_map_set(&m, "list", jx_array());
  jx_array_push(list, jx_int(1));
  jx_array_push(list, jx_str("two"));
  jx_array_push(jx_array_push(list, jx_array()), jx_float(3.5));
  jx_map_set(&m, "empty", jx_array());
  jx_value *point = jx_map_set(&m, "point", jx_map());
  jx_map_set(point, "x", jx_int(1));
  jx_map_set(point, "y", jx_int(2));
  jx_value *a = jx_map_set(&m, "a", jx_map());
  jx_map_set(jx_map_set(a, "b", jx_map()), "c", jx_str("deep"));
  jx_value *budget = jx_map_set(&m, "budget", jx_map());
  jx_map_set(jx_map_set(budget, "year", jx_map()), "total", jx_int(5000000));
  jx_value *plugins = jx_map_set(&m, "plugin", jx_array());
  jx_value *r2 = jx_array_push(plugins, jx_map());
  jx_map_set(r2, "name", jx_str("r2"));
  jx_value *kinds = jx_map_set(r2, "kinds", jx_array());
  jx_array_push(kinds, jx_str("new"));
  jx_array_push(kinds, jx_str("adjust"));
  jx_map_set(jx_array_push(plugins, jx_map()), "name", jx_str("r3"));
  return m;
}

static void test_toml__round_trip_file(void **state) {
  (void)state;
  char path[256];
  write_file(path, "all.toml", ALL_TYPES);
  jx_toml_doc *doc = NULL;
  assert_int_equal(jx_toml_load(&doc, path), 0);
  jx_value want = all_types_expected();
  const jx_value *root = jx_toml_root(doc);
  assert_int_equal(root->type, JX_MAP);
  assert_true(jx_value_equal(root, &want));
  jx_value_free(&want);
  jx_toml_free(doc);
  unlink(path);
}

static void test_toml__round_trip_string(void **state) {
  (void)state;
  jx_toml_doc *doc = load_string(ALL_TYPES);
  jx_value want = all_types_expected();
  assert_true(jx_value_equal(jx_toml_root(doc), &want));
  jx_value_free(&want);
  jx_toml_free(doc);
}

static void test_toml__dates_as_iso_strings(void **state) {
  (void)state;
  static const struct {
    const char *toml, *text;
  } cases[] = {
      {"2021-06-30", "2021-06-30"},
      {"07:32:00", "07:32:00"},
      {"00:32:00.5", "00:32:00.5"},
      {"00:32:00.000001", "00:32:00.000001"},
      {"1979-05-27T07:32:00", "1979-05-27T07:32:00"},
      {"1979-05-27 07:32:00Z", "1979-05-27T07:32:00Z"},
      {"1979-05-27T07:32:00+00:00", "1979-05-27T07:32:00Z"},
      {"1979-05-27T00:32:00.999-07:00", "1979-05-27T00:32:00.999-07:00"},
      {"2021-12-31T23:59:59+08:00", "2021-12-31T23:59:59+08:00"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[128];
    snprintf(text, sizeof text, "d = %s\n", cases[i].toml);
    jx_toml_doc *doc = load_string(text);
    const jx_value *d = jx_map_get(jx_toml_root(doc), "d");
    assert_non_null(d);
    assert_int_equal(d->type, JX_STR);
    assert_string_equal(d->u.s.ptr, cases[i].text);
    jx_toml_free(doc);
  }
}

static void test_toml__empty_document(void **state) {
  (void)state;
  jx_toml_doc *doc = load_string("# nothing\n");
  assert_int_equal(jx_toml_root(doc)->type, JX_MAP);
  assert_int_equal(jx_toml_root(doc)->u.m.len, 0);
  jx_toml_free(doc);
  jx_toml_free(NULL);
}

static void test_toml__syntax_error_position(void **state) {
  (void)state;
  expect_syntax_error("a = 1\nb = [1,\n  2,,]\n",
                      "mem.toml:3:5: Error while parsing array: expected "
                      "value or closing ']', saw comma");
  expect_syntax_error("[store]\npath = \"s.git\"\npath = \"t.git\"\n",
                      "mem.toml:3:8: Error while parsing key-value pair: "
                      "cannot redefine existing string 'path'");
  expect_syntax_error("x = \"unterminated\n",
                      "mem.toml:1:18: Error while parsing string: unescaped "
                      "control characters other than TAB (U+0009) are "
                      "explicitly prohibited");
}

static void test_toml__syntax_error_in_file_names_path(void **state) {
  (void)state;
  char path[256], want[512];
  write_file(path, "bad.toml", "# ok\n\n[store\npath = 1\n");
  jx_toml_doc *doc = NULL;
  assert_int_equal(jx_toml_load(&doc, path), JX_EINVAL);
  assert_null(doc);
  snprintf(want, sizeof want, "%s:3:7: ", path);
  const char *msg = jx_err_last()->msg;
  assert_memory_equal(msg, want, strlen(want));
  assert_non_null(strstr(msg, "Error while parsing table header"));
  unlink(path);
}

static void test_toml__nul_in_key_refused(void **state) {
  (void)state;
  expect_syntax_error("ok = 1\n\"a\\u0000b\" = 1\n",
                      "mem.toml:2:1: a key contains a NUL byte");
  expect_syntax_error("[t]\nx = { \"\\u0000\" = 1 }\n",
                      "mem.toml:2:7: a key contains a NUL byte");
}

static void test_toml__cannot_read(void **state) {
  (void)state;
  char path[256], want[512];
  jx_toml_doc *doc = NULL;
  snprintf(path, sizeof path, "%s/absent.toml", tmpdir);
  assert_int_equal(jx_toml_load(&doc, path), JX_EINVAL);
  assert_null(doc);
  snprintf(want, sizeof want, "%s: cannot read: No such file or directory",
           path);
  assert_string_equal(jx_err_last()->msg, want);

  assert_int_equal(jx_toml_load(&doc, tmpdir), JX_EINVAL);
  assert_null(doc);
  snprintf(want, sizeof want, "%s: cannot read: Is a directory", tmpdir);
  assert_string_equal(jx_err_last()->msg, want);
}

static const char POSITIONS[] = "[store]\n"                         /* 1 */
                                "path = \"store.git\"\n"            /* 2 */
                                "\n"                                /* 3 */
                                "[[plugin]]\n"                      /* 4 */
                                "name = \"r2\"\n"                   /* 5 */
                                "\n"                                /* 6 */
                                "[[plugin]]\n"                      /* 7 */
                                "name = \"r3\"\n"                   /* 8 */
                                "  threshold = 5000000\n"           /* 9 */
                                "kinds = [\"new\",   \"adjust\"]\n" /* 10 */
                                "\n"                                /* 11 */
                                "[actors]\n"                        /* 12 */
                                "\"fin-perf\" = { role = 7 }\n";    /* 13 */

/* jx_toml_error_at(doc, keys...) gives `msg`. */
static void expect_at(jx_toml_doc *doc, const char *const *keys, size_t n,
                      const char *msg) {
  jx_err_clear();
  assert_int_equal(jx_toml_error_at(doc, keys, n, "bad %s #%d", "value", 7),
                   JX_EINVAL);
  assert_int_equal(jx_err_last()->code, JX_EINVAL);
  assert_string_equal(jx_err_last()->msg, msg);
}

static void test_toml__error_at_exact_node(void **state) {
  (void)state;
  jx_toml_doc *doc = load_string(POSITIONS);
  const char *threshold[] = {"plugin", "1", "threshold"};
  expect_at(doc, threshold, 3, "mem.toml:9:15: bad value #7");
  const char *path[] = {"store", "path"};
  expect_at(doc, path, 2, "mem.toml:2:8: bad value #7");
  const char *store[] = {"store"};
  expect_at(doc, store, 1, "mem.toml:1:1: bad value #7");
  const char *second[] = {"plugin", "1"};
  expect_at(doc, second, 2, "mem.toml:7:1: bad value #7");
  const char *kind[] = {"plugin", "1", "kinds", "1"};
  expect_at(doc, kind, 4, "mem.toml:10:19: bad value #7");
  const char *role[] = {"actors", "fin-perf", "role"};
  expect_at(doc, role, 3, "mem.toml:13:23: bad value #7");
  const char *actor[] = {"actors", "fin-perf"};
  expect_at(doc, actor, 2, "mem.toml:13:14: bad value #7");
  jx_toml_free(doc);
}

static void test_toml__error_at_falls_back_to_parent(void **state) {
  (void)state;
  jx_toml_doc *doc = load_string(POSITIONS);
  const char *missing[] = {"store", "max_batch"};
  expect_at(doc, missing, 2, "mem.toml:1:1: bad value #7");
  const char *deeper[] = {"plugin", "0", "file", "x"};
  expect_at(doc, deeper, 4, "mem.toml:4:1: bad value #7");
  const char *past_end[] = {"plugin", "2", "name"};
  expect_at(doc, past_end, 3, "mem.toml:4:1: bad value #7");
  const char *not_index[] = {"plugin", "+1"};
  expect_at(doc, not_index, 2, "mem.toml:4:1: bad value #7");
  const char *into_scalar[] = {"store", "path", "x"};
  expect_at(doc, into_scalar, 3, "mem.toml:2:8: bad value #7");
  const char *absent[] = {"sandbox", "max_ms"};
  expect_at(doc, absent, 2, "mem.toml: bad value #7");
  expect_at(doc, NULL, 0, "mem.toml: bad value #7");
  jx_toml_free(doc);
}

static void test_toml__error_at_may_quote_last_error(void **state) {
  (void)state;
  jx_toml_doc *doc = load_string(POSITIONS);
  const char *path[] = {"store", "path"};
  jx_err_set(JX_EINVAL, "the cause");
  assert_int_equal(
      jx_toml_error_at(doc, path, 2, "wrapped: %s", jx_err_last()->msg),
      JX_EINVAL);
  assert_string_equal(jx_err_last()->msg, "mem.toml:2:8: wrapped: the cause");
  unsigned line = 0, col = 0;
  assert_true(jx_toml_pos(doc, path, 2, &line, &col));
  assert_int_equal(line, 2);
  assert_int_equal(col, 8);
  const char *absent[] = {"nowhere"};
  assert_false(jx_toml_pos(doc, absent, 1, &line, &col));
  jx_toml_free(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_toml__round_trip_file),
      cmocka_unit_test(test_toml__round_trip_string),
      cmocka_unit_test(test_toml__dates_as_iso_strings),
      cmocka_unit_test(test_toml__empty_document),
      cmocka_unit_test(test_toml__syntax_error_position),
      cmocka_unit_test(test_toml__syntax_error_in_file_names_path),
      cmocka_unit_test(test_toml__nul_in_key_refused),
      cmocka_unit_test(test_toml__cannot_read),
      cmocka_unit_test(test_toml__error_at_exact_node),
      cmocka_unit_test(test_toml__error_at_falls_back_to_parent),
      cmocka_unit_test(test_toml__error_at_may_quote_last_error),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
