-- Deliberately malformed: the host must report the syntax error and exit 1.
local x = = 1
