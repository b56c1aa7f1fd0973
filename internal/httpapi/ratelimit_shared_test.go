package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// TestRateLimitSharedAcrossServers: two Server instances (two `serve`
// processes behind a load balancer) on one database give a client one
// bucket between them: a burst of 4 spread over both is used up after 4
// requests in all, not 4 per process; another client keeps its own.
func TestRateLimitSharedAcrossServers(t *testing.T) {
	pool := testpg.New(t)
	limits := map[string]httpapi.RateLimit{"siting": {Rate: 0.05, Burst: 4}}
	var urls []string
	for i := 0; i < 2; i++ {
		srv := httpapi.New(httpapi.Options{Pool: pool, TrustedProxies: loopback, RateLimits: limits})
		t.Cleanup(srv.Close)
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		urls = append(urls, ts.URL)
	}
	post := func(base, client string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/desk/preview", strings.NewReader(`{"site":{"type":"Polygon","coordinates":[]}}`))
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
	// Four requests alternating between the processes: each process has
	// seen only two, within its own burst; the client's fifth, on either
	// process, is over the shared burst.
	for i := 0; i < 4; i++ {
		if r := post(urls[i%2], "10.1.0.1"); r.StatusCode == 429 {
			t.Fatalf("request %d of a burst of 4: 429", i+1)
		}
	}
	for i := 0; i < 2; i++ {
		r := post(urls[i], "10.1.0.1")
		if r.StatusCode != 429 {
			t.Fatalf("request past the shared burst on server %d: %d, want 429", i, r.StatusCode)
		}
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After %q", ra)
		}
	}
	if r := post(urls[1], "10.1.0.2"); r.StatusCode == 429 {
		t.Fatal("another client is limited by the first one's bucket")
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.rate_limit_buckets WHERE class = 'siting'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d shared buckets, want 2 (one per client)", n)
	}
}

// TestRateLimitSharedCost measures the shared-bucket UPSERT as the server
// runs it, and checks it stays cheap (well under a millisecond on a local
// database; the bound is loose for a loaded test machine).
func TestRateLimitSharedCost(t *testing.T) {
	pool := testpg.New(t)
	ctx := context.Background()
	const n = 500
	start := time.Now()
	for i := 0; i < n; i++ {
		var ok bool
		var secs float64
		if err := pool.QueryRow(ctx, httpapi.SharedBucketSQL, "write", "10.2.0."+string(rune('0'+i%10)), 0.2, 4.0).Scan(&ok, &secs); err != nil {
			t.Fatal(err)
		}
	}
	per := time.Since(start) / n
	t.Logf("shared rate-limit UPSERT: %s per request (%d sequential, one connection pool)", per, n)
	if per > 20*time.Millisecond {
		t.Fatalf("shared bucket costs %s per request", per)
	}
}
