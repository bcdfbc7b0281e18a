/* msgpack-RPC messages as values: see jx_rpc.h. */
#include <string.h>

#include "jx_err.h"
#include "jx_rpc.h"

jx_value jx_rpc_error(int rc, const char *message, const jx_verdict *refusal,
                      const char *subject) {
  jx_value e = jx_map();
  jx_map_set(&e, "code", jx_int(-rc));
  jx_map_set(&e, "kind", jx_str(jx_err_name(rc)));
  jx_map_set(&e, "message", jx_str(message));
  if (subject && *subject)
    jx_map_set(&e, "subject", jx_str(subject));
  if (refusal && refusal->refused) {
    jx_map_set(&e, "rule", jx_str(refusal->rule));
    jx_map_set(&e, "reason", jx_str(refusal->reason));
    jx_map_set(&e, "remedy", jx_str(refusal->remedy));
  }
  return e;
}

jx_value jx_rpc_outcome(const jx_outcome *o) {
  jx_value v = jx_map();
  jx_map_set(&v, "project", jx_str(o->project));
  jx_map_set(&v, "event", jx_str(o->event));
  jx_map_set(&v, "from", jx_str(o->from));
  jx_map_set(&v, "to", jx_str(o->to));
  jx_map_set(&v, "commit", jx_str(git_oid_tostr_s(o->commit)));
  jx_map_set(&v, "state", jx_value_copy(o->state));
  return v;
}

int jx_rpc_request(const jx_value *msg, uint32_t *msgid, const char **method,
                   const jx_value **params) {
  *msgid = 0;
  if (msg->type != JX_ARRAY || msg->u.a.len < 1 ||
      msg->u.a.items[0].type != JX_INT)
    return jx_err_set(JX_EINVAL, "a message is an array [type, ...], not %s",
                      jx_type_name(msg->type));
  const jx_value *m = msg->u.a.items;
  if (m[0].u.i != JX_RPC_REQUEST)
    return jx_err_set(JX_EINVAL,
                      "a message of type %lld: a client sends requests "
                      "(type 0) only",
                      (long long)m[0].u.i);
  if (msg->u.a.len < 2 || m[1].type != JX_INT || m[1].u.i < 0 ||
      m[1].u.i > UINT32_MAX)
    return jx_err_set(JX_EINVAL,
                      "a request's msgid is an integer 0 ... 4294967295");
  *msgid = (uint32_t)m[1].u.i;
  if (msg->u.a.len != 4)
    return jx_err_set(JX_EINVAL,
                      "a request is [0, msgid, method, params]: 4 elements, "
                      "not %zu",
                      msg->u.a.len);
  if (m[2].type != JX_STR)
    return jx_err_set(JX_EINVAL, "a request's method is a string, not %s",
                      jx_type_name(m[2].type));
  if (m[3].type != JX_ARRAY || m[3].u.a.len > 1 ||
      (m[3].u.a.len == 1 && m[3].u.a.items[0].type != JX_MAP))
    return jx_err_set(JX_EINVAL,
                      "%s: params are an array of one map of named "
                      "parameters ([{...}]) or empty ([])",
                      m[2].u.s.ptr);
  *method = m[2].u.s.ptr;
  *params = m[3].u.a.len ? &m[3].u.a.items[0] : NULL;
  return 0;
}

int jx_rpc_known(const jx_value *params, const char *const *known) {
  for (size_t i = 0; params && i < params->u.m.len; i++) {
    const char *key = params->u.m.items[i].key;
    size_t k = 0;
    while (known[k] && strcmp(known[k], key) != 0)
      k++;
    if (!known[k]) {
      jx_buf names = JX_BUF_INIT;
      for (k = 0; known[k]; k++)
        jx_buf_printf(&names, "%s%s", k ? ", " : "", known[k]);
      int rc = jx_err_set(JX_EINVAL, "unknown parameter \"%.64s\" (known: %s)",
                          key, names.data ? names.data : "none");
      jx_buf_free(&names);
      return rc;
    }
  }
  return 0;
}

int jx_rpc_get(const jx_value *params, const char *key, jx_type type,
               bool required, const jx_value **out) {
  const jx_value *v = params ? jx_map_get(params, key) : NULL;
  *out = NULL;
  if (!v && required)
    return jx_err_set(JX_EINVAL, "parameter \"%s\" is required", key);
  if (v && v->type != type)
    return jx_err_set(JX_EINVAL, "parameter \"%s\" must be a %s, not a %s",
                      key, jx_type_name(type), jx_type_name(v->type));
  if (v && type == JX_STR && strlen(v->u.s.ptr) != v->u.s.len)
    return jx_err_set(JX_EINVAL, "parameter \"%s\" contains a NUL byte", key);
  *out = v;
  return 0;
}

int jx_rpc_str(const jx_value *params, const char *key, bool required,
               const char **out) {
  const jx_value *v;
  int rc = jx_rpc_get(params, key, JX_STR, required, &v);
  *out = v ? v->u.s.ptr : NULL;
  return rc;
}

jx_value jx_rpc_response(uint32_t msgid, jx_value error, jx_value result) {
  jx_value m = jx_array();
  jx_array_push(&m, jx_int(JX_RPC_RESPONSE));
  jx_array_push(&m, jx_int(msgid));
  jx_array_push(&m, error);
  jx_array_push(&m, result);
  return m;
}

jx_value jx_rpc_notification(const char *method, jx_value param) {
  jx_value m = jx_array(), params = jx_array();
  jx_array_push(&params, param);
  jx_array_push(&m, jx_int(JX_RPC_NOTIFY));
  jx_array_push(&m, jx_str(method));
  jx_array_push(&m, params);
  return m;
}

jx_value jx_rpc_tick_made(const jx_outcome *o) {
  jx_value r = jx_map();
  jx_map_set(&r, "timer", jx_str(o->timer ? o->timer : ""));
  jx_map_set(&r, "time", jx_str(o->time));
  jx_map_set(&r, "project", jx_str(o->project));
  jx_map_set(&r, "event", jx_str(o->event));
  if (o->code < 0) {
    jx_map_set(&r, "error", jx_str(jx_err_last()->msg));
    jx_map_set(&r, "code", jx_int(-o->code));
    return r;
  }
  jx_map_set(&r, "from", jx_str(o->from));
  jx_map_set(&r, "to", jx_str(o->to));
  jx_map_set(&r, "commit", jx_str(git_oid_tostr_s(o->commit)));
  return r;
}

jx_value jx_rpc_tick_report(const jx_tick_report *t) {
  jx_value r = jx_map();
  jx_map_set(&r, "timer", jx_str(t->timer));
  jx_map_set(&r, "date", jx_str(t->date));
  jx_map_set(&r, "project", jx_str(t->project));
  jx_map_set(&r, "error", jx_str(t->error));
  jx_map_set(&r, "code", jx_int(-t->code));
  if (t->code == JX_EREFUSED) {
    jx_map_set(&r, "rule", jx_str(t->refusal->rule));
    jx_map_set(&r, "reason", jx_str(t->refusal->reason));
    jx_map_set(&r, "remedy", jx_str(t->refusal->remedy));
  }
  return r;
}

jx_value jx_rpc_migration(const char *project, const jx_migration *m) {
  jx_value r = jx_map();
  jx_map_set(&r, "project", jx_str(project));
  jx_map_set(&r, "from", jx_str(m->from));
  jx_map_set(&r, "to", jx_str(m->to));
  jx_map_set(&r, "from_version", jx_int(m->from_version));
  jx_map_set(&r, "to_version", jx_int(m->to_version));
  jx_map_set(&r, m->current ? "current" : "dry", jx_bool(true));
  return r;
}
