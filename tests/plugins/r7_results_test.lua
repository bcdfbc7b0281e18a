package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local jx = H.jx()
local r7 = H.load("plugins/r7_results.lua")

local ARCHIVE = { name = "archive", role = "finance_performance",
                  time = "2022-04-30T00:00:00Z", from = "evaluated", to = "archived", set = {} }
-- An evaluated project of `amount` yuan graded `grade` (nil: none), with
-- more fields in `extra`.
local function project(grade, amount, extra)
  local s = { status = "evaluated", amount = amount or 1000000, grade = grade, facts = {} }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end
-- The facts archiving a state records, after the guard accepts it.
local function archive(state, params)
  H.accepted(r7.guard(state, ARCHIVE, params or {}))
  return r7.react(state, ARCHIVE, params or {})
end
local function errors(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end

H.check("the plugin names R-7", function()
  assert(r7.rule == "R-7")
  assert(r7.title:find("结果应用", 1, true))
end)

-- Boundaries first.
H.check("boundary: poor is cancelled, fair is cut by 20 %", function()
  local f = archive(project("poor"))
  assert(f.next_year_action == "cancel" and f.next_year_amount == 0)
  assert(f.results_grade == "poor" and f.results_grade_zh == "差")
  assert(f.next_year_basis == "grade" and f.results_grade_source == "grade")
  f = archive(project("fair"))
  assert(f.next_year_action == "cut" and f.next_year_amount == 800000, tostring(f.next_year_amount))
  assert(math.type(f.next_year_amount) == "integer")
  f = archive(project("good"))
  assert(f.next_year_action == "as_justified" and f.next_year_amount == 1000000)
  f = archive(project("excellent"))
  assert(f.next_year_action == "priority" and f.next_year_amount == 1000000)
end)
H.check("boundary: a cut is rounded down to the yuan, exactly", function()
  -- 12345 * 0.8 is 9876.000000000002 in floating point, 9876 yuan
  assert(archive(project("fair", 12345)).next_year_amount == 9876)
  -- 999 * 0.8 = 799.2; 1 * 0.8 = 0.8; 0 stays 0
  assert(archive(project("fair", 999)).next_year_amount == 799)
  assert(archive(project("fair", 1)).next_year_amount == 0)
  assert(archive(project("fair", 0)).next_year_amount == 0)
  -- 100 * (1 - 0.71) is 28.999999999999996 in floating point, 29 yuan
  assert(archive(project("fair", 100), { fair_cut = 0.71 }).next_year_amount == 29)
  -- a large amount stays exact
  assert(archive(project("fair", 9000000000000000005)).next_year_amount == 7200000000000000004)
end)
H.check("boundary: another fair_cut", function()
  assert(archive(project("fair"), { fair_cut = 0.3 }).next_year_amount == 700000)
  assert(archive(project("fair"), { fair_cut = 0.05 }).next_year_amount == 950000)
  -- the whole of it: a cut to nothing, still a cut
  local f = archive(project("fair"), { fair_cut = 1 })
  assert(f.next_year_action == "cut" and f.next_year_amount == 0)
  -- the cut share is the one a "cut" takes whatever the grade
  f = archive(project("poor"), { fair_cut = 0.5, actions = {
    excellent = "priority", good = "as_justified", fair = "cut", poor = "cut" } })
  assert(f.next_year_action == "cut" and f.next_year_amount == 500000)
end)
H.check("boundary: results_weight at 0.10 is accepted, below it is a configuration error", function()
  local f = archive(project("good"))
  assert(f.results_weight == 0.1 and math.type(f.results_weight) == "float")
  assert(archive(project("good"), { results_weight = 0.10 }).results_weight == 0.1)
  assert(archive(project("good"), { results_weight = 0.25 }).results_weight == 0.25)
  assert(archive(project("good"), { results_weight = 1 }).results_weight == 1.0)
  for _, w in ipairs({ 0.0999, 0.09, 0, -0.1 }) do
    errors(function() archive(project("good"), { results_weight = w }) end,
           "results_weight is " .. tostring(w) .. "; evaluation results must weigh at least 10 %")
    -- in the guard too: a deployment mistake is an error, never a refusal
    errors(function() r7.guard(project("good"), ARCHIVE, { results_weight = w }) end,
           "workflow.toml parameters: R-7 results_weight")
  end
  errors(function() archive(project("good"), { results_weight = 1.5 }) end, "from 0.10 to 1")
  errors(function() archive(project("good"), { results_weight = "10%" }) end, "from 0.10 to 1")
end)

H.check("grades in Chinese and English give the same consequence", function()
  local pairs_ = { { "优", "excellent" }, { "良", "good" }, { "中", "fair" }, { "差", "poor" } }
  for _, p in ipairs(pairs_) do
    local zh, en = archive(project(p[1])), archive(project(p[2]))
    for k, v in pairs(en) do assert(zh[k] == v, k .. " differs for " .. p[1]) end
    assert(zh.results_grade == p[2] and zh.results_grade_zh == p[1])
  end
end)
H.check("the grade field wins over the self-evaluation's grade, which stands in for it", function()
  local s = project("poor")
  s.facts.self_grade = "excellent"
  local f = archive(s)
  assert(f.results_grade == "poor" and f.results_grade_source == "grade")
  s = project(nil)
  s.facts.self_grade = "fair"
  f = archive(s)
  assert(f.results_grade == "fair" and f.results_grade_source == "self_grade")
  assert(f.next_year_action == "cut" and f.next_year_amount == 800000)
  s.facts.self_grade = "良"
  assert(archive(s).next_year_action == "as_justified")
end)
H.check("duplicated or expired: merged or cancelled whatever the grade", function()
  local f = archive(project("excellent", 1000000, { duplicated = true }))
  assert(f.next_year_action == "merge" and f.next_year_amount == 0)
  assert(f.next_year_basis == "duplicated" and f.results_grade == "excellent")
  f = archive(project("excellent", 1000000, { expired = true }))
  assert(f.next_year_action == "cancel" and f.next_year_amount == 0 and f.next_year_basis == "expired")
  -- both: expired is looked at first
  f = archive(project("good", 1000000, { expired = true, duplicated = true }))
  assert(f.next_year_action == "cancel" and f.next_year_basis == "expired")
  -- false is no flag, and only a boolean true is one
  f = archive(project("good", 1000000, { expired = false, duplicated = "yes" }))
  assert(f.next_year_action == "as_justified" and f.next_year_basis == "grade")
  -- the bureau chooses which of the two each flag gets
  f = archive(project("good", 1000000, { duplicated = true }), { duplicated_action = "cancel" })
  assert(f.next_year_action == "cancel")
  f = archive(project("good", 1000000, { expired = true }), { expired_action = "merge" })
  assert(f.next_year_action == "merge" and f.next_year_amount == 0)
end)
H.check("other actions per grade", function()
  local actions = { excellent = "priority", good = "cut", fair = "cut", poor = "merge" }
  local f = archive(project("good"), { actions = actions })
  assert(f.next_year_action == "cut" and f.next_year_amount == 800000)
  f = archive(project("poor"), { actions = actions })
  assert(f.next_year_action == "merge" and f.next_year_amount == 0)
end)

-- Parameters are the bureau's: a mistake is an error, never a refusal.
H.check("parameters: defaults, and mistakes are configuration errors", function()
  local s = project("fair")
  assert(r7.react(s, ARCHIVE).next_year_amount == 800000)          -- params nil
  H.accepted(r7.guard(s, ARCHIVE))
  local national = {
    actions = { excellent = "priority", good = "as_justified", fair = "cut", poor = "cancel" },
    fair_cut = 0.2, results_weight = 0.10, duplicated_action = "merge", expired_action = "cancel",
  }
  assert(archive(s, national).next_year_amount == 800000)
  local bad = {
    { { fair_cut = 0 }, "fair_cut must be a share more than 0 and at most 1" },
    { { fair_cut = -0.2 }, "fair_cut must be" },
    { { fair_cut = 1.2 }, "fair_cut must be" },
    { { fair_cut = "20%" }, "fair_cut must be" },
    { { fair_cut = 0 / 0 }, "fair_cut must be" },
    { { actions = "cut" }, "actions must be a table" },
    { { actions = { excellent = "priority", good = "as_justified", fair = "cut" } },
      "actions.poor is missing" },
    { { actions = { excellent = "priority", good = "as_justified", fair = "cut", poor = "suspend" } },
      "actions.poor is suspend; it must be priority, as_justified, cut, merge or cancel" },
    { { actions = { excellent = "priority", good = "as_justified", fair = "cut", poor = "as_justified" } },
      "actions.poor is as_justified; the plan cuts, merges or cancels every project rated poor" },
    { { actions = { excellent = "priority", good = "as_justified", fair = "cut", poor = "priority" } },
      "without exception" },
    { { actions = { excellent = "priority", good = "as_justified", fair = "cut", poor = "cancel",
                    bad = "cancel", ["差"] = "cancel" } },
      "actions has no grade bad, 差; its keys are excellent, good, fair and poor" },
    { { duplicated_action = "cut" }, "duplicated_action is cut; it must be merge or cancel" },
    { { expired_action = "priority" }, "expired_action is priority" },
    { { results_weigth = 0.2, cut = 0.2 }, "R-7 has no parameter cut, results_weigth; it takes" },
  }
  for _, case in ipairs(bad) do
    errors(function() archive(s, case[1]) end, case[2])
    errors(function() r7.guard(s, ARCHIVE, case[1]) end, "workflow.toml parameters: R-7")
  end
end)
H.check("listed on another event, the plugin raises", function()
  local s = project("fair")
  local grade = { name = "grade", set = { grade = "fair" } }
  errors(function() r7.guard(s, grade, {}) end, "R-7 is a guard on archive only, not on grade")
  errors(function() r7.react(s, grade, {}) end, "R-7 is a reaction on archive only")
  -- as a reaction without the guard, an ungraded project is an error
  errors(function() r7.react(project(nil), ARCHIVE, {}) end, "R-7: cannot apply results")
end)

-- archive: no results without a grade.
H.check("archiving a project with no grade is refused by R-7 with reason and remedy", function()
  local v = r7.guard(project(nil), ARCHIVE, {})
  H.refused(v, "R-7")
  assert(v.rule == "R-7")
  assert(v.reason:find("cannot be archived: it has no grade yet", 1, true), v.reason)
  assert(v.remedy:find("grade the project first (event grade, --set grade=", 1, true), v.remedy)
  -- a self-evaluation score alone is no grade: only its band is
  local s = project(nil)
  s.facts.self_score = 95
  H.refused(r7.guard(s, ARCHIVE, {}), "R-7")
end)
H.check("a grade none of the four is refused, naming it", function()
  local v = r7.guard(project("A+"), ARCHIVE, {})
  H.refused(v, "R-7")
  assert(v.reason:find('its grade "A+" is none of excellent, good, fair, poor (优/良/中/差)', 1, true),
         v.reason)
  local s = project(nil)
  s.facts.self_grade = "outstanding"
  v = r7.guard(s, ARCHIVE, {})
  H.refused(v, "R-7")
  assert(v.reason:find('its self_grade "outstanding"', 1, true), v.reason)
  -- a bad grade field is not papered over by a good self_grade
  s = project("A+")
  s.facts.self_grade = "good"
  H.refused(r7.guard(s, ARCHIVE, {}), "R-7")
end)
H.check("an amount that is not whole yuan is an error of the data", function()
  errors(function() r7.react(project("good", "1000"), ARCHIVE, {}) end, "not a whole number of yuan")
  errors(function() r7.react(project("good", -1), ARCHIVE, {}) end, "not a whole number of yuan")
  assert(archive(project("good", 1000.0)).next_year_amount == 1000)
end)

-- The helpers R-7 added to plugins/jx.lua.
H.check("jx.grade_en is jx.grade_zh reversed", function()
  for _, g in ipairs({ "excellent", "good", "fair", "poor" }) do
    assert(jx.grade_en(g) == g)
    assert(jx.grade_en(jx.grade_zh(g)) == g)
  end
  assert(jx.grade_en("优") == "excellent" and jx.grade_en("差") == "poor")
  assert(jx.grade_en("A") == nil and jx.grade_en(nil) == nil and jx.grade_en(90) == nil)
end)
H.check("jx.yuan_share: floor, exact, and nil with a reason on bad input", function()
  assert(jx.yuan_share(12345, 0.8) == 9876)
  assert(jx.yuan_share(100, 0.29) == 29)
  assert(jx.yuan_share(1000000, 0.000001) == 1)
  assert(jx.yuan_share(999999, 0.000001) == 0)
  assert(jx.yuan_share(0, 0.5) == 0 and jx.yuan_share(7, 0) == 0 and jx.yuan_share(7, 1) == 7)
  assert(jx.yuan_share(math.maxinteger, 1) == math.maxinteger)
  assert(math.type(jx.yuan_share(10.0, 0.5)) == "integer")
  -- the share is taken to 1e-9
  assert(jx.yuan_share(1000000000, 0.0000000004) == 0)
  assert(jx.yuan_share(1000000000, 0.0000000005) == 1)
  for _, c in ipairs({ { -1, 0.5, "amount" }, { 1.5, 0.5, "amount" }, { "10", 0.5, "amount" },
                       { 10, -0.1, "share" }, { 10, 1.01, "share" }, { 10, 0 / 0, "share" },
                       { 10, nil, "share" } }) do
    local v, why = jx.yuan_share(c[1], c[2])
    assert(v == nil and type(why) == "string" and why:find(c[3], 1, true), tostring(why))
  end
end)

H.check("a department-wide record is assessed, not cut", function()
  local f = archive(project("poor", 90000000, { level = "department" }))
  assert(f.next_year_action == "assessment", f.next_year_action)
  assert(f.next_year_basis == "department-wide")
  assert(f.next_year_amount == 90000000)
  f = archive(project("poor", 90000000, { level = "project" }))
  assert(f.next_year_action == "cancel", f.next_year_action)
end)
H.done()
