/* The engine on the repository's own workflow.toml and plugins, with its
 * store in a temporary directory: decisions, group commit across batches,
 * refusals that write nothing, a batch whose write fails, actor scopes.
 * What the engine wrote is checked with the real `git` CLI; every test
 * ends by closing the engine and its loop with nothing left on the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "jx_buf.h"
#include "jx_config.h"
#include "jx_engine.h"
#include "jx_err.h"
#include "jx_store.h"

#define DAY INT64_C(86400)
#define T0 INT64_C(1614556800) /* 2021-03-01T00:00:00Z */

#define MAX_CALLS 32

/* What one callback saw, copied: the outcome is borrowed for the call. */
typedef struct call {
  int code;
  char project[JX_ID_MAX + 1];
  char from[64], to[64], status[64]; /* status of the state committed */
  int64_t seq;
  bool has_commit;
  git_oid commit;
  char msg[JX_ERR_MSG_MAX]; /* the error's message when code is not 0 */
} call;

/* Everything a test opens lives here, so that teardown frees it even when
 * an assertion ends the test early. */
typedef struct fixture {
  char dir[64];    /* mkdtemp directory, removed afterwards */
  char store[128]; /* dir/store.git */
  jx_config *cfg;
  jx_store *st;
  uv_loop_t loop;
  bool loop_open;
  jx_engine *engine;
  jx_verdict verdict; /* the last apply's refusal */
  call calls[MAX_CALLS];
  size_t ncalls, overflow;
  struct rlimit fsize; /* RLIMIT_FSIZE before limit_writes */
  void (*xfsz)(int);   /* SIGXFSZ's handler before limit_writes */
  bool limited;
} fixture;

static void unlimit_writes(fixture *f);

static int setup(void **state) {
  const char *src = getenv("JX_SOURCE_DIR");
  char path[4096];
  bool created;
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  *state = f;
  if (!src) {
    jx_err_set(JX_EINVAL, "JX_SOURCE_DIR is not set");
    goto fail;
  }
  snprintf(f->dir, sizeof f->dir, "/tmp/jx_test_engine.XXXXXX");
  if (!mkdtemp(f->dir))
    goto fail;
  snprintf(f->store, sizeof f->store, "%s/store.git", f->dir);
  snprintf(path, sizeof path, "%s/workflow.toml", src);
  if (jx_config_load(&f->cfg, path) < 0)
    goto fail;
  free(f->cfg->store_path);
  f->cfg->store_path = jx_xstrdup(f->store);
  if (jx_store_init(f->store, &created) < 0 ||
      jx_store_open(&f->st, f->store, JX_STORE_WRITE, f->cfg->max_frame, 0) <
          0 ||
      uv_loop_init(&f->loop) < 0)
    goto fail;
  f->loop_open = true;
  if (jx_engine_new(&f->engine, &f->loop, f->cfg, f->st) < 0)
    goto fail;
  return 0;
fail:
  fprintf(stderr, "setup: %s\n", jx_err_last()->msg);
  return -1;
}

static int teardown(void **state) {
  fixture *f = *state;
  int rc = 0;
  if (!f)
    return -1;
  unlimit_writes(f);
  if (f->engine) {
    jx_engine_close(f->engine);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    jx_engine_free(f->engine);
  }
  if (f->loop_open)
    uv_loop_close(&f->loop);
  jx_store_free(f->st);
  jx_config_free(f->cfg);
  jx_verdict_free(&f->verdict);
  if (f->dir[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    rc = system(cmd);
  }
  free(f);
  return rc == 0 ? 0 : -1;
}

/* The end of every test: the engine closes, the loop runs dry, and the
 * loop then holds nothing (uv_loop_close would say UV_EBUSY). */
static void stop(fixture *f) {
  jx_engine_close(f->engine);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  jx_engine_free(f->engine);
  f->engine = NULL;
  f->loop_open = false;
  assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* --- the git CLI ---------------------------------------------------------- */

/* Runs a shell command that must succeed and returns its standard output
 * (the caller frees it). */
static char *out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *out(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  jx_buf b = JX_BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
    jx_buf_append(&b, chunk, n);
  int st = pclose(p);
  if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fail_msg("`%s` failed (status %d): %s", cmd, st, b.data ? b.data : "");
  if (!b.data)
    jx_buf_append(&b, "", 0);
  return b.data;
}

static void expect_out(const char *want, char *got) {
  assert_string_equal(got, want);
  free(got);
}

static const char *hex(const git_oid *oid) {
  static char buf[4][GIT_OID_HEXSZ + 1];
  static int next;
  char *s = buf[next++ % 4];
  return git_oid_tostr(s, sizeof buf[0], oid);
}

/* How many commits `rev` reaches. */
static long count(const fixture *f, const char *rev) {
  char *o = out("git --git-dir '%s' rev-list --count %s", f->store, rev);
  long n = strtol(o, NULL, 10);
  free(o);
  return n;
}

static void fsck_clean(const fixture *f) {
  char *o =
      out("git --git-dir '%s' fsck --strict --no-progress 2>&1", f->store);
  if (strstr(o, "error") || strstr(o, "warning") || strstr(o, "missing") ||
      strstr(o, "broken"))
    fail_msg("git fsck --strict: %s", o);
  free(o);
}

/* The projects that have a ref, one id a line. */
static void expect_projects(const fixture *f, const char *want) {
  expect_out(want, out("git --git-dir '%s' for-each-ref "
                       "--format='%%(refname:strip=3)' refs/jx/projects",
                       f->store));
}

/* The commit `rev` names, in hex. */
static void expect_rev(const fixture *f, const char *rev, const git_oid *want) {
  char *got = out("git --git-dir '%s' rev-parse --verify '%s'", f->store, rev);
  got[strcspn(got, "\n")] = '\0';
  assert_string_equal(got, hex(want));
  free(got);
}

/* --- driving the engine --------------------------------------------------- */

static void expect_ok(int rc) {
  if (rc != 0)
    fail_msg("rc %d: %s", rc, jx_err_last()->msg);
}

/* rc is `code`, the last error says so too and mentions `needle`. */
static void expect_err(int rc, int code, const char *needle) {
  if (rc == 0)
    fail_msg("accepted, expected %d (%s)", code, jx_err_name(code));
  if (rc != code)
    fail_msg("rc %d, expected %d: %s", rc, code, jx_err_last()->msg);
  assert_int_equal(jx_err_last()->code, code);
  if (needle && !strstr(jx_err_last()->msg, needle))
    fail_msg("no \"%s\" in: %s", needle, jx_err_last()->msg);
}

static void copy_str(char *dst, size_t size, const char *s) {
  snprintf(dst, size, "%s", s ? s : "(null)");
}

/* Records the outcome; asserting here would longjmp out of uv_run. */
static void on_done(const jx_outcome *o, void *payload) {
  fixture *f = payload;
  if (f->ncalls == MAX_CALLS) {
    f->overflow++;
    return;
  }
  call *c = &f->calls[f->ncalls++];
  c->code = o->code;
  copy_str(c->project, sizeof c->project, o->project);
  copy_str(c->from, sizeof c->from, o->from);
  copy_str(c->to, sizeof c->to, o->to);
  copy_str(c->status, sizeof c->status, jx_map_str(o->state, "status"));
  c->seq = -1;
  jx_map_int(o->state, "seq", &c->seq);
  c->has_commit = o->commit != NULL;
  if (o->commit)
    git_oid_cpy(&c->commit, o->commit);
  copy_str(c->msg, sizeof c->msg, o->code ? jx_err_last()->msg : "");
}

static int apply(fixture *f, const char *id, const char *event,
                 const char *actor, int64_t time, const jx_value *set,
                 bool create) {
  jx_verdict_free(&f->verdict);
  jx_request req = {.project = id,
                    .event = event,
                    .actor = actor,
                    .time = time,
                    .set = set,
                    .create = create};
  return jx_engine_apply(f->engine, &req, &f->verdict, on_done, f);
}

/* A leaf of the indicator tree R-3 asks for: "at least value unit". */
static jx_value target(const char *level1, const char *level2,
                       const char *indicator, int64_t value,
                       const char *unit) {
  jx_value t = jx_map();
  jx_map_set(&t, "level1", jx_str(level1));
  jx_map_set(&t, "level2", jx_str(level2));
  jx_map_set(&t, "indicator", jx_str(indicator));
  jx_map_set(&t, "comparator", jx_str(">="));
  jx_map_set(&t, "value", jx_int(value));
  jx_map_set(&t, "unit", jx_str(unit));
  return t;
}

/* A complete submission of a project of `department`, unit `unit`. */
static jx_value project_fields(const char *department, const char *unit,
                               int64_t amount) {
  jx_value fl = jx_map();
  jx_map_set(&fl, "title", jx_str("school renovation"));
  jx_map_set(&fl, "department", jx_str(department));
  jx_map_set(&fl, "unit", jx_str(unit));
  jx_map_set(&fl, "budget_type", jx_str("general"));
  jx_map_set(&fl, "kind", jx_str("new"));
  jx_map_set(&fl, "amount", jx_int(amount));
  jx_map_set(&fl, "year", jx_int(2021));
  jx_value targets = jx_array();
  jx_array_push(&targets, target("output", "quantity", "schools renovated", 12,
                                 "schools"));
  jx_array_push(&targets, target("outcome", "social", "pupils served", 3000,
                                 "pupils"));
  jx_map_set(&fl, "targets", targets);
  return fl;
}

/* The way of an education project from submission to execution. */
static const struct {
  const char *event, *actor, *from, *to;
} STEPS[] = {
    {"submit", "edu-school-1", "draft", "dept_review"},
    {"dept_approve", "edu-dept", "dept_review", "finance_review"},
    {"finance_approve", "fin-business", "finance_review", "approved"},
    {"release", "fin-budget", "approved", "executing"},
};
#define NSTEPS (sizeof STEPS / sizeof *STEPS)

/* Decides step k of project id, dated T0 + k days. */
static int step(fixture *f, const char *id, size_t k) {
  jx_value fl = project_fields("education", "edu-school-1", 1000000);
  int rc = apply(f, id, STEPS[k].event, STEPS[k].actor, T0 + (int64_t)k * DAY,
                 k == 0 ? &fl : NULL, k == 0);
  jx_value_free(&fl);
  return rc;
}

/* Runs the loop until every queued transition has been written. */
static void run(fixture *f) { uv_run(&f->loop, UV_RUN_DEFAULT); }

static void expect_state(fixture *f, const char *id, const char *status,
                         int64_t seq) {
  const jx_value *st = NULL;
  int64_t n = -1;
  expect_ok(jx_engine_state(f->engine, id, &st));
  assert_string_equal(jx_map_str(st, "status"), status);
  assert_true(jx_map_int(st, "seq", &n));
  assert_int_equal(n, seq);
}

static void expect_call(const fixture *f, size_t i, int code, const char *id,
                        const char *from, const char *to) {
  assert_true(i < f->ncalls);
  const call *c = &f->calls[i];
  if (c->code != code)
    fail_msg("callback %zu (%s %s -> %s): code %d, expected %d: %s", i,
             c->project, c->from, c->to, c->code, code, c->msg);
  assert_string_equal(c->project, id);
  assert_string_equal(c->from, from);
  assert_string_equal(c->to, to);
  assert_string_equal(c->status, to);
  assert_int_equal(c->has_commit, code == 0);
}

/* Newest first, as `git log` shows them: steps 0 .. n-1 of project id. */
static void expect_subjects(const fixture *f, const char *id, size_t n) {
  jx_buf want = JX_BUF_INIT;
  for (size_t k = n; k-- > 0;)
    jx_buf_printf(&want, "%s: %s %s -> %s\n", STEPS[k].event, id, STEPS[k].from,
                  STEPS[k].to);
  char *got = out("git --git-dir '%s' log --format=%%s refs/jx/projects/%s",
                  f->store, id);
  if (strcmp(got, want.data) != 0)
    fail_msg("log of %s:\n%s\nexpected:\n%s", id, got, want.data);
  free(got);
  jx_buf_free(&want);
}

/* Makes every write to a file fail with EFBIG (SIGXFSZ ignored, so the
 * write returns an error instead of killing the process); the limit is
 * per process, so it reaches the pool thread that writes the pack. */
static void limit_writes(fixture *f) {
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &f->fsize), 0);
  f->xfsz = signal(SIGXFSZ, SIG_IGN);
  f->limited = true;
  struct rlimit rl = f->fsize;
  rl.rlim_cur = 0;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void unlimit_writes(fixture *f) {
  if (!f->limited)
    return;
  setrlimit(RLIMIT_FSIZE, &f->fsize);
  signal(SIGXFSZ, f->xfsz);
  f->limited = false;
}

/* --- tests ---------------------------------------------------------------- */

static void test_engine__one_project(void **state) {
  fixture *f = *state;
  for (size_t k = 0; k < NSTEPS; k++)
    expect_ok(step(f, "HL2021-EDU-001", k));
  /* Decided but not durable: no callback yet, the decided state shows. */
  assert_int_equal(f->ncalls, 0);
  expect_state(f, "HL2021-EDU-001", "executing", 4);
  run(f);
  assert_int_equal(f->overflow, 0);
  assert_int_equal(f->ncalls, NSTEPS);
  for (size_t k = 0; k < NSTEPS; k++) {
    expect_call(f, k, 0, "HL2021-EDU-001", STEPS[k].from, STEPS[k].to);
    assert_int_equal(f->calls[k].seq, (int64_t)k + 1);
  }
  const jx_value *st = NULL;
  expect_ok(jx_engine_state(f->engine, "HL2021-EDU-001", &st));
  expect_state(f, "HL2021-EDU-001", "executing", 4);
  assert_string_equal(jx_map_str(st, "updated_at"), "2021-03-04T00:00:00Z");
  assert_string_equal(jx_map_str(st, "department"), "education");
  assert_string_equal(jx_map_str(st, "id"), "HL2021-EDU-001");
  expect_subjects(f, "HL2021-EDU-001", NSTEPS);
  /* The last callback's commit is the head; each commit's parent is the
   * one before it. */
  expect_rev(f, "refs/jx/projects/HL2021-EDU-001",
             &f->calls[NSTEPS - 1].commit);
  for (size_t k = 1; k < NSTEPS; k++) {
    char rev[GIT_OID_HEXSZ + 2];
    snprintf(rev, sizeof rev, "%s^", hex(&f->calls[k].commit));
    expect_rev(f, rev, &f->calls[k - 1].commit);
  }
  expect_projects(f, "HL2021-EDU-001\n");
  fsck_clean(f);
  stop(f);
}

/* 3 projects x 4 transitions, decided before the loop runs, written in
 * batches of 3: a project's chain continues within a batch (parent in the
 * batch) and across batches (parent from the previous one). */
static void test_engine__group_commit_across_batches(void **state) {
  fixture *f = *state;
  static const char *const ids[] = {"HL2021-EDU-001", "HL2021-EDU-002",
                                    "HL2021-EDU-003"};
  f->cfg->max_batch = 3;
  for (size_t i = 0; i < 3; i++)
    for (size_t k = 0; k < NSTEPS; k++)
      expect_ok(step(f, ids[i], k));
  for (size_t i = 0; i < 3; i++)
    expect_state(f, ids[i], "executing", 4);
  assert_int_equal(f->ncalls, 0);
  run(f);
  assert_int_equal(f->overflow, 0);
  assert_int_equal(f->ncalls, 3 * NSTEPS);
  for (size_t i = 0; i < 3; i++) {
    for (size_t k = 0; k < NSTEPS; k++) {
      size_t n = i * NSTEPS + k;
      expect_call(f, n, 0, ids[i], STEPS[k].from, STEPS[k].to);
      assert_int_equal(f->calls[n].seq, (int64_t)k + 1);
      if (k == 0) {
        expect_out("", out("git --git-dir '%s' rev-list --parents -n1 %s |"
                           " cut -s -d' ' -f2",
                           f->store, hex(&f->calls[n].commit)));
        continue;
      }
      char rev[GIT_OID_HEXSZ + 2];
      snprintf(rev, sizeof rev, "%s^", hex(&f->calls[n].commit));
      expect_rev(f, rev, &f->calls[n - 1].commit);
    }
    char ref[128];
    snprintf(ref, sizeof ref, "refs/jx/projects/%s", ids[i]);
    assert_int_equal(count(f, ref), NSTEPS);
    expect_subjects(f, ids[i], NSTEPS);
  }
  /* 12 transitions in batches of 3: one seal per batch. */
  long seals = count(f, "refs/jx/seal");
  if (seals < 4)
    fail_msg("%ld seals for 4 batches", seals);
  fsck_clean(f);
  stop(f);
}

static void expect_refused(fixture *f, int rc, const char *rule) {
  expect_err(rc, JX_EREFUSED, rule);
  assert_true(f->verdict.refused);
  assert_non_null(f->verdict.rule);
  assert_string_equal(f->verdict.rule, rule);
  assert_non_null(f->verdict.reason);
  assert_non_null(f->verdict.remedy);
  assert_true(f->verdict.reason[0] != '\0');
  assert_true(f->verdict.remedy[0] != '\0');
}

static void expect_not_refused(const fixture *f) {
  assert_false(f->verdict.refused);
  assert_null(f->verdict.rule);
}

static void test_engine__refusals(void **state) {
  fixture *f = *state;
  const char *p1 = "HL2021-EDU-001";
  expect_ok(step(f, p1, 0));
  run(f);
  assert_int_equal(f->ncalls, 1);
  expect_call(f, 0, 0, p1, "draft", "dept_review");

  /* 500万元 or more, new, no ex-ante report. */
  jx_value big = project_fields("education", "edu-school-1", 5000000);
  int rc = apply(f, "HL2021-EDU-002", "submit", "edu-school-1", T0, &big, true);
  jx_value_free(&big);
  expect_refused(f, rc, "R-2");

  /* The department's event sent by finance. */
  rc = apply(f, p1, "dept_approve", "fin-business", T0 + DAY, NULL, false);
  expect_refused(f, rc, "workflow");
  assert_non_null(strstr(f->verdict.reason, "finance_business"));

  /* An event the project's state does not allow. */
  rc = apply(f, p1, "release", "fin-budget", T0 + DAY, NULL, false);
  expect_refused(f, rc, "workflow");

  rc = apply(f, "HL2021-EDU-404", "dept_approve", "edu-dept", T0 + DAY, NULL,
             false);
  expect_err(rc, JX_ENOTFOUND, "HL2021-EDU-404");
  expect_not_refused(f);

  rc = apply(f, "../x", "dept_approve", "edu-dept", T0 + DAY, NULL, false);
  expect_err(rc, JX_EINVAL, "project id");
  expect_not_refused(f);

  rc = apply(f, p1, "dept_approve", "nobody", T0 + DAY, NULL, false);
  expect_err(rc, JX_EINVAL, "nobody");
  expect_not_refused(f);

  rc = apply(f, p1, "approve_everything", "edu-dept", T0 + DAY, NULL, false);
  expect_err(rc, JX_EINVAL, "approve_everything");

  /* dept_approve sets nothing; return sets return_to and review_note only. */
  jx_value note = jx_map();
  jx_map_set(&note, "review_note", jx_str("fine"));
  rc = apply(f, p1, "dept_approve", "edu-dept", T0 + DAY, &note, false);
  jx_value_free(&note);
  expect_err(rc, JX_EINVAL, "review_note");
  expect_not_refused(f);
  jx_value amount = jx_map();
  jx_map_set(&amount, "amount", jx_int(1));
  rc = apply(f, p1, "return", "edu-dept", T0 + DAY, &amount, false);
  jx_value_free(&amount);
  expect_err(rc, JX_EINVAL, "amount");

  /* Fields the engine keeps. */
  jx_value status = jx_map();
  jx_map_set(&status, "status", jx_str("executing"));
  rc = apply(f, p1, "dept_approve", "edu-dept", T0 + DAY, &status, false);
  jx_value_free(&status);
  expect_err(rc, JX_EINVAL, "status");

  /* The submission was on T0: a day earlier reads backwards. */
  rc = apply(f, p1, "dept_approve", "edu-dept", T0 - DAY, NULL, false);
  expect_err(rc, JX_EINVAL, "2021-03-01T00:00:00Z");
  expect_not_refused(f);

  /* A project that exists cannot be created again. */
  jx_value again = project_fields("education", "edu-school-1", 1000);
  rc = apply(f, p1, "submit", "edu-school-1", T0 + DAY, &again, true);
  jx_value_free(&again);
  expect_err(rc, JX_EINVAL, "already exists");

  /* A submission missing a required field. */
  jx_value partial = project_fields("education", "edu-school-1", 1000);
  jx_map_del(&partial, "year");
  rc = apply(f, "HL2021-EDU-003", "submit", "edu-school-1", T0, &partial, true);
  jx_value_free(&partial);
  expect_err(rc, JX_EINVAL, "year");

  /* None of it reached a callback or the store. */
  run(f);
  assert_int_equal(f->ncalls, 1);
  expect_state(f, p1, "dept_review", 1);
  const jx_value *st;
  expect_err(jx_engine_state(f->engine, "HL2021-EDU-002", &st), JX_ENOTFOUND,
             NULL);
  expect_err(jx_engine_state(f->engine, "HL2021-EDU-003", &st), JX_ENOTFOUND,
             NULL);
  expect_projects(f, "HL2021-EDU-001\n");
  assert_int_equal(count(f, "refs/jx/projects/HL2021-EDU-001"), 1);
  assert_int_equal(count(f, "refs/jx/seal"), 1);

  /* A refusal leaves the decided state as it was: the project goes on. */
  expect_ok(step(f, p1, 1));
  run(f);
  assert_int_equal(f->ncalls, 2);
  expect_call(f, 1, 0, p1, "dept_review", "finance_review");
  expect_subjects(f, p1, 2);
  fsck_clean(f);
  stop(f);
}

/* A creation must hold all of a project's required fields, also when the
 * request has no `set` at all; otherwise a project without department or
 * unit is stored, and every actor's scope check passes on it. */
static void test_engine__create_without_fields(void **state) {
  fixture *f = *state;
  int rc = apply(f, "HL2021-EDU-009", "submit", "edu-school-1", T0, NULL, true);
  expect_err(rc, JX_EINVAL, NULL);
  run(f);
  assert_int_equal(f->ncalls, 0);
  expect_projects(f, "");
  stop(f);
}

/* Runs the loop while no file can grow; every callback must fail. */
static void run_failing(fixture *f, size_t from, size_t n) {
  limit_writes(f);
  run(f);
  unlimit_writes(f);
  assert_int_equal(f->overflow, 0);
  assert_int_equal(f->ncalls, from + n);
  for (size_t i = from; i < from + n; i++) {
    const call *c = &f->calls[i];
    if (c->code != JX_ESTORE)
      fail_msg("callback %zu (%s %s -> %s): code %d, expected JX_ESTORE", i,
               c->project, c->from, c->to, c->code);
    assert_false(c->has_commit);
  }
  /* The failure is the pack's, not something before it. */
  if (!strstr(f->calls[from].msg, "writing the pack"))
    fail_msg("batch failed for another reason: %s", f->calls[from].msg);
}

static void test_engine__failed_batch(void **state) {
  fixture *f = *state;
  const char *p1 = "HL2021-EDU-001";
  expect_ok(step(f, p1, 0));
  run(f);
  assert_int_equal(f->ncalls, 1);
  expect_call(f, 0, 0, p1, "draft", "dept_review");

  expect_ok(step(f, p1, 1));
  expect_ok(step(f, p1, 2));
  expect_state(f, p1, "approved", 3);
  run_failing(f, 1, 2);
  expect_call(f, 1, JX_ESTORE, p1, "dept_review", "finance_review");
  expect_call(f, 2, JX_ESTORE, p1, "finance_review", "approved");
  if (!strstr(f->calls[1].msg, "a batch of 2 transitions was not written"))
    fail_msg("unexpected message: %s", f->calls[1].msg);

  /* Back to what the store holds. */
  expect_state(f, p1, "dept_review", 1);
  assert_int_equal(count(f, "refs/jx/projects/HL2021-EDU-001"), 1);
  assert_int_equal(count(f, "refs/jx/seal"), 1);
  expect_ok(step(f, p1, 1));
  run(f);
  assert_int_equal(f->ncalls, 4);
  expect_call(f, 3, 0, p1, "dept_review", "finance_review");
  assert_int_equal(f->calls[3].seq, 2);
  expect_state(f, p1, "finance_review", 2);
  expect_subjects(f, p1, 2);
  assert_int_equal(count(f, "refs/jx/seal"), 2);
  fsck_clean(f);
  stop(f);
}

/* Batches of one: the first fails, and the transitions queued behind it,
 * decided on the state it would have made, fail without being written. */
static void test_engine__failed_batch_fails_queue(void **state) {
  fixture *f = *state;
  const char *p1 = "HL2021-EDU-001", *p2 = "HL2021-EDU-002";
  f->cfg->max_batch = 1;
  expect_ok(step(f, p1, 0));
  run(f);
  assert_int_equal(f->ncalls, 1);

  expect_ok(step(f, p1, 1));
  expect_ok(step(f, p1, 2));
  expect_ok(step(f, p2, 0));
  run_failing(f, 1, 3);
  expect_call(f, 1, JX_ESTORE, p1, "dept_review", "finance_review");
  expect_call(f, 2, JX_ESTORE, p1, "finance_review", "approved");
  expect_call(f, 3, JX_ESTORE, p2, "draft", "dept_review");

  expect_state(f, p1, "dept_review", 1);
  const jx_value *st;
  expect_err(jx_engine_state(f->engine, p2, &st), JX_ENOTFOUND, NULL);
  expect_ok(step(f, p1, 1));
  expect_ok(step(f, p2, 0));
  run(f);
  assert_int_equal(f->ncalls, 6);
  expect_call(f, 4, 0, p1, "dept_review", "finance_review");
  expect_call(f, 5, 0, p2, "draft", "dept_review");
  expect_subjects(f, p1, 2);
  expect_subjects(f, p2, 1);
  fsck_clean(f);
  stop(f);
}

static void test_engine__actor_scope(void **state) {
  fixture *f = *state;
  const char *p1 = "HL2021-EDU-001";
  expect_ok(step(f, p1, 0));
  run(f);
  assert_int_equal(f->ncalls, 1);

  /* The health department on an education project. */
  int rc = apply(f, p1, "dept_approve", "hlt-dept", T0 + DAY, NULL, false);
  expect_refused(f, rc, "workflow");
  assert_non_null(strstr(f->verdict.reason, "health"));
  assert_non_null(strstr(f->verdict.remedy, "education"));

  /* A health unit submitting a project of education. */
  jx_value fl = project_fields("education", "edu-school-1", 1000);
  rc = apply(f, "HL2021-EDU-002", "submit", "hlt-clinic-1", T0, &fl, true);
  jx_value_free(&fl);
  expect_refused(f, rc, "workflow");

  /* Nobody moves a project between departments with an event: not into
   * the sender's reach, nor out of its own. */
  jx_value move = jx_map();
  jx_map_set(&move, "department", jx_str("health"));
  rc = apply(f, p1, "return", "hlt-dept", T0 + DAY, &move, false);
  expect_err(rc, JX_EINVAL, "department");
  expect_not_refused(f);
  rc = apply(f, p1, "return", "edu-dept", T0 + DAY, &move, false);
  expect_err(rc, JX_EINVAL, "department");
  jx_value_free(&move);

  run(f);
  assert_int_equal(f->ncalls, 1);
  const jx_value *st;
  expect_err(jx_engine_state(f->engine, "HL2021-EDU-002", &st), JX_ENOTFOUND,
             NULL);
  expect_ok(step(f, p1, 1));
  run(f);
  assert_int_equal(f->ncalls, 2);
  expect_call(f, 1, 0, p1, "dept_review", "finance_review");
  expect_ok(jx_engine_state(f->engine, p1, &st));
  assert_string_equal(jx_map_str(st, "department"), "education");
  fsck_clean(f);
  stop(f);
}

/* A transition decided but not yet started when the engine closes is
 * failed, not lost: its callback runs (when the engine is freed). */
static void test_engine__close_fails_queued(void **state) {
  fixture *f = *state;
  expect_ok(step(f, "HL2021-EDU-001", 0));
  stop(f);
  assert_int_equal(f->ncalls, 1);
  expect_call(f, 0, JX_ESTORE, "HL2021-EDU-001", "draft", "dept_review");
  expect_projects(f, "");
}

/* Dates are compared as ISO strings, which order correctly only for
 * four-digit years: an event of the year 987 must not pass as later than
 * one of 2021. */
static void test_engine__event_before_year_1000(void **state) {
  fixture *f = *state;
  expect_ok(step(f, "HL2021-EDU-001", 0));
  run(f);
  assert_int_equal(f->ncalls, 1);
  int rc = apply(f, "HL2021-EDU-001", "dept_approve", "edu-dept",
                 INT64_C(-31000000000) /* 0987-08-25 */, NULL, false);
  expect_err(rc, JX_EINVAL, NULL);
  run(f);
  assert_int_equal(f->ncalls, 1);
  stop(f);
}

/* A time gmtime cannot represent must be refused, not turned into a date
 * from an uninitialised struct tm. */
static void test_engine__time_out_of_range(void **state) {
  fixture *f = *state;
  jx_value fl = project_fields("education", "edu-school-1", 1000000);
  int rc = apply(f, "HL2021-EDU-001", "submit", "edu-school-1", INT64_MAX, &fl,
                 true);
  jx_value_free(&fl);
  expect_err(rc, JX_EINVAL, NULL);
  run(f);
  assert_int_equal(f->ncalls, 0);
  stop(f);
}

#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(test_engine__##name, setup, teardown)

int main(void) {
  /* The git CLI must see the repository as it is, not a user's config. */
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
  const struct CMUnitTest tests[] = {
      T(one_project),
      T(group_commit_across_batches),
      T(refusals),
      T(create_without_fields),
      T(failed_batch),
      T(failed_batch_fails_queue),
      T(actor_scope),
      T(close_fails_queued),
      T(event_before_year_1000),
      T(time_out_of_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
