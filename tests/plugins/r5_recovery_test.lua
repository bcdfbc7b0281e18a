package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r5 = H.load("plugins/r5_recovery.lua")
local r4 = H.load("plugins/r4_monitoring.lua")

local NOV30 = "2021-11-30T00:00:00Z"
-- The time progress at the end of 30 November 2021, as the facts hold it.
local TP = math.floor(334 / 365 * 1e9 + 0.5) / 1e9          -- 0.915068493

-- A project of `amount` yuan in `status`, its last monitoring facts `facts`
-- (nil: never reported), and more fields in `extra`.
local function project(status, amount, facts, extra)
  local s = { status = status, year = 2021, amount = amount, facts = facts }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end
local function reported(rate, warning)
  return {
    execution_rate = rate, monitoring_warning = warning or "none",
    monitoring_checkpoint = "2021-09-30",
  }
end
local function check_event(date)
  return { name = "recovery_check", role = "calendar", actor = "calendar",
           time = (date or "2021-11-30") .. "T00:00:00Z", set = {} }
end
-- The facts recovery_check records for a state.
local function check(state, params, date)
  return r5.react(state, check_event(date), params or {})
end
local function recover(set)
  return { name = "recover", role = "finance_budget", time = "2021-12-01T00:00:00Z",
           set = set or {} }
end
-- A state after recovery_check, with the recover event's fields applied.
local function checked(state, set, params)
  local f = check(state, params)
  for k, v in pairs(f) do state.facts[k] = v end
  for k, v in pairs(set or {}) do state[k] = v end
  return state, recover(set)
end
local function errors(fn, pattern)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(pattern, 1, true), tostring(err))
end

H.check("the plugin names R-5", function()
  assert(r5.rule == "R-5")
  assert(r5.title:find("盘活收回", 1, true))
end)

-- Boundaries first.
H.check("boundary: spending exactly on schedule recovers 0", function()
  local f = check(project("executing", 1000000, reported(TP)))
  assert(f.recovery_time_progress == TP, tostring(f.recovery_time_progress))
  assert(f.recovery_amount == 0 and math.type(f.recovery_amount) == "integer")
  assert(f.recovery_reason == "on_schedule")
  assert(f.recovery_to_next_year == false)
  -- ahead of schedule and overspending recover nothing either
  assert(check(project("executing", 1000000, reported(0.95))).recovery_amount == 0)
  assert(check(project("executing", 1000000, reported(1.2))).recovery_amount == 0)
end)
H.check("boundary: one yuan behind schedule recovers one yuan", function()
  -- on 1,000,000 yuan a yuan is a share of 0.000001
  local f = check(project("executing", 1000000, reported(TP - 0.000001)))
  assert(f.recovery_amount == 1, tostring(f.recovery_amount))
  assert(f.recovery_reason == "slower_than_schedule")
end)
H.check("boundary: through R-4's own facts, 334,000 of 365,000 on 30 November is on schedule", function()
  local function via_r4(spent)
    local m = { allocated = 365000, spent = spent,
                indicators = { { indicator = "x", target = 1, actual_to_date = 1 } } }
    local state = project("executing", 365000, {}, { monitoring = m })
    local ev = { name = "report_monitoring", time = NOV30, set = { monitoring = m } }
    H.accepted(r4.guard(state, ev, {}))
    state.facts = r4.react(state, ev, {})
    return check(state)
  end
  assert(via_r4(334000).recovery_amount == 0)
  assert(via_r4(333999).recovery_amount == 1, tostring(via_r4(333999).recovery_amount))
  assert(via_r4(333000).recovery_amount == 1000)
  assert(via_r4(334001).recovery_amount == 0)
  -- 4,999 exactly; the rounded fact 0.901372603 alone would give 4,998.999905
  assert(via_r4(329001).recovery_amount == 4999, tostring(via_r4(329001).recovery_amount))
end)
H.check("boundary: float noise does not cost a yuan", function()
  -- 365 * (334/365 - 112/365) is 222, and 221.99999999999997 in floating
  -- point
  local m = { allocated = 365, spent = 112,
              indicators = { { indicator = "x", target = 1, actual_to_date = 1 } } }
  local state = project("executing", 365, {}, { monitoring = m })
  local ev = { name = "report_monitoring", time = NOV30, set = { monitoring = m } }
  state.facts = r4.react(state, ev, {})
  assert(state.facts.execution_rate == 0.306849315)
  local f = check(state)
  assert(f.recovery_amount == 222, tostring(f.recovery_amount))
  assert(f.recovery_execution_rate == 0.306849315)
  -- data that disagree with the fact (changed without R-4) are not used:
  -- with them the amount would be 234
  m.spent = 100
  f = check(state)
  assert(f.recovery_execution_rate == 0.306849315 and f.recovery_amount == 222)
end)
H.check("boundary: a lag exactly at the tolerance recovers 0, a yuan beyond it 1", function()
  local params = { tolerance = 0.05 }
  local f = check(project("executing", 1000000, reported(TP - 0.05)), params)
  assert(f.recovery_amount == 0 and f.recovery_reason == "on_schedule")
  f = check(project("executing", 1000000, reported(TP - 0.050001)), params)
  assert(f.recovery_amount == 1 and f.recovery_reason == "slower_than_schedule",
         tostring(f.recovery_amount))
  -- without the tolerance the same lag is all recovered
  assert(check(project("executing", 1000000, reported(TP - 0.05))).recovery_amount == 50000)
end)
H.check("boundary: amounts are rounded down to the yuan", function()
  -- 1,000,000 * (0.915068493 - 0.6) = 315,068.493
  local f = check(project("executing", 1000000, reported(0.6)))
  assert(f.recovery_amount == 315068, tostring(f.recovery_amount))
  -- 999 * 0.315068493 = 314.75...
  assert(check(project("executing", 999, reported(0.6))).recovery_amount == 314)
  -- a share whose floating-point product falls under a whole yuan:
  -- 100 * 0.29 is 28.999999999999996, yet 29 yuan
  local tp2 = math.floor(181 / 365 * 1e9 + 0.5) / 1e9     -- 30 June
  f = check(project("executing", 100, reported(tp2 - 0.29)), nil, "2021-06-30")
  assert(f.recovery_amount == 29, tostring(f.recovery_amount))
end)

H.check("the facts of a slower-than-schedule project", function()
  local f = check(project("executing", 2000000, reported(0.5)))
  assert(f.recovery_amount == 830136, tostring(f.recovery_amount))  -- 2e6 * 0.415068493
  assert(f.recovery_reason == "slower_than_schedule")
  assert(f.recovery_to_next_year == false)
  assert(f.recovery_date == "2021-11-30")
  assert(f.recovery_allocated == 2000000 and math.type(f.recovery_allocated) == "integer")
  assert(f.recovery_time_progress == TP and math.type(f.recovery_time_progress) == "float")
  assert(f.recovery_execution_rate == 0.5 and math.type(f.recovery_execution_rate) == "float")
  assert(f.recovery_checkpoint == "2021-09-30")
  -- an integer rate (R-4 writes floats, but 1 or 0 could come back as
  -- integers) is stored as a float all the same
  f = check(project("executing", 100, reported(1)))
  assert(math.type(f.recovery_execution_rate) == "float" and f.recovery_amount == 0)
end)
H.check("the allocation is the amount less reduced_by", function()
  local f = check(project("reduced", 1000000, reported(0.6), { reduced_by = 200000 }))
  assert(f.recovery_allocated == 800000)
  assert(f.recovery_amount == 252054, tostring(f.recovery_amount))  -- 800000 * 0.315068493
  -- reduced to nothing, or below: nothing left to recover
  f = check(project("reduced", 1000, reported(0), { reduced_by = 1000 }))
  assert(f.recovery_allocated == 0 and f.recovery_amount == 0)
  f = check(project("reduced", 1000, reported(0), { reduced_by = 5000 }))
  assert(f.recovery_allocated == 0 and f.recovery_amount == 0)
end)

-- Uncorrected problems: the whole unspent allocation.
H.check("a project still suspended loses its whole unspent allocation", function()
  local f = check(project("suspended", 1000000, reported(0.4, "red")))
  assert(f.recovery_amount == 600000 and f.recovery_reason == "uncorrected_suspended")
  -- whatever its warning, and the tolerance does not apply
  f = check(project("suspended", 1000000, reported(0.4, "yellow")), { tolerance = 0.5 })
  assert(f.recovery_amount == 600000 and f.recovery_reason == "uncorrected_suspended")
  -- all spent, or more: nothing unspent
  assert(check(project("suspended", 1000000, reported(1.0, "red"))).recovery_amount == 0)
  assert(check(project("suspended", 1000000, reported(1.3, "red"))).recovery_amount == 0)
  -- rounded down: 999 * 0.6 = 599.4
  assert(check(project("suspended", 999, reported(0.4))).recovery_amount == 599)
end)
H.check("a flagged project with a red warning loses its unspent allocation, a yellow one only its lag", function()
  local f = check(project("flagged", 1000000, reported(0.4, "red")))
  assert(f.recovery_amount == 600000 and f.recovery_reason == "uncorrected_red_warning")
  f = check(project("flagged", 1000000, reported(0.4, "yellow")))
  assert(f.recovery_amount == 515068 and f.recovery_reason == "slower_than_schedule",
         tostring(f.recovery_amount))
  -- an executing or reduced project with a red last report is not
  -- "uncorrected": it resumed with a corrective note (R-4) or was reduced
  f = check(project("executing", 1000000, reported(0.4, "red")))
  assert(f.recovery_amount == 515068 and f.recovery_reason == "slower_than_schedule")
  f = check(project("reduced", 1000000, reported(0.4, "red")))
  assert(f.recovery_reason == "slower_than_schedule")
end)
H.check("a project never reported on counts nothing as spent", function()
  local f = check(project("executing", 1000000, nil))
  assert(f.recovery_amount == 915068 and f.recovery_reason == "no_monitoring_report",
         tostring(f.recovery_amount))
  assert(f.recovery_execution_rate == 0 and f.recovery_checkpoint == "none")
  f = check(project("executing", 1000000, {}), { tolerance = 0.1 })
  assert(f.recovery_amount == 815068 and f.recovery_reason == "no_monitoring_report")
  f = check(project("suspended", 1000000, nil))
  assert(f.recovery_amount == 1000000 and f.recovery_reason == "uncorrected_suspended")
end)

H.check("must_continue: next year's budget funds what was recovered", function()
  local f = check(project("suspended", 1000, reported(0.4), { must_continue = true }))
  assert(f.recovery_amount == 600 and f.recovery_to_next_year == true)
  -- nothing recovered, nothing to fund
  f = check(project("executing", 1000, reported(TP), { must_continue = true }))
  assert(f.recovery_amount == 0 and f.recovery_to_next_year == false)
  f = check(project("suspended", 1000, reported(0.4), { must_continue = false }))
  assert(f.recovery_to_next_year == false)
  -- only a boolean true counts
  f = check(project("suspended", 1000, reported(0.4), { must_continue = "yes" }))
  assert(f.recovery_to_next_year == false)
end)
H.check("the budget year is the project's; a leap year has 366 days", function()
  -- checked after the year: the whole year has elapsed
  local f = check(project("executing", 1000, reported(0.9)), nil, "2022-01-05")
  assert(f.recovery_time_progress == 1.0 and f.recovery_amount == 100)
  f = check(project("executing", 1000, reported(0.0)), nil, "2020-11-30")
  assert(f.recovery_time_progress == 0.0 and f.recovery_amount == 0)
  local s = project("executing", 366000, reported(0.5))
  s.year = 2020
  f = check(s, nil, "2020-11-30")
  assert(f.recovery_time_progress == math.floor(335 / 366 * 1e9 + 0.5) / 1e9)
  assert(f.recovery_amount == 152000, tostring(f.recovery_amount))  -- 366000 * 152/366
end)

-- Parameters are the bureau's: a mistake is an error, never a refusal.
H.check("parameters: defaults, and mistakes are configuration errors", function()
  local s = project("executing", 1000000, reported(0.6))
  assert(r5.react(s, check_event()).recovery_amount == 315068)      -- params nil
  assert(check(s, { tolerance = 0.0 }).recovery_amount == 315068)
  assert(check(s, { tolerance = 1 }).recovery_amount == 0)
  errors(function() check(s, { tolerance = -0.01 }) end, "tolerance must be a share from 0 to 1")
  errors(function() check(s, { tolerance = 1.5 }) end, "tolerance must be")
  errors(function() check(s, { tolerance = "5%" }) end, "tolerance must be")
  errors(function() check(s, { tolerance = 0 / 0 }) end, "tolerance must be")
  errors(function() check(s, { tolerence = 0.1 }) end, "R-5 has no parameter tolerence")
  local st, ev = checked(project("executing", 1000, reported(0.6)), { recovered_amount = 315 })
  errors(function() r5.guard(st, ev, { tolerance = -1 }) end, "workflow.toml parameters")
end)
H.check("listed on another event, the plugin raises", function()
  local s = project("executing", 1000, reported(0.6))
  errors(function() r5.guard(s, check_event(), {}) end, "R-5 is a guard on recover only")
  errors(function() r5.react(s, { name = "archive", time = NOV30 }, {}) end,
         "R-5 is a reaction on recovery_check and recover only")
end)

-- recover: the finance budget section confirms the proposal.
local function refused_recover(state, ev, reason, remedy)
  local v = r5.guard(state, ev, {})
  H.refused(v, "R-5")
  assert(v.rule == "R-5")
  assert(v.reason:find(reason, 1, true), v.reason)
  if remedy then assert(v.remedy:find(remedy, 1, true), v.remedy) end
  return v
end
H.check("recover: the proposed amount is accepted", function()
  local st, ev = checked(project("flagged", 1000000, reported(0.6)), { recovered_amount = 315068 })
  H.accepted(r5.guard(st, ev, {}))
  -- nothing proposed, nothing recovered
  st, ev = checked(project("executing", 1000000, reported(TP)), { recovered_amount = 0 })
  H.accepted(r5.guard(st, ev, {}))
end)
H.check("recover: one yuan more or less than proposed needs a note", function()
  for _, n in ipairs({ 315067, 315069, 0 }) do
    local st, ev = checked(project("flagged", 1000000, reported(0.6)), { recovered_amount = n })
    local v = refused_recover(st, ev, "differs from the 315,068 yuan the year-end check of "
      .. "2021-11-30 proposed", "--set recovery_note=")
    assert(v.reason:find("slower than schedule", 1, true), v.reason)
    assert(v.remedy:find("recovered_amount=315068", 1, true), v.remedy)
  end
  local st, ev = checked(project("flagged", 1000000, reported(0.6)),
    { recovered_amount = 400000, recovery_note = "procurement cancelled in November" })
  H.accepted(r5.guard(st, ev, {}))
  -- a blank note explains nothing
  st, ev = checked(project("flagged", 1000000, reported(0.6)),
    { recovered_amount = 400000, recovery_note = "  " })
  refused_recover(st, ev, "differs from")
  -- a note already in the state, not sent with this event, does not count
  st, ev = checked(project("flagged", 1000000, reported(0.6)), { recovered_amount = 400000 })
  st.recovery_note = "an old note"
  refused_recover(st, ev, "differs from")
  -- the reason says what the proposal rests on
  st, ev = checked(project("suspended", 1000000, reported(0.4)), { recovered_amount = 500000 })
  local v = refused_recover(st, ev, "differs from the 600,000 yuan")
  assert(v.reason:find("still suspended (暂缓): its whole unspent allocation; allocation "
    .. "1,000,000, time progress 91.5068 %, execution rate 40.0 %)", 1, true), v.reason)
end)
H.check("boundary: recovering the whole allocation is allowed, a yuan more never", function()
  -- suspended with nothing spent: the proposal is the whole allocation
  local st, ev = checked(project("suspended", 1000000, reported(0), { reduced_by = 250000 }),
    { recovered_amount = 750000 })
  H.accepted(r5.guard(st, ev, {}))
  st, ev = checked(project("suspended", 1000000, reported(0), { reduced_by = 250000 }),
    { recovered_amount = 750001, recovery_note = "everything" })
  local v = refused_recover(st, ev, "recovered_amount 750,001 yuan is more than the project's "
    .. "allocation of 750,000 yuan (amount 1,000,000 less 250,000 reduced, 调减)",
    "recover at most 750,000 yuan")
  -- the amount alone, not reduced: the allocation is the amount
  st, ev = checked(project("executing", 1000, reported(0.5)),
    { recovered_amount = 1000, recovery_note = "the project is stopped" })
  H.accepted(r5.guard(st, ev, {}))
  st, ev = checked(project("executing", 1000, reported(0.5)),
    { recovered_amount = 1001, recovery_note = "the project is stopped" })
  v = refused_recover(st, ev, "is more than the project's allocation of 1,000 yuan:")
end)
H.check("recover without an amount is refused, naming the proposal", function()
  local st, ev = checked(project("flagged", 1000000, reported(0.6)), {})
  refused_recover(st, ev, "sets no recovered_amount",
    "--set recovered_amount=YUAN (the year-end check proposed 315,068)")
  -- an amount left in the state by nothing in this event is not sent
  local s = project("flagged", 1000, reported(0.6), { recovered_amount = 5 })
  refused_recover(s, recover({}), "sets no recovered_amount", "--set recovered_amount=YUAN")
end)
H.check("recover before any year-end check needs a note", function()
  local s = project("flagged", 1000000, reported(0.3, "red"), { recovered_amount = 700000 })
  local ev = recover({ recovered_amount = 700000 })
  refused_recover(s, ev, "no year-end recovery check (recovery_check) has proposed",
    "--set recovery_note=")
  ev = recover({ recovered_amount = 700000, recovery_note = "red warning since June" })
  H.accepted(r5.guard(s, ev, {}))
end)
H.check("recover: an amount that is not whole yuan is refused", function()
  for _, n in ipairs({ -1, 10.5, "100" }) do
    local s = project("flagged", 1000, reported(0.6), { recovered_amount = n })
    refused_recover(s, recover({ recovered_amount = n }), "must be a whole number of yuan")
  end
  -- a float with a whole value is whole yuan
  local st, ev = checked(project("flagged", 1000000, reported(0.6)), { recovered_amount = 315068.0 })
  H.accepted(r5.guard(st, ev, {}))
end)
H.check("recover as a reaction: next year funds what was actually recovered", function()
  local s = project("flagged", 1000, reported(0.6), { must_continue = true, recovered_amount = 10 })
  assert(r5.react(s, recover({ recovered_amount = 10 }), {}).recovery_to_next_year == true)
  s.recovered_amount = 0
  assert(r5.react(s, recover({ recovered_amount = 0 }), {}).recovery_to_next_year == false)
  s.recovered_amount, s.must_continue = 10, nil
  assert(r5.react(s, recover({ recovered_amount = 10 }), {}).recovery_to_next_year == false)
end)

-- The helpers R-5 added to plugins/jx.lua.
local jx = H.jx()
H.check("jx.floor_yuan: noise to 0.0001 yuan is no yuan lost, then down", function()
  assert(jx.floor_yuan(365 * (334 / 365 - 112 / 365)) == 222)
  assert(jx.floor_yuan(100 * 0.29) == 29)
  assert(jx.floor_yuan(999.9998) == 999 and jx.floor_yuan(999.99995) == 1000)
  assert(jx.floor_yuan(0) == 0 and jx.floor_yuan(0.9999) == 0 and jx.floor_yuan(-0.5) == -1)
  assert(math.type(jx.floor_yuan(5.0)) == "integer" and jx.floor_yuan(5.0) == 5)
  assert(jx.floor_yuan(999999999999.5) == 999999999999)
  for _, x in ipairs({ 1e12, -1e12, 0 / 0, math.huge, "5" }) do
    local v, why = jx.floor_yuan(x)
    assert(v == nil and type(why) == "string" and why ~= "", tostring(x))
  end
end)
H.check("jx.share rounds to 1e-9 and raises on a non-number", function()
  assert(jx.share(0.1 + 0.2 - 0.3) == 0 and jx.share(334 / 365) == 0.915068493)
  assert(jx.share(0.0000000005) == 0.000000001 and jx.share(0.0000000004) == 0)
  assert(not pcall(jx.share, "0.1") and not pcall(jx.share, 0 / 0))
end)
H.check("jx.year_progress: the budget year's share at a date", function()
  assert(jx.year_progress("2021-11-30T00:00:00Z", 2021) == 334 / 365)
  assert(jx.year_progress("2021-11-30", nil) == 334 / 365)
  assert(jx.year_progress("2022-01-01", 2021) == 1.0)
  assert(jx.year_progress("2020-12-31", 2021) == 0.0)
  assert(jx.year_progress("2020-11-30", 2020) == 335 / 366)
  assert(not pcall(jx.year_progress, "2021-02-29", 2021))
end)


-- The report (jx report recovery): proposals against recoveries.
local function listed(id, dept, extra, facts)
  local p = { id = id, department = dept, status = "executing", amount = 1000000,
              facts = facts or {} }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end
local function proposal(amount, reason)
  return { recovery_amount = amount, recovery_reason = reason or "slower_than_schedule",
           recovery_date = "2021-11-30" }
end
local NEXT = "funded from next year's budget"
H.check("report: per project and per department, sorted, with totals", function()
  local rep = r5.report({
    listed("H-2", "health", { status = "recovered", recovered_amount = 300 }, proposal(300)),
    listed("E-1", "education", {}, proposal(0, "on_schedule")),
    listed("H-1", "health", { status = "recovered", recovered_amount = 250,
                              must_continue = true }, proposal(200)),
    listed("E-0", "education", { status = "draft" }),
    listed("C-1", "culture", { status = "suspended", must_continue = true },
           proposal(1000, "uncorrected_suspended")),
  }, {})
  local want = {
    { "culture", "C-1", "suspended", "1,000", "uncorrected_suspended (2021-11-30)", "not yet", NEXT },
    { "culture", "(total)", "", "1,000", "", "0", "1 project, 1,000 yuan" },
    { "health", "H-1", "recovered", "200", "slower_than_schedule (2021-11-30)", "250", NEXT },
    { "health", "H-2", "recovered", "300", "slower_than_schedule (2021-11-30)", "300", "" },
    { "health", "(total)", "", "500", "", "550", "1 project, 250 yuan" },
    { "all departments", "(total)", "", "1,500", "", "550", "2 projects, 1,250 yuan" },
  }
  assert(#rep.rows == #want, #rep.rows)
  for i, w in ipairs(want) do
    for c = 1, #w do
      assert(rep.rows[i][c] == w[c], string.format("row %d col %d: %s, wanted %s", i, c,
             tostring(rep.rows[i][c]), w[c]))
    end
  end
  assert(#rep.columns == 7)
  assert(rep.notes[#rep.notes - 1] == "1 project checked with nothing to recover, not listed.")
  assert(rep.notes[#rep.notes] == "1 project neither checked nor recovered, not listed.")
end)
H.check("report: a department-wide record is not a project to recover", function()
  local rep = r5.report({ listed("D", "education", { level = "department" }) }, {})
  assert(#rep.rows == 0)
  for _, n in ipairs(rep.notes) do assert(not n:find("neither", 1, true), n) end
end)
H.check("report: must_continue with nothing recovered is not funded next year", function()
  local rep = r5.report({
    listed("A", "education", { must_continue = true }, proposal(0, "on_schedule")),
    listed("B", "education", { must_continue = true, status = "recovered",
                               recovered_amount = 0, recovery_note = "spent after all" },
           proposal(5000)),
  }, {})
  assert(rep.rows[1][7] == "", rep.rows[1][7])
  assert(rep.rows[1][6] == "0")
  assert(rep.rows[2][7] == "")
end)
H.check("report: a recovery without a check is listed as not checked", function()
  local rep = r5.report({ listed("A", "health", { status = "recovered",
    recovered_amount = 10, must_continue = true, recovery_note = "audit finding" }) }, {})
  local r = rep.rows[1]
  assert(r[4] == "not checked" and r[5] == "" and r[6] == "10" and r[7] == NEXT)
end)
H.check("report: from the facts recovery_check writes", function()
  local state = project("suspended", 800000, reported(0.5), { id = "S", department = "culture",
                                                              must_continue = true })
  for k, v in pairs(check(state)) do state.facts[k] = v end
  local rep = r5.report({ state }, {})
  assert(rep.rows[1][4] == "400,000" and rep.rows[1][7] == NEXT, rep.rows[1][4])
  assert(rep.rows[1][5] == "uncorrected_suspended (2021-11-30)")
end)
H.check("report: nothing checked yet", function()
  local rep = r5.report({}, {})
  assert(#rep.rows == 0 and rep.notes[1]:find("No project", 1, true))
  errors(function() r5.report({}, { tolerence = 0 }) end, "R-5 has no parameter tolerence")
end)
H.done()
