-- R-9 department assessment and ranking (部门预算绩效管理考核), as a
-- report: `jx report ranking`.
--
-- Departments are assessed and ranked on their performance management;
-- the top-ranked get preference in the budget arrangement (在预算安排上适当
-- 予以倾斜), the bottom-ranked have their fund scale reduced (相应扣减资金规模)
-- (海财发〔2021〕14号, 五（三）).  The plan leaves the assessment to the
-- bureau; this report scores what the engine records, per department,
-- over its projects in the counted states (params.states):
--
--   with targets         share of its projects with performance targets
--                        (a non-empty targets list, as R-0 counts them)
--   self-evaluated       share of its projects self-evaluated (R-6 fact
--                        self_score)
--   average self-score   mean self_score of those self-evaluated, 0 to 100
--                        ("none", counted 0, when none is)
--   without red warning  share of its projects whose last monitoring
--                        warning (R-4 fact monitoring_warning) is not red;
--                        a project never monitored has none
--   recovered            funds recovered (R-5) as a share of its funds (the
--                        sum of the projects' amount), at most 1: per
--                        project the amount recovered (field
--                        recovered_amount, set by recover), else the amount
--                        proposed at the 30 November check (fact
--                        recovery_amount), else 0
--
--   score = w.targets × with targets + w.self_evaluated × self-evaluated
--         + w.self_score × average self-score / 100
--         + w.no_red × without red warning − w.recovered × recovered
--
-- rounded to 0.01 (halves up).  The default weights give the positive
-- parts 100 points and take up to 20 off for recovered funds.  Departments
-- are ranked by score, highest first; equal scores (as rounded) are broken
-- by department name in bytewise (UTF-8 byte) order, and the tied
-- departments get consecutive ranks: the notes say so and name every tie.
-- Ranks 1..top_n get the preference, the last bottom_n ranks the
-- reduction.  With fewer departments than top_n + bottom_n a department
-- can be in both: it gets neither (the ranking does not set it apart from
-- the others), and a note names it.  A department without a project in
-- the counted states is not ranked (a note names those seen).
--
-- Run it after the year's self-evaluations: before them, the
-- self-evaluation components are 0 for every department.
--
-- Fields read: department, status, amount, targets, recovered_amount;
-- facts self_score, monitoring_warning, recovery_amount.
--
-- params.weights   { targets, self_evaluated, self_score, no_red,
--                  recovered }: all five, each a number 0 or more
--                  (default 25, 25, 30, 20, 20)
-- params.top_n     ranks that get the preference, a whole number 0 or
--                  more (default 1)
-- params.bottom_n  ranks that get the reduction (default 1)
-- params.states    states of the projects counted (default: approved and
--                  every state after it: the projects in the budget)
local M = { rule = "R-9", title = "department assessment and ranking (部门预算绩效管理考核)" }

local COMPONENTS = { "targets", "self_evaluated", "self_score", "no_red", "recovered" }
local DEFAULTS = {
  weights = { targets = 25, self_evaluated = 25, self_score = 30, no_red = 20,
              recovered = 20 },
  top_n = 1,
  bottom_n = 1,
  states = { "approved", "executing", "flagged", "suspended", "reduced",
             "recovered", "closed", "evaluating", "evaluated", "archived" },
}
local TOP = "preference in budget arrangement (预算安排予以倾斜)"
local BOTTOM = "fund scale reduced (扣减资金规模)"

local function bad(why)
  error("workflow.toml parameters: R-9 " .. why, 0)
end

local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-9")
  if type(p.weights) ~= "table" then
    bad("weights must be a table like {targets = 25, self_evaluated = 25, "
      .. "self_score = 30, no_red = 20, recovered = 20}")
  end
  local n = 0
  for _ in pairs(p.weights) do n = n + 1 end
  for _, c in ipairs(COMPONENTS) do
    local w = p.weights[c]
    if not jx.finite(w) or w < 0 then
      bad("weights." .. c .. " is not a number 0 or more")
    end
  end
  if n ~= #COMPONENTS then
    bad("weights may have only the keys targets, self_evaluated, "
      .. "self_score, no_red and recovered")
  end
  for _, k in ipairs({ "top_n", "bottom_n" }) do
    local v = p[k]
    if not (type(v) == "number" and math.tointeger(v) and v >= 0) then
      bad(k .. " must be a whole number 0 or more, not " .. tostring(v))
    end
    p[k] = math.tointeger(v)
  end
  if not jx.string_list(p.states) then
    bad("states must be a list of states, like [\"approved\", \"executing\"]")
  end
  return p
end

local function yuan_of(x)
  return type(x) == "number" and math.tointeger(x) or nil
end

local function round2(x)
  return math.floor(x * 100 + 0.5) / 100
end

local function share(part, whole)
  if whole == 0 then return 0 end
  return part / whole
end

local function count(n, one)
  return string.format("%d %s%s", n, one, n == 1 and "" or "s")
end

-- The departments' tallies, in order of first appearance, and the names
-- of departments with projects none of which is counted.
local function tally(projects, p)
  local by, list, seen, unseen = {}, {}, {}, {}
  for _, project in ipairs(projects) do
    local name = tostring(project.department)
    if not seen[name] then
      seen[name] = true
      unseen[#unseen + 1] = name
    end
    -- A department-wide record (level = "department") is not one of the
    -- department's projects: its funds are theirs.
    if jx.member(p.states, project.status)
       and project.level ~= "department" then
      local d = by[name]
      if not d then
        d = { name = name, n = 0, funds = 0, targeted = 0, selfev = 0,
              score_sum = 0, not_red = 0, recovered = 0 }
        by[name] = d
        list[#list + 1] = d
      end
      local facts = type(project.facts) == "table" and project.facts or {}
      d.n = d.n + 1
      d.funds = d.funds + (yuan_of(project.amount) or 0)
      if jx.has_targets(project) then d.targeted = d.targeted + 1 end
      if jx.finite(facts.self_score) then
        d.selfev = d.selfev + 1
        d.score_sum = d.score_sum + facts.self_score
      end
      if facts.monitoring_warning ~= "red" then d.not_red = d.not_red + 1 end
      d.recovered = d.recovered + (yuan_of(project.recovered_amount)
        or yuan_of(facts.recovery_amount) or 0)
    end
  end
  local absent = {}
  for _, name in ipairs(unseen) do
    if not by[name] then absent[#absent + 1] = name end
  end
  table.sort(absent, jx.bytewise_less)
  return list, absent
end

local function assess(d, w)
  d.c = {
    targets = share(d.targeted, d.n),
    self_evaluated = share(d.selfev, d.n),
    self_score = d.selfev > 0
      and math.max(0, math.min(100, d.score_sum / d.selfev)) or nil,
    no_red = share(d.not_red, d.n),
    recovered = math.min(1, share(d.recovered, d.funds)),
  }
  d.score = round2(w.targets * d.c.targets
    + w.self_evaluated * d.c.self_evaluated
    + w.self_score * (d.c.self_score or 0) / 100
    + w.no_red * d.c.no_red
    - w.recovered * d.c.recovered)
end

local function formula(w)
  return string.format("Score = targets %s × with targets + self_evaluated %s "
    .. "× self-evaluated + self_score %s × average self-score / 100 + no_red "
    .. "%s × without red warning − recovered %s × recovered (funds recovered "
    .. "or proposed for recovery, R-5, as a share of the funds, at most "
    .. "100 %%), rounded to 0.01.", jx.points(w.targets),
    jx.points(w.self_evaluated), jx.points(w.self_score), jx.points(w.no_red),
    jx.points(w.recovered))
end

function M.report(projects, params)
  local p = check_params(params)
  local list, absent = tally(projects, p)
  for _, d in ipairs(list) do assess(d, p.weights) end
  table.sort(list, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    return jx.bytewise_less(a.name, b.name)
  end)
  local n, rows, neither = #list, {}, {}
  for i, d in ipairs(list) do
    local top, bottom = i <= p.top_n, i > n - p.bottom_n
    local consequence = "none"
    if top and bottom then
      neither[#neither + 1] = d.name
    elseif top then
      consequence = TOP
    elseif bottom then
      consequence = BOTTOM
    end
    rows[i] = { i, d.name, d.n, jx.yuan(d.funds), jx.percent(d.c.targets),
                jx.percent(d.c.self_evaluated),
                d.c.self_score and jx.points(d.c.self_score) or "none",
                jx.percent(d.c.no_red), jx.percent(d.c.recovered),
                jx.points(d.score), consequence }
  end
  local notes = {}
  if n == 0 then
    notes[#notes + 1] = "No department has projects to rank."
  end
  notes[#notes + 1] = formula(p.weights)
  notes[#notes + 1] = string.format("Counted: projects in %s. The first %d "
    .. "ranked: %s; the last %d: %s.", table.concat(p.states, ", "), p.top_n,
    TOP, p.bottom_n, BOTTOM)
  notes[#notes + 1] = "Ties are broken by department name, bytewise (UTF-8 "
    .. "byte order): tied departments get consecutive ranks, the earlier "
    .. "name the better one."
  local i = 1
  while i <= n do
    local j = i
    while j < n and list[j + 1].score == list[i].score do j = j + 1 end
    if j > i then
      local names = {}
      for k = i, j do names[#names + 1] = list[k].name end
      notes[#notes + 1] = string.format("Tied at %s: %s.",
        jx.points(list[i].score), table.concat(names, ", "))
    end
    i = j + 1
  end
  if #neither > 0 then
    notes[#notes + 1] = string.format("%s ranked, fewer than top_n + "
      .. "bottom_n (%d): among both the first %d and the last %d, and so "
      .. "given neither consequence: %s.", count(n, "department"),
      p.top_n + p.bottom_n, p.top_n, p.bottom_n, table.concat(neither, ", "))
  end
  if #absent > 0 then
    notes[#notes + 1] = "Not ranked (no project in the counted states): "
      .. table.concat(absent, ", ") .. "."
  end
  return {
    title = "Department assessment and ranking (R-9)",
    columns = { "rank", "department", "projects", "funds (yuan)",
                "with targets", "self-evaluated", "average self-score",
                "without red warning", "recovered", "score", "consequence" },
    rows = rows,
    notes = notes,
  }
end

return M
