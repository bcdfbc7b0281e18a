/* Merging the smallest packs: see jx_compact.h. */
#include "jx_compact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_value.h"

typedef struct pack_file {
  char base[64]; /* "pack-<hex>", without .pack / .idx */
  size_t size;   /* of the .pack */
} pack_file;

static int git_fail(const char *what) {
  const git_error *e = git_error_last();
  return jx_err_set(JX_ESTORE, "%s: %s", what, e ? e->message : "unknown");
}

static bool exists(const char *dir, const char *base, const char *ext) {
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s%s", dir, base, ext);
  return stat(path, &st) == 0;
}

/* The packs that may be merged, each with its index and without .keep. */
static int list_packs(const char *dir, pack_file **out, size_t *n) {
  DIR *d = opendir(dir);
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  if (!d)
    return jx_err_set(JX_ESTORE, "%s: %s", dir, strerror(errno));
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 6 || len - 5 >= sizeof (*out)->base ||
        strncmp(e->d_name, "pack-", 5) != 0 ||
        strcmp(e->d_name + len - 5, ".pack") != 0)
      continue;
    pack_file p = {0};
    memcpy(p.base, e->d_name, len - 5);
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) < 0 || !exists(dir, p.base, ".idx") ||
        exists(dir, p.base, ".keep"))
      continue;
    p.size = (size_t)st.st_size;
    if (*n == cap)
      *out = jx_xrealloc(*out, (cap = cap ? cap * 2 : 64) * sizeof **out);
    (*out)[(*n)++] = p;
  }
  closedir(d);
  return 0;
}

bool jx_compact_needed(const char *pack_dir) {
  DIR *d = opendir(pack_dir);
  size_t n = 0;
  if (!d)
    return false;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    n += len > 5 && strcmp(e->d_name + len - 5, ".pack") == 0;
  }
  closedir(d);
  return n > JX_COMPACT_MAX;
}

static int by_size(const void *a, const void *b) {
  const pack_file *x = a, *y = b;
  return (x->size > y->size) - (x->size < y->size);
}

/* One object of a pack being merged: where its entry lies. */
typedef struct entry {
  git_oid id;
  size_t pack;           /* index into the merged packs' data */
  size_t offset, length; /* of the whole entry: header and zlib stream */
} entry;

static int by_id(const void *a, const void *b) {
  return git_oid_cmp(&((const entry *)a)->id, &((const entry *)b)->id);
}

static int by_offset(const void *a, const void *b) {
  const entry *x = a, *y = b;
  return (x->offset > y->offset) - (x->offset < y->offset);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int slurp(const char *path, jx_buf *out) {
  int err = jx_buf_read_file(out, path, SIZE_MAX);
  return err ? jx_err_set(JX_ESTORE, "%s: %s", path, strerror(err)) : 0;
}

/* Appends the entries of pack `k` (its .pack in `data`): a version-2 index
 * (gitformat-pack(5)) lists the ids, then CRCs, then 31-bit offsets or,
 * with the high bit set, positions in a table of 64-bit ones; an entry
 * ends where the next begins, the last before the 20-byte trailer. */
static int read_entries(const char *dir, const char *base, size_t k,
                        size_t pack_len, entry **all, size_t *n,
                        size_t *cap) {
  char path[4096];
  jx_buf idx = JX_BUF_INIT;
  snprintf(path, sizeof path, "%s/%s.idx", dir, base);
  int rc = slurp(path, &idx);
  const unsigned char *p = (const unsigned char *)idx.data;
  size_t count = 0, ids = 8 + 256 * 4;
  if (rc == 0 && (idx.len < ids || memcmp(p, "\377tOc\0\0\0\2", 8) != 0))
    rc = jx_err_set(JX_ESTORE, "%s: not a version 2 pack index", path);
  if (rc == 0)
    count = be32(p + ids - 4);
  size_t offsets = ids + count * (GIT_OID_RAWSZ + 4),
         large = offsets + count * 4;
  if (rc == 0 && idx.len < large)
    rc = jx_err_set(JX_ESTORE, "%s: truncated", path);
  if (rc == 0 && *n + count > *cap) {
    *cap = (*n + count) * 2;
    *all = jx_xrealloc(*all, *cap * sizeof **all);
  }
  entry *mine = rc == 0 ? *all + *n : NULL;
  for (size_t i = 0; rc == 0 && i < count; i++) {
    entry *e = &mine[i];
    uint32_t off = be32(p + offsets + 4 * i);
    memcpy(e->id.id, p + ids + i * GIT_OID_RAWSZ, GIT_OID_RAWSZ);
    e->pack = k;
    e->offset = off;
    if (off & 0x80000000u) {
      size_t at = large + 8 * (off & 0x7fffffffu);
      if (idx.len < at + 8)
        rc = jx_err_set(JX_ESTORE, "%s: truncated", path);
      else
        e->offset = (size_t)be32(p + at) << 32 | be32(p + at + 4);
    }
  }
  if (rc == 0) {
    qsort(mine, count, sizeof *mine, by_offset);
    for (size_t i = 0; i < count && rc == 0; i++) {
      size_t end = i + 1 < count ? mine[i + 1].offset : pack_len - 20;
      if (mine[i].offset < 12 || end <= mine[i].offset || end > pack_len - 20)
        rc = jx_err_set(JX_ESTORE, "%s: an offset outside its pack", path);
      mine[i].length = end - mine[i].offset;
    }
    *n += count;
  }
  jx_buf_free(&idx);
  return rc;
}

/* Every object of `packs` into one new pack, indexed into the odb, named
 * in *name ("pack-<hex>", from its trailer).  An
 * entry is copied as it is, compressed (as git repack reuses objects);
 * only a delta, which names its base by position in its own pack, is read
 * whole and compressed again. */
static int merge(git_odb *odb, const char *dir, const pack_file *packs,
                 size_t k, jx_pack *scratch, char name[64]) {
  jx_buf *data = jx_xcalloc(k, sizeof *data);
  entry *all = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (size_t i = 0; i < k && rc == 0; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pack", dir, packs[i].base);
    if ((rc = slurp(path, &data[i])) == 0)
      rc = data[i].len < 32
               ? jx_err_set(JX_ESTORE, "%s: truncated", path)
               : read_entries(dir, packs[i].base, i, data[i].len, &all, &n,
                              &cap);
  }
  /* An object may be in several packs: a batch writes again what it
   * needs even when it is on disk already. */
  if (rc == 0)
    qsort(all, n, sizeof *all, by_id);
  for (size_t i = 0; i < n && rc == 0; i++) {
    const entry *e = &all[i];
    const unsigned char *at = (const unsigned char *)data[e->pack].data +
                              e->offset;
    unsigned type = (at[0] >> 4) & 7;
    if (i && git_oid_equal(&e->id, &all[i - 1].id))
      continue;
    if (type >= GIT_OBJECT_COMMIT && type <= GIT_OBJECT_TAG) {
      jx_pack_add_entry(scratch, at, e->length);
      continue;
    }
    git_odb_object *o;
    if (git_odb_read(&o, odb, &e->id) < 0) {
      rc = git_fail("reading an object to merge");
    } else {
      rc = jx_pack_add(scratch, git_odb_object_type(o),
                       git_odb_object_data(o), git_odb_object_size(o));
      git_odb_object_free(o);
    }
  }
  for (size_t i = 0; i < k; i++)
    jx_buf_free(&data[i]);
  free(data);
  free(all);
  const char *pack;
  size_t len;
  git_odb_writepack *wp = NULL;
  git_indexer_progress stats = {0};
  if (rc == 0)
    rc = jx_pack_finish(scratch, &pack, &len);
  if (rc == 0 && len) {
    git_oid trailer;
    git_oid_fromraw(&trailer, (const unsigned char *)pack + len - 20);
    snprintf(name, 64, "pack-%s", git_oid_tostr_s(&trailer));
  }
  if (rc == 0 && len &&
      (git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
       wp->append(wp, pack, len, &stats) < 0 || wp->commit(wp, &stats) < 0))
    rc = git_fail("writing the merged pack");
  if (wp)
    wp->free(wp);
  jx_pack_reset(scratch);
  return rc;
}

/* The index first: a reader that has not opened the pack yet no longer
 * finds it, and looks in the merged one. */
static void remove_pack(const char *dir, const char *base) {
  static const char *const exts[] = {".idx", ".rev", ".pack"};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, base, exts[i]);
    unlink(path);
  }
}

/* How many of the packs (by size, ascending) to merge, as git repack
 * --geometric=2 chooses: the largest keep a progression in which each is at
 * least twice the one below; the rest are merged, and so is each next pack
 * the merged one would not be half of.  Merging the smallest alone would
 * rewrite the same growing pack at every compaction. */
static size_t geometric_split(const pack_file *packs, size_t n) {
  size_t split = n - 1, total = 0;
  while (split > 0 && packs[split].size >= 2 * packs[split - 1].size)
    split--;
  if (split > 0)
    split++;
  for (size_t i = 0; i < split; i++)
    total += packs[i].size;
  while (split < n && 2 * total > packs[split].size)
    total += packs[split++].size;
  return split;
}

/* The removals reach the disk, so that a power loss cannot bring back
 * packs beside the one that replaced them. */
static void sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

int jx_compact(git_odb *odb, const char *pack_dir, jx_pack *scratch,
               size_t *merged) {
  pack_file *packs;
  size_t n, k = 0, bytes = 0;
  *merged = 0;
  int rc = list_packs(pack_dir, &packs, &n);
  if (rc < 0 || n <= JX_COMPACT_MAX) {
    free(packs);
    return rc;
  }
  qsort(packs, n, sizeof *packs, by_size);
  size_t split = geometric_split(packs, n);
  while (k < split && bytes + packs[k].size <= JX_COMPACT_BYTES)
    bytes += packs[k++].size;
  char name[64] = "";
  if (k >= 2 && (rc = merge(odb, pack_dir, packs, k, scratch, name)) == 0) {
    /* Packs are named by their content: after a crash between a merge
     * and its removals, merging the same objects again makes the same
     * pack, and the input of that name is the output. */
    for (size_t i = 0; i < k; i++)
      if (strcmp(packs[i].base, name) != 0)
        remove_pack(pack_dir, packs[i].base);
    sync_dir(pack_dir);
    if (git_odb_refresh(odb) < 0)
      rc = git_fail("listing the merged pack");
    *merged = k;
  }
  free(packs);
  return rc;
}
