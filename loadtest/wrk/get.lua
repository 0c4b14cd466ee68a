-- GET pass-through: the URL given to wrk as it is; no per-response check (errors = status >= 400).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
