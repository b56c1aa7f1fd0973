#!/usr/bin/env bash
# `make bench-desk`: issue 12's desk figures with 20,000 applications
# (BenchmarkDesk20k, internal/applications/bench_test.go, on a private
# PostGIS cluster): the list with filters and searches (p95 ≤ 50 ms; its
# ceiling is the same SQL alone), an update that moves the site and re-runs
# the siting check, and a transition (p95 ≤ 30 ms), and the ledger rows of
# a year. The ledger .xlsx of a year over HTTP (≤ 2 s) is
# internal/devtools/bench-ledger.sh, run here when present. Every figure
# goes to the results file (internal/devtools/bench/record.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
N=${N:-200}
CMD="go test -count=1 -p 1 -run '^\$' -bench '^BenchmarkDesk20k\$' -benchtime ${N}x ./internal/applications/"
bench_start
out=$(eval "$CMD" 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | grep -E 'Benchmark|filter|applications'
line=$(echo "$out" | grep '^BenchmarkDesk20k')
metric() { echo "$line" | awk -v m="$1" '{ for (i = 1; i < NF; i++) if ($(i+1) == m) print $i }'; }
ratio() { echo "scale=3; $1 / $2" | bc; }
bench_record "desk: application list with filters and searches (counts per state, page of 50, audit), 20,000 applications, $N lists" \
  "p50_ms=$(metric list_p50_ms) p95_ms=$(metric list_p95_ms) (bound p95 ≤ 50 ms: $(ratio "$(metric list_p95_ms)" 50))" \
  "same SQL alone: p50_ms=$(metric list_sql_p50_ms) p95_ms=$(metric list_sql_p95_ms)" "$(ratio "$(metric list_p95_ms)" "$(metric list_sql_p95_ms)")" "$CMD"
bench_record "desk: update moving the site (siting check re-run and stored with the application, one transaction), 20,000 applications, 100 updates" \
  "p50_ms=$(metric recheck_p50_ms) p95_ms=$(metric recheck_p95_ms)" "p95_ms=30" "$(ratio "$(metric recheck_p95_ms)" 30)" "$CMD"
bench_record "desk: transition (withdraw: lock, rule, event, audit, one transaction), 20,000 applications, 200 transitions" \
  "p50_ms=$(metric transition_p50_ms) p95_ms=$(metric transition_p95_ms)" "p95_ms=30" "$(ratio "$(metric transition_p95_ms)" 30)" "$CMD"
bench_record "desk: ledger rows of a year (JSON rows in process, no .xlsx), 20,000 applications" \
  "ms=$(metric ledger_year_ms) rows=$(metric ledger_rows)" "" "" "$CMD"
if [ -x internal/devtools/bench-ledger.sh ]; then
  internal/devtools/bench-ledger.sh
else
  echo "bench-desk: internal/devtools/bench-ledger.sh (the ledger .xlsx over HTTP) is not in this checkout; that figure is not measured" >&2
fi
