package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// BenchmarkEditOneFeature measures one-feature edits end to end over HTTP:
// PATCH /collections/homesteads/items/{id} with a new geometry (the parcel
// moved by 1 cm and back, alternately) and a property, with If-Match —
// parsing, catalog validation, the PostGIS validity check, both topology
// rules of homesteads (other parcels, permanent farmland), the write, the
// history trigger and the audit row, in one transaction. It reports the
// median and 95th percentile latency. The sample is the township
// (VILLAGEPLAN_BENCH_SCALE=county for the county sample). Reproduce with
//
//	go test -run '^$' -bench EditOneFeature -benchtime 400x ./internal/httpapi/
//
// or `make bench-edit`, which appends the figures to
// internal/devtools/bench/results.tsv.
func BenchmarkEditOneFeature(b *testing.B) {
	ctx := context.Background()
	scale := os.Getenv("VILLAGEPLAN_BENCH_SCALE")
	pool := testpg.New(b)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: scale}, nil); err != nil {
		b.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers, RateLimits: map[string]httpapi.RateLimit{"write": {}}})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	// 200 parcels spread over the layer; each with its geometry as stored
	// and moved 1 cm east, in CRS84.
	type parcel struct {
		id   int64
		geom [2]string
		etag string
	}
	rows, err := pool.Query(ctx, `SELECT id, ST_AsGeoJSON(geom, 9), ST_AsGeoJSON(ST_Transform(ST_Translate(ST_Transform(geom, 4551), 0.01, 0), 4490), 9)
		FROM villageplan.homesteads ORDER BY hashint8(id) LIMIT 200`)
	if err != nil {
		b.Fatal(err)
	}
	var ps []*parcel
	for rows.Next() {
		p := &parcel{}
		if err := rows.Scan(&p.id, &p.geom[0], &p.geom[1]); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	client := &http.Client{}
	patch := func(p *parcel, k int) (int, string) {
		body := fmt.Sprintf(`{"properties":{"zl":"bench %d"},"geometry":%s}`, k, p.geom[k%2])
		req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, p.id), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer editor")
		req.Header.Set("Content-Type", "application/merge-patch+json")
		req.Header.Set("If-Match", p.etag)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	// Warm up; keep the parcels that the rules accept as they are (the
	// generated sample has parcels that already touch farmland).
	var ok []*parcel
	for _, p := range ps {
		resp, _ := fetchB(b, ts.URL+fmt.Sprintf("/collections/homesteads/items/%d", p.id))
		p.etag = resp
		if code, tag := patch(p, 1); code == 200 {
			p.etag = tag
			ok = append(ok, p)
		}
	}
	if len(ok) < 20 {
		b.Fatalf("only %d of %d parcels accept an edit", len(ok), len(ps))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := ok[i%len(ok)]
		start := time.Now()
		code, tag := patch(p, i)
		lat = append(lat, time.Since(start))
		if code != 200 {
			b.Fatalf("edit %d of parcel %d: %d", i, p.id, code)
		}
		p.etag = tag
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50_ms")
	b.ReportMetric(ms(0.95), "p95_ms")
	b.ReportMetric(float64(len(ok)), "parcels")
}

func fetchB(b *testing.B, u string) (etag string, err error) {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return resp.Header.Get("ETag"), nil
}
