#include "jx_approval.h"

#include <stdio.h>
#include <string.h>

#include "jx_err.h"

static const char *mode_of(const jx_value *def) {
  const char *m = jx_map_str(def, "mode");
  return m ? m : "any";
}

static const jx_value *signers_of(const jx_value *def) {
  return jx_map_get(def, "signer");
}

static bool number(const jx_value *v, double *out) {
  if (v->type == JX_INT)
    return *out = (double)v->u.i, true;
  if (v->type == JX_FLOAT)
    return *out = v->u.f, true;
  return false;
}

static bool same(const jx_value *a, const jx_value *b) {
  double x, y;
  if (number(a, &x) && number(b, &y))
    return x == y;
  if (a->type != b->type)
    return false;
  if (a->type == JX_STR)
    return a->u.s.len == b->u.s.len &&
           memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
  if (a->type == JX_BOOL)
    return a->u.b == b->u.b;
  return false;
}

/* Whether `when` (absent: always) holds for the project's state. */
static bool holds(const jx_value *when, const jx_value *state) {
  if (!when)
    return true;
  const jx_value *have = jx_map_get(state, jx_map_str(when, "field"));
  const jx_value *v;
  double x, bound;
  if (!have)
    return false;
  if ((v = jx_map_get(when, "at_least")) && number(v, &bound) &&
      !(number(have, &x) && x >= bound))
    return false;
  if ((v = jx_map_get(when, "at_most")) && number(v, &bound) &&
      !(number(have, &x) && x <= bound))
    return false;
  if ((v = jx_map_get(when, "equals")) && !same(have, v))
    return false;
  if ((v = jx_map_get(when, "in"))) {
    size_t i = 0;
    while (i < v->u.a.len && !same(have, &v->u.a.items[i]))
      i++;
    if (i == v->u.a.len)
      return false;
  }
  return true;
}

static int check_when(const jx_value *when,
                      bool (*has_field)(const char *, const void *),
                      const void *ctx) {
  static const char *const known[] = {"field", "at_least", "at_most", "equals",
                                      "in"};
  if (when->type != JX_MAP)
    return jx_err_set(JX_EINVAL, "when must be a table such as { field = "
                                 "\"amount\", at_least = 10000000 }");
  for (size_t i = 0; i < when->u.m.len; i++) {
    size_t k = 0;
    while (k < sizeof known / sizeof *known &&
           strcmp(known[k], when->u.m.items[i].key))
      k++;
    if (k == sizeof known / sizeof *known)
      return jx_err_set(JX_EINVAL,
                        "when: unknown key \"%s\" (field, at_least, "
                        "at_most, equals, in)",
                        when->u.m.items[i].key);
  }
  const char *field = jx_map_str(when, "field");
  double x;
  const jx_value *v;
  if (!field || !has_field(field, ctx))
    return jx_err_set(JX_EINVAL, "when: field must name a field of the "
                                 "workflow's [fields]");
  if (when->u.m.len < 2)
    return jx_err_set(JX_EINVAL, "when: give at_least, at_most, equals or in");
  if (((v = jx_map_get(when, "at_least")) && !number(v, &x)) ||
      ((v = jx_map_get(when, "at_most")) && !number(v, &x)))
    return jx_err_set(JX_EINVAL, "when: at_least and at_most are numbers");
  if ((v = jx_map_get(when, "in")) && v->type != JX_ARRAY)
    return jx_err_set(JX_EINVAL, "when: in is a list of values");
  return 0;
}

int jx_approval_check(const jx_value *def,
                      bool (*has_role)(const char *, const void *),
                      bool (*has_field)(const char *, const void *),
                      const void *ctx, const char **key) {
  static const char *const modes[] = {"any", "all", "quorum", "chain"};
  const char *mode = jx_map_str(def, "mode");
  const jx_value *signers = signers_of(def);
  const jx_value *q = jx_map_get(def, "quorum");
  *key = NULL;
  if (def->type != JX_MAP)
    return jx_err_set(JX_EINVAL, "approval must be a table");
  for (size_t i = 0; i < def->u.m.len; i++) {
    const char *k = def->u.m.items[i].key;
    if (strcmp(k, "mode") && strcmp(k, "quorum") && strcmp(k, "signer"))
      return *key = k, jx_err_set(JX_EINVAL,
                                  "approval: unknown key \"%s\" (mode, "
                                  "quorum, signer)",
                                  k);
  }
  size_t m = 0;
  if (jx_map_get(def, "mode")) {
    while (mode && m < sizeof modes / sizeof *modes && strcmp(modes[m], mode))
      m++;
    if (!mode || m == sizeof modes / sizeof *modes)
      return *key = "mode",
             jx_err_set(JX_EINVAL, "approval mode must be any (或签), all "
                                   "(会签), quorum (N of M) or chain (依次)");
  }
  if (!signers || signers->type != JX_ARRAY || signers->u.a.len == 0 ||
      signers->u.a.len > JX_APPROVAL_MAX_SLOTS)
    return *key = "signer",
           jx_err_set(JX_EINVAL,
                      "approval needs 1 to %d [[...approval.signer]] tables",
                      JX_APPROVAL_MAX_SLOTS);
  for (size_t i = 0; i < signers->u.a.len; i++) {
    const jx_value *s = &signers->u.a.items[i];
    const char *role = jx_map_str(s, "role"), *actor = jx_map_str(s, "actor");
    const jx_value *when = jx_map_get(s, "when");
    int rc;
    *key = "signer";
    if (s->type != JX_MAP || !role == !actor ||
        s->u.m.len != 1u + (when != NULL))
      return jx_err_set(JX_EINVAL,
                        "approval signer %zu must have role or actor (one of "
                        "them) and optionally when",
                        i + 1);
    if (role && !has_role(role, ctx))
      return jx_err_set(JX_EINVAL,
                        "approval signer %zu: role %s is not one of the "
                        "transition's roles",
                        i + 1, role);
    if (when && (rc = check_when(when, has_field, ctx)) < 0)
      return jx_err_wrap("approval signer %zu", i + 1);
  }
  bool quorum = mode && strcmp(mode, "quorum") == 0;
  if (quorum != (q != NULL) ||
      (q && (q->type != JX_INT || q->u.i < 1 ||
             (uint64_t)q->u.i > signers->u.a.len)))
    return *key = "quorum",
           jx_err_set(JX_EINVAL, "approval quorum: mode quorum, and only it, "
                                 "takes quorum = N, 1 to the number of "
                                 "signers");
  return 0;
}

size_t jx_approval_slots(const jx_value *def, const char *event,
                         const jx_value *state, jx_slot *slots) {
  const jx_value *signers = signers_of(def);
  const jx_value *a = jx_map_get(state, "approval");
  const char *for_event = a ? jx_map_str(a, "event") : NULL;
  const jx_value *sigs =
      for_event && strcmp(for_event, event) == 0 ? jx_map_get(a, "signatures")
                                                 : NULL;
  size_t n = 0;
  for (size_t i = 0; i < signers->u.a.len && n < JX_APPROVAL_MAX_SLOTS; i++) {
    const jx_value *s = &signers->u.a.items[i];
    if (!holds(jx_map_get(s, "when"), state))
      continue;
    jx_slot *slot = &slots[n++];
    *slot = (jx_slot){jx_map_str(s, "role"), jx_map_str(s, "actor"), NULL};
    /* A signature names the signer's index in the definition, so that
     * a signer whose `when` stops holding does not shift the others. */
    for (size_t k = 0; sigs && k < sigs->u.a.len; k++) {
      int64_t idx;
      if (jx_map_int(&sigs->u.a.items[k], "slot", &idx) &&
          (uint64_t)idx == i)
        slot->signed_by = jx_map_str(&sigs->u.a.items[k], "actor");
    }
  }
  return n;
}

/* The definition index of the n-th active slot. */
static size_t def_index(const jx_value *def, const jx_value *state,
                        size_t active) {
  const jx_value *signers = signers_of(def);
  size_t n = 0;
  for (size_t i = 0; i < signers->u.a.len; i++)
    if (holds(jx_map_get(&signers->u.a.items[i], "when"), state) &&
        n++ == active)
      return i;
  return signers->u.a.len;
}

static const char *slot_name(const jx_slot *s, char *buf, size_t size) {
  snprintf(buf, size, "%s %s", s->role ? "role" : "actor",
           s->role ? s->role : s->actor);
  return buf;
}

int jx_approval_slot_for(const jx_value *def, const jx_slot *slots, size_t n,
                         const char *actor, const char *role, char *reason,
                         size_t rsize, char *remedy, size_t msize) {
  bool chain = strcmp(mode_of(def), "chain") == 0;
  char who[128];
  for (size_t i = 0; i < n; i++)
    if (slots[i].signed_by && strcmp(slots[i].signed_by, actor) == 0) {
      snprintf(reason, rsize, "actor %s has signed this approval already",
               actor);
      snprintf(remedy, msize, "wait for the other signers");
      return -1;
    }
  for (size_t i = 0; i < n; i++) {
    const jx_slot *s = &slots[i];
    if (s->signed_by)
      continue;
    bool mine = s->actor ? strcmp(s->actor, actor) == 0
                         : strcmp(s->role, role) == 0;
    if (mine)
      return (int)i;
    if (chain) {
      snprintf(reason, rsize,
               "the signers sign in order (依次) and %s has not signed yet",
               slot_name(s, who, sizeof who));
      snprintf(remedy, msize, "wait until %s has signed", who);
      return -1;
    }
  }
  snprintf(reason, rsize, "actor %s (%s) is not among the signers still "
                          "needed", actor, role);
  size_t off = (size_t)snprintf(remedy, msize, "the signers needed:");
  bool any = false;
  for (size_t i = 0; i < n && off < msize; i++)
    if (!slots[i].signed_by) {
      off += (size_t)snprintf(remedy + off, msize - off, "%s %s",
                              any ? "," : "",
                              slot_name(&slots[i], who, sizeof who));
      any = true;
    }
  if (!any)
    snprintf(remedy, msize, "nothing: every signer has signed");
  return -1;
}

bool jx_approval_done(const jx_value *def, const jx_slot *slots, size_t n) {
  size_t signed_n = 0;
  for (size_t i = 0; i < n; i++)
    signed_n += slots[i].signed_by != NULL;
  const char *mode = mode_of(def);
  if (strcmp(mode, "any") == 0)
    return signed_n >= 1 || n == 0;
  if (strcmp(mode, "quorum") == 0) {
    int64_t q = 1;
    jx_map_int(def, "quorum", &q);
    /* Fewer signers apply to this project than the quorum: all of them. */
    return signed_n >= ((uint64_t)q < n ? (size_t)q : n);
  }
  return signed_n == n;
}

void jx_approval_sign(const jx_value *def, jx_value *state, const char *event,
                      size_t slot, const char *actor, const char *role,
                      const char *at) {
  size_t idx = def_index(def, state, slot);
  jx_value *a = jx_map_get(state, "approval");
  const char *for_event = a ? jx_map_str(a, "event") : NULL;
  if (!a || !for_event || strcmp(for_event, event) != 0) {
    a = jx_map_set(state, "approval", jx_map());
    jx_map_set(a, "event", jx_str(event));
    jx_map_set(a, "signatures", jx_array());
  }
  jx_value sig = jx_map();
  jx_map_set(&sig, "slot", jx_int((int64_t)idx));
  jx_map_set(&sig, "actor", jx_str(actor));
  jx_map_set(&sig, "role", jx_str(role));
  jx_map_set(&sig, "at", jx_str(at));
  jx_array_push(jx_map_get(a, "signatures"), sig);
}

const char *jx_approval_progress(const jx_value *def, const jx_slot *slots,
                                 size_t n, char *buf, size_t size) {
  size_t signed_n = 0;
  for (size_t i = 0; i < n; i++)
    signed_n += slots[i].signed_by != NULL;
  snprintf(buf, size, "%zu of %zu signed (%s)", signed_n, n, mode_of(def));
  return buf;
}
