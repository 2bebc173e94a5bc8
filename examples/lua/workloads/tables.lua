-- Table churn: keys inserted and deleted at random in hash parts, arrays
-- grown one element at a time (each doubling is a realloc), queues pushed
-- at one end and popped at the other, records made and dropped.  Every
-- structure is checked against a running count and sum kept beside it.
--   rcgc-lua tables.lua [N]   (default 120000; tests use 3000)
local N = math.tointeger(tonumber(arg and arg[1] or "")) or 120000

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

-- a small deterministic generator (LCG, 31 bits)
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n + 1
end

-- 1. hash churn: integer and string keys come and go
local h, live, sum = {}, 0, 0
for _ = 1, N * 4 do
  local k = rand(N)
  local key = (k % 3 == 0) and ("k" .. k) or k
  local v = h[key]
  if v then
    h[key] = nil
    live = live - 1
    sum = sum - v
  else
    h[key] = k
    live = live + 1
    sum = sum + k
  end
end
local c, s = 0, 0
for _, v in pairs(h) do c = c + 1; s = s + v end
if c ~= live or s ~= sum then fail("hash: %d entries summing to %d, expected %d and %d", c, s, live, sum) end

-- 2. arrays grown from empty, then trimmed from the end
local total = 0
for i = 1, N // 4 do
  local a = {}
  local len = 1 + i % 100
  for j = 1, len do a[j] = j * i end
  for _ = 1, len // 2 do table.remove(a) end
  local t = 0
  for j = 1, #a do t = t + a[j] end
  local keep = len - len // 2
  if #a ~= keep or t ~= i * keep * (keep + 1) // 2 then fail("array %d: length %d sum %d", i, #a, t) end
  total = total + #a
end

-- 3. a FIFO queue with head and tail indices (the array part slides)
local q, head, tail = {}, 1, 0
local pushed, popped = 0, 0
for i = 1, N * 2 do
  if rand(3) ~= 1 then
    tail = tail + 1; q[tail] = { i }; pushed = pushed + i
  elseif head <= tail then
    popped = popped + q[head][1]; q[head] = nil; head = head + 1
  end
end
local rest = 0
for i = head, tail do rest = rest + q[i][1] end
if pushed ~= popped + rest then fail("queue: pushed %d, popped %d, left %d", pushed, popped, rest) end

-- 4. records with a few fields, some deleted again, in a keyed index
local byname, nrec = {}, 0
for i = 1, N do
  byname["rec" .. i] = { id = i, x = i * 2, y = i * 3, tags = { "a", "b", i % 7 } }
  nrec = nrec + 1
  if i % 5 == 0 then
    local victim = "rec" .. (i - rand(4))
    if byname[victim] then byname[victim] = nil; nrec = nrec - 1 end
  end
end
local n, xs = 0, 0
for name, r in pairs(byname) do
  if name ~= "rec" .. r.id or r.x ~= 2 * r.id or r.tags[3] ~= r.id % 7 then fail("record %s damaged", name) end
  n = n + 1
  xs = xs + r.x
end
if n ~= nrec then fail("records: %d left, expected %d", n, nrec) end

-- 5. table.insert in the middle and table.remove from the front of small lists
local moved = 0
for i = 1, N // 10 do
  local l = {}
  for j = 1, 32 do table.insert(l, (j + 1) // 2, j) end
  for _ = 1, 16 do moved = moved + table.remove(l, 1) end
  if #l ~= 16 then fail("list %d has %d elements", i, #l) end
end

print(string.format("tables ok: N=%d, hash %d live, %d array elements, %d records (x sum %d), moved %d",
  N, live, total, n, xs, moved))
