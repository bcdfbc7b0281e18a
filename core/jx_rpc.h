/*
 * jx_rpc: the messages of the daemon's msgpack-RPC protocol
 * (docs/PROTOCOL.md) as jx_values, shared by the daemon (jx_server) and
 * the CLI (jx_client, and its own --json output, which prints the same
 * documents): error maps, outcome maps, the shape of a request, and
 * typed reading of a method's named parameters.
 *
 * Memory: returned values are the caller's; arguments are borrowed.
 */
#ifndef JX_RPC_H
#define JX_RPC_H

#include <stdbool.h>
#include <stdint.h>

#include "jx_engine.h"
#include "jx_sandbox.h"
#include "jx_value.h"

enum { JX_RPC_REQUEST = 0, JX_RPC_RESPONSE = 1, JX_RPC_NOTIFY = 2 };

/* The error map of rc: {code, kind, message, subject?, rule?, reason?,
 * remedy?}; code is the CLI's exit status (-rc). */
jx_value jx_rpc_error(int rc, const char *message, const jx_verdict *refusal,
                      const char *subject);

/* The outcome map of a durable transition: {project, event, from, to,
 * commit, state}. */
jx_value jx_rpc_outcome(const jx_outcome *o);

/* The rows of a tick: an event the calendar made, durable ({timer, time,
 * project, event, from, to, commit}) or not written ({timer, time,
 * project, event, error, code}), and one it could not make ({timer, date,
 * project, error, code, rule?, reason?, remedy?}); code as in an error
 * map. */
jx_value jx_rpc_tick_made(const jx_outcome *o);
jx_value jx_rpc_tick_report(const jx_tick_report *t);

/* What a migration that wrote nothing found: {project, from, to,
 * from_version, to_version} and current = true (it runs under the new
 * version already) or dry = true (a dry run). */
jx_value jx_rpc_migration(const char *project, const jx_migration *m);

/* Reads a decoded message as a request [0, msgid, method, params] whose
 * params are [] or [map].  *msgid is set (else 0) as soon as it can be
 * read, so that an error can be answered to it.  *params is the map, or
 * NULL for [].  JX_EINVAL says what is wrong with the message. */
int jx_rpc_request(const jx_value *msg, uint32_t *msgid, const char **method,
                   const jx_value **params);

/* The named parameter `key` of params (NULL params has none), checked for
 * its type; absent is JX_EINVAL when required, else *out is NULL.  Every
 * key of params must be one of `known` (NULL-terminated): a misspelt
 * parameter is an error, not ignored. */
int jx_rpc_known(const jx_value *params, const char *const *known);
int jx_rpc_str(const jx_value *params, const char *key, bool required,
               const char **out);
int jx_rpc_get(const jx_value *params, const char *key, jx_type type,
               bool required, const jx_value **out);

/* [type, ...] messages. */
jx_value jx_rpc_response(uint32_t msgid, jx_value error, jx_value result);
jx_value jx_rpc_notification(const char *method, jx_value param);

#endif
