-- GET of the authorization server metadata; every response is checked for 200 with an issuer.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
wrk.method = "GET"

function response(status, headers, body)
  check(status == 200 and body:find('"issuer":"', 1, true) ~= nil)
end
