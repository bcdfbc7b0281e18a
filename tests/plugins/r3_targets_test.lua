package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r3 = H.load("plugins/r3_targets.lua")
local params = { kinds = { "new", "adjust", "expand", "continue", "supplementary", "追加" } }
local submit = { name = "submit", set = {} }
local good = { { indicator = "schools renovated", value = 12, unit = "schools" } }

H.check("no targets is refused", function()
  H.refused(r3.guard({ kind = "new", amount = 1 }, submit, params), "R-3")
end)
H.check("an empty target list is refused", function()
  H.refused(r3.guard({ kind = "new", targets = {} }, submit, params))
end)
H.check("a target without a value is refused", function()
  H.refused(r3.guard({ kind = "new", targets = { { indicator = "x" } } }, submit, params))
end)
H.check("well-formed targets pass", function()
  H.accepted(r3.guard({ kind = "new", targets = good }, submit, params))
end)
H.check("追加 as a kind is covered", function()
  H.refused(r3.guard({ kind = "追加" }, submit, params))
end)
H.check("a supplementary request needs its own targets", function()
  local ev = { name = "supplement", set = { supplement_amount = 300000 } }
  H.refused(r3.guard({ kind = "new", targets = good }, ev, params))
  ev.set.supplement_targets = good
  H.accepted(r3.guard({ kind = "new", targets = good }, ev, params))
end)
H.done()
