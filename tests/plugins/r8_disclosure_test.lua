package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local jx = H.jx()
local r8 = H.load("plugins/r8_disclosure.lua")

-- Targets of the shape R-3 takes (counted here, judged there).
local T = { { level1 = "output", level2 = "quantity", indicator = "schools renovated",
             comparator = ">=", value = 12, unit = "schools" },
           { level1 = "outcome", level2 = "social", indicator = "pupils served",
             comparator = ">=", value = 3000, unit = "pupils" } }
-- Column positions: project, department, what, where, status, detail.
local PROJECT, DEPT, WHAT, WHERE, STATUS, DETAIL = 1, 2, 3, 4, 5, 6

-- A project `id` in `status` with targets T, more fields in `extra`.
local function project(id, status, extra)
  local p = { id = id, status = status, department = "education",
              amount = 1000000, targets = T, facts = {} }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function report(projects, params)
  return r8.report(projects, params or {})
end

-- The rows whose `what` ends in the Chinese term `term` in parentheses.
local function rows_of(rep, term)
  local out = {}
  for _, r in ipairs(rep.rows) do
    if r[WHAT]:match("%((.-)%)$") == term then out[#out + 1] = r end
  end
  return out
end

local function one(rep, term)
  local rs = rows_of(rep, term)
  assert(#rs == 1, string.format("%d rows of %s, expected 1", #rs, term))
  return rs[1]
end

local function errors(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end

local TARGETS, KEY, SELF, DEPT_EV, FISCAL =
  "项目绩效目标", "重要项目绩效目标", "绩效自评结果", "部门评价结果",
  "财政评价结果"

H.check("the plugin names R-8 and has the columns", function()
  assert(r8.rule == "R-8")
  local rep = report({})
  assert(rep.title:find("R-8", 1, true), rep.title)
  assert(table.concat(rep.columns, "|")
    == "project|department|what|where|status|detail",
    table.concat(rep.columns, "|"))
  assert(#rep.rows == 0)
end)

-- Boundaries first.
H.check("boundary: an approved project without targets is missing", function()
  local none = project("P-2", "approved")
  none.targets = nil
  local rep = report({ project("P-1", "approved", { targets = {} }), none })
  assert(#rep.rows == 2, #rep.rows)
  for i, r in ipairs(rep.rows) do
    assert(r[PROJECT] == "P-" .. i and r[DEPT] == "education")
    assert(r[WHAT]:find(TARGETS, 1, true))
    assert(r[WHERE]:find("随部门预算一并公开", 1, true), r[WHERE])
    assert(r[WHERE]:find("department budget", 1, true), r[WHERE])
    assert(r[STATUS] == "missing", r[STATUS])
    assert(r[DETAIL]:find("no performance targets", 1, true), r[DETAIL])
  end
end)
H.check("boundary: an approved project with targets is ready", function()
  local one_target = project("P-1", "approved", { targets = { T[1] } })
  local r = one(report({ one_target }), TARGETS)
  assert(r[STATUS] == "ready" and r[DETAIL] == "1 target", r[DETAIL])
  r = one(report({ project("P-2", "executing") }), TARGETS)
  assert(r[STATUS] == "ready" and r[DETAIL] == "2 targets", r[DETAIL])
end)
H.check("boundary: a project not (yet) in the budget discloses nothing", function()
  for _, s in ipairs({ "draft", "dept_review", "finance_review", "returned",
                       "rejected" }) do
    local rep = report({ project("P-1", s, { key_project = true,
                                             facts = { key_reviewed = true } }) })
    assert(#rep.rows == 0, s .. ": " .. #rep.rows .. " rows")
  end
end)
H.check("every state from approved on is in the budget", function()
  for _, s in ipairs({ "approved", "executing", "flagged", "suspended",
                       "reduced", "recovered", "closed", "evaluating",
                       "evaluated", "archived" }) do
    local rep = report({ project("P-1", s) })
    assert(#rows_of(rep, TARGETS) == 1, s)
  end
end)

H.check("boundary: important targets go to the congress", function()
  -- a key project, or one whose targets were key-reviewed (重点审核)
  for _, extra in ipairs({ { key_project = true },
                           { facts = { key_reviewed = true } } }) do
    local rep = report({ project("P-1", "approved", extra) })
    local r = one(rep, KEY)
    assert(r[WHERE]:find("人大", 1, true) and r[WHERE]:find("congress", 1, true),
      r[WHERE])
    assert(not r[WHERE]:find("政府", 1, true), r[WHERE])
    assert(r[STATUS] == "ready", r[STATUS])
    -- and the same targets with the department budget, too
    assert(one(rep, TARGETS)[STATUS] == "ready")
    assert(#rep.rows == 2)
  end
  -- neither: not an important target
  local rep = report({ project("P-1", "approved", { key_project = false,
                                                     facts = { key_reviewed = false } }) })
  assert(#rows_of(rep, KEY) == 0)
end)
H.check("an important project without targets is missing twice", function()
  local rep = report({ project("P-1", "approved", { key_project = true, targets = {} }) })
  assert(one(rep, TARGETS)[STATUS] == "missing")
  assert(one(rep, KEY)[STATUS] == "missing")
end)
H.check("the detail says why a target is important", function()
  local r = one(report({ project("P-1", "approved", { key_project = true }) }), KEY)
  assert(r[DETAIL]:find("key project", 1, true), r[DETAIL])
  r = one(report({ project("P-1", "approved", { facts = { key_reviewed = true } }) }), KEY)
  assert(r[DETAIL]:find("重点审核", 1, true), r[DETAIL])
end)

H.check("boundary: a closed year without self-evaluation is missing", function()
  local r = one(report({ project("P-1", "closed") }), SELF)
  assert(r[STATUS] == "missing", r[STATUS])
  assert(r[WHERE]:find("随部门决算一并公开", 1, true), r[WHERE])
  assert(r[WHERE]:find("final accounts", 1, true), r[WHERE])
  -- while the year runs, it is not due yet
  assert(#rows_of(report({ project("P-1", "executing") }), SELF) == 0)
end)
H.check("a self-evaluation is ready with its score and grade", function()
  local p = project("P-1", "evaluating",
    { facts = { self_score = 87.5, self_grade = "good" } })
  local r = one(report({ p }), SELF)
  assert(r[STATUS] == "ready", r[STATUS])
  assert(r[DETAIL] == "score 87.5, good (良)", r[DETAIL])
end)

H.check("boundary: a department evaluation goes with the final accounts", function()
  local p = project("P-1", "evaluated", { grade = "fair",
    facts = { self_score = 70, self_grade = "fair", evaluation = "department",
              graded_by = "edu-dept" } })
  local rep = report({ p })
  local r = one(rep, DEPT_EV)
  assert(r[STATUS] == "ready", r[STATUS])
  assert(r[WHERE] == one(rep, SELF)[WHERE], r[WHERE])
  assert(r[WHERE]:find("随部门决算一并公开", 1, true), r[WHERE])
  assert(r[DETAIL] == "grade fair (中), by edu-dept", r[DETAIL])
  assert(#rows_of(rep, FISCAL) == 0)
end)
H.check("boundary: a fiscal evaluation goes to the congress and the government", function()
  local p = project("P-1", "archived", { grade = "差",
    facts = { self_score = 91, self_grade = "excellent", evaluation = "fiscal",
              graded_by = "fin-perf" } })
  local rep = report({ p })
  local r = one(rep, FISCAL)
  assert(r[STATUS] == "ready", r[STATUS])
  assert(r[WHERE]:find("人大、政府", 1, true), r[WHERE])
  assert(r[WHERE]:find("government", 1, true), r[WHERE])
  assert(r[WHERE]:find("published", 1, true), r[WHERE])
  assert(r[DETAIL] == "grade poor (差), by fin-perf", r[DETAIL])
  assert(#rows_of(rep, DEPT_EV) == 0)
  -- the self-evaluation still goes with the final accounts
  assert(one(rep, SELF)[STATUS] == "ready")
end)
H.check("an ungraded project shows no department or fiscal row", function()
  local rep = report({ project("P-1", "evaluating", { facts = { self_score = 80 } }) })
  assert(#rows_of(rep, DEPT_EV) == 0 and #rows_of(rep, FISCAL) == 0)
end)

H.check("order: projects as given (by id), items in a fixed order", function()
  local ps = {
    project("A-1", "approved", { key_project = true }),
    project("A-2", "evaluated", { department = "health", grade = "good",
      facts = { self_score = 85, self_grade = "good", evaluation = "fiscal",
                graded_by = "fin-perf" } }),
    project("A-3", "draft"),
    project("A-4", "closed", { targets = {} }),
  }
  local rep = report(ps)
  local got = {}
  for _, r in ipairs(rep.rows) do
    got[#got + 1] = r[PROJECT] .. " " .. r[WHAT]:match("%((.-)%)$") .. " " .. r[STATUS]
  end
  local want = {
    "A-1 项目绩效目标 ready", "A-1 重要项目绩效目标 ready",
    "A-2 项目绩效目标 ready", "A-2 绩效自评结果 ready", "A-2 财政评价结果 ready",
    "A-4 项目绩效目标 missing", "A-4 绩效自评结果 missing",
  }
  assert(table.concat(got, "\n") == table.concat(want, "\n"), table.concat(got, "\n"))
  assert(rep.rows[3][DEPT] == "health")
  -- the same input gives the same report
  local again = report(ps)
  for i, r in ipairs(rep.rows) do
    assert(table.concat(r, "|") == table.concat(again.rows[i], "|"))
  end
end)

H.check("the notes count what is ready and what is missing", function()
  local rep = report({ project("P-1", "approved"), project("P-2", "closed", { targets = {} }) })
  assert(rep.notes[1] == "3 items to disclose: 1 ready, 2 missing.", rep.notes[1])
  assert(report({}).notes[1] == "Nothing to disclose yet.", report({}).notes[1])
end)

H.check("a department-wide record is disclosed under its own names", function()
  local rep = report({ project("D-EDU", "closed", { level = "department" }) })
  assert(rep.rows[1][WHAT] == "department-wide targets (部门整体绩效目标)",
    rep.rows[1][WHAT])
  assert(rep.rows[2][WHAT]:find("部门整体支出绩效自评结果", 1, true),
    rep.rows[2][WHAT])
end)

H.check("the states are parameters", function()
  local ps = { project("P-1", "finance_review"), project("P-2", "closed") }
  -- default: finance_review is not in the budget, closed is
  local rep = report(ps)
  assert(#rep.rows == 2 and rep.rows[1][PROJECT] == "P-2", #rep.rows)
  -- a bureau that publishes targets from the finance review on
  rep = report(ps, { approved_states = { "finance_review", "approved" } })
  assert(#rows_of(rep, TARGETS) == 1 and rows_of(rep, TARGETS)[1][PROJECT] == "P-1")
  -- self-evaluations due only once archived
  rep = report(ps, { closed_states = { "archived" } })
  assert(#rows_of(rep, SELF) == 0)
  rep = report(ps)
  assert(#rows_of(rep, SELF) == 1)
end)
H.check("parameters are checked", function()
  errors(function() report({}, { approved_state = { "approved" } }) end,
    "R-8 has no parameter approved_state; it takes approved_states, closed_states")
  errors(function() report({}, { approved_states = "approved" }) end,
    "approved_states must be a list of states")
  errors(function() report({}, { closed_states = { 1 } }) end,
    "closed_states must be a list of states")
end)

H.check("jx.has_targets as R-0 counts them", function()
  assert(jx.has_targets({ targets = T }))
  assert(not jx.has_targets({ targets = {} }))
  assert(not jx.has_targets({}))
  assert(not jx.has_targets({ targets = "x" }))
  assert(not jx.has_targets(nil))
end)
H.check("jx.string_list", function()
  assert(jx.string_list({}) and jx.string_list({ "a", "b" }))
  assert(not jx.string_list("a") and not jx.string_list({ "a", 2 }))
  assert(not jx.string_list({ a = "b" }) and not jx.string_list({ "a", x = "b" }))
end)
H.done()
