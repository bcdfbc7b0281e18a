package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r2 = H.load("plugins/r2_ex_ante.lua")
local params = { threshold = 5000000, kinds = { "new", "adjust", "expand", "continue" } }
local submit = { name = "submit", set = {} }

local function project(amount, extra)
  local p = { kind = "new", amount = amount }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

H.check("boundary: 4,999,999 needs no report", function()
  H.accepted(r2.guard(project(4999999), submit, params))
end)
H.check("boundary: 5,000,000 without report is refused (inclusive)", function()
  H.refused(r2.guard(project(5000000), submit, params), "R-2")
end)
H.check("5,000,000 with a report passes", function()
  H.accepted(r2.guard(project(5000000, { ex_ante_report = "reports/a.pdf" }), submit, params))
end)
H.check("an empty report counts as none", function()
  H.refused(r2.guard(project(6000000, { ex_ante_report = "" }), submit, params))
end)
H.check("adjust, expand and continue are covered", function()
  for _, kind in ipairs({ "adjust", "expand", "continue" }) do
    H.refused(r2.guard({ kind = kind, amount = 9000000 }, submit, params))
  end
end)
H.check("a kind outside params.kinds is not covered", function()
  H.accepted(r2.guard({ kind = "routine", amount = 9000000 }, submit, params))
end)
H.check("conclusion other than support is refused", function()
  H.refused(r2.guard(project(5000000, { ex_ante_report = "r", ex_ante_conclusion = "do_not_support" }), submit, params))
  H.accepted(r2.guard(project(5000000, { ex_ante_report = "r", ex_ante_conclusion = "予以支持" }), submit, params))
end)
H.check("an amount that is not an integer is refused, not waved through", function()
  H.refused(r2.guard(project("9000000"), submit, params), "R-2")
  H.refused(r2.guard(project(9000000.5), submit, params), "R-2")
end)
H.check("the reason writes amounts as people do", function()
  local v = r2.guard(project(5000000), submit, params)
  assert(v.reason:find("5,000,000 yuan", 1, true), v.reason)
end)
H.check("the threshold is a parameter", function()
  local p = { threshold = 1000000, kinds = params.kinds }
  H.refused(r2.guard(project(1000000), submit, p))
end)
H.check("a supplementary request is judged on its own amount", function()
  local p = { threshold = 5000000, kinds = { "supplementary" } }
  local ev = { name = "supplement", set = { supplement_amount = 5000000 } }
  H.refused(r2.guard(project(100), ev, p))
end)
H.done()
