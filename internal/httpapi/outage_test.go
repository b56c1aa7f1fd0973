package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/pgcluster"
)

// outageAnswer is one response seen by the load of TestDatabaseRestartUnderLoad.
type outageAnswer struct {
	path       string
	start, end time.Time
	status     int
	problem    string // why the answer is wrong, "" when it is right
}

// TestDatabaseRestartUnderLoad: a private cluster (internal/pgcluster, as
// the embedded default runs it) is stopped and started again while six
// clients on loopback request feature pages, single features, the
// collection and tiles without pause. Every answer is checked:
//   - within 3 s;
//   - 200 with exactly the body (and for tiles the ETag) of a reference
//     fetched before the outage, or 503 with Retry-After and a JSON error
//     body — nothing else, before, during or after;
//   - during the outage items and features are 503, and tiles viewed
//     before it are still served from the cache (stale-if-error);
//   - after Start the service answers 200 again by itself within 2 s
//     (pgxpool reconnects), and the tile cache's change listener is back.
//
// The counts per status and the recovery times are logged (go test -v -run
// TestDatabaseRestartUnderLoad ./internal/httpapi/).
func TestDatabaseRestartUnderLoad(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("/var/tmp", "vp-outage-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755) // the postgres user runs the server when we are root
	c, err := pgcluster.New(pgcluster.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background()) //nolint:errcheck
	if err := c.EnsureDatabase(ctx, "villageplan"); err != nil {
		t.Fatal(err)
	}
	pool, err := db.Open(ctx, c.URL("villageplan"), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, geom)
		SELECT '220112203300JC' || lpad(i::text, 5, '0'), '220112203300', '大营村' || i || '号', '已登记',
		       ST_Multi(ST_Transform(ST_MakeEnvelope(480000 + (i % 50) * 25, 4829000 + (i / 50) * 25,
		                                             480020 + (i % 50) * 25, 4829020 + (i / 50) * 25, 4551), 4490))
		FROM generate_series(1, 2000) i`); err != nil {
		t.Fatal(err)
	}
	tile := func(x, y float64, z int) string {
		var lon, lat float64
		if err := pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_Point($1, $2, 4551), 4490) p`, x, y).Scan(&lon, &lat); err != nil {
			t.Fatal(err)
		}
		return "/tiles/homesteads/" + tileAddr(lon, lat, z) + ".mvt"
	}
	cached := []string{tile(480300, 4829300, 16), tile(480600, 4829700, 17)}
	uncached := tile(480900, 4829200, 17)
	paths := append([]string{"/collections/homesteads/items?limit=20", "/collections/homesteads/items?limit=20&offset=500",
		"/collections/homesteads/items/7", "/collections/homesteads/items/1234", "/collections/homesteads"}, cached...)
	paths = append(paths, uncached)

	opts := httpapi.Options{Pool: pool, RateLimits: map[string]httpapi.RateLimit{"download": {}, "siting": {}, "write": {}}}
	srv := httpapi.New(opts)
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(base, p string) (*http.Response, []byte, error) {
		resp, err := client.Get(base + p)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	// References: the uncached tile from a second server (its own cache),
	// so that the server under load has never seen it.
	refSrv := httpapi.New(opts)
	refTS := httptest.NewServer(refSrv)
	ref, refTag := map[string]string{}, map[string]string{}
	stamp := regexp.MustCompile(`,"timeStamp":"[^"]*"`) // the time of the response: the only part that may differ
	for _, p := range paths {
		base := ts.URL
		if p == uncached {
			base = refTS.URL
		}
		resp, b, err := get(base, p)
		if err != nil || resp.StatusCode != 200 || len(b) == 0 {
			t.Fatalf("reference %s: %v %v", p, err, resp)
		}
		ref[p], refTag[p] = stamp.ReplaceAllString(string(b), ""), resp.Header.Get("ETag")
	}
	refTS.Close()
	refSrv.Close()

	var mu sync.Mutex
	var answers []outageAnswer
	var outageBegun atomic.Bool // the uncached tile is asked for only once the database is down
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := paths[i%len(paths)]
				if p == uncached && !outageBegun.Load() {
					p = paths[0]
				}
				a := outageAnswer{path: p, start: time.Now()}
				resp, b, err := get(ts.URL, p)
				a.end = time.Now()
				switch {
				case err != nil:
					a.problem = "transport error: " + err.Error()
				case resp.StatusCode == 200:
					a.status = 200
					if stamp.ReplaceAllString(string(b), "") != ref[p] {
						a.problem = fmt.Sprintf("200 with a body (%d bytes) that is not the reference (%d bytes)", len(b), len(ref[p]))
					} else if strings.HasPrefix(p, "/tiles/") && resp.Header.Get("ETag") != refTag[p] {
						a.problem = fmt.Sprintf("tile ETag %q, reference %q", resp.Header.Get("ETag"), refTag[p])
					}
				case resp.StatusCode == 503:
					a.status = 503
					var e httpapi.ErrorBody
					if resp.Header.Get("Retry-After") == "" || json.Unmarshal(b, &e) != nil || e.Code == "" {
						a.problem = fmt.Sprintf("503 without Retry-After or JSON body: %q %.200s", resp.Header.Get("Retry-After"), b)
					}
				default:
					a.status = resp.StatusCode
					a.problem = fmt.Sprintf("status %d: %.200s", resp.StatusCode, b)
				}
				if a.end.Sub(a.start) > 3*time.Second {
					a.problem += fmt.Sprintf(" (took %s)", a.end.Sub(a.start))
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		}(w)
	}

	time.Sleep(time.Second)
	stopAt := time.Now()
	if err := c.Stop(ctx); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	stopped := time.Now()
	outageBegun.Store(true)
	time.Sleep(3 * time.Second)
	if _, b, err := get(ts.URL, "/metrics"); err != nil || !strings.Contains(string(b), "\nvillageplan_tile_change_listener_up 0") {
		t.Errorf("during the outage the tile cache's change listener is not reported down: %v", err)
	}
	startAt := time.Now()
	if _, err := c.Start(ctx); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	started := time.Now()
	// The tile cache's change listener comes back by itself.
	listenerBack := time.Duration(-1)
	for time.Since(started) < 5*time.Second {
		if _, b, err := get(ts.URL, "/metrics"); err == nil && strings.Contains(string(b), "\nvillageplan_tile_change_listener_up 1") {
			listenerBack = time.Since(started)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rest := 3*time.Second - time.Since(started); rest > 0 {
		time.Sleep(rest)
	}
	close(stop)
	wg.Wait()

	counts := map[string]map[int]int{}
	phase := func(a outageAnswer) string {
		switch {
		case a.end.Before(stopAt):
			return "before"
		case a.start.After(stopped) && a.end.Before(startAt):
			return "during"
		case a.start.After(started):
			return "after"
		}
		return "transition"
	}
	var recovered time.Time // end of the last non-200 answer that began after Start
	var first200 time.Time  // end of the first 200 of an item or feature that began after Start was called

	var lat []time.Duration
	bad := 0
	for _, a := range answers {
		ph := phase(a)
		if counts[ph] == nil {
			counts[ph] = map[int]int{}
		}
		counts[ph][a.status]++
		lat = append(lat, a.end.Sub(a.start))
		if a.problem != "" {
			if bad++; bad <= 10 {
				t.Errorf("%s %s (%s): %s", ph, a.path, a.start.Sub(stopAt).Round(time.Millisecond), a.problem)
			}
			continue
		}
		switch ph {
		case "before":
			if a.status != 200 {
				t.Errorf("before the outage %s: %d", a.path, a.status)
			}
		case "during":
			isCached := a.path == cached[0] || a.path == cached[1]
			if isCached && a.status != 200 || !isCached && a.status != 503 {
				t.Errorf("during the outage %s: %d (cached tile: %v)", a.path, a.status, isCached)
			}
		case "after":
			if a.status != 200 && a.end.After(recovered) {
				recovered = a.end
			}
		}
		if a.status == 200 && strings.Contains(a.path, "/items") && a.start.After(startAt) && (first200.IsZero() || a.end.Before(first200)) {
			first200 = a.end
		}
	}
	if bad > 10 {
		t.Errorf("… %d wrong answers in all", bad)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	recovery := time.Duration(0)
	if !recovered.IsZero() {
		recovery = recovered.Sub(started)
	}
	t.Logf("answers %d, by phase and status %v; stop took %s, start took %s; outage %s; latency p50 %s p99 %s max %s; "+
		"first item 200 %s after Start was called; last non-200 %s after Start returned; tile listener back %s after Start returned",
		len(answers), counts, stopped.Sub(stopAt).Round(time.Millisecond), started.Sub(startAt).Round(time.Millisecond),
		started.Sub(stopAt).Round(time.Millisecond), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond),
		lat[len(lat)-1].Round(time.Microsecond), first200.Sub(startAt).Round(time.Millisecond), recovery.Round(time.Millisecond), listenerBack.Round(time.Millisecond))
	if counts["during"][503] == 0 || counts["during"][200] == 0 || counts["after"][200] == 0 {
		t.Errorf("the load did not see the outage and the recovery: %v", counts)
	}
	if recovery > 2*time.Second {
		t.Errorf("the service answered 200 again only %s after the database was back", recovery)
	}
	if listenerBack < 0 || listenerBack > 2*time.Second {
		t.Errorf("the tile cache's change listener was back only after %s (-1: not within 5 s)", listenerBack)
	}
}
