-- Memory errors in the places max_bytes.lua does not reach, under a heap cap:
--   rcgc-lua --max-bytes CAP cap_stress.lua CAP
-- string.rep far past the cap, strings doubled, a table's array part and
-- hash part grown until they fail, a memory error raised inside a coroutine
-- (resume, wrap, close), inside xpcall with a message handler that itself
-- allocates, the parser running out of memory in load() of a big chunk, and
-- 40 memory errors in a row caught by pcall.  After every failure the heap
-- must hold no more than the cap, the state must still do ordinary work, and
-- at the end the host must find nothing left allocated (exit status 0).
local cap = math.tointeger(tonumber(arg[1] or ""))
if not cap then error("usage: cap_stress.lua CAP_BYTES (the cap the host was given)") end
if type(rcgc) ~= "table" then error("cap_stress.lua needs an rcgc heap (not --system)") end

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

if rcgc.stats().max_bytes ~= cap then
  fail("heap cap is %d, expected %d", rcgc.stats().max_bytes, cap)
end

local checks = 0

-- The heap is within the cap and the state still works.
local function sound(what)
  collectgarbage("collect")
  local s = rcgc.stats()
  if s.bytes_from_os > cap or s.bytes_high_water > cap then
    fail("%s: heap holds %d bytes (high water %d), cap %d", what, s.bytes_from_os,
      s.bytes_high_water, cap)
  end
  local t = {}
  for i = 1, 500 do t[i] = ("v%d"):format(i) end
  if table.concat(t, ",", 499, 500) ~= "v499,v500" then fail("%s: state broken", what) end
  local f = assert(load("local a, b = ... return a * b"))
  if f(6, 7) ~= 42 then fail("%s: load broken", what) end
  checks = checks + 1
end

local function is_nomem(err)
  return type(err) == "string" and err:find("not enough memory", 1, true) ~= nil
end

local function expect_nomem(what, f, ...)
  local before = rcgc.stats().failed_allocs
  local ok, err = pcall(f, ...)
  if ok then fail("%s: everything fitted under the cap", what) end
  if not is_nomem(err) then fail("%s: expected 'not enough memory', got %s", what, tostring(err)) end
  if rcgc.stats().failed_allocs <= before then fail("%s: no refused allocation counted", what) end
  sound(what)
end

-- string.rep: one request far past the cap, and one that just does not fit
expect_nomem("string.rep 1 GiB", string.rep, "x", 1 << 30)
expect_nomem("string.rep cap", string.rep, "ab", cap // 2 + 1)
expect_nomem("string.rep with separator", string.rep, "abc", cap // 4, "--")

-- a string doubled until it does not fit (each step copies the previous)
expect_nomem("string doubling", function()
  local s = "0123456789abcdef"
  while true do s = s .. s end
end)

-- an array part grown one element at a time, and one preallocated
expect_nomem("array growth", function()
  local t = {}
  for i = 1, math.huge do t[i] = i end
end)
expect_nomem("table.move into a new array", function()
  local src = {}
  for i = 1, 1000 do src[i] = i end
  local dst = {}
  for k = 0, math.huge do table.move(src, 1, 1000, k * 1000 + 1, dst) end
end)
-- a hash part with float keys (no interned strings, only the node vector)
expect_nomem("hash growth", function()
  local t = {}
  for i = 1, math.huge do t[i + 0.5] = true end
end)

-- a coroutine: resume reports the error, the coroutine is dead, close works
do
  local co = coroutine.create(function()
    local t = {}
    coroutine.yield("started")
    for i = 1, math.huge do t[i] = { i } end
  end)
  local ok, v = coroutine.resume(co)
  if not ok or v ~= "started" then fail("coroutine: first resume gave %s %s", ok, v) end
  local before = rcgc.stats().failed_allocs
  ok, v = coroutine.resume(co)
  -- the dead coroutine's stack still holds what filled the heap: close it
  -- (which frees that) before anything else allocates
  local status = coroutine.status(co)
  local cok, cv = coroutine.close(co)
  if ok or not is_nomem(v) then fail("coroutine: resume gave %s %s", ok, tostring(v)) end
  if status ~= "dead" then fail("coroutine: status %s", status) end
  if cok or not is_nomem(cv) then fail("coroutine.close gave %s %s", cok, tostring(cv)) end
  if rcgc.stats().failed_allocs <= before then fail("coroutine: no refused allocation") end
  co = nil
  sound("coroutine.resume")
  -- coroutine.wrap propagates the error to the caller
  expect_nomem("coroutine.wrap", coroutine.wrap(function()
    local s = {}
    for i = 1, math.huge do s[i] = ("%d"):rep(40) .. i end
  end))
  -- many coroutines, each with a stack of its own
  expect_nomem("many coroutines", function()
    local all = {}
    for i = 1, math.huge do
      local co = coroutine.create(function(n) local a = { n } coroutine.yield(a) end)
      coroutine.resume(co, i)
      all[i] = co
    end
  end)
end

-- xpcall: a memory error does not call the message handler (status
-- LUA_ERRMEM); an ordinary error does, and the handler allocates
do
  local handler_calls = 0
  local function handler(m)
    handler_calls = handler_calls + 1
    return "handled: " .. tostring(m) .. " " .. debug.traceback()
  end
  local ok, err = xpcall(function() local t = {} for i = 1, math.huge do t[i] = { i } end end,
    handler)
  if ok or not is_nomem(err) then fail("xpcall nomem: %s %s", ok, tostring(err)) end
  sound("xpcall nomem")
  ok, err = xpcall(function() error("plain") end, handler)
  if ok or type(err) ~= "string" or not err:find("^handled: [^\n]*plain") then
    fail("xpcall plain: %s %s", ok, tostring(err))
  end
  if handler_calls ~= 1 then fail("xpcall: handler called %d times, expected 1", handler_calls) end
  sound("xpcall plain")
  -- a handler that runs out of memory itself: some error comes back, never a crash
  ok, err = xpcall(function() error("first") end,
    function(m) local t = {} for i = 1, math.huge do t[i] = { i } end end)
  if ok then fail("xpcall: a failing handler returned success") end
  sound("xpcall failing handler")
end

-- the parser out of memory: load() returns nil and the message
do
  local parts = {}
  for i = 1, 1000 do parts[i] = ("t[%d] = { %d, 'k%d', x = %d }"):format(i, i, i, i) end
  local unit = table.concat(parts, "\n")
  local before = rcgc.stats().failed_allocs
  local f, err = load((function()
    local n = 0
    return function()
      n = n + 1
      if n > 400000 then return nil end
      return "do local t = {}\n" .. unit .. "\nend\n"
    end
  end)())
  if f ~= nil or not is_nomem(err) then fail("load of a huge chunk: %s %s", tostring(f), tostring(err)) end
  if rcgc.stats().failed_allocs <= before then fail("load: no refused allocation") end
  sound("load of a huge chunk")
  -- a smaller one still loads and runs
  f = assert(load("local t = {}\n" .. unit .. "\nreturn 7"))
  if f() ~= 7 then fail("load after the failure") end
  f = nil
  sound("load afterwards")
end

-- forty failures in a row, kinds alternating
for round = 1, 40 do
  if round % 2 == 0 then
    expect_nomem("round " .. round, function()
      local t = {}
      for i = 1, math.huge do t[#t + 1] = ("r%d-%d"):format(round, i) end
    end)
  else
    expect_nomem("round " .. round, string.rep, "z", cap + round)
  end
end

print(("cap_stress ok: %d checks, %d refused allocations"):format(checks,
  rcgc.stats().failed_allocs))
