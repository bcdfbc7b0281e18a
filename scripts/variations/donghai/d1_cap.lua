-- D-1, a local rule of Donghai: no single project may ask for more than
-- params.cap yuan; larger undertakings are split into projects that can
-- each be monitored and evaluated.  It shows a bureau adding a rule in
-- Lua and workflow.toml, without touching C.
local M = { rule = "D-1", title = "project size cap (Donghai)" }

function M.guard(state, event, params)
  if math.type(state.amount) == "integer" and state.amount > params.cap then
    return {
      reason = string.format("%s yuan is more than Donghai's cap of %s yuan "
        .. "for one project", jx.yuan(state.amount), jx.yuan(params.cap)),
      remedy = "split the request into projects of at most "
        .. jx.yuan(params.cap) .. " yuan",
    }
  end
  return true
end

return M
