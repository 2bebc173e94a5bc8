-- The collector's mode: incremental unless --gc generational asked for the
-- mode the lua command sets.  The expected mode is the script's argument.
local want = ...
local was = collectgarbage("incremental") -- switches, returns the mode it was in
assert(was == want, "the collector was in " .. tostring(was) .. " mode, not " .. tostring(want))
print("gc mode ok: " .. was)
