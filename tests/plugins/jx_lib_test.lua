package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
-- Loaded with the globals the sandbox gives it.
local jx = H.jx()

local function near(a, b)
  return type(a) == "number" and math.abs(a - b) < 1e-9
end
local function fails(v, why, pattern)
  assert(v == nil, "expected nil and a reason, got " .. tostring(v))
  assert(type(why) == "string" and why ~= "", "no reason given")
  if pattern then
    assert(why:find(pattern, 1, true), "reason lacks " .. pattern .. ": " .. why)
  end
end

H.check("member", function()
  assert(jx.member({ "a", "b" }, "b"))
  assert(not jx.member({ "a" }, "c"))
  assert(not jx.member(nil, "c"))
end)
H.check("yuan", function()
  assert(jx.yuan(5000000) == "5,000,000", jx.yuan(5000000))
  assert(jx.yuan(4999999) == "4,999,999")
  assert(jx.yuan(100) == "100")
  assert(jx.yuan(1000) == "1,000")
  assert(jx.yuan(-1234567) == "-1,234,567", jx.yuan(-1234567))
  assert(jx.yuan(0) == "0")
end)

-- Grades: every band inclusive at its bottom.
H.check("grade boundaries: 59.9 / 60, 79.99 / 80, 89.99 / 90", function()
  local cases = {
    { 59.9, "poor" }, { 60, "fair" }, { 79.99, "fair" }, { 80, "good" },
    { 89.99, "good" }, { 90, "excellent" }, { 0, "poor" }, { 100, "excellent" },
    { 59.999999, "poor" }, { 60.0, "fair" },
  }
  for _, c in ipairs(cases) do
    local g = jx.grade(c[1])
    assert(g == c[2], c[1] .. " -> " .. tostring(g) .. ", wanted " .. c[2])
    assert(jx.grade(c[1], { excellent = 90, good = 80, fair = 60 }) == c[2])
  end
end)
H.check("grade: other bands give other grades", function()
  local b = { excellent = 85, good = 75, fair = 50 }
  assert(jx.grade(85, b) == "excellent")
  assert(jx.grade(84.99, b) == "good")
  assert(jx.grade(75, b) == "good")
  assert(jx.grade(55, b) == "fair")
  assert(jx.grade(49.99, b) == "poor")
  assert(jx.grade(87.5) == "good" and jx.grade(87.5, b) == "excellent")
end)
H.check("grade: bad bands and scores give nil and why", function()
  local v, why = jx.grade(70, { excellent = 90, good = 80 })
  fails(v, why, "bands.fair")
  fails(jx.grade(70, { excellent = 90, good = 80, fair = 60, pass = 50 }))
  fails(jx.grade(70, { excellent = 80, good = 90, fair = 60 }))
  fails(jx.grade(70, { excellent = 190, good = 80, fair = 60 }))
  fails(jx.grade(70, { excellent = "90", good = 80, fair = 60 }))
  fails(jx.grade(70, "90/80/60"))
  fails(jx.grade("70"))
  fails(jx.grade(0 / 0))
  fails(jx.grade(nil))
end)
H.check("default bands are the national ones, a fresh table each time", function()
  local b = jx.default_bands()
  assert(b.excellent == 90 and b.good == 80 and b.fair == 60)
  b.excellent = 10
  assert(jx.default_bands().excellent == 90)
  assert(jx.grade(50) == "poor")
end)
H.check("grade_zh", function()
  assert(jx.grade_zh("excellent") == "优")
  assert(jx.grade_zh("good") == "良")
  assert(jx.grade_zh("fair") == "中")
  assert(jx.grade_zh("poor") == "差")
  assert(jx.grade_zh("良") == "良")
  assert(jx.grade_zh("average") == nil)
  assert(jx.grade_zh(nil) == nil)
end)
H.check("points", function()
  assert(jx.points(87.5) == "87.5", jx.points(87.5))
  assert(jx.points(90) == "90")
  assert(jx.points(90.0) == "90")
  assert(jx.points(100) == "100")
  assert(jx.points(0) == "0")
  assert(jx.points(2 / 3) == "0.67")
  assert(jx.points(89.99) == "89.99")
  assert(jx.points(10.05) == "10.05")
end)

-- Indicators.
local function ind(cmp, target, actual)
  return { indicator = "x", comparator = cmp, target = target, actual = actual }
end
H.check("indicator exactly met earns full marks", function()
  assert(jx.indicator_score(ind(">=", 12, 12), 10) == 10)
  assert(jx.indicator_score(ind("<=", 100, 100), 10) == 10)
  assert(jx.indicator_score(ind("=", 12, 12), 10) == 10)
  assert(jx.indicator_score(ind("=", 12, 12.0), 10) == 10)
end)
H.check("over-achievement is capped at full marks", function()
  assert(jx.indicator_score(ind(">=", 12, 30), 10) == 10)
  assert(jx.indicator_score(ind("<=", 100, 1), 10) == 10)
end)
H.check(">= not met: actual / target of the marks", function()
  assert(near(jx.indicator_score(ind(">=", 12, 9), 10), 7.5))
  assert(near(jx.indicator_score(ind(">=", 12, 11.99), 10), 11.99 / 12 * 10))
  assert(jx.indicator_score(ind(">=", 12, 0), 10) == 0)
end)
H.check("<= not met: target / actual of the marks", function()
  assert(near(jx.indicator_score(ind("<=", 100, 125), 20), 16))
  assert(near(jx.indicator_score(ind("<=", 100, 100.5), 10), 100 / 100.5 * 10))
end)
H.check("= not met: the smaller over the larger", function()
  assert(near(jx.indicator_score(ind("=", 12, 9), 10), 7.5))
  assert(near(jx.indicator_score(ind("=", 12, 16), 10), 7.5))
end)
H.check("≥ and ≤ are the same as >= and <=", function()
  assert(near(jx.indicator_score(ind("≥", 12, 9), 10), 7.5))
  assert(near(jx.indicator_score(ind("≤", 100, 125), 20), 16))
end)
H.check("zero target: met is full marks, missed is 0, never a division by 0", function()
  assert(jx.indicator_score(ind(">=", 0, 0), 10) == 10)
  assert(jx.indicator_score(ind(">=", 0, 5), 10) == 10)
  assert(jx.indicator_score(ind(">=", 0, -1), 10) == 0)
  assert(jx.indicator_score(ind("<=", 0, 0), 10) == 10)   -- "accidents <= 0"
  assert(jx.indicator_score(ind("<=", 0, 3), 10) == 0)
  assert(jx.indicator_score(ind("=", 0, 0), 10) == 10)
  assert(jx.indicator_score(ind("=", 0, 2), 10) == 0)
  assert(jx.indicator_score(ind("<=", 5, 0), 10) == 10)
  assert(jx.indicator_score(ind(">=", -5, -8), 10) == 0)
end)
H.check("an indicator's score stays within 0..marks", function()
  local values = { -100, -1, 0, 0.5, 1, 9, 12, 13, 1e9 }
  for _, cmp in ipairs({ ">=", "<=", "=" }) do
    for _, t in ipairs(values) do
      for _, a in ipairs(values) do
        local s = jx.indicator_score(ind(cmp, t, a), 7)
        assert(s >= 0 and s <= 7, cmp .. " " .. t .. " " .. a .. " -> " .. s)
      end
    end
  end
end)
H.check("marks of 0 give 0", function()
  assert(jx.indicator_score(ind(">=", 12, 12), 0) == 0)
end)
H.check("qualitative: band and achieved fraction", function()
  local function q(band, achieved)
    return jx.indicator_score({ indicator = "q", comparator = "qualitative",
                                band = band, achieved = achieved }, 10)
  end
  assert(q("80-100", 1) == 10)
  assert(near(q("80-100", 0.9), 9))
  assert(near(q("80-100", 0.8), 8))          -- 80 % belongs to the top band
  assert(near(q("60-80", 0.6), 6))           -- 60 % belongs to the middle band
  assert(near(q("60-80", 0.79), 7.9))
  assert(near(q("0-60", 0.59), 5.9))
  assert(q("0-60", 0) == 0)
  -- without achieved: the band's lowest
  assert(near(q("80-100"), 8))
  assert(near(q("60-80"), 6))
  assert(q("0-60") == 0)
  -- achieved outside its band, or a band that is not national
  fails(q("60-80", 0.8))
  fails(q("0-60", 0.6))
  fails(q("80-100", 0.79))
  fails(q("80-100", 1.01))
  fails(q("0-60", -0.1))
  fails(q("90-100", 0.95))
  fails(q(nil, 0.9))
  fails(q("80-100", "0.9"))
end)
H.check("malformed indicators give nil and why", function()
  fails(jx.indicator_score(ind(">", 12, 12), 10))
  fails(jx.indicator_score(ind(nil, 12, 12), 10))
  fails(jx.indicator_score(ind(">=", "12", 12), 10))
  fails(jx.indicator_score(ind(">=", 12, nil), 10))
  fails(jx.indicator_score(ind(">=", 12, 0 / 0), 10))
  fails(jx.indicator_score(ind(">=", math.huge, 1), 10))
  fails(jx.indicator_score({ comparator = ">=", target = 1, actual = 1 }, 10))
  fails(jx.indicator_score("12 schools", 10))
  fails(jx.indicator_score(ind(">=", 12, 12), -1))
  fails(jx.indicator_score(ind(">=", 12, 12), nil))
  local v, why = jx.indicator_score({ indicator = "beds", comparator = ">=", target = 1 }, 10)
  fails(v, why, "(beds)")
end)

-- The self-evaluation.
local function met() return ind(">=", 10, 10) end
local function full()
  return {
    execution = { allocated = 1000000, spent = 1000000 },
    output = { met(), met(), met() },
    outcome = { met() },
    satisfaction = { met() },
  }
end
H.check("the default weights are the national ones and sum to 100", function()
  local w = jx.default_weights()
  assert(w.execution == 10 and w.output == 50 and w.outcome == 30 and w.satisfaction == 10)
  assert(w.execution + w.output + w.outcome + w.satisfaction == 100)
  w.output = 0
  assert(jx.default_weights().output == 50)
end)
H.check("everything met scores exactly 100 (three outputs: 50 / 3 each)", function()
  local total, parts = jx.self_evaluation(full())
  assert(total == 100 and math.type(total) == "float", tostring(total))
  assert(parts.execution == 10 and parts.output == 50 and parts.outcome == 30
         and parts.satisfaction == 10)
  assert(jx.grade(total) == "excellent")
end)
H.check("a worked example: 87.5", function()
  local e = full()
  e.output = { met(), ind(">=", 12, 6) }   -- 25 + 12.5
  local total, parts = jx.self_evaluation(e)
  assert(total == 87.5, tostring(total))
  assert(parts.output == 37.5)
  assert(jx.grade(total) == "good")
end)
H.check("execution: spent / allocated times its weight, capped", function()
  local e = full()
  e.execution = { allocated = 1000000, spent = 950000 }
  local total, parts = jx.self_evaluation(e)
  assert(parts.execution == 9.5 and total == 99.5)
  e.execution = { allocated = 1000000, spent = 1200000 }
  total, parts = jx.self_evaluation(e)
  assert(parts.execution == 10 and total == 100)
  e.execution = { allocated = 1000000, spent = 0 }
  total = jx.self_evaluation(e)
  assert(total == 90 and jx.grade(total) == "excellent")
  e.execution = { allocated = 1000, spent = 999 }   -- 9.99: 99.99
  assert(jx.self_evaluation(e) == 99.99)
end)
H.check("an empty or absent category earns 0, not full marks", function()
  local e = full()
  e.outcome = {}
  local total, parts = jx.self_evaluation(e)
  assert(parts.outcome == 0 and total == 70, tostring(total))
  e.outcome = nil
  assert(jx.self_evaluation(e) == 70)
  e.execution = nil
  assert(jx.self_evaluation(e) == 60)
  assert(jx.self_evaluation({}) == 0)
end)
H.check("a category that does not apply is given weight 0 by the bureau", function()
  local e = full()
  e.satisfaction = {}
  local w = { execution = 10, output = 50, outcome = 40, satisfaction = 0 }
  assert(jx.self_evaluation(e, w) == 100)
end)
H.check("other weights change the result", function()
  local e = full()
  e.output = { met(), ind(">=", 12, 6) }
  e.execution = { allocated = 100, spent = 50 }
  local base = jx.self_evaluation(e)                         -- 5 + 37.5 + 30 + 10
  assert(base == 82.5, tostring(base))
  local w = { execution = 20, output = 40, outcome = 30, satisfaction = 10 }
  local other = jx.self_evaluation(e, w)                     -- 10 + 30 + 30 + 10
  assert(other == 80, tostring(other))
end)
H.check("category scores are rounded to 0.01 and add up to the total", function()
  local e = full()
  e.output = { met(), met(), ind(">=", 3, 2) }    -- 50 * (2 + 2/3) / 3 = 44.44
  local total, parts = jx.self_evaluation(e)
  assert(parts.output == 44.44, tostring(parts.output))
  assert(total == 94.44, tostring(total))
  assert(parts.execution + parts.output + parts.outcome + parts.satisfaction == total)
end)
H.check("bad weights give nil and why", function()
  local e = full()
  local v, why = jx.self_evaluation(e, { execution = 10, output = 50, outcome = 30, satisfaction = 20 })
  fails(v, why, "110")
  fails(jx.self_evaluation(e, { execution = 10, output = 60, outcome = 30 }))
  fails(jx.self_evaluation(e, { execution = 10, output = 50, outcome = 30, satisfaction = 10, cost = 0 }))
  fails(jx.self_evaluation(e, { execution = -10, output = 70, outcome = 30, satisfaction = 10 }))
  fails(jx.self_evaluation(e, { execution = "10", output = 50, outcome = 30, satisfaction = 10 }))
  fails(jx.self_evaluation(e, 100))
end)
H.check("bad self-evaluations give nil and why, saying where", function()
  local e = full()
  e.outcomes = e.outcome
  fails(jx.self_evaluation(e))                      -- a misspelt category
  e = full()
  e.output = { a = met() }
  fails(jx.self_evaluation(e))                      -- not a list
  e = full()
  e.output[2] = { indicator = "beds", comparator = ">=", target = 10 }
  local v, why = jx.self_evaluation(e)
  fails(v, why, "output[2] (beds)")
  e = full()
  e.execution = { allocated = 0, spent = 0 }
  fails(jx.self_evaluation(e))
  e.execution = { allocated = 100, spent = -1 }
  fails(jx.self_evaluation(e))
  e.execution = 100
  fails(jx.self_evaluation(e))
  fails(jx.self_evaluation("good"))
  fails(jx.self_evaluation(nil))
end)
H.check("a self-evaluation is the same every time", function()
  local e = full()
  e.output = { met(), ind("<=", 5, 7), ind("=", 3, 2) }
  local a, pa = jx.self_evaluation(e)
  for _ = 1, 20 do
    local b, pb = jx.self_evaluation(e)
    assert(a == b and pa.output == pb.output)
  end
end)
-- ---- Dates and the time progress (序时进度) ----
local function raises(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  if pattern then
    assert(tostring(err):find(pattern, 1, true), tostring(err))
  end
end

H.check("time progress boundaries: 30 June / 1 July, 31 December, 1 January", function()
  assert(jx.time_progress("2021-06-30T00:00:00Z") == 181 / 365)
  assert(jx.time_progress("2021-07-01T00:00:00Z") == 182 / 365)
  assert(jx.time_progress("2021-09-30T00:00:00Z") == 273 / 365)
  assert(near(jx.time_progress("2021-06-30T00:00:00Z"), 0.4958904109589041))
  assert(near(jx.time_progress("2021-09-30T00:00:00Z"), 0.7479452054794521))
  local last = jx.time_progress("2021-12-31T23:59:59Z")
  assert(last == 1.0 and math.type(last) == "float")
  assert(jx.time_progress("2021-01-01T00:00:00Z") == 1 / 365)
  -- the end of the day: any time of 30 June is 181 days
  assert(jx.time_progress("2021-06-30T23:59:59Z") == 181 / 365)
  assert(jx.time_progress("2021-06-30") == 181 / 365)
end)
H.check("time progress in a leap year", function()
  assert(jx.time_progress("2020-12-31T00:00:00Z") == 1.0)
  assert(jx.time_progress("2020-06-30T00:00:00Z") == 182 / 366)
  assert(jx.time_progress("2020-09-30T00:00:00Z") == 274 / 366)
  assert(jx.time_progress("2020-02-29T00:00:00Z") == 60 / 366)
  assert(jx.time_progress("2020-03-01T00:00:00Z") == 61 / 366)
  assert(jx.time_progress("2021-03-01T00:00:00Z") == 60 / 365)
end)
H.check("days_in_year: the Gregorian leap years", function()
  local cases = {
    { 2021, 365 }, { 2020, 366 }, { 2024, 366 }, { 1900, 365 }, { 2100, 365 },
    { 2000, 366 }, { 2400, 366 }, { 1970, 365 }, { 9999, 365 },
  }
  for _, c in ipairs(cases) do
    assert(jx.days_in_year(c[1]) == c[2], c[1] .. " -> " .. jx.days_in_year(c[1]))
  end
  raises(function() jx.days_in_year(2021.5) end, "not an integer")
  raises(function() jx.days_in_year("2021") end, "not an integer")
end)
H.check("day_of_year", function()
  assert(jx.day_of_year("2021-01-01T00:00:00Z") == 1)
  assert(jx.day_of_year("2021-02-28T00:00:00Z") == 59)
  assert(jx.day_of_year("2021-03-01T00:00:00Z") == 60)
  assert(jx.day_of_year("2020-03-01T00:00:00Z") == 61)
  assert(jx.day_of_year("2021-06-30T00:00:00Z") == 181)
  assert(jx.day_of_year("2021-12-31T00:00:00Z") == 365)
  assert(jx.day_of_year("2020-12-31T00:00:00Z") == 366)
  -- every day of a year, one after the other
  for _, y in ipairs({ 2020, 2021, 1900, 2000 }) do
    local n, lengths = 0, { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
    if jx.days_in_year(y) == 366 then lengths[2] = 29 end
    for m, len in ipairs(lengths) do
      for d = 1, len do
        n = n + 1
        local iso = string.format("%04d-%02d-%02dT12:00:00Z", y, m, d)
        assert(jx.day_of_year(iso) == n, iso)
      end
    end
    assert(n == jx.days_in_year(y))
  end
end)
H.check("date: the parts, as integers", function()
  local d = jx.date("2021-06-30T00:00:00Z")
  assert(d.year == 2021 and d.month == 6 and d.day == 30)
  assert(math.type(d.year) == "integer" and math.type(d.month) == "integer"
         and math.type(d.day) == "integer")
  d = jx.date("2020-02-29")
  assert(d.year == 2020 and d.month == 2 and d.day == 29)
end)
H.check("date: junk raises, saying what is wrong", function()
  raises(function() jx.date("2021-02-29T00:00:00Z") end, "month 2 of 2021 has no day 29")
  raises(function() jx.date("1900-02-29") end, "no day 29")
  raises(function() jx.date("2021-04-31") end, "no day 31")
  raises(function() jx.date("2021-13-01") end, "no month 13")
  raises(function() jx.date("2021-00-10") end, "no month 0")
  raises(function() jx.date("2021-06-00") end, "no day 0")
  raises(function() jx.date("2021-6-30") end, "YYYY-MM-DD")
  raises(function() jx.date("30/06/2021") end, "YYYY-MM-DD")
  raises(function() jx.date("") end, "YYYY-MM-DD")
  raises(function() jx.date("2021-06-301") end, "followed by")
  raises(function() jx.date("2021-06-30 junk") end, "followed by")
  raises(function() jx.date(20210630) end, "not a string")
  raises(function() jx.date(nil) end, "not a string")
  raises(function() jx.day_of_year("junk") end, "jx.day_of_year")
  raises(function() jx.time_progress("2021-02-30T00:00:00Z") end, "jx.time_progress")
end)

-- ---- Shared by the plugins: finite, percent, params ----
H.check("finite: numbers other than NaN and the infinities", function()
  assert(jx.finite(0) and jx.finite(-1.5) and jx.finite(math.maxinteger))
  assert(not jx.finite(0 / 0) and not jx.finite(math.huge)
         and not jx.finite(-math.huge))
  assert(not jx.finite("1") and not jx.finite(nil) and not jx.finite({}))
end)
H.check("percent: one decimal at least, trailing zeros dropped, then \" %\"", function()
  assert(jx.percent(0.25) == "25.0 %", jx.percent(0.25))
  assert(jx.percent(0.304) == "30.4 %" and jx.percent(1 / 6) == "16.7 %")
  assert(jx.percent(0) == "0.0 %" and jx.percent(1) == "100.0 %")
  assert(jx.percent(334 / 365, 4) == "91.5068 %", jx.percent(334 / 365, 4))
  assert(jx.percent(0.4, 4) == "40.0 %" and jx.percent(0.91506, 4) == "91.506 %")
  assert(jx.percent(0.25, 0) == "25 %" and jx.percent(0.0005, 2) == "0.05 %")
  raises(function() jx.percent(0.5, 1.5) end, "digits")
  raises(function() jx.percent(0.5, 10) end, "digits")
end)
H.check("params: defaults filled into a new table", function()
  local defaults = { a = 1, b = "x", c = false }
  local given = { b = "y" }
  local p = jx.params(given, defaults, "R-9")
  assert(p.a == 1 and p.b == "y" and p.c == false)
  assert(p ~= given and p ~= defaults and given.a == nil and defaults.b == "x")
  local q = jx.params(nil, defaults, "R-9")
  assert(q.a == 1 and q.b == "x" and q.c == false)
  assert(jx.params({ c = true }, defaults, "R-9").c == true)
end)
H.check("params: unknown keys are an error of workflow.toml, in bytewise order", function()
  local defaults = { yellow = 1, Red = 2, ab = 3, a = 4 }
  for _ = 1, 10 do
    local ok, err = pcall(jx.params, { zz = 1, B = 2, a = 1, aa = 0 }, defaults, "R-9")
    assert(not ok)
    assert(err == "workflow.toml parameters: R-9 has no parameter B, aa, zz; "
      .. "it takes Red, a, ab, yellow", err)
  end
  raises(function() jx.params({ x = 1 }, {}, "R-9") end, "no parameter x; it takes none")
  raises(function() jx.params("x", {}, "R-9") end, "R-9 takes a table")
  raises(function() jx.params({}, nil, "R-9") end, "defaults")
end)
H.check("comparator: the ASCII form of the ones indicators take", function()
  for c, want in pairs({ [">="] = ">=", ["≥"] = ">=", ["<="] = "<=", ["≤"] = "<=",
                         ["="] = "=", qualitative = "qualitative" }) do
    assert(jx.comparator(c) == want, c)
  end
  for _, c in ipairs({ ">", "<", "==", "Qualitative", "", 1 }) do
    assert(jx.comparator(c) == nil, tostring(c))
  end
  assert(jx.comparator(nil) == nil)
end)
H.done()
