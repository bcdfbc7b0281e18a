/*
 * jx_approval: a transition approved by several signers (会签, 或签, N of
 * M, 依次), and what signers do to it at run time: delegate (委派),
 * transfer (转办), add a signer (加签) and remove one (减签).  The exact
 * meaning of each is in docs/APPROVALS.md.
 *
 * A [[transition]] of the workflow definition may carry an `approval`
 * table (checked when the definition is loaded, see jx_approval_check):
 *   mode   = "any"    或签: the first signature completes it (default)
 *            "all"    会签: every signer signs
 *            "quorum" N of M: `quorum` signatures complete it
 *            "chain"  依次: every signer signs, in the order listed
 *   quorum = N        (mode quorum)
 *   [[...approval.signer]]  role = "..." (any actor of that role whose
 *            scope matches the project) or actor = "..." (that actor);
 *            optionally when = { field = "amount", at_least = 10000000 }
 *            (also at_most, equals, in = [...]): the signer is needed
 *            only for projects whose field matches (conditional steps).
 *   copy   = ["actor", ...]  抄送: read-only recipients (jx inbox shows
 *            them the step; they cannot act on it)
 *   deadline_days = N, escalate_to = "actor": N working days after the
 *            project entered the state, `jx tick` escalates the signers
 *            still pending to that actor (op "escalate").
 * Signers added at run time are needed on top of what the mode asks.
 *
 * The approval's progress is kept in the project's state, in the engine
 * field `approval` = { event, signatures = [ { slot, actor, role, at } ],
 * changes = [ { op, slot, actor, by, at, position } ] }: signatures and
 * run-time changes in the order made.  The engine drops it when the
 * project changes state.  A slot is named by an id: a signer's index in
 * the definition, or the number of defined signers plus the index of an
 * added signer among the additions.
 *
 * Memory: everything is borrowed; slots point into the definition and the
 * state, valid while those are unchanged.
 */
#ifndef JX_APPROVAL_H
#define JX_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "jx_value.h"

#define JX_APPROVAL_MAX_SLOTS 32

typedef struct jx_slot {
  int id;
  const char *role;        /* the signer's role, or NULL for a named actor */
  const char *actor;       /* the named actor, or NULL */
  const char *delegate;    /* delegated to (委派), or NULL */
  const char *delegator;   /* who delegated: the slot is theirs to sign */
  const char *resolved_by; /* the delegate who has decided, or NULL */
  const char *signed_by;   /* who signed it, NULL while pending */
  bool added;              /* added at run time (加签): */
  int anchor;              /*   the defined signer's slot it was added to */
  bool before;             /*   and signs before it (else after it) */
} jx_slot;

/* What an actor may do with a slot. */
typedef enum jx_slot_act {
  JX_SLOT_SIGN,   /* sign it */
  JX_SLOT_RESOLVE /* decide as the delegate; the owner then signs */
} jx_slot_act;

/* Checks an approval table; every signer role must satisfy has_role (one
 * of the transition's roles) and every `when` field has_field.  On failure
 * returns JX_EINVAL and sets *key to the key at fault within the table
 * ("mode", "signer", ...) for the caller's position. */
int jx_approval_check(const jx_value *def,
                      bool (*has_role)(const char *, const void *),
                      bool (*has_field)(const char *, const void *),
                      const void *ctx, const char **key);

/* The slots def needs for `state` (signers whose `when` holds, and those
 * added), in signing order, with what state.approval records for `event`.
 * Returns how many (at most JX_APPROVAL_MAX_SLOTS). */
size_t jx_approval_slots(const jx_value *def, const char *event,
                         const jx_value *state, jx_slot *slots);

/* The slot `actor` (of `role`) may act on now, and how (*act): a decision
 * delegated to it first, then a slot of its own (a role slot only if it
 * has signed none yet; a slot handed to it by name in any case).  A role
 * slot is only for actors of that role; the caller checks their scope.
 * Returns the index into slots, or -1 with the reason and the remedy
 * written into the buffers. */
int jx_approval_slot_for(const jx_value *def, const jx_slot *slots, size_t n,
                         const char *actor, const char *role,
                         jx_slot_act *act, char *reason, size_t rsize,
                         char *remedy, size_t msize);

/* The slots of def for state and the one `actor` may act on now (as
 * jx_approval_slot_for), refusing the project's submitter: everything but
 * the role and scope of a role slot, which the caller checks.  *n gets
 * the number of slots. */
int jx_approval_find(const jx_value *def, const char *event,
                     const jx_value *state, const char *actor,
                     const char *role, jx_slot *slots, size_t *n,
                     jx_slot_act *act, char *reason, size_t rsize,
                     char *remedy, size_t msize);

/* Whether the signatures complete the approval: def's mode over the
 * defined signers, and every added signer. */
bool jx_approval_done(const jx_value *def, const jx_slot *slots, size_t n);

/* Records in state.approval (started afresh when it was for another
 * event) that actor acted on slots[k]: signed it, or decided as the
 * delegate. */
void jx_approval_sign(jx_value *state, const char *event, const jx_slot *slot,
                      jx_slot_act act, const char *actor, const char *role,
                      const char *at);

/* A run-time change (op: "delegate", "transfer", "add_signer",
 * "remove_signer", "copy"; "escalate", by the calendar: def's escalate_to decides
 * for every pending signer, with one signature) asked by `by` (of
 * `by_role`), naming `assignee` (and
 * `position`, "before" or "after", for add_signer).  Checks that it makes
 * sense now (the asker holds a pending slot; the assignee, of
 * `assignee_role`, is no signer yet and could fill no open role slot; only
 * who added a signer removes it) and records it; otherwise returns -1 with
 * the reason and the remedy.  The caller checks who the assignee may be. */
int jx_approval_change(const jx_value *def, jx_value *state, const char *event,
                       const char *op, const char *by, const char *by_role,
                       const char *assignee, const char *assignee_role,
                       const char *position, const char *at, char *reason,
                       size_t rsize, char *remedy, size_t msize);

/* The step's deadline, "YYYY-MM-DD": `deadline_days` working days
 * (Monday to Friday) after the day of `since` (when the project entered
 * the state).  False when def has no deadline. */
bool jx_approval_deadline(const jx_value *def, const char *since,
                          char out[11]);

/* Whether actor has a read-only copy (抄送) of the approval: named in
 * def's `copy`, or copied at run time (op "copy"). */
bool jx_approval_copied(const jx_value *def, const char *event,
                        const jx_value *state, const char *actor);

/* Whether the approval of `event` in state has been escalated. */
bool jx_approval_escalated(const jx_value *state, const char *event);

/* "2 of 3 signed (all)" into buf. */
const char *jx_approval_progress(const jx_value *def, const jx_slot *slots,
                                 size_t n, char *buf, size_t size);

#endif
