package.path = "tests/plugins/?.lua;" .. package.path
local H = require("harness")
local r1 = H.load("plugins/r1_staffing.lua")
local params = { officers = { education = "Zhang Wei", health = "Li Na" } }
local submit = { name = "submit", set = {} }

H.check("a department with an officer may submit", function()
  H.accepted(r1.guard({ department = "education" }, submit, params))
end)
H.check("a department without one is refused", function()
  local v = r1.guard({ department = "culture" }, submit, params)
  H.refused(v, "R-1")
  assert(v.reason:find("culture", 1, true), v.reason)
  assert(v.remedy:find("officers.culture", 1, true), v.remedy)
end)
H.check("an empty name is no officer", function()
  H.refused(r1.guard({ department = "health" }, submit,
                     { officers = { health = "" } }))
end)
H.check("no officers configured at all", function()
  H.refused(r1.guard({ department = "health" }, submit, {}))
end)
H.done()
