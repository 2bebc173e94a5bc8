-- Errors the host must report as `lua` does: "rcgc-lua: msg", a traceback,
-- exit status 1.  arg[1] picks the kind.
local kind = arg[1] or "string"

local function inner()
  if kind == "table" then
    error({ code = 42 })                 -- not a string: the host names its type
  elseif kind == "nomem" then
    local t = {}
    for i = 1, math.huge do              -- past the cap, outside any pcall
      t[i] = string.rep("x", 1000) .. i
    end
  else
    error("boom from the script")
  end
end

local function outer() inner() end
outer()
