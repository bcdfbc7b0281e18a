/*
 * jx_approval: a transition approved by several signers (会签, 或签, N of
 * M, 依次): who must sign, who has, and whether the transition is done.
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
 *
 * Until it is done, each signature is a commit that leaves the project in
 * its state; the signatures are kept in the engine field `approval` =
 * { event, signatures = [ { slot, actor, role, at }, ... ] }, which the
 * engine drops when the project changes state.
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
  const char *role;      /* the signer's role, or NULL */
  const char *actor;     /* the signer's actor, or NULL */
  const char *signed_by; /* who signed it, NULL while pending */
} jx_slot;

/* Checks an approval table; `roles` are the roles the transition allows
 * (every signer role must be one), `has_field` tells the workflow's
 * fields.  On failure returns JX_EINVAL and sets *key to the key at fault
 * within the table ("mode", "signer", ...) for the caller's position. */
int jx_approval_check(const jx_value *def, bool (*has_role)(const char *,
                                                            const void *),
                      bool (*has_field)(const char *, const void *),
                      const void *ctx, const char **key);

/* The signers def needs for `state` (those whose `when` holds), each with
 * its signature if state.approval holds signatures for `event`.  Returns
 * how many (at most JX_APPROVAL_MAX_SLOTS). */
size_t jx_approval_slots(const jx_value *def, const char *event,
                         const jx_value *state, jx_slot *slots);

/* The slot `actor` (of `role`) may sign now: one not signed, for its role
 * or name, and in mode chain the first pending one.  Returns the slot, or
 * -1 with the reason and the remedy written into the buffers. */
int jx_approval_slot_for(const jx_value *def, const jx_slot *slots, size_t n,
                         const char *actor, const char *role, char *reason,
                         size_t rsize, char *remedy, size_t msize);

/* Whether the signed slots complete the approval under def's mode. */
bool jx_approval_done(const jx_value *def, const jx_slot *slots, size_t n);

/* Records actor's signature of `slot` (an index into the slots of
 * jx_approval_slots for the same state) in state.approval, started afresh
 * when it was for another event. */
void jx_approval_sign(const jx_value *def, jx_value *state, const char *event,
                      size_t slot, const char *actor, const char *role,
                      const char *at);

/* "2 of 3 signed" style summary of slots into buf. */
const char *jx_approval_progress(const jx_value *def, const jx_slot *slots,
                                 size_t n, char *buf, size_t size);

#endif
