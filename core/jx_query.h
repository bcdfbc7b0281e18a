/*
 * jx_query: the read commands (show, list, log, inbox, report) as
 * documents: the values `jx ... --json` prints, which the daemon sends as
 * results and the CLI renders as text.  One piece of code answers both.
 *
 * Threads: as jx_store's reading functions (the loop thread).
 * Memory: *out is the caller's (jx_value_free); everything else borrowed.
 */
#ifndef JX_QUERY_H
#define JX_QUERY_H

#include <stdint.h>

#include "jx_config.h"
#include "jx_store.h"
#include "jx_versions.h"
#include "jx_value.h"
#include "jx_workflow.h"

/* The deployment's workflow definition (the caller's), for checking the
 * names a user gives; the engine loads its own. */
int jx_query_workflow(const jx_config *cfg, jx_workflow **wf);

/* {head, state} of project id.  JX_ENOTFOUND if there is none. */
int jx_query_show(jx_store *s, const char *id, jx_value *out);

/* Every project's state with its "id", in id order. */
int jx_query_projects(jx_store *s, jx_value *out);

/* The states of projects in `state` (if not NULL; a name the deployment's
 * definition lacks is JX_EINVAL rather than an empty answer) and of
 * `department` (if not NULL). */
int jx_query_list(jx_store *s, const jx_config *cfg, const char *state,
                  const char *department, jx_value *out);

/* Project id's commits, newest first: {commit, rules, time, message,
 * event, state}. */
int jx_query_log(jx_store *s, const char *id, jx_value *out);

/* What waits for actor (jx_inbox_collect's rows), judged by the definitions
 * in `versions` (a running engine's), or, if NULL, by the workflow file
 * loaded for this call.  JX_EINVAL if no such actor. */
int jx_query_inbox(jx_store *s, const jx_config *cfg, jx_versions *versions,
                   const char *actor, jx_value *out);

/* Report `name` (a plugin's report function) over every project as of
 * `as_of` (seconds): {title, columns, rows, notes}. */
int jx_query_report(jx_store *s, const jx_config *cfg, const char *name,
                    int64_t as_of, jx_value *out);

#endif
