-- A JSON-like encoder and decoder, written for this workload: a document of
-- N records is encoded to text, decoded back, compared field by field with
-- the original and encoded again (the two texts must be identical).  Lots of
-- small tables, short strings, string pieces joined with table.concat.
--   rcgc-lua json.lua [N]   (default 1500; tests use 40)
local N = math.tointeger(tonumber(arg and arg[1] or "")) or 1500
local ROUNDS = 4

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end

local null = setmetatable({}, { __name = "null" })

---------------------------------------------------------------- encoder
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t', ['\r'] = '\\r',
  ['\b'] = '\\b', ['\f'] = '\\f' }
local function escape_char(c) return escapes[c] or string.format("\\u%04x", c:byte()) end

local encode_value

local function is_array(t)
  local n = #t
  if n == 0 then return next(t) == nil end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function encode_table(t, out)
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then fail("object key %s is not a string", tostring(k)) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = '"' .. k:gsub('[%c"\\]', escape_char) .. '":'
    encode_value(t[k], out)
  end
  out[#out + 1] = "}"
end

encode_value = function(v, out)
  local tv = type(v)
  if v == null then
    out[#out + 1] = "null"
  elseif tv == "table" then
    encode_table(v, out)
  elseif tv == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', escape_char) .. '"'
  elseif tv == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = string.format("%d", v)
    else
      out[#out + 1] = string.format("%.17g", v)
    end
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  else
    fail("cannot encode a %s", tv)
  end
end

local function encode(v)
  local out = {}
  encode_value(v, out)
  return table.concat(out)
end

---------------------------------------------------------------- decoder
local decode_value

local function skip(s, pos)
  local _, e = s:find("^[ \t\r\n]*", pos)
  return e + 1
end

local unescapes = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', n = '\n', t = '\t', r = '\r', b = '\b', f = '\f' }

local function decode_string(s, pos) -- pos is just after the opening quote
  local parts = {}
  while true do
    local q = s:find('["\\]', pos)
    if not q then fail("unterminated string at %d", pos) end
    if q > pos then parts[#parts + 1] = s:sub(pos, q - 1) end
    if s:byte(q) == 34 then -- closing quote
      return table.concat(parts), q + 1
    end
    local c = s:sub(q + 1, q + 1)
    if c == "u" then
      local hex = s:sub(q + 2, q + 5)
      local code = tonumber(hex, 16)
      if not code or code > 127 then fail("bad \\u escape %s at %d", hex, q) end
      parts[#parts + 1] = string.char(code)
      pos = q + 6
    else
      local r = unescapes[c]
      if not r then fail("bad escape \\%s at %d", c, q) end
      parts[#parts + 1] = r
      pos = q + 2
    end
  end
end

local function decode_number(s, pos)
  local a, b = s:find("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if not a then fail("bad number at %d", pos) end
  local text = s:sub(a, b)
  local v
  if text:find("[.eE]") then v = tonumber(text) else v = math.tointeger(tonumber(text)) end
  if v == nil then fail("bad number %s at %d", text, pos) end
  return v, b + 1
end

decode_value = function(s, pos)
  pos = skip(s, pos)
  local c = s:byte(pos)
  if c == 123 then -- {
    local obj = {}
    pos = skip(s, pos + 1)
    if s:byte(pos) == 125 then return obj, pos + 1 end
    while true do
      if s:byte(pos) ~= 34 then fail("expected a key at %d", pos) end
      local k
      k, pos = decode_string(s, pos + 1)
      pos = skip(s, pos)
      if s:byte(pos) ~= 58 then fail("expected ':' at %d", pos) end
      obj[k], pos = decode_value(s, pos + 1)
      pos = skip(s, pos)
      local d = s:byte(pos)
      if d == 125 then return obj, pos + 1 end
      if d ~= 44 then fail("expected ',' or '}' at %d", pos) end
      pos = skip(s, pos + 1)
    end
  elseif c == 91 then -- [
    local arr = {}
    pos = skip(s, pos + 1)
    if s:byte(pos) == 93 then return arr, pos + 1 end
    while true do
      arr[#arr + 1], pos = decode_value(s, pos)
      pos = skip(s, pos)
      local d = s:byte(pos)
      if d == 93 then return arr, pos + 1 end
      if d ~= 44 then fail("expected ',' or ']' at %d", pos) end
      pos = pos + 1
    end
  elseif c == 34 then
    return decode_string(s, pos + 1)
  elseif c == 116 and s:sub(pos, pos + 3) == "true" then
    return true, pos + 4
  elseif c == 102 and s:sub(pos, pos + 4) == "false" then
    return false, pos + 5
  elseif c == 110 and s:sub(pos, pos + 3) == "null" then
    return null, pos + 4
  end
  return decode_number(s, pos)
end

local function decode(s)
  local v, pos = decode_value(s, 1)
  pos = skip(s, pos)
  if pos <= #s then fail("trailing text at %d", pos) end
  return v
end

---------------------------------------------------------------- checking
local function same(a, b, path)
  if type(a) ~= type(b) then fail("%s: %s vs %s", path, type(a), type(b)) end
  if type(a) ~= "table" or a == null or b == null then
    if a ~= b then fail("%s: %s vs %s", path, tostring(a), tostring(b)) end
    return
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k in pairs(b) do
    if a[k] == nil then fail("%s: extra key %s", path, tostring(k)) end
  end
end

local function make_document(n, salt)
  local doc = { version = 3, salt = salt, generated = "rcgc-lua \"json\" workload\n", items = {} }
  for i = 1, n do
    local history = {}
    for j = 1, i % 8 do history[j] = { t = i * 100 + j, v = (i * j) / 4, ok = j % 2 == 0 } end
    doc.items[i] = {
      id = i,
      name = "user" .. i,
      email = string.format("user%d@example.org", i),
      score = i * 1.5 + salt,
      active = i % 3 ~= 0,
      parent = (i > 1) and (i // 2) or null,
      tags = { "t" .. (i % 5), "t" .. (i % 7), "tab\there" },
      notes = string.rep("note ", i % 6) .. "\\ \"quoted\" \1 end",
      nested = { a = { b = { c = { depth = 3, value = -i } } } },
      history = history,
    }
  end
  return doc
end

local bytes = 0
for round = 1, ROUNDS do
  local doc = make_document(N, round)
  local text = encode(doc)
  local back = decode(text)
  same(doc, back, "doc")
  local again = encode(back)
  if again ~= text then fail("round %d: re-encoded text differs (%d vs %d bytes)", round, #again, #text) end
  -- spaced-out text decodes to the same value
  local spaced = text:gsub("([,:%[{])", "%1 \n\t")
  same(doc, decode(spaced), "spaced")
  bytes = bytes + #text
end

print(string.format("json ok: %d rounds of %d records, %d bytes encoded", ROUNDS, N, bytes))
