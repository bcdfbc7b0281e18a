package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r6 = H.load("plugins/r6_evaluation.lua")
local national = {
  weights = { execution = 10, output = 50, outcome = 30, satisfaction = 10 },
  bands = { excellent = 90, good = 80, fair = 60 },
}

local function ind(target, actual, cmp)
  return { indicator = "x", comparator = cmp or ">=", target = target, actual = actual }
end
-- A self-evaluation: `spent` of 1000 yuan, and output, outcome and
-- satisfaction as the fraction each single indicator reaches (nil: none).
local function eval(spent, output, outcome, satisfaction)
  local function list(f)
    if f == nil then return {} end
    return { ind(100, f * 100) }
  end
  return {
    execution = { allocated = 1000, spent = spent },
    output = list(output), outcome = list(outcome), satisfaction = list(satisfaction),
  }
end
local function self_evaluate(e, set)
  set = set or {}
  set.self_evaluation = e
  return { self_evaluation = e, self_score = set.self_score },
         { name = "self_evaluate", set = set }
end
local function grading(grade, reason)
  return { name = "grade", set = { grade = grade, grade_reason = reason } }
end

-- The score a self-evaluation gives, and its grade, through the reaction.
local function facts(e, params)
  local state, ev = self_evaluate(e)
  H.accepted(r6.guard(state, ev, params or national))
  return r6.react(state, ev, params or national)
end

H.check("the plugin names R-6", function()
  assert(r6.rule == "R-6")
  assert(r6.title:find("绩效评价", 1, true))
end)

-- Boundaries first, through the whole plugin.
H.check("boundary: 59.9 is poor (差), 60 is fair (中)", function()
  local f = facts(eval(990, 1))                 -- 9.9 + 50
  assert(f.self_score == 59.9 and f.self_grade == "poor" and f.self_grade_zh == "差",
         f.self_score .. " " .. f.self_grade)
  f = facts(eval(1000, 1))                      -- 10 + 50
  assert(f.self_score == 60 and f.self_grade == "fair" and f.self_grade_zh == "中")
end)
H.check("boundary: 79.99 is fair, 80 is good", function()
  local f = facts(eval(999, 1, 0.5, 0.5))       -- 9.99 + 50 + 15 + 5
  assert(f.self_score == 79.99 and f.self_grade == "fair", f.self_score)
  f = facts(eval(1000, 1, 0.5, 0.5))
  assert(f.self_score == 80 and f.self_grade == "good")
end)
H.check("boundary: 89.99 is good, 90 is excellent", function()
  local f = facts(eval(999, 1, 1))              -- 9.99 + 50 + 30
  assert(f.self_score == 89.99 and f.self_grade == "good" and f.self_grade_zh == "良")
  f = facts(eval(1000, 1, 1))
  assert(f.self_score == 90 and f.self_grade == "excellent" and f.self_grade_zh == "优")
end)
H.check("the reaction records score, grade and the parts", function()
  local e = eval(950, 1, 1, 1)
  e.output = { ind(12, 12), ind(12, 6) }        -- 25 + 12.5
  local f = facts(e)
  assert(f.self_score == 87, tostring(f.self_score))      -- 9.5 + 37.5 + 30 + 10
  assert(f.self_grade == "good" and f.self_grade_zh == "良")
  local p = f.self_score_parts
  assert(p.execution == 9.5 and p.output == 37.5 and p.outcome == 30 and p.satisfaction == 10)
end)
H.check("an indicator exactly met, and one over-achieved, earn full marks", function()
  local f = facts(eval(1000, 1, 1, 1))
  assert(f.self_score == 100)
  -- always a float, as 87.5 is: equal scores are stored as equal bytes
  assert(math.type(f.self_score) == "float" and math.type(facts(eval(0)).self_score) == "float")
  assert(facts(eval(1000, 3, 1.5, 1.01)).self_score == 100)
end)
H.check("<= indicators and a zero target", function()
  local e = eval(1000, 1, 1, 1)
  e.outcome = { ind(0, 0, "<="), ind(100, 125, "<=") }   -- 15 + 12
  e.satisfaction = { ind(0, 2, "<=") }                   -- 0: missed a zero target
  local f = facts(e)
  assert(f.self_score == 87, tostring(f.self_score))
end)
H.check("empty categories earn 0 (targets not set are not rewarded)", function()
  local f = facts(eval(1000, 1))
  assert(f.self_score_parts.outcome == 0 and f.self_score_parts.satisfaction == 0)
  assert(f.self_score == 60)
end)
H.check("parameters left out are the national ones", function()
  local f = facts(eval(1000, 1, 1), {})
  assert(f.self_score == 90 and f.self_grade == "excellent")
end)
H.check("other bands change the grade", function()
  local params = { weights = national.weights, bands = { excellent = 85, good = 75, fair = 50 } }
  local f = facts(eval(999, 1, 1), params)       -- 89.99
  assert(f.self_grade == "excellent")
  f = facts(eval(1000, 1), params)               -- 60
  assert(f.self_grade == "fair")
  f = facts(eval(0, 1), params)                  -- 50
  assert(f.self_grade == "fair")
  f = facts(eval(0, 1))                          -- 50 under the national bands
  assert(f.self_grade == "poor")
end)
H.check("other weights change the score", function()
  local params = {
    weights = { execution = 20, output = 40, outcome = 40, satisfaction = 0 },
    bands = national.bands,
  }
  local e = eval(500, 1, 1)                      -- national: 5 + 50 + 30 = 85
  assert(facts(e).self_score == 85)
  local f = facts(e, params)                     -- 10 + 40 + 40 + 0
  assert(f.self_score == 90 and f.self_grade == "excellent", f.self_score)
end)

-- self_evaluate: the data must be there and scorable.
H.check("self_evaluate without data is refused by R-6 with reason and remedy", function()
  local v = r6.guard({}, { name = "self_evaluate", set = {} }, national)
  H.refused(v, "R-6")
  assert(v.rule == "R-6")
  assert(v.reason:find("self_evaluation", 1, true), v.reason)
  assert(v.remedy:find("--set 'self_evaluation=", 1, true), v.remedy)
end)
H.check("self_evaluate with data that cannot be scored is refused, saying where", function()
  local e = eval(1000, 1, 1, 1)
  e.outcome[2] = { indicator = "beds", comparator = ">=", target = 10 }
  local v = r6.guard(self_evaluate(e))
  H.refused(v, "R-6")
  assert(v.reason:find("outcome[2] (beds)", 1, true), v.reason)
  e = eval(1000, 1)
  e.execution.allocated = 0
  H.refused(r6.guard(self_evaluate(e)), "R-6")
  e = eval(1000, 1)
  e.outcomes = {}
  H.refused(r6.guard(self_evaluate(e)), "R-6")
end)
H.check("a stated self_score must be the computed one", function()
  local state, ev = self_evaluate(eval(1000, 1, 1), { self_score = 95 })
  local v = r6.guard(state, ev, national)
  H.refused(v, "R-6")
  assert(v.reason:find("(95)", 1, true) and v.reason:find("(90)", 1, true), v.reason)
  state, ev = self_evaluate(eval(1000, 1, 1), { self_score = 90 })
  H.accepted(r6.guard(state, ev, national))
  state, ev = self_evaluate(eval(999, 1, 1), { self_score = 89.99 })
  H.accepted(r6.guard(state, ev, national))
end)

-- grade: the grade set must be the score's band, or carry a reason.
local function graded(e) return { self_evaluation = e } end
H.check("a grade that agrees with the score is accepted, in English or Chinese", function()
  H.accepted(r6.guard(graded(eval(1000, 1, 1)), grading("excellent"), national))
  H.accepted(r6.guard(graded(eval(1000, 1, 1)), grading("优"), national))
  H.accepted(r6.guard(graded(eval(999, 1, 1)), grading("good"), national))
  H.accepted(r6.guard(graded(eval(990, 1)), grading("差"), national))
end)
H.check("a grade that disagrees is refused naming R-6, with reason and remedy", function()
  local v = r6.guard(graded(eval(999, 1, 1)), grading("excellent"), national)   -- 89.99
  H.refused(v, "R-6")
  assert(v.rule == "R-6")
  assert(v.reason:find("89.99", 1, true), v.reason)
  assert(v.reason:find("good (良)", 1, true), v.reason)
  assert(v.reason:find("excellent (优)", 1, true), v.reason)
  assert(v.remedy:find("grade=good", 1, true), v.remedy)
  assert(v.remedy:find("grade_reason", 1, true), v.remedy)
  H.refused(r6.guard(graded(eval(1000, 1)), grading("poor"), national), "R-6")    -- 60
  H.refused(r6.guard(graded(eval(1000, 1)), grading("良"), national), "R-6")
end)
H.check("a grade that departs from the score passes with a grade_reason", function()
  local reason = "fiscal evaluation (财政评价) 2022-05 found the outputs overstated"
  H.accepted(r6.guard(graded(eval(1000, 1, 1)), grading("fair", reason), national))
end)
H.check("a blank grade_reason is no reason", function()
  H.refused(r6.guard(graded(eval(1000, 1, 1)), grading("fair", "  "), national), "R-6")
  H.refused(r6.guard(graded(eval(1000, 1, 1)), grading("fair", ""), national), "R-6")
end)
H.check("the grade is checked under the bands in force", function()
  local params = { weights = national.weights, bands = { excellent = 85, good = 75, fair = 50 } }
  H.accepted(r6.guard(graded(eval(999, 1, 1)), grading("excellent"), params))
  local v = r6.guard(graded(eval(999, 1, 1)), grading("good"), params)
  H.refused(v, "R-6")
  assert(v.reason:find("excellent >= 85", 1, true), v.reason)
end)
H.check("grading sets no grade: refused", function()
  local v = r6.guard(graded(eval(1000, 1, 1)), { name = "grade", set = {} }, national)
  H.refused(v, "R-6")
  assert(v.remedy:find("--set grade=", 1, true))
end)
H.check("no self-evaluation to grade against: refused unless a reason is given", function()
  local v = r6.guard({}, grading("good"), national)
  H.refused(v, "R-6")
  assert(v.remedy:find("grade_reason", 1, true))
  H.accepted(r6.guard({}, grading("good", "department evaluation report 2022-07"), national))
  local bad = eval(1000, 1)
  bad.output = "all done"
  H.refused(r6.guard(graded(bad), grading("good"), national), "R-6")
end)

-- Mistakes of the deployment fail loudly (exit 5), never as a refusal.
local function raises(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end
H.check("weights that do not sum to 100 are an error of workflow.toml", function()
  local params = { weights = { execution = 10, output = 50, outcome = 30, satisfaction = 20 } }
  local state, ev = self_evaluate(eval(1000, 1, 1))
  raises(function() r6.guard(state, ev, params) end, "workflow.toml parameters: weights sum to 110")
  raises(function() r6.react(state, ev, params) end, "sum to 110")
  raises(function() r6.guard(graded(eval(1000, 1)), grading("fair"), params) end, "sum to 110")
end)
H.check("bad bands are an error of workflow.toml", function()
  local params = { bands = { excellent = 80, good = 90, fair = 60 } }
  raises(function() r6.guard(graded(eval(1000, 1)), grading("fair"), params) end,
         "workflow.toml parameters: bands must satisfy")
end)
H.check("listed on another event, the plugin raises", function()
  raises(function() r6.guard({}, { name = "archive", set = {} }, national) end, "not on archive")
  raises(function() r6.react({}, { name = "archive", set = {} }, national) end, "not on archive")
end)
H.check("on grade the reaction records who evaluated", function()
  local ev = grading("fair")
  ev.role, ev.actor = "finance_performance", "fin-perf"
  local facts = r6.react(graded(eval(1000, 1)), ev, national)
  assert(facts.evaluation == "fiscal" and facts.graded_by == "fin-perf")
  ev.role = "department"
  assert(r6.react(graded(eval(1000, 1)), ev, national).evaluation == "department")
end)
H.check("a reaction without its guard raises on bad data", function()
  local state, ev = self_evaluate({ output = "all done" })
  raises(function() r6.react(state, ev, national) end, "cannot be scored")
end)
H.done()
