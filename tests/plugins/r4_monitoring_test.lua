package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r4 = H.load("plugins/r4_monitoring.lua")
local defaults = {
  yellow_gap = 0.10, red_gap = 0.25, indicator_tolerance = 0.10,
  yellow_deviation = 0.10, red_deviation = 0.25,
}

local function ind(target, actual, name)
  return { indicator = name or "x", target = target, actual_to_date = actual }
end
-- A report of `spent` out of `allocated` yuan on `date`, with indicators
-- (default: one exactly on target for the year, so never deviating).
local function report(date, allocated, spent, indicators, year)
  local m = {
    allocated = allocated, spent = spent,
    indicators = indicators or { ind(100, 100) },
  }
  return { year = year or tonumber(date:sub(1, 4)), monitoring = m },
         { name = "report_monitoring", time = date .. "T00:00:00Z",
           set = { monitoring = m } }
end
-- The facts of a report the guard accepts.
local function facts(date, allocated, spent, indicators, params, year)
  local state, ev = report(date, allocated, spent, indicators, year)
  H.accepted(r4.guard(state, ev, params or defaults))
  return r4.react(state, ev, params or defaults)
end
-- n indicators, the first `late` of them 11 points behind a full year
-- (deviating under the default tolerance on 31 December), the rest on target.
local function indicators(n, late)
  local list = {}
  for i = 1, n do
    list[i] = ind(100, i <= late and 89 or 100, "indicator " .. i)
  end
  return list
end

H.check("the plugin names R-4", function()
  assert(r4.rule == "R-4")
  assert(r4.title:find("绩效运行监控", 1, true))
end)

-- Boundaries first.
H.check("boundary: a gap exactly at the yellow line is none, just above is yellow", function()
  -- 30 June: time progress 181/365 = 362/730; 289/730 spent is 73/730 = 0.10 behind
  local f = facts("2021-06-30", 730, 289)
  assert(f.execution_gap == 0.1, tostring(f.execution_gap))
  assert(f.execution_warning == "none" and f.monitoring_warning == "none")
  f = facts("2021-06-30", 730, 288)                 -- 74/730 = 0.1014
  assert(f.execution_gap > 0.1 and f.execution_warning == "yellow")
  assert(f.monitoring_warning == "yellow")
  -- 31 December: 90 of 100 is exactly 0.10 behind, 89 is above
  assert(facts("2021-12-31", 100, 90).execution_warning == "none")
  assert(facts("2021-12-31", 100, 89).execution_warning == "yellow")
end)
H.check("boundary: a gap exactly at the red line is yellow, just above is red", function()
  local f = facts("2021-12-31", 100, 75)
  assert(f.execution_gap == 0.25 and f.execution_warning == "yellow")
  f = facts("2021-12-31", 100, 74)
  assert(f.execution_warning == "red" and f.monitoring_warning == "red")
  -- 30 September: 273/365 = 546/730; 0.25 behind is 363.5/730, so
  -- 1092 - 365 = 727 of 1460 spent is exactly at the line
  assert(facts("2021-09-30", 1460, 727).execution_warning == "yellow")
  assert(facts("2021-09-30", 1460, 726).execution_warning == "red")
end)
H.check("boundary: 30 June and 1 July", function()
  local a = facts("2021-06-30", 730, 289)
  local b = facts("2021-07-01", 730, 289)
  assert(a.time_progress == math.floor(181 / 365 * 1e9 + 0.5) / 1e9)
  assert(b.time_progress == math.floor(182 / 365 * 1e9 + 0.5) / 1e9)
  assert(a.monitoring_checkpoint == "2021-06-30" and b.monitoring_checkpoint == "2021-07-01")
  -- the same spending is on the line on 30 June and behind it a day later
  assert(a.execution_warning == "none" and b.execution_warning == "yellow")
end)
H.check("boundary: leap year, 2020-12-31 is 1.0 and 2020-06-30 is 182/366", function()
  local f = facts("2020-12-31", 100, 100)
  assert(f.time_progress == 1.0 and f.execution_gap == 0)
  f = facts("2020-06-30", 366, 182)
  assert(math.abs(f.time_progress - 182 / 366) < 1e-9, tostring(f.time_progress))
  assert(f.time_progress == f.execution_rate and f.execution_gap == 0)
  -- 30 June 2021 is a day less into its year than 30 June 2020
  assert(facts("2021-06-30", 366, 182).execution_gap < 0)
end)
H.check("boundary: an indicator exactly at the tolerance does not deviate", function()
  local f = facts("2021-12-31", 100, 100, { ind(100, 90, "a"), ind(100, 89, "b") })
  local p = f.indicator_progress
  assert(p[1].indicator == "a" and p[1].progress == 0.9 and p[1].deviating == false)
  assert(p[2].indicator == "b" and p[2].progress == 0.89 and p[2].deviating == true)
  assert(f.target_deviation == 0.5)
end)
H.check("boundary: deviation share at the yellow line is none, at the red line yellow", function()
  local f = facts("2021-12-31", 100, 100, indicators(10, 1))      -- 0.10
  assert(f.target_deviation == 0.1 and f.target_warning == "none")
  f = facts("2021-12-31", 100, 100, indicators(10, 2))            -- 0.20
  assert(f.target_warning == "yellow" and f.monitoring_warning == "yellow")
  f = facts("2021-12-31", 100, 100, indicators(4, 1))             -- 0.25
  assert(f.target_deviation == 0.25 and f.target_warning == "yellow")
  f = facts("2021-12-31", 100, 100, indicators(10, 3))            -- 0.30
  assert(f.target_warning == "red" and f.monitoring_warning == "red")
  assert(f.execution_warning == "none")
end)

H.check("the facts of a half-year report", function()
  -- 30 June 2021: 40 % spent of 1,000,000; one indicator ahead, one behind
  local f = facts("2021-06-30", 1000000, 400000, {
    ind(12, 6, "schools renovated"), ind(200, 50, "teachers trained"),
  })
  assert(f.monitoring_checkpoint == "2021-06-30")
  assert(math.abs(f.time_progress - 0.496) < 0.001)
  assert(f.execution_rate == 0.4)
  assert(math.abs(f.execution_gap - 0.095890411) < 1e-12, tostring(f.execution_gap))
  assert(f.execution_warning == "none")
  local p = f.indicator_progress
  assert(#p == 2 and p[1].indicator == "schools renovated" and p[1].progress == 0.5
         and not p[1].deviating)
  assert(p[2].indicator == "teachers trained" and p[2].progress == 0.25 and p[2].deviating)
  assert(f.target_deviation == 0.5 and f.target_warning == "red")
  assert(f.monitoring_warning == "red")
  -- shares are floats, whatever the inputs: equal states, equal bytes
  for _, k in ipairs({ "time_progress", "execution_rate", "execution_gap", "target_deviation" }) do
    assert(math.type(f[k]) == "float", k)
  end
end)
H.check("the overall warning is the worse of execution and targets", function()
  local f = facts("2021-12-31", 100, 80, indicators(10, 3))   -- yellow, red
  assert(f.execution_warning == "yellow" and f.target_warning == "red")
  assert(f.monitoring_warning == "red")
  f = facts("2021-12-31", 100, 70, indicators(10, 2))         -- red, yellow
  assert(f.execution_warning == "red" and f.target_warning == "yellow")
  assert(f.monitoring_warning == "red")
  f = facts("2021-12-31", 100, 100, indicators(10, 0))
  assert(f.monitoring_warning == "none")
end)
H.check("ahead of schedule and overspending are no deviation", function()
  local f = facts("2021-06-30", 100, 120, { ind(10, 15) })
  assert(f.execution_rate == 1.2 and f.execution_gap < 0)
  assert(f.indicator_progress[1].progress == 1.5 and f.monitoring_warning == "none")
end)
H.check("the budget year is the project's: a late report has the full year", function()
  -- a 2021 project reported on in January 2022: the year has elapsed
  local f = facts("2022-01-15", 100, 80, nil, nil, 2021)
  assert(f.time_progress == 1.0 and f.execution_warning == "yellow")
  assert(f.monitoring_checkpoint == "2022-01-15")
  f = facts("2020-12-15", 100, 0, nil, nil, 2021)
  assert(f.time_progress == 0.0 and f.execution_warning == "none")
  -- without a year, the year of the date
  local state, ev = report("2021-06-30", 730, 289)
  state.year = nil
  assert(r4.react(state, ev, defaults).time_progress == facts("2021-06-30", 730, 289).time_progress)
end)
H.check("parameters left out are the defaults", function()
  for _, params in ipairs({ {}, defaults }) do
    assert(facts("2021-06-30", 730, 289, nil, params).execution_warning == "none")
    assert(facts("2021-06-30", 730, 288, nil, params).execution_warning == "yellow")
    assert(facts("2021-12-31", 100, 74, nil, params).execution_warning == "red")
  end
  local state, ev = report("2021-06-30", 730, 288)
  assert(r4.react(state, ev).execution_warning == "yellow")   -- params nil
  H.accepted(r4.guard(state, ev))
end)
H.check("other lines change the warning", function()
  local params = { yellow_gap = 0.05, red_gap = 0.09 }
  assert(facts("2021-12-31", 100, 90, nil, params).execution_warning == "red")
  assert(facts("2021-12-31", 100, 94, nil, params).execution_warning == "yellow")
  assert(facts("2021-12-31", 100, 95, nil, params).execution_warning == "none")
  params = { yellow_gap = 0.2, red_gap = 0.4 }
  assert(facts("2021-12-31", 100, 74, nil, params).execution_warning == "yellow")
  assert(facts("2021-12-31", 100, 80, nil, params).execution_warning == "none")
end)
H.check("another tolerance changes which indicators deviate", function()
  local list = { ind(100, 85, "a"), ind(100, 70, "b") }
  local f = facts("2021-12-31", 100, 100, list)
  assert(f.indicator_progress[1].deviating and f.target_deviation == 1)
  f = facts("2021-12-31", 100, 100, list, { indicator_tolerance = 0.15 })
  assert(not f.indicator_progress[1].deviating and f.indicator_progress[2].deviating)
  assert(f.target_deviation == 0.5)
  f = facts("2021-12-31", 100, 100, list, { indicator_tolerance = 0.3 })
  assert(f.target_deviation == 0 and f.target_warning == "none")
end)
H.check("other deviation lines change the target warning", function()
  local list = indicators(10, 2)                                   -- 0.20
  assert(facts("2021-12-31", 100, 100, list).target_warning == "yellow")
  local f = facts("2021-12-31", 100, 100, list, { yellow_deviation = 0, red_deviation = 0.1 })
  assert(f.target_warning == "red")
  f = facts("2021-12-31", 100, 100, list, { yellow_deviation = 0.2, red_deviation = 0.5 })
  assert(f.target_warning == "none")
  f = facts("2021-12-31", 100, 100, indicators(10, 1), { yellow_deviation = 0 })
  assert(f.target_warning == "yellow")
end)

-- report_monitoring: the data must be there and scorable.
local function refused_report(field, state, ev)
  local v = r4.guard(state, ev, defaults)
  H.refused(v, "R-4")
  assert(v.rule == "R-4")
  assert(v.reason:find(field, 1, true), v.reason)
  assert(v.remedy:find("--set 'monitoring=", 1, true), v.remedy)
  return v
end
H.check("a report without data is refused by R-4 with reason and remedy", function()
  local ev = { name = "report_monitoring", time = "2021-06-30T00:00:00Z", set = {} }
  refused_report("sets no monitoring", { year = 2021 }, ev)
  -- the last checkpoint's data, still in the state, is not a new report
  local state = report("2021-06-30", 100, 50)
  refused_report("sets no monitoring", state, ev)
end)
H.check("allocated <= 0 and spent < 0 are refused, naming the field", function()
  local v = refused_report("monitoring.allocated", report("2021-06-30", 0, 0))
  assert(v.reason:find("(it is 0)", 1, true), v.reason)
  assert(v.remedy:find("correct monitoring.allocated", 1, true), v.remedy)
  refused_report("monitoring.allocated", report("2021-06-30", -5, 0))
  refused_report("monitoring.allocated", report("2021-06-30", nil, 0))
  refused_report("monitoring.allocated", report("2021-06-30", "100", 0))
  v = refused_report("monitoring.spent", report("2021-06-30", 100, -1))
  assert(v.reason:find("(it is -1)", 1, true), v.reason)
  refused_report("monitoring.spent", report("2021-06-30", 100, nil))
  refused_report("monitoring.spent", report("2021-06-30", 100, 0 / 0))
  -- spending nothing is scorable
  local state, ev = report("2021-06-30", 100, 0)
  H.accepted(r4.guard(state, ev, defaults))
end)
H.check("missing or empty indicators are refused, naming the field", function()
  local state, ev = report("2021-06-30", 100, 50)
  state.monitoring.indicators = nil
  refused_report("monitoring.indicators is missing", state, ev)
  state.monitoring.indicators = {}
  refused_report("monitoring.indicators is missing or empty", state, ev)
  state.monitoring.indicators = "on track"
  refused_report("monitoring.indicators", state, ev)
end)
H.check("an indicator that cannot be scored is refused, saying which", function()
  local cases = {
    { { indicator = "beds", actual_to_date = 3 }, "monitoring.indicators[2] (beds) has no numeric target" },
    { { indicator = "beds", target = 0, actual_to_date = 3 }, "(beds) has no numeric target greater than 0" },
    { { indicator = "beds", target = 10 }, "(beds) has no actual_to_date" },
    { { indicator = "beds", target = 10, actual_to_date = -1 }, "(beds) has no actual_to_date" },
    { { indicator = "beds", target = 10, actual = 3 }, "(beds) has no actual_to_date" },
    { { target = 10, actual_to_date = 3 }, "monitoring.indicators[2] has no indicator name" },
    { { indicator = " ", target = 10, actual_to_date = 3 }, "has no indicator name" },
    { "beds", "monitoring.indicators[2] is not a table" },
    { { indicator = "cost", comparator = "<=", target = 10, actual_to_date = 3 },
      "(cost) has comparator \"<=\"" },
  }
  for _, c in ipairs(cases) do
    local state, ev = report("2021-06-30", 100, 50, { ind(10, 5, "schools"), c[1] })
    refused_report(c[2], state, ev)
  end
  for _, cmp in ipairs({ ">=", "≥" }) do
    local ok = { indicator = "beds", comparator = cmp, target = 10, actual_to_date = 3 }
    local state, ev = report("2021-06-30", 100, 50, { ok })
    H.accepted(r4.guard(state, ev, defaults))
  end
end)
H.check("a refusal shows no table address", function()
  local v = refused_report("monitoring.allocated", report("2021-06-30", { 100 }, 0))
  assert(v.reason:find("(it is a table)", 1, true), v.reason)
end)

-- resume: a red warning needs a corrective note.
local function flagged(warning, checkpoint)
  return {
    monitoring_note = "flagged at the half-year checkpoint",   -- left by flag
    facts = {
      monitoring_checkpoint = checkpoint or "2021-06-30", monitoring_warning = warning,
      execution_warning = warning, execution_rate = 0.2, time_progress = 181 / 365,
      target_warning = "none", target_deviation = 0,
    },
  }
end
local function resume(note, from)
  return { name = "resume", from = from or "flagged", to = "executing",
           time = "2021-07-10T00:00:00Z", set = { monitoring_note = note } }
end
H.check("resume after a red warning without a note is refused by R-4", function()
  local v = r4.guard(flagged("red"), resume(nil), defaults)
  H.refused(v, "R-4")
  assert(v.rule == "R-4")
  assert(v.reason:find("2021-06-30", 1, true) and v.reason:find("red warning", 1, true), v.reason)
  assert(v.reason:find("budget execution 20.0 % against a time progress of 49.6 %", 1, true), v.reason)
  assert(v.remedy:find("--set monitoring_note=", 1, true), v.remedy)
  assert(v.remedy:find("suspend", 1, true) and v.remedy:find("reduce", 1, true), v.remedy)
end)
H.check("a blank note, or the flag's note, is no corrective note", function()
  H.refused(r4.guard(flagged("red"), resume(""), defaults), "R-4")
  H.refused(r4.guard(flagged("red"), resume("  \n"), defaults), "R-4")
  local ev = resume(nil)
  ev.set = nil
  H.refused(r4.guard(flagged("red"), ev, defaults), "R-4")
end)
H.check("resume after a red warning with a corrective note passes", function()
  local note = "contracts for the remaining 6 schools signed 2021-07-08; payment schedule attached"
  H.accepted(r4.guard(flagged("red"), resume(note), defaults))
end)
H.check("resume from suspension is held to the same rule", function()
  H.refused(r4.guard(flagged("red"), resume(nil, "suspended"), defaults), "R-4")
  H.accepted(r4.guard(flagged("red"), resume("resumed after the tender", "suspended"), defaults))
end)
H.check("resume after a yellow or no warning, or with no report, needs no note", function()
  H.accepted(r4.guard(flagged("yellow"), resume(nil), defaults))
  H.accepted(r4.guard(flagged("none"), resume(nil), defaults))
  H.accepted(r4.guard({}, resume(nil), defaults))
  H.accepted(r4.guard({ facts = {} }, resume(nil), defaults))
end)
H.check("the red warning names the indicators when they are what is red", function()
  local state = flagged("red")
  state.facts.execution_warning = "none"
  state.facts.target_warning = "red"
  state.facts.target_deviation = 0.5
  local v = r4.guard(state, resume(nil), defaults)
  H.refused(v, "R-4")
  assert(v.reason:find("50.0 % of the indicators behind schedule", 1, true), v.reason)
  assert(not v.reason:find("budget execution", 1, true), v.reason)
end)
H.check("a report's facts feed the resume guard", function()
  local state, ev = report("2021-12-31", 100, 74)
  state.facts = r4.react(state, ev, defaults)
  H.refused(r4.guard(state, resume(nil), defaults), "R-4")
  state, ev = report("2021-12-31", 100, 75)
  state.facts = r4.react(state, ev, defaults)
  H.accepted(r4.guard(state, resume(nil), defaults))
end)

-- Determinism and misconfiguration.
H.check("a report gives the same facts every time", function()
  local list = { ind(12, 5, "a"), ind(7, 1, "b"), ind(3, 3, "c") }
  local a = facts("2021-09-30", 987654321, 123456789, list)
  for _ = 1, 20 do
    local b = facts("2021-09-30", 987654321, 123456789, list)
    for _, k in ipairs({ "time_progress", "execution_rate", "execution_gap",
                         "target_deviation", "monitoring_warning" }) do
      assert(a[k] == b[k], k)
    end
    for i, p in ipairs(a.indicator_progress) do
      local q = b.indicator_progress[i]
      assert(p.indicator == q.indicator and p.progress == q.progress and p.deviating == q.deviating)
    end
  end
end)
local function raises(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end
H.check("bad parameters are an error of workflow.toml", function()
  local state, ev = report("2021-06-30", 100, 50)
  raises(function() r4.guard(state, ev, { yellow_gap = 0.3 }) end,
         "workflow.toml parameters: yellow_gap must not be above red_gap")
  raises(function() r4.react(state, ev, { yellow_deviation = 0.5, red_deviation = 0.2 }) end,
         "yellow_deviation must not be above red_deviation")
  raises(function() r4.react(state, ev, { red_gap = "0.25" }) end, "red_gap must be a number")
  raises(function() r4.react(state, ev, { indicator_tolerance = -0.1 }) end,
         "indicator_tolerance must be a number 0 or more")
  raises(function() r4.guard(flagged("red"), resume("x"), { yelow_gap = 0.1, red = 1 }) end,
         "R-4 has no parameter red, yelow_gap")
end)
H.check("listed on another event, the plugin raises", function()
  raises(function() r4.guard({}, { name = "flag", set = {} }, defaults) end, "not on flag")
  raises(function() r4.react(flagged("red"), { name = "flag", time = "2021-07-10T00:00:00Z" }, defaults) end, "not on flag")
end)

-- The follow-up: missing reports are flagged, unanswered warnings escalate.
local function at(name, day)
  return { name = name, time = day .. "T00:00:00Z", set = {} }
end
H.check("the checkpoint makes a report due; the follow-up flags it missing", function()
  local state = { facts = r4.react({}, at("checkpoint", "2021-06-30"), defaults) }
  assert(state.facts.monitoring_due == "2021-06-30")
  local f = r4.react(state, at("monitoring_followup", "2021-07-15"), defaults)
  assert(f.monitoring_missing == "2021-06-30", tostring(f.monitoring_missing))
  -- an earlier report (the half-year's) does not answer the third quarter's
  state.facts.monitoring_checkpoint = "2021-06-30"
  state.facts.monitoring_due = "2021-09-30"
  f = r4.react(state, at("monitoring_followup", "2021-10-15"), defaults)
  assert(f.monitoring_missing == "2021-09-30")
  -- a report sent clears it
  local st, ev = report("2021-09-30", 100, 75)
  f = r4.react(st, ev, defaults)
  assert(f.monitoring_missing == false and f.monitoring_escalated == false)
end)
H.check("boundary: a warning unanswered 15 days escalates, 14 days not", function()
  local state = flagged("yellow", "2021-06-30")
  local f = r4.react(state, at("monitoring_followup", "2021-07-14"), defaults)
  assert(next(f) == nil, "14 days")
  f = r4.react(state, at("monitoring_followup", "2021-07-15"), defaults)
  assert(f.monitoring_warning == "red" and f.monitoring_escalated.from == "yellow"
         and f.monitoring_escalated.to == "red", "15 days: yellow -> red")
  f = r4.react(flagged("red", "2021-06-30"), at("monitoring_followup", "2021-07-15"), defaults)
  assert(f.monitoring_escalated.to == "finance", "red goes to the finance bureau")
  local p = {}
  for k, v in pairs(defaults) do p[k] = v end
  p.respond_days = 20
  f = r4.react(state, at("monitoring_followup", "2021-07-15"), p)
  assert(next(f) == nil, "respond_days is a parameter")
end)
H.check("a department that suspended, reduced or corrected is not escalated", function()
  for _, name in ipairs({ "suspend", "reduce", "resume" }) do
    local state = flagged("red", "2021-06-30")
    local r = r4.react(state, at(name, "2021-07-05"), defaults)
    assert(r.monitoring_response.event == name and r.monitoring_response.date == "2021-07-05")
    state.facts.monitoring_response = r.monitoring_response
    local f = r4.react(state, at("monitoring_followup", "2021-07-15"), defaults)
    assert(next(f) == nil, name)
  end
  -- an answer to an older warning does not answer this one
  local state = flagged("red", "2021-09-30")
  state.facts.monitoring_response = { event = "resume", date = "2021-07-05" }
  local f = r4.react(state, at("monitoring_followup", "2021-10-15"), defaults)
  assert(f.monitoring_escalated.to == "finance")
  -- no warning, nothing to escalate
  f = r4.react(flagged("none", "2021-06-30"), at("monitoring_followup", "2021-07-15"), defaults)
  assert(next(f) == nil)
end)
H.check("a reaction without its guard raises on bad data", function()
  local state, ev = report("2021-06-30", 0, 0)
  raises(function() r4.react(state, ev, defaults) end, "cannot be scored")
end)
H.check("an event time that is not a date raises", function()
  local state, ev = report("2021-06-30", 100, 50)
  ev.time = "yesterday"
  raises(function() r4.react(state, ev, defaults) end, "not an ISO 8601 date")
end)
H.done()
