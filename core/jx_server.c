/* The daemon: see jx_server.h and docs/PROTOCOL.md. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "jx_codec.h"
#include "jx_date.h"
#include "jx_err.h"
#include "jx_inbox.h"
#include "jx_query.h"
#include "jx_refs.h"
#include "jx_rpc.h"
#include "jx_server.h"
#include "jx_token.h"
#include "jx_versions.h"

#define READ_CHUNK 65536
/* Before auth a client sends one small request: a bigger frame from a
 * stranger is refused rather than buffered and scanned. */
#define PREAUTH_MAX_FRAME 4096
#define MAX_SUBS 64      /* subscriptions per connection */
#define DRAIN_MS 5000    /* how long SIGTERM waits for clients to read */

typedef struct conn conn;

/* A subscription: to a project, a department, or the actor's inbox (then
 * `inbox` holds the projects last seen in it, to tell when one leaves). */
typedef struct sub {
  int64_t id;
  char kind; /* 'p', 'd' or 'i' */
  char *value;
  jx_value inbox; /* map: project id -> true */
  struct sub *next;
} sub;

struct conn {
  union {
    uv_stream_t stream;
    uv_pipe_t pipe;
    uv_tcp_t tcp;
  } h;
  jx_server *srv;
  unsigned long no; /* for the log */
  char *in;         /* bytes read, from `off` on not yet a whole frame */
  size_t len, cap, off;
  size_t need; /* bytes from `off` on before the frame can be whole */
  char actor[JX_ID_MAX + 1]; /* "" until authenticated */
  uint64_t accepted_ms;      /* uv_now when accepted */
  char token[JX_TOKEN_LEN + 1];
  struct timespec tokens_at; /* the tokens file's mtime when it was checked */
  unsigned refs;  /* the handle, each call in flight, each pending write */
  unsigned calls; /* calls in flight */
  unsigned nsubs;
  bool closing;
  bool finishing; /* end once the calls in flight are answered */
  bool shutting;  /* uv_shutdown pending */
  uv_shutdown_t shutdown;
  sub *subs;
  conn *prev, *next;
};

typedef struct call call;

/* The payload of a tick's callbacks. */
typedef struct tick_call {
  call *k; /* NULL: the real clock */
  jx_server *s;
} tick_call;

struct jx_server {
  uv_loop_t *loop;
  jx_config *cfg;
  jx_store *store;
  jx_engine *engine;
  bool virtual_clock, draining;
  char *socket_path;
  uv_pipe_t unix_h;
  uv_tcp_t tcp_h;
  bool has_tcp;
  uv_signal_t sigterm, sigint;
  uv_timer_t clock, drain, sweep;
  conn *conns;
  unsigned nconns;
  unsigned long next_conn;
  int64_t next_sub;
  size_t inflight;  /* calls and real-clock events waiting for a batch */
  bool has_vtime;    /* virtual clock: the time of the last tick */
  int64_t vtime;
  bool bound;        /* the socket file is ours to remove */
  tick_call clock_tick; /* the payload of the real clock's events */
};


/* A call waiting for durable writes: one response when all are in. */
struct call {
  conn *c;
  uint32_t msgid;
  jx_value results; /* do, submit: one slot per project, in order */
  jx_value rows;    /* tick */
  size_t pending;   /* writes not yet durable, +1 while deciding */
  size_t refused, failed;
  jx_value error; /* the whole call failed after some of it was queued */
  tick_call tick;
};

typedef struct item {
  call *call;
  size_t index;
  char actor[JX_ID_MAX + 1];
} item;

static void say(const jx_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const jx_server *s, const char *fmt, ...) {
  va_list ap;
  (void)s;
  va_start(ap, fmt);
  fputs("jx serve: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* --- connections ----------------------------------------------------------
 */

static void sub_free(sub *u) {
  free(u->value);
  jx_value_free(&u->inbox);
  free(u);
}

static void drop_subs(conn *c) {
  for (sub *u = c->subs, *next; u; u = next) {
    next = u->next;
    sub_free(u);
  }
  c->subs = NULL;
  c->nsubs = 0;
}

static void conn_unref(conn *c) {
  if (--c->refs)
    return;
  drop_subs(c);
  free(c->in);
  free(c);
}

static void closed(uv_handle_t *h) {
  conn *c = h->data;
  jx_server *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->nconns--;
  conn_unref(c);
  /* The last client gone at shutdown: the drain timer is not needed. */
  if (s->draining && !s->conns && !s->inflight && s->drain.loop &&
      !uv_is_closing((uv_handle_t *)&s->drain))
    uv_close((uv_handle_t *)&s->drain, NULL);
}

static void conn_close(conn *c, const char *why) {
  if (c->closing)
    return;
  c->closing = true;
  if (why)
    say(c->srv, "client %lu%s%s: %s", c->no, *c->actor ? " as " : "",
        c->actor, why);
  uv_close((uv_handle_t *)&c->h, closed);
}

/* Closes once what is written has gone out (a response that says why
 * comes before the end of the connection). */
static void shut_done(uv_shutdown_t *req, int status) {
  (void)status;
  conn_close(req->data, NULL);
}

/* Ends the connection once its calls in flight are answered and what is
 * written has gone out. */
static void conn_finish(conn *c) {
  if (c->closing || c->shutting)
    return;
  uv_read_stop(&c->h.stream);
  c->finishing = true;
  if (c->calls)
    return; /* call_done comes back here */
  c->shutting = true;
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, &c->h.stream, shut_done) < 0)
    conn_close(c, NULL);
}

typedef struct wreq {
  uv_write_t req;
  conn *c;
  size_t len;
  char data[];
} wreq;

static void written(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;
  conn *c = w->c;
  if (status < 0 && status != UV_ECANCELED)
    conn_close(c, uv_strerror(status));
  free(w);
  conn_unref(c);
}

/* Sends msg; a client that lets more than max_write_buffer bytes pile up
 * (what the kernel has not taken yet: libuv's write queue) is not reading,
 * and is let go rather than let hold memory. */
static void send_msg(conn *c, const jx_value *msg) {
  jx_buf b = JX_BUF_INIT;
  if (c->closing)
    return;
  if (jx_codec_encode(&b, msg, UINT32_MAX) < 0) {
    /* The engine keeps fields shallow enough (JX_FIELD_MAX_DEPTH) for
     * this not to happen; if it does, the client hears of it. */
    say(c->srv, "client %lu: an answer could not be encoded: %s", c->no,
        jx_err_last()->msg);
    conn_close(c, NULL);
    return;
  }
  /* One answer bigger than the limit goes to a client that has read the
   * ones before: it is not the client's fault. */
  size_t queued = uv_stream_get_write_queue_size(&c->h.stream);
  if (queued && queued + b.len > c->srv->cfg->serve.max_write_buffer) {
    jx_buf_free(&b);
    conn_close(c, "disconnected: it does not read its responses "
                  "([serve] max_write_buffer)");
    return;
  }
  wreq *w = jx_xmalloc(sizeof *w + b.len);
  w->c = c;
  w->len = b.len;
  memcpy(w->data, b.data, b.len);
  jx_buf_free(&b);
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
  c->refs++;
  int rc = uv_write(&w->req, &c->h.stream, &buf, 1, written);
  if (rc < 0) {
    free(w);
    conn_unref(c);
    conn_close(c, uv_strerror(rc));
  }
}

static void respond(conn *c, uint32_t msgid, jx_value error, jx_value result) {
  jx_value m = jx_rpc_response(msgid, error, result);
  send_msg(c, &m);
  jx_value_free(&m);
}

static void respond_err(conn *c, uint32_t msgid, int rc,
                        const jx_verdict *refusal, const char *subject) {
  respond(c, msgid, jx_rpc_error(rc, jx_err_last()->msg, refusal, subject),
          jx_nil());
}

/* --- notifications --------------------------------------------------------
 */

static const jx_actor_conf *conn_actor(const conn *c) {
  return jx_config_actor(c->srv->cfg, c->actor);
}

/* Whether the project (its state, with id) waits for the subscriber. */
static bool in_inbox(jx_server *s, const jx_actor_conf *a,
                     const jx_value *state) {
  jx_value projects = jx_array(), rows = jx_array();
  jx_array_push(&projects, jx_value_copy(state));
  bool in = a &&
            jx_inbox_collect(jx_engine_versions(s->engine), s->store, s->cfg,
                             a, &projects, &rows) == 0 &&
            rows.u.a.len > 0;
  jx_err_clear();
  jx_value_free(&projects);
  jx_value_free(&rows);
  return in;
}

static bool concerns(jx_server *s, conn *c, sub *u, const jx_outcome *o,
                     const jx_value *state) {
  switch (u->kind) {
  case 'p':
    return strcmp(u->value, o->project) == 0;
  case 'd': {
    const char *d = jx_map_str(o->state, "department");
    return d && strcmp(u->value, d) == 0;
  }
  default: {
    bool was = jx_map_get(&u->inbox, o->project) != NULL;
    bool now = in_inbox(s, conn_actor(c), state);
    if (now)
      jx_map_set(&u->inbox, o->project, jx_bool(true));
    else if (was)
      jx_map_del(&u->inbox, o->project);
    return was || now;
  }
  }
}

static int still_valid(conn *c);

/* Runs for every durable change the daemon makes, in commit order. */
static void notify(jx_server *s, const jx_outcome *o, const char *actor) {
  jx_value state = jx_value_copy(o->state);
  jx_map_set(&state, "id", jx_str(o->project));
  for (conn *c = s->conns; c; c = c->next) {
    if (c->subs && still_valid(c) < 0)
      drop_subs(c); /* revoked: it hears nothing more */
    for (sub *u = c->subs; u && !c->closing; u = u->next) {
      if (!concerns(s, c, u, o, &state))
        continue;
      jx_value n = jx_map();
      jx_map_set(&n, "subscription", jx_int(u->id));
      jx_map_set(&n, "project", jx_str(o->project));
      jx_map_set(&n, "event", jx_str(o->event));
      jx_map_set(&n, "actor", jx_str(actor));
      jx_map_set(&n, "from", jx_str(o->from));
      jx_map_set(&n, "to", jx_str(o->to));
      jx_map_set(&n, "commit", jx_str(git_oid_tostr_s(o->commit)));
      jx_map_set(&n, "time", jx_str(o->time));
      jx_value m = jx_rpc_notification("changed", n);
      send_msg(c, &m);
      jx_value_free(&m);
    }
  }
  jx_value_free(&state);
}

/* --- calls that write -----------------------------------------------------
 */

static void finish_drain(jx_server *s);

static call *call_new(conn *c, uint32_t msgid, size_t n) {
  call *k = jx_xcalloc(1, sizeof *k);
  k->c = c;
  k->msgid = msgid;
  k->results = jx_array();
  k->rows = jx_array();
  for (size_t i = 0; i < n; i++)
    jx_array_push(&k->results, jx_nil());
  k->pending = 1; /* deciding */
  c->refs++;
  c->calls++;
  c->srv->inflight++;
  return k;
}

/* Answers the call once nothing of it is pending. */
static void call_done(call *k) {
  if (--k->pending)
    return;
  conn *c = k->c;
  jx_server *s = c->srv;
  jx_value r = jx_map();
  if (k->tick.k) {
    jx_map_set(&r, "made", k->rows);
    jx_map_set(&r, "refused", jx_int((int64_t)k->refused));
    jx_map_set(&r, "failed", jx_int((int64_t)k->failed));
    k->rows = jx_nil();
  } else {
    jx_map_set(&r, "results", k->results);
    k->results = jx_nil();
  }
  if (k->error.type == JX_MAP) {
    jx_value_free(&r);
    respond(c, k->msgid, k->error, jx_nil());
    k->error = jx_nil();
  } else {
    respond(c, k->msgid, jx_nil(), r);
  }
  jx_value_free(&k->results);
  jx_value_free(&k->rows);
  free(k);
  c->calls--;
  if (c->finishing && !c->calls)
    conn_finish(c);
  conn_unref(c);
  s->inflight--;
  if (s->draining && !s->inflight)
    finish_drain(s);
}

/* A project of a call that was not made: {project, event, error}. */
static jx_value error_item(int rc, const char *project, const char *event,
                           const jx_verdict *refusal) {
  char subject[512];
  snprintf(subject, sizeof subject, "%.200s %.200s", project, event);
  jx_value v = jx_map();
  jx_map_set(&v, "project", jx_str(project));
  jx_map_set(&v, "event", jx_str(event));
  jx_map_set(&v, "error",
             jx_rpc_error(rc, jx_err_last()->msg, refusal, subject));
  return v;
}

static void item_done(const jx_outcome *o, void *payload) {
  item *it = payload;
  call *k = it->call;
  jx_value *slot = &k->results.u.a.items[it->index];
  if (o->code < 0) {
    *slot = error_item(o->code, o->project, o->event, NULL);
  } else {
    *slot = jx_rpc_outcome(o);
    notify(k->c->srv, o, it->actor);
  }
  free(it);
  call_done(k);
}

/* Decides one project of a call; an accepted one answers later. */
static void call_apply(call *k, size_t index, jx_request *req) {
  jx_verdict refusal = {0};
  item *it = jx_xcalloc(1, sizeof *it);
  it->call = k;
  it->index = index;
  snprintf(it->actor, sizeof it->actor, "%s", req->actor);
  int rc = jx_engine_apply(k->c->srv->engine, req, &refusal, item_done, it);
  if (rc == 0) {
    k->pending++;
  } else {
    k->results.u.a.items[index] =
        error_item(rc, req->project ? req->project : "", req->event,
                   &refusal);
    free(it);
  }
  jx_verdict_free(&refusal);
}

/* An event's time: `at`, else the daemon's clock: now, or on a virtual
 * clock the day its last tick reached. */
static int request_time(const jx_server *s, const jx_value *params,
                        int64_t *t) {
  const char *at;
  int rc = jx_rpc_str(params, "at", false, &at);
  if (rc == 0 && !at && s->virtual_clock) {
    if (!s->has_vtime)
      return jx_err_set(JX_EINVAL, "\"at\" is required: the daemon runs on "
                                   "a virtual clock that no tick has set");
    *t = s->vtime;
    return 0;
  }
  return rc ? rc : jx_date_parse("at", at, t);
}

/* The ids of `projects` (an array of strings), each once. */
static int project_ids(const jx_value *params, size_t max,
                       const jx_value **ids) {
  int rc = jx_rpc_get(params, "projects", JX_ARRAY, true, ids);
  /* A call is at most a batch: that also bounds the check for repeats. */
  if (rc == 0 && (*ids)->u.a.len > max)
    return jx_err_set(JX_EINVAL,
                      "projects: %zu ids, more than [store] max_batch (%zu) "
                      "in one call",
                      (*ids)->u.a.len, max);
  for (size_t i = 0; rc == 0 && i < (*ids)->u.a.len; i++) {
    const jx_value *id = &(*ids)->u.a.items[i];
    if (id->type != JX_STR)
      return jx_err_set(JX_EINVAL, "projects[%zu] is a %s, not a string", i,
                        jx_type_name(id->type));
    if (strlen(id->u.s.ptr) != id->u.s.len)
      return jx_err_set(JX_EINVAL, "projects[%zu] contains a NUL byte", i);
    for (size_t k = 0; k < i; k++)
      if (strcmp((*ids)->u.a.items[k].u.s.ptr, id->u.s.ptr) == 0)
        return jx_err_set(JX_EINVAL, "%.64s is named twice", id->u.s.ptr);
  }
  if (rc == 0 && (*ids)->u.a.len == 0)
    rc = jx_err_set(JX_EINVAL, "do: no project id");
  return rc;
}

static int m_do(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"projects", "event", "set", "at", "as",
                                      NULL};
  const jx_value *ids, *set;
  const char *event;
  int64_t t;
  int rc;
  if ((rc = jx_rpc_known(p, known)) || (rc = project_ids(p, c->srv->cfg->max_batch, &ids)) ||
      (rc = jx_rpc_str(p, "event", true, &event)) ||
      (rc = jx_rpc_get(p, "set", JX_MAP, false, &set)) ||
      (rc = request_time(c->srv, p, &t)))
    return rc;
  call *k = call_new(c, msgid, ids->u.a.len);
  for (size_t i = 0; i < ids->u.a.len; i++) {
    jx_request req = {.project = ids->u.a.items[i].u.s.ptr,
                      .event = event,
                      .actor = c->actor,
                      .time = t,
                      .set = set};
    call_apply(k, i, &req);
  }
  call_done(k);
  return 0;
}

static int m_submit(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"projects", "at", "as", NULL};
  const jx_value *list;
  int64_t t;
  int rc;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_get(p, "projects", JX_ARRAY, true, &list)) ||
      (rc = request_time(c->srv, p, &t)))
    return rc;
  if (list->u.a.len == 0 || list->u.a.len > c->srv->cfg->max_batch)
    return jx_err_set(JX_EINVAL,
                      "submit: 1 to %zu projects ([store] max_batch), not %zu",
                      c->srv->cfg->max_batch, list->u.a.len);
  for (size_t i = 0; i < list->u.a.len; i++) {
    static const char *const item_keys[] = {"id", "fields", NULL};
    const jx_value *one = &list->u.a.items[i];
    if (one->type == JX_MAP && (rc = jx_rpc_known(one, item_keys)))
      return jx_err_wrap("projects[%zu]", i);
    const jx_value *id = one->type == JX_MAP ? jx_map_get(one, "id") : NULL;
    const jx_value *fields =
        one->type == JX_MAP ? jx_map_get(one, "fields") : NULL;
    if (!id || id->type != JX_STR || !fields || fields->type != JX_MAP)
      return jx_err_set(JX_EINVAL,
                        "projects[%zu] is not a map {id = string, fields = "
                        "map}",
                        i);
    if (strlen(id->u.s.ptr) != id->u.s.len)
      return jx_err_set(JX_EINVAL, "projects[%zu].id contains a NUL byte", i);
  }
  call *k = call_new(c, msgid, list->u.a.len);
  for (size_t i = 0; i < list->u.a.len; i++) {
    const jx_value *one = &list->u.a.items[i];
    jx_request req = {.project = jx_map_str(one, "id"),
                      .event = "submit",
                      .actor = c->actor,
                      .time = t,
                      .set = jx_map_get(one, "fields"),
                      .create = true};
    call_apply(k, i, &req);
  }
  call_done(k);
  return 0;
}

static int m_migrate(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"projects", "map", "dry", "at", "as",
                                      NULL};
  const jx_value *ids, *map, *dry;
  int64_t t;
  int rc;
  if ((rc = jx_rpc_known(p, known)) || (rc = project_ids(p, c->srv->cfg->max_batch, &ids)) ||
      (rc = jx_rpc_get(p, "map", JX_MAP, false, &map)) ||
      (rc = jx_rpc_get(p, "dry", JX_BOOL, false, &dry)) ||
      (rc = request_time(c->srv, p, &t)))
    return rc;
  jx_value none = jx_map();
  call *k = call_new(c, msgid, ids->u.a.len);
  for (size_t i = 0; i < ids->u.a.len; i++) {
    const char *id = ids->u.a.items[i].u.s.ptr;
    jx_request req = {.project = id, .event = "migrate", .actor = c->actor,
                      .time = t};
    jx_migration m;
    item *it = jx_xcalloc(1, sizeof *it);
    *it = (item){.call = k, .index = i};
    snprintf(it->actor, sizeof it->actor, "%s", c->actor);
    rc = jx_engine_migrate(c->srv->engine, &req, map ? map : &none,
                           dry && dry->u.b, &m, item_done, it);
    jx_value *slot = &k->results.u.a.items[i];
    if (rc == 0 && (m.current || (dry && dry->u.b))) {
      *slot = jx_rpc_migration(id, &m);
      free(it);
    } else if (rc == 0) {
      k->pending++;
    } else {
      *slot = error_item(rc, id, "migrate", NULL);
      free(it);
    }
  }
  jx_value_free(&none);
  call_done(k);
  return 0;
}

/* Once a change of the registry is durable, the daemon decides with the
 * new actors (as the CLI does after its write). */
static void registry_done(const jx_outcome *o, void *payload) {
  item *it = payload;
  jx_server *s = it->call->c->srv;
  jx_value reg = jx_nil();
  git_oid head;
  const jx_value *actors = NULL;
  if (o->code == 0 &&
      jx_store_head(s->store, JX_REGISTRY_ID, &head, &reg) == 0)
    actors = jx_map_get(&reg, "actors");
  if (o->code == 0 && (!actors || jx_config_set_actors(s->cfg, actors) < 0))
    say(s, "the registry of actors could not be read back: %s",
        jx_err_last()->msg);
  jx_value_free(&reg);
  item_done(o, payload);
}

static int m_actor(conn *c, uint32_t msgid, const jx_value *p, bool add) {
  static const char *const known_add[] = {"name", "entry", "at", "as", NULL};
  static const char *const known_remove[] = {"name", "at", "as", NULL};
  const jx_value *entry = NULL;
  const char *name;
  int64_t t;
  int rc;
  if ((rc = jx_rpc_known(p, add ? known_add : known_remove)) ||
      (rc = jx_rpc_str(p, "name", true, &name)) ||
      (add && (rc = jx_rpc_get(p, "entry", JX_MAP, true, &entry))) ||
      (rc = request_time(c->srv, p, &t)))
    return rc;
  jx_request req = {.actor = c->actor,
                    .event = add ? "register" : "unregister",
                    .time = t};
  call *k = call_new(c, msgid, 1);
  item *it = jx_xcalloc(1, sizeof *it);
  *it = (item){.call = k, .index = 0};
  snprintf(it->actor, sizeof it->actor, "%s", c->actor);
  rc = jx_engine_register(c->srv->engine, &req, name, entry, registry_done,
                          it);
  if (rc == 0) {
    k->pending++;
  } else {
    k->results.u.a.items[0] = error_item(rc, "actor", name, NULL);
    free(it);
  }
  call_done(k);
  return 0;
}

static int m_actor_add(conn *c, uint32_t msgid, const jx_value *p) {
  return m_actor(c, msgid, p, true);
}

static int m_actor_remove(conn *c, uint32_t msgid, const jx_value *p) {
  return m_actor(c, msgid, p, false);
}

static int m_actors(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"as", NULL};
  int rc = jx_rpc_known(p, known);
  if (rc == 0)
    respond(c, msgid, jx_nil(), jx_config_actors(c->srv->cfg));
  return rc;
}

static void tick_row(call *k, const jx_outcome *o);

static void tick_done(const jx_outcome *o, void *payload) {
  tick_call *tc = payload;
  if (o->code == 0)
    notify(tc->s, o, JX_CALENDAR_ACTOR);
  if (!tc->k) {
    if (o->code < 0)
      say(tc->s, "%s %s: %s not written: %s", o->time, o->project, o->event,
          jx_err_last()->msg);
    if (!--tc->s->inflight && tc->s->draining)
      finish_drain(tc->s);
    return;
  }
  tick_row(tc->k, o);
  call_done(tc->k);
}

static void tick_row(call *k, const jx_outcome *o) {
  if (o->code < 0)
    k->failed++;
  jx_array_push(&k->rows, jx_rpc_tick_made(o));
}

static void tick_decided(const jx_tick_report *r, void *payload) {
  tick_call *tc = payload;
  if (!tc->k) {
    say(tc->s, "%s %s %s: %s", r->date, r->timer, r->project,
        r->code == JX_EREFUSED ? r->refusal->reason : r->error);
    return;
  }
  if (r->code == JX_EREFUSED)
    tc->k->refused++;
  else
    tc->k->failed++;
  jx_array_push(&tc->k->rows, jx_rpc_tick_report(r));
}

static int m_tick(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"to", "as", NULL};
  jx_server *s = c->srv;
  const char *to;
  int64_t t;
  int rc;
  if ((rc = jx_rpc_known(p, known)) || (rc = jx_rpc_str(p, "to", true, &to)) ||
      (rc = jx_date_parse("to", to, &t)))
    return rc;
  if (!s->virtual_clock)
    return jx_err_set(JX_EINVAL,
                      "tick: this daemon runs on the real clock (start it "
                      "with jx serve --clock virtual to tick)");
  if ((rc = jx_engine_admin(s->engine, c->actor, "moving the calendar "
                                                "(tick)")) < 0)
    return rc;
  call *k = call_new(c, msgid, 0);
  size_t queued = 0;
  k->tick = (tick_call){k, s};
  rc = jx_engine_tick(s->engine, t, tick_decided, tick_done, &k->tick,
                      &queued);
  k->pending += queued; /* each ends with its tick_done */
  if (rc < 0) /* answered once what it made is durable */
    k->error = jx_rpc_error(rc, jx_err_last()->msg, NULL, "tick");
  else
    s->vtime = t, s->has_vtime = true;
  call_done(k);
  return 0;
}

/* --- calls that read ------------------------------------------------------
 */

static int m_show(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"project", "as", NULL};
  const char *id;
  jx_value doc;
  int rc;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_str(p, "project", true, &id)) ||
      (rc = jx_id_check("project id", id)) ||
      (rc = jx_query_show(c->srv->store, id, &doc)))
    return rc;
  respond(c, msgid, jx_nil(), doc);
  return 0;
}

static int m_list(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"state", "department", "as", NULL};
  const char *state, *dept;
  jx_value rows;
  int rc;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_str(p, "state", false, &state)) ||
      (rc = jx_rpc_str(p, "department", false, &dept)))
    return rc;
  if ((rc = jx_query_list(c->srv->store, c->srv->cfg, state, dept, &rows)))
    return jx_value_free(&rows), rc;
  respond(c, msgid, jx_nil(), rows);
  return 0;
}

static int m_log(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"project", "as", NULL};
  const char *id;
  jx_value rows;
  int rc;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_str(p, "project", true, &id)) ||
      (rc = jx_id_check("project id", id)))
    return rc;
  if ((rc = jx_query_log(c->srv->store, id, &rows)))
    return jx_value_free(&rows), rc;
  respond(c, msgid, jx_nil(), rows);
  return 0;
}

/* The connection's actor's inbox, judged by the definitions the engine
 * decides with. */
static int conn_inbox(conn *c, jx_value *rows) {
  return jx_query_inbox(c->srv->store, c->srv->cfg,
                        jx_engine_versions(c->srv->engine), c->actor, rows);
}

static int m_inbox(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"as", NULL};
  jx_value rows;
  int rc = jx_rpc_known(p, known);
  if (rc)
    return rc;
  if ((rc = conn_inbox(c, &rows)))
    return jx_value_free(&rows), rc;
  respond(c, msgid, jx_nil(), rows);
  return 0;
}

static int m_report(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"name", "at", "as", NULL};
  const char *name;
  int64_t t;
  jx_value doc;
  int rc;
  const char *at;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_str(p, "name", true, &name)) ||
      (rc = jx_rpc_str(p, "at", false, &at)))
    return rc;
  /* A report is a view: as of `at`, else the clock's day, else today. */
  if (at || !c->srv->has_vtime)
    rc = jx_date_parse("at", at, &t);
  else
    t = c->srv->vtime;
  if (rc)
    return rc;
  if ((rc = jx_query_report(c->srv->store, c->srv->cfg, name, t, &doc)))
    return jx_value_free(&doc), rc;
  respond(c, msgid, jx_nil(), doc);
  return 0;
}

static int m_subscribe(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"project", "department", "inbox", "as",
                                      NULL};
  const char *project, *dept;
  const jx_value *inbox;
  int rc;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_str(p, "project", false, &project)) ||
      (rc = jx_rpc_str(p, "department", false, &dept)) ||
      (rc = jx_rpc_get(p, "inbox", JX_BOOL, false, &inbox)))
    return rc;
  if (!!project + !!dept + (inbox && inbox->u.b) != 1)
    return jx_err_set(JX_EINVAL, "subscribe: give exactly one of project, "
                                 "department, inbox = true");
  if (project && (rc = jx_id_check("project id", project)))
    return rc;
  if (c->nsubs == MAX_SUBS)
    return jx_err_set(JX_EINVAL, "subscribe: at most %d subscriptions on "
                                 "one connection",
                      MAX_SUBS);
  sub *u = jx_xcalloc(1, sizeof *u);
  u->id = ++c->srv->next_sub;
  u->kind = project ? 'p' : dept ? 'd' : 'i';
  u->value = jx_xstrdup(project ? project : dept ? dept : c->actor);
  u->inbox = jx_map();
  if (u->kind == 'i') {
    jx_value rows;
    if (conn_inbox(c, &rows) == 0)
      for (size_t i = 0; i < rows.u.a.len; i++)
        jx_map_set(&u->inbox, jx_map_str(&rows.u.a.items[i], "project"),
                   jx_bool(true));
    jx_value_free(&rows);
    jx_err_clear();
  }
  u->next = c->subs;
  c->subs = u;
  c->nsubs++;
  jx_value r = jx_map();
  jx_map_set(&r, "subscription", jx_int(u->id));
  respond(c, msgid, jx_nil(), r);
  return 0;
}

static int m_unsubscribe(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"subscription", "as", NULL};
  const jx_value *id;
  int rc;
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_get(p, "subscription", JX_INT, true, &id)))
    return rc;
  for (sub **u = &c->subs; *u; u = &(*u)->next)
    if ((*u)->id == id->u.i) {
      sub *gone = *u;
      *u = gone->next;
      sub_free(gone);
      c->nsubs--;
      respond(c, msgid, jx_nil(), jx_bool(true));
      return 0;
    }
  return jx_err_set(JX_ENOTFOUND, "no subscription %lld on this connection",
                    (long long)id->u.i);
}

static struct timespec tokens_mtime(const jx_server *s) {
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/tokens", jx_store_path(s->store));
  return stat(path, &st) == 0 ? st.st_mtim : (struct timespec){0, 0};
}

/* A token revoked or replaced (jx token) stops working at the
 * connection's next request, not only at its next connection. */
static int still_valid(conn *c) {
  if (!*c->actor)
    return jx_err_set(JX_EAUTH, "not authenticated");
  struct timespec now = tokens_mtime(c->srv);
  if (now.tv_sec == c->tokens_at.tv_sec && now.tv_nsec == c->tokens_at.tv_nsec)
    return 0;
  char actor[JX_ID_MAX + 1];
  if (jx_token_check(jx_store_path(c->srv->store), c->token, actor,
                     sizeof actor) < 0 ||
      strcmp(actor, c->actor) != 0) {
    *c->actor = '\0';
    drop_subs(c);
    return jx_err_set(JX_EAUTH, "this connection's token was revoked or "
                                "replaced: authenticate again");
  }
  c->tokens_at = now;
  return 0;
}

static int m_auth(conn *c, uint32_t msgid, const jx_value *p) {
  static const char *const known[] = {"token", NULL};
  const char *token;
  char actor[JX_ID_MAX + 1];
  int rc;
  if (*c->actor)
    return jx_err_set(JX_EINVAL, "auth: this connection is %s's already; "
                                 "another actor connects on its own",
                      c->actor);
  struct timespec checked = tokens_mtime(c->srv); /* before reading it */
  if ((rc = jx_rpc_known(p, known)) ||
      (rc = jx_rpc_str(p, "token", true, &token)) ||
      (rc = jx_token_check(jx_store_path(c->srv->store), token, actor,
                           sizeof actor)))
    return rc;
  const jx_actor_conf *a = jx_config_actor(c->srv->cfg, actor);
  if (!a)
    return jx_err_set(JX_EAUTH,
                      "the token is %s's, who is no longer an actor of this "
                      "deployment",
                      actor);
  memcpy(c->actor, actor, sizeof actor);
  snprintf(c->token, sizeof c->token, "%s", token);
  c->tokens_at = checked;
  jx_value r = jx_map();
  jx_map_set(&r, "actor", jx_str(a->name));
  jx_map_set(&r, "role", jx_str(a->role));
  respond(c, msgid, jx_nil(), r);
  return 0;
}

typedef struct method {
  const char *name;
  int (*run)(conn *c, uint32_t msgid, const jx_value *params);
} method;

static const method methods[] = {
    {"auth", m_auth},       {"submit", m_submit},
    {"do", m_do},           {"tick", m_tick},
    {"show", m_show},       {"list", m_list},
    {"log", m_log},         {"inbox", m_inbox},
    {"report", m_report},   {"subscribe", m_subscribe},
    {"unsubscribe", m_unsubscribe},
    {"migrate", m_migrate}, {"actors", m_actors},
    {"actor_add", m_actor_add}, {"actor_remove", m_actor_remove},
};

static void dispatch(conn *c, const jx_value *msg) {
  uint32_t msgid;
  const char *name;
  const jx_value *params;
  const method *m = NULL;
  int rc = jx_rpc_request(msg, &msgid, &name, &params);
  for (size_t i = 0; rc == 0 && !m && i < sizeof methods / sizeof *methods;
       i++)
    if (strcmp(methods[i].name, name) == 0)
      m = &methods[i];
  if (rc == 0 && !m)
    rc = jx_err_set(JX_EINVAL, "unknown method \"%.64s\" (docs/PROTOCOL.md)",
                    name);
  if (rc == 0 && m->run != m_auth && *c->actor)
    rc = still_valid(c);
  if (rc == 0 && m->run != m_auth && !*c->actor)
    rc = jx_err_set(JX_EAUTH, "%s: authenticate first (auth with a token of "
                              "jx token create ACTOR)",
                    name);
  const char *as = NULL;
  if (rc == 0 && m->run != m_auth &&
      (rc = jx_rpc_str(params, "as", false, &as)) == 0 && as &&
      strcmp(as, c->actor) != 0)
    rc = jx_err_set(JX_EAUTH,
                    "this connection acts as %s, not %.64s (use %.64s's "
                    "token)",
                    c->actor, as, as);
  if (rc == 0)
    rc = m->run(c, msgid, params);
  if (rc < 0)
    respond_err(c, msgid, rc, NULL, NULL);
}

/* --- reading --------------------------------------------------------------
 */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  conn *c = h->data;
  (void)suggested;
  if (c->off && c->off == c->len) {
    c->off = c->len = 0;
    if (c->cap > 4 * READ_CHUNK) { /* a big frame's room is not kept */
      free(c->in);
      c->in = NULL;
      c->cap = 0;
    }
  }
  if (c->cap - c->len < READ_CHUNK) {
    if (c->off) { /* the consumed head goes first */
      memmove(c->in, c->in + c->off, c->len - c->off);
      c->len -= c->off;
      c->off = 0;
    }
    if (c->cap - c->len < READ_CHUNK) {
      c->cap = c->len + 2 * READ_CHUNK;
      c->in = jx_xrealloc(c->in, c->cap);
    }
  }
  *buf = uv_buf_init(c->in + c->len, READ_CHUNK);
}

/* A frame that can never be read: say so (msgid 0: none can be read) and
 * end the connection, since where the next frame starts is unknown. */
static void bad_stream(conn *c) {
  respond_err(c, 0, JX_EINVAL, NULL, NULL);
  say(c->srv, "client %lu: %s", c->no, jx_err_last()->msg);
  conn_finish(c); /* after the answers to its calls in flight */
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  conn *c = st->data;
  jx_server *s = c->srv;
  (void)buf;
  if (n < 0) {
    conn_close(c, n == UV_EOF ? NULL : uv_strerror((int)n));
    return;
  }
  c->len += (size_t)n;
  while (!c->closing && !s->draining && c->len > c->off &&
         c->len - c->off >= c->need) {
    size_t frame = 0, need = 0;
    size_t max = *c->actor ? s->cfg->serve.max_frame : PREAUTH_MAX_FRAME;
    int rc = jx_codec_measure(c->in + c->off, c->len - c->off, max, &frame,
                              &need);
    if (rc < 0) {
      bad_stream(c);
      return;
    }
    if (rc == 1) {
      c->need = need;
      break;
    }
    jx_value msg;
    if (jx_codec_decode(&msg, c->in + c->off, frame, max)) {
      bad_stream(c);
      return;
    }
    c->off += frame;
    c->need = 0;
    dispatch(c, &msg);
    jx_value_free(&msg);
  }
}

static void accepted(uv_stream_t *server, int status) {
  jx_server *s = server->data;
  if (status < 0 || s->draining)
    return;
  conn *c = jx_xcalloc(1, sizeof *c);
  c->srv = s;
  c->no = ++s->next_conn;
  c->refs = 1;
  c->accepted_ms = uv_now(s->loop);
  int rc = server == (uv_stream_t *)&s->unix_h
               ? uv_pipe_init(s->loop, &c->h.pipe, 0)
               : uv_tcp_init(s->loop, &c->h.tcp);
  c->h.stream.data = c;
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  if (rc == 0)
    rc = uv_accept(server, &c->h.stream);
  if (rc == 0 && s->nconns > s->cfg->serve.max_clients)
    rc = UV_EMFILE;
  if (rc == 0)
    rc = uv_read_start(&c->h.stream, alloc_cb, read_cb);
  if (rc < 0)
    conn_close(c, rc == UV_EMFILE ? "refused: [serve] max_clients reached"
                                  : uv_strerror(rc));
}

/* --- time and signals -----------------------------------------------------
 */

/* The real clock's events are nobody's call, but SIGTERM waits for them
 * as for calls (s->inflight). */
static void clock_fired(uv_timer_t *t) {
  jx_server *s = t->data;
  size_t queued = 0;
  int rc = jx_engine_tick(s->engine, (int64_t)time(NULL), tick_decided,
                          tick_done, &s->clock_tick, &queued);
  s->inflight += queued;
  if (rc < 0)
    say(s, "calendar: %s", jx_err_last()->msg);
}

/* A connection that has not authenticated within [serve] auth_seconds is
 * ended: otherwise silent connections could hold every max_clients slot. */
static void sweep_fired(uv_timer_t *t) {
  jx_server *s = t->data;
  uint64_t now = uv_now(s->loop),
           limit = (uint64_t)s->cfg->serve.auth_seconds * 1000;
  for (conn *c = s->conns; c; c = c->next)
    if (!*c->actor && !c->closing && now - c->accepted_ms >= limit)
      conn_close(c, "disconnected: it did not authenticate within [serve] "
                    "auth_seconds");
}

static void signalled(uv_signal_t *h, int signum) {
  jx_server *s = h->data;
  say(s, "%s: finishing what is queued, then stopping",
      signum == SIGTERM ? "SIGTERM" : "SIGINT");
  jx_server_drain(s);
}

static void close_quietly(uv_handle_t *h) {
  if (h->loop && !uv_is_closing(h))
    uv_close(h, NULL);
}

/* Clients that do not read what they were answered are not waited for
 * beyond DRAIN_MS. */
static void drain_expired(uv_timer_t *t) {
  jx_server *s = t->data;
  for (conn *c = s->conns; c; c = c->next)
    conn_close(c, "disconnected at shutdown: it did not read its answers");
  close_quietly((uv_handle_t *)t);
}

/* Everything decided is durable and answered: let the loop end. */
static void finish_drain(jx_server *s) {
  for (conn *c = s->conns; c; c = c->next)
    conn_finish(c);
  if (s->conns)
    uv_timer_start(&s->drain, drain_expired, DRAIN_MS, 0);
  else
    close_quietly((uv_handle_t *)&s->drain);
  close_quietly((uv_handle_t *)&s->clock);
  close_quietly((uv_handle_t *)&s->sweep);
  close_quietly((uv_handle_t *)&s->sigterm);
  close_quietly((uv_handle_t *)&s->sigint);
  jx_engine_close(s->engine);
}

void jx_server_drain(jx_server *s) {
  if (s->draining)
    return;
  s->draining = true;
  close_quietly((uv_handle_t *)&s->unix_h);
  if (s->has_tcp)
    close_quietly((uv_handle_t *)&s->tcp_h);
  for (conn *c = s->conns; c; c = c->next)
    uv_read_stop(&c->h.stream);
  uv_timer_stop(&s->clock);
  if (!s->inflight)
    finish_drain(s);
}

/* --- listening ------------------------------------------------------------
 */

/* A socket file nobody answers on was left by a daemon that was killed:
 * take it over.  One that answers belongs to a live daemon. */
static int claim_socket(jx_server *s) {
  int rc = uv_pipe_init(s->loop, &s->unix_h, 0);
  s->unix_h.data = s;
  if (rc == 0 && (rc = uv_pipe_bind(&s->unix_h, s->socket_path)) ==
                     UV_EADDRINUSE) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", s->socket_path);
    bool live = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
      close(fd);
    if (live)
      return jx_err_set(JX_ESTORE, "%s: another jx serve answers there",
                        s->socket_path);
    unlink(s->socket_path);
    rc = uv_pipe_bind(&s->unix_h, s->socket_path);
  }
  if (rc == 0) {
    s->bound = true;
    chmod(s->socket_path, 0660);
  }
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&s->unix_h, 128, accepted);
  if (rc < 0)
    return jx_err_set(JX_ESTORE, "%s: cannot listen: %s", s->socket_path,
                      uv_strerror(rc));
  return 0;
}

static int listen_tcp(jx_server *s) {
  const char *spec = s->cfg->serve.listen;
  const char *colon = strrchr(spec, ':');
  char host[256];
  struct sockaddr_storage addr;
  snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
  int port = atoi(colon + 1);
  int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
  if (rc < 0)
    rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
  if (rc == 0)
    rc = uv_tcp_init(s->loop, &s->tcp_h);
  if (rc == 0) {
    s->has_tcp = true;
    s->tcp_h.data = s;
    rc = uv_tcp_bind(&s->tcp_h, (struct sockaddr *)&addr, 0);
  }
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&s->tcp_h, 128, accepted);
  if (rc < 0)
    return jx_err_set(JX_ESTORE, "[serve] listen %s: %s", spec,
                      uv_strerror(rc));
  return 0;
}

int jx_server_start(jx_server **out, uv_loop_t *loop, jx_config *cfg,
                    jx_store *store, jx_engine *engine, bool virtual_clock) {
  jx_server *s = jx_xcalloc(1, sizeof *s);
  *s = (jx_server){.loop = loop,
                   .cfg = cfg,
                   .store = store,
                   .engine = engine,
                   .virtual_clock = virtual_clock,
                   .socket_path = jx_config_socket(cfg)};
  *out = s;
  signal(SIGPIPE, SIG_IGN); /* a vanished client is an error, not death */
  uv_signal_init(loop, &s->sigterm);
  uv_signal_init(loop, &s->sigint);
  uv_timer_init(loop, &s->clock);
  uv_timer_init(loop, &s->drain);
  uv_timer_init(loop, &s->sweep);
  s->sigterm.data = s->sigint.data = s->clock.data = s->drain.data =
      s->sweep.data = s;
  s->clock_tick = (tick_call){NULL, s};
  uv_signal_start(&s->sigterm, signalled, SIGTERM);
  uv_signal_start(&s->sigint, signalled, SIGINT);
  int rc = claim_socket(s);
  if (rc == 0 && cfg->serve.listen)
    rc = listen_tcp(s);
  if (rc < 0) {
    jx_error saved;
    jx_err_save(&saved);
    jx_server_drain(s);
    return jx_err_restore(&saved);
  }
  /* Checked at a tenth of the limit: a silent client is ended within
   * 110 % of it. */
  uint64_t every = (uint64_t)cfg->serve.auth_seconds * 100;
  uv_timer_start(&s->sweep, sweep_fired, every, every);
  if (!virtual_clock)
    uv_timer_start(&s->clock, clock_fired, 0,
                   (uint64_t)cfg->serve.tick_seconds * 1000);
  say(s, "serving %s on %s%s%s (%s clock)", jx_store_path(store),
      s->socket_path, cfg->serve.listen ? " and tcp:" : "",
      cfg->serve.listen ? cfg->serve.listen : "",
      virtual_clock ? "virtual" : "real");
  return 0;
}

void jx_server_free(jx_server *s) {
  if (!s)
    return;
  if (s->bound)
    unlink(s->socket_path);
  free(s->socket_path);
  free(s);
}
