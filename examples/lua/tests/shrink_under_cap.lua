-- A block Lua shrinks while the heap is at its cap (rcgc-lua, any mode):
--   rcgc-lua --mode MODE shrink_under_cap.lua
-- Lua 5.4 shrinks a table's array part with a realloc (luaH_resize).  When
-- the smaller block cannot be had under the cap, the capped allocation
-- function keeps the old, bigger block (docs/clients.md, "a shrink that
-- still cannot be done ... keeps the old block").  Lua then believes the block
-- has the smaller size and later frees it with that size: the table must
-- still hold its values, and freeing it must work (the host exits 0 with
-- nothing left allocated), in odd rounds at once, in even ones after the
-- array has grown back (a realloc of the kept block).
if type(rcgc) ~= "table" then error("shrink_under_cap.lua needs an rcgc heap (not --system)") end

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

local results = {}
for round = 1, 4 do
  local n = 256 << round                   -- array parts of 8 KiB .. 64 KiB
  local t = {}
  for i = 1, n do t[i] = i * 3 end
  for i = n // 2 + 1, n do t[i] = nil end
  collectgarbage("collect")
  collectgarbage("collect")
  rcgc.trim()
  local before = rcgc.stats().failed_allocs
  local held = rcgc.stats().bytes_from_os
  -- under the cap nothing new may be had but blocks in pools already held;
  -- the function runs deeper than the call lifting the cap, so that call
  -- finds the stack big enough
  local ok, err = pcall(function()
    rcgc.set_max_bytes(held)
    t.x = 1                                -- a rehash: the array part halves
  end)
  rcgc.set_max_bytes(0)
  if not ok then fail("round %d: setting a field under the cap failed: %s", round, tostring(err)) end
  local s = rcgc.stats()
  results[round] = s.failed_allocs - before
  for i = 1, n // 2 do
    if t[i] ~= i * 3 then fail("round %d: t[%d] = %s after the shrink", round, i, tostring(t[i])) end
  end
  if t[n // 2 + 1] ~= nil or t.x ~= 1 then fail("round %d: wrong contents after the shrink", round) end
  if round % 2 == 0 then
    -- grow it again first (a realloc of the kept block)
    for i = n // 2 + 1, n do t[i] = -i end
    for i = 1, n do
      local want = i <= n // 2 and i * 3 or -i
      if t[i] ~= want then fail("round %d: t[%d] = %s after growing again", round, i, tostring(t[i])) end
    end
  end
  -- drop it: Lua frees the array part with the size it believes it has
  t = nil
  collectgarbage("collect")
end
print("shrink_under_cap ok; refused requests per round: " .. table.concat(results, " "))
