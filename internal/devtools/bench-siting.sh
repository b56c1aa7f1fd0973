#!/usr/bin/env bash
# `make bench-siting`: POST /siting/checks against its ceiling, pgbench of
# the same measuring statement (internal/siting measureSQL, one round trip,
# prepared, on the same 300 sites), interleaved: each round runs pgbench
# and wrk with one client, then with 8, the order alternating. Needs a
# running `villageplan serve` on the county sample (ADDR, DATA of its
# cluster) and an API token of a desk user (TOKEN). Every figure and ratio
# (HTTP / pgbench rate; 1 = the SQL's ceiling) goes to results.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
BIN=${BIN:-bin/villageplan}
DATA=${BENCH_DATA:-/var/tmp/villageplan-bench}
ADDR=${BENCH_ADDR:-127.0.0.1:18181}
DUR=${BENCH_DURATION:-8}
ROUNDS=${ROUNDS:-3}
: "${TOKEN:?TOKEN: an API token of a desk user}"
URL=$("$BIN" db url --data "$DATA" --database villageplan)
WORK=$(mktemp -d); trap 'psql "$URL" -qc "DROP TABLE IF EXISTS public.bench_sites" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
# 300 sites of 15 m × 15 m next to sampled homesteads, in EPSG:4551 (as make bench).
psql "$URL" -qc "DROP TABLE IF EXISTS public.bench_sites; CREATE TABLE public.bench_sites AS
  SELECT row_number() OVER () AS i, 'bench-' || id AS household, ST_Translate(ST_MakeEnvelope(ST_X(c), ST_Y(c), ST_X(c) + 15, ST_Y(c) + 15, 4551), 12, 0) AS g
  FROM (SELECT id, ST_Transform(ST_Centroid(geom), 4551) c FROM villageplan.homesteads TABLESAMPLE SYSTEM (1) REPEATABLE (9) LIMIT 300) s"
psql "$URL" -qAtc "SELECT json_build_object('crs', 'EPSG:4551', 'household_id', household, 'site', ST_AsGeoJSON(g, 3)::json) FROM public.bench_sites ORDER BY i" > "$WORK/sites.txt"
go run ./internal/devtools/measuresql > "$WORK/measure.sql"
# pgbench: the same statement; $1 (the site's WKB) and $4 (household) from bench_sites.
{ echo '\set i random(1, 300)'
  sed -e 's/\$1/(SELECT ST_AsBinary(g) FROM public.bench_sites WHERE i = :i)/g' -e 's/\$2/4551/g' -e 's/\$3/4551/g' \
      -e 's/\$4/(SELECT household FROM public.bench_sites WHERE i = :i)/g' -e 's/\$5/120::float8/g' \
      -e "s/\\\$6/'{村庄集中建设区,村庄弹性发展区}'/g" -e 's/\$7/30::float8/g' "$WORK/measure.sql"
  echo ';'; } > "$WORK/measure.pgb"
pgb() { # clients → tps
  pgbench -n -M prepared -c "$1" -j "$1" -T "$DUR" -f "$WORK/measure.pgb" "$URL" 2>&1 | awk '/^tps/ { print $3 }' | cut -d. -f1
}
http() { # clients → RESULT line
  BODIES="$WORK/sites.txt" TARGET=/siting/checks wrk -t"$1" -c"$1" -d"${DUR}s" -H "Authorization: Bearer $TOKEN" \
    -s internal/devtools/bench/posts.lua "http://$ADDR" | grep RESULT | sed 's/^RESULT //'
}
declare -A ratios
for round in $(seq 1 "$ROUNDS"); do
  for c in 1 8; do
    bench_start
    if [ $((round % 2)) = 1 ]; then ceil=$(pgb $c); out=$(http $c); else out=$(http $c); ceil=$(pgb $c); fi
    rps=$(echo "$out" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    r=$(echo "scale=3; $rps / $ceil" | bc)
    ratios[$c]="${ratios[$c]:-} $r"
    bench_record "siting: POST /siting/checks, $c client(s), round $round" "$out" "pgbench_tps=$ceil" "$r" \
      "wrk -t$c -c$c -d${DUR}s -s internal/devtools/bench/posts.lua (300 sites) vs pgbench -M prepared -c$c -T$DUR of the measuring statement on the same sites, order alternating"
  done
done
for c in 1 8; do
  sorted=($(printf '%s\n' ${ratios[$c]} | sort -n))
  bench_record "siting: POST /siting/checks, $c client(s), summary of $ROUNDS rounds" \
    "ratio_median=${sorted[$(( ${#sorted[@]} / 2 ))]} ratio_min=${sorted[0]} ratio_max=${sorted[-1]} (HTTP checks/s / pgbench tps of the measuring statement)" "" "${sorted[$(( ${#sorted[@]} / 2 ))]}" "see the rounds above"
done
