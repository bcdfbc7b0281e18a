/*
 * jx_pack: a git pack stream built one object at a time, for the store's
 * writer, which makes each batch's new objects one pack.  Objects are
 * stored whole (no deltas) and deflated at zlib's fastest level: a batch
 * must become durable quickly, and `git repack` rewrites packs compactly
 * later (docs/BENCHMARKS.md measures both).  libgit2's packbuilder, which
 * searches for deltas, took two thirds of the writer's time.
 *
 * Memory: a jx_pack owns its buffer and zlib stream (jx_pack_free);
 * jx_pack_finish lends out the stream until the next jx_pack_reset.
 */
#ifndef JX_PACK_H
#define JX_PACK_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "jx_buf.h"

typedef struct jx_pack {
  jx_buf buf;      /* "PACK", version, count, then the entries */
  uint32_t count;  /* entries added */
  z_stream z;
  bool z_ready;    /* z is initialised */
} jx_pack;

#define JX_PACK_INIT                                                           \
  { JX_BUF_INIT, 0, {0}, false }

/* Adds one object (commit, tree or blob).  JX_ESTORE if zlib fails. */
int jx_pack_add(jx_pack *p, git_object_t type, const void *data, size_t len);

/* Adds an entry copied from another pack as it is there (its header and
 * zlib stream): a whole object, not a delta, whose position would change. */
void jx_pack_add_entry(jx_pack *p, const void *entry, size_t len);

/* The whole pack (header with the count, entries, SHA-1 trailer) in
 * *data, *len, or an empty stream (*len 0) if nothing was added.
 * JX_ESTORE if the checksum cannot be computed. */
int jx_pack_finish(jx_pack *p, const char **data, size_t *len);

/* Empties the pack for the next batch. */
void jx_pack_reset(jx_pack *p);

void jx_pack_free(jx_pack *p);

#endif
