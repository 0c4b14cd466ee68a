-- Authorization requests without scope for clients registered through scopegate, paced:
-- `wrk ... -s known.lua URL -- DELAY_MS QUERY_TAIL CLIENT_ID...`. Each request picks one of the
-- given client_ids at random and waits DELAY_MS before it is sent, so this load is a latency probe
-- (a few hundred requests a second) rather than a competitor for the CPU. Every response must be
-- the IdP's 302 with the client's registered scope appended by scopegate.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local pause, tail
local ids = {}

function init(args)
  pause = tonumber(args[1])
  tail = args[2]
  for i = 3, #args do
    ids[#ids + 1] = args[i]
  end
  math.randomseed(os.time())
end

function delay()
  return pause
end

function request()
  local id = ids[math.random(1, #ids)]
  return wrk.format("GET", "/oauth/authorize?response_type=code&client_id=" .. id .. "&" .. tail)
end

function response(status, headers, body)
  local q = headers["x-idp-query"]
  check(status == 302 and q ~= nil and q:find("&scope=worker%3Aread", 1, true) ~= nil)
end
