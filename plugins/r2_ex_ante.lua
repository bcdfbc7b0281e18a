-- R-2 ex-ante performance assessment (事前绩效评估).
--
-- A new major policy or project, an adjustment or expansion of one, or the
-- continuation of an expiring one, whose funding is at least
-- params.threshold yuan (500万元, inclusive), must carry an ex-ante
-- assessment report; without it the project cannot apply.  The finance
-- bureau's performance section (绩效科) reviews the assessment on five
-- dimensions, and only the conclusion "support" (予以支持) lets the
-- application go on to approval.
--
-- As a guard on submit, supplement and any other event of a covered
-- request (kind in params.kinds, amount an integer >= params.threshold; a
-- supplementary request is judged on its supplement_amount; a
-- department-wide record is not one):
--   refuses a request without ex_ante_report, and one whose unit-stated
--   ex_ante_conclusion is not support.
-- As a guard on ex_ante_review (the performance section's review, sent
-- within finance_review): refuses unless the event sets ex_ante_scores, a
-- table of exactly the five dimensions, each a number 0..dimension_max:
--   ex_ante_scores = { necessity   = n,   -- 立项必要性
--                      economy     = n,   -- 投入经济性
--                      targets     = n,   -- 绩效目标合理性
--                      feasibility = n,   -- 实施方案可行性
--                      compliance  = n }  -- 筹资合规性
--   Only the scores the event sets count, never an ex_ante_scores the unit
--   put in its submission.
-- As a reaction on ex_ante_review: records the facts
--   ex_ante_total            the sum (an integer when every score is; else
--                            rounded to 0.01)
--   ex_ante_conclusion       "support" | "revise" | "reject"
--   ex_ante_conclusion_zh    "予以支持" | "调整完善后支持" | "不予支持"
--   ex_ante_reviewed         true
--   ex_ante_reviewed_report  the project's ex_ante_report when reviewed
--   ex_ante_reviewed_amount  the project's amount when reviewed
--   (a later review replaces them all).
-- As a guard on the events in params.review_before (finance_approve): a
-- covered project needs the report, a review (facts.ex_ante_reviewed) of
-- the report and amount it now has, and the reviewed conclusion "support".
-- The unit's own ex_ante_conclusion field does not decide there: the
-- performance section's review does.
--
-- params.threshold         yuan, inclusive
-- params.kinds             project kinds the rule covers
-- params.dimension_max     the highest score of one dimension (default 20)
-- params.conclusion_bands  { support = n, revise = n }: total >= support is
--                          support, >= revise is revise, below is reject
--                          (default 80 / 60); 0 <= revise <= support <=
--                          5 x dimension_max
-- params.review_before     events a covered project may pass only with a
--                          "support" review (default { "finance_approve" })
-- params.review_event      the review's event (default "ex_ante_review")
local M = { rule = "R-2", title = "ex-ante performance assessment (事前绩效评估)" }

local DIMENSIONS = { "necessity", "economy", "targets", "feasibility", "compliance" }
local DIMENSION_ZH = {
  necessity = "立项必要性", economy = "投入经济性", targets = "绩效目标合理性",
  feasibility = "实施方案可行性", compliance = "筹资合规性",
}
local CONCLUSION_ZH = {
  support = "予以支持", revise = "调整完善后支持", reject = "不予支持",
}

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.
local function bad(why)
  error("workflow.toml parameters: " .. why, 0)
end

-- The review's parameters with their defaults, checked.
local function settings(params)
  local s = {
    dimension_max = params.dimension_max,
    bands = params.conclusion_bands,
    review_before = params.review_before,
    review_event = params.review_event,
  }
  if s.dimension_max == nil then s.dimension_max = 20 end
  if not jx.finite(s.dimension_max) or s.dimension_max <= 0 then
    bad("dimension_max must be a number greater than 0")
  end
  local top = #DIMENSIONS * s.dimension_max
  if s.bands == nil then s.bands = { support = 80, revise = 60 } end
  if type(s.bands) ~= "table" then
    bad("conclusion_bands must be a table like {support = 80, revise = 60}")
  end
  local n = 0
  for _ in pairs(s.bands) do n = n + 1 end
  for _, k in ipairs({ "support", "revise" }) do
    if not jx.finite(s.bands[k]) then
      bad("conclusion_bands." .. k .. " is not a number")
    end
  end
  if n ~= 2 then
    bad("conclusion_bands may have only the keys support and revise")
  end
  if not (0 <= s.bands.revise and s.bands.revise <= s.bands.support
          and s.bands.support <= top) then
    bad(string.format("conclusion_bands must satisfy 0 <= revise <= support "
      .. "<= %s (five dimensions of at most %s)", jx.points(top),
      jx.points(s.dimension_max)))
  end
  if s.review_before == nil then s.review_before = { "finance_approve" } end
  if type(s.review_before) ~= "table" then
    bad("review_before must be a list of events, like [\"finance_approve\"]")
  end
  if s.review_event == nil then s.review_event = "ex_ante_review" end
  if type(s.review_event) ~= "string" then
    bad("review_event must be the name of an event")
  end
  return s
end

local function example(s)
  local parts = {}
  for _, d in ipairs(DIMENSIONS) do
    parts[#parts + 1] = d .. "=N"
  end
  return "--set 'ex_ante_scores={" .. table.concat(parts, ", ")
    .. "}' (each N from 0 to " .. jx.points(s.dimension_max) .. ")"
end

local function dimensions_text(s)
  local parts = {}
  for _, d in ipairs(DIMENSIONS) do
    parts[#parts + 1] = d .. " " .. DIMENSION_ZH[d]
  end
  return table.concat(parts, ", ") .. ", each 0 to " .. jx.points(s.dimension_max)
end

-- nil if scores are the five dimensions in range, else every problem.
local function problems(scores, s)
  if type(scores) ~= "table" then
    return { "ex_ante_scores is " .. (scores == nil and "missing"
      or "not a table (" .. type(scores) .. ")") }
  end
  local out = {}
  local known = {}
  for _, d in ipairs(DIMENSIONS) do known[d] = true end
  local unknown = {}
  for k in pairs(scores) do
    if not known[k] then unknown[#unknown + 1] = tostring(k) end
  end
  table.sort(unknown)
  for _, k in ipairs(unknown) do
    out[#out + 1] = "unknown dimension \"" .. k .. "\""
  end
  for _, d in ipairs(DIMENSIONS) do
    local v = scores[d]
    if v == nil then
      out[#out + 1] = d .. " is missing"
    elseif not jx.finite(v) then
      out[#out + 1] = d .. " = " .. tostring(v) .. " is not a number"
    elseif v < 0 or v > s.dimension_max then
      out[#out + 1] = string.format("%s = %s is out of range 0 to %s", d,
        tostring(v), jx.points(s.dimension_max))
    end
  end
  if #out == 0 then return nil end
  return out
end

-- The total of valid scores and its conclusion under the bands.
local function conclude(scores, s)
  local total = 0
  for _, d in ipairs(DIMENSIONS) do total = total + scores[d] end
  if math.type(total) == "float" then
    -- To 0.01, so that 15.2 + 16.3 + 16.1 + 16.2 + 16.2 is 80, not 79.99...
    total = math.floor(total * 100 + 0.5) / 100
    total = math.tointeger(total) or total
  end
  local conclusion = "reject"
  if total >= s.bands.support then
    conclusion = "support"
  elseif total >= s.bands.revise then
    conclusion = "revise"
  end
  return total, conclusion
end

local function check_review(event, s)
  local scores = (event.set or {}).ex_ante_scores
  local why = problems(scores, s)
  if not why then return true end
  return refuse("the performance section's review of the ex-ante assessment "
    .. "scores five dimensions (" .. dimensions_text(s) .. "): "
    .. table.concat(why, "; "),
    "send the five scores with the review: " .. example(s))
end

function M.react(state, event, params)
  local s = settings(params or {})
  if event.name ~= s.review_event then
    error("R-2 is a reaction on " .. s.review_event .. " only, not on "
      .. tostring(event.name), 0)
  end
  local scores = (event.set or {}).ex_ante_scores
  local why = problems(scores, s)
  if why then
    -- The guard refuses such scores first; reaching here means the
    -- workflow lists the plugin as a reaction without the guard.
    error("ex_ante_scores cannot be totalled: " .. table.concat(why, "; "), 0)
  end
  local total, conclusion = conclude(scores, s)
  return {
    ex_ante_total = total,
    ex_ante_conclusion = conclusion,
    ex_ante_conclusion_zh = CONCLUSION_ZH[conclusion],
    ex_ante_reviewed = true,
    ex_ante_reviewed_report = state.ex_ante_report,
    ex_ante_reviewed_amount = state.amount,
  }
end

-- A supplementary request (追加) carries its own amount in the event.
local function request(state, event)
  local set = event.set or {}
  if set.supplement_amount then
    return "supplementary", set.supplement_amount
  end
  return state.kind, state.amount
end

local function named(conclusion)
  local zh = CONCLUSION_ZH[conclusion]
  if zh then return string.format("\"%s\" (%s)", conclusion, zh) end
  return "\"" .. tostring(conclusion) .. "\""
end

local function report_text(report)
  if report == nil then return "no report" end
  return "report " .. tostring(report)
end

local function amount_text(amount)
  if math.type(amount) == "integer" then return jx.yuan(amount) .. " yuan" end
  return tostring(amount) .. " yuan"
end

-- At approval: the performance section's review decides.
local function check_reviewed(state, event, kind, amount, s)
  local facts = state.facts or {}
  local ask = "the performance section (绩效科) sends " .. s.review_event
    .. " with its scores: " .. example(s)
  if facts.ex_ante_reviewed ~= true then
    return refuse(string.format("a project of %s yuan (kind %s) needs the "
      .. "performance section's review of its ex-ante assessment (%s) "
      .. "before %s; there is none", jx.yuan(amount), kind, s.review_event,
      event.name), ask)
  end
  if facts.ex_ante_reviewed_report ~= state.ex_ante_report
     or facts.ex_ante_reviewed_amount ~= amount then
    return refuse(string.format("the performance section reviewed another "
      .. "assessment (%s, %s) than the project has now (%s, %s)",
      report_text(facts.ex_ante_reviewed_report),
      amount_text(facts.ex_ante_reviewed_amount),
      report_text(state.ex_ante_report), amount_text(amount)),
      "the performance section reviews again: " .. ask)
  end
  local conclusion = facts.ex_ante_conclusion
  if conclusion ~= "support" then
    return refuse(string.format("the performance section's review of the "
      .. "ex-ante assessment concluded %s with a total of %s; only "
      .. "\"support\" (予以支持) lets the application go on to %s",
      named(conclusion), jx.finite(facts.ex_ante_total)
        and jx.points(facts.ex_ante_total) or tostring(facts.ex_ante_total),
      event.name),
      "revise the project and its ex-ante assessment and resubmit it (the "
      .. "finance section returns it, the unit submits the revised "
      .. "ex_ante_report); the performance section then reviews again ("
      .. s.review_event .. ")")
  end
  return true
end

function M.guard(state, event, params)
  params = params or {}
  local s = settings(params)
  if event.name == s.review_event then
    return check_review(event, s)
  end
  local kind, amount = request(state, event)
  -- A department's whole budget (level = "department", R-10) is not a
  -- policy or project: its projects are assessed one by one.
  if not jx.member(params.kinds, kind) or state.level == "department" then
    return true
  end
  -- The workflow's [fields] make amounts integers; anything else is not
  -- waved through.
  if math.type(amount) ~= "integer" then
    return refuse("the requested amount is not a whole number of yuan",
      "give the amount as an integer number of yuan")
  end
  if amount < params.threshold then
    return true
  end
  local report = state.ex_ante_report
  if type(report) ~= "string" or report == "" then
    return refuse(string.format(
        "a %s project of %s yuan needs an ex-ante performance assessment "
        .. "report (threshold %s yuan, inclusive); none is attached",
        kind, jx.yuan(amount), jx.yuan(params.threshold)),
      "attach the assessment as ex_ante_report (and its conclusion "
        .. "as ex_ante_conclusion), or request less than "
        .. jx.yuan(params.threshold) .. " yuan")
  end
  if jx.member(s.review_before, event.name) then
    return check_reviewed(state, event, kind, amount, s)
  end
  -- Before the review, the unit's own statement of its assessment's
  -- conclusion still stops an application it says is not supported.
  local conclusion = state.ex_ante_conclusion
  if conclusion ~= nil and conclusion ~= "support" and conclusion ~= "予以支持" then
    return refuse(string.format("the ex-ante assessment concluded \"%s\"; only "
        .. "\"support\" (予以支持) lets the application go on", tostring(conclusion)),
      "revise the project and its assessment until it concludes support")
  end
  return true
end

return M
