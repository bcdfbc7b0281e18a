-- A tiny runner for plugin tests in plain Lua 5.4: `check(name, fn)` runs a
-- case, and `done()` prints a summary and exits non-zero on any failure.
local H = { failed = 0, passed = 0 }

-- Loads a plugin as the sandbox does: in an environment of its own, with
-- the helper library as `jx`.
local function env()
  return {
    string = string, table = table, math = math, ipairs = ipairs,
    pairs = pairs, type = type, tostring = tostring, tonumber = tonumber,
  }
end

function H.load(file)
  local e = env()
  e.jx = assert(loadfile("plugins/jx.lua", "t", env()))()
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
