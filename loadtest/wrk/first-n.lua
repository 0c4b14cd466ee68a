-- The first N responses only (N = the argument after --, default 1000): GET, then the thread stops
-- (wrk itself still waits out -d: keep -d short; the RESULT line says how many were sent).
-- loadtest/startup.sh uses it for the first thousand requests after start and for a steady-state
-- sample of the same size; the RESULT line (common.lua) carries their p50/p99/p99.9.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
wrk.method = "GET"
local limit = 1000
local seen = 0

function init(args)
  limit = tonumber(args[1]) or 1000
end

function response(status, headers, body)
  seen = seen + 1
  if seen >= limit then
    wrk.thread:stop()
  end
end
