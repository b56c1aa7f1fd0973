package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
)

// spaceState is what the test reads about land_use and edit_batch_prior:
// the main fork of each table (pg_relation_size), the table with its
// indexes and TOAST (pg_total_relation_size), their dead tuples and
// autovacuum runs, and the database's size.
type spaceState struct {
	heap, priorHeap, total, dbSize int64
	dead, priorDead                int64
	autovacuums                    int64
}

func readSpace(t *testing.T, pool *pgxpool.Pool) spaceState {
	t.Helper()
	var s spaceState
	// pg_stat_* are a snapshot per transaction; each QueryRow is its own.
	if err := pool.QueryRow(context.Background(), `SELECT pg_relation_size('villageplan.land_use'), pg_relation_size('villageplan.edit_batch_prior'),
		pg_total_relation_size('villageplan.land_use') + pg_total_relation_size('villageplan.edit_batch_prior'), pg_database_size(current_database()),
		(SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'villageplan.land_use'::regclass),
		(SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'villageplan.edit_batch_prior'::regclass),
		(SELECT sum(autovacuum_count) FROM pg_stat_user_tables WHERE relid IN ('villageplan.land_use'::regclass, 'villageplan.edit_batch_prior'::regclass))::bigint`).
		Scan(&s.heap, &s.priorHeap, &s.total, &s.dbSize, &s.dead, &s.priorDead, &s.autovacuums); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s spaceState) String() string {
	return fmt.Sprintf("land_use heap %d B (%d dead), edit_batch_prior heap %d B (%d dead), both with indexes %d B, database %d B, autovacuum runs %d",
		s.heap, s.dead, s.priorHeap, s.priorDead, s.total, s.dbSize, s.autovacuums)
}

// TestKilledImportSpaceIsReclaimed: an import that replaces a 300-parcel
// layer with 6000 parcels is killed with SIGKILL after its INSERT (at
// "recording the source"), three times. Nobody runs VACUUM. Each time the
// aborted rows are dead tuples in land_use and edit_batch_prior; within
// 90 s autovacuum (migration 00011's thresholds, the cluster's 10 s
// naptime) has removed them and both tables' files are back to their size
// before the imports (the staging tables were TEMP and are gone). The
// indexes keep the pages the aborted rows' entries had, and the next
// imports reuse them: the third killed import leaves the tables with their
// indexes and the database at most a few pages bigger than the second.
func TestKilledImportSpaceIsReclaimed(t *testing.T) {
	ctx := context.Background()
	url := testpg.NewDatabase(t)
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bin := filepath.Join(t.TempDir(), "villageplan")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "--database-url", url, "import", "--layer", "land_use", parcelsFile(t, 300)).CombinedOutput(); err != nil {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	// Migration 00011: autovacuum at 2 % dead rows (default 20 %), so an
	// aborted import into a big layer is reclaimed too.
	var opts []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = 'villageplan.land_use'::regclass`).Scan(&opts); err != nil ||
		!slices.Contains(opts, "autovacuum_vacuum_scale_factor=0.02") {
		t.Errorf("land_use reloptions %v (%v), want autovacuum_vacuum_scale_factor=0.02", opts, err)
	}
	before := readSpace(t, pool)
	t.Logf("before: %v", before)
	file := parcelsFile(t, 6000)

	var steady spaceState
	for round := 1; round <= 3; round++ {
		cmd := exec.Command(bin, "--database-url", url, "import", "--layer", "land_use", "--mode", "replace", file)
		cmd.Env = append(os.Environ(), "DATABASE_URL=")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		killed := false
		for sc.Scan() {
			if strings.Contains(sc.Text(), "load 3/5") { // the INSERT is done
				_ = cmd.Process.Kill()
				killed = true
				break
			}
		}
		go func() { _, _ = bufio.NewReader(stderr).WriteTo(devNull{}) }()
		_ = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: the import never reached load 3/5", round)
		}
		waitIdle(t, pool)
		killedState := readSpace(t, pool)
		t.Logf("round %d, just after the kill: %v", round, killedState)
		if killedState.heap <= before.heap {
			t.Fatalf("round %d: land_use did not grow (%d → %d B): the kill came before the INSERT", round, before.heap, killedState.heap)
		}

		deadline := time.Now().Add(90 * time.Second)
		var now spaceState
		for {
			now = readSpace(t, pool)
			if now.dead == 0 && now.priorDead == 0 && now.heap <= before.heap && now.priorHeap <= before.priorHeap &&
				now.autovacuums > killedState.autovacuums {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: 90 s after the kill the space is not reclaimed: %v (before the import: %v)", round, now, before)
			}
			time.Sleep(time.Second)
		}
		t.Logf("round %d, reclaimed: %v", round, now)
		if round < 3 {
			steady = now
			continue
		}
		// The third aborted import went into the index pages the earlier
		// ones left free (PostgreSQL recycles an index page one vacuum
		// after the one that deleted it, and the first vacuum adds the
		// free-space maps): the indexes and the database grew by at most
		// a few pages, against the 2.5 MB each import writes.
		const margin = 8 * 8192
		if now.total > steady.total+margin || now.dbSize > steady.dbSize+margin {
			t.Errorf("the third killed import did not reuse the space: tables with indexes %d → %d B, database %d → %d B",
				steady.total, now.total, steady.dbSize, now.dbSize)
		}
	}
	// The layer itself is untouched (TestKillImportLeavesNoTrace checks
	// history and coverage too).
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.land_use`).Scan(&n); err != nil || n != 300 {
		t.Fatalf("land_use after the killed imports: %d rows, %v; want the 300 of before", n, err)
	}
}

// waitIdle waits until no other backend of the database is working: the
// server has noticed the killed client and rolled its transaction back.
func waitIdle(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
			AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed import's backend is still working after 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestImportStatementLimit: the import's sessions carry --limit-import as
// their statement_timeout. An import whose layer another session holds
// locked (an ALTER TABLE, a long QGIS transaction) fails at the limit with
// a message naming it in Chinese and English, instead of waiting for ever,
// and the layer is unchanged.
func TestImportStatementLimit(t *testing.T) {
	ctx := context.Background()
	url := testpg.NewDatabase(t)
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if out, errOut, err := run(t, "--database-url", url, "import", "--layer", "land_use", parcelsFile(t, 300)); err != nil {
		t.Fatalf("first import: %v\n%s\n%s", err, out, errOut)
	}
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `LOCK TABLE villageplan.land_use IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = run(t, "--database-url", url, "import", "--layer", "land_use", "--mode", "replace", "--limit-import", "700ms", parcelsFile(t, 50))
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "--limit-import 700ms") || !strings.Contains(err.Error(), "时限") ||
		!strings.Contains(err.Error(), "layer is unchanged") {
		t.Fatalf("import into a locked layer: %v, want the limit named", err)
	}
	if took > 10*time.Second {
		t.Errorf("the import gave up after %v", took)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.land_use`).Scan(&n); err != nil || n != 300 {
		t.Fatalf("land_use after the timed-out import: %d rows, %v", n, err)
	}
}
