package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	for _, want := range []string{`villageplan_http_request_duration_seconds_count{code="200",route="/healthz"} 1`, "villageplan_db_pool_max_connections",
		`villageplan_build_info{goversion="go1.`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestAccessLogAndRequestID: every request gets an X-Request-Id (a client's
// well-formed one is kept, a hostile one replaced) and one access-log line
// with method, path without the query, route, status, bytes and the id.
func TestAccessLogAndRequestID(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, nil))
	ts := httptest.NewServer(httpapi.New(httpapi.Options{AccessLog: logger}))
	defer ts.Close()
	resp, _ := fetch(t, "GET", ts.URL+"/healthz?secret=1", map[string]string{"X-Request-Id": "trace-42.a_b"})
	if got := resp.Header.Get("X-Request-Id"); got != "trace-42.a_b" {
		t.Fatalf("kept request id = %q", got)
	}
	resp, _ = fetch(t, "GET", ts.URL+"/no/such", map[string]string{"X-Request-Id": "bad id <script>"})
	generated := resp.Header.Get("X-Request-Id")
	if len(generated) != 16 || strings.ContainsAny(generated, " <") {
		t.Fatalf("hostile request id not replaced: %q", generated)
	}
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 access lines, got %d: %s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first["msg"] != "access" || first["method"] != "GET" || first["path"] != "/healthz" || first["route"] != "/healthz" ||
		first["status"] != "200" || first["request_id"] != "trace-42.a_b" || first["bytes"].(float64) <= 0 || first["user"] != "-" {
		t.Errorf("first access line: %v", first)
	}
	if strings.Contains(lines[0], "secret") {
		t.Errorf("the query string reached the access log: %s", lines[0])
	}
	if second["status"] != "404" || second["request_id"] != generated {
		t.Errorf("second access line: %v", second)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestDomainMetrics: a complete download is counted by layer, format and
// outcome, with the features it carried.
func TestDomainMetrics(t *testing.T) {
	ts, _ := sitingServer(t)
	resp, body := fetch(t, "GET", ts.URL+"/collections/villages/items?f=csv", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "鲁家村") {
		t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	_, m := fetch(t, "GET", ts.URL+"/metrics", nil)
	for _, want := range []string{
		`villageplan_downloads_total{format="csv",layer="villages",outcome="complete"} 1`,
		`villageplan_download_features_total{format="csv",layer="villages"} 1`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
