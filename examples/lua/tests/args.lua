-- The global `arg` table and `...` as the stock lua sets them up.
local a = { ... }
assert(#a == 3, "expected 3 arguments, got " .. #a)
assert(a[1] == "one" and a[2] == "two words" and a[3] == "3", "wrong varargs")
assert(arg[1] == "one" and arg[2] == "two words" and arg[3] == "3", "wrong arg[1..3]")
assert(arg[0]:match("args%.lua$"), "arg[0] should be the script, got " .. tostring(arg[0]))
assert(arg[-1] == "--", "arg[-1] should be the option before the script")
assert(arg[-2] == "--stats", "arg[-2] should be --stats")
assert(arg[-3]:match("rcgc%-lua$"), "arg[-3] should be the interpreter")
assert(arg[-4] == nil and arg[4] == nil, "arg has extra entries")
assert(type(rcgc) == "table" and rcgc.stats().mode ~= nil, "the rcgc table is missing")
print("args ok")
