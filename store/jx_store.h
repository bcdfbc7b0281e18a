/*
 * jx_store: the git-backed audit store.  A bare repository (libgit2) where
 * every state change of a budget project is one commit:
 *
 *   refs/jx/projects/<id> -> commit  "submit: P-1 draft -> dept_review"
 *                              tree   event.msgpack   the event, msgpack
 *                                     state.msgpack   the resulting state
 *                                     rules/          the rule set in force
 *
 * (layout of refs: jx_refs.h).  The rules/ subtree is written once per rule
 * set and shared by every commit made under it.
 *
 * Writes come in batches (group commit).  jx_store_write turns a batch into
 * objects in an in-memory odb (mempack), adds one seal commit on
 * refs/jx/seal listing every head the batch advanced, writes all of it as
 * ONE pack (fsynced), then fsyncs the seal ref: that is the commit point.
 * Project refs are moved afterwards without their own fsync; opening a store
 * for writing rolls them forward from the seal, so a crash between the two
 * loses nothing that was acknowledged.
 *
 * Threads: a jx_store holds two repository handles.  The reading functions
 * (jx_store_head, _read_commit, _log, _foreach) use one and may be called from
 * the loop thread only.  jx_store_write uses the other and may run on a
 * worker thread, one batch at a time; jx_store_put_rules uses it too and
 * must not overlap a batch.  Errors set the calling thread's jx_err.
 *
 * Ownership: what a request holds is the request's (jx_commit_req_clear
 * frees it); values returned through pointers are the caller's
 * (jx_value_free).  States and events are written as the msgpack bytes the
 * caller encoded (jx_codec_encode), so the caller can refuse a state that
 * would not read back before deciding anything.
 */
#ifndef JX_STORE_H
#define JX_STORE_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>

#include "jx_buf.h"
#include "jx_id.h"
#include "jx_value.h"

typedef struct jx_store jx_store;

typedef enum jx_store_mode {
  JX_STORE_READ,  /* no lock; after a crash, project refs may lag the seal
                     until a writer opens the store */
  JX_STORE_WRITE, /* exclusive flock; repairs and rolls forward on open */
} jx_store_mode;

/* Creates a jixiao store (bare repository) at path.  Returns JX_EINVAL if
 * path exists and is not a jixiao store; 0 if it already is one (*created
 * false). */
int jx_store_init(const char *path, bool *created);

/* Opens the store at path.  max_frame caps a decoded state or event.
 * JX_ESTORE if path is not a jixiao store, or (WRITE) if another process
 * holds the store's lock for longer than lock_wait_ms. */
int jx_store_open(jx_store **out, const char *path, jx_store_mode mode,
                  size_t max_frame, unsigned lock_wait_ms);
void jx_store_free(jx_store *s);

/* Signs every seal from now on with the SSH private key at path (see
 * jx_sign.h); NULL stops.  The path is copied. */
void jx_store_set_signing_key(jx_store *s, const char *path);
const char *jx_store_path(const jx_store *s);

/* Merges the packs of the store at `path` if batches have left too many
 * (jx_compact.h), through a repository of its own: it may run on another
 * thread while batches are written, so that merging does not hold them
 * up.  *merged: packs merged.  JX_ESTORE on failure (every object is still
 * in some pack). */
int jx_store_compact(const char *path, size_t *merged);

/* After jx_store_compact merged packs: libgit2 keeps every pack a
 * repository has seen (open, and its disk space held) and compares each new
 * one with all of them, so the store's repositories reopen.  The reader's
 * on the thread that reads, between reads (no object of it may be held);
 * the writer's on the writer thread, between batches.  On failure the old
 * repository stays in use. */
int jx_store_reopen_reader(jx_store *s);
int jx_store_reopen_writer(jx_store *s);

/* One file of a rule set: path inside rules/ ("workflow.toml",
 * "plugins/r2_ex_ante.lua"), at most one directory level, and its bytes.
 * Borrowed. */
typedef struct jx_rule_file {
  const char *path;
  const char *data;
  size_t len;
} jx_rule_file;

/* Writes the rules/ tree for files (any order) and returns its id. */
int jx_store_put_rules(jx_store *s, const jx_rule_file *files, size_t n,
                       git_oid *tree);

/* One transition to commit. */
typedef struct jx_commit_req {
  char id[JX_ID_MAX + 1];    /* project id, validated */
  char actor[JX_ID_MAX + 1]; /* who sent the event, validated */
  int64_t time;              /* event time, seconds since the epoch (UTC) */
  char *message;             /* commit message with trailers; owned */
  jx_buf event;              /* the event, msgpack; owned */
  jx_buf state;              /* the state after the event, msgpack; owned */
  git_oid rules;             /* rules/ tree in force */
  git_oid parent;            /* head before this commit, if has_parent */
  bool has_parent;
  /* Index of an earlier request of the same batch for the same project,
   * whose commit is this one's parent; -1 if none (then `parent` is used). */
  long parent_in_batch;
  git_oid commit; /* out: the commit made */
} jx_commit_req;

void jx_commit_req_clear(jx_commit_req *r);

/* Commits a batch durably (see the top of this file).  On success every
 * reqs[i].commit is set and the batch survives a crash.  On failure nothing
 * of the batch is visible: refs are unchanged (stray objects may remain and
 * are harmless).  Success means the seal is durable; if moving the project
 * refs fails after that, they are moved before the next seal (whose batch
 * fails if they still cannot be), or by roll-forward on the next open. */
int jx_store_write(jx_store *s, jx_commit_req *reqs, size_t n);

/* The head of project id: commit id and decoded state (caller frees).
 * JX_ENOTFOUND if no such project; JX_ESTORE if its objects are damaged. */
int jx_store_head(jx_store *s, const char *id, git_oid *commit,
                  jx_value *state);

/* The bytes of rules/<path> in the rule set of project id's head commit
 * (the rule set its last event was decided under) into out (the
 * caller's).  JX_ENOTFOUND if no such project or file. */
int jx_store_rule_file(jx_store *s, const char *id, const char *path,
                       jx_buf *out);

/* As jx_store_rule_file, for the rule set of any commit. */
int jx_store_rule_file_at(jx_store *s, const git_oid *commit, const char *path,
                          jx_buf *out);

/* For the verifier (jx_verify): the reading repository, and a commit's
 * state and event decoded as jx_store_log does (JX_ESTORE naming the
 * commit if they are missing or damaged). */
git_repository *jx_store_repo(jx_store *s);
int jx_store_read_commit(jx_store *s, const git_commit *c, jx_value *state,
                         jx_value *event);

/* One commit of a project's history, as jx_store_log hands it out.
 * Everything is borrowed for the duration of the callback. */
typedef struct jx_store_entry {
  const git_oid *commit;
  const git_oid *rules;
  int64_t time; /* author time: the event's time */
  const char *message;
  const jx_value *event;
  const jx_value *state;
} jx_store_entry;

typedef int (*jx_store_log_cb)(const jx_store_entry *e, void *payload);

/* Walks project id's history, newest first; stops early when cb returns
 * non-zero (and returns that value).  JX_ENOTFOUND if no such project. */
int jx_store_log(jx_store *s, const char *id, jx_store_log_cb cb,
                 void *payload);

typedef int (*jx_store_each_cb)(const char *id, const git_oid *head,
                                void *payload);

/* Calls cb for every project, in ref-name order; stops when cb returns
 * non-zero (and returns that value). */
int jx_store_foreach(jx_store *s, jx_store_each_cb cb, void *payload);

#endif
