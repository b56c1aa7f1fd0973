# Sourced by the benchmark scripts: every figure is appended to the results
# file (tab-separated, one line per figure, never rewritten) with the date,
# commit, cores, load average before and after the measurement, the figure,
# its ceiling and the ratio to it where the run measured one, and the
# command. Closing notes quote figures from this file only.
RESULTS=${BENCH_RESULTS:-internal/devtools/bench/results.tsv}
BENCH_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- . 2>/dev/null || BENCH_COMMIT="$BENCH_COMMIT+uncommitted"
if [ ! -s "$RESULTS" ]; then
  printf 'date_utc\tcommit\tcores\tload_before\tload_after\tbenchmark\tfigures\tceiling\tratio_to_ceiling\tcommand\n' > "$RESULTS"
fi
bench_start() { BENCH_LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg); }
# bench_record BENCHMARK FIGURES CEILING RATIO COMMAND
bench_record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$BENCH_COMMIT" "$(nproc)" "${BENCH_LOAD_BEFORE:-}" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$1" "$2" "$3" "$4" "$5" >> "$RESULTS"
  echo "RESULT $1: $2${3:+  ceiling: $3}${4:+  ratio: $4}"
}
