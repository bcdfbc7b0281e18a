-- R-1 staffing and rules (专职人员).
--
-- Every department names dedicated performance-management staff.  A
-- department without a registered performance officer cannot submit
-- projects.
--
-- params.officers  department -> the name of its performance officer
local M = { rule = "R-1", title = "performance officer (绩效管理专职人员)" }

function M.guard(state, event, params)
  local department = state.department
  local officer = (params.officers or {})[department]
  if type(officer) == "string" and officer ~= "" then
    return true
  end
  return {
    reason = string.format("department %s has no registered performance "
      .. "officer (专职人员)", tostring(department)),
    remedy = string.format("register one under officers.%s of the r1_staffing "
      .. "plugin in workflow.toml", tostring(department)),
  }
end

return M
