#!/usr/bin/env bash
# Uncached homestead tiles over HTTP against the pgbench ceiling of the
# same tile SQL, and cached against uncached tiles (issue 16), on the
# county sample; every figure goes to the results file (record.sh).
#
#   1. z14, z15, z16, each with and without gzip: `villageplan serve
#      --tile-cache off` under wrk, and pgbench running the service's own
#      statement (tilebench pgbench, SELECT mvt: the bytes are sent to the
#      client as the server receives them), same number of clients (8, the
#      server's pool), same tile list, alternating which runs first; the
#      ratio is HTTP requests/s ÷ pgbench transactions/s of that round.
#   2. cached z16 (a second server with the default cache, after one pass
#      over the list) against the uncached server, alternating; the tiles
#      rendered (villageplan_tile_requests_total miss/shared) and the
#      database transactions during the cached run are recorded with it.
#
# Usage: internal/devtools/bench-tiles-ceiling.sh
# Env: BENCH_DATA (cluster directory holding the county sample; made with
# `villageplan serve --sample-scale county --data DIR` when missing),
# BENCH_DURATION (per run, default 10s), ROUNDS (default 2), BENCH_PORT
# (default 18108; the cached server uses the next port), TILES_N (tiles per
# list, default 2000).
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
DATA=${BENCH_DATA:-/var/tmp/villageplan-bench}
DUR=${BENCH_DURATION:-10s}
ROUNDS=${ROUNDS:-2}
PORT=${BENCH_PORT:-18108}
PORT2=$((PORT + 1))
N=${TILES_N:-2000}
for tool in wrk pgbench psql curl bc; do
  command -v "$tool" >/dev/null || { echo "bench-tiles-ceiling: $tool is missing" >&2; exit 1; }
done
WORK=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"
  bin/villageplan db stop --data "$DATA" --log-level warn >/dev/null 2>&1 || true; }
trap cleanup EXIT
go build -o bin/villageplan ./cmd/villageplan
go build -o "$WORK/tilebench" ./tiles/tilebench
if [ ! -e "$DATA/pg" ]; then
  echo "bench-tiles-ceiling: building the county sample in $DATA (a few minutes)"
  bin/villageplan serve --sample-scale county --data "$DATA" --addr "127.0.0.1:$PORT" --log-level warn --access-log off & p=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 2; done
  kill "$p"; wait "$p" || true
fi
bin/villageplan db start --data "$DATA" --log-level warn >/dev/null
DB=$(bin/villageplan db url --data "$DATA")
bin/villageplan serve --database-url "$DB" --addr "127.0.0.1:$PORT" --tile-cache off --log-level warn --access-log off & pids+=($!)
bin/villageplan serve --database-url "$DB" --addr "127.0.0.1:$PORT2" --log-level warn --access-log off & pids+=($!)
for p in "$PORT" "$PORT2"; do until curl -sf "http://127.0.0.1:$p/healthz" >/dev/null; do sleep 0.5; done; done

rps_of() { sed -E 's/.* rps=([0-9.]+).*/\1/'; }
wrk_tiles() { # PORT LIST GZIP
  TILES="$2" TILESET=homesteads GZIP="$3" wrk -t2 -c8 -d"$DUR" --timeout 10s -s tiles/tilebench/tiles.lua "http://127.0.0.1:$1" | grep RESULT | sed 's/^RESULT //'
}
pg_tiles() { pgbench -n -M prepared -c 8 -j 2 -T "${DUR%s}" -f "$WORK/bench-full.sql" "$DB" 2>&1 | grep -E '^tps' | sed -E 's/^tps = ([0-9.]+).*/\1/'; }

for z in 16 15 14; do
  "$WORK/tilebench" list -db "$DB" -tileset homesteads -z "$z" -n "$N" >"$WORK/z$z.txt"
  "$WORK/tilebench" pgbench -tileset homesteads -z "$z" -list "$WORK/z$z.txt" -out "$WORK"
  psql -q "$DB" -f "$WORK/tiles.sql" >/dev/null 2>&1
  sed 's/SELECT length(mvt) FROM/SELECT mvt FROM/' "$WORK/bench.sql" >"$WORK/bench-full.sql"
  for round in $(seq 1 "$ROUNDS"); do
    for gz in 1 0; do
      bench_start
      if [ $(((round + gz) % 2)) = 1 ]; then h=$(wrk_tiles "$PORT" "$WORK/z$z.txt" "$gz"); pg=$(pg_tiles); else pg=$(pg_tiles); h=$(wrk_tiles "$PORT" "$WORK/z$z.txt" "$gz"); fi
      enc=gzip; [ "$gz" = 0 ] && enc=identity
      bench_record "tiles uncached vs pgbench ceiling: homesteads z$z, $enc, round $round (county sample)" "$h" "pgbench_tps=$pg" \
        "$(echo "scale=3; $(echo "$h" | rps_of) / $pg" | bc)" \
        "TILES=z$z.txt($(wc -l <"$WORK/z$z.txt") tiles) GZIP=$gz wrk -t2 -c8 -d$DUR -s tiles/tilebench/tiles.lua against villageplan serve --tile-cache off; pgbench -n -M prepared -c 8 -j 2 -T ${DUR%s} -f bench-full.sql (tilebench pgbench, SELECT mvt); alternating order"
    done
  done
done

# 2. cached vs uncached, z16 with gzip.
TILES="$WORK/z16.txt" TILESET=homesteads wrk -t2 -c8 -d"$DUR" -s tiles/tilebench/tiles.lua "http://127.0.0.1:$PORT2" >/dev/null
xacts() { psql -Atq "$DB" -c "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database"; }
renders() { curl -s "http://127.0.0.1:$PORT2/metrics" | awk '/^villageplan_tile_requests_total\{outcome="(miss|shared)",tileset="homesteads"\}/ {n += $2} END {print n + 0}'; }
for round in $(seq 1 "$ROUNDS"); do
  bench_start
  if [ $((round % 2)) = 1 ]; then u=$(wrk_tiles "$PORT" "$WORK/z16.txt" 1); fi
  sleep 11 # idle backends publish their statistics at most every 10 s
  x0=$(xacts) r0=$(renders)
  c=$(wrk_tiles "$PORT2" "$WORK/z16.txt" 1)
  r1=$(renders)
  sleep 11
  x1=$(xacts)
  if [ $((round % 2)) = 0 ]; then u=$(wrk_tiles "$PORT" "$WORK/z16.txt" 1); fi
  bench_record "tiles cached vs uncached: homesteads z16, gzip, round $round (county sample)" "$c tiles_rendered=$((r1 - r0)) db_transactions=$((x1 - x0))" "uncached: $u" \
    "$(echo "scale=1; $(echo "$c" | rps_of) / $(echo "$u" | rps_of)" | bc)" \
    "TILES=z16.txt GZIP=1 wrk -t2 -c8 -d$DUR -s tiles/tilebench/tiles.lua against villageplan serve (default cache, warmed by one pass) and serve --tile-cache off, alternating; db_transactions = pg_stat_database delta over the cached run (includes this script's one read and the change listener's 5-s heartbeat)"
done
