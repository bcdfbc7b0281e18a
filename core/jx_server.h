/*
 * jx_server: the daemon (jx serve).  Serves one store to many clients over
 * a Unix socket (and TCP when configured) with msgpack-RPC
 * (docs/PROTOCOL.md), on the engine's libuv loop: requests are decided in
 * arrival order on the loop thread, the engine's writer groups their
 * commits into batches, and each write is answered once its batch is
 * durable.  Subscribers get a notification per committed change, in commit
 * order.  The calendar's timers fire from the real clock, or only through
 * the `tick` method with a virtual clock.
 *
 * Threads: the loop thread only.
 * Memory: the server borrows the loop, the config, the store and the
 * engine, which must outlive it; it owns its connections.
 */
#ifndef JX_SERVER_H
#define JX_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "jx_config.h"
#include "jx_engine.h"
#include "jx_store.h"

typedef struct jx_server jx_server;

/* Listens on cfg's socket (a stale socket file left by a killed daemon is
 * replaced; a live one is JX_ESTORE: another daemon serves the store) and
 * on [serve] listen; handles SIGTERM and SIGINT by draining.  With
 * virtual_clock, timers fire only through the `tick` method.  Messages go
 * to stderr.  JX_EINVAL / JX_ESTORE if it cannot listen. */
int jx_server_start(jx_server **out, uv_loop_t *loop, jx_config *cfg,
                    jx_store *store, jx_engine *engine, bool virtual_clock);

/* Stops accepting and reading; what was decided is committed and
 * answered, then every connection and handle of the server is closed, so
 * that the loop ends.  Also what SIGTERM and SIGINT do. */
void jx_server_drain(jx_server *s);

/* Frees the server once the loop has ended; removes the socket file. */
void jx_server_free(jx_server *s);

#endif
