#include "jx_inbox.h"

#include <stdlib.h>
#include <string.h>

#include "jx_approval.h"

static bool may(const jx_transition *t, const jx_actor_conf *actor,
                const jx_value *state) {
  return jx_strlist_has(&t->roles, actor->role) &&
         !jx_actor_scope_mismatch(actor, state);
}

/* Whether actor may act on t in state now; *progress for an approval.  A
 * signer named in the approval (a delegate, a transferee, an added
 * signer) acts whatever its role, as the engine lets it. */
static bool waits(const jx_transition *t, const jx_actor_conf *actor,
                  const jx_value *state, char *progress, size_t psize) {
  *progress = '\0';
  if (t->approval.type == JX_NIL)
    return may(t, actor, state);
  jx_slot slots[JX_APPROVAL_MAX_SLOTS];
  char reason[256], remedy[256];
  jx_slot_act act;
  size_t n;
  if (jx_approval_slots(&t->approval, t->event, state, slots) == 0)
    return may(t, actor, state); /* no signer applies: a plain task */
  int k = jx_approval_find(&t->approval, t->event, state, actor->name,
                           actor->role, slots, &n, &act, reason,
                           sizeof reason, remedy, sizeof remedy);
  if (k < 0 || (slots[k].role && act == JX_SLOT_SIGN && !may(t, actor, state)))
    return false;
  jx_approval_progress(&t->approval, slots, n, progress, psize);
  return true;
}

static const char *str_or(const jx_value *m, const char *key,
                          const char *dflt) {
  const char *s = jx_map_str(m, key);
  return s ? s : dflt;
}

static int oldest_first(const void *a, const void *b) {
  const jx_value *x = a, *y = b;
  int c = strcmp(str_or(x, "since", ""), str_or(y, "since", ""));
  return c ? c : strcmp(str_or(x, "project", ""), str_or(y, "project", ""));
}

int jx_inbox_collect(jx_versions *v, jx_store *s, const jx_config *cfg,
                     const jx_actor_conf *actor, const jx_value *projects,
                     jx_value *out) {
  size_t first = out->u.a.len;
  int rc = 0;
  for (size_t i = 0; i < projects->u.a.len && rc == 0; i++) {
    const jx_value *p = &projects->u.a.items[i];
    const char *status = jx_map_str(p, "status");
    const jx_workflow *wf;
    if ((rc = jx_versions_get(v, s, cfg, str_or(p, "id", ""), p, &wf)) < 0)
      break;
    for (size_t k = 0; status && k < wf->ntransitions; k++) {
      const jx_transition *t = &wf->transitions[k];
      char progress[64];
      bool copy = false;
      if (!t->task || !jx_strlist_has(&t->from, status))
        continue;
      if (!waits(t, actor, p, progress, sizeof progress)) {
        if (t->approval.type == JX_NIL ||
            !jx_approval_copied(&t->approval, t->event, p, actor->name))
          continue;
        jx_slot slots[JX_APPROVAL_MAX_SLOTS];
        size_t n = jx_approval_slots(&t->approval, t->event, p, slots);
        jx_approval_progress(&t->approval, slots, n, progress,
                             sizeof progress);
        copy = true;
      }
      jx_value row = jx_map();
      if (copy)
        jx_map_set(&row, "copy", jx_bool(true));
      jx_map_set(&row, "project", jx_str(str_or(p, "id", "")));
      jx_map_set(&row, "title", jx_str(str_or(p, "title", "")));
      jx_map_set(&row, "state", jx_str(status));
      jx_map_set(&row, "event", jx_str(t->event));
      jx_map_set(&row, "since",
                 jx_str(str_or(p, "since", str_or(p, "updated_at", ""))));
      char deadline[11];
      if (*progress)
        jx_map_set(&row, "approval", jx_str(progress));
      if (t->approval.type != JX_NIL &&
          jx_approval_deadline(&t->approval, jx_map_str(p, "since"),
                               deadline))
        jx_map_set(&row, "deadline", jx_str(deadline));
      jx_array_push(out, row);
    }
  }
  if (out->u.a.len > first)
    qsort(out->u.a.items + first, out->u.a.len - first,
          sizeof *out->u.a.items, oldest_first);
  return rc;
}
