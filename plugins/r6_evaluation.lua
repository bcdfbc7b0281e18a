-- R-6 performance evaluation (绩效评价).
--
-- Units self-evaluate (自评价) every project after the year; the department
-- or the finance bureau then grades it 优/良/中/差.  The score is not typed
-- in: it is computed from the project's self-evaluation data by the
-- national rule (jx.self_evaluation: budget execution rate, output, outcome
-- and satisfaction indicators), so that a grade can be checked against it.
-- The finance performance section spot-checks (抽查复核) self-evaluations:
-- its re-check gives a score of its own, and when that departs from the
-- self-evaluation by more than a tolerance the grade must follow the
-- re-check.  Projects of the pilots (试点: PPP, government investment
-- funds 政府投资基金, government procurement 政府采购, government purchase of
-- services 政府购买服务, government bond projects 政府债务项目), named by the
-- project's field pilot, are scored under their pilot's weights and bands
-- where params.pilots gives them, other projects under the general ones.
--
-- On self_evaluate (listed as guard and as reaction):
--   guard  refuses when the project's self_evaluation is missing or cannot
--          be scored, or when a self_score the unit states is not the
--          score its data give (to 0.01);
--   react  records facts self_score, self_grade, self_grade_zh,
--          self_score_parts (the score by category) and self_score_rules
--          ("general", or "pilot ppp" when a pilot's parameters scored it).
-- On spot_check (the performance section's; guard and reaction):
--   guard  refuses a spot check that sets no spot_check, one whose score
--          is not a number from 0 to 100 or that has no note, and one on a
--          project without a self-evaluation score to compare with;
--   react  records the fact spot_check = { score, self_score, deviation
--          (score - self_score), passed (|deviation| <= tolerance, to
--          1e-9), tolerance, grade (the band of the re-check's score), by
--          (the actor), and, when the project is already graded,
--          grade_agrees: whether its grade is the band of the score it
--          must follow }.
-- On grade (guard): the grade set must be the band of the self-evaluation
-- score, computed again from the project's data under the parameters in
-- force, or, after a spot check that failed (fact spot_check.passed
-- false), the band of the spot check's score; a grade that departs from
-- it (a department or fiscal evaluation found otherwise) needs a
-- grade_reason, which the history keeps.  A grade event that sets no
-- grade is refused.
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
-- The field spot_check (set by spot_check): { score = 0..100, note = "..." }.
--
-- params.weights  {execution, output, outcome, satisfaction} summing to 100
--                 (default: the national 10/50/30/10)
-- params.bands    {excellent, good, fair}, score >= band (default 90/80/60)
-- params.pilots   { PILOT = { weights = {...}, bands = {...} }, ... }: per
--                 pilot (ppp, investment_fund, procurement, services,
--                 bond), its own weights and/or bands; what a pilot leaves
--                 out is the general parameter (default: no pilot has its
--                 own)
-- params.spot_check_tolerance  points a spot check's score may depart from
--                 the self-evaluation score and pass, inclusive (default 5)
local M = { rule = "R-6", title = "performance evaluation (绩效评价)" }

local EXAMPLE = "--set 'self_evaluation={execution={allocated=1000000, "
  .. "spent=950000}, output=[{indicator=\"schools renovated\", "
  .. "comparator=\">=\", target=12, actual=12}], outcome=[...], "
  .. "satisfaction=[...]}'"
local SPOT_EXAMPLE = "--set 'spot_check={score=82.5, note=\"re-checked the "
  .. "output indicators against the acceptance records\"}'"

-- The pilots (试点) params.pilots may name, as the field pilot's one_of.
local PILOTS = { "ppp", "investment_fund", "procurement", "services", "bond" }
local DEFAULTS = { weights = false, bands = false, pilots = {},
                   spot_check_tolerance = 5 }

local function bad(why)
  error("workflow.toml parameters: " .. why, 0)
end

-- Weights and bands checked by the helpers that use them; `where` prefixes
-- the message ("pilots.ppp.").
local function check_scoring(weights, bands, where)
  local ok, why = jx.self_evaluation({}, weights)
  if not ok then bad(where .. why) end
  ok, why = jx.grade(0, bands)
  if not ok then bad(where .. why) end
end

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.  Returns them with
-- the defaults filled in (weights and bands: the national ones).
local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-6")
  p.weights = p.weights or jx.default_weights()
  p.bands = p.bands or jx.default_bands()
  check_scoring(p.weights, p.bands, "")
  if type(p.pilots) ~= "table" then
    bad("R-6 pilots must be a table like {ppp = {weights = {execution = "
      .. "10, output = 40, outcome = 40, satisfaction = 10}}}")
  end
  -- sorted_pairs skips keys that are not strings: a list would pass.
  for k in pairs(p.pilots) do
    if type(k) ~= "string" then
      bad("R-6 pilots must be a table keyed by pilot, like {ppp = "
        .. "{weights = {...}}}, not a list")
    end
  end
  for name, pilot in sorted_pairs(p.pilots) do
    if not jx.member(PILOTS, name) then
      bad("R-6 pilots has no pilot " .. name .. "; the pilots are "
        .. table.concat(PILOTS, ", "))
    end
    local where = "pilots." .. name .. "."
    pilot = jx.params(pilot, { weights = false, bands = false },
      "R-6 pilots." .. name)
    check_scoring(pilot.weights or p.weights, pilot.bands or p.bands, where)
  end
  local t = p.spot_check_tolerance
  if not jx.finite(t) or t < 0 or t > 100 then
    bad("R-6 spot_check_tolerance must be a number of points from 0 to "
      .. "100, not " .. tostring(t))
  end
  return p
end

-- The weights and bands a project is scored under: its pilot's where
-- params.pilots has them, else the general ones; and how to name them.
local function rules_for(state, p)
  local pilot = state.pilot and p.pilots[state.pilot]
  if type(pilot) ~= "table" then
    return { weights = p.weights, bands = p.bands, name = "general" }
  end
  return { weights = pilot.weights or p.weights,
           bands = pilot.bands or p.bands, name = "pilot " .. state.pilot }
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

local function named(grade)
  local zh = jx.grade_zh(grade)
  if zh and zh ~= grade then return grade .. " (" .. zh .. ")" end
  return tostring(grade)
end

local function bands_text(r)
  local b = r.bands
  local text = string.format("excellent >= %s, good >= %s, fair >= %s, "
    .. "poor below", jx.points(b.excellent), jx.points(b.good),
    jx.points(b.fair))
  if r.name ~= "general" then text = text .. "; bands of the " .. r.name end
  return text
end

local function has_text(s)
  return type(s) == "string" and s:find("%S") ~= nil
end

local function check_self_evaluation(state, event, r)
  if state.self_evaluation == nil then
    return refuse("a self-evaluation (自评价) is scored from its data, and "
      .. "the project has no self_evaluation",
      "send the data with the event: " .. EXAMPLE)
  end
  local score, why = jx.self_evaluation(state.self_evaluation, r.weights)
  if not score then
    return refuse("the self-evaluation data cannot be scored: " .. why,
      "correct self_evaluation; its shape is " .. EXAMPLE)
  end
  local claimed = (event.set or {}).self_score
  if claimed ~= nil and (type(claimed) ~= "number"
                         or math.abs(claimed - score) > 0.005) then
    return refuse(string.format("the self_score stated (%s) is not the "
      .. "score the self-evaluation data give (%s%s)", tostring(claimed),
      jx.points(score), r.name ~= "general"
        and ", under the weights of the " .. r.name or ""),
      "leave self_score out (it is computed from self_evaluation), or "
      .. "correct the data it was worked out from")
  end
  return true
end

-- The self-evaluation score, or nil and why there is none.
local function score_of(state, r)
  if state.self_evaluation ~= nil then
    local score, why = jx.self_evaluation(state.self_evaluation, r.weights)
    if not score then
      return nil, "the project's self_evaluation cannot be scored: " .. why
    end
    return score
  end
  return nil, "the project has no self-evaluation (self_evaluation)"
end

-- The last spot check's fact, when it failed: the grade follows it.
local function failed_spot_check(state)
  local sc = type(state.facts) == "table" and state.facts.spot_check
  if type(sc) == "table" and sc.passed == false and jx.finite(sc.score) then
    return sc
  end
end

local function check_grade(state, event, r)
  local set = event.set or {}
  local grade = set.grade
  if grade == nil then
    return refuse("grading sets no grade",
      "send the grade: --set grade=excellent|good|fair|poor (优/良/中/差)")
  end
  if has_text(set.grade_reason) then
    return true
  end
  local spot = failed_spot_check(state)
  local score, why, what
  if spot then
    score = spot.score
    what = string.format("the spot check's score (抽查复核: %s, "
      .. "%s points from the self-evaluation score %s, beyond the "
      .. "tolerance of %s)", jx.points(score),
      jx.points(math.abs(spot.deviation or 0)),
      jx.points(spot.self_score or 0), jx.points(spot.tolerance or 0))
  else
    score, why = score_of(state, r)
    if not score then
      return refuse(string.format("grade %s cannot be checked against a "
        .. "self-evaluation score: %s", named(grade), why),
        "self-evaluate the project first, or give grade_reason saying "
        .. "what the grade rests on (--set grade_reason=\"...\")")
    end
    what = "the self-evaluation score " .. jx.points(score)
  end
  local expected = jx.grade(score, r.bands)
  if jx.grade_zh(grade) == jx.grade_zh(expected) then
    return true
  end
  return refuse(string.format("grade %s disagrees with %s, which is %s (%s)",
    named(grade), what, named(expected), bands_text(r)),
    string.format("set grade=%s, or keep %s and give grade_reason saying "
      .. "why the grade departs from %s: --set grade_reason=\"...\"",
      expected, grade, spot and "the spot check" or "the self-evaluation "
        .. "(a department or fiscal evaluation)"))
end

local function check_spot_check(state, event, r)
  local sc = (event.set or {}).spot_check
  if sc == nil then
    return refuse("a spot check (抽查复核) records the score the finance "
      .. "bureau's re-check finds, and the event sets no spot_check",
      "send the re-check with the event: " .. SPOT_EXAMPLE)
  end
  if type(sc) ~= "table" then
    return refuse("spot_check must be a table {score, note}, not "
      .. type(sc), "send " .. SPOT_EXAMPLE)
  end
  for k in sorted_pairs(sc) do
    if k ~= "score" and k ~= "note" then
      return refuse("spot_check has a key " .. k .. "; it has only score "
        .. "and note", "send " .. SPOT_EXAMPLE)
    end
  end
  if not jx.finite(sc.score) or sc.score < 0 or sc.score > 100 then
    return refuse("spot_check.score must be a number of points from 0 to "
      .. "100 (it is " .. tostring(sc.score) .. ")",
      "send the re-check's score: " .. SPOT_EXAMPLE)
  end
  if not has_text(sc.note) then
    return refuse("a spot check must say what was re-checked, and "
      .. "spot_check has no note", "send " .. SPOT_EXAMPLE)
  end
  local _, why = score_of(state, r)
  if why then
    return refuse("a spot check compares the re-check with the "
      .. "self-evaluation score, and there is none to compare with: " .. why,
      "spot-check a self-evaluated project: the unit sends self_evaluate "
      .. "with its data first")
  end
  return true
end

function M.guard(state, event, params)
  local p = check_params(params)
  local r = rules_for(state, p)
  if event.name == "self_evaluate" then
    return check_self_evaluation(state, event, r)
  elseif event.name == "grade" then
    return check_grade(state, event, r)
  elseif event.name == "spot_check" then
    return check_spot_check(state, event, r)
  end
  error("R-6 is a guard on self_evaluate, grade and spot_check only, not on "
    .. tostring(event.name), 0)
end

-- Who graded: a department grade is a department evaluation (部门评价), a
-- finance performance section grade a fiscal evaluation (财政评价); the
-- coverage report (R-0) counts each against its goal.
local EVALUATION = { department = "department", finance_performance = "fiscal" }

local function spot_check_facts(state, event, p, r)
  local sc = state.spot_check
  local self_score, why = score_of(state, r)
  if not self_score then
    -- The guard refuses first; reaching here means the workflow lists the
    -- plugin as a reaction without the guard.
    error("R-6 spot_check: " .. why, 0)
  end
  local deviation = jx.share(sc.score - self_score)
  local passed = math.abs(deviation) <= p.spot_check_tolerance
  local band = jx.grade(sc.score, r.bands)
  local fact = {
    score = sc.score + 0.0, self_score = self_score + 0.0,
    deviation = deviation + 0.0, passed = passed,
    tolerance = p.spot_check_tolerance + 0.0, grade = band,
    by = event.actor,
  }
  if state.grade ~= nil then
    local follows = passed and jx.grade(self_score, r.bands) or band
    fact.grade_agrees = jx.grade_zh(state.grade) == jx.grade_zh(follows)
  end
  return { spot_check = fact }
end

function M.react(state, event, params)
  local p = check_params(params)
  local r = rules_for(state, p)
  if event.name == "grade" then
    return { evaluation = EVALUATION[event.role] or event.role,
             graded_by = event.actor }
  elseif event.name == "spot_check" then
    return spot_check_facts(state, event, p, r)
  end
  if event.name ~= "self_evaluate" then
    error("R-6 is a reaction on self_evaluate, grade and spot_check only, "
      .. "not on " .. tostring(event.name), 0)
  end
  local score, parts = jx.self_evaluation(state.self_evaluation, r.weights)
  if not score then
    -- The guard refuses such data first; reaching here means the workflow
    -- lists the plugin as a reaction without the guard.
    error("self_evaluation cannot be scored: " .. parts, 0)
  end
  local grade = jx.grade(score, r.bands)
  return {
    self_score = score,
    self_grade = grade,
    self_grade_zh = jx.grade_zh(grade),
    self_score_parts = parts,
    self_score_rules = r.name,
  }
end

return M
