/* The workflow definition: the shipped budget.toml and its lookups, then
 * each mistake a definition can hold, made one line at a time in a small
 * valid definition, refused with its file:line:col and the right words. */
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
#include "jx_workflow.h"

static const char *const PLUGINS[] = {
    "r1_staffing",   "r2_ex_ante",    "r3_targets",  "r4_monitoring",
    "r5_recovery",   "r6_evaluation", "third_party", "r7_results",
    "progress"};
#define NPLUGINS (sizeof PLUGINS / sizeof *PLUGINS)

static char tmpdir[] = "/tmp/jx_test_workflow.XXXXXX";
static char def_path[sizeof tmpdir + 16];

static int make_tmpdir(void **state) {
  (void)state;
  if (!mkdtemp(tmpdir))
    return -1;
  snprintf(def_path, sizeof def_path, "%s/def.toml", tmpdir);
  return 0;
}

static int remove_tmpdir(void **state) {
  (void)state;
  unlink(def_path);
  return rmdir(tmpdir);
}

/* The shipped definition, found through JX_SOURCE_DIR (set by ctest). */
static void budget_path(char *path, size_t size) {
  const char *src = getenv("JX_SOURCE_DIR");
  if (!src)
    fail_msg("JX_SOURCE_DIR is not set (run through ctest)");
  snprintf(path, size, "%s/workflows/budget.toml", src);
}

static jx_workflow *load_budget(void) {
  char path[1024];
  budget_path(path, sizeof path);
  jx_workflow *wf = NULL;
  int rc = jx_workflow_load(&wf, path, PLUGINS, NPLUGINS);
  if (rc != 0)
    fail_msg("%s", jx_err_last()->msg);
  assert_non_null(wf);
  return wf;
}

static void expect_list(const jx_strlist *l, const char *const *want,
                        size_t n) {
  assert_int_equal(l->len, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(l->items[i], want[i]);
}

/* --- the shipped definition -------------------------------------------- */

static void test_workflow__budget_loads(void **state) {
  (void)state;
  jx_workflow *wf = load_budget();
  assert_string_equal(wf->name, "budget-project");
  assert_int_equal(wf->version, 1);
  assert_string_equal(wf->initial, "draft");
  assert_int_equal(wf->nstates, 15);
  assert_true(wf->ntransitions >= 18); /* grows as rules arrive */
  assert_non_null(strstr(wf->path, "workflows/budget.toml"));
  /* Everything a transition names exists, every state has a phase. */
  for (size_t i = 0; i < wf->ntransitions; i++) {
    const jx_transition *t = &wf->transitions[i];
    assert_true(!*t->to || jx_workflow_state(wf, t->to) != NULL);
    assert_true(t->from.len > 0 && t->roles.len > 0);
    for (size_t k = 0; k < t->from.len; k++)
      assert_non_null(jx_workflow_state(wf, t->from.items[k]));
  }
  for (size_t i = 0; i < wf->nstates; i++)
    assert_true(wf->states[i].phase[0] != '\0');
  jx_workflow_free(wf);
}

static void test_workflow__budget_find(void **state) {
  (void)state;
  jx_workflow *wf = load_budget();
  const jx_transition *t = jx_workflow_find(wf, "submit", "draft");
  assert_non_null(t);
  assert_string_equal(t->event, "submit");
  assert_string_equal(t->to, "dept_review");
  static const char *const guards[] = {"progress", "r1_staffing",
                                       "r2_ex_ante", "r3_targets"};
  expect_list(&t->guards, guards, 4);
  static const char *const submitters[] = {"unit", "department"};
  expect_list(&t->roles, submitters, 2);
  assert_int_equal(t->reactions.len, 0);
  /* The same transition from its other from-state. */
  assert_ptr_equal(jx_workflow_find(wf, "submit", "returned"), t);

  t = jx_workflow_find(wf, "recover", "executing");
  assert_non_null(t);
  assert_string_equal(t->to, "recovered");
  t = jx_workflow_find(wf, "supplement", "executing");
  assert_non_null(t);
  assert_string_equal(t->to, "executing"); /* a self-loop */

  /* Known event, wrong state; unknown event; unknown state. */
  assert_null(jx_workflow_find(wf, "submit", "approved"));
  assert_null(jx_workflow_find(wf, "submit", "archived"));
  assert_null(jx_workflow_find(wf, "fly", "draft"));
  assert_null(jx_workflow_find(wf, "submit", "nowhere"));
  assert_null(jx_workflow_find(wf, "", ""));
  jx_workflow_free(wf);
}

static void test_workflow__budget_event_and_state(void **state) {
  (void)state;
  jx_workflow *wf = load_budget();
  const jx_transition *t = jx_workflow_event(wf, "reject");
  assert_non_null(t);
  static const char *const from[] = {"dept_review", "finance_review"};
  expect_list(&t->from, from, 2);
  assert_string_equal(t->to, "rejected");
  static const char *const roles[] = {"department", "finance_business",
                                      "finance_performance"};
  expect_list(&t->roles, roles, 3);
  assert_true(jx_strlist_has(&t->roles, "finance_business"));
  assert_false(jx_strlist_has(&t->roles, "unit"));
  assert_false(jx_strlist_has(&t->roles, "finance"));

  char buf[128];
  assert_string_equal(jx_strlist_join(&t->roles, buf, sizeof buf),
                      "department, finance_business, finance_performance");
  char small[12];
  jx_strlist_join(&t->roles, small, sizeof small);
  assert_string_equal(small, "department,");
  jx_strlist empty = {0};
  assert_string_equal(jx_strlist_join(&empty, buf, sizeof buf), "");

  assert_non_null(jx_workflow_event(wf, "release"));
  assert_string_equal(jx_workflow_event(wf, "release")->to, "executing");
  assert_null(jx_workflow_event(wf, "fly"));
  assert_null(jx_workflow_event(wf, "Submit")); /* case matters */

  const jx_state_def *st = jx_workflow_state(wf, "flagged");
  assert_non_null(st);
  assert_string_equal(st->phase, "monitoring");
  assert_non_null(strstr(st->text, "R-4"));
  assert_string_equal(jx_workflow_state(wf, "draft")->phase, "submission");
  assert_string_equal(jx_workflow_state(wf, "archived")->phase, "evaluation");
  assert_null(jx_workflow_state(wf, "nowhere"));
  jx_workflow_free(wf);
}

static void test_workflow__budget_needs_its_plugins(void **state) {
  (void)state;
  char path[1024];
  budget_path(path, sizeof path);
  jx_workflow *wf = NULL;
  assert_int_equal(jx_workflow_load(&wf, path, PLUGINS, 1), JX_EINVAL);
  const char *msg = jx_err_last()->msg;
  assert_non_null(strstr(msg, "plugin \"progress\" is not configured"));
  unsigned line, col;
  char fmt[1100];
  snprintf(fmt, sizeof fmt, "%s:%%u:%%u: ", path);
  assert_int_equal(sscanf(msg, fmt, &line, &col), 2);
  assert_true(line > 1 && col > 0);
  assert_int_equal(jx_workflow_load(&wf, path, NULL, 0), JX_EINVAL);
  assert_non_null(strstr(jx_err_last()->msg, "\"progress\""));
}

/* --- mistakes ---------------------------------------------------------- */

/* A small valid definition; the mistakes below each change a line of it.
 * Line numbers are 1-based, as in messages. */
static const char *const BASE[] = {
    /*  1 */ "[workflow]",
    /*  2 */ "name = \"t\"",
    /*  3 */ "initial = \"draft\"",
    /*  4 */ "",
    /*  5 */ "[states]",
    /*  6 */ "draft = { phase = \"submission\" }",
    /*  7 */ "review = { phase = \"review\", text = \"x\" }",
    /*  8 */ "done = { phase = \"evaluation\" }",
    /*  9 */ "",
    /* 10 */ "[[transition]]",
    /* 11 */ "event = \"submit\"",
    /* 12 */ "from = [\"draft\"]",
    /* 13 */ "to = \"review\"",
    /* 14 */ "roles = [\"unit\"]",
    /* 15 */ "guards = [\"r2_ex_ante\"]",
    /* 16 */ "",
    /* 17 */ "[[transition]]",
    /* 18 */ "event = \"approve\"",
    /* 19 */ "from = [\"review\"]",
    /* 20 */ "to = \"done\"",
    /* 21 */ "roles = [\"dept\"]",
    /* 22 */ "reactions = [\"r3_targets\"]",
};
#define NBASE (sizeof BASE / sizeof *BASE)

typedef struct edit {
  size_t line;      /* 1-based line of BASE to replace; 0 ends the list */
  const char *text; /* its new text (may hold several lines, or none) */
} edit;

/* Writes BASE with the edits applied to def_path. */
static void write_def(const edit *edits) {
  FILE *f = fopen(def_path, "w");
  assert_non_null(f);
  for (size_t i = 0; i < NBASE; i++) {
    const char *text = BASE[i];
    for (const edit *e = edits; e->line; e++)
      if (e->line == i + 1)
        text = e->text;
    fprintf(f, "%s\n", text);
  }
  assert_int_equal(fclose(f), 0);
}

/* Loading BASE with the edits fails with JX_EINVAL, the message starting
 * "def_path:line:COL: " (line 0: "def_path: " without a position) and
 * containing `words`. */
static void expect_mistake(const edit *edits, unsigned line,
                           const char *words) {
  write_def(edits);
  jx_workflow *wf = (jx_workflow *)&wf; /* any non-NULL sentinel */
  assert_int_equal(jx_workflow_load(&wf, def_path, PLUGINS, NPLUGINS),
                   JX_EINVAL);
  const jx_error *e = jx_err_last();
  assert_int_equal(e->code, JX_EINVAL);
  size_t n = strlen(def_path);
  if (strncmp(e->msg, def_path, n) != 0)
    fail_msg("message does not start with %s: %s", def_path, e->msg);
  if (line) {
    unsigned got_line, col;
    int used = 0;
    if (sscanf(e->msg + n, ":%u:%u: %n", &got_line, &col, &used) != 2 || !used)
      fail_msg("no :line:col: after the path: %s", e->msg);
    if (got_line != line || col == 0)
      fail_msg("expected line %u, got %u:%u: %s", line, got_line, col, e->msg);
  } else if (strncmp(e->msg + n, ": ", 2) != 0) {
    fail_msg("expected \"%s: \": %s", def_path, e->msg);
  }
  if (!strstr(e->msg, words))
    fail_msg("no \"%s\" in: %s", words, e->msg);
  assert_ptr_equal(wf, (jx_workflow *)&wf);
}

static void test_workflow__base_is_valid(void **state) {
  (void)state;
  const edit none[] = {{0, NULL}};
  write_def(none);
  jx_workflow *wf = NULL;
  int rc = jx_workflow_load(&wf, def_path, PLUGINS, NPLUGINS);
  if (rc != 0)
    fail_msg("%s", jx_err_last()->msg);
  assert_string_equal(wf->path, def_path);
  assert_int_equal(wf->version, 1); /* the default */
  assert_int_equal(wf->nstates, 3);
  assert_string_equal(jx_workflow_state(wf, "draft")->text, "");
  assert_string_equal(jx_workflow_state(wf, "review")->text, "x");
  const jx_transition *t = jx_workflow_find(wf, "approve", "review");
  assert_non_null(t);
  assert_int_equal(t->guards.len, 0);
  static const char *const r3[] = {"r3_targets"};
  expect_list(&t->reactions, r3, 1);
  jx_workflow_free(wf);
  jx_workflow_free(NULL);
}

static void test_workflow__unknown_state_in_to(void **state) {
  (void)state;
  const edit e[] = {{13, "to = \"nowhere\""}, {0, NULL}};
  expect_mistake(e, 13, "unknown state \"nowhere\"");
}

static void test_workflow__unknown_state_in_from(void **state) {
  (void)state;
  const edit e[] = {{19, "from = [\"review\", \"limbo\"]"}, {0, NULL}};
  expect_mistake(e, 19, "unknown state \"limbo\"");
}

static void test_workflow__unknown_initial_state(void **state) {
  (void)state;
  const edit e[] = {{3, "initial = \"start\""}, {0, NULL}};
  expect_mistake(e, 3, "unknown state \"start\"");
}

static void test_workflow__unknown_phase(void **state) {
  (void)state;
  const edit e[] = {{7, "review = { phase = \"limbo\" }"}, {0, NULL}};
  expect_mistake(e, 7, "unknown phase \"limbo\"");
}

static void test_workflow__missing_phase(void **state) {
  (void)state;
  const edit e[] = {{8, "done = { text = \"no phase\" }"}, {0, NULL}};
  expect_mistake(e, 8, "missing key \"phase\"");
}

static void test_workflow__state_not_a_table(void **state) {
  (void)state;
  const edit e[] = {{8, "done = \"evaluation\""}, {0, NULL}};
  expect_mistake(e, 8, "state \"done\" must be a table");
}

static void test_workflow__duplicate_event_from(void **state) {
  (void)state;
  const edit e[] = {{18, "event = \"submit\""},
                    {19, "from = [\"review\", \"draft\"]"},
                    {0, NULL}};
  expect_mistake(e, 19,
                 "event \"submit\" from state \"draft\" is already defined "
                 "by transition 1");
}

static void test_workflow__same_event_other_state_is_fine(void **state) {
  (void)state;
  const edit e[] = {{18, "event = \"submit\""}, {0, NULL}};
  write_def(e);
  jx_workflow *wf = NULL;
  int rc = jx_workflow_load(&wf, def_path, PLUGINS, NPLUGINS);
  if (rc != 0)
    fail_msg("%s", jx_err_last()->msg);
  assert_string_equal(jx_workflow_find(wf, "submit", "draft")->to, "review");
  assert_string_equal(jx_workflow_find(wf, "submit", "review")->to, "done");
  jx_workflow_free(wf);
}

static void test_workflow__guard_not_configured(void **state) {
  (void)state;
  const edit e[] = {{15, "guards = [\"r2_ex_ante\", \"r9_unknown\"]"},
                    {0, NULL}};
  expect_mistake(e, 15, "plugin \"r9_unknown\" is not configured");
}

static void test_workflow__reaction_not_configured(void **state) {
  (void)state;
  const edit e[] = {{22, "reactions = [\"nope\"]"}, {0, NULL}};
  expect_mistake(e, 22, "plugin \"nope\" is not configured");
}

static void test_workflow__missing_workflow_table(void **state) {
  (void)state;
  /* Nothing to point at: the message names the file only. */
  const edit e[] = {{1, "[workflo]"}, {0, NULL}};
  expect_mistake(e, 0, "missing [workflow] table");
}

static void test_workflow__missing_name(void **state) {
  (void)state;
  const edit e[] = {{2, ""}, {0, NULL}};
  expect_mistake(e, 1, "missing key \"name\"");
}

static void test_workflow__no_transitions(void **state) {
  (void)state;
  /* Lines 10 to the end blanked; a spare slot before the terminator. */
  edit e[NBASE - 9 + 2];
  size_t n = 0;
  for (size_t line = 10; line <= NBASE; line++)
    e[n++] = (edit){line, ""};
  e[n] = e[n + 1] = (edit){0, NULL};
  expect_mistake(e, 0, "at least one [[transition]] is needed");
  /* An empty array is there to point at. */
  e[n] = (edit){1, "transition = []\n[workflow]"};
  expect_mistake(e, 1, "at least one [[transition]] is needed");
}

static void test_workflow__from_not_an_array(void **state) {
  (void)state;
  const edit str[] = {{12, "from = \"draft\""}, {0, NULL}};
  expect_mistake(str, 12, "\"from\" must be a non-empty array of strings");
  const edit empty[] = {{12, "from = []"}, {0, NULL}};
  expect_mistake(empty, 12, "\"from\" must be a non-empty array of strings");
  const edit mixed[] = {{12, "from = [\"draft\", 2]"}, {0, NULL}};
  expect_mistake(mixed, 12, "\"from\" must be");
}

/* Without `to` the event leaves the project in its state (a checkpoint,
 * a review note). */
static void test_workflow__missing_to_stays(void **state) {
  (void)state;
  const edit e[] = {{13, ""}, {0, NULL}};
  write_def(e);
  jx_workflow *wf = NULL;
  assert_int_equal(jx_workflow_load(&wf, def_path, PLUGINS, NPLUGINS), 0);
  const jx_transition *t = &wf->transitions[0];
  assert_string_equal(t->to, "");
  assert_string_equal(jx_transition_target(t, t->from.items[0]),
                      t->from.items[0]);
  jx_workflow_free(wf);
}

/* A default fills a new project's missing field and must itself be a
 * value of its field. */
static void test_workflow__field_default(void **state) {
  (void)state;
  const edit e[] = {{9, "[fields]\nlevel = { type = \"string\", one_of = "
                        "[\"project\", \"department\"], default = "
                        "\"project\" }\n"},
                    {0, NULL}};
  write_def(e);
  jx_workflow *wf = NULL;
  assert_int_equal(jx_workflow_load(&wf, def_path, PLUGINS, NPLUGINS), 0);
  jx_value fields = jx_map();
  jx_workflow_fill_defaults(wf, &fields);
  assert_string_equal(jx_map_str(&fields, "level"), "project");
  jx_map_set(&fields, "level", jx_str("department"));
  jx_workflow_fill_defaults(wf, &fields);
  assert_string_equal(jx_map_str(&fields, "level"), "department");
  jx_value_free(&fields);
  jx_workflow_free(wf);
  const edit bad[] = {{9, "[fields]\nlevel = { type = \"string\", one_of = "
                          "[\"project\"], default = \"dept\" }\n"},
                      {0, NULL}};
  expect_mistake(bad, 10, "default: field \"level\": \"dept\" is not one of");
}

static void test_workflow__guards_not_an_array(void **state) {
  (void)state;
  const edit e[] = {{15, "guards = \"r2_ex_ante\""}, {0, NULL}};
  expect_mistake(e, 15, "\"guards\" must be an array of strings");
}

static void test_workflow__to_not_a_string(void **state) {
  (void)state;
  const edit e[] = {{20, "to = 3"}, {0, NULL}};
  expect_mistake(e, 20, "\"to\" must be a non-empty string");
  const edit empty[] = {{20, "to = \"\""}, {0, NULL}};
  expect_mistake(empty, 20, "\"to\" must be a non-empty string");
}

static void test_workflow__roles_empty(void **state) {
  (void)state;
  const edit e[] = {{21, "roles = []"}, {0, NULL}};
  expect_mistake(e, 21, "\"roles\" must be a non-empty array of strings");
}

static void test_workflow__transition_not_a_table(void **state) {
  (void)state;
  /* Lines 10 to the end blanked, a non-table transition on top. */
  edit e[NBASE - 9 + 2];
  size_t n = 0;
  for (size_t line = 10; line <= NBASE; line++)
    e[n++] = (edit){line, ""};
  e[n++] = (edit){1, "transition = [\"submit\"]\n[workflow]"};
  e[n] = (edit){0, NULL};
  expect_mistake(e, 1, "[[transition]] must be a table");
}

static void test_workflow__version(void **state) {
  (void)state;
  const edit e[] = {{2, "name = \"t\"\nversion = 3"}, {0, NULL}};
  write_def(e);
  jx_workflow *wf = NULL;
  int rc = jx_workflow_load(&wf, def_path, PLUGINS, NPLUGINS);
  if (rc != 0)
    fail_msg("%s", jx_err_last()->msg);
  assert_int_equal(wf->version, 3);
  jx_workflow_free(wf);
}

static void test_workflow__syntax_error(void **state) {
  (void)state;
  const edit e[] = {{11, "event = "}, {0, NULL}};
  expect_mistake(e, 11, "");
}

static void test_workflow__missing_file(void **state) {
  (void)state;
  char path[sizeof tmpdir + 32];
  snprintf(path, sizeof path, "%s/absent.toml", tmpdir);
  jx_workflow *wf = NULL;
  assert_int_equal(jx_workflow_load(&wf, path, PLUGINS, NPLUGINS), JX_EINVAL);
  assert_non_null(strstr(jx_err_last()->msg, path));
  assert_non_null(strstr(jx_err_last()->msg, "cannot read"));
  assert_null(wf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_workflow__budget_loads),
      cmocka_unit_test(test_workflow__budget_find),
      cmocka_unit_test(test_workflow__budget_event_and_state),
      cmocka_unit_test(test_workflow__budget_needs_its_plugins),
      cmocka_unit_test(test_workflow__base_is_valid),
      cmocka_unit_test(test_workflow__unknown_state_in_to),
      cmocka_unit_test(test_workflow__unknown_state_in_from),
      cmocka_unit_test(test_workflow__unknown_initial_state),
      cmocka_unit_test(test_workflow__unknown_phase),
      cmocka_unit_test(test_workflow__missing_phase),
      cmocka_unit_test(test_workflow__state_not_a_table),
      cmocka_unit_test(test_workflow__duplicate_event_from),
      cmocka_unit_test(test_workflow__same_event_other_state_is_fine),
      cmocka_unit_test(test_workflow__guard_not_configured),
      cmocka_unit_test(test_workflow__reaction_not_configured),
      cmocka_unit_test(test_workflow__missing_workflow_table),
      cmocka_unit_test(test_workflow__missing_name),
      cmocka_unit_test(test_workflow__no_transitions),
      cmocka_unit_test(test_workflow__from_not_an_array),
      cmocka_unit_test(test_workflow__missing_to_stays),
      cmocka_unit_test(test_workflow__field_default),
      cmocka_unit_test(test_workflow__guards_not_an_array),
      cmocka_unit_test(test_workflow__to_not_a_string),
      cmocka_unit_test(test_workflow__roles_empty),
      cmocka_unit_test(test_workflow__transition_not_a_table),
      cmocka_unit_test(test_workflow__version),
      cmocka_unit_test(test_workflow__syntax_error),
      cmocka_unit_test(test_workflow__missing_file),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
