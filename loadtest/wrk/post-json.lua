-- POST JSON pass-through: a ~600-byte JSON body (the size of a typical MCP tool call) to the URL.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"time_off_balance",' ..
  '"arguments":{"employee":"811703c8-c50a-4a49-a119-0035430610cd","from":"2025-01-01","to":"2025-12-31",' ..
  '"types":["vacation","sick","parental","unpaid"],"include_pending":true,"include_history":false,' ..
  '"locale":"en-GB","timezone":"Europe/Berlin","page":{"size":50,"cursor":null}},' ..
  '"_meta":{"progressToken":"p-0123456789abcdef","trace":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}'
