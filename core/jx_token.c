#include "jx_token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_id.h"
#include "jx_value.h"

#define PREFIX "jxt_"
#define HASH_LEN 32 /* crypto_generichash output, bytes */
#define HEX_LEN (2 * HASH_LEN)
#define WHEN "dddd-dd-ddTdd:dd:ddZ" /* the shape of `created` */

typedef struct entry {
  char actor[JX_ID_MAX + 1];
  char hash[HEX_LEN + 1];
  char created[sizeof WHEN];
} entry;

typedef struct table {
  entry *e; /* sorted by actor, owned */
  size_t n, cap;
} table;

static int path_of(char out[4096], const char *store, const char *name) {
  if ((size_t)snprintf(out, 4096, "%s/%s", store, name) >= 4096)
    return jx_err_set(JX_EINVAL, "store path too long: %s", store);
  return 0;
}

static int init(void) {
  if (sodium_init() < 0) /* 1 means already initialised: fine */
    return jx_err_set(JX_ESTORE, "libsodium could not be initialised");
  return 0;
}

/* Lowercase only: that is what sodium_bin2hex writes, and one spelling per
 * token keeps "same token" and "same bytes" the same thing. */
static int is_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

/* Tokens are 256 random bits, so a fast unkeyed hash is enough: a slow
 * password hash only helps against guessing low-entropy secrets. */
static void hash_hex(const char *token, char out[HEX_LEN + 1]) {
  unsigned char h[HASH_LEN];
  crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token),
                     NULL, 0);
  sodium_bin2hex(out, HEX_LEN + 1, h, sizeof h);
}

static int damaged(const char *path, size_t line, const char *why) {
  return jx_err_set(JX_ESTORE, "%s:%zu: damaged tokens file: %s", path, line,
                    why);
}

/* Parses one line [p, end) into e; NULL, or what is wrong with it. */
static const char *parse_line(const char *p, const char *end, entry *e) {
  const char *s1 = memchr(p, ' ', (size_t)(end - p));
  const char *s2 = s1 ? memchr(s1 + 1, ' ', (size_t)(end - s1 - 1)) : NULL;
  if (!s2 || memchr(s2 + 1, ' ', (size_t)(end - s2 - 1)))
    return "expected three fields: actor, hash, created";
  size_t an = (size_t)(s1 - p), wn = (size_t)(end - s2 - 1);
  if (an == 0 || an > JX_ID_MAX)
    return "invalid actor";
  memcpy(e->actor, p, an);
  e->actor[an] = '\0';
  if (jx_id_check("actor", e->actor) < 0)
    return "invalid actor";
  if (s2 - s1 - 1 != HEX_LEN || !is_hex(s1 + 1, HEX_LEN))
    return "hash is not 64 lowercase hex digits";
  memcpy(e->hash, s1 + 1, HEX_LEN);
  e->hash[HEX_LEN] = '\0';
  if (wn != sizeof WHEN - 1)
    return "created is not YYYY-MM-DDTHH:MM:SSZ";
  for (size_t i = 0; i < wn; i++)
    if (WHEN[i] == 'd' ? s2[1 + i] < '0' || s2[1 + i] > '9'
                       : s2[1 + i] != WHEN[i])
      return "created is not YYYY-MM-DDTHH:MM:SSZ";
  memcpy(e->created, s2 + 1, wn);
  e->created[wn] = '\0';
  return NULL;
}

/* Reads <store>/tokens into t; *missing (if given) says the file does not
 * exist, which is an empty table, not an error. */
static int load(const char *store, table *t, int *missing) {
  char path[4096];
  int rc = path_of(path, store, "tokens");
  if (rc < 0)
    return rc;
  jx_buf b = JX_BUF_INIT;
  int err = jx_buf_read_file(&b, path, JX_FILE_MAX);
  if (missing)
    *missing = err == ENOENT;
  if (err && err != ENOENT) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", path, strerror(err));
    goto cleanup;
  }
  size_t line = 0;
  const char *p = b.data, *end = b.len ? b.data + b.len : b.data;
  while (p != end) {
    line++;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *why = NULL;
    entry e;
    if (!eol)
      why = "last line is incomplete";
    else if (memchr(p, '\0', (size_t)(eol - p)))
      why = "NUL byte";
    else if (!(why = parse_line(p, eol, &e)) && t->n &&
             strcmp(t->e[t->n - 1].actor, e.actor) >= 0)
      why = "actors not in order or repeated";
    if (why) {
      rc = damaged(path, line, why);
      goto cleanup;
    }
    if (t->n == t->cap) {
      t->cap = t->cap ? 2 * t->cap : 16;
      t->e = jx_xrealloc(t->e, t->cap * sizeof *t->e);
    }
    t->e[t->n++] = e;
    p = eol + 1;
  }
cleanup:
  jx_buf_free(&b);
  return rc;
}

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

/* Replaces <store>/tokens by t: a crash leaves the old file or the new,
 * and once this returns 0 a revocation survives a power loss. */
static int save(const char *store, const table *t) {
  char tmp[4096], path[4096];
  int rc;
  if ((rc = path_of(tmp, store, "tokens.tmp")) < 0 ||
      (rc = path_of(path, store, "tokens")) < 0)
    return rc;
  jx_buf b = JX_BUF_INIT;
  for (size_t i = 0; i < t->n; i++)
    jx_buf_printf(&b, "%s %s %s\n", t->e[i].actor, t->e[i].hash,
                  t->e[i].created);
  /* We hold the lock, so a tokens.tmp is a crashed writer's: O_EXCL after
   * unlink guarantees our 0600, which O_TRUNC on an old file would not. */
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write_all(fd, b.data ? b.data : "", b.len) < 0 ||
      fsync(fd) < 0) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", tmp, strerror(errno));
    if (fd >= 0)
      close(fd);
    unlink(tmp);
  } else if (close(fd) < 0 || rename(tmp, path) < 0) {
    rc = jx_err_set(JX_ESTORE, "%s: %s", path, strerror(errno));
    unlink(tmp);
  } else {
    int dfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
      rc = jx_err_set(JX_ESTORE, "%s: cannot sync: %s", store, strerror(errno));
    if (dfd >= 0)
      close(dfd);
  }
  jx_buf_free(&b);
  return rc;
}

/* Under the lock: read, set (add != NULL) or remove actor, write. */
static int update(const char *store, const char *actor, const entry *add) {
  char lock[4096];
  int rc = path_of(lock, store, "tokens.lock");
  if (rc < 0)
    return rc;
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return jx_err_set(JX_ESTORE, "%s: %s", lock, strerror(errno));
  table t = {0};
  int l;
  while ((l = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
    ;
  if (l < 0) {
    rc = jx_err_set(JX_ESTORE, "%s: cannot lock: %s", lock, strerror(errno));
    goto cleanup;
  }
  if ((rc = load(store, &t, NULL)) < 0)
    goto cleanup;
  size_t i = 0;
  while (i < t.n && strcmp(t.e[i].actor, actor) < 0)
    i++;
  int found = i < t.n && strcmp(t.e[i].actor, actor) == 0;
  if (add && found) {
    t.e[i] = *add;
  } else if (add) {
    t.e = jx_xrealloc(t.e, (t.n + 1) * sizeof *t.e);
    memmove(&t.e[i + 1], &t.e[i], (t.n - i) * sizeof *t.e);
    t.e[i] = *add;
    t.n++;
  } else if (found) {
    memmove(&t.e[i], &t.e[i + 1], (t.n - i - 1) * sizeof *t.e);
    t.n--;
  } else {
    rc = jx_err_set(JX_ENOTFOUND, "actor %s has no token", actor);
    goto cleanup;
  }
  rc = save(store, &t);
cleanup:
  free(t.e);
  close(fd); /* releases the flock */
  return rc;
}

int jx_token_create(const char *store_path, const char *actor, int64_t now,
                    char token[JX_TOKEN_LEN + 1]) {
  int rc;
  if ((rc = jx_id_check("actor", actor)) < 0 || (rc = init()) < 0)
    return rc;
  time_t tt = (time_t)now;
  struct tm tm;
  if (now < 0 || (int64_t)tt != now || !gmtime_r(&tt, &tm) ||
      tm.tm_year + 1900 > 9999)
    return jx_err_set(JX_EINVAL, "token time out of range: %lld",
                      (long long)now);
  entry e;
  snprintf(e.actor, sizeof e.actor, "%s", actor);
  strftime(e.created, sizeof e.created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  unsigned char rnd[32];
  char tok[JX_TOKEN_LEN + 1] = PREFIX;
  randombytes_buf(rnd, sizeof rnd);
  sodium_bin2hex(tok + strlen(PREFIX), sizeof tok - strlen(PREFIX), rnd,
                 sizeof rnd);
  hash_hex(tok, e.hash);
  if ((rc = update(store_path, actor, &e)) == 0)
    memcpy(token, tok, sizeof tok);
  sodium_memzero(rnd, sizeof rnd);
  sodium_memzero(tok, sizeof tok);
  return rc;
}

int jx_token_revoke(const char *store_path, const char *actor) {
  int rc = jx_id_check("actor", actor);
  return rc < 0 ? rc : update(store_path, actor, NULL);
}

int jx_token_check(const char *store_path, const char *token, char *actor,
                   size_t size) {
  int rc;
  if ((rc = init()) < 0)
    return rc;
  /* The message never quotes the token: it would end up in logs. */
  if (strlen(token) != JX_TOKEN_LEN ||
      strncmp(token, PREFIX, strlen(PREFIX)) != 0 ||
      !is_hex(token + strlen(PREFIX), HEX_LEN))
    return jx_err_set(JX_EAUTH, "malformed token: expected \"" PREFIX
                                "\" and 64 lowercase hex digits");
  table t = {0};
  int missing;
  if ((rc = load(store_path, &t, &missing)) < 0)
    goto cleanup;
  if (missing) {
    rc = jx_err_set(JX_EAUTH, "no tokens have been created for this store "
                              "(jx token create ACTOR)");
    goto cleanup;
  }
  char h[HEX_LEN + 1];
  hash_hex(token, h);
  size_t hit = t.n;
  for (size_t i = 0; i < t.n; i++)
    if (sodium_memcmp(h, t.e[i].hash, HEX_LEN) == 0)
      hit = i;
  if (hit == t.n)
    rc = jx_err_set(JX_EAUTH, "unknown or revoked token");
  else if ((size_t)snprintf(actor, size, "%s", t.e[hit].actor) >= size)
    rc = jx_err_set(JX_EINVAL, "actor name buffer too small");
cleanup:
  free(t.e);
  return rc;
}

int jx_token_list(const char *store_path, jx_token_cb cb, void *payload) {
  table t = {0};
  int rc = load(store_path, &t, NULL);
  for (size_t i = 0; rc == 0 && i < t.n; i++)
    rc = cb(t.e[i].actor, t.e[i].created, payload);
  free(t.e);
  return rc;
}
