#!/usr/bin/env bash
# `make bench-indicators`: issue 14's indicator figures on the county
# sample (230,000 homesteads): every indicator for every village cold (the
# cache emptied; target ≤ 10 s), the same report from the cache, and the
# network reach of every household to the three facility kinds (the sum of
# reach_shelter, reach_clinic and reach_service_centre; target ≤ 60 s).
# The county database is an embedded cluster in BENCH_DATA (created with
# `villageplan serve --sample-scale county` on the first run). Every figure
# goes to the results file (internal/devtools/bench/record.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
BENCH_DATA=${BENCH_DATA:-/var/tmp/vp-indicators-bench}
go build -o bin/villageplan ./cmd/villageplan
go build -o bin/indicatorsbench ./internal/devtools/indicatorsbench
if [ ! -d "$BENCH_DATA/pg" ]; then
  echo "bench-indicators: building the county sample in $BENCH_DATA (once)" >&2
  bin/villageplan serve --addr 127.0.0.1:0 --data "$BENCH_DATA" --sample-scale county > "$BENCH_DATA.log" 2>&1 &
  pid=$!
  until grep -q 'msg=serving' "$BENCH_DATA.log" 2>/dev/null; do sleep 5; kill -0 $pid || exit 1; done
  kill -INT $pid; wait $pid || true
fi
bin/villageplan db start --data "$BENCH_DATA" --log-level warn >/dev/null 2>&1 || true
URL=$(bin/villageplan db url --data "$BENCH_DATA")
HH=$(bin/villageplan db psql --data "$BENCH_DATA" -tAc "SELECT count(*) FROM villageplan.homesteads WHERE status = '已登记'")
CMD="bin/indicatorsbench -database-url \$(villageplan db url --data $BENCH_DATA)"
bench_start
out=$(bin/indicatorsbench -database-url "$URL" 2>/dev/null)
echo "$out" | jq -c '{cold_ms, cached_ms, timings_ms}'
cold=$(echo "$out" | jq .cold_ms)
cached=$(echo "$out" | jq .cached_ms)
reach=$(echo "$out" | jq '.timings_ms.reach_shelter + .timings_ms.reach_clinic + .timings_ms.reach_service_centre')
ratio() { echo "scale=3; $1 / $2" | bc; }
bench_record "indicators: all $(echo "$out" | jq '.timings_ms | length') indicators, every village and 自然屯 of the county sample, cold (cache emptied)" \
  "ms=$cold values=$(echo "$out" | jq .values) per_indicator_ms=$(echo "$out" | jq -c .timings_ms)" "ms=10000" "$(ratio "$cold" 10000)" "$CMD"
bench_record "indicators: the same report from the cache (layer versions unchanged)" "ms=$cached" "" "" "$CMD"
bench_record "indicators: network reach (pgRouting, multi-source) of $HH households to 应急避难场所, 卫生室, 便民服务中心 (attachment + 3 drivingDistance)" \
  "ms=$reach" "ms=60000" "$(ratio "$reach" 60000)" "$CMD"
