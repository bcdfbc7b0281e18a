/*
 * jx_sandbox: the Lua 5.4 host that runs rule plugins.  The only module that
 * includes lua.h.
 *
 * A plugin is a Lua source file returning a table with a `guard` and/or a
 * `react` function and an optional `rule` string (its default rule id):
 *
 *   local M = { rule = "R-2", title = "ex-ante performance assessment" }
 *   function M.guard(state, event, params)      -- true/nil accepts
 *     return { rule = "R-2", reason = "...", remedy = "..." }
 *   end
 *   function M.react(state, event, params) return { fact = true } end
 *   return M
 *
 * What a plugin can reach (an allow-list; nothing else exists):
 *   assert error ipairs next pairs pcall xpcall select tonumber tostring type
 *   rawequal rawget rawlen getmetatable setmetatable unpack _VERSION load
 *   sorted_pairs, and read-only string, table, math, utf8 tables.
 * Missing on purpose: print, rawset, dofile, loadfile, require,
 * collectgarbage, string.dump, math.random, math.randomseed, io, os, debug,
 * package, coroutine.  `load` compiles text only (never bytecode) into the
 * caller's environment.  setmetatable refuses __gc and __mode (finalizers
 * would run outside any limit, weak tables depend on the collector); the
 * string metatable is protected.
 *
 * Every guard/react call re-runs the plugin's compiled chunk in a fresh
 * environment and receives fresh copies of state/event/params, so globals and
 * upvalues never carry over from one call or one plugin to another.
 *
 * Limits, per call (and for the first run at load): max_instructions (a
 * count hook), max_memory bytes above what the state used when the call
 * started (an allocator with a budget), max_ms of wall-clock time (checked
 * by the same hook).  pcall/xpcall cannot catch a limit.  The hook never
 * fires inside C functions, so the library functions that loop in C are
 * bounded too: pattern functions take a subject of at most
 * JX_SANDBOX_SUBJECT_MAX bytes and refuse a pattern whose worst case on that
 * subject exceeds about 2^24 matcher steps ("pattern too complex for the
 * sandbox"); string.rep builds at most JX_SANDBOX_STRING_MAX bytes;
 * table.insert/remove/sort/concat/move handle at most JX_SANDBOX_TABLE_MAX
 * elements and refuse a __len metamethod.  So one library call can overrun
 * max_ms by at most about 150 ms (measured: the worst allowed pattern, a
 * sort of JX_SANDBOX_TABLE_MAX numbers).  The wall-clock limit depends on
 * the machine: its expiry is an error to report, never a decision.
 *
 * Determinism: no clock, no randomness, string.format refuses %p.  pairs()
 * and next() order is unspecified (it changes from run to run): a plugin that
 * iterates a map to decide uses sorted_pairs(t), which yields the string keys
 * of t in bytewise order.  tostring() of a table or function shows an
 * address: never put it into a reason or a fact.
 *
 * Values: jx_value maps become tables with string keys, arrays become
 * sequences (1-based), integers stay integers and floats floats.  Back from
 * Lua, a table with only the keys 1..n is an array, an empty table or one
 * with only string keys is a map; any other key, a function, a cycle,
 * nesting deeper than JX_SANDBOX_MAX_DEPTH or more than JX_SANDBOX_RESULT_MAX
 * bytes is a plugin error.  A nil inside a jx array leaves a hole, so such an
 * array does not come back as an array.
 *
 * Ownership: the sandbox owns its lua_State and the compiled plugins;
 * verdicts and facts handed out are the caller's.  Errors are JX_EPLUGIN
 * with "plugin NAME: ..." in jx_err_last(); the state stays usable after
 * any plugin failure.  Not thread-safe: one sandbox per thread, used only by
 * the loop thread that created it.
 */
#ifndef JX_SANDBOX_H
#define JX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jx_value.h"

#define JX_SANDBOX_MAX_DEPTH 32         /* table nesting, both ways */
#define JX_SANDBOX_SUBJECT_MAX 4096     /* bytes, string.find & co. */
#define JX_SANDBOX_PATTERN_MAX 256      /* bytes of a pattern */
#define JX_SANDBOX_STRING_MAX (1 << 20) /* bytes, string.rep result */
#define JX_SANDBOX_TABLE_MAX (1 << 18)  /* elements, table.* loops */
#define JX_SANDBOX_RESULT_MAX (1 << 20) /* bytes of a verdict or facts */

/* The configurable limits of one plugin call; each must be > 0. */
#define JX_SANDBOX_LIMITS_DEFINED
typedef struct jx_sandbox_limits {
  uint64_t max_instructions; /* Lua VM instructions, counted per 1000 */
  size_t max_memory;         /* bytes the call may add to the state */
  uint32_t max_ms;           /* wall-clock milliseconds */
} jx_sandbox_limits;

typedef struct jx_sandbox jx_sandbox;

/* A guard's answer.  Strings are owned; free with jx_verdict_free. */
typedef struct jx_verdict {
  bool refused;
  char *rule;   /* the refusing rule id; NULL when accepted */
  char *reason; /* why, for the user; NULL when accepted */
  char *remedy; /* what to do about it; NULL when accepted */
} jx_verdict;

/* Creates an empty sandbox in *out (free with jx_sandbox_free).
 * Returns 0, or JX_EINVAL when a limit is 0, JX_EPLUGIN when Lua cannot
 * start. */
int jx_sandbox_new(jx_sandbox **out, const jx_sandbox_limits *limits);

/* Frees the sandbox and every plugin in it; NULL is ignored. */
void jx_sandbox_free(jx_sandbox *sb);

/* Compiles the Lua source file at `path` and registers it as plugin `name`,
 * replacing a plugin of that name.  The chunk is run once, within the
 * limits, to check that it returns a table with a guard and/or a react
 * function and a string (or no) `rule`.  Precompiled bytecode is refused.
 * Returns 0, or JX_EPLUGIN "plugin NAME (PATH): ..." (also when the file
 * cannot be read). */
int jx_sandbox_load(jx_sandbox *sb, const char *name, const char *path);

/* The same from `len` bytes of source at `src` (a rule read back from the
 * store, a test).  `chunkname` is what Lua's messages call the source
 * ("=name", "@file.lua"); NULL means "=" name. */
int jx_sandbox_load_string(jx_sandbox *sb, const char *name,
                           const char *chunkname, const char *src, size_t len);

/* Sets the helper library plugins share (plugins/jx.lua): a Lua source
 * returning a table of pure functions, which every guard and react call
 * sees as the global `jx`, read-only.  It is run once, in its own
 * environment, read-only too and without `load`; a table in the module is
 * refused (it would be shared by every call).  Its functions must keep no
 * state in upvalues: that the sandbox cannot see.  Set it before loading plugins that use
 * it at load time.  JX_EPLUGIN "the plugin library: ..." on failure. */
int jx_sandbox_set_library(jx_sandbox *sb, const char *chunkname,
                           const char *src, size_t len);

/* Whether plugin `name` is loaded and defines `fn` ("guard" or "react"). */
bool jx_sandbox_has(const jx_sandbox *sb, const char *name, const char *fn);

/* Calls name.guard(state, event, params); NULL values are passed as nil.
 * On 0, *out says whether the guard refused: true or nil accepts, a table
 * {rule, reason, remedy} refuses (rule defaults to the module's `rule`;
 * reason and remedy must be strings).  A plugin without a guard accepts.
 * Returns JX_ENOTFOUND when no such plugin is loaded, JX_EPLUGIN when the
 * plugin fails, hits a limit or returns anything else; *out is then an
 * acceptance with no strings. */
int jx_sandbox_guard(jx_sandbox *sb, const char *name, const jx_value *state,
                     const jx_value *event, const jx_value *params,
                     jx_verdict *out);

/* Calls name.react(state, event, params).  On 0, *facts (the caller's, free
 * with jx_value_free) is a JX_MAP: the returned table with string keys, or
 * empty when the plugin returned nil or has no react.  Errors as for
 * jx_sandbox_guard; *facts is then nil. */
int jx_sandbox_react(jx_sandbox *sb, const char *name, const jx_value *state,
                     const jx_value *event, const jx_value *params,
                     jx_value *facts);

/* Calls name.report(projects, params, context): a batch job over every
 * project's state (an array), returning a table with string keys (for jx
 * report: title, columns, rows, notes) into *out, the caller's.  context
 * is what the report is asked about beyond the store ({date = "YYYY-MM-DD"},
 * the day it is made as of): a report is a pure function of its arguments
 * like every plugin call.  JX_EINVAL if the plugin has no report;
 * otherwise errors as for jx_sandbox_react. */
int jx_sandbox_report(jx_sandbox *sb, const char *name,
                      const jx_value *projects, const jx_value *params,
                      const jx_value *context, jx_value *out);

/* Frees the strings of v and leaves it an acceptance; NULL is ignored. */
void jx_verdict_free(jx_verdict *v);

#endif
