package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/pgcluster"
)

// replicaGet reads u (with an optional token and cookie) and returns the
// status, the X-Served-By header and the body.
func replicaGet(t *testing.T, u, token string, cookies ...*http.Cookie) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Served-By"), string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReadReplicas runs a private primary and a streaming standby
// (pgcluster, as `villageplan db replica` does) behind one server: reads
// of features and tiles go to the standby, a user's read after their own
// write sees it (primary until the standby has replayed it), the lag and
// up gauges are exposed, and a killed standby leaves the rotation
// (requests still succeed on the primary, /readyz stays 200 and shows it
// down) and comes back by itself once restarted.
func TestReadReplicas(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("/var/tmp", "vp-replica-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	primary, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(dir, "primary")})
	if err != nil {
		t.Fatal(err)
	}
	if err := primary.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop(context.Background()) })
	if err := primary.EnsureDatabase(ctx, "vp"); err != nil {
		t.Fatal(err)
	}
	pool, err := db.Open(ctx, primary.URL("vp"), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	var lightID int64
	if err := pool.QueryRow(ctx, `INSERT INTO villageplan.streetlights (pole_id, status, geom)
		VALUES ('DY-001', '正常', ST_Transform(ST_SetSRID(ST_MakePoint(480610, 4828995), 4551), 4490)) RETURNING id`).Scan(&lightID); err != nil {
		t.Fatal(err)
	}

	replica, err := primary.CreateReplica(ctx, filepath.Join(dir, "replica"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replica.Stop(context.Background()) })

	rs, err := db.NewReplicaSet(pool, []string{replica.URL("vp")}, db.ReplicaOptions{MaxLag: 10 * time.Second, Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	rep := rs.Replicas()[0]
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers, Replicas: rs,
		RateLimits: map[string]httpapi.RateLimit{"write": {}}})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	waitFor(t, "replica-1 in the rotation", func() bool { return rs.States()[0].Up })

	item := fmt.Sprintf("%s/collections/streetlights/items/%d", ts.URL, lightID)
	// The standby has the feature once it has replayed the insert.
	waitFor(t, "the standby to serve the feature", func() bool {
		code, _, _ := replicaGet(t, item, "")
		return code == 200
	})
	before := rep.Pool.Stat().AcquireCount()
	code, by, body := replicaGet(t, item, "")
	if code != 200 || by != "replica-1" || !strings.Contains(body, "DY-001") {
		t.Fatalf("read = %d served by %q: %s", code, by, body)
	}
	if rep.Pool.Stat().AcquireCount() <= before {
		t.Fatalf("the replica's pool was not used (acquires %d → %d)", before, rep.Pool.Stat().AcquireCount())
	}
	code, by, _ = replicaGet(t, ts.URL+"/tiles/map/14/14106/6069.mvt", "")
	if code != 200 && code != 204 || by != "replica-1" {
		t.Fatalf("tile = %d served by %q", code, by)
	}
	// Writes never go to the standby; other routes say nothing.
	if _, by, _ := replicaGet(t, ts.URL+"/collections", ""); by != "" {
		t.Fatalf("/collections X-Served-By %q", by)
	}

	// Read-your-writes: with replay paused on the standby, the writer's
	// read goes to the primary and sees the write; an anonymous read still
	// goes to the standby (and sees the old state).
	rconn, err := pgxpool.New(ctx, replica.URL("vp"))
	if err != nil {
		t.Fatal(err)
	}
	defer rconn.Close()
	if _, err := rconn.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	resp, m := call(t, "editor", "PATCH", item, "application/merge-patch+json", `{"properties":{"status":"故障"}}`,
		"If-Match", etagOf(t, ts, "streetlights", lightID))
	if resp.StatusCode != 200 {
		t.Fatalf("patch = %d %v", resp.StatusCode, m)
	}
	var lsnCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "vp_lsn" {
			lsnCookie = c
		}
	}
	if lsnCookie == nil {
		t.Fatal("a successful write set no vp_lsn cookie")
	}
	code, by, body = replicaGet(t, item, "editor")
	if code != 200 || by != "primary" || !strings.Contains(body, "故障") {
		t.Fatalf("writer's read after the write = %d served by %q: %s", code, by, body)
	}
	code, by, body = replicaGet(t, item, "", lsnCookie)
	if code != 200 || by != "primary" || !strings.Contains(body, "故障") {
		t.Fatalf("read with the vp_lsn cookie = %d served by %q: %s", code, by, body)
	}
	code, by, body = replicaGet(t, item, "")
	if code != 200 || by != "replica-1" || !strings.Contains(body, "正常") {
		t.Fatalf("anonymous read with replay paused = %d served by %q: %s", code, by, body)
	}
	if _, err := rconn.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	rconn.Close()
	waitFor(t, "the writer's reads to return to the replica", func() bool {
		_, by, _ := replicaGet(t, item, "editor")
		return by == "replica-1"
	})
	if code, _, body := replicaGet(t, item, "editor"); code != 200 || !strings.Contains(body, "故障") {
		t.Fatalf("replica read after replay = %d: %s", code, body)
	}

	// Metrics.
	_, _, metrics := replicaGet(t, ts.URL+"/metrics", "")
	for _, want := range []string{`villageplan_replica_lag_seconds{replica="replica-1"}`, `villageplan_replica_up{replica="replica-1"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Kill the standby's postmaster: it leaves the rotation, reads go to
	// the primary, /readyz stays ready and names it down.
	pidLine, err := os.ReadFile(filepath.Join(replica.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidLine), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replica-1 out of the rotation", func() bool { return !rs.States()[0].Up })
	code, by, body = replicaGet(t, item, "")
	if code != 200 || by != "primary" || !strings.Contains(body, "故障") {
		t.Fatalf("read with the replica down = %d served by %q: %s", code, by, body)
	}
	code, _, body = replicaGet(t, ts.URL+"/readyz", "")
	if code != 200 || !strings.Contains(body, `"name":"replica-1"`) || !strings.Contains(body, `"up":false`) {
		t.Fatalf("/readyz with the replica down = %d %s", code, body)
	}
	if _, _, m := replicaGet(t, ts.URL+"/metrics", ""); !strings.Contains(m, `villageplan_replica_up{replica="replica-1"} 0`) {
		t.Error("/metrics does not show replica-1 down")
	}

	// Restart it: it comes back by itself.
	if _, err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replica-1 back in the rotation", func() bool { return rs.States()[0].Up })
	code, by, _ = replicaGet(t, item, "")
	if code != 200 || by != "replica-1" {
		t.Fatalf("read after the restart = %d served by %q", code, by)
	}
	code, _, body = replicaGet(t, ts.URL+"/readyz", "")
	if code != 200 || !strings.Contains(body, `"up":true`) {
		t.Fatalf("/readyz after the restart = %d %s", code, body)
	}
}
