#!/usr/bin/env bash
# `make bench-edit [SCALE=township|county]`: one-feature edits over HTTP
# (BenchmarkEditOneFeature, internal/httpapi/editing_bench_test.go: PATCH
# of a homestead's geometry and a property with If-Match, including
# validation, both topology rules, history and audit) on the sample of
# SCALE; the median and p95 latency go to the results file
# (internal/devtools/bench/record.sh). Issue 13's bound: p95 ≤ 20 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
SCALE=${1:-${SCALE:-township}}
N=${N:-400}
CMD="VILLAGEPLAN_BENCH_SCALE=$SCALE go test -count=1 -run '^\$' -bench EditOneFeature -benchtime ${N}x ./internal/httpapi/"
bench_start
out=$(eval "$CMD" 2>&1) || { echo "$out" >&2; exit 1; }
line=$(echo "$out" | grep '^BenchmarkEditOneFeature')
p50=$(echo "$line" | awk '{ for (i = 1; i < NF; i++) if ($(i+1) == "p50_ms") print $i }')
p95=$(echo "$line" | awk '{ for (i = 1; i < NF; i++) if ($(i+1) == "p95_ms") print $i }')
ratio=$(echo "scale=3; $p95 / 20" | bc)
bench_record "edit: one homestead PATCH (geometry + property, validation, topology, history, audit) over HTTP, $SCALE sample, $N edits" \
  "p50_ms=$p50 p95_ms=$p95" "p95_ms=20" "$ratio" "$CMD"
