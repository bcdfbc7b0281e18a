/*
 * jx_workflow: a workflow definition (workflows/<name>.toml) loaded and
 * checked. The engine knows no state or event names; they all come from here.
 *
 * Format (documented at the top of workflows/budget.toml):
 *   [workflow]      name, version, initial state
 *   [states.NAME]   phase, text
 *   [fields.NAME]   type, required, one_of, min, default: the project's data
 *   [[transition]]  event, from = [...], to, roles = [...],
 *                   sets = [...], guards = [...], reactions = [...],
 *                   approval (signers, jx_approval.h), returns, undo
 *
 * Memory: a jx_workflow and all its strings are owned by the caller of
 * jx_workflow_load and freed by jx_workflow_free; lookups return borrowed
 * pointers.  Read-only after loading: any thread may read it.
 */
#ifndef JX_WORKFLOW_H
#define JX_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jx_value.h"

typedef struct jx_strlist {
  char **items;
  size_t len;
} jx_strlist;

typedef struct jx_state_def {
  char *name;
  char *phase; /* submission, review, monitoring, disposal or evaluation */
  char *text;  /* one line for people; may be empty */
} jx_state_def;

/* The longest state name: states are copied into fixed buffers. */
#define JX_STATE_NAME_MAX 63

/* One field of a project: what a submission or an event may put there. */
typedef struct jx_field_def {
  char *name;
  jx_type type;      /* JX_STR, JX_INT, JX_FLOAT (an integer is accepted
                        too), JX_BOOL, JX_ARRAY or JX_MAP */
  bool required;     /* a submission must have it */
  jx_strlist one_of; /* for strings: the allowed values (empty: any) */
  bool has_min;
  int64_t min;  /* for integers */
  jx_value def; /* what a new project without the field gets, or nil */
} jx_field_def;

typedef struct jx_transition {
  char *event;
  jx_strlist from;
  char *to; /* "" when the event leaves the state as it is */
  jx_strlist roles;
  jx_strlist sets;      /* fields the event may set (`jx do --set`) */
  jx_strlist guards;    /* plugin names, run in order */
  jx_strlist reactions; /* plugin names, run in order after the guards */
  jx_value approval;    /* several signers (jx_approval.h), or nil */
  jx_strlist returns;   /* a return (退回): the states it may go back to,
                           chosen by the event's return_to; "previous" is
                           the state the project came from.  Empty: `to` */
  char *undo;           /* "withdraw" (撤回, by the submitter) or "take_back"
                           (取回, by the last step's signers): allowed only
                           while nobody has signed in the current state;
                           "" for any other transition */
  bool task;            /* a work item: listed in the inboxes of who may
                           send it (an approval is one too) */
  char *op;             /* a run-time change to the approval of the state
                           (jx_approval_change): "delegate", "transfer",
                           "add_signer", "remove_signer", or "escalate"
                           (sent by jx tick past a step's deadline); ""
                           if none */
} jx_transition;

typedef struct jx_workflow {
  char *path;
  char *name;
  int64_t version;
  char *initial;
  jx_strlist admin_roles; /* roles that may migrate projects (jx migrate) */
  jx_state_def *states;
  size_t nstates;
  jx_field_def *fields;
  size_t nfields;
  jx_transition *transitions;
  size_t ntransitions;
} jx_workflow;

/* Loads and checks the definition at path: states referenced exist, each
 * (event, from) pair is unique, every guard or reaction names one of the
 * `nplugins` configured plugins.  JX_EINVAL "path:line:col: ..." on any
 * mistake. */
int jx_workflow_load(jx_workflow **out, const char *path,
                     const char *const *plugins, size_t nplugins);
/* The same from `len` bytes of text read from `path` (named in messages),
 * so that a caller can keep the very bytes it loaded. */
int jx_workflow_load_text(jx_workflow **out, const char *path, const char *text,
                          size_t len, const char *const *plugins,
                          size_t nplugins);
void jx_workflow_free(jx_workflow *wf);

/* The state transition t leads to from `from`. */
const char *jx_transition_target(const jx_transition *t, const char *from);

/* The transition taken by `event` in `state`, or NULL. */
const jx_transition *jx_workflow_find(const jx_workflow *wf, const char *event,
                                      const char *state);

/* Any transition for `event` (to tell "unknown event" from "not now"). */
const jx_transition *jx_workflow_event(const jx_workflow *wf,
                                       const char *event);

const jx_state_def *jx_workflow_state(const jx_workflow *wf, const char *name);

/* The definition of field `name`, or NULL. */
const jx_field_def *jx_workflow_field(const jx_workflow *wf, const char *name);

/* Checks one field against [fields]: JX_EINVAL "field \"kind\": ..." if
 * the field is unknown, of another type, not one of its values or below
 * its minimum. */
int jx_workflow_check_field(const jx_workflow *wf, const char *key,
                            const jx_value *v);

/* Checks a submission: every field as above, and every required one there.
 * On failure *bad_key (if not NULL) is the key at fault, borrowed from
 * `fields`, or NULL for a missing one. */
int jx_workflow_check_project(const jx_workflow *wf, const jx_value *fields,
                              const char **bad_key);

/* Gives a new project's fields the defaults of the fields it lacks. */
void jx_workflow_fill_defaults(const jx_workflow *wf, jx_value *fields);

/* Whether `s` is in the list. */
bool jx_strlist_has(const jx_strlist *l, const char *s);

/* "a, b, c" into buf (truncated to size) */
const char *jx_strlist_join(const jx_strlist *l, char *buf, size_t size);

#endif
