/* Daemon tokens: create, check, rotation, revocation, listing, and the
 * tokens file itself: hashed only, mode 0600, damage reported by line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_id.h"
#include "jx_token.h"

#define T0 INT64_C(1625097600) /* 2021-07-01T00:00:00Z */

typedef struct fixture {
  char dir[64];   /* mkdtemp directory standing in for the store */
  char file[128]; /* dir/tokens */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/jx_test_token.XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  snprintf(f->file, sizeof f->file, "%s/tokens", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

static void expect_err(int rc, int code, const char *text) {
  assert_int_equal(rc, code);
  if (!strstr(jx_err_last()->msg, text))
    fail_msg("no \"%s\" in: %s", text, jx_err_last()->msg);
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  assert_int_equal(fclose(fp), 0);
}

static void test_token__create_check(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1], who[JX_ID_MAX + 1];
  assert_int_equal(jx_token_create(f->dir, "edu-dept", T0, tok), 0);
  assert_int_equal(strlen(tok), JX_TOKEN_LEN);
  assert_memory_equal(tok, "jxt_", 4);
  assert_int_equal(jx_token_check(f->dir, tok, who, sizeof who), 0);
  assert_string_equal(who, "edu-dept");
}

static void test_token__rotation(void **state) {
  fixture *f = *state;
  char t1[JX_TOKEN_LEN + 1], t2[JX_TOKEN_LEN + 1], who[JX_ID_MAX + 1];
  assert_int_equal(jx_token_create(f->dir, "alice", T0, t1), 0);
  assert_int_equal(jx_token_create(f->dir, "alice", T0 + 60, t2), 0);
  assert_string_not_equal(t1, t2);
  expect_err(jx_token_check(f->dir, t1, who, sizeof who), JX_EAUTH,
             "unknown or revoked token");
  assert_int_equal(jx_token_check(f->dir, t2, who, sizeof who), 0);
  assert_string_equal(who, "alice");
  jx_buf b = JX_BUF_INIT;
  assert_int_equal(jx_buf_read_file(&b, f->file, 4096), 0);
  assert_non_null(strstr(b.data, " 2021-07-01T00:01:00Z\n"));
  assert_ptr_equal(strchr(b.data, '\n'), b.data + b.len - 1); /* one line */
  jx_buf_free(&b);
}

static void test_token__revoke(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1], who[JX_ID_MAX + 1];
  assert_int_equal(jx_token_create(f->dir, "alice", T0, tok), 0);
  assert_int_equal(jx_token_revoke(f->dir, "alice"), 0);
  expect_err(jx_token_check(f->dir, tok, who, sizeof who), JX_EAUTH,
             "unknown or revoked token");
  expect_err(jx_token_revoke(f->dir, "alice"), JX_ENOTFOUND, "alice");
}

static void test_token__wrong_shape(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1], who[JX_ID_MAX + 1];
  assert_int_equal(jx_token_create(f->dir, "alice", T0, tok), 0);
  char upper[JX_TOKEN_LEN + 1], prefix[JX_TOKEN_LEN + 1];
  snprintf(upper, sizeof upper, "jxt_%064d", 0);
  upper[10] = 'A';
  snprintf(prefix, sizeof prefix, "jxT_%s", tok + 4);
  const char *bad[] = {"", "jxt_", "jxt_abc", upper, prefix};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    expect_err(jx_token_check(f->dir, bad[i], who, sizeof who), JX_EAUTH,
               "64 lowercase hex digits");
    /* a token (or a typo of one) never reaches a log through a message */
    if (strlen(bad[i]) > 8 && strstr(jx_err_last()->msg, bad[i]))
      fail_msg("token quoted in: %s", jx_err_last()->msg);
  }
  char longer[JX_TOKEN_LEN + 2];
  snprintf(longer, sizeof longer, "%s0", tok);
  expect_err(jx_token_check(f->dir, longer, who, sizeof who), JX_EAUTH,
             "malformed token");
}

static void test_token__unknown(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1], who[JX_ID_MAX + 1];
  assert_int_equal(jx_token_create(f->dir, "alice", T0, tok), 0);
  tok[JX_TOKEN_LEN - 1] = tok[JX_TOKEN_LEN - 1] == '0' ? '1' : '0';
  expect_err(jx_token_check(f->dir, tok, who, sizeof who), JX_EAUTH,
             "unknown or revoked token");
}

static int collect(const char *actor, const char *created, void *payload) {
  jx_buf_printf(payload, "%s@%s;", actor, created);
  return 0;
}

static void test_token__missing_file(void **state) {
  fixture *f = *state;
  char who[JX_ID_MAX + 1], tok[JX_TOKEN_LEN + 1];
  snprintf(tok, sizeof tok, "jxt_%064d", 0);
  expect_err(jx_token_check(f->dir, tok, who, sizeof who), JX_EAUTH,
             "no tokens have been created for this store "
             "(jx token create ACTOR)");
  jx_buf b = JX_BUF_INIT;
  assert_int_equal(jx_token_list(f->dir, collect, &b), 0);
  assert_int_equal(b.len, 0);
  expect_err(jx_token_revoke(f->dir, "alice"), JX_ENOTFOUND, "alice");
}

static void test_token__list_order(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1];
  assert_int_equal(jx_token_create(f->dir, "carol", T0 + 2, tok), 0);
  assert_int_equal(jx_token_create(f->dir, "alice", T0, tok), 0);
  assert_int_equal(jx_token_create(f->dir, "bob", T0 + 1, tok), 0);
  jx_buf b = JX_BUF_INIT;
  assert_int_equal(jx_token_list(f->dir, collect, &b), 0);
  assert_string_equal(b.data, "alice@2021-07-01T00:00:00Z;"
                              "bob@2021-07-01T00:00:01Z;"
                              "carol@2021-07-01T00:00:02Z;");
  jx_buf_free(&b);
}

static void test_token__file_holds_hashes(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1];
  assert_int_equal(jx_token_create(f->dir, "alice", T0, tok), 0);
  jx_buf b = JX_BUF_INIT;
  assert_int_equal(jx_buf_read_file(&b, f->file, 4096), 0);
  assert_null(strstr(b.data, tok + 4)); /* not even the random part */
  char head[17] = "";
  memcpy(head, tok + 4, 16);
  assert_null(strstr(b.data, head));
  assert_int_equal(strncmp(b.data, "alice ", 6), 0);
  jx_buf_free(&b);
  struct stat st;
  assert_int_equal(stat(f->file, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s.tmp", f->file);
  assert_int_not_equal(stat(tmp, &st), 0); /* nothing left behind */
}

static void test_token__damaged(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1], who[JX_ID_MAX + 1];
  assert_int_equal(jx_token_create(f->dir, "alice", T0, tok), 0);
  jx_buf b = JX_BUF_INIT;
  assert_int_equal(jx_buf_read_file(&b, f->file, 4096), 0);
  jx_buf_puts(&b, "bob nothex 2021-07-01T00:00:00Z\n");
  write_file(f->file, b.data);
  expect_err(jx_token_check(f->dir, tok, who, sizeof who), JX_ESTORE,
             "/tokens:2: damaged tokens file");
  /* a writer refuses too, rather than rewrite the file without the line */
  expect_err(jx_token_create(f->dir, "carol", T0, tok), JX_ESTORE, "tokens:2:");
  jx_buf c = JX_BUF_INIT;
  assert_int_equal(jx_buf_read_file(&c, f->file, 4096), 0);
  assert_string_equal(b.data, c.data);
  jx_buf_free(&c);
  jx_buf_free(&b);

  char torn[128]; /* a torn write: no final newline */
  snprintf(torn, sizeof torn, "alice %064d 2021-07-01T00:00:00Z", 0);
  write_file(f->file, torn);
  expect_err(jx_token_list(f->dir, collect, NULL), JX_ESTORE,
             "tokens:1: damaged tokens file: last line is incomplete");
}

static void test_token__invalid_actor(void **state) {
  fixture *f = *state;
  char tok[JX_TOKEN_LEN + 1] = "";
  expect_err(jx_token_create(f->dir, "../etc", T0, tok), JX_EINVAL, "actor");
  assert_string_equal(tok, "");
  expect_err(jx_token_create(f->dir, "a b", T0, tok), JX_EINVAL, "actor");
  expect_err(jx_token_revoke(f->dir, ""), JX_EINVAL, "actor");
  struct stat st;
  assert_int_not_equal(stat(f->file, &st), 0);
}

#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(test_token__##name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(create_check), T(rotation),      T(revoke),     T(wrong_shape),
      T(unknown),      T(missing_file),  T(list_order), T(file_holds_hashes),
      T(damaged),      T(invalid_actor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
