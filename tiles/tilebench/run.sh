#!/usr/bin/env bash
# Benchmarks the vector tiles on the county-scale sample (data/sample,
# scale county: 231 k homesteads, 594 k land-use and 303 k farmland
# polygons), the figures of issue 5:
#
#   1. raw database ceiling: the service's own tile SQL through pgbench
#      (-M prepared, 4 clients), over the same tile lists;
#   2. uncached tiles through the HTTP server (internal/httpapi, cache off):
#      homesteads z16 and z15 throughput, homesteads z14 and map z10–z12
#      latency (p50/p95/p99);
#   3. cached tiles: throughput over the z16 list after one warm pass, and
#      the number of database transactions during that run;
#   4. map z10–z12 again with the TileMinZoom values proposed for the
#      land-use and farmland layers (tilebench serve -proposed-catalog).
#
# Usage (from the repository root): tiles/tilebench/run.sh [DIR [SECONDS]]
# DIR keeps the PostgreSQL cluster with the county sample between runs
# (loading it takes about four minutes the first time). Needs wrk
# (apt-get install wrk) and pgbench/psql (postgresql-client).
set -euo pipefail
dir="${1:-/var/tmp/villageplan-tilebench}"
secs="${2:-20}"
out="$dir/results"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
for tool in wrk pgbench psql; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install wrk postgresql-client)" >&2; exit 1; }
done
go build -o "$out/tilebench" ./tiles/tilebench
tb="$out/tilebench"
url="$("$tb" setup -dir "$dir")"
port=18090
base="http://127.0.0.1:$port"

for z in 14 15 16; do "$tb" list -db "$url" -tileset homesteads -z "$z" >"$out/homesteads-$z.txt"; done
for z in 10 11 12; do "$tb" list -db "$url" -tileset map -z "$z" >"$out/map-$z.txt"; done
wc -l "$out"/*.txt | sed 's/^/tiles: /'

note() { echo "== $* (load average $(cut -d' ' -f1-3 /proc/loadavg))"; }

serve() { # serve [flags…]: starts the server, waits until it answers
  "$tb" serve -db "$url" -addr "127.0.0.1:$port" "$@" >"$out/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "run.sh: server did not start" >&2; cat "$out/serve.log" >&2; exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }

run_wrk() { # run_wrk TILESET LIST THREADS CONNECTIONS
  TILES="$2" TILESET="$1" wrk -t"$3" -c"$4" -d"${secs}s" --timeout 10s -s "$here/tiles.lua" "$base" | grep RESULT
}

note "1. pgbench ceiling: the tile SQL of the service, prepared, 4 clients"
for z in 16 15 14; do
  "$tb" pgbench -tileset homesteads -z "$z" -list "$out/homesteads-$z.txt" -out "$out"
  psql -q "$url" -f "$out/tiles.sql" 2>/dev/null
  sed 's/SELECT length(mvt) FROM/SELECT mvt FROM/' "$out/bench.sql" >"$out/bench-full.sql"
  echo "pgbench homesteads z$z, length(mvt) (encoding only): $(pgbench -n -M prepared -c 4 -j 2 -T "$secs" -f "$out/bench.sql" "$url" 2>&1 | grep -E '^tps' )"
  echo "pgbench homesteads z$z, mvt sent to the client:      $(pgbench -n -M prepared -c 4 -j 2 -T "$secs" -f "$out/bench-full.sql" "$url" 2>&1 | grep -E '^tps' )"
done

note "2. uncached, through HTTP (VILLAGEPLAN_TILE_CACHE_BYTES=-1, pool = pgxpool default)"
VILLAGEPLAN_TILE_CACHE_BYTES=-1 serve
run_wrk homesteads "$out/homesteads-16.txt" 2 8
run_wrk homesteads "$out/homesteads-15.txt" 2 8
run_wrk homesteads "$out/homesteads-14.txt" 2 4
for z in 10 11 12; do run_wrk map "$out/map-$z.txt" 2 4; done
stop

note "3. cached (default 256 MiB cache), after one pass over the list"
serve
TILES="$out/homesteads-16.txt" TILESET=homesteads wrk -t2 -c4 -d5s -s "$here/tiles.lua" "$base" >/dev/null
xacts() { psql -Atq "$url" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
renders() { curl -s "$base/metrics" | awk '/^villageplan_tile_requests_total\{outcome="(miss|shared)",tileset="homesteads"\}/ {n += $2} END {print n + 0}'; }
# Idle backends publish their statistics at most every 10 s: wait before
# and after the run so that the counts cover exactly the run.
sleep 11
before="$(xacts)" renders_before="$(renders)"
run_wrk homesteads "$out/homesteads-16.txt" 2 16
renders_after="$(renders)"
sleep 11
after="$(xacts)"
echo "tiles rendered during the cached run: $((renders_after - renders_before)); database transactions: $((after - before)) (1 is this script's read; the change listener re-reads layer_version every 5 s)"
stop

note "4. map z10–z12 uncached with the proposed TileMinZoom catalog values"
VILLAGEPLAN_TILE_CACHE_BYTES=-1 serve -proposed-catalog
for z in 10 11 12; do run_wrk map "$out/map-$z.txt" 2 4; done
stop
