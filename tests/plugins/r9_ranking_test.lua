package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local jx = H.jx()
local r9 = H.load("plugins/r9_ranking.lua")

-- Targets of the shape R-3 takes (counted here, judged there).
local T = { { level1 = "output", level2 = "quantity", indicator = "schools renovated",
             comparator = ">=", value = 12, unit = "schools" },
           { level1 = "outcome", level2 = "social", indicator = "pupils served",
             comparator = ">=", value = 3000, unit = "pupils" } }
-- Column positions.
local RANK, DEPT, N, FUNDS, TGT, SELF, AVG, NORED, REC, SCORE, CONS =
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
local TOP = "preference in budget arrangement (预算安排予以倾斜)"
local BOTTOM = "fund scale reduced (扣减资金规模)"

-- A project of `dept` in the budget: targets, no evaluation, no warning;
-- `extra` fields (facts merged into facts).
local function project(dept, extra)
  local p = { id = "P", department = dept, status = "executing",
              amount = 1000000, targets = T, facts = {} }
  for k, v in pairs(extra or {}) do
    if k == "facts" then
      for fk, fv in pairs(v) do p.facts[fk] = fv end
    else
      p[k] = v
    end
  end
  return p
end
local function self(score) return { facts = { self_score = score } } end

-- Three departments (defaults: targets 25, self_evaluated 25, self_score
-- 30, no_red 20, recovered 20):
--   education  2 projects, targets, self-scores 90 and 80: 25 + 25 + 25.5 + 20 = 95.5
--   health     2 projects, one with targets, one self-scored 70 with a red
--              warning, 100,000 of 2,000,000 recovered:
--              12.5 + 12.5 + 21 + 10 - 1 = 55
--   culture    1 project of 500,000, targets, nothing else: 25 + 20 = 45
local function three()
  return {
    project("culture", { amount = 500000, facts = { recovery_amount = 0 } }),
    project("education", self(90)),
    project("education", self(80)),
    project("health", { targets = {} }),
    project("health", { recovered_amount = 100000,
      facts = { self_score = 70, monitoring_warning = "red",
                recovery_amount = 250000 } }),
  }
end

local function report(projects, params)
  return r9.report(projects, params or {})
end
local function order(rep)
  local out = {}
  for _, r in ipairs(rep.rows) do out[#out + 1] = r[DEPT] end
  return table.concat(out, " ")
end
local function row(rep, dept)
  for _, r in ipairs(rep.rows) do
    if r[DEPT] == dept then return r end
  end
end
local function notes(rep) return table.concat(rep.notes, "\n") end
local function errors(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end

H.check("the plugin names R-9 and has the columns", function()
  assert(r9.rule == "R-9")
  local rep = report({})
  assert(rep.title:find("R-9", 1, true), rep.title)
  assert(#rep.columns == 11 and rep.columns[SCORE] == "score"
         and rep.columns[CONS] == "consequence", table.concat(rep.columns, "|"))
  assert(#rep.rows == 0)
  assert(notes(rep):find("No department has projects to rank", 1, true), notes(rep))
end)

H.check("the score, its components and the consequences", function()
  local rep = report(three())
  assert(order(rep) == "education health culture", order(rep))
  local e, h, c = row(rep, "education"), row(rep, "health"), row(rep, "culture")
  assert(e[RANK] == 1 and h[RANK] == 2 and c[RANK] == 3)
  assert(math.type(e[RANK]) == "integer" and e[N] == 2)
  assert(e[FUNDS] == "2,000,000" and c[FUNDS] == "500,000")
  assert(e[SCORE] == "95.5", e[SCORE])
  assert(h[SCORE] == "55", h[SCORE])
  assert(c[SCORE] == "45", c[SCORE])
  assert(h[TGT] == "50.0 %" and h[SELF] == "50.0 %" and h[AVG] == "70"
         and h[NORED] == "50.0 %" and h[REC] == "5.0 %",
         table.concat(h, "|"))
  assert(e[AVG] == "85" and e[REC] == "0.0 %", e[AVG])
  assert(c[AVG] == "none" and c[SELF] == "0.0 %", c[AVG])
  assert(e[CONS] == TOP, e[CONS])
  assert(h[CONS] == "none", h[CONS])
  assert(c[CONS] == BOTTOM, c[CONS])
end)

-- Boundaries first.
H.check("boundary: a tie is broken by department name, bytewise", function()
  -- identical departments; bytewise "Zeta" < "alpha" < "beta" < "卫生" < "教育"
  local ps = {}
  for _, d in ipairs({ "教育", "beta", "alpha", "卫生", "Zeta" }) do
    ps[#ps + 1] = project(d, self(80))
  end
  local rep = report(ps, { top_n = 1, bottom_n = 1 })
  assert(order(rep) == "Zeta alpha beta 卫生 教育", order(rep))
  for i, r in ipairs(rep.rows) do
    assert(r[RANK] == i and r[SCORE] == rep.rows[1][SCORE])
  end
  assert(rep.rows[1][CONS] == TOP and rep.rows[5][CONS] == BOTTOM)
  local n = notes(rep)
  assert(n:find("Ties are broken by department name, bytewise", 1, true), n)
  assert(n:find("Tied at 94: Zeta, alpha, beta, 卫生, 教育.", 1, true), n)
end)
H.check("a tie only where the scores shown are equal", function()
  local rep = report(three())
  local n = notes(rep)
  assert(n:find("Ties are broken by department name, bytewise", 1, true), n)
  assert(not n:find("Tied at", 1, true), n)
end)
H.check("boundary: a tie across the top_n line is broken by name", function()
  -- b and a tie for first place; only one gets the preference
  local rep = report({ project("b"), project("a"), project("c", { targets = {} }) },
    { top_n = 1, bottom_n = 1 })
  assert(order(rep) == "a b c", order(rep))
  assert(row(rep, "a")[CONS] == TOP and row(rep, "b")[CONS] == "none")
end)

H.check("boundary: overlap: a department in both the top and the bottom gets neither", function()
  -- one department with top_n = bottom_n = 1: it is first and last
  local rep = report({ project("education") }, { top_n = 1, bottom_n = 1 })
  assert(#rep.rows == 1 and rep.rows[1][CONS] == "none", rep.rows[1][CONS])
  local n = notes(rep)
  assert(n:find("1 department ranked, fewer than top_n + bottom_n (2)", 1, true), n)
  assert(n:find("education", 1, true), n)
  -- three departments, top 2 and bottom 2: the middle one gets neither
  rep = report(three(), { top_n = 2, bottom_n = 2 })
  assert(row(rep, "education")[CONS] == TOP)
  assert(row(rep, "health")[CONS] == "none")
  assert(row(rep, "culture")[CONS] == BOTTOM)
  assert(notes(rep):find("health", 1, true), notes(rep))
  -- two departments, top 1 and bottom 1: no overlap
  rep = report({ project("a"), project("b", { targets = {} }) }, { top_n = 1, bottom_n = 1 })
  assert(row(rep, "a")[CONS] == TOP and row(rep, "b")[CONS] == BOTTOM)
  assert(not notes(rep):find("fewer than", 1, true), notes(rep))
end)
H.check("boundary: top_n and bottom_n of 0, and larger than the ranking", function()
  local rep = report(three(), { top_n = 0, bottom_n = 0 })
  for _, r in ipairs(rep.rows) do assert(r[CONS] == "none") end
  rep = report(three(), { top_n = 5, bottom_n = 0 })
  for _, r in ipairs(rep.rows) do assert(r[CONS] == TOP) end
  rep = report(three(), { top_n = 0, bottom_n = 3 })
  for _, r in ipairs(rep.rows) do assert(r[CONS] == BOTTOM) end
end)

H.check("boundary: departments without projects in the budget are not ranked", function()
  local ps = three()
  ps[#ps + 1] = project("sport", { status = "draft" })
  ps[#ps + 1] = project("sport", { status = "rejected" })
  local rep = report(ps)
  assert(#rep.rows == 3 and not row(rep, "sport"), order(rep))
  local n = notes(rep)
  assert(n:find("Not ranked (no project in the counted states): sport.", 1, true), n)
  -- a draft of a ranked department does not count either
  ps[#ps + 1] = project("education", { status = "draft", targets = {} })
  assert(row(report(ps), "education")[N] == 2)
end)

H.check("boundary: recovered funds: the amount recovered, else the proposal", function()
  -- health's 100,000 recovered wins over its 250,000 proposal (5 %);
  -- without the field the proposal counts (12.5 %)
  local ps = three()
  ps[5].recovered_amount = nil
  local h = row(report(ps), "health")
  assert(h[REC] == "12.5 %", h[REC])
  assert(h[SCORE] == "53.5", h[SCORE])
  -- capped at the funds: the penalty is at most the weight
  ps[5].recovered_amount = 9000000
  h = row(report(ps), "health")
  assert(h[REC] == "100.0 %" and h[SCORE] == "36", h[REC] .. " " .. h[SCORE])
end)
H.check("boundary: a yellow warning is not red", function()
  local rep = report({ project("a", { facts = { monitoring_warning = "yellow" } }),
                       project("a", { facts = { monitoring_warning = "none" } }) })
  assert(rep.rows[1][NORED] == "100.0 %")
end)

H.check("the weights are parameters", function()
  -- only targets count: culture (100 %) ties education, health last
  local w = { targets = 100, self_evaluated = 0, self_score = 0, no_red = 0, recovered = 0 }
  local rep = report(three(), { weights = w })
  assert(order(rep) == "culture education health", order(rep))
  assert(row(rep, "culture")[SCORE] == "100" and row(rep, "health")[SCORE] == "50")
  assert(notes(rep):find("Tied at 100: culture, education.", 1, true), notes(rep))
  -- a heavy recovery penalty sinks health below culture... and not by default
  w = { targets = 25, self_evaluated = 25, self_score = 30, no_red = 20, recovered = 300 }
  rep = report(three(), { weights = w })
  assert(order(rep) == "education culture health", order(rep))
  assert(row(rep, "health")[SCORE] == "41", row(rep, "health")[SCORE])
  -- the formula and the weights are in the notes
  assert(notes(rep):find("recovered 300", 1, true), notes(rep))
end)
H.check("top_n, bottom_n and the states are parameters", function()
  local rep = report(three(), { top_n = 2, bottom_n = 0 })
  assert(row(rep, "health")[CONS] == TOP and row(rep, "culture")[CONS] == "none")
  -- count only projects approved and not yet released: none here
  rep = report(three(), { states = { "approved" } })
  assert(#rep.rows == 0)
  local ps = three()
  ps[1].status = "approved"
  rep = report(ps, { states = { "approved" } })
  assert(order(rep) == "culture", order(rep))
end)

H.check("the same input gives the same ranking", function()
  local a, b = report(three()), report(three())
  assert(#a.rows == #b.rows)
  for i, r in ipairs(a.rows) do
    assert(table.concat(r, "|") == table.concat(b.rows[i], "|"))
  end
  assert(notes(a) == notes(b))
end)

H.check("parameters are checked", function()
  errors(function() report({}, { top = 1 }) end,
    "R-9 has no parameter top; it takes bottom_n, states, top_n, weights")
  errors(function() report({}, { top_n = -1 }) end, "top_n must be a whole number 0 or more")
  errors(function() report({}, { bottom_n = 1.5 }) end, "bottom_n must be a whole number 0 or more")
  errors(function() report({}, { states = "approved" }) end, "states must be a list of states")
  errors(function() report({}, { weights = { targets = 1 } }) end,
    "weights.self_evaluated is not a number 0 or more")
  errors(function()
    report({}, { weights = { targets = 25, self_evaluated = 25, self_score = 30,
                             no_red = 20, recovered = -1 } })
  end, "weights.recovered is not a number 0 or more")
  errors(function()
    report({}, { weights = { targets = 25, self_evaluated = 25, self_score = 30,
                             no_red = 20, recovered = 20, speed = 1 } })
  end, "weights may have only the keys targets, self_evaluated, self_score, no_red and recovered")
end)

H.check("jx.bytewise_less", function()
  assert(jx.bytewise_less("Zeta", "alpha") and not jx.bytewise_less("alpha", "Zeta"))
  assert(jx.bytewise_less("a", "ab") and not jx.bytewise_less("ab", "a"))
  assert(not jx.bytewise_less("a", "a") and not jx.bytewise_less("", ""))
  assert(jx.bytewise_less("卫生", "教育"))
end)
H.check("a department-wide record is not counted as a project", function()
  local r = r9.report({ project("education"),
    project("education", { level = "department", amount = 90000000 }) }, {})
  assert(r.rows[1][N] == 1, tostring(r.rows[1][N]))
end)
H.done()
