-- R-4 performance monitoring (绩效运行监控).
--
-- Departments monitor the spending of every project; the plan sets two
-- centralised checkpoints, the first half-year and the first three
-- quarters.  Monitoring is "double": budget execution progress (预算执行进度)
-- and target achievement (绩效目标实现程度), both measured against the time
-- progress of the budget year (序时进度).  Where monitoring shows deviation
-- from the targets or progress slower than schedule, the department
-- promptly suspends the project (暂缓) or applies to reduce its budget
-- (调减); local practice shows yellow and red warnings.
--
-- On report_monitoring (executing -> executing, sent by the department;
-- listed as guard and as reaction):
--   guard  refuses when the event sets no monitoring data, or data that
--          cannot be scored, naming the field at fault;
--   react  records the facts below, all of them at every report (facts are
--          merged key by key, so none is left over from the last
--          checkpoint).
-- On resume (guard; flagged or suspended -> executing): while the last
-- report's monitoring_warning is red, the project goes back to executing
-- only with a corrective note, a monitoring_note sent with the resume
-- saying what was corrected (a note left by the flag event does not count).
-- A project with no report, or a last warning of yellow or none, resumes
-- freely.
-- On checkpoint (the calendar's, as a reaction): records monitoring_due,
-- the checkpoint's date: a report is now owed.
-- On suspend, reduce and resume (as a reaction): records
-- monitoring_response = { event, date }: the department acted on the
-- warning.
-- On monitoring_followup (the calendar's, some days after a checkpoint;
-- as a reaction):
--   a report owed since monitoring_due and not sent (no report dated on or
--   after it) is flagged: monitoring_missing = that date;
--   otherwise a yellow or red warning the department has not acted on
--   (no monitoring_response dated on or after the report) for at least
--   params.respond_days days escalates: yellow becomes red, and red goes
--   to the finance bureau (monitoring_escalated = { from, to, date }, to
--   "red" or "finance").
-- On any other event the plugin is misconfigured and raises an error.
--
-- The project's field monitoring (a table), set by report_monitoring:
--   allocated   = yuan, greater than 0: the project's funds for the year
--   spent       = yuan, 0 or more: spent by the checkpoint
--   indicators  = { { indicator = "schools renovated", target = 12,
--                     actual_to_date = 5, unit = "schools" }, ... }
--     at least one; target greater than 0, actual_to_date 0 or more, both
--     in the indicator's unit: a quantity that accumulates towards the
--     year's target.  comparator may be left out or be ">=" / "≥"; an
--     indicator to stay below ("<=", a cost) or a qualitative one has no
--     progress through the year and is not reported here.
--   Other keys (a projected carry-over 预计结转结余, say) are kept, not read.
--
-- Facts recorded on report_monitoring (shares are fractions, 0.5 is 50 %,
-- rounded to 1e-9, and every comparison is made on the rounded value, so
-- the stored facts always explain the warning):
--   monitoring_checkpoint  "2021-06-30": the (UTC) date of event.time
--   time_progress       序时进度: the share of the budget year elapsed at the
--                       end of that day, day of year / days of the year
--                       (jx.time_progress).  The budget year is the
--                       project's year field; a report dated after that
--                       year has 1, one dated before it 0.
--   execution_rate      spent / allocated (above 1 if overspent)
--   execution_gap       time_progress - execution_rate; positive is slower
--                       than schedule
--   execution_warning   "red" if execution_gap > red_gap, else "yellow" if
--                       > yellow_gap, else "none" (a gap equal to a line is
--                       not above it)
--   indicator_progress  { { indicator, progress = actual_to_date / target,
--                       deviating }, ... } in the order reported; an
--                       indicator deviates when time_progress - progress >
--                       indicator_tolerance
--   target_deviation    the share of the indicators that deviate
--   target_warning      "red" if target_deviation > red_deviation, else
--                       "yellow" if > yellow_deviation, else "none"
--   monitoring_warning  the worse of execution_warning and target_warning
--
-- params.yellow_gap           execution gap above which the warning is
--                             yellow (default 0.10)
-- params.red_gap              ... red (default 0.25)
-- params.indicator_tolerance  how far an indicator's progress may lag the
--                             time progress (default 0.10)
-- params.yellow_deviation     share of deviating indicators above which
--                             the warning is yellow (default 0.10)
-- params.red_deviation        ... red (default 0.25)
-- Each a number 0 or more, yellow <= red.
-- params.respond_days         days the department has after a warning to
--                             suspend, reduce or correct (default 15)
local M = { rule = "R-4", title = "performance monitoring (绩效运行监控)" }

local DEFAULTS = {
  yellow_gap = 0.10, red_gap = 0.25, indicator_tolerance = 0.10,
  yellow_deviation = 0.10, red_deviation = 0.25, respond_days = 15,
}
-- The parameters, in the order they are checked and documented.
local PARAMS = {
  "yellow_gap", "red_gap", "indicator_tolerance", "yellow_deviation",
  "red_deviation", "respond_days",
}
local LEVELS = { none = 0, yellow = 1, red = 2 }

local EXAMPLE = "--set 'monitoring={allocated=1000000, spent=420000, "
  .. "indicators=[{indicator=\"schools renovated\", target=12, "
  .. "actual_to_date=5, unit=\"schools\"}]}'"

-- To 1e-9: a decimal parameter such as 0.1 is the very double a share
-- rounded to it becomes, so "exactly at the line" is exact.
local function round9(x)
  return math.floor(x * 1e9 + 0.5) / 1e9
end

-- Parameters are the bureau's, not the sender's: a mistake there is an
-- error of the deployment (exit 5), never a refusal.
local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-4")
  for _, k in ipairs(PARAMS) do
    if not jx.finite(p[k]) or p[k] < 0 then
      error("workflow.toml parameters: " .. k .. " must be a number 0 or "
        .. "more (a share: 0.1 is 10 %)", 0)
    end
  end
  if p.yellow_gap > p.red_gap then
    error("workflow.toml parameters: yellow_gap must not be above red_gap", 0)
  end
  if p.yellow_deviation > p.red_deviation then
    error("workflow.toml parameters: yellow_deviation must not be above "
      .. "red_deviation", 0)
  end
  return p
end

-- A value as a refusal shows it, without a table's address.
local function shown(v)
  if v == nil then return "missing" end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then return "a table" end
  return tostring(v)
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

local function level(value, yellow, red)
  if value > red then return "red" end
  if value > yellow then return "yellow" end
  return "none"
end

-- nil if the monitoring data can be scored, else why not and the field.
local function problem(m)
  if type(m) ~= "table" then
    return "monitoring is not a table", "monitoring"
  end
  if not jx.finite(m.allocated) or m.allocated <= 0 then
    return "monitoring.allocated must be a number of yuan greater than 0 "
      .. "(it is " .. shown(m.allocated) .. ")", "monitoring.allocated"
  end
  if not jx.finite(m.spent) or m.spent < 0 then
    return "monitoring.spent must be a number of yuan, 0 or more (it is "
      .. shown(m.spent) .. ")", "monitoring.spent"
  end
  local list = m.indicators
  if type(list) ~= "table" or #list == 0 then
    return "monitoring.indicators is missing or empty: monitoring covers "
      .. "target achievement as well as spending (双监控), so at least one "
      .. "indicator with its target and actual_to_date is needed",
      "monitoring.indicators"
  end
  for k, ind in ipairs(list) do
    local where = string.format("monitoring.indicators[%d]", k)
    if type(ind) ~= "table" then
      return where .. " is not a table", where
    end
    if type(ind.indicator) ~= "string" or not ind.indicator:find("%S") then
      return where .. " has no indicator name", where
    end
    local named = where .. " (" .. ind.indicator .. ")"
    local cmp = ind.comparator
    if cmp ~= nil and cmp ~= ">=" and cmp ~= "≥" then
      return named .. " has comparator " .. shown(cmp) .. "; only "
        .. "indicators that accumulate towards their target (>=) have a "
        .. "progress to monitor", where
    end
    if not jx.finite(ind.target) or ind.target <= 0 then
      return named .. " has no numeric target greater than 0", where
    end
    if not jx.finite(ind.actual_to_date) or ind.actual_to_date < 0 then
      return named .. " has no actual_to_date, a number 0 or more", where
    end
  end
  return nil
end

-- The time progress of the project's budget year at the event's date.
local function time_progress(state, event)
  local d = jx.date(event.time)
  local checkpoint = string.format("%04d-%02d-%02d", d.year, d.month, d.day)
  local year = state.year
  if math.type(year) == "integer" then
    if d.year > year then return 1.0, checkpoint end
    if d.year < year then return 0.0, checkpoint end
  end
  return jx.time_progress(event.time), checkpoint
end

local function check_report(state, event)
  local set = event.set or {}
  if set.monitoring == nil then
    return refuse("a monitoring report (report_monitoring) must carry this "
      .. "checkpoint's data, and the event sets no monitoring",
      "send the data with the event: " .. EXAMPLE)
  end
  local why, field = problem(state.monitoring)
  if why then
    return refuse("the monitoring data cannot be scored: " .. why,
      "correct " .. field .. "; the shape is " .. EXAMPLE)
  end
  return true
end

local function red_detail(facts)
  local parts = {}
  if facts.execution_warning == "red" then
    parts[#parts + 1] = string.format("budget execution %s against a time "
      .. "progress of %s", jx.percent(facts.execution_rate or 0),
      jx.percent(facts.time_progress or 0))
  end
  if facts.target_warning == "red" then
    parts[#parts + 1] = string.format("%s of the indicators behind "
      .. "schedule", jx.percent(facts.target_deviation or 0))
  end
  if #parts == 0 then return "" end
  return " (" .. table.concat(parts, "; ") .. ")"
end

local function check_resume(state, event)
  local facts = state.facts or {}
  if facts.monitoring_warning ~= "red" then
    return true
  end
  local note = (event.set or {}).monitoring_note
  if type(note) == "string" and note:find("%S") then
    return true
  end
  return refuse(string.format("the monitoring of %s gave a red warning%s; "
    .. "the project goes back to executing only once the deviation is "
    .. "corrected, and no corrective note was given",
    tostring(facts.monitoring_checkpoint), red_detail(facts)),
    "say with the resume what was corrected: --set monitoring_note=\"...\"; "
    .. "otherwise suspend the project (暂缓, event suspend) or reduce its "
    .. "budget (调减, event reduce)")
end

function M.guard(state, event, params)
  check_params(params or {})
  if event.name == "report_monitoring" then
    return check_report(state, event)
  elseif event.name == "resume" then
    return check_resume(state, event)
  end
  error("R-4 is a guard on report_monitoring and resume only, not on "
    .. tostring(event.name), 0)
end

local RESPONSES = { suspend = true, reduce = true, resume = true }

-- Days from ISO date a to ISO date b (b later), across a year's end too.
local function days_between(a, b)
  local ya, yb = jx.date(a).year, jx.date(b).year
  local n = jx.day_of_year(b) - jx.day_of_year(a)
  for y = ya, yb - 1 do n = n + jx.days_in_year(y) end
  return n
end

local function followup(state, event, p)
  local facts = state.facts or {}
  local today = event.time:sub(1, 10)
  local due, reported = facts.monitoring_due, facts.monitoring_checkpoint
  if due ~= nil and (reported == nil or reported < due) then
    return { monitoring_missing = due }
  end
  local warning = facts.monitoring_warning
  if warning ~= "yellow" and warning ~= "red" then return {} end
  local response = facts.monitoring_response
  if response ~= nil and response.date >= reported then return {} end
  if days_between(reported, today) < p.respond_days then return {} end
  local to = warning == "yellow" and "red" or "finance"
  return {
    monitoring_warning = "red",
    monitoring_escalated = { from = warning, to = to, date = today },
  }
end

function M.react(state, event, params)
  local p = check_params(params or {})
  local day = event.time:sub(1, 10)
  if event.name == "checkpoint" then
    return { monitoring_due = day }
  elseif RESPONSES[event.name] then
    return { monitoring_response = { event = event.name, date = day } }
  elseif event.name == "monitoring_followup" then
    return followup(state, event, p)
  elseif event.name ~= "report_monitoring" then
    error("R-4 is a reaction on report_monitoring, checkpoint, "
      .. "monitoring_followup, suspend, reduce and resume only, not on "
      .. tostring(event.name), 0)
  end
  local m = state.monitoring
  local why = problem(m)
  if why then
    -- The guard refuses such data first; reaching here means the workflow
    -- lists the plugin as a reaction without the guard.
    error("monitoring cannot be scored: " .. why, 0)
  end
  local tp, checkpoint = time_progress(state, event)
  tp = round9(tp)
  local rate = round9(m.spent / m.allocated)
  local gap = round9(tp - rate)
  local progress, deviating = {}, 0
  for _, ind in ipairs(m.indicators) do
    local pr = round9(ind.actual_to_date / ind.target)
    local late = round9(tp - pr) > p.indicator_tolerance
    if late then deviating = deviating + 1 end
    progress[#progress + 1] = {
      indicator = ind.indicator, progress = pr, deviating = late,
    }
  end
  local deviation = round9(deviating / #progress)
  local execution_warning = level(gap, p.yellow_gap, p.red_gap)
  local target_warning = level(deviation, p.yellow_deviation, p.red_deviation)
  local warning = execution_warning
  if LEVELS[target_warning] > LEVELS[warning] then warning = target_warning end
  return {
    monitoring_checkpoint = checkpoint,
    time_progress = tp,
    execution_rate = rate,
    execution_gap = gap,
    execution_warning = execution_warning,
    indicator_progress = progress,
    target_deviation = deviation,
    target_warning = target_warning,
    monitoring_warning = warning,
    monitoring_missing = false,
    monitoring_escalated = false,
  }
end

return M
