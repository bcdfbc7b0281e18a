#include "jx_workflow.h"

#include "jx_approval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jx_buf.h"
#include "jx_err.h"
#include "jx_toml.h"
#include "jx_value.h"

static const char *const phases[] = {"submission", "review", "monitoring",
                                     "disposal", "evaluation"};

static void strlist_free(jx_strlist *l) {
  for (size_t i = 0; i < l->len; i++)
    free(l->items[i]);
  free(l->items);
}

bool jx_strlist_has(const jx_strlist *l, const char *s) {
  for (size_t i = 0; i < l->len; i++)
    if (strcmp(l->items[i], s) == 0)
      return true;
  return false;
}

const char *jx_strlist_join(const jx_strlist *l, char *buf, size_t size) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < l->len && o < size; i++)
    o +=
        (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", l->items[i]);
  return buf;
}

void jx_workflow_free(jx_workflow *wf) {
  if (!wf)
    return;
  for (size_t i = 0; i < wf->nstates; i++) {
    free(wf->states[i].name);
    free(wf->states[i].phase);
    free(wf->states[i].text);
  }
  for (size_t i = 0; i < wf->nfields; i++) {
    free(wf->fields[i].name);
    strlist_free(&wf->fields[i].one_of);
    jx_value_free(&wf->fields[i].def);
  }
  free(wf->fields);
  for (size_t i = 0; i < wf->ntransitions; i++) {
    jx_transition *t = &wf->transitions[i];
    free(t->event);
    free(t->to);
    strlist_free(&t->from);
    strlist_free(&t->roles);
    strlist_free(&t->sets);
    strlist_free(&t->guards);
    strlist_free(&t->reactions);
    strlist_free(&t->returns);
    free(t->undo);
    free(t->op);
    jx_value_free(&t->approval);
  }
  free(wf->states);
  free(wf->transitions);
  free(wf->path);
  free(wf->name);
  free(wf->initial);
  strlist_free(&wf->admin_roles);
  free(wf);
}

/* Parsing context: the document and the key path of the value at hand, so
 * that every complaint points at its line and column. */
typedef struct ctx {
  const jx_toml_doc *doc;
  const char *keys[4];
  size_t depth;
} ctx;

/* A misspelt key ("guard" for "guards") would silently drop a rule:
 * refuse any key the format does not know. */
static int known_keys(ctx *c, const jx_value *v, const char *const *known,
                      size_t n) {
  for (size_t i = 0; v && v->type == JX_MAP && i < v->u.m.len; i++) {
    const char *key = v->u.m.items[i].key;
    size_t k = 0;
    while (k < n && strcmp(known[k], key))
      k++;
    if (k < n)
      continue;
    char list[256];
    jx_strlist l = {(char **)known, n};
    c->keys[c->depth] = key;
    return jx_toml_error_at(c->doc, c->keys, c->depth + 1,
                            "unknown key \"%s\" (known: %s)", key,
                            jx_strlist_join(&l, list, sizeof list));
  }
  return 0;
}

#define KNOWN(c, v, ...)                                                       \
  known_keys(c, v, (const char *const[]){__VA_ARGS__},                         \
             sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

static int string_at(ctx *c, const jx_value *v, const char *key, bool required,
                     char **out) {
  const jx_value *s = jx_map_get(v, key);
  c->keys[c->depth] = key;
  if (!s && !required) {
    *out = jx_xstrdup("");
    return 0;
  }
  if (!s)
    return jx_toml_error_at(c->doc, c->keys, c->depth, "missing key \"%s\"",
                            key);
  if (s->type != JX_STR || s->u.s.len == 0)
    return jx_toml_error_at(c->doc, c->keys, c->depth + 1,
                            "\"%s\" must be a non-empty string", key);
  *out = jx_xstrdup(s->u.s.ptr);
  return 0;
}

static int strlist_at(ctx *c, const jx_value *v, const char *key, bool required,
                      jx_strlist *out) {
  const jx_value *a = jx_map_get(v, key);
  c->keys[c->depth] = key;
  if (!a && !required)
    return 0;
  if (!a)
    return jx_toml_error_at(c->doc, c->keys, c->depth, "missing key \"%s\"",
                            key);
  if (a->type != JX_ARRAY || (required && a->u.a.len == 0))
    return jx_toml_error_at(c->doc, c->keys, c->depth + 1,
                            "\"%s\" must be a%s array of strings", key,
                            required ? " non-empty" : "n");
  out->items = jx_xmalloc(a->u.a.len * sizeof *out->items);
  for (size_t i = 0; i < a->u.a.len; i++) {
    if (a->u.a.items[i].type != JX_STR)
      return jx_toml_error_at(c->doc, c->keys, c->depth + 1,
                              "\"%s\" must be an array of strings", key);
    out->items[out->len++] = jx_xstrdup(a->u.a.items[i].u.s.ptr);
  }
  return 0;
}

static int load_states(ctx *c, jx_workflow *wf, const jx_value *states) {
  c->keys[0] = "states";
  c->depth = 1;
  if (!states || states->type != JX_MAP || states->u.m.len == 0)
    return jx_toml_error_at(c->doc, c->keys, 1,
                            "[states] must list at least one state");
  wf->states = calloc(states->u.m.len, sizeof *wf->states);
  for (size_t i = 0; i < states->u.m.len; i++) {
    const jx_pair *p = &states->u.m.items[i];
    jx_state_def *st = &wf->states[wf->nstates++];
    st->name = jx_xstrdup(p->key);
    c->keys[1] = p->key;
    if (strlen(p->key) > JX_STATE_NAME_MAX)
      return jx_toml_error_at(c->doc, c->keys, 2,
                              "state name \"%s\" is longer than %d bytes",
                              p->key, JX_STATE_NAME_MAX);
    c->depth = 2;
    if (p->val.type != JX_MAP)
      return jx_toml_error_at(c->doc, c->keys, 2,
                              "state \"%s\" must be a table", p->key);
    int rc;
    if ((rc = KNOWN(c, &p->val, "phase", "text")) < 0 ||
        (rc = string_at(c, &p->val, "phase", true, &st->phase)) < 0 ||
        (rc = string_at(c, &p->val, "text", false, &st->text)) < 0)
      return rc;
    size_t k = 0;
    while (k < sizeof phases / sizeof *phases && strcmp(phases[k], st->phase))
      k++;
    if (k == sizeof phases / sizeof *phases) {
      c->keys[2] = "phase";
      return jx_toml_error_at(c->doc, c->keys, 3,
                              "unknown phase \"%s\" (one of submission, "
                              "review, monitoring, disposal, evaluation)",
                              st->phase);
    }
  }
  return 0;
}

static const struct {
  const char *name;
  jx_type type;
} field_types[] = {{"string", JX_STR},   {"integer", JX_INT},
                   {"number", JX_FLOAT}, {"boolean", JX_BOOL},
                   {"array", JX_ARRAY},  {"table", JX_MAP}};

static const char *field_type_name(jx_type t) {
  for (size_t i = 0; i < sizeof field_types / sizeof *field_types; i++)
    if (field_types[i].type == t)
      return field_types[i].name;
  return "?";
}

static int load_field(ctx *c, jx_field_def *f, const jx_pair *p) {
  char *type = NULL;
  int rc;
  f->name = jx_xstrdup(p->key);
  c->keys[1] = p->key;
  c->depth = 2;
  if (p->val.type != JX_MAP)
    return jx_toml_error_at(c->doc, c->keys, 2,
                            "field \"%s\" must be a table such as "
                            "{ type = \"string\" }",
                            p->key);
  if ((rc = KNOWN(c, &p->val, "type", "required", "one_of", "min",
                  "default")) < 0 ||
      (rc = string_at(c, &p->val, "type", true, &type)) < 0 ||
      (rc = strlist_at(c, &p->val, "one_of", false, &f->one_of)) < 0)
    goto cleanup;
  size_t k = 0;
  while (k < sizeof field_types / sizeof *field_types &&
         strcmp(field_types[k].name, type))
    k++;
  if (k == sizeof field_types / sizeof *field_types) {
    c->keys[2] = "type";
    rc = jx_toml_error_at(c->doc, c->keys, 3,
                          "unknown type \"%s\" (one of string, integer, "
                          "number, boolean, array, table)",
                          type);
    goto cleanup;
  }
  f->type = field_types[k].type;
  const jx_value *req = jx_map_get(&p->val, "required");
  f->required = req && req->type == JX_BOOL && req->u.b;
  f->has_min = jx_map_int(&p->val, "min", &f->min);
  const jx_value *def = jx_map_get(&p->val, "default");
  f->def = def ? jx_value_copy(def) : jx_nil();
cleanup:
  free(type);
  return rc;
}

static int load_fields(ctx *c, jx_workflow *wf, const jx_value *fields) {
  c->keys[0] = "fields";
  if (!fields)
    return 0;
  if (fields->type != JX_MAP)
    return jx_toml_error_at(c->doc, c->keys, 1, "[fields] must be a table");
  wf->fields = calloc(fields->u.m.len, sizeof *wf->fields);
  for (size_t i = 0; i < fields->u.m.len; i++) {
    int rc = load_field(c, &wf->fields[wf->nfields++], &fields->u.m.items[i]);
    if (rc < 0)
      return rc;
  }
  /* A default is a value like any other: it must pass its own field. */
  for (size_t i = 0; i < wf->nfields; i++) {
    const jx_field_def *f = &wf->fields[i];
    if (f->def.type != JX_NIL &&
        jx_workflow_check_field(wf, f->name, &f->def) < 0) {
      const char *keys[] = {"fields", f->name, "default"};
      return jx_toml_error_at(c->doc, keys, 3, "default: %s",
                              jx_err_last()->msg);
    }
  }
  return 0;
}

static int check_state(ctx *c, const jx_workflow *wf, const char *name,
                       const char *key) {
  if (jx_workflow_state(wf, name))
    return 0;
  c->keys[c->depth] = key;
  return jx_toml_error_at(c->doc, c->keys, c->depth + 1,
                          "unknown state \"%s\" (not in [states])", name);
}

static int check_plugins(ctx *c, const jx_strlist *l, const char *key,
                         const char *const *plugins, size_t nplugins) {
  for (size_t i = 0; i < l->len; i++) {
    size_t k = 0;
    while (k < nplugins && strcmp(plugins[k], l->items[i]))
      k++;
    if (k == nplugins) {
      c->keys[c->depth] = key;
      return jx_toml_error_at(c->doc, c->keys, c->depth + 1,
                              "plugin \"%s\" is not configured "
                              "(add a [[plugin]] named so to workflow.toml)",
                              l->items[i]);
    }
  }
  return 0;
}

/* What an approval table is checked against. */
typedef struct approval_ctx {
  const jx_workflow *wf;
  const jx_transition *t;
} approval_ctx;

static bool transition_has_role(const char *role, const void *p) {
  return jx_strlist_has(&((const approval_ctx *)p)->t->roles, role);
}

static bool workflow_has_field(const char *name, const void *p) {
  return jx_workflow_field(((const approval_ctx *)p)->wf, name) != NULL;
}

static int load_approval(ctx *c, const jx_workflow *wf, jx_transition *t,
                         const jx_value *def) {
  const char *key;
  t->approval = jx_nil();
  if (!def)
    return 0;
  approval_ctx ac = {wf, t};
  int rc = jx_approval_check(def, transition_has_role, workflow_has_field, &ac,
                             &key);
  if (rc < 0) {
    c->keys[2] = "approval";
    c->keys[3] = key;
    return jx_toml_error_at(c->doc, c->keys, key ? 4 : 3, "%s",
                            jx_err_last()->msg);
  }
  t->approval = jx_value_copy(def);
  return 0;
}

static int load_transition(ctx *c, jx_workflow *wf, const jx_value *v,
                           const char *const *plugins, size_t nplugins) {
  jx_transition *t = &wf->transitions[wf->ntransitions++];
  int rc;
  if (v->type != JX_MAP)
    return jx_toml_error_at(c->doc, c->keys, 2,
                            "[[transition]] must be a table");
  if ((rc = KNOWN(c, v, "event", "from", "to", "roles", "sets", "guards",
                  "reactions", "approval", "returns", "undo", "task",
                  "op")) < 0 ||
      (rc = string_at(c, v, "event", true, &t->event)) < 0 ||
      (rc = strlist_at(c, v, "from", true, &t->from)) < 0 ||
      (rc = string_at(c, v, "to", false, &t->to)) < 0 ||
      (rc = strlist_at(c, v, "roles", true, &t->roles)) < 0 ||
      (rc = strlist_at(c, v, "sets", false, &t->sets)) < 0 ||
      (rc = strlist_at(c, v, "guards", false, &t->guards)) < 0 ||
      (rc = strlist_at(c, v, "reactions", false, &t->reactions)) < 0 ||
      (rc = strlist_at(c, v, "returns", false, &t->returns)) < 0 ||
      (rc = string_at(c, v, "undo", false, &t->undo)) < 0 ||
      (rc = string_at(c, v, "op", false, &t->op)) < 0 ||
      (*t->to && (rc = check_state(c, wf, t->to, "to")) < 0) ||
      (rc = check_plugins(c, &t->guards, "guards", plugins, nplugins)) < 0 ||
      (rc = check_plugins(c, &t->reactions, "reactions", plugins, nplugins)) <
          0)
    return rc;
  if ((rc = load_approval(c, wf, t, jx_map_get(v, "approval"))) < 0)
    return rc;
  /* One kind of transition each: the engine would use only one of them. */
  int kinds = (t->approval.type != JX_NIL) + (t->returns.len > 0) +
              (*t->undo != '\0') + (jx_map_get(v, "op") != NULL);
  if (kinds > 1) {
    c->keys[2] = "approval";
    return jx_toml_error_at(c->doc, c->keys, 2,
                            "a transition has at most one of approval, "
                            "returns, undo and op");
  }
  const jx_value *task = jx_map_get(v, "task");
  if (task && task->type != JX_BOOL) {
    c->keys[2] = "task";
    return jx_toml_error_at(c->doc, c->keys, 3, "task is true or false");
  }
  t->task = (task && task->u.b) || t->approval.type != JX_NIL;
  for (size_t i = 0; i < t->returns.len; i++)
    if (strcmp(t->returns.items[i], "previous") &&
        (rc = check_state(c, wf, t->returns.items[i], "returns")) < 0)
      return rc;
  if (t->returns.len && !jx_workflow_field(wf, "return_to")) {
    c->keys[2] = "returns";
    return jx_toml_error_at(c->doc, c->keys, 3,
                            "a return needs a field return_to in [fields] "
                            "(the state chosen)");
  }
  static const char *const ops[] = {"escalate", "delegate", "transfer",
                                     "add_signer", "remove_signer", "copy"};
  size_t op = 0, nops = sizeof ops / sizeof *ops;
  while (*t->op && op < nops && strcmp(ops[op], t->op))
    op++;
  if (op == nops) {
    c->keys[2] = "op";
    return jx_toml_error_at(c->doc, c->keys, 3,
                            "op is delegate (委派), transfer (转办), "
                            "add_signer (加签), remove_signer (减签), copy "
                            "(抄送) or escalate");
  }
  if (*t->op && op != 0 && (!jx_strlist_has(&t->sets, "assignee") ||
                 !jx_workflow_field(wf, "assignee"))) {
    c->keys[2] = "sets";
    return jx_toml_error_at(c->doc, c->keys, 3,
                            "an op sets the field assignee (the actor)");
  }
  if (*t->undo && strcmp(t->undo, "withdraw") &&
      strcmp(t->undo, "take_back")) {
    c->keys[2] = "undo";
    return jx_toml_error_at(c->doc, c->keys, 3,
                            "undo is \"withdraw\" (撤回) or \"take_back\" "
                            "(取回)");
  }
  for (size_t i = 0; i < t->sets.len; i++) {
    if (!jx_workflow_field(wf, t->sets.items[i])) {
      c->keys[2] = "sets";
      return jx_toml_error_at(c->doc, c->keys, 3,
                              "field \"%s\" is not in [fields]",
                              t->sets.items[i]);
    }
  }
  for (size_t i = 0; i < t->from.len; i++) {
    if ((rc = check_state(c, wf, t->from.items[i], "from")) < 0)
      return rc;
    /* The transition table is read as (event, state) -> transition: a
     * second match would make the choice depend on file order. */
    for (size_t k = 0; k + 1 < wf->ntransitions; k++)
      if (strcmp(wf->transitions[k].event, t->event) == 0 &&
          jx_strlist_has(&wf->transitions[k].from, t->from.items[i])) {
        c->keys[2] = "from";
        return jx_toml_error_at(c->doc, c->keys, 3,
                                "event \"%s\" from state \"%s\" is already "
                                "defined by transition %zu",
                                t->event, t->from.items[i], k + 1);
      }
  }
  return 0;
}

int jx_workflow_load(jx_workflow **out, const char *path,
                     const char *const *plugins, size_t nplugins) {
  jx_buf text = JX_BUF_INIT;
  int err = jx_buf_read_file(&text, path, JX_FILE_MAX);
  int rc =
      err ? jx_err_set(JX_EINVAL, "%s: cannot read: %s", path, strerror(err))
          : jx_workflow_load_text(out, path, text.data ? text.data : "",
                                  text.len, plugins, nplugins);
  jx_buf_free(&text);
  return rc;
}

int jx_workflow_load_text(jx_workflow **out, const char *path, const char *text,
                          size_t len, const char *const *plugins,
                          size_t nplugins) {
  jx_toml_doc *doc = NULL;
  jx_workflow *wf = jx_xcalloc(1, sizeof *wf);
  int rc;
  if ((rc = jx_toml_load_string(&doc, text, len, path)) < 0)
    goto cleanup;
  const jx_value *root = jx_toml_root(doc);
  const jx_value *head = jx_map_get(root, "workflow");
  ctx c = {.doc = doc, .keys = {"workflow"}, .depth = 1};
  wf->path = jx_xstrdup(path);
  if (!head || head->type != JX_MAP) {
    rc = jx_toml_error_at(doc, NULL, 0, "missing [workflow] table");
    goto cleanup;
  }
  c.depth = 0;
  if ((rc = KNOWN(&c, root, "workflow", "states", "fields", "transition")) < 0)
    goto cleanup;
  c.keys[0] = "workflow";
  c.depth = 1;
  if ((rc = KNOWN(&c, head, "name", "version", "initial", "admin_roles")) <
          0 ||
      (rc = string_at(&c, head, "name", true, &wf->name)) < 0 ||
      (rc = string_at(&c, head, "initial", true, &wf->initial)) < 0 ||
      (rc = strlist_at(&c, head, "admin_roles", false, &wf->admin_roles)) <
          0)
    goto cleanup;
  if (!jx_map_int(head, "version", &wf->version))
    wf->version = 1;
  if ((rc = load_states(&c, wf, jx_map_get(root, "states"))) < 0)
    goto cleanup;
  c.keys[0] = "workflow";
  c.depth = 1;
  if ((rc = check_state(&c, wf, wf->initial, "initial")) < 0 ||
      (rc = load_fields(&c, wf, jx_map_get(root, "fields"))) < 0)
    goto cleanup;
  const jx_value *ts = jx_map_get(root, "transition");
  c.keys[0] = "transition";
  if (!ts || ts->type != JX_ARRAY || ts->u.a.len == 0) {
    rc = jx_toml_error_at(doc, c.keys, 1,
                          "at least one [[transition]] is needed");
    goto cleanup;
  }
  wf->transitions = calloc(ts->u.a.len, sizeof *wf->transitions);
  for (size_t i = 0; i < ts->u.a.len; i++) {
    char index[24];
    snprintf(index, sizeof index, "%zu", i);
    c.keys[1] = index;
    c.depth = 2;
    if ((rc = load_transition(&c, wf, &ts->u.a.items[i], plugins, nplugins)) <
        0)
      goto cleanup;
  }
  *out = wf;
  wf = NULL;
cleanup:
  jx_workflow_free(wf);
  jx_toml_free(doc);
  return rc;
}

const char *jx_transition_target(const jx_transition *t, const char *from) {
  return *t->to ? t->to : from;
}

const jx_transition *jx_workflow_find(const jx_workflow *wf, const char *event,
                                      const char *state) {
  for (size_t i = 0; i < wf->ntransitions; i++)
    if (strcmp(wf->transitions[i].event, event) == 0 &&
        jx_strlist_has(&wf->transitions[i].from, state))
      return &wf->transitions[i];
  return NULL;
}

const jx_transition *jx_workflow_event(const jx_workflow *wf,
                                       const char *event) {
  for (size_t i = 0; i < wf->ntransitions; i++)
    if (strcmp(wf->transitions[i].event, event) == 0)
      return &wf->transitions[i];
  return NULL;
}

const jx_state_def *jx_workflow_state(const jx_workflow *wf, const char *name) {
  for (size_t i = 0; i < wf->nstates; i++)
    if (strcmp(wf->states[i].name, name) == 0)
      return &wf->states[i];
  return NULL;
}

const jx_field_def *jx_workflow_field(const jx_workflow *wf, const char *name) {
  for (size_t i = 0; i < wf->nfields; i++)
    if (strcmp(wf->fields[i].name, name) == 0)
      return &wf->fields[i];
  return NULL;
}

int jx_workflow_check_field(const jx_workflow *wf, const char *key,
                            const jx_value *v) {
  const jx_field_def *f = jx_workflow_field(wf, key);
  char values[512];
  if (!f)
    return jx_err_set(JX_EINVAL,
                      "field \"%s\" is not a field of workflow %s (see "
                      "[fields] in %s)",
                      key, wf->name, wf->path);
  bool number_ok = f->type == JX_FLOAT && v->type == JX_INT;
  if (v->type != f->type && !number_ok)
    return jx_err_set(JX_EINVAL, "field \"%s\" must be a%s %s, not a%s %s", key,
                      f->type == JX_INT ? "n" : "", field_type_name(f->type),
                      v->type == JX_INT || v->type == JX_ARRAY ? "n" : "",
                      jx_type_name(v->type));
  if (f->type == JX_STR && f->one_of.len &&
      !jx_strlist_has(&f->one_of, v->u.s.ptr))
    return jx_err_set(JX_EINVAL, "field \"%s\": \"%s\" is not one of %s", key,
                      v->u.s.ptr,
                      jx_strlist_join(&f->one_of, values, sizeof values));
  if (f->has_min && v->type == JX_INT && v->u.i < f->min)
    return jx_err_set(JX_EINVAL,
                      "field \"%s\": %lld is below the minimum of %lld", key,
                      (long long)v->u.i, (long long)f->min);
  return 0;
}

void jx_workflow_fill_defaults(const jx_workflow *wf, jx_value *fields) {
  for (size_t i = 0; i < wf->nfields; i++) {
    const jx_field_def *f = &wf->fields[i];
    if (f->def.type != JX_NIL && !jx_map_get(fields, f->name))
      jx_map_set(fields, f->name, jx_value_copy(&f->def));
  }
}

int jx_workflow_check_project(const jx_workflow *wf, const jx_value *fields,
                              const char **bad_key) {
  if (bad_key)
    *bad_key = NULL;
  for (size_t i = 0; i < fields->u.m.len; i++) {
    const jx_pair *p = &fields->u.m.items[i];
    int rc = jx_workflow_check_field(wf, p->key, &p->val);
    if (rc < 0) {
      if (bad_key)
        *bad_key = p->key;
      return rc;
    }
  }
  for (size_t i = 0; i < wf->nfields; i++)
    if (wf->fields[i].required && !jx_map_get(fields, wf->fields[i].name))
      return jx_err_set(JX_EINVAL, "missing field \"%s\" (a%s %s)",
                        wf->fields[i].name,
                        wf->fields[i].type == JX_INT ? "n" : "",
                        field_type_name(wf->fields[i].type));
  return 0;
}
