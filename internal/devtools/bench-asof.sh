#!/usr/bin/env bash
# `make bench-asof`: issue 13's time-travel figures on the county sample
# (internal/httpapi/asof_bench_test.go), each appended to the results file
# (internal/devtools/bench/record.sh):
#
#   1. an as-of items page (bbox, limit 100, datetime= before 2,000 parcels
#      were edited) vs the current page: p95 of each, ratio (bound: 2);
#   2. an uncached as-of homesteads tile (z16) vs the current tile: p95 of
#      each, ratio (bound: 2);
#   3. /changes between two dates in a year of edits (10,000 changesets on
#      several layers spread over 365 days): homesteads over a month and
#      the whole year, streetlights over the year (bound: 1 s).
#
# The county sample is loaded once into the database county_sample of a
# cluster under $BENCH_DATA (default /var/tmp/villageplan-asof-bench; about
# four minutes the first time); every benchmark works on a copy of it
# (testpg.Copy), so runs do not disturb each other. N is the number of
# requests of 1 and 2 (default 400), YEAR_N the iterations of 3 (default 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
DATA=${BENCH_DATA:-/var/tmp/villageplan-asof-bench}
ADDR=${BENCH_ADDR:-127.0.0.1:18182}
N=${N:-400}
YEAR_N=${YEAR_N:-5}
BIN=bin/villageplan
go build -o "$BIN" ./cmd/villageplan
mkdir -p "$DATA" && chmod 755 "$DATA"
"$BIN" db start --data "$DATA" --log-level warn >/dev/null
ADMIN=$("$BIN" db url --data "$DATA" --database postgres)
SAMPLE=$("$BIN" db url --data "$DATA" --database county_sample)
if [ "$(psql "$ADMIN" -Atc "SELECT count(*) FROM pg_database WHERE datname = 'county_sample'")" = 0 ]; then
  echo "loading the county sample into $DATA (once)"
  psql "$ADMIN" -qc "CREATE DATABASE county_sample"
  psql "$SAMPLE" -qc "CREATE EXTENSION postgis"
  "$BIN" serve --addr "$ADDR" --database-url "$SAMPLE" --load-sample --sample-scale county --log-level warn >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://$ADDR/readyz" >/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "bench-asof: serve exited while loading the sample" >&2; exit 1; }
    sleep 2
  done
  kill $pid; wait $pid 2>/dev/null || true
  psql "$SAMPLE" -qc "VACUUM ANALYZE"
fi
export VILLAGEPLAN_BENCH_SAMPLE_URL=$SAMPLE VILLAGEPLAN_TEST_DATABASE_URL=$ADMIN
HOMESTEADS=$(psql "$SAMPLE" -Atc "SELECT count(*) FROM villageplan.homesteads")

# metric LINE NAME: the value reported before NAME on a benchmark line.
metric() { echo "$1" | awk -v n="$2" '{ for (i = 1; i < NF; i++) if ($(i+1) == n) print $i }'; }
cmd() { echo "go test -count=1 -p 1 -timeout 60m -run '^\$' -bench '^Benchmark$1\$' -benchtime $2 ./internal/httpapi/"; }
bench() { # bench NAME BENCHTIME: runs it, prints the line of its http sub-benchmark
  local out
  out=$(eval "$(cmd "$1" "$2")" 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" | grep "^Benchmark$1/http"
}

bench_start
line=$(bench AsOfItems "${N}x"); CMD=$(cmd AsOfItems "${N}x")
cur=$(metric "$line" current_p95_ms); old=$(metric "$line" asof_p95_ms); ratio=$(metric "$line" ratio)
bench_record "as-of items page (bbox ~300 m, limit 100, datetime before 2,000 parcels edited) vs current, over HTTP, county sample ($HOMESTEADS homesteads), $N requests" \
  "current_p95_ms=$cur asof_p95_ms=$old asof/current=$ratio" "asof/current=2" "$(echo "scale=3; $ratio / 2" | bc)" "VILLAGEPLAN_BENCH_SAMPLE_URL=… $CMD"

bench_start
line=$(bench AsOfTiles "${N}x"); CMD=$(cmd AsOfTiles "${N}x")
cur=$(metric "$line" current_p95_ms); old=$(metric "$line" asof_p95_ms); ratio=$(metric "$line" ratio)
bench_record "as-of homesteads tile z16 (uncached, datetime before 2,000 parcels edited) vs current, over HTTP, county sample, $N requests" \
  "current_p95_ms=$cur asof_p95_ms=$old asof/current=$ratio" "asof/current=2" "$(echo "scale=3; $ratio / 2" | bc)" "VILLAGEPLAN_BENCH_SAMPLE_URL=… $CMD"

bench_start
line=$(bench ChangesYear "${YEAR_N}x"); CMD=$(cmd ChangesYear "${YEAR_N}x")
cs=$(metric "$line" changesets)
for c in homesteads_month homesteads_year streetlights_year; do
  p50=$(metric "$line" ${c}_p50_ms); mx=$(metric "$line" ${c}_max_ms); nf=$(metric "$line" ${c}_features)
  bench_record "/changes $c (GeoJSON over HTTP) in a year of $cs changesets (several layers, insert/update/delete, spread over 365 days), county sample, $YEAR_N requests" \
    "p50_ms=$p50 max_ms=$mx features=$nf" "max_ms=1000" "$(echo "scale=3; $mx / 1000" | bc)" "VILLAGEPLAN_BENCH_SAMPLE_URL=… $CMD"
done
