/* Merging the smallest packs: see jx_compact.h. */
#include "jx_compact.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int by_size(const void *a, const void *b) {
  const pack_file *x = a, *y = b;
  return (x->size > y->size) - (x->size < y->size);
}

static int by_oid(const void *a, const void *b) {
  return git_oid_cmp(a, b);
}

/* Appends the ids a version-2 pack index lists (gitformat-pack(5)): magic,
 * version, 256 cumulative counts, then the sorted ids. */
static int read_index(const char *dir, const char *base, git_oid **ids,
                      size_t *n, size_t *cap) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.idx", dir, base);
  FILE *f = fopen(path, "rb");
  unsigned char head[8 + 256 * 4];
  if (!f)
    return jx_err_set(JX_ESTORE, "%s: %s", path, strerror(errno));
  int rc = 0;
  if (fread(head, 1, sizeof head, f) != sizeof head ||
      memcmp(head, "\377tOc\0\0\0\2", 8) != 0) {
    rc = jx_err_set(JX_ESTORE, "%s: not a version 2 pack index", path);
  } else {
    const unsigned char *c = head + 8 + 255 * 4;
    size_t count = (size_t)c[0] << 24 | (size_t)c[1] << 16 |
                   (size_t)c[2] << 8 | c[3];
    if (*n + count > *cap) {
      *cap = (*n + count) * 2;
      *ids = jx_xrealloc(*ids, *cap * sizeof **ids);
    }
    for (size_t i = 0; i < count && rc == 0; i++, (*n)++)
      if (fread((*ids)[*n].id, 1, GIT_OID_RAWSZ, f) != GIT_OID_RAWSZ)
        rc = jx_err_set(JX_ESTORE, "%s: truncated", path);
  }
  fclose(f);
  return rc;
}

/* Every object of `packs` into one new pack, indexed into the odb. */
static int merge(git_odb *odb, const char *dir, const pack_file *packs,
                 size_t k, jx_pack *scratch) {
  git_oid *ids = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (size_t i = 0; i < k && rc == 0; i++)
    rc = read_index(dir, packs[i].base, &ids, &n, &cap);
  /* An object may be in several packs: a batch writes again what it
   * needs even when it is on disk already. */
  if (rc == 0)
    qsort(ids, n, sizeof *ids, by_oid);
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (i && git_oid_equal(&ids[i], &ids[i - 1]))
      continue;
    git_odb_object *o;
    if (git_odb_read(&o, odb, &ids[i]) < 0)
      rc = git_fail("reading an object to merge");
    else {
      rc = jx_pack_add(scratch, git_odb_object_type(o),
                       git_odb_object_data(o), git_odb_object_size(o));
      git_odb_object_free(o);
    }
  }
  free(ids);
  const char *data;
  size_t len;
  git_odb_writepack *wp = NULL;
  git_indexer_progress stats = {0};
  if (rc == 0)
    rc = jx_pack_finish(scratch, &data, &len);
  if (rc == 0 && len &&
      (git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
       wp->append(wp, data, len, &stats) < 0 || wp->commit(wp, &stats) < 0))
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
  if (k >= 2 && (rc = merge(odb, pack_dir, packs, k, scratch)) == 0) {
    for (size_t i = 0; i < k; i++)
      remove_pack(pack_dir, packs[i].base);
    if (git_odb_refresh(odb) < 0)
      rc = git_fail("listing the merged pack");
    *merged = k;
  }
  free(packs);
  return rc;
}
