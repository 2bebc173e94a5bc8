-- Closures and coroutines: counters and accumulators capturing upvalues,
-- chains of composed functions, memoising wrappers, generators made with
-- coroutines (each a new lua_State with a growing stack).  Results are
-- checked against closed forms.
--   rcgc-lua closures.lua [N]   (default 1200000; tests use 2000)
local N = math.tointeger(tonumber(arg and arg[1] or "")) or 1200000

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

-- 1. counters: each closure owns one upvalue
local function counter(start)
  local n = start
  return function(step) n = n + step; return n end
end
local total = 0
for i = 1, N do
  local c = counter(i)
  for _ = 1, 5 do c(1) end
  total = total + c(0)
end
-- sum over i of (i + 5)
if total ~= N * (N + 1) // 2 + 5 * N then fail("counters: %d", total) end

-- 2. composition: f_k(x) = x + k built as a chain of closures
local function adder(k) return function(x) return x + k end end
local function compose(f, g) return function(x) return g(f(x)) end end
local chained = 0
for i = 1, N // 20 do
  local f = adder(0)
  for k = 1, 20 do f = compose(f, adder(k)) end
  chained = chained + f(i)
end
-- each chain adds 1 + 2 + ... + 20 = 210
local m = N // 20
if chained ~= m * (m + 1) // 2 + 210 * m then fail("composition: %d", chained) end

-- 3. shared upvalues: closures made in one scope see each other's writes
local shared_total = 0
for i = 1, N // 2 do
  local x = i
  local get = function() return x end
  local inc = function() x = x + 1 end
  local dbl = function() x = x * 2 end
  inc(); dbl(); inc()
  shared_total = shared_total + get()
end
-- ((i + 1) * 2) + 1 = 2i + 3
local h = N // 2
if shared_total ~= h * (h + 1) + 3 * h then fail("shared upvalues: %d", shared_total) end

-- 4. memoisation: a cache table per wrapper
local function memo(f)
  local cache = {}
  return function(n)
    local v = cache[n]
    if v == nil then v = f(n); cache[n] = v end
    return v
  end
end
local memo_total = 0
for i = 1, N // 50 do
  local fib
  fib = memo(function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end)
  memo_total = memo_total + fib(40 + i % 10)
end
local fibs = { [0] = 0, 1 }
for k = 2, 49 do fibs[k] = fibs[k - 1] + fibs[k - 2] end
local want = 0
for i = 1, N // 50 do want = want + fibs[40 + i % 10] end
if memo_total ~= want then fail("memoised fib: %d, expected %d", memo_total, want) end

-- 5. generators: one coroutine per range, consumed to the end
local function range(a, b)
  return coroutine.wrap(function() for v = a, b do coroutine.yield(v) end end)
end
local gen_total, gens = 0, 0
for i = 1, N // 10 do
  for v in range(i, i + 9) do gen_total = gen_total + v end
  gens = gens + 1
end
-- each range sums 10i + 45
local g = N // 10
if gen_total ~= 10 * (g * (g + 1) // 2) + 45 * g then fail("generators: %d", gen_total) end

-- 6. varargs and table.pack/unpack through closures
local packed = 0
for i = 1, N // 4 do
  local f = function(...) local t = table.pack(...); return t.n, select("#", ...), t[t.n] end
  local a, b, c = f(i, i + 1, i + 2, i + 3)
  if a ~= 4 or b ~= 4 or c ~= i + 3 then fail("varargs %d: %s %s %s", i, a, b, c) end
  packed = packed + c
end

print(string.format("closures ok: N=%d, %d generators, checks %d %d %d %d", N, gens, total, chained,
  shared_total, packed))
