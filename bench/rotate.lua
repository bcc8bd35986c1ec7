-- rotate.lua: GET one path per id, cycling through a list of ids, so a run
-- touches many patients and no cache sees the same row twice in a row.
-- Environment:
--   BENCH_IDS    file with one id per line (e.g. 1000 patient ids)
--   BENCH_PATH   path template, "{id}" replaced by each id, e.g.
--                /fhir/Observation?patient=Patient/{id}&code=http://loinc.org%7C85354-9
--   BENCH_TOKEN  bearer token
--   BENCH_HEADERS  optional extra headers, "Name: value" one per line
--   BENCH_REASON optional X-Access-Reason header (emergency access)
--   BENCH_LUA    directory of report.lua (bench/)
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  if line ~= "" then ids[#ids + 1] = line end
end
assert(#ids > 0, "rotate.lua: no ids in " .. os.getenv("BENCH_IDS"))
local template = os.getenv("BENCH_PATH")

wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/fhir+json"
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local k, v = line:match("^([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
end
-- emergency access states its coded reason on every request
if os.getenv("BENCH_REASON") then
  wrk.headers["X-Access-Reason"] = os.getenv("BENCH_REASON")
end

-- setup() runs in the main state once per thread: give each thread its
-- own starting point so the threads do not ask for the same ids together.
local nthreads = 0
function setup(thread)
  thread:set("offset", nthreads)
  nthreads = nthreads + 1
end

local reqs, i = {}, 0
function init(args)
  for k, id in ipairs(ids) do
    -- a function replacement: ids and paths may hold '%'
    local path = template:gsub("{id}", function() return id end)
    reqs[k] = wrk.format("GET", path)
  end
  i = ((offset or 0) * 7919) % #reqs
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end
