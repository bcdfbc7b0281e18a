-- A tiny runner for plugin tests in plain Lua 5.4: `check(name, fn)` runs a
-- case, and `done()` prints a summary and exits non-zero on any failure.
local H = { failed = 0, passed = 0 }

-- Whether string a comes before string b byte by byte, whatever the locale.
local function bytewise(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The sandbox's sorted_pairs(t): the string keys of t in bytewise order,
-- other keys skipped.
local function sorted_pairs(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'sorted_pairs' (table expected, got "
      .. type(t) .. ")", 2)
  end
  local keys = {}
  for k in next, t do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys, bytewise)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, rawget(t, k) end
  end
end

-- A read-only copy of a library without the functions the sandbox drops.
local function readonly(lib, name, drop)
  local copy = {}
  for k, v in pairs(lib) do copy[k] = v end
  for _, k in ipairs(drop or {}) do copy[k] = nil end
  return setmetatable({}, {
    __index = copy,
    __newindex = function(_, k)
      error("attempt to change " .. name .. "." .. tostring(k)
        .. " in the sandbox", 2)
    end,
    __metatable = false,
  })
end

local STRING = readonly(string, "string", { "dump" })
local TABLE = readonly(table, "table")
local MATH = readonly(math, "math", { "random", "randomseed" })
local UTF8 = readonly(utf8, "utf8")

-- A fresh environment with the globals the sandbox gives a plugin and the
-- helper library (core/jx_sandbox.h), nothing else.
local function env()
  local e = {
    assert = assert, error = error, ipairs = ipairs, next = next,
    pairs = pairs, pcall = pcall, xpcall = xpcall, select = select,
    tonumber = tonumber, tostring = tostring, type = type,
    rawequal = rawequal, rawget = rawget, rawlen = rawlen,
    getmetatable = getmetatable, unpack = table.unpack,
    _VERSION = _VERSION, sorted_pairs = sorted_pairs,
    string = STRING, table = TABLE, math = MATH, utf8 = UTF8,
  }
  -- No finalizers, no weak tables.
  function e.setmetatable(t, mt)
    if type(mt) == "table" and (rawget(mt, "__gc") ~= nil
                                or rawget(mt, "__mode") ~= nil) then
      error("setmetatable: __gc and __mode are not available in the "
        .. "sandbox", 2)
    end
    return setmetatable(t, mt)
  end
  -- Text only, into this environment.
  function e.load(chunk, name, mode, env_arg)
    if env_arg ~= nil then
      error("load: the env argument is not available in the sandbox", 2)
    end
    if type(chunk) ~= "string" then
      error("bad argument #1 to 'load' (string expected, got "
        .. type(chunk) .. ")", 2)
    end
    return load(chunk, name or "=(load)", "t", e)
  end
  return e
end

-- The helper library plugins/jx.lua, loaded as the sandbox loads it.
function H.jx()
  return assert(loadfile("plugins/jx.lua", "t", env()))()
end

-- Loads a plugin as the sandbox does: in an environment of its own, with
-- the helper library as `jx`.
function H.load(file)
  local e = env()
  e.jx = H.jx()
  return assert(loadfile(file, "t", e))()
end

function H.check(name, fn)
  local ok, err = pcall(fn)
  if ok then
    H.passed = H.passed + 1
  else
    H.failed = H.failed + 1
    io.stderr:write("FAIL ", name, ": ", tostring(err), "\n")
  end
end

function H.refused(verdict, rule)
  assert(type(verdict) == "table", "expected a refusal, got " .. tostring(verdict))
  assert(verdict.reason and verdict.remedy, "refusal lacks reason or remedy")
  if rule then assert((verdict.rule or rule) == rule) end
end

function H.accepted(verdict)
  assert(verdict == true or verdict == nil,
         "expected acceptance, got refusal: " .. tostring(type(verdict) == "table" and verdict.reason))
end

function H.done()
  print(string.format("%d passed, %d failed", H.passed, H.failed))
  os.exit(H.failed == 0 and 0 or 1)
end

return H
