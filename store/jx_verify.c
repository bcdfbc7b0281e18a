#include "jx_verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jx_err.h"
#include "jx_id.h"
#include "jx_refs.h"
#include "jx_sign.h"

/* A record's head as a seal lists it; `order` counts lines from the
 * newest seal back, so the lowest is the newest. */
typedef struct sealed {
  char id[JX_ID_MAX + 1];
  git_oid head;
  size_t order;
  bool seen; /* the record's ref exists */
} sealed;

typedef struct verifier {
  jx_store *s;
  const char *pub; /* seals must be signed by this key, or NULL */
  git_oid *rule_sets; /* rules/ trees read whole already */
  size_t nrule_sets;
  git_repository *repo;
  jx_verify_cb cb;
  void *payload;
  jx_verify_report *out;
  /* The heads the seals name, sorted by record: the newest seal's. */
  sealed *heads;
  size_t n, cap;
} verifier;

static void problem(verifier *v, const char *record, const git_oid *commit,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(verifier *v, const char *record, const git_oid *commit,
                    const char *fmt, ...) {
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  v->out->problems++;
  v->cb(record, commit ? git_oid_tostr_s(commit) : "", what, v->payload);
}

static const char *git_msg(void) {
  const git_error *e = git_error_last();
  return e && e->message ? e->message : "unknown error";
}

/* --- the seals -------------------------------------------------------- */

static int by_id_then_order(const void *a, const void *b) {
  const sealed *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Sorts the seal lines by record, the newest first within each. */
static void sort_sealed(verifier *v) {
  if (v->n)
    qsort(v->heads, v->n, sizeof *v->heads, by_id_then_order);
}

/* The seal lines of record id: *first and how many (0 if none). */
static size_t find_sealed(verifier *v, const char *id, sealed **first) {
  size_t lo = 0, hi = v->n;
  while (lo < hi) { /* the first line whose id is not below */
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(v->heads[mid].id, id) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t n = 0;
  while (lo + n < v->n && strcmp(v->heads[lo + n].id, id) == 0)
    n++;
  *first = &v->heads[lo];
  return n;
}

static void seal_lines(verifier *v, const git_oid *seal, const char *p,
                       const char *end) {
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    git_oid head;
    char id[JX_ID_MAX + 1];
    size_t idlen = len > GIT_OID_HEXSZ + 1 ? len - GIT_OID_HEXSZ - 1 : 0;
    if (idlen == 0 || idlen > JX_ID_MAX || p[GIT_OID_HEXSZ] != ' ' ||
        git_oid_fromstrn(&head, p, GIT_OID_HEXSZ) < 0) {
      problem(v, "", seal, "seal: a malformed heads line");
    } else {
      memcpy(id, p + GIT_OID_HEXSZ + 1, idlen);
      id[idlen] = '\0';
      if (jx_refs_check_id(id) < 0) {
        problem(v, "", seal, "seal: %s", jx_err_last()->msg);
      } else {
        if (v->n == v->cap) {
          v->cap = v->cap ? v->cap * 2 : 64;
          v->heads = jx_xrealloc(v->heads, v->cap * sizeof *v->heads);
        }
        sealed *h = &v->heads[v->n];
        snprintf(h->id, sizeof h->id, "%s", id);
        h->head = head;
        h->order = v->n++;
        h->seen = false;
      }
    }
    p += len + (nl != NULL);
  }
}

static void check_signature(verifier *v, const git_oid *seal) {
  git_buf sig = {0}, data = {0};
  int rc = git_commit_extract_signature(&sig, &data, v->repo,
                                        (git_oid *)seal, NULL);
  if (rc == GIT_ENOTFOUND)
    problem(v, "", seal, "the seal is not signed");
  else if (rc < 0)
    problem(v, "", seal, "the seal's signature cannot be read: %s",
            git_msg());
  else if (jx_sign_verify(v->pub, data.ptr, data.size, sig.ptr) < 0)
    problem(v, "", seal, "the seal's signature does not verify with %s: %s",
            v->pub, jx_err_last()->msg);
  git_buf_dispose(&sig);
  git_buf_dispose(&data);
}

static int walk_seals(verifier *v) {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, v->repo, JX_REFS_SEAL);
  if (rc == GIT_ENOTFOUND)
    return 0; /* checked against the records later */
  if (rc < 0)
    return jx_err_set(JX_ESTORE, "%s: %s", JX_REFS_SEAL, git_msg());
  for (;;) {
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_blob *blob = NULL;
    const git_tree_entry *te;
    v->out->seals++;
    if (git_commit_lookup(&c, v->repo, &oid) < 0 ||
        git_commit_tree(&tree, c) < 0) {
      problem(v, "", &oid, "seal commit cannot be read: %s", git_msg());
    } else if (!(te = git_tree_entry_byname(tree, "heads")) ||
               git_blob_lookup(&blob, v->repo, git_tree_entry_id(te)) < 0) {
      problem(v, "", &oid, "seal has no readable heads list");
    } else {
      const char *p = git_blob_rawcontent(blob);
      seal_lines(v, &oid, p, p + git_blob_rawsize(blob));
      /* The tip's signature covers every seal before it: each commit
       * names its parent's hash. */
      if (v->pub && v->out->seals == 1)
        check_signature(v, &oid);
    }
    bool more = c && git_commit_parentcount(c) > 0;
    if (more)
      oid = *git_commit_parent_id(c, 0);
    git_blob_free(blob);
    git_tree_free(tree);
    git_commit_free(c);
    if (!more)
      return 0;
  }
}

/* --- the records -------------------------------------------------------- */

/* The value of trailer `key` in message, into buf (empty if absent). */
static const char *trailer(const git_message_trailer_array *t,
                           const char *key) {
  for (size_t i = 0; i < t->count; i++)
    if (strcmp(t->trailers[i].key, key) == 0)
      return t->trailers[i].value;
  return NULL;
}

static bool same(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

static int read_blobs(const char *root, const git_tree_entry *e,
                      void *payload) {
  verifier *v = payload;
  git_blob *b = NULL;
  (void)root;
  if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
    return 0;
  if (git_blob_lookup(&b, v->repo, git_tree_entry_id(e)) < 0)
    return -1;
  git_blob_free(b);
  return 0;
}

/* Every file of a rule set can be read (each set once: commits share
 * them). */
static bool rule_set_readable(verifier *v, const git_oid *tree_id) {
  for (size_t i = 0; i < v->nrule_sets; i++)
    if (git_oid_equal(&v->rule_sets[i], tree_id))
      return true;
  git_tree *t = NULL;
  bool ok = git_tree_lookup(&t, v->repo, tree_id) == 0 &&
            git_tree_walk(t, GIT_TREEWALK_PRE, read_blobs, v) == 0;
  git_tree_free(t);
  if (ok) {
    v->rule_sets = jx_xrealloc(v->rule_sets,
                               (v->nrule_sets + 1) * sizeof *v->rule_sets);
    v->rule_sets[v->nrule_sets++] = *tree_id;
  }
  return ok;
}

/* One commit of a record: its tree, trailers and author say the same. */
static void check_commit(verifier *v, const char *id, const git_commit *c,
                         const jx_value *state, const jx_value *event) {
  const git_oid *oid = git_commit_id(c);
  git_tree *tree = NULL;
  const git_tree_entry *rules = NULL;
  git_message_trailer_array t = {0};
  const char *ev = jx_map_str(event, "name");
  const char *actor = jx_map_str(event, "actor");
  const char *status = jx_map_str(state, "status");
  if (git_commit_tree(&tree, c) == 0)
    rules = git_tree_entry_byname(tree, "rules");
  if (!rules || git_tree_entry_type(rules) != GIT_OBJECT_TREE)
    problem(v, id, oid, "no rule set (rules/) in the commit's tree");
  else if (!rule_set_readable(v, git_tree_entry_id(rules)))
    problem(v, id, oid, "the rule set (rules/) cannot be read whole: %s",
            git_msg());
  if (git_message_trailers(&t, git_commit_message(c)) < 0) {
    problem(v, id, oid, "the commit message has no readable trailers");
  } else {
    if (!same(trailer(&t, "Event"), ev))
      problem(v, id, oid, "trailer Event (%s) is not the event's name (%s)",
              trailer(&t, "Event") ? trailer(&t, "Event") : "none",
              ev ? ev : "none");
    if (!same(trailer(&t, "Actor"), actor))
      problem(v, id, oid, "trailer Actor (%s) is not the event's actor (%s)",
              trailer(&t, "Actor") ? trailer(&t, "Actor") : "none",
              actor ? actor : "none");
    if (!same(trailer(&t, "To"), status))
      problem(v, id, oid, "trailer To (%s) is not the state's status (%s)",
              trailer(&t, "To") ? trailer(&t, "To") : "none",
              status ? status : "none");
    if (!same(trailer(&t, "From"), jx_map_str(event, "from")))
      problem(v, id, oid, "trailer From is not the event's from-state");
    const char *rs = trailer(&t, "Rule-set");
    if (rules && (!rs || strcmp(rs, git_oid_tostr_s(git_tree_entry_id(
                                        rules))) != 0))
      problem(v, id, oid, "trailer Rule-set is not the commit's rules/ tree");
  }
  const git_signature *author = git_commit_author(c);
  if (!author || !same(author->name, actor))
    problem(v, id, oid, "the author (%s) is not the event's actor",
            author ? author->name : "none");
  if (!actor || jx_id_check("actor", actor) < 0)
    problem(v, id, oid, "the actor is not a valid actor name");
  git_message_trailer_array_free(&t);
  git_tree_free(tree);
}

/* The state follows from its parent's: one more seq, the event leaving
 * the parent's status, time not going back. */
static void check_step(verifier *v, const char *id, const git_oid *oid,
                       const jx_value *state, const jx_value *event,
                       const jx_value *parent) {
  int64_t seq = -1, pseq = -1;
  jx_map_int(state, "seq", &seq);
  jx_map_int(parent, "seq", &pseq);
  if (seq != pseq + 1)
    problem(v, id, oid, "seq %lld does not follow the parent's %lld",
            (long long)seq, (long long)pseq);
  if (!same(jx_map_str(event, "from"), jx_map_str(parent, "status")))
    problem(v, id, oid, "the event leaves state %s; the parent is in %s",
            jx_map_str(event, "from") ? jx_map_str(event, "from") : "none",
            jx_map_str(parent, "status") ? jx_map_str(parent, "status")
                                         : "none");
  const char *t = jx_map_str(state, "updated_at");
  const char *pt = jx_map_str(parent, "updated_at");
  if (t && pt && strcmp(t, pt) < 0)
    problem(v, id, oid, "dated %s, before its parent (%s)", t, pt);
}

/* Walks a record's chain; its commits go into *chain (the caller's). */
static void walk_record(verifier *v, const char *id, const git_oid *head,
                        git_oid **chain, size_t *nchain) {
  git_oid oid = *head;
  size_t cap = 0;
  jx_value child_state = jx_nil(), child_event = jx_nil();
  git_oid child;
  bool has_child = false;
  v->out->records++;
  for (;;) {
    git_commit *c = NULL;
    jx_value state = jx_nil(), event = jx_nil();
    if (git_commit_lookup(&c, v->repo, &oid) < 0) {
      problem(v, id, &oid, "the commit cannot be read: %s", git_msg());
      break;
    }
    v->out->commits++;
    if (*nchain == cap) {
      cap = cap ? cap * 2 : 16;
      *chain = jx_xrealloc(*chain, cap * sizeof **chain);
    }
    (*chain)[(*nchain)++] = oid;
    if (jx_store_read_commit(v->s, c, &state, &event) < 0) {
      problem(v, id, &oid, "%s", jx_err_last()->msg);
      git_commit_free(c);
      break;
    }
    check_commit(v, id, c, &state, &event);
    const char *sid = jx_map_str(&state, "id");
    if (strcmp(id, JX_REGISTRY_ID) != 0 && !same(sid, id))
      problem(v, id, &oid, "the state is of project %s",
              sid ? sid : "(none)");
    if (has_child)
      check_step(v, id, &child, &child_state, &child_event, &state);
    jx_value_free(&child_state);
    jx_value_free(&child_event);
    child_state = state;
    child_event = event;
    child = oid;
    has_child = true;
    bool more = git_commit_parentcount(c) > 0;
    if (more)
      oid = *git_commit_parent_id(c, 0);
    git_commit_free(c);
    if (!more)
      break;
  }
  int64_t seq = -1;
  if (has_child && jx_map_int(&child_state, "seq", &seq) && seq != 1 &&
      strcmp(id, JX_REGISTRY_ID) != 0)
    problem(v, id, &child, "the first commit has seq %lld, not 1",
            (long long)seq);
  jx_value_free(&child_state);
  jx_value_free(&child_event);
}

static int oid_cmp(const void *a, const void *b) {
  return git_oid_cmp(a, b);
}

/* A record's ref against the seals: the newest seal listing it names its
 * head, and every head any seal ever listed for it is in its chain (else
 * its history was rewritten under the older seals). */
static void check_sealed(verifier *v, const char *id, const git_oid *head,
                         git_oid *chain, size_t nchain) {
  sealed *lines;
  size_t n = find_sealed(v, id, &lines);
  if (n == 0) {
    problem(v, id, head, "no seal lists this record: a ref made or moved by "
                         "other means");
    return;
  }
  for (size_t i = 0; i < n; i++)
    lines[i].seen = true;
  if (!git_oid_equal(&lines[0].head, head))
    problem(v, id, head, "the ref points elsewhere than the last seal says "
                         "(%s): moved back, rewritten or forged (or a "
                         "writer stopped before moving it: opening the store "
                         "for writing rolls it forward)",
            git_oid_tostr_s(&lines[0].head));
  if (nchain)
    qsort(chain, nchain, sizeof *chain, oid_cmp);
  for (size_t i = 1; i < n; i++)
    if (!nchain ||
        !bsearch(&lines[i].head, chain, nchain, sizeof *chain, oid_cmp)) {
      problem(v, id, &lines[i].head, "a seal lists this commit as the "
                                     "record's head, and its chain does not "
                                     "hold it: the history was rewritten");
      break;
    }
}

static int each_ref(verifier *v, const char *glob) {
  git_reference_iterator *it = NULL;
  git_reference *ref = NULL;
  int err;
  if (git_reference_iterator_glob_new(&it, v->repo, glob) < 0)
    return jx_err_set(JX_ESTORE, "listing %s: %s", glob, git_msg());
  while ((err = git_reference_next(&ref, it)) == 0) {
    const char *name = git_reference_name(ref);
    const git_oid *head = git_reference_target(ref);
    const char *id = strcmp(name, JX_REFS_REGISTRY) == 0
                         ? JX_REGISTRY_ID
                         : jx_refs_project_id(name);
    if (!head)
      problem(v, id ? id : name, NULL, "a symbolic ref");
    else if (!id || jx_refs_check_id(id) < 0)
      problem(v, name, head, "a ref of no valid project id");
    else {
      git_oid *chain = NULL;
      size_t nchain = 0;
      walk_record(v, id, head, &chain, &nchain);
      check_sealed(v, id, head, chain, nchain);
      free(chain);
    }
    git_reference_free(ref);
  }
  git_reference_iterator_free(it);
  return err == GIT_ITEROVER
             ? 0
             : jx_err_set(JX_ESTORE, "listing %s: %s", glob, git_msg());
}

int jx_verify(jx_store *s, const char *pub_path, jx_verify_cb cb,
              void *payload, jx_verify_report *out) {
  verifier v = {.s = s, .pub = pub_path, .repo = jx_store_repo(s), .cb = cb,
                .payload = payload, .out = out};
  *out = (jx_verify_report){0};
  int rc = walk_seals(&v);
  sort_sealed(&v);
  if (rc == 0)
    rc = each_ref(&v, JX_REFS_PROJECTS_GLOB);
  if (rc == 0)
    rc = each_ref(&v, JX_REFS_REGISTRY);
  for (size_t i = 0; rc == 0 && i < v.n; i++)
    if (!v.heads[i].seen && (i == 0 || strcmp(v.heads[i - 1].id,
                                              v.heads[i].id) != 0))
      problem(&v, v.heads[i].id, &v.heads[i].head,
              "the seal lists this record and its ref is gone: deleted");
  if (rc == 0 && out->records && !out->seals)
    problem(&v, "", NULL, "records and no seal (%s): the store was changed "
                          "by other means",
            JX_REFS_SEAL);
  /* git replace: git's tools would show another history than this one. */
  git_reference_iterator *it = NULL;
  git_reference *ref = NULL;
  if (rc == 0 &&
      git_reference_iterator_glob_new(&it, v.repo, "refs/replace/*") == 0) {
    while (git_reference_next(&ref, it) == 0) {
      problem(&v, "", git_reference_target(ref),
              "%s: a replace ref makes git show another object than the "
              "store holds",
              git_reference_name(ref));
      git_reference_free(ref);
    }
    git_reference_iterator_free(it);
  }
  free(v.heads);
  free(v.rule_sets);
  return rc;
}

int jx_verify_published(jx_store *s, const char *hex) {
  git_repository *repo = jx_store_repo(s);
  git_oid published, seal;
  if (strlen(hex) != GIT_OID_HEXSZ || git_oid_fromstr(&published, hex) < 0)
    return jx_err_set(JX_EINVAL, "seal %s: not a full commit id (40 hex "
                                 "digits)",
                      hex);
  if (git_reference_name_to_id(&seal, repo, JX_REFS_SEAL) < 0)
    return jx_err_set(JX_ESTORE, "%s has no seal", jx_store_path(s));
  if (git_oid_equal(&published, &seal) ||
      git_graph_descendant_of(repo, &seal, &published) == 1)
    return 0;
  return jx_err_set(JX_ESTORE,
                    "the published seal %s is not in the store's seal chain "
                    "(now %s): its history was rewritten since",
                    hex, git_oid_tostr_s(&seal));
}
