/*
 * The benchmarks' workload, one for jx-bench (embedded) and jx-load (the
 * daemon): what a project's submit sets and what its self-evaluation sets.
 * The caller owns the values it gets.
 */
#ifndef JX_BENCH_WORKLOAD_H
#define JX_BENCH_WORKLOAD_H

#include <stddef.h>

#include "jx_value.h"

/* A new education project of edu-school-1 under R-2's threshold, with the
 * indicator tree R-3 requires; titled "<program> project <i>". */
jx_value jx_bench_project_fields(const char *program, size_t i);

/* What the last step (self_evaluate) sets, which R-6 scores.  JX_EINVAL if
 * its TOML does not parse (then *out is nil). */
int jx_bench_self_evaluation(jx_value *out);

#endif
