/* Id validation: what is accepted, each refusal with its reason, and a
 * message that names the kind of id and never carries a raw control byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jx_err.h"
#include "jx_id.h"

static void expect_ok(const char *s) {
  jx_err_clear();
  int rc = jx_id_check("project id", s);
  if (rc != 0)
    fail_msg("\"%s\" refused: %s", s, jx_err_last()->msg);
}

/* No byte below 0x20, no DEL and no byte above 0x7e: a hostile id cannot
 * forge terminal output through the message. */
static void expect_printable(const char *msg) {
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
    if (*p < 0x20 || *p >= 0x7f)
      fail_msg("raw byte 0x%02x at %zu in: %s", *p,
               (size_t)(p - (const unsigned char *)msg), msg);
}

/* s is refused as a `what`, the message names the kind, contains `why` and
 * the quoted (escaped) value `shown`. */
static void expect_refused(const char *what, const char *s, const char *why,
                           const char *shown) {
  jx_err_clear();
  assert_int_equal(jx_id_check(what, s), JX_EINVAL);
  const jx_error *e = jx_err_last();
  assert_int_equal(e->code, JX_EINVAL);
  if (strncmp(e->msg, what, strlen(what)) != 0)
    fail_msg("message does not start with \"%s\": %s", what, e->msg);
  if (!strstr(e->msg, why))
    fail_msg("no \"%s\" in: %s", why, e->msg);
  if (shown && !strstr(e->msg, shown))
    fail_msg("no %s in: %s", shown, e->msg);
  expect_printable(e->msg);
}

static void test_id__accepted(void **state) {
  (void)state;
  expect_ok("HL2021-EDU-001");
  expect_ok("a");
  expect_ok("Z");
  expect_ok("0");
  expect_ok("_");
  expect_ok("a.b");
  expect_ok("a-b_c.d");
  expect_ok("x.lockx");
  expect_ok("lock");
  expect_ok("v1.2.3");
  char max[JX_ID_MAX + 1];
  memset(max, 'a', JX_ID_MAX);
  max[JX_ID_MAX] = '\0';
  assert_int_equal(strlen(max), 64);
  expect_ok(max);
  assert_int_equal(jx_id_check("actor", "alice"), 0);
}

static void test_id__path_separators(void **state) {
  (void)state;
  expect_refused("project id", "../x", "path separator", "\"../x\"");
  expect_refused("project id", "a/b", "path separator", "\"a/b\"");
  /* The backslash itself is escaped in the message. */
  expect_refused("project id", "a\\b", "path separator", "\"a\\x5cb\"");
}

static void test_id__control_chars_escaped(void **state) {
  (void)state;
  expect_refused("project id", "a\x01z", "control character", "\"a\\x01z\"");
  expect_refused("project id", "a\x7fz", "control character", "\"a\\x7fz\"");
  expect_refused("actor", "\x1b[31mred", "control character",
                 "\"\\x1b[31mred\"");
  expect_refused("project id", "tab\there", "control character", NULL);
  expect_refused("project id", "nl\n", "control character", "\"nl\\x0a\"");
}

static void test_id__empty(void **state) {
  (void)state;
  expect_refused("project id", "", "empty", "\"\"");
}

static void test_id__too_long(void **state) {
  (void)state;
  char s[JX_ID_MAX + 2];
  memset(s, 'a', JX_ID_MAX + 1);
  s[JX_ID_MAX + 1] = '\0';
  expect_refused("project id", s, "too long", NULL);
  /* Length is checked before the characters. */
  char big[1000];
  memset(big, '/', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  expect_refused("project id", big, "too long", NULL);
  /* The value shown is cut short and says so. */
  assert_non_null(strstr(jx_err_last()->msg, "...\""));
  assert_true(strlen(jx_err_last()->msg) < 400);
}

/* Regression: quoted() in store/jx_id.c once reserved too little room at
 * the end of its 96-byte buffer, so an escape landing 8 or 9 bytes before
 * the end made the "..." tail, quote and NUL write past it (a hang or a
 * crash in a plain build, a stack-buffer-overflow under the sanitizers).
 * Each check runs in a child with a deadline so such damage shows as a
 * failure here rather than taking the runner down. */
static void test_id__long_with_escape_near_cut(void **state) {
  (void)state;
  for (size_t prefix = 80; prefix < 95; prefix++) {
    char s[128];
    memset(s, 'a', prefix);
    s[prefix] = '\x01';
    memcpy(s + prefix + 1, "tail", 5);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      /* cmocka's handlers would resume its test list in the child. */
      signal(SIGSEGV, SIG_DFL);
      signal(SIGBUS, SIG_DFL);
      signal(SIGILL, SIG_DFL);
      signal(SIGABRT, SIG_DFL);
      alarm(5);
      int rc = jx_id_check("project id", s);
      const char *msg = jx_err_last()->msg;
      ssize_t w = write(fds[1], msg, strlen(msg));
      _exit(rc == JX_EINVAL && w >= 0 ? 0 : 1);
    }
    close(fds[1]);
    char msg[JX_ERR_MSG_MAX + 1];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], msg + n, sizeof msg - 1 - n)) > 0)
      n += (size_t)r;
    msg[n] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fail_msg("prefix %zu: jx_id_check died (%s %d)", prefix,
               WIFSIGNALED(status) ? "signal" : "exit status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    if (!strstr(msg, "\" is not valid: it is too long"))
      fail_msg("prefix %zu: quoted value not closed: %s", prefix, msg);
    expect_printable(msg);
  }
}

static void test_id__outside_allowed_set(void **state) {
  (void)state;
  expect_refused("project id", "项目", "outside the allowed set",
                 "\"\\xe9\\xa1\\xb9\\xe7\\x9b\\xae\"");
  expect_refused("project id", "a b", "outside the allowed set", "\"a b\"");
  expect_refused("project id", "a:b", "outside the allowed set", NULL);
  expect_refused("project id", "a\"b", "outside the allowed set",
                 "\"a\\x22b\"");
  expect_refused("project id", "refs@{0}", "outside the allowed set", NULL);
  expect_refused("actor", "bob~1", "outside the allowed set", NULL);
}

static void test_id__dots_and_dashes(void **state) {
  (void)state;
  expect_refused("project id", ".hidden", "may not start with", NULL);
  expect_refused("project id", "-x", "may not start with", NULL);
  expect_refused("project id", "x.", "may not end with", NULL);
  expect_refused("project id", "x.lock", "may not end with", NULL);
  expect_refused("project id", ".lock", "may not start with", NULL);
  expect_refused("project id", "a..b", "\"..\" is not allowed", NULL);
  expect_refused("project id", "..", "\"..\" is not allowed", NULL);
  expect_refused("project id", ".", "may not", NULL);
}

static void test_id__message_names_kind_and_rule(void **state) {
  (void)state;
  assert_int_equal(jx_id_check("actor", "a/b"), JX_EINVAL);
  char want[256];
  snprintf(want, sizeof want,
           "actor \"a/b\" is not valid: it contains a path separator (use 1 "
           "to %d letters, digits, '.', '_' or '-')",
           JX_ID_MAX);
  assert_string_equal(jx_err_last()->msg, want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_id__accepted),
      cmocka_unit_test(test_id__path_separators),
      cmocka_unit_test(test_id__control_chars_escaped),
      cmocka_unit_test(test_id__empty),
      cmocka_unit_test(test_id__too_long),
      cmocka_unit_test(test_id__long_with_escape_near_cut),
      cmocka_unit_test(test_id__outside_allowed_set),
      cmocka_unit_test(test_id__dots_and_dashes),
      cmocka_unit_test(test_id__message_names_kind_and_rule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
