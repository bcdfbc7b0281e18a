-- R-10 progress reports (进展情况报告), on the department-wide record.
--
-- Every department reports the plan's implementation progress to its
-- finance business section before 20 July and before 20 December.  Such a
-- report is the department's, not a project's, so it is kept on the
-- department-wide record (部门整体): a record with level = "department"
-- for the department's whole budget, with department-wide targets (R-3),
-- monitored, self-evaluated and disclosed like a project (R-4, R-6, R-8).
-- Reports that count projects leave it out.
--
-- Guard on submit and self_evaluate: a department-wide record is
--   submitted and self-evaluated by its department (role department), a
--   project by its unit (role unit): each answers for its own targets and
--   their results.
-- Guard on progress_report: only on a department-wide record, with
--   progress = { period = one of params.periods, summary = "..." }.
-- React on progress_report: facts progress[period] = { date, due, on_time,
--   by }; a report on the due day is on time.  A second report for the
--   period revises the first (revised = its day); the first day counts.
-- React on progress_due (the calendar, after each due day): facts
--   progress[period] = { due, missing = true } for each period due by the
--   event's day and not reported; a report sent later replaces it (late).
-- Report `jx report progress [--at DATE]`: which departments owe which
--   report as of the date (reports sent after it are not counted yet).
--
-- params.periods  period -> "MM-DD", the last day (inclusive) of the
--                 fiscal year (the record's year) to report on
local M = { rule = "R-10", title = "progress reports (进展情况报告)" }

local DEFAULTS = { periods = { h1 = "07-20", h2 = "12-20" } }

local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-10")
  if type(p.periods) ~= "table" or next(p.periods) == nil then
    error("workflow.toml parameters: R-10 periods must be a table of "
      .. "period = \"MM-DD\"", 0)
  end
  for name, md in pairs(p.periods) do
    if type(name) ~= "string" or type(md) ~= "string"
       or not md:match("^%d%d%-%d%d$") then
      error(string.format("workflow.toml parameters: R-10 periods.%s must "
        .. "be a day as \"MM-DD\"", tostring(name)), 0)
    end
    jx.date("2000-" .. md) -- raises on a day that does not exist
  end
  return p
end

-- The periods in date order: { {name, due = "YYYY-MM-DD"}, ... }.
local function periods(p, year)
  local list = {}
  for name, md in pairs(p.periods) do
    list[#list + 1] = { name = name, due = string.format("%04d-%s", year, md) }
  end
  table.sort(list, function(a, b)
    if a.due ~= b.due then return a.due < b.due end
    return jx.bytewise_less(a.name, b.name)
  end)
  return list
end

local function names(list)
  local out = {}
  for i, period in ipairs(list) do
    out[i] = period.name .. " (by " .. period.due .. ")"
  end
  return table.concat(out, ", ")
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

local function department_wide(state)
  return state.level == "department"
end

local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

local function check_owner(state, event)
  local wanted = department_wide(state) and "department" or "unit"
  if event.role == wanted then return true end
  local verb = event.name == "submit" and "submitted" or "self-evaluated"
  if wanted == "department" then
    return refuse("a department-wide record (level = \"department\") is the "
      .. "department's own: it is " .. verb .. " by the department",
      "send " .. event.name .. " as an actor of department "
      .. tostring(state.department) .. " with role department")
  end
  return refuse("a project is " .. verb .. " by its unit (预算单位), which "
    .. "answers for its targets and results; a department does so only for "
    .. "its department-wide record (level = \"department\")",
    "send " .. event.name .. " as unit " .. tostring(state.unit))
end

local function check_report(state, event, p)
  local list = periods(p, state.year)
  if not department_wide(state) then
    return refuse("progress reports are the department's, kept on its "
      .. "department-wide record (level = \"department\"); "
      .. tostring(event.project) .. " is a project",
      "send progress_report to department " .. tostring(state.department)
      .. "'s department-wide record")
  end
  local example = "--set 'progress={period=\"" .. list[1].name
    .. "\", summary=\"...\"}'"
  local progress = (event.set or {}).progress
  if type(progress) ~= "table" then
    return refuse("a progress report says which period it is for and what "
      .. "was done", "send it with the event: " .. example)
  end
  if p.periods[progress.period] == nil then
    return refuse(string.format("there is no reporting period %q; the "
      .. "periods are %s", tostring(progress.period), names(list)),
      "name one of them: " .. example)
  end
  if type(progress.summary) ~= "string" or not progress.summary:find("%S") then
    return refuse("a progress report without a summary reports nothing",
      "say what was done: " .. example)
  end
  return true
end

function M.guard(state, event, params)
  local p = check_params(params)
  if event.name == "submit" or event.name == "self_evaluate" then
    return check_owner(state, event)
  end
  if event.name == "progress_report" then
    return check_report(state, event, p)
  end
  error("R-10 is a guard on submit, self_evaluate and progress_report only, "
    .. "not on " .. tostring(event.name), 0)
end

function M.react(state, event, params)
  local p = check_params(params)
  local day = event.time:sub(1, 10)
  local progress = copy((state.facts or {}).progress)
  if event.name == "progress_report" then
    local period = state.progress.period
    local due = string.format("%04d-%s", state.year, p.periods[period])
    local first = progress[period]
    if first and first.date then
      -- A second report for a period revises it; the day it was first
      -- reported stays what counts.
      local revised = copy(first)
      revised.revised = day
      progress[period] = revised
    else
      progress[period] = { date = day, due = due, on_time = day <= due,
                           by = event.actor }
    end
  elseif event.name == "progress_due" then
    for _, period in ipairs(periods(p, state.year)) do
      if period.due < day and progress[period.name] == nil then
        progress[period.name] = { due = period.due, missing = true }
      end
    end
  else
    error("R-10 is a reaction on progress_report and progress_due only, "
      .. "not on " .. tostring(event.name), 0)
  end
  return { progress = progress }
end

-- As of context.date: for each department (of every project and record),
-- each period's report: on time, late, missing (past due), or not yet due.
function M.report(projects, params, context)
  local p = check_params(params)
  local today = context.date
  local year = jx.date(today).year
  local list = periods(p, year)
  local records, departments = {}, {}
  for _, r in ipairs(projects) do
    local d = r.department
    if type(d) == "string" and r.year == year then
      if departments[d] == nil then
        departments[d] = true
        departments[#departments + 1] = d
      end
      if department_wide(r) then records[d] = r end
    end
  end
  table.sort(departments, jx.bytewise_less)
  local columns = { "department", "department-wide record" }
  for _, period in ipairs(list) do
    columns[#columns + 1] = period.name .. " (by " .. period.due .. ")"
  end
  columns[#columns + 1] = "owes"
  local rows, owing = {}, 0
  for _, d in ipairs(departments) do
    local record = records[d]
    local facts = record and record.facts and record.facts.progress or {}
    local row, owes = { d, record and record.id or "none" }, {}
    for _, period in ipairs(list) do
      local f = facts[period.name]
      local cell
      -- As of `today`: a report sent later is not there yet.
      if f and f.date and f.date <= today then
        cell = f.date .. (f.on_time and " on time" or " late")
      elseif period.due < today then
        cell = "missing"
        owes[#owes + 1] = period.name
      else
        cell = "not yet due"
      end
      row[#row + 1] = cell
    end
    row[#row + 1] = #owes > 0 and table.concat(owes, ", ") or "-"
    if #owes > 0 then owing = owing + 1 end
    rows[#rows + 1] = row
  end
  return {
    title = string.format("Progress reports to the finance business section "
      .. "(R-10), %d, as of %s", year, today),
    columns = columns,
    rows = rows,
    notes = {
      string.format("%d of %d departments owe a report.", owing,
        #departments),
      "A report is on time on or before its day; it is kept on the "
        .. "department's department-wide record (level = \"department\"), "
        .. "without which every report is missing.",
    },
  }
end

return M
