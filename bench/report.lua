-- report.lua: wrk's done() hook, shared by every bench run. Prints one
-- machine-readable line that bench/run.sh parses, with exact numbers in
-- microseconds (wrk's own --latency table rounds and changes units):
--   BENCH requests=N seconds=S rps=R p50_us=.. p90_us=.. p99_us=.. ...
-- Used alone (wrk -s report.lua URL) the request stays static, so wrk
-- spends no Lua time per request; rotate.lua and create.lua load it with
-- dofile().
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d " ..
    "p99_us=%d max_us=%d mean_us=%.0f bytes=%d errors_connect=%d " ..
    "errors_read=%d errors_write=%d errors_timeout=%d non2xx=%d\n",
    summary.requests, s, s > 0 and summary.requests / s or 0,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, summary.bytes, e.connect, e.read, e.write,
    e.timeout, e.status))
end
