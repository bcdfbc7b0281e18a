/* The JSON printer: scalars, escaping, UTF-8 repair, compact and pretty
 * layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jx_json.h"

static void expect_json(jx_value v, bool pretty, const char *want) {
  jx_buf b = JX_BUF_INIT;
  jx_json_write(&b, &v, pretty);
  assert_string_equal(b.data, want);
  assert_int_equal(b.len, strlen(want));
  jx_buf_free(&b);
  jx_value_free(&v);
}

/* The JSON of the string made of the len bytes s. */
static void expect_str(const char *s, size_t len, const char *want) {
  expect_json(jx_strn(s, len), false, want);
}

static void test_json__scalars(void **state) {
  (void)state;
  expect_json(jx_nil(), false, "null");
  expect_json(jx_bool(true), false, "true");
  expect_json(jx_bool(false), true, "false");
  expect_json(jx_int(0), false, "0");
  expect_json(jx_int(-42), false, "-42");
  expect_json(jx_int(INT64_MAX), false, "9223372036854775807");
  expect_json(jx_int(INT64_MIN), false, "-9223372036854775808");
}

static void test_json__floats(void **state) {
  (void)state;
  expect_json(jx_float(1.5), false, "1.5");
  expect_json(jx_float(0.1), false, "0.1");
  expect_json(jx_float(100.0), false, "100.0");
  expect_json(jx_float(-0.0), false, "-0.0");
  expect_json(jx_float(1.0 / 3), false, "0.3333333333333333");
  expect_json(jx_float(1e300), false, "1e+300");
  expect_json(jx_float(0.1 + 0.2), false, "0.30000000000000004");
  expect_json(jx_float(NAN), false, "null");
  expect_json(jx_float(INFINITY), false, "null");
  expect_json(jx_float(-INFINITY), true, "null");

  /* Whatever the digits, they read back as the same double. */
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 10000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double f;
    memcpy(&f, &x, sizeof f);
    if (!isfinite(f))
      continue;
    jx_value v = jx_float(f);
    jx_buf b = JX_BUF_INIT;
    jx_json_write(&b, &v, false);
    assert_true(strtod(b.data, NULL) == f);
    jx_buf_free(&b);
  }
}

static void test_json__escaping(void **state) {
  (void)state;
  expect_str("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
  expect_str("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
  expect_str("\x01\x1f", 2, "\"\\u0001\\u001f\"");
  expect_str("a\0b", 3, "\"a\\u0000b\"");
  expect_str("\x7f~ ", 3, "\"\x7f~ \"");
  expect_str("", 0, "\"\"");

  jx_value m = jx_map();
  jx_map_set(&m, "k\"\n", jx_str("v\t"));
  expect_json(m, false, "{\"k\\\"\\n\":\"v\\t\"}");
}

static void test_json__utf8(void **state) {
  (void)state;
  /* é, 中, €, U+10FFFF, 😀 */
  const char *ok = "\xc3\xa9\xe4\xb8\xad\xe2\x82\xac\xf4\x8f\xbf\xbf"
                   "\xf0\x9f\x98\x80";
  expect_str(ok, strlen(ok),
             "\"\xc3\xa9\xe4\xb8\xad\xe2\x82\xac\xf4\x8f\xbf\xbf"
             "\xf0\x9f\x98\x80\"");

#define FFFD "\xef\xbf\xbd"
  static const struct {
    const char *in, *want;
  } bad[] = {
      {"\x80", "\"" FFFD "\""},                   /* lone continuation */
      {"\xff", "\"" FFFD "\""},                   /* never in UTF-8 */
      {"a\xc0\x80z", "\"a" FFFD FFFD "z\""},      /* overlong NUL */
      {"\xe0\x80\x80", "\"" FFFD FFFD FFFD "\""}, /* overlong */
      {"\xe2\x82"
       "A",
       "\"" FFFD "A\""},                                   /* cut short */
      {"\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""},          /* surrogate */
      {"\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""}, /* > U+10FFFF */
      {"\xf5\x80", "\"" FFFD FFFD "\""},
      {"x\xf0\x9f\x98", "\"x" FFFD "\""}, /* emoji cut at the end */
      {"\xc3", "\"" FFFD "\""},
      {"\xc3\xa9\xa9", "\"\xc3\xa9" FFFD "\""},
  };
#undef FFFD
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    expect_str(bad[i].in, strlen(bad[i].in), bad[i].want);
}

/* An independent check: decode code points and test their ranges. */
static bool valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t len = c < 0x80       ? 1
                 : c >> 5 == 6  ? 2
                 : c >> 4 == 14 ? 3
                 : c >> 3 == 30 ? 4
                                : 0;
    if (!len || i + len > n)
      return false;
    uint32_t cp = len == 1 ? c : c & (0x7fu >> len);
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

static void test_json__output_always_valid_utf8(void **state) {
  (void)state;
  uint64_t x = 0x4a534f4e21ULL;
  for (int i = 0; i < 5000; i++) {
    unsigned char bytes[24];
    size_t len = i % sizeof bytes;
    for (size_t j = 0; j < len; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      /* Mostly high bytes, where UTF-8 goes wrong. */
      bytes[j] = (unsigned char)(x & 1 ? 0x80 | (x >> 8) : x >> 8);
    }
    jx_value v = jx_strn((const char *)bytes, len);
    jx_buf b = JX_BUF_INIT;
    jx_json_write(&b, &v, false);
    assert_true(valid_utf8((const unsigned char *)b.data, b.len));
    for (size_t j = 0; j < b.len; j++)
      assert_true((unsigned char)b.data[j] >= 0x20);
    jx_buf_free(&b);
    jx_value_free(&v);
  }
}

static jx_value nested(void) {
  jx_value v = jx_map();
  jx_value *a = jx_map_set(&v, "a", jx_array());
  jx_array_push(a, jx_int(1));
  jx_value *inner = jx_array_push(a, jx_map());
  jx_map_set(inner, "b", jx_nil());
  jx_map_set(inner, "c", jx_array());
  jx_map_set(&v, "e", jx_map());
  jx_map_set(&v, "d", jx_str("x"));
  return v;
}

static void test_json__compact(void **state) {
  (void)state;
  expect_json(nested(), false,
              "{\"a\":[1,{\"b\":null,\"c\":[]}],\"d\":\"x\",\"e\":{}}");
  expect_json(jx_array(), false, "[]");
  expect_json(jx_map(), false, "{}");
}

static void test_json__pretty(void **state) {
  (void)state;
  expect_json(nested(), true,
              "{\n"
              "  \"a\": [\n"
              "    1,\n"
              "    {\n"
              "      \"b\": null,\n"
              "      \"c\": []\n"
              "    }\n"
              "  ],\n"
              "  \"d\": \"x\",\n"
              "  \"e\": {}\n"
              "}");
  expect_json(jx_array(), true, "[]");
  expect_json(jx_str("s"), true, "\"s\"");
}

static void test_json__appends(void **state) {
  (void)state;
  jx_buf b = JX_BUF_INIT;
  jx_buf_puts(&b, "state=");
  jx_value v = jx_int(3);
  jx_json_write(&b, &v, true);
  assert_string_equal(b.data, "state=3");
  jx_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json__scalars),
      cmocka_unit_test(test_json__floats),
      cmocka_unit_test(test_json__escaping),
      cmocka_unit_test(test_json__utf8),
      cmocka_unit_test(test_json__output_always_valid_utf8),
      cmocka_unit_test(test_json__compact),
      cmocka_unit_test(test_json__pretty),
      cmocka_unit_test(test_json__appends),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
