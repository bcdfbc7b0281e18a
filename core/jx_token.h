/*
 * jx_token: the bearer tokens that authenticate actors to the daemon
 * (`jx serve`).  Each actor has at most one token; creating one replaces
 * the previous (rotation).  Tokens are kept only as hashes, one line per
 * actor in <store>/tokens (mode 0600, beside git's files and outside the
 * history: a token must be revocable, and history is forever):
 *
 *   <actor> <BLAKE2b-256 of the token, hex> <created, ISO-8601 UTC>\n
 *
 * sorted by actor.  Writers serialise on flock(<store>/tokens.lock) and
 * replace the file by an fsynced rename; readers take no lock.
 *
 * Memory: nothing is allocated for the caller; strings passed to a
 * jx_token_cb are borrowed for the duration of the call.  Any thread may
 * call these functions (errors are thread-local, libsodium is thread-safe).
 */
#ifndef JX_TOKEN_H
#define JX_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define JX_TOKEN_LEN 68 /* "jxt_" + 64 hex */

/* Creates a new token for `actor` (a valid actor name, else JX_EINVAL),
 * replacing the actor's previous one, created at `now` (seconds since the
 * epoch).  On success writes the token, NUL-terminated, into `token`: the
 * only time it exists in clear.  JX_ESTORE if the file cannot be read,
 * is damaged or cannot be written. */
int jx_token_create(const char *store_path, const char *actor, int64_t now,
                    char token[JX_TOKEN_LEN + 1]);

/* Removes `actor`'s token: 0, JX_ENOTFOUND if it has none, JX_EINVAL for an
 * invalid name, JX_ESTORE as for jx_token_create. */
int jx_token_revoke(const char *store_path, const char *actor);

/* Finds whose `token` this is: 0 and the actor's name in actor[size]
 * (JX_ID_MAX + 1 bytes always suffice).  JX_EAUTH for a token of the wrong
 * shape, an unknown or revoked one, or when the store has no tokens file;
 * JX_ESTORE if the file cannot be read or is damaged. */
int jx_token_check(const char *store_path, const char *token, char *actor,
                   size_t size);

/* Called once per actor; a non-zero return stops the listing and becomes
 * jx_token_list's return value. */
typedef int (*jx_token_cb)(const char *actor, const char *created,
                           void *payload);

/* Calls cb for each actor that has a token, in actor order, with the
 * token's creation time.  A missing file lists nothing.  The file is
 * read and checked whole first: on JX_ESTORE cb was never called. */
int jx_token_list(const char *store_path, jx_token_cb cb, void *payload);

#endif
