/* The dynamic value: maps kept sorted whatever the insertion order, set that
 * replaces and frees, del, deep copy and equality, arrays, typed getters and
 * merge.  Leaks and double frees are the sanitizer build's to find. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jx_value.h"

/* The keys of map m, in storage order, must be exactly `want`. */
static void expect_keys(const jx_value *m, const char *const *want, size_t n) {
  assert_int_equal(m->type, JX_MAP);
  assert_int_equal(m->u.m.len, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(m->u.m.items[i].key, want[i]);
}

static void test_value__scalars(void **state) {
  (void)state;
  jx_value v = jx_nil();
  assert_int_equal(v.type, JX_NIL);
  v = jx_bool(true);
  assert_int_equal(v.type, JX_BOOL);
  assert_true(v.u.b);
  v = jx_int(INT64_MIN);
  assert_int_equal(v.type, JX_INT);
  assert_true(v.u.i == INT64_MIN);
  v = jx_float(-0.5);
  assert_int_equal(v.type, JX_FLOAT);
  assert_true(v.u.f == -0.5);
  jx_value_free(&v); /* scalars own nothing; free leaves nil */
  assert_int_equal(v.type, JX_NIL);
}

static void test_value__strings(void **state) {
  (void)state;
  jx_value s = jx_str("预算");
  assert_int_equal(s.type, JX_STR);
  assert_int_equal(s.u.s.len, strlen("预算"));
  assert_string_equal(s.u.s.ptr, "预算");
  jx_value_free(&s);
  assert_int_equal(s.type, JX_NIL);

  /* strn copies exactly len bytes, NULs included, and terminates. */
  jx_value n = jx_strn("a\0b\0", 3);
  assert_int_equal(n.u.s.len, 3);
  assert_memory_equal(n.u.s.ptr, "a\0b", 3);
  assert_int_equal(n.u.s.ptr[3], '\0');
  jx_value e = jx_strn("xyz", 0);
  assert_int_equal(e.u.s.len, 0);
  assert_string_equal(e.u.s.ptr, "");
  jx_value_free(&n);
  jx_value_free(&e);

  char src[] = "mutable";
  jx_value c = jx_str(src);
  src[0] = 'M'; /* a copy, not a borrow */
  assert_string_equal(c.u.s.ptr, "mutable");
  jx_value_free(&c);

  char *d = jx_xstrdup("dup");
  assert_string_equal(d, "dup");
  free(d);
}

static void test_value__type_names(void **state) {
  (void)state;
  assert_string_equal(jx_type_name(JX_NIL), "nil");
  assert_string_equal(jx_type_name(JX_BOOL), "boolean");
  assert_string_equal(jx_type_name(JX_INT), "integer");
  assert_string_equal(jx_type_name(JX_FLOAT), "float");
  assert_string_equal(jx_type_name(JX_STR), "string");
  assert_string_equal(jx_type_name(JX_ARRAY), "array");
  assert_string_equal(jx_type_name(JX_MAP), "map");
}

static void test_value__map_sorted_any_order(void **state) {
  (void)state;
  /* Bytewise order: upper case before lower case, a prefix before its
   * extensions, UTF-8 after ASCII. */
  static const char *const sorted[] = {"", "B", "Z", "a", "ab", "b", "é"};
  const size_t n = sizeof sorted / sizeof *sorted;
  static const size_t orders[][7] = {
      {0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 0, 6, 1, 5, 2, 4},
      {4, 3, 5, 2, 6, 1, 0}, {2, 6, 0, 4, 1, 3, 5},
  };
  for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
    jx_value m = jx_map();
    for (size_t i = 0; i < n; i++) {
      size_t k = orders[o][i];
      jx_value *stored = jx_map_set(&m, sorted[k], jx_int((int64_t)k));
      assert_int_equal(stored->type, JX_INT);
      assert_int_equal(stored->u.i, (int64_t)k);
    }
    expect_keys(&m, sorted, n);
    for (size_t k = 0; k < n; k++) {
      const jx_value *v = jx_map_get(&m, sorted[k]);
      assert_non_null(v);
      assert_int_equal(v->u.i, (int64_t)k);
    }
    jx_value_free(&m);
    assert_int_equal(m.type, JX_NIL);
  }
}

static void test_value__map_many_keys_pseudo_random(void **state) {
  (void)state;
  jx_value m = jx_map();
  uint32_t x = 12345;
  for (int i = 0; i < 500; i++) {
    x = x * 1103515245u + 12345u;
    char key[16];
    snprintf(key, sizeof key, "k%u", (unsigned)(x >> 16) % 300);
    jx_map_set(&m, key, jx_str(key));
  }
  assert_true(m.u.m.len > 100 && m.u.m.len <= 300);
  for (size_t i = 1; i < m.u.m.len; i++)
    assert_true(strcmp(m.u.m.items[i - 1].key, m.u.m.items[i].key) < 0);
  for (size_t i = 0; i < m.u.m.len; i++)
    assert_string_equal(jx_map_str(&m, m.u.m.items[i].key), m.u.m.items[i].key);
  jx_value_free(&m);
}

static void test_value__map_set_replaces_and_frees(void **state) {
  (void)state;
  jx_value m = jx_map();
  jx_map_set(&m, "state", jx_str("draft"));
  jx_value inner = jx_map();
  jx_map_set(&inner, "deep", jx_str("old"));
  jx_map_set(&m, "nested", inner);
  /* Replacing a string and a whole map: the old ones are freed (the
   * sanitizer build reports a leak otherwise), the key is not repeated. */
  jx_value *v = jx_map_set(&m, "state", jx_str("dept_review"));
  assert_string_equal(v->u.s.ptr, "dept_review");
  v = jx_map_set(&m, "nested", jx_int(3));
  assert_int_equal(v->type, JX_INT);
  static const char *const keys[] = {"nested", "state"};
  expect_keys(&m, keys, 2);
  assert_string_equal(jx_map_str(&m, "state"), "dept_review");
  jx_value_free(&m);
}

static void test_value__map_get_absent_or_not_map(void **state) {
  (void)state;
  jx_value m = jx_map();
  assert_null(jx_map_get(&m, "x"));
  jx_map_set(&m, "x", jx_nil());
  const jx_value *v = jx_map_get(&m, "x");
  assert_non_null(v); /* present with a nil value is not absent */
  assert_int_equal(v->type, JX_NIL);
  assert_null(jx_map_get(&m, "X"));
  assert_null(jx_map_get(&m, "x "));
  jx_value i = jx_int(1);
  assert_null(jx_map_get(&i, "x"));
  assert_null(jx_map_get(NULL, "x"));
  jx_value a = jx_array();
  assert_null(jx_map_get(&a, "x"));
  jx_value_free(&m);
}

static void test_value__map_del(void **state) {
  (void)state;
  jx_value m = jx_map();
  assert_false(jx_map_del(&m, "nothing")); /* empty map */
  const char *const all[] = {"a", "b", "c", "d", "e"};
  for (size_t i = 0; i < 5; i++)
    jx_map_set(&m, all[4 - i], jx_str(all[4 - i]));
  assert_true(jx_map_del(&m, "c")); /* middle */
  assert_true(jx_map_del(&m, "a")); /* first */
  assert_true(jx_map_del(&m, "e")); /* last */
  assert_false(jx_map_del(&m, "c"));
  assert_false(jx_map_del(&m, "zz"));
  static const char *const left[] = {"b", "d"};
  expect_keys(&m, left, 2);
  assert_null(jx_map_get(&m, "c"));
  assert_string_equal(jx_map_str(&m, "d"), "d");
  /* The map stays usable and sorted after deletions. */
  jx_map_set(&m, "c", jx_array());
  jx_map_set(&m, "a", jx_map());
  static const char *const after[] = {"a", "b", "c", "d"};
  expect_keys(&m, after, 4);
  assert_true(jx_map_del(&m, "a"));
  assert_true(jx_map_del(&m, "b"));
  assert_true(jx_map_del(&m, "c"));
  assert_true(jx_map_del(&m, "d"));
  assert_int_equal(m.u.m.len, 0);
  jx_value_free(&m);
}

/* {"name": "P-1", "budget": 1200000, "ratio": 0.25, "ok": true,
 *  "targets": [{"k": "output", "v": [1, 2]}, nil, "x\0y"]} */
static jx_value sample(void) {
  jx_value m = jx_map();
  jx_map_set(&m, "name", jx_str("P-1"));
  jx_map_set(&m, "budget", jx_int(1200000));
  jx_map_set(&m, "ratio", jx_float(0.25));
  jx_map_set(&m, "ok", jx_bool(true));
  jx_value t = jx_array();
  jx_value e = jx_map();
  jx_map_set(&e, "k", jx_str("output"));
  jx_value v = jx_array();
  jx_array_push(&v, jx_int(1));
  jx_array_push(&v, jx_int(2));
  jx_map_set(&e, "v", v);
  jx_array_push(&t, e);
  jx_array_push(&t, jx_nil());
  jx_array_push(&t, jx_strn("x\0y", 3));
  jx_map_set(&m, "targets", t);
  return m;
}

static void test_value__copy_is_deep(void **state) {
  (void)state;
  jx_value a = sample();
  jx_value b = jx_value_copy(&a);
  assert_true(jx_value_equal(&a, &b));
  assert_true(jx_value_equal(&b, &a));
  /* No storage is shared: changing the copy leaves the original alone. */
  jx_value *bt = jx_map_get(&b, "targets");
  assert_ptr_not_equal(bt, jx_map_get(&a, "targets"));
  assert_ptr_not_equal(jx_map_str(&b, "name"), jx_map_str(&a, "name"));
  jx_value *bv = jx_map_get(&bt->u.a.items[0], "v");
  bv->u.a.items[1].u.i = 99;
  assert_false(jx_value_equal(&a, &b));
  const jx_value *av =
      jx_map_get(&jx_map_get(&a, "targets")->u.a.items[0], "v");
  assert_int_equal(av->u.a.items[1].u.i, 2);
  jx_map_set(&b, "name", jx_str("P-2"));
  assert_string_equal(jx_map_str(&a, "name"), "P-1");
  jx_value_free(&b); /* freeing the copy leaves a intact */
  assert_int_equal(jx_map_get(&a, "targets")->u.a.len, 3);
  jx_value_free(&a);
}

static void test_value__copy_empty_and_scalars(void **state) {
  (void)state;
  jx_value vals[] = {jx_nil(),   jx_bool(false), jx_int(-1), jx_float(2),
                     jx_str(""), jx_array(),     jx_map()};
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
    jx_value c = jx_value_copy(&vals[i]);
    assert_int_equal(c.type, vals[i].type);
    assert_true(jx_value_equal(&c, &vals[i]));
    /* An empty container copy still grows normally. */
    if (c.type == JX_ARRAY)
      jx_array_push(&c, jx_int(1));
    if (c.type == JX_MAP)
      jx_map_set(&c, "k", jx_int(1));
    jx_value_free(&c);
    jx_value_free(&vals[i]);
  }
}

static void test_value__equal(void **state) {
  (void)state;
  jx_value a, b;
  a = jx_int(1), b = jx_float(1);
  assert_false(jx_value_equal(&a, &b)); /* types differ */
  a = jx_nil(), b = jx_nil();
  assert_true(jx_value_equal(&a, &b));
  a = jx_bool(true), b = jx_bool(false);
  assert_false(jx_value_equal(&a, &b));

  a = jx_strn("a\0b", 3), b = jx_strn("a\0c", 3);
  assert_false(jx_value_equal(&a, &b)); /* past the NUL */
  jx_value_free(&b);
  b = jx_str("a");
  assert_false(jx_value_equal(&a, &b)); /* lengths differ */
  jx_value_free(&a);
  jx_value_free(&b);

  a = jx_array(), b = jx_array();
  jx_array_push(&a, jx_int(1));
  assert_false(jx_value_equal(&a, &b));
  jx_array_push(&b, jx_int(2));
  assert_false(jx_value_equal(&a, &b));
  jx_value_free(&a);
  jx_value_free(&b);

  /* Maps: same keys different values, same values different keys, and
   * insertion order irrelevant. */
  a = jx_map(), b = jx_map();
  jx_map_set(&a, "x", jx_int(1));
  jx_map_set(&a, "y", jx_int(2));
  jx_map_set(&b, "y", jx_int(2));
  jx_map_set(&b, "x", jx_int(1));
  assert_true(jx_value_equal(&a, &b));
  jx_map_set(&b, "x", jx_int(3));
  assert_false(jx_value_equal(&a, &b));
  jx_map_del(&b, "x");
  jx_map_set(&b, "z", jx_int(1));
  assert_false(jx_value_equal(&a, &b));
  jx_map_del(&b, "z");
  assert_false(jx_value_equal(&a, &b)); /* fewer pairs */
  jx_value_free(&a);
  jx_value_free(&b);
}

static void test_value__array_push_grows(void **state) {
  (void)state;
  jx_value a = jx_array();
  for (int i = 0; i < 1000; i++) {
    jx_value *e = jx_array_push(&a, jx_int(i));
    assert_ptr_equal(e, &a.u.a.items[i]);
    assert_int_equal(e->u.i, i);
  }
  assert_int_equal(a.u.a.len, 1000);
  assert_true(a.u.a.cap >= 1000);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(a.u.a.items[i].u.i, i); /* order kept across growth */
  jx_value *s = jx_array_push(&a, jx_str("owned"));
  assert_string_equal(s->u.s.ptr, "owned");
  jx_value nested = jx_array();
  jx_array_push(&nested, jx_map());
  jx_array_push(&a, nested);
  jx_value_free(&a);
  assert_int_equal(a.type, JX_NIL);
}

static void test_value__typed_getters(void **state) {
  (void)state;
  jx_value m = jx_map();
  jx_map_set(&m, "s", jx_str("text"));
  jx_map_set(&m, "i", jx_int(-42));
  jx_map_set(&m, "f", jx_float(1.5));
  jx_map_set(&m, "b", jx_bool(true));

  assert_string_equal(jx_map_str(&m, "s"), "text");
  assert_null(jx_map_str(&m, "i"));
  assert_null(jx_map_str(&m, "missing"));
  jx_value notmap = jx_str("s");
  assert_null(jx_map_str(&notmap, "s"));

  int64_t out = 7;
  assert_true(jx_map_int(&m, "i", &out));
  assert_true(out == -42);
  out = 7;
  assert_false(jx_map_int(&m, "f", &out)); /* a float is not an integer */
  assert_false(jx_map_int(&m, "s", &out));
  assert_false(jx_map_int(&m, "b", &out));
  assert_false(jx_map_int(&m, "missing", &out));
  assert_false(jx_map_int(&notmap, "i", &out));
  assert_true(out == 7); /* untouched on failure */
  jx_value_free(&notmap);
  jx_value_free(&m);
}

static void test_value__merge(void **state) {
  (void)state;
  jx_value dst = jx_map();
  jx_map_set(&dst, "keep", jx_int(1));
  jx_map_set(&dst, "state", jx_str("draft"));
  jx_value src = jx_map();
  jx_map_set(&src, "state", jx_str("dept_review"));
  jx_map_set(&src, "added", sample());
  jx_map_set(&src, "a", jx_nil());
  jx_value src_before = jx_value_copy(&src);

  jx_map_merge(&dst, &src);
  static const char *const keys[] = {"a", "added", "keep", "state"};
  expect_keys(&dst, keys, 4);
  assert_int_equal(jx_map_get(&dst, "keep")->u.i, 1);
  assert_string_equal(jx_map_str(&dst, "state"), "dept_review");
  assert_true(
      jx_value_equal(jx_map_get(&dst, "added"), jx_map_get(&src, "added")));
  assert_true(jx_value_equal(&src, &src_before)); /* src untouched */
  /* Copied, not shared: freeing src leaves dst whole. */
  jx_value_free(&src);
  jx_value expect = sample();
  assert_true(jx_value_equal(jx_map_get(&dst, "added"), &expect));

  /* Merging an empty map changes nothing. */
  jx_value empty = jx_map();
  jx_value before = jx_value_copy(&dst);
  jx_map_merge(&dst, &empty);
  assert_true(jx_value_equal(&dst, &before));

  jx_value_free(&expect);
  jx_value_free(&before);
  jx_value_free(&src_before);
  jx_value_free(&dst);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_value__scalars),
      cmocka_unit_test(test_value__strings),
      cmocka_unit_test(test_value__type_names),
      cmocka_unit_test(test_value__map_sorted_any_order),
      cmocka_unit_test(test_value__map_many_keys_pseudo_random),
      cmocka_unit_test(test_value__map_set_replaces_and_frees),
      cmocka_unit_test(test_value__map_get_absent_or_not_map),
      cmocka_unit_test(test_value__map_del),
      cmocka_unit_test(test_value__copy_is_deep),
      cmocka_unit_test(test_value__copy_empty_and_scalars),
      cmocka_unit_test(test_value__equal),
      cmocka_unit_test(test_value__array_push_grows),
      cmocka_unit_test(test_value__typed_getters),
      cmocka_unit_test(test_value__merge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
