-- R-8 disclosure (信息公开), as a report: `jx report disclosure`.
--
-- What each project must have published, and where (海财发〔2021〕14号,
-- 二（七）):
--   project performance targets (项目绩效目标)
--       with the department budget (随部门预算一并公开), by the department:
--       every project in the budget (status in params.approved_states)
--   important project targets (重要项目绩效目标)
--       to the people's congress with the annual budget, and published
--       (随年初预算报送同级人大并向社会公开), by the finance bureau: a project
--       in the budget that is a key project (field key_project) or whose
--       targets had the in-depth review (重点审核, R-3 fact key_reviewed)
--   self-evaluation result (绩效自评结果)
--       with the department final accounts (随部门决算一并公开): a project
--       self-evaluated (R-6 fact self_score), or one whose year is closed
--       (status in params.closed_states), for which it is due
--   department evaluation result (部门评价结果)
--       with the department final accounts (随部门决算一并公开): a project
--       graded by its department (R-6 fact evaluation = "department")
--   fiscal evaluation result (财政评价结果)
--       to the people's congress and the government, and published
--       (报送同级人大、政府并向社会公开), by the finance bureau: a project
--       graded by the finance performance section (evaluation = "fiscal")
--
-- One row per item: project, department, what, where, status, detail.
-- status is "ready" when the item exists and "missing" when it is due but
-- does not exist yet: a project in the budget without targets, a closed
-- year without a self-evaluation.  Which projects get a department or a
-- fiscal evaluation is the department's and the bureau's choice (R-0
-- reports the coverage), so those rows appear once a project is graded,
-- always ready.  Rows follow the projects in the order given (the engine
-- passes them sorted by id), and each project's items in the order above.
--
-- A department-wide record (level = "department", R-10) is disclosed the
-- same way under its own names: department-wide targets (部门整体绩效目标)
-- with the department budget, its self-evaluation and evaluation results
-- (部门整体支出绩效自评/评价结果) with the final accounts.
--
-- Fields read: id, department, status, targets, key_project, grade;
-- facts key_reviewed, self_score, self_grade, evaluation, graded_by.
--
-- params.approved_states  states of a project in the budget (default:
--                         approved and every state after it)
-- params.closed_states    states of a project whose year is closed, its
--                         self-evaluation due (default: closed, evaluating,
--                         evaluated, archived)
local M = { rule = "R-8", title = "disclosure (信息公开)" }

local DEFAULTS = {
  approved_states = { "approved", "executing", "flagged", "suspended",
                      "reduced", "recovered", "closed", "evaluating",
                      "evaluated", "archived" },
  closed_states = { "closed", "evaluating", "evaluated", "archived" },
}

local WHAT = {
  targets = "project performance targets (项目绩效目标)",
  key = "important project targets (重要项目绩效目标)",
  self = "self-evaluation result (绩效自评结果)",
  department = "department evaluation result (部门评价结果)",
  fiscal = "fiscal evaluation result (财政评价结果)",
}
local WHAT_DEPARTMENT_WIDE = {
  targets = "department-wide targets (部门整体绩效目标)",
  key = "important department-wide targets (重要部门整体绩效目标)",
  self = "department-wide self-evaluation result (部门整体支出绩效自评结果)",
  department = "department-wide evaluation result (部门整体支出评价结果)",
  fiscal = "department-wide fiscal evaluation result (部门整体财政评价结果)",
}
local WHERE = {
  budget = "with the department budget (随部门预算一并公开)",
  congress = "to the people's congress with the annual budget, and "
    .. "published (随年初预算报送同级人大并向社会公开)",
  accounts = "with the department final accounts (随部门决算一并公开)",
  government = "to the people's congress and the government, and published "
    .. "(报送同级人大、政府并向社会公开)",
}

local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-8")
  for _, k in ipairs({ "approved_states", "closed_states" }) do
    if not jx.string_list(p[k]) then
      error("workflow.toml parameters: R-8 " .. k .. " must be a list of "
        .. "states, like [\"closed\", \"archived\"]", 0)
    end
  end
  return p
end

local function count(n, one)
  return string.format("%d %s%s", n, one, n == 1 and "" or "s")
end

local function targets_detail(p)
  if jx.has_targets(p) then return count(#p.targets, "target") end
  return "no performance targets (R-3)"
end

local function grade_text(g)
  local en, zh = jx.grade_en(g), jx.grade_zh(g)
  if en and zh then return en .. " (" .. zh .. ")" end
  return tostring(g)
end

local function self_detail(facts)
  if facts.self_score == nil then
    return "year closed, no self-evaluation yet (R-6)"
  end
  local score = jx.finite(facts.self_score) and jx.points(facts.self_score)
    or tostring(facts.self_score)
  if facts.self_grade == nil then return "score " .. score end
  return "score " .. score .. ", " .. grade_text(facts.self_grade)
end

local function evaluation_detail(p, facts)
  local s = p.grade ~= nil and "grade " .. grade_text(p.grade) or "graded"
  if facts.graded_by ~= nil then s = s .. ", by " .. tostring(facts.graded_by) end
  return s
end

function M.report(projects, params)
  local p = check_params(params)
  local rows, ready, missing = {}, 0, 0
  for _, project in ipairs(projects) do
    local facts = type(project.facts) == "table" and project.facts or {}
    local WHAT = project.level == "department" and WHAT_DEPARTMENT_WIDE
      or WHAT
    local function add(what, where, ok, detail)
      rows[#rows + 1] = { tostring(project.id), tostring(project.department),
                          what, where, ok and "ready" or "missing", detail }
      if ok then ready = ready + 1 else missing = missing + 1 end
    end
    local targeted = jx.has_targets(project)
    if jx.member(p.approved_states, project.status) then
      add(WHAT.targets, WHERE.budget, targeted, targets_detail(project))
      local why = {}
      if project.key_project == true then why[#why + 1] = "key project" end
      if facts.key_reviewed == true then
        why[#why + 1] = "key-reviewed (重点审核)"
      end
      if #why > 0 then
        add(WHAT.key, WHERE.congress, targeted,
          targets_detail(project) .. "; " .. table.concat(why, ", "))
      end
    end
    if facts.self_score ~= nil or jx.member(p.closed_states, project.status) then
      add(WHAT.self, WHERE.accounts, facts.self_score ~= nil, self_detail(facts))
    end
    if facts.evaluation == "department" then
      add(WHAT.department, WHERE.accounts, true, evaluation_detail(project, facts))
    elseif facts.evaluation == "fiscal" then
      add(WHAT.fiscal, WHERE.government, true, evaluation_detail(project, facts))
    end
  end
  local notes = {}
  if #rows == 0 then
    notes[1] = "Nothing to disclose yet."
  else
    notes[1] = string.format("%s to disclose: %d ready, %d missing.",
      count(#rows, "item"), ready, missing)
  end
  notes[#notes + 1] = "Status missing: due but not there yet: the targets of a "
    .. "project in the budget (" .. table.concat(p.approved_states, ", ")
    .. "), the self-evaluation of a project whose year is closed ("
    .. table.concat(p.closed_states, ", ") .. ")."
  notes[#notes + 1] = "Department and fiscal evaluation results are listed "
    .. "once a project is graded (R-6); which projects are evaluated is the "
    .. "department's and the finance bureau's choice (coverage: R-0)."
  return {
    title = "Disclosure of targets and evaluation results (R-8)",
    columns = { "project", "department", "what", "where", "status", "detail" },
    rows = rows,
    notes = notes,
  }
end

return M
