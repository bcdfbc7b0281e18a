#include "jx_sandbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "jx_buf.h"
#include "jx_err.h"

/* Instructions between two runs of the hook: its cost stays negligible and
 * a runaway loop is still stopped within microseconds of its budget. */
#define HOOK_EVERY 1000
/* Worst-case steps of one pattern call: the hook cannot interrupt the
 * matcher, so this bounds how far one call overruns max_ms.  Measured: 2^24
 * steps of .-.-b take up to 150 ms, ("a"):rep(4096):find(".-.-b") (1.1e10)
 * took 52 s; a*b on 4096 bytes (8.4e6) stays allowed. */
#define PATTERN_STEPS_MAX 16777216.0
/* What the message handler may allocate beyond the budget to describe a
 * failure: the call is ending, the plugin gets none of it. */
#define MSGH_HEADROOM (64 * 1024)

enum trip { TRIP_NONE, TRIP_INSTRUCTIONS, TRIP_MEMORY, TRIP_TIME };

typedef struct plugin {
  char *name;
  char *rule; /* the module's `rule` field, or NULL */
  int chunk;  /* registry reference to the compiled chunk */
  bool guard, react, report;
} plugin;

struct jx_sandbox {
  lua_State *L;
  jx_sandbox_limits limits;
  int env;           /* registry reference to the allow-list template */
  size_t used;       /* bytes Lua has allocated */
  size_t mem_limit;  /* growth past this is refused; SIZE_MAX between calls */
  bool refused;      /* the allocator refused growth during this call */
  uint64_t steps;    /* instructions counted during this call */
  uint64_t deadline; /* CLOCK_MONOTONIC ns when this call is stopped */
  enum trip trip;    /* the limit that stopped this call */
  char where[128];   /* "chunk:line" where the hook stopped it */
  plugin *plugins;
  size_t nplugins;
  int library; /* registry reference to a read-only view of the helper
                  library's table (the global `jx` of every call), or
                  LUA_NOREF */
};

static jx_sandbox *sandbox_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool in_set(char c, const char *set) {
  return c != '\0' && strchr(set, c) != NULL;
}

static char *dup_lstr(const char *s, size_t n) {
  char *d = jx_xmalloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/* ---- Limits ------------------------------------------------------------ */

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  jx_sandbox *sb = ud;
  if (!ptr)
    osize = 0; /* then it only tells what kind of object is created */
  if (nsize == 0) {
    free(ptr);
    sb->used -= osize;
    return NULL;
  }
  if (nsize > osize && nsize - osize > sb->mem_limit - sb->used) {
    /* Lua collects garbage and asks again before it raises LUA_ERRMEM, so
     * only a LUA_ERRMEM seen after a refusal means the limit was hit. */
    sb->refused = true;
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (!p && nsize > osize)
    return NULL;
  if (!p)
    p = ptr; /* Lua assumes shrinking never fails: the block still fits */
  sb->used = sb->used - osize + nsize;
  return p;
}

/* Whether the current call has been stopped by a limit; a LUA_ERRMEM after
 * the allocator refused growth becomes the memory limit here, so that no
 * later pcall can swallow it. */
static bool stopped(jx_sandbox *sb, int status) {
  if (sb->trip == TRIP_NONE && status == LUA_ERRMEM && sb->refused)
    sb->trip = TRIP_MEMORY;
  return sb->trip != TRIP_NONE;
}

static void hook(lua_State *L, lua_Debug *ar) {
  jx_sandbox *sb = sandbox_of(L);
  if (sb->trip == TRIP_NONE) {
    sb->steps += (uint64_t)lua_gethookcount(L);
    if (sb->steps >= sb->limits.max_instructions)
      sb->trip = TRIP_INSTRUCTIONS;
    else if (now_ns() >= sb->deadline)
      sb->trip = TRIP_TIME;
    else
      return;
    if (lua_getinfo(L, "Sl", ar))
      snprintf(sb->where, sizeof sb->where, "%s:%d", ar->short_src,
               ar->currentline);
    /* From now on every instruction raises: code that catches the error,
     * such as a __close handler, cannot get far. */
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
  }
  lua_pushliteral(L, "stopped by the sandbox");
  lua_error(L);
}

static void arm(jx_sandbox *sb) {
  const jx_sandbox_limits *lim = &sb->limits;
  sb->steps = 0;
  sb->refused = false;
  sb->mem_limit = lim->max_memory > SIZE_MAX - sb->used
                      ? SIZE_MAX
                      : sb->used + lim->max_memory;
  sb->deadline = now_ns() + (uint64_t)lim->max_ms * 1000000u;
  int count = lim->max_instructions < HOOK_EVERY ? (int)lim->max_instructions
                                                 : HOOK_EVERY;
  lua_sethook(sb->L, hook, LUA_MASKCOUNT, count);
}

static void disarm(jx_sandbox *sb) {
  sb->mem_limit = SIZE_MAX;
  lua_sethook(sb->L, NULL, 0, 0);
}

/* ---- The library as plugins see it -------------------------------------- */

/* Library functions replaced by a checking wrapper (a C closure over the
 * original and its index here). */
enum wrapped {
  W_FIND,
  W_MATCH,
  W_GMATCH,
  W_GSUB,
  W_REP,
  W_FORMAT,
  W_INSERT,
  W_REMOVE,
  W_SORT,
  W_CONCAT,
  W_MOVE,
};
static const char *const wrapped_names[] = {
    "string.find", "string.match",  "string.gmatch", "string.gsub",
    "string.rep",  "string.format", "table.insert",  "table.remove",
    "table.sort",  "table.concat",  "table.move"};

static int call_original(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* Index just past the single-character class at p[i] (as lstrlib's
 * classEnd; malformed patterns are left for lstrlib to report). */
static size_t class_end(const char *p, size_t lp, size_t i) {
  if (i >= lp)
    return lp;
  char c = p[i++];
  if (c == '%')
    return i < lp ? i + 1 : lp;
  if (c == '[') {
    if (i < lp && p[i] == '^')
      i++;
    do { /* the first character may be a literal ']' */
      if (i >= lp)
        return lp;
      if (p[i++] == '%' && i < lp)
        i++;
    } while (i < lp && p[i] != ']');
    return i < lp ? i + 1 : lp;
  }
  return i;
}

/* An upper bound of the steps of Lua's backtracking matcher for pattern p
 * on n bytes.  Each item that can span any number of positions (x*, x+, x-,
 * %bxy, a back-reference), and the choice of start when the pattern is not
 * anchored, nests one more loop: k of them try at most C(n + k, k)
 * combinations of positions, and each x? doubles that. */
static double pattern_steps(const char *p, size_t lp, size_t n,
                            bool may_anchor) {
  int k = 0, optional = 0;
  size_t i = 0;
  if (may_anchor && lp > 0 && p[0] == '^')
    i = 1;
  else
    k = 1;
  while (i < lp) {
    char next = i + 1 < lp ? p[i + 1] : '\0';
    if (p[i] == '(' || p[i] == ')') {
      i++;
    } else if (p[i] == '%' && next == 'b') {
      k++;
      i += 4;
    } else if (p[i] == '%' && next == 'f') {
      i = class_end(p, lp, i + 2);
    } else if (p[i] == '%' && next >= '0' && next <= '9') {
      k++;
      i += 2;
    } else {
      i = class_end(p, lp, i);
      if (i < lp && in_set(p[i], "*+-")) {
        k++;
        i++;
      } else if (i < lp && p[i] == '?') {
        optional++;
        i++;
      }
    }
  }
  double steps = 1;
  for (int j = 1; j <= k; j++)
    steps = steps * (double)(n + (size_t)j) / j;
  for (int j = 0; j < optional; j++)
    steps *= 2;
  return steps;
}

static int jxl_pattern(lua_State *L) {
  enum wrapped w = (enum wrapped)lua_tointeger(L, lua_upvalueindex(2));
  size_t ls, lp;
  luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  if (ls > JX_SANDBOX_SUBJECT_MAX)
    return luaL_error(L,
                      "%s: a subject of %I bytes is longer than the "
                      "sandbox allows for pattern functions (%d)",
                      wrapped_names[w], (lua_Integer)ls,
                      JX_SANDBOX_SUBJECT_MAX);
  if (w == W_FIND && lua_toboolean(L, 4))
    return call_original(L);
  /* Each matcher step may scan a whole class: bound the pattern too. */
  if (lp > JX_SANDBOX_PATTERN_MAX)
    return luaL_error(L,
                      "%s: a pattern of %I bytes is longer than the sandbox "
                      "allows (%d)",
                      wrapped_names[w], (lua_Integer)lp,
                      JX_SANDBOX_PATTERN_MAX);
  double steps = pattern_steps(p, lp, ls, w != W_GMATCH);
  if (steps > PATTERN_STEPS_MAX)
    return luaL_error(L,
                      "%s: pattern too complex for the sandbox (up to %I "
                      "steps on %I bytes, the limit is %I)",
                      wrapped_names[w],
                      (lua_Integer)(steps < 1e18 ? steps : 1e18),
                      (lua_Integer)ls, (lua_Integer)PATTERN_STEPS_MAX);
  return call_original(L);
}

static int jxl_rep(lua_State *L) {
  size_t l, lsep;
  luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  /* lstrlib would loop n times to copy nothing */
  if (n <= 0 || l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  if ((lua_Unsigned)n > (JX_SANDBOX_STRING_MAX + lsep) / (l + lsep))
    return luaL_error(L,
                      "string.rep: the result would be longer than the "
                      "sandbox allows (%d bytes)",
                      JX_SANDBOX_STRING_MAX);
  return call_original(L);
}

static int jxl_format(lua_State *L) {
  size_t lf;
  const char *f = luaL_checklstring(L, 1, &lf);
  for (size_t i = 0; i < lf; i++) {
    if (f[i] != '%')
      continue;
    for (i++; i < lf && in_set(f[i], "-+ #0123456789."); i++)
      ;
    if (i < lf && f[i] == 'p')
      return luaL_error(L, "string.format: %%p is not available in the "
                           "sandbox (addresses change from run to run)");
  }
  return call_original(L);
}

/* The table functions that loop in C over a length or a range. */
static int jxl_table(lua_State *L) {
  enum wrapped w = (enum wrapped)lua_tointeger(L, lua_upvalueindex(2));
  lua_Integer first = 1, last;
  /* appending and removing the last element do not loop */
  if ((w == W_INSERT && lua_gettop(L) == 2) ||
      (w == W_REMOVE && lua_isnoneornil(L, 2)))
    return call_original(L);
  if (w == W_MOVE) {
    first = luaL_checkinteger(L, 2);
    last = luaL_checkinteger(L, 3);
  } else if (w == W_CONCAT && !lua_isnoneornil(L, 4)) {
    first = luaL_optinteger(L, 3, 1);
    last = luaL_checkinteger(L, 4);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (w == W_CONCAT)
      first = luaL_optinteger(L, 3, 1);
    /* __len could report one length here and another to the original */
    if (luaL_getmetafield(L, 1, "__len") != LUA_TNIL)
      return luaL_error(L,
                        "%s: a table with a __len metamethod is not "
                        "accepted in the sandbox",
                        wrapped_names[w]);
    last = (lua_Integer)lua_rawlen(L, 1);
  }
  if (last >= first &&
      (lua_Unsigned)last - (lua_Unsigned)first >= JX_SANDBOX_TABLE_MAX)
    return luaL_error(L, "%s: more elements than the sandbox allows (%d)",
                      wrapped_names[w], JX_SANDBOX_TABLE_MAX);
  return call_original(L);
}

static int jxl_readonly(lua_State *L) {
  const char *lib = lua_tostring(L, lua_upvalueindex(1));
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "cannot set %s.%s: the sandbox's %s is read-only", lib,
                      lua_tostring(L, 2), lib);
  return luaL_error(L, "the sandbox's %s is read-only", lib);
}

static int jxl_setmetatable(lua_State *L) {
  static const char *const refused[] = {"__gc", "__mode"};
  if (lua_type(L, 2) == LUA_TTABLE) {
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
      lua_pushstring(L, refused[i]);
      if (lua_rawget(L, 2) != LUA_TNIL)
        return luaL_error(L,
                          "setmetatable: %s is not available in the "
                          "sandbox",
                          refused[i]);
      lua_pop(L, 1);
    }
  }
  return call_original(L);
}

/* pcall/xpcall results from `base` on; a limit is raised again rather than
 * returned, or the plugin could catch it and go on. */
static int pcall_results(lua_State *L, int status, int base) {
  if (status != LUA_OK && stopped(sandbox_of(L), status))
    return lua_error(L);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, base);
  return lua_gettop(L) - base + 1;
}

static int jxl_pcall(lua_State *L) {
  luaL_checkany(L, 1);
  int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  return pcall_results(L, status, 1);
}

static int jxl_xpcall(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 1); /* f, handler, f, args... */
  int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
  return pcall_results(L, status, 3);
}

/* load(chunk [, chunkname [, mode]]): source text only, compiled into the
 * caller's environment (upvalue 1); the mode argument is ignored. */
static int jxl_load(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  const char *chunkname = luaL_optstring(L, 2, "=(load)");
  if (!lua_isnoneornil(L, 4))
    return luaL_error(L, "load: the env argument is not available in the "
                         "sandbox");
  int status = luaL_loadbufferx(L, s, len, chunkname, "t");
  if (status != LUA_OK) {
    if (stopped(sandbox_of(L), status))
      return lua_error(L);
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setupvalue(L, -2, 1);
  return 1;
}

typedef struct skey {
  const char *s;
  size_t len;
  lua_Integer at; /* its index in the table of keys */
} skey;

static int skey_cmp(const void *a, const void *b) {
  const skey *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Upvalues: the table, its keys in order, the last index returned. */
static int sorted_next(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(3)) + 1;
  if (lua_rawgeti(L, lua_upvalueindex(2), i) == LUA_TNIL)
    return 0;
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(3));
  lua_pushvalue(L, -1);
  lua_rawget(L, lua_upvalueindex(1));
  return 2;
}

/* sorted_pairs(t): the string keys of t in bytewise order (as jx maps keep
 * them), whatever the locale; other keys are skipped. */
static int jxl_sorted_pairs(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_newtable(L); /* 2: the keys, unordered */
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, 2, ++n);
    }
  }
  skey *keys = lua_newuserdatauv(L, (size_t)n * sizeof *keys, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1); /* table 2 keeps the string alive */
    keys[i].s = lua_tolstring(L, -1, &keys[i].len);
    keys[i].at = i + 1;
    lua_pop(L, 1);
  }
  qsort(keys, (size_t)n, sizeof *keys, skey_cmp);
  lua_createtable(L, n < INT32_MAX ? (int)n : 0, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 2, keys[i].at);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, 1);
  lua_insert(L, -2);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, sorted_next, 3);
  return 1;
}

/* Replaces lib[name of w] by f closed over the original and w. */
static void wrap(lua_State *L, int lib, enum wrapped w, lua_CFunction f) {
  const char *field = strchr(wrapped_names[w], '.') + 1;
  lua_getfield(L, lib, field);
  lua_pushinteger(L, w);
  lua_pushcclosure(L, f, 2);
  lua_setfield(L, lib, field);
}

/* Pushes a table that reads through to the library at `lib` and raises on
 * any write; its metatable is hidden from getmetatable. */
static void push_readonly(lua_State *L, int lib, const char *name) {
  lua_newtable(L);
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, lib);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, jxl_readonly, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

/* Opens the five libraries, trims and wraps them, and builds the template
 * every call's environment is copied from.  Runs protected. */
static int setup(lua_State *L) {
  static const char *const base[] = {
      "assert",   "error",  "ipairs",       "next",    "pairs",
      "rawequal", "rawget", "rawlen",       "select",  "tonumber",
      "tostring", "type",   "getmetatable", "_VERSION"};
  jx_sandbox *sb = lua_touserdata(L, 1);
  lua_createtable(L, 0, 24); /* 2: the template */

  luaL_requiref(L, "_G", luaopen_base, 0); /* 3 */
  for (size_t i = 0; i < sizeof base / sizeof *base; i++) {
    lua_getfield(L, 3, base[i]);
    lua_setfield(L, 2, base[i]);
  }
  lua_getfield(L, 3, "setmetatable");
  lua_pushcclosure(L, jxl_setmetatable, 1);
  lua_setfield(L, 2, "setmetatable");
  lua_pushcfunction(L, jxl_pcall);
  lua_setfield(L, 2, "pcall");
  lua_pushcfunction(L, jxl_xpcall);
  lua_setfield(L, 2, "xpcall");
  lua_pushcfunction(L, jxl_sorted_pairs);
  lua_setfield(L, 2, "sorted_pairs");
  lua_pop(L, 1);

  /* The string library is also the strings' metatable __index, so methods
   * ("x"):rep() see the same trimmed and wrapped functions. */
  luaL_requiref(L, "string", luaopen_string, 0);
  lua_pushnil(L);
  lua_setfield(L, 3, "dump");
  for (enum wrapped w = W_FIND; w <= W_GSUB; w++)
    wrap(L, 3, w, jxl_pattern);
  wrap(L, 3, W_REP, jxl_rep);
  wrap(L, 3, W_FORMAT, jxl_format);
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  push_readonly(L, 3, "string");
  lua_setfield(L, 2, "string");
  lua_pop(L, 1);

  luaL_requiref(L, "table", luaopen_table, 0);
  for (enum wrapped w = W_INSERT; w <= W_MOVE; w++)
    wrap(L, 3, w, jxl_table);
  lua_getfield(L, 3, "unpack");
  lua_setfield(L, 2, "unpack");
  push_readonly(L, 3, "table");
  lua_setfield(L, 2, "table");
  lua_pop(L, 1);

  luaL_requiref(L, "math", luaopen_math, 0);
  lua_pushnil(L);
  lua_setfield(L, 3, "random");
  lua_pushnil(L);
  lua_setfield(L, 3, "randomseed");
  push_readonly(L, 3, "math");
  lua_setfield(L, 2, "math");
  lua_pop(L, 1);

  luaL_requiref(L, "utf8", luaopen_utf8, 0);
  push_readonly(L, 3, "utf8");
  lua_setfield(L, 2, "utf8");
  lua_pop(L, 1);

  sb->env = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

/* Pushes a fresh environment: a copy of the template plus a `load` bound to
 * this environment. */
static void push_env(lua_State *L, jx_sandbox *sb) {
  lua_createtable(L, 0, 24);
  lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, jxl_load, 1);
  lua_setfield(L, -2, "load");
}

/* ---- Values across the boundary ------------------------------------------ */

static void push_value(lua_State *L, const jx_value *v, int depth) {
  if (depth > JX_SANDBOX_MAX_DEPTH)
    luaL_error(L, "an argument is nested deeper than %d levels",
               JX_SANDBOX_MAX_DEPTH);
  luaL_checkstack(L, 3, "nested argument");
  switch (v->type) {
  case JX_NIL:
    lua_pushnil(L);
    break;
  case JX_BOOL:
    lua_pushboolean(L, v->u.b);
    break;
  case JX_INT:
    lua_pushinteger(L, (lua_Integer)v->u.i);
    break;
  case JX_FLOAT:
    lua_pushnumber(L, (lua_Number)v->u.f);
    break;
  case JX_STR:
    lua_pushlstring(L, v->u.s.ptr, v->u.s.len);
    break;
  case JX_ARRAY:
    lua_createtable(L, v->u.a.len < INT32_MAX ? (int)v->u.a.len : 0, 0);
    for (size_t i = 0; i < v->u.a.len; i++) {
      push_value(L, &v->u.a.items[i], depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  case JX_MAP:
    lua_createtable(L, 0, v->u.m.len < INT32_MAX ? (int)v->u.m.len : 0);
    for (size_t i = 0; i < v->u.m.len; i++) {
      push_value(L, &v->u.m.items[i].val, depth + 1);
      lua_setfield(L, -2, v->u.m.items[i].key);
    }
    break;
  }
}

/* A conversion from Lua to jx_value, done outside any protected call: it
 * uses only API functions that cannot raise. */
typedef struct conv {
  size_t size;                            /* bytes converted so far */
  int depth;                              /* tables open below the root */
  const void *open[JX_SANDBOX_MAX_DEPTH]; /* those tables, for cycles */
  char path[256];                         /* where we are: ".a[2].b" */
  char msg[512];                          /* why it failed */
} conv;

static int conv_fail(conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int conv_fail(conv *c, const char *fmt, ...) {
  char what[224]; /* fits in msg with the path */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(c->msg, sizeof c->msg, "%s (at result%s)", what, c->path);
  return -1;
}

static int charge(conv *c, size_t bytes) {
  c->size += sizeof(jx_value) + bytes;
  if (c->size > JX_SANDBOX_RESULT_MAX)
    return conv_fail(c,
                     "the result is larger than the sandbox allows (%d "
                     "bytes)",
                     JX_SANDBOX_RESULT_MAX);
  return 0;
}

static size_t path_push(conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t path_push(conv *c, const char *fmt, ...) {
  size_t old = strlen(c->path);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->path + old, sizeof c->path - old, fmt, ap);
  va_end(ap);
  return old;
}

static int to_value(lua_State *L, int idx, conv *c, jx_value *out);

static int array_to_value(lua_State *L, int idx, size_t n, conv *c,
                          jx_value *out) {
  *out = jx_array();
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i);
    size_t mark = path_push(c, "[%zu]", i);
    jx_value v;
    int rc = to_value(L, -1, c, &v);
    c->path[mark] = '\0';
    lua_pop(L, 1);
    if (rc) {
      jx_value_free(out);
      return rc;
    }
    jx_array_push(out, v);
  }
  return 0;
}

static int map_to_value(lua_State *L, int idx, conv *c, jx_value *out) {
  *out = jx_map();
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t klen;
    const char *k = lua_tolstring(L, -2, &klen); /* a string: no conversion */
    size_t mark = path_push(c, ".%.40s", k);
    jx_value v = jx_nil();
    int rc = strlen(k) != klen ? conv_fail(c, "a key contains a NUL byte")
                               : charge(c, klen);
    if (!rc)
      rc = to_value(L, -1, c, &v);
    c->path[mark] = '\0';
    if (rc) {
      lua_pop(L, 2);
      jx_value_free(out);
      return rc;
    }
    jx_map_set(out, k, v);
    lua_pop(L, 1);
  }
  return 0;
}

static int table_to_value(lua_State *L, int idx, conv *c, jx_value *out) {
  const void *self = lua_topointer(L, idx);
  for (int i = 0; i < c->depth; i++)
    if (c->open[i] == self)
      return conv_fail(c, "a table contains itself");
  if (c->depth == JX_SANDBOX_MAX_DEPTH)
    return conv_fail(c, "tables are nested deeper than %d levels",
                     JX_SANDBOX_MAX_DEPTH);
  if (!lua_checkstack(L, 4))
    return conv_fail(c, "out of Lua stack");
  if (charge(c, 0))
    return -1;
  idx = lua_absindex(L, idx);
  /* An array has exactly the keys 1..n; a map only string keys. */
  size_t n = 0, strings = 0;
  lua_Integer max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    n++;
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings++;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
      if (lua_tointeger(L, -1) > max)
        max = lua_tointeger(L, -1);
    } else {
      int t = lua_type(L, -1);
      double key = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (t == LUA_TNUMBER)
        return conv_fail(c,
                         "a table has the key %.14g; keys are strings, "
                         "or 1..n for an array",
                         key);
      return conv_fail(c,
                       "a table has a %s key; keys are strings, or 1..n "
                       "for an array",
                       lua_typename(L, t));
    }
  }
  if (strings && strings != n)
    return conv_fail(c, "a table mixes string keys and array indices");
  if (!strings && (lua_Unsigned)max != n)
    return conv_fail(c,
                     "an array has holes (%zu elements, largest index "
                     "%lld)",
                     n, (long long)max);
  c->open[c->depth++] = self;
  int rc = n && !strings ? array_to_value(L, idx, n, c, out)
                         : map_to_value(L, idx, c, out);
  c->depth--;
  return rc;
}

static int to_value(lua_State *L, int idx, conv *c, jx_value *out) {
  *out = jx_nil();
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return charge(c, 0);
  case LUA_TBOOLEAN:
    *out = jx_bool(lua_toboolean(L, idx));
    return charge(c, 0);
  case LUA_TNUMBER:
    *out = lua_isinteger(L, idx) ? jx_int((int64_t)lua_tointeger(L, idx))
                                 : jx_float((double)lua_tonumber(L, idx));
    return charge(c, 0);
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (charge(c, len))
      return -1;
    *out = jx_strn(s, len);
    return 0;
  }
  case LUA_TTABLE:
    return table_to_value(L, idx, c, out);
  default:
    return conv_fail(c, "a %s cannot leave the sandbox", luaL_typename(L, idx));
  }
}

/* ---- Protected runs ---------------------------------------------------- */

/* The message handler of every plugin run (as Neovim's nlua_pcall): the
 * message and the Lua frames where it was raised, on one line. */
static int msgh(lua_State *L) {
  jx_sandbox *sb = sandbox_of(L);
  if (sb->mem_limit - sb->used < MSGH_HEADROOM)
    sb->mem_limit = sb->used + MSGH_HEADROOM;
  const char *msg = lua_tostring(L, 1);
  if (!msg) /* never __tostring: that would run plugin code here */
    msg = lua_pushfstring(L, "(an error object that is a %s value)",
                          luaL_typename(L, 1));
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, msg);
  lua_Debug ar;
  int frames = 0;
  for (int level = 1; frames < 4 && lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sln", &ar);
    if (ar.currentline <= 0)
      continue; /* a C function */
    luaL_addstring(&b, frames++ ? "; " : " (traceback: ");
    if (*ar.namewhat)
      lua_pushfstring(L, "%s:%d in %s '%s'", ar.short_src, ar.currentline,
                      ar.namewhat, ar.name);
    else if (*ar.what == 'm')
      lua_pushfstring(L, "%s:%d in main chunk", ar.short_src, ar.currentline);
    else
      lua_pushfstring(L, "%s:%d in function <%s:%d>", ar.short_src,
                      ar.currentline, ar.short_src, ar.linedefined);
    luaL_addvalue(&b);
  }
  if (frames)
    luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  return 1;
}

/* One run of plugin code, described for the protected functions below. */
typedef struct run {
  jx_sandbox *sb;
  /* loading */
  const char *src, *chunkname;
  size_t len;
  bool library;      /* loading the helper library, not a plugin */
  int chunk;         /* out: registry reference to the compiled chunk */
  bool guard, react, report; /* out: what the module defines */
  char *rule;        /* out: its `rule`, owned by the caller */
  /* calling */
  const plugin *p;
  const char *fn; /* "guard", "react" or "report" */
  const jx_value *args[3];
} run;

static int rawfield(lua_State *L, int t, const char *key) {
  lua_pushstring(L, key);
  return lua_rawget(L, t);
}

/* Runs the chunk on top of the stack in a fresh environment and replaces it
 * by the module table it returns.  A plugin's environment gets `jx`, the
 * helper library, through a read-only view.  The library runs once and
 * serves every call (running it afresh per call was a third of the time of
 * a decision), so its own globals are read-only too: nothing a call does
 * can reach the next. */
static void run_chunk(lua_State *L, jx_sandbox *sb, bool library) {
  push_env(L, sb);
  if (library) {
    /* `load` would run chunks in the writable environment underneath. */
    lua_pushnil(L);
    lua_setfield(L, -2, "load");
    push_readonly(L, lua_gettop(L), "library");
    lua_remove(L, -2);
  } else if (sb->library != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->library);
    lua_setfield(L, -2, "jx");
  }
  lua_setupvalue(L, -2, 1); /* a main chunk's only upvalue is _ENV */
  lua_call(L, 0, 1);
  if (!lua_istable(L, -1))
    luaL_error(L, "the chunk returned %s, not a module table",
               luaL_typename(L, -1));
}

static bool module_has(lua_State *L, int module, const char *fn) {
  int t = rawfield(L, module, fn);
  lua_pop(L, 1);
  if (t != LUA_TNIL && t != LUA_TFUNCTION)
    luaL_error(L, "the module's %s is a %s, not a function", fn,
               lua_typename(L, t));
  return t == LUA_TFUNCTION;
}

static int run_load(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  arm(r->sb);
  if (luaL_loadbufferx(L, r->src, r->len, r->chunkname, "t") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 2);
  run_chunk(L, r->sb, r->library); /* 3: the module */
  if (r->library) {
    /* A table in it would be shared, and writable, by every call. */
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      if (lua_type(L, -1) == LUA_TTABLE)
        return luaL_error(L, "the library's %s is a table: a shared library "
                             "may hold only functions and constants",
                          lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                         : "field");
      lua_pop(L, 1);
    }
    push_readonly(L, 3, "jx");
    r->chunk = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
  }
  r->guard = module_has(L, 3, "guard");
  r->react = module_has(L, 3, "react");
  r->report = module_has(L, 3, "report");
  if (!r->guard && !r->react && !r->report)
    return luaL_error(L, "the module defines no guard, react or report");
  int t = rawfield(L, 3, "rule");
  if (t != LUA_TNIL && t != LUA_TSTRING)
    return luaL_error(L, "the module's rule is a %s, not a string",
                      lua_typename(L, t));
  lua_pushvalue(L, 2);
  r->chunk = luaL_ref(L, LUA_REGISTRYINDEX);
  r->rule = t == LUA_TSTRING ? jx_xstrdup(lua_tostring(L, -1)) : NULL;
  return 0;
}

static int run_call(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  for (int i = 0; i < 3; i++) /* 2, 3, 4 */
    if (r->args[i])
      push_value(L, r->args[i], 0);
    else
      lua_pushnil(L);
  arm(r->sb); /* the arguments are the engine's, not the plugin's */
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->p->chunk);
  run_chunk(L, r->sb, false); /* 5: the module */
  if (rawfield(L, 5, r->fn) != LUA_TFUNCTION)
    return luaL_error(L, "the module has no %s function on this run", r->fn);
  for (int i = 2; i <= 4; i++)
    lua_pushvalue(L, i);
  lua_call(L, 3, 1);
  return 1;
}

/* Runs f(r) protected, within the limits.  On 0 the stack is the handler
 * and f's one result (index 2); the caller empties it.  Otherwise returns
 * JX_EPLUGIN "WHO: ..." with an empty stack. */
static int protect(jx_sandbox *sb, lua_CFunction f, run *r, const char *who) {
  lua_State *L = sb->L;
  lua_settop(L, 0);
  sb->trip = TRIP_NONE;
  sb->where[0] = '\0';
  lua_pushcfunction(L, msgh);
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, r);
  int status = lua_pcall(L, 1, 1, 1);
  /* The hook runs between instructions only: a call that overran its time
   * inside C functions still returns normally.  Its answer is void. */
  if (status == LUA_OK && now_ns() >= sb->deadline) {
    status = LUA_ERRRUN;
    sb->trip = TRIP_TIME;
  }
  disarm(sb);
  if (status == LUA_OK)
    return 0;
  const char *at = sb->where[0] ? " at " : "";
  int rc;
  switch (stopped(sb, status) ? sb->trip : TRIP_NONE) {
  case TRIP_INSTRUCTIONS:
    rc = jx_err_set(JX_EPLUGIN,
                    "%s: exceeded the limit of %" PRIu64 " instructions%s%s",
                    who, sb->limits.max_instructions, at, sb->where);
    break;
  case TRIP_MEMORY:
    rc = jx_err_set(JX_EPLUGIN, "%s: exceeded the memory limit of %zu bytes",
                    who, sb->limits.max_memory);
    break;
  case TRIP_TIME:
    rc = jx_err_set(JX_EPLUGIN, "%s: ran longer than %" PRIu32 " ms%s%s", who,
                    sb->limits.max_ms, at, sb->where);
    break;
  default: {
    const char *msg = lua_tostring(L, -1);
    rc = jx_err_set(JX_EPLUGIN, "%s: %s", who, msg ? msg : "unknown error");
  }
  }
  lua_settop(L, 0);
  return rc;
}

/* ---- Public API ---------------------------------------------------------- */

int jx_sandbox_new(jx_sandbox **out, const jx_sandbox_limits *limits) {
  *out = NULL;
  if (!limits || !limits->max_instructions || !limits->max_memory ||
      !limits->max_ms)
    return jx_err_set(JX_EINVAL, "sandbox limits max_instructions, "
                                 "max_memory and max_ms must all be "
                                 "greater than 0");
  jx_sandbox *sb = jx_xmalloc(sizeof *sb);
  memset(sb, 0, sizeof *sb);
  sb->limits = *limits;
  sb->mem_limit = SIZE_MAX;
  sb->library = LUA_NOREF;
  sb->L = lua_newstate(sb_alloc, sb);
  if (!sb->L) {
    free(sb);
    return jx_err_set(JX_EPLUGIN, "cannot create a Lua state: out of memory");
  }
  lua_pushcfunction(sb->L, setup);
  lua_pushlightuserdata(sb->L, sb);
  if (lua_pcall(sb->L, 1, 0, 0) != LUA_OK) {
    int rc = jx_err_set(JX_EPLUGIN, "cannot set up the Lua sandbox: %s",
                        lua_tostring(sb->L, -1));
    jx_sandbox_free(sb);
    return rc;
  }
  *out = sb;
  return 0;
}

void jx_sandbox_free(jx_sandbox *sb) {
  if (!sb)
    return;
  lua_close(sb->L);
  for (size_t i = 0; i < sb->nplugins; i++) {
    free(sb->plugins[i].name);
    free(sb->plugins[i].rule);
  }
  free(sb->plugins);
  free(sb);
}

static plugin *find(const jx_sandbox *sb, const char *name) {
  for (size_t i = 0; i < sb->nplugins; i++)
    if (strcmp(sb->plugins[i].name, name) == 0)
      return &sb->plugins[i];
  return NULL;
}

/* Compiles and runs src once (text only) to check it; `r` says what. */
static int compile(jx_sandbox *sb, run *r, const char *who) {
  if (r->len >= 4 && memcmp(r->src, "\x1bLua", 4) == 0)
    return jx_err_set(JX_EPLUGIN,
                      "%s: precompiled bytecode is refused; "
                      "plugins are loaded from Lua source",
                      who);
  int rc = protect(sb, run_load, r, who);
  lua_settop(sb->L, 0);
  return rc;
}

int jx_sandbox_set_library(jx_sandbox *sb, const char *chunkname,
                           const char *src, size_t len) {
  run r = {.sb = sb,
           .src = src,
           .len = len,
           .chunkname = chunkname,
           .library = true};
  int rc = compile(sb, &r, "the plugin library");
  if (rc)
    return rc;
  luaL_unref(sb->L, LUA_REGISTRYINDEX, sb->library);
  sb->library = r.chunk;
  return 0;
}

static int load(jx_sandbox *sb, const char *name, const char *who,
                const char *chunkname, const char *src, size_t len) {
  run r = {.sb = sb, .src = src, .len = len, .chunkname = chunkname};
  int rc = compile(sb, &r, who);
  if (rc)
    return rc;
  plugin *p = find(sb, name);
  if (p) {
    luaL_unref(sb->L, LUA_REGISTRYINDEX, p->chunk);
    free(p->rule);
  } else {
    sb->plugins =
        jx_xrealloc(sb->plugins, (sb->nplugins + 1) * sizeof *sb->plugins);
    p = &sb->plugins[sb->nplugins++];
    p->name = jx_xstrdup(name);
  }
  p->chunk = r.chunk;
  p->rule = r.rule;
  p->guard = r.guard;
  p->react = r.react;
  p->report = r.report;
  return 0;
}

int jx_sandbox_load_string(jx_sandbox *sb, const char *name,
                           const char *chunkname, const char *src, size_t len) {
  if (!name || !*name)
    return jx_err_set(JX_EINVAL, "a plugin needs a non-empty name");
  char who[256];
  snprintf(who, sizeof who, "plugin %s", name);
  jx_buf cn = JX_BUF_INIT;
  if (!chunkname) {
    jx_buf_printf(&cn, "=%s", name);
    chunkname = cn.data;
  }
  int rc = load(sb, name, who, chunkname, src, len);
  jx_buf_free(&cn);
  return rc;
}

int jx_sandbox_load(jx_sandbox *sb, const char *name, const char *path) {
  if (!name || !*name)
    return jx_err_set(JX_EINVAL, "a plugin needs a non-empty name");
  char who[512];
  snprintf(who, sizeof who, "plugin %s (%s)", name, path);
  jx_buf src = JX_BUF_INIT, chunkname = JX_BUF_INIT;
  int rc, err = jx_buf_read_file(&src, path, sb->limits.max_memory);
  if (err == EFBIG)
    rc = jx_err_set(JX_EPLUGIN,
                    "%s: the file is larger than the memory limit of %zu "
                    "bytes",
                    who, sb->limits.max_memory);
  else if (err)
    rc = jx_err_set(JX_EPLUGIN, "%s: cannot read the file: %s", who,
                    strerror(err));
  else {
    jx_buf_printf(&chunkname, "@%s", path);
    rc = load(sb, name, who, chunkname.data, src.len ? src.data : "", src.len);
  }
  jx_buf_free(&src);
  jx_buf_free(&chunkname);
  return rc;
}

bool jx_sandbox_has(const jx_sandbox *sb, const char *name, const char *fn) {
  const plugin *p = find(sb, name);
  if (!p)
    return false;
  if (strcmp(fn, "guard") == 0)
    return p->guard;
  return strcmp(fn, "react") == 0 && p->react;
}

void jx_verdict_free(jx_verdict *v) {
  if (!v)
    return;
  free(v->rule);
  free(v->reason);
  free(v->remedy);
  *v = (jx_verdict){0};
}

/* Reads the refusal's string field `key` (index 2 holds the table) into
 * *out (NULL when absent); a value of another type is an error. */
static int refusal_field(lua_State *L, const char *who, const char *key,
                         size_t *total, char **out) {
  *out = NULL;
  int t = rawfield(L, 2, key);
  if (t == LUA_TNIL)
    return 0;
  if (t != LUA_TSTRING)
    return jx_err_set(JX_EPLUGIN,
                      "%s: the guard's refusal has a %s %s; "
                      "it must be a string",
                      who, lua_typename(L, t), key);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  *total += len;
  if (*total > JX_SANDBOX_RESULT_MAX)
    return jx_err_set(JX_EPLUGIN,
                      "%s: the guard's refusal is larger than "
                      "the sandbox allows (%d bytes)",
                      who, JX_SANDBOX_RESULT_MAX);
  *out = dup_lstr(s, len);
  return 0;
}

/* Finds plugin `name` and writes "plugin NAME" into who. */
static int lookup(jx_sandbox *sb, const char *name, const plugin **p, char *who,
                  size_t whosize) {
  *p = find(sb, name);
  if (!*p)
    return jx_err_set(JX_ENOTFOUND, "plugin %s is not loaded", name);
  snprintf(who, whosize, "plugin %s", name);
  return 0;
}

int jx_sandbox_guard(jx_sandbox *sb, const char *name, const jx_value *state,
                     const jx_value *event, const jx_value *params,
                     jx_verdict *out) {
  *out = (jx_verdict){0};
  char who[256];
  const plugin *p;
  int rc = lookup(sb, name, &p, who, sizeof who);
  if (rc || !p->guard)
    return rc;
  run r = {.sb = sb, .p = p, .fn = "guard", .args = {state, event, params}};
  if ((rc = protect(sb, run_call, &r, who)))
    return rc;
  lua_State *L = sb->L;
  int t = lua_type(L, 2);
  size_t total = 0;
  if (t == LUA_TNIL || (t == LUA_TBOOLEAN && lua_toboolean(L, 2))) {
    rc = 0;
  } else if (t != LUA_TTABLE) {
    rc = jx_err_set(JX_EPLUGIN,
                    "%s: guard returned %s%s; expected true or "
                    "nil to accept, or a table {rule, reason, "
                    "remedy} to refuse",
                    who, t == LUA_TBOOLEAN ? "" : "a ",
                    t == LUA_TBOOLEAN ? "false" : lua_typename(L, t));
  } else if (!(rc = refusal_field(L, who, "rule", &total, &out->rule)) &&
             !(rc = refusal_field(L, who, "reason", &total, &out->reason)) &&
             !(rc = refusal_field(L, who, "remedy", &total, &out->remedy))) {
    if (!out->rule && p->rule)
      out->rule = jx_xstrdup(p->rule);
    if (!out->rule)
      rc = jx_err_set(JX_EPLUGIN,
                      "%s: the guard's refusal has no rule and "
                      "the module no default rule",
                      who);
    else if (!out->reason || !out->remedy)
      rc = jx_err_set(JX_EPLUGIN,
                      "%s: the guard's refusal needs a reason "
                      "and a remedy (strings)",
                      who);
    else
      out->refused = true;
  }
  if (rc)
    jx_verdict_free(out);
  lua_settop(L, 0);
  return rc;
}

/* Calls name.fn(a, b, c) ("react" or "report") for a table with string
 * keys into *out: an empty map when fn returns nil, or when the module has
 * no fn and that is allowed (a react is optional, a report is not). */
static int call_for_map(jx_sandbox *sb, const char *name, const char *fn,
                        const jx_value *a, const jx_value *b,
                        const jx_value *c, jx_value *out) {
  *out = jx_nil();
  char who[256];
  const plugin *p;
  int rc = lookup(sb, name, &p, who, sizeof who);
  if (rc)
    return rc;
  bool report = strcmp(fn, "report") == 0;
  if (!(report ? p->report : p->react)) {
    if (report)
      return jx_err_set(JX_EINVAL, "%s has no report function", who);
    *out = jx_map();
    return 0;
  }
  run r = {.sb = sb, .p = p, .fn = fn, .args = {a, b, c}};
  if ((rc = protect(sb, run_call, &r, who)))
    return rc;
  lua_State *L = sb->L;
  int t = lua_type(L, 2);
  conv cv = {0};
  if (t == LUA_TNIL) {
    *out = jx_map();
  } else if (t != LUA_TTABLE) {
    rc = jx_err_set(JX_EPLUGIN, "%s: %s returned a %s; expected a table or nil",
                    who, fn, lua_typename(L, t));
  } else if (to_value(L, 2, &cv, out)) {
    rc = jx_err_set(JX_EPLUGIN,
                    "%s: %s returned a table that cannot leave the sandbox: "
                    "%s",
                    who, fn, cv.msg);
  } else if (out->type != JX_MAP) {
    jx_value_free(out);
    rc = jx_err_set(JX_EPLUGIN,
                    "%s: %s returned an array; expected a table with string "
                    "keys",
                    who, fn);
  }
  lua_settop(L, 0);
  return rc;
}

int jx_sandbox_react(jx_sandbox *sb, const char *name, const jx_value *state,
                     const jx_value *event, const jx_value *params,
                     jx_value *facts) {
  return call_for_map(sb, name, "react", state, event, params, facts);
}

int jx_sandbox_report(jx_sandbox *sb, const char *name,
                      const jx_value *projects, const jx_value *params,
                      const jx_value *context, jx_value *out) {
  return call_for_map(sb, name, "report", projects, params, context, out);
}
