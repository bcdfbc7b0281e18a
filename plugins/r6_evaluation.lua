-- R-6 performance evaluation (绩效评价).
--
-- Units self-evaluate (自评价) every project after the year; the department
-- or the finance bureau then grades it 优/良/中/差.  The score is not typed
-- in: it is computed from the project's self-evaluation data by the
-- national rule (jx.self_evaluation: budget execution rate, output, outcome
-- and satisfaction indicators), so that a grade can be checked against it.
--
-- On self_evaluate (listed as guard and as reaction):
--   guard  refuses when the project's self_evaluation is missing or cannot
--          be scored, or when a self_score the unit states is not the
--          score its data give (to 0.01);
--   react  records facts self_score, self_grade, self_grade_zh and
--          self_score_parts (the score by category).
-- On grade (guard): the grade set must be the band of the self-evaluation
-- score, computed again from the project's data under the parameters in
-- force; a grade that departs from it (a department or fiscal evaluation,
-- a spot check 抽查复核 found otherwise) needs a grade_reason, which the
-- history keeps.  A grade event that sets no grade is refused.
-- On grade (react): records who evaluated: facts evaluation ("department"
-- or "fiscal") and graded_by.
-- On any other event the plugin is misconfigured and raises an error.
--
-- The project's field self_evaluation (a table; see plugins/jx.lua):
--   execution    = { allocated = yuan, spent = yuan }
--   output       = { { indicator = "...", comparator = ">=", target = 12,
--                      actual = 11, unit = "..." }, ... }
--   outcome      = { ... }   satisfaction = { ... }   (same shape; a
--   qualitative indicator has comparator = "qualitative", band = "80-100"
--   | "60-80" | "0-60" and optionally achieved, a fraction of its marks)
--
-- params.weights  {execution, output, outcome, satisfaction} summing to 100
--                 (default: the national 10/50/30/10)
-- params.bands    {excellent, good, fair}, score >= band (default 90/80/60)
local M = { rule = "R-6", title = "performance evaluation (绩效评价)" }

local EXAMPLE = "--set 'self_evaluation={execution={allocated=1000000, "
  .. "spent=950000}, output=[{indicator=\"schools renovated\", "
  .. "comparator=\">=\", target=12, actual=12}], outcome=[...], "
  .. "satisfaction=[...]}'"

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.
local function check_params(params)
  local ok, why = jx.self_evaluation({}, params.weights)
  if not ok then
    error("workflow.toml parameters: " .. why, 0)
  end
  ok, why = jx.grade(0, params.bands)
  if not ok then
    error("workflow.toml parameters: " .. why, 0)
  end
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

local function named(grade)
  local zh = jx.grade_zh(grade)
  if zh and zh ~= grade then return grade .. " (" .. zh .. ")" end
  return tostring(grade)
end

local function bands_text(params)
  local b = params.bands or jx.default_bands()
  return string.format("excellent >= %s, good >= %s, fair >= %s, poor below",
    jx.points(b.excellent), jx.points(b.good), jx.points(b.fair))
end

local function check_self_evaluation(state, event, params)
  if state.self_evaluation == nil then
    return refuse("a self-evaluation (自评价) is scored from its data, and "
      .. "the project has no self_evaluation",
      "send the data with the event: " .. EXAMPLE)
  end
  local score, why = jx.self_evaluation(state.self_evaluation, params.weights)
  if not score then
    return refuse("the self-evaluation data cannot be scored: " .. why,
      "correct self_evaluation; its shape is " .. EXAMPLE)
  end
  local claimed = (event.set or {}).self_score
  if claimed ~= nil and (type(claimed) ~= "number"
                         or math.abs(claimed - score) > 0.005) then
    return refuse(string.format("the self_score stated (%s) is not the "
      .. "score the self-evaluation data give (%s)", tostring(claimed),
      jx.points(score)),
      "leave self_score out (it is computed from self_evaluation), or "
      .. "correct the data it was worked out from")
  end
  return true
end

-- The score a grade is checked against, or nil and why there is none.
local function score_of(state, params)
  if state.self_evaluation ~= nil then
    local score, why = jx.self_evaluation(state.self_evaluation, params.weights)
    if not score then
      return nil, "the project's self_evaluation cannot be scored: " .. why
    end
    return score
  end
  return nil, "the project has no self-evaluation (self_evaluation)"
end

local function check_grade(state, event, params)
  local set = event.set or {}
  local grade = set.grade
  if grade == nil then
    return refuse("grading sets no grade",
      "send the grade: --set grade=excellent|good|fair|poor (优/良/中/差)")
  end
  local reason = set.grade_reason
  if type(reason) == "string" and reason:find("%S") then
    return true
  end
  local score, why = score_of(state, params)
  if not score then
    return refuse(string.format("grade %s cannot be checked against a "
      .. "self-evaluation score: %s", named(grade), why),
      "self-evaluate the project first, or give grade_reason saying what "
      .. "the grade rests on (--set grade_reason=\"...\")")
  end
  local expected = jx.grade(score, params.bands)
  if jx.grade_zh(grade) == jx.grade_zh(expected) then
    return true
  end
  return refuse(string.format("grade %s disagrees with the self-evaluation "
    .. "score %s, which is %s (%s)", named(grade), jx.points(score),
    named(expected), bands_text(params)),
    string.format("set grade=%s, or keep %s and give grade_reason saying "
      .. "why the grade departs from the self-evaluation (a department or "
      .. "fiscal evaluation, a spot check): --set grade_reason=\"...\"",
      expected, grade))
end

function M.guard(state, event, params)
  params = params or {}
  check_params(params)
  if event.name == "self_evaluate" then
    return check_self_evaluation(state, event, params)
  elseif event.name == "grade" then
    return check_grade(state, event, params)
  end
  error("R-6 is a guard on self_evaluate and grade only, not on "
    .. tostring(event.name), 0)
end

-- Who graded: a department grade is a department evaluation (部门评价), a
-- finance performance section grade a fiscal evaluation (财政评价); the
-- coverage report (R-0) counts each against its goal.
local EVALUATION = { department = "department", finance_performance = "fiscal" }

function M.react(state, event, params)
  params = params or {}
  check_params(params)
  if event.name == "grade" then
    return { evaluation = EVALUATION[event.role] or event.role,
             graded_by = event.actor }
  end
  if event.name ~= "self_evaluate" then
    error("R-6 is a reaction on self_evaluate and grade only, not on "
      .. tostring(event.name), 0)
  end
  local score, parts = jx.self_evaluation(state.self_evaluation, params.weights)
  if not score then
    -- The guard refuses such data first; reaching here means the workflow
    -- lists the plugin as a reaction without the guard.
    error("self_evaluation cannot be scored: " .. parts, 0)
  end
  local grade = jx.grade(score, params.bands)
  return {
    self_score = score,
    self_grade = grade,
    self_grade_zh = jx.grade_zh(grade),
    self_score_parts = parts,
  }
end

return M
