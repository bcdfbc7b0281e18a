-- R-0 coverage (总体目标), as a report: `jx report coverage`.
--
-- Performance targets cover all three budgets (三本预算), and department
-- and fiscal evaluation each reach at least params.goal of the projects,
-- by count or by funds (项目数或资金总额).  For each budget type the report
-- counts the projects and their funds, those with targets, those
-- self-evaluated (R-6 fact self_score) and those graded, and says whether
-- the evaluation goal is met.
--
-- params.goal          share, inclusive (0.20)
-- params.budget_types  the three budgets, in the order shown
local M = { rule = "R-0", title = "coverage of targets and evaluation" }

local function share(part, whole)
  if whole == 0 then return 0 end
  return part / whole
end

local function has_targets(p)
  return type(p.targets) == "table" and #p.targets > 0
end

function M.report(projects, params)
  local goal = params.goal or 0.20
  local rows, notes, without = {}, {}, {}
  for _, budget in ipairs(params.budget_types) do
    local n, funds, targeted, selfev, graded, graded_funds = 0, 0, 0, 0, 0, 0
    for _, p in ipairs(projects) do
      if p.budget_type == budget then
        local amount = math.type(p.amount) == "integer" and p.amount or 0
        n, funds = n + 1, funds + amount
        if has_targets(p) then targeted = targeted + 1 end
        if p.facts and p.facts.self_score ~= nil then selfev = selfev + 1 end
        if p.grade ~= nil then
          graded, graded_funds = graded + 1, graded_funds + amount
        end
      end
    end
    local by_count, by_funds = share(graded, n), share(graded_funds, funds)
    local met = n > 0 and (by_count >= goal or by_funds >= goal)
    rows[#rows + 1] = {
      budget, n, jx.yuan(funds), jx.percent(share(targeted, n)),
      jx.percent(share(selfev, n)), jx.percent(by_count),
      jx.percent(by_funds),
      n == 0 and "no projects" or (met and "met" or "not met"),
    }
    if n == 0 or targeted < n then without[#without + 1] = budget end
  end
  if #without == 0 then
    notes[#notes + 1] = "Targets cover all three budgets (三本预算)."
  else
    notes[#notes + 1] = "Targets do not yet cover every project of: "
      .. table.concat(without, ", ") .. "."
  end
  notes[#notes + 1] = string.format("Evaluation goal (R-0): at least %s of "
    .. "the projects by count or by funds, per budget.", jx.percent(goal))
  return {
    title = "Coverage of targets and evaluation (R-0)",
    columns = { "budget", "projects", "funds (yuan)", "with targets",
                "self-evaluated", "graded by count", "graded by funds",
                "evaluation goal" },
    rows = rows,
    notes = notes,
  }
end

return M
