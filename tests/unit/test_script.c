/* Script words: what splits where, what is taken literally, and each
 * mistake with its line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "jx_err.h"
#include "jx_script.h"

static jx_script *parse(const char *text) {
  jx_script *s = NULL;
  jx_err_clear();
  if (jx_script_parse(&s, text, strlen(text), "t.jx") != 0)
    fail_msg("refused: %s", jx_err_last()->msg);
  return s;
}

static void expect_words(const jx_script_line *l, unsigned lineno, int argc,
                         const char *const *words) {
  assert_int_equal(l->lineno, lineno);
  assert_int_equal(l->argc, argc);
  for (int i = 0; i < argc; i++)
    assert_string_equal(l->argv[i], words[i]);
  assert_null(l->argv[argc]);
}

static void expect_error(const char *text, size_t len, const char *msg) {
  jx_script *s = NULL;
  jx_err_clear();
  assert_int_equal(jx_script_parse(&s, text, len, "t.jx"), JX_EINVAL);
  assert_null(s);
  assert_string_equal(jx_err_last()->msg, msg);
}

static void test_script__words_and_comments(void **state) {
  (void)state;
  jx_script *s = parse("# a comment\n\n  at\t2021-03-01  \r\n"
                       "do P-1 close --as x # trailing\n");
  assert_int_equal(s->nlines, 2);
  expect_words(&s->lines[0], 3, 2, (const char *const[]){"at", "2021-03-01"});
  expect_words(&s->lines[1], 4, 5,
               (const char *const[]){"do", "P-1", "close", "--as", "x"});
  jx_script_free(s);
}

static void test_script__quotes(void **state) {
  (void)state;
  jx_script *s = parse("do 'a b'\"c \\\"d\\\\\" e\\ f '' 'x#y' \"'\"\n");
  expect_words(&s->lines[0], 1, 6,
               (const char *const[]){"do", "a bc \"d\\", "e f", "", "x#y",
                                     "'"});
  jx_script_free(s);
}

static void test_script__continuation(void **state) {
  (void)state;
  jx_script *s = parse("do P-1 \\\n  close \\\n  --as x\nat 2021-01-01");
  assert_int_equal(s->nlines, 2);
  expect_words(&s->lines[0], 1, 5,
               (const char *const[]){"do", "P-1", "close", "--as", "x"});
  expect_words(&s->lines[1], 4, 2, (const char *const[]){"at", "2021-01-01"});
  jx_script_free(s);
}

static void test_script__mistakes(void **state) {
  (void)state;
#define TEXT(s) s, sizeof s - 1
  expect_error(TEXT("at 1\ndo 'open\n"), "t.jx:2:4: unterminated ' quote");
  expect_error(TEXT("do \"a\nb\"\n"), "t.jx:1:4: unterminated \" quote");
  expect_error(TEXT("do a\0b\n"), "t.jx:1:5: a NUL byte");
#undef TEXT
}

static void test_script__empty(void **state) {
  (void)state;
  jx_script *s = parse("");
  assert_int_equal(s->nlines, 0);
  jx_script_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_script__words_and_comments),
      cmocka_unit_test(test_script__quotes),
      cmocka_unit_test(test_script__continuation),
      cmocka_unit_test(test_script__mistakes),
      cmocka_unit_test(test_script__empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
