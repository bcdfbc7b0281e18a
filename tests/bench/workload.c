/* The benchmarks' workload: see workload.h. */
#include "workload.h"

#include <stdio.h>

#include "jx_toml.h"

/* A leaf of the indicator tree R-3 asks for: "at least value unit". */
static jx_value target(const char *level1, const char *level2,
                       const char *indicator, int64_t value,
                       const char *unit) {
  jx_value t = jx_map();
  jx_map_set(&t, "level1", jx_str(level1));
  jx_map_set(&t, "level2", jx_str(level2));
  jx_map_set(&t, "indicator", jx_str(indicator));
  jx_map_set(&t, "comparator", jx_str(">="));
  jx_map_set(&t, "value", jx_int(value));
  jx_map_set(&t, "unit", jx_str(unit));
  return t;
}

jx_value jx_bench_project_fields(const char *program, size_t i) {
  char title[64];
  snprintf(title, sizeof title, "%s project %zu", program, i);
  jx_value f = jx_map();
  jx_map_set(&f, "title", jx_str(title));
  jx_map_set(&f, "department", jx_str("education"));
  jx_map_set(&f, "unit", jx_str("edu-school-1"));
  jx_map_set(&f, "budget_type", jx_str("general"));
  jx_map_set(&f, "kind", jx_str("new"));
  jx_map_set(&f, "amount", jx_int(1000000 + (int64_t)i));
  jx_map_set(&f, "year", jx_int(2021));
  jx_value targets = jx_array();
  jx_array_push(&targets, target("output", "quantity", "schools renovated", 12,
                                 "schools"));
  jx_array_push(&targets, target("outcome", "social", "pupils served", 3000,
                                 "pupils"));
  jx_map_set(&f, "targets", targets);
  return f;
}

int jx_bench_self_evaluation(jx_value *out) {
  static const char text[] =
      "[self_evaluation]\n"
      "execution = { allocated = 1000000, spent = 950000 }\n"
      "output = [{ indicator = \"schools renovated\", comparator = \">=\", "
      "target = 12, actual = 12 }]\n"
      "outcome = [{ indicator = \"pupils served\", comparator = \">=\", "
      "target = 3000, actual = 2800 }]\n"
      "satisfaction = [{ indicator = \"parents satisfied\", "
      "comparator = \">=\", target = 90, actual = 93 }]\n";
  jx_toml_doc *doc;
  *out = jx_nil();
  int rc = jx_toml_load_string(&doc, text, sizeof text - 1, "self_evaluation");
  if (rc < 0)
    return rc;
  *out = jx_value_copy(jx_toml_root(doc));
  jx_toml_free(doc);
  return 0;
}
