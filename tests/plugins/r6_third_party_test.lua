package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local tp = H.load("plugins/r6_third_party.lua")

local params = {
  institutions = {
    ["hl-consult"] = { name = "Hailin Performance Consulting", related = { "health" } },
    ["hl-accounting"] = { name = "Hailin Zhengxin Accounting Firm", related = {} },
    ["hl-university"] = { name = "Hailin University", related = { "edu-school-1" } },
  },
  min_quality = 70,
}

local function project(dept, unit, facts)
  return { department = dept, unit = unit, facts = facts or {} }
end
local function grading(institution)
  return { name = "grade", actor = "edu-dept", role = "department",
           set = { grade = "good", third_party = institution } }
end
local function rating(score, note)
  local q = { score = score, note = note or "report complete" }
  return { name = "rate_third_party", actor = "fin-perf", role = "finance_performance",
           set = { third_party_quality = q } }, q
end
local function rated(institution, score)
  local ev, q = rating(score)
  local state = project("education", "edu-school-1", { third_party = institution })
  state.third_party_quality = q
  return state, ev
end
local function guard_rated(institution, score, p)
  local state, ev = rated(institution, score)
  return tp.guard(state, ev, p)
end
local function react_rated(institution, score, p)
  local state, ev = rated(institution, score)
  return tp.react(state, ev, p)
end
local function raises(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end

H.check("the plugin names R-6", function()
  assert(tp.rule == "R-6" and tp.title:find("第三方机构", 1, true))
end)

-- grade: the institution must be registered and independent.
H.check("a grade without a third party is not this plugin's concern", function()
  H.accepted(tp.guard(project("health", "hlt-clinic-1"), grading(nil), params))
  assert(tp.react(project("health", "hlt-clinic-1"), grading(nil), params) == nil)
end)
H.check("an independent registered institution is accepted and recorded", function()
  local state = project("education", "edu-school-1")
  H.accepted(tp.guard(state, grading("hl-consult"), params))
  local f = tp.react(state, grading("hl-consult"), params)
  assert(f.third_party == "hl-consult" and f.third_party_name == "Hailin Performance Consulting")
  H.accepted(tp.guard(project("health", "hlt-clinic-1"), grading("hl-accounting"), params))
end)
H.check("an institution not in the registry is refused, naming the registry", function()
  local v = tp.guard(project("education", "edu-school-1"), grading("hl-consul"), params)
  H.refused(v, "R-6")
  assert(v.rule == "R-6")
  assert(v.reason:find("hl-consul is not in the registry", 1, true), v.reason)
  assert(v.reason:find("hl-accounting, hl-consult, hl-university", 1, true), v.reason)
  assert(v.remedy:find("--set third_party=hl-accounting", 1, true), v.remedy)
  H.refused(tp.guard(project("education", "edu-school-1"), grading(7), params), "R-6")
end)
H.check("an institution tied to the project's department is refused, naming the tie", function()
  local v = tp.guard(project("health", "hlt-clinic-1"), grading("hl-consult"), params)
  H.refused(v, "R-6")
  assert(v.reason:find("not independent", 1, true), v.reason)
  assert(v.reason:find("tie with health, the project's department", 1, true), v.reason)
  assert(v.remedy:find("hl-accounting, hl-university", 1, true), v.remedy)
end)
H.check("an institution tied to the project's unit is refused, naming the tie", function()
  local v = tp.guard(project("education", "edu-school-1"), grading("hl-university"), params)
  H.refused(v, "R-6")
  assert(v.reason:find("tie with edu-school-1, the project's unit", 1, true), v.reason)
  -- the same institution for another unit of the same department is independent
  H.accepted(tp.guard(project("education", "edu-school-2"), grading("hl-university"), params))
end)
H.check("with no independent institution the remedy says to register one", function()
  local only = { institutions = { ["hl-consult"] = params.institutions["hl-consult"] } }
  local v = tp.guard(project("health", "hlt-clinic-1"), grading("hl-consult"), only)
  H.refused(v, "R-6")
  assert(v.remedy:find("no registered institution is independent", 1, true), v.remedy)
  v = tp.guard(project("health", "hlt-clinic-1"), grading("x"), {})
  assert(v.reason:find("institutions: none", 1, true), v.reason)
end)

-- rate_third_party: a score 0..100 and a note, for a third party's work.
H.check("boundary: quality scores 0 and 100 are taken, -0.01 and 100.01 refused", function()
  for _, score in ipairs({ 0, 100, 69.99 }) do
    H.accepted(guard_rated("hl-consult", score, params))
  end
  for _, score in ipairs({ -0.01, 100.01, "80" }) do
    local v = guard_rated("hl-consult", score, params)
    H.refused(v, "R-6")
    assert(v.reason:find("from 0 to 100", 1, true), v.reason)
  end
end)
H.check("only a third party's work is rated", function()
  local ev = rating(80)
  local v = tp.guard(project("education", "edu-school-1"), ev, params)
  H.refused(v, "R-6")
  assert(v.reason:find("not graded by one", 1, true), v.reason)
end)
H.check("a rating needs third_party_quality with a note and nothing else", function()
  local state = project("education", "edu-school-1", { third_party = "hl-consult" })
  local v = tp.guard(state, { name = "rate_third_party", set = {} }, params)
  H.refused(v, "R-6")
  assert(v.remedy:find("--set 'third_party_quality={score=", 1, true), v.remedy)
  H.refused(tp.guard(state, rating(80, " "), params), "R-6")
  local ev = rating(80)
  ev.set.third_party_quality.grade = "good"
  v = tp.guard(state, ev, params)
  H.refused(v, "R-6")
  assert(v.reason:find("a key grade", 1, true), v.reason)
end)
H.check("the rating records the score and its band", function()
  local f = react_rated("hl-consult", 80, params)
  assert(f.third_party_quality == 80 and math.type(f.third_party_quality) == "float")
  assert(f.third_party_quality_grade == "good" and f.third_party_rated_by == "fin-perf")
  assert(react_rated("hl-consult", 79.99, params).third_party_quality_grade == "fair")
  local b = { institutions = params.institutions, bands = { excellent = 85, good = 75, fair = 60 } }
  assert(react_rated("hl-consult", 79.99, b).third_party_quality_grade == "good")
end)

-- The report.
local function evaluated(institution, quality)
  return { department = "education", facts = { third_party = institution,
                                               third_party_quality = quality } }
end
local function row(report, key)
  for _, r in ipairs(report.rows) do
    if r[1] == key then return r end
  end
end
H.check("boundary: an average of exactly min_quality may still be engaged, 69.99 not", function()
  local rep = tp.report({ evaluated("hl-consult", 80), evaluated("hl-consult", 60),
                          evaluated("hl-accounting", 69.99), evaluated(nil),
                          { department = "x" } }, params)
  local r = row(rep, "hl-consult")
  assert(r[2] == "Hailin Performance Consulting" and r[3] == "health")
  assert(r[4] == 2 and r[5] == 2 and r[6] == "70" and r[7] == "中" and r[8] == "yes", r[8])
  r = row(rep, "hl-accounting")
  assert(r[4] == 1 and r[6] == "69.99" and r[8] == "no (below 70)", r[8])
  r = row(rep, "hl-university")
  assert(r[4] == 0 and r[6] == "none" and r[8] == "yes (not yet rated)")
  assert(rep.notes[#rep.notes] == "Not to be engaged: hl-accounting.", rep.notes[#rep.notes])
end)
H.check("projects evaluated but not yet rated count only as evaluated", function()
  local r = row(tp.report({ evaluated("hl-consult", 90), evaluated("hl-consult") }, params),
                "hl-consult")
  assert(r[4] == 2 and r[5] == 1 and r[6] == "90" and r[8] == "yes")
end)
H.check("min_quality is a parameter", function()
  local p = { institutions = params.institutions, min_quality = 90 }
  local r = row(tp.report({ evaluated("hl-consult", 89.99) }, p), "hl-consult")
  assert(r[8] == "no (below 90)", r[8])
end)
H.check("an institution no longer registered is listed last and not engaged", function()
  local rep = tp.report({ evaluated("old-firm", 95) }, params)
  local last = rep.rows[#rep.rows]
  assert(last[1] == "old-firm" and last[2] == "(not registered)")
  assert(last[8] == "no (not registered)")
  assert(#rep.rows == 4)
  assert(row(rep, "hl-accounting") == rep.rows[1])          -- registered, bytewise
end)
H.check("an empty registry and no projects still make a report", function()
  local rep = tp.report({}, {})
  assert(#rep.rows == 0 and rep.notes[1]:find("No third-party institution", 1, true))
end)

-- Mistakes of the deployment fail loudly (exit 5), never as a refusal.
H.check("registry and parameter mistakes are errors of workflow.toml", function()
  local st = project("education", "edu-school-1")
  raises(function() tp.guard(st, grading(nil), { min_quality = 101 }) end,
         "workflow.toml parameters: R-6 third_party min_quality")
  raises(function() tp.guard(st, grading(nil), { institutions = { x = { related = {} } } }) end,
         "institutions.x.name")
  raises(function() tp.guard(st, grading(nil), { institutions = { x = { name = "X",
           related = "health" } } }) end, "institutions.x.related must be a list")
  raises(function() tp.guard(st, grading(nil), { institutions = { x = { name = "X",
           ties = {} } } }) end, "institutions.x has no parameter ties")
  raises(function() tp.guard(st, grading(nil), { institutions = { { name = "X" } } }) end,
         "not a list")
  raises(function() tp.guard(st, grading(nil), { registry = {} }) end,
         "has no parameter registry")
  raises(function() tp.report({}, { bands = { excellent = 80, good = 90, fair = 60 } }) end,
         "bands must satisfy")
end)
H.check("listed on another event, the plugin raises", function()
  raises(function() tp.guard({}, { name = "archive", set = {} }, params) end, "not on archive")
  raises(function() tp.react({}, { name = "archive", set = {} }, params) end, "not on archive")
end)
H.check("a reaction without its guard raises on what the guard refuses", function()
  raises(function() tp.react({}, grading("nope"), params) end, "not registered")
  raises(function() tp.react({}, { name = "rate_third_party", set = {} }, params) end,
         "no score")
end)
H.done()
