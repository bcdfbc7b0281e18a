/*
 * jx_refs: the ref layout of a jixiao store, in one place.
 *
 *   refs/jx/seal            the seal chain: one commit per durable batch,
 *                           whose "heads" blob lists every project head the
 *                           batch advanced; the single commit point
 *   refs/jx/projects/<id>   one commit chain per budget project
 *
 * Project ids are globally unique (a bureau's project code already carries
 * its year), so a project is found without knowing its year; the fiscal year
 * is a field of the state.  How this layout behaves at 1,000,000 projects
 * (loose files vs packed-refs) is measured by the performance work; only
 * this module needs to change if the layout does.
 */
#ifndef JX_REFS_H
#define JX_REFS_H

#include <stddef.h>

#define JX_REFS_SEAL "refs/jx/seal"
#define JX_REFS_PROJECTS "refs/jx/projects/"
#define JX_REFS_PROJECTS_GLOB "refs/jx/projects/*"
#define JX_REFS_NAME_MAX 128

/* Writes the ref name of project `id` into out (size >= JX_REFS_NAME_MAX).
 * `id` must already have passed jx_id_check. */
void jx_refs_project(char *out, size_t size, const char *id);

/* The project id inside a project ref name, or NULL if `ref` is not one. */
const char *jx_refs_project_id(const char *ref);

#endif
