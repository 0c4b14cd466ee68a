-- GET authorization request (the query is in the URL given to wrk). Every response is checked:
-- a 302 whose x-idp-query header (the query the IdP simulator received) equals the expected
-- string, passed as the script's first argument: `wrk ... -s authorize.lua URL -- EXPECTED`.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
wrk.method = "GET"

local expected

function init(args)
  expected = args[1]
end

function response(status, headers, body)
  check(status == 302 and headers["x-idp-query"] == expected)
end
