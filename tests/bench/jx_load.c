/*
 * jx-load: a load generator for the daemon (jx serve, docs/PROTOCOL.md).
 * One process, one libuv loop, many connections: it drives projects
 * through jx-bench's eight steps over msgpack-RPC and reports how many
 * transitions the daemon acknowledged per second and how long each took.
 *
 * usage: jx-load --socket PATH --tokens FILE --clients C --projects N
 *                [--depth D | --rate R] [--prefix P]
 *
 * Connections.  A connection acts only as its token's actor, and the eight
 * steps need four actors, so a client is four connections, one per actor
 * (4 x C sockets in all; the daemon's [serve] max_clients, 1024 by default,
 * bounds C at 256).  Project i belongs to client i % C, and each of its
 * steps goes out on that client's connection for the step's actor.  All
 * connections authenticate before the clock starts.
 *
 * Closed loop (no --rate): each client keeps up to D requests in flight
 * (--depth, default 1) across its four connections, each on a different
 * project of its share: it starts D of them, and an ack sends the same
 * project's next step, or starts the client's next project once the last
 * step is done.  A project's steps stay strictly in order (step k+1 goes
 * out only once step k is acknowledged); several requests on one
 * connection are pipelined and answered in any order.  So C x D is the
 * daemon's concurrency, and with it the size of the batches its group
 * commit can make (one batch at a time: throughput = in flight / batch
 * latency); D > 1 raises it without more connections than the 4 x C.
 * Latency is counted from the write of a request to the read of its
 * response.
 *
 * Open loop (--rate R): a timer makes R send slots a second, slot i due at
 * t0 + i / R, whatever the daemon answers.  Each due slot goes to the
 * project that has waited longest for its next step (a project is ready
 * again only once its previous step was acknowledged).  Latency is counted
 * from the slot's due time, not from the actual send, so a daemon that
 * stalls is charged for the requests it kept us from sending (no
 * coordinated omission).  Every project is in play from the start; if
 * none is ready when a slot falls due, that slot waits and is late, which
 * stderr reports: raise --projects then.  The rate, not the clients, sets
 * the requests in flight, so --depth means nothing here (it is refused
 * above 1) and the report says depth=1.
 *
 * Every response is checked: an error map, or an error item in its
 * results, is a failure (the first few are printed) and the project's
 * remaining steps are dropped.  Exit status 1 if any failed.
 *
 * msgid: a project has at most one request in flight, whatever the depth,
 * so its request goes out with msgid = index + 1, unique on its connection
 * (and on all of them), and the response finds it again by that; auth uses
 * AUTH_MSGID, beyond any project.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "jx_buf.h"
#include "jx_codec.h"
#include "jx_err.h"
#include "jx_rpc.h"
#include "jx_value.h"
#include "workload.h"

enum { NACTORS = 4 };
static const char *const actor_names[NACTORS] = {"edu-school-1", "edu-dept",
                                                 "fin-business", "fin-budget"};
enum { SCHOOL, DEPT, FIN_BUSINESS, FIN_BUDGET };

/* jx-bench's workload, one day apart from 2021-03-01, as jx-bench times it:
 * a virtual clock needs no tick when every request carries its `at`. */
static const struct {
  const char *event;
  int actor;
  const char *at;
} steps[] = {
    {"submit", SCHOOL, "2021-03-01"},
    {"dept_approve", DEPT, "2021-03-02"},
    {"finance_approve", FIN_BUSINESS, "2021-03-03"},
    {"release", FIN_BUDGET, "2021-03-04"},
    {"flag", DEPT, "2021-03-05"},
    {"resume", DEPT, "2021-03-06"},
    {"close", DEPT, "2021-03-07"},
    {"self_evaluate", SCHOOL, "2021-03-08"},
};
#define NSTEPS (sizeof steps / sizeof *steps)

#define AUTH_MSGID UINT32_MAX
/* Answers carry the whole state: take them up to jx_client's cap. */
#define MAX_ANSWER ((size_t)1 << 30)
#define MAX_REQUEST ((size_t)8 << 20)
/* Failures printed in full; the rest are only counted. */
#define SHOW_FAILURES 5
/* Connections waiting to be accepted at once: see open_conns. */
#define CONNECT_WINDOW 64
/* An open-loop send later than this after its slot is reported as late:
 * beyond the timer's 1 ms period, the loop was kept from sending. */
#define LATE_NS 5000000u

typedef struct load load;

typedef struct project {
  uint8_t step; /* the next step to send; NSTEPS when done or dropped */
  bool inflight;
  uint64_t origin; /* ns (uv_hrtime): where its latency is counted from */
} project;

typedef struct conn {
  uv_pipe_t pipe; /* first: the handle's address is the conn's */
  uv_connect_t connect;
  load *load;
  int actor;
  jx_buf in;   /* bytes read and not yet a whole message */
  size_t need; /* the least length the message in `in` can have */
  bool authed;
} conn;

typedef struct write_req {
  uv_write_t req;
  jx_buf buf; /* the encoded message, kept until the write is done */
} write_req;

struct load {
  uv_loop_t *loop;
  const char *socket, *prefix;
  size_t clients, nprojects;
  size_t depth; /* closed loop: requests in flight per client */
  double rate;  /* open loop: slots a second; 0: closed loop */
  char *tokens[NACTORS];
  conn *conns; /* client k's connection for actor a: k * NACTORS + a */
  size_t nconns, nopened, nauthed;
  project *projects;
  size_t *cursor;      /* closed loop: each client's next project to start */
  jx_value evaluation; /* what self_evaluate sets */
  uint64_t *latency;   /* ns, one per acknowledged transition */
  size_t ok, failed, dropped;
  uint64_t t0, t_end;
  char read_chunk[65536]; /* one loop thread: reads land here in turn */
  /* open loop */
  uv_timer_t timer;
  size_t *ready; /* ring of projects whose next step may go out */
  size_t ready_head, ready_len;
  uint64_t next_slot, late, max_lag;
  uint64_t stranded, stranded_end; /* slots that found no project ready */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("jx-load: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* --- the workload --------------------------------------------------------
 */

static void project_id(const load *l, size_t p, char *out, size_t size) {
  snprintf(out, size, "%s-%06zu", l->prefix, p);
}


/* The named parameters of step s of project p: submit {projects: [{id,
 * fields}], at}, every other step do {projects: [id], event, set?, at}. */
static jx_value step_params(const load *l, size_t p, size_t s) {
  char id[64];
  project_id(l, p, id, sizeof id);
  jx_value params = jx_map(), list = jx_array();
  if (s == 0) {
    jx_value one = jx_map();
    jx_map_set(&one, "id", jx_str(id));
    jx_map_set(&one, "fields", jx_bench_project_fields("load", p));
    jx_array_push(&list, one);
  } else {
    jx_array_push(&list, jx_str(id));
    jx_map_set(&params, "event", jx_str(steps[s].event));
  }
  if (s == NSTEPS - 1)
    jx_map_set(&params, "set", jx_value_copy(&l->evaluation));
  jx_map_set(&params, "projects", list);
  jx_map_set(&params, "at", jx_str(steps[s].at));
  return params;
}

/* [0, msgid, method, [params]] */
static jx_value rpc_request(uint32_t msgid, const char *method,
                            jx_value params) {
  jx_value req = jx_array(), args = jx_array();
  jx_array_push(&args, params);
  jx_array_push(&req, jx_int(JX_RPC_REQUEST));
  jx_array_push(&req, jx_int(msgid));
  jx_array_push(&req, jx_str(method));
  jx_array_push(&req, args);
  return req;
}

/* --- sending ---------------------------------------------------------------
 */

static void write_cb(uv_write_t *req, int status) {
  write_req *w = (write_req *)req;
  /* Cancelled: the run is over and its connections are closing. */
  if (status < 0 && status != UV_ECANCELED)
    die("write to %s: %s", ((conn *)req->handle)->load->socket,
        uv_strerror(status));
  jx_buf_free(&w->buf);
  free(w);
}

/* Encodes msg (consumed) into a buffer the write keeps until it is done. */
static write_req *encode(jx_value msg) {
  write_req *w = jx_xcalloc(1, sizeof *w);
  if (jx_codec_encode(&w->buf, &msg, MAX_REQUEST) < 0)
    die("encoding a request: %s", jx_err_last()->msg);
  jx_value_free(&msg);
  return w;
}

static void write_out(conn *c, write_req *w) {
  uv_buf_t b = uv_buf_init(w->buf.data, (unsigned)w->buf.len);
  int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_cb);
  if (rc < 0)
    die("write to %s: %s", c->load->socket, uv_strerror(rc));
}

/* Sends project p's next step on its client's connection for the step's
 * actor.  Open loop: latency counts from `due`, the slot's time; closed
 * loop: from now, once the request is encoded and only the write is left. */
static void send_step(load *l, size_t p, uint64_t due) {
  project *pr = &l->projects[p];
  size_t s = pr->step;
  conn *c = &l->conns[(p % l->clients) * NACTORS + (size_t)steps[s].actor];
  const char *method = s == 0 ? "submit" : "do";
  write_req *w =
      encode(rpc_request((uint32_t)p + 1, method, step_params(l, p, s)));
  pr->inflight = true;
  pr->origin = l->rate > 0 ? due : uv_hrtime();
  write_out(c, w);
}

/* --- the two modes ---------------------------------------------------------
 */

/* Closed loop: client k starts its next project, if it has one left.
 * Its projects are k, k + C, k + 2C, ...; each is started once, so the
 * cursor only moves on and every project it reaches is at step 0. */
static void closed_start(load *l, size_t k) {
  size_t p = l->cursor[k];
  if (p >= l->nprojects)
    return;
  l->cursor[k] = p + l->clients;
  send_step(l, p, 0);
}

/* Closed loop, after project p's step was decided: its next step keeps
 * the client's request in flight, or, when p is done (or dropped), the
 * client's next project does; the depth stays D until projects run out. */
static void closed_next(load *l, size_t p) {
  if (l->projects[p].step < NSTEPS)
    send_step(l, p, 0);
  else
    closed_start(l, p % l->clients);
}

static void ready_push(load *l, size_t p) {
  l->ready[(l->ready_head + l->ready_len++) % l->nprojects] = p;
}

static size_t ready_pop(load *l) {
  size_t p = l->ready[l->ready_head];
  l->ready_head = (l->ready_head + 1) % l->nprojects;
  l->ready_len--;
  return p;
}

static uint64_t slot_time(const load *l, uint64_t slot) {
  return l->t0 + (uint64_t)((double)slot * 1e9 / l->rate);
}

/* How many slots have fallen due by now (slot 0 at t0). */
static uint64_t slots_due(const load *l, uint64_t now) {
  return (uint64_t)((double)(now - l->t0) * l->rate / 1e9) + 1;
}

/* Open loop: every slot that is due goes out, to the longest-ready
 * project; a due slot with no ready project waits for the next ack (it
 * is "stranded": the run had too few projects in play for the rate). */
static void dispatch(load *l) {
  uint64_t now = uv_hrtime(), due = slots_due(l, now);
  while (l->next_slot < due && l->ready_len > 0) {
    uint64_t slot = l->next_slot++, at = slot_time(l, slot);
    uint64_t lag = now > at ? now - at : 0;
    if (slot < l->stranded_end)
      l->stranded++;
    if (lag > LATE_NS)
      l->late++;
    if (lag > l->max_lag)
      l->max_lag = lag;
    send_step(l, ready_pop(l), at);
  }
  if (l->next_slot < due)
    l->stranded_end = due;
}

static void timer_cb(uv_timer_t *t) { dispatch(t->data); }

static void start(load *l) {
  l->t0 = uv_hrtime();
  if (l->rate > 0) {
    for (size_t p = 0; p < l->nprojects; p++)
      ready_push(l, p);
    /* 1 ms: libuv's timer resolution; each tick sends every due slot. */
    uv_timer_start(&l->timer, timer_cb, 0, 1);
  } else {
    /* Round by round, so that every client has a request out early. */
    for (size_t d = 0; d < l->depth; d++)
      for (size_t k = 0; k < l->clients; k++)
        closed_start(l, k);
  }
}

static void close_all(load *l) {
  for (size_t i = 0; i < l->nconns; i++)
    uv_close((uv_handle_t *)&l->conns[i].pipe, NULL);
  uv_close((uv_handle_t *)&l->timer, NULL);
}

/* The next request after an ack, and the end once every step is decided. */
static void advance(load *l, size_t p) {
  if (l->ok + l->failed + l->dropped == l->nprojects * NSTEPS) {
    l->t_end = uv_hrtime();
    close_all(l);
  } else if (l->rate > 0) {
    if (l->projects[p].step < NSTEPS)
      ready_push(l, p);
    dispatch(l);
  } else {
    closed_next(l, p);
  }
}

/* --- responses -------------------------------------------------------------
 */

/* "kind: message (rule R, reason)" of an error map. */
static void describe(const jx_value *err, char *out, size_t size) {
  const char *kind = jx_map_str(err, "kind"), *msg = jx_map_str(err, "message");
  const char *rule = jx_map_str(err, "rule"), *why = jx_map_str(err, "reason");
  int n = snprintf(out, size, "%s: %s", kind ? kind : "error",
                   msg ? msg : "(no message)");
  if (rule && n >= 0 && (size_t)n < size)
    snprintf(out + n, size - (size_t)n, " (rule %s%s%s)", rule, why ? ": " : "",
             why ? why : "");
}

/* Whether a write's response acknowledges the one transition it asked
 * for: no error map, and {results: [outcome]} whose outcome has a commit.
 * Else false, with what went wrong in `why`. */
static bool acknowledged(const jx_value *error, const jx_value *result,
                         char *why, size_t size) {
  if (error->type != JX_NIL) {
    describe(error, why, size);
    return false;
  }
  const jx_value *results = jx_map_get(result, "results");
  if (!results || results->type != JX_ARRAY || results->u.a.len != 1) {
    snprintf(why, size, "the answer is not {results: [one item]}");
    return false;
  }
  const jx_value *item = &results->u.a.items[0];
  const jx_value *item_error = jx_map_get(item, "error");
  if (item_error) {
    describe(item_error, why, size);
    return false;
  }
  if (!jx_map_str(item, "commit")) {
    snprintf(why, size, "the outcome names no commit");
    return false;
  }
  return true;
}

static void on_ack(load *l, size_t p, const jx_value *error,
                   const jx_value *result, uint64_t now) {
  project *pr = &l->projects[p];
  char why[1024];
  pr->inflight = false;
  if (acknowledged(error, result, why, sizeof why)) {
    l->latency[l->ok++] = now - pr->origin;
    pr->step++;
  } else {
    if (l->failed++ < SHOW_FAILURES) {
      char id[64];
      project_id(l, p, id, sizeof id);
      fprintf(stderr, "jx-load: %s %s (as %s): %s\n", id, steps[pr->step].event,
              actor_names[steps[pr->step].actor], why);
    }
    /* Its later steps would only be refused too. */
    l->dropped += NSTEPS - pr->step - 1;
    pr->step = NSTEPS;
  }
  advance(l, p);
}

static void open_next(load *l);

static void on_auth(conn *c, const jx_value *error, const jx_value *result) {
  load *l = c->load;
  const char *actor = jx_map_str(result, "actor");
  if (error->type != JX_NIL) {
    char why[1024];
    describe(error, why, sizeof why);
    die("auth as %s: %s", actor_names[c->actor], why);
  }
  if (!actor || strcmp(actor, actor_names[c->actor]) != 0)
    die("the token for %s authenticates %s", actor_names[c->actor],
        actor ? actor : "nobody");
  c->authed = true;
  if (++l->nauthed == l->nconns)
    start(l);
  else
    open_next(l);
}

/* One message from the daemon: a response to auth or to a project's step;
 * notifications (none are subscribed) are passed over. */
static void on_message(conn *c, const jx_value *msg, uint64_t now) {
  load *l = c->load;
  if (msg->type != JX_ARRAY || msg->u.a.len < 1 ||
      msg->u.a.items[0].type != JX_INT)
    die("the daemon sent something that is not msgpack-RPC");
  const jx_value *m = msg->u.a.items;
  if (m[0].u.i == JX_RPC_NOTIFY)
    return;
  if (m[0].u.i != JX_RPC_RESPONSE || msg->u.a.len != 4 || m[1].type != JX_INT)
    die("the daemon sent something that is not a response");
  int64_t id = m[1].u.i;
  if (id == 0) { /* the daemon could not read what we sent */
    char why[1024];
    describe(&m[2], why, sizeof why);
    die("the daemon refused a message: %s", why);
  }
  if (id == AUTH_MSGID) {
    on_auth(c, &m[2], &m[3]);
    return;
  }
  size_t p = (size_t)(id - 1);
  if (id < 0 || p >= l->nprojects || !l->projects[p].inflight ||
      steps[l->projects[p].step].actor != c->actor)
    die("a response (msgid %lld) to no request in flight here", (long long)id);
  on_ack(l, p, &m[2], &m[3], now);
}

/* Frames arrive in pieces and several to a read: each whole one is
 * decoded; a partial one waits in c->in until `need` bytes are there. */
static void drain(conn *c, uint64_t now) {
  size_t off = 0;
  while (off < c->in.len && c->in.len - off >= c->need) {
    size_t frame = 0, need = 0;
    int rc = jx_codec_measure(c->in.data + off, c->in.len - off, MAX_ANSWER,
                              &frame, &need);
    if (rc < 0)
      die("the daemon sent bytes that are not msgpack: %s", jx_err_last()->msg);
    if (rc == 1) {
      c->need = need;
      break;
    }
    c->need = 0;
    jx_value msg;
    if (jx_codec_decode(&msg, c->in.data + off, frame, MAX_ANSWER) < 0)
      die("a response: %s", jx_err_last()->msg);
    off += frame;
    on_message(c, &msg, now);
    jx_value_free(&msg);
  }
  memmove(c->in.data, c->in.data + off, c->in.len - off);
  c->in.len -= off;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  load *l = ((conn *)h)->load;
  (void)suggested;
  *buf = uv_buf_init(l->read_chunk, sizeof l->read_chunk);
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  conn *c = (conn *)st;
  /* The read's time for every response in it: they all arrived by now. */
  uint64_t now = uv_hrtime();
  if (n < 0)
    die("the connection as %s to %s: %s%s", actor_names[c->actor],
        c->load->socket,
        n == UV_EOF ? "closed by the daemon" : uv_strerror((int)n),
        c->authed ? "" : " before auth (over [serve] max_clients? 4 a client)");
  jx_buf_append(&c->in, buf->base, (size_t)n);
  drain(c, now);
}

/* --- connections -----------------------------------------------------------
 */

static void connect_cb(uv_connect_t *req, int status) {
  conn *c = req->data;
  load *l = c->load;
  if (status < 0)
    die("connect to %s: %s", l->socket, uv_strerror(status));
  int rc = uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
  if (rc < 0)
    die("read from %s: %s", l->socket, uv_strerror(rc));
  jx_value params = jx_map();
  jx_map_set(&params, "token", jx_str(l->tokens[c->actor]));
  write_out(c, encode(rpc_request(AUTH_MSGID, "auth", params)));
}

/* Opens the next connection not yet opened, if any. */
static void open_next(load *l) {
  if (l->nopened == l->nconns)
    return;
  conn *c = &l->conns[l->nopened];
  c->load = l;
  c->actor = (int)(l->nopened % NACTORS);
  c->connect.data = c;
  l->nopened++;
  uv_pipe_init(l->loop, &c->pipe, 0);
  uv_pipe_connect(&c->connect, &c->pipe, l->socket, connect_cb);
}

/* The daemon listens with a backlog of 128, and a Unix socket connect
 * beyond the backlog fails (EAGAIN) instead of waiting: so at most
 * CONNECT_WINDOW connections are waiting to be accepted at once, and each
 * one authenticated lets the next one go. */
static void open_conns(load *l) {
  l->nconns = l->clients * NACTORS;
  l->conns = jx_xcalloc(l->nconns, sizeof *l->conns);
  for (size_t i = 0; i < CONNECT_WINDOW; i++)
    open_next(l);
}

/* The lines "ACTOR TOKEN" of path (as JX_TOKEN_FILE): one per actor used. */
static void read_tokens(load *l, const char *path) {
  FILE *f = fopen(path, "r");
  char actor[256], token[256];
  if (!f)
    die("%s: cannot read", path);
  while (fscanf(f, "%255s %255s", actor, token) == 2)
    for (int a = 0; a < NACTORS; a++)
      if (strcmp(actor, actor_names[a]) == 0) {
        free(l->tokens[a]);
        l->tokens[a] = jx_xstrdup(token);
      }
  fclose(f);
  for (int a = 0; a < NACTORS; a++)
    if (!l->tokens[a])
      die("%s: no token for %s", path, actor_names[a]);
}

/* --- the report ------------------------------------------------------------
 */

static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest rank: the smallest latency at or above a share q of them. */
static double percentile_ms(const uint64_t *sorted, size_t n, double q) {
  if (n == 0)
    return 0;
  size_t rank = (size_t)(q * (double)n);
  if ((double)rank < q * (double)n) /* round up */
    rank++;
  return (double)sorted[rank ? rank - 1 : 0] / 1e6;
}

static void report(load *l) {
  double secs = (double)(l->t_end - l->t0) / 1e9;
  size_t n = l->ok;
  qsort(l->latency, n, sizeof *l->latency, by_value);
  if (l->rate > 0)
    fprintf(stderr,
            "jx-load: open loop: %llu of %llu sends more than %u ms after "
            "their slot (the latest %.1f ms), %llu waited for a ready "
            "project; latency counts from the slot\n",
            (unsigned long long)l->late, (unsigned long long)l->next_slot,
            LATE_NS / 1000000u, (double)l->max_lag / 1e6,
            (unsigned long long)l->stranded);
  if (l->dropped)
    fprintf(stderr, "jx-load: %zu later steps of failed projects not sent\n",
            l->dropped);
  printf("load: clients=%zu depth=%zu projects=%zu transitions=%zu "
         "seconds=%.3f rate=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f "
         "max_ms=%.2f failed=%zu\n",
         l->clients, l->depth, l->nprojects, n, secs,
         secs > 0 ? (double)n / secs : 0, percentile_ms(l->latency, n, 0.50),
         percentile_ms(l->latency, n, 0.90), percentile_ms(l->latency, n, 0.99),
         n ? (double)l->latency[n - 1] / 1e6 : 0, l->failed);
}

/* --- main ------------------------------------------------------------------
 */

static size_t count_arg(const char *flag, const char *text) {
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (*text == '-' || *end || end == text || v == 0)
    die("%s: a positive integer, not \"%s\"", flag, text);
  return (size_t)v;
}

static void usage(void) {
  fputs("usage: jx-load --socket PATH --tokens FILE --clients C "
        "--projects N [--depth D | --rate R] [--prefix P]\n",
        stderr);
  exit(1);
}

static void parse_args(load *l, int argc, char **argv, const char **tokens) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    if (!strcmp(a, "--socket"))
      l->socket = v;
    else if (!strcmp(a, "--tokens"))
      *tokens = v;
    else if (!strcmp(a, "--clients"))
      l->clients = count_arg(a, v);
    else if (!strcmp(a, "--projects"))
      l->nprojects = count_arg(a, v);
    else if (!strcmp(a, "--depth"))
      l->depth = count_arg(a, v);
    else if (!strcmp(a, "--prefix"))
      l->prefix = v;
    else if (!strcmp(a, "--rate")) {
      char *end;
      l->rate = strtod(v, &end);
      if (*end || end == v || !(l->rate > 0))
        die("--rate: transitions a second, above 0, not \"%s\"", v);
    } else
      usage();
    i++;
  }
  if (!l->socket || !*tokens || !l->clients || !l->nprojects)
    usage();
  if (l->nprojects >= AUTH_MSGID)
    die("--projects: at most %u", AUTH_MSGID - 1);
  /* Open loop, the rate decides what is in flight: a depth would be
   * silently ignored there, so it is refused instead. */
  if (l->rate > 0 && l->depth > 1)
    die("--depth: for the closed loop; --rate sets the load itself");
}

int main(int argc, char **argv) {
  load l = {.prefix = "L", .depth = 1, .loop = uv_default_loop()};
  const char *tokens = NULL;
  parse_args(&l, argc, argv, &tokens);
  read_tokens(&l, tokens);
  /* A daemon that goes away is a read error to report, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  l.projects = jx_xcalloc(l.nprojects, sizeof *l.projects);
  l.latency = jx_xcalloc(l.nprojects * NSTEPS, sizeof *l.latency);
  l.ready = jx_xcalloc(l.nprojects, sizeof *l.ready);
  l.cursor = jx_xcalloc(l.clients, sizeof *l.cursor);
  for (size_t k = 0; k < l.clients; k++)
    l.cursor[k] = k;
  if (jx_bench_self_evaluation(&l.evaluation) < 0)
    die("self_evaluation: %s", jx_err_last()->msg);
  uv_timer_init(l.loop, &l.timer);
  l.timer.data = &l;
  open_conns(&l);
  uv_run(l.loop, UV_RUN_DEFAULT);
  report(&l);
  for (size_t i = 0; i < l.nconns; i++)
    jx_buf_free(&l.conns[i].in);
  for (int a = 0; a < NACTORS; a++)
    free(l.tokens[a]);
  jx_value_free(&l.evaluation);
  free(l.conns);
  free(l.projects);
  free(l.latency);
  free(l.ready);
  free(l.cursor);
  uv_loop_close(l.loop);
  return l.failed ? 1 : 0;
}
