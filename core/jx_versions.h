/*
 * jx_versions: the workflow definition a project runs under.  A project
 * keeps the definition version it started with (its state's
 * definition_version); an older version's definition is read from the
 * rule set of the project's last commit (rules/definition.toml), which was
 * decided under it, and kept loaded for the next project of that version.
 *
 * Memory: a jx_versions owns the older definitions it loaded (free with
 * jx_versions_clear); the current one is borrowed.
 */
#ifndef JX_VERSIONS_H
#define JX_VERSIONS_H

#include "jx_config.h"
#include "jx_store.h"
#include "jx_value.h"
#include "jx_workflow.h"

#define JX_VERSIONS_MAX 8

typedef struct jx_versions {
  const jx_workflow *current;
  jx_workflow *older[JX_VERSIONS_MAX];
  size_t nolder;
} jx_versions;

/* The definition project `id` (whose state is `state`) runs under, into
 * *out (borrowed from v).  JX_ESTORE if its rule set cannot give it,
 * JX_EINVAL if more than JX_VERSIONS_MAX older versions are in use. */
int jx_versions_get(jx_versions *v, jx_store *s, const jx_config *cfg,
                    const char *id, const jx_value *state,
                    const jx_workflow **out);

void jx_versions_clear(jx_versions *v);

#endif
