-- wrk script: POST the Patient in bench/patient.json, authenticated.
-- Every request is the same (static), so wrk spends no Lua time per request.
-- Environment: BENCH_BODY (the JSON file), BENCH_TOKEN, BENCH_LUA (bench/).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Prefer"] = "return=minimal"
