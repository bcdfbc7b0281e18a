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
local kparams = { kinds = params.kinds, key_review_amount = 10000000,
                 key_review_before = { "finance_approve" } }
local approve = { name = "finance_approve", set = {} }
H.check("boundary: 9,999,999 needs no key review", function()
  H.accepted(r3.guard({ kind = "new", amount = 9999999, targets = good }, approve, kparams))
end)
H.check("boundary: 10,000,000 needs the key review (重点审核)", function()
  local v = r3.guard({ kind = "new", amount = 10000000, targets = good }, approve, kparams)
  H.refused(v, "R-3")
  assert(v.reason:find("10,000,000", 1, true), v.reason)
end)
H.check("a key project needs it whatever its amount", function()
  H.refused(r3.guard({ kind = "new", amount = 1, key_project = true, targets = good }, approve, kparams))
end)
H.check("the key review recorded lets it pass", function()
  local facts = r3.react({}, { name = "key_review" }, kparams)
  assert(facts.key_reviewed == true)
  H.accepted(r3.guard({ kind = "new", amount = 10000000, targets = good, facts = facts }, approve, kparams))
end)
H.check("only the listed events need it", function()
  H.accepted(r3.guard({ kind = "new", amount = 20000000, targets = good }, submit, kparams))
end)
H.done()
