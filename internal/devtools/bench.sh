#!/usr/bin/env bash
# `make bench`: reproduces the performance figures quoted in the closing
# notes, on the county-scale sample (156 villages, >= 200,000 homesteads,
# >= 500,000 land-use polygons) on this machine.
#
# The county database is built once under $BENCH_DATA (default
# /var/tmp/villageplan-bench) and reused; delete the folder to rebuild it.
# Needs wrk (apt-get install wrk). Each figure prints as one RESULT line.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=bin/villageplan
DATA=${BENCH_DATA:-/var/tmp/villageplan-bench}
ADDR=${BENCH_ADDR:-127.0.0.1:18181}
DUR=${BENCH_DURATION:-20s}
URL=http://$ADDR
WORK=$(mktemp -d)
trap 'kill $SERVE_PID 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }
go build -o "$BIN" ./cmd/villageplan
mkdir -p "$DATA" && chmod 755 "$DATA"

start=$(date +%s)
"$BIN" serve --data "$DATA" --addr "$ADDR" --sample-scale county --log-level warn &
SERVE_PID=$!
until curl -sf "$URL/readyz" >/dev/null; do
  kill -0 $SERVE_PID 2>/dev/null || { echo "bench: serve exited" >&2; exit 1; }
  sleep 1
done
echo "ready after $(( $(date +%s) - start )) s (includes the county build on the first run)"
psql_() { "$BIN" db psql --data "$DATA" -At -c "$1"; }
echo "homesteads: $(psql_ 'SELECT count(*) FROM villageplan.homesteads'), land_use: $(psql_ 'SELECT count(*) FROM villageplan.land_use'), database: $(psql_ "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# --- OGC API Features -------------------------------------------------------
# bbox pages: 200 boxes of about 400 m × 400 m centred on homesteads: each
# holds 120–220 parcels, so every page returns the full 100 features.
psql_ "SELECT format('/collections/homesteads/items?limit=100&bbox=%s,%s,%s,%s', ST_X(c)-0.0025, ST_Y(c)-0.0018, ST_X(c)+0.0025, ST_Y(c)+0.0018)
       FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 200) s" > "$WORK/bbox.txt"
psql_ "SELECT '/collections/homesteads/items/' || id FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (8) LIMIT 1000" > "$WORK/ids.txt"
curl -s "$URL$(head -1 "$WORK/bbox.txt")" >/dev/null
echo "== features: items?bbox=…&limit=100 on homesteads (wrk -t2 -c8 -d$DUR)"
PATHS="$WORK/bbox.txt" wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/paths.lua "$URL" | grep RESULT
echo "== features: items/{id} on homesteads (wrk -t2 -c8 -d$DUR)"
PATHS="$WORK/ids.txt" wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/paths.lua "$URL" | grep RESULT

# --- downloads -------------------------------------------------------------
rss() { awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$SERVE_PID/status; }
for f in geojson gpkg; do
  t0=$(date +%s.%N)
  code=$(curl -s -o "$WORK/dl.$f" -w '%{http_code}' "$URL/collections/homesteads/items?f=$f&limit=10000000" || true)
  t1=$(date +%s.%N)
  echo "RESULT download f=$f status=$code bytes=$(stat -c %s "$WORK/dl.$f") seconds=$(echo "$t1 - $t0" | bc) server_peak_rss=$(rss)"
done

# --- siting checks -----------------------------------------------------------
# 300 sites of 15 m × 15 m next to sampled homesteads, in EPSG:4551.
psql_ "SELECT json_build_object('crs', 'EPSG:4551', 'household_id', 'bench-' || id, 'site',
         ST_AsGeoJSON(ST_Translate(ST_MakeEnvelope(ST_X(c), ST_Y(c), ST_X(c) + 15, ST_Y(c) + 15, 4551), 12, 0), 3)::json)
       FROM (SELECT id, ST_Transform(ST_Centroid(geom), 4551) c FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (9) LIMIT 300) s" > "$WORK/sites.txt"
echo "== siting: POST /siting/checks (wrk -t2 -c8 -d$DUR)"
BODIES="$WORK/sites.txt" TARGET=/siting/checks wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/posts.lua "$URL" | grep RESULT
echo "== siting: one client (latency)"
BODIES="$WORK/sites.txt" TARGET=/siting/checks wrk -t1 -c1 -d"$DUR" -s internal/devtools/bench/posts.lua "$URL" | grep RESULT

# --- tiles --------------------------------------------------------------------
echo "tiles: make bench-tiles (tiles/tilebench/run.sh)"
