#!/usr/bin/env bash
# `make bench-storage [COMMITS="83c20f9 HEAD"]`: builds the county-scale
# sample from empty with the binary of each commit, then records the
# database size and the share of the edit history (edit_history, and where
# they exist edit_batch and edit_batch_prior) in the results file. Each
# build takes a few minutes and up to 1.7 GB under /var/tmp; the data is
# removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
. internal/devtools/bench/record.sh
COMMITS=${*:-${COMMITS:-83c20f9 HEAD}}
for c in $COMMITS; do
  rev=$(git rev-parse --short "$c")
  src=$(mktemp -d /var/tmp/villageplan-storage-src-XXXXXX)
  data=$(mktemp -d /var/tmp/villageplan-storage-data-XXXXXX); chmod 755 "$data"
  git worktree add --detach "$src" "$rev" >/dev/null
  (cd "$src" && go build -o "$src/vp" ./cmd/villageplan)
  bench_start
  t0=$(date +%s)
  "$src/vp" serve --data "$data" --addr 127.0.0.1:0 --sample-scale county --log-level warn &
  pid=$!
  until "$src/vp" db psql --data "$data" -At -c "SELECT count(*) FROM villageplan.layer_metadata WHERE layer = 'homesteads'" 2>/dev/null | grep -q '^1$'; do
    kill -0 $pid 2>/dev/null || { echo "bench-storage: serve of $rev exited" >&2; exit 1; }
    sleep 5
  done
  built=$(( $(date +%s) - t0 ))
  sizes=$("$src/vp" db psql --data "$data" -At -c "CHECKPOINT; SELECT pg_database_size(current_database()), coalesce(sum(pg_total_relation_size(c.oid)), 0)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'villageplan' AND c.relname IN ('edit_history', 'edit_batch', 'edit_batch_prior')" | tail -1)
  kill $pid; wait $pid 2>/dev/null || true
  db_bytes=${sizes%%|*}; hist_bytes=${sizes##*|}
  bench_record "storage: county sample built from empty by commit $rev" \
    "database_mb=$((db_bytes / 1048576)) history_mb=$(echo "scale=2; $hist_bytes / 1048576" | bc) history_share_pct=$(echo "scale=3; 100 * $hist_bytes / $db_bytes" | bc) build_s=$built" \
    "" "" "villageplan serve --sample-scale county (binary of $rev) into an empty data folder; pg_database_size and pg_total_relation_size of the history tables after CHECKPOINT"
  "$src/vp" db stop --data "$data" >/dev/null 2>&1 || true
  git worktree remove --force "$src" >/dev/null 2>&1 || rm -rf "$src"
  rm -rf "$data"
done
