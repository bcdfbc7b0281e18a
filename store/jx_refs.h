/*
 * jx_refs: the ref layout of a jixiao store and the writer of project refs,
 * in one place.
 *
 *   refs/jx/seal            the seal chain: one commit per durable batch,
 *                           whose "heads" blob lists every project head the
 *                           batch advanced; the single commit point
 *   refs/jx/projects/<id>   one commit chain per budget project
 *   refs/jx/registry        the registry of actors (JX_REGISTRY_ID), a
 *                           commit chain like a project's
 *
 * Project ids are globally unique (a bureau's project code already carries
 * its year), so a project is found without knowing its year; the fiscal year
 * is a field of the state.
 *
 * Project refs are kept in packed-refs, which the writer rewrites once per
 * batch (write packed-refs.lock, rename), instead of one loose file per
 * project: measured, 1,000 loose ref files per batch took three quarters of
 * the engine's time.  The seal, not packed-refs, is the commit point: it
 * rolls project refs forward after a crash.  Any git tool reads packed-refs.
 *
 * Memory: a jx_refs holds a copy of packed-refs, owned; free with
 * jx_refs_free.  Threads: only the store's writer uses a jx_refs, while it
 * holds the store's lock.
 */
#ifndef JX_REFS_H
#define JX_REFS_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>

#define JX_REFS_SEAL "refs/jx/seal"
#define JX_REFS_REGISTRY "refs/jx/registry"
/* The registry of actors is kept like a project, under this id, which no
 * project id can be (':' is not allowed in one): written in batches,
 * sealed, rolled forward, on refs/jx/registry. */
#define JX_REGISTRY_ID ":registry"
#define JX_REFS_PROJECTS "refs/jx/projects/"
#define JX_REFS_PROJECTS_GLOB "refs/jx/projects/*"
#define JX_REFS_NAME_MAX 128

/* Writes the ref name of project `id` into out (size >= JX_REFS_NAME_MAX).
 * `id` must already have passed jx_refs_check_id. */
void jx_refs_project(char *out, size_t size, const char *id);

/* jx_id_check for a record's id: a project id, or JX_REGISTRY_ID. */
int jx_refs_check_id(const char *id);

/* The project id inside a project ref name, or NULL if `ref` is not one. */
const char *jx_refs_project_id(const char *ref);

typedef struct jx_refs jx_refs;

/* Folds every loose ref of repo into packed-refs (a loose ref wins, as in
 * git), so that packed-refs alone is the truth for project refs, and loads
 * it.  JX_ESTORE on failure. */
int jx_refs_open(jx_refs **out, git_repository *repo);
void jx_refs_free(jx_refs *r);

/* Whether any project ref exists. */
bool jx_refs_has_projects(const jx_refs *r);

typedef struct jx_ref_update {
  const char *id; /* project id, validated */
  git_oid head;
} jx_ref_update;

/* Points the refs of the n projects at their heads (ids distinct) and
 * rewrites packed-refs atomically.  JX_ESTORE on failure (refs unchanged on
 * disk). */
int jx_refs_set_projects(jx_refs *r, const jx_ref_update *u, size_t n);

#endif
