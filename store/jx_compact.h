/*
 * jx_compact: keeps the store's pack directory small.  Each batch writes
 * one pack, and libgit2 rescans the directory whenever a pack is added,
 * comparing every name with every known pack: a store of thousands of
 * packs writes ever slower (measured: 200 ms per transition at 10,000
 * packs).  When more than JX_COMPACT_MAX packs are there, the small ones
 * are merged into one as `git repack --geometric=2` would choose them (the
 * large keep a progression where each is twice the next smaller), at most
 * JX_COMPACT_BYTES: an object is rewritten O(log n) times in its life and
 * the count stays bounded.  Larger stores are repacked with
 * `git repack -ad` (docs/BENCHMARKS.md).
 *
 * Packs with a .keep file are left alone, as git leaves them.  The merged
 * pack is written and indexed (fsynced) before the old ones are removed,
 * so a crash at any point leaves every object in some pack.
 */
#ifndef JX_COMPACT_H
#define JX_COMPACT_H

#include <git2.h>
#include <stdbool.h>

#include "jx_pack.h"

#define JX_COMPACT_MAX 32
#define JX_COMPACT_BYTES ((size_t)256 << 20)

/* Whether `pack_dir` holds more than JX_COMPACT_MAX packs: a readdir, to
 * skip opening a repository after every batch for nothing. */
bool jx_compact_needed(const char *pack_dir);

/* Merges packs of the repository whose odb is `odb` and pack directory
 * `pack_dir` if there are too many; `scratch` (empty, reset on return)
 * builds the merged pack.  *merged: how many packs were merged (0: none).
 * JX_ESTORE on failure, with the store as it was or with the old packs
 * still there beside the new one. */
int jx_compact(git_odb *odb, const char *pack_dir, jx_pack *scratch,
               size_t *merged);

#endif
