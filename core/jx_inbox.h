/*
 * jx_inbox: what waits for an actor.  A project waits for actor A when,
 * in its current state, a task of the workflow (a transition marked task,
 * or one with an approval) may be sent by A now: A's role is one of the
 * transition's, A's scope matches the project, and for an approval A may
 * sign a slot (not the submitter, not signed yet, its turn in a chain).
 * A read-only recipient of an approval (抄送) sees it too, marked copy.
 *
 * Memory: the result is the caller's; everything else is borrowed.
 */
#ifndef JX_INBOX_H
#define JX_INBOX_H

#include "jx_config.h"
#include "jx_store.h"
#include "jx_value.h"
#include "jx_versions.h"
#include "jx_workflow.h"

/* Appends to *out (a JX_ARRAY) one map per task waiting for `actor` in
 * `projects` (an array of project states, each with its id; each judged
 * under the definition it runs under, from v and the store s): project,
 * title, state, event, since (when the project entered the state), and
 * for an approval its progress ("1 of 2 signed (all)") and its deadline
 * if it has one, copy = true for a read-only copy; oldest first, then by
 * project id.  Returns 0, or an error of jx_versions_get. */
int jx_inbox_collect(jx_versions *v, jx_store *s, const jx_config *cfg,
                     const jx_actor_conf *actor, const jx_value *projects,
                     jx_value *out);

#endif
