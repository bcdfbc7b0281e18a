-- R-6 third-party institutions (第三方机构): guard, reaction and a report
-- (`jx report third_party`).
--
-- The finance bureau brings in third-party institutions (consultancies,
-- accounting and law firms, research institutes, universities) to
-- evaluate projects on contract, assesses the quality of their work and
-- manages them by that assessment.  An institution must be independent of
-- the client and of the evaluated project.  The registry is this plugin's
-- parameter, so that the guard, the reaction and the report read one list.
--
-- On grade (guard): a grade that sets third_party (evaluated on contract)
-- names a registered institution, and one not related to the project's
-- department or unit; a grade without third_party passes.
-- On grade (react): records facts third_party (the institution's key) and
-- third_party_name when the grade set third_party; nothing otherwise.
-- On rate_third_party (the performance section's; guard and reaction):
--   guard  refuses unless the project was graded by a third party (fact
--          third_party) and the event sets third_party_quality = { score
--          0..100, note }, a non-blank note;
--   react  records facts third_party_quality (the score, a float),
--          third_party_quality_grade (its band: excellent, good, fair or
--          poor, under params.bands) and third_party_rated_by.
-- On any other event the plugin is misconfigured and raises an error.
--
-- The report lists every registered institution (by key, bytewise), then
-- any key projects name that the registry no longer has: the projects it
-- evaluated (fact third_party), those rated, their average quality score,
-- and whether it may still be engaged: its average is at least
-- params.min_quality, or it has not been rated yet; never when it is no
-- longer registered.
--
-- params.institutions  { KEY = { name = "...", related = ["health", ...] } }:
--                      related lists the departments and units (their
--                      names as the projects' fields department and unit
--                      hold them) the institution has ties with (default:
--                      none registered)
-- params.min_quality   average quality score, 0 to 100, at or above which
--                      an institution may still be engaged (default 70)
-- params.bands         {excellent, good, fair} for the quality score's band
--                      (default the national 90/80/60)
local M = { rule = "R-6", title = "third-party institutions (第三方机构)" }

local DEFAULTS = { institutions = {}, min_quality = 70, bands = false }
local EXAMPLE = "--set 'third_party_quality={score=85, note=\"report "
  .. "complete, indicators verified on site\"}'"

local function bad(why)
  error("workflow.toml parameters: R-6 third_party " .. why, 0)
end

-- Parameters are the bureau's: a mistake there is an error of the
-- deployment (exit 5), never a refusal.
local function check_params(params)
  local p = jx.params(params, DEFAULTS, "R-6 third_party")
  p.bands = p.bands or jx.default_bands()
  local ok, why = jx.grade(0, p.bands)
  if not ok then bad(why) end
  if not jx.finite(p.min_quality) or p.min_quality < 0
     or p.min_quality > 100 then
    bad("min_quality must be a score from 0 to 100, not "
      .. tostring(p.min_quality))
  end
  if type(p.institutions) ~= "table" then
    bad("institutions must be a table like {\"hl-consult\" = {name = "
      .. "\"Hailin Performance Consulting\", related = [\"health\"]}}")
  end
  for k in pairs(p.institutions) do
    if type(k) ~= "string" then
      bad("institutions must be keyed by the institution's short name, "
        .. "not a list")
    end
  end
  for key, inst in sorted_pairs(p.institutions) do
    local i = jx.params(inst, { name = false, related = {} },
      "R-6 third_party institutions." .. key)
    if type(i.name) ~= "string" or not i.name:find("%S") then
      bad("institutions." .. key .. ".name must be the institution's name")
    end
    if not jx.string_list(i.related) then
      bad("institutions." .. key .. ".related must be a list of "
        .. "departments and units, like [\"health\", \"hlt-clinic-1\"]")
    end
  end
  return p
end

local function refuse(reason, remedy)
  return { rule = M.rule, reason = reason, remedy = remedy }
end

local function has_text(s)
  return type(s) == "string" and s:find("%S") ~= nil
end

local function keys(t)
  local list = {}
  for k in sorted_pairs(t) do list[#list + 1] = k end
  return list
end

-- The registered institutions independent of the project, as a hint.
local function independent(state, p)
  local list = {}
  for key, inst in sorted_pairs(p.institutions) do
    local related = inst.related or {}
    if not jx.member(related, state.department)
       and not jx.member(related, state.unit) then
      list[#list + 1] = key
    end
  end
  return list
end

local function alternatives(state, p)
  local list = independent(state, p)
  if #list == 0 then
    return "no registered institution is independent of this project: "
      .. "register one in workflow.toml (R-6 third_party institutions), "
      .. "or grade without third_party"
  end
  return "engage an independent registered institution: --set "
    .. "third_party=" .. list[1] .. " (independent of this project: "
    .. table.concat(list, ", ") .. ")"
end

local function check_grade(state, event, p)
  local key = (event.set or {}).third_party
  if key == nil then return true end
  local inst = type(key) == "string" and p.institutions[key] or nil
  if inst == nil then
    local registered = keys(p.institutions)
    return refuse(string.format("third_party %s is not in the registry of "
      .. "third-party institutions (workflow.toml, R-6 third_party "
      .. "institutions: %s)", type(key) == "string" and key or tostring(key),
      #registered > 0 and table.concat(registered, ", ") or "none"),
      alternatives(state, p))
  end
  for _, tie in ipairs(inst.related or {}) do
    for _, field in ipairs({ "department", "unit" }) do
      if state[field] == tie then
        return refuse(string.format("third_party %s (%s) is not independent "
          .. "of the project: the registry records a tie with %s, the "
          .. "project's %s; an evaluating institution must be independent "
          .. "of the client and of the evaluated project", key, inst.name,
          tie, field), alternatives(state, p))
      end
    end
  end
  return true
end

local function check_rating(state, event)
  local facts = type(state.facts) == "table" and state.facts or {}
  if type(facts.third_party) ~= "string" then
    return refuse("only the work of a third-party institution is rated, "
      .. "and this project was not graded by one (no fact third_party)",
      "rate a project whose grade set third_party=INSTITUTION")
  end
  local q = (event.set or {}).third_party_quality
  if type(q) ~= "table" then
    return refuse("the rating of " .. facts.third_party .. "'s evaluation "
      .. "sets no third_party_quality {score, note}", "send " .. EXAMPLE)
  end
  for k in sorted_pairs(q) do
    if k ~= "score" and k ~= "note" then
      return refuse("third_party_quality has a key " .. k .. "; it has "
        .. "only score and note", "send " .. EXAMPLE)
    end
  end
  if not jx.finite(q.score) or q.score < 0 or q.score > 100 then
    return refuse("third_party_quality.score must be a number of points "
      .. "from 0 to 100 (it is " .. tostring(q.score) .. ")",
      "send " .. EXAMPLE)
  end
  if not has_text(q.note) then
    return refuse("a quality rating must say what it rests on, and "
      .. "third_party_quality has no note", "send " .. EXAMPLE)
  end
  return true
end

function M.guard(state, event, params)
  local p = check_params(params)
  if event.name == "grade" then
    return check_grade(state, event, p)
  elseif event.name == "rate_third_party" then
    return check_rating(state, event)
  end
  error("R-6 third_party is a guard on grade and rate_third_party only, "
    .. "not on " .. tostring(event.name), 0)
end

function M.react(state, event, params)
  local p = check_params(params)
  if event.name == "grade" then
    local key = (event.set or {}).third_party
    if key == nil then return nil end
    local inst = p.institutions[key]
    if inst == nil then
      error("R-6 third_party: " .. tostring(key) .. " is not registered "
        .. "(the guard refuses it first; is third_party a reaction without "
        .. "its guard?)", 0)
    end
    return { third_party = key, third_party_name = inst.name }
  elseif event.name == "rate_third_party" then
    local q = state.third_party_quality
    if type(q) ~= "table" or not jx.finite(q.score) then
      error("R-6 third_party: third_party_quality has no score (the guard "
        .. "refuses it first; is third_party a reaction without its "
        .. "guard?)", 0)
    end
    return { third_party_quality = q.score + 0.0,
             third_party_quality_grade = jx.grade(q.score, p.bands),
             third_party_rated_by = event.actor }
  end
  error("R-6 third_party is a reaction on grade and rate_third_party only, "
    .. "not on " .. tostring(event.name), 0)
end

-- To 0.01, halves up (scores are never negative).
local function round2(x)
  return math.floor(x * 100 + 0.5) / 100
end

function M.report(projects, params)
  local p = check_params(params)
  local by, order = {}, keys(p.institutions)
  for _, key in ipairs(order) do
    by[key] = { n = 0, rated = 0, sum = 0, inst = p.institutions[key] }
  end
  local unregistered = {}
  for _, project in ipairs(projects) do
    local facts = type(project.facts) == "table" and project.facts or {}
    local key = facts.third_party
    if type(key) == "string" then
      local t = by[key]
      if not t then
        t = { n = 0, rated = 0, sum = 0 }
        by[key] = t
        unregistered[#unregistered + 1] = key
      end
      t.n = t.n + 1
      if jx.finite(facts.third_party_quality) then
        t.rated = t.rated + 1
        t.sum = t.sum + facts.third_party_quality
      end
    end
  end
  table.sort(unregistered, jx.bytewise_less)
  for _, key in ipairs(unregistered) do order[#order + 1] = key end
  local rows, barred = {}, {}
  for _, key in ipairs(order) do
    local t = by[key]
    local avg = t.rated > 0 and round2(t.sum / t.rated) or nil
    local engage, may = "yes", true
    if not t.inst then
      engage, may = "no (not registered)", false
    elseif avg == nil then
      engage = "yes (not yet rated)"
    elseif avg < p.min_quality then
      engage, may = "no (below " .. jx.points(p.min_quality) .. ")", false
    end
    if not may then barred[#barred + 1] = key end
    rows[#rows + 1] = {
      key, t.inst and t.inst.name or "(not registered)",
      t.inst and table.concat(t.inst.related or {}, ", ") or "",
      t.n, t.rated, avg and jx.points(avg) or "none",
      avg and jx.grade_zh(jx.grade(avg, p.bands)) or "", engage,
    }
  end
  local notes = {}
  if #order == 0 then
    notes[#notes + 1] = "No third-party institution is registered or has "
      .. "evaluated a project."
  end
  notes[#notes + 1] = string.format("An institution may still be engaged "
    .. "while the average quality score of its evaluations is at least %s "
    .. "(min_quality); one not yet rated may be.", jx.points(p.min_quality))
  notes[#notes + 1] = "An institution is never engaged on a project of a "
    .. "department or unit it is related to (the grade is refused)."
  if #barred > 0 then
    notes[#notes + 1] = "Not to be engaged: " .. table.concat(barred, ", ")
      .. "."
  end
  return {
    title = "Third-party institutions (R-6, 第三方机构)",
    columns = { "institution", "name", "related to", "projects evaluated",
                "rated", "average quality", "band", "may be engaged" },
    rows = rows,
    notes = notes,
  }
end

return M
