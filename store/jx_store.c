#include "jx_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2/sys/commit.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_codec.h"
#include "jx_compact.h"
#include "jx_err.h"
#include "jx_pack.h"
#include "jx_refs.h"
#include "jx_sign.h"

#define JX_STORE_FORMAT 1
#define LOCK_FILE "jx.lock"

/* The heads the last seal lists, sorted by id.  Batches are written one
 * after another, so only the last seal can list heads whose refs were not
 * moved before a crash: the writer moves them on open (roll-forward), a
 * reader looks them up here first. */
typedef struct seal_heads {
  jx_ref_update *u;
  char (*ids)[JX_ID_MAX + 1];
  size_t n;
} seal_heads;

struct jx_store {
  char *path;
  char *signing_key; /* an SSH private key signing each seal, or NULL */
  size_t max_frame;
  git_repository *rd; /* loop thread: reads */
  /* Writer thread only (NULL in READ mode): `wr` writes objects into the
   * mempack and the fsynced seal ref; `refs` moves project refs, which need
   * no fsync because the seal can roll them forward. */
  git_repository *wr;
  jx_refs *refs;
  /* Reader only: the last seal's heads, which win over project refs that
   * a crash may have left behind. */
  seal_heads overlay;
  git_odb *wodb;
  git_odb_backend *mempack; /* owned by wodb */
  git_oid seal;
  bool has_seal;
  bool refs_behind; /* the last batch's project refs are not on disk yet */
  jx_pack pack;      /* the objects put into the mempack since the last
                        pack, as the next pack */
  int lock_fd;
};

static int git_fail(const char *what) {
  const git_error *e = git_error_last();
  return jx_err_set(JX_ESTORE, "%s: %s", what, e ? e->message : "unknown");
}

static void libgit2_setup(void) {
  static bool done;
  if (done)
    return;
  git_libgit2_init();
  /* Every object we reference was written by us in the same batch or is a
   * known head: skip the existence lookups strict creation would add. */
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
  done = true;
}

static int fsync_path(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* libgit2 fsyncs files and their parent directory but not directories it
 * creates on the way (PITFALLS.md): make ours and sync them ourselves. */
static int make_durable_dir(const char *repo, const char *rel) {
  char path[4096], parent[4096];
  snprintf(path, sizeof path, "%s/%s", repo, rel);
  if (mkdir(path, 0777) < 0 && errno != EEXIST)
    return jx_err_set(JX_ESTORE, "%s: cannot create: %s", path,
                      strerror(errno));
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash)
    *slash = '\0';
  if (fsync_path(path) < 0 || fsync_path(parent) < 0)
    return jx_err_set(JX_ESTORE, "%s: cannot sync: %s", path, strerror(errno));
  return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static bool is_empty_dir(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  bool empty = d != NULL;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      empty = false;
  if (d)
    closedir(d);
  return empty;
}

/* Checks what is at an existing path: 0 if it is a jixiao store already,
 * 1 if it is an empty directory a new store may take, else JX_EINVAL. */
static int existing_store(const char *path) {
  git_repository *repo = NULL;
  git_config *cfg = NULL;
  int32_t v;
  int rc;
  if (is_empty_dir(path))
    return 1;
  if (git_repository_open_ext(
          &repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
          NULL) < 0)
    rc = jx_err_set(JX_EINVAL,
                    "%s exists and is not a bare git repository; choose "
                    "another store path",
                    path);
  else if (git_repository_config_snapshot(&cfg, repo) < 0 ||
           git_config_get_int32(&v, cfg, "jx.format") < 0)
    rc = jx_err_set(JX_EINVAL, "%s is a git repository but not a jixiao store",
                    path);
  else
    rc = 0;
  git_config_free(cfg);
  git_repository_free(repo);
  return rc;
}

/* Builds the store beside its final place and renames it there, so that a
 * failed or killed init leaves nothing half made. */
int jx_store_init(const char *path, bool *created) {
  libgit2_setup();
  *created = false;
  git_repository *repo = NULL;
  git_config *cfg = NULL;
  jx_buf tmp = JX_BUF_INIT;
  int rc = 0;
  struct stat st;
  if (stat(path, &st) == 0 && (rc = existing_store(path)) <= 0)
    return rc;
  jx_buf_printf(&tmp, "%s.init-%ld", path, (long)getpid());
  git_repository_init_options opts;
  git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
  opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
               GIT_REPOSITORY_INIT_NO_REINIT;
  opts.description = "jixiao audit store: budget projects, one commit per "
                     "state change\n";
  if (git_repository_init_ext(&repo, tmp.data, &opts) < 0) {
    rc = git_fail(path);
    goto cleanup;
  }
  if (git_repository_config(&cfg, repo) < 0 ||
      git_config_set_int32(cfg, "jx.format", JX_STORE_FORMAT) < 0 ||
      /* git's own gc must never run beside the writer (PITFALLS.md). */
      git_config_set_int32(cfg, "gc.auto", 0) < 0) {
    rc = git_fail(path);
    goto cleanup;
  }
  char attributes[4096];
  snprintf(attributes, sizeof attributes, "%s/info/attributes", tmp.data);
  FILE *f = fopen(attributes, "w");
  /* git show and git diff print msgpack as binary, not as garbled text,
   * unless the reader sets the jx driver's textconv (git config
   * diff.jx.textconv "jx cat"): then as readable JSON. */
  if (!f || fputs("*.msgpack -text -merge diff=jx\n", f) < 0 ||
      fclose(f) != 0) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", attributes, strerror(errno));
    goto cleanup;
  }
  if ((rc = make_durable_dir(tmp.data, "refs/jx")) < 0 ||
      (rc = make_durable_dir(tmp.data, "refs/jx/projects")) < 0 ||
      (rc = make_durable_dir(tmp.data, "objects/pack")) < 0)
    goto cleanup;
  if (rename(tmp.data, path) < 0) {
    rc = jx_err_set(JX_ESTORE, "%s: cannot create: %s", path, strerror(errno));
    goto cleanup;
  }
  *created = true;
cleanup:
  git_config_free(cfg);
  git_repository_free(repo);
  if (rc < 0)
    nftw(tmp.data, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  jx_buf_free(&tmp);
  return rc;
}

static int open_repo(git_repository **out, const char *path) {
  int rc = git_repository_open_ext(
      out, path, GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
      NULL);
  if (rc == GIT_ENOTFOUND)
    return jx_err_set(JX_ESTORE,
                      "%s is not a jixiao store (run `jx init` first)", path);
  return rc < 0 ? git_fail(path) : 0;
}

/* libgit2 decides whether a refdb fsyncs once, when the refdb is created:
 * create the writer's now, with fsync on, for the pack and the seal. */
static int open_writer(git_repository **out, const char *path) {
  git_refdb *refdb = NULL;
  git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
  int rc = open_repo(out, path);
  if (rc == 0 && git_repository_refdb(&refdb, *out) < 0)
    rc = git_fail(path);
  git_refdb_free(refdb);
  return rc;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A kill -9 can leave ref locks (which libgit2 then refuses forever) and
 * temporary object and pack files.  Only the lock holder may call this. */
static void remove_stale(const char *dir, int depth) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 8)
        remove_stale(path, depth + 1);
    } else if (has_suffix(e->d_name, ".lock") || strstr(e->d_name, "_git2_")) {
      unlink(path);
    }
  }
  closedir(d);
}

static int take_lock(jx_store *s, unsigned wait_ms) {
  char path[4096];
  snprintf(path, sizeof path, "%s/" LOCK_FILE, s->path);
  s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (s->lock_fd < 0)
    return jx_err_set(JX_ESTORE, "%s: cannot open: %s", path, strerror(errno));
  /* Another writer's batch takes milliseconds: wait a while for it, so that
   * two clerks working at once are served one after the other. */
  for (int waited = 0; flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0; waited++) {
    if (errno != EWOULDBLOCK)
      return jx_err_set(JX_ESTORE, "%s: cannot lock: %s", path,
                        strerror(errno));
    if ((unsigned)waited >= wait_ms / 10)
      return jx_err_set(JX_ESTORE,
                        "%s is in use by another jx process (lock %s held "
                        "for over %u ms, [store].lock_wait_ms)",
                        s->path, path, wait_ms);
    nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
  }
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/refs", s->path);
  remove_stale(sub, 0);
  snprintf(sub, sizeof sub, "%s/objects", s->path);
  remove_stale(sub, 0);
  snprintf(sub, sizeof sub, "%s/packed-refs.lock", s->path);
  unlink(sub);
  return 0;
}

static int read_blob_entry(jx_value *out, git_repository *repo,
                           const git_tree *tree, const char *name,
                           size_t max_frame) {
  const git_tree_entry *te = git_tree_entry_byname(tree, name);
  git_blob *blob = NULL;
  if (!te)
    return jx_err_set(JX_ESTORE, "%s is missing", name);
  if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0)
    return git_fail(name);
  int rc = jx_codec_decode(out, git_blob_rawcontent(blob),
                           (size_t)git_blob_rawsize(blob), max_frame);
  git_blob_free(blob);
  if (rc < 0) {
    jx_err_wrap("%s", name);
    return jx_err_recode(JX_ESTORE);
  }
  return 0;
}

static void seal_heads_free(seal_heads *h) {
  free(h->u);
  free(h->ids);
  *h = (seal_heads){0};
}

static int compare_updates(const void *a, const void *b) {
  return strcmp(((const jx_ref_update *)a)->id, ((const jx_ref_update *)b)->id);
}

static int read_seal(jx_store *s, git_repository *repo, seal_heads *out) {
  git_commit *seal = NULL;
  git_tree *tree = NULL;
  git_blob *blob = NULL;
  seal_heads h = {0};
  int rc = git_reference_name_to_id(&s->seal, repo, JX_REFS_SEAL);
  if (rc == GIT_ENOTFOUND)
    return 0;
  if (rc < 0)
    return git_fail("reading the seal");
  s->has_seal = true;
  if (git_commit_lookup(&seal, repo, &s->seal) < 0 ||
      git_commit_tree(&tree, seal) < 0) {
    rc = git_fail("reading the seal");
    goto cleanup;
  }
  const git_tree_entry *te = git_tree_entry_byname(tree, "heads");
  if (!te || git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
    rc = jx_err_set(JX_ESTORE, "seal %s has no heads list",
                    git_oid_tostr_s(&s->seal));
    goto cleanup;
  }
  const char *p = git_blob_rawcontent(blob);
  const char *end = p + git_blob_rawsize(blob);
  size_t lines = 0;
  for (const char *q = p; q < end; q++)
    lines += *q == '\n';
  h.u = jx_xmalloc((lines + 1) * sizeof *h.u);
  h.ids = jx_xmalloc((lines + 1) * sizeof *h.ids);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    size_t idlen = len - GIT_OID_HEXSZ - 1;
    if (len <= GIT_OID_HEXSZ + 1 || idlen > JX_ID_MAX || h.n > lines ||
        p[GIT_OID_HEXSZ] != ' ' ||
        git_oid_fromstrn(&h.u[h.n].head, p, GIT_OID_HEXSZ) < 0) {
      rc = jx_err_set(JX_ESTORE, "seal %s: malformed heads line",
                      git_oid_tostr_s(&s->seal));
      goto cleanup;
    }
    memcpy(h.ids[h.n], p + GIT_OID_HEXSZ + 1, idlen);
    h.ids[h.n][idlen] = '\0';
    if (jx_refs_check_id(h.ids[h.n]) < 0) {
      jx_err_wrap("seal %s", git_oid_tostr_s(&s->seal));
      rc = jx_err_recode(JX_ESTORE);
      goto cleanup;
    }
    h.u[h.n].id = h.ids[h.n];
    h.n++;
    p += len + (nl != NULL);
  }
  if (h.n)
    qsort(h.u, h.n, sizeof *h.u, compare_updates);
  *out = h;
  h = (seal_heads){0};
  rc = 0;
cleanup:
  seal_heads_free(&h);
  git_blob_free(blob);
  git_tree_free(tree);
  git_commit_free(seal);
  return rc;
}

/* Opening for writing: move every ref the last seal lists to its head; and
 * refuse a store whose seal is gone while projects remain, rather than
 * start a second history beside the first. */
static int roll_forward(jx_store *s) {
  seal_heads h = {0};
  int rc = read_seal(s, s->wr, &h);
  if (rc == 0 && !s->has_seal && jx_refs_has_projects(s->refs))
    rc = jx_err_set(JX_ESTORE,
                    "%s has projects but no %s: the store is damaged; "
                    "restore the seal ref from a mirror or backup",
                    s->path, JX_REFS_SEAL);
  if (rc == 0 && h.n)
    rc = jx_refs_set_projects(s->refs, h.u, h.n);
  seal_heads_free(&h);
  return rc;
}

int jx_store_open(jx_store **out, const char *path, jx_store_mode mode,
                  size_t max_frame, unsigned lock_wait_ms) {
  libgit2_setup();
  jx_store *s = calloc(1, sizeof *s);
  git_config *cfg = NULL;
  int32_t format;
  int rc;
  if (!s)
    return jx_err_set(JX_ESTORE, "out of memory");
  s->path = jx_xstrdup(path);
  s->max_frame = max_frame;
  s->lock_fd = -1;
  if ((rc = open_repo(&s->rd, path)) < 0)
    goto cleanup;
  git_oid seal;
  if (git_repository_config_snapshot(&cfg, s->rd) < 0 ||
      git_config_get_int32(&format, cfg, "jx.format") < 0) {
    /* A mirror (git clone --mirror, push --mirror) carries the refs and
     * objects but not the config: it is read as the store it copies. */
    if (mode == JX_STORE_READ &&
        git_reference_name_to_id(&seal, s->rd, JX_REFS_SEAL) == 0) {
      format = JX_STORE_FORMAT;
    } else {
      rc = jx_err_set(JX_ESTORE,
                      "%s is a git repository but not a jixiao store", path);
      goto cleanup;
    }
  }
  if (format != JX_STORE_FORMAT) {
    rc = jx_err_set(JX_ESTORE, "%s has store format %d; this jx reads %d", path,
                    format, JX_STORE_FORMAT);
    goto cleanup;
  }
  if (mode == JX_STORE_WRITE) {
    if ((rc = take_lock(s, lock_wait_ms)) < 0 ||
        (rc = open_writer(&s->wr, path)) < 0 ||
        (rc = jx_refs_open(&s->refs, s->wr)) < 0)
      goto cleanup;
    if (git_repository_odb(&s->wodb, s->wr) < 0 ||
        git_mempack_new(&s->mempack) < 0 ||
        git_odb_add_backend(s->wodb, s->mempack, 1000) < 0) {
      rc = git_fail(path);
      goto cleanup;
    }
    if ((rc = roll_forward(s)) < 0)
      goto cleanup;
  } else if ((rc = read_seal(s, s->rd, &s->overlay)) < 0) {
    goto cleanup;
  }
  *out = s;
  s = NULL;
cleanup:
  git_config_free(cfg);
  jx_store_free(s);
  return rc;
}

void jx_store_free(jx_store *s) {
  if (!s)
    return;
  git_odb_free(s->wodb);
  git_repository_free(s->wr);
  jx_refs_free(s->refs);
  seal_heads_free(&s->overlay);
  jx_pack_free(&s->pack);
  git_repository_free(s->rd);
  if (s->lock_fd >= 0)
    close(s->lock_fd); /* releases the flock */
  free(s->path);
  free(s->signing_key);
  free(s);
}

const char *jx_store_path(const jx_store *s) { return s->path; }

static int check_writable(const jx_store *s) {
  if (!s->wr)
    return jx_err_set(JX_ESTORE, "%s is open read-only", s->path);
  return 0;
}

int jx_store_reopen_reader(jx_store *s) {
  git_repository *rd;
  int rc = open_repo(&rd, s->path);
  if (rc == 0) {
    git_repository_free(s->rd);
    s->rd = rd;
  }
  return rc;
}

int jx_store_reopen_writer(jx_store *s) {
  git_repository *wr = NULL;
  git_odb *wodb = NULL;
  git_odb_backend *mempack = NULL;
  jx_refs *refs = NULL;
  int rc = check_writable(s);
  if (rc == 0 && (rc = open_writer(&wr, s->path)) == 0 &&
      (rc = jx_refs_open(&refs, wr)) == 0 &&
      (git_repository_odb(&wodb, wr) < 0 || git_mempack_new(&mempack) < 0))
    rc = git_fail(s->path);
  if (rc == 0 && git_odb_add_backend(wodb, mempack, 1000) < 0) {
    rc = git_fail(s->path);
    mempack->free(mempack); /* not the odb's yet */
  }
  if (rc < 0) {
    git_odb_free(wodb);
    jx_refs_free(refs);
    git_repository_free(wr);
    return rc;
  }
  git_odb_free(s->wodb);
  jx_refs_free(s->refs);
  git_repository_free(s->wr);
  s->wr = wr;
  s->wodb = wodb;
  s->mempack = mempack;
  s->refs = refs;
  return 0;
}

int jx_store_compact(const char *path, size_t *merged) {
  git_repository *repo = NULL;
  git_odb *odb = NULL;
  jx_pack scratch = JX_PACK_INIT;
  char dir[4096];
  int rc;
  *merged = 0;
  libgit2_setup();
  snprintf(dir, sizeof dir, "%s/objects/pack", path);
  if (!jx_compact_needed(dir))
    return 0;
  if (git_repository_open_bare(&repo, path) < 0 ||
      git_repository_odb(&odb, repo) < 0)
    rc = git_fail(path);
  else
    rc = jx_compact(odb, dir, &scratch, merged);
  jx_pack_free(&scratch);
  git_odb_free(odb);
  git_repository_free(repo);
  return rc;
}

void jx_store_set_signing_key(jx_store *s, const char *path) {
  free(s->signing_key);
  s->signing_key = path ? jx_xstrdup(path) : NULL;
}

void jx_commit_req_clear(jx_commit_req *r) {
  free(r->message);
  r->message = NULL;
  jx_buf_free(&r->event);
  jx_buf_free(&r->state);
}

/* --- writing ----------------------------------------------------------- */

/* Git tree entries must be sorted by name (a tree compares as name + "/");
 * callers pass them sorted. */
typedef struct tree_entry {
  const char *name;
  bool is_tree;
  const git_oid *oid;
} tree_entry;

/* Every object goes through here, into the mempack (where the batch reads
 * it back) and into the next pack.  Not through git_odb_write: it would
 * first look the object up in every backend and, not finding it, rescan
 * the pack directory (a readdir per object, a fifth of the writer's time
 * with 8 packs).  An object already on disk is written again into the next
 * pack, which git allows; one already in this batch is not. */
static int put_object(jx_store *s, git_oid *out, const void *p, size_t n,
                      git_object_t type) {
  if (!p)
    p = "";
  if (git_odb_hash(out, p, n, type) < 0)
    return git_fail("writing an object");
  if (s->mempack->exists(s->mempack, out))
    return 0;
  if (s->mempack->write(s->mempack, out, p, n, type) < 0)
    return git_fail("writing an object");
  return jx_pack_add(&s->pack, type, p, n);
}

/* An object libgit2 wrote into the mempack itself, into the next pack. */
static int pack_written(jx_store *s, const git_oid *oid) {
  git_odb_object *o;
  if (git_odb_read(&o, s->wodb, oid) < 0)
    return git_fail("reading back an object");
  int rc = jx_pack_add(&s->pack, git_odb_object_type(o),
                       git_odb_object_data(o), git_odb_object_size(o));
  git_odb_object_free(o);
  return rc;
}

static int write_tree(git_oid *out, jx_store *s, const tree_entry *e,
                      size_t n) {
  jx_buf b = JX_BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    jx_buf_printf(&b, "%s %s", e[i].is_tree ? "40000" : "100644", e[i].name);
    jx_buf_append(&b, "", 1);
    jx_buf_append(&b, e[i].oid->id, GIT_OID_RAWSZ);
  }
  int rc = put_object(s, out, b.data, b.len, GIT_OBJECT_TREE);
  jx_buf_free(&b);
  return rc;
}

static int write_blob(git_oid *out, jx_store *s, const void *p, size_t n) {
  return put_object(s, out, p, n, GIT_OBJECT_BLOB);
}

static int compare_rule_files(const void *a, const void *b) {
  return strcmp(((const jx_rule_file *)a)->path,
                ((const jx_rule_file *)b)->path);
}

/* Drops what the mempack holds, written or not. */
static void forget_objects(jx_store *s) {
  if (s->mempack)
    git_mempack_reset(s->mempack);
  jx_pack_reset(&s->pack);
}

/* Writes every object put since the last pack as one pack (indexed and
 * fsynced by libgit2's indexer, which checks every object and the
 * trailer), then empties the mempack. */
static int flush_pack(jx_store *s) {
  git_odb_writepack *wp = NULL;
  git_indexer_progress stats = {0};
  const char *pack;
  size_t len;
  int rc = jx_pack_finish(&s->pack, &pack, &len);
  if (rc == 0 && len &&
      (git_odb_write_pack(&wp, s->wodb, NULL, NULL) < 0 ||
       /* The commit adds the pack to the odb's list (it refreshes). */
       wp->append(wp, pack, len, &stats) < 0 || wp->commit(wp, &stats) < 0))
    rc = git_fail("writing the pack");
  if (wp)
    wp->free(wp);
  forget_objects(s);
  return rc;
}

/* Writes what the mempack holds as a pack of its own, unless `tree` is on
 * disk already: rule objects must not live only in the mempack, where a
 * failed batch would throw them away while the engine keeps using them. */
static int flush_rules(jx_store *s, const git_oid *tree) {
  git_odb *disk = NULL;
  int rc = 0;
  if (git_repository_odb(&disk, s->rd) < 0)
    return git_fail("reading the object database");
  if (!git_odb_exists(disk, tree))
    rc = flush_pack(s);
  git_odb_free(disk);
  forget_objects(s);
  return rc;
}

int jx_store_put_rules(jx_store *s, const jx_rule_file *files, size_t n,
                       git_oid *tree) {
  int rc = check_writable(s);
  if (rc < 0)
    return rc;
  jx_rule_file *sorted = jx_xmalloc(n * sizeof *sorted);
  git_oid *blobs = jx_xmalloc(n * sizeof *blobs);
  git_oid *subtrees = jx_xmalloc(n * sizeof *subtrees);
  char **dirs = jx_xmalloc(n * sizeof *dirs);
  tree_entry *top = jx_xmalloc(n * sizeof *top);
  tree_entry *sub = jx_xmalloc(n * sizeof *sub);
  size_t ntop = 0, nsub = 0, ndirs = 0;
  memcpy(sorted, files, n * sizeof *sorted);
  /* Sorting full paths gives git's tree order (a tree sorts as "name/"),
   * and puts the files of one directory next to each other. */
  qsort(sorted, n, sizeof *sorted, compare_rule_files);
  for (size_t i = 0; i < n; i++) {
    const char *path = sorted[i].path;
    const char *slash = strchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    /* Git refuses trees with such names (git fsck: duplicateEntries). */
    if ((slash && strchr(base, '/')) || !*base || !strcmp(base, ".") ||
        !strcmp(base, "..") || slash == path ||
        (i > 0 && strcmp(sorted[i - 1].path, path) == 0)) {
      rc = jx_err_set(JX_EINVAL,
                      "rule file name \"%s\" is empty, nested too deep, "
                      "a dot name or given twice",
                      path);
      goto cleanup;
    }
    if ((rc = write_blob(&blobs[i], s, sorted[i].data, sorted[i].len)) < 0)
      goto cleanup;
    if (!slash) {
      top[ntop++] = (tree_entry){path, false, &blobs[i]};
      continue;
    }
    sub[nsub++] = (tree_entry){slash + 1, false, &blobs[i]};
    size_t dlen = (size_t)(slash - path);
    bool dir_ends = i + 1 == n || strncmp(sorted[i + 1].path, path, dlen + 1);
    if (dir_ends) {
      if ((rc = write_tree(&subtrees[ndirs], s, sub, nsub)) < 0)
        goto cleanup;
      dirs[ndirs] = jx_xmalloc(dlen + 1);
      memcpy(dirs[ndirs], path, dlen);
      dirs[ndirs][dlen] = '\0';
      top[ntop++] = (tree_entry){dirs[ndirs], true, &subtrees[ndirs]};
      ndirs++;
      nsub = 0;
    }
  }
  if ((rc = write_tree(tree, s, top, ntop)) == 0)
    rc = flush_rules(s, tree);
cleanup:
  if (rc < 0)
    forget_objects(s);
  for (size_t i = 0; i < ndirs; i++)
    free(dirs[i]);
  free(sub);
  free(top);
  free(dirs);
  free(subtrees);
  free(blobs);
  free(sorted);
  return rc;
}

/* The commit text as git writes it, formatted here so that it goes
 * through put_object.  Actor names are ids (jx_id), which cannot hold the
 * '<', '>' or newline a signature must not contain. */
static int make_commit(git_oid *out, jx_store *s, const char *actor,
                       int64_t when, const char *message, const git_oid *tree,
                       const git_oid *parent) {
  jx_buf b = JX_BUF_INIT;
  jx_buf_printf(&b, "tree %s\n", git_oid_tostr_s(tree));
  if (parent)
    jx_buf_printf(&b, "parent %s\n", git_oid_tostr_s(parent));
  /* The author time is the event's time, so the history reads in the
   * bureau's calendar; the committer time says when it was recorded. */
  jx_buf_printf(&b,
                "author %s <%s@jixiao> %lld +0000\n"
                "committer jixiao <engine@jixiao> %lld +0000\n\n%s",
                actor, actor, (long long)when, (long long)time(NULL), message);
  int rc = put_object(s, out, b.data, b.len, GIT_OBJECT_COMMIT);
  jx_buf_free(&b);
  return rc;
}

/* A seal commit signed with the store's SSH key: the commit text is
 * signed by ssh-keygen and the signature goes into its gpgsig header, as
 * git signs commits (git verify-commit checks it with gpg.format ssh). */
static int make_signed_seal(git_oid *out, jx_store *s, const char *msg,
                            const git_oid *tree_id) {
  git_signature *me = NULL;
  git_tree *tree = NULL;
  git_commit *parent = NULL;
  git_buf text = {0};
  jx_buf sig = JX_BUF_INIT;
  int rc = 0;
  /* UTC, as make_commit writes every other commit. */
  if (git_signature_new(&me, "jixiao", "engine@jixiao", (git_time_t)time(NULL),
                        0) < 0 ||
      git_tree_lookup(&tree, s->wr, tree_id) < 0 ||
      (s->has_seal && git_commit_lookup(&parent, s->wr, &s->seal) < 0) ||
      git_commit_create_buffer(&text, s->wr, me, me, NULL, msg, tree,
                               parent ? 1 : 0,
                               (const git_commit **)&parent) < 0) {
    rc = git_fail("writing the seal");
    goto cleanup;
  }
  if ((rc = jx_sign(s->signing_key, text.ptr, text.size, &sig)) < 0) {
    jx_err_wrap("signing the seal with %s", s->signing_key);
    goto cleanup;
  }
  if (git_commit_create_with_signature(out, s->wr, text.ptr, sig.data,
                                       NULL) < 0)
    rc = git_fail("writing the signed seal");
  else
    rc = pack_written(s, out);
cleanup:
  jx_buf_free(&sig);
  git_buf_dispose(&text);
  git_commit_free(parent);
  git_tree_free(tree);
  git_signature_free(me);
  return rc;
}

static int write_transition(jx_store *s, jx_commit_req *reqs, size_t i) {
  jx_commit_req *r = &reqs[i];
  git_oid ev, st, tree;
  int rc;
  if ((rc = write_blob(&ev, s, r->event.data, r->event.len)) < 0 ||
      (rc = write_blob(&st, s, r->state.data, r->state.len)) < 0)
    return rc;
  const tree_entry entries[] = {
      {"event.msgpack", false, &ev},
      {"rules", true, &r->rules},
      {"state.msgpack", false, &st},
  };
  if ((rc = write_tree(&tree, s, entries, 3)) < 0)
    return rc;
  const git_oid *parent = r->parent_in_batch >= 0
                              ? &reqs[r->parent_in_batch].commit
                          : r->has_parent ? &r->parent
                                          : NULL;
  return make_commit(&r->commit, s, r->actor, r->time, r->message, &tree,
                     parent);
}

/* The seal: one commit whose "heads" blob lists, for every project the
 * batch touched, its new head ("<oid> <id>\n").  Its parent is the previous
 * seal, so the seal chain orders every batch ever written. */
static int write_seal(git_oid *out, jx_store *s, const jx_commit_req *reqs,
                      size_t n, const bool *superseded) {
  jx_buf heads = JX_BUF_INIT;
  size_t projects = 0;
  for (size_t i = 0; i < n; i++) {
    if (superseded[i])
      continue;
    jx_buf_printf(&heads, "%s %s\n", git_oid_tostr_s(&reqs[i].commit),
                  reqs[i].id);
    projects++;
  }
  git_oid blob, tree;
  char msg[128];
  snprintf(msg, sizeof msg,
           "seal: %zu transitions, %zu projects\n\nTransitions: %zu\n"
           "Projects: %zu\n",
           n, projects, n, projects);
  int rc = write_blob(&blob, s, heads.data, heads.len);
  const tree_entry e = {"heads", false, &blob};
  if (rc == 0)
    rc = write_tree(&tree, s, &e, 1);
  if (rc == 0 && s->signing_key)
    rc = make_signed_seal(out, s, msg, &tree);
  else if (rc == 0)
    rc = make_commit(out, s, "jixiao", (int64_t)time(NULL), msg, &tree,
                     s->has_seal ? &s->seal : NULL);
  jx_buf_free(&heads);
  return rc;
}

int jx_store_write(jx_store *s, jx_commit_req *reqs, size_t n) {
  bool *superseded = calloc(n ? n : 1, sizeof *superseded);
  jx_ref_update *heads = jx_xmalloc((n ? n : 1) * sizeof *heads);
  git_reference *ref = NULL;
  git_oid seal;
  int rc = 0;
  if (!superseded)
    return jx_err_set(JX_ESTORE, "out of memory");
  if ((rc = check_writable(s)) < 0)
    goto cleanup;
  /* Project refs a previous batch could not move must be on disk before
   * another seal: roll-forward only replays the last one. */
  if (s->refs_behind && (rc = jx_refs_set_projects(s->refs, NULL, 0)) < 0)
    goto cleanup;
  s->refs_behind = false;
  for (size_t i = 0; i < n; i++) {
    /* An id in the seal that roll-forward refuses would make the store
     * unopenable for writing: check again, cheaply, before sealing. */
    if ((rc = jx_refs_check_id(reqs[i].id)) < 0 ||
        (rc = jx_id_check("actor", reqs[i].actor)) < 0 ||
        (rc = write_transition(s, reqs, i)) < 0)
      goto cleanup;
    if (reqs[i].parent_in_batch >= 0)
      superseded[reqs[i].parent_in_batch] = true;
  }
  if ((rc = write_seal(&seal, s, reqs, n, superseded)) < 0 ||
      (rc = flush_pack(s)) < 0)
    goto cleanup;
  /* The commit point: once this ref is on disk the batch is durable. */
  if (git_reference_create(&ref, s->wr, JX_REFS_SEAL, &seal, 1, NULL) < 0) {
    rc = git_fail(JX_REFS_SEAL);
    goto cleanup;
  }
  git_reference_free(ref);
  s->seal = seal;
  s->has_seal = true;
  /* The batch is durable: whatever happens to the refs now, it succeeded.
   * Refs left behind are moved before the next seal, or by roll-forward. */
  size_t nheads = 0;
  for (size_t i = 0; i < n; i++)
    if (!superseded[i])
      heads[nheads++] = (jx_ref_update){reqs[i].id, reqs[i].commit};
  if (jx_refs_set_projects(s->refs, heads, nheads) < 0)
    s->refs_behind = true;
cleanup:
  if (rc < 0)
    jx_err_wrap("%s: a batch of %zu transitions was not written", s->path, n);
  /* Unwritten objects of a failed batch must not leak into the next. */
  forget_objects(s);
  free(heads);
  free(superseded);
  return rc;
}

/* --- reading ----------------------------------------------------------- */

static int lookup_head(git_oid *out, jx_store *s, const char *id) {
  char name[JX_REFS_NAME_MAX];
  int rc = jx_refs_check_id(id);
  if (rc < 0)
    return rc;
  jx_ref_update key = {.id = id};
  const jx_ref_update *sealed = s->overlay.n
                                    ? bsearch(&key, s->overlay.u, s->overlay.n,
                                              sizeof key, compare_updates)
                                    : NULL;
  if (sealed) {
    *out = sealed->head;
    return 0;
  }
  jx_refs_project(name, sizeof name, id);
  rc = git_reference_name_to_id(out, s->rd, name);
  if (rc == GIT_ENOTFOUND)
    return jx_err_set(JX_ENOTFOUND, "no %s %s in %s",
                      strcmp(id, JX_REGISTRY_ID) ? "project" : "registry",
                      strcmp(id, JX_REGISTRY_ID) ? id : "of actors", s->path);
  return rc < 0 ? git_fail(name) : 0;
}

/* Decodes the state (and event, if wanted) of commit c. */
static int read_commit(jx_store *s, const git_commit *c, jx_value *state,
                       jx_value *event) {
  git_tree *tree = NULL;
  int rc;
  if (git_commit_tree(&tree, c) < 0)
    return git_fail("reading a commit tree");
  rc = read_blob_entry(state, s->rd, tree, "state.msgpack", s->max_frame);
  if (rc == 0 && event) {
    rc = read_blob_entry(event, s->rd, tree, "event.msgpack", s->max_frame);
    if (rc < 0)
      jx_value_free(state);
  }
  git_tree_free(tree);
  /* Bytes that decode are not yet a record: states and events are maps
   * (what a map must hold is the engine's business). */
  if (rc == 0 && (state->type != JX_MAP || (event && event->type != JX_MAP))) {
    rc = jx_err_set(JX_ESTORE, "%s is not a map",
                    state->type != JX_MAP ? "state.msgpack" : "event.msgpack");
    jx_value_free(state);
    if (event)
      jx_value_free(event);
  }
  if (rc < 0)
    jx_err_wrap("commit %s", git_oid_tostr_s(git_commit_id(c)));
  return rc;
}

git_repository *jx_store_repo(jx_store *s) { return s->rd; }

int jx_store_read_commit(jx_store *s, const git_commit *c, jx_value *state,
                         jx_value *event) {
  return read_commit(s, c, state, event);
}

int jx_store_head(jx_store *s, const char *id, git_oid *commit,
                  jx_value *state) {
  git_commit *c = NULL;
  int rc = lookup_head(commit, s, id);
  if (rc < 0)
    return rc;
  if (git_commit_lookup(&c, s->rd, commit) < 0)
    rc = git_fail("reading the head commit");
  else
    rc = read_commit(s, c, state, NULL);
  git_commit_free(c);
  if (rc < 0)
    jx_err_wrap("project %s", id);
  return rc;
}

int jx_store_rule_file(jx_store *s, const char *id, const char *path,
                       jx_buf *out) {
  git_oid head;
  int rc = lookup_head(&head, s, id);
  if (rc == 0)
    rc = jx_store_rule_file_at(s, &head, path, out);
  if (rc < 0)
    jx_err_wrap("project %s", id);
  return rc;
}

int jx_store_rule_file_at(jx_store *s, const git_oid *commit, const char *path,
                          jx_buf *out) {
  git_commit *c = NULL;
  git_tree *tree = NULL;
  git_tree_entry *te = NULL;
  git_blob *blob = NULL;
  char full[256];
  int rc = 0;
  snprintf(full, sizeof full, "rules/%s", path);
  if (git_commit_lookup(&c, s->rd, commit) < 0 ||
      git_commit_tree(&tree, c) < 0) {
    rc = git_fail("reading a commit");
  } else if (git_tree_entry_bypath(&te, tree, full) < 0 ||
             git_blob_lookup(&blob, s->rd, git_tree_entry_id(te)) < 0) {
    rc = jx_err_set(JX_ENOTFOUND, "commit %s: its rule set has no %s",
                    git_oid_tostr_s(commit), path);
  } else {
    jx_buf_append(out, git_blob_rawcontent(blob),
                  (size_t)git_blob_rawsize(blob));
  }
  git_blob_free(blob);
  git_tree_entry_free(te);
  git_tree_free(tree);
  git_commit_free(c);
  return rc;
}

int jx_store_log(jx_store *s, const char *id, jx_store_log_cb cb,
                 void *payload) {
  git_oid oid;
  git_commit *c = NULL;
  int rc = lookup_head(&oid, s, id);
  while (rc == 0) {
    if (git_commit_lookup(&c, s->rd, &oid) < 0) {
      rc = git_fail("reading a commit");
      break;
    }
    jx_value state = jx_nil(), event = jx_nil();
    git_tree *tree = NULL;
    if ((rc = read_commit(s, c, &state, &event)) < 0)
      break;
    if (git_commit_tree(&tree, c) < 0) {
      rc = git_fail("reading a commit tree");
    } else {
      const git_tree_entry *rules = git_tree_entry_byname(tree, "rules");
      jx_store_entry e = {
          .commit = git_commit_id(c),
          .rules = rules ? git_tree_entry_id(rules) : NULL,
          .time = git_commit_author(c)->when.time,
          .message = git_commit_message(c),
          .event = &event,
          .state = &state,
      };
      rc = cb(&e, payload);
    }
    git_tree_free(tree);
    jx_value_free(&state);
    jx_value_free(&event);
    if (rc != 0 || git_commit_parentcount(c) == 0)
      break;
    oid = *git_commit_parent_id(c, 0);
    git_commit_free(c);
    c = NULL;
  }
  git_commit_free(c);
  if (rc < 0 && rc != JX_ENOTFOUND && rc != JX_EINVAL)
    jx_err_wrap("project %s", id);
  return rc;
}

typedef struct project_head {
  char id[JX_ID_MAX + 1];
  git_oid head;
} project_head;

static int compare_heads(const void *a, const void *b) {
  return strcmp(((const project_head *)a)->id, ((const project_head *)b)->id);
}

int jx_store_foreach(jx_store *s, jx_store_each_cb cb, void *payload) {
  git_reference_iterator *it = NULL;
  git_reference *ref = NULL;
  project_head *heads = NULL;
  size_t n = 0, cap = 0;
  int rc = 0, err;
  if (git_reference_iterator_glob_new(&it, s->rd, JX_REFS_PROJECTS_GLOB) < 0)
    return git_fail("listing projects");
  while ((err = git_reference_next(&ref, it)) == 0) {
    const char *id = jx_refs_project_id(git_reference_name(ref));
    const git_oid *oid = git_reference_target(ref);
    /* Refs made by hand with other tools may not be ours: skip them. */
    if (id && oid && jx_id_check("project id", id) == 0) {
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        heads = jx_xrealloc(heads, cap * sizeof *heads);
      }
      snprintf(heads[n].id, sizeof heads[n].id, "%s", id);
      heads[n++].head = *oid;
    }
    git_reference_free(ref);
  }
  if (err != GIT_ITEROVER) {
    rc = git_fail("listing projects");
    goto cleanup;
  }
  for (size_t i = 0; i < s->overlay.n; i++) {
    size_t k = 0;
    if (strcmp(s->overlay.u[i].id, JX_REGISTRY_ID) == 0)
      continue; /* a seal lists the registry too; it is no project */
    while (k < n && strcmp(heads[k].id, s->overlay.u[i].id) != 0)
      k++;
    if (k == n) {
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        heads = jx_xrealloc(heads, cap * sizeof *heads);
      }
      snprintf(heads[n++].id, sizeof heads->id, "%s", s->overlay.u[i].id);
    }
    heads[k].head = s->overlay.u[i].head;
  }
  if (n)
    qsort(heads, n, sizeof *heads, compare_heads);
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = cb(heads[i].id, &heads[i].head, payload);
cleanup:
  free(heads);
  git_reference_iterator_free(it);
  return rc;
}
