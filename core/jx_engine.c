#include "jx_engine.h"

#include "jx_approval.h"
#include "jx_refs.h"
#include "jx_versions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jx_buf.h"
#include "jx_codec.h"
#include "jx_id.h"
#include "jx_json.h"

/* A project the engine has seen: its latest decided state and the head
 * commit that is durable.  Lives in an open-addressing table keyed by id. */
typedef struct project {
  char id[JX_ID_MAX + 1];
  jx_value state;
  git_oid head;
  bool has_head;
  unsigned batch_gen; /* the batch this project last joined ... */
  long batch_index;   /* ... and its position there */
} project;

typedef struct pending {
  jx_commit_req req;
  jx_value event, state; /* decoded forms of req's bytes, for the callback */
  project *p;
  jx_engine_cb cb;
  void *payload;
} pending;

typedef struct batch {
  uv_work_t work;
  jx_engine *e;
  pending *items;
  jx_commit_req *reqs;
  size_t n;
  bool reopen; /* packs were merged: the writer reopens first */
  int rc;
  jx_error err; /* copied on the worker thread: jx_err is thread-local */
} batch;

struct jx_engine {
  uv_loop_t *loop;
  const jx_config *cfg;
  jx_store *store;
  jx_workflow *wf;
  jx_versions versions; /* the definitions projects run under */
  jx_sandbox *sb;
  git_oid rules;
  project **slots; /* hash table of projects */
  size_t nslots, nprojects;
  pending *queue;
  size_t nqueue, capqueue;
  batch *inflight;
  unsigned gen;
  uv_idle_t kick; /* starts a batch once the current loop turn is done */
  uv_work_t compact; /* merging packs, beside the batches */
  bool compacting;
  size_t merged;       /* packs the last compaction merged */
  bool reopen_writer;  /* for the next batch */
  bool closing;
};

/* --- project table ------------------------------------------------------ */

static size_t hash(const char *s) {
  size_t h = 14695981039346656037u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static project **slot_of(jx_engine *e, const char *id) {
  size_t i = hash(id) & (e->nslots - 1);
  while (e->slots[i] && strcmp(e->slots[i]->id, id) != 0)
    i = (i + 1) & (e->nslots - 1);
  return &e->slots[i];
}

static void table_grow(jx_engine *e) {
  project **old = e->slots;
  size_t n = e->nslots;
  e->nslots = n ? n * 2 : 256;
  e->slots = jx_xcalloc(e->nslots, sizeof *e->slots);
  for (size_t i = 0; i < n; i++)
    if (old[i])
      *slot_of(e, old[i]->id) = old[i];
  free(old);
}

static project *table_add(jx_engine *e, const char *id) {
  if ((e->nprojects + 1) * 10 > e->nslots * 7)
    table_grow(e);
  project *p = jx_xcalloc(1, sizeof *p);
  snprintf(p->id, sizeof p->id, "%s", id);
  p->batch_index = -1;
  *slot_of(e, id) = p;
  e->nprojects++;
  return p;
}

static void table_clear(jx_engine *e) {
  for (size_t i = 0; i < e->nslots; i++) {
    if (!e->slots[i])
      continue;
    jx_value_free(&e->slots[i]->state);
    free(e->slots[i]);
    e->slots[i] = NULL;
  }
  e->nprojects = 0;
}

/* The cached project, loading it from the store on first use. */
static int project_get(jx_engine *e, const char *id, project **out) {
  project *p = e->nslots ? *slot_of(e, id) : NULL;
  if (p) {
    *out = p;
    return 0;
  }
  git_oid head;
  jx_value state = jx_nil();
  int rc = jx_store_head(e->store, id, &head, &state);
  if (rc < 0)
    return rc;
  const jx_value *seq = jx_map_get(&state, "seq");
  if (!jx_map_str(&state, "status") || !seq || seq->type != JX_INT) {
    jx_value_free(&state);
    return jx_err_set(JX_ESTORE,
                      "project %s: the state at %s has no status or seq: "
                      "the store was changed by other means",
                      id, git_oid_tostr_s(&head));
  }
  p = table_add(e, id);
  p->state = state;
  p->head = head;
  p->has_head = true;
  *out = p;
  return 0;
}

/* --- rules -------------------------------------------------------------- */

static int read_file(jx_buf *out, const char *path) {
  int err = jx_buf_read_file(out, path, JX_FILE_MAX);
  return err ? jx_err_set(JX_EINVAL, "%s: cannot read: %s", path, strerror(err))
             : 0;
}

/* An actor's role must be one the workflow uses and its scope keys fields
 * of the workflow: a typo there would silently widen or void the actor. */
static int check_actors(const jx_config *cfg, const jx_workflow *wf) {
  for (size_t i = 0; i < cfg->nactors; i++) {
    const jx_actor_conf *a = &cfg->actors[i];
    bool used = false;
    for (size_t k = 0; k < wf->ntransitions && !used; k++)
      used = jx_strlist_has(&wf->transitions[k].roles, a->role);
    if (!used)
      return jx_err_set(JX_EINVAL,
                        "%s: actor %s has role \"%s\", which no transition "
                        "of workflow %s allows",
                        cfg->path, a->name, a->role, wf->name);
    for (size_t k = 0; k < a->scope.u.m.len; k++) {
      const char *key = a->scope.u.m.items[k].key;
      const jx_field_def *f = jx_workflow_field(wf, key);
      if (!f || f->type != JX_STR)
        return jx_err_set(JX_EINVAL,
                          "%s: actor %s is scoped by \"%s\", which is not a "
                          "string field of workflow %s",
                          cfg->path, a->name, key, wf->name);
    }
  }
  return 0;
}

/* guard_on names events of the workflow, for plugins with a guard, not
 * already guarding them in the definition: a misspelt event would switch
 * a local rule off without a word. */
static int check_attachments(const jx_config *cfg, const jx_workflow *wf,
                             const jx_sandbox *sb) {
  for (size_t i = 0; i < cfg->nplugins; i++) {
    const jx_plugin_conf *pc = &cfg->plugins[i];
    for (size_t k = 0; k < pc->guard_on.u.a.len; k++) {
      const char *ev = pc->guard_on.u.a.items[k].u.s.ptr;
      if (!jx_workflow_event(wf, ev))
        return jx_err_set(JX_EINVAL,
                          "%s: plugin %s: guard_on names \"%s\", which is "
                          "not an event of workflow %s",
                          cfg->path, pc->name, ev, wf->name);
      if (!jx_sandbox_has(sb, pc->name, "guard"))
        return jx_err_set(JX_EINVAL,
                          "%s: plugin %s has guard_on but no guard function",
                          cfg->path, pc->name);
      for (size_t t = 0; t < wf->ntransitions; t++)
        if (strcmp(wf->transitions[t].event, ev) == 0 &&
            jx_strlist_has(&wf->transitions[t].guards, pc->name))
          return jx_err_set(JX_EINVAL,
                            "%s: plugin %s already guards %s in the workflow "
                            "definition; remove it from guard_on",
                            cfg->path, pc->name, ev);
    }
  }
  return 0;
}

/* Approvals name actors that exist (signers, copies, escalate_to), and a
 * step with a deadline escalates through an escalate transition the
 * calendar may send from each of its states. */
static int check_approvals(const jx_config *cfg, const jx_workflow *wf) {
  const jx_actor_conf *cal = jx_config_actor(cfg, JX_CALENDAR_ACTOR);
  for (size_t i = 0; i < wf->ntransitions; i++) {
    const jx_transition *t = &wf->transitions[i];
    const jx_value *signers = jx_map_get(&t->approval, "signer");
    for (size_t k = 0; signers && k < signers->u.a.len; k++) {
      const char *named = jx_map_str(&signers->u.a.items[k], "actor");
      if (named && !jx_config_actor(cfg, named))
        return jx_err_set(JX_EINVAL,
                          "%s: %s's approval names signer \"%s\", which is "
                          "not in %s [actors]",
                          wf->path, t->event, named, cfg->path);
    }
    const jx_value *copy = jx_map_get(&t->approval, "copy");
    for (size_t k = 0; copy && k < copy->u.a.len; k++)
      if (!jx_config_actor(cfg, copy->u.a.items[k].u.s.ptr))
        return jx_err_set(JX_EINVAL,
                          "%s: %s's approval copies \"%s\" (抄送), which "
                          "is not in %s [actors]",
                          wf->path, t->event, copy->u.a.items[k].u.s.ptr,
                          cfg->path);
    const char *to = jx_map_str(&t->approval, "escalate_to");
    if (t->approval.type == JX_NIL || !to)
      continue;
    if (!jx_config_actor(cfg, to))
      return jx_err_set(JX_EINVAL,
                        "%s: %s's approval escalates to \"%s\", which is "
                        "not in %s [actors]",
                        wf->path, t->event, to, cfg->path);
    for (size_t k = 0; k < t->from.len; k++) {
      size_t j = 0;
      while (j < wf->ntransitions &&
             !(strcmp(wf->transitions[j].op, "escalate") == 0 &&
               jx_strlist_has(&wf->transitions[j].from, t->from.items[k]) &&
               cal && jx_strlist_has(&wf->transitions[j].roles, cal->role)))
        j++;
      if (j == wf->ntransitions)
        return jx_err_set(JX_EINVAL,
                          "%s: %s has a deadline, and no transition with op "
                          "= \"escalate\" that the calendar may send from "
                          "state %s",
                          wf->path, t->event, t->from.items[k]);
    }
  }
  return 0;
}

/* Each timer has its own name, sends an event of the workflow that the
 * calendar actor may send, from states the workflow has: otherwise a tick
 * would silently do nothing, or fail on every project. */
static int check_timers(const jx_config *cfg, const jx_workflow *wf) {
  const jx_actor_conf *cal = jx_config_actor(cfg, JX_CALENDAR_ACTOR);
  for (size_t i = 0; i < cfg->ntimers; i++) {
    const jx_timer_conf *tm = &cfg->timers[i];
    for (size_t k = 0; k < i; k++)
      if (strcmp(cfg->timers[k].name, tm->name) == 0)
        return jx_err_set(JX_EINVAL, "%s: two timers are named %s",
                          cfg->path, tm->name);
    if (!cal)
      return jx_err_set(JX_EINVAL,
                        "%s: timers need an actor \"%s\" in [actors]",
                        cfg->path, JX_CALENDAR_ACTOR);
    for (size_t k = 0; k < tm->where.u.m.len; k++)
      if (!jx_workflow_field(wf, tm->where.u.m.items[k].key))
        return jx_err_set(JX_EINVAL, "%s: timer %s: where: no field \"%s\" in "
                          "%s",
                          cfg->path, tm->name, tm->where.u.m.items[k].key,
                          wf->path);
    for (size_t k = 0; k < tm->states.u.a.len; k++) {
      const char *st = tm->states.u.a.items[k].u.s.ptr;
      const jx_transition *t = jx_workflow_find(wf, tm->event, st);
      if (!jx_workflow_state(wf, st))
        return jx_err_set(JX_EINVAL, "%s: timer %s: no state \"%s\" in %s",
                          cfg->path, tm->name, st, wf->path);
      if (!t)
        return jx_err_set(JX_EINVAL,
                          "%s: timer %s: event %s is not allowed in state "
                          "%s",
                          cfg->path, tm->name, tm->event, st);
      if (!jx_strlist_has(&t->roles, cal->role))
        return jx_err_set(JX_EINVAL,
                          "%s: timer %s: event %s may not be sent by role "
                          "%s (the calendar's)",
                          cfg->path, tm->name, tm->event, cal->role);
    }
  }
  return 0;
}

/* Loads the definition and every plugin from the very bytes recorded in
 * the store's rules/ tree (workflow.toml: as the config parsed it), so the
 * rules on record are the rules that ran. */
static int load_rules(jx_engine *e) {
  const jx_config *cfg = e->cfg;
  size_t n = 3 + cfg->nplugins, nfiles = 2;
  jx_buf *bufs = jx_xcalloc(n, sizeof *bufs);
  jx_rule_file *files = jx_xcalloc(n, sizeof *files);
  char **names = jx_xcalloc(n, sizeof *names);
  const char **plugins = jx_xcalloc(n, sizeof *plugins);
  int rc = 0;
  for (size_t i = 0; i < cfg->nplugins; i++)
    plugins[i] = cfg->plugins[i].name;
  files[0] = (jx_rule_file){"workflow.toml", cfg->source.data, cfg->source.len};
  if ((rc = read_file(&bufs[1], cfg->workflow_path)) < 0 ||
      (rc = jx_workflow_load_text(&e->wf, cfg->workflow_path,
                                  bufs[1].data ? bufs[1].data : "", bufs[1].len,
                                  plugins, cfg->nplugins)) < 0 ||
      (rc = check_actors(cfg, e->wf)) < 0)
    goto cleanup;
  e->versions.current = e->wf;
  files[1] = (jx_rule_file){"definition.toml", bufs[1].data, bufs[1].len};
  if (cfg->library_path) {
    jx_buf *lib = &bufs[nfiles];
    if ((rc = read_file(lib, cfg->library_path)) < 0 ||
        (rc = jx_sandbox_set_library(e->sb, cfg->library_path,
                                     lib->data ? lib->data : "", lib->len)) < 0)
      goto cleanup;
    files[nfiles++] = (jx_rule_file){"library.lua", lib->data, lib->len};
  }
  for (size_t i = 0; i < cfg->nplugins; i++, nfiles++) {
    const jx_plugin_conf *pc = &cfg->plugins[i];
    jx_buf *src = &bufs[nfiles];
    if ((rc = read_file(src, pc->path)) < 0 ||
        (rc = jx_sandbox_load_string(e->sb, pc->name, pc->path,
                                     src->data ? src->data : "", src->len)) < 0)
      goto cleanup;
    /* Named after the plugin, not its file: two plugins may share one. */
    jx_buf name = JX_BUF_INIT;
    jx_buf_printf(&name, "plugins/%s.lua", pc->name);
    names[i] = name.data;
    files[nfiles] = (jx_rule_file){names[i], src->data, src->len};
  }
  if ((rc = check_attachments(cfg, e->wf, e->sb)) < 0 ||
      (rc = check_timers(cfg, e->wf)) < 0 ||
      (rc = check_approvals(cfg, e->wf)) < 0)
    goto cleanup;
  rc = jx_store_put_rules(e->store, files, nfiles, &e->rules);
cleanup:
  for (size_t i = 0; i < n; i++) {
    jx_buf_free(&bufs[i]);
    free(names[i]);
  }
  free(plugins);
  free(bufs);
  free(files);
  free(names);
  return rc;
}

static void kick_cb(uv_idle_t *h);

int jx_engine_new(jx_engine **out, uv_loop_t *loop, const jx_config *cfg,
                  jx_store *store) {
  jx_engine *e = jx_xcalloc(1, sizeof *e);
  int rc;
  e->loop = loop;
  e->cfg = cfg;
  e->store = store;
  if ((rc = jx_sandbox_new(&e->sb, &cfg->limits)) < 0 ||
      (rc = load_rules(e)) < 0)
    goto cleanup;
  uv_idle_init(loop, &e->kick);
  e->kick.data = e;
  *out = e;
  e = NULL;
cleanup:
  if (e) {
    jx_workflow_free(e->wf);
    jx_sandbox_free(e->sb);
    free(e);
  }
  return rc;
}

const jx_workflow *jx_engine_workflow(const jx_engine *e) { return e->wf; }

jx_versions *jx_engine_versions(jx_engine *e) { return &e->versions; }

int jx_engine_admin(const jx_engine *e, const char *actor, const char *what) {
  const jx_actor_conf *a = jx_config_actor(e->cfg, actor);
  if (!a)
    return jx_err_set(JX_EINVAL, "unknown actor \"%s\" (add it to [actors] "
                                 "in %s)",
                      actor, e->cfg->path);
  if (!jx_strlist_has(&e->wf->admin_roles, a->role))
    return jx_err_set(JX_EREFUSED,
                      "refused by workflow: actor %s has role %s; %s needs "
                      "one of [workflow] admin_roles",
                      a->name, a->role, what);
  return 0;
}

/* --- the writer ----------------------------------------------------------- */

static void batch_work(uv_work_t *w) {
  batch *b = w->data;
  /* A writer that could not reopen goes on with the repository it has. */
  if (b->reopen && jx_store_reopen_writer(b->e->store) < 0)
    jx_err_clear();
  b->rc = jx_store_write(b->e->store, b->reqs, b->n);
  jx_err_save(&b->err);
}

static void finish(pending *q, int code) {
  jx_outcome o = {
      .code = code,
      .project = q->req.id,
      .event = jx_map_str(&q->event, "name"),
      .timer = jx_map_str(&q->event, "timer"),
      .time = jx_map_str(&q->event, "time"),
      .from = jx_map_str(&q->event, "from"),
      .to = jx_map_str(&q->event, "to"),
      .state = &q->state,
      .commit = code == 0 ? &q->req.commit : NULL,
  };
  if (q->cb)
    q->cb(&o, q->payload);
  jx_commit_req_clear(&q->req);
  jx_value_free(&q->event);
  jx_value_free(&q->state);
}

/* A failed batch leaves the cache ahead of the store and every queued
 * decision built on it: fail them all and start again from the store. */
static void fail_queue(jx_engine *e) {
  for (size_t i = 0; i < e->nqueue; i++)
    finish(&e->queue[i], JX_ESTORE);
  e->nqueue = 0;
  table_clear(e);
}

static void start_batch(jx_engine *e);

static void compact_work(uv_work_t *w) {
  jx_engine *e = w->data;
  /* The batches stand whatever happens here; what is left to merge is
   * merged after the next one. */
  if (jx_store_compact(jx_store_path(e->store), &e->merged) < 0) {
    jx_err_clear();
    git_error_clear(); /* not for a later batch on this thread to report */
  }
}

/* libgit2 lists every pack a repository has seen and never forgets one:
 * after a merge the store's repositories reopen, the reader's now (on this
 * thread, between requests), the writer's before its next batch. */
static void compact_done(uv_work_t *w, int status) {
  jx_engine *e = w->data;
  (void)status;
  e->compacting = false;
  if (e->merged) {
    if (jx_store_reopen_reader(e->store) < 0)
      jx_err_clear();
    e->reopen_writer = true;
  }
}

/* After each batch, on the thread pool: merging packs takes as long as
 * many batches, and in the writer it held every client up (p99 700 ms). */
static void maybe_compact(jx_engine *e) {
  if (e->compacting || e->closing)
    return;
  e->compact.data = e;
  if (uv_queue_work(e->loop, &e->compact, compact_work, compact_done) == 0)
    e->compacting = true;
}

static void batch_done(uv_work_t *w, int status) {
  batch *b = w->data;
  jx_engine *e = b->e;
  e->inflight = NULL;
  if (status < 0 && b->rc == 0)
    b->rc = jx_err_set(JX_ESTORE, "batch cancelled: %s", uv_strerror(status));
  else if (b->rc < 0)
    jx_err_restore(&b->err);
  for (size_t i = 0; i < b->n; i++) {
    pending *q = &b->items[i];
    q->req = b->reqs[i];
    if (b->rc == 0) {
      q->p->head = q->req.commit;
      q->p->has_head = true;
    }
  }
  for (size_t i = 0; i < b->n; i++)
    finish(&b->items[i], b->rc);
  if (b->rc == 0)
    maybe_compact(e);
  /* Closing: what is still queued fails rather than starts a batch. */
  if (b->rc < 0 || e->closing)
    fail_queue(e);
  free(b->items);
  free(b->reqs);
  free(b);
  if (e->nqueue)
    start_batch(e);
}

static void start_batch(jx_engine *e) {
  size_t n = e->nqueue < e->cfg->max_batch ? e->nqueue : e->cfg->max_batch;
  batch *b = jx_xcalloc(1, sizeof *b);
  b->e = e;
  b->n = n;
  b->items = jx_xmalloc(n * sizeof *b->items);
  b->reqs = jx_xmalloc(n * sizeof *b->reqs);
  memcpy(b->items, e->queue, n * sizeof *b->items);
  memmove(e->queue, e->queue + n, (e->nqueue - n) * sizeof *e->queue);
  e->nqueue -= n;
  /* Heads are final now (the previous batch is done): link each commit to
   * its parent, or to an earlier commit of the same batch. */
  e->gen++;
  for (size_t i = 0; i < n; i++) {
    project *p = b->items[i].p;
    jx_commit_req *r = &b->items[i].req;
    r->parent_in_batch = p->batch_gen == e->gen ? p->batch_index : -1;
    r->parent = p->head;
    r->has_parent = p->has_head;
    p->batch_gen = e->gen;
    p->batch_index = (long)i;
    b->reqs[i] = *r;
  }
  b->work.data = b;
  b->reopen = e->reopen_writer;
  e->reopen_writer = false;
  e->inflight = b;
  int rc = uv_queue_work(e->loop, &b->work, batch_work, batch_done);
  if (rc < 0) {
    b->rc = jx_err_set(JX_ESTORE, "cannot queue a write: %s", uv_strerror(rc));
    jx_err_save(&b->err);
    batch_done(&b->work, 0);
  }
}

static void kick_cb(uv_idle_t *h) {
  jx_engine *e = h->data;
  uv_idle_stop(h);
  if (!e->inflight && e->nqueue)
    start_batch(e);
}

static void enqueue(jx_engine *e, pending *q) {
  if (e->nqueue == e->capqueue) {
    e->capqueue = e->capqueue ? e->capqueue * 2 : 64;
    e->queue = jx_xrealloc(e->queue, e->capqueue * sizeof *e->queue);
  }
  e->queue[e->nqueue++] = *q;
  if (!e->inflight)
    uv_idle_start(&e->kick, kick_cb);
}

void jx_engine_close(jx_engine *e) {
  e->closing = true;
  if (!uv_is_closing((uv_handle_t *)&e->kick))
    uv_close((uv_handle_t *)&e->kick, NULL);
}

void jx_engine_free(jx_engine *e) {
  if (!e)
    return;
  for (size_t i = 0; i < e->nqueue; i++)
    finish(&e->queue[i], jx_err_set(JX_ESTORE, "engine closed"));
  table_clear(e);
  free(e->slots);
  free(e->queue);
  jx_versions_clear(&e->versions);
  jx_workflow_free(e->wf);
  jx_sandbox_free(e->sb);
  free(e);
}

/* --- decisions ------------------------------------------------------------ */

/* Event times are written as ISO 8601 UTC and compared as text, which
 * holds for four-digit years: refuse the rest. */
static int iso_time(char *out, size_t size, int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (t < 0 || (int64_t)tt != t || !gmtime_r(&tt, &tm) ||
      tm.tm_year + 1900 > 9999)
    return jx_err_set(JX_EINVAL,
                      "event time %lld is outside the years 1970-9999",
                      (long long)t);
  strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return 0;
}

static int refuse(jx_verdict *out, const char *rule, const char *reason,
                  const char *remedy) {
  if (out) {
    out->refused = true;
    out->rule = jx_xstrdup(rule);
    out->reason = jx_xstrdup(reason);
    out->remedy = jx_xstrdup(remedy);
  }
  return jx_err_set(JX_EREFUSED, "refused by %s: %s; to proceed: %s", rule,
                    reason, remedy);
}

/* Fields the engine owns; a client may not set them. */
static const char *const engine_fields[] = {
    "id",       "status",       "seq",      "facts",    "updated_at",
    "timers",   "approval",     "previous", "passed_by", "submitted_by",
    "since",    "definition_version"};

/* How deep a field's value may nest.  A stored state must be sendable in
 * every answer that carries it (jx log: [response, [entry, {state: {field:
 * ...}}]] wraps it six deep), and msgpack frames nest at most
 * JX_CODEC_MAX_DEPTH: refused here, not after it is committed. */
#define JX_FIELD_MAX_DEPTH (JX_CODEC_MAX_DEPTH - 8)

static unsigned depth(const jx_value *v) {
  unsigned d = 0;
  if (v->type == JX_ARRAY)
    for (size_t i = 0; i < v->u.a.len; i++) {
      unsigned k = depth(&v->u.a.items[i]);
      d = k > d ? k : d;
    }
  else if (v->type == JX_MAP)
    for (size_t i = 0; i < v->u.m.len; i++) {
      unsigned k = depth(&v->u.m.items[i].val);
      d = k > d ? k : d;
    }
  else
    return 0;
  return d + 1;
}

static int check_fields(const jx_value *set) {
  if (!set)
    return 0;
  if (set->type != JX_MAP)
    return jx_err_set(JX_EINVAL, "fields must be a map");
  for (size_t i = 0; i < set->u.m.len; i++)
    if (depth(&set->u.m.items[i].val) > JX_FIELD_MAX_DEPTH)
      return jx_err_set(JX_EINVAL,
                        "field \"%s\" nests deeper than %d levels",
                        set->u.m.items[i].key, JX_FIELD_MAX_DEPTH);
  for (size_t i = 0; i < sizeof engine_fields / sizeof *engine_fields; i++)
    if (jx_map_get(set, engine_fields[i]))
      return jx_err_set(JX_EINVAL,
                        "field \"%s\" is kept by the engine and cannot be set",
                        engine_fields[i]);
  return 0;
}

static int find_transition(const jx_workflow *wf, const char *event,
                           const char *status, const jx_transition **out,
                           jx_verdict *refusal) {
  *out = jx_workflow_find(wf, event, status);
  if (*out)
    return 0;
  if (!jx_workflow_event(wf, event)) {
    jx_buf names = JX_BUF_INIT;
    for (size_t i = 0; i < wf->ntransitions; i++) {
      const char *ev = wf->transitions[i].event;
      if (jx_workflow_event(wf, ev) == &wf->transitions[i])
        jx_buf_printf(&names, "%s%s", names.len ? ", " : "", ev);
    }
    int rc = jx_err_set(JX_EINVAL, "unknown event \"%s\" (workflow %s has: %s)",
                        event, wf->name, names.data ? names.data : "");
    jx_buf_free(&names);
    return rc;
  }
  char reason[256], remedy[512], from[256];
  jx_buf where = JX_BUF_INIT;
  for (size_t i = 0; i < wf->ntransitions; i++)
    if (strcmp(wf->transitions[i].event, event) == 0)
      jx_buf_printf(
          &where, "%s%s", where.len ? ", " : "",
          jx_strlist_join(&wf->transitions[i].from, from, sizeof from));
  snprintf(reason, sizeof reason, "event %s is not allowed in state %s", event,
           status);
  snprintf(remedy, sizeof remedy, "send %s when the project is in: %s", event,
           where.data);
  jx_buf_free(&where);
  return refuse(refusal, "workflow", reason, remedy);
}

/* The actor's role must be one the transition allows, and each field of
 * its scope (department, unit, ...) must match the project's, as stored
 * before this event: an event cannot move a project into its sender's
 * reach. */
static int check_actor(const jx_actor_conf *actor, const jx_transition *t,
                       const jx_value *state, jx_verdict *refusal) {
  char reason[512], remedy[512], roles[256];
  if (!jx_strlist_has(&t->roles, actor->role)) {
    jx_strlist_join(&t->roles, roles, sizeof roles);
    snprintf(reason, sizeof reason, "actor %s has role %s; %s needs %s",
             actor->name, actor->role, t->event, roles);
    snprintf(remedy, sizeof remedy, "send %s as an actor with role %s",
             t->event, roles);
    return refuse(refusal, "workflow", reason, remedy);
  }
  const char *key = jx_actor_scope_mismatch(actor, state);
  if (key) {
    const char *mine = jx_map_str(&actor->scope, key);
    const char *theirs = jx_map_str(state, key);
    snprintf(reason, sizeof reason,
             "actor %s acts for %s %s; the project belongs to %s", actor->name,
             key, mine, theirs);
    snprintf(remedy, sizeof remedy, "send %s as an actor of %s %s", t->event,
             key, theirs);
    return refuse(refusal, "workflow", reason, remedy);
  }
  return 0;
}

/* What a request may change: a new project is checked whole against the
 * definition's [fields]; an event may set only the fields its transition
 * lists in `sets`. */
static int check_set(const jx_workflow *wf, const jx_transition *t,
                     const jx_request *req) {
  char allowed[512];
  if (req->create) {
    jx_value none = jx_map();
    return jx_workflow_check_project(wf, req->set ? req->set : &none, NULL);
  }
  if (!req->set)
    return 0;
  for (size_t i = 0; i < req->set->u.m.len; i++) {
    const jx_pair *p = &req->set->u.m.items[i];
    if (!jx_strlist_has(&t->sets, p->key))
      return jx_err_set(JX_EINVAL, "event %s may not set field \"%s\"%s%s",
                        t->event, p->key,
                        t->sets.len ? "; it may set: " : " (it sets none)",
                        jx_strlist_join(&t->sets, allowed, sizeof allowed));
    int rc = jx_workflow_check_field(wf, p->key, &p->val);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static jx_value make_event(const jx_request *req, const jx_actor_conf *actor,
                           const char *from, const char *to, const char *when,
                           jx_value *was) {
  jx_value ev = jx_map();
  jx_map_set(&ev, "name", jx_str(req->event));
  jx_map_set(&ev, "project", jx_str(req->project));
  jx_map_set(&ev, "actor", jx_str(actor->name));
  jx_map_set(&ev, "role", jx_str(actor->role));
  jx_map_set(&ev, "scope", jx_value_copy(&actor->scope));
  jx_map_set(&ev, "time", jx_str(when));
  jx_map_set(&ev, "from", jx_str(from));
  jx_map_set(&ev, "to", jx_str(to));
  jx_map_set(&ev, "set", req->set ? jx_value_copy(req->set) : jx_map());
  jx_map_set(&ev, "was", *was); /* moved */
  *was = jx_nil();
  if (req->timer)
    jx_map_set(&ev, "timer", jx_str(req->timer));
  return ev;
}

static bool guards_on(const jx_plugin_conf *pc, const char *event) {
  for (size_t i = 0; i < pc->guard_on.u.a.len; i++)
    if (strcmp(pc->guard_on.u.a.items[i].u.s.ptr, event) == 0)
      return true;
  return false;
}

static int run_guard(jx_engine *e, const jx_plugin_conf *pc, jx_value *next,
                     const jx_value *event, jx_verdict *refusal) {
  jx_verdict v = {0};
  int rc = jx_sandbox_guard(e->sb, pc->name, next, event, &pc->params, &v);
  if (rc == 0 && v.refused) {
    rc = refuse(refusal, v.rule, v.reason, v.remedy);
    jx_err_wrap("%s", pc->name);
  }
  jx_verdict_free(&v);
  return rc;
}

/* The definition's guards of t in order, then the plugins workflow.toml
 * attaches to the event with guard_on; then the reactions. */
/* Guards always run; reactions only when the transition is made (not for
 * a signature that leaves the approval open). */
static int run_plugins(jx_engine *e, const jx_transition *t, jx_value *next,
                       const jx_value *event, bool react,
                       jx_verdict *refusal) {
  int rc;
  for (size_t i = 0; i < t->guards.len; i++)
    if ((rc = run_guard(e, jx_config_plugin(e->cfg, t->guards.items[i]), next,
                        event, refusal)) < 0)
      return rc;
  for (size_t i = 0; i < e->cfg->nplugins; i++)
    if (guards_on(&e->cfg->plugins[i], t->event) &&
        (rc = run_guard(e, &e->cfg->plugins[i], next, event, refusal)) < 0)
      return rc;
  for (size_t i = 0; react && i < t->reactions.len; i++) {
    const char *name = t->reactions.items[i];
    const jx_plugin_conf *pc = jx_config_plugin(e->cfg, name);
    jx_value facts = jx_nil();
    rc = jx_sandbox_react(e->sb, name, next, event, &pc->params, &facts);
    if (rc < 0)
      return rc;
    jx_value *all = jx_map_get(next, "facts");
    if (!all)
      all = jx_map_set(next, "facts", jx_map());
    jx_map_merge(all, &facts);
    jx_value_free(&facts);
  }
  return 0;
}

/* `approval`: trailers of an approval step ("Approval: 1 of 2 signed
 * (all)", "Escalated: ..."), or "". */
static char *commit_message(const jx_engine *e, const jx_request *req,
                            const jx_actor_conf *actor, const char *from,
                            const char *to, const char *when,
                            const char *approval) {
  jx_buf m = JX_BUF_INIT;
  jx_buf_printf(&m, "%s: %s %s -> %s\n\n", req->event, req->project, from, to);
  jx_buf_printf(&m, "%s (%s) sent %s on %s.\n", actor->name, actor->role,
                req->event, when);
  /* What an event changed belongs in the history people read, not only
   * in event.msgpack. */
  if (req->set && !req->create)
    for (size_t i = 0; i < req->set->u.m.len; i++) {
      jx_buf_printf(&m, "Set %s = ", req->set->u.m.items[i].key);
      jx_json_write(&m, &req->set->u.m.items[i].val, false);
      jx_buf_puts(&m, "\n");
    }
  jx_buf_puts(&m, "\n");
  jx_buf_printf(&m,
                "Event: %s\nActor: %s\nRole: %s\nFrom: %s\nTo: %s\n"
                "Time: %s\nRule-set: %s\n",
                req->event, actor->name, actor->role, from, to, when,
                git_oid_tostr_s(&e->rules));
  if (*approval)
    jx_buf_printf(&m, "%s\n", approval);
  return m.data;
}

/* Whether someone has acted in the current step: signed, or decided as a
 * delegate. */
static bool signed_here(const jx_value *state) {
  const jx_value *a = jx_map_get(state, "approval");
  const jx_value *sigs = a ? jx_map_get(a, "signatures") : NULL;
  const jx_value *changes = a ? jx_map_get(a, "changes") : NULL;
  if (sigs && sigs->type == JX_ARRAY && sigs->u.a.len > 0)
    return true;
  for (size_t i = 0; changes && i < changes->u.a.len; i++)
    if (strcmp(jx_map_str(&changes->u.a.items[i], "op"), "resolve") == 0)
      return true;
  return false;
}

static bool in_list(const jx_value *list, const char *s) {
  for (size_t i = 0; list && list->type == JX_ARRAY && i < list->u.a.len; i++)
    if (list->u.a.items[i].type == JX_STR &&
        strcmp(list->u.a.items[i].u.s.ptr, s) == 0)
      return true;
  return false;
}

/* A signature of an approval (APPROVALS.md): *signing when it leaves the
 * approval open.  Signers are matched by slot, not by the transition's
 * roles: a delegate, a transferee or an added signer signs by name. */
static int sign(const jx_transition *t, const jx_actor_conf *actor,
                jx_value *next, const char *when, bool *signing,
                char *progress, size_t psize, jx_verdict *refusal) {
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  char reason[512], remedy[512];
  jx_slot_act act;
  size_t n;
  int rc;
  if (jx_approval_slots(&t->approval, t->event, next, slots) == 0)
    return check_actor(actor, t, next, refusal); /* no signer applies */
  int k = jx_approval_find(&t->approval, t->event, next, actor->name,
                           actor->role, slots, &n, &act, reason,
                           sizeof reason, remedy, sizeof remedy);
  if (k < 0)
    return refuse(refusal, "workflow", reason, remedy);
  if (slots[k].role && act == JX_SLOT_SIGN &&
      (rc = check_actor(actor, t, next, refusal)) < 0)
    return rc;
  /* The history names the real actor, and for delegated work both. */
  const char *owner = slots[k].delegator;
  char who[160] = "";
  if (act == JX_SLOT_RESOLVE)
    snprintf(who, sizeof who, "\nOn-Behalf-Of: %s (delegated, 委派)", owner);
  else if (slots[k].resolved_by)
    snprintf(who, sizeof who, "\nDelegate: %s (decided first)",
             slots[k].resolved_by);
  jx_approval_sign(next, t->event, &slots[k], act, actor->name, actor->role,
                   when);
  n = jx_approval_slots(&t->approval, t->event, next, slots);
  *signing = !jx_approval_done(&t->approval, slots, n);
  char step[64];
  snprintf(progress, psize, "Approval: %s%s",
           jx_approval_progress(&t->approval, slots, n, step, sizeof step),
           who);
  return 0;
}

/* The approval transition of the project's current state, which the
 * run-time operations (op) act on, or NULL. */
static const jx_transition *approval_here(const jx_workflow *wf,
                                          const char *status) {
  for (size_t i = 0; i < wf->ntransitions; i++)
    if (wf->transitions[i].approval.type != JX_NIL &&
        jx_strlist_has(&wf->transitions[i].from, status))
      return &wf->transitions[i];
  return NULL;
}

/* Delegate (委派), transfer (转办), add (加签) or remove (减签) a signer. */
static int change(const jx_engine *e, const jx_workflow *wf,
                  const jx_transition *t,
                  const jx_actor_conf *actor, jx_value *next,
                  const char *from, const char *when, char *progress,
                  size_t psize, jx_verdict *refusal) {
  char reason[512], remedy[512], deadline[11] = "";
  const jx_transition *a = approval_here(wf, from);
  const char *assignee = jx_map_str(next, "assignee");
  const jx_actor_conf *who = assignee ? jx_config_actor(e->cfg, assignee)
                                      : NULL;
  bool escalate = strcmp(t->op, "escalate") == 0;
  if (a)
    jx_approval_deadline(&a->approval, jx_map_str(next, "since"), deadline);
  if (escalate) {
    /* Only the calendar escalates, and only past the deadline. */
    if (strcmp(actor->name, JX_CALENDAR_ACTOR) != 0 || !*deadline ||
        strncmp(when, deadline, 10) <= 0) {
      snprintf(reason, sizeof reason,
               "a step escalates when its deadline (%s) has passed, by the "
               "calendar",
               *deadline ? deadline : "none");
      snprintf(remedy, sizeof remedy, "jx tick past the deadline sends it");
      return refuse(refusal, "workflow", reason, remedy);
    }
    snprintf(progress, psize, "Escalated: to %s, deadline %s passed",
             jx_map_str(&a->approval, "escalate_to"), deadline);
  }
  if (!a) {
    snprintf(reason, sizeof reason, "state %s has no approval to %s", from,
             t->op);
    snprintf(remedy, sizeof remedy, "%s where several sign (APPROVALS.md)",
             t->op);
    return refuse(refusal, "workflow", reason, remedy);
  }
  if (assignee && !who)
    return jx_err_set(JX_EINVAL, "assignee: no actor \"%s\" in %s [actors]",
                      assignee, e->cfg->path);
  /* Who is named must be someone who could act on the step: a role of its
   * transition, the project in its scope, not the submitter or the
   * calendar (a copy is only read: any actor). */
  const char *submitter = jx_map_str(next, "submitted_by");
  if (who && strcmp(t->op, "copy") != 0 &&
      (!jx_strlist_has(&a->roles, who->role) ||
       jx_actor_scope_mismatch(who, next) ||
       (submitter && strcmp(submitter, who->name) == 0) ||
       strcmp(who->name, JX_CALENDAR_ACTOR) == 0)) {
    snprintf(reason, sizeof reason,
             "actor %s cannot sign %s of this project (its role %s, its "
             "scope, or it submitted the project)",
             who->name, a->event, who->role);
    snprintf(remedy, sizeof remedy,
             "name an actor of a role of %s whose scope covers the project",
             a->event);
    return refuse(refusal, "workflow", reason, remedy);
  }
  if (jx_approval_change(&a->approval, next, a->event, t->op, actor->name,
                         actor->role, assignee, who ? who->role : NULL,
                         jx_map_str(next, "position"), when, reason,
                         sizeof reason, remedy, sizeof remedy) < 0)
    return refuse(refusal, "workflow", reason, remedy);
  return 0;
}

/* Where a return (退回) goes: the state the event's return_to names, one
 * of the transition's `returns` ("previous": the state the project came
 * from). */
static int return_target(const jx_transition *t, const jx_value *next,
                         const char **to, jx_verdict *refusal) {
  char reason[512], remedy[512], list[256];
  const char *want = jx_map_str(next, "return_to");
  const char *prev = jx_map_str(next, "previous");
  jx_strlist_join(&t->returns, list, sizeof list);
  if (!want) {
    snprintf(reason, sizeof reason, "a return says where to");
    snprintf(remedy, sizeof remedy, "send %s --set return_to=STATE, one of %s",
             t->event, list);
    return refuse(refusal, "workflow", reason, remedy);
  }
  if (!jx_strlist_has(&t->returns, want) ||
      (strcmp(want, "previous") == 0 && !prev)) {
    snprintf(reason, sizeof reason, "%s cannot return to %s", t->event, want);
    snprintf(remedy, sizeof remedy, "return_to one of %s", list);
    return refuse(refusal, "workflow", reason, remedy);
  }
  *to = strcmp(want, "previous") == 0 ? prev : want;
  return 0;
}

/* Withdraw (撤回) and take back (取回): only while nobody has acted in the
 * current state, and only by whom the undo is for. */
static int check_undo(const jx_transition *t, const jx_actor_conf *actor,
                      const jx_value *next, jx_verdict *refusal) {
  char reason[512], remedy[512];
  bool withdraw = strcmp(t->undo, "withdraw") == 0;
  bool mine = withdraw ? jx_map_str(next, "submitted_by") &&
                             strcmp(jx_map_str(next, "submitted_by"),
                                    actor->name) == 0
                       : in_list(jx_map_get(next, "passed_by"), actor->name);
  if (!mine) {
    snprintf(reason, sizeof reason, "%s is for %s; actor %s is not",
             withdraw ? "a withdrawal (撤回)" : "taking back (取回)",
             withdraw ? "the submitter" : "who passed the project on",
             actor->name);
    snprintf(remedy, sizeof remedy, "the %s sends %s",
             withdraw ? "submitter" : "last approver", t->event);
    return refuse(refusal, "workflow", reason, remedy);
  }
  if (signed_here(next)) {
    snprintf(reason, sizeof reason,
             "the next approver has acted already (a signature in the "
             "current step)");
    snprintf(remedy, sizeof remedy,
             "ask the current step to return the project (退回) instead");
    return refuse(refusal, "workflow", reason, remedy);
  }
  return 0;
}

/* Where the event takes the project (*to) and whether it is a signature
 * that leaves an approval open (*signing). */
static int route(const jx_engine *e, const jx_workflow *wf,
                 const jx_transition *t,
                 const jx_actor_conf *actor, jx_value *next,
                 const char *from, const char *when, char *to, size_t tosize,
                 bool *signing, char *progress, size_t psize,
                 jx_verdict *refusal) {
  int rc = 0;
  const char *target = jx_transition_target(t, from);
  *signing = false;
  *progress = '\0';
  if (t->approval.type != JX_NIL)
    rc = sign(t, actor, next, when, signing, progress, psize, refusal);
  else if (*t->op)
    rc = change(e, wf, t, actor, next, from, when, progress, psize, refusal);
  else if (t->returns.len)
    rc = return_target(t, next, &target, refusal);
  else if (*t->undo)
    rc = check_undo(t, actor, next, refusal);
  /* Copied now: target may point into next, whose arguments go next. */
  snprintf(to, tosize, "%s", *signing ? from : target);
  /* What an operation was asked with is in its event, never kept in the
   * project, where a later operation would find it. */
  static const char *const args[] = {"assignee", "position", "return_to"};
  for (size_t i = 0; rc == 0 && i < sizeof args / sizeof *args; i++)
    jx_map_del(next, args[i]);
  return rc;
}

/* A state change: where the project came from, who passed it on (the
 * signers of the approval, or the actor), since when it is in its new
 * state, and a fresh approval. */
static void moved_on(jx_value *next, const jx_transition *t,
                     const jx_actor_conf *actor, const char *from,
                     const char *when) {
  jx_value by = jx_array();
  const jx_value *a = jx_map_get(next, "approval");
  const char *done = a ? jx_map_str(a, "event") : NULL;
  const jx_value *sigs = done && strcmp(done, t->event) == 0
                             ? jx_map_get(a, "signatures")
                             : NULL;
  for (size_t i = 0; sigs && i < sigs->u.a.len; i++)
    jx_array_push(&by, jx_str(jx_map_str(&sigs->u.a.items[i], "actor")));
  if (by.u.a.len == 0)
    jx_array_push(&by, jx_str(actor->name));
  jx_map_set(next, "passed_by", by);
  jx_map_set(next, "previous", jx_str(from));
  jx_map_set(next, "since", jx_str(when));
  jx_map_del(next, "approval");
}

static int definition_for(jx_engine *e, const char *id, const jx_value *state,
                          const jx_workflow **wf) {
  return jx_versions_get(&e->versions, e->store, e->cfg, id, state, wf);
}

/* Queues the commit of a decided, finished state (finish_state); takes
 * next and event.  `trailers`: lines added to the commit message. */
static int queue(jx_engine *e, const jx_request *req,
                 const jx_actor_conf *actor, project *p, jx_value *next,
                 jx_value *event, const char *from, const char *to,
                 const char *when, const char *trailers, jx_engine_cb cb,
                 void *payload) {
  int rc;
  /* Encode now: a state that could not be read back is refused before
   * anything is recorded, not discovered by the writer. */
  pending q = {.cb = cb, .payload = payload, .event = *event, .state = *next};
  *event = jx_nil();
  if ((rc = jx_codec_encode(&q.req.event, &q.event, e->cfg->max_frame)) < 0 ||
      (rc = jx_codec_encode(&q.req.state, &q.state, e->cfg->max_frame)) < 0) {
    jx_err_wrap("project %s", req->project);
    jx_buf_free(&q.req.event);
    jx_buf_free(&q.req.state);
    jx_value_free(&q.event);
    return rc; /* next stays the caller's to free */
  }
  if (!p)
    p = table_add(e, req->project);
  jx_value_free(&p->state);
  p->state = jx_value_copy(next);
  q.p = p;
  snprintf(q.req.id, sizeof q.req.id, "%s", req->project);
  snprintf(q.req.actor, sizeof q.req.actor, "%s", actor->name);
  q.req.time = req->time;
  q.req.message = commit_message(e, req, actor, from, to, when, trailers);
  q.req.rules = e->rules;
  q.req.parent_in_batch = -1;
  *next = jx_nil();
  enqueue(e, &q);
  return 0;
}

/* A decision: the next state and the event to record, with the states
 * it goes from and to, its date and its extra trailers. */
typedef struct decision {
  const jx_actor_conf *actor;
  jx_value next, event;
  char from[64], to[64], when[32], trailers[256];
} decision;

static void decision_free(decision *d) {
  jx_value_free(&d->next);
  jx_value_free(&d->event);
}

/* What a state becomes with every decided event: its status, seq, date
 * and the timer that sent it. */
static void finish_state(jx_value *next, const jx_request *req,
                         const char *to, const char *when) {
  int64_t seq = 0;
  jx_map_int(next, "seq", &seq);
  jx_map_set(next, "status", jx_str(to));
  jx_map_set(next, "seq", jx_int(seq + 1));
  jx_map_set(next, "updated_at", jx_str(when));
  if (req->timer) {
    jx_value *fired = jx_map_get(next, "timers");
    if (!fired)
      fired = jx_map_set(next, "timers", jx_array());
    jx_array_push(fired, jx_str(req->timer));
  }
}

/* Decides req on the project's state (NULL for a new project) without
 * changing anything of the engine: jx_engine_apply records the decision,
 * jx_engine_replay compares it with the record. */
static int decide(jx_engine *e, const jx_request *req, const jx_value *state,
                  decision *d, jx_verdict *refusal) {
  const jx_actor_conf *actor;
  const jx_transition *t;
  const jx_workflow *wf;
  int rc;
  *d = (decision){.next = jx_nil(), .event = jx_nil()};
  if ((rc = jx_id_check("project id", req->project)) < 0 ||
      (rc = jx_id_check("actor", req->actor)) < 0 ||
      (rc = iso_time(d->when, sizeof d->when, req->time)) < 0 ||
      (rc = check_fields(req->set)) < 0)
    return rc;
  if (!(actor = jx_config_actor(e->cfg, req->actor)))
    return jx_err_set(JX_EINVAL,
                      "unknown actor \"%s\" (add it to [actors] in %s)",
                      req->actor, e->cfg->path);
  d->actor = actor;
  if (!state) {
    d->next = req->set ? jx_value_copy(req->set) : jx_map();
    jx_workflow_fill_defaults(e->wf, &d->next);
    jx_map_set(&d->next, "id", jx_str(req->project));
    jx_map_set(&d->next, "status", jx_str(e->wf->initial));
    jx_map_set(&d->next, "seq", jx_int(0));
  } else {
    d->next = jx_value_copy(state);
  }
  jx_value *next = &d->next;
  const char *when = d->when;
  const char *status = jx_map_str(next, "status");
  snprintf(d->from, sizeof d->from, "%s", status ? status : "?");
  const char *from = d->from;
  const char *last = jx_map_str(next, "updated_at");
  if ((rc = definition_for(e, req->project, next, &wf)) < 0 ||
      (rc = find_transition(wf, req->event, from, &t, refusal)) < 0 ||
      (rc = check_set(wf, t, req)) < 0 ||
      (t->approval.type == JX_NIL &&
       (rc = check_actor(actor, t, next, refusal)) < 0))
    goto fail;
  /* A history reads forward: an event may not be dated before the last. */
  if (last && strcmp(when, last) < 0) {
    rc = jx_err_set(JX_EINVAL,
                    "the event is dated %s, before the project's last event "
                    "(%s)",
                    when, last);
    goto fail;
  }
  /* What the event's fields were before it, for rules that judge a
   * change (R-3's adjust): guards see the state with the change made. */
  jx_value was = jx_map();
  if (req->set && state) {
    for (size_t i = 0; i < req->set->u.m.len; i++) {
      const char *key = req->set->u.m.items[i].key;
      const jx_value *old = jx_map_get(next, key);
      jx_map_set(&was, key, old ? jx_value_copy(old) : jx_nil());
    }
    jx_map_merge(next, req->set);
  }
  bool signing;
  if ((rc = route(e, wf, t, actor, next, from, when, d->to, sizeof d->to,
                  &signing, d->trailers, sizeof d->trailers, refusal)) < 0) {
    jx_value_free(&was);
    goto fail;
  }
  d->event = make_event(req, actor, from, d->to, when, &was);
  if ((rc = run_plugins(e, t, next, &d->event, !signing, refusal)) < 0)
    goto fail;
  if (strcmp(d->to, from) != 0)
    moved_on(next, t, actor, from, when);
  else if (t->approval.type != JX_NIL && !signing)
    jx_map_del(next, "approval"); /* done, the state kept: a new round */
  if (!state) {
    jx_map_set(next, "submitted_by", jx_str(actor->name));
    jx_map_set(next, "definition_version", jx_int(e->wf->version));
  }
  finish_state(next, req, d->to, when);
  /* The fields' old values are in the parent commit's state already. */
  jx_map_del(&d->event, "was");
  return 0;
fail:
  decision_free(d);
  return rc;
}

int jx_engine_apply(jx_engine *e, const jx_request *req, jx_verdict *refusal,
                    jx_engine_cb cb, void *payload) {
  project *p = NULL;
  decision d;
  int rc;
  if (refusal)
    *refusal = (jx_verdict){0};
  if (e->closing)
    return jx_err_set(JX_ESTORE, "the engine is shutting down");
  if ((rc = jx_id_check("project id", req->project)) < 0)
    return rc;
  rc = project_get(e, req->project, &p);
  if (req->create && rc == 0)
    return jx_err_set(JX_EINVAL,
                      "project %s already exists (a returned project is "
                      "resubmitted with `jx do %s submit`)",
                      req->project, req->project);
  if (rc < 0 && (!req->create || rc != JX_ENOTFOUND))
    return rc;
  if ((rc = decide(e, req, req->create ? NULL : &p->state, &d, refusal)) < 0)
    return rc;
  rc = queue(e, req, d.actor, p, &d.next, &d.event, d.from, d.to, d.when,
             d.trailers, cb, payload);
  decision_free(&d);
  return rc;
}

int jx_engine_replay(jx_engine *e, const jx_value *parent,
                     const jx_value *event, jx_value *state,
                     jx_verdict *refusal) {
  jx_request req = {.project = jx_map_str(event, "project"),
                    .event = jx_map_str(event, "name"),
                    .actor = jx_map_str(event, "actor"),
                    .set = jx_map_get(event, "set"),
                    .create = parent == NULL,
                    .timer = jx_map_str(event, "timer")};
  decision d;
  struct tm tm = {0};
  const char *when = jx_map_str(event, "time");
  if (refusal)
    *refusal = (jx_verdict){0};
  if (!req.project || !req.event || !req.actor || !when ||
      sscanf(when, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return jx_err_set(JX_EINVAL, "the recorded event lacks its project, "
                                 "name, actor or time");
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  req.time = (int64_t)timegm(&tm);
  int rc = decide(e, &req, parent, &d, refusal);
  if (rc < 0)
    return rc;
  *state = d.next;
  d.next = jx_nil();
  decision_free(&d);
  return 0;
}

int jx_engine_state(jx_engine *e, const char *id, const jx_value **state) {
  project *p;
  int rc = jx_id_check("project id", id);
  if (rc == 0)
    rc = project_get(e, id, &p);
  if (rc == 0)
    *state = &p->state;
  return rc;
}

/* --- the calendar ------------------------------------------------------- */

static bool fired(const jx_value *state, const char *timer) {
  const jx_value *list = jx_map_get(state, "timers");
  for (size_t i = 0; list && list->type == JX_ARRAY && i < list->u.a.len; i++)
    if (list->u.a.items[i].type == JX_STR &&
        strcmp(list->u.a.items[i].u.s.ptr, timer) == 0)
      return true;
  return false;
}

static bool in_states(const jx_value *states, const char *status) {
  for (size_t i = 0; i < states->u.a.len; i++)
    if (strcmp(states->u.a.items[i].u.s.ptr, status) == 0)
      return true;
  return false;
}

static bool matches(const jx_value *state, const jx_value *where) {
  for (size_t i = 0; i < where->u.m.len; i++) {
    const char *have = jx_map_str(state, where->u.m.items[i].key);
    if (!have || strcmp(have, where->u.m.items[i].val.u.s.ptr) != 0)
      return false;
  }
  return true;
}

/* Seconds of a "YYYY-MM-DD[THH:MM:SSZ]" the engine wrote, or -1. */
static int64_t parse_iso(const char *s) {
  struct tm tm = {0};
  int n = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
  if (n != 3 && n != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm);
}

typedef struct tick_ctx {
  jx_engine *e;
  char (*ids)[JX_ID_MAX + 1];
  size_t n, cap;
  size_t queued; /* events accepted: `done` calls to come */
} tick_ctx;

static int collect_id(const char *id, const git_oid *head, void *payload) {
  tick_ctx *t = payload;
  (void)head;
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 64;
    t->ids = jx_xrealloc(t->ids, t->cap * sizeof *t->ids);
  }
  snprintf(t->ids[t->n++], sizeof *t->ids, "%s", id);
  return 0;
}

/* Steps past their deadline by `to` escalate (APPROVALS.md): the
 * calendar sends the state's escalate event the day after the deadline. */
static int escalate_overdue(jx_engine *e, tick_ctx *t, int64_t to,
                            jx_tick_cb decided, jx_engine_cb done,
                            void *payload) {
  for (size_t i = 0; i < t->n; i++) {
    const jx_value *state = NULL;
    char deadline[11];
    int rc = jx_engine_state(e, t->ids[i], &state);
    if (rc < 0)
      return rc;
    const char *status = jx_map_str(state, "status");
    const jx_workflow *wf;
    if ((rc = definition_for(e, t->ids[i], state, &wf)) < 0)
      return rc;
    const jx_transition *a = status ? approval_here(wf, status) : NULL;
    if (!a || jx_approval_escalated(state, a->event) ||
        !jx_approval_deadline(&a->approval, jx_map_str(state, "since"),
                              deadline))
      continue;
    int64_t when = parse_iso(deadline) + 86400;
    const char *last = jx_map_str(state, "updated_at");
    if (when > to)
      continue;
    if (last && parse_iso(last) > when)
      when = parse_iso(last);
    const jx_transition *esc = NULL;
    for (size_t k = 0; k < wf->ntransitions && !esc; k++)
      if (strcmp(wf->transitions[k].op, "escalate") == 0 &&
          jx_strlist_has(&wf->transitions[k].from, status))
        esc = &wf->transitions[k];
    if (!esc)
      continue; /* check_deadlines makes sure there is one */
    char from[64];
    snprintf(from, sizeof from, "%s", status);
    jx_request req = {.project = t->ids[i], .event = esc->event,
                      .actor = JX_CALENDAR_ACTOR, .time = when};
    jx_verdict refusal = {0};
    int code = jx_engine_apply(e, &req, &refusal, done, payload);
    t->queued += code == 0;
    if (code < 0 && decided) {
      jx_tick_report r = {.timer = "deadline", .date = deadline,
                          .project = t->ids[i], .from = from, .code = code,
                          .refusal = &refusal, .error = jx_err_last()->msg};
      decided(&r, payload);
    }
    jx_verdict_free(&refusal);
    if (code == JX_ESTORE)
      return code;
  }
  return 0;
}

int jx_engine_tick(jx_engine *e, int64_t to, jx_tick_cb decided,
                   jx_engine_cb done, void *payload, size_t *queued) {
  const jx_config *cfg = e->cfg;
  tick_ctx t = {.e = e};
  int rc = 0;
  if ((rc = jx_store_foreach(e->store, collect_id, &t)) < 0)
    goto cleanup;
  /* Timer by timer, in date order, every project in turn: a project's
   * state after one timer decides whether the next applies to it. */
  for (size_t k = 0; k < cfg->ntimers; k++) {
    const jx_timer_conf *tm = &cfg->timers[k];
    int64_t due = parse_iso(tm->date);
    if (due > to)
      break;
    /* Deadlines passed by this timer's day escalate first: each event is
     * dated on its own day, and a project's history reads forward. */
    if ((rc = escalate_overdue(e, &t, due, decided, done, payload)) < 0)
      goto cleanup;
    for (size_t i = 0; i < t.n; i++) {
      const jx_value *state = NULL;
      if ((rc = jx_engine_state(e, t.ids[i], &state)) < 0)
        goto cleanup;
      const char *status = jx_map_str(state, "status");
      const char *last = jx_map_str(state, "updated_at");
      /* The state a timer looks at is the project's state on its day: a
       * project with events on later days has moved on, and the timer is
       * not for it (drive the calendar forward before later events).  On
       * the day itself the timer comes after the day's events. */
      if (fired(state, tm->name) || !status ||
          !in_states(&tm->states, status) || !matches(state, &tm->where) ||
          (last && strncmp(last, tm->date, 10) > 0))
        continue;
      int64_t when = last && parse_iso(last) > due ? parse_iso(last) : due;
      jx_request req = {.project = t.ids[i], .event = tm->event,
                        .actor = JX_CALENDAR_ACTOR, .time = when,
                        .timer = tm->name};
      jx_verdict refusal = {0};
      char from[64];
      snprintf(from, sizeof from, "%s", status);
      int code = jx_engine_apply(e, &req, &refusal, done, payload);
      t.queued += code == 0;
      if (code < 0 && decided) {
        jx_tick_report r = {.timer = tm->name, .date = tm->date,
                            .project = t.ids[i], .from = from, .code = code,
                            .refusal = &refusal, .error = jx_err_last()->msg};
        decided(&r, payload);
      }
      jx_verdict_free(&refusal);
      /* A refusal or a plugin failure is reported and the tick goes on;
       * a store failure stops it. */
      if (code == JX_ESTORE) {
        rc = code;
        goto cleanup;
      }
    }
  }
  rc = escalate_overdue(e, &t, to, decided, done, payload);
cleanup:
  free(t.ids);
  if (queued)
    *queued = t.queued;
  return rc;
}

int jx_engine_migrate(jx_engine *e, const jx_request *req, const jx_value *map,
                      bool dry, jx_migration *out, jx_engine_cb cb,
                      void *payload) {
  const jx_actor_conf *actor;
  project *p = NULL;
  jx_value next = jx_nil(), event = jx_nil();
  char when[32], trailers[128];
  int64_t v = e->wf->version;
  int rc;
  *out = (jx_migration){0};
  if ((rc = jx_id_check("project id", req->project)) < 0 ||
      (rc = jx_id_check("actor", req->actor)) < 0 ||
      (rc = iso_time(when, sizeof when, req->time)) < 0)
    return rc;
  if ((rc = jx_engine_admin(e, req->actor, "migrating")) < 0)
    return rc;
  actor = jx_config_actor(e->cfg, req->actor);
  if ((rc = project_get(e, req->project, &p)) < 0)
    return rc;
  next = jx_value_copy(&p->state);
  const char *status = jx_map_str(&next, "status");
  const char *last = jx_map_str(&next, "updated_at");
  snprintf(out->from, sizeof out->from, "%s", status ? status : "?");
  jx_map_int(&next, "definition_version", &v);
  out->from_version = v;
  out->to_version = e->wf->version;
  const char *to = map ? jx_map_str(map, out->from) : NULL;
  snprintf(out->to, sizeof out->to, "%s", to ? to : out->from);
  if (v == e->wf->version && !to) {
    out->current = true;
    goto cleanup;
  }
  if (!jx_workflow_state(e->wf, out->to)) {
    rc = jx_err_set(JX_EINVAL,
                    "project %s is in state %s, which version %lld of "
                    "workflow %s does not have: map it (--map %s=NEW)",
                    req->project, out->from, (long long)e->wf->version,
                    e->wf->name, out->from);
    goto cleanup;
  }
  if (last && strcmp(when, last) < 0) {
    rc = jx_err_set(JX_EINVAL,
                    "the migration is dated %s, before the project's last "
                    "event (%s)",
                    when, last);
    goto cleanup;
  }
  if (dry)
    goto cleanup;
  /* Steps start afresh under the new definition. */
  jx_map_del(&next, "approval");
  jx_map_set(&next, "definition_version", jx_int(e->wf->version));
  event = jx_map();
  jx_map_set(&event, "name", jx_str(req->event));
  jx_map_set(&event, "project", jx_str(req->project));
  jx_map_set(&event, "actor", jx_str(actor->name));
  jx_map_set(&event, "role", jx_str(actor->role));
  jx_map_set(&event, "time", jx_str(when));
  jx_map_set(&event, "from", jx_str(out->from));
  jx_map_set(&event, "to", jx_str(out->to));
  jx_map_set(&event, "definition_from", jx_int(v));
  jx_map_set(&event, "definition_to", jx_int(e->wf->version));
  snprintf(trailers, sizeof trailers, "Definition: %s %lld -> %lld",
           e->wf->name, (long long)v, (long long)e->wf->version);
  finish_state(&next, req, out->to, when);
  rc = queue(e, req, actor, p, &next, &event, out->from, out->to, when,
             trailers, cb, payload);
cleanup:
  jx_value_free(&event);
  jx_value_free(&next);
  return rc;
}

int jx_engine_register(jx_engine *e, const jx_request *req, const char *name,
                       const jx_value *entry, jx_engine_cb cb,
                       void *payload) {
  const jx_actor_conf *actor;
  project *p = NULL;
  jx_value next = jx_nil(), event = jx_nil();
  jx_buf what = JX_BUF_INIT;
  char when[32], trailers[512];
  int rc;
  if ((rc = jx_id_check("actor", req->actor)) < 0 ||
      (rc = jx_id_check("actor", name)) < 0 ||
      (rc = iso_time(when, sizeof when, req->time)) < 0)
    return rc;
  if ((rc = jx_engine_admin(e, req->actor, "changing the registry of "
                                           "actors")) < 0)
    return rc;
  actor = jx_config_actor(e->cfg, req->actor);
  rc = project_get(e, JX_REGISTRY_ID, &p);
  if (rc < 0 && rc != JX_ENOTFOUND)
    return rc;
  if (rc == 0) {
    next = jx_value_copy(&p->state);
  } else {
    /* The first registry is what workflow.toml [actors] says. */
    next = jx_map();
    jx_map_set(&next, "actors", jx_config_actors(e->cfg));
    /* What [actors] said when the registry took over: jx notes a later
     * edit of [actors], which no longer counts. */
    jx_map_set(&next, "seed", jx_config_actors(e->cfg));
    jx_map_set(&next, "status", jx_str("registry"));
    jx_map_set(&next, "seq", jx_int(0));
  }
  const char *last = jx_map_str(&next, "updated_at");
  if (last && strcmp(when, last) < 0) {
    rc = jx_err_set(JX_EINVAL,
                    "the change is dated %s, before the registry's last "
                    "(%s)",
                    when, last);
    goto cleanup;
  }
  jx_value *actors = jx_map_get(&next, "actors");
  bool known = jx_map_get(actors, name) != NULL;
  if (!entry) {
    if (!known || strcmp(name, req->actor) == 0 ||
        strcmp(name, JX_CALENDAR_ACTOR) == 0) {
      rc = jx_err_set(JX_EINVAL, "%s: %s", name,
                      !known ? "no such actor in the registry"
                             : "an actor cannot remove itself or the "
                               "calendar");
      goto cleanup;
    }
    jx_map_del(actors, name);
    jx_buf_printf(&what, "Registry: remove %s", name);
  } else {
    /* The same checks as workflow.toml [actors] gets at load. */
    jx_config one = {.path = "the registry"};
    jx_value single = jx_map();
    jx_map_set(&single, name, jx_value_copy(entry));
    rc = jx_config_set_actors(&one, &single);
    jx_value_free(&single);
    if (rc == 0)
      rc = check_actors(&one, e->wf);
    for (size_t i = 0; rc == 0 && i < one.actors[0].scope.u.m.len; i++)
      jx_buf_printf(&what, "%s%s=%s", i ? ", " : "; ",
                    one.actors[0].scope.u.m.items[i].key,
                    one.actors[0].scope.u.m.items[i].val.u.s.ptr);
    jx_config_clear_actors(&one);
    if (rc < 0) {
      rc = jx_err_recode(JX_EINVAL);
      goto cleanup;
    }
    char scope[256];
    snprintf(scope, sizeof scope, "%s", what.data ? what.data : "");
    what.len = 0;
    jx_buf_printf(&what, "Registry: %s %s (%s%s)", known ? "change" : "add",
                  name, jx_map_str(entry, "role"), scope);
    jx_map_set(actors, name, jx_value_copy(entry));
  }
  /* Someone must be left to change the registry. */
  size_t admins = 0;
  for (size_t i = 0; i < actors->u.m.len; i++) {
    const char *role = jx_map_str(&actors->u.m.items[i].val, "role");
    admins += role && jx_strlist_has(&e->wf->admin_roles, role);
  }
  if (admins == 0) {
    rc = jx_err_set(JX_EINVAL, "%s: the registry would keep no actor of "
                               "[workflow] admin_roles, and nobody could "
                               "change it again",
                    name);
    goto cleanup;
  }
  snprintf(trailers, sizeof trailers, "%s", what.data);
  event = jx_map();
  jx_map_set(&event, "name", jx_str(req->event));
  jx_map_set(&event, "actor", jx_str(actor->name));
  jx_map_set(&event, "role", jx_str(actor->role));
  jx_map_set(&event, "time", jx_str(when));
  jx_map_set(&event, "subject", jx_str(name));
  jx_map_set(&event, "from", jx_str("registry"));
  jx_map_set(&event, "to", jx_str("registry"));
  if (entry)
    jx_map_set(&event, "entry", jx_value_copy(entry));
  jx_request r = *req;
  r.project = JX_REGISTRY_ID;
  finish_state(&next, &r, "registry", when);
  rc = queue(e, &r, actor, p, &next, &event, "registry", "registry", when,
             trailers, cb, payload);
cleanup:
  jx_buf_free(&what);
  jx_value_free(&event);
  jx_value_free(&next);
  return rc;
}
