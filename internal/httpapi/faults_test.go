package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// bigHomesteads fills a fresh database with n small parcels (enough for a
// download to outgrow the socket buffers) and returns its pool.
func bigHomesteads(t *testing.T, n int) *pgxpool.Pool {
	t.Helper()
	pool := testpg.New(t)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, geom)
		SELECT '220112203300JC' || lpad(i::text, 5, '0'), '220112203300', '大营村' || i || '号，一条足够长的坐落说明使文件变大', '已登记',
		       ST_Multi(ST_Transform(ST_MakeEnvelope(480000 + (i % 300) * 25, 4829000 + (i / 300) * 25,
		                                             480020 + (i % 300) * 25, 4829020 + (i / 300) * 25, 4551), 4490))
		FROM generate_series(1, $1) i`, n)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestSlowDownloadersDoNotStarveInteractive: eight clients start a
// download and never read it. Downloads beyond the slots get 503 with
// Retry-After at once, interactive requests keep being answered, and the
// stalled downloads are dropped after WriteStall, freeing their slots.
func TestSlowDownloadersDoNotStarveInteractive(t *testing.T) {
	pool := bigHomesteads(t, 30000)
	srv := httpapi.New(httpapi.Options{Pool: pool, Limits: httpapi.Limits{DownloadSlots: 2, WriteStall: 700 * time.Millisecond},
		RateLimits: map[string]httpapi.RateLimit{"download": {}}}) // the slots are under test, not the rate
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	statuses := map[int]int{}
	for i := 0; i < 8; i++ {
		d := net.Dialer{Control: nil}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096) // a client that reads nothing, with a small window
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /collections/homesteads/items?f=geojson HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		// Read only the status line (the first bytes), then stop reading.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReaderSize(c, 64).ReadString('\n')
		if err != nil {
			t.Fatalf("download %d: %v", i, err)
		}
		var code int
		fmt.Sscanf(line, "HTTP/1.1 %d", &code)
		statuses[code]++
	}
	if statuses[200] != 2 || statuses[503] != 6 {
		t.Fatalf("download statuses %v, want 2×200 (the slots) and 6×503", statuses)
	}

	// Interactive requests are answered while the two downloads hang.
	for i := 0; i < 10; i++ {
		start := time.Now()
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?limit=50", nil)
		if resp.StatusCode != 200 || time.Since(start) > 5*time.Second {
			t.Fatalf("items while downloads hang: %d after %s: %.200s", resp.StatusCode, time.Since(start), b)
		}
	}
	// The stalled downloads are dropped: a new download gets a slot.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(ts.URL + "/collections/homesteads/items?f=csv")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && n > 0 {
			break
		}
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || time.Now().After(deadline) {
			t.Fatalf("download after the stall limit: %d (Retry-After %q)", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDownloadFailingMidStreamIsAborted: when the database connection of
// a download dies after the first bytes went out, the client sees a broken
// response (no terminating chunk), never a file that looks complete.
func TestDownloadFailingMidStreamIsAborted(t *testing.T) {
	pool := bigHomesteads(t, 30000)
	srv := httpapi.New(httpapi.Options{Pool: pool})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/collections/homesteads/items?f=geojson")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download = %d", resp.StatusCode)
	}
	head := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	// Kill the backend that streams the rows.
	admin, err := pgx.Connect(context.Background(), testpg.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	dbname := pool.Config().ConnConfig.Database
	var killed int
	if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()) k`, dbname).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no active backend streamed the download")
	}
	rest, err := io.ReadAll(resp.Body)
	if err == nil {
		var fc map[string]any
		t.Fatalf("download ended cleanly after its database connection died (%d more bytes; valid JSON: %v)",
			len(rest), json.Unmarshal(append(head, rest...), &fc) == nil)
	}
}

// TestDatabaseGoneIs503: with the database gone, feature, collection and
// tile requests answer 503 with Retry-After and a JSON body, never 500.
func TestDatabaseGoneIs503(t *testing.T) {
	ctx := context.Background()
	dbURL := testpg.NewDatabase(t)
	pool, err := db.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	srv := httpapi.New(httpapi.Options{Pool: pool})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	paths := []string{"/collections/homesteads/items", "/collections/homesteads/items/1", "/collections/homesteads",
		"/collections/homesteads/items?f=csv", "/tiles/homesteads/16/54321/23456.mvt"}
	for _, p := range paths {
		if resp, b := fetch(t, "GET", ts.URL+p, nil); resp.StatusCode >= 500 {
			t.Fatalf("%s before the outage: %d %s", p, resp.StatusCode, b)
		}
	}
	// A tile viewed before the outage (cached), and its ETag.
	const cachedTile = "/tiles/homesteads/16/54200/23400.mvt"
	before, beforeBody := fetch(t, "GET", ts.URL+cachedTile, map[string]string{"Accept-Encoding": "gzip"})
	if before.StatusCode >= 300 || before.Header.Get("ETag") == "" {
		t.Fatalf("tile before the outage: %d %v", before.StatusCode, before.Header)
	}
	admin, err := pgx.Connect(ctx, testpg.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `DROP DATABASE `+pgx.Identifier{pool.Config().ConnConfig.Database}.Sanitize()+` WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		resp, b := fetch(t, "GET", ts.URL+p, nil)
		var body httpapi.ErrorBody
		if resp.StatusCode == 500 || (resp.StatusCode == 503 && (resp.Header.Get("Retry-After") == "" || json.Unmarshal(b, &body) != nil || body.Code == "")) {
			t.Errorf("%s during the outage: %d %q %s", p, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		if strings.Contains(p, "items") && resp.StatusCode != 503 {
			t.Errorf("%s during the outage: %d, want 503", p, resp.StatusCode)
		}
	}
	// A tile nobody viewed before cannot be rendered: 503.
	if resp, b := fetch(t, "GET", ts.URL+"/tiles/homesteads/16/54000/23000.mvt", nil); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("uncached tile during the outage: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// The cached tile is still served, the same bytes under the same ETag,
	// and a revalidation is a 304.
	during, duringBody := fetch(t, "GET", ts.URL+cachedTile, map[string]string{"Accept-Encoding": "gzip"})
	if during.StatusCode != before.StatusCode || during.Header.Get("ETag") != before.Header.Get("ETag") || string(duringBody) != string(beforeBody) {
		t.Errorf("cached tile during the outage: %d %q (%d bytes), before %d %q (%d bytes)", during.StatusCode, during.Header.Get("ETag"),
			len(duringBody), before.StatusCode, before.Header.Get("ETag"), len(beforeBody))
	}
	if r, _ := fetch(t, "GET", ts.URL+cachedTile, map[string]string{"If-None-Match": before.Header.Get("ETag")}); r.StatusCode != 304 {
		t.Errorf("revalidating the cached tile during the outage: %d, want 304", r.StatusCode)
	}
}

// TestRateLimits: a client that sends siting requests (desk previews: the
// checks themselves need an account) faster than its bucket
// allows gets 429 with Retry-After and a JSON body; reads are not limited,
// and another client (a different address behind a trusted proxy) keeps
// its own bucket.
func TestRateLimits(t *testing.T) {
	pool := testpg.New(t)
	srv := httpapi.New(httpapi.Options{Pool: pool, TrustedProxies: loopback,
		RateLimits: map[string]httpapi.RateLimit{"siting": {Rate: 0.5, Burst: 3}}})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	post := func(client string) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+"/desk/preview", strings.NewReader(`{"site":{"type":"Polygon","coordinates":[]}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for i := 0; i < 3; i++ {
		if r := post("10.0.0.1"); r.StatusCode == 429 {
			t.Fatalf("request %d within the burst: 429", i+1)
		}
	}
	r := post("10.0.0.1")
	if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("4th request of a burst of 3: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := post("10.0.0.2"); r.StatusCode == 429 {
		t.Errorf("another client is limited by the first one's bucket")
	}
	for i := 0; i < 20; i++ {
		if resp, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items?limit=1", nil); resp.StatusCode != 200 {
			t.Fatalf("read %d: %d", i, resp.StatusCode)
		}
	}
}
