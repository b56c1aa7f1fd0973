package pgcluster

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestReplicaCreateStatusPromote starts a primary and a streaming standby
// made with pg_basebackup on this machine: the standby serves reads of
// what the primary wrote (after it replays it), refuses writes, reports
// its replay LSN, and after promotion takes writes.
func TestReplicaCreateStatusPromote(t *testing.T) {
	ctx := context.Background()
	p := startedCluster(t)
	execSQL(t, p, "postgres", `CREATE TABLE probe (v text); INSERT INTO probe VALUES ('before')`)

	r, err := p.CreateReplica(ctx, filepath.Join(baseDir(t), "replica"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("cleanup Stop replica: %v", err)
		}
	})
	if _, err := p.CreateReplica(ctx, r.Dir(), 0); err == nil {
		t.Fatal("a second replica into the same directory was accepted")
	}
	if r.Port() == p.Port() {
		t.Fatalf("replica on the primary's port %d", p.Port())
	}
	if _, err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, r, "postgres", `SELECT string_agg(v, ',') FROM probe`); got != "before" {
		t.Fatalf("replica reads %q", got)
	}

	// A write on the primary reaches the replica once it replays the
	// primary's LSN.
	execSQL(t, p, "postgres", `INSERT INTO probe VALUES ('after')`)
	lsn := queryString(t, p, "postgres", `SELECT pg_current_wal_lsn()::text`)
	deadline := time.Now().Add(20 * time.Second)
	for queryString(t, r, "postgres", `SELECT (pg_last_wal_replay_lsn() >= '`+lsn+`'::pg_lsn)::text`) != "true" {
		if time.Now().After(deadline) {
			t.Fatalf("replica did not replay %s within 20 s", lsn)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := queryString(t, r, "postgres", `SELECT string_agg(v, ',' ORDER BY v DESC) FROM probe`); got != "before,after" {
		t.Fatalf("replica reads %q after replay", got)
	}
	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.InRecovery || !st.Streaming || st.ReplayLSN == "" {
		t.Fatalf("replica status %+v", st)
	}
	if n := queryString(t, p, "postgres", `SELECT count(*)::text FROM pg_stat_replication WHERE state = 'streaming'`); n != "1" {
		t.Fatalf("primary sees %s streaming standbys", n)
	}
	conn, err := r.connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO probe VALUES ('on replica')`); err == nil {
		t.Fatal("the standby accepted a write")
	}
	conn.Close(ctx)

	// Promotion: stop the old primary, promote, write.
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	execSQL(t, r, "postgres", `INSERT INTO probe VALUES ('promoted')`)
	if st, err := r.Status(ctx); err != nil || st.InRecovery {
		t.Fatalf("after promotion: %+v, %v", st, err)
	}
	if err := r.Promote(ctx); err == nil {
		t.Fatal("promoting a primary again succeeded")
	}
}
