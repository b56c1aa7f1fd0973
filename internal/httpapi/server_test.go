package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// loopback trusts the test client as a reverse proxy (X-Forwarded-*).
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func get(t *testing.T, url string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %q", url, b)
	}
	return resp.StatusCode, body, resp.Header
}

// TestReadyzFollowsTheDatabase: ready while the database is there and
// migrated; 503 with a JSON reason once it is gone; /healthz stays 200.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	ctx := context.Background()
	dbURL := testpg.NewDatabase(t)
	pool, err := db.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
	defer ts.Close()

	code, body, _ := get(t, ts.URL+"/readyz")
	if code != http.StatusOK || body["status"] != "ready" || body["schema_version"] != float64(db.EmbeddedVersion()) {
		t.Fatalf("/readyz = %d %v, want 200 ready at schema version %d", code, body, db.EmbeddedVersion())
	}

	// A burst of concurrent probes on a 4-connection pool: every one is
	// ready with the right schema version (they share one query).
	var wg sync.WaitGroup
	fails := make(chan string, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body, _ := get(t, ts.URL+"/readyz"); code != http.StatusOK || body["schema_version"] != float64(db.EmbeddedVersion()) {
				fails <- fmt.Sprintf("%d %v", code, body)
			}
		}()
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Errorf("concurrent /readyz: %s", f)
	}

	// The database goes away: drop it, killing the pool's connections.
	admin, err := pgx.Connect(ctx, testpg.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := strings.TrimPrefix(pool.Config().ConnConfig.Database, "/")
	if _, err := admin.Exec(ctx, `DROP DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // past the readiness cache (500 ms)
	code, body, hdr := get(t, ts.URL+"/readyz")
	if hdr.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if code != http.StatusServiceUnavailable || body["code"] != "NotReady" || body["description"] == "" {
		t.Fatalf("/readyz without database = %d %v, want 503 NotReady with a reason", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if code, body, _ := get(t, ts.URL+"/healthz"); code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, body)
	}
}

func TestUnknownPathIsJSON404(t *testing.T) {
	ts := httptest.NewServer(httpapi.New(httpapi.Options{}))
	defer ts.Close()
	code, body, _ := get(t, ts.URL+"/no/such/thing")
	if code != http.StatusNotFound || body["code"] != "NotFound" {
		t.Fatalf("= %d %v", code, body)
	}
	code, body, _ = get(t, ts.URL+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz without a pool = %d %v", code, body)
	}
}

func TestMetricsExposed(t *testing.T) {
	pool := testpg.New(t)
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
	defer ts.Close()
	_, _, _ = get(t, ts.URL+"/healthz")
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`villageplan_http_request_duration_seconds_count{code="200",route="/healthz"} 1`, "villageplan_db_pool_max_connections"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
