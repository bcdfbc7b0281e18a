-- R-3 performance targets (绩效目标管理).
--
-- Every budget request carries performance targets; setting them is a
-- precondition of the budget (前置条件).  A supplementary request during the
-- year (追加) must carry its targets at the same time.  When the project's
-- content changes in a way that moves its targets, the targets are adjusted
-- together.
--
-- Targets are an indicator tree (national rules): level 1 output 产出 /
-- outcome 效益 / satisfaction 满意度, level 2 a group of it (quantity 数量,
-- quality 质量, timeliness 时效, cost 成本; economic, social, ecological,
-- sustainable outcome; service satisfaction), level 3 the concrete
-- indicator.  The field targets is a list of the tree's leaves, each with
-- its path ([[targets]] in TOML):
--   { level1 = "output", level2 = "quantity",
--     indicator = "schools renovated", comparator = ">=", value = 12,
--     unit = "schools" }
--   comparator  ">=", "<=", "=" (also "≥", "≤") with a number as value and
--               a unit; or "qualitative" with a non-empty string as value
--               (a unit may be given)
-- No other key.  A list is well formed when it is not empty, each target
-- is, and each level-1 group of params.required_level1 has a target.
--
-- The guard, on the events listed in params.adjust_events (adjust, 调整):
-- an event that changes the content (field content, 实施内容), or the
-- amount by more than params.adjust_share of the amount before it, must
-- set targets that differ from the targets before it; whatever it sets as
-- targets must be well formed.  The values before the event are
-- event.was (the engine's: each field the event sets, as it was; the
-- guard sees the state with the event's fields already applied).
-- On any other event (submit, finance_approve, supplement):
--   * before the events of params.key_review_before, a project of at
--     least params.key_review_amount yuan, or marked key_project, needs
--     the in-depth review of its targets (重点审核, fact key_reviewed);
--   * a supplementary request (the event sets supplement_amount) needs
--     well-formed supplement_targets if params.kinds has "supplementary";
--   * otherwise a project whose kind is in params.kinds needs well-formed
--     targets.
--
-- The reaction records, on the event params.key_review_event, the fact
-- key_reviewed = true.
--
-- params.levels            level-1 name -> list of its level-2 names
--                          (default the national tree; a bureau may add)
-- params.required_level1   level-1 groups every target list must have a
--                          target in (default output and outcome)
-- params.kinds             project kinds whose targets are checked
-- params.key_review_amount yuan, inclusive (false: by amount never)
-- params.key_review_before events that need the key review done
-- params.key_review_event  the event that records it (default key_review)
-- params.adjust_events     events that adjust an executing project
-- params.adjust_share      a share 0 to 1 (default 0.10): an amount change
--                          up to it (inclusive) needs no new targets
local M = { rule = "R-3", title = "performance targets (绩效目标)" }

local DEFAULTS = {
  levels = {
    output = { "quantity", "quality", "timeliness", "cost" },
    outcome = { "economic", "social", "ecological", "sustainable" },
    satisfaction = { "service" },
  },
  required_level1 = { "output", "outcome" },
  kinds = { "new", "adjust", "expand", "continue", "supplementary", "追加" },
  key_review_amount = false,
  key_review_before = {},
  key_review_event = "key_review",
  adjust_events = { "adjust" },
  adjust_share = 0.10,
}

-- The national names in Chinese, for messages.
local ZH = {
  output = "产出", outcome = "效益", satisfaction = "满意度",
  quantity = "数量", quality = "质量", timeliness = "时效", cost = "成本",
  economic = "经济效益", social = "社会效益", ecological = "生态效益",
  sustainable = "可持续影响", service = "服务对象满意度",
}
-- The national level-1 order, for messages; a bureau's own come after.
local ORDER = { output = 1, outcome = 2, satisfaction = 3 }
-- A sample leaf per national level-1 group, for the remedies' examples.
local SAMPLES = {
  output = { "quantity", "schools renovated", 12, "schools" },
  outcome = { "social", "pupils in renovated schools", 3000, "pupils" },
  satisfaction = { "service", "parents satisfied", 90, "%" },
}
local KEYS = { "level1", "level2", "indicator", "comparator", "value", "unit" }
local KEYS_TEXT = "level1, level2, indicator, comparator, value and unit"

local function bad_param(what)
  error("workflow.toml parameters: R-3 " .. what, 0)
end

local function level1_less(a, b)
  local x, y = ORDER[a] or 99, ORDER[b] or 99
  if x ~= y then return x < y end
  return jx.bytewise_less(a, b)
end

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.
local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-3")
  for _, k in ipairs({ "required_level1", "kinds", "key_review_before",
                       "adjust_events" }) do
    if not jx.string_list(p[k]) then
      bad_param(k .. " must be a list of names, like [\"a\", \"b\"]")
    end
  end
  if type(p.levels) ~= "table" or next(p.levels) == nil then
    bad_param("levels must be a table of level-1 names to lists of level-2 "
      .. "names, like { output = [\"quantity\", \"quality\"], outcome = "
      .. "[\"social\"] }")
  end
  local names = {}
  for k, v in pairs(p.levels) do
    if type(k) ~= "string" or k == "" then
      bad_param("levels has a key that is not a level-1 name")
    end
    if not jx.string_list(v) or #v == 0 then
      bad_param("levels." .. k .. " must be a non-empty list of level-2 "
        .. "names, like [\"quantity\", \"quality\"]")
    end
    names[#names + 1] = k
  end
  table.sort(names, level1_less)
  p.level1_names = names
  for _, l1 in ipairs(p.required_level1) do
    if p.levels[l1] == nil then
      bad_param("required_level1 names " .. l1 .. ", which is not a key of "
        .. "levels (" .. table.concat(names, ", ") .. ")")
    end
  end
  local amount = p.key_review_amount
  if amount ~= false and (math.type(amount) ~= "integer" or amount < 0) then
    bad_param("key_review_amount must be a whole number of yuan, 0 or more "
      .. "(or false: none), not " .. tostring(amount))
  end
  if type(p.key_review_event) ~= "string" or p.key_review_event == "" then
    bad_param("key_review_event must be an event's name")
  end
  local share = p.adjust_share
  if not jx.finite(share) or share < 0 or share > 1 then
    bad_param("adjust_share must be a share from 0 to 1 (0.10 is 10 %), "
      .. "not " .. tostring(share))
  end
  return p
end

local function label(name)
  local zh = ZH[name]
  return zh and string.format("%s (%s)", name, zh) or name
end

local function quoted(s)
  return '"' .. s .. '"'
end

-- An example leaf of level-1 group l1 as an inline TOML table, which a
-- project file and --set both take.
local function sample(l1, p)
  local s = SAMPLES[l1] or { p.levels[l1][1], "the indicator", 1, "the unit" }
  local l2 = jx.member(p.levels[l1], s[1]) and s[1] or p.levels[l1][1]
  return string.format("{ level1 = %s, level2 = %s, indicator = %s, "
    .. "comparator = \">=\", value = %d, unit = %s }", quoted(l1), quoted(l2),
    quoted(s[2]), s[3], quoted(s[4]))
end

-- `field=[...]`: a list with one example leaf per required group.
local function sample_list(field, p)
  local leaves = {}
  for _, l1 in ipairs(p.required_level1) do
    leaves[#leaves + 1] = sample(l1, p)
  end
  if #leaves == 0 then leaves[1] = sample(p.level1_names[1], p) end
  return field .. "=[" .. table.concat(leaves, ", ") .. "]"
end

local function named(i, t)
  if type(t) == "table" and type(t.indicator) == "string"
     and t.indicator ~= "" then
    return string.format("target %d (%s)", i, t.indicator)
  end
  return string.format("target %d", i)
end

-- "target 1 (x) has level2 = \"speed\"", or "... has no level2".
local function has(who, key, v)
  if v == nil then return who .. " has no " .. key end
  return string.format("%s has %s = %s", who, key,
    type(v) == "string" and quoted(v) or tostring(v))
end

local function nonempty(s)
  return type(s) == "string" and s ~= ""
end

-- What is wrong with target t, number i: nil, or a sentence and the fix.
local function leaf_problem(i, t, p)
  local who = named(i, t)
  if type(t) ~= "table" then
    return who .. " is not a table", "make it a table of " .. KEYS_TEXT
      .. ", e.g. " .. sample(p.level1_names[1], p)
  end
  if #t > 0 then
    return who .. " is a list, not a table of " .. KEYS_TEXT,
      "write it as a table, e.g. " .. sample(p.level1_names[1], p)
  end
  local unknown = {}
  for k in sorted_pairs(t) do
    if not jx.member(KEYS, k) then unknown[#unknown + 1] = k end
  end
  if #unknown > 0 then
    return string.format("%s has the unknown key%s %s", who,
        #unknown > 1 and "s" or "", table.concat(unknown, ", ")),
      "a target takes only " .. KEYS_TEXT .. "; remove the others"
  end
  if not nonempty(t.indicator) then
    return who .. " has no indicator (the concrete indicator's name)",
      "give it one, e.g. indicator = \"schools renovated\""
  end
  local groups = type(t.level1) == "string" and p.levels[t.level1]
  if not groups then
    return has(who, "level1", t.level1) .. "; it must be one of "
        .. table.concat(p.level1_names, ", "),
      "set its level1, e.g. level1 = " .. quoted(p.level1_names[1])
  end
  if not jx.member(groups, t.level2) then
    return string.format("%s; the groups of %s are %s",
        has(who, "level2", t.level2), label(t.level1),
        table.concat(groups, ", ")),
      "set its level2, e.g. level2 = " .. quoted(groups[1])
  end
  local cmp = jx.comparator(t.comparator)
  if not cmp then
    return has(who, "comparator", t.comparator)
        .. "; it must be >=, <=, =, ≥, ≤ or qualitative",
      "set its comparator, e.g. comparator = \">=\""
  end
  if cmp == "qualitative" then
    if not nonempty(t.value) then
      return who .. " is qualitative and has no value: its value is the "
          .. "standard to reach, in words",
        "set its value, e.g. value = \"up to the provincial standard\""
    end
    if t.unit ~= nil and type(t.unit) ~= "string" then
      return who .. " has a unit that is not a string",
        "remove its unit or make it a string, e.g. unit = \"grade\""
    end
    return nil
  end
  if not jx.finite(t.value) then
    return string.format("%s; with comparator %s the value is a number",
        has(who, "value", t.value), cmp),
      "set its value to a number, e.g. value = 12"
  end
  if not nonempty(t.unit) then
    return who .. " has no unit; a quantitative target has one",
      "set its unit, e.g. unit = \"schools\""
  end
  return nil
end

-- nil if targets is a well-formed list, else why not and what would fix
-- it; `field` is the field that holds it and `cli` whether it is sent with
-- --set (else written in the project's file).
local function problem(targets, p, field, cli)
  if type(targets) ~= "table" or #targets == 0 then
    local list = sample_list(field, p)
    return "no performance targets are given",
      "give them, e.g. " .. (cli and "--set '" .. list .. "'" or list)
  end
  local seen = {}
  for i, t in ipairs(targets) do
    local why, fix = leaf_problem(i, t, p)
    if why then return why, fix end
    seen[t.level1] = true
  end
  for _, l1 in ipairs(p.required_level1) do
    if not seen[l1] then
      return string.format("no target is an indicator of %s; every project "
          .. "has one in each of %s (required_level1)", label(l1),
          table.concat(p.required_level1, ", ")),
        "add one, e.g. " .. sample(l1, p)
    end
  end
  return nil
end

local function same_target(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for _, k in ipairs(KEYS) do
    if k ~= "comparator" and a[k] ~= b[k] then return false end
  end
  return jx.comparator(a.comparator) == jx.comparator(b.comparator)
end

-- Whether two target lists hold the same targets, in any order.
local function same_targets(a, b)
  if type(a) ~= "table" or type(b) ~= "table" or #a ~= #b then
    return false
  end
  local used = {}
  for _, t in ipairs(a) do
    local found = false
    for j, u in ipairs(b) do
      if not used[j] and same_target(t, u) then
        used[j], found = true, true
        break
      end
    end
    if not found then return false end
  end
  return true
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

-- What an adjustment moves, as sentences: the content, or the amount
-- beyond adjust_share of the amount before it.
local function moved(was, set, p)
  local what = {}
  if set.content ~= nil and set.content ~= (was.content or "") then
    what[#what + 1] = "the content (实施内容) changes"
  end
  local old, new = was.amount, set.amount
  if new ~= nil and new ~= old then
    local delta = old and math.abs(new - old)
    local limit = old and jx.yuan_share(old, p.adjust_share)
    if limit == nil or delta > limit then
      what[#what + 1] = string.format("the amount changes from %s to %s "
        .. "yuan, by %s%s, more than adjust_share %s of it",
        old and jx.yuan(old) or "none", jx.yuan(new),
        delta and jx.yuan(delta) or "all",
        old and old > 0 and " (" .. jx.percent(delta / old) .. ")" or "",
        jx.percent(p.adjust_share))
    end
  end
  return what
end

local function adjust_guard(state, event, p)
  local set = event.set or {}
  if set.targets ~= nil then
    local why, fix = problem(set.targets, p, "targets", true)
    if why then
      return refuse("the adjusted targets are not well formed: " .. why,
        "send targets with the " .. event.name .. ": " .. fix)
    end
  end
  local was = event.was or {}
  local what = moved(was, set, p)
  if #what == 0 then return true end
  local because = "a change of content that moves targets needs adjusted "
    .. "targets with it: " .. table.concat(what, "; ")
  if set.targets == nil then
    return refuse(because .. "; the " .. event.name .. " sets no targets",
      "send the adjusted targets with the same event, e.g. --set '"
        .. sample_list("targets", p) .. "'")
  end
  local before = was.targets
  if before ~= nil and same_targets(set.targets, before) then
    return refuse(because .. "; the targets sent are the project's "
        .. "current ones",
      "adjust the targets the change moves: a value, an indicator, or one "
        .. "added or removed, e.g. a new value for " .. named(1, before[1]))
  end
  return true
end

local function needs_key_review(state, event, p)
  if not jx.member(p.key_review_before, event.name) then
    return false
  end
  local amount = state.amount
  return state.key_project == true or (p.key_review_amount ~= false
    and math.type(amount) == "integer" and amount >= p.key_review_amount)
end

function M.react(state, event, params)
  local p = check_params(params)
  if event.name ~= p.key_review_event then
    error("R-3 is a reaction on " .. p.key_review_event .. " only, not on "
      .. tostring(event.name), 0)
  end
  return { key_reviewed = true }
end

function M.guard(state, event, params)
  local p = check_params(params)
  if jx.member(p.adjust_events, event.name) then
    return adjust_guard(state, event, p)
  end
  if needs_key_review(state, event, p)
     and not (state.facts and state.facts.key_reviewed) then
    return refuse(string.format("the targets of a project of %s yuan need "
        .. "an in-depth review (重点审核) by the performance section before "
        .. "%s", jx.yuan(state.amount), event.name),
      "the performance section sends " .. p.key_review_event .. " first")
  end
  local set = event.set or {}
  if set.supplement_amount ~= nil then
    if not jx.member(p.kinds, "supplementary") then return true end
    local why, fix = problem(set.supplement_targets, p, "supplement_targets",
      true)
    if why == nil then return true end
    return refuse("a supplementary request (追加) must carry its performance "
        .. "targets at the same time: " .. why,
      "send supplement_targets with the request: " .. fix)
  end
  if not jx.member(p.kinds, state.kind) then
    return true
  end
  local why, fix = problem(state.targets, p, "targets", false)
  if why == nil then return true end
  return refuse("targets are a precondition of the budget (前置条件): " .. why,
    "in the project's targets ([[targets]] tables in its file): " .. fix)
end

return M
