#!/usr/bin/env bash
# `make bench-vs BASE=commit`: the features routes of this checkout against
# an earlier commit, both serving the same county database (make bench's,
# under $BENCH_DATA) at once, measured with wrk in alternating order (A B A
# B); every run and the ratio of request rates go to the results file. It
# tells a regression from this shared machine's drift.
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
BASE=${1:-${BASE:-83c20f9}}
DATA=${BENCH_DATA:-/var/tmp/villageplan-bench}
DUR=${BENCH_DURATION:-15s}
ROUNDS=${ROUNDS:-2}
[ -e "$DATA/pg" ] || { echo "bench-vs: run make bench first (it builds the county database in $DATA)" >&2; exit 1; }
WORK=$(mktemp -d)
src=$(mktemp -d /var/tmp/villageplan-bench-vs-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  git worktree remove --force "$src" >/dev/null 2>&1 || rm -rf "$src"; rm -rf "$WORK"; bin/villageplan db stop --data "$DATA" --log-level warn >/dev/null 2>&1 || true; }
trap cleanup EXIT
go build -o bin/villageplan ./cmd/villageplan
git worktree add --detach "$src" "$BASE" >/dev/null
(cd "$src" && go build -o "$src/vp" ./cmd/villageplan)
bin/villageplan db start --data "$DATA" --log-level warn >/dev/null
URLDB=$(bin/villageplan db url --data "$DATA")
"$src/vp" serve --database-url "$URLDB" --addr 127.0.0.1:18191 --log-level warn & pids+=($!)
bin/villageplan serve --database-url "$URLDB" --addr 127.0.0.1:18192 --log-level warn --rate-limit siting=0 --rate-limit download=0 & pids+=($!)
for port in 18191 18192; do until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.5; done; done
psql_() { bin/villageplan db psql --data "$DATA" -At -c "$1"; }
psql_ "SELECT format('/collections/homesteads/items?limit=100&bbox=%s,%s,%s,%s', ST_X(c)-0.0025, ST_Y(c)-0.0018, ST_X(c)+0.0025, ST_Y(c)+0.0018)
       FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 200) s" > "$WORK/bbox.txt"
psql_ "SELECT '/collections/homesteads/items/' || id FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (8) LIMIT 1000" > "$WORK/ids.txt"
rps() { PATHS="$2" wrk -t2 -c8 -d"$DUR" -s internal/devtools/bench/paths.lua "http://127.0.0.1:$1" | grep RESULT | sed 's/^RESULT //'; }
for kind in bbox ids; do
  for round in $(seq 1 "$ROUNDS"); do
    bench_start
    if [ $((round % 2)) = 1 ]; then b=$(rps 18191 "$WORK/$kind.txt"); h=$(rps 18192 "$WORK/$kind.txt"); else h=$(rps 18192 "$WORK/$kind.txt"); b=$(rps 18191 "$WORK/$kind.txt"); fi
    hr=$(echo "$h" | sed -E 's/.*rps=([0-9.]+).*/\1/'); br=$(echo "$b" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    bench_record "features vs $BASE: $kind paths on homesteads, round $round" "$h" "at $BASE: $b" "$(echo "scale=3; $hr / $br" | bc)" \
      "PATHS=$kind.txt wrk -t2 -c8 -d$DUR -s internal/devtools/bench/paths.lua, this commit and $BASE serving the same county database, alternating"
  done
done
