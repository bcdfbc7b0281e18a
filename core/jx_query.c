/* The read commands as documents: see jx_query.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_inbox.h"
#include "jx_query.h"
#include "jx_sandbox.h"
#include "jx_versions.h"
#include "jx_workflow.h"

int jx_query_show(jx_store *s, const char *id, jx_value *out) {
  git_oid head;
  jx_value state = jx_nil();
  int rc = jx_store_head(s, id, &head, &state);
  *out = jx_nil();
  if (rc < 0)
    return rc;
  *out = jx_map();
  jx_map_set(out, "head", jx_str(git_oid_tostr_s(&head)));
  jx_map_set(out, "state", state);
  return 0;
}

typedef struct collect_ctx {
  jx_store *s;
  jx_value *projects;
} collect_ctx;

static int collect_state(const char *id, const git_oid *head, void *payload) {
  collect_ctx *c = payload;
  git_oid oid;
  jx_value state = jx_nil();
  (void)head;
  int rc = jx_store_head(c->s, id, &oid, &state);
  if (rc < 0)
    return rc;
  /* The ref names the project, whatever its state says. */
  jx_map_set(&state, "id", jx_str(id));
  jx_array_push(c->projects, state);
  return 0;
}

int jx_query_projects(jx_store *s, jx_value *out) {
  *out = jx_array();
  collect_ctx c = {s, out};
  return jx_store_foreach(s, collect_state, &c);
}

int jx_query_workflow(const jx_config *cfg, jx_workflow **wf) {
  const char **plugins = jx_xcalloc(cfg->nplugins + 1, sizeof *plugins);
  for (size_t i = 0; i < cfg->nplugins; i++)
    plugins[i] = cfg->plugins[i].name;
  int rc = jx_workflow_load(wf, cfg->workflow_path, plugins, cfg->nplugins);
  free(plugins);
  return rc;
}

static bool matches(const char *want, const char *have) {
  return !want || (have && strcmp(want, have) == 0);
}

int jx_query_list(jx_store *s, const jx_config *cfg, const char *state,
                  const char *department, jx_value *out) {
  jx_value all = jx_nil();
  jx_workflow *wf = NULL;
  int rc = 0;
  *out = jx_array();
  /* A misspelt state would list nothing and look like an answer. */
  if (state && (rc = jx_query_workflow(cfg, &wf)) == 0 &&
      !jx_workflow_state(wf, state))
    rc = jx_err_set(JX_EINVAL, "--state %s: workflow %s has no such state",
                    state, wf->name);
  jx_workflow_free(wf);
  if (rc == 0)
    rc = jx_query_projects(s, &all);
  for (size_t i = 0; rc == 0 && i < all.u.a.len; i++) {
    jx_value *p = &all.u.a.items[i];
    if (matches(state, jx_map_str(p, "status")) &&
        matches(department, jx_map_str(p, "department"))) {
      jx_array_push(out, *p);
      *p = jx_nil(); /* moved */
    }
  }
  jx_value_free(&all);
  return rc;
}

static int log_one(const jx_store_entry *e, void *payload) {
  jx_value *rows = payload;
  jx_value r = jx_map();
  char when[32];
  time_t t = (time_t)e->time;
  struct tm tm;
  if (gmtime_r(&t, &tm))
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  else
    snprintf(when, sizeof when, "%lld", (long long)e->time);
  jx_map_set(&r, "commit", jx_str(git_oid_tostr_s(e->commit)));
  if (e->rules)
    jx_map_set(&r, "rules", jx_str(git_oid_tostr_s(e->rules)));
  jx_map_set(&r, "time", jx_str(when));
  jx_map_set(&r, "message", jx_str(e->message));
  jx_map_set(&r, "event", jx_value_copy(e->event));
  jx_map_set(&r, "state", jx_value_copy(e->state));
  jx_array_push(rows, r);
  return 0;
}

int jx_query_log(jx_store *s, const char *id, jx_value *out) {
  *out = jx_array();
  return jx_store_log(s, id, log_one, out);
}

int jx_query_inbox(jx_store *s, const jx_config *cfg, jx_versions *versions,
                   const char *actor, jx_value *out) {
  jx_value projects = jx_nil();
  jx_workflow *wf = NULL;
  const jx_actor_conf *a = jx_config_actor(cfg, actor);
  jx_versions own = {0};
  int rc = a ? 0
             : jx_err_set(JX_EINVAL, "no actor \"%s\" in %s [actors]", actor,
                          cfg->path);
  *out = jx_array();
  if (rc == 0 && !versions && (rc = jx_query_workflow(cfg, &wf)) == 0) {
    own.current = wf;
    versions = &own;
  }
  if (rc == 0 && (rc = jx_query_projects(s, &projects)) == 0)
    rc = jx_inbox_collect(versions, s, cfg, a, &projects, out);
  jx_versions_clear(&own);
  jx_workflow_free(wf);
  jx_value_free(&projects);
  return rc;
}

static uint64_t times(uint64_t x, uint64_t k, uint64_t max) {
  return x > max / k ? max : x * k;
}

/* A report is a plugin with a report(projects, params, context) function:
 * domain logic stays in Lua.  It runs over every project, a batch job
 * rather than one decision, so its limits are scaled up. */
int jx_query_report(jx_store *s, const jx_config *cfg, const char *name,
                    int64_t as_of, jx_value *out) {
  const jx_plugin_conf *pc = jx_config_plugin(cfg, name);
  jx_sandbox_limits lim = cfg->limits;
  jx_sandbox *sb = NULL;
  jx_value projects = jx_nil(), context = jx_map();
  jx_buf lib = JX_BUF_INIT;
  struct tm day;
  char date[16];
  int rc, err;
  *out = jx_nil();
  if (!pc) {
    jx_buf names = JX_BUF_INIT;
    for (size_t i = 0; i < cfg->nplugins; i++)
      jx_buf_printf(&names, "%s%s", names.len ? ", " : "",
                    cfg->plugins[i].name);
    rc = jx_err_set(JX_EINVAL,
                    "no report \"%s\" (a [[plugin]] of %s with a report "
                    "function; plugins: %s)",
                    name, cfg->path, names.data ? names.data : "none");
    jx_buf_free(&names);
    jx_value_free(&context);
    return rc;
  }
  lim.max_instructions = times(lim.max_instructions, 1000, UINT64_MAX);
  lim.max_memory = (size_t)times(lim.max_memory, 8, SIZE_MAX);
  lim.max_ms = (uint32_t)times(lim.max_ms, 100, UINT32_MAX);
  if ((rc = jx_sandbox_new(&sb, &lim)) < 0)
    goto cleanup;
  if (cfg->library_path) {
    if ((err = jx_buf_read_file(&lib, cfg->library_path, JX_FILE_MAX))) {
      rc = jx_err_set(JX_EINVAL, "%s: cannot read: %s", cfg->library_path,
                      strerror(err));
      goto cleanup;
    }
    if ((rc = jx_sandbox_set_library(sb, cfg->library_path,
                                     lib.data ? lib.data : "", lib.len)) < 0)
      goto cleanup;
  }
  gmtime_r(&(time_t){(time_t)as_of}, &day);
  strftime(date, sizeof date, "%Y-%m-%d", &day);
  jx_map_set(&context, "date", jx_str(date));
  if ((rc = jx_sandbox_load(sb, pc->name, pc->path)) < 0 ||
      (rc = jx_query_projects(s, &projects)) < 0 ||
      (rc = jx_sandbox_report(sb, pc->name, &projects, &pc->params, &context,
                              out)) < 0)
    goto cleanup;
  /* Lua has one empty table: an empty list comes back as an empty map. */
  static const char *const lists[] = {"columns", "rows", "notes"};
  for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
    const jx_value *v = jx_map_get(out, lists[i]);
    if (v && v->type == JX_MAP && v->u.m.len == 0)
      jx_map_set(out, lists[i], jx_array());
  }
cleanup:
  jx_value_free(&context);
  jx_value_free(&projects);
  jx_buf_free(&lib);
  jx_sandbox_free(sb);
  return rc;
}
