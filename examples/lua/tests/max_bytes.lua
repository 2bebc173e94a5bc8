-- Run with a heap cap (rcgc-lua --max-bytes CAP, or RCGC_LUA_MAX_BYTES=CAP):
--   rcgc-lua --max-bytes 8M max_bytes.lua 8388608
-- Every way of allocating past the cap must end in Lua's ordinary
-- "not enough memory" error, which pcall catches; the heap never holds more
-- than the cap, and afterwards the script goes on working normally.
local cap = math.tointeger(tonumber(arg[1] or ""))
if not cap then error("usage: max_bytes.lua CAP_BYTES (the cap the host was given)") end
if type(rcgc) ~= "table" then error("max_bytes.lua needs an rcgc heap (not --system)") end

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

local st = rcgc.stats()
if st.max_bytes ~= cap then fail("heap cap is %d, expected %d", st.max_bytes, cap) end

local failures_seen = st.failed_allocs
local lifted = false -- has the script lifted the cap yet?

-- Some ordinary work that needs a little memory: proves the state is sound.
local function ordinary_work(n)
  local t = {}
  for i = 1, n do t[i] = { id = i, name = "item" .. i } end
  table.sort(t, function(a, b) return a.name < b.name end)
  local sum = 0
  for _, v in ipairs(t) do sum = sum + v.id end
  if sum ~= n * (n + 1) // 2 then fail("ordinary work: sum %d, expected %d", sum, n * (n + 1) // 2) end
  local s = table.concat({ "a", "b", string.rep("c", 100) }, "-")
  if #s ~= 104 then fail("ordinary work: string length %d", #s) end
end

local function expect_nomem(what, f)
  local ok, err = pcall(f)
  if ok then fail("%s: expected a memory error, but everything fitted under the cap", what) end
  if type(err) ~= "string" or not err:find("not enough memory", 1, true) then
    fail("%s: expected 'not enough memory', got %s", what, tostring(err))
  end
  local s = rcgc.stats()
  -- the cap bounds what the heap holds (before the first lift, at all times)
  if s.bytes_from_os > cap or (not lifted and s.bytes_high_water > cap) then
    fail("%s: heap holds %d bytes (high water %d), over the cap of %d", what, s.bytes_from_os,
      s.bytes_high_water, cap)
  end
  if s.failed_allocs <= failures_seen then fail("%s: no failed allocation counted", what) end
  failures_seen = s.failed_allocs
  collectgarbage("collect")
  ordinary_work(2000)
  return err
end

-- many small objects: a table of small tables
local err = expect_nomem("small objects", function()
  local t = {}
  for i = 1, math.huge do t[i] = { i, i + 1 } end
end)
if err ~= "not enough memory" then fail("core memory error has message %q", err) end

-- one block far bigger than the cap
expect_nomem("one huge string", function() return string.rep("x", cap * 2) end)

-- strings growing by concatenation, all kept alive
expect_nomem("string concatenation", function()
  local keep, s = {}, ""
  for i = 1, math.huge do
    s = s .. tostring(i)
    if #s > 4096 then keep[#keep + 1] = s; s = "" end
  end
end)

-- a luaL_Buffer that keeps growing
expect_nomem("table.concat", function()
  local parts = {}
  for i = 1, math.huge do
    parts[i] = string.format("%08d", i)
    if i % 50000 == 0 then parts[#parts + 1] = table.concat(parts) end
  end
end)

-- a hash part that keeps doubling
expect_nomem("hash growth", function()
  local t = {}
  for i = 1, math.huge do t["key" .. i] = i end
end)

-- inside a coroutine: resume reports the error instead of raising it
do
  local co = coroutine.create(function()
    local t = {}
    for i = 1, math.huge do t[i] = { i } end
  end)
  local ok, e = coroutine.resume(co)
  if ok or not tostring(e):find("not enough memory", 1, true) then
    fail("coroutine: expected a memory error, got %s %s", tostring(ok), tostring(e))
  end
  co = nil
  collectgarbage("collect")
  ordinary_work(2000)
end

-- Lifting the cap makes the same request succeed; restoring it works too.
rcgc.set_max_bytes(0)
lifted = true
local big = string.rep("y", cap + 1)
if #big ~= cap + 1 then fail("uncapped string has length %d", #big) end
big = nil
collectgarbage("collect")
rcgc.trim() -- debug mode keeps freed blocks in quarantine until trimmed
rcgc.set_max_bytes(cap)
expect_nomem("after restoring the cap", function() return string.rep("z", cap + 1) end)

-- Many failures in a row, each one caught: the host goes on.
for round = 1, 12 do
  local ok = pcall(function()
    local t = {}
    if round % 3 == 0 then
      for i = 1, math.huge do t[i] = { i } end
    elseif round % 3 == 1 then
      for i = 1, math.huge do t[i] = "s" .. i end
    else
      for i = 1, math.huge do t[i] = i end -- one array, doubling
    end
  end)
  if ok then fail("round %d: no memory error", round) end
  collectgarbage("collect")
end
ordinary_work(5000)

local s = rcgc.stats()
print(string.format("max_bytes ok: cap %d, high water %d, %d failed allocations, mode %s",
  cap, s.bytes_high_water, s.failed_allocs, s.mode))
