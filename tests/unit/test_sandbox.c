/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "jx_err.h"
#include "jx_sandbox.h"
#include "jx_value.h"

static const jx_sandbox_limits LIMITS = {
    .max_instructions = 1000000, .max_memory = 16u << 20, .max_ms = 10000};

/* Generous instructions and time, so that the memory limit is what stops a
 * bomb. */
static const jx_sandbox_limits MEMORY_FIRST = {
    .max_instructions = 200000000, .max_memory = 16u << 20, .max_ms = 20000};

static jx_sandbox *sandbox(const jx_sandbox_limits *limits) {
  jx_sandbox *sb;
  assert_int_equal(jx_sandbox_new(&sb, limits), 0);
  return sb;
}

static void load(jx_sandbox *sb, const char *name, const char *src) {
  if (jx_sandbox_load_string(sb, name, NULL, src, strlen(src)) != 0)
    fail_msg("loading %s: %s", name, jx_err_last()->msg);
}

static void assert_error(int rc, int code, const char *needle) {
  assert_int_equal(rc, code);
  if (!strstr(jx_err_last()->msg, needle))
    fail_msg("\"%s\" is not in the error \"%s\"", needle, jx_err_last()->msg);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Calls name.react with params and returns its facts, failing the test on
 * an error. */
static jx_value react(jx_sandbox *sb, const char *name,
                      const jx_value *params) {
  jx_value facts;
  if (jx_sandbox_react(sb, name, NULL, NULL, params, &facts) != 0)
    fail_msg("react %s: %s", name, jx_err_last()->msg);
  assert_int_equal(facts.type, JX_MAP);
  return facts;
}

static void assert_fact_str(const jx_value *facts, const char *key,
                            const char *want) {
  const char *got = jx_map_str(facts, key);
  if (!got || strcmp(got, want) != 0)
    fail_msg("fact %s is \"%s\", expected \"%s\"", key, got ? got : "(none)",
             want);
}

/* A plugin whose react runs `body` (Lua statements). */
static void load_react(jx_sandbox *sb, const char *name, const char *body) {
  char src[4096];
  snprintf(src, sizeof src,
           "local M = {}\nfunction M.react(state, event, params)\n%s\nend\n"
           "return M\n",
           body);
  load(sb, name, src);
}

/* Runs `body` as a react and expects JX_EPLUGIN mentioning `needle`. */
static void assert_react_fails(jx_sandbox *sb, const char *body,
                               const char *needle) {
  load_react(sb, "bad", body);
  jx_value facts;
  assert_error(jx_sandbox_react(sb, "bad", NULL, NULL, NULL, &facts),
               JX_EPLUGIN, needle);
  assert_int_equal(facts.type, JX_NIL);
}

static char *bytecode(size_t *len) {
  lua_State *L = luaL_newstate();
  luaL_requiref(L, "string", luaopen_string, 1);
  lua_pop(L, 1);
  assert_int_equal(
      luaL_dostring(L, "return string.dump(function() return 42 end)"), 0);
  const char *s = lua_tolstring(L, -1, len);
  char *copy = malloc(*len);
  memcpy(copy, s, *len);
  lua_close(L);
  return copy;
}

static char *temp_file(const void *data, size_t len) {
  char *path = strdup("/tmp/jx_sandbox_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
  return path;
}

static const char GOOD[] =
    "local M = { rule = 'R-0' }\n"
    "function M.guard(state, event, params) return true end\n"
    "function M.react(state, event, params) return { ok = true } end\n"
    "return M\n";

static void assert_good_works(jx_sandbox *sb) {
  jx_verdict v;
  assert_int_equal(jx_sandbox_guard(sb, "good", NULL, NULL, NULL, &v), 0);
  assert_false(v.refused);
  jx_value facts = react(sb, "good", NULL);
  assert_true(jx_map_get(&facts, "ok")->u.b);
  jx_value_free(&facts);
}

static void test_sandbox__new_refuses_zero_limits(void **state) {
  (void)state;
  jx_sandbox *sb;
  jx_sandbox_limits l = LIMITS;
  l.max_ms = 0;
  assert_error(jx_sandbox_new(&sb, &l), JX_EINVAL, "max_ms");
  assert_null(sb);
  assert_int_equal(jx_sandbox_new(&sb, NULL), JX_EINVAL);
}

static void test_sandbox__guard_accepts(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "yes", "return { guard = function() return true end }");
  load(sb, "nil", "return { guard = function() end }");
  load(sb, "facts", "return { react = function() end }");
  assert_true(jx_sandbox_has(sb, "yes", "guard"));
  assert_false(jx_sandbox_has(sb, "yes", "react"));
  assert_false(jx_sandbox_has(sb, "facts", "guard"));
  assert_true(jx_sandbox_has(sb, "facts", "react"));
  assert_false(jx_sandbox_has(sb, "missing", "guard"));
  assert_false(jx_sandbox_has(sb, "yes", "other"));
  const char *names[] = {"yes", "nil", "facts"};
  for (size_t i = 0; i < 3; i++) {
    jx_verdict v;
    assert_int_equal(jx_sandbox_guard(sb, names[i], NULL, NULL, NULL, &v), 0);
    assert_false(v.refused);
    assert_null(v.rule);
    jx_verdict_free(&v);
  }
  jx_sandbox_free(sb);
}

static void test_sandbox__guard_refuses(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "r2",
       "local M = { rule = 'R-2', title = 'ex-ante performance assessment' }\n"
       "function M.guard(state, event, params)\n"
       "  if (params.amount or 0) >= 5000000 and not state.ex_ante then\n"
       "    return { rule = 'R-2b', reason = 'no ex-ante assessment',\n"
       "             remedy = 'attach the assessment' }\n"
       "  end\n"
       "  return true\n"
       "end\n"
       "return M\n");
  jx_value st = jx_map(), params = jx_map();
  jx_map_set(&params, "amount", jx_int(6000000));
  jx_verdict v;
  assert_int_equal(jx_sandbox_guard(sb, "r2", &st, NULL, &params, &v), 0);
  assert_true(v.refused);
  assert_string_equal(v.rule, "R-2b");
  assert_string_equal(v.reason, "no ex-ante assessment");
  assert_string_equal(v.remedy, "attach the assessment");
  jx_verdict_free(&v);
  assert_null(v.rule);

  jx_map_set(&st, "ex_ante", jx_bool(true));
  assert_int_equal(jx_sandbox_guard(sb, "r2", &st, NULL, &params, &v), 0);
  assert_false(v.refused);
  jx_value_free(&st);
  jx_value_free(&params);
  jx_sandbox_free(sb);
}

static void test_sandbox__guard_rule_defaults_to_module(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "r3",
       "return { rule = 'R-3', guard = function()\n"
       "  return { reason = 'why', remedy = 'how' } end }");
  jx_verdict v;
  assert_int_equal(jx_sandbox_guard(sb, "r3", NULL, NULL, NULL, &v), 0);
  assert_true(v.refused);
  assert_string_equal(v.rule, "R-3");
  jx_verdict_free(&v);
  jx_sandbox_free(sb);
}

static void test_sandbox__guard_bad_answers(void **state) {
  (void)state;
  static const struct {
    const char *src, *needle;
  } cases[] = {
      {"return { guard = function() return 42 end }",
       "guard returned a number"},
      {"return { guard = function() return false end }",
       "guard returned false"},
      {"return { rule = 'R', guard = function()\n"
       "  return { reason = 1, remedy = 'x' } end }",
       "has a number reason"},
      {"return { rule = 'R', guard = function()\n"
       "  return { reason = 'x' } end }",
       "needs a reason and a remedy"},
      {"return { guard = function()\n"
       "  return { reason = 'x', remedy = 'y' } end }",
       "no default rule"},
  };
  jx_sandbox *sb = sandbox(&LIMITS);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    load(sb, "bad", cases[i].src);
    jx_verdict v;
    assert_error(jx_sandbox_guard(sb, "bad", NULL, NULL, NULL, &v), JX_EPLUGIN,
                 cases[i].needle);
    assert_false(v.refused);
    assert_null(v.rule);
    assert_null(v.reason);
  }
  jx_sandbox_free(sb);
}

static void test_sandbox__error_names_plugin(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "boom",
       "local M = {}\n"
       "local function check(x)\n"
       "  error('budget line ' .. x .. ' is missing')\n"
       "end\n"
       "function M.guard(state, event, params) check('7') end\n"
       "return M\n");
  jx_verdict v;
  int rc = jx_sandbox_guard(sb, "boom", NULL, NULL, NULL, &v);
  assert_error(rc, JX_EPLUGIN, "plugin boom: boom:3: budget line 7 is missing");
  assert_error(rc, JX_EPLUGIN, "traceback: boom:3 in upvalue 'check'");
  assert_error(rc, JX_EPLUGIN, "boom:5 in function <boom:5>)");
  assert_int_equal(jx_sandbox_guard(sb, "absent", NULL, NULL, NULL, &v),
                   JX_ENOTFOUND);
  jx_sandbox_free(sb);
}

static void test_sandbox__load_errors(void **state) {
  (void)state;
  static const struct {
    const char *src, *needle;
  } cases[] = {
      {"return {", "plugin p: [string \"x\"]:1:"},
      {"return 42", "returned number, not a module table"},
      {"return { title = 'nothing' }", "no guard, react or report"},
      {"return { guard = 1 }", "guard is a number"},
      {"return { rule = 2, guard = function() end }", "rule is a number"},
      {"error('at load')", "at load"},
      {"while true do end", "exceeded the limit of 1000000 instructions"},
  };
  jx_sandbox *sb = sandbox(&LIMITS);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_error(jx_sandbox_load_string(sb, "p", "x", cases[i].src,
                                        strlen(cases[i].src)),
                 JX_EPLUGIN, cases[i].needle);
    assert_false(jx_sandbox_has(sb, "p", "guard"));
  }
  assert_int_equal(jx_sandbox_load_string(sb, "", NULL, "", 0), JX_EINVAL);
  jx_sandbox_free(sb);
}

static void test_sandbox__load_replaces(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "p", "return { rule = 'A', guard = function() end }");
  load(sb, "p", "return { react = function() return { v = 2 } end }");
  assert_false(jx_sandbox_has(sb, "p", "guard"));
  jx_value facts = react(sb, "p", NULL);
  int64_t v;
  assert_true(jx_map_int(&facts, "v", &v));
  assert_int_equal(v, 2);
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__load_file(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  char *path = temp_file(GOOD, strlen(GOOD));
  assert_int_equal(jx_sandbox_load(sb, "good", path), 0);
  assert_good_works(sb);
  unlink(path);
  assert_error(jx_sandbox_load(sb, "gone", path), JX_EPLUGIN,
               "cannot read the file");
  free(path);

  const char *broken = "return {";
  path = temp_file(broken, strlen(broken));
  char needle[128];
  snprintf(needle, sizeof needle, "plugin broken (%s): %s:1:", path, path);
  assert_error(jx_sandbox_load(sb, "broken", path), JX_EPLUGIN, needle);
  unlink(path);
  free(path);
  jx_sandbox_free(sb);
}

static void test_sandbox__load_refuses_bytecode(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  size_t len;
  char *code = bytecode(&len);
  char *path = temp_file(code, len);
  char needle[128];
  snprintf(needle, sizeof needle, "plugin bc (%s): precompiled bytecode", path);
  assert_error(jx_sandbox_load(sb, "bc", path), JX_EPLUGIN, needle);
  assert_error(jx_sandbox_load_string(sb, "bc", NULL, code, len), JX_EPLUGIN,
               "bytecode is refused");
  assert_false(jx_sandbox_has(sb, "bc", "guard"));
  unlink(path);
  free(path);

  /* ... and so does load() inside a plugin */
  load_react(sb, "loader",
             "local f, err = load(params.code)\n"
             "local g = load('x = 5; return x + (y or 0)')\n"
             "y = 1\n"
             "local ok, env_err = pcall(load, 'return 1', 'c', 't', {})\n"
             "return { f = type(f), err = err, g = g(), seen_x = x,\n"
             "         env_err = env_err }");
  jx_value params = jx_map();
  jx_map_set(&params, "code", jx_strn(code, len));
  jx_value facts = react(sb, "loader", &params);
  assert_fact_str(&facts, "f", "nil");
  assert_non_null(strstr(jx_map_str(&facts, "err"), "binary chunk"));
  int64_t g, x;
  assert_true(jx_map_int(&facts, "g", &g));
  assert_int_equal(g, 6); /* the loaded chunk saw the plugin's y */
  assert_true(jx_map_int(&facts, "seen_x", &x));
  assert_int_equal(x, 5); /* ... and set x in the plugin's environment */
  assert_non_null(strstr(jx_map_str(&facts, "env_err"), "env argument"));
  jx_value_free(&facts);
  jx_value_free(&params);
  free(code);
  jx_sandbox_free(sb);
}

static void test_sandbox__infinite_loop_stopped(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "spin",
       "return { guard = function()\n"
       "  while true do end\n"
       "end }");
  jx_verdict v;
  assert_error(jx_sandbox_guard(sb, "spin", NULL, NULL, NULL, &v), JX_EPLUGIN,
               "plugin spin: exceeded the limit of 1000000 instructions at "
               "spin:2");
  jx_sandbox_free(sb);
}

static void test_sandbox__wall_clock_stopped(void **state) {
  (void)state;
  jx_sandbox_limits l = {
      .max_instructions = UINT64_MAX, .max_memory = 16u << 20, .max_ms = 50};
  jx_sandbox *sb = sandbox(&l);
  load_react(sb, "spin", "while true do end");
  double t0 = now_s();
  jx_value facts;
  assert_error(jx_sandbox_react(sb, "spin", NULL, NULL, NULL, &facts),
               JX_EPLUGIN, "plugin spin: ran longer than 50 ms");
  assert_true(now_s() - t0 < 2.0);
  jx_sandbox_free(sb);
}

static void test_sandbox__pcall_cannot_catch_limits(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&MEMORY_FIRST);
  jx_sandbox_limits few = LIMITS;
  jx_sandbox *sb2 = sandbox(&few);
  load_react(sb2, "spin",
             "while true do pcall(function() while true do end end) end");
  jx_value facts;
  assert_error(jx_sandbox_react(sb2, "spin", NULL, NULL, NULL, &facts),
               JX_EPLUGIN, "exceeded the limit of 1000000 instructions");
  load_react(sb2, "xspin",
             "while true do\n"
             "  xpcall(function() while true do end end,\n"
             "         function(e) return e end)\n"
             "end");
  assert_error(jx_sandbox_react(sb2, "xspin", NULL, NULL, NULL, &facts),
               JX_EPLUGIN, "exceeded the limit of 1000000 instructions");

  load_react(sb, "hog",
             "local caught = 0\n"
             "while true do\n"
             "  pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end"
             " end)\n"
             "  caught = caught + 1\n"
             "end");
  assert_error(jx_sandbox_react(sb, "hog", NULL, NULL, NULL, &facts),
               JX_EPLUGIN, "exceeded the memory limit of 16777216 bytes");
  /* load() compiles in C: its memory error must not come back as nil. */
  jx_sandbox_limits small = MEMORY_FIRST;
  small.max_memory = 3u << 20;
  jx_sandbox *sb3 = sandbox(&small);
  load_react(sb3, "loadhog",
             "local big = 'return \"' .. ('x'):rep(1 << 20) .. '\"'\n"
             "local f, err = load(big)\n"
             "return { f = type(f), err = err }");
  assert_error(jx_sandbox_react(sb3, "loadhog", NULL, NULL, NULL, &facts),
               JX_EPLUGIN, "exceeded the memory limit of 3145728 bytes");
  jx_sandbox_free(sb3);
  jx_sandbox_free(sb);
  jx_sandbox_free(sb2);
}

static void test_sandbox__bombs_stopped(void **state) {
  (void)state;
  static const struct {
    const char *body, *needle;
  } cases[] = {
      {"local t = {} for i = 1, 1e9 do t[i] = i end",
       "plugin bad: exceeded the memory limit of 16777216 bytes"},
      {"local s = 'x' for i = 1, 40 do s = s .. s end",
       "plugin bad: exceeded the memory limit of 16777216 bytes"},
      {"local t = {} for i = 1, 1e9 do t[#t + 1] = tostring(i) end",
       "exceeded the memory limit"},
      {"return { s = string.rep('x', 1 << 30) }",
       "string.rep: the result would be longer than the sandbox allows"},
      {"return { s = ('x'):rep((1 << 19) + 1, ',') }",
       "string.rep: the result would be longer"},
      {"local s = ('x'):rep(1 << 20)\n"
       "return { s = s:rep(2) }",
       "string.rep: the result would be longer"},
  };
  jx_sandbox *sb = sandbox(&MEMORY_FIRST);
  load(sb, "good", GOOD);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    double t0 = now_s();
    assert_react_fails(sb, cases[i].body, cases[i].needle);
    assert_true(now_s() - t0 < 10.0);
    assert_good_works(sb);
  }
  /* Within the limits, and the empty repetitions lstrlib would loop over. */
  load_react(sb, "fine",
             "return { n = #('ab'):rep(1 << 19), e = ('').rep('', 1 << 50),\n"
             "         f = string.rep('', 1 << 50, '') }");
  jx_value facts = react(sb, "fine", NULL);
  int64_t n;
  assert_true(jx_map_int(&facts, "n", &n));
  assert_int_equal(n, 1 << 20);
  assert_fact_str(&facts, "e", "");
  assert_fact_str(&facts, "f", "");
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__pattern_bomb_refused(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  double t0 = now_s();
  assert_react_fails(sb, "return { ('a'):rep(400):find('.-.-.-b') }",
                     "string.find: pattern too complex for the sandbox");
  assert_react_fails(sb, "return { ('a'):rep(4096):find('.-.-b') }",
                     "pattern too complex");
  assert_react_fails(sb, "return { string.match(('a'):rep(4096), 'a*a*b') }",
                     "string.match: pattern too complex");
  assert_react_fails(sb, "for w in ('a'):rep(600):gmatch('a-a-b') do end",
                     "string.gmatch: pattern too complex");
  assert_react_fails(sb, "return { ('a'):rep(4096):gsub('(a*)%1b', '') }",
                     "string.gsub: pattern too complex");
  assert_react_fails(sb, "return { ('a'):rep(4097):find('a', 1, true) }",
                     "a subject of 4097 bytes is longer than the sandbox");
  assert_true(now_s() - t0 < 1.0);

  load_react(sb, "ok",
             "local s = ('a'):rep(4095) .. 'b'\n"
             "local kv = 'amount = 5000000'\n"
             "local k, v = kv:match('^(%w+)%s*=%s*(%d+)$')\n"
             "local n = 0\n"
             "for w in ('a b c'):gmatch('%a') do n = n + 1 end\n"
             "return { plain = s:find('ab', 1, true), one = s:find('a*b'),\n"
             "         anchored = s:find('^a-b'), k = k, v = v, n = n,\n"
             "         g = (('x.y'):gsub('%.', '/')) }");
  jx_value facts = react(sb, "ok", NULL);
  int64_t i;
  assert_true(jx_map_int(&facts, "plain", &i));
  assert_int_equal(i, 4095);
  assert_true(jx_map_int(&facts, "one", &i));
  assert_int_equal(i, 1);
  assert_true(jx_map_int(&facts, "anchored", &i));
  assert_int_equal(i, 1);
  assert_fact_str(&facts, "k", "amount");
  assert_fact_str(&facts, "v", "5000000");
  assert_true(jx_map_int(&facts, "n", &i));
  assert_int_equal(i, 3);
  assert_fact_str(&facts, "g", "x/y");
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__table_loops_bounded(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&MEMORY_FIRST);
  double t0 = now_s();
  assert_react_fails(sb, "table.move({}, 1, 1 << 40, 2)",
                     "table.move: more elements than the sandbox allows");
  assert_react_fails(sb,
                     "local t = setmetatable({}, { __index = table.concat })\n"
                     "return { s = table.concat(t, '', 1, 1 << 40) }",
                     "table.concat: more elements");
  assert_react_fails(sb,
                     "local t = setmetatable({}, { __len = function()\n"
                     "  return 1 << 40 end })\n"
                     "table.insert(t, 1, 'x')",
                     "table.insert: a table with a __len metamethod");
  assert_react_fails(sb,
                     "local t = {} for i = 1, (1 << 18) + 1 do t[i] = i end\n"
                     "table.remove(t, 1)",
                     "table.remove: more elements");
  assert_true(now_s() - t0 < 1.0);
  load_react(sb, "ok",
             "local big = {}\n"
             "for i = 1, (1 << 18) + 10 do table.insert(big, i) end\n"
             "table.remove(big)\n"
             "local t = { 3, 1, 2 }\n"
             "table.sort(t)\n"
             "table.insert(t, 1, 0)\n"
             "table.remove(t)\n"
             "local u = table.move(t, 1, 3, 1, {})\n"
             "return { s = table.concat(u, ','), n = #big }");
  jx_value facts = react(sb, "ok", NULL);
  assert_fact_str(&facts, "s", "0,1,2");
  int64_t n;
  assert_true(jx_map_int(&facts, "n", &n));
  assert_int_equal(n, (1 << 18) + 9);
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__dangerous_globals_absent(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load_react(sb, "probe",
             "local names = { 'io', 'os', 'debug', 'package', 'require',\n"
             "  'dofile', 'loadfile', 'collectgarbage', 'print', 'rawset',\n"
             "  'coroutine', 'loadstring', 'module', 'setfenv', '_G' }\n"
             "local r = {}\n"
             "for _, n in ipairs(names) do r[n] = type(_ENV[n]) end\n"
             "r.dump = type(string.dump)\n"
             "r.method_dump = type(('').dump)\n"
             "r.random = type(math.random)\n"
             "r.randomseed = type(math.randomseed)\n"
             "r.find = type(string.find)\n"
             "r.floor = type(math.floor)\n"
             "r.char = type(utf8.char)\n"
             "r.sorted = type(sorted_pairs)\n"
             "r.version = _VERSION\n"
             "return r");
  jx_value facts = react(sb, "probe", NULL);
  const char *absent[] = {
      "io",        "os",          "debug",          "package",   "require",
      "dofile",    "loadfile",    "collectgarbage", "print",     "rawset",
      "coroutine", "loadstring",  "module",         "setfenv",   "_G",
      "dump",      "method_dump", "random",         "randomseed"};
  for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
    assert_fact_str(&facts, absent[i], "nil");
  assert_fact_str(&facts, "find", "function");
  assert_fact_str(&facts, "floor", "function");
  assert_fact_str(&facts, "char", "function");
  assert_fact_str(&facts, "sorted", "function");
  assert_fact_str(&facts, "version", "Lua 5.4");
  jx_value_free(&facts);
  assert_react_fails(sb, "return { s = string.format('%p', {}) }",
                     "%p is not available in the sandbox");
  jx_sandbox_free(sb);
}

static void test_sandbox__library_read_only(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  assert_react_fails(sb, "string.len = nil",
                     "cannot set string.len: the sandbox's string is "
                     "read-only");
  assert_react_fails(sb, "math.pi = 3", "cannot set math.pi");
  assert_react_fails(sb, "table.insert(table, 'x')", "read-only");
  assert_react_fails(sb, "getmetatable('').__index = { len = print }",
                     "attempt to index a boolean value");
  assert_react_fails(sb, "setmetatable(string, {})",
                     "cannot change a protected metatable");
  assert_react_fails(sb, "rawset(string, 'len', nil)",
                     "attempt to call a nil value (global 'rawset')");
  assert_react_fails(sb, "setmetatable({}, { __gc = function() end })",
                     "setmetatable: __gc is not available");
  assert_react_fails(sb, "setmetatable({}, { __mode = 'k' })",
                     "__mode is not available");
  load_react(sb, "after",
             "return { len = ('abc'):len(), len2 = string.len('ab'),\n"
             "         mt = getmetatable('') }");
  jx_value facts = react(sb, "after", NULL);
  int64_t n;
  assert_true(jx_map_int(&facts, "len", &n));
  assert_int_equal(n, 3);
  assert_true(jx_map_int(&facts, "len2", &n));
  assert_int_equal(n, 2);
  assert_false(jx_map_get(&facts, "mt")->u.b);
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__fresh_environment(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "writer",
       "local calls = 0\n"
       "local M = {}\n"
       "function M.react()\n"
       "  calls = calls + 1\n"
       "  local seen = leak\n"
       "  leak = 'from writer'\n"
       "  string_alias = string\n"
       "  return { seen = seen or 'nothing', calls = calls }\n"
       "end\n"
       "return M\n");
  load(sb, "reader",
       "return { react = function()\n"
       "  return { seen = leak or 'nothing',\n"
       "           alias = string_alias and 'yes' or 'no' } end }");
  for (int i = 0; i < 2; i++) {
    jx_value facts = react(sb, "writer", NULL);
    assert_fact_str(&facts, "seen", "nothing");
    int64_t calls;
    assert_true(jx_map_int(&facts, "calls", &calls));
    assert_int_equal(calls, 1);
    jx_value_free(&facts);
    facts = react(sb, "reader", NULL);
    assert_fact_str(&facts, "seen", "nothing");
    assert_fact_str(&facts, "alias", "no");
    jx_value_free(&facts);
  }
  jx_sandbox_free(sb);
}

static void test_sandbox__library(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  static const char lib[] =
      "local jx = {}\n"
      "function jx.twice(n) return 2 * n end\n"
      "function jx.count() count = (count or 0) + 1; return count end\n"
      "return jx";
  assert_int_equal(jx_sandbox_set_library(sb, "=lib", lib, sizeof lib - 1), 0);
  load_react(sb, "uses", "return { twice = jx.twice(21) }");
  for (int i = 0; i < 2; i++) {
    jx_value facts = react(sb, "uses", NULL);
    assert_int_equal(jx_map_get(&facts, "twice")->u.i, 42);
    jx_value_free(&facts);
  }
  /* The library runs once and serves every call: what a call could leave
   * in it would reach the next, so it is read-only, its globals too. */
  assert_react_fails(sb, "return { n = jx.count() }",
                     "cannot set library.count: the sandbox's library is "
                     "read-only");
  assert_react_fails(sb, "jx.twice = nil", "cannot set jx.twice");
  assert_react_fails(sb, "rawset(jx, 'twice', nil)", "global 'rawset'");
  assert_error(jx_sandbox_set_library(sb, "=bad", "error('no')", 11),
               JX_EPLUGIN, "the plugin library: bad:1: no");
  assert_error(jx_sandbox_set_library(sb, "=bad", "return 1", 8), JX_EPLUGIN,
               "not a module table");
  assert_error(jx_sandbox_set_library(sb, "=bad", "leak = 1 return {}", 18),
               JX_EPLUGIN, "cannot set library.leak");
  static const char shared[] = "return { T = {} }";
  assert_error(jx_sandbox_set_library(sb, "=bad", shared, sizeof shared - 1),
               JX_EPLUGIN, "the library's T is a table");
  static const char loads[] = "return { f = function() return load end }";
  assert_int_equal(
      jx_sandbox_set_library(sb, "=lib2", loads, sizeof loads - 1), 0);
  load_react(sb, "loads", "return { has = jx.f() ~= nil }");
  jx_value facts = react(sb, "loads", NULL);
  assert_false(jx_map_get(&facts, "has")->u.b);
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__react_facts(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "facts",
       "return { react = function(state, event, params)\n"
       "  return { ex_ante_required = true, grade = 'A', score = 92.5,\n"
       "           lines = { 10, 20 }, nested = { a = { b = {} } },\n"
       "           kind = event.kind }\n"
       "end }");
  jx_value event = jx_map();
  jx_map_set(&event, "kind", jx_str("submit"));
  jx_value facts;
  assert_int_equal(jx_sandbox_react(sb, "facts", NULL, &event, NULL, &facts),
                   0);
  assert_true(jx_map_get(&facts, "ex_ante_required")->u.b);
  assert_fact_str(&facts, "grade", "A");
  assert_fact_str(&facts, "kind", "submit");
  const jx_value *score = jx_map_get(&facts, "score");
  assert_int_equal(score->type, JX_FLOAT);
  assert_true(score->u.f == 92.5);
  const jx_value *lines = jx_map_get(&facts, "lines");
  assert_int_equal(lines->type, JX_ARRAY);
  assert_int_equal(lines->u.a.len, 2);
  assert_int_equal(lines->u.a.items[1].u.i, 20);
  const jx_value *b = jx_map_get(jx_map_get(&facts, "nested"), "a");
  assert_int_equal(jx_map_get(b, "b")->type, JX_MAP); /* {} is a map */
  jx_value_free(&facts);
  jx_value_free(&event);

  load(sb, "none", "return { react = function() end }");
  facts = react(sb, "none", NULL);
  assert_int_equal(facts.u.m.len, 0);
  jx_value_free(&facts);
  load(sb, "guardonly", "return { guard = function() end }");
  facts = react(sb, "guardonly", NULL);
  assert_int_equal(facts.u.m.len, 0);
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__react_bad_results(void **state) {
  (void)state;
  static const struct {
    const char *body, *needle;
  } cases[] = {
      {"return 'x'", "react returned a string; expected a table"},
      {"return { 1, 2 }", "react returned an array"},
      {"return { f = print or type }", "a function cannot leave the sandbox "
                                       "(at result.f)"},
      {"local t = {} t.self = t return { t = t }",
       "a table contains itself (at result.t.self)"},
      {"local t = {} for i = 1, 40 do t = { t } end return { deep = t }",
       "nested deeper than 32 levels"},
      {"return { a = { 1, x = 2 } }",
       "mixes string keys and array indices (at result.a)"},
      {"return { a = { [1] = 1, [3] = 3 } }", "an array has holes"},
      {"return { a = { [1.5] = 1 } }", "the key 1.5"},
      {"return { a = { [true] = 1 } }", "a boolean key"},
      {"return { ['a\\0b'] = 1 }", "a key contains a NUL byte"},
      {"local t = { ('x'):rep(1 << 20) } return { t = t }",
       "larger than the sandbox allows"},
      {"local s = ('x'):rep(1 << 16) local t = {}\n"
       "for i = 1, 20 do t[i] = s end return { t = t }",
       "larger than the sandbox allows"},
  };
  jx_sandbox *sb = sandbox(&LIMITS);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    assert_react_fails(sb, cases[i].body, cases[i].needle);
  jx_sandbox_free(sb);
}

static void test_sandbox__values_round_trip(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "echo",
       "return { react = function(state)\n"
       "  return { state = state, ti = math.type(state.i),\n"
       "           tf = math.type(state.f), len = #state.bin,\n"
       "           first = state.list[1] }\n"
       "end }");
  jx_value st = jx_map();
  jx_map_set(&st, "i", jx_int(3));
  jx_map_set(&st, "f", jx_float(3.0));
  jx_map_set(&st, "big", jx_int(INT64_MAX));
  jx_map_set(&st, "neg", jx_float(-0.25));
  jx_map_set(&st, "bin", jx_strn("a\0b", 3));
  jx_map_set(&st, "yes", jx_bool(true));
  jx_map_set(&st, "empty", jx_map());
  jx_value list = jx_array();
  jx_array_push(&list, jx_str("first"));
  jx_value inner = jx_array();
  jx_array_push(&inner, jx_int(-1));
  jx_array_push(&list, inner);
  jx_map_set(&st, "list", list);
  jx_value facts;
  assert_int_equal(jx_sandbox_react(sb, "echo", &st, NULL, NULL, &facts), 0);
  assert_true(jx_value_equal(jx_map_get(&facts, "state"), &st));
  assert_fact_str(&facts, "ti", "integer");
  assert_fact_str(&facts, "tf", "float");
  assert_fact_str(&facts, "first", "first");
  int64_t len;
  assert_true(jx_map_int(&facts, "len", &len));
  assert_int_equal(len, 3);
  jx_value_free(&facts);
  jx_value_free(&st);
  jx_sandbox_free(sb);
}

static void test_sandbox__sorted_pairs(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load_react(sb, "sorted",
             "local t = { b = 1, a = 2, B = 3, ab = 4, [1] = 'skip' }\n"
             "local keys, sum = {}, 0\n"
             "for k, v in sorted_pairs(t) do\n"
             "  keys[#keys + 1] = k\n"
             "  sum = sum + v\n"
             "end\n"
             "return { keys = table.concat(keys, ' '), sum = sum }");
  jx_value facts = react(sb, "sorted", NULL);
  assert_fact_str(&facts, "keys", "B a ab b");
  int64_t sum;
  assert_true(jx_map_int(&facts, "sum", &sum));
  assert_int_equal(sum, 10);
  jx_value_free(&facts);
  jx_sandbox_free(sb);
}

static void test_sandbox__usable_after_failures(void **state) {
  (void)state;
  jx_sandbox *sb = sandbox(&LIMITS);
  load(sb, "good", GOOD);
  load_react(sb, "spin", "while true do end");
  load_react(sb, "hog", "local s = 'x' for i = 1, 40 do s = s .. s end");
  load_react(sb, "err", "error({})");
  const char *bad[] = {"spin", "hog", "err", "spin", "hog"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    jx_value facts;
    assert_int_equal(jx_sandbox_react(sb, bad[i], NULL, NULL, NULL, &facts),
                     JX_EPLUGIN);
    assert_good_works(sb);
  }
  assert_error(jx_sandbox_react(sb, "err", NULL, NULL, NULL, &(jx_value){0}),
               JX_EPLUGIN, "(an error object that is a table value)");
  jx_sandbox_free(sb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sandbox__new_refuses_zero_limits),
      cmocka_unit_test(test_sandbox__guard_accepts),
      cmocka_unit_test(test_sandbox__guard_refuses),
      cmocka_unit_test(test_sandbox__guard_rule_defaults_to_module),
      cmocka_unit_test(test_sandbox__guard_bad_answers),
      cmocka_unit_test(test_sandbox__error_names_plugin),
      cmocka_unit_test(test_sandbox__load_errors),
      cmocka_unit_test(test_sandbox__load_replaces),
      cmocka_unit_test(test_sandbox__load_file),
      cmocka_unit_test(test_sandbox__load_refuses_bytecode),
      cmocka_unit_test(test_sandbox__infinite_loop_stopped),
      cmocka_unit_test(test_sandbox__wall_clock_stopped),
      cmocka_unit_test(test_sandbox__pcall_cannot_catch_limits),
      cmocka_unit_test(test_sandbox__bombs_stopped),
      cmocka_unit_test(test_sandbox__pattern_bomb_refused),
      cmocka_unit_test(test_sandbox__table_loops_bounded),
      cmocka_unit_test(test_sandbox__dangerous_globals_absent),
      cmocka_unit_test(test_sandbox__library_read_only),
      cmocka_unit_test(test_sandbox__fresh_environment),
      cmocka_unit_test(test_sandbox__library),
      cmocka_unit_test(test_sandbox__react_facts),
      cmocka_unit_test(test_sandbox__react_bad_results),
      cmocka_unit_test(test_sandbox__values_round_trip),
      cmocka_unit_test(test_sandbox__sorted_pairs),
      cmocka_unit_test(test_sandbox__usable_after_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
