/*
 * jx_replay: decides every recorded event again under the rule set stored
 * in its commit (rules/: workflow.toml, the definition, the plugins), not
 * today's, on the state before it, and compares with the recorded state
 * (jx audit replay).  Each rule set is set up once, in a private temporary
 * directory with a throw-away store; the real store is only read.
 *
 * Memory: a jx_replay owns its rule sets and directories (removed by
 * jx_replay_free); it borrows the store and the actors.
 */
#ifndef JX_REPLAY_H
#define JX_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "jx_store.h"
#include "jx_value.h"

typedef struct jx_replay jx_replay;

typedef struct jx_replay_stats {
  size_t same, differ, skipped;
} jx_replay_stats;

/* One decision replayed: the project, the commit (hex), the event, and
 * NULL when the replayed state is the recorded one, else what differs.
 * Borrowed. */
typedef void (*jx_replay_cb)(const char *id, const char *commit,
                             const char *event, const char *differs,
                             void *payload);

/* actors: the registry of actors to decide with (a map as
 * jx_config_set_actors takes), or NULL for each rule set's [actors]. */
int jx_replay_new(jx_replay **out, jx_store *store, const jx_value *actors);
void jx_replay_free(jx_replay *r);

/* What-if (jx simulate): every event is decided under the deployment at
 * config_path (a workflow.toml with its definition and plugins) instead
 * of its own commit's rule set. */
int jx_replay_use_rules(jx_replay *r, const char *config_path);

/* Replays project id's decisions, oldest first, from `since` (an ISO date,
 * or NULL for all; earlier ones only give the state).  Migrations and
 * registry changes are not decisions of the rules: skipped.  Returns 0, or
 * an error that stopped it (a rule set that cannot be set up, a store
 * error). */
int jx_replay_project(jx_replay *r, const char *id, const char *since,
                      jx_replay_cb cb, void *payload, jx_replay_stats *st);

#endif
