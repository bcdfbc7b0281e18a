#include "jx_versions.h"

#include <stdio.h>
#include <stdlib.h>

#include "jx_err.h"

int jx_versions_get(jx_versions *v, jx_store *s, const jx_config *cfg,
                    const char *id, const jx_value *state,
                    const jx_workflow **out) {
  int64_t version;
  *out = v->current;
  if (!jx_map_int(state, "definition_version", &version) ||
      version == v->current->version)
    return 0;
  for (size_t i = 0; i < v->nolder; i++)
    if (v->older[i]->version == version)
      return *out = v->older[i], 0;
  jx_buf text = JX_BUF_INIT;
  jx_workflow *old = NULL;
  char label[256];
  const char **plugins = jx_xcalloc(cfg->nplugins + 1, sizeof *plugins);
  for (size_t i = 0; i < cfg->nplugins; i++)
    plugins[i] = cfg->plugins[i].name;
  snprintf(label, sizeof label,
           "version %lld of the definition (rule set of project %s)",
           (long long)version, id);
  int rc = jx_store_rule_file(s, id, "definition.toml", &text);
  if (rc == 0)
    rc = jx_workflow_load_text(&old, label, text.data ? text.data : "",
                               text.len, plugins, cfg->nplugins);
  if (rc == 0 && old->version != version)
    rc = jx_err_set(JX_ESTORE, "%s says version %lld", label,
                    (long long)old->version);
  if (rc == 0 && v->nolder == JX_VERSIONS_MAX)
    rc = jx_err_set(JX_EINVAL,
                    "projects run under more than %d older versions of the "
                    "definition: move some (jx migrate)",
                    JX_VERSIONS_MAX);
  if (rc == 0) {
    v->older[v->nolder++] = old;
    *out = old;
    old = NULL;
  } else {
    jx_err_wrap("project %s", id);
  }
  jx_workflow_free(old);
  free(plugins);
  jx_buf_free(&text);
  return rc;
}

void jx_versions_clear(jx_versions *v) {
  for (size_t i = 0; i < v->nolder; i++)
    jx_workflow_free(v->older[i]);
  v->nolder = 0;
}
