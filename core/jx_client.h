/*
 * jx_client: the CLI's side of the daemon's protocol (docs/PROTOCOL.md): a
 * blocking connection that sends a request and reads until its response,
 * dropping notifications that come in between (jx watch reads those).
 *
 * Memory: the client owns its socket and buffers; results are the
 * caller's.
 */
#ifndef JX_CLIENT_H
#define JX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "jx_value.h"

typedef struct jx_client jx_client;

/* Connects to addr: a Unix socket path, or "tcp:HOST:PORT".  JX_ECONN if
 * nothing answers there (*absent is then true when no daemon is there at
 * all: no socket file, or a stale one nobody listens on). */
int jx_client_connect(jx_client **out, const char *addr, size_t max_frame,
                      bool *absent);

/* Calls method with params (a map, or nil for none; consumed).  Returns 0
 * with *result (the caller's), or the error's code with its map in *error
 * (the caller's; jx_err_last() has its message), or JX_ECONN when the
 * connection failed (the daemon went away). */
int jx_client_call(jx_client *c, const char *method, jx_value params,
                   jx_value *result, jx_value *error);

/* Reads the next message the daemon sends (after a subscribe: its
 * notifications) into *msg, the caller's.  JX_ECONN when the connection
 * ends. */
int jx_client_read(jx_client *c, jx_value *msg);

void jx_client_free(jx_client *c);

#endif
