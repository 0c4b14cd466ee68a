-- Dynamic Client Registration (RFC 7591) POST; every response is checked for 201 with a client_id.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"client_name":"ChatGPT","redirect_uris":["https://chatgpt.com/connector_platform_oauth_redirect"],' ..
  '"grant_types":["authorization_code","refresh_token"],"response_types":["code"],' ..
  '"token_endpoint_auth_method":"client_secret_basic",' ..
  '"scope":"worker:read time-off:read time-off:write contracts:read people:read"}'

function response(status, headers, body)
  check(status == 201 and body:find('"client_id":"', 1, true) ~= nil)
end
