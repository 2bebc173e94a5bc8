-- String building and concatenation: the same text made three ways
-- (repeated `..`, table.concat, a string.format/gsub pipeline) must agree.
-- Short-lived strings of every size, luaL_Buffer growth (realloc), interning.
--   rcgc-lua strings.lua [N]   (default 60000; tests use 2000)
local N = math.tointeger(tonumber(arg and arg[1] or "")) or 60000

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

-- digits in the decimal form of a positive integer, without making a string
local function ndigits(i)
  local d = 1
  while i >= 10 do i = i // 10; d = d + 1 end
  return d
end

-- 1. lines built by repeated concatenation, checked against table.concat
local total_len = 0
for i = 1, N do
  local fields = 1 + i % 24
  local s = ""
  for j = 1, fields do s = s .. "f" .. (i + j) .. ";" end
  local parts = {}
  for j = 1, fields do parts[j] = "f" .. (i + j) end
  local t = table.concat(parts, ";") .. ";"
  if s ~= t then fail("line %d: concatenation %q differs from table.concat %q", i, s, t) end
  local want = 0
  for j = 1, fields do want = want + 2 + ndigits(i + j) end
  if #s ~= want then fail("line %d: length %d, expected %d", i, #s, want) end
  total_len = total_len + #s
end

-- 2. one big buffer of formatted records, then taken apart again
local recs = {}
for i = 1, N do recs[i] = string.format("%d:%s:%05.1f", i, ("k" .. i):upper(), i / 8) end
local blob = table.concat(recs, "\n")
local seen, idsum = 0, 0
for id, key, frac in blob:gmatch("(%d+):(K%d+):([%d%.]+)") do
  seen = seen + 1
  idsum = idsum + tonumber(id)
  if key ~= "K" .. id then fail("record %s has key %s", id, key) end
  if tonumber(frac) ~= tonumber(string.format("%.1f", tonumber(id) / 8)) then
    fail("record %s has value %s", id, frac)
  end
end
if seen ~= N or idsum ~= N * (N + 1) // 2 then fail("parsed %d records summing to %d", seen, idsum) end

-- 3. rewriting: gsub with a function, rep, reverse, sub
local rewritten, count = blob:gsub("K(%d+)", function(d) return "k" .. (#d) end)
if count ~= N then fail("gsub replaced %d keys, expected %d", count, N) end
local lower_len = 0
for line in rewritten:gmatch("[^\n]+") do lower_len = lower_len + #line end
local expect = 0
for i = 1, N do expect = expect + #recs[i] - ndigits(i) + #tostring(ndigits(i)) end
if lower_len ~= expect then fail("rewritten text has %d bytes, expected %d", lower_len, expect) end

-- 4. many distinct short strings as table keys (interning and rehashing)
local keys = {}
for i = 1, N * 2 do keys["s" .. (i * 7919 % (N * 2))] = i end
local distinct = 0
for _ in pairs(keys) do distinct = distinct + 1 end
if distinct ~= N * 2 then fail("%d distinct keys, expected %d", distinct, N * 2) end

-- 5. a growing, then shrinking, string built by appending and cutting
local s = ""
for i = 1, math.min(N, 20000) do
  s = s .. string.char(65 + i % 26)
  if #s > 512 then s = s:sub(257) end
end
local r = s:reverse():reverse()
if r ~= s then fail("reverse twice changed the string") end

print(string.format("strings ok: N=%d, %d bytes of lines, %d-byte buffer", N, total_len, #blob))
