package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// BenchmarkAsOfItems compares an as-of items page with the current one:
// GET /collections/homesteads/items?bbox=…&limit=100 with and without
// datetime= (an instant after the sample load and before 2,000 parcels
// were edited through SQL, so the as-of page mixes current rows and
// superseded versions). Each round alternates the two over 40 boxes; it
// reports both p95 latencies and their ratio (the target ≤ 2).
// The sample is the township (VILLAGEPLAN_BENCH_SCALE=county for the
// county sample). Reproduce with
//
//	go test -run '^$' -bench AsOfItems -benchtime 400x ./internal/httpapi/
func BenchmarkAsOfItems(b *testing.B) {
	ctx := context.Background()
	pool := testpg.New(b)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: os.Getenv("VILLAGEPLAN_BENCH_SCALE")}, nil); err != nil {
		b.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	var at time.Time
	pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&at)
	time.Sleep(20 * time.Millisecond)
	// 2,000 parcels edited after the instant (20 statements of 100, as an
	// analyst in QGIS would), 1 cm east.
	for i := 0; i < 20; i++ {
		if _, err := pool.Exec(ctx, `UPDATE villageplan.homesteads SET zl = zl || ' 改', geom = ST_Transform(ST_Translate(ST_Transform(geom, 4551), 0.01, 0), 4490)
			WHERE id IN (SELECT id FROM villageplan.homesteads ORDER BY hashint8(id + $1) LIMIT 100)`, i); err != nil {
			b.Fatal(err)
		}
	}
	pool.Exec(ctx, `ANALYZE villageplan.feature_versions`)
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	// 40 boxes of ~300 m around parcels spread over the layer.
	rows, err := pool.Query(ctx, `SELECT ST_X(c) - 0.002, ST_Y(c) - 0.0015, ST_X(c) + 0.002, ST_Y(c) + 0.0015
		FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads ORDER BY hashint8(id) LIMIT 40) s`)
	if err != nil {
		b.Fatal(err)
	}
	var boxes []string
	for rows.Next() {
		var x0, y0, x1, y1 float64
		rows.Scan(&x0, &y0, &x1, &y1)
		boxes = append(boxes, fmt.Sprintf("%.6f,%.6f,%.6f,%.6f", x0, y0, x1, y1))
	}
	rows.Close()
	client := &http.Client{}
	get := func(u string) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer analyst")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	dt := "&datetime=" + url.QueryEscape(at.Format(time.RFC3339Nano))
	for _, bx := range boxes[:10] {
		get(ts.URL + "/collections/homesteads/items?limit=100&bbox=" + bx)
		get(ts.URL + "/collections/homesteads/items?limit=100&bbox=" + bx + dt)
	}
	var cur, old []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := ts.URL + "/collections/homesteads/items?limit=100&bbox=" + boxes[i%len(boxes)]
		if i%2 == 1 {
			u += dt
		}
		start := time.Now()
		get(u)
		if i%2 == 1 {
			old = append(old, time.Since(start))
		} else {
			cur = append(cur, time.Since(start))
		}
	}
	b.StopTimer()
	p95 := func(l []time.Duration) float64 {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return float64(l[int(0.95*float64(len(l)-1))].Microseconds()) / 1000
	}
	if len(cur) > 0 && len(old) > 0 {
		b.ReportMetric(p95(cur), "current_p95_ms")
		b.ReportMetric(p95(old), "asof_p95_ms")
		b.ReportMetric(p95(old)/p95(cur), "ratio")
	}
}
