package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r2 = H.load("plugins/r2_ex_ante.lua")
local params = { threshold = 5000000, kinds = { "new", "adjust", "expand", "continue" } }
local submit = { name = "submit", set = {} }

local function project(amount, extra)
  local p = { kind = "new", amount = amount }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- ---- On submit (and supplement): the report ----

H.check("boundary: 4,999,999 needs no report", function()
  H.accepted(r2.guard(project(4999999), submit, params))
end)
H.check("boundary: 5,000,000 without report is refused (inclusive)", function()
  H.refused(r2.guard(project(5000000), submit, params), "R-2")
end)
H.check("5,000,000 with a report passes", function()
  H.accepted(r2.guard(project(5000000, { ex_ante_report = "reports/a.pdf" }), submit, params))
end)
H.check("an empty report counts as none", function()
  H.refused(r2.guard(project(6000000, { ex_ante_report = "" }), submit, params))
end)
H.check("adjust, expand and continue are covered", function()
  for _, kind in ipairs({ "adjust", "expand", "continue" }) do
    H.refused(r2.guard({ kind = kind, amount = 9000000 }, submit, params))
  end
end)
H.check("a kind outside params.kinds is not covered", function()
  H.accepted(r2.guard({ kind = "routine", amount = 9000000 }, submit, params))
end)
H.check("conclusion other than support is refused", function()
  H.refused(r2.guard(project(5000000, { ex_ante_report = "r", ex_ante_conclusion = "do_not_support" }), submit, params))
  H.accepted(r2.guard(project(5000000, { ex_ante_report = "r", ex_ante_conclusion = "予以支持" }), submit, params))
end)
H.check("an amount that is not an integer is refused, not waved through", function()
  H.refused(r2.guard(project("9000000"), submit, params), "R-2")
  H.refused(r2.guard(project(9000000.5), submit, params), "R-2")
end)
H.check("the reason writes amounts as people do", function()
  local v = r2.guard(project(5000000), submit, params)
  assert(v.reason:find("5,000,000 yuan", 1, true), v.reason)
end)
H.check("the threshold is a parameter", function()
  local p = { threshold = 1000000, kinds = params.kinds }
  H.refused(r2.guard(project(1000000), submit, p))
end)
H.check("a supplementary request is judged on its own amount", function()
  local p = { threshold = 5000000, kinds = { "supplementary" } }
  local ev = { name = "supplement", set = { supplement_amount = 5000000 } }
  H.refused(r2.guard(project(100), ev, p))
end)
H.check("submit needs no review by the performance section", function()
  H.accepted(r2.guard(project(9000000, { ex_ante_report = "r" }), submit, params))
end)

-- ---- The performance section's review (ex_ante_review) ----

local DIMS = { "necessity", "economy", "targets", "feasibility", "compliance" }

-- Five scores adding up to `total` (each at most 20 while total <= 100).
local function scores(total)
  local s, left = {}, total
  for i, d in ipairs(DIMS) do
    local n = left // (#DIMS - i + 1)
    s[d] = n
    left = left - n
  end
  return s
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do
    c[k] = type(v) == "table" and copy(v) or v
  end
  return c
end

local function review_event(s)
  return { name = "ex_ante_review", role = "finance_performance",
           from = "finance_review", to = "finance_review",
           set = { ex_ante_scores = s } }
end

-- What the engine does with ex_ante_review: apply the set, run the guard,
-- then merge the reaction's facts.  Returns the new state or the refusal.
local function review(state, s, p)
  p = p or params
  local ev = review_event(s)
  local next = copy(state)
  next.ex_ante_scores = s
  local v = r2.guard(next, ev, p)
  if v ~= true and v ~= nil then return nil, v end
  next.facts = next.facts or {}
  for k, val in pairs(r2.react(next, ev, p)) do next.facts[k] = val end
  return next
end

local approve = { name = "finance_approve", set = {} }

local function covered(amount, extra)
  local e = { ex_ante_report = "reports/a.pdf" }
  for k, v in pairs(extra or {}) do e[k] = v end
  return project(amount or 5000000, e)
end

local function reviewed(total, p, state)
  return assert(review(state or covered(), scores(total), p))
end

H.check("the score helper adds up", function()
  for _, t in ipairs({ 0, 59, 60, 79, 80, 100 }) do
    local sum = 0
    for _, d in ipairs(DIMS) do
      sum = sum + scores(t)[d]
      assert(scores(t)[d] <= 20)
    end
    assert(sum == t, t)
  end
end)

H.check("boundary: total 80 is support", function()
  local s = reviewed(80)
  assert(s.facts.ex_ante_total == 80, tostring(s.facts.ex_ante_total))
  assert(s.facts.ex_ante_conclusion == "support")
  assert(s.facts.ex_ante_reviewed == true)
end)
H.check("boundary: total 79 is revise", function()
  local s = reviewed(79)
  assert(s.facts.ex_ante_total == 79)
  assert(s.facts.ex_ante_conclusion == "revise", s.facts.ex_ante_conclusion)
end)
H.check("boundary: total 60 is revise", function()
  assert(reviewed(60).facts.ex_ante_conclusion == "revise")
end)
H.check("boundary: total 59 is reject", function()
  local s = reviewed(59)
  assert(s.facts.ex_ante_conclusion == "reject", s.facts.ex_ante_conclusion)
  assert(s.facts.ex_ante_reviewed == true, "a reject is a review too")
end)
H.check("0 and 100 are the ends", function()
  assert(reviewed(0).facts.ex_ante_conclusion == "reject")
  assert(reviewed(100).facts.ex_ante_conclusion == "support")
  assert(reviewed(100).facts.ex_ante_total == 100)
end)
H.check("the facts recorded: exact shape", function()
  local f = reviewed(83).facts
  local want = {
    ex_ante_total = 83, ex_ante_conclusion = "support",
    ex_ante_conclusion_zh = "予以支持", ex_ante_reviewed = true,
    ex_ante_reviewed_report = "reports/a.pdf", ex_ante_reviewed_amount = 5000000,
  }
  for k, v in pairs(want) do
    assert(f[k] == v, k .. " = " .. tostring(f[k]))
  end
  for k in pairs(f) do
    assert(want[k] ~= nil, "unexpected fact " .. k)
  end
  assert(math.type(f.ex_ante_total) == "integer", "whole scores give a whole total")
  assert(reviewed(70).facts.ex_ante_conclusion_zh == "调整完善后支持")
  assert(reviewed(10).facts.ex_ante_conclusion_zh == "不予支持")
end)
H.check("fractional scores: the total to 0.01, no float drift at a band", function()
  local s = { necessity = 15.2, economy = 16.3, targets = 16.1, feasibility = 16.2, compliance = 16.2 }
  local f = assert(review(covered(), s)).facts
  assert(f.ex_ante_total == 80, tostring(f.ex_ante_total))
  assert(f.ex_ante_conclusion == "support")
  s.compliance = 16.19
  f = assert(review(covered(), s)).facts
  assert(f.ex_ante_total == 79.99, tostring(f.ex_ante_total))
  assert(f.ex_ante_conclusion == "revise")
end)

local function review_refused(s, ...)
  local st, v = review(covered(), s)
  assert(st == nil, "expected a refusal")
  H.refused(v, "R-2")
  for _, needle in ipairs({ ... }) do
    assert(v.reason:find(needle, 1, true), "no '" .. needle .. "' in: " .. v.reason)
  end
  return v
end

H.check("boundary: a dimension of 21 is refused, naming it", function()
  local s = scores(80)
  s.feasibility = 21
  review_refused(s, "feasibility", "21", "0 to 20")
end)
H.check("a dimension of 20 and of 0 are in range", function()
  local s = scores(80)
  s.feasibility, s.necessity = 20, 0
  assert(review(covered(), s))
end)
H.check("a negative score is refused", function()
  local s = scores(80)
  s.economy = -1
  review_refused(s, "economy", "-1")
end)
H.check("no scores at all are refused", function()
  local v = review_refused(nil, "ex_ante_scores")
  assert(v.remedy:find("ex_ante_scores={necessity=", 1, true), v.remedy)
end)
H.check("scores that are not a table are refused", function()
  review_refused("80", "ex_ante_scores")
  review_refused({ 16, 16, 16, 16, 16 }, "unknown dimension")
end)
H.check("a missing dimension is refused, naming it", function()
  local s = scores(80)
  s.compliance = nil
  review_refused(s, "compliance", "missing")
end)
H.check("a score that is not a number is refused, naming it", function()
  local s = scores(80)
  s.targets = "16"
  review_refused(s, "targets", "not a number")
  s.targets = 0 / 0
  review_refused(s, "targets", "not a number")
  s.targets = math.huge
  review_refused(s, "targets")
end)
H.check("an unknown dimension is refused, naming it", function()
  local s = scores(80)
  s.economics = s.economy
  s.economy = nil
  review_refused(s, "economics", "economy")
end)
H.check("every problem is named at once", function()
  local s = { necessity = 21, economy = "x", targets = 16, feasibility = 16, relevance = 3 }
  review_refused(s, "necessity", "economy", "compliance", "relevance")
end)
H.check("the scores must come with the review, not from the unit's submission", function()
  local state = covered(5000000, { ex_ante_scores = scores(100) })
  local v = r2.guard(state, { name = "ex_ante_review", set = {} }, params)
  H.refused(v, "R-2")
end)
H.check("react on another event is an error of the workflow", function()
  assert(not pcall(r2.react, covered(), approve, params))
end)

-- ---- At approval (params.review_before): the review decides ----

local function approve_refused(state, p, ...)
  local v = r2.guard(state, approve, p or params)
  H.refused(v, "R-2")
  for _, needle in ipairs({ ... }) do
    assert(v.reason:find(needle, 1, true) or v.remedy:find(needle, 1, true),
      "no '" .. needle .. "' in: " .. v.reason .. " / " .. v.remedy)
  end
  return v
end

H.check("a covered project without a review is refused at finance_approve", function()
  local v = approve_refused(covered(), nil, "ex_ante_review", "performance section")
  assert(v.reason:find("finance_approve", 1, true), v.reason)
end)
H.check("reviewed support is accepted at finance_approve", function()
  H.accepted(r2.guard(reviewed(80), approve, params))
end)
H.check("reviewed revise is refused, naming the conclusion and total", function()
  local v = approve_refused(reviewed(79), nil, "revise", "79")
  assert(v.remedy:find("resubmit", 1, true), v.remedy)
  assert(v.remedy:find("review", 1, true), v.remedy)
  approve_refused(reviewed(60), nil, "revise", "60")
end)
H.check("reviewed reject is refused, naming the conclusion and total", function()
  approve_refused(reviewed(59), nil, "reject", "59", "不予支持")
end)
H.check("the unit's ex_ante_conclusion no longer decides at approval", function()
  approve_refused(covered(5000000, { ex_ante_conclusion = "support" }), nil, "ex_ante_review")
  approve_refused(reviewed(70, nil, covered(5000000, { ex_ante_conclusion = "support" })), nil, "revise")
  local s = reviewed(90, nil, covered(5000000, { ex_ante_conclusion = "do_not_support" }))
  H.accepted(r2.guard(s, approve, params))
end)
H.check("approval still needs the report", function()
  approve_refused(project(5000000), nil, "report")
end)
H.check("boundary at approval: 4,999,999 needs no review, 5,000,000 does", function()
  H.accepted(r2.guard(project(4999999), approve, params))
  approve_refused(covered(5000000), nil, "ex_ante_review")
end)
H.check("an uncovered kind needs no review", function()
  H.accepted(r2.guard({ kind = "routine", amount = 90000000 }, approve, params))
end)
H.check("a review of another assessment does not count", function()
  local s = reviewed(90)
  s.amount = 8000000
  approve_refused(s, nil, "8,000,000", "5,000,000", "reviews again")
  s = reviewed(90)
  s.ex_ante_report = "reports/b.pdf"
  approve_refused(s, nil, "reports/b.pdf", "reports/a.pdf")
end)
H.check("revise, resubmit, review again: then approval", function()
  local s = reviewed(72)
  approve_refused(s, nil, "revise")
  s.ex_ante_report = "reports/a-revised.pdf"            -- the unit resubmits
  approve_refused(s, nil, "reports/a-revised.pdf")      -- the old review is stale
  s = assert(review(s, scores(85)))
  H.accepted(r2.guard(s, approve, params))
  assert(s.facts.ex_ante_total == 85)
end)
H.check("events other than the review and review_before need no review", function()
  H.accepted(r2.guard(covered(), { name = "dept_approve", set = {} }, params))
end)

-- ---- Parameters ----

H.check("conclusion_bands is a parameter", function()
  local p = { threshold = 5000000, kinds = params.kinds,
              conclusion_bands = { support = 90, revise = 70 } }
  assert(reviewed(89, p).facts.ex_ante_conclusion == "revise")
  assert(reviewed(90, p).facts.ex_ante_conclusion == "support")
  assert(reviewed(70, p).facts.ex_ante_conclusion == "revise")
  assert(reviewed(69, p).facts.ex_ante_conclusion == "reject")
  approve_refused(reviewed(85, p), p, "revise", "85")
  H.accepted(r2.guard(reviewed(90, p), approve, p))
end)
H.check("dimension_max is a parameter", function()
  local p = { threshold = 5000000, kinds = params.kinds, dimension_max = 25 }
  local s = scores(80)
  s.feasibility = 25
  assert(review(covered(), s, p))
  s.feasibility = 26
  local st, v = review(covered(), s, p)
  assert(st == nil and v.reason:find("0 to 25", 1, true), v and v.reason)
  -- 21 is refused under the default of 20
  s.feasibility = 21
  assert(review(covered(), s, p))
  assert(not review(covered(), s, params))
end)
H.check("review_before is a parameter", function()
  local p = { threshold = 5000000, kinds = params.kinds, review_before = { "final_approve" } }
  H.accepted(r2.guard(covered(), approve, p))
  approve_refused(covered(), params, "ex_ante_review")
  local v = r2.guard(covered(), { name = "final_approve", set = {} }, p)
  H.refused(v, "R-2")
  assert(v.reason:find("final_approve", 1, true), v.reason)
  H.accepted(r2.guard(covered(), approve,
    { threshold = 5000000, kinds = params.kinds, review_before = {} }))
end)
H.check("the threshold and kinds apply at approval too", function()
  local p = { threshold = 10000000, kinds = { "expand" } }
  H.accepted(r2.guard(covered(9999999), approve, { threshold = 10000000, kinds = params.kinds }))
  H.accepted(r2.guard(covered(50000000), approve, p))   -- kind "new" not covered
end)

-- Mistakes of the deployment must fail loudly (exit 5), never refuse.
local function raises(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end

H.check("bad parameters are an error of workflow.toml", function()
  local function with(k, v)
    local p = { threshold = 5000000, kinds = params.kinds }
    p[k] = v
    return p
  end
  local cases = {
    { with("conclusion_bands", { support = 60, revise = 80 }), "revise <= support" },
    { with("conclusion_bands", { support = 101, revise = 60 }), "100" },
    { with("conclusion_bands", { support = 80 }), "conclusion_bands.revise" },
    { with("conclusion_bands", { support = 80, revise = 60, reject = 0 }), "only the keys" },
    { with("conclusion_bands", 80), "conclusion_bands" },
    { with("dimension_max", 0), "dimension_max" },
    { with("dimension_max", "20"), "dimension_max" },
    { with("review_before", "finance_approve"), "review_before" },
  }
  for _, c in ipairs(cases) do
    raises(function() r2.guard(covered(), submit, c[1]) end, "workflow.toml parameters")
    raises(function() r2.guard(covered(), approve, c[1]) end, c[2])
    raises(function() r2.react(covered(), review_event(scores(80)), c[1]) end, c[2])
  end
  raises(function() r2.react(covered(), approve, params) end, "ex_ante_review")
end)
H.check("a department-wide record is not a policy or project", function()
  H.accepted(r2.guard(project(90000000, { kind = "continue",
    level = "department" }), submit, params))
  H.refused(r2.guard(project(90000000, { kind = "continue",
    level = "project" }), submit, params), "R-2")
end)
H.done()
