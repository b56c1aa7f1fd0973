#!/usr/bin/env bash
# `make bench-importvs`: `villageplan import` against its ceiling,
# `ogr2ogr -f PostgreSQL` with PG_USE_COPY=YES (issue 16), on the same
# generated file of N land-use polygons (N = 200 000 and 500 000 unless
# SIZES says otherwise), interleaved: every round runs both tools, the
# order alternating, each into a fresh database cloned from one migrated
# template of the same cluster (ogr2ogr into a fresh table of it;
# villageplan into its empty land_use layer, with every check, the
# township check against a villages layer, coverage and the compact
# history). Every run, the ratio villageplan/ogr2ogr time (< 1 is faster)
# and its median and min–max go to the results file with the load average.
#
#   BENCH_DATA=/var/tmp/vp-bench-import SIZES="200000 500000" ROUNDS=3 internal/devtools/bench-importvs.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=bin/villageplan
DATA=${BENCH_DATA:-/var/tmp/villageplan-bench-importvs}
SIZES=${SIZES:-200000 500000}
ROUNDS=${ROUNDS:-3}
command -v ogr2ogr >/dev/null || { echo "bench-importvs: ogr2ogr is needed (apt-get install gdal-bin)" >&2; exit 1; }
. internal/devtools/bench/record.sh
go build -o "$BIN" ./cmd/villageplan
WORK=$(mktemp -d /var/tmp/vp-bench-importvs-XXXXXX)
STARTED=0
cleanup() { rm -rf "$WORK"; [ "$STARTED" = 1 ] && "$BIN" db stop --data "$DATA" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if ! "$BIN" db url --data "$DATA" --database postgres >/dev/null 2>&1 || ! psql "$("$BIN" db url --data "$DATA" --database postgres)" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  "$BIN" db start --data "$DATA" --log-level warn >/dev/null
  STARTED=1
fi
ADMIN=$("$BIN" db url --data "$DATA" --database postgres)
psql_() { psql "$ADMIN" -qAtc "$1"; }

# The parcels: 7-vertex polygons in CRS84, DLBM/TBBH/TBMJ, a grid of
# 1000 columns over 双阳区 (the file of BenchmarkImportGeoJSON500k).
gen() { # N FILE
  awk -v n="$1" 'BEGIN {
    split("0101 0102 0103 0201 0301 0702 1006 1104", codes, " ")
    printf "{\"type\":\"FeatureCollection\",\"features\":["
    d = 0.0004
    for (i = 0; i < n; i++) {
      if (i > 0) printf ",\n"
      x0 = 125.45 + (i % 1000) * 0.0005; y0 = 43.30 + int(i / 1000) * 0.0009
      printf "{\"type\":\"Feature\",\"properties\":{\"DLBM\":\"%s\",\"TBBH\":\"%d\",\"TBMJ\":%.2f,\"DLMC\":null},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}",
        codes[i % 8 + 1], i + 1, 1000 + i % 500, x0, y0, x0 + d, y0, x0 + d, y0 + d / 2, x0 + d * 0.9, y0 + d, x0 + d / 2, y0 + d * 1.1, x0, y0 + d, x0, y0
    }
    printf "]}\n" }' > "$2"
}
# One village over the grid, so that the township check runs.
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"xzqdm":"220112209201","xzqmc":"基准村","czlx":"集聚提升类"},"geometry":{"type":"Polygon","coordinates":[[[125.44,43.29],[125.96,43.29],[125.96,43.76],[125.44,43.76],[125.44,43.29]]]}}]}' > "$WORK/villages.geojson"

# The migrated template (untimed).
psql_ "DROP DATABASE IF EXISTS vp_importvs_tpl WITH (FORCE)"
psql_ "CREATE DATABASE vp_importvs_tpl"
TPL_URL=$("$BIN" db url --data "$DATA" --database vp_importvs_tpl)
psql "$TPL_URL" -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
"$BIN" import --database-url "$TPL_URL" --layer villages --coverage none "$WORK/villages.geojson" >/dev/null
fresh_db() {
  psql_ "DROP DATABASE IF EXISTS vp_importvs WITH (FORCE)"
  psql_ "CREATE DATABASE vp_importvs TEMPLATE vp_importvs_tpl"
  IMPORT_URL=$("$BIN" db url --data "$DATA" --database vp_importvs)
  psql "$IMPORT_URL" -qc "CHECKPOINT" >/dev/null
}
OGR_CMD="PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG:URL FILE -nln ogr_land_use -nlt MULTIPOLYGON -lco GEOMETRY_NAME=geom -a_srs EPSG:4490"
VP_CMD="villageplan import --database-url URL --layer land_use FILE"
for n in $SIZES; do
  gen "$n" "$WORK/parcels.geojson"
  ratios=()
  for round in $(seq 1 "$ROUNDS"); do
    bench_start
    for tool in $([ $((round % 2)) = 1 ] && echo "ogr vp" || echo "vp ogr"); do
      fresh_db
      t0=$(date +%s.%N)
      if [ "$tool" = ogr ]; then
        PG_USE_COPY=YES ogr2ogr -f PostgreSQL "PG:${IMPORT_URL/postgres:\/\//postgresql://}" "$WORK/parcels.geojson" -nln ogr_land_use -nlt MULTIPOLYGON -lco GEOMETRY_NAME=geom -a_srs EPSG:4490
        ogr_t=$(echo "$(date +%s.%N) - $t0" | bc)
        got=$(psql "$IMPORT_URL" -qAtc "SELECT count(*) FROM ogr_land_use")
      else
        "$BIN" import --database-url "$IMPORT_URL" --layer land_use "$WORK/parcels.geojson" >/dev/null
        vp_t=$(echo "$(date +%s.%N) - $t0" | bc)
        got=$(psql "$IMPORT_URL" -qAtc "SELECT count(*) FROM villageplan.land_use")
      fi
      [ "$got" = "$n" ] || { echo "bench-importvs: $tool loaded $got of $n" >&2; exit 1; }
    done
    r=$(echo "scale=3; $vp_t / $ogr_t" | bc)
    ratios+=("$r")
    bench_record "import vs ogr2ogr: $n land-use polygons (GeoJSON), round $round" \
      "villageplan_s=$vp_t features_per_s=$(echo "scale=0; $n / $vp_t" | bc)" "ogr2ogr_s=$ogr_t" "$r" \
      "$VP_CMD vs $OGR_CMD, each into a fresh database cloned from one migrated template (with one village), order alternating"
  done
  sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
  med=${sorted[$(( ${#sorted[@]} / 2 ))]}
  bench_record "import vs ogr2ogr: $n land-use polygons, summary of $ROUNDS rounds" \
    "ratio_median=$med ratio_min=${sorted[0]} ratio_max=${sorted[-1]} (villageplan time / ogr2ogr time; <= 1 meets issue 16)" "" "$med" "see the rounds above"
done
psql_ "DROP DATABASE IF EXISTS vp_importvs WITH (FORCE)"
psql_ "DROP DATABASE IF EXISTS vp_importvs_tpl WITH (FORCE)"
