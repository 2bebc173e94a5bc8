-- Binary trees: builds and walks many complete binary trees of small tables
-- (two children per node), plus one tree that lives through the whole run.
-- Almost every allocation is a 56-byte Table or its 2-slot array part.
--   rcgc-lua binarytrees.lua [MAXDEPTH]   (default 15, at most 20; tests use 10)
local maxdepth = math.tointeger(tonumber(arg and arg[1] or "")) or 15
local mindepth = 4
if maxdepth < mindepth + 2 then maxdepth = mindepth + 2 end
if maxdepth > 20 then error("binarytrees.lua: depth " .. maxdepth .. " is too big (at most 20)") end

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

local function build(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { build(depth), build(depth) }
end

local function count(node)
  local left = node[1]
  if left == nil then return 1 end
  return 1 + count(left) + count(node[2])
end

-- A complete tree of depth d has 2^(d+1) - 1 nodes.
local function nodes(depth) return (1 << (depth + 1)) - 1 end

local stretch = maxdepth + 1
local n = count(build(stretch))
if n ~= nodes(stretch) then fail("stretch tree of depth %d has %d nodes", stretch, n) end

local longlived = build(maxdepth)

local total_checked = 0
for depth = mindepth, maxdepth, 2 do
  local iterations = 1 << (maxdepth - depth + mindepth)
  local sum = 0
  for _ = 1, iterations do sum = sum + count(build(depth)) end
  if sum ~= iterations * nodes(depth) then
    fail("%d trees of depth %d: %d nodes, expected %d", iterations, depth, sum, iterations * nodes(depth))
  end
  total_checked = total_checked + sum
end

n = count(longlived)
if n ~= nodes(maxdepth) then fail("long-lived tree has %d nodes", n) end
print(string.format("binarytrees ok: max depth %d, %d nodes built and counted", maxdepth, total_checked))
