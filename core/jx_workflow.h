/*
 * jx_workflow: a workflow definition (workflows/<name>.toml) loaded and checked.
 * The engine knows no state or event names; they all come from here.
 *
 * Format (documented at the top of workflows/budget.toml):
 *   [workflow]      name, version, initial state
 *   [states.NAME]   phase, text
 *   [[transition]]  event, from = [...], to, roles = [...],
 *                   guards = [...], reactions = [...]
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

typedef struct jx_strlist {
  char **items;
  size_t len;
} jx_strlist;

typedef struct jx_state_def {
  char *name;
  char *phase; /* submission, review, monitoring, disposal or evaluation */
  char *text;  /* one line for people; may be empty */
} jx_state_def;

typedef struct jx_transition {
  char *event;
  jx_strlist from;
  char *to;
  jx_strlist roles;
  jx_strlist guards;    /* plugin names, run in order */
  jx_strlist reactions; /* plugin names, run in order after the guards */
} jx_transition;

typedef struct jx_workflow {
  char *path;
  char *name;
  int64_t version;
  char *initial;
  jx_state_def *states;
  size_t nstates;
  jx_transition *transitions;
  size_t ntransitions;
} jx_workflow;

/* Loads and checks the definition at path: states referenced exist, each
 * (event, from) pair is unique, every guard or reaction names one of the
 * `nplugins` configured plugins.  JX_EINVAL "path:line:col: ..." on any
 * mistake. */
int jx_workflow_load(jx_workflow **out, const char *path,
                     const char *const *plugins, size_t nplugins);
void jx_workflow_free(jx_workflow *wf);

/* The transition taken by `event` in `state`, or NULL. */
const jx_transition *jx_workflow_find(const jx_workflow *wf,
                                      const char *event, const char *state);

/* Any transition for `event` (to tell "unknown event" from "not now"). */
const jx_transition *jx_workflow_event(const jx_workflow *wf,
                                       const char *event);

const jx_state_def *jx_workflow_state(const jx_workflow *wf,
                                      const char *name);

/* Whether `s` is in the list. */
bool jx_strlist_has(const jx_strlist *l, const char *s);

/* "a, b, c" into buf (truncated to size) */
const char *jx_strlist_join(const jx_strlist *l, char *buf, size_t size);

#endif
