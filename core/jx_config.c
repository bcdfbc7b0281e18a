#include "jx_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_id.h"
#include "jx_toml.h"

#define DEFAULT_MAX_BATCH 1000
#define DEFAULT_MAX_FRAME 1048576
#define DEFAULT_LOCK_WAIT_MS 10000
#define DEFAULT_PLUGIN_DIR "plugins"
#define DEFAULT_SOCKET "jx.sock" /* inside the store */
#define DEFAULT_RPC_FRAME (8 * 1024 * 1024)
#define DEFAULT_WRITE_BUFFER (8 * 1024 * 1024)
#define DEFAULT_MAX_CLIENTS 1024
#define DEFAULT_TICK_S 60
#define DEFAULT_AUTH_S 10
#define DEFAULT_MAX_INSTRUCTIONS 1000000
#define DEFAULT_MAX_MEMORY (16 * 1024 * 1024)
#define DEFAULT_MAX_MS 200

#define LEN(a) (sizeof(a) / sizeof *(a))

/* A table of the file being read: the value, where it sits (for the
 * positions in messages) and how messages name it. */
typedef struct table {
  const jx_toml_doc *doc;
  const jx_value *map; /* NULL when absent: each key then reads as missing */
  const char *keys[4]; /* path from the root; one slot is left for a key */
  size_t depth;        /* segments used in keys */
  const char *label;   /* "[store]", "plugin \"r2\"", NULL for the root */
} table;

/* Refuses `key` of t (t itself when key is NULL), pointing at it. */
__attribute__((format(printf, 3, 4))) static int
fail(const table *t, const char *key, const char *fmt, ...) {
  char msg[JX_ERR_MSG_MAX]; /* args may point into jx_err's message */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *keys[5];
  size_t n = t->depth;
  memcpy(keys, t->keys, n * sizeof *keys);
  if (key)
    keys[n++] = key;
  return jx_toml_error_at(t->doc, keys, n, "%s", msg);
}

/* How a TOML user calls the type: a jx map is a TOML table. */
static const char *type_name(jx_type type) {
  return type == JX_MAP ? "table" : jx_type_name(type);
}

/* The article that goes with type_name(type). */
static const char *a_type(jx_type type) {
  return type == JX_ARRAY || type == JX_INT ? "an" : "a";
}

/* Sets *out to the value of key in t, or to NULL when t has no such key
 * and it is optional.  A value of another type is refused. */
static int field(const table *t, const char *key, jx_type type, bool required,
                 const jx_value **out) {
  const jx_value *v = jx_map_get(t->map, key);
  *out = NULL;
  if (!v) {
    if (required)
      return fail(t, NULL, "%s has no %s, which is required", t->label, key);
    return 0;
  }
  if (v->type != type)
    return fail(t, key, "%s%s%s must be %s %s, not %s %s",
                t->label ? t->label : "", t->label ? " " : "", key,
                a_type(type), type_name(type), a_type(v->type),
                type_name(v->type));
  *out = v;
  return 0;
}

/* A non-empty string usable as a C string; *out is NULL when absent. */
static int str_field(const table *t, const char *key, bool required,
                     const char **out) {
  const jx_value *v;
  int rc = field(t, key, JX_STR, required, &v);
  *out = NULL;
  if (rc != 0 || !v)
    return rc;
  if (v->u.s.len == 0)
    return fail(t, key, "%s %s is empty", t->label, key);
  if (strlen(v->u.s.ptr) != v->u.s.len)
    return fail(t, key, "%s %s contains a NUL byte", t->label, key);
  *out = v->u.s.ptr;
  return 0;
}

/* A positive integer no larger than max; `dflt` when absent. */
static int count_field(const table *t, const char *key, uint64_t max,
                       uint64_t dflt, uint64_t *out) {
  const jx_value *v;
  int rc = field(t, key, JX_INT, false, &v);
  if (rc != 0)
    return rc;
  if (!v) {
    *out = dflt;
    return 0;
  }
  if (v->u.i <= 0)
    return fail(t, key, "%s %s must be positive, not %" PRId64, t->label, key,
                v->u.i);
  if ((uint64_t)v->u.i > max)
    return fail(t, key, "%s %s is too large: %" PRId64 " > %" PRIu64, t->label,
                key, v->u.i, max);
  *out = (uint64_t)v->u.i;
  return 0;
}

/* Typo protection: a misspelt key would otherwise be silently ignored and
 * its default used instead. */
static int known_keys(const table *t, const char *const *known, size_t n) {
  for (size_t i = 0; t->map && i < t->map->u.m.len; i++) {
    const char *key = t->map->u.m.items[i].key;
    size_t j = 0;
    while (j < n && strcmp(key, known[j]) != 0)
      j++;
    if (j < n)
      continue;
    jx_buf list = JX_BUF_INIT;
    for (j = 0; j < n; j++)
      jx_buf_printf(&list, "%s%s", j ? ", " : "", known[j]);
    int rc = t->label
                 ? fail(t, key, "unknown key \"%s\" in %s; known keys: %s", key,
                        t->label, list.data)
                 : fail(t, key, "unknown section \"%s\"; known sections: %s",
                        key, list.data);
    jx_buf_free(&list);
    return rc;
  }
  return 0;
}

static table root_table(const jx_toml_doc *doc) {
  return (table){.doc = doc, .map = jx_toml_root(doc)};
}

/* The top-level table `name` into *out; an absent one reads as empty. */
static int section(const jx_toml_doc *doc, const char *name, const char *label,
                   table *out) {
  const table root = root_table(doc);
  *out = (table){.doc = doc, .keys = {name}, .depth = 1, .label = label};
  return field(&root, name, JX_MAP, false, &out->map);
}

/* `p` as written when absolute, else `base/p`. */
static char *resolve(const char *base, const char *p) {
  if (p[0] == '/')
    return jx_xstrdup(p);
  size_t n = strlen(base);
  jx_buf b = JX_BUF_INIT;
  jx_buf_printf(&b, "%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", p);
  return b.data;
}

/* Absolute, so that resolved paths survive a later chdir. */
static int set_dir(jx_config *c) {
  const char *slash = strrchr(c->path, '/');
  jx_buf d = JX_BUF_INIT;
  if (!slash)
    jx_buf_puts(&d, ".");
  else if (slash == c->path)
    jx_buf_puts(&d, "/");
  else
    jx_buf_append(&d, c->path, (size_t)(slash - c->path));
  c->dir = realpath(d.data, NULL);
  int err = errno;
  jx_buf_free(&d);
  if (!c->dir)
    return jx_err_set(JX_EINVAL, "%s: cannot resolve its directory: %s",
                      c->path, strerror(err));
  return 0;
}

static int check_readable(const table *t, const char *key, const char *path);

static int read_store(jx_config *c, const jx_toml_doc *doc) {
  static const char *const known[] = {"path", "max_batch", "max_frame",
                                      "lock_wait_ms", "signing_key"};
  table t;
  const char *path, *key = NULL;
  uint64_t batch, frame, wait;
  int rc;
  if ((rc = section(doc, "store", "[store]", &t)) != 0 ||
      (rc = known_keys(&t, known, LEN(known))) != 0 ||
      (rc = str_field(&t, "path", true, &path)) != 0 ||
      (rc = count_field(&t, "max_batch", SIZE_MAX, DEFAULT_MAX_BATCH,
                        &batch)) != 0 ||
      (rc = count_field(&t, "max_frame", SIZE_MAX, DEFAULT_MAX_FRAME,
                        &frame)) != 0 ||
      (rc = count_field(&t, "lock_wait_ms", UINT32_MAX, DEFAULT_LOCK_WAIT_MS,
                        &wait)) != 0 ||
      (t.map && jx_map_get(t.map, "signing_key") &&
       (rc = str_field(&t, "signing_key", true, &key)) != 0))
    return rc;
  if (key) {
    c->signing_key = resolve(c->dir, key);
    if ((rc = check_readable(&t, "signing_key", c->signing_key)) != 0)
      return rc;
  }
  c->lock_wait_ms = (uint32_t)wait;
  c->store_path = resolve(c->dir, path);
  c->max_batch = (size_t)batch;
  c->max_frame = (size_t)frame;
  return 0;
}

/* [serve] is optional: a daemon needs nothing configured. */
static int read_serve(jx_config *c, const jx_toml_doc *doc) {
  static const char *const known[] = {"socket", "listen", "max_frame",
                                      "max_write_buffer", "max_clients",
                                      "tick_seconds", "auth_seconds"};
  table t;
  const char *socket, *listen;
  uint64_t frame, wbuf, clients, tick, auth;
  int rc;
  if ((rc = section(doc, "serve", "[serve]", &t)) != 0 ||
      (rc = known_keys(&t, known, LEN(known))) != 0 ||
      (rc = str_field(&t, "socket", false, &socket)) != 0 ||
      (rc = str_field(&t, "listen", false, &listen)) != 0 ||
      (rc = count_field(&t, "max_frame", UINT32_MAX, DEFAULT_RPC_FRAME,
                        &frame)) != 0 ||
      (rc = count_field(&t, "max_write_buffer", SIZE_MAX,
                        DEFAULT_WRITE_BUFFER, &wbuf)) != 0 ||
      (rc = count_field(&t, "max_clients", 65536, DEFAULT_MAX_CLIENTS,
                        &clients)) != 0 ||
      (rc = count_field(&t, "tick_seconds", 86400, DEFAULT_TICK_S, &tick)) !=
          0 ||
      (rc = count_field(&t, "auth_seconds", 3600, DEFAULT_AUTH_S, &auth)) !=
          0)
    return rc;
  c->serve.socket = socket ? resolve(c->dir, socket) : NULL;
  if (listen && !strchr(listen, ':'))
    return fail(&t, "listen", "[serve] listen: expected HOST:PORT, not %s",
                listen);
  c->serve.listen = listen ? jx_xstrdup(listen) : NULL;
  c->serve.max_frame = (size_t)frame;
  c->serve.max_write_buffer = (size_t)wbuf;
  c->serve.max_clients = (unsigned)clients;
  c->serve.tick_seconds = (unsigned)tick;
  c->serve.auth_seconds = (unsigned)auth;
  return 0;
}

/* A file named at `key` is refused now rather than when first used. */
static int check_readable(const table *t, const char *key, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || access(path, R_OK) != 0)
    return fail(t, key, "%s: cannot read %s: %s", t->label, path,
                strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail(t, key, "%s: %s is not a regular file", t->label, path);
  return 0;
}

static int read_workflow(jx_config *c, const jx_toml_doc *doc) {
  static const char *const known[] = {"definition", "plugin_dir", "library"};
  table t;
  const char *definition, *plugin_dir, *library;
  int rc;
  if ((rc = section(doc, "workflow", "[workflow]", &t)) != 0 ||
      (rc = known_keys(&t, known, LEN(known))) != 0 ||
      (rc = str_field(&t, "definition", true, &definition)) != 0 ||
      (rc = str_field(&t, "plugin_dir", false, &plugin_dir)) != 0 ||
      (rc = str_field(&t, "library", false, &library)) != 0)
    return rc;
  c->workflow_path = resolve(c->dir, definition);
  c->plugin_dir = resolve(c->dir, plugin_dir ? plugin_dir : DEFAULT_PLUGIN_DIR);
  if (library) {
    c->library_path = resolve(c->plugin_dir, library);
    if ((rc = check_readable(&t, "library", c->library_path)) != 0)
      return rc;
  }
  return 0;
}

static int read_sandbox(jx_config *c, const jx_toml_doc *doc) {
  static const char *const known[] = {"max_instructions", "max_memory",
                                      "max_ms"};
  table t;
  uint64_t instructions, memory, ms;
  int rc;
  if ((rc = section(doc, "sandbox", "[sandbox]", &t)) != 0 ||
      (rc = known_keys(&t, known, LEN(known))) != 0 ||
      (rc = count_field(&t, "max_instructions", UINT64_MAX,
                        DEFAULT_MAX_INSTRUCTIONS, &instructions)) != 0 ||
      (rc = count_field(&t, "max_memory", SIZE_MAX, DEFAULT_MAX_MEMORY,
                        &memory)) != 0 ||
      (rc = count_field(&t, "max_ms", UINT32_MAX, DEFAULT_MAX_MS, &ms)) != 0)
    return rc;
  c->limits.max_instructions = instructions;
  c->limits.max_memory = (size_t)memory;
  c->limits.max_ms = (uint32_t)ms;
  return 0;
}

static int read_plugin(jx_config *c, const jx_toml_doc *doc, const jx_value *v,
                       size_t i) {
  char idx[24], label[32 + JX_ID_MAX];
  snprintf(idx, sizeof idx, "%zu", i);
  snprintf(label, sizeof label, "[[plugin]] #%zu", i + 1);
  table t = {doc, v, {"plugin", idx}, 2, label};
  if (v->type != JX_MAP)
    return fail(&t, NULL, "%s must be a table, not %s %s", label,
                a_type(v->type), type_name(v->type));
  const char *name, *file;
  int rc = str_field(&t, "name", true, &name);
  if (rc != 0)
    return rc;
  if (jx_id_check("plugin name", name) != 0)
    return fail(&t, "name", "%s", jx_err_last()->msg);
  for (size_t j = 0; j < c->nplugins; j++) {
    if (strcmp(c->plugins[j].name, name) != 0)
      continue;
    char first[24];
    snprintf(first, sizeof first, "%zu", j);
    const char *keys[] = {"plugin", first, "name"};
    unsigned line = 0, col; /* read from this doc, so it has a position */
    jx_toml_pos(doc, keys, 3, &line, &col);
    return fail(&t, "name",
                "plugin name \"%s\" is used twice, first on line %u", name,
                line);
  }
  snprintf(label, sizeof label, "plugin \"%s\"", name);
  if ((rc = str_field(&t, "file", true, &file)) != 0)
    return rc;
  char *path = resolve(c->plugin_dir, file);
  if ((rc = check_readable(&t, "file", path)) != 0) {
    free(path);
    return rc;
  }
  const jx_value *guard_on;
  if ((rc = field(&t, "guard_on", JX_ARRAY, false, &guard_on)) != 0) {
    free(path);
    return rc;
  }
  for (size_t k = 0; guard_on && k < guard_on->u.a.len; k++)
    if (guard_on->u.a.items[k].type != JX_STR) {
      free(path);
      return fail(&t, "guard_on", "%s guard_on must list event names",
                  label);
    }
  jx_plugin_conf *p = &c->plugins[c->nplugins++];
  p->name = jx_xstrdup(name);
  p->path = path;
  p->guard_on = guard_on ? jx_value_copy(guard_on) : jx_array();
  p->params = jx_value_copy(v);
  jx_map_del(&p->params, "guard_on");
  jx_map_del(&p->params, "name");
  jx_map_del(&p->params, "file");
  return 0;
}

static int read_plugins(jx_config *c, const jx_toml_doc *doc) {
  const table root = root_table(doc);
  const jx_value *list;
  int rc = field(&root, "plugin", JX_ARRAY, false, &list);
  if (rc != 0 || !list)
    return rc;
  c->plugins = jx_xmalloc(list->u.a.len * sizeof *c->plugins);
  for (size_t i = 0; i < list->u.a.len; i++)
    if ((rc = read_plugin(c, doc, &list->u.a.items[i], i)) != 0)
      return rc;
  return 0;
}

/* An actor is a role and a scope: every other key (department = "...",
 * unit = "...") must equal the project's field of that name for the actor
 * to act on it. */
static int read_actor(jx_config *c, const jx_toml_doc *doc,
                      const jx_pair *entry) {
  char label[16 + JX_ID_MAX];
  table t = {doc, &entry->val, {"actors", entry->key}, 2, NULL};
  if (jx_id_check("actor", entry->key) != 0)
    return fail(&t, NULL, "%s", jx_err_last()->msg);
  snprintf(label, sizeof label, "actor \"%s\"", entry->key);
  t.label = label;
  if (entry->val.type != JX_MAP)
    return fail(&t, NULL,
                "%s must be a table such as { role = \"unit\" }, not %s %s",
                label, a_type(entry->val.type), type_name(entry->val.type));
  const char *role, *ignored;
  int rc;
  if ((rc = str_field(&t, "role", true, &role)) != 0)
    return rc;
  for (size_t i = 0; i < entry->val.u.m.len; i++)
    if ((rc = str_field(&t, entry->val.u.m.items[i].key, true, &ignored)) != 0)
      return rc;
  jx_actor_conf *a = &c->actors[c->nactors++];
  a->name = jx_xstrdup(entry->key);
  a->role = jx_xstrdup(role);
  a->scope = jx_value_copy(&entry->val);
  jx_map_del(&a->scope, "role");
  return 0;
}

static int read_actors(jx_config *c, const jx_toml_doc *doc) {
  const table root = root_table(doc);
  const jx_value *map;
  int rc = field(&root, "actors", JX_MAP, false, &map);
  if (rc != 0 || !map)
    return rc;
  /* Map keys are sorted, so the actors come out sorted for bsearch. */
  c->actors = jx_xmalloc(map->u.m.len * sizeof *c->actors);
  for (size_t i = 0; i < map->u.m.len; i++)
    if ((rc = read_actor(c, doc, &map->u.m.items[i])) != 0)
      return rc;
  return 0;
}

/* "MM-DD" of the fiscal year as a date "YYYY-MM-DD", or NULL. */
static char *calendar_date(int64_t year, const char *md) {
  int m, d, n = 0;
  for (int i = 0; i < 5; i++)
    if (i == 2 ? md[i] != '-' : !(md[i] >= '0' && md[i] <= '9'))
      return NULL;
  if (sscanf(md, "%2d-%2d%n", &m, &d, &n) != 2 || n != 5 || md[n] || m < 1 ||
      m > 12 || d < 1)
    return NULL;
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (d > days[m - 1] || (m == 2 && d == 29 && !leap))
    return NULL;
  jx_buf b = JX_BUF_INIT;
  jx_buf_printf(&b, "%04" PRId64 "-%02d-%02d", year, m, d);
  return b.data;
}

static int read_timer(jx_config *c, const jx_toml_doc *doc, const jx_value *v,
                      size_t i) {
  static const char *const known[] = {"name", "date", "event", "states",
                                      "where"};
  char idx[24], label[48];
  snprintf(idx, sizeof idx, "%zu", i);
  snprintf(label, sizeof label, "[[calendar.timer]] #%zu", i + 1);
  table t = {doc, v, {"calendar", "timer", idx}, 3, label};
  if (v->type != JX_MAP)
    return fail(&t, NULL, "%s must be a table", label);
  const char *name, *date, *event;
  const jx_value *states, *where;
  int rc;
  if ((rc = known_keys(&t, known, LEN(known))) != 0 ||
      (rc = str_field(&t, "name", true, &name)) != 0 ||
      (rc = str_field(&t, "date", true, &date)) != 0 ||
      (rc = str_field(&t, "event", true, &event)) != 0 ||
      (rc = field(&t, "states", JX_ARRAY, true, &states)) != 0 ||
      (rc = field(&t, "where", JX_MAP, false, &where)) != 0)
    return rc;
  if (jx_id_check("timer name", name) != 0)
    return fail(&t, "name", "%s", jx_err_last()->msg);
  jx_timer_conf *tm = &c->timers[c->ntimers];
  if (!(tm->date = calendar_date(c->fiscal_year, date)))
    return fail(&t, "date", "%s date \"%s\" is not a day of %" PRId64
                            " as MM-DD",
                label, date, c->fiscal_year);
  c->ntimers++;
  tm->name = jx_xstrdup(name);
  tm->event = jx_xstrdup(event);
  tm->states = jx_value_copy(states);
  tm->where = where ? jx_value_copy(where) : jx_map();
  for (size_t k = 0; k < states->u.a.len; k++)
    if (states->u.a.items[k].type != JX_STR)
      return fail(&t, "states", "%s states must be state names", label);
  for (size_t k = 0; k < tm->where.u.m.len; k++)
    if (tm->where.u.m.items[k].val.type != JX_STR)
      return fail(&t, "where", "%s where: field %s must be given a string",
                  label, tm->where.u.m.items[k].key);
  return 0;
}

/* [calendar]: the fiscal year and the timers that turn its dates into
 * events (`jx tick`). */
static int read_calendar(jx_config *c, const jx_toml_doc *doc) {
  static const char *const known[] = {"year", "timer"};
  table t;
  const jx_value *year, *timers;
  int rc;
  if ((rc = section(doc, "calendar", "[calendar]", &t)) != 0 || !t.map)
    return rc;
  if ((rc = known_keys(&t, known, LEN(known))) != 0 ||
      (rc = field(&t, "year", JX_INT, true, &year)) != 0 ||
      (rc = field(&t, "timer", JX_ARRAY, false, &timers)) != 0)
    return rc;
  if (year->u.i < 2000 || year->u.i > 2099)
    return fail(&t, "year", "[calendar] year must be 2000-2099");
  c->fiscal_year = year->u.i;
  if (!timers)
    return 0;
  c->timers = jx_xcalloc(timers->u.a.len, sizeof *c->timers);
  for (size_t i = 0; i < timers->u.a.len; i++)
    if ((rc = read_timer(c, doc, &timers->u.a.items[i], i)) != 0)
      return rc;
  /* Timers fire in date order, a day's timers in file order: a stable
   * insertion sort (qsort is not stable). */
  for (size_t i = 1; i < c->ntimers; i++) {
    jx_timer_conf tm = c->timers[i];
    size_t k = i;
    for (; k > 0 && strcmp(c->timers[k - 1].date, tm.date) > 0; k--)
      c->timers[k] = c->timers[k - 1];
    c->timers[k] = tm;
  }
  return 0;
}

int jx_config_load(jx_config **out, const char *path) {
  static const char *const sections[] = {"store",  "workflow", "sandbox",
                                         "plugin", "actors",   "calendar",
                                         "serve"};
  jx_toml_doc *doc;
  jx_buf source = JX_BUF_INIT;
  int err = jx_buf_read_file(&source, path, JX_FILE_MAX);
  int rc =
      err ? jx_err_set(JX_EINVAL, "%s: cannot read: %s", path, strerror(err))
          : jx_toml_load_string(&doc, source.data ? source.data : "",
                                source.len, path);
  if (rc != 0) {
    jx_buf_free(&source);
    return rc;
  }
  const table root = root_table(doc);
  jx_config *c = jx_xmalloc(sizeof *c);
  *c = (jx_config){.path = jx_xstrdup(path), .source = source};
  /* Sections first: "[stroe] is unknown" explains more than "[store] has
   * no path". */
  if ((rc = known_keys(&root, sections, LEN(sections))) == 0 &&
      (rc = set_dir(c)) == 0 && (rc = read_store(c, doc)) == 0 &&
      (rc = read_workflow(c, doc)) == 0 && (rc = read_sandbox(c, doc)) == 0 &&
      (rc = read_plugins(c, doc)) == 0 && (rc = read_actors(c, doc)) == 0 &&
      (rc = read_calendar(c, doc)) == 0 && (rc = read_serve(c, doc)) == 0) {
    *out = c;
    c = NULL;
  }
  jx_config_free(c);
  jx_toml_free(doc);
  return rc;
}

void jx_config_clear_actors(jx_config *c) {
  for (size_t i = 0; i < c->nactors; i++) {
    free(c->actors[i].name);
    free(c->actors[i].role);
    jx_value_free(&c->actors[i].scope);
  }
  free(c->actors);
  c->actors = NULL;
  c->nactors = 0;
}

int jx_config_set_actors(jx_config *c, const jx_value *actors) {
  if (actors->type != JX_MAP)
    return jx_err_set(JX_ESTORE, "the registry of actors is not a map");
  for (size_t i = 0; i < actors->u.m.len; i++) {
    const jx_pair *e = &actors->u.m.items[i];
    bool ok = jx_id_check("actor", e->key) == 0 && e->val.type == JX_MAP &&
              jx_map_str(&e->val, "role");
    for (size_t k = 0; ok && k < e->val.u.m.len; k++)
      ok = e->val.u.m.items[k].val.type == JX_STR;
    if (!ok)
      return jx_err_set(JX_ESTORE,
                        "the registry of actors has a malformed entry for "
                        "\"%s\" (an actor name mapped to role and scope "
                        "strings)",
                        e->key);
  }
  jx_config_clear_actors(c);
  /* Map keys are sorted, so the actors come out sorted for bsearch. */
  c->actors = jx_xmalloc((actors->u.m.len + 1) * sizeof *c->actors);
  for (size_t i = 0; i < actors->u.m.len; i++) {
    const jx_pair *e = &actors->u.m.items[i];
    jx_actor_conf *a = &c->actors[c->nactors++];
    a->name = jx_xstrdup(e->key);
    a->role = jx_xstrdup(jx_map_str(&e->val, "role"));
    a->scope = jx_value_copy(&e->val);
    jx_map_del(&a->scope, "role");
  }
  return 0;
}

jx_value jx_config_actors(const jx_config *c) {
  jx_value all = jx_map();
  for (size_t i = 0; i < c->nactors; i++) {
    jx_value a = jx_value_copy(&c->actors[i].scope);
    jx_map_set(&a, "role", jx_str(c->actors[i].role));
    jx_map_set(&all, c->actors[i].name, a);
  }
  return all;
}

static int actor_cmp(const void *name, const void *actor) {
  return strcmp(name, ((const jx_actor_conf *)actor)->name);
}

const jx_actor_conf *jx_config_actor(const jx_config *c, const char *name) {
  if (c->nactors == 0) /* bsearch's base may not be NULL */
    return NULL;
  return bsearch(name, c->actors, c->nactors, sizeof *c->actors, actor_cmp);
}

const char *jx_actor_scope_mismatch(const jx_actor_conf *a,
                                    const jx_value *state) {
  for (size_t i = 0; i < a->scope.u.m.len; i++) {
    const jx_pair *p = &a->scope.u.m.items[i];
    const char *theirs = jx_map_str(state, p->key);
    if (theirs && strcmp(p->val.u.s.ptr, theirs) != 0)
      return p->key;
  }
  return NULL;
}

const jx_plugin_conf *jx_config_plugin(const jx_config *c, const char *name) {
  for (size_t i = 0; i < c->nplugins; i++)
    if (strcmp(c->plugins[i].name, name) == 0)
      return &c->plugins[i];
  return NULL;
}

char *jx_config_socket(const jx_config *c) {
  return c->serve.socket ? jx_xstrdup(c->serve.socket)
                         : resolve(c->store_path, DEFAULT_SOCKET);
}

void jx_config_free(jx_config *c) {
  if (!c)
    return;
  free(c->serve.socket);
  free(c->serve.listen);
  for (size_t i = 0; i < c->nplugins; i++) {
    free(c->plugins[i].name);
    free(c->plugins[i].path);
    jx_value_free(&c->plugins[i].guard_on);
    jx_value_free(&c->plugins[i].params);
  }
  jx_config_clear_actors(c);
  free(c->plugins);
  jx_buf_free(&c->source);
  free(c->path);
  free(c->dir);
  free(c->store_path);
  free(c->signing_key);
  free(c->workflow_path);
  for (size_t i = 0; i < c->ntimers; i++) {
    free(c->timers[i].name);
    free(c->timers[i].date);
    free(c->timers[i].event);
    jx_value_free(&c->timers[i].states);
    jx_value_free(&c->timers[i].where);
  }
  free(c->timers);
  free(c->library_path);
  free(c->plugin_dir);
  free(c);
}
