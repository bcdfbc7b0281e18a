/*
 * jx: the command-line front end, in embedded mode: it opens the store
 * itself (like sqlite3) and runs the same engine and writer path a daemon
 * would.  Exit status: the magnitude of the JX_E* code (see usage()).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "jx_buf.h"
#include "jx_client.h"
#include "jx_codec.h"
#include "jx_config.h"
#include "jx_date.h"
#include "jx_engine.h"
#include "jx_err.h"
#include "jx_inbox.h"
#include "jx_json.h"
#include "jx_query.h"
#include "jx_refs.h"
#include "jx_replay.h"
#include "jx_rpc.h"
#include "jx_sandbox.h"
#include "jx_script.h"
#include "jx_server.h"
#include "jx_store.h"
#include "jx_token.h"
#include "jx_toml.h"
#include "jx_verify.h"
#include "jx_workflow.h"

#define JX_MAX_SETS 64

/* Options that belong to some commands only. */
enum {
  OPT_AS = 1,
  OPT_AT = 2,
  OPT_SET = 4,
  OPT_STATE = 8,
  OPT_DEPT = 16,
  OPT_TO = 32,
  OPT_QUIET = 64,
  OPT_MAP = 128,
  OPT_DRY = 256,
  OPT_FORMAT = 512,
  OPT_KEY = 1024,
  OPT_RULES = 2048,
  OPT_CLOCK = 4096,
  OPT_COUNT = 8192
};

typedef struct options {
  const char *config; /* -c / --config */
  const char *store;  /* --store, overrides [store].path */
  const char *as;     /* --as ACTOR */
  const char *at;     /* --at DATE */
  const char *state;  /* list --state */
  const char *department;
  const char *to;  /* tick --to */
  const char *map; /* migrate --map OLD=NEW,... */
  const char *key;   /* audit verify --key PUB */
  const char *rules; /* simulate --rules DIR */
  const char *connect; /* --connect ADDR: the daemon to use */
  const char *clock;   /* serve --clock real|virtual */
  const char *count;   /* watch --count N */
  bool embedded;       /* --embedded: never use a daemon */
  const char *sets[JX_MAX_SETS];
  size_t nsets;
  const char *args[4]; /* positional arguments after the command */
  size_t nargs;
  bool json;
  bool csv;
  bool help;
  bool quiet; /* run: no line per event */
  bool dry;   /* migrate --dry-run */
  unsigned given; /* OPT_* seen */
} options;

typedef struct session session;

typedef struct command {
  const char *name;
  const char *synopsis;
  const char *help;
  size_t min_args, max_args;
  unsigned allowed; /* OPT_* it takes */
  int (*run)(const options *o);
  int (*write)(session *s, const options *o); /* or run */
} command;

static const command *find_command(const char *name);

/* --- output --------------------------------------------------------------- */

/* jx run --json prints one document per line (JSON Lines), so that a
 * reader can take the results of a long script line by line. */
static bool json_lines;

static void print_json(const jx_value *v) {
  jx_buf b = JX_BUF_INIT;
  jx_json_write(&b, v, !json_lines);
  printf("%s\n", b.data);
  jx_buf_free(&b);
}

/* A scalar as people read it; nested values as compact JSON. */
/* s as one line for a terminal: control bytes (a newline in a title, an
 * escape sequence) become \xNN, so data cannot forge output or stop
 * short at a NUL; other bytes, UTF-8 included, pass. */
static const char *safe(const char *s, size_t len, char *buf, size_t size) {
  size_t o = 0;
  for (size_t i = 0; i < len && o + 5 < size; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    else
      buf[o++] = (char)c;
  }
  buf[o] = '\0';
  return buf;
}

static const char *safe_str(const char *s, char *buf, size_t size) {
  return s ? safe(s, strlen(s), buf, size) : "-";
}

static void print_value(FILE *f, const jx_value *v) {
  char buf[4096];
  switch (v->type) {
  case JX_STR:
    fputs(safe(v->u.s.ptr, v->u.s.len, buf, sizeof buf), f);
    break;
  case JX_INT:
    fprintf(f, "%lld", (long long)v->u.i);
    break;
  default: {
    jx_buf b = JX_BUF_INIT;
    jx_json_write(&b, v, false);
    fputs(b.data, f);
    jx_buf_free(&b);
  }
  }
}

/* Reports a failure from its error map (jx_rpc_error: made here, or sent
 * by the daemon, which is why both print alike); returns its code. */
static int fail_doc(const options *o, const jx_value *e) {
  int64_t code = 1;
  jx_map_int(e, "code", &code);
  const char *subject = jx_map_str(e, "subject");
  const char *message = jx_map_str(e, "message");
  const char *rule = jx_map_str(e, "rule");
  const char *sep = subject ? ": " : "";
  fflush(stdout); /* what went before comes first, also in a log file */
  if (rule)
    fprintf(stderr, "jx: %s%srefused by %s\n  reason: %s\n  remedy: %s\n",
            subject ? subject : "", sep, rule, jx_map_str(e, "reason"),
            jx_map_str(e, "remedy"));
  else
    fprintf(stderr, "jx: %s%s%s\n", subject ? subject : "", sep,
            message ? message : "");
  if (o->json) {
    jx_value v = jx_map();
    jx_map_set(&v, "error", jx_value_copy(e));
    print_json(&v);
    jx_value_free(&v);
  }
  return (int)-code;
}

/* Reports a failure; `subject` ("P-1 dept_approve") says what was being
 * done, when there is one. */
static int fail(const options *o, int rc, const jx_verdict *refusal,
                const char *subject) {
  jx_value e = jx_rpc_error(rc, jx_err_last()->msg, refusal, subject);
  fail_doc(o, &e);
  jx_value_free(&e);
  return rc;
}

/* --- setup ---------------------------------------------------------------- */

static int load_config(const options *o, jx_config **cfg) {
  const char *path = o->config ? o->config : getenv("JX_CONFIG");
  int rc = jx_config_load(cfg, path ? path : "workflow.toml");
  if (rc < 0)
    return rc;
  if (o->store) {
    free((*cfg)->store_path);
    (*cfg)->store_path = jx_xstrdup(o->store);
  }
  return 0;
}

/* The actors are the store's registry once one has been written (jx actor
 * add/remove), else workflow.toml [actors].  Editing [actors] afterwards
 * changes nothing: say so rather than leave it a mystery. */
static int use_registry(jx_config *cfg, jx_store *store) {
  git_oid head;
  jx_value reg = jx_nil();
  int rc = jx_store_head(store, JX_REGISTRY_ID, &head, &reg);
  if (rc == JX_ENOTFOUND) {
    jx_err_clear();
    return 0;
  }
  const jx_value *actors = rc == 0 ? jx_map_get(&reg, "actors") : NULL;
  if (rc == 0 && !actors)
    rc = jx_err_set(JX_ESTORE, "the registry of actors has no actors");
  if (rc == 0 && jx_map_get(&reg, "seed")) {
    /* Said once the registry took over from [actors] and [actors] was
     * edited since: the edit does nothing. */
    jx_value mine = jx_config_actors(cfg);
    if (!jx_value_equal(&mine, jx_map_get(&reg, "seed")))
      fprintf(stderr, "jx: note: %s [actors] was changed after the registry "
                      "of actors in the store took over; the store's is used "
                      "(jx actor list; jx actor add/remove change it)\n",
              cfg->path);
    jx_value_free(&mine);
  }
  if (rc == 0)
    rc = jx_config_set_actors(cfg, actors);
  jx_value_free(&reg);
  return rc;
}

/* Readers take no lock: the store overlays the last seal's heads, so they
 * see every durable transition even right after a crash, and never make a
 * writer wait or fail.  Writers wait for the lock (jx_store_open). */
static int open_store(const jx_config *cfg, bool write, jx_store **s) {
  int rc = jx_store_open(s, cfg->store_path,
                         write ? JX_STORE_WRITE : JX_STORE_READ,
                         cfg->max_frame, cfg->lock_wait_ms);
  if (rc == 0 && write && cfg->signing_key)
    jx_store_set_signing_key(*s, cfg->signing_key);
  return rc;
}

/* --set key=value: key is a field name (letters, digits, '_', '-'); the
 * value is read as a TOML value (number, boolean, "string", array, date)
 * and, failing that, taken as a string.  Only the value ever reaches the
 * TOML parser, behind a key of ours. */
static int parse_set(const char *arg, jx_value *into) {
  const char *eq = strchr(arg, '=');
  size_t klen = eq ? (size_t)(eq - arg) : 0;
  if (!eq || klen == 0 || klen > 64)
    return jx_err_set(JX_EINVAL, "--set %s: expected FIELD=VALUE", arg);
  for (size_t i = 0; i < klen; i++) {
    unsigned char c = (unsigned char)arg[i];
    if (!(c == '_' || c == '-' || (c >= '0' && c <= '9') ||
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
      return jx_err_set(JX_EINVAL,
                        "--set %.*s: a field name is letters, digits, '_' "
                        "and '-'",
                        (int)klen, arg);
  }
  char key[65];
  memcpy(key, arg, klen);
  key[klen] = '\0';
  jx_buf text = JX_BUF_INIT;
  jx_toml_doc *doc = NULL;
  jx_buf_printf(&text, "v = %s\n", eq + 1);
  const jx_value *v = NULL;
  if (!strchr(eq + 1, '\n') &&
      jx_toml_load_string(&doc, text.data, text.len, "--set") == 0)
    v = jx_map_get(jx_toml_root(doc), "v");
  jx_err_clear();
  jx_map_set(into, key, v ? jx_value_copy(v) : jx_str(eq + 1));
  jx_toml_free(doc);
  jx_buf_free(&text);
  return 0;
}

/* --- init ----------------------------------------------------------------- */

static int cmd_init(const options *o) {
  jx_config *cfg = NULL;
  bool created;
  int rc = load_config(o, &cfg);
  if (rc == 0)
    rc = jx_store_init(cfg->store_path, &created);
  if (rc < 0)
    return jx_config_free(cfg), fail(o, rc, NULL, NULL);
  if (o->json) {
    jx_value v = jx_map();
    jx_map_set(&v, "store", jx_str(cfg->store_path));
    jx_map_set(&v, "created", jx_bool(created));
    print_json(&v);
    jx_value_free(&v);
  } else {
    printf("%s %s\n",
           created ? "initialised jixiao store" : "already a jixiao store:",
           cfg->store_path);
  }
  jx_config_free(cfg);
  return 0;
}

/* --- writing: a session ---------------------------------------------------
 */

/* What writes need: the config, the store open for writing and an engine
 * on a private loop.  A command opens one for itself; `jx run` keeps one
 * for a whole script, so that a bureau's year costs one process. */
/* A connection to the daemon, authenticated as one actor. */
typedef struct remote {
  char actor[JX_ID_MAX + 1]; /* "" for JX_TOKEN's, whoever it is */
  jx_client *client;
} remote;

#define JX_MAX_REMOTES 64

struct session {
  const options *o; /* the command line's options (--json, ...) */
  jx_config *cfg;
  jx_store *store;   /* for writing; for reading only when a daemon serves */
  jx_engine *engine; /* NULL when a daemon serves */
  const jx_workflow *wf; /* the definition, for checking names given */
  jx_workflow *own_wf;   /* ... when there is no engine */
  char *daemon;          /* the daemon's address, when one serves */
  remote remotes[JX_MAX_REMOTES];
  size_t nremotes;
  uv_loop_t loop;
  const char *at;    /* jx run: the date of lines without --at */
  const char *where; /* jx run: "FILE:LINE" of the line, for messages */
  size_t made, refused, failed;
  int rc;    /* the current command's first failure, or 0 */
  int worst; /* the whole run's first failure, or 0 */
};

/* The daemon that serves the store: --connect's, else one answering on
 * the store's socket; NULL (and 0) when none does or --embedded. */
static int find_daemon(const options *o, const jx_config *cfg, char **addr) {
  jx_client *c = NULL;
  bool absent;
  *addr = NULL;
  if (o->embedded)
    return 0;
  char *where = o->connect ? jx_xstrdup(o->connect) : jx_config_socket(cfg);
  int rc = jx_client_connect(&c, where, cfg->serve.max_frame, &absent);
  jx_client_free(c);
  if (rc == 0) {
    *addr = where;
    return 0;
  }
  free(where);
  if (!o->connect && absent) {
    jx_err_clear();
    return 0;
  }
  return rc;
}

static int session_open(session *s, const options *o) {
  int rc;
  *s = (session){.o = o};
  uv_loop_init(&s->loop);
  if ((rc = load_config(o, &s->cfg)) < 0 ||
      (rc = find_daemon(o, s->cfg, &s->daemon)) < 0)
    return rc;
  if (s->daemon) {
    /* The daemon decides; names are checked here against the same
     * deployment, so that a script's typo is found before it runs. */
    /* A daemon elsewhere (--connect) has the store: the names are then
     * checked against [actors] here, and the daemon checks them again. */
    if (open_store(s->cfg, false, &s->store) < 0 ||
        use_registry(s->cfg, s->store) < 0)
      jx_err_clear();
    if ((rc = jx_query_workflow(s->cfg, &s->own_wf)) < 0)
      return rc;
    s->wf = s->own_wf;
    return 0;
  }
  rc = open_store(s->cfg, true, &s->store);
  if (rc == JX_ESTORE && o->embedded) {
    /* Held by a daemon, most likely: say which way works. */
    options probe = *o;
    char *addr = NULL;
    jx_error why;
    jx_err_save(&why);
    probe.embedded = false;
    if (find_daemon(&probe, s->cfg, &addr) == 0 && addr)
      jx_err_set(JX_ESTORE,
                 "%s; a daemon (jx serve) serves this store at %s: drop "
                 "--embedded to go through it",
                 why.msg, addr);
    else
      jx_err_restore(&why);
    free(addr);
    return JX_ESTORE;
  }
  if (rc < 0 || (rc = use_registry(s->cfg, s->store)) < 0 ||
      (rc = jx_engine_new(&s->engine, &s->loop, s->cfg, s->store)) < 0)
    return rc;
  s->wf = jx_engine_workflow(s->engine);
  return 0;
}

static void session_close(session *s) {
  if (!s->o)
    return; /* never opened */
  if (s->engine) {
    jx_engine_close(s->engine);
    uv_run(&s->loop, UV_RUN_DEFAULT);
  }
  jx_engine_free(s->engine);
  for (size_t i = 0; i < s->nremotes; i++)
    jx_client_free(s->remotes[i].client);
  free(s->daemon);
  jx_workflow_free(s->own_wf);
  uv_loop_close(&s->loop);
  jx_store_free(s->store);
  jx_config_free(s->cfg);
}

/* Records a failure of the current line and reports it from its error
 * map, the line's FILE:LINE before its subject. */
static int session_fail_doc(session *s, const jx_value *e) {
  int64_t code = 1;
  jx_map_int(e, "code", &code);
  if (code == -JX_EREFUSED)
    s->refused++;
  else
    s->failed++;
  if (!s->rc)
    s->rc = (int)-code;
  if (!s->worst)
    s->worst = (int)-code;
  if (!s->where)
    return fail_doc(s->o, e);
  jx_value with = jx_value_copy(e);
  const char *subject = jx_map_str(e, "subject");
  jx_buf b = JX_BUF_INIT;
  jx_buf_printf(&b, "%s%s%s", s->where, subject ? ": " : "",
                subject ? subject : "");
  jx_map_set(&with, "subject", jx_str(b.data));
  fail_doc(s->o, &with);
  jx_buf_free(&b);
  jx_value_free(&with);
  return (int)-code;
}

/* As session_fail_doc, for a failure here; `subject` ("P-1 dept_approve")
 * says what was being done, when there is one. */
static int session_fail(session *s, int rc, const jx_verdict *refusal,
                        const char *subject) {
  jx_value e = jx_rpc_error(rc, jx_err_last()->msg, refusal, subject);
  session_fail_doc(s, &e);
  jx_value_free(&e);
  return rc;
}

/* A connection to the daemon acting as `actor` (NULL: as JX_TOKEN's
 * owner): tokens come from $JX_TOKEN, or from $JX_TOKEN_FILE, whose lines
 * are "ACTOR TOKEN" (jx run drives several actors, one connection each). */
static int token_for(const char *actor, char *out, size_t size) {
  const char *one = getenv("JX_TOKEN"), *file = getenv("JX_TOKEN_FILE");
  if (one && *one) {
    snprintf(out, size, "%s", one);
    return 0;
  }
  if (!file)
    return jx_err_set(JX_EAUTH,
                      "a daemon serves this store: give a token in "
                      "JX_TOKEN (jx token create ACTOR prints one) or "
                      "JX_TOKEN_FILE, or stop the daemon");
  jx_buf text = JX_BUF_INIT;
  int err = jx_buf_read_file(&text, file, JX_FILE_MAX), rc = 0;
  if (err)
    return jx_err_set(JX_EAUTH, "JX_TOKEN_FILE %s: %s", file, strerror(err));
  char *save = NULL, *line;
  rc = jx_err_set(JX_EAUTH, "JX_TOKEN_FILE %s has no token for %s", file,
                  actor ? actor : "anyone");
  for (line = strtok_r(text.data ? text.data : "", "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char name[256], token[256];
    if (sscanf(line, "%255s %255s", name, token) == 2 &&
        (!actor || strcmp(name, actor) == 0)) {
      snprintf(out, size, "%s", token);
      jx_err_clear();
      rc = 0;
      break;
    }
  }
  jx_buf_free(&text);
  return rc;
}

static int remote_for(session *s, const char *actor, jx_client **out) {
  const char *key = actor ? actor : "";
  for (size_t i = 0; i < s->nremotes; i++)
    if (strcmp(s->remotes[i].actor, key) == 0)
      return *out = s->remotes[i].client, 0;
  if (s->nremotes == JX_MAX_REMOTES)
    return jx_err_set(JX_EINVAL, "more than %d actors in one run",
                      JX_MAX_REMOTES);
  char token[256];
  jx_client *c = NULL;
  jx_value result, error;
  bool absent;
  /* An actor the registry does not know is the same mistake as embedded,
   * not a missing token. */
  int rc = actor && !jx_config_actor(s->cfg, actor)
               ? jx_err_set(JX_EINVAL, "no actor \"%s\" in %s [actors]",
                            actor, s->cfg->path)
               : token_for(actor, token, sizeof token);
  if (rc == 0)
    rc = jx_client_connect(&c, s->daemon, s->cfg->serve.max_frame, &absent);
  if (rc == 0) {
    jx_value p = jx_map();
    jx_map_set(&p, "token", jx_str(token));
    rc = jx_client_call(c, "auth", p, &result, &error);
    jx_value_free(&result);
    jx_value_free(&error);
  }
  if (rc < 0)
    return jx_client_free(c), rc;
  remote *r = &s->remotes[s->nremotes++];
  snprintf(r->actor, sizeof r->actor, "%s", key);
  r->client = c;
  *out = c;
  return 0;
}

/* Calls the daemon as `actor`; a failure is reported (as the daemon put
 * it) and its code returned. */
static int session_call(session *s, const char *actor, const char *method,
                        jx_value params, jx_value *result) {
  jx_client *c;
  jx_value error = jx_nil();
  *result = jx_nil();
  int rc = remote_for(s, actor, &c);
  if (rc < 0) {
    jx_value_free(&params);
    return session_fail(s, rc, NULL, NULL);
  }
  if (actor)
    jx_map_set(&params, "as", jx_str(actor));
  rc = jx_client_call(c, method, params, result, &error);
  if (rc < 0 && error.type == JX_MAP)
    session_fail_doc(s, &error);
  else if (rc < 0)
    session_fail(s, rc, NULL, NULL);
  jx_value_free(&error);
  return rc;
}

/* A write's outcome map, from the engine or from the daemon. */
static void render_outcome(session *s, const jx_value *doc) {
  s->made++;
  if (s->o->quiet)
    return;
  if (s->o->json) {
    jx_value v = jx_value_copy(doc);
    jx_map_del(&v, "event"); /* jx do --json has printed it without */
    print_json(&v);
    jx_value_free(&v);
    return;
  }
  printf("%s: %s -> %s (commit %.11s)\n", jx_map_str(doc, "project"),
         jx_map_str(doc, "from"), jx_map_str(doc, "to"),
         jx_map_str(doc, "commit"));
}

/* The daemon's {results: [...]} of a do or submit. */
static void render_results(session *s, const jx_value *result) {
  const jx_value *items = jx_map_get(result, "results");
  for (size_t i = 0; items && items->type == JX_ARRAY && i < items->u.a.len;
       i++) {
    const jx_value *it = &items->u.a.items[i];
    const jx_value *err = jx_map_get(it, "error");
    if (err)
      session_fail_doc(s, err);
    else
      render_outcome(s, it);
  }
}

/* Turns the writes queued so far into commits and waits until they are
 * durable (the callbacks have run). */
static void session_flush(session *s) { uv_run(&s->loop, UV_RUN_DEFAULT); }

static void applied(const jx_outcome *out, void *payload) {
  session *s = payload;
  if (out->code < 0) {
    char subject[512];
    snprintf(subject, sizeof subject, "%s %s", out->project, out->event);
    session_fail(s, out->code, NULL, subject);
    return;
  }
  jx_value doc = jx_rpc_outcome(out);
  render_outcome(s, &doc);
  jx_value_free(&doc);
}

/* Decides one request; an accepted one is committed by the next flush. */
static void session_apply(session *s, const options *o, jx_request *req) {
  jx_verdict refusal = {0};
  int rc = jx_date_parse("--at", o->at ? o->at : s->at, &req->time);
  if (rc == 0)
    rc = jx_engine_apply(s->engine, req, &refusal, applied, s);
  if (rc < 0) {
    char subject[512], id[256], ev[256];
    snprintf(subject, sizeof subject, "%s %s",
             safe_str(req->project, id, sizeof id),
             safe_str(req->event, ev, sizeof ev));
    session_fail(s, rc, &refusal, subject);
  }
  jx_verdict_free(&refusal);
}

/* --- submit ---------------------------------------------------------------
 */

/* One project of a submitted file: its id and its fields, checked against
 * the workflow's [fields] here, where the file is at hand, so that a
 * mistake points at its line.  `at` is the key path of the project's
 * table ({"project", "3"}, or none for a file of one project). */
typedef struct submission {
  const char *id;
  jx_value fields;
} submission;

static int check_submission(session *s, const jx_toml_doc *doc,
                            const char *const *at, size_t depth,
                            const jx_value *p, submission *out) {
  const char *path[3] = {at[0], at[1]};
  const jx_value *id = jx_map_get(p, "id");
  path[depth] = "id";
  int rc;
  if (!id)
    return jx_toml_error_at(doc, at, depth, "missing key \"id\"");
  if (id->type != JX_STR)
    return jx_toml_error_at(doc, path, depth + 1, "\"id\" must be a string");
  if (jx_id_check("project id", id->u.s.ptr) < 0)
    return jx_toml_error_at(doc, path, depth + 1, "%s", jx_err_last()->msg);
  out->id = id->u.s.ptr;
  out->fields = jx_value_copy(p);
  jx_map_del(&out->fields, "id");
  const char *bad;
  rc = jx_workflow_check_project(s->wf, &out->fields,
                                 &bad);
  if (rc < 0 && bad) {
    path[depth] = bad;
    rc = jx_toml_error_at(doc, path, depth + 1, "%s", jx_err_last()->msg);
  } else if (rc < 0) {
    rc = jx_toml_error_at(doc, at, depth, "%s", jx_err_last()->msg);
  }
  return rc;
}

/* A submitted file's projects, checked (the caller's; free with
 * free_submissions). */
typedef struct submissions {
  jx_toml_doc *doc;
  submission *subs;
  size_t n;
} submissions;

static void free_submissions(submissions *f) {
  for (size_t i = 0; i < f->n; i++)
    jx_value_free(&f->subs[i].fields);
  free(f->subs);
  jx_toml_free(f->doc);
}

static int read_submissions(session *s, const char *path, submissions *f) {
  int rc = jx_toml_load(&f->doc, path);
  if (rc < 0)
    return rc;
  const jx_value *root = jx_toml_root(f->doc);
  const jx_value *list = jx_map_get(root, "project");
  if (list && (list->type != JX_ARRAY || root->u.m.len != 1)) {
    const char *key = "project";
    return jx_toml_error_at(f->doc, &key, 1,
                            "a file of several projects holds only "
                            "[[project]] tables");
  }
  if (!list) {
    const char *at[2] = {NULL, NULL};
    f->subs = jx_xcalloc(1, sizeof *f->subs);
    return check_submission(s, f->doc, at, 0, root, &f->subs[f->n++]);
  }
  f->subs = jx_xcalloc(list->u.a.len + 1, sizeof *f->subs);
  for (; rc == 0 && f->n < list->u.a.len; f->n++) {
    char index[24];
    snprintf(index, sizeof index, "%zu", f->n);
    const char *at[2] = {"project", index};
    const jx_value *p = &list->u.a.items[f->n];
    rc = p->type == JX_MAP
             ? check_submission(s, f->doc, at, 2, p, &f->subs[f->n])
             : jx_toml_error_at(f->doc, at, 2, "a project must be a table");
  }
  return rc;
}

/* Who submits a project: --as, else its unit. */
static const char *submitter(const options *o, const submission *sub) {
  const char *unit = jx_map_str(&sub->fields, "unit");
  return o->as ? o->as : unit ? unit : "";
}

/* A file holds one project (its fields at the top), or several as
 * [[project]] tables.  Every project is checked before any is sent, so a
 * mistake in one submits none; then each is decided on its own (a rule
 * may refuse one and accept the next) and all are committed together. */
static int submit(session *s, const options *o) {
  submissions f = {0};
  int rc = read_submissions(s, o->args[0], &f);
  if (rc < 0) {
    session_fail(s, rc, NULL, NULL);
  } else if (s->daemon) {
    /* A connection acts as one actor: one call per run of projects that
     * the same actor submits. */
    for (size_t i = 0, next; i < f.n; i = next) {
      const char *actor = submitter(o, &f.subs[i]);
      jx_value p = jx_map(), result;
      jx_value *projects = jx_map_set(&p, "projects", jx_array());
      for (next = i; next < f.n && strcmp(submitter(o, &f.subs[next]),
                                          actor) == 0; next++) {
        jx_value one = jx_map();
        jx_map_set(&one, "id", jx_str(f.subs[next].id));
        jx_map_set(&one, "fields", jx_value_copy(&f.subs[next].fields));
        jx_array_push(projects, one);
      }
      if (o->at || s->at)
        jx_map_set(&p, "at", jx_str(o->at ? o->at : s->at));
      if (session_call(s, actor, "submit", p, &result) == 0)
        render_results(s, &result);
      jx_value_free(&result);
    }
  } else {
    for (size_t i = 0; i < f.n; i++) {
      jx_request req = {
          .project = f.subs[i].id,
          .event = "submit",
          .actor = submitter(o, &f.subs[i]),
          .set = &f.subs[i].fields,
          .create = true,
      };
      session_apply(s, o, &req);
    }
    session_flush(s);
  }
  free_submissions(&f);
  return s->rc;
}

/* --- do ------------------------------------------------------------------- */

/* A list of ids names each project once: a second event for the same
 * project in one bulk operation is a mistake of the list. */
static int check_distinct(const char *list) {
  char *ids = jx_xstrdup(list), *save = NULL;
  int rc = 0;
  size_t n = 0, cap = 8;
  const char **seen = jx_xmalloc(cap * sizeof *seen);
  for (char *id = strtok_r(ids, ",", &save); id && rc == 0;
       id = strtok_r(NULL, ",", &save)) {
    for (size_t i = 0; i < n && rc == 0; i++)
      if (strcmp(seen[i], id) == 0)
        rc = jx_err_set(JX_EINVAL, "%s is named twice in %s", id, list);
    if (n == cap)
      seen = jx_xrealloc(seen, (cap *= 2) * sizeof *seen);
    seen[n++] = id;
  }
  free(seen);
  free(ids);
  return rc;
}

/* ID may be several, comma-separated (bulk: 批量): each is decided on
 * its own, with a result line each, and all are committed together; a
 * refusal of one leaves the others as they are decided. */
static int do_event(session *s, const options *o) {
  jx_value set = jx_map();
  int rc = 0;
  if (!o->as)
    rc = jx_err_set(JX_EINVAL, "do: --as ACTOR is required");
  for (size_t i = 0; i < o->nsets && rc == 0; i++)
    rc = parse_set(o->sets[i], &set);
  if (rc == 0 && (rc = check_distinct(o->args[0])) < 0) {
    jx_value_free(&set);
    return session_fail(s, rc, NULL, NULL), s->rc;
  }
  if (rc == 0 && s->daemon) {
    jx_value p = jx_map(), result;
    jx_value *ids = jx_map_set(&p, "projects", jx_array());
    char *list = jx_xstrdup(o->args[0]), *save = NULL;
    for (char *id = strtok_r(list, ",", &save); id;
         id = strtok_r(NULL, ",", &save))
      jx_array_push(ids, jx_str(id));
    free(list);
    jx_map_set(&p, "event", jx_str(o->args[1]));
    jx_map_set(&p, "set", set);
    set = jx_nil();
    if (o->at || s->at)
      jx_map_set(&p, "at", jx_str(o->at ? o->at : s->at));
    if (session_call(s, o->as, "do", p, &result) == 0)
      render_results(s, &result);
    jx_value_free(&result);
  } else if (rc == 0) {
    char *ids = jx_xstrdup(o->args[0]), *save = NULL;
    size_t n = 0;
    for (char *id = strtok_r(ids, ",", &save); id;
         id = strtok_r(NULL, ",", &save), n++) {
      jx_request req = {.project = id,
                        .event = o->args[1],
                        .actor = o->as,
                        .set = &set};
      session_apply(s, o, &req);
    }
    session_flush(s);
    free(ids);
    if (n == 0)
      session_fail(s, jx_err_set(JX_EINVAL, "do: no project id"), NULL, NULL);
  } else {
    session_fail(s, rc, NULL, NULL);
  }
  jx_value_free(&set);
  return s->rc;
}

/* --- migrate --------------------------------------------------------------
 */

/* --map OLD=NEW[,OLD=NEW...] into a map of state names. */
static int parse_map(const char *arg, jx_value *map) {
  char *copy = jx_xstrdup(arg ? arg : ""), *save = NULL;
  int rc = 0;
  for (char *pair = strtok_r(copy, ",", &save); pair && rc == 0;
       pair = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(pair, '=');
    if (!eq || eq == pair || !eq[1])
      rc = jx_err_set(JX_EINVAL, "--map %s: expected OLD=NEW state names",
                      pair);
    else
      *eq = '\0', jx_map_set(map, pair, jx_str(eq + 1));
  }
  free(copy);
  return rc;
}

/* Moves projects to the definition this deployment runs, one commit each;
 * --dry-run says what would change and writes nothing. */
/* What a migration that wrote nothing found (jx_rpc_migration). */
static void render_migration(const jx_value *m) {
  int64_t from = 0, to = 0;
  jx_map_int(m, "from_version", &from);
  jx_map_int(m, "to_version", &to);
  if (jx_map_get(m, "current"))
    printf("%s: runs under version %lld already\n", jx_map_str(m, "project"),
           (long long)to);
  else
    printf("%s: %s -> %s, version %lld -> %lld (dry run: nothing "
           "written)\n",
           jx_map_str(m, "project"), jx_map_str(m, "from"),
           jx_map_str(m, "to"), (long long)from, (long long)to);
}

/* The daemon's {results: [...]} of a migrate: outcomes, errors, and
 * what a dry run would do. */
static int remote_migrate(session *s, const options *o, jx_value *map) {
  jx_value p = jx_map(), result;
  jx_value *ids = jx_map_set(&p, "projects", jx_array());
  char *list = jx_xstrdup(o->args[0]), *save = NULL;
  for (char *id = strtok_r(list, ",", &save); id;
       id = strtok_r(NULL, ",", &save))
    jx_array_push(ids, jx_str(id));
  free(list);
  jx_map_set(&p, "map", *map);
  *map = jx_nil();
  jx_map_set(&p, "dry", jx_bool(o->dry));
  if (o->at || s->at)
    jx_map_set(&p, "at", jx_str(o->at ? o->at : s->at));
  if (session_call(s, o->as, "migrate", p, &result) == 0) {
    const jx_value *items = jx_map_get(&result, "results");
    for (size_t i = 0; items && i < items->u.a.len; i++) {
      const jx_value *it = &items->u.a.items[i];
      if (jx_map_get(it, "error"))
        session_fail_doc(s, jx_map_get(it, "error"));
      else if (jx_map_get(it, "current") || jx_map_get(it, "dry"))
        render_migration(it);
      else
        render_outcome(s, it);
    }
  }
  jx_value_free(&result);
  return s->rc;
}

/* Moves projects to the definition this deployment runs, one commit each;
 * --dry-run says what would change and writes nothing. */
static int migrate(session *s, const options *o) {
  jx_value map = jx_map();
  int rc = o->as ? parse_map(o->map, &map)
                 : jx_err_set(JX_EINVAL, "migrate: --as ACTOR is required");
  if (rc < 0) {
    jx_value_free(&map);
    return session_fail(s, rc, NULL, NULL), s->rc;
  }
  if (s->daemon) {
    remote_migrate(s, o, &map);
    jx_value_free(&map);
    return s->rc;
  }
  char *ids = jx_xstrdup(o->args[0]), *save = NULL;
  for (char *id = strtok_r(ids, ",", &save); id;
       id = strtok_r(NULL, ",", &save)) {
    jx_request req = {.project = id, .event = "migrate", .actor = o->as};
    jx_migration m;
    char subject[300];
    snprintf(subject, sizeof subject, "%s migrate", id);
    if ((rc = jx_date_parse("--at", o->at ? o->at : s->at, &req.time)) == 0)
      rc = jx_engine_migrate(s->engine, &req, &map, o->dry, &m, applied, s);
    if (rc < 0) {
      session_fail(s, rc, NULL, subject);
    } else if (m.current || o->dry) {
      jx_value doc = jx_rpc_migration(id, &m);
      render_migration(&doc);
      jx_value_free(&doc);
    }
  }
  free(ids);
  session_flush(s);
  jx_value_free(&map);
  return s->rc;
}

/* --- tick: the calendar -----------------------------------------------------
 */

typedef struct tick_ctx {
  session *s;
  jx_value rows; /* --json: what happened */
  size_t done, refused, failed;
  int worst; /* the code of the worst failure, or 0 */
} tick_ctx;

/* A row of a tick (jx_rpc_tick_made / _report: made here, or sent by the
 * daemon): a line at once, or kept for --json. */
static void tick_row(tick_ctx *t, jx_value row) {
  const options *o = t->s->o;
  const char *commit = jx_map_str(&row, "commit");
  const char *rule = jx_map_str(&row, "rule");
  const char *date = jx_map_str(&row, "date");
  if (commit) {
    t->done++;
  } else if (rule) {
    t->refused++;
  } else {
    int64_t code = -JX_EPLUGIN;
    jx_map_int(&row, "code", &code);
    t->failed++;
    /* A write that failed is the worst: the store is in trouble. */
    if (!date)
      t->worst = JX_ESTORE;
    else if (!t->worst)
      t->worst = (int)-code;
  }
  if (o->json && !(commit && o->quiet)) {
    jx_array_push(&t->rows, row);
    return;
  }
  if (commit && !o->quiet)
    printf("%.10s %-16s %s: %s %s -> %s (commit %.11s)\n",
           jx_map_str(&row, "time"), jx_map_str(&row, "timer"),
           jx_map_str(&row, "project"), jx_map_str(&row, "event"),
           jx_map_str(&row, "from"), jx_map_str(&row, "to"), commit);
  else if (rule)
    printf("%s %-16s %s: refused by %s: %s\n", date,
           jx_map_str(&row, "timer"), jx_map_str(&row, "project"), rule,
           jx_map_str(&row, "reason"));
  else if (date)
    printf("%s %-16s %s: %s\n", date, jx_map_str(&row, "timer"),
           jx_map_str(&row, "project"), jx_map_str(&row, "error"));
  else if (!commit)
    printf("%.10s %-16s %s: %s not written: %s\n", jx_map_str(&row, "time"),
           jx_map_str(&row, "timer"), jx_map_str(&row, "project"),
           jx_map_str(&row, "event"), jx_map_str(&row, "error"));
  jx_value_free(&row);
}

static void tick_done(const jx_outcome *out, void *payload) {
  tick_row(payload, jx_rpc_tick_made(out));
}

static void tick_decided(const jx_tick_report *r, void *payload) {
  tick_row(payload, jx_rpc_tick_report(r));
}

/* The daemon's answer to tick: its rows, in the order they happened. */
static int remote_tick(session *s, const options *o, tick_ctx *t) {
  jx_value p = jx_map(), result;
  jx_map_set(&p, "to", jx_str(o->to));
  int rc = session_call(s, o->as, "tick", p, &result);
  const jx_value *rows = rc == 0 ? jx_map_get(&result, "made") : NULL;
  for (size_t i = 0; rows && rows->type == JX_ARRAY && i < rows->u.a.len; i++)
    tick_row(t, jx_value_copy(&rows->u.a.items[i]));
  jx_value_free(&result);
  return rc;
}

static int tick(session *s, const options *o) {
  tick_ctx t = {.s = s, .rows = jx_array()};
  int64_t to;
  int rc;
  if (!o->to)
    rc = jx_err_set(JX_EINVAL, "--to DATE is required");
  else if ((rc = jx_date_parse("--to", o->to, &to)) == 0 && s->daemon)
    rc = remote_tick(s, o, &t);
  /* Embedded, whoever holds the store is the operator; --as, if given, is
   * checked as the daemon checks it. */
  else if (rc == 0 && o->as)
    rc = jx_engine_admin(s->engine, o->as, "moving the calendar (tick)");
  if (rc == 0 && !s->daemon)
    rc = jx_engine_tick(s->engine, to, tick_decided, tick_done, &t, NULL);
  session_flush(s);
  s->made += t.done;
  s->refused += t.refused;
  if (rc == 0 && t.failed)
    rc = jx_err_set(t.worst ? t.worst : JX_EPLUGIN,
                    "%zu timer events failed (listed above)", t.failed);
  /* What was made is shown even when something failed: it is committed. */
  if (s->o->json && !s->o->quiet)
    print_json(&t.rows);
  if (rc < 0 && !(s->daemon && s->rc)) {
    session_fail(s, rc, NULL, "tick");
  } else if (rc == 0 && !s->o->json && !s->o->quiet) {
    printf("tick to %s: %zu events made, %zu refused by rules\n", o->to,
           t.done, t.refused);
  }
  jx_value_free(&t.rows);
  return s->rc;
}

/* Runs fn with the config and the store open for reading. */
static int with_store(const options *o, int (*fn)(const options *, jx_store *,
                                                  const jx_config *)) {
  jx_config *cfg = NULL;
  jx_store *store = NULL;
  int rc = load_config(o, &cfg);
  if (rc == 0)
    rc = open_store(cfg, false, &store);
  /* Reading goes on with [actors] if the registry cannot be read: the
   * tools that diagnose a damaged store must run on it. */
  if (rc == 0 && use_registry(cfg, store) < 0) {
    fprintf(stderr, "jx: warning: %s; using %s [actors]\n",
            jx_err_last()->msg, cfg->path);
    jx_err_clear();
  }
  if (rc == 0)
    rc = fn(o, store, cfg);
  if (rc < 0)
    fail(o, rc, NULL, NULL);
  jx_store_free(store);
  jx_config_free(cfg);
  return rc;
}

/* The read commands: a document from jx_query (or from the daemon),
 * printed as JSON or rendered as text by one function each. */

static void render_show(const options *o, const jx_value *doc) {
  const jx_value *state = jx_map_get(doc, "state");
  if (o->json) {
    print_json(state);
    return;
  }
  printf("%-16s %s\n", "head", jx_map_str(doc, "head"));
  for (size_t i = 0; state && state->type == JX_MAP && i < state->u.m.len;
       i++) {
    printf("%-16s ", state->u.m.items[i].key);
    print_value(stdout, &state->u.m.items[i].val);
    putchar('\n');
  }
}

static void render_list(const options *o, const jx_value *rows) {
  if (o->json) {
    print_json(rows);
    return;
  }
  printf("%-20s %-16s %-12s %14s  %s\n", "ID", "STATUS", "DEPARTMENT",
         "AMOUNT", "TITLE");
  for (size_t i = 0; i < rows->u.a.len; i++) {
    const jx_value *r = &rows->u.a.items[i];
    int64_t amount = 0;
    jx_map_int(r, "amount", &amount);
    char b1[256], b2[256], b3[256], b4[1024];
    printf("%-20s %-16s %-12s %14lld  %s\n",
           safe_str(jx_map_str(r, "id"), b1, sizeof b1),
           safe_str(jx_map_str(r, "status"), b2, sizeof b2),
           safe_str(jx_map_str(r, "department"), b3, sizeof b3),
           (long long)amount, safe_str(jx_map_str(r, "title"), b4, sizeof b4));
  }
}

static void render_inbox(const options *o, const jx_value *rows) {
  if (o->json) {
    print_json(rows);
    return;
  }
  printf("%-10s %-10s %-20s %-16s %-18s %-24s %s\n", "SINCE", "DEADLINE", "ID",
         "STATE", "EVENT", "APPROVAL", "TITLE");
  for (size_t i = 0; i < rows->u.a.len; i++) {
    const jx_value *r = &rows->u.a.items[i];
    const char *approval = jx_map_str(r, "approval");
    const char *deadline = jx_map_str(r, "deadline");
    const jx_value *copy = jx_map_get(r, "copy");
    char b1[256], b3[1024], event[128];
    snprintf(event, sizeof event, "%s%s", copy ? "copy: " : "",
             jx_map_str(r, "event"));
    printf("%-10.10s %-10s %-20s %-16s %-18s %-24s %s\n",
           jx_map_str(r, "since"), deadline ? deadline : "-",
           safe_str(jx_map_str(r, "project"), b1, sizeof b1),
           jx_map_str(r, "state"), event, approval ? approval : "-",
           safe_str(jx_map_str(r, "title"), b3, sizeof b3));
  }
  printf("%zu waiting for %s\n", rows->u.a.len, o->as);
}

static void render_log(const options *o, const jx_value *rows) {
  if (o->json) {
    print_json(rows);
    return;
  }
  for (size_t i = 0; i < rows->u.a.len; i++) {
    const jx_value *r = &rows->u.a.items[i];
    printf("commit %s\nDate:   %s\n\n", jx_map_str(r, "commit"),
           jx_map_str(r, "time"));
    const char *m = jx_map_str(r, "message");
    while (m && *m) {
      const char *nl = strchr(m, '\n');
      int n = nl ? (int)(nl - m) : (int)strlen(m);
      printf("    %.*s\n", n, m);
      m += n + (nl ? 1 : 0);
    }
    putchar('\n');
  }
}

static int show(const options *o, jx_store *s, const jx_config *cfg) {
  jx_value doc;
  (void)cfg;
  int rc = jx_query_show(s, o->args[0], &doc);
  if (rc == 0)
    render_show(o, &doc);
  jx_value_free(&doc);
  return rc;
}

/* A read command's document from the daemon, when one serves the store
 * and a token is at hand (JX_TOKEN, JX_TOKEN_FILE); 1 when the store is
 * to be read here instead, which is safe beside a daemon: readers take no
 * lock. */
static int ask_daemon(const options *o, const char *actor, const char *method,
                      jx_value params, jx_value *doc) {
  jx_config *cfg = NULL;
  char *addr = NULL;
  *doc = jx_nil();
  int rc = load_config(o, &cfg);
  if (rc == 0)
    rc = find_daemon(o, cfg, &addr);
  if (rc == 0 && (!addr || (!o->connect && !getenv("JX_TOKEN") &&
                            !getenv("JX_TOKEN_FILE"))))
    rc = 1;
  if (rc < 0)
    fail(o, rc, NULL, NULL);
  if (rc == 0) {
    session s = {.o = o, .cfg = cfg, .daemon = addr};
    rc = session_call(&s, actor, method, params, doc);
    params = jx_nil();
    for (size_t i = 0; i < s.nremotes; i++)
      jx_client_free(s.remotes[i].client);
  }
  jx_value_free(&params);
  free(addr);
  jx_config_free(cfg);
  return rc;
}

typedef int (*local_read)(const options *, jx_store *, const jx_config *);

/* A read command: the daemon's document when one answers (ask_daemon),
 * else `local` reads the store here; the same rendering either way. */
static int read_cmd(const options *o, const char *actor, const char *method,
                    jx_value params, local_read local,
                    void (*render)(const options *, const jx_value *)) {
  jx_value doc;
  int rc = ask_daemon(o, actor, method, params, &doc);
  if (rc == 1)
    return with_store(o, local);
  if (rc == 0)
    render(o, &doc);
  jx_value_free(&doc);
  return rc;
}

static int cmd_show(const options *o) {
  jx_value p = jx_map();
  jx_map_set(&p, "project", jx_str(o->args[0]));
  return read_cmd(o, NULL, "show", p, show, render_show);
}

static int list(const options *o, jx_store *s, const jx_config *cfg) {
  jx_value rows;
  int rc = jx_query_list(s, cfg, o->state, o->department, &rows);
  if (rc == 0)
    render_list(o, &rows);
  jx_value_free(&rows);
  return rc;
}

static int cmd_list(const options *o) {
  jx_value p = jx_map();
  if (o->state)
    jx_map_set(&p, "state", jx_str(o->state));
  if (o->department)
    jx_map_set(&p, "department", jx_str(o->department));
  return read_cmd(o, NULL, "list", p, list, render_list);
}

static int inbox(const options *o, jx_store *s, const jx_config *cfg) {
  jx_value rows;
  int rc = jx_query_inbox(s, cfg, NULL, o->as, &rows);
  if (rc == 0)
    render_inbox(o, &rows);
  jx_value_free(&rows);
  return rc;
}

static int cmd_inbox(const options *o) {
  if (!o->as)
    return fail(o, jx_err_set(JX_EINVAL, "inbox: --as ACTOR is required"),
                NULL, NULL);
  return read_cmd(o, o->as, "inbox", jx_map(), inbox, render_inbox);
}

static int log_cmd(const options *o, jx_store *s, const jx_config *cfg) {
  jx_value rows;
  (void)cfg;
  int rc = jx_query_log(s, o->args[0], &rows);
  if (rc == 0)
    render_log(o, &rows);
  jx_value_free(&rows);
  return rc;
}

static int cmd_log(const options *o) {
  jx_value p = jx_map();
  jx_map_set(&p, "project", jx_str(o->args[0]));
  return read_cmd(o, NULL, "log", p, log_cmd, render_log);
}

/* --- reports ------------------------------------------------------------- */

/* A cell as text: strings as they are, numbers and the rest as JSON. */
static void cell_text(jx_buf *b, const jx_value *v) {
  if (v->type == JX_STR)
    jx_buf_append(b, v->u.s.ptr, v->u.s.len);
  else if (v->type != JX_NIL)
    jx_json_write(b, v, false);
}

static void csv_cell(const jx_value *v) {
  jx_buf b = JX_BUF_INIT;
  cell_text(&b, v);
  bool quote = b.data && strpbrk(b.data, ",\"\r\n");
  if (quote) {
    putchar('"');
    for (size_t i = 0; i < b.len; i++) {
      if (b.data[i] == '"')
        putchar('"');
      putchar(b.data[i]);
    }
    putchar('"');
  } else if (b.data) {
    fputs(b.data, stdout);
  }
  jx_buf_free(&b);
}

/* Width of s on a terminal: one column per UTF-8 character, two for CJK
 * (U+1100 and up, roughly), so Chinese names line up. */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    if (*p < 0x80) {
      w++, p++;
    } else {
      int n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
      w += n >= 3 ? 2 : 1;
      for (int k = 0; k < n && *p; k++)
        p++;
    }
  }
  return w;
}

static void print_report(const jx_value *r, bool csv) {
  const jx_value *cols = jx_map_get(r, "columns");
  const jx_value *rows = jx_map_get(r, "rows");
  const jx_value *notes = jx_map_get(r, "notes");
  size_t ncols = cols && cols->type == JX_ARRAY ? cols->u.a.len : 0;
  size_t nrows = rows && rows->type == JX_ARRAY ? rows->u.a.len : 0;
  if (csv) {
    for (size_t c = 0; c < ncols; c++) {
      if (c)
        putchar(',');
      csv_cell(&cols->u.a.items[c]);
    }
    putchar('\n');
    for (size_t i = 0; i < nrows; i++) {
      const jx_value *row = &rows->u.a.items[i];
      for (size_t c = 0; c < ncols; c++) {
        if (c)
          putchar(',');
        if (row->type == JX_ARRAY && c < row->u.a.len)
          csv_cell(&row->u.a.items[c]);
      }
      putchar('\n');
    }
    return;
  }
  char safe_title[512];
  const char *title = jx_map_str(r, "title");
  if (title)
    printf("%s\n\n", safe_str(title, safe_title, sizeof safe_title));
  size_t *width = jx_xcalloc(ncols ? ncols : 1, sizeof *width);
  jx_buf *text = jx_xcalloc((nrows + 1) * (ncols ? ncols : 1), sizeof *text);
  for (size_t i = 0; i <= nrows; i++)
    for (size_t c = 0; c < ncols; c++) {
      const jx_value *row = i ? &rows->u.a.items[i - 1] : cols;
      jx_buf *t = &text[i * ncols + c];
      if (row->type == JX_ARRAY && c < row->u.a.len)
        cell_text(t, &row->u.a.items[c]);
      jx_buf_puts(t, "");
      char safe_buf[1024];
      const char *s = safe(t->data, t->len, safe_buf, sizeof safe_buf);
      t->len = 0;
      jx_buf_puts(t, s);
      if (text_width(t->data) > width[c])
        width[c] = text_width(t->data);
    }
  for (size_t i = 0; i <= nrows; i++) {
    for (size_t c = 0; c < ncols; c++) {
      const char *s = text[i * ncols + c].data;
      printf("%s%s", c ? "  " : "", s);
      if (c + 1 < ncols)
        for (size_t k = text_width(s); k < width[c]; k++)
          putchar(' ');
    }
    putchar('\n');
  }
  for (size_t i = 0; notes && notes->type == JX_ARRAY && i < notes->u.a.len;
       i++) {
    jx_buf b = JX_BUF_INIT;
    char line[1024];
    cell_text(&b, &notes->u.a.items[i]);
    printf("%s%s\n", i ? "" : "\n", safe(b.data, b.len, line, sizeof line));
    jx_buf_free(&b);
  }
  for (size_t i = 0; i < (nrows + 1) * ncols; i++)
    jx_buf_free(&text[i]);
  free(text);
  free(width);
}

static void render_report(const options *o, const jx_value *doc) {
  if (o->json)
    print_json(doc);
  else
    print_report(doc, o->csv);
}

static int report(const options *o, jx_store *s, const jx_config *cfg) {
  int64_t as_of;
  jx_value doc = jx_nil();
  int rc = jx_date_parse("--at", o->at, &as_of);
  if (rc == 0)
    rc = jx_query_report(s, cfg, o->args[0], as_of, &doc);
  if (rc == 0)
    render_report(o, &doc);
  jx_value_free(&doc);
  return rc;
}

static int cmd_report(const options *o) {
  jx_value p = jx_map();
  jx_map_set(&p, "name", jx_str(o->args[0]));
  if (o->at)
    jx_map_set(&p, "at", jx_str(o->at));
  return read_cmd(o, NULL, "report", p, report, render_report);
}

/* --- run: a script of writes ------------------------------------------------
 */

static int parse_args(int argc, char **argv, options *o, const command **cmd);
static int check_usage(const options *o, const command *cmd);

/* A line of a script: a write command with its options, `at DATE` or
 * `say TEXT`. */
typedef struct script_cmd {
  const command *cmd; /* NULL for `at` and `say` */
  options o;
  char *path; /* submit: FILE resolved against the script's directory */
  char *say;  /* the text of `say`, words joined by a space */
} script_cmd;

/* FILE of a submit line names a file beside the script, wherever jx runs. */
static char *beside(const char *script, const char *file) {
  const char *slash = strrchr(script, '/');
  if (file[0] == '/' || !slash)
    return jx_xstrdup(file);
  jx_buf b = JX_BUF_INIT;
  jx_buf_printf(&b, "%.*s/%s", (int)(slash - script), script, file);
  return (char *)b.data;
}

/* What a `do` line names must exist: a misspelt event or actor is a
 * mistake of the script, found before anything runs. */
static int check_do(session *s, const options *o) {
  const jx_workflow *wf = s->wf;
  const char *event = o->args[1];
  jx_value set = jx_map();
  int rc = 0;
  if (!jx_workflow_event(wf, event))
    rc = jx_err_set(JX_EINVAL, "workflow %s has no event \"%s\"", wf->name,
                    event);
  else if (!o->as)
    rc = jx_err_set(JX_EINVAL, "do: --as ACTOR is required");
  else if (!jx_config_actor(s->cfg, o->as))
    rc = jx_err_set(JX_EINVAL, "no actor \"%s\" in %s [actors]", o->as,
                    s->cfg->path);
  for (size_t i = 0; i < o->nsets && rc == 0; i++)
    rc = parse_set(o->sets[i], &set);
  /* A field no transition of the event may set would be refused there. */
  for (size_t i = 0; rc == 0 && i < set.u.m.len; i++) {
    const char *key = set.u.m.items[i].key;
    bool settable = false;
    for (size_t k = 0; k < wf->ntransitions; k++)
      settable |= strcmp(wf->transitions[k].event, event) == 0 &&
                  jx_strlist_has(&wf->transitions[k].sets, key);
    if (!settable)
      rc = jx_err_set(JX_EINVAL, "%s does not set field \"%s\" (see jx do "
                                 "--help)",
                      event, key);
    else
      rc = jx_workflow_check_field(wf, key, &set.u.m.items[i].val);
  }
  jx_value_free(&set);
  return rc;
}

/* What a line needs before anything runs: a submitted file that reads and
 * checks, a date for every event, `tick` its --to. */
static int check_line(session *s, const script_cmd *sc, const char *at) {
  int64_t t;
  int rc = 0;
  if (sc->cmd->write == tick)
    return sc->o.to ? jx_date_parse("--to", sc->o.to, &t)
                    : jx_err_set(JX_EINVAL, "tick: --to DATE is required");
  if (!sc->o.at && !at)
    return jx_err_set(JX_EINVAL,
                      "%s has no date: give --at DATE or an `at DATE` line "
                      "before it (a script's events are dated, never "
                      "\"now\")",
                      sc->cmd->name);
  if (sc->o.at && (rc = jx_date_parse("--at", sc->o.at, &t)) < 0)
    return rc;
  if (sc->cmd->write == do_event)
    return check_do(s, &sc->o);
  if (sc->cmd->write == migrate) {
    jx_value map = jx_map();
    rc = sc->o.as ? parse_map(sc->o.map, &map)
                  : jx_err_set(JX_EINVAL, "migrate: --as ACTOR is required");
    jx_value_free(&map);
    return rc;
  }
  submissions f = {0};
  rc = read_submissions(s, sc->o.args[0], &f);
  free_submissions(&f);
  return rc;
}

/* Reads and checks one line; *at is the date of `at` lines so far. */
static int read_line(session *s, const jx_script_line *line, script_cmd *sc,
                     const char *script, const char **at) {
  const options *o = s->o;
  char **argv = line->argv;
  int rc;
  if (!strcmp(argv[0], "say")) {
    jx_buf b = JX_BUF_INIT;
    for (int i = 1; i < line->argc; i++)
      jx_buf_printf(&b, "%s%s", i > 1 ? " " : "", argv[i]);
    sc->say = b.data ? (char *)b.data : jx_xstrdup("");
    return 0;
  }
  if (!strcmp(argv[0], "at")) {
    int64_t t;
    if (line->argc != 2)
      return jx_err_set(JX_EINVAL, "at: expected one DATE");
    if ((rc = jx_date_parse("at", argv[1], &t)) < 0)
      return rc;
    sc->o.at = *at = argv[1];
    return 0;
  }
  if ((rc = parse_args(line->argc, argv, &sc->o, &sc->cmd)) < 0)
    return rc;
  if (!sc->cmd)
    return jx_err_set(JX_EINVAL, "no command");
  if (!sc->cmd->write)
    return jx_err_set(JX_EINVAL,
                      "a script holds writes (submit, do, tick, migrate), "
                      "`at DATE` and `say TEXT`, not %s",
                      sc->cmd->name);
  if (sc->o.config || sc->o.store || sc->o.json || sc->o.csv || sc->o.help)
    return jx_err_set(JX_EINVAL, "-c, --store, --json, --csv and --help go "
                                 "on jx run's command line, not in a script");
  if ((rc = check_usage(&sc->o, sc->cmd)) < 0)
    return rc;
  if (sc->cmd->write == submit)
    sc->o.args[0] = sc->path = beside(script, sc->o.args[0]);
  if ((rc = check_line(s, sc, *at)) < 0)
    return rc;
  sc->o.config = o->config;
  sc->o.store = o->store;
  sc->o.json = o->json;
  return 0;
}

/* The whole script is read and checked before anything is written: a typo
 * on line 400 must not leave 399 lines applied.  Then each line runs as
 * the command would (refusals are reported and the run goes on) and waits
 * until it is durable, so the lines' outputs come in order. */
static int cmd_run(const options *o) {
  jx_script *script = NULL;
  script_cmd *lines = NULL;
  session s = {0};
  char where[1024];
  size_t n = 0;
  int rc = jx_script_load(&script, o->args[0]);
  json_lines = true;
  if (rc == 0 && (rc = session_open(&s, o)) == 0) {
    const char *at = NULL;
    lines = jx_xcalloc(script->nlines + 1, sizeof *lines);
    for (; rc == 0 && n < script->nlines; n++) {
      if ((rc = read_line(&s, &script->lines[n], &lines[n], script->name,
                          &at)) < 0)
        rc = jx_err_wrap("%s:%u", script->name, script->lines[n].lineno);
    }
  }
  if (rc < 0) {
    fail(o, rc, NULL, NULL);
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(where, sizeof where, "%s:%u", script->name,
             script->lines[i].lineno);
    s.where = where;
    s.rc = 0;
    if (lines[i].say && o->json) {
      jx_value v = jx_map();
      jx_map_set(&v, "say", jx_str(lines[i].say));
      print_json(&v);
      jx_value_free(&v);
    } else if (lines[i].say) {
      puts(lines[i].say);
    } else if (!lines[i].cmd) {
      s.at = lines[i].o.at;
    } else {
      int rc1 = lines[i].cmd->write(&s, &lines[i].o);
      if (rc1 == JX_ESTORE || rc1 == JX_ECONN) {
        fprintf(stderr, "jx: %s: the %s failed; the rest of %s was not "
                        "run\n",
                where, rc1 == JX_ESTORE ? "store" : "daemon connection",
                script->name);
        break;
      }
    }
  }
  rc = s.worst;
  if (o->json) {
    jx_value v = jx_map();
    jx_map_set(&v, "script", jx_str(script->name));
    jx_map_set(&v, "made", jx_int((int64_t)s.made));
    jx_map_set(&v, "refused", jx_int((int64_t)s.refused));
    jx_map_set(&v, "failed", jx_int((int64_t)s.failed));
    print_json(&v);
    jx_value_free(&v);
  } else {
    printf("run %s: %zu events made, %zu refused by rules, %zu failed\n",
           script->name, s.made, s.refused, s.failed);
  }
cleanup:
  session_close(&s);
  for (size_t i = 0; lines && i < n; i++) {
    free(lines[i].path);
    free(lines[i].say);
  }
  free(lines);
  jx_script_free(script);
  return rc;
}

/* A write on its own: one session for one command. */
static int write_once(const command *cmd, const options *o) {
  session s;
  int rc = session_open(&s, o);
  if (rc < 0)
    fail(o, rc, NULL, NULL);
  else
    rc = cmd->write(&s, o);
  session_close(&s);
  return rc;
}

/* --- export: the decision log for auditors' tools ------------------------
 */

typedef struct export_ctx {
  jx_store *s;
  jx_value rows; /* one array per decision, in export_columns order */
  const options *o;
} export_ctx;

static const char *const export_columns[] = {
    "project", "seq",  "time", "event", "actor", "role",
    "from",    "to",   "commit", "rule_set", "set"};
#define NEXPORT (sizeof export_columns / sizeof *export_columns)

static int export_one(const jx_store_entry *e, void *payload) {
  jx_value *rows = payload; /* this project's, newest first */
  jx_value r = jx_array();
  char when[32], commit[GIT_OID_HEXSZ + 1], rules[GIT_OID_HEXSZ + 1] = "";
  time_t t = (time_t)e->time;
  struct tm tm;
  int64_t seq = 0;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  git_oid_tostr(commit, sizeof commit, e->commit);
  if (e->rules)
    git_oid_tostr(rules, sizeof rules, e->rules);
  jx_map_int(e->state, "seq", &seq);
  const jx_value *set = jx_map_get(e->event, "set");
  const char *cells[] = {jx_map_str(e->event, "name"),
                         jx_map_str(e->event, "actor"),
                         jx_map_str(e->event, "role"),
                         jx_map_str(e->event, "from"),
                         jx_map_str(e->state, "status"),
                         commit,
                         rules};
  jx_array_push(&r, jx_nil()); /* the project, filled by the caller */
  jx_array_push(&r, jx_int(seq));
  jx_array_push(&r, jx_str(when));
  for (size_t i = 0; i < sizeof cells / sizeof *cells; i++)
    jx_array_push(&r, jx_str(cells[i] ? cells[i] : ""));
  /* CSV prints it as JSON; an empty set as an empty cell. */
  jx_array_push(&r, set && set->type == JX_MAP && set->u.m.len
                        ? jx_value_copy(set)
                        : jx_str(""));
  jx_array_push(rows, r);
  return 0;
}

/* One project's history, oldest first, after the rows so far. */
static int export_project(const char *id, const git_oid *head, void *payload) {
  export_ctx *c = payload;
  jx_value mine = jx_array();
  (void)head;
  int rc = jx_store_log(c->s, id, export_one, &mine);
  for (size_t i = mine.u.a.len; rc == 0 && i-- > 0;) {
    jx_value *r = &mine.u.a.items[i];
    r->u.a.items[0] = jx_str(id);
    jx_array_push(&c->rows, *r);
    *r = jx_nil();
  }
  jx_value_free(&mine);
  return rc;
}

static int export_log(const options *o, jx_store *s, const jx_config *cfg) {
  export_ctx c = {.s = s, .rows = jx_array(), .o = o};
  (void)cfg;
  int rc = jx_store_foreach(s, export_project, &c);
  /* The registry of actors is part of what decided: its changes too. */
  if (rc == 0 && (rc = export_project(JX_REGISTRY_ID, NULL, &c)) ==
                     JX_ENOTFOUND) {
    jx_err_clear();
    rc = 0;
  }
  if (rc == 0 && o->json) {
    jx_value list = jx_array();
    for (size_t i = 0; i < c.rows.u.a.len; i++) {
      jx_value obj = jx_map();
      for (size_t k = 0; k < NEXPORT; k++)
        jx_map_set(&obj, export_columns[k],
                   jx_value_copy(&c.rows.u.a.items[i].u.a.items[k]));
      jx_array_push(&list, obj);
    }
    print_json(&list);
    jx_value_free(&list);
  } else if (rc == 0) {
    jx_value table = jx_map(), cols = jx_array();
    for (size_t k = 0; k < NEXPORT; k++)
      jx_array_push(&cols, jx_str(export_columns[k]));
    jx_map_set(&table, "columns", cols);
    jx_map_set(&table, "rows", c.rows);
    c.rows = jx_nil();
    print_report(&table, true);
    jx_value_free(&table);
  }
  jx_value_free(&c.rows);
  return rc;
}

static int cmd_export(const options *o) { return with_store(o, export_log); }

/* --- audit: verify ------------------------------------------------------
 */

typedef struct verify_ctx {
  bool json;
  jx_value rows; /* --json: the problems */
} verify_ctx;

static void verify_problem(const char *record, const char *commit,
                           const char *what, void *payload) {
  verify_ctx *v = payload;
  char r[256], w[1100];
  if (v->json) {
    jx_value p = jx_map();
    jx_map_set(&p, "record", jx_str(record));
    jx_map_set(&p, "commit", jx_str(commit));
    jx_map_set(&p, "problem", jx_str(what));
    jx_array_push(&v->rows, p);
  } else {
    printf("%s%s%.12s: %s\n", safe_str(record, r, sizeof r),
           *commit ? " " : "", commit, safe_str(what, w, sizeof w));
  }
}

static int audit_verify(const options *o, jx_store *s, const jx_config *cfg) {
  verify_ctx v = {.json = o->json, .rows = jx_array()};
  jx_verify_report rep;
  (void)cfg;
  int rc = jx_verify(s, o->key, verify_problem, &v, &rep);
  if (rc == 0 && o->nargs > 1 && jx_verify_published(s, o->args[1]) < 0) {
    verify_problem("", "", jx_err_last()->msg, &v);
    rep.problems++;
  } else if (rc == 0 && o->nargs > 1 && !o->json) {
    printf("the published seal %.12s is in the seal chain\n", o->args[1]);
  }
  if (rc == 0 && o->json) {
    jx_value out = jx_map();
    jx_map_set(&out, "records", jx_int((int64_t)rep.records));
    jx_map_set(&out, "commits", jx_int((int64_t)rep.commits));
    jx_map_set(&out, "seals", jx_int((int64_t)rep.seals));
    jx_map_set(&out, "problems", v.rows);
    v.rows = jx_nil();
    print_json(&out);
    jx_value_free(&out);
  } else if (rc == 0) {
    printf("verified %zu records, %zu commits, %zu seals: %s\n", rep.records,
           rep.commits, rep.seals, rep.problems ? "PROBLEMS" : "ok");
  git_oid tip;
  if (rc == 0 && !o->json &&
      git_reference_name_to_id(&tip, jx_store_repo(s), "refs/jx/seal") == 0)
    printf("the seal now: %s (publish it; jx audit verify SEAL checks a "
           "mirror against it)\n",
           git_oid_tostr_s(&tip));
  }
  if (rc == 0 && rep.problems)
    rc = jx_err_set(JX_ESTORE, "%zu problems in %s", rep.problems,
                    jx_store_path(s));
  jx_value_free(&v.rows);
  return rc;
}

typedef struct replay_ctx {
  const options *o;
  jx_replay *r;
  jx_replay_stats st;
} replay_ctx;

static void replayed(const char *id, const char *commit, const char *event,
                     const char *differs, void *payload) {
  (void)payload;
  if (differs)
    printf("%s %.12s %s: %s\n", id, commit, event, differs);
}

static int replay_one(const char *id, const git_oid *head, void *payload) {
  replay_ctx *c = payload;
  (void)head;
  return jx_replay_project(c->r, id, c->o->at ? c->o->at : NULL, replayed, c,
                           &c->st);
}

/* Every decision decided again under the rule set of its own commit. */
/* The actors to replay with: the store's registry when it has one, else
 * each rule set's own [actors] (NULL), as they were when it decided. */
static jx_value replay_actors(jx_store *s, const jx_config *cfg) {
  git_oid head;
  jx_value reg = jx_nil();
  if (jx_store_head(s, JX_REGISTRY_ID, &head, &reg) < 0) {
    jx_err_clear();
    return jx_nil();
  }
  jx_value_free(&reg);
  return jx_config_actors(cfg); /* with_store put the registry there */
}

static int audit_replay(const options *o, jx_store *s, const jx_config *cfg) {
  replay_ctx c = {.o = o};
  jx_value actors = replay_actors(s, cfg);
  int rc = jx_replay_new(&c.r, s, actors.type == JX_NIL ? NULL : &actors);
  if (rc == 0 && o->nargs > 1) {
    char *ids = jx_xstrdup(o->args[1]), *save = NULL;
    for (char *id = strtok_r(ids, ",", &save); id && rc == 0;
         id = strtok_r(NULL, ",", &save))
      rc = replay_one(id, NULL, &c);
    free(ids);
  } else if (rc == 0) {
    rc = jx_store_foreach(s, replay_one, &c);
  }
  jx_replay_free(c.r);
  jx_value_free(&actors);
  if (rc == 0) {
    printf("replayed %zu decisions: %zu identical, %zu differ; %zu not "
           "decisions of the rules (migrations, registry)\n",
           c.st.same + c.st.differ, c.st.same, c.st.differ, c.st.skipped);
    if (c.st.differ)
      rc = jx_err_set(JX_ESTORE, "%zu decisions replay differently",
                      c.st.differ);
  }
  return rc;
}

/* What-if: the recorded events decided under other rules. */
typedef struct what_if {
  size_t changed;
  jx_value by_rule; /* rule -> count of decisions it would have refused */
  size_t other_state;
} what_if;

static void simulated(const char *id, const char *commit, const char *event,
                      const char *differs, void *payload) {
  what_if *w = payload;
  if (!differs)
    return;
  w->changed++;
  printf("%s %.12s %s: %s\n", id, commit, event, differs);
  const char *by = strstr(differs, "refused by ");
  if (!by) {
    w->other_state++;
    return;
  }
  char rule[64];
  by += strlen("refused by ");
  size_t n = strcspn(by, ":");
  snprintf(rule, sizeof rule, "%.*s", (int)(n < 63 ? n : 63), by);
  const jx_value *count = jx_map_get(&w->by_rule, rule);
  jx_map_set(&w->by_rule, rule, jx_int(count ? count->u.i + 1 : 1));
}

static int simulate(const options *o, jx_store *s, const jx_config *cfg) {
  what_if w = {.by_rule = jx_map()};
  replay_ctx c = {.o = o};
  /* What-if is about rules, not about who is registered: the bureau's
   * actors (its registry, or its [actors]) act under the other rules. */
  jx_value actors = jx_config_actors(cfg);
  struct stat st;
  jx_buf path = JX_BUF_INIT;
  if (stat(o->rules, &st) == 0 && S_ISDIR(st.st_mode))
    jx_buf_printf(&path, "%s/workflow.toml", o->rules);
  else
    jx_buf_puts(&path, o->rules);
  int rc = jx_replay_new(&c.r, s, &actors);
  if (rc == 0)
    rc = jx_replay_use_rules(c.r, path.data);
  char *ids = jx_xstrdup(o->nargs ? o->args[0] : ""), *save = NULL;
  for (char *id = strtok_r(ids, ",", &save); rc == 0 && o->nargs && id;
       id = strtok_r(NULL, ",", &save))
    rc = jx_replay_project(c.r, id, o->at, simulated, &w, &c.st);
  free(ids);
  if (rc == 0 && !o->nargs) {
    jx_value projects;
    rc = jx_query_projects(s, &projects);
    for (size_t i = 0; rc == 0 && i < projects.u.a.len; i++)
      rc = jx_replay_project(c.r, jx_map_str(&projects.u.a.items[i], "id"),
                             o->at, simulated, &w, &c.st);
    jx_value_free(&projects);
  }
  if (rc == 0) {
    printf("under %s, %zu of %zu decisions would have gone otherwise",
           path.data, w.changed, c.st.same + c.st.differ);
    for (size_t i = 0; i < w.by_rule.u.m.len; i++)
      printf("%s %s would have refused %lld", i ? "," : ":",
             w.by_rule.u.m.items[i].key,
             (long long)w.by_rule.u.m.items[i].val.u.i);
    if (w.other_state)
      printf("%s %zu would have ended in another state",
             w.by_rule.u.m.len ? "," : ":", w.other_state);
    printf(".  Nothing was written.\n");
  }
  jx_replay_free(c.r);
  jx_value_free(&actors);
  jx_value_free(&w.by_rule);
  jx_buf_free(&path);
  return rc;
}

static int cmd_simulate(const options *o) {
  if (!o->rules)
    return fail(o, jx_err_set(JX_EINVAL, "simulate: --rules DIR is required"),
                NULL, NULL);
  return with_store(o, simulate);
}

static int cmd_audit(const options *o) {
  if (strcmp(o->args[0], "verify") == 0)
    return with_store(o, audit_verify);
  if (strcmp(o->args[0], "replay") == 0)
    return with_store(o, audit_replay);
  return fail(o,
              jx_err_set(JX_EINVAL,
                         "audit: expected verify or replay, not \"%s\"",
                         o->args[0]),
              NULL, NULL);
}

/* --- why: a decision explained ------------------------------------------
 */

typedef struct why_ctx {
  const char *want; /* a commit id or a prefix of one; NULL: the head */
  jx_value entry;   /* the decision found: commit, rules, time, message,
                       event, state */
  jx_value parent;  /* the state before it, or nil */
  bool found, done;
} why_ctx;

static int why_one(const jx_store_entry *e, void *payload) {
  why_ctx *w = payload;
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, e->commit);
  if (w->found) { /* the next older entry: the parent */
    w->parent = jx_value_copy(e->state);
    return 1;
  }
  if (w->want && strncmp(hex, w->want, strlen(w->want)) != 0)
    return 0;
  w->found = true;
  w->entry = jx_map();
  jx_map_set(&w->entry, "commit", jx_str(hex));
  if (e->rules)
    jx_map_set(&w->entry, "rules", jx_str(git_oid_tostr_s(e->rules)));
  jx_map_set(&w->entry, "message", jx_str(e->message));
  jx_map_set(&w->entry, "event", jx_value_copy(e->event));
  jx_map_set(&w->entry, "state", jx_value_copy(e->state));
  return 0;
}

static void print_kv(const char *indent, const jx_value *m) {
  for (size_t i = 0; m && m->type == JX_MAP && i < m->u.m.len; i++) {
    jx_buf b = JX_BUF_INIT;
    jx_json_write(&b, &m->u.m.items[i].val, false);
    printf("%s%s = %s\n", indent, m->u.m.items[i].key, b.data);
    jx_buf_free(&b);
  }
}

/* The plugins' parameters in the rule set's workflow.toml, by name. */
static jx_value rule_set_params(jx_store *s, const git_oid *commit) {
  jx_buf text = JX_BUF_INIT;
  jx_toml_doc *doc = NULL;
  jx_value out = jx_map();
  if (jx_store_rule_file_at(s, commit, "workflow.toml", &text) == 0 &&
      jx_toml_load_string(&doc, text.data ? text.data : "", text.len,
                          "workflow.toml") == 0) {
    const jx_value *plugins = jx_map_get(jx_toml_root(doc), "plugin");
    for (size_t i = 0; plugins && plugins->type == JX_ARRAY &&
                       i < plugins->u.a.len;
         i++) {
      jx_value p = jx_value_copy(&plugins->u.a.items[i]);
      const char *name = jx_map_str(&p, "name");
      if (name) {
        jx_value params = jx_value_copy(&p);
        jx_map_del(&params, "name");
        jx_map_del(&params, "file");
        jx_map_set(&out, name, params);
      }
      jx_value_free(&p);
    }
  }
  jx_err_clear();
  jx_toml_free(doc);
  jx_buf_free(&text);
  return out;
}

static int why(const options *o, jx_store *s, const jx_config *cfg) {
  (void)cfg;
  why_ctx w = {.want = o->nargs > 1 ? o->args[1] : NULL,
               .entry = jx_nil(),
               .parent = jx_nil()};
  jx_workflow *wf = NULL;
  jx_buf def = JX_BUF_INIT;
  git_oid commit, rules;
  int rc = jx_store_log(s, o->args[0], why_one, &w);
  if (rc > 0)
    rc = 0;
  if (rc == 0 && !w.found)
    rc = jx_err_set(JX_ENOTFOUND, "project %s has no commit %s", o->args[0],
                    w.want);
  if (rc < 0)
    goto cleanup;
  if (o->json) {
    jx_map_set(&w.entry, "parent_state", jx_value_copy(&w.parent));
    print_json(&w.entry);
    goto cleanup;
  }
  const jx_value *ev = jx_map_get(&w.entry, "event");
  const jx_value *st = jx_map_get(&w.entry, "state");
  const char *event = jx_map_str(ev, "name");
  git_oid_fromstr(&commit, jx_map_str(&w.entry, "commit"));
  printf("%s, commit %.12s, %s\n", o->args[0], jx_map_str(&w.entry, "commit"),
         jx_map_str(ev, "time"));
  printf("  %s sent %s (role %s): %s -> %s.\n", jx_map_str(ev, "actor"),
         event, jx_map_str(ev, "role"), jx_map_str(ev, "from"),
         jx_map_str(st, "status"));
  const jx_value *set = jx_map_get(ev, "set");
  if (set && set->type == JX_MAP && set->u.m.len) {
    printf("  It set:\n");
    print_kv("    ", set);
  }
  /* The rules: the transition of the rule set's own definition. */
  const char *rules_hex = jx_map_str(&w.entry, "rules");
  if (rules_hex && jx_store_rule_file_at(s, &commit, "definition.toml",
                                         &def) == 0) {
    jx_value params = rule_set_params(s, &commit);
    const char **names = jx_xcalloc(params.u.m.len + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < params.u.m.len; i++)
      names[n++] = params.u.m.items[i].key;
    git_oid_fromstr(&rules, rules_hex);
    if (jx_workflow_load_text(&wf, "definition.toml",
                              def.data ? def.data : "", def.len, names,
                              n) == 0) {
      const jx_transition *t =
          jx_workflow_find(wf, event, jx_map_str(ev, "from"));
      printf("  Rule set %.12s, definition %s version %lld.\n", rules_hex,
             wf->name, (long long)wf->version);
      for (size_t i = 0; t && i < params.u.m.len; i++) {
        const char *name = params.u.m.items[i].key;
        const jx_value *p = &params.u.m.items[i].val;
        const jx_value *on = jx_map_get(p, "guard_on");
        bool guard = jx_strlist_has(&t->guards, name);
        for (size_t k = 0; on && on->type == JX_ARRAY && k < on->u.a.len; k++)
          guard |= on->u.a.items[k].type == JX_STR &&
                   strcmp(on->u.a.items[k].u.s.ptr, event) == 0;
        bool react = jx_strlist_has(&t->reactions, name);
        if (!guard && !react)
          continue;
        printf("  %s %s%s%s, with:\n", name, guard ? "guarded it" : "",
               guard && react ? " and " : "", react ? "reacted" : "");
        jx_value shown = jx_value_copy(p);
        jx_map_del(&shown, "guard_on");
        if (shown.u.m.len)
          print_kv("    ", &shown);
        else
          printf("    (no parameters)\n");
        jx_value_free(&shown);
      }
      if (t && (t->guards.len || t->reactions.len))
        printf("  Every guard accepted it: a refusal makes no commit.\n");
      else if (t)
        printf("  No rule guards %s; the definition allows it to roles "
               "of the transition.\n",
               event);
    } else {
      jx_err_clear();
    }
    jx_value_free(&params);
    free(names);
  }
  /* What the reactions recorded: the facts that changed. */
  const jx_value *facts = jx_map_get(st, "facts");
  const jx_value *before = jx_map_get(&w.parent, "facts");
  bool header = false;
  for (size_t i = 0; facts && facts->type == JX_MAP && i < facts->u.m.len;
       i++) {
    const jx_pair *f = &facts->u.m.items[i];
    const jx_value *old = before ? jx_map_get(before, f->key) : NULL;
    if (old && jx_value_equal(old, &f->val))
      continue;
    if (!header)
      printf("  Facts recorded:\n");
    header = true;
    jx_value one = jx_map();
    jx_map_set(&one, f->key, jx_value_copy(&f->val));
    print_kv("    ", &one);
    jx_value_free(&one);
  }
  /* Trailers beyond the usual ones (approval, delegation, escalation). */
  const char *m = jx_map_str(&w.entry, "message");
  static const char *const extra[] = {"Approval:", "On-Behalf-Of:",
                                      "Delegate:", "Escalated:",
                                      "Definition:", "Registry:"};
  while (m && *m) {
    const char *nl = strchr(m, '\n');
    size_t len = nl ? (size_t)(nl - m) : strlen(m);
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
      if (strncmp(m, extra[i], strlen(extra[i])) == 0)
        printf("  %.*s\n", (int)len, m);
    m += len + (nl != NULL);
  }
cleanup:
  jx_workflow_free(wf);
  jx_buf_free(&def);
  jx_value_free(&w.entry);
  jx_value_free(&w.parent);
  return rc;
}

static int cmd_why(const options *o) { return with_store(o, why); }

/* --- cat: msgpack as text, for git's textconv ---------------------------
 */

/* jx cat FILE: a state or event blob (msgpack) as JSON; git runs it as the
 * textconv of the store's *.msgpack files (diff=jx), so that git log -p
 * and git show print decisions as text. */
static int cmd_cat(const options *o) {
  jx_buf b = JX_BUF_INIT;
  jx_value v = jx_nil();
  const char *path = o->args[0];
  int err = jx_buf_read_file(&b, path, JX_FILE_MAX);
  int rc = err ? jx_err_set(JX_EINVAL, "%s: cannot read: %s", path,
                            strerror(err))
               : jx_codec_decode(&v, b.data ? b.data : "", b.len,
                                 JX_FILE_MAX);
  if (rc < 0 && !err)
    jx_err_wrap("%s", path);
  if (rc == 0) {
    jx_buf text = JX_BUF_INIT;
    jx_json_write(&text, &v, true);
    printf("%s\n", text.data);
    jx_buf_free(&text);
  } else {
    fail(o, rc, NULL, NULL);
  }
  jx_value_free(&v);
  jx_buf_free(&b);
  return rc;
}

/* --- actor: the registry of actors --------------------------------------
 */

static int actor_list(const options *o, jx_store *s, const jx_config *cfg) {
  (void)s;
  jx_value all = jx_config_actors(cfg);
  if (o->json) {
    print_json(&all);
  } else {
    printf("%-16s %-20s %s\n", "ACTOR", "ROLE", "SCOPE");
    for (size_t i = 0; i < cfg->nactors; i++) {
      const jx_actor_conf *a = &cfg->actors[i];
      jx_buf scope = JX_BUF_INIT;
      for (size_t k = 0; k < a->scope.u.m.len; k++)
        jx_buf_printf(&scope, "%s%s=%s", k ? ", " : "",
                      a->scope.u.m.items[k].key,
                      a->scope.u.m.items[k].val.u.s.ptr);
      printf("%-16s %-20s %s\n", a->name, a->role,
             scope.data ? scope.data : "-");
      jx_buf_free(&scope);
    }
  }
  jx_value_free(&all);
  return 0;
}

/* jx actor add NAME --set role=R [--set KEY=VALUE ...] / remove NAME. */
static int actor_change(session *s, const options *o) {
  bool add = strcmp(o->args[0], "add") == 0;
  jx_value entry = jx_map();
  int rc = 0;
  if (!o->as)
    rc = jx_err_set(JX_EINVAL, "actor: --as ACTOR is required");
  else if (o->nargs != 2)
    rc = jx_err_set(JX_EINVAL, "actor %s: NAME is required", o->args[0]);
  for (size_t i = 0; rc == 0 && add && i < o->nsets; i++)
    rc = parse_set(o->sets[i], &entry);
  if (rc == 0 && !add && o->nsets)
    rc = jx_err_set(JX_EINVAL, "actor remove takes no --set");
  jx_request req = {.actor = o->as, .event = add ? "register" : "unregister"};
  if (rc == 0 && s->daemon) {
    jx_value p = jx_map(), result;
    jx_map_set(&p, "name", jx_str(o->args[1]));
    if (add)
      jx_map_set(&p, "entry", entry), entry = jx_nil();
    if (o->at)
      jx_map_set(&p, "at", jx_str(o->at));
    if (session_call(s, o->as, add ? "actor_add" : "actor_remove", p,
                     &result) == 0)
      render_results(s, &result);
    jx_value_free(&result);
    jx_value_free(&entry);
    return s->rc;
  }
  if (rc == 0)
    rc = jx_date_parse("--at", o->at, &req.time);
  if (rc == 0)
    rc = jx_engine_register(s->engine, &req, o->args[1], add ? &entry : NULL,
                            applied, s);
  if (rc < 0) {
    char subject[300];
    snprintf(subject, sizeof subject, "actor %s", o->nargs > 1 ? o->args[1]
                                                                : "");
    session_fail(s, rc, NULL, subject);
  }
  session_flush(s);
  jx_value_free(&entry);
  return s->rc;
}

/* --- the daemon ------------------------------------------------------------
 */

static int cmd_serve(const options *o) {
  bool virtual_clock = o->clock && strcmp(o->clock, "virtual") == 0;
  jx_server *srv = NULL;
  session s = {0};
  char *addr = NULL;
  int rc;
  if (o->clock && !virtual_clock && strcmp(o->clock, "real") != 0)
    return fail(o, jx_err_set(JX_EINVAL, "--clock %s: real or virtual",
                              o->clock),
                NULL, NULL);
  options own = *o;
  own.embedded = true; /* the daemon is the one that opens the store */
  if ((rc = load_config(o, &s.cfg)) == 0) {
    rc = find_daemon(o, s.cfg, &addr);
    if (rc == 0 && addr)
      rc = jx_err_set(JX_ESTORE, "a daemon already serves this store at %s",
                      addr);
    free(addr);
    jx_config_free(s.cfg);
  }
  if (rc == 0 && (rc = session_open(&s, &own)) == 0)
    rc = jx_server_start(&srv, &s.loop, s.cfg, s.store, s.engine,
                         virtual_clock);
  if (rc == 0) {
    uv_run(&s.loop, UV_RUN_DEFAULT);
    fprintf(stderr, "jx serve: stopped; everything acknowledged is "
                    "committed\n");
  } else {
    fail(o, rc, NULL, "serve");
  }
  if (srv)
    uv_run(&s.loop, UV_RUN_DEFAULT); /* the handles a failed start closed */
  jx_server_free(srv);
  session_close(&s);
  return rc;
}

/* Follows changes live: a subscription, a line per committed change. */
static int cmd_watch(const options *o) {
  const char *what = o->args[0], *value = o->nargs > 1 ? o->args[1] : NULL;
  jx_value p = jx_map(), doc = jx_nil();
  long max = o->count ? strtol(o->count, NULL, 10) : -1;
  int rc = 0;
  if (o->count && max <= 0)
    rc = jx_err_set(JX_EINVAL, "--count %s: a positive number", o->count);
  else if (strcmp(what, "inbox") == 0 && !value)
    jx_map_set(&p, "inbox", jx_bool(true));
  else if ((strcmp(what, "project") == 0 || strcmp(what, "department") == 0) &&
           value)
    jx_map_set(&p, what, jx_str(value));
  else
    rc = jx_err_set(JX_EINVAL, "watch: expected project ID, department D "
                               "or inbox");
  if (rc < 0) {
    jx_value_free(&p);
    return fail(o, rc, NULL, NULL);
  }
  jx_config *cfg = NULL;
  char *addr = NULL;
  if ((rc = load_config(o, &cfg)) == 0 &&
      (rc = find_daemon(o, cfg, &addr)) == 0 && !addr)
    rc = jx_err_set(JX_ECONN, "watch: no daemon serves %s (jx serve)",
                    cfg->store_path);
  if (rc < 0) {
    jx_value_free(&p);
    jx_config_free(cfg);
    return fail(o, rc, NULL, NULL);
  }
  session s = {.o = o, .cfg = cfg, .daemon = addr};
  jx_client *c = NULL;
  rc = session_call(&s, o->as, "subscribe", p, &doc);
  if (rc == 0)
    rc = remote_for(&s, o->as, &c);
  if (rc == 0) {
    fprintf(stderr, "jx: watching %s%s%s\n", what, value ? " " : "",
            value ? value : "");
    fflush(stderr);
  }
  for (long n = 0; rc == 0 && n != max;) {
    jx_value m;
    if ((rc = jx_client_read(c, &m)) < 0) {
      /* The daemon stopped: so does watching; short of --count, say so. */
      if (max < 0)
        rc = 0;
      else
        fail(o, rc, NULL, "watch");
      break;
    }
    const jx_value *params = m.type == JX_ARRAY && m.u.a.len == 3
                                 ? &m.u.a.items[2]
                                 : NULL;
    const jx_value *ch = params && params->type == JX_ARRAY &&
                                 params->u.a.len == 1
                             ? &params->u.a.items[0]
                             : NULL;
    if (ch && o->json) {
      print_json(ch);
      n++;
    } else if (ch) {
      printf("%.10s %s: %s %s -> %s by %s (commit %.11s)\n",
             jx_map_str(ch, "time"), jx_map_str(ch, "project"),
             jx_map_str(ch, "event"), jx_map_str(ch, "from"),
             jx_map_str(ch, "to"), jx_map_str(ch, "actor"),
             jx_map_str(ch, "commit"));
      n++;
    }
    fflush(stdout);
    jx_value_free(&m);
  }
  for (size_t i = 0; i < s.nremotes; i++)
    jx_client_free(s.remotes[i].client);
  jx_value_free(&doc);
  free(addr);
  jx_config_free(cfg);
  return rc;
}

typedef struct token_row {
  const options *o;
  jx_value rows;
} token_row;

static int token_listed(const char *actor, const char *created, void *p) {
  token_row *t = p;
  if (t->o->json) {
    jx_value r = jx_map();
    jx_map_set(&r, "actor", jx_str(actor));
    jx_map_set(&r, "created", jx_str(created));
    jx_array_push(&t->rows, r);
  } else {
    printf("%-24s %s\n", actor, created);
  }
  return 0;
}

/* Tokens are kept beside the store, hashed (jx_token.h): who holds the
 * store's directory may hand them out, as it may read the store. */
static int token(const options *o, jx_store *s, const jx_config *cfg) {
  const char *sub = o->args[0], *actor = o->nargs > 1 ? o->args[1] : NULL;
  const char *path = jx_store_path(s);
  if (strcmp(sub, "list") == 0 && !actor) {
    token_row t = {o, jx_array()};
    int rc = jx_token_list(path, token_listed, &t);
    if (rc == 0 && o->json)
      print_json(&t.rows);
    jx_value_free(&t.rows);
    return rc;
  }
  if (!actor || (strcmp(sub, "create") != 0 && strcmp(sub, "revoke") != 0))
    return jx_err_set(JX_EINVAL, "token: expected create ACTOR, revoke "
                                 "ACTOR or list");
  if (strcmp(sub, "revoke") == 0)
    return jx_token_revoke(path, actor);
  if (!jx_config_actor(cfg, actor))
    return jx_err_set(JX_EINVAL, "token create: no actor \"%s\" (jx actor "
                                 "list)",
                      actor);
  char tok[JX_TOKEN_LEN + 1];
  int rc = jx_token_create(path, actor, (int64_t)time(NULL), tok);
  if (rc == 0 && o->json) {
    jx_value v = jx_map();
    jx_map_set(&v, "actor", jx_str(actor));
    jx_map_set(&v, "token", jx_str(tok));
    print_json(&v);
    jx_value_free(&v);
  } else if (rc == 0) {
    printf("%s\n", tok);
  }
  return rc;
}

static int cmd_token(const options *o) { return with_store(o, token); }

static int cmd_actor(const options *o) {
  const char *sub = o->args[0];
  if (strcmp(sub, "list") == 0 && o->nargs == 1) {
    jx_value doc;
    int rc = ask_daemon(o, NULL, "actors", jx_map(), &doc);
    if (rc == 1)
      return with_store(o, actor_list);
    if (rc == 0) {
      jx_config *cfg = NULL;
      /* Rendered from the daemon's registry, as [actors] would be. */
      if ((rc = load_config(o, &cfg)) == 0 &&
          (rc = jx_config_set_actors(cfg, &doc)) == 0)
        rc = actor_list(o, NULL, cfg);
      if (rc < 0)
        fail(o, rc, NULL, NULL);
      jx_config_free(cfg);
    }
    jx_value_free(&doc);
    return rc;
  }
  if (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) {
    static const command change = {"actor", NULL, NULL, 0, 0, 0, NULL,
                                   actor_change};
    return write_once(&change, o);
  }
  return fail(o,
              jx_err_set(JX_EINVAL, "actor: expected list, add NAME or "
                                    "remove NAME, not \"%s\"",
                         sub),
              NULL, NULL);
}

static const command commands[] = {
    {"init", "jx init",
     "Create the store named by [store].path (a bare git repository).\n"
     "Safe to run again on an existing store.\n",
     0, 0, 0, cmd_init, NULL},
    {"submit", "jx submit FILE [--as ACTOR] [--at DATE]",
     "Submit a new budget project described by a TOML file: `id` and the\n"
     "fields of the workflow's [fields] (listed below).  The project is\n"
     "created in the workflow's initial state and sent the `submit` event;\n"
     "the guards (R-2, R-3, ...) decide.  The actor defaults to the file's\n"
     "`unit`.  A file of several projects holds [[project]] tables: each\n"
     "is checked before any is sent, decided on its own and committed\n"
     "together.  See workflows/demo/2021/*.toml for examples.\n",
     1, 1, OPT_AS | OPT_AT, NULL, submit},
    {"do", "jx do ID[,ID...] EVENT --as ACTOR [--set KEY=VALUE ...] [--at DATE]",
     "Send EVENT to project ID as ACTOR.  Several IDs, comma-separated,\n"
     "send it to each (批量): a result line each, a refusal of one does not\n"
     "stop the others, all are committed together; the exit status is the\n"
     "first failure's.  --set adds or changes fields of\n"
     "the project with the event (VALUE is read as a TOML value, else as a\n"
     "string).  --at gives the event's date (YYYY-MM-DD[THH:MM:SS], UTC;\n"
     "default: now).\n",
     2, 2, OPT_AS | OPT_AT | OPT_SET, NULL, do_event},
    {"run", "jx run SCRIPT [--quiet]",
     "Run a script of writes in one process: one command per line as on\n"
     "the command line without `jx` (submit, do, tick), `at DATE` for the\n"
     "date of the lines after it that give no --at, `say TEXT` to print\n"
     "TEXT, and # comments.  --quiet: no line per event (refusals,\n"
     "failures, say and the summary are still printed).  Words\n"
     "split as in sh ('...', \"...\", \\); FILE of submit is relative to\n"
     "the script.  The whole script is checked first (a mistake runs\n"
     "nothing); then each line runs and is durable before the next, and a\n"
     "refusal is reported and the run goes on; --json prints one JSON\n"
     "document per line.  Exit status: the first\n"
     "failure's.  See workflows/demo/2021/year.jx.\n",
     1, 1, OPT_QUIET, cmd_run, NULL},
    {"tick", "jx tick --to DATE [--as ACTOR]",
     "Advance the calendar to DATE: every [[calendar.timer]] of\n"
     "workflow.toml due by then sends its event, as actor `calendar`, to\n"
     "every project in the timer's states that it has not been sent to.\n"
     "Each is a commit like any other event; refusals by the rules are\n"
     "listed and the tick goes on.  Ticking twice to a date does nothing\n"
     "new.  Tests, demos and simulations drive the year with it.  Through\n"
     "a daemon (jx serve --clock virtual), --as names an admin actor.\n",
     0, 0, OPT_TO | OPT_AS, NULL, tick},
    {"show", "jx show ID", "Print the current state of project ID.\n", 1, 1, 0,
     cmd_show, NULL},
    {"list", "jx list [--state S] [--department D]",
     "List projects, optionally only those in state S or of department D.\n", 0,
     0, OPT_STATE | OPT_DEPT, cmd_list, NULL},
    {"log", "jx log ID",
     "Print the history of project ID, newest first: one commit per state\n"
     "change, with its trailers (Event, Actor, From, To, Rule-set).\n",
     1, 1, 0, cmd_log, NULL},
    {"inbox", "jx inbox --as ACTOR",
     "List what waits for ACTOR, oldest first: every project in a state\n"
     "where ACTOR may send a task of the workflow now (an approval it may\n"
     "sign, a review it may make), with since when and, for an approval,\n"
     "how far it is.  Send the event with jx do.\n",
     0, 0, OPT_AS, cmd_inbox, NULL},
    {"report", "jx report NAME [--at DATE] [--json | --csv]",
     "Run the report NAME over every project: a [[plugin]] of workflow.toml\n"
     "whose Lua module has a report(projects, params, context) function\n"
     "(coverage, disclosure, ranking, progress, ...) over the store as it\n"
     "is.  --at: the day the report is made as of, for reports that weigh\n"
     "dates (progress: what was due and sent by then); default: today.\n"
     "Printed as a table, or as JSON or CSV (one of them).\n",
     1, 1, OPT_AT, cmd_report, NULL},
    {"actor", "jx actor list | add NAME --set role=R [--set KEY=V ...] | "
              "remove NAME  (--as ACTOR)",
     "The registry of actors (departments, units, people and their roles),\n"
     "kept in the store and changed by commits like everything else.  Until\n"
     "the first change it is workflow.toml [actors]; from then on the\n"
     "store's.  add: role and scope keys (department, unit) with --set, as\n"
     "in [actors]; add an existing NAME to change it.  Changes are made by\n"
     "an actor of [workflow] admin_roles (--as); each is a commit on\n"
     "refs/jx/registry naming who made it.\n",
     1, 2, OPT_AS | OPT_AT | OPT_SET, cmd_actor, NULL},
    {"migrate", "jx migrate ID[,ID...] --as ACTOR [--map OLD=NEW,...] "
                "[--dry-run] [--at DATE]",
     "Move projects to the workflow definition version this deployment\n"
     "runs.  A project runs under the version it started with (read from\n"
     "the rule set of its commits) until it is moved.\n"
     "--map renames states the new version does not have (a state not\n"
     "mapped keeps its name); an open approval starts afresh.  One commit\n"
     "per project (trailer Definition: NAME 1 -> 2), by an actor of\n"
     "[workflow] admin_roles.  --dry-run lists what would change and\n"
     "writes nothing.\n",
     1, 1, OPT_AS | OPT_AT | OPT_MAP | OPT_DRY, NULL, migrate},
    {"audit", "jx audit verify [SEAL] [--key PUB] | replay [ID,...] [--since DATE]",
     "Check the store without trusting whoever wrote it: every project's\n"
     "chain (and the registry's) to its root, each commit's state, event,\n"
     "rule set, trailers and author, each state following from its\n"
     "parent's, and every ref against the seals (refs/jx/seal), so that a\n"
     "ref moved back, deleted, forged or rewritten is caught; replace refs\n"
     "are reported.  SEAL: a seal the bureau published earlier (a commit\n"
     "id); it must be in the seal chain, or the history was rewritten.\n"
     "--key PUB: the seals must be signed by that SSH key ([store]\n"
     "signing_key signs them).  Prints each problem (record, commit, what)\n"
     "and a summary; exit status 4 when there is any.\n"
     "replay: decide every recorded event again, under the rule set stored\n"
     "in its own commit (not today's plugins), on the state before it, and\n"
     "compare with the recorded state; each that differs is listed (exit\n"
     "status 4).  --since DATE: only events from that date.\n",
     1, 2, OPT_KEY | OPT_AT, cmd_audit, NULL},
    {"why", "jx why ID [COMMIT]",
     "Explain a decision in words: which event, which actor, what it set,\n"
     "the rule set and definition version it was decided under, which\n"
     "plugins guarded it or reacted and with which parameters (from the\n"
     "rule set's own workflow.toml), the facts the reactions recorded, and\n"
     "the approval trailers.  COMMIT (or a prefix): default the head.\n",
     1, 2, 0, cmd_why, NULL},
    {"simulate", "jx simulate --rules DIR [ID,...] [--since DATE]",
     "What-if: decide every recorded event again under another deployment\n"
     "(DIR/workflow.toml with its definition and plugins, e.g.\n"
     "scripts/variations/donghai), each on its recorded state, and list the\n"
     "decisions that would have gone otherwise, with a count per rule that\n"
     "would have refused.  The store is only read; nothing is written.\n",
     0, 1, OPT_RULES | OPT_AT, cmd_simulate, NULL},
    {"export", "jx export [--format csv|json]",
     "The whole decision log, for auditors' own tools: one row per commit\n"
     "of every project, oldest first, and of the registry of actors\n"
     "(project :registry): project, seq, time, event, actor, role, from,\n"
     "to, commit, rule_set, and the fields the event set (JSON).  CSV by\n"
     "default.\n",
     0, 0, OPT_FORMAT, cmd_export, NULL},
    {"serve", "jx serve [--clock real|virtual]",
     "Serve the store to many clients at once (docs/PROTOCOL.md): a Unix\n"
     "socket ([serve] socket, default jx.sock in the store) and, when\n"
     "[serve] listen is set, TCP.  Clients authenticate with a token (jx\n"
     "token create) and act only as its actor.  While it runs, jx commands\n"
     "on this store go through it (with JX_TOKEN, or JX_TOKEN_FILE holding\n"
     "lines \"ACTOR TOKEN\"); reads without a token read the store\n"
     "directly.  The calendar's timers fire from the real clock every\n"
     "[serve] tick_seconds; with --clock virtual only through jx tick.\n"
     "SIGTERM or SIGINT: finish and acknowledge what is queued, then exit.\n",
     0, 0, OPT_CLOCK, cmd_serve, NULL},
    {"watch", "jx watch project ID | department D | inbox [--as ACTOR] "
              "[--count N]",
     "Follow a project, a department's projects, or what waits for an\n"
     "actor, through the daemon: a line per committed change, in commit\n"
     "order, until the daemon stops (or N changes: --count).\n",
     1, 2, OPT_AS | OPT_COUNT, cmd_watch, NULL},
    {"token", "jx token create ACTOR | revoke ACTOR | list",
     "Authentication tokens for the daemon, one per actor: create prints a\n"
     "new one (replacing the actor's old one) once; only its hash is kept,\n"
     "in the store's directory (file tokens, not in the history).\n",
     1, 2, 0, cmd_token, NULL},
    {"cat", "jx cat FILE",
     "Print a state or event blob of the store (msgpack) as JSON.  Git runs\n"
     "it for the store's *.msgpack files once a reader sets\n"
     "  git --git-dir STORE config diff.jx.textconv \"jx cat\"\n"
     "so that git log -p and git show print decisions as text.\n",
     1, 1, 0, cmd_cat, NULL},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static const command *find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static void usage(FILE *f) {
  fputs("usage: jx [-c FILE] [--store DIR] COMMAND [ARGS] [--json]\n\n"
        "jixiao (绩效): budget performance workflows, every decision a git "
        "commit.\n\nCommands:\n",
        f);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %s\n", commands[i].synopsis);
  fputs("\nOptions:\n"
        "  -c, --config FILE  deployment file (default: $JX_CONFIG, else\n"
        "                     ./workflow.toml)\n"
        "  --store DIR        use this store instead of [store].path\n"
        "  --connect ADDR     use the daemon at ADDR (a socket path, or\n"
        "                     tcp:HOST:PORT); by default a daemon answering\n"
        "                     on the store's socket is used\n"
        "  --embedded         open the store here even if a daemon serves it\n"
        "  --json             machine-readable output (errors too)\n"
        "  --csv              CSV output (jx report)\n"
        "  -h, --help         this text; `jx COMMAND --help` for one command\n"
        "\nExamples:\n"
        "  jx init\n"
        "  jx submit workflows/demo/2021/education.toml --at 2021-01-15\n"
        "  jx do HL2021-EDU-002 dept_approve --as edu-dept\n"
        "  jx do HL2021-EDU-002 return --as fin-business --set return_to=returned "
        "--set 'review_note=\"too dear\"'\n"
        "  jx log HL2021-EDU-002\n"
        "\nExit status:\n"
        "  0 ok\n"
        "  1 usage error or bad input (file:line:column in the message)\n"
        "  2 refused by a rule (the message names the rule, the reason and\n"
        "    the remedy)\n"
        "  3 not found (no such project)\n"
        "  4 store error (missing, locked, damaged, disk full)\n"
        "  5 a plugin failed (error, instruction, memory or time limit); the\n"
        "    transition was not made\n"
        "  6 not authenticated by the daemon (token missing, wrong, revoked,\n"
        "    or another actor's)\n"
        "  7 no daemon at --connect's address, or the connection was lost\n",
        f);
}

static int usage_error(const char *fmt, const char *arg) {
  return jx_err_set(JX_EINVAL, fmt, arg);
}

/* Reads the words of a command line (argv[0] is the first word after the
 * program's name, or the first word of a script line) into o and *cmd. */
static int parse_args(int argc, char **argv, options *o, const command **cmd) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = NULL;
    unsigned opt = 0;
    if (!strcmp(a, "-c") || !strcmp(a, "--config"))
      slot = &o->config;
    else if (!strcmp(a, "--store"))
      slot = &o->store;
    else if (!strcmp(a, "--as"))
      slot = &o->as, opt = OPT_AS;
    else if (!strcmp(a, "--at") || !strcmp(a, "--since"))
      slot = &o->at, opt = OPT_AT; /* --since: the same day, for audits */
    else if (!strcmp(a, "--state"))
      slot = &o->state, opt = OPT_STATE;
    else if (!strcmp(a, "--department"))
      slot = &o->department, opt = OPT_DEPT;
    else if (!strcmp(a, "--to"))
      slot = &o->to, opt = OPT_TO;
    else if (!strcmp(a, "--map"))
      slot = &o->map, opt = OPT_MAP;
    else if (!strcmp(a, "--key"))
      slot = &o->key, opt = OPT_KEY;
    else if (!strcmp(a, "--rules"))
      slot = &o->rules, opt = OPT_RULES;
    else if (!strcmp(a, "--connect"))
      slot = &o->connect;
    else if (!strcmp(a, "--clock"))
      slot = &o->clock, opt = OPT_CLOCK;
    else if (!strcmp(a, "--count"))
      slot = &o->count, opt = OPT_COUNT;
    else if (!strcmp(a, "--embedded")) {
      o->embedded = true;
      continue;
    }
    else if (!strcmp(a, "--dry-run")) {
      o->dry = true;
      o->given |= OPT_DRY;
      continue;
    }
    else if (!strcmp(a, "--set")) {
      if (o->nsets == JX_MAX_SETS)
        return usage_error("too many --set options (at most %s)", "64");
      slot = &o->sets[o->nsets++], opt = OPT_SET;
    } else if (!strcmp(a, "--json")) {
      o->json = true;
      continue;
    } else if (!strcmp(a, "--csv")) {
      o->csv = true;
      continue;
    } else if (!strcmp(a, "--format")) {
      if (++i == argc)
        return usage_error("option %s needs a value", a);
      if (!strcmp(argv[i], "csv"))
        o->csv = true;
      else if (!strcmp(argv[i], "json"))
        o->json = true;
      else
        return usage_error("--format %s: csv or json", argv[i]);
      o->given |= OPT_FORMAT;
      continue;
    } else if (!strcmp(a, "--quiet")) {
      o->quiet = true;
      o->given |= OPT_QUIET;
      continue;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      o->help = true;
      continue;
    } else if (a[0] == '-' && a[1]) {
      return usage_error("unknown option %s", a);
    } else if (!*cmd) {
      if (!(*cmd = find_command(a)))
        return usage_error("unknown command \"%s\"", a);
      continue;
    } else {
      if (o->nargs == sizeof o->args / sizeof *o->args)
        return usage_error("too many arguments (at %s)", a);
      o->args[o->nargs++] = a;
      continue;
    }
    if (++i == argc)
      return usage_error("option %s needs a value", a);
    if (opt & o->given & ~OPT_SET)
      return usage_error("option %s is given twice", a);
    o->given |= opt;
    *slot = argv[i];
  }
  return 0;
}

/* The options and the number of arguments cmd takes. */
static int check_usage(const options *o, const command *cmd) {
  if (o->given & ~cmd->allowed) {
    static const char *const names[] = {"--as",         "--at", "--set",
                                        "--state",      "--department",
                                        "--to",         "--quiet",
                                        "--map",        "--dry-run",
                                        "--format",     "--key",
                                        "--rules",      "--clock",
                                        "--count"};
    unsigned bad = o->given & ~cmd->allowed, k = 0;
    while (!(bad & (1u << k)))
      k++;
    return jx_err_set(JX_EINVAL, "%s: option %s does not apply (usage: %s)",
                      cmd->name, names[k], cmd->synopsis);
  }
  if (o->nargs < cmd->min_args || o->nargs > cmd->max_args)
    return jx_err_set(JX_EINVAL, "%s: wrong number of arguments (usage: %s)",
                      cmd->name, cmd->synopsis);
  return 0;
}

static void print_events(const jx_workflow *wf) {
  printf("\nEvents of workflow %s (%s):\n", wf->name, wf->path);
  for (size_t i = 0; i < wf->ntransitions; i++) {
    const jx_transition *t = &wf->transitions[i];
    char from[256], roles[256], guards[256], sets[256], to[320];
    if (t->returns.len) {
      char list[256];
      snprintf(to, sizeof to, "one of %s (return_to)",
               jx_strlist_join(&t->returns, list, sizeof list));
    } else {
      snprintf(to, sizeof to, "%s", *t->to ? t->to : "(same state)");
    }
    printf("  %-16s %s -> %s\n  %-16s roles: %s%s%s%s%s\n", t->event,
           jx_strlist_join(&t->from, from, sizeof from), to, "",
           jx_strlist_join(&t->roles, roles, sizeof roles),
           t->guards.len ? "; guards: " : "",
           jx_strlist_join(&t->guards, guards, sizeof guards),
           t->sets.len ? "; sets: " : "",
           jx_strlist_join(&t->sets, sets, sizeof sets));
    if (t->approval.type != JX_NIL) {
      const jx_value *signers = jx_map_get(&t->approval, "signer");
      const char *mode = jx_map_str(&t->approval, "mode");
      printf("  %-16s approval (%s):", "", mode ? mode : "any");
      for (size_t k = 0; k < signers->u.a.len; k++) {
        const jx_value *sg = &signers->u.a.items[k];
        const char *role = jx_map_str(sg, "role");
        printf("%s %s %s%s", k ? "," : "", role ? "role" : "actor",
               role ? role : jx_map_str(sg, "actor"),
               jx_map_get(sg, "when") ? " (conditional)" : "");
      }
      printf("\n");
    }
    if (*t->op || *t->undo)
      printf("  %-16s %s: %s\n", "", *t->op ? "op" : "undo",
             *t->op ? t->op : t->undo);
  }
}

static void print_fields(const jx_workflow *wf) {
  printf("\nFields of workflow %s (%s):\n", wf->name, wf->path);
  for (size_t i = 0; i < wf->nfields; i++) {
    const jx_field_def *f = &wf->fields[i];
    char values[512];
    printf("  %-20s %s%s%s%s\n", f->name, jx_type_name(f->type),
           f->required ? ", required" : "", f->one_of.len ? ": " : "",
           jx_strlist_join(&f->one_of, values, sizeof values));
  }
}

/* `jx do --help` and `jx submit --help` show the deployment's events and
 * fields, when the configuration can be read; help never fails on it. */
static void print_workflow_help(const options *o, const command *cmd) {
  jx_config *cfg = NULL;
  jx_workflow *wf = NULL;
  if (load_config(o, &cfg) < 0)
    return;
  if (jx_query_workflow(cfg, &wf) == 0) {
    if (cmd->write == do_event)
      print_events(wf);
    else
      print_fields(wf);
  }
  jx_workflow_free(wf);
  jx_config_free(cfg);
}

int main(int argc, char **argv) {
  options o = {0};
  const command *cmd = NULL;
  /* A full disk or a file-size limit must become an error, not a kill. */
  signal(SIGXFSZ, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  if (parse_args(argc - 1, argv + 1, &o, &cmd) < 0) {
    fprintf(stderr, "jx: %s\n(see `jx --help`)\n", jx_err_last()->msg);
    return -JX_EINVAL;
  }
  if (o.help || !cmd) {
    if (cmd) {
      printf("usage: %s\n\n%s", cmd->synopsis, cmd->help);
      if (cmd->write == do_event || cmd->write == submit)
        print_workflow_help(&o, cmd);
    } else
      usage(o.help ? stdout : stderr);
    return o.help ? 0 : -JX_EINVAL;
  }
  if (o.json && o.csv) {
    fprintf(stderr, "jx: --json and --csv: choose one\n");
    return -JX_EINVAL;
  }
  if (check_usage(&o, cmd) < 0) {
    fprintf(stderr, "jx %s\n", jx_err_last()->msg);
    return -JX_EINVAL;
  }
  int rc = cmd->write ? write_once(cmd, &o) : cmd->run(&o);
  git_libgit2_shutdown();
  return -rc;
}
