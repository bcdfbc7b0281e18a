-- R-5 year-end recovery (盘活收回).
--
-- Before the end of November the finance bureau recovers, in principle,
-- the funds of projects whose problems were not effectively corrected, of
-- projects unlikely to reach their targets by the year's end, and the part
-- of spending that is slower than schedule (慢于序时进度部分).  A project
-- whose funds were recovered and that must continue is funded from next
-- year's budget (在下年度部门预算支出中调剂解决).
--
-- On recovery_check (a calendar timer, 30 November, to projects executing,
-- flagged, suspended or reduced; listed as a reaction): react proposes the
-- amount to recover from the project's data and its last monitoring
-- report (R-4's facts), and records it.  It refuses nothing: the proposal
-- is the finance budget section's to confirm.
-- On recover (the budget section's event, listed as guard and optionally
-- as reaction):
--   guard  refuses a recover that sets no recovered_amount, one larger
--          than the allocation, and one that differs from the proposed
--          recovery_amount (or comes with no proposal, before any
--          recovery_check) unless the event also sets a recovery_note
--          saying why;
--   react  records recovery_to_next_year again from the amount actually
--          recovered and must_continue as it stands after the event.
-- On any other event the plugin is misconfigured and raises an error.
--
-- The formula (amounts in yuan; `floor` is jx.floor_yuan: the value is
-- computed in floating point, rounded to 0.0001 yuan, then rounded DOWN
-- to the whole yuan, so float noise never costs or gives a yuan):
--   allocated     = max(0, amount - reduced_by)   (reduced_by 0 if absent)
--   time_progress = jx.year_progress(date, year): day of the year / days
--                   of the year at the end of the recovery_check's date
--                   (30 November 2021: 334/365), unrounded; 1 after the
--                   project's budget year, 0 before it
--   rate          = the execution rate of the last monitoring report:
--                   spent / allocated of the report's data (the field
--                   monitoring, unrounded) when they agree with the fact
--                   execution_rate R-4 recorded from them (to 1e-9), else
--                   that fact; 0 when there was no report (no fact)
--   uncorrected   = status suspended, or status flagged with
--                   facts.monitoring_warning == "red"
--   recovery_amount
--     uncorrected:  floor(allocated * max(0, 1 - rate))
--                   (the whole unspent allocation)
--     otherwise:    floor(allocated * max(0, time_progress - rate
--                   - tolerance))   (the part slower than schedule)
-- So spending exactly on schedule recovers 0 and one yuan behind it
-- recovers 1: on 30 November 2021, 334,000 of 365,000 yuan spent is on
-- schedule, 333,999 recovers 1 and 329,001 recovers 4,999.  (Taking the
-- rate from the rounded fact would make that 4,998: 365,000 *
-- (334/365 - 0.901372603) is 4,998.999905.)
--
-- Facts recorded on recovery_check (shares are floats):
--   recovery_amount          integer yuan, 0 or more, at most allocated
--   recovery_reason          why, one of
--     "uncorrected_suspended"    still suspended (暂缓) at the check
--     "uncorrected_red_warning"  flagged, last monitoring warning red
--     "slower_than_schedule"     spending behind the time progress by more
--                                than the tolerance
--     "on_schedule"              not a whole yuan behind schedule beyond
--                                the tolerance
--     "no_monitoring_report"     neither of the first two, and no
--                                monitoring report to show any spending:
--                                the rate is taken as 0
--   recovery_to_next_year    true when must_continue is true and
--                            recovery_amount > 0: next year's budget
--                            funds the project's continuation
--   recovery_date            "2021-11-30": the (UTC) date of the check
--   recovery_allocated       the allocation, integer yuan
--   recovery_time_progress   time_progress above, rounded to 1e-9
--   recovery_execution_rate  the rate used, rounded to 1e-9 (0.0 with no
--                            report)
--   recovery_checkpoint      facts.monitoring_checkpoint of the report the
--                            rate comes from, or "none"
-- Facts recorded on recover (as a reaction): recovery_to_next_year, true
-- when must_continue is true and recovered_amount > 0.
--
-- Fields read: amount (integer yuan), reduced_by (integer yuan, absent if
-- not reduced), year, status, must_continue (boolean), recovered_amount
-- and recovery_note (set by recover), facts.
--
-- The report (`jx report recovery`: this file registered a second time,
-- as [[plugin]] name = "recovery", so that it reads the facts with the
-- code that writes them) lists every project the 30 November check
-- proposed a recovery for or whose funds were recovered, by department
-- (bytewise) and project id: the proposal (fact recovery_amount, its
-- reason and date), the amount recovered (field recovered_amount, once
-- the recover event has been sent), and whether next year's budget funds
-- its continuation: must_continue and an amount recovered (or, not yet
-- recovered, proposed) above 0.  A total row follows each department's
-- projects and a grand total ends the list; projects never checked nor
-- recovered are only counted in a note.
--
-- params.tolerance  a share 0 to 1 (default 0.0): how far spending may lag
--                   the time progress before the lag is recovered; it
--                   does not apply to uncorrected projects.  The report
--                   takes no parameter but this one and does not use it.
local M = { rule = "R-5", title = "year-end recovery (盘活收回)" }

local DEFAULTS = { tolerance = 0.0 }

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.
local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-5")
  if not jx.finite(p.tolerance) or p.tolerance < 0 or p.tolerance > 1 then
    error("workflow.toml parameters: R-5 tolerance must be a share from 0 "
      .. "to 1 (0.05 is 5 %), not " .. tostring(p.tolerance), 0)
  end
  return p
end

-- A number of whole yuan as an integer, or nil (math.tointeger alone
-- would take the string "100").
local function whole(x)
  return type(x) == "number" and math.tointeger(x) or nil
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

-- The project's allocation for the year: amount less any reduction (调减).
-- Raises when the data cannot be read: amount is a required integer field,
-- reduced_by an integer one, so the engine has checked both already.
local function allocation(state)
  local amount = whole(state.amount)
  if amount == nil then
    error("R-5: the project's amount is not a whole number of yuan: "
      .. tostring(state.amount), 0)
  end
  local reduced = 0
  if state.reduced_by ~= nil then
    reduced = whole(state.reduced_by)
    if reduced == nil then
      error("R-5: the project's reduced_by is not a whole number of yuan: "
        .. tostring(state.reduced_by), 0)
    end
  end
  return math.max(0, amount - reduced), amount, reduced
end

local function floor_yuan(x)
  local n, why = jx.floor_yuan(x)
  if n == nil then error("R-5: " .. why, 0) end
  return n
end

-- The execution rate of the last report, unrounded where its data allow,
-- and the report's checkpoint; 0.0 and "none" when there was no report.
local function execution_rate(state)
  local facts = state.facts or {}
  local fact = facts.execution_rate
  if not jx.finite(fact) then return 0.0, "none" end
  local checkpoint = tostring(facts.monitoring_checkpoint or "unknown")
  local m = state.monitoring
  if type(m) == "table" and jx.finite(m.allocated) and m.allocated > 0
     and jx.finite(m.spent) and m.spent >= 0
     and jx.share(m.spent / m.allocated) == fact then
    return m.spent / m.allocated, checkpoint
  end
  return fact + 0.0, checkpoint
end

local function propose(state, event, p)
  local facts = state.facts or {}
  local allocated = allocation(state)
  local d = jx.date(event.time)
  local date = string.format("%04d-%02d-%02d", d.year, d.month, d.day)
  local tp = jx.year_progress(event.time, state.year)
  local rate, checkpoint = execution_rate(state)
  local amount, reason
  if state.status == "suspended"
     or (state.status == "flagged" and facts.monitoring_warning == "red") then
    amount = floor_yuan(allocated * math.max(0, 1 - rate))
    reason = state.status == "suspended" and "uncorrected_suspended"
      or "uncorrected_red_warning"
  else
    amount = floor_yuan(allocated * math.max(0, tp - rate - p.tolerance))
    if checkpoint == "none" then
      reason = "no_monitoring_report"
    elseif amount > 0 then
      reason = "slower_than_schedule"
    else
      reason = "on_schedule"
    end
  end
  return {
    recovery_amount = amount,
    recovery_reason = reason,
    recovery_to_next_year = state.must_continue == true and amount > 0,
    recovery_date = date,
    recovery_allocated = allocated,
    recovery_time_progress = jx.share(tp) + 0.0,
    recovery_execution_rate = jx.share(rate) + 0.0,
    recovery_checkpoint = checkpoint,
  }
end

local function has_text(s)
  return type(s) == "string" and s:find("%S") ~= nil
end

local REASONS = {
  uncorrected_suspended = "the project was still suspended (暂缓): its "
    .. "whole unspent allocation",
  uncorrected_red_warning = "the project was flagged with a red warning "
    .. "not corrected: its whole unspent allocation",
  slower_than_schedule = "the part of spending slower than schedule "
    .. "(慢于序时进度部分)",
  on_schedule = "spending was on schedule: nothing",
  no_monitoring_report = "no monitoring report showed any spending: the "
    .. "part slower than schedule, counting nothing as spent",
}

local function check_recover(state, event)
  local set = event.set or {}
  local facts = state.facts or {}
  local allocated, amount, reduced = allocation(state)
  local got = set.recovered_amount
  if got == nil then
    return refuse("a recovery (收回) must say how much is recovered, and the "
      .. "event sets no recovered_amount",
      "send the amount with the event: --set recovered_amount=YUAN"
      .. (whole(facts.recovery_amount)
          and " (the year-end check proposed "
            .. jx.yuan(facts.recovery_amount) .. ")" or ""))
  end
  local n = whole(got)
  if n == nil or n < 0 then
    return refuse("recovered_amount must be a whole number of yuan, 0 or "
      .. "more (it is " .. (type(got) == "string"
        and string.format("%q", got) or tostring(got)) .. ")",
      "send --set recovered_amount=YUAN")
  end
  if n > allocated then
    local of = "the project's allocation of " .. jx.yuan(allocated)
      .. " yuan"
    if reduced > 0 then
      of = of .. " (amount " .. jx.yuan(amount) .. " less "
        .. jx.yuan(reduced) .. " reduced, 调减)"
    end
    return refuse(string.format("recovered_amount %s yuan is more than %s: "
      .. "only funds allocated to the project can be recovered",
      jx.yuan(n), of),
      "recover at most " .. jx.yuan(allocated) .. " yuan"
      .. (whole(facts.recovery_amount)
          and "; the year-end check proposed "
            .. jx.yuan(facts.recovery_amount) or ""))
  end
  local proposed = whole(facts.recovery_amount)
  if proposed == n or has_text(set.recovery_note) then
    return true
  end
  if proposed == nil then
    return refuse(string.format("no year-end recovery check "
      .. "(recovery_check) has proposed an amount for this project, so the "
      .. "recovered_amount %s yuan rests on nothing the history shows",
      jx.yuan(n)),
      "say with the recovery what the amount rests on: --set "
      .. "recovery_note=\"...\"")
  end
  return refuse(string.format("recovered_amount %s yuan differs from the "
    .. "%s yuan the year-end check of %s proposed (%s; allocation %s, time "
    .. "progress %s, execution rate %s)", jx.yuan(n), jx.yuan(proposed),
    tostring(facts.recovery_date), REASONS[facts.recovery_reason]
      or tostring(facts.recovery_reason),
    jx.yuan(whole(facts.recovery_allocated) or allocated),
    jx.finite(facts.recovery_time_progress)
      and jx.percent(facts.recovery_time_progress, 4) or "?",
    jx.finite(facts.recovery_execution_rate)
      and jx.percent(facts.recovery_execution_rate, 4) or "?"),
    "recover the proposed amount (--set recovered_amount=" .. proposed
      .. "), or keep " .. n .. " and say why with the event: --set "
      .. "recovery_note=\"...\"")
end

function M.guard(state, event, params)
  check_params(params or {})
  if event.name == "recover" then
    return check_recover(state, event)
  end
  error("R-5 is a guard on recover only, not on " .. tostring(event.name), 0)
end

function M.react(state, event, params)
  local p = check_params(params or {})
  if event.name == "recovery_check" then
    return propose(state, event, p)
  elseif event.name == "recover" then
    local n = whole(state.recovered_amount) or 0
    return { recovery_to_next_year = state.must_continue == true and n > 0 }
  end
  error("R-5 is a reaction on recovery_check and recover only, not on "
    .. tostring(event.name), 0)
end

-- ---- The report: jx report recovery ----

local NEXT_YEAR = "funded from next year's budget"

local function total_row(label, t)
  return { label, "(total)", "", jx.yuan(t.proposed), "",
           jx.yuan(t.recovered), t.next_year > 0
             and string.format("%d project%s, %s yuan", t.next_year,
               t.next_year == 1 and "" or "s", jx.yuan(t.next_year_amount))
             or "" }
end

local function add(t, proposed, recovered, next_year, amount)
  t.proposed = t.proposed + (proposed or 0)
  t.recovered = t.recovered + (recovered or 0)
  if next_year then
    t.next_year = t.next_year + 1
    t.next_year_amount = t.next_year_amount + amount
  end
end

local function tally()
  return { proposed = 0, recovered = 0, next_year = 0, next_year_amount = 0 }
end

function M.report(projects, params)
  check_params(params or {})
  local list, unchecked, nothing = {}, 0, 0
  for _, project in ipairs(projects) do
    local facts = type(project.facts) == "table" and project.facts or {}
    local proposed = whole(facts.recovery_amount)
    local recovered = whole(project.recovered_amount)
    if project.level == "department" then
      -- A department's whole budget is not checked: its projects are.
    elseif proposed == nil and recovered == nil then
      unchecked = unchecked + 1
    elseif proposed == 0 and recovered == nil then
      nothing = nothing + 1
    else
      list[#list + 1] = { p = project, facts = facts, proposed = proposed,
                          recovered = recovered }
    end
  end
  table.sort(list, function(a, b)
    local da, db = tostring(a.p.department), tostring(b.p.department)
    if da ~= db then return jx.bytewise_less(da, db) end
    return jx.bytewise_less(tostring(a.p.id), tostring(b.p.id))
  end)
  local rows, all, dept, current = {}, tally(), nil, nil
  for _, e in ipairs(list) do
    local d = tostring(e.p.department)
    if d ~= current then
      if dept then rows[#rows + 1] = total_row(current, dept) end
      current, dept = d, tally()
    end
    -- What next year funds: the amount recovered, or, before the
    -- recovery, the amount proposed.
    local amount = e.recovered or e.proposed
    local next_year = e.p.must_continue == true and amount > 0
    add(dept, e.proposed, e.recovered, next_year, amount)
    add(all, e.proposed, e.recovered, next_year, amount)
    local reason = ""
    if e.proposed then
      reason = tostring(e.facts.recovery_reason) .. " ("
        .. tostring(e.facts.recovery_date) .. ")"
    end
    rows[#rows + 1] = {
      d, tostring(e.p.id), tostring(e.p.status),
      e.proposed and jx.yuan(e.proposed) or "not checked", reason,
      e.recovered and jx.yuan(e.recovered) or "not yet",
      next_year and NEXT_YEAR or "",
    }
  end
  if dept then rows[#rows + 1] = total_row(current, dept) end
  if #list > 0 then rows[#rows + 1] = total_row("all departments", all) end
  local notes = {}
  if #list == 0 then
    notes[#notes + 1] = "No project has been through the year-end check "
      .. "(recovery_check) or had funds recovered."
  end
  notes[#notes + 1] = "Proposed: what the year-end check (R-5, before the "
    .. "end of November) found to recover; recovered: what the budget "
    .. "section recovered (recover). Reasons: "
    .. "uncorrected_suspended, uncorrected_red_warning (the whole unspent "
    .. "allocation), slower_than_schedule (the part slower than schedule, "
    .. "慢于序时进度部分), on_schedule, no_monitoring_report."
  notes[#notes + 1] = "A project that must continue (must_continue) and "
    .. "whose funds are recovered is funded from next year's budget "
    .. "(在下年度部门预算支出中调剂解决); a total row counts those projects "
    .. "and the amount."
  if nothing > 0 then
    notes[#notes + 1] = string.format("%d project%s checked with nothing to "
      .. "recover, not listed.", nothing, nothing == 1 and "" or "s")
  end
  if unchecked > 0 then
    notes[#notes + 1] = string.format("%d project%s neither checked nor "
      .. "recovered, not listed.", unchecked, unchecked == 1 and "" or "s")
  end
  return {
    title = "Year-end recovery (R-5, 盘活收回)",
    columns = { "department", "project", "status", "proposed (yuan)",
                "reason (check date)", "recovered (yuan)", "next year" },
    rows = rows,
    notes = notes,
  }
end

return M
