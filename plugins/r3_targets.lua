-- R-3 performance targets (绩效目标管理).
--
-- Every budget request carries performance targets; setting them is a
-- precondition of the budget (前置条件).  A supplementary request during the
-- year (追加) must carry its targets at the same time.  A target is a table
-- with at least an indicator name and a target value.
--
-- Important targets get an in-depth review (重点审核) by the performance
-- section: a project of at least params.key_review_amount yuan, or marked
-- key_project, cannot pass the events listed in params.key_review_before
-- until a key review is recorded.  Attach this plugin as a reaction to the
-- key-review transition: it records the fact key_reviewed.
--
-- params.kinds              project kinds the rule covers
-- params.key_review_amount  yuan, inclusive
-- params.key_review_before  events that need the key review done
local M = { rule = "R-3", title = "performance targets (绩效目标)" }

-- nil if targets is a non-empty list of well-formed targets, else why not.
local function problem(targets)
  if type(targets) ~= "table" or #targets == 0 then
    return "no performance targets are given"
  end
  for i, t in ipairs(targets) do
    if type(t) ~= "table" or type(t.indicator) ~= "string" or t.value == nil then
      return string.format("target %d has no indicator or no value", i)
    end
  end
  return nil
end

local function needs_key_review(state, event, params)
  if not jx.member(params.key_review_before, event.name) then
    return false
  end
  local amount = state.amount
  return state.key_project == true or (params.key_review_amount ~= nil
    and math.type(amount) == "integer" and amount >= params.key_review_amount)
end

function M.react(state, event, params)
  return { key_reviewed = true }
end

function M.guard(state, event, params)
  if needs_key_review(state, event, params)
     and not (state.facts and state.facts.key_reviewed) then
    return {
      reason = string.format("the targets of a project of %s yuan need an "
        .. "in-depth review (重点审核) by the performance section before %s",
        jx.yuan(state.amount), event.name),
      remedy = "the performance section sends key_review first",
    }
  end
  local set = event.set or {}
  local supplementary = set.supplement_amount ~= nil
  local kind = supplementary and "supplementary" or state.kind
  if not jx.member(params.kinds, kind) then
    return true
  end
  local targets = state.targets
  if supplementary then
    targets = set.supplement_targets
  end
  local why = problem(targets)
  if why == nil then
    return true
  end
  if supplementary then
    return {
      reason = "a supplementary request (追加) must carry its performance "
        .. "targets at the same time: " .. why,
      remedy = "send supplement_targets with the request, e.g. "
        .. "--set 'supplement_targets=[{indicator=\"...\", value=...}]'",
    }
  end
  return {
    reason = "targets are a precondition of the budget (前置条件): " .. why,
    remedy = "add [[targets]] tables with indicator and value (and unit) to "
      .. "the project",
  }
end

return M
