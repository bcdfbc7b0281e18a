package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r3 = H.load("plugins/r3_targets.lua")
local params = { kinds = { "new", "adjust", "expand", "continue", "supplementary", "追加" } }
local submit = { name = "submit", set = {} }

local function leaf(l1, l2, indicator, cmp, value, unit)
  return { level1 = l1, level2 = l2, indicator = indicator, comparator = cmp,
           value = value, unit = unit }
end
-- A fresh well-formed list: one output and one outcome indicator.
local function good()
  return {
    leaf("output", "quantity", "schools renovated", ">=", 12, "schools"),
    leaf("outcome", "social", "pupils in renovated schools", ">=", 3000, "pupils"),
  }
end
-- NONE in `with` removes a key.
local NONE = {}
local function with(changes, i)
  local t = good()
  for k, v in pairs(changes) do
    if v == NONE then v = nil end
    t[i or 1][k] = v
  end
  return t
end
local function find(s, text)
  assert(s:find(text, 1, true), "no '" .. text .. "' in: " .. s)
end
-- The refusal of a submission of `targets`; checks it names `texts`.
local function refused_submit(targets, p, ...)
  local v = r3.guard({ kind = "new", targets = targets }, submit, p or params)
  H.refused(v, "R-3")
  assert(v.rule == "R-3")
  for _, text in ipairs({ ... }) do find(v.reason .. " || " .. v.remedy, text) end
  return v
end
local function errors(fn, text)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  find(tostring(err), text)
end

-- ---- The shape of a submission's targets ----
H.check("no targets is refused, with an example of each required group", function()
  local v = r3.guard({ kind = "new", amount = 1 }, submit, params)
  H.refused(v, "R-3")
  find(v.reason, "no performance targets")
  find(v.remedy, 'level1 = "output", level2 = "quantity"')
  find(v.remedy, 'level1 = "outcome", level2 = "social"')
end)
H.check("an empty target list is refused", function()
  refused_submit({}, nil, "no performance targets")
end)
H.check("well-formed targets pass", function()
  H.accepted(r3.guard({ kind = "new", targets = good() }, submit, params))
end)
H.check("a kind not listed is not checked", function()
  H.accepted(r3.guard({ kind = "new" }, submit, { kinds = { "continue" } }))
end)
H.check("追加 as a kind is covered", function()
  H.refused(r3.guard({ kind = "追加" }, submit, params))
end)
H.check("a target that is not a table", function()
  refused_submit({ "schools", good()[2] }, nil, "target 1 is not a table", "e.g. {")
end)
H.check("a target that is a list", function()
  refused_submit({ { "output", "quantity" }, good()[2] }, nil, "target 1 is a list")
end)
H.check("an unknown key is named (a misspelling)", function()
  local t = good()
  t[2].valeu, t[2].note = 1, "x"
  refused_submit(t, nil, "target 2 (pupils in renovated schools) has the unknown keys note, valeu",
    "takes only level1, level2, indicator, comparator, value and unit")
end)
H.check("no indicator, or an empty one", function()
  refused_submit(with({ indicator = NONE }), nil, "target 1 has no indicator", 'indicator = "')
  refused_submit(with({ indicator = "" }), nil, "target 1 has no indicator")
end)
H.check("level1 missing or unknown", function()
  refused_submit(with({ level1 = NONE }), nil, "target 1 (schools renovated) has no level1",
    "output, outcome, satisfaction", 'level1 = "output"')
  refused_submit(with({ level1 = "impact" }), nil, 'has level1 = "impact"; it must be one of')
end)
H.check("level2 not a group of its level1", function()
  refused_submit(with({ level2 = "social" }), nil,
    'target 1 (schools renovated) has level2 = "social"; the groups of output (产出) are',
    "quantity, quality, timeliness, cost", 'level2 = "quantity"')
  refused_submit(with({ level2 = false }), nil, "has level2 = false")
  refused_submit(with({ level2 = NONE }), nil, "target 1 (schools renovated) has no level2; the groups")
end)
H.check("every national level2 is taken", function()
  for l1, l2s in pairs({ output = { "quantity", "quality", "timeliness", "cost" },
                         outcome = { "economic", "social", "ecological", "sustainable" },
                         satisfaction = { "service" } }) do
    for _, l2 in ipairs(l2s) do
      local t = good()
      t[3] = leaf(l1, l2, "x", ">=", 1, "u")
      H.accepted(r3.guard({ kind = "new", targets = t }, submit, params))
    end
  end
end)
H.check("comparators: >=, <=, =, ≥, ≤ and qualitative; nothing else", function()
  for _, c in ipairs({ ">=", "<=", "=", "≥", "≤" }) do
    H.accepted(r3.guard({ kind = "new", targets = with({ comparator = c }) }, submit, params))
  end
  refused_submit(with({ comparator = ">" }), nil, 'has comparator = ">"; it must be', 'comparator = ">="')
  refused_submit(with({ comparator = NONE }), nil, "target 1 (schools renovated) has no comparator")
end)
H.check("a quantitative value is a number, integer or float", function()
  H.accepted(r3.guard({ kind = "new", targets = with({ value = 0.95 }) }, submit, params))
  H.accepted(r3.guard({ kind = "new", targets = with({ value = 0 }) }, submit, params))
  refused_submit(with({ value = "12" }), nil, 'has value = "12"; with comparator >= the value is a number',
    "value = 12")
  refused_submit(with({ value = false }), nil, "has value = false")
  refused_submit(with({ value = NONE }), nil, "has no value; with comparator >=")
  refused_submit(with({ value = 0 / 0 }), nil, "target 1 (schools renovated) has value")
  refused_submit(with({ value = math.huge }), nil, "target 1 (schools renovated) has value")
end)
H.check("a quantitative target needs a unit", function()
  refused_submit(with({ unit = NONE }), nil, "target 1 (schools renovated) has no unit", "unit = ")
  refused_submit(with({ unit = "" }), nil, "has no unit")
end)
H.check("a qualitative target: a string value, no unit needed", function()
  H.accepted(r3.guard({ kind = "new", targets = with({ comparator = "qualitative",
    value = "up to the provincial standard", unit = NONE }, 2) }, submit, params))
  H.accepted(r3.guard({ kind = "new", targets = with({ comparator = "qualitative",
    value = "good", unit = "grade" }, 2) }, submit, params))
  refused_submit(with({ comparator = "qualitative", value = 3 }, 2), nil,
    "target 2 (pupils in renovated schools) is qualitative and has no value")
  refused_submit(with({ comparator = "qualitative", value = "" }, 2), nil, "is qualitative and has no value")
  refused_submit(with({ comparator = "qualitative", value = "good", unit = 1 }, 2), nil,
    "has a unit that is not a string")
end)
H.check("the first bad target is named by its number", function()
  local t = good()
  t[3] = leaf("output", "cost", "cost per school", "<=", 50000, nil)
  refused_submit(t, nil, "target 3 (cost per school) has no unit")
end)
H.check("each required level-1 group needs a target", function()
  refused_submit({ good()[1] }, nil, "no target is an indicator of outcome (效益)",
    "output, outcome (required_level1)", 'level1 = "outcome"')
  refused_submit({ good()[2] }, nil, "no target is an indicator of output (产出)")
end)
H.check("a bureau adds satisfaction to required_level1", function()
  local p = { kinds = params.kinds, required_level1 = { "output", "outcome", "satisfaction" } }
  refused_submit(good(), p, "no target is an indicator of satisfaction (满意度)",
    'level1 = "satisfaction", level2 = "service"')
  local t = good()
  t[3] = leaf("satisfaction", "service", "parents satisfied", ">=", 90, "%")
  H.accepted(r3.guard({ kind = "new", targets = t }, submit, p))
end)
H.check("a bureau adds a level2 name (and only then is it taken)", function()
  local t = good()
  t[1].level2 = "safety"
  refused_submit(t, nil, 'has level2 = "safety"')
  local p = { kinds = params.kinds, levels = {
    output = { "quantity", "quality", "timeliness", "cost", "safety" },
    outcome = { "economic", "social", "ecological", "sustainable" },
    satisfaction = { "service" } } }
  H.accepted(r3.guard({ kind = "new", targets = t }, submit, p))
end)
H.check("a bureau's own level1 name gets a generic example", function()
  local p = { kinds = params.kinds, required_level1 = { "output", "impact" },
              levels = { output = { "quantity" }, impact = { "regional" } } }
  refused_submit({ good()[1] }, p, "no target is an indicator of impact;",
    'level1 = "impact", level2 = "regional"')
end)

-- ---- 追加: a supplementary request carries its targets ----
H.check("a supplementary request needs its own targets", function()
  local ev = { name = "supplement", set = { supplement_amount = 300000 } }
  local v = r3.guard({ kind = "new", targets = good() }, ev, params)
  H.refused(v, "R-3")
  find(v.reason, "追加")
  find(v.remedy, "--set 'supplement_targets=[{ level1 = \"output\"")
  ev.set.supplement_targets = good()
  H.accepted(r3.guard({ kind = "new", targets = good() }, ev, params))
end)
H.check("a supplementary request's targets are shape-checked", function()
  local ev = { name = "supplement", set = { supplement_amount = 300000,
                                            supplement_targets = { good()[1] } } }
  local v = r3.guard({ kind = "new", targets = good() }, ev, params)
  H.refused(v, "R-3")
  find(v.reason, "no target is an indicator of outcome")
  find(v.remedy, "send supplement_targets")
end)

-- ---- 重点审核 ----
local kparams = { kinds = params.kinds, key_review_amount = 10000000,
                 key_review_before = { "finance_approve" } }
local approve = { name = "finance_approve", set = {} }
H.check("boundary: 9,999,999 needs no key review", function()
  H.accepted(r3.guard({ kind = "new", amount = 9999999, targets = good() }, approve, kparams))
end)
H.check("boundary: 10,000,000 needs the key review (重点审核)", function()
  local v = r3.guard({ kind = "new", amount = 10000000, targets = good() }, approve, kparams)
  H.refused(v, "R-3")
  find(v.reason, "10,000,000")
  find(v.remedy, "key_review")
end)
H.check("a key project needs it whatever its amount", function()
  H.refused(r3.guard({ kind = "new", amount = 1, key_project = true, targets = good() }, approve, kparams))
end)
H.check("the key review recorded lets it pass", function()
  local facts = r3.react({}, { name = "key_review" }, kparams)
  assert(facts.key_reviewed == true)
  H.accepted(r3.guard({ kind = "new", amount = 10000000, targets = good(), facts = facts }, approve, kparams))
end)
H.check("only the listed events need it", function()
  H.accepted(r3.guard({ kind = "new", amount = 20000000, targets = good() }, submit, kparams))
end)

-- ---- adjust (调整): a content change that moves targets ----
local AMOUNT = 1000000
-- The state of an executing project with the adjust's fields `set`
-- applied, and the event with what they were (event.was), as the engine
-- gives them.
local function adjusted(set, extra)
  local state = { kind = "new", amount = AMOUNT, content = "renovate 12 schools",
                  targets = good(), status = "executing" }
  for k, v in pairs(extra or {}) do state[k] = v end
  local was = {}
  for k, v in pairs(set) do
    if state[k] ~= false then was[k] = state[k] end
    state[k] = v
  end
  return state, { name = "adjust", set = set, was = was }
end
local function adjust(set, p, extra)
  local state, ev = adjusted(set, extra)
  return r3.guard(state, ev, p or params)
end
local function refused_adjust(set, ...)
  local v = adjust(set)
  H.refused(v, "R-3")
  assert(v.rule == "R-3")
  for _, text in ipairs({ ... }) do find(v.reason .. " || " .. v.remedy, text) end
  return v
end
local function moved_targets()
  return with({ value = 14 })
end

H.check("react is for the key review only", function()
  local ok, err = pcall(r3.react, {}, { name = "release" }, params)
  assert(not ok and err:find("not on release", 1, true), err)
end)
H.check("boundary: exactly 10 % more needs no new targets", function()
  H.accepted(adjust({ amount = AMOUNT + 100000 }))
  H.accepted(adjust({ amount = AMOUNT - 100000 }))
end)
H.check("boundary: one yuan above 10 % needs new targets", function()
  refused_adjust({ amount = AMOUNT + 100001 }, "from 1,000,000 to 1,100,001 yuan",
    "by 100,001 (10.0 %)", "more than adjust_share 10.0 %", "sets no targets",
    "--set 'targets=[{ level1 = \"output\"")
  refused_adjust({ amount = AMOUNT - 100001 }, "from 1,000,000 to 899,999 yuan")
end)
H.check("above 10 %, with moved targets, passes", function()
  H.accepted(adjust({ amount = AMOUNT + 100001, targets = moved_targets() }))
end)
H.check("the boundary is exact for a share that floats cannot hold", function()
  -- 0.29 of 100 is 28.999999999999996 in floating point.
  local p = { kinds = params.kinds, adjust_share = 0.29 }
  H.accepted(adjust({ amount = AMOUNT + 290000 }, p))
  H.refused(adjust({ amount = AMOUNT + 290001 }, p))
end)
H.check("adjust_share is a parameter", function()
  local p = { kinds = params.kinds, adjust_share = 0.2 }
  H.accepted(adjust({ amount = AMOUNT + 200000 }, p))
  local v = adjust({ amount = AMOUNT + 200001 }, p)
  H.refused(v, "R-3")
  find(v.reason, "more than adjust_share 20.0 %")
end)
H.check("from an amount of 0, any change moves the targets", function()
  local state, ev = adjusted({ amount = 1 }, { amount = 0 })
  local v = r3.guard(state, ev, params)
  H.refused(v, "R-3")
  find(v.reason, "from 0 to 1 yuan, by 1, more than")
end)
H.check("a content change needs new targets", function()
  refused_adjust({ content = "renovate 14 schools" }, "the content (实施内容) changes",
    "sets no targets")
  H.accepted(adjust({ content = "renovate 14 schools", targets = moved_targets() }))
end)
H.check("content set to what it was is no change", function()
  H.accepted(adjust({ content = "renovate 12 schools" }))
end)
H.check("content where there was none is a change", function()
  local v = adjust({ content = "renovate" }, nil, { content = false })
  H.refused(v, "R-3")
end)
H.check("both moved are both named", function()
  refused_adjust({ content = "x", amount = 2 * AMOUNT }, "the content (实施内容) changes; the amount changes")
end)
H.check("the targets sent must differ from the current ones", function()
  refused_adjust({ content = "x", targets = good() }, "the targets sent are the project's current ones",
    "target 1 (schools renovated)")
  -- The same targets in another order, ≥ for >=, 12.0 for 12: the same.
  local t = good()
  t[1], t[2] = t[2], t[1]
  t[2].comparator, t[2].value = "≥", 12.0
  refused_adjust({ content = "x", targets = t }, "current ones")
  -- One added is a change.
  t = good()
  t[3] = leaf("output", "timeliness", "done by September", "qualitative", "on time")
  H.accepted(adjust({ content = "x", targets = t }))
  -- One removed is a change.
  t = good()
  t[3] = leaf("output", "timeliness", "done by September", "qualitative", "on time")
  H.accepted(adjust({ content = "x", targets = { good()[1], good()[2] } }, nil, { targets = t }))
end)
H.check("the targets sent must be well formed, moved or not", function()
  refused_adjust({ targets = with({ level2 = "speed" }) }, "the adjusted targets are not well formed",
    'level2 = "speed"', "send targets with the adjust")
  refused_adjust({ content = "x", targets = { good()[1] } }, "no target is an indicator of outcome")
  refused_adjust({ content = "x", targets = {} }, "no performance targets",
    "--set 'targets=[")
end)
H.check("a title change moves no target", function()
  H.accepted(adjust({ title = "the schools" }))
  H.accepted(adjust({}))
end)
H.check("the adjust check uses the adjust events, not the submission check", function()
  -- adjust needs no key review, and a kind not listed is still checked.
  local p = { kinds = {}, key_review_amount = 1, key_review_before = { "adjust" } }
  H.refused(adjust({ content = "x" }, p))
  H.accepted(adjust({ content = "x", targets = moved_targets() }, p))
  -- Another event name as the adjustment.
  local state, _ = adjusted({ content = "x" })
  local q = { kinds = params.kinds, adjust_events = { "change" } }
  H.refused(r3.guard(state, { name = "change", set = { content = "x" } }, q))
  H.accepted(r3.guard(state, { name = "adjust", set = { content = "x" } }, q))
end)
H.check("after an adjustment, the next is measured from it", function()
  -- 10 % of the adjusted amount, not of the first.
  local base = { amount = 2 * AMOUNT, targets = moved_targets() }
  local _, ev = adjusted({ amount = 2 * AMOUNT + 200000 }, base)
  H.accepted(r3.guard({}, ev, params))
  _, ev = adjusted({ amount = 2 * AMOUNT + 200001 }, base)
  H.refused(r3.guard({}, ev, params))
  -- And the targets to differ from are the adjusted ones.
  _, ev = adjusted({ amount = 3 * AMOUNT, targets = moved_targets() }, base)
  H.refused(r3.guard({}, ev, params))
end)
H.check("a field without a value before the event: any amount is a change", function()
  local v = r3.guard({}, { name = "adjust", set = { amount = 5 }, was = {} }, params)
  H.refused(v, "R-3")
  find(v.reason, "from none to 5 yuan")
end)

-- ---- Parameters: mistakes of the deployment raise ----
H.check("parameter mistakes are errors of workflow.toml", function()
  local function g(p) return r3.guard({ kind = "new", targets = good() }, submit, p) end
  errors(function() g({ adjust_shar = 0.1 }) end,
    "workflow.toml parameters: R-3 has no parameter adjust_shar; it takes adjust_events, adjust_share")
  errors(function() g({ adjust_share = 1.5 }) end, "R-3 adjust_share must be a share from 0 to 1")
  errors(function() g({ adjust_share = "10%" }) end, "adjust_share must be a share")
  errors(function() g({ required_level1 = "output" }) end, "required_level1 must be a list of names")
  errors(function() g({ required_level1 = { "output", "impact" } }) end,
    "required_level1 names impact, which is not a key of levels (output, outcome, satisfaction)")
  errors(function() g({ levels = {} }) end, "levels must be a table of level-1 names")
  errors(function() g({ levels = { output = {} } }) end, "levels.output must be a non-empty list")
  errors(function() g({ levels = { output = "quantity" } }) end, "levels.output must be a non-empty list")
  errors(function() g({ key_review_amount = -1 }) end, "key_review_amount must be a whole number")
  errors(function() g({ key_review_amount = 1.5 }) end, "key_review_amount must be a whole number")
  errors(function() g({ key_review_event = "" }) end, "key_review_event must be an event's name")
  errors(function() g({ kinds = { 1 } }) end, "kinds must be a list of names")
  errors(function() r3.react({}, { name = "release" }, { bogus = 1 }) end, "R-3 has no parameter bogus")
end)
H.check("the repository's workflow.toml parameters are taken", function()
  local p = { kinds = params.kinds, key_review_amount = 10000000,
              key_review_before = { "finance_approve" }, adjust_share = 0.10,
              adjust_events = { "adjust" }, required_level1 = { "output", "outcome" } }
  H.accepted(r3.guard({ kind = "new", targets = good() }, submit, p))
end)
H.done()
