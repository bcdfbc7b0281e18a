#include "jx_refs.h"

#include <stdio.h>
#include <string.h>

void jx_refs_project(char *out, size_t size, const char *id) {
  snprintf(out, size, JX_REFS_PROJECTS "%s", id);
}

const char *jx_refs_project_id(const char *ref) {
  size_t n = strlen(JX_REFS_PROJECTS);
  return strncmp(ref, JX_REFS_PROJECTS, n) == 0 ? ref + n : NULL;
}
