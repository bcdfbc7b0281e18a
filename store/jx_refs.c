#include "jx_refs.h"

#include "jx_id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_value.h"

/* One ref of packed-refs: its name and its lines as they are in the file
 * ("<oid> <name>\n", and a "^<oid>\n" peel line for annotated tags). */
typedef struct entry {
  char *name;
  char *text;
} entry;

/* The refs of one packed-refs file, sorted by name (bytewise, the file's
 * own order). */
typedef struct table {
  char *header; /* the "# pack-refs with: ..." line, or NULL */
  entry *e;
  size_t n, cap;
} table;

struct jx_refs {
  char *path; /* .../packed-refs */
  table mine; /* the project refs: what this writer owns */
};

void jx_refs_project(char *out, size_t size, const char *id) {
  if (strcmp(id, JX_REGISTRY_ID) == 0)
    snprintf(out, size, JX_REFS_REGISTRY);
  else
    snprintf(out, size, JX_REFS_PROJECTS "%s", id);
}

int jx_refs_check_id(const char *id) {
  return strcmp(id, JX_REGISTRY_ID) == 0 ? 0 : jx_id_check("project id", id);
}

const char *jx_refs_project_id(const char *ref) {
  size_t n = strlen(JX_REFS_PROJECTS);
  return strncmp(ref, JX_REFS_PROJECTS, n) == 0 ? ref + n : NULL;
}

static void table_free(table *t) {
  for (size_t i = 0; i < t->n; i++) {
    free(t->e[i].name);
    free(t->e[i].text);
  }
  free(t->e);
  free(t->header);
  *t = (table){0};
}

void jx_refs_free(jx_refs *r) {
  if (!r)
    return;
  table_free(&r->mine);
  free(r->path);
  free(r);
}

/* Index of name, or where it goes; *found says which. */
static size_t find(const table *t, const char *name, bool *found) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(t->e[mid].name, name);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

/* Sets name's lines to text (taking it); returns the entry. */
static entry *set(table *t, const char *name, char *text) {
  bool found;
  size_t i = find(t, name, &found);
  if (found) {
    free(t->e[i].text);
    t->e[i].text = text;
    return &t->e[i];
  }
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 256;
    t->e = jx_xrealloc(t->e, t->cap * sizeof *t->e);
  }
  memmove(&t->e[i + 1], &t->e[i], (t->n - i) * sizeof *t->e);
  t->e[i] = (entry){jx_xstrdup(name), text};
  t->n++;
  return &t->e[i];
}

static int read_packed(const char *path, table *t) {
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT
               ? 0
               : jx_err_set(JX_ESTORE, "%s: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  entry *last = NULL;
  int rc = 0;
  while ((len = getline(&line, &cap, f)) > 0) {
    if (line[len - 1] != '\n') {
      rc = jx_err_set(JX_ESTORE, "%s: the last line is cut short", path);
      break;
    }
    if (line[0] == '#') {
      free(t->header);
      t->header = jx_xstrdup(line);
    } else if (line[0] == '^' && last) {
      jx_buf b = JX_BUF_INIT;
      jx_buf_puts(&b, last->text);
      jx_buf_puts(&b, line);
      free(last->text);
      last->text = b.data;
    } else if (len > GIT_OID_HEXSZ + 2 && line[GIT_OID_HEXSZ] == ' ') {
      char *text = jx_xstrdup(line);
      line[len - 1] = '\0';
      last = set(t, line + GIT_OID_HEXSZ + 1, text);
    } else {
      rc = jx_err_set(JX_ESTORE, "%s: a line is malformed", path);
      break;
    }
  }
  free(line);
  fclose(f);
  return rc;
}

int jx_refs_open(jx_refs **out, git_repository *repo) {
  git_refdb *db = NULL;
  table all = {0};
  jx_refs *r = jx_xcalloc(1, sizeof *r);
  int rc = 0;
  jx_buf path = JX_BUF_INIT;
  jx_buf_printf(&path, "%spacked-refs", git_repository_path(repo));
  r->path = path.data;
  if (git_repository_refdb(&db, repo) < 0 || git_refdb_compress(db) < 0) {
    const git_error *e = git_error_last();
    rc = jx_err_set(JX_ESTORE, "packing refs: %s", e ? e->message : "?");
  }
  git_refdb_free(db);
  if (rc == 0)
    rc = read_packed(r->path, &all);
  for (size_t i = 0; rc == 0 && i < all.n; i++)
    if (jx_refs_project_id(all.e[i].name)) {
      set(&r->mine, all.e[i].name, all.e[i].text);
      all.e[i].text = NULL;
    }
  table_free(&all);
  if (rc < 0) {
    jx_refs_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

bool jx_refs_has_projects(const jx_refs *r) { return r->mine.n > 0; }

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int jx_refs_set_projects(jx_refs *r, const jx_ref_update *u, size_t n) {
  char name[JX_REFS_NAME_MAX], hex[GIT_OID_HEXSZ + 1];
  for (size_t i = 0; i < n; i++) {
    jx_refs_project(name, sizeof name, u[i].id);
    git_oid_tostr(hex, sizeof hex, &u[i].head);
    jx_buf line = JX_BUF_INIT;
    jx_buf_printf(&line, "%s %s\n", hex, name);
    set(&r->mine, name, line.data);
  }
  /* The same lock protocol as git and libgit2: create packed-refs.lock
   * exclusively, then read packed-refs afresh and change only the project
   * refs, so that refs another tool packed meanwhile are kept.  The fsync
   * (one per batch) keeps a power loss from leaving a torn file, which
   * would lose every project ref, not only the last batch's. */
  jx_buf lock = JX_BUF_INIT, text = JX_BUF_INIT;
  table cur = {0};
  int rc = 0;
  jx_buf_printf(&lock, "%s.lock", r->path);
  int fd = open(lock.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", lock.data, strerror(errno));
    goto cleanup;
  }
  if ((rc = read_packed(r->path, &cur)) < 0) {
    close(fd);
    unlink(lock.data);
    goto cleanup;
  }
  for (size_t i = 0; i < r->mine.n; i++)
    set(&cur, r->mine.e[i].name, jx_xstrdup(r->mine.e[i].text));
  jx_buf_puts(&text, cur.header ? cur.header
                                : "# pack-refs with: peeled fully-peeled "
                                  "sorted \n");
  for (size_t i = 0; i < cur.n; i++)
    jx_buf_puts(&text, cur.e[i].text);
  if ((write_all(fd, text.data, text.len) < 0) | (fsync(fd) < 0) |
      (close(fd) < 0)) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", lock.data, strerror(errno));
    unlink(lock.data);
  } else if (rename(lock.data, r->path) < 0) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", r->path, strerror(errno));
    unlink(lock.data);
  }
cleanup:
  table_free(&cur);
  jx_buf_free(&lock);
  jx_buf_free(&text);
  return rc;
}
