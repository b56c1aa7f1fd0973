#!/usr/bin/env bash
# `make bench-import [BASE=commit]`: the 500 000-polygon import benchmark
# (BenchmarkImportGeoJSON500k, internal/imports/bench_test.go) of this
# checkout against an earlier commit, run in alternating order, two rounds
# each; every run and the throughput ratio go to the results file
# (internal/devtools/bench/record.sh). A change may not cost more than 10 %.
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
BASE=${1:-${BASE:-83c20f9}}
ROUNDS=${ROUNDS:-2}
base_dir=$(mktemp -d /var/tmp/villageplan-bench-base-XXXXXX)
trap 'git worktree remove --force "$base_dir" >/dev/null 2>&1 || rm -rf "$base_dir"' EXIT
git worktree add --detach "$base_dir" "$BASE" >/dev/null
CMD="go test -count=1 -run '^\$' -bench ImportGeoJSON500k -benchtime 1x ./internal/imports/"
run() { # dir → features/s
  (cd "$1" && eval "$CMD" 2>&1) | awk '/^BenchmarkImportGeoJSON500k/ { for (i = 1; i < NF; i++) if ($(i+1) == "features/s") print $i }'
}
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  bench_start
  if [ $((round % 2)) = 1 ]; then b=$(run "$base_dir"); h=$(run .); else h=$(run .); b=$(run "$base_dir"); fi
  [ -n "$b" ] && [ -n "$h" ] || { echo "bench-import: a run failed (base=$b head=$h)" >&2; exit 1; }
  r=$(echo "scale=3; $h / $b" | bc)
  ratios+=("$r")
  bench_record "import: 500k-polygon GeoJSON into land_use, this commit vs $BASE, round $round" \
    "features_per_s=$h" "features_per_s_at_$BASE=$b" "$r" "$CMD (in a worktree of $BASE and in this checkout, alternating)"
done
sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
bench_record "import: 500k-polygon GeoJSON, this commit vs $BASE, summary" \
  "throughput_ratio_min=${sorted[0]} throughput_ratio_max=${sorted[-1]} (this commit / $BASE; ≥ 0.9 keeps the issue-10 bound)" "" "${sorted[0]}" "$CMD"
