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

-- Spot checks (抽查复核): the re-check's score against the self-evaluation's.
-- eval(1000, 1, 1) scores 90 (good would be 80..89.99, excellent 90+).
local function spot(e, score, note, extra)
  local state = { self_evaluation = e, facts = {} }
  for k, v in pairs(extra or {}) do state[k] = v end
  local set = { spot_check = { score = score, note = note or "re-checked" } }
  state.spot_check = set.spot_check
  return state, { name = "spot_check", set = set, actor = "fin-perf",
                  role = "finance_performance" }
end
local function spot_facts(e, score, params, extra)
  local state, ev = spot(e, score, nil, extra)
  H.accepted(r6.guard(state, ev, params or national))
  return r6.react(state, ev, params or national).spot_check
end
H.check("boundary: a spot check 5 points below passes, 5.01 fails", function()
  local f = spot_facts(eval(1000, 1, 1), 85)
  assert(f.passed == true and f.deviation == -5 and f.self_score == 90, f.deviation)
  assert(f.score == 85 and f.tolerance == 5 and f.grade == "good" and f.by == "fin-perf")
  f = spot_facts(eval(1000, 1, 1), 84.99)
  assert(f.passed == false and f.deviation == -5.01, tostring(f.deviation))
end)
H.check("boundary: above the self-score too: 5 passes, 5.01 fails", function()
  local e = eval(1000, 1, 0.5, 0.5)                      -- 80
  assert(spot_facts(e, 85).passed == true)
  assert(spot_facts(e, 85.01).passed == false)
end)
H.check("boundary: float noise does not fail a spot check exactly 5 off", function()
  local f = spot_facts(eval(999, 1, 1), 84.99)           -- 89.99 - 84.99
  assert(f.passed == true and f.deviation == -5, tostring(f.deviation))
end)
H.check("the spot-check tolerance is a parameter", function()
  local params = { weights = national.weights, bands = national.bands,
                   spot_check_tolerance = 10 }
  assert(spot_facts(eval(1000, 1, 1), 80, params).passed == true)
  assert(spot_facts(eval(1000, 1, 1), 79.99, params).passed == false)
  params.spot_check_tolerance = 0
  assert(spot_facts(eval(1000, 1, 1), 90, params).passed == true)
  assert(spot_facts(eval(1000, 1, 1), 90.01, params).passed == false)
end)
H.check("a spot check of a graded project says whether the grade stands", function()
  local f = spot_facts(eval(1000, 1, 1), 70, nil, { grade = "excellent" })
  assert(f.passed == false and f.grade == "fair" and f.grade_agrees == false)
  f = spot_facts(eval(1000, 1, 1), 88, nil, { grade = "优" })      -- passed: 90 stands
  assert(f.passed == true and f.grade_agrees == true)
  f = spot_facts(eval(1000, 1, 1), 70, nil, { grade = "中" })
  assert(f.grade_agrees == true)
  assert(spot_facts(eval(1000, 1, 1), 70).grade_agrees == nil)       -- not graded yet
end)
H.check("spot check refusals: nothing sent, not a table, other keys", function()
  local v = r6.guard({ self_evaluation = eval(1000, 1, 1) },
                     { name = "spot_check", set = {} }, national)
  H.refused(v, "R-6")
  assert(v.reason:find("sets no spot_check", 1, true), v.reason)
  assert(v.remedy:find("--set 'spot_check={score=", 1, true), v.remedy)
  v = r6.guard({}, { name = "spot_check", set = { spot_check = 85 } }, national)
  H.refused(v, "R-6")
  assert(v.reason:find("must be a table", 1, true), v.reason)
  local state, ev = spot(eval(1000, 1, 1), 85)
  ev.set.spot_check.grade = "good"
  v = r6.guard(state, ev, national)
  H.refused(v, "R-6")
  assert(v.reason:find("a key grade", 1, true), v.reason)
end)
H.check("boundary: spot check scores 0 and 100 are taken, -0.01 and 100.01 refused", function()
  for _, score in ipairs({ 0, 100 }) do
    H.accepted(r6.guard(spot(eval(1000, 1, 1), score)))
  end
  for _, score in ipairs({ -0.01, 100.01, "85", 0 / 0 }) do
    local state, ev = spot(eval(1000, 1, 1), score)
    local v = r6.guard(state, ev, national)
    H.refused(v, "R-6")
    assert(v.reason:find("from 0 to 100", 1, true), v.reason)
  end
end)
H.check("a spot check needs a note saying what was re-checked", function()
  for _, note in ipairs({ "", "  " }) do
    local v = r6.guard(spot(eval(1000, 1, 1), 85, note))
    H.refused(v, "R-6")
    assert(v.reason:find("no note", 1, true), v.reason)
  end
  local state, ev = spot(eval(1000, 1, 1), 85)
  ev.set.spot_check.note = nil
  H.refused(r6.guard(state, ev, national), "R-6")
end)
H.check("a spot check needs a self-evaluation score to compare with", function()
  local state, ev = spot(nil, 85)
  local v = r6.guard(state, ev, national)
  H.refused(v, "R-6")
  assert(v.reason:find("none to compare with", 1, true), v.reason)
  assert(v.remedy:find("self_evaluate", 1, true), v.remedy)
  state, ev = spot({ output = "all done" }, 85)
  H.refused(r6.guard(state, ev, national), "R-6")
  raises(function() r6.react(state, ev, national) end, "spot_check")
end)

-- After a failed spot check the grade follows the re-check.
local function spot_checked(e, score)
  local state, ev = spot(e, score)
  state.facts.spot_check = r6.react(state, ev, national).spot_check
  return state
end
H.check("after a failed spot check the grade must be the re-check's band", function()
  local state = spot_checked(eval(1000, 1, 1), 70)     -- self 90, re-check 70
  local v = r6.guard(state, grading("excellent"), national)
  H.refused(v, "R-6")
  assert(v.reason:find("spot check's score", 1, true), v.reason)
  assert(v.reason:find("70", 1, true) and v.reason:find("fair (中)", 1, true), v.reason)
  assert(v.remedy:find("grade=fair", 1, true), v.remedy)
  H.accepted(r6.guard(state, grading("fair"), national))
  H.accepted(r6.guard(state, grading("中"), national))
  -- grade_reason still allows departing from it
  H.accepted(r6.guard(state, grading("excellent", "appeal upheld 2022-04"), national))
end)
H.check("boundary: the failed check's band is by the bands: 79.99 fair, 80 good", function()
  local state = spot_checked(eval(1000, 1, 1, 1), 79.99)   -- self 100
  H.accepted(r6.guard(state, grading("fair"), national))
  H.refused(r6.guard(state, grading("good"), national), "R-6")
  state = spot_checked(eval(1000, 1, 1, 1), 80)
  H.accepted(r6.guard(state, grading("good"), national))
end)
H.check("after a passed spot check the grade is still the self-score's band", function()
  local state = spot_checked(eval(1000, 1, 1), 85)     -- passes (5 off)
  assert(state.facts.spot_check.passed == true)
  H.accepted(r6.guard(state, grading("excellent"), national))
  H.refused(r6.guard(state, grading("good"), national), "R-6")
end)

-- Pilots (试点): a pilot project is scored under its pilot's parameters.
local piloted = {
  weights = national.weights, bands = national.bands,
  pilots = {
    ppp = { weights = { execution = 10, output = 40, outcome = 40, satisfaction = 10 } },
    services = { bands = { excellent = 85, good = 75, fair = 60 } },
  },
}
local function pilot_facts(e, pilot, params)
  local state, ev = self_evaluate(e)
  state.pilot = pilot
  H.accepted(r6.guard(state, ev, params))
  return r6.react(state, ev, params)
end
H.check("a pilot project scores differently from the same data without the pilot", function()
  local e = eval(1000, 1, 0.5, 1)              -- general: 10 + 50 + 15 + 10 = 85
  local general = pilot_facts(e, nil, piloted)
  local ppp = pilot_facts(e, "ppp", piloted)   -- ppp: 10 + 40 + 20 + 10 = 80
  assert(general.self_score == 85 and general.self_score_rules == "general")
  assert(ppp.self_score == 80 and ppp.self_score_rules == "pilot ppp", ppp.self_score)
  assert(general.self_grade == "good" and ppp.self_grade == "good")
  e = eval(1000, 1, 0.75, 1)                   -- general 92.5 excellent; ppp 90 excellent
  assert(pilot_facts(e, "ppp", piloted).self_score == 90)
end)
H.check("a pilot's own bands grade it; what it leaves out is general", function()
  local e = eval(1000, 1, 0.5, 1)              -- 85 under the general weights
  local f = pilot_facts(e, "services", piloted)
  assert(f.self_score == 85 and f.self_grade == "excellent", f.self_grade)
  assert(pilot_facts(e, nil, piloted).self_grade == "good")
  -- a pilot without parameters of its own is scored as any project
  f = pilot_facts(e, "bond", piloted)
  assert(f.self_score == 85 and f.self_grade == "good" and f.self_score_rules == "general")
end)
H.check("grade and self_score checks use the pilot's parameters", function()
  local e = eval(1000, 1, 0.5, 1)
  local state = { self_evaluation = e, pilot = "ppp" }
  H.accepted(r6.guard(state, grading("good"), piloted))
  state.pilot = "services"
  H.accepted(r6.guard(state, grading("excellent"), piloted))
  local v = r6.guard(state, grading("good"), piloted)
  H.refused(v, "R-6")
  assert(v.reason:find("excellent >= 85", 1, true) and v.reason:find("pilot services", 1, true), v.reason)
  local st, ev = self_evaluate(e, { self_score = 85 })
  st.pilot = "ppp"
  v = r6.guard(st, ev, piloted)
  H.refused(v, "R-6")
  assert(v.reason:find("(80, under the weights of the pilot ppp)", 1, true), v.reason)
end)
H.check("pilot parameters that are wrong are an error of workflow.toml", function()
  local function with(pilots) return { pilots = pilots } end
  local st, ev = self_evaluate(eval(1000, 1))
  raises(function() r6.guard(st, ev, with({ pp = { bands = national.bands } })) end,
         "workflow.toml parameters: R-6 pilots has no pilot pp")
  raises(function() r6.guard(st, ev, with({ ppp = { weights = { execution = 10, output = 40,
           outcome = 40, satisfaction = 20 } } })) end, "pilots.ppp.weights sum to 110")
  raises(function() r6.guard(st, ev, with({ ppp = { bands = { excellent = 70, good = 80,
           fair = 60 } } })) end, "pilots.ppp.bands must satisfy")
  raises(function() r6.guard(st, ev, with({ ppp = { weight = {} } })) end,
         "R-6 pilots.ppp has no parameter weight")
  raises(function() r6.guard(st, ev, with({ { weights = national.weights } })) end,
         "not a list")
  raises(function() r6.guard(st, ev, with("ppp")) end, "pilots must be a table")
end)
H.check("other parameter mistakes are errors of workflow.toml", function()
  local st, ev = self_evaluate(eval(1000, 1))
  raises(function() r6.guard(st, ev, { spot_check_tolerance = -1 }) end,
         "spot_check_tolerance must be a number of points from 0 to 100")
  raises(function() r6.guard(st, ev, { spot_check_tolerance = "5" }) end,
         "spot_check_tolerance")
  raises(function() r6.guard(st, ev, { tolerance = 5 }) end,
         "R-6 has no parameter tolerance")
end)
H.done()
