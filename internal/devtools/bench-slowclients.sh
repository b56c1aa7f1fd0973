#!/usr/bin/env bash
# `make bench-slowclients`: interactive latency while hostile download
# clients hang on (issue 11: "interactive p95 stays within 2× of its
# unloaded value while 16 slow download clients hang on").
#
# On the sample built by `villageplan serve --sample-scale $BENCH_SCALE`
# (default township; county for the county-scale set) in $BENCH_DATA
# (default /var/tmp/villageplan-bench-slowclients, built once, reused),
# wrk measures three interactive routes — items/{id}, bbox pages of 100
# features, map tiles — for $BENCH_DURATION each, first unloaded, then
# while 16 clients (internal/devtools/slowclients: 8 read 4 bytes per
# second, 8 read nothing, all with a 4 KiB receive buffer, retrying 1 s
# after every refusal or drop) keep starting homestead GeoJSON downloads;
# $BENCH_ROUNDS rounds, alternating. Each route and round is one line of
# internal/devtools/bench/results.tsv: the loaded figures, the unloaded
# ones as the ceiling, and the ratio loaded p95 / unloaded p95 (target ≤ 2).
# Per-client rate limits are off (wrk is one client); the download slots
# and write-stall limits are the serve defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=bin/villageplan
DATA=${BENCH_DATA:-/var/tmp/villageplan-bench-slowclients}
SCALE=${BENCH_SCALE:-township}
ADDR=${BENCH_ADDR:-127.0.0.1:18182}
DUR=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-2}
URL=http://$ADDR
WORK=$(mktemp -d)
SERVE_PID=; SLOW_PID=
cleanup() {
  [ -n "$SLOW_PID" ] && kill "$SLOW_PID" 2>/dev/null || true
  [ -n "$SERVE_PID" ] && { kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench-slowclients: wrk is needed (apt-get install wrk)" >&2; exit 1; }
. internal/devtools/bench/record.sh
go build -o "$BIN" ./cmd/villageplan
go build -o bin/slowclients ./internal/devtools/slowclients
mkdir -p "$DATA" && chmod 755 "$DATA"

"$BIN" serve --data "$DATA" --addr "$ADDR" --sample-scale "$SCALE" --log-level warn \
  --rate-limit siting=0 --rate-limit download=0 --rate-limit write=0 &
SERVE_PID=$!
until curl -sf "$URL/readyz" >/dev/null; do
  kill -0 $SERVE_PID 2>/dev/null || { echo "bench-slowclients: serve exited" >&2; exit 1; }
  sleep 1
done
psql_() { "$BIN" db psql --data "$DATA" -At -c "$1"; }
nhome=$(psql_ 'SELECT count(*) FROM villageplan.homesteads')
echo "sample $SCALE: $nhome homesteads"

# The same bbox and id paths as make bench; tiles of the map tileset at
# zooms 15 and 16 over sampled homesteads (XYZ addresses from Web
# Mercator).
psql_ "SELECT format('/collections/homesteads/items?limit=100&bbox=%s,%s,%s,%s', ST_X(c)-0.0025, ST_Y(c)-0.0018, ST_X(c)+0.0025, ST_Y(c)+0.0018)
       FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads ORDER BY md5(id::text) LIMIT 200) s" > "$WORK/bbox.txt"
psql_ "SELECT '/collections/homesteads/items/' || id FROM villageplan.homesteads ORDER BY md5(id::text || 'ids') LIMIT 1000" > "$WORK/ids.txt"
psql_ "SELECT DISTINCT format('/tiles/map/%s/%s/%s.mvt', z, floor((ST_X(c) + 180) / 360 * 2 ^ z)::int,
         floor((1 - ln(tan(radians(ST_Y(c))) + 1 / cos(radians(ST_Y(c)))) / pi()) / 2 * 2 ^ z)::int)
       FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads ORDER BY md5(id::text || 'tiles') LIMIT 300) s, (VALUES (15), (16)) v(z)" > "$WORK/tiles.txt"
DL="$URL/collections/homesteads/items?f=geojson"
echo "download: $(curl -s -o /dev/null -w 'status %{http_code}, %{size_download} bytes' "$DL")"
for k in ids bbox tiles; do PATHS="$WORK/$k.txt" wrk -t1 -c2 -d2s -s internal/devtools/bench/paths.lua "$URL" >/dev/null; done # warm-up

measure() { PATHS="$WORK/$1.txt" wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/paths.lua "$URL" | grep RESULT | sed 's/^RESULT //'; }
p95() { sed -E 's/.*p95_ms=([0-9.]+).*/\1/' <<<"$1"; }
declare -A label=([ids]="items/{id} on homesteads" [bbox]="items?bbox=…&limit=100 on homesteads" [tiles]="map tiles z15–16")
ratios=()
start_slow() {
  bin/slowclients -url "$DL" -n 16 -stalled 8 -rate 4 > "$WORK/slow.txt" &
  SLOW_PID=$!
  sleep 3 # every client has asked once; the slots are held
}
stop_slow() { kill -INT "$SLOW_PID"; wait "$SLOW_PID" || true; SLOW_PID=; slow=$(grep RESULT "$WORK/slow.txt" | sed 's/^RESULT //'); }
for round in $(seq "$ROUNDS"); do
  declare -A unloaded=() loaded=() lb=() la=()
  # Odd rounds measure unloaded first, even rounds loaded first, so that
  # the machine's drift does not favour either.
  for phase in $([ $((round % 2)) = 1 ] && echo "unloaded loaded" || echo "loaded unloaded"); do
    [ "$phase" = loaded ] && start_slow
    for k in ids bbox tiles; do
      [ "$phase" = loaded ] && lb[$k]=$(cut -d' ' -f1-3 /proc/loadavg)
      out=$(measure "$k")
      echo "$phase $k: $out"
      if [ "$phase" = loaded ]; then loaded[$k]=$out; else unloaded[$k]=$out; fi
    done
    [ "$phase" = loaded ] && stop_slow
  done
  for k in ids bbox tiles; do
    r=$(echo "scale=3; $(p95 "${loaded[$k]}") / $(p95 "${unloaded[$k]}")" | bc)
    ratios+=("$r")
    BENCH_LOAD_BEFORE=${lb[$k]}
    bench_record "slow clients: ${label[$k]}, 16 slow download clients vs none, round $round ($SCALE sample)" \
      "${loaded[$k]}" "unloaded: ${unloaded[$k]}" "$r" \
      "make bench-slowclients: PATHS=$k.txt wrk -t2 -c8 -d$DUR -s internal/devtools/bench/paths.lua, alone and while bin/slowclients -url '$DL' -n 16 -stalled 8 -rate 4 runs, alternating (ratio = loaded p95 / unloaded p95)"
  done
  bench_start
  bench_record "slow clients: the 16 download clients during round $round ($SCALE sample)" "$slow" "" "" \
    "bin/slowclients -url '$DL' -n 16 -stalled 8 -rate 4 (serve defaults: download slots 2, write stall 20s)"
done
sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
n=${#sorted[@]}
median=$(if [ $((n % 2)) = 1 ]; then echo "${sorted[$((n / 2))]}"; else echo "scale=3; (${sorted[$((n / 2 - 1))]} + ${sorted[$((n / 2))]}) / 2" | bc; fi)
bench_start
bench_record "slow clients: summary of $ROUNDS rounds × 3 routes ($SCALE sample)" \
  "p95_ratio_median=$median p95_ratio_min=${sorted[0]} p95_ratio_max=${sorted[$((n - 1))]} (loaded p95 / unloaded p95; target ≤ 2)" "" "$median" "see the rounds above"
