-- wrk script: POST each line of the file named by $BODIES (one JSON body
-- per line) to $TARGET in turn, and print p50/p95/p99 latency and rate.
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local target = os.getenv("TARGET")
local i = math.random(#bodies)
request = function()
  i = i % #bodies + 1
  -- headers given with wrk -H (e.g. Authorization: Bearer vp_…) are kept
  local h = {["Content-Type"] = "application/json"}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Content-Type"] = "application/json"
  return wrk.format("POST", target, h, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
