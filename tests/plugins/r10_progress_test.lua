package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r10 = H.load("plugins/r10_progress.lua")
local params = { periods = { h1 = "07-20", h2 = "12-20" } }

local function record(facts)
  return { level = "department", department = "education", year = 2021,
           id = "HL2021-EDU-DEPT", facts = facts }
end

local function report_event(period, day, summary)
  return { name = "progress_report", project = "HL2021-EDU-DEPT",
           actor = "edu-dept", role = "department",
           time = day .. "T00:00:00Z",
           set = { progress = { period = period, summary = summary or "done" } } }
end

H.check("a project is submitted by its unit, a record by its department",
  function()
    local submit = { name = "submit", role = "unit" }
    H.accepted(r10.guard({ department = "education" }, submit, params))
    local v = r10.guard(record(), submit, params)
    H.refused(v, "R-10")
    assert(v.remedy:find("role department", 1, true), v.remedy)
    submit.role = "department"
    H.accepted(r10.guard(record(), submit, params))
    v = r10.guard({ department = "education", unit = "edu-school-1" },
                  submit, params)
    H.refused(v, "R-10")
    assert(v.remedy:find("edu-school-1", 1, true), v.remedy)
  end)

H.check("a record is self-evaluated by its department, a project by its unit",
  function()
    local ev = { name = "self_evaluate", role = "department" }
    H.accepted(r10.guard(record(), ev, params))
    local v = r10.guard({ department = "education", unit = "edu-school-1" },
                        ev, params)
    H.refused(v, "R-10")
    assert(v.reason:find("self-evaluated by its unit", 1, true), v.reason)
    assert(v.remedy == "send self_evaluate as unit edu-school-1", v.remedy)
  end)

H.check("a progress report belongs on the department-wide record", function()
  local v = r10.guard({ department = "education", year = 2021 },
                      report_event("h1", "2021-07-01"), params)
  H.refused(v, "R-10")
  assert(v.reason:find("department-wide", 1, true), v.reason)
end)

H.check("period and summary are required", function()
  H.accepted(r10.guard(record(), report_event("h1", "2021-07-01"), params))
  local v = r10.guard(record(), report_event("q3", "2021-07-01"), params)
  H.refused(v, "R-10")
  assert(v.reason:find("h1 (by 2021-07-20), h2 (by 2021-12-20)", 1, true),
         v.reason)
  H.refused(r10.guard(record(), report_event("h1", "2021-07-01", " "), params),
            "R-10")
  local ev = report_event("h1", "2021-07-01")
  ev.set = {}
  H.refused(r10.guard(record(), ev, params), "R-10")
end)

local function react(state, ev, p)
  state.progress = ev.set and ev.set.progress
  return r10.react(state, ev, p or params).progress
end

H.check("20 July is on time, 21 July late", function()
  local f = react(record(), report_event("h1", "2021-07-20"))
  assert(f.h1.on_time == true and f.h1.due == "2021-07-20", f.h1.due)
  assert(f.h1.by == "edu-dept")
  f = react(record(), report_event("h1", "2021-07-21"))
  assert(f.h1.on_time == false)
end)

H.check("the day is a parameter", function()
  local p = { periods = { h1 = "07-25", h2 = "12-20" } }
  local f = react(record(), report_event("h1", "2021-07-21"), p)
  assert(f.h1.on_time == true)
end)

H.check("the calendar marks what is missing, keeps what was sent", function()
  local due = { name = "progress_due", time = "2021-07-21T00:00:00Z" }
  local f = react(record(), due)
  assert(f.h1.missing == true and f.h2 == nil)
  local sent = record({ progress = { h1 = { date = "2021-07-10",
                                            on_time = true } } })
  f = react(sent, { name = "progress_due", time = "2021-12-21T00:00:00Z" })
  assert(f.h1.date == "2021-07-10" and f.h2.missing == true)
end)

H.check("bad parameters are the deployment's error", function()
  local ok, err = pcall(r10.guard, record(), report_event("h1", "2021-07-01"),
                        { periods = { h1 = "7-20" } })
  assert(not ok and err:find("workflow.toml parameters", 1, true), err)
  ok, err = pcall(r10.guard, record(), report_event("h1", "2021-07-01"),
                  { periods = { h1 = "02-30" } })
  assert(not ok, "30 February")
  ok, err = pcall(r10.guard, record(), report_event("h1", "2021-07-01"),
                  { period = {} })
  assert(not ok and err:find("no parameter period", 1, true), err)
end)

H.check("the report: on time, late, missing, not yet due", function()
  local projects = {
    record({ progress = { h1 = { date = "2021-07-19", on_time = true } } }),
    { id = "P-1", department = "health", year = 2021 },
    { id = "HL2021-CUL-DEPT", level = "department", department = "culture",
      year = 2021,
      facts = { progress = { h1 = { date = "2021-07-21", on_time = false } } } },
  }
  local r = r10.report(projects, params, { date = "2021-07-21" })
  assert(#r.rows == 3)
  local by = {}
  for _, row in ipairs(r.rows) do by[row[1]] = row end
  assert(by.education[3] == "2021-07-19 on time" and by.education[4] == "not yet due")
  assert(by.culture[3] == "2021-07-21 late")
  assert(by.health[2] == "none" and by.health[3] == "missing"
         and by.health[5] == "h1", by.health[3])
  assert(r.notes[1]:find("1 of 3 departments owe", 1, true), r.notes[1])
  r = r10.report(projects, params, { date = "2021-07-20" })
  for _, row in ipairs(r.rows) do by[row[1]] = row end
  assert(by.health[3] == "not yet due", "20 July is still in time")
end)
H.check("a second report revises the first; the first day counts", function()
  local state = record()
  state.facts = { progress = react(state, report_event("h1", "2021-07-10")) }
  local f = react(state, report_event("h1", "2022-02-05"))
  assert(f.h1.date == "2021-07-10" and f.h1.on_time == true, f.h1.date)
  assert(f.h1.revised == "2022-02-05")
end)
H.check("as of a day, reports sent later are not there yet", function()
  local projects = { record({ progress = { h1 = { date = "2021-07-23", on_time = false } } }) }
  local r = r10.report(projects, params, { date = "2021-07-21" })
  assert(r.rows[1][3] == "missing", r.rows[1][3])
  r = r10.report(projects, params, { date = "2021-07-23" })
  assert(r.rows[1][3] == "2021-07-23 late", r.rows[1][3])
end)
H.done()
