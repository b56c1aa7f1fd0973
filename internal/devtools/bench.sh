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
command -v ogr2ogr >/dev/null || { echo "bench: ogr2ogr is needed for the import ceiling (apt-get install gdal-bin)" >&2; exit 1; }
. internal/devtools/bench/record.sh
go build -o "$BIN" ./cmd/villageplan
mkdir -p "$DATA" && chmod 755 "$DATA"

BUILT=0; [ -e "$DATA/pg" ] || BUILT=1
start=$(date +%s)
# Per-client rate limits off: wrk is one client measuring throughput.
"$BIN" serve --data "$DATA" --addr "$ADDR" --sample-scale county --log-level warn \
  --rate-limit siting=0 --rate-limit download=0 --rate-limit write=0 &
SERVE_PID=$!
until curl -sf "$URL/readyz" >/dev/null; do
  kill -0 $SERVE_PID 2>/dev/null || { echo "bench: serve exited" >&2; exit 1; }
  sleep 1
done
echo "ready after $(( $(date +%s) - start )) s (includes the county build on the first run)"
psql_() { "$BIN" db psql --data "$DATA" -At -c "$1"; }
echo "homesteads: $(psql_ 'SELECT count(*) FROM villageplan.homesteads'), land_use: $(psql_ 'SELECT count(*) FROM villageplan.land_use'), database: $(psql_ "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# --- storage: database size and the edit history's share ----------------------
# The history is every table that records edits (per-row edit_history, the
# compact per-batch edit_batch and the prior states edit_batch_prior).
bench_start
psql_ "CHECKPOINT" >/dev/null 2>&1 || true
sizes=$(psql_ "SELECT pg_database_size(current_database()), coalesce(sum(pg_total_relation_size(c.oid)), 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'villageplan' AND c.relname IN ('edit_history', 'edit_batch', 'edit_batch_prior')")
db_bytes=${sizes%%|*}; hist_bytes=${sizes##*|}
bench_record "storage: county sample database and edit-history share" \
  "database_mb=$((db_bytes / 1048576)) history_mb=$(echo "scale=2; $hist_bytes / 1048576" | bc) history_share_pct=$(echo "scale=3; 100 * $hist_bytes / $db_bytes" | bc) homesteads=$(psql_ 'SELECT count(*) FROM villageplan.homesteads') land_use=$(psql_ 'SELECT count(*) FROM villageplan.land_use')" \
  "" "" "villageplan serve --sample-scale county (built from empty by this run: $([ "$BUILT" = 1 ] && echo yes || echo no)); pg_database_size, pg_total_relation_size of edit_history, edit_batch, edit_batch_prior"

# --- OGC API Features -------------------------------------------------------
# bbox pages: 200 boxes of about 400 m × 400 m centred on homesteads: each
# holds 120–220 parcels, so every page returns the full 100 features.
psql_ "SELECT format('/collections/homesteads/items?limit=100&bbox=%s,%s,%s,%s', ST_X(c)-0.0025, ST_Y(c)-0.0018, ST_X(c)+0.0025, ST_Y(c)+0.0018)
       FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 200) s" > "$WORK/bbox.txt"
psql_ "SELECT '/collections/homesteads/items/' || id FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (8) LIMIT 1000" > "$WORK/ids.txt"
curl -s "$URL$(head -1 "$WORK/bbox.txt")" >/dev/null
bench_start
out=$(PATHS="$WORK/bbox.txt" wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/paths.lua "$URL" | grep RESULT | sed 's/^RESULT //')
bench_record "features: items?bbox=…&limit=100 on homesteads" "$out" "" "" "PATHS=bbox.txt wrk -t2 -c8 -d$DUR -s internal/devtools/bench/paths.lua"
bench_start
out=$(PATHS="$WORK/ids.txt" wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/paths.lua "$URL" | grep RESULT | sed 's/^RESULT //')
bench_record "features: items/{id} on homesteads" "$out" "" "" "PATHS=ids.txt wrk -t2 -c8 -d$DUR -s internal/devtools/bench/paths.lua"

# --- downloads -------------------------------------------------------------
rss() { awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$SERVE_PID/status; }
for f in geojson gpkg; do
  bench_start
  t0=$(date +%s.%N)
  code=$(curl -s -o "$WORK/dl.$f" -w '%{http_code}' "$URL/collections/homesteads/items?f=$f&limit=10000000" || true)
  t1=$(date +%s.%N)
  bench_record "download: homesteads f=$f" "status=$code bytes=$(stat -c %s "$WORK/dl.$f") seconds=$(echo "$t1 - $t0" | bc) server_peak_rss=$(rss)" "" "" "curl $URL/collections/homesteads/items?f=$f"
done

# --- siting checks -----------------------------------------------------------
# 300 sites of 15 m × 15 m next to sampled homesteads, in EPSG:4551.
psql_ "SELECT json_build_object('crs', 'EPSG:4551', 'household_id', 'bench-' || id, 'site',
         ST_AsGeoJSON(ST_Translate(ST_MakeEnvelope(ST_X(c), ST_Y(c), ST_X(c) + 15, ST_Y(c) + 15, 4551), 12, 0), 3)::json)
       FROM (SELECT id, ST_Transform(ST_Centroid(geom), 4551) c FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (9) LIMIT 300) s" > "$WORK/sites.txt"
bench_start
out=$(BODIES="$WORK/sites.txt" TARGET=/siting/checks wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/posts.lua "$URL" | grep RESULT | sed 's/^RESULT //')
bench_record "siting: POST /siting/checks, 8 clients" "$out" "" "" "BODIES=sites.txt TARGET=/siting/checks wrk -t2 -c8 -d$DUR -s internal/devtools/bench/posts.lua"
bench_start
out=$(BODIES="$WORK/sites.txt" TARGET=/siting/checks wrk -t1 -c1 -d"$DUR" -s internal/devtools/bench/posts.lua "$URL" | grep RESULT | sed 's/^RESULT //')
bench_record "siting: POST /siting/checks, one client" "$out" "" "" "BODIES=sites.txt TARGET=/siting/checks wrk -t1 -c1 -d$DUR -s internal/devtools/bench/posts.lua"

# --- import against its ceiling, ogr2ogr with COPY ------------------------------
# The county's homesteads (real generated content, Chinese text) exported as
# GeoJSON, then loaded into a fresh database of the same cluster by
# `villageplan import` (every check, coverage and the compact history) and
# by `ogr2ogr -f PostgreSQL` with PG_USE_COPY=YES, in alternating order.
"$BIN" export --data "$DATA" --layer homesteads --format geojson -o "$WORK/homesteads.geojson" >/dev/null
nfeat=$(psql_ 'SELECT count(*) FROM villageplan.homesteads')
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"pole_id":"warm-up","status":"正常"},"geometry":{"type":"Point","coordinates":[125.7,43.5]}}]}' > "$WORK/one.geojson"
fresh_db() {
  psql_ "DROP DATABASE IF EXISTS vp_importbench WITH (FORCE)" >/dev/null
  psql_ "CREATE DATABASE vp_importbench" >/dev/null
  IMPORT_URL=$("$BIN" db url --data "$DATA" --database vp_importbench)
  psql "$IMPORT_URL" -qc "CREATE EXTENSION postgis" >/dev/null
  # migrate (untimed): an import of one point into another layer
  "$BIN" import --database-url "$IMPORT_URL" --layer streetlights --coverage none "$WORK/one.geojson" >/dev/null 2>&1
}
vp_times=(); ogr_times=(); ratios=()
for round in 1 2 3; do
  bench_start
  for tool in $([ $((round % 2)) = 1 ] && echo "ogr vp" || echo "vp ogr"); do
    fresh_db
    t0=$(date +%s.%N)
    if [ "$tool" = ogr ]; then
      PG_USE_COPY=YES ogr2ogr -f PostgreSQL "PG:${IMPORT_URL/postgres:\/\//postgresql://}" "$WORK/homesteads.geojson" -nln ogr_homesteads -nlt MULTIPOLYGON -lco GEOMETRY_NAME=geom -a_srs EPSG:4490
      ogr_t=$(echo "$(date +%s.%N) - $t0" | bc)
    else
      "$BIN" import --database-url "$IMPORT_URL" --layer homesteads "$WORK/homesteads.geojson" >/dev/null
      vp_t=$(echo "$(date +%s.%N) - $t0" | bc)
    fi
  done
  vp_times+=("$vp_t"); ogr_times+=("$ogr_t"); ratios+=("$(echo "scale=3; $vp_t / $ogr_t" | bc)")
  bench_record "import: $nfeat homestead polygons from GeoJSON, round $round" \
    "villageplan_s=$vp_t features_per_s=$(echo "scale=0; $nfeat / $vp_t" | bc)" "ogr2ogr_s=$ogr_t" "$(echo "scale=3; $vp_t / $ogr_t" | bc)" \
    "villageplan import --layer homesteads FILE vs PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG:URL FILE -nln ogr_homesteads -nlt MULTIPOLYGON, each into a fresh database, alternating"
done
sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
bench_record "import: $nfeat homestead polygons, summary of 3 rounds" "ratio_median=${sorted[1]} ratio_min=${sorted[0]} ratio_max=${sorted[2]} (villageplan time / ogr2ogr time; < 1 is faster)" "" "${sorted[1]}" "see the three rounds above"
psql_ "DROP DATABASE IF EXISTS vp_importbench WITH (FORCE)" >/dev/null

# --- tiles --------------------------------------------------------------------
echo "tiles: make bench-tiles (tiles/tilebench/run.sh)"
