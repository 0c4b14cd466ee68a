-- Authorization requests without scope, each for a new made-up client_id (an unknown-client
-- flood): `wrk -tT ... -s flood.lua URL -- CAP DONE_FILE QUERY_TAIL`. URL is the gateway's origin;
-- every request gets a distinct 36-character client_id (thread number and a per-thread counter
-- inside, so no two repeat). A thread that has sent CAP requests creates DONE_FILE.<thread number>
-- and stops at its next response (so it sends at most CAP + its connections), and the caller
-- knows the flood is over before wrk's -d ends.
-- Every response is checked to be the IdP's 302 (scopegate forwards; the simulator redirects).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local counter = 0
local threads_made = 0

-- Runs in the main Lua state, once per thread: gives each thread its number.
local base_setup = setup
function setup(thread)
  threads_made = threads_made + 1
  thread:set("number", threads_made)
  base_setup(thread)
end

local cap, done_file, tail, prefix

function init(args)
  cap = tonumber(args[1])
  done_file = args[2] .. "." .. number
  tail = args[3]
  math.randomseed(os.time() * 1000 + number)
  prefix = string.format("%08x-%04x-4", math.random(0, 0x7fffffff), number)
end

function request()
  counter = counter + 1
  if counter == cap then
    local f = io.open(done_file, "w")
    if f then f:write(counter, "\n") f:close() end
  end
  local id = string.format("%s%03x-8%03x-%012x", prefix, counter % 4096, math.random(0, 4095), counter)
  return wrk.format("GET", "/oauth/authorize?response_type=code&client_id=" .. id .. "&" .. tail)
end

function response(status, headers, body)
  check(status == 302)
  if counter >= cap then
    wrk.thread:stop()
  end
end
