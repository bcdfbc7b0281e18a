-- R-2 ex-ante performance assessment (事前绩效评估).
--
-- A new major policy or project, an adjustment or expansion of one, or the
-- continuation of an expiring one, whose funding is at least
-- params.threshold yuan (500万元, inclusive), must carry an ex-ante
-- assessment report; without it the project cannot apply.  Where the
-- assessment's conclusion is recorded, only "support" (予以支持) lets the
-- application go on.
--
-- params.threshold  yuan, inclusive
-- params.kinds      project kinds the rule covers
local M = { rule = "R-2", title = "ex-ante performance assessment (事前绩效评估)" }

-- A supplementary request (追加) carries its own amount in the event.
local function request(state, event)
  local set = event.set or {}
  if set.supplement_amount then
    return "supplementary", set.supplement_amount
  end
  return state.kind, state.amount
end

function M.guard(state, event, params)
  local kind, amount = request(state, event)
  if not jx.member(params.kinds, kind) then
    return true
  end
  -- The workflow's [fields] make amounts integers; anything else is not
  -- waved through.
  if math.type(amount) ~= "integer" then
    return {
      reason = "the requested amount is not a whole number of yuan",
      remedy = "give the amount as an integer number of yuan",
    }
  end
  if amount < params.threshold then
    return true
  end
  local report = state.ex_ante_report
  if type(report) ~= "string" or report == "" then
    return {
      reason = string.format(
        "a %s project of %s yuan needs an ex-ante performance assessment "
        .. "report (threshold %s yuan, inclusive); none is attached",
        kind, jx.yuan(amount), jx.yuan(params.threshold)),
      remedy = "attach the assessment as ex_ante_report (and its conclusion "
        .. "as ex_ante_conclusion), or request less than "
        .. jx.yuan(params.threshold) .. " yuan",
    }
  end
  local conclusion = state.ex_ante_conclusion
  if conclusion ~= nil and conclusion ~= "support" and conclusion ~= "予以支持" then
    return {
      reason = string.format("the ex-ante assessment concluded \"%s\"; only "
        .. "\"support\" (予以支持) lets the application go on", tostring(conclusion)),
      remedy = "revise the project and its assessment until it concludes support",
    }
  end
  return true
end

return M
