-- The helpers every rule plugin may use, as the global `jx`.  Pure
-- functions only: like the plugins they run in the sandbox, afresh for
-- each decision, without clock, I/O or randomness.
local jx = {}

-- Whether `value` is one of the elements of `list`.
function jx.member(list, value)
  for _, v in ipairs(list or {}) do
    if v == value then return true end
  end
  return false
end

-- An amount of yuan as people write it: 5000000 -> "5,000,000".
function jx.yuan(n)
  local s = string.format("%d", n)
  local sign, digits = s:match("^(-?)(%d+)$")
  digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return sign .. digits:gsub("^,", "")
end

return jx
