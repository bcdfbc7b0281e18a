-- R-7 results application (结果应用).
--
-- Budget allocation and policy adjustment are linked to the evaluation
-- results.  Projects rated poor (差), with cross-duplicated or fragmented
-- funding (交叉重复或碎片化), or whose policy goal is reached or expired
-- (政策目标已完成或到期), are cut, merged or cancelled (压减、整合或取消),
-- without exception; evaluation results weigh at least 10 % in fund
-- allocation (原则上权重不低于10%).  Local practice: excellent -> priority
-- funding, good -> as justified, fair -> cut by a set percentage, poor ->
-- next year's budget cancelled.
--
-- On archive (evaluated -> archived, after grading; listed as guard and as
-- reaction):
--   guard  refuses archiving a project that has no grade yet (neither the
--          field grade nor the fact self_grade), or whose grade is none of
--          excellent/good/fair/poor (优/良/中/差);
--   react  records next year's consequence (facts below).
-- On any other event the plugin is misconfigured and raises an error.
--
-- The grade applied is the field grade (the department's or the finance
-- bureau's, set by the grade event, R-6), else the fact self_grade (the
-- self-evaluation's band); either name is accepted, 优/良/中/差 or
-- excellent/good/fair/poor.  A project flagged expired (its policy goal
-- reached or expired) gets params.expired_action, one flagged duplicated
-- (cross-duplicated or fragmented funding) params.duplicated_action,
-- whatever its grade; expired is looked at first.
--
-- Facts recorded on archive:
--   next_year_action   "priority" | "as_justified" | "cut" | "merge" |
--                      "cancel"; "assessment" for a department-wide
--                      record (level = "department"), whose result weighs
--                      in the department assessment (R-9), its amount kept
--   next_year_amount   integer yuan: the project's amount for priority and
--                      as_justified; floor(amount * (1 - fair_cut)) for cut
--                      (jx.yuan_share, exact: 1,000,000 at 0.2 is 800,000);
--                      0 for merge and cancel
--   next_year_basis    "grade" | "expired" | "duplicated" |
--                      "department-wide": what decided it
--   results_grade      the grade applied, in English ("fair")
--   results_grade_zh   the same in Chinese ("中")
--   results_grade_source  "grade" (the field) or "self_grade" (the fact)
--   results_weight     params.results_weight: the weight of evaluation
--                      results in fund allocation
--
-- Fields read: amount (integer yuan), grade, duplicated and expired
-- (booleans; absent is false), facts.self_grade.
--
-- params.actions           { excellent = "priority", good = "as_justified",
--                            fair = "cut", poor = "cancel" } (the default):
--                          all four grades, each one of priority,
--                          as_justified, cut, merge, cancel; poor must be
--                          cut, merge or cancel (一律: without exception)
-- params.fair_cut          the share a "cut" takes off, more than 0 and at
--                          most 1 (default 0.2, 20 %)
-- params.results_weight    the weight of evaluation results, 0.10 to 1
--                          (default 0.10; the plan: no less than 10 %)
-- params.duplicated_action "merge" (default) or "cancel"
-- params.expired_action    "cancel" (default) or "merge"
local M = { rule = "R-7", title = "results application (结果应用)" }

local GRADES = { "excellent", "good", "fair", "poor" }
local ACTIONS = {
  priority = true, as_justified = true, cut = true, merge = true,
  cancel = true,
}
local MIN_WEIGHT = 0.10
local DEFAULTS = {
  actions = {
    excellent = "priority", good = "as_justified", fair = "cut",
    poor = "cancel",
  },
  fair_cut = 0.2, results_weight = MIN_WEIGHT, duplicated_action = "merge",
  expired_action = "cancel",
}

local function config_error(msg)
  error("workflow.toml parameters: R-7 " .. msg, 0)
end

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.
local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-7")
  if type(p.actions) ~= "table" then
    config_error("actions must be a table like {excellent = \"priority\", "
      .. "good = \"as_justified\", fair = \"cut\", poor = \"cancel\"}")
  end
  local extra = {}
  for k in pairs(p.actions) do
    if not jx.member(GRADES, k) then extra[#extra + 1] = tostring(k) end
  end
  if #extra > 0 then
    table.sort(extra)
    config_error("actions has no grade " .. table.concat(extra, ", ")
      .. "; its keys are excellent, good, fair and poor")
  end
  for _, g in ipairs(GRADES) do
    local a = p.actions[g]
    if not ACTIONS[a] then
      config_error("actions." .. g .. " is "
        .. (a == nil and "missing" or tostring(a)) .. "; it must be "
        .. "priority, as_justified, cut, merge or cancel")
    end
  end
  if p.actions.poor ~= "cut" and p.actions.poor ~= "merge"
     and p.actions.poor ~= "cancel" then
    config_error("actions.poor is " .. p.actions.poor .. "; the plan cuts, "
      .. "merges or cancels every project rated poor (差), without "
      .. "exception (一律予以压减、整合或取消)")
  end
  if not jx.finite(p.fair_cut) or p.fair_cut <= 0 or p.fair_cut > 1 then
    config_error("fair_cut must be a share more than 0 and at most 1 "
      .. "(0.2 is 20 %), not " .. tostring(p.fair_cut))
  end
  if not jx.finite(p.results_weight) or p.results_weight > 1 then
    config_error("results_weight must be a share from 0.10 to 1, not "
      .. tostring(p.results_weight))
  end
  if p.results_weight < MIN_WEIGHT then
    config_error("results_weight is " .. tostring(p.results_weight)
      .. "; evaluation results must weigh at least 10 % (0.10) in fund "
      .. "allocation (原则上权重不低于10%)")
  end
  for _, k in ipairs({ "duplicated_action", "expired_action" }) do
    if p[k] ~= "merge" and p[k] ~= "cancel" then
      config_error(k .. " is " .. tostring(p[k]) .. "; it must be merge "
        .. "or cancel")
    end
  end
  return p
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

-- The grade applied and where it comes from, or nil and why there is none.
local function grade_of(state)
  local facts = state.facts or {}
  if state.grade ~= nil then
    local g = jx.grade_en(state.grade)
    if not g then
      return nil, "its grade " .. string.format("%q", tostring(state.grade))
        .. " is none of excellent, good, fair, poor (优/良/中/差)"
    end
    return g, "grade"
  end
  if facts.self_grade ~= nil then
    local g = jx.grade_en(facts.self_grade)
    if not g then
      return nil, "its self_grade " .. string.format("%q",
        tostring(facts.self_grade)) .. " is none of excellent, good, fair, "
        .. "poor (优/良/中/差)"
    end
    return g, "self_grade"
  end
  return nil, "it has no grade yet (no grade, and no self-evaluation grade)"
end

local function check_archive(state)
  local g, why = grade_of(state)
  if g then return true end
  return refuse("results are applied from the evaluation grade, and the "
    .. "project cannot be archived: " .. why,
    "grade the project first (event grade, --set grade=excellent|good|"
    .. "fair|poor or 优/良/中/差), then archive it")
end

local function consequence(state, p)
  local grade, source = grade_of(state)
  if not grade then
    -- The guard refuses first; reaching here means the workflow lists the
    -- plugin as a reaction without the guard.
    error("R-7: cannot apply results: " .. source, 0)
  end
  local action, basis = p.actions[grade], "grade"
  if state.level == "department" then
    -- A department's whole budget is not cut or cancelled as a project
    -- is: its result weighs in the department assessment (R-9).
    action, basis = "assessment", "department-wide"
  elseif state.expired == true then
    action, basis = p.expired_action, "expired"
  elseif state.duplicated == true then
    action, basis = p.duplicated_action, "duplicated"
  end
  local amount = type(state.amount) == "number"
    and math.tointeger(state.amount)
  if not amount or amount < 0 then
    error("R-7: the project's amount is not a whole number of yuan: "
      .. tostring(state.amount), 0)
  end
  local next_amount
  if action == "priority" or action == "as_justified"
     or action == "assessment" then
    next_amount = amount
  elseif action == "cut" then
    local why
    next_amount, why = jx.yuan_share(amount, jx.share(1 - p.fair_cut))
    if not next_amount then error("R-7: " .. why, 0) end
  else
    next_amount = 0
  end
  return {
    next_year_action = action,
    next_year_amount = next_amount,
    next_year_basis = basis,
    results_grade = grade,
    results_grade_zh = jx.grade_zh(grade),
    results_grade_source = source,
    results_weight = p.results_weight + 0.0,
  }
end

function M.guard(state, event, params)
  check_params(params or {})
  if event.name == "archive" then
    return check_archive(state)
  end
  error("R-7 is a guard on archive only, not on " .. tostring(event.name), 0)
end

function M.react(state, event, params)
  local p = check_params(params or {})
  if event.name == "archive" then
    return consequence(state, p)
  end
  error("R-7 is a reaction on archive only, not on " .. tostring(event.name),
    0)
end

return M
