/*
 * jx_engine: runs one state machine per budget project on a libuv loop.
 *
 * A request (project, event, actor, time, fields) is decided at once on the
 * loop thread: the workflow definition picks the transition, the actor's
 * role is checked, then every guard plugin runs in the sandbox; reactions
 * add derived facts.  An accepted transition is queued for the writer, which
 * commits queued transitions in batches on the libuv thread pool (group
 * commit, jx_store_write); the request's callback runs once its batch is
 * durable.  Decisions see the latest decided state, so several transitions
 * of one project may be in one batch.
 *
 * Threads: everything here runs on the loop thread, except the batch
 * write, which runs on a pool thread and touches only the batch.
 * Memory: the engine borrows the loop, the config and the store, which must
 * outlive it; it owns the workflow, the sandbox and its cache of states.
 */
#ifndef JX_ENGINE_H
#define JX_ENGINE_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "jx_config.h"
#include "jx_err.h"
#include "jx_sandbox.h"
#include "jx_store.h"
#include "jx_versions.h"
#include "jx_workflow.h"

typedef struct jx_engine jx_engine;

typedef struct jx_request {
  const char *project; /* project id */
  const char *event;   /* event name from the workflow definition */
  const char *actor;   /* an actor of workflow.toml [actors] */
  int64_t time;        /* when the event happened, seconds since the epoch */
  const jx_value *set; /* fields to set (a map), or NULL; borrowed */
  bool create;         /* the project is new: `set` holds all its fields */
  const char *timer;   /* the calendar timer that sends it, or NULL */
} jx_request;

/* What the callback learns; everything is borrowed for the callback. */
typedef struct jx_outcome {
  int code; /* 0, or JX_ESTORE when the batch failed */
  const char *project;
  const char *event;     /* its name */
  const char *timer;     /* the timer that sent it, or NULL */
  const char *time;      /* ISO 8601 UTC */
  const char *from, *to; /* states */
  const jx_value *state; /* the state committed */
  const git_oid *commit; /* its commit (when code is 0) */
} jx_outcome;

typedef void (*jx_engine_cb)(const jx_outcome *o, void *payload);

/* Creates an engine: loads the workflow definition and the plugins named by
 * cfg, and records the rule set (workflow.toml, definition, plugin sources)
 * in the store once.  JX_EINVAL / JX_EPLUGIN / JX_ESTORE on failure. */
int jx_engine_new(jx_engine **out, uv_loop_t *loop, const jx_config *cfg,
                  jx_store *store);

/* Closes the engine's handles; call before running the loop one last time
 * and freeing.  Transitions still queued are failed with JX_ESTORE. */
void jx_engine_close(jx_engine *e);
void jx_engine_free(jx_engine *e);

const jx_workflow *jx_engine_workflow(const jx_engine *e);

/* The definitions the engine's projects run under (its current one and the
 * older ones it has loaded), for readers on the engine's loop that must see
 * what the engine decides with, not the file on disk.  Owned by e. */
jx_versions *jx_engine_versions(jx_engine *e);

/* Whether `actor` may do `what` (words for the message, e.g. "migrating"),
 * which only [workflow] admin_roles may: 0, JX_EINVAL (no such actor) or
 * JX_EREFUSED. */
int jx_engine_admin(const jx_engine *e, const char *actor, const char *what);

/* Decides req.  Returns 0 when the transition was accepted and queued: cb
 * runs later, once it is durable (or its batch failed).  Otherwise cb is
 * never called and the return value says why: JX_EINVAL (bad id, actor,
 * field or event), JX_ENOTFOUND (no such project), JX_EREFUSED (a rule
 * refused: *refusal, if not NULL, gets the rule, reason and remedy, to be
 * freed with jx_verdict_free), JX_EPLUGIN (a plugin failed), JX_ESTORE. */
int jx_engine_apply(jx_engine *e, const jx_request *req, jx_verdict *refusal,
                    jx_engine_cb cb, void *payload);

/* Decides a recorded event again (jx audit replay): `event` as stored in
 * a commit (event.msgpack), on `parent`, the state before it (NULL for
 * the submission that created the project), with this engine's rules.
 * *state gets the state it decides (the caller's), to compare with the
 * recorded one.  Nothing is written.  Errors and refusals as for
 * jx_engine_apply. */
int jx_engine_replay(jx_engine *e, const jx_value *parent,
                     const jx_value *event, jx_value *state,
                     jx_verdict *refusal);

/* The latest decided state of project id, loading it from the store if
 * needed; borrowed until the next apply or the next turn of the loop (a
 * failed batch drops the cache).  JX_ENOTFOUND if none. */
int jx_engine_state(jx_engine *e, const char *id, const jx_value **state);

/* The actor timers send their events as (workflow.toml [actors]). */
#define JX_CALENDAR_ACTOR "calendar"

/* A timer event the tick could not make (refused, or a plugin failed). */
typedef struct jx_tick_report {
  const char *timer, *date, *project, *from;
  int code;                  /* JX_EREFUSED, JX_EPLUGIN, JX_EINVAL, ... */
  const jx_verdict *refusal; /* when code is JX_EREFUSED */
  const char *error;         /* the message */
} jx_tick_report;

typedef void (*jx_tick_cb)(const jx_tick_report *r, void *payload);

/* Advances the calendar to `to` (seconds): every [[calendar.timer]] due by
 * then, in date order, sends its event as actor "calendar" to every project
 * in one of its states that it has not fired for yet (the state's `timers`
 * list), dated at the timer's date (after the day's own events).  A project
 * whose last event is on a later day has moved on and is left alone: the
 * calendar is driven forward in step with the events.  Idempotent: ticking to the same date
 * twice fires nothing new.  Accepted
 * events complete through `done` once durable, like jx_engine_apply;
 * refusals and plugin failures go to `decided` at once and the tick goes on.
 * *queued (if not NULL) gets the number of events accepted: as many
 * `done` calls will come, also when the tick stopped early.
 * Returns 0, or JX_ESTORE/JX_EINVAL when it had to stop. */
int jx_engine_tick(jx_engine *e, int64_t to, jx_tick_cb decided,
                   jx_engine_cb done, void *payload, size_t *queued);

/* What a migration found: the project's state and definition version
 * before and after (the version it runs under, then the engine's). */
typedef struct jx_migration {
  char from[64], to[64];
  int64_t from_version, to_version;
  bool current; /* it runs under the engine's version already: nothing done */
} jx_migration;

/* Moves project req->project, which runs under the definition version it
 * started with (read from its rule set), to the workflow definition the
 * engine runs (jx migrate): its state renamed by `map` (old state -> new state; a
 * state not in the map keeps its name, which the definition must have),
 * its open approval dropped (steps start afresh), as actor req->actor
 * (whose role must be one of [workflow] admin_roles) at req->time, under
 * the event name req->event.  One commit, like a transition; cb runs when
 * it is durable.  With `dry`, only *out is filled and nothing is queued.
 * JX_EINVAL (unmapped state, bad id, actor or date), JX_EREFUSED (role),
 * JX_ENOTFOUND, JX_ESTORE. */
int jx_engine_migrate(jx_engine *e, const jx_request *req, const jx_value *map,
                      bool dry, jx_migration *out, jx_engine_cb cb,
                      void *payload);

/* Changes the registry of actors kept in the store (JX_REGISTRY_ID): adds
 * or replaces actor `name` with `entry` ({ role, scope keys... }, checked
 * as workflow.toml [actors] is), or removes it when entry is NULL; as
 * req->actor, whose role must be one of [workflow] admin_roles, at
 * req->time, under the event name req->event.  The first change starts
 * from workflow.toml [actors].  One commit (trailer "Registry: add ...");
 * cb runs when it is durable.  The caller puts the new registry into its
 * jx_config (jx_config_set_actors) for what it decides next. */
int jx_engine_register(jx_engine *e, const jx_request *req, const char *name,
                       const jx_value *entry, jx_engine_cb cb,
                       void *payload);

#endif
