package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local jx = assert(loadfile("plugins/jx.lua", "t", {
  string = string, ipairs = ipairs,
}))()

H.check("member", function()
  assert(jx.member({ "a", "b" }, "b"))
  assert(not jx.member({ "a" }, "c"))
  assert(not jx.member(nil, "c"))
end)
H.check("yuan", function()
  assert(jx.yuan(5000000) == "5,000,000", jx.yuan(5000000))
  assert(jx.yuan(4999999) == "4,999,999")
  assert(jx.yuan(100) == "100")
  assert(jx.yuan(1000) == "1,000")
  assert(jx.yuan(-1234567) == "-1,234,567", jx.yuan(-1234567))
  assert(jx.yuan(0) == "0")
end)
H.done()
