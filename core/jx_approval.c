#include "jx_approval.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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
    if (strcmp(k, "mode") && strcmp(k, "quorum") && strcmp(k, "signer") &&
        strcmp(k, "deadline_days") && strcmp(k, "escalate_to") &&
        strcmp(k, "copy"))
      return *key = k, jx_err_set(JX_EINVAL,
                                  "approval: unknown key \"%s\" (mode, "
                                  "quorum, signer, deadline_days, "
                                  "escalate_to, copy)",
                                  k);
  }
  const jx_value *copy = jx_map_get(def, "copy");
  for (size_t i = 0; copy && i < (copy->type == JX_ARRAY ? copy->u.a.len : 1);
       i++)
    if (copy->type != JX_ARRAY || copy->u.a.items[i].type != JX_STR)
      return *key = "copy", jx_err_set(JX_EINVAL, "approval copy is a list "
                                                  "of actors (抄送)");
  const jx_value *days = jx_map_get(def, "deadline_days");
  const jx_value *to = jx_map_get(def, "escalate_to");
  if (days && (days->type != JX_INT || days->u.i < 1 || days->u.i > 365))
    return *key = "deadline_days",
           jx_err_set(JX_EINVAL, "approval deadline_days is a number of "
                                 "working days, 1 to 365");
  if (!days != !to || (to && to->type != JX_STR))
    return *key = days ? "deadline_days" : "escalate_to",
           jx_err_set(JX_EINVAL, "approval deadline_days and escalate_to (an "
                                 "actor) go together");
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

/* The approval record for `event` in state, or NULL. */
static const jx_value *record(const jx_value *state, const char *event) {
  const jx_value *a = jx_map_get(state, "approval");
  const char *for_event = a ? jx_map_str(a, "event") : NULL;
  return for_event && strcmp(for_event, event) == 0 ? a : NULL;
}

static const jx_value *list(const jx_value *rec, const char *key) {
  const jx_value *l = rec ? jx_map_get(rec, key) : NULL;
  return l && l->type == JX_ARRAY ? l : NULL;
}

static int64_t int_of(const jx_value *m, const char *key) {
  int64_t v = -1;
  jx_map_int(m, key, &v);
  return v;
}

static jx_slot *by_id(jx_slot *slots, size_t n, int64_t id) {
  for (size_t i = 0; i < n; i++)
    if (slots[i].id == id)
      return &slots[i];
  return NULL;
}

/* Appends the additions anchored at `anchor` with `position`. */
static size_t add_anchored(const jx_value *changes, size_t ndefined,
                           int64_t anchor, const char *position,
                           jx_slot *slots, size_t n) {
  size_t k = 0;
  for (size_t i = 0; changes && i < changes->u.a.len; i++) {
    const jx_value *c = &changes->u.a.items[i];
    if (strcmp(jx_map_str(c, "op"), "add_signer") != 0)
      continue;
    int64_t id = (int64_t)(ndefined + k++);
    if (int_of(c, "slot") != anchor ||
        strcmp(jx_map_str(c, "position"), position) != 0 ||
        n == JX_APPROVAL_MAX_SLOTS)
      continue;
    slots[n++] = (jx_slot){.id = (int)id,
                           .actor = jx_map_str(c, "actor"),
                           .added = true,
                           .anchor = (int)anchor,
                           .before = strcmp(position, "before") == 0};
  }
  return n;
}

size_t jx_approval_slots(const jx_value *def, const char *event,
                         const jx_value *state, jx_slot *slots) {
  const jx_value *signers = signers_of(def);
  const jx_value *rec = record(state, event);
  const jx_value *changes = list(rec, "changes");
  const jx_value *sigs = list(rec, "signatures");
  size_t n = 0, ndefined = signers->u.a.len;
  for (size_t i = 0; i < ndefined && n < JX_APPROVAL_MAX_SLOTS; i++) {
    const jx_value *s = &signers->u.a.items[i];
    if (!holds(jx_map_get(s, "when"), state))
      continue;
    n = add_anchored(changes, ndefined, (int64_t)i, "before", slots, n);
    if (n == JX_APPROVAL_MAX_SLOTS)
      break;
    slots[n++] = (jx_slot){.id = (int)i,
                           .role = jx_map_str(s, "role"),
                           .actor = jx_map_str(s, "actor")};
    n = add_anchored(changes, ndefined, (int64_t)i, "after", slots, n);
  }
  /* The run-time changes, in the order made. */
  for (size_t i = 0; changes && i < changes->u.a.len; i++) {
    const jx_value *c = &changes->u.a.items[i];
    const char *op = jx_map_str(c, "op");
    jx_slot *slot = by_id(slots, n, int_of(c, "slot"));
    if (!slot)
      continue;
    if (strcmp(op, "transfer") == 0 || strcmp(op, "escalate") == 0) {
      slot->actor = jx_map_str(c, "actor");
      slot->role = NULL;
      slot->delegate = slot->delegator = slot->resolved_by = NULL;
    } else if (strcmp(op, "delegate") == 0) {
      slot->delegate = jx_map_str(c, "actor");
      slot->delegator = jx_map_str(c, "by");
      slot->resolved_by = NULL;
    } else if (strcmp(op, "resolve") == 0) {
      slot->resolved_by = jx_map_str(c, "by");
    } else if (strcmp(op, "remove_signer") == 0) {
      size_t k = (size_t)(slot - slots);
      memmove(slot, slot + 1, (n - k - 1) * sizeof *slots);
      n--;
    }
  }
  for (size_t i = 0; sigs && i < sigs->u.a.len; i++) {
    jx_slot *slot = by_id(slots, n, int_of(&sigs->u.a.items[i], "slot"));
    if (slot)
      slot->signed_by = jx_map_str(&sigs->u.a.items[i], "actor");
  }
  return n;
}

static const char *slot_name(const jx_slot *s, char *buf, size_t size) {
  if (s->delegate && !s->resolved_by)
    snprintf(buf, size, "actor %s (delegated by %s)", s->delegate,
             s->delegator);
  else if (s->delegator)
    snprintf(buf, size, "actor %s", s->delegator);
  else
    snprintf(buf, size, "%s %s", s->role ? "role" : "actor",
             s->role ? s->role : s->actor);
  return buf;
}

/* Whether actor may sign s itself: a delegated slot is its delegator's,
 * a role slot any actor's of the role, a named slot that actor's. */
static bool owns(const jx_slot *s, const char *actor, const char *role) {
  if (s->delegator)
    return strcmp(s->delegator, actor) == 0;
  return s->role ? strcmp(s->role, role) == 0 : strcmp(s->actor, actor) == 0;
}

/* Who is still needed, into remedy. */
static void needed(const jx_slot *slots, size_t n, char *remedy,
                   size_t msize) {
  char who[128];
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
}

int jx_approval_slot_for(const jx_value *def, const jx_slot *slots, size_t n,
                         const char *actor, const char *role,
                         jx_slot_act *act, char *reason, size_t rsize,
                         char *remedy, size_t msize) {
  bool chain = strcmp(mode_of(def), "chain") == 0;
  bool signed_one = false;
  char who[128];
  for (size_t i = 0; i < n; i++)
    signed_one |= slots[i].signed_by && strcmp(slots[i].signed_by, actor) == 0;
  /* A decision delegated to the actor comes first: it is asked by name. */
  for (size_t i = 0; i < n; i++)
    if (!slots[i].signed_by && slots[i].delegate && !slots[i].resolved_by &&
        strcmp(slots[i].delegate, actor) == 0) {
      *act = JX_SLOT_RESOLVE;
      return (int)i;
    }
  for (size_t i = 0; i < n; i++) {
    const jx_slot *s = &slots[i];
    if (s->signed_by)
      continue;
    bool delegated = s->delegate && !s->resolved_by;
    /* One role slot per actor; a slot handed to it by name is its too. */
    bool mine = !delegated && owns(s, actor, role) &&
                !(signed_one && s->role && !s->delegator);
    if (delegated && owns(s, actor, role)) {
      snprintf(reason, rsize, "the signature is delegated (委派) to %s, whose "
                              "decision comes first",
               s->delegate);
      snprintf(remedy, msize, "wait for %s to decide", s->delegate);
      return -1;
    }
    if (mine) {
      /* 加签: who was added before a signer signs first; who was added
       * after signs once that signer has. */
      const jx_slot *w = NULL;
      for (size_t k = 0; k < n && !w; k++) {
        const jx_slot *o = &slots[k];
        if (!o->signed_by &&
            ((s->added && !s->before && !o->added && o->id == s->anchor) ||
             (!s->added && o->added && o->before && o->anchor == s->id)))
          w = o;
      }
      if (w) {
        snprintf(reason, rsize, "%s signs after %s (加签), who has not "
                                "signed yet",
                 actor, slot_name(w, who, sizeof who));
        snprintf(remedy, msize, "wait until %s has signed", who);
        return -1;
      }
      *act = JX_SLOT_SIGN;
      return (int)i;
    }
    if (chain) {
      snprintf(reason, rsize,
               "the signers sign in order (依次) and %s has not signed yet",
               slot_name(s, who, sizeof who));
      snprintf(remedy, msize, "wait until %s has signed", who);
      return -1;
    }
  }
  if (signed_one) {
    snprintf(reason, rsize, "actor %s has signed this approval already",
             actor);
    snprintf(remedy, msize, "wait for the other signers");
    return -1;
  }
  snprintf(reason, rsize,
           "actor %s (%s) is not among the signers still needed", actor,
           role);
  needed(slots, n, remedy, msize);
  return -1;
}

int jx_approval_find(const jx_value *def, const char *event,
                     const jx_value *state, const char *actor,
                     const char *role, jx_slot *slots, size_t *n,
                     jx_slot_act *act, char *reason, size_t rsize,
                     char *remedy, size_t msize) {
  const char *by = jx_map_str(state, "submitted_by");
  *n = jx_approval_slots(def, event, state, slots);
  if (by && strcmp(by, actor) == 0) {
    snprintf(reason, rsize,
             "actor %s submitted this project and cannot approve its own "
             "request",
             actor);
    snprintf(remedy, msize, "another signer sends %s", event);
    return -1;
  }
  return jx_approval_slot_for(def, slots, *n, actor, role, act, reason, rsize,
                              remedy, msize);
}

bool jx_approval_done(const jx_value *def, const jx_slot *slots, size_t n) {
  size_t defined = 0, signed_n = 0;
  for (size_t i = 0; i < n; i++) {
    if (slots[i].added) {
      if (!slots[i].signed_by)
        return false;
      continue;
    }
    defined++;
    signed_n += slots[i].signed_by != NULL;
  }
  const char *mode = mode_of(def);
  if (strcmp(mode, "any") == 0)
    return signed_n >= 1 || defined == 0;
  if (strcmp(mode, "quorum") == 0) {
    int64_t q = 1;
    jx_map_int(def, "quorum", &q);
    /* Fewer signers apply to this project than the quorum: all of them. */
    return signed_n >= ((uint64_t)q < defined ? (size_t)q : defined);
  }
  return signed_n == defined;
}

/* state.approval for event, started afresh when it was for another. */
static jx_value *record_for(jx_value *state, const char *event) {
  jx_value *a = jx_map_get(state, "approval");
  const char *for_event = a ? jx_map_str(a, "event") : NULL;
  if (!a || !for_event || strcmp(for_event, event) != 0) {
    a = jx_map_set(state, "approval", jx_map());
    jx_map_set(a, "event", jx_str(event));
    jx_map_set(a, "signatures", jx_array());
    jx_map_set(a, "changes", jx_array());
  }
  if (!jx_map_get(a, "changes"))
    jx_map_set(a, "changes", jx_array());
  return a;
}

/* Whether the added signer of slot `id` was added by `by`. */
static bool added_by(const jx_value *def, const jx_value *state,
                     const char *event, int id, const char *by) {
  const jx_value *changes = list(record(state, event), "changes");
  size_t k = signers_of(def)->u.a.len;
  for (size_t i = 0; changes && i < changes->u.a.len; i++) {
    const jx_value *c = &changes->u.a.items[i];
    if (strcmp(jx_map_str(c, "op"), "add_signer") == 0 && (int)k++ == id)
      return strcmp(jx_map_str(c, "by"), by) == 0;
  }
  return false;
}

static void push_change(jx_value *state, const char *event, const char *op,
                        int slot, const char *actor, const char *by,
                        const char *position, const char *at) {
  jx_value c = jx_map();
  jx_map_set(&c, "op", jx_str(op));
  jx_map_set(&c, "slot", jx_int(slot));
  if (actor)
    jx_map_set(&c, "actor", jx_str(actor));
  jx_map_set(&c, "by", jx_str(by));
  if (position)
    jx_map_set(&c, "position", jx_str(position));
  jx_map_set(&c, "at", jx_str(at));
  jx_array_push(jx_map_get(record_for(state, event), "changes"), c);
}

void jx_approval_sign(jx_value *state, const char *event, const jx_slot *slot,
                      jx_slot_act act, const char *actor, const char *role,
                      const char *at) {
  if (act == JX_SLOT_RESOLVE) {
    push_change(state, event, "resolve", slot->id, NULL, actor, NULL, at);
    return;
  }
  jx_value sig = jx_map();
  jx_map_set(&sig, "slot", jx_int(slot->id));
  jx_map_set(&sig, "actor", jx_str(actor));
  jx_map_set(&sig, "role", jx_str(role));
  if (slot->resolved_by)
    jx_map_set(&sig, "delegate", jx_str(slot->resolved_by));
  jx_map_set(&sig, "at", jx_str(at));
  jx_array_push(jx_map_get(record_for(state, event), "signatures"), sig);
}

int jx_approval_change(const jx_value *def, jx_value *state, const char *event,
                       const char *op, const char *by, const char *by_role,
                       const char *assignee, const char *assignee_role,
                       const char *position, const char *at, char *reason,
                       size_t rsize, char *remedy, size_t msize) {
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  size_t n = jx_approval_slots(def, event, state, slots);
  if (strcmp(op, "escalate") == 0) {
    /* The escalation's actor decides for every signer still pending: one
     * slot becomes its, the others are removed. */
    const char *to = jx_map_str(def, "escalate_to");
    size_t moved = 0;
    for (size_t i = 0; to && i < n; i++)
      if (!slots[i].signed_by)
        push_change(state, event, moved++ ? "remove_signer" : op,
                    slots[i].id, to, by, NULL, at);
    if (moved)
      return 0;
    snprintf(reason, rsize, "nothing to escalate: %s",
             to ? "every signer has signed" : "the step has no escalate_to");
    snprintf(remedy, msize, "none needed");
    return -1;
  }
  bool remove = strcmp(op, "remove_signer") == 0;
  bool add = strcmp(op, "add_signer") == 0;
  bool copy = strcmp(op, "copy") == 0;
  /* The one who asks holds a pending slot (its own: not while delegated). */
  jx_slot *mine = NULL;
  for (size_t i = 0; i < n && !mine; i++)
    if (!slots[i].signed_by && !slots[i].delegate &&
        owns(&slots[i], by, by_role))
      mine = &slots[i];
  if (!mine) {
    bool delegated = false;
    for (size_t i = 0; i < n; i++)
      delegated |= !slots[i].signed_by && slots[i].delegator &&
                   strcmp(slots[i].delegator, by) == 0;
    snprintf(reason, rsize, "%s is for a signer still to sign this "
                            "approval; actor %s %s",
             op, by,
             delegated ? "has delegated its signature (委派), whose decision "
                         "comes first"
                       : "is not one");
    needed(slots, n, remedy, msize);
    return -1;
  }
  if (!assignee || !*assignee || strcmp(assignee, by) == 0) {
    snprintf(reason, rsize, "%s needs another actor", op);
    snprintf(remedy, msize, "send %s --set assignee=ACTOR", op);
    return -1;
  }
  if (copy) {
    if (jx_approval_copied(def, event, state, assignee)) {
      snprintf(reason, rsize, "actor %s has a copy (抄送) already", assignee);
      snprintf(remedy, msize, "nothing to do");
      return -1;
    }
    push_change(state, event, op, mine->id, assignee, by, NULL, at);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    bool theirs = slots[i].actor && !slots[i].role &&
                  strcmp(slots[i].actor, assignee) == 0;
    if (remove && theirs && slots[i].added && !slots[i].signed_by) {
      if (!added_by(def, state, event, slots[i].id, by)) {
        snprintf(reason, rsize, "actor %s was added by another signer; only "
                                "who added a signer removes it (减签)",
                 assignee);
        snprintf(remedy, msize, "ask who added %s", assignee);
        return -1;
      }
      push_change(state, event, op, slots[i].id, assignee, by, NULL, at);
      return 0;
    }
    /* A role slot still open would be the assignee's to sign as well;
     * the asker's own is handed over by a delegation or a transfer. */
    bool could = !(&slots[i] == mine && !add) && !slots[i].signed_by &&
                 slots[i].role && assignee_role &&
                 strcmp(slots[i].role, assignee_role) == 0;
    if (!remove && (theirs || could ||
                    (slots[i].signed_by &&
                     strcmp(slots[i].signed_by, assignee) == 0))) {
      snprintf(reason, rsize, "actor %s is a signer of this approval already%s",
               assignee, could ? " (its role fills a slot still open)" : "");
      snprintf(remedy, msize, "name another actor");
      return -1;
    }
  }
  if (remove) {
    snprintf(reason, rsize, "actor %s is not a signer added to this approval "
                            "who has still to sign (减签 removes those only)",
             assignee);
    needed(slots, n, remedy, msize);
    return -1;
  }
  if (add && (!position || (strcmp(position, "before") &&
                            strcmp(position, "after")))) {
    snprintf(reason, rsize, "a signer is added before or after (加签)");
    snprintf(remedy, msize, "send add_signer --set position=before|after");
    return -1;
  }
  if (add && n == JX_APPROVAL_MAX_SLOTS) {
    snprintf(reason, rsize, "an approval has at most %d signers",
             JX_APPROVAL_MAX_SLOTS);
    snprintf(remedy, msize, "remove a signer first");
    return -1;
  }
  /* An added signer's slot is anchored at a defined signer's: the
   * asker's, or the one the asker was itself added to. */
  int anchor = add && mine->added ? mine->anchor : mine->id;
  push_change(state, event, op, anchor, assignee, by, add ? position : NULL,
              at);
  return 0;
}

bool jx_approval_copied(const jx_value *def, const char *event,
                        const jx_value *state, const char *actor) {
  const jx_value *copy = jx_map_get(def, "copy");
  for (size_t i = 0; copy && i < copy->u.a.len; i++)
    if (strcmp(copy->u.a.items[i].u.s.ptr, actor) == 0)
      return true;
  const jx_value *changes = list(record(state, event), "changes");
  for (size_t i = 0; changes && i < changes->u.a.len; i++) {
    const jx_value *c = &changes->u.a.items[i];
    if (strcmp(jx_map_str(c, "op"), "copy") == 0 &&
        strcmp(jx_map_str(c, "actor"), actor) == 0)
      return true;
  }
  return false;
}

bool jx_approval_deadline(const jx_value *def, const char *since,
                          char out[11]) {
  int64_t days;
  struct tm tm = {0};
  if (!jx_map_int(def, "deadline_days", &days) || !since ||
      sscanf(since, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  /* Working days: Monday to Friday. */
  while (days > 0) {
    t += 86400;
    gmtime_r(&t, &tm);
    if (tm.tm_wday != 0 && tm.tm_wday != 6)
      days--;
  }
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
  return true;
}

bool jx_approval_escalated(const jx_value *state, const char *event) {
  const jx_value *changes = list(record(state, event), "changes");
  for (size_t i = 0; changes && i < changes->u.a.len; i++)
    if (strcmp(jx_map_str(&changes->u.a.items[i], "op"), "escalate") == 0)
      return true;
  return false;
}

const char *jx_approval_progress(const jx_value *def, const jx_slot *slots,
                                 size_t n, char *buf, size_t size) {
  size_t signed_n = 0;
  for (size_t i = 0; i < n; i++)
    signed_n += slots[i].signed_by != NULL;
  snprintf(buf, size, "%zu of %zu signed (%s)", signed_n, n, mode_of(def));
  return buf;
}
