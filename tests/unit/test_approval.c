/* Approval steps: which slots a project needs, who may act on which, when
 * the step is done, and the run-time changes replayed in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "jx_approval.h"
#include "jx_err.h"
#include "jx_toml.h"

#define EV "finance_approve"

/* An approval table from TOML text (the definition's [transition.approval]). */
static jx_value def_of(const char *text) {
  jx_toml_doc *doc = NULL;
  if (jx_toml_load_string(&doc, text, strlen(text), "t.toml") != 0)
    fail_msg("%s", jx_err_last()->msg);
  jx_value v = jx_value_copy(jx_toml_root(doc));
  jx_toml_free(doc);
  return v;
}

static const char *const COUNTERSIGN =
    "mode = \"all\"\n"
    "[[signer]]\nrole = \"business\"\n"
    "[[signer]]\nrole = \"performance\"\n"
    "when = { field = \"amount\", at_least = 10000000 }\n";

static jx_value project(int64_t amount) {
  jx_value s = jx_map();
  jx_map_set(&s, "amount", jx_int(amount));
  jx_map_set(&s, "submitted_by", jx_str("unit-1"));
  return s;
}

/* actor (of role) acts on the step: its slot must be found and is
 * recorded; returns the number of slots after. */
static size_t act(const jx_value *def, jx_value *state, const char *actor,
                  const char *role) {
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  char reason[256], remedy[256];
  jx_slot_act how;
  size_t n;
  int k = jx_approval_find(def, EV, state, actor, role, slots, &n, &how,
                           reason, sizeof reason, remedy, sizeof remedy);
  if (k < 0)
    fail_msg("%s may not act: %s; %s", actor, reason, remedy);
  jx_approval_sign(state, EV, &slots[k], how, actor, role, "2021-05-03");
  return jx_approval_slots(def, EV, state, slots);
}

static const char *refusal(const jx_value *def, const jx_value *state,
                           const char *actor, const char *role) {
  static char reason[256];
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  char remedy[256];
  jx_slot_act how;
  size_t n;
  assert_int_equal(jx_approval_find(def, EV, state, actor, role, slots, &n,
                                    &how, reason, sizeof reason, remedy,
                                    sizeof remedy),
                   -1);
  return reason;
}

static bool done(const jx_value *def, const jx_value *state) {
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  size_t n = jx_approval_slots(def, EV, state, slots);
  return jx_approval_done(def, slots, n);
}

static void change(const jx_value *def, jx_value *state, const char *op,
                   const char *by, const char *role, const char *assignee,
                   const char *assignee_role, const char *position,
                   int want) {
  char reason[256], remedy[256];
  int rc = jx_approval_change(def, state, EV, op, by, role, assignee,
                              assignee_role, position, "2021-05-03", reason,
                              sizeof reason, remedy, sizeof remedy);
  if (rc != want)
    fail_msg("%s by %s: %d (%s)", op, by, rc, rc ? reason : "accepted");
}

static void test_approval__conditional_countersign(void **state) {
  (void)state;
  jx_value def = def_of(COUNTERSIGN);
  jx_value small = project(1000), big = project(10000000);
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  assert_int_equal(jx_approval_slots(&def, EV, &small, slots), 1);
  assert_int_equal(jx_approval_slots(&def, EV, &big, slots), 2);
  act(&def, &small, "b-1", "business");
  assert_true(done(&def, &small));
  act(&def, &big, "b-1", "business");
  assert_false(done(&def, &big));
  assert_non_null(strstr(refusal(&def, &big, "b-2", "business"),
                         "not among the signers"));
  assert_non_null(strstr(refusal(&def, &big, "unit-1", "performance"),
                         "cannot approve its own request"));
  act(&def, &big, "p-1", "performance");
  assert_true(done(&def, &big));
  jx_value_free(&small);
  jx_value_free(&big);
  jx_value_free(&def);
}

static void test_approval__quorum_and_chain(void **state) {
  (void)state;
  jx_value q = def_of("mode = \"quorum\"\nquorum = 2\n"
                      "[[signer]]\nactor = \"a\"\n[[signer]]\nactor = \"b\"\n"
                      "[[signer]]\nactor = \"c\"\n"
                      "when = { field = \"amount\", at_least = 5 }\n");
  jx_value s = project(1);
  act(&q, &s, "a", "x");
  assert_false(done(&q, &s)); /* 1 of 2 applying */
  act(&q, &s, "b", "x");
  assert_true(done(&q, &s));
  jx_value_free(&s);
  jx_value c = def_of("mode = \"chain\"\n[[signer]]\nactor = \"a\"\n"
                      "[[signer]]\nactor = \"b\"\n");
  s = project(1);
  assert_non_null(strstr(refusal(&c, &s, "b", "x"), "in order"));
  act(&c, &s, "a", "x");
  act(&c, &s, "b", "x");
  assert_true(done(&c, &s));
  jx_value_free(&s);
  jx_value_free(&c);
  jx_value_free(&q);
}

static void test_approval__add_signer_anchors(void **state) {
  (void)state;
  jx_value def = def_of(COUNTERSIGN);
  jx_value s = project(1000); /* one slot: business */
  change(&def, &s, "add_signer", "b-1", "business", "p-1", "performance",
         "before", 0);
  /* Added by an added signer: anchored where its adder is. */
  change(&def, &s, "add_signer", "p-1", "performance", "p-2", "performance",
         "after", 0);
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  assert_int_equal(jx_approval_slots(&def, EV, &s, slots), 3);
  assert_non_null(strstr(refusal(&def, &s, "b-1", "business"),
                         "signs after actor p-1"));
  act(&def, &s, "p-1", "performance");
  act(&def, &s, "b-1", "business");
  assert_false(done(&def, &s)); /* p-2, added after b-1, still to sign */
  act(&def, &s, "p-2", "performance");
  assert_true(done(&def, &s));
  jx_value_free(&s);
  jx_value_free(&def);
}

static void test_approval__delegate_transfer_remove(void **state) {
  (void)state;
  jx_value def = def_of(COUNTERSIGN);
  jx_value s = project(10000000);
  change(&def, &s, "delegate", "b-1", "business", "b-2", "business", NULL, 0);
  assert_non_null(strstr(refusal(&def, &s, "b-1", "business"),
                         "delegated (委派) to b-2"));
  act(&def, &s, "b-2", "business"); /* decides, signs nothing */
  assert_non_null(strstr(refusal(&def, &s, "b-2", "business"),
                         "not among the signers"));
  act(&def, &s, "b-1", "business");
  change(&def, &s, "transfer", "p-1", "performance", "p-2", "performance",
         NULL, 0);
  assert_non_null(strstr(refusal(&def, &s, "p-1", "performance"),
                         "not among the signers"));
  change(&def, &s, "add_signer", "p-2", "performance", "d", "director",
         "after", 0);
  /* Only who added a signer removes it; defined signers stay. */
  change(&def, &s, "remove_signer", "p-2", "performance", "b-1", "business",
         NULL, -1);
  change(&def, &s, "remove_signer", "p-2", "performance", "d", "director",
         NULL, 0);
  act(&def, &s, "p-2", "performance");
  assert_true(done(&def, &s));
  jx_value_free(&s);
  jx_value_free(&def);
}

static void test_approval__escalation_and_deadline(void **state) {
  (void)state;
  jx_value def = def_of("mode = \"all\"\ndeadline_days = 10\n"
                        "escalate_to = \"dir\"\n"
                        "[[signer]]\nrole = \"business\"\n"
                        "[[signer]]\nrole = \"performance\"\n");
  char d[11];
  assert_true(jx_approval_deadline(&def, "2021-05-03T00:00:00Z", d));
  assert_string_equal(d, "2021-05-17"); /* Monday + 10 working days */
  assert_true(jx_approval_deadline(&def, "2021-04-30", d));
  assert_string_equal(d, "2021-05-14"); /* from a Friday */
  jx_value s = project(1);
  act(&def, &s, "dir", "business"); /* the director signs one slot */
  assert_false(jx_approval_escalated(&s, EV));
  change(&def, &s, "escalate", "calendar", "calendar", NULL, NULL, NULL, 0);
  assert_true(jx_approval_escalated(&s, EV));
  act(&def, &s, "dir", "business"); /* the escalated slot is its too */
  assert_true(done(&def, &s));
  jx_value_free(&s);
  jx_value_free(&def);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_approval__conditional_countersign),
      cmocka_unit_test(test_approval__quorum_and_chain),
      cmocka_unit_test(test_approval__add_signer_anchors),
      cmocka_unit_test(test_approval__delegate_transfer_remove),
      cmocka_unit_test(test_approval__escalation_and_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
