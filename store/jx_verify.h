/*
 * jx_verify: checks a store without trusting whoever wrote it (jx audit
 * verify).  Every record's chain (refs/jx/projects/<id>, refs/jx/registry)
 * is walked to its root: each commit must hold a decodable state and
 * event and its rule set (rules/), its trailers and author must say what
 * its tree says, and its state must follow from its parent's (seq one
 * more, the event leaving the parent's status, ids and actors valid, time
 * not going back).  The seal chain (refs/jx/seal) is walked too: the
 * newest seal listing a record names its head, and every head an older
 * seal listed must still be in the record's chain, so a ref moved back,
 * deleted, forged or rewritten (even under a new seal) no longer matches.
 * With a key, the tip seal's signature is checked: it covers every seal
 * before it through the parents' hashes.  Replace refs
 * (refs/replace/, git replace) are reported: git's tools would show
 * another history than the store holds.
 *
 * Memory: nothing is kept; problems are handed to a callback.
 */
#ifndef JX_VERIFY_H
#define JX_VERIFY_H

#include <stddef.h>

#include "jx_store.h"

typedef struct jx_verify_report {
  size_t records, commits, seals, problems;
} jx_verify_report;

/* A problem: the record (project id, ":registry", or "" for the store),
 * the commit (hex, or "" if none), and what is wrong.  Borrowed. */
typedef void (*jx_verify_cb)(const char *record, const char *commit,
                             const char *what, void *payload);

/* Verifies s, calling cb for each problem found, and fills *out.  With
 * pub_path (an SSH public key file), the tip seal must carry a valid
 * signature by that key (jx_sign.h).  Returns 0 when it could look at
 * everything (problems or not), JX_ESTORE when the repository itself
 * could not be read. */
int jx_verify(jx_store *s, const char *pub_path, jx_verify_cb cb,
              void *payload, jx_verify_report *out);

/* Whether a seal published earlier (`hex`, a commit id) is the store's
 * seal or one of its ancestors: if the history was rewritten since, it is
 * not.  0 if it is; JX_ESTORE saying why not. */
int jx_verify_published(jx_store *s, const char *hex);

#endif
