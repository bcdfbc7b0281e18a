-- R-0 coverage (总体目标), as a report: `jx report coverage`.
--
-- Performance targets cover all three budgets (三本预算), and department
-- and fiscal evaluation each reach at least params.goal of the projects,
-- by count or by funds (项目数或资金总额).  For each budget type the report
-- counts the projects and their funds, those with targets, those
-- self-evaluated (R-6 fact self_score), the share of those self-evaluated
-- that the finance bureau spot-checked (抽查复核, R-6 fact spot_check; "none
-- self-evaluated" when there are none), and those with a department and a
-- fiscal evaluation (R-6 fact evaluation, recorded when they are graded),
-- and says whether each evaluation goal is met.
--
-- Department-wide records (level = "department") are not counted as
-- projects; a note tells how many had the department-wide fiscal
-- evaluation pilot.
--
-- params.goal          share, inclusive (0.20)
-- params.department_pilots  departments with department-wide fiscal
--                      evaluation (2)
-- params.budget_types  the three budgets, in the order shown
local M = { rule = "R-0", title = "coverage of targets and evaluation" }

local function share(part, whole)
  if whole == 0 then return 0 end
  return part / whole
end

-- Counts and funds of a budget's projects evaluated by `kind` (the R-6
-- fact evaluation: "department" or "fiscal").
local function evaluated(projects, budget, kind)
  local n, funds = 0, 0
  for _, p in ipairs(projects) do
    if p.budget_type == budget and p.facts and p.facts.evaluation == kind then
      n = n + 1
      funds = funds + (math.type(p.amount) == "integer" and p.amount or 0)
    end
  end
  return n, funds
end

-- The pilot of department-wide fiscal evaluation (部门整体财政评价试点, R-6):
-- department-wide records (level = "department") graded by the finance
-- bureau, against params.department_pilots departments.
local function pilots_note(records, want)
  local done = {}
  for _, r in ipairs(records) do
    if r.facts and r.facts.evaluation == "fiscal" then
      done[#done + 1] = tostring(r.department)
    end
  end
  table.sort(done, jx.bytewise_less)
  return string.format("Department-wide fiscal evaluation pilots (R-6): %d "
    .. "of %d departments%s; %s.", #done, want,
    #done > 0 and " (" .. table.concat(done, ", ") .. ")" or "",
    #done >= want and "met" or "not met")
end

function M.report(all, params)
  local goal = params.goal or 0.20
  -- A department's whole budget is not a project: counting it would count
  -- its projects' funds twice.
  local projects, records = {}, {}
  for _, p in ipairs(all) do
    local list = p.level == "department" and records or projects
    list[#list + 1] = p
  end
  local rows, notes, without = {}, {}, {}
  for _, budget in ipairs(params.budget_types) do
    local n, funds, targeted, selfev, checked = 0, 0, 0, 0, 0
    for _, p in ipairs(projects) do
      if p.budget_type == budget then
        n = n + 1
        funds = funds + (math.type(p.amount) == "integer" and p.amount or 0)
        if jx.has_targets(p) then targeted = targeted + 1 end
        if p.facts and p.facts.self_score ~= nil then
          selfev = selfev + 1
          if p.facts.spot_check ~= nil then checked = checked + 1 end
        end
      end
    end
    local row = { budget, n, jx.yuan(funds), jx.percent(share(targeted, n)),
                  jx.percent(share(selfev, n)) }
    local goals = {}
    for _, kind in ipairs({ "department", "fiscal" }) do
      local en, efunds = evaluated(projects, budget, kind)
      local by_count, by_funds = share(en, n), share(efunds, funds)
      row[#row + 1] = jx.percent(by_count) .. " / " .. jx.percent(by_funds)
      goals[#goals + 1] = n == 0 and "no projects"
        or ((by_count >= goal or by_funds >= goal) and "met" or "not met")
    end
    row[#row + 1], row[#row + 2] = goals[1], goals[2]
    row[#row + 1] = selfev == 0 and "none self-evaluated"
      or string.format("%d of %d (%s)", checked, selfev,
        jx.percent(share(checked, selfev)))
    rows[#rows + 1] = row
    if n == 0 or targeted < n then without[#without + 1] = budget end
  end
  if #without == 0 then
    notes[#notes + 1] = "Targets cover all three budgets (三本预算)."
  else
    notes[#notes + 1] = "Targets do not yet cover every project of: "
      .. table.concat(without, ", ") .. "."
  end
  notes[#notes + 1] = string.format("Evaluation goal (R-0): department "
    .. "evaluation and fiscal evaluation each at least %s of the projects "
    .. "by count or by funds, per budget.", jx.percent(goal))
  notes[#notes + 1] = pilots_note(records, params.department_pilots or 2)
  return {
    title = "Coverage of targets and evaluation (R-0)",
    columns = { "budget", "projects", "funds (yuan)", "with targets",
                "self-evaluated", "department evaluation (count / funds)",
                "fiscal evaluation (count / funds)", "department goal",
                "fiscal goal", "self-evaluations spot-checked" },
    rows = rows,
    notes = notes,
  }
end

return M
