-- The helpers every rule plugin may use, as the global `jx`.  Pure
-- functions only: they run in the sandbox without clock, I/O or
-- randomness.  The library is run once and shared by every call,
-- read-only: its functions keep no state (a global write is an error).
local jx = {}

-- Whether `value` is one of the elements of `list`.
function jx.member(list, value)
  for _, v in ipairs(list or {}) do
    if v == value then return true end
  end
  return false
end

-- An amount of yuan as people write it: 5000000 -> "5,000,000".
function jx.yuan(n)
  local s = string.format("%d", n)
  local sign, digits = s:match("^(-?)(%d+)$")
  digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return sign .. digits:gsub("^,", "")
end

-- ---- Evaluation (R-6): grades, indicator scores, the self-evaluation ----
-- These return their result, or nil and a sentence saying what is wrong
-- with the input; they never raise, so a guard can turn the sentence into
-- a refusal.  The national rules (财预〔2020〕10号) they follow:
--
-- An indicator is a table with a name and a comparator:
--   { indicator = "schools renovated", comparator = ">=", target = 12,
--     actual = 11, unit = "schools" }           -- also "<=", "=", "≥", "≤"
--   { indicator = "teaching quality", comparator = "qualitative",
--     band = "80-100", achieved = 0.9 }
-- A quantitative one met earns full marks; not met, actual / target of
-- them for ">=", target / actual for "<=", min / max of the two for "="
-- (the closer, the more), never above full nor below 0, and 0 when target
-- or actual is 0 or less (no proportion means anything there).  A
-- qualitative one is judged into a band of its marks, "80-100" (80 %
-- included), "60-80" (60 % included) or "0-60"; `achieved` is the fraction
-- of the marks given within that band (0.8 <= achieved <= 1 for
-- "80-100") and, when left out, the band's lowest (0.8, 0.6, 0).
--
-- A self-evaluation is a table
--   { execution = { allocated = yuan, spent = yuan },
--     output = { indicator, ... }, outcome = { ... }, satisfaction = { ... } }
-- scored out of 100: execution earns its weight times the execution rate
-- spent / allocated (capped at 1: spending more is not rewarded); each
-- other category's weight is split equally among its indicators.  A
-- category left out or empty earns 0, not full marks: full marks would
-- pay a project for setting no targets (which R-3 makes a precondition);
-- where a category does not apply, the bureau gives it weight 0.
-- Category scores are rounded to 0.01 and the total is their sum, so the
-- parts a score sheet shows add up to it.

-- Grades from the top; a score below the lowest band is "poor".
local GRADES = { "excellent", "good", "fair" }
local ZH = { excellent = "优", good = "良", fair = "中", poor = "差" }
local EN = {
  ["优"] = "excellent", ["良"] = "good", ["中"] = "fair", ["差"] = "poor",
}
-- The self-evaluation's categories, execution first.
local CATEGORIES = { "execution", "output", "outcome", "satisfaction" }
local COMPARATORS = {
  [">="] = ">=", ["≥"] = ">=", ["<="] = "<=", ["≤"] = "<=", ["="] = "=",
  qualitative = "qualitative",
}
-- Qualitative bands as fractions of the marks: lowest, highest, and whether
-- the highest belongs to the band (national rule: 100-80% (80 included),
-- 80-60% (60 included), 60-0%).
local BANDS = {
  ["80-100"] = { 0.8, 1, true }, ["60-80"] = { 0.6, 0.8, false },
  ["0-60"] = { 0, 0.6, false },
}

local function finite(x)
  return type(x) == "number" and x == x and x > -math.huge and x < math.huge
end

local function nkeys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- To 0.01, halves away from zero (scores are never negative).
local function round2(x)
  return math.floor(x * 100 + 0.5) / 100
end

-- The national grade bands (财预〔2020〕10号), a fresh table: score >= band.
function jx.default_bands() return { excellent = 90, good = 80, fair = 60 } end

-- The national self-evaluation weights, a fresh table summing to 100.
function jx.default_weights()
  return { execution = 10, output = 50, outcome = 30, satisfaction = 10 }
end

-- Points as people write them, to 0.01: 87.5 -> "87.5", 90 -> "90".
function jx.points(x)
  return (string.format("%.2f", x):gsub("%.?0+$", ""))
end

local function check_bands(bands)
  if bands == nil then return jx.default_bands() end
  if type(bands) ~= "table" then
    return nil, "bands must be a table like "
      .. "{excellent = 90, good = 80, fair = 60}"
  end
  for _, g in ipairs(GRADES) do
    if not finite(bands[g]) then
      return nil, "bands." .. g .. " is not a number"
    end
  end
  if nkeys(bands) ~= #GRADES then
    return nil, "bands may have only the keys excellent, good and fair"
  end
  if not (0 <= bands.fair and bands.fair <= bands.good
          and bands.good <= bands.excellent and bands.excellent <= 100) then
    return nil, "bands must satisfy 0 <= fair <= good <= excellent <= 100"
  end
  return bands
end

-- A score's grade, excellent/good/fair/poor: score >= band (default bands).
function jx.grade(score, bands)
  local b, why = check_bands(bands)
  if not b then return nil, why end
  if not finite(score) then return nil, "the score is not a finite number" end
  for _, g in ipairs(GRADES) do
    if score >= b[g] then return g end
  end
  return "poor"
end

-- A grade's Chinese name, "good" -> "良" ("良" -> "良"; anything else nil).
function jx.grade_zh(grade)
  if EN[grade] then return grade end
  return ZH[grade]
end

-- The fraction 0..1 of its marks an indicator earns, or nil and why.
local function fraction(ind)
  if type(ind) ~= "table" then return nil, "is not a table" end
  if type(ind.indicator) ~= "string" or ind.indicator == "" then
    return nil, "has no indicator name"
  end
  local cmp = COMPARATORS[ind.comparator]
  if not cmp then
    return nil, "has comparator " .. tostring(ind.comparator)
      .. "; it must be >=, <=, =, ≥, ≤ or qualitative"
  end
  if cmp == "qualitative" then
    local band = BANDS[ind.band]
    if not band then
      return nil, "is qualitative and needs band "
        .. "\"80-100\", \"60-80\" or \"0-60\""
    end
    local a = ind.achieved
    if a == nil then return band[1] end
    if not finite(a) or a < band[1] or a > band[2]
       or (a == band[2] and not band[3]) then
      return nil, string.format("has achieved = %s outside its band %s (a "
        .. "fraction of the marks: 80-100 is 0.8 to 1, 60-80 is 0.6 to below "
        .. "0.8, 0-60 is 0 to below 0.6)", tostring(a), ind.band)
    end
    return a
  end
  local t, a = ind.target, ind.actual
  if not finite(t) then return nil, "has no numeric target" end
  if not finite(a) then return nil, "has no numeric actual" end
  local met
  if cmp == ">=" then met = a >= t
  elseif cmp == "<=" then met = a <= t
  else met = a == t end
  if met then return 1 end
  -- A proportion means something only between positive quantities.
  if t <= 0 or a <= 0 then return 0 end
  local f
  if cmp == ">=" then f = a / t
  elseif cmp == "<=" then f = t / a
  else f = math.min(a, t) / math.max(a, t) end
  -- Not met, each ratio is already below 1; the clamp only guards that.
  return math.max(0, math.min(1, f))
end

local function named(ind)
  if type(ind) == "table" and type(ind.indicator) == "string"
     and ind.indicator ~= "" then
    return " (" .. ind.indicator .. ")"
  end
  return ""
end

-- The marks, 0 to `marks`, an indicator (shape above) earns: the national rule.
function jx.indicator_score(indicator, marks)
  if not finite(marks) or marks < 0 then
    return nil, "marks must be a number >= 0"
  end
  local f, why = fraction(indicator)
  if not f then
    return nil, "the indicator" .. named(indicator) .. " " .. why
  end
  return f * marks
end

local function check_weights(weights)
  if weights == nil then return jx.default_weights() end
  if type(weights) ~= "table" then
    return nil, "weights must be a table like {execution = 10, output = 50, "
      .. "outcome = 30, satisfaction = 10}"
  end
  local sum = 0
  for _, c in ipairs(CATEGORIES) do
    local w = weights[c]
    if not finite(w) or w < 0 then
      return nil, "weights." .. c .. " is not a number >= 0"
    end
    sum = sum + w
  end
  if nkeys(weights) ~= #CATEGORIES then
    return nil, "weights may have only the keys execution, output, outcome "
      .. "and satisfaction"
  end
  if math.abs(sum - 100) > 1e-9 then
    return nil, "weights sum to " .. jx.points(sum) .. ", not 100"
  end
  return weights
end

-- The budget execution rate 0..1 (spent / allocated, capped), 0 if absent.
local function execution_rate(ex)
  if ex == nil then return 0 end
  if type(ex) ~= "table" then
    return nil, "execution must be a table {allocated = yuan, spent = yuan}"
  end
  if not finite(ex.allocated) or ex.allocated <= 0 then
    return nil, "execution.allocated must be a number of yuan greater than 0"
  end
  if not finite(ex.spent) or ex.spent < 0 then
    return nil, "execution.spent must be a number of yuan, 0 or more"
  end
  return math.min(1, ex.spent / ex.allocated)
end

-- A self-evaluation's score 0..100 and its parts by category (default weights).
function jx.self_evaluation(eval, weights)
  local w, why = check_weights(weights)
  if not w then return nil, why end
  if type(eval) ~= "table" then
    return nil, "the self-evaluation is not a table"
  end
  local known = 0
  for _, c in ipairs(CATEGORIES) do
    if eval[c] ~= nil then known = known + 1 end
  end
  if nkeys(eval) ~= known then
    return nil, "the self-evaluation may have only the keys execution, "
      .. "output, outcome and satisfaction"
  end
  local rate, rwhy = execution_rate(eval.execution)
  if not rate then return nil, rwhy end
  local parts = { execution = round2(rate * w.execution) }
  for i = 2, #CATEGORIES do
    local c = CATEGORIES[i]
    local list, sum, n = eval[c], 0, 0
    if list ~= nil then
      if type(list) ~= "table" or nkeys(list) ~= #list then
        return nil, c .. " must be a list of indicators"
      end
      n = #list
      for k, ind in ipairs(list) do
        local f, fwhy = fraction(ind)
        if not f then
          return nil, string.format("%s[%d]%s %s", c, k, named(ind), fwhy)
        end
        sum = sum + f
      end
    end
    -- Each indicator carries weight / n marks; summing fractions first
    -- keeps a fully met category at exactly its weight.
    parts[c] = round2(n > 0 and w[c] * sum / n or 0)
  end
  local total = 0
  for _, c in ipairs(CATEGORIES) do total = total + parts[c] end
  return math.max(0.0, math.min(100.0, round2(total))), parts
end

-- ---- Dates (R-4): the time progress of the budget year (序时进度) ----
-- The fiscal year is the calendar year.  Dates are the "YYYY-MM-DD" at the
-- start of an ISO 8601 text such as event.time ("2021-06-30T00:00:00Z",
-- always UTC); the day is the whole UTC day.  Computed by hand: the sandbox
-- has no os.time or os.date.  Unlike the evaluation helpers these raise on
-- bad input: the dates they read are the engine's own (event.time), so a
-- malformed one is a bug of the caller, not data to refuse.

local MONTH_DAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

local function leap(year)
  return year % 4 == 0 and (year % 100 ~= 0 or year % 400 == 0)
end

local function month_days(year, month)
  if month == 2 and leap(year) then return 29 end
  return MONTH_DAYS[month]
end

-- The days of a year: 366 in a leap year (Gregorian), else 365.
function jx.days_in_year(year)
  if math.type(year) ~= "integer" then
    error("jx.days_in_year: the year is not an integer: " .. tostring(year), 2)
  end
  return leap(year) and 366 or 365
end

local function parse_date(iso, caller)
  local function bad(why)
    error(string.format("%s: %q is not an ISO 8601 date (YYYY-MM-DD, "
      .. "optionally followed by T and a time): %s", caller, tostring(iso),
      why), 4)
  end
  if type(iso) ~= "string" then bad("it is not a string") end
  local y, m, d, rest = iso:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then bad("it does not start with YYYY-MM-DD") end
  if rest ~= "" and rest:sub(1, 1) ~= "T" then
    bad("the date is followed by something other than T and a time")
  end
  y, m, d = math.tointeger(tonumber(y)), math.tointeger(tonumber(m)),
    math.tointeger(tonumber(d))
  if m < 1 or m > 12 then bad("there is no month " .. m) end
  if d < 1 or d > month_days(y, m) then
    bad(string.format("month %d of %d has no day %d", m, y, d))
  end
  return { year = y, month = m, day = d }
end

-- {year, month, day}, integers, of "YYYY-MM-DD..." (event.time); raises on
-- anything else, and on dates that do not exist (2021-02-29).
function jx.date(iso)
  return parse_date(iso, "jx.date")
end

-- The day of its year, 1 (1 January) to 365 or 366 (31 December).
function jx.day_of_year(iso)
  local t = parse_date(iso, "jx.day_of_year")
  local n = t.day
  for m = 1, t.month - 1 do n = n + month_days(t.year, m) end
  return n
end

-- The time progress (序时进度): the share of the calendar year elapsed at
-- the end of the date's day, day_of_year / days_in_year, so 2021-06-30 is
-- 181/365, 2021-09-30 273/365, 2020-06-30 182/366 and 31 December 1.0.
function jx.time_progress(iso)
  local t = parse_date(iso, "jx.time_progress")
  local n = t.day
  for m = 1, t.month - 1 do n = n + month_days(t.year, m) end
  return n / jx.days_in_year(t.year)
end

-- ---- Added for R-5 and R-7: shares of amounts, grades by either name ----

-- A grade's English name, "优" -> "excellent" ("good" -> "good"; anything
-- else nil): the reverse of jx.grade_zh, so a plugin can accept either.
function jx.grade_en(grade)
  if ZH[grade] then return grade end
  return EN[grade]
end

-- A share (a fraction: 0.1 is 10 %) rounded to 1e-9, halves up, as R-4
-- stores its facts: compared on this value, "exactly on the line" is exact
-- (0.1 + 0.2 - 0.3 is 0).  Raises on a value that is not a finite number:
-- shares reaching it are the plugin's own arithmetic.
function jx.share(x)
  if not finite(x) then
    error("jx.share: not a finite number: " .. tostring(x), 2)
  end
  return math.floor(x * 1e9 + 0.5) / 1e9
end

-- The time progress (序时进度) of budget year `year` at the date of `iso`:
-- 0.0 for a date before that year, 1.0 for one after it, else
-- jx.time_progress(iso).  A `year` that is not an integer (absent) means
-- the date's own year.  Raises on a malformed date, as jx.date does.
function jx.year_progress(iso, year)
  local t = parse_date(iso, "jx.year_progress")
  if math.type(year) == "integer" then
    if t.year > year then return 1.0 end
    if t.year < year then return 0.0 end
  end
  return jx.time_progress(iso)
end

-- The whole yuan (rounded down) of `share` of `amount` yuan:
-- floor(amount * share), with the share taken to 1e-9 (jx.share) and the
-- product computed in integers, so no floating-point error moves it across
-- a yuan: yuan_share(12345, 1 - 0.2) is 9876, yuan_share(100, 0.29) is 29
-- (100 * 0.29 is 28.999999999999996 in floating point).  `amount` is an
-- integer 0 or more (a float with an integer value is accepted) and
-- `share` a number from 0 to 1; otherwise nil and a sentence saying what
-- is wrong, like the evaluation helpers.  Exact for every amount an
-- integer field holds: the result never exceeds `amount`.
function jx.yuan_share(amount, share)
  local a = type(amount) == "number" and math.tointeger(amount) or nil
  if a == nil or a < 0 then
    return nil, "the amount must be a whole number of yuan, 0 or more (it is "
      .. tostring(amount) .. ")"
  end
  if not finite(share) or share < 0 or share > 1 then
    return nil, "the share must be a number from 0 to 1 (it is "
      .. tostring(share) .. ")"
  end
  local BILLION = 1000000000
  local n = math.tointeger(math.floor(share * BILLION + 0.5))
  -- a = q * 1e9 + r: q * n <= a, and r * n < 1e18, so nothing overflows.
  local q, r = a // BILLION, a % BILLION
  return q * n + (r * n) // BILLION
end

-- The whole yuan (rounded down) of an amount computed in floating point:
-- the value is first rounded to 0.0001 yuan, so that float noise never
-- takes a yuan away (365 * (334/365 - 112/365) comes out
-- 221.99999999999997 and is 222), then rounded down.
-- floor_yuan(999.9998) is 999.  For
-- |x| below 1e12 yuan; otherwise, or for a value that is not a finite
-- number, nil and a sentence saying what is wrong.
function jx.floor_yuan(x)
  if not finite(x) then
    return nil, "the amount is not a finite number: " .. tostring(x)
  end
  if math.abs(x) >= 1e12 then
    return nil, "the amount " .. tostring(x) .. " is beyond the 1e12 yuan "
      .. "jx.floor_yuan computes to the yuan"
  end
  return math.tointeger(math.floor(x * 10000 + 0.5)) // 10000
end

-- ---- Shared by the rule plugins: numbers, percentages, parameters ----

-- Whether x is a number other than NaN, -inf and +inf.
jx.finite = finite

-- A share (0.25 is 25 %) as people read it: x * 100 to `digits` decimals
-- (an integer 0 to 9, default 1), trailing zeros beyond the first decimal
-- dropped, then " %": 0.25 -> "25.0 %", 0.304 -> "30.4 %",
-- jx.percent(334 / 365, 4) -> "91.5068 %", jx.percent(0.4, 4) -> "40.0 %".
-- x is a number (string.format shows NaN and infinities as C does).
function jx.percent(x, digits)
  if digits == nil then digits = 1 end
  if math.type(digits) ~= "integer" or digits < 0 or digits > 9 then
    error("jx.percent: digits must be an integer from 0 to 9, not "
      .. tostring(digits), 2)
  end
  local s = string.format("%." .. digits .. "f", x * 100)
  return (s:gsub("(%.%d%d-)0+$", "%1")) .. " %"
end

-- A plugin's parameters checked for their keys: a new table of `params`
-- (nil is {}) with `defaults` filled in where a key is absent.  The keys
-- of `defaults` are the keys the plugin takes; any other key is a mistake
-- of the deployment, not of a sender, and raises error(msg, 0) (exit 5),
-- naming `rule` ("R-5"), the unknown keys and the known ones, each in
-- bytewise order:
--   workflow.toml parameters: R-5 has no parameter tolerence; it takes
--   tolerance
-- Only keys are checked here: each plugin checks its values.  The copy is
-- shallow (a table value is the caller's or the default's own).
function jx.params(params, defaults, rule)
  if type(defaults) ~= "table" then
    error("jx.params: defaults is not a table", 2)
  end
  local who = "workflow.toml parameters: " .. tostring(rule or "the plugin")
  if params == nil then params = {} end
  if type(params) ~= "table" then
    error(who .. " takes a table of parameters, not " .. type(params), 0)
  end
  -- sorted_pairs (the sandbox's) gives the keys in bytewise order, so the
  -- message is the same on every run.
  local unknown = {}
  for k in sorted_pairs(params) do
    if defaults[k] == nil then unknown[#unknown + 1] = k end
  end
  if #unknown > 0 then
    local known = {}
    for k in sorted_pairs(defaults) do known[#known + 1] = k end
    error(who .. " has no parameter " .. table.concat(unknown, ", ")
      .. "; it takes " .. (#known > 0 and table.concat(known, ", ")
        or "none"), 0)
  end
  local p = {}
  for k, v in pairs(defaults) do p[k] = v end
  for k, v in pairs(params) do p[k] = v end
  return p
end

-- ---- Added for R-8 and R-9: reports over all projects ----

-- Whether string a comes before string b byte by byte (UTF-8 names sort
-- by code point), whatever the locale: `<` on strings follows the C
-- locale's collation, which is not the same everywhere.  For table.sort.
function jx.bytewise_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Whether a project (its state) has performance targets: its field
-- targets is a non-empty list, as the coverage report (R-0) counts them.
-- Whether each target is well formed is R-3's to judge at submission.
function jx.has_targets(project)
  return type(project) == "table" and type(project.targets) == "table"
    and #project.targets > 0
end

-- ---- Added for R-3: the indicator tree's comparators ----

-- A comparator in its ASCII form: ">=" or "≥" -> ">=", "<=" or "≤" ->
-- "<=", "=" and "qualitative" as they are; anything else nil.  The ones
-- a target (R-3) and an indicator scored by jx.indicator_score may have.
function jx.comparator(c)
  return COMPARATORS[c]
end

-- Whether `list` is a list (a table with keys 1..n only) of strings; a
-- plugin's check of a list parameter such as states = ["approved"].
function jx.string_list(list)
  if type(list) ~= "table" then return false end
  local n = 0
  for _ in pairs(list) do n = n + 1 end
  if n ~= #list then return false end
  for _, v in ipairs(list) do
    if type(v) ~= "string" then return false end
  end
  return true
end

return jx
