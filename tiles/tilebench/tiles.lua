-- wrk script: requests the tiles listed in the file named by the
-- environment variable TILES ("z/x/y" per line) under /tiles/$TILESET/,
-- each thread walking the list from its own offset, gzip accepted unless
-- GZIP=0 (then Accept-Encoding: identity, the raw MVT).
-- Prints throughput, latency percentiles (incl. p95) and non-2xx counts.
local tiles = {}
local tileset = os.getenv("TILESET") or "homesteads"
local encoding = (os.getenv("GZIP") == "0") and "identity" or "gzip"
for line in io.lines(os.getenv("TILES")) do
  tiles[#tiles + 1] = line
end
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  i = (id - 1) * math.floor(#tiles / 8)
  bad = 0
  empty = 0
end

function request()
  i = i + 1
  local t = tiles[(i % #tiles) + 1]
  return wrk.format("GET", "/tiles/" .. tileset .. "/" .. t .. ".mvt", { ["Accept-Encoding"] = encoding })
end

function response(status, headers, body)
  if status == 204 then
    empty = empty + 1
  elseif status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad, empty = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("bad")
    empty = empty + t:get("empty")
  end
  io.write(string.format("RESULT tileset=%s tiles=%d requests=%d rps=%.1f p50=%.1fms p95=%.1fms p99=%.1fms max=%.1fms non2xx=%d empty204=%d errors=%d\n",
    tileset, #tiles, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    bad, empty, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
