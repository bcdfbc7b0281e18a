#include "jx_replay.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "jx_config.h"
#include "jx_engine.h"
#include "jx_err.h"
#include "jx_toml.h"

/* One rule set, set up to decide: its files in a private directory, its
 * configuration, a throw-away store and an engine. */
typedef struct rule_set {
  git_oid id;
  char dir[256];
  jx_config *cfg;
  jx_store *store;
  jx_engine *engine;
} rule_set;

struct jx_replay {
  jx_store *store; /* the real one, read only */
  const jx_value *actors;
  uv_loop_t loop;
  rule_set *sets;
  size_t nsets;
  rule_set *only; /* jx_replay_use_rules: every event under this one */
};

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void rule_set_free(jx_replay *r, rule_set *rs) {
  if (rs->engine) {
    jx_engine_close(rs->engine);
    uv_run(&r->loop, UV_RUN_DEFAULT);
  }
  jx_engine_free(rs->engine);
  jx_store_free(rs->store);
  jx_config_free(rs->cfg);
  if (*rs->dir)
    nftw(rs->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int jx_replay_new(jx_replay **out, jx_store *store, const jx_value *actors) {
  jx_replay *r = jx_xcalloc(1, sizeof *r);
  r->store = store;
  r->actors = actors;
  uv_loop_init(&r->loop);
  *out = r;
  return 0;
}

void jx_replay_free(jx_replay *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->nsets; i++)
    rule_set_free(r, &r->sets[i]);
  free(r->sets);
  if (r->only)
    rule_set_free(r, r->only);
  free(r->only);
  uv_loop_close(&r->loop);
  free(r);
}

/* A path a stored workflow.toml names, under dir: no way out of it. */
static int place(char *out, size_t size, const char *dir, const char *sub,
                 const char *name) {
  if (!name || !*name || name[0] == '/' || strstr(name, "..") ||
      (sub && (sub[0] == '/' || strstr(sub, ".."))))
    return jx_err_set(JX_EINVAL, "the rule set names a path outside its own "
                                 "directory: %s",
                      name ? name : "(none)");
  snprintf(out, size, "%s/%s%s%s", dir, sub ? sub : "", sub ? "/" : "", name);
  /* Its directories. */
  for (char *p = out + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
    *p = '\0';
    mkdir(out, 0700);
    *p = '/';
  }
  return 0;
}

static int put(jx_replay *r, const git_oid *commit, const char *stored,
               const char *path) {
  jx_buf b = JX_BUF_INIT;
  int rc = jx_store_rule_file_at(r->store, commit, stored, &b);
  if (rc == 0) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.data ? b.data : "", 1, b.len, f) != b.len)
      rc = jx_err_set(JX_ESTORE, "%s: %s", path, strerror(errno));
    if (f && fclose(f) != 0 && rc == 0)
      rc = jx_err_set(JX_ESTORE, "%s: %s", path, strerror(errno));
  }
  jx_buf_free(&b);
  return rc;
}

/* The engine of a rule set: its configuration (with actors), a
 * throw-away store in rs->dir. */
static int start(jx_replay *r, rule_set *rs) {
  char path[1024];
  bool created;
  int rc;
  if (r->actors && (rc = jx_config_set_actors(rs->cfg, r->actors)) < 0)
    return rc;
  free(rs->cfg->store_path);
  snprintf(path, sizeof path, "%s/replay.git", rs->dir);
  rs->cfg->store_path = jx_xstrdup(path);
  if ((rc = jx_store_init(path, &created)) < 0 ||
      (rc = jx_store_open(&rs->store, path, JX_STORE_WRITE,
                          rs->cfg->max_frame, 0)) < 0)
    return rc;
  return jx_engine_new(&rs->engine, &r->loop, rs->cfg, rs->store);
}

/* Writes the rule set of `commit` where its workflow.toml looks for its
 * files, and sets it up to decide. */
static int setup(jx_replay *r, const git_oid *commit, const git_oid *id,
                 rule_set *rs) {
  char path[1024];
  jx_buf text = JX_BUF_INIT;
  jx_toml_doc *doc = NULL;
  const char *tmp = getenv("TMPDIR");
  int rc;
  *rs = (rule_set){.id = *id};
  snprintf(rs->dir, sizeof rs->dir, "%s/jx-replay-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(rs->dir)) {
    *rs->dir = '\0';
    return jx_err_set(JX_ESTORE, "a temporary directory: %s",
                      strerror(errno));
  }
  snprintf(path, sizeof path, "%s/workflow.toml", rs->dir);
  if ((rc = put(r, commit, "workflow.toml", path)) < 0 ||
      (rc = jx_store_rule_file_at(r->store, commit, "workflow.toml",
                                  &text)) < 0 ||
      (rc = jx_toml_load_string(&doc, text.data ? text.data : "", text.len,
                                "workflow.toml")) < 0)
    goto cleanup;
  const jx_value *root = jx_toml_root(doc);
  const jx_value *wf = jx_map_get(root, "workflow");
  const char *pdir = jx_map_str(wf, "plugin_dir");
  const char *library = jx_map_str(wf, "library");
  if (!pdir)
    pdir = "plugins";
  if ((rc = place(path, sizeof path, rs->dir, NULL,
                  jx_map_str(wf, "definition"))) < 0 ||
      (rc = put(r, commit, "definition.toml", path)) < 0)
    goto cleanup;
  if (library && ((rc = place(path, sizeof path, rs->dir, pdir, library)) < 0 ||
                  (rc = put(r, commit, "library.lua", path)) < 0))
    goto cleanup;
  const jx_value *plugins = jx_map_get(root, "plugin");
  for (size_t i = 0; plugins && plugins->type == JX_ARRAY &&
                     i < plugins->u.a.len && rc == 0;
       i++) {
    const jx_value *p = &plugins->u.a.items[i];
    char stored[256];
    snprintf(stored, sizeof stored, "plugins/%s.lua",
             jx_map_str(p, "name") ? jx_map_str(p, "name") : "");
    if ((rc = place(path, sizeof path, rs->dir, pdir,
                    jx_map_str(p, "file"))) == 0)
      rc = put(r, commit, stored, path);
  }
  /* A signing key is not part of a rule set: a stand-in, never used (the
   * throw-away store writes no seal). */
  const char *key = jx_map_str(jx_map_get(root, "store"), "signing_key");
  if (rc == 0 && key && (rc = place(path, sizeof path, rs->dir, NULL, key)) ==
                            0) {
    FILE *f = fopen(path, "w");
    if (f)
      fclose(f);
  }
  if (rc < 0)
    goto cleanup;
  snprintf(path, sizeof path, "%s/workflow.toml", rs->dir);
  if ((rc = jx_config_load(&rs->cfg, path)) == 0)
    rc = start(r, rs);
cleanup:
  if (rc < 0)
    jx_err_wrap("setting up rule set %s", git_oid_tostr_s(id));
  jx_toml_free(doc);
  jx_buf_free(&text);
  return rc;
}

int jx_replay_use_rules(jx_replay *r, const char *config_path) {
  const char *tmp = getenv("TMPDIR");
  rule_set *rs = r->only = jx_xcalloc(1, sizeof *rs);
  snprintf(rs->dir, sizeof rs->dir, "%s/jx-simulate-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(rs->dir)) {
    *rs->dir = '\0';
    return jx_err_set(JX_ESTORE, "a temporary directory: %s",
                      strerror(errno));
  }
  int rc = jx_config_load(&rs->cfg, config_path);
  if (rc == 0)
    rc = start(r, rs);
  return rc;
}

static int rule_set_for(jx_replay *r, const git_oid *commit,
                        const git_oid *id, rule_set **out) {
  if (r->only)
    return *out = r->only, 0;
  for (size_t i = 0; i < r->nsets; i++)
    if (git_oid_equal(&r->sets[i].id, id))
      return *out = &r->sets[i], 0;
  r->sets = jx_xrealloc(r->sets, (r->nsets + 1) * sizeof *r->sets);
  rule_set *rs = &r->sets[r->nsets];
  int rc = setup(r, commit, id, rs);
  if (rc < 0) {
    rule_set_free(r, rs);
    return rc;
  }
  r->nsets++;
  *out = rs;
  return 0;
}

/* The project's history, oldest first. */
typedef struct entry {
  git_oid commit, rules;
  jx_value event, state;
} entry;

typedef struct history {
  entry *e;
  size_t n;
} history;

static int collect(const jx_store_entry *se, void *payload) {
  history *h = payload;
  h->e = jx_xrealloc(h->e, (h->n + 1) * sizeof *h->e);
  entry *e = &h->e[h->n++];
  e->commit = *se->commit;
  if (se->rules)
    e->rules = *se->rules;
  else
    memset(&e->rules, 0, sizeof e->rules);
  e->event = jx_value_copy(se->event);
  e->state = jx_value_copy(se->state);
  return 0;
}

/* The keys of two states that differ, into out. */
static void differences(const jx_value *a, const jx_value *b, jx_buf *out) {
  for (size_t i = 0; i < a->u.m.len; i++) {
    const jx_value *other = jx_map_get(b, a->u.m.items[i].key);
    if (!other || !jx_value_equal(other, &a->u.m.items[i].val))
      jx_buf_printf(out, "%s%s", out->len ? ", " : "", a->u.m.items[i].key);
  }
  for (size_t i = 0; i < b->u.m.len; i++)
    if (!jx_map_get(a, b->u.m.items[i].key))
      jx_buf_printf(out, "%s%s", out->len ? ", " : "", b->u.m.items[i].key);
}

int jx_replay_project(jx_replay *r, const char *id, const char *since,
                      jx_replay_cb cb, void *payload, jx_replay_stats *st) {
  history h = {0};
  int rc = jx_store_log(r->store, id, collect, &h);
  for (size_t k = h.n; rc == 0 && k-- > 0;) {
    entry *e = &h.e[k];
    const entry *parent = k + 1 < h.n ? &h.e[k + 1] : NULL;
    const char *name = jx_map_str(&e->event, "name");
    const char *time = jx_map_str(&e->event, "time");
    char commit[GIT_OID_HEXSZ + 1];
    git_oid_tostr(commit, sizeof commit, &e->commit);
    if (since && (!time || strncmp(time, since, strlen(since)) < 0))
      continue;
    if (!name || !strcmp(name, "migrate") || !strcmp(name, "register") ||
        !strcmp(name, "unregister")) {
      st->skipped++;
      continue;
    }
    rule_set *rs;
    if ((rc = rule_set_for(r, &e->commit, &e->rules, &rs)) < 0)
      break;
    jx_value again = jx_nil();
    jx_verdict refusal = {0};
    jx_buf diff = JX_BUF_INIT;
    if (jx_engine_replay(rs->engine, parent ? &parent->state : NULL,
                         &e->event, &again, &refusal) < 0) {
      jx_buf_printf(&diff, "decided otherwise: %s", jx_err_last()->msg);
    } else if (!jx_value_equal(&again, &e->state)) {
      jx_buf keys = JX_BUF_INIT;
      differences(&again, &e->state, &keys);
      jx_buf_printf(&diff, "the state differs in: %s",
                    keys.data ? keys.data : "(nothing by key)");
      jx_buf_free(&keys);
    }
    if (diff.len)
      st->differ++;
    else
      st->same++;
    cb(id, commit, name, diff.len ? diff.data : NULL, payload);
    jx_buf_free(&diff);
    jx_verdict_free(&refusal);
    jx_value_free(&again);
  }
  for (size_t i = 0; i < h.n; i++) {
    jx_value_free(&h.e[i].event);
    jx_value_free(&h.e[i].state);
  }
  free(h.e);
  return rc;
}
