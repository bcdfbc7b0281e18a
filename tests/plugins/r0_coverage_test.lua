package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r0 = H.load("plugins/r0_coverage.lua")
local params = { goal = 0.20, budget_types = { "general", "government_fund", "state_capital" } }
-- Targets of the shape R-3 takes (counted here, judged there).
local T = { { level1 = "output", level2 = "quantity", indicator = "schools renovated",
             comparator = ">=", value = 12, unit = "schools" },
           { level1 = "outcome", level2 = "social", indicator = "pupils served",
             comparator = ">=", value = 3000, unit = "pupils" } }

local function project(budget, amount, graded, kind)
  return { budget_type = budget, amount = amount, targets = T,
           grade = graded and "good" or nil,
           facts = graded and { evaluation = kind or "department" } or nil }
end

local function row(report, budget)
  for _, r in ipairs(report.rows) do
    if r[1] == budget then return r end
  end
end

H.check("boundary: 1 of 5 graded is 20 %: met", function()
  local ps = {}
  for i = 1, 5 do ps[i] = project("general", 100, i == 1) end
  assert(row(r0.report(ps, params), "general")[8] == "met")
end)
H.check("1 of 6 graded (16.7 %), 19 of 100 yuan (19 %): not met", function()
  local ps = { project("general", 19, true) }
  for _, amount in ipairs({ 16, 16, 16, 16, 17 }) do
    ps[#ps + 1] = project("general", amount, false)
  end
  local r = row(r0.report(ps, params), "general")
  assert(r[8] == "not met", r[7] .. " " .. r[6])
end)
H.check("by funds alone is enough", function()
  local ps = { project("general", 900, true) }
  for i = 1, 9 do ps[#ps + 1] = project("general", 10, false) end
  assert(row(r0.report(ps, params), "general")[8] == "met")
end)
H.check("a budget without projects is named in the notes", function()
  local rep = r0.report({ project("general", 1, true) }, params)
  assert(row(rep, "state_capital")[8] == "no projects")
  assert(rep.notes[1]:find("state_capital", 1, true), rep.notes[1])
end)
H.check("the goal is a parameter", function()
  local ps = {}
  for i = 1, 4 do ps[i] = project("general", 100, i == 1) end
  local p = { goal = 0.30, budget_types = params.budget_types }
  assert(row(r0.report(ps, p), "general")[8] == "not met")
end)
H.check("department and fiscal evaluation are counted apart", function()
  local ps = {}
  for i = 1, 5 do ps[i] = project("general", 100, i == 1, "fiscal") end
  local r = row(r0.report(ps, params), "general")
  assert(r[8] == "not met" and r[9] == "met", r[8] .. " " .. r[9])
  assert(r[7] == "20.0 % / 20.0 %", r[7])
end)
H.check("the self-evaluations spot-checked are counted, of those self-evaluated", function()
  local function selfev(checked)
    local p = project("general", 100, false)
    p.facts = { self_score = 90, spot_check = checked and { passed = true } or nil }
    return p
  end
  local ps = { selfev(true), selfev(false), selfev(false), project("general", 100, false) }
  -- a spot check without a self-evaluation is not counted
  ps[4].facts = { spot_check = { passed = false } }
  local rep = r0.report(ps, params)
  assert(rep.columns[10] == "self-evaluations spot-checked")
  assert(row(rep, "general")[10] == "1 of 3 (33.3 %)", row(rep, "general")[10])
  assert(row(rep, "state_capital")[10] == "none self-evaluated")
end)
H.check("department-wide records are not projects; the pilot note", function()
  local d1 = project("general", 90000000, true, "fiscal")
  d1.level, d1.department = "department", "education"
  local d2 = project("general", 70000000, false)
  d2.level, d2.department = "department", "health"
  local r = r0.report({ project("general", 100), d1, d2 }, params)
  assert(row(r, "general")[2] == 1, "only the project is counted")
  local note = r.notes[#r.notes]
  assert(note == "Department-wide fiscal evaluation pilots (R-6): 1 of 2 "
    .. "departments (education); not met.", note)
  local p = { goal = 0.20, budget_types = params.budget_types,
              department_pilots = 1 }
  note = r0.report({ d1 }, p).notes
  assert(note[#note]:find("1 of 1 departments (education); met", 1, true))
end)
H.done()
