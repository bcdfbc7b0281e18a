/* The git-backed store, on a real repository in a temporary directory,
 * checked both through its own API and with the real `git` CLI: init and
 * open, the rules tree, batches and their seal, the write lock, roll-forward
 * from the seal, start-up repair, damaged objects and bad ids.  Every test
 * that writes ends with `git fsck --strict`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_codec.h"
#include "jx_err.h"
#include "jx_store.h"

#define FRAME ((size_t)1 << 20)
#define T0 INT64_C(1625097600) /* 2021-07-01T00:00:00Z */

#define MAX_OPEN 4
#define MAX_REQS 16

/* What a test opens and fills lives here, so that teardown frees it even
 * when an assertion ends the test early (and the sanitizer build reports
 * only the leaks of the code under test). */
typedef struct fixture {
  char dir[64];                /* mkdtemp directory, removed afterwards */
  char store[128];             /* dir/store.git: not created by the fixture */
  jx_store *open[MAX_OPEN];    /* stores still open */
  jx_commit_req req[MAX_REQS]; /* requests handed out by reqs() */
  size_t nreq;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/jx_test_store.XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  snprintf(f->store, sizeof f->store, "%s/store.git", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  for (size_t i = 0; i < MAX_OPEN; i++)
    jx_store_free(f->open[i]);
  for (size_t i = 0; i < f->nreq; i++)
    jx_commit_req_clear(&f->req[i]);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

/* Runs a shell command; returns its exit status (-1 if it did not exit). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

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

static void expect_err(int rc, int code, const char *needle) {
  assert_int_equal(rc, code);
  assert_int_equal(jx_err_last()->code, code);
  if (needle && !strstr(jx_err_last()->msg, needle))
    fail_msg("no \"%s\" in: %s", needle, jx_err_last()->msg);
}

static void expect_ok(int rc) {
  if (rc != 0)
    fail_msg("rc %d: %s", rc, jx_err_last()->msg);
}

static const char *hex(const git_oid *oid) {
  static char buf[4][GIT_OID_HEXSZ + 1];
  static int next;
  char *s = buf[next++ % 4];
  return git_oid_tostr(s, sizeof buf[0], oid);
}

static void fsck_clean(const fixture *f) {
  char *o =
      out("git --git-dir '%s' fsck --strict --no-progress 2>&1", f->store);
  if (strstr(o, "error") || strstr(o, "warning") || strstr(o, "missing") ||
      strstr(o, "broken"))
    fail_msg("git fsck --strict: %s", o);
  free(o);
}

/* Opens f's store; it stays open until close_store or teardown. */
static jx_store *open_store(fixture *f, jx_store_mode mode, size_t frame) {
  jx_store *s = NULL;
  expect_ok(jx_store_open(&s, f->store, mode, frame, 0));
  for (size_t i = 0; i < MAX_OPEN; i++)
    if (!f->open[i])
      return f->open[i] = s;
  fail_msg("more than %d stores open", MAX_OPEN);
  return NULL;
}

static void close_store(fixture *f, jx_store *s) {
  for (size_t i = 0; i < MAX_OPEN; i++)
    if (f->open[i] == s)
      f->open[i] = NULL;
  jx_store_free(s);
}

static jx_store *init_open(fixture *f, jx_store_mode mode) {
  bool created;
  expect_ok(jx_store_init(f->store, &created));
  return open_store(f, mode, FRAME);
}

/* n zeroed requests, cleared by teardown. */
static jx_commit_req *reqs(fixture *f, size_t n) {
  assert_true(f->nreq + n <= MAX_REQS);
  jx_commit_req *r = &f->req[f->nreq];
  f->nreq += n;
  return r;
}

/* The rule set every batch below is made under, given out of order. */
#define RULE(path, text)                                                       \
  { path, text, sizeof text - 1 }
static const jx_rule_file RULES[] = {
    RULE("workflow.toml", "[store]\npath = \"store.git\"\n"),
    RULE("plugins/b.lua", "return {}\n"),
    RULE("definition.toml", "[workflow]\nname = \"t\"\n"),
    RULE("plugins/a.lua", "return { name = 'a' }\n"),
};
#define NRULES (sizeof RULES / sizeof *RULES)

static git_oid put_rules(jx_store *s) {
  git_oid tree;
  expect_ok(jx_store_put_rules(s, RULES, NRULES, &tree));
  return tree;
}

/* A transition of project id, event `ev` from state `from` to `to`. */
static void req_init(jx_commit_req *r, const char *id, const char *actor,
                     const char *ev, const char *from, const char *to,
                     int64_t time, const git_oid *rules, long parent_in_batch) {
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  snprintf(r->actor, sizeof r->actor, "%s", actor);
  r->time = time;
  jx_buf m = JX_BUF_INIT;
  jx_buf_printf(&m, "%s: %s %s -> %s\n\nProject: %s\nActor: %s\n", ev, id, from,
                to, id, actor);
  r->message = m.data;
  jx_value event = jx_map();
  jx_map_set(&event, "event", jx_str(ev));
  jx_map_set(&event, "from", jx_str(from));
  jx_map_set(&event, "to", jx_str(to));
  jx_map_set(&event, "actor", jx_str(actor));
  jx_value state = jx_map();
  jx_map_set(&state, "project", jx_str(id));
  jx_map_set(&state, "state", jx_str(to));
  jx_map_set(&state, "updated", jx_int(time));
  expect_ok(jx_codec_encode(&r->event, &event, FRAME));
  expect_ok(jx_codec_encode(&r->state, &state, FRAME));
  jx_value_free(&event);
  jx_value_free(&state);
  r->rules = *rules;
  r->parent_in_batch = parent_in_batch;
}

static const char *const P1 = "HL2021-EDU-001";
static const char *const P2 = "HL2021-AGR-002";
static const char *const P3 = "HL2021-EDU-003";

/* Five transitions of three projects, P1 twice (chained in the batch) and
 * given first, P3 before P2 (so neither ids nor batch order is sorted). */
#define NBATCH 5
static void fill_batch(jx_commit_req *r, const git_oid *rules) {
  req_init(&r[0], P1, "unit1", "submit", "draft", "dept_review", T0, rules, -1);
  req_init(&r[1], P3, "unit3", "submit", "draft", "dept_review", T0 + 1, rules,
           -1);
  req_init(&r[2], P1, "dept", "dept_approve", "dept_review", "finance_review",
           T0 + 2, rules, 0);
  req_init(&r[3], P2, "unit2", "submit", "draft", "dept_review", T0 + 3, rules,
           -1);
  req_init(&r[4], P1, "fin", "finance_approve", "finance_review", "approved",
           T0 + 4, rules, 2);
}

/* --- init and open ------------------------------------------------------ */

static void test_store__init_creates_bare_repo(void **state) {
  fixture *f = *state;
  bool created = false;
  expect_ok(jx_store_init(f->store, &created));
  assert_true(created);
  expect_out("true\n", out("git --git-dir '%s' rev-parse "
                           "--is-bare-repository",
                           f->store));
  expect_out("1\n", out("git --git-dir '%s' config jx.format", f->store));
  expect_out("0\n", out("git --git-dir '%s' config gc.auto", f->store));
  struct stat st;
  char path[256];
  snprintf(path, sizeof path, "%s/refs/jx/projects", f->store);
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  jx_store *s = open_store(f, JX_STORE_READ, FRAME);
  assert_string_equal(jx_store_path(s), f->store);
  close_store(f, s);
  fsck_clean(f);
}

static void test_store__init_twice(void **state) {
  fixture *f = *state;
  bool created = false;
  expect_ok(jx_store_init(f->store, &created));
  assert_true(created);
  created = true;
  expect_ok(jx_store_init(f->store, &created));
  assert_false(created);
  expect_out("1\n", out("git --git-dir '%s' config jx.format", f->store));
}

static void test_store__init_refuses_non_store(void **state) {
  fixture *f = *state;
  /* A directory with someone's files in it. */
  assert_int_equal(
      sh("mkdir '%s' && echo data > '%s/notes.txt'", f->store, f->store), 0);
  bool created = true;
  expect_err(jx_store_init(f->store, &created), JX_EINVAL,
             "is not a bare git repository");
  assert_false(created);
  assert_non_null(strstr(jx_err_last()->msg, f->store));
  expect_out("data\n", out("cat '%s/notes.txt'", f->store));

  /* A git repository that is not a jixiao store. */
  char plain[192];
  snprintf(plain, sizeof plain, "%s/plain.git", f->dir);
  assert_int_equal(sh("git init -q --bare '%s'", plain), 0);
  expect_err(jx_store_init(plain, &created), JX_EINVAL, "not a jixiao store");
  assert_false(created);
}

static void test_store__open_refuses_non_store(void **state) {
  fixture *f = *state;
  jx_store *s = (jx_store *)f; /* sentinel: must stay untouched */
  expect_err(jx_store_open(&s, f->store, JX_STORE_READ, FRAME, 0), JX_ESTORE,
             "not a jixiao store");
  assert_non_null(strstr(jx_err_last()->msg, f->store));
  assert_ptr_equal(s, f);
  expect_err(jx_store_open(&s, f->store, JX_STORE_WRITE, FRAME, 0), JX_ESTORE,
             f->store);
  assert_ptr_equal(s, f);
  struct stat st;
  assert_int_equal(stat(f->store, &st), -1); /* open creates nothing */

  assert_int_equal(sh("git init -q --bare '%s'", f->store), 0);
  expect_err(jx_store_open(&s, f->store, JX_STORE_WRITE, FRAME, 0), JX_ESTORE,
             "not a jixiao store");
  assert_ptr_equal(s, f);
}

/* --- rules ------------------------------------------------------------- */

static void test_store__put_rules_tree(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  /* The same files in another order give the same tree. */
  jx_rule_file rev[NRULES];
  for (size_t i = 0; i < NRULES; i++)
    rev[i] = RULES[NRULES - 1 - i];
  git_oid again;
  expect_ok(jx_store_put_rules(s, rev, NRULES, &again));
  assert_true(git_oid_equal(&rules, &again));
  /* One changed byte gives another tree. */
  jx_rule_file changed[NRULES];
  memcpy(changed, RULES, sizeof changed);
  changed[1].data = "return {}\r";
  expect_ok(jx_store_put_rules(s, changed, NRULES, &again));
  assert_false(git_oid_equal(&rules, &again));

  jx_commit_req *r = reqs(f, 1);
  req_init(r, P1, "unit1", "submit", "draft", "dept_review", T0, &rules, -1);
  expect_ok(jx_store_write(s, r, 1));

  expect_out("definition.toml\nplugins/a.lua\nplugins/b.lua\nworkflow.toml\n",
             out("git --git-dir '%s' ls-tree -r --name-only %s", f->store,
                 hex(&rules)));
  expect_out("040000 tree", out("git --git-dir '%s' ls-tree %s plugins | "
                                "cut -c1-11 | tr -d '\\n'",
                                f->store, hex(&rules)));
  for (size_t i = 0; i < NRULES; i++) {
    char *got = out("git --git-dir '%s' cat-file blob %s:%s", f->store,
                    hex(&rules), RULES[i].path);
    assert_int_equal(strlen(got), RULES[i].len);
    assert_memory_equal(got, RULES[i].data, RULES[i].len);
    free(got);
  }
  /* git computes the same tree id from the same entries. */
  char want[GIT_OID_HEXSZ + 2];
  snprintf(want, sizeof want, "%s\n", hex(&rules));
  expect_out(want, out("git --git-dir '%s' ls-tree %s | git --git-dir '%s' "
                       "mktree",
                       f->store, hex(&rules), f->store));
  /* The commit's rules/ entry is that tree. */
  expect_out(want, out("git --git-dir '%s' rev-parse "
                       "refs/jx/projects/%s:rules",
                       f->store, P1));
  close_store(f, s);
  fsck_clean(f);
}

static void test_store__put_rules_too_deep(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  const jx_rule_file deep[] = {{"plugins/x/y.lua", "x", 1}};
  git_oid tree;
  expect_err(jx_store_put_rules(s, deep, 1, &tree), JX_EINVAL,
             "plugins/x/y.lua");
  close_store(f, s);
}

/* --- batches ------------------------------------------------------------ */

typedef struct log_seen {
  size_t n;
  char subjects[8][96];
  int64_t times[8];
  git_oid commits[8];
  jx_value states[8];
  jx_value events[8];
  git_oid rules;
  bool rules_differ;
  size_t stop_after; /* return 7 after this many entries; 0: never */
} log_seen;

static int log_cb(const jx_store_entry *e, void *payload) {
  log_seen *l = payload;
  assert_true(l->n < 8);
  const char *nl = strchr(e->message, '\n');
  size_t len = nl ? (size_t)(nl - e->message) : strlen(e->message);
  snprintf(l->subjects[l->n], sizeof l->subjects[0], "%.*s", (int)len,
           e->message);
  l->times[l->n] = e->time;
  l->commits[l->n] = *e->commit;
  l->states[l->n] = jx_value_copy(e->state);
  l->events[l->n] = jx_value_copy(e->event);
  assert_non_null(e->rules);
  if (!git_oid_equal(e->rules, &l->rules))
    l->rules_differ = true;
  l->n++;
  return l->stop_after && l->n == l->stop_after ? 7 : 0;
}

static void log_seen_free(log_seen *l) {
  for (size_t i = 0; i < l->n; i++) {
    jx_value_free(&l->states[i]);
    jx_value_free(&l->events[i]);
  }
}

typedef struct ids_seen {
  size_t n;
  char ids[8][JX_ID_MAX + 1];
  git_oid heads[8];
} ids_seen;

static int each_cb(const char *id, const git_oid *head, void *payload) {
  ids_seen *s = payload;
  assert_true(s->n < 8);
  snprintf(s->ids[s->n], sizeof s->ids[0], "%s", id);
  s->heads[s->n++] = *head;
  return 0;
}

/* v encodes to exactly the bytes a request carried: what the store hands
 * back is what it was given. */
static void expect_encodes_to(const jx_value *v, const jx_buf *bytes) {
  jx_buf b = JX_BUF_INIT;
  expect_ok(jx_codec_encode(&b, v, FRAME));
  assert_int_equal(b.len, bytes->len);
  assert_memory_equal(b.data, bytes->data, b.len);
  jx_buf_free(&b);
}

static void expect_head(jx_store *s, const char *id, const jx_commit_req *r) {
  git_oid commit;
  jx_value st = jx_int(5);
  expect_ok(jx_store_head(s, id, &commit, &st));
  assert_true(git_oid_equal(&commit, &r->commit));
  expect_encodes_to(&st, &r->state);
  jx_value_free(&st);
}

/* The seal's heads blob lists each project once, with its last commit. */
static void expect_seal_heads(const fixture *f, const jx_commit_req *r,
                              const size_t *last, size_t nprojects) {
  char *heads =
      out("git --git-dir '%s' cat-file -p refs/jx/seal:heads", f->store);
  size_t lines = 0;
  for (const char *p = heads; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, nprojects);
  for (size_t i = 0; i < nprojects; i++) {
    char line[GIT_OID_HEXSZ + JX_ID_MAX + 4];
    snprintf(line, sizeof line, "%s %s\n", hex(&r[last[i]].commit),
             r[last[i]].id);
    if (!strstr(heads, line))
      fail_msg("seal heads lack \"%s\": %s", line, heads);
  }
  free(heads);
}

static void test_store__batch(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  for (size_t i = 0; i < NBATCH; i++)
    for (size_t k = 0; k < i; k++)
      assert_false(git_oid_equal(&r[i].commit, &r[k].commit));

  /* Heads: the last state of each project. */
  expect_head(s, P1, &r[4]);
  expect_head(s, P2, &r[3]);
  expect_head(s, P3, &r[1]);

  /* The log of P1, newest first, through the API... */
  log_seen l = {.rules = rules};
  expect_ok(jx_store_log(s, P1, log_cb, &l));
  assert_int_equal(l.n, 3);
  assert_false(l.rules_differ);
  const size_t order[] = {4, 2, 0};
  for (size_t i = 0; i < 3; i++) {
    const jx_commit_req *q = &r[order[i]];
    assert_true(git_oid_equal(&l.commits[i], &q->commit));
    assert_true(l.times[i] == q->time);
    expect_encodes_to(&l.states[i], &q->state);
    expect_encodes_to(&l.events[i], &q->event);
  }
  assert_string_equal(l.subjects[0],
                      "finance_approve: HL2021-EDU-001 finance_review -> "
                      "approved");
  assert_string_equal(l.subjects[1], "dept_approve: HL2021-EDU-001 "
                                     "dept_review -> finance_review");
  assert_string_equal(l.subjects[2],
                      "submit: HL2021-EDU-001 draft -> dept_review");
  log_seen_free(&l);

  /* ... and through git. */
  expect_out("finance_approve: HL2021-EDU-001 finance_review -> approved\n"
             "dept_approve: HL2021-EDU-001 dept_review -> finance_review\n"
             "submit: HL2021-EDU-001 draft -> dept_review\n",
             out("git --git-dir '%s' log --format=%%s refs/jx/projects/%s",
                 f->store, P1));
  char want[256];
  snprintf(want, sizeof want, "fin fin@jixiao %lld\n", (long long)(T0 + 4));
  expect_out(want, out("git --git-dir '%s' log -1 --format='%%an %%ae %%at' "
                       "refs/jx/projects/%s",
                       f->store, P1));
  expect_out("event.msgpack\nrules\nstate.msgpack\n",
             out("git --git-dir '%s' ls-tree --name-only refs/jx/projects/%s",
                 f->store, P2));
  /* Full message, trailers included, is kept as given. */
  char *msg = out("git --git-dir '%s' log -1 --format=%%B "
                  "refs/jx/projects/%s",
                  f->store, P3);
  assert_non_null(strstr(msg, "\n\nProject: HL2021-EDU-003\nActor: unit3\n"));
  free(msg);

  /* Every project once, sorted by id. */
  ids_seen ids = {0};
  expect_ok(jx_store_foreach(s, each_cb, &ids));
  assert_int_equal(ids.n, 3);
  assert_string_equal(ids.ids[0], P2);
  assert_string_equal(ids.ids[1], P1);
  assert_string_equal(ids.ids[2], P3);
  assert_true(git_oid_equal(&ids.heads[0], &r[3].commit));
  assert_true(git_oid_equal(&ids.heads[1], &r[4].commit));
  assert_true(git_oid_equal(&ids.heads[2], &r[1].commit));

  /* The seal: one commit, no parent, listing the three heads. */
  const size_t last[] = {4, 3, 1};
  expect_seal_heads(f, r, last, 3);
  expect_out("seal: 5 transitions, 3 projects\n",
             out("git --git-dir '%s' log --format=%%s refs/jx/seal", f->store));

  close_store(f, s);
  fsck_clean(f);
}

static int stop_each(const char *id, const git_oid *head, void *payload) {
  (void)id;
  (void)head;
  return ++*(int *)payload == 2 ? 9 : 0;
}

static void test_store__callbacks_stop_early(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  log_seen l = {.rules = rules, .stop_after = 2};
  assert_int_equal(jx_store_log(s, P1, log_cb, &l), 7);
  assert_int_equal(l.n, 2);
  log_seen_free(&l);
  int calls = 0;
  assert_int_equal(jx_store_foreach(s, stop_each, &calls), 9);
  assert_int_equal(calls, 2);
  close_store(f, s);
}

static void test_store__second_batch_chains(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  char *seal1 = out("git --git-dir '%s' rev-parse refs/jx/seal", f->store);

  jx_commit_req *r2 = reqs(f, 2);
  req_init(&r2[0], P1, "fin", "release", "approved", "executing", T0 + 10,
           &rules, -1);
  git_oid head;
  jx_value st = jx_nil();
  expect_ok(jx_store_head(s, P1, &head, &st));
  jx_value_free(&st);
  r2[0].parent = head;
  r2[0].has_parent = true;
  req_init(&r2[1], "HL2021-NEW-004", "unit4", "submit", "draft", "dept_review",
           T0 + 11, &rules, -1);
  expect_ok(jx_store_write(s, r2, 2));

  expect_head(s, P1, &r2[0]);
  expect_head(s, "HL2021-NEW-004", &r2[1]);
  expect_head(s, P2, &r[3]); /* untouched */
  expect_out("release: HL2021-EDU-001 approved -> executing\n"
             "finance_approve: HL2021-EDU-001 finance_review -> approved\n"
             "dept_approve: HL2021-EDU-001 dept_review -> finance_review\n"
             "submit: HL2021-EDU-001 draft -> dept_review\n",
             out("git --git-dir '%s' log --format=%%s refs/jx/projects/%s",
                 f->store, P1));
  /* The new seal's parent is the first seal; it lists only this batch. */
  expect_out(seal1,
             out("git --git-dir '%s' rev-parse refs/jx/seal^", f->store));
  expect_out("seal: 2 transitions, 2 projects\n"
             "seal: 5 transitions, 3 projects\n",
             out("git --git-dir '%s' log --format=%%s refs/jx/seal", f->store));
  const size_t last[] = {0, 1};
  expect_seal_heads(f, r2, last, 2);
  free(seal1);

  ids_seen ids = {0};
  expect_ok(jx_store_foreach(s, each_cb, &ids));
  assert_int_equal(ids.n, 4);
  assert_string_equal(ids.ids[2], "HL2021-EDU-003");
  assert_string_equal(ids.ids[3], "HL2021-NEW-004");

  close_store(f, s);
  fsck_clean(f);
}

static void test_store__empty_store_lists_nothing(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_READ);
  ids_seen ids = {0};
  expect_ok(jx_store_foreach(s, each_cb, &ids));
  assert_int_equal(ids.n, 0);
  close_store(f, s);
}

/* --- locking and repair ------------------------------------------------- */

static void test_store__write_lock(void **state) {
  fixture *f = *state;
  jx_store *w = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(w);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(w, r, NBATCH));

  jx_store *w2 = (jx_store *)f;
  expect_err(jx_store_open(&w2, f->store, JX_STORE_WRITE, FRAME, 0), JX_ESTORE,
             "in use");
  assert_ptr_equal(w2, f);

  /* A reader needs no lock and sees what the writer made durable. */
  jx_store *rd = open_store(f, JX_STORE_READ, FRAME);
  expect_head(rd, P1, &r[4]);
  close_store(f, rd);

  /* Closing the writer releases the lock. */
  close_store(f, w);
  w2 = open_store(f, JX_STORE_WRITE, FRAME);
  expect_head(w2, P1, &r[4]);
  close_store(f, w2);
  fsck_clean(f);
}

static void test_store__roll_forward(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  close_store(f, s);

  /* As if the process died after the seal but before the project refs
   * moved: P1 back at its parent, P2 never created. */
  assert_int_equal(sh("git --git-dir '%s' update-ref refs/jx/projects/%s %s",
                      f->store, P1, hex(&r[2].commit)),
                   0);
  assert_int_equal(
      sh("git --git-dir '%s' update-ref -d refs/jx/projects/%s", f->store, P2),
      0);
  char want[GIT_OID_HEXSZ + 2];
  snprintf(want, sizeof want, "%s\n", hex(&r[2].commit));
  expect_out(want, out("git --git-dir '%s' rev-parse refs/jx/projects/%s",
                       f->store, P1));

  /* A reader holds no lock, so it moves no ref. */
  s = open_store(f, JX_STORE_READ, FRAME);
  close_store(f, s);
  expect_out(want, out("git --git-dir '%s' rev-parse refs/jx/projects/%s",
                       f->store, P1));

  /* A writer does. */
  s = open_store(f, JX_STORE_WRITE, FRAME);
  snprintf(want, sizeof want, "%s\n", hex(&r[4].commit));
  expect_out(want, out("git --git-dir '%s' rev-parse refs/jx/projects/%s",
                       f->store, P1));
  expect_head(s, P1, &r[4]);
  expect_head(s, P2, &r[3]);
  expect_head(s, P3, &r[1]);
  close_store(f, s);
  fsck_clean(f);
}

static void touch(const char *dir, const char *rel) {
  assert_int_equal(sh("echo junk > '%s/%s'", dir, rel), 0);
}

static bool exists(const char *dir, const char *rel) {
  char path[512];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  return stat(path, &st) == 0;
}

static void test_store__stale_files_removed(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  close_store(f, s);

  /* What a kill -9 leaves behind. */
  static const char *const stale[] = {
      "refs/jx/projects/X.lock",     "refs/jx/projects/HL2021-EDU-001.lock",
      "refs/jx/seal.lock",           "objects/pack/pack_git2_x",
      "objects/tmp_object_git2_abc", "packed-refs.lock",
  };
  const size_t nstale = sizeof stale / sizeof *stale;
  for (size_t i = 0; i < nstale; i++)
    touch(f->store, stale[i]);

  /* A reader holds no lock, so it must leave a writer's files alone. */
  s = open_store(f, JX_STORE_READ, FRAME);
  close_store(f, s);
  for (size_t i = 0; i < nstale; i++)
    assert_true(exists(f->store, stale[i]));

  s = open_store(f, JX_STORE_WRITE, FRAME);
  for (size_t i = 0; i < nstale; i++)
    if (exists(f->store, stale[i]))
      fail_msg("%s survived a WRITE open", stale[i]);
  assert_true(exists(f->store, "objects/pack"));
  assert_int_equal(sh("git --git-dir '%s' rev-parse -q --verify refs/jx/seal "
                      ">/dev/null",
                      f->store),
                   0);

  /* The refs that had locks can be moved again. */
  jx_commit_req *r2 = reqs(f, 1);
  req_init(r2, P1, "fin", "release", "approved", "executing", T0 + 10, &rules,
           -1);
  r2->parent = r[4].commit;
  r2->has_parent = true;
  expect_ok(jx_store_write(s, r2, 1));
  expect_head(s, P1, r2);
  close_store(f, s);
  fsck_clean(f);
}

/* --- damage and bad input ----------------------------------------------- */

static void test_store__truncated_state(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  /* A later batch without P2, so that the last seal does not list P2's
   * head (a reader takes the sealed head over the ref). */
  jx_commit_req *r2 = reqs(f, 1);
  req_init(&r2[0], P3, "dept", "dept_approve", "dept_review", "finance_review",
           T0 + 9, &rules, -1);
  r2[0].parent = r[1].commit;
  r2[0].has_parent = true;
  expect_ok(jx_store_write(s, r2, 1));
  close_store(f, s);

  /* A map of two pairs whose first value is missing. */
  char bad[256];
  snprintf(bad, sizeof bad, "%s/bad.msgpack", f->dir);
  FILE *fp = fopen(bad, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite("\x82\xa5state", 1, 7, fp), 7);
  assert_int_equal(fclose(fp), 0);
  char *blob = out("git --git-dir '%s' hash-object -w --no-filters '%s' | "
                   "tr -d '\\n'",
                   f->store, bad);
  char *event = out("git --git-dir '%s' rev-parse "
                    "refs/jx/projects/%s:event.msgpack | tr -d '\\n'",
                    f->store, P2);
  char *tree = out("printf '100644 blob %s\\tevent.msgpack\\n"
                   "040000 tree %s\\trules\\n"
                   "100644 blob %s\\tstate.msgpack\\n' | "
                   "git --git-dir '%s' mktree | tr -d '\\n'",
                   event, hex(&rules), blob, f->store);
  char *commit = out("git --git-dir '%s' commit-tree %s -p "
                     "refs/jx/projects/%s -m 'damaged' | tr -d '\\n'",
                     f->store, tree, P2);
  assert_int_equal(sh("git --git-dir '%s' update-ref refs/jx/projects/%s %s",
                      f->store, P2, commit),
                   0);

  s = open_store(f, JX_STORE_READ, FRAME);
  git_oid head;
  jx_value st = jx_int(1);
  expect_err(jx_store_head(s, P2, &head, &st), JX_ESTORE, "truncated");
  assert_non_null(strstr(jx_err_last()->msg, P2));
  assert_non_null(strstr(jx_err_last()->msg, "state.msgpack"));
  assert_int_equal(st.type, JX_NIL);
  log_seen l = {.rules = rules};
  expect_err(jx_store_log(s, P2, log_cb, &l), JX_ESTORE, "truncated");
  assert_int_equal(l.n, 0);
  expect_head(s, P1, &r[4]); /* other projects unharmed */
  close_store(f, s);

  /* A frame cap smaller than a state is refused the same way. */
  s = open_store(f, JX_STORE_READ, 8);
  st = jx_nil();
  expect_err(jx_store_head(s, P1, &head, &st), JX_ESTORE, P1);
  close_store(f, s);

  free(blob);
  free(event);
  free(tree);
  free(commit);
  fsck_clean(f);
}

static void test_store__unknown_and_invalid_ids(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  git_oid head;
  jx_value st = jx_nil();
  log_seen l = {.rules = rules};

  expect_err(jx_store_head(s, "HL2021-XXX-999", &head, &st), JX_ENOTFOUND,
             "HL2021-XXX-999");
  expect_err(jx_store_log(s, "HL2021-XXX-999", log_cb, &l), JX_ENOTFOUND,
             "HL2021-XXX-999");
  /* A prefix of an existing id is not that project. */
  expect_err(jx_store_head(s, "HL2021-EDU-00", &head, &st), JX_ENOTFOUND, NULL);

  static const char *const bad[] = {"../x", "a/b",  "",   "x.lock",
                                    "a..b", "项目", "-x", "a\x01"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    expect_err(jx_store_head(s, bad[i], &head, &st), JX_EINVAL, "project id");
    expect_err(jx_store_log(s, bad[i], log_cb, &l), JX_EINVAL, "project id");
  }
  /* A valid id that names no project, even one that is a ref elsewhere. */
  expect_err(jx_store_head(s, "seal", &head, &st), JX_ENOTFOUND, NULL);
  assert_int_equal(l.n, 0);
  assert_int_equal(st.type, JX_NIL);
  close_store(f, s);
}

static void test_store__batch_on_read_store(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_READ);
  git_oid rules;
  memset(&rules, 0, sizeof rules);
  jx_commit_req *r = reqs(f, 1);
  req_init(r, P1, "unit1", "submit", "draft", "dept_review", T0, &rules, -1);
  expect_err(jx_store_write(s, r, 1), JX_ESTORE, "read-only");
  git_oid head;
  jx_value st = jx_nil();
  expect_err(jx_store_head(s, P1, &head, &st), JX_ENOTFOUND, NULL);
  assert_int_equal(sh("git --git-dir '%s' rev-parse -q --verify refs/jx/seal "
                      ">/dev/null",
                      f->store),
                   1);
  close_store(f, s);
}

/* A READ store has no writer: putting rules is an error that says so, as
 * jx_store_write's does. */
static void test_store__put_rules_on_read_store(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_READ);
  git_oid tree;
  expect_err(jx_store_put_rules(s, RULES, NRULES, &tree), JX_ESTORE,
             "read-only");
  close_store(f, s);
}

/* A batch that fails leaves no ref moved; the next one succeeds. */
static void test_store__failed_batch_changes_nothing(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  char *seal = out("git --git-dir '%s' rev-parse refs/jx/seal", f->store);

  /* git refuses a signature with an empty name: the commit fails. */
  jx_commit_req *bad = reqs(f, 2);
  req_init(&bad[0], P2, "unit2", "withdraw", "dept_review", "draft", T0 + 20,
           &rules, -1);
  bad[0].parent = r[3].commit;
  bad[0].has_parent = true;
  req_init(&bad[1], P3, "", "withdraw", "dept_review", "draft", T0 + 21, &rules,
           -1);
  bad[1].parent = r[1].commit;
  bad[1].has_parent = true;
  assert_true(jx_store_write(s, bad, 2) < 0);
  assert_true(jx_err_last()->msg[0] != '\0');
  expect_out(seal, out("git --git-dir '%s' rev-parse refs/jx/seal", f->store));
  expect_head(s, P2, &r[3]);
  expect_head(s, P3, &r[1]);

  snprintf(bad[1].actor, sizeof bad[1].actor, "unit3");
  expect_ok(jx_store_write(s, bad, 2));
  expect_head(s, P2, &bad[0]);
  expect_head(s, P3, &bad[1]);
  free(seal);
  close_store(f, s);
  fsck_clean(f);
}

/* Issue: jx_store_write makes the batch durable (the seal ref) and only then
 * moves the project refs; when that last step fails (here packed-refs.lock
 * is taken, as by a concurrent `git pack-refs`; or ENOSPC) it returns an
 * error, yet the batch is sealed and the next WRITE open rolls it forward:
 * a batch reported as failed becomes visible, contrary to "On failure
 * nothing of the batch is visible".  Whatever the result, it must be the
 * truth after a restart. */
static void test_store__result_is_truth_after_restart(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, NBATCH);
  fill_batch(r, &rules);
  expect_ok(jx_store_write(s, r, NBATCH));
  char seal[GIT_OID_HEXSZ + 2], now[GIT_OID_HEXSZ + 2];
  char *o = out("git --git-dir '%s' rev-parse refs/jx/seal", f->store);
  snprintf(seal, sizeof seal, "%s", o);
  free(o);

  touch(f->store, "packed-refs.lock");
  jx_commit_req *r2 = reqs(f, 1);
  req_init(r2, P2, "dept", "dept_approve", "dept_review", "finance_review",
           T0 + 30, &rules, -1);
  r2->parent = r[3].commit;
  r2->has_parent = true;
  int rc = jx_store_write(s, r2, 1);
  close_store(f, s);
  assert_int_equal(sh("rm -f '%s/packed-refs.lock'", f->store), 0);

  s = open_store(f, JX_STORE_WRITE, FRAME);
  if (rc == 0) {
    expect_head(s, P2, r2);
  } else {
    o = out("git --git-dir '%s' rev-parse refs/jx/seal", f->store);
    snprintf(now, sizeof now, "%s", o);
    free(o);
    git_oid head;
    jx_value st = jx_nil();
    expect_ok(jx_store_head(s, P2, &head, &st));
    jx_value_free(&st);
    if (strcmp(now, seal) != 0 || !git_oid_equal(&head, &r[3].commit))
      fail_msg("the batch failed (rc %d) but after a restart the seal moved "
               "to %.40s and %s is at %s (the failed commit is %s)",
               rc, now, P2, hex(&head), hex(&r2->commit));
  }
  close_store(f, s);
  fsck_clean(f);
}

/* Issue: jx_store_put_rules writes the rules tree only into the writer's
 * mempack, and a failed jx_store_write resets the mempack.  The engine puts
 * its rules once, at start: if the first batch after that fails (here: an
 * empty actor; in production any failure before the pack is written, e.g.
 * ENOSPC), the tree is gone, and every later batch fails in flush_pack
 * ("object not found - cannot read header for <rules tree>": mempack_dump
 * walks each commit's tree) until the process restarts. */
static void test_store__rules_survive_failed_batch(void **state) {
  fixture *f = *state;
  jx_store *s = init_open(f, JX_STORE_WRITE);
  git_oid rules = put_rules(s);
  jx_commit_req *r = reqs(f, 1);
  req_init(r, P1, "", "submit", "draft", "dept_review", T0, &rules, -1);
  assert_true(jx_store_write(s, r, 1) < 0);
  snprintf(r->actor, sizeof r->actor, "unit1");
  expect_ok(jx_store_write(s, r, 1));
  expect_head(s, P1, r);
  if (sh("git --git-dir '%s' cat-file -e %s", f->store, hex(&rules)) != 0)
    fail_msg("rules tree %s is referenced by %s but missing from the store",
             hex(&rules), hex(&r->commit));
  close_store(f, s);
  fsck_clean(f);
}

#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(test_store__##name, setup, teardown)

int main(void) {
  /* The git CLI must see the repository as it is, not a user's config. */
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
  setenv("GIT_AUTHOR_NAME", "test", 1);
  setenv("GIT_AUTHOR_EMAIL", "test@jixiao", 1);
  setenv("GIT_COMMITTER_NAME", "test", 1);
  setenv("GIT_COMMITTER_EMAIL", "test@jixiao", 1);
  const struct CMUnitTest tests[] = {
      T(init_creates_bare_repo),
      T(init_twice),
      T(init_refuses_non_store),
      T(open_refuses_non_store),
      T(put_rules_tree),
      T(put_rules_too_deep),
      T(batch),
      T(callbacks_stop_early),
      T(second_batch_chains),
      T(empty_store_lists_nothing),
      T(write_lock),
      T(roll_forward),
      T(stale_files_removed),
      T(truncated_state),
      T(unknown_and_invalid_ids),
      T(batch_on_read_store),
      T(put_rules_on_read_store),
      T(failed_batch_changes_nothing),
      T(result_is_truth_after_restart),
      T(rules_survive_failed_batch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
