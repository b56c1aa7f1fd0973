#!/usr/bin/env bash
# The issue-12 figure "the ledger .xlsx for a year ≤ 2 s": runs
# BenchmarkLedgerXLSXYear (GET /ledger?year=2026&f=xlsx over HTTP, query
# included, 20,000 decided applications of one year inserted in SQL into a
# private PostGIS cluster) and records ms per download in the results file.
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
N=${N:-5}
cmd="go test -count=1 -p 1 -run '^\$' -bench '^BenchmarkLedgerXLSXYear\$' -benchtime ${N}x ./internal/httpapi/"
bench_start
out=$(eval "$cmd" 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | grep -E 'inserted|Benchmark'
line=$(echo "$out" | grep '^BenchmarkLedgerXLSXYear')
ns=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i}')
size=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "xlsx_bytes") print $i}')
cpu=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "go_cpu_ms/op") print $i}')
json=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "json_ms") print $i}')
ms=$(echo "scale=1; $ns / 1000000" | bc)
bench_record "ledger .xlsx of a year over HTTP, 20,000 applications (mean of $N downloads)" \
  "ms_per_download=$ms go_cpu_ms_per_download=$cpu json_ledger_ms=$json xlsx_bytes=$size rows=20000" "2000 ms" "$(echo "scale=3; $ms / 2000" | bc)" "$cmd"
