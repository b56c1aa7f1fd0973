package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/httpapi"
	"villageplan/internal/projects"
	"villageplan/internal/testpg"
)

// BenchmarkAssessmentSheet measures GET /assessment/villages/{v}/sheet
// (the target: one village's sheet ≤ 300 ms cold). The first
// request of the year's result computes every indicator of every village
// (cold report: reported as cold_result_ms); then the sheet of each
// village is fetched once, each a cold sheet (nothing of the sheet is
// cached: the result is scored and the village map read and drawn per
// request; only the indicator report comes from its cache), reporting
// p50, p95 and max in ms. The sample is the township
// (VILLAGEPLAN_BENCH_SCALE=county for the county sample: the sheets of
// 40 villages spread over it). Reproduce with
//
//	go test -run '^$' -bench AssessmentSheet -benchtime 1x ./internal/httpapi/
func BenchmarkAssessmentSheet(b *testing.B) {
	ctx := context.Background()
	pool := testpg.New(b)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: os.Getenv("VILLAGEPLAN_BENCH_SCALE")}, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := projects.LoadSamples(ctx, pool, time.Now()); err != nil {
		b.Fatal(err)
	}
	// /assessment/… has the indicators' class (the download deadline): the
	// cold result computes every indicator of every village.
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	get := func(path string) time.Duration {
		t0 := time.Now()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer analyst")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return time.Since(t0)
	}
	cold := get("/assessment/results")
	rows, err := pool.Query(ctx, `SELECT xzqdm FROM villageplan.villages ORDER BY hashtext(xzqdm) LIMIT 40`)
	if err != nil {
		b.Fatal(err)
	}
	var villages []string
	for rows.Next() {
		var v string
		rows.Scan(&v)
		villages = append(villages, v)
	}
	rows.Close()
	b.ResetTimer()
	var ms []float64
	for i := 0; i < b.N; i++ {
		for _, v := range villages {
			ms = append(ms, float64(get("/assessment/villages/"+v+"/sheet").Microseconds())/1000)
		}
	}
	b.StopTimer()
	sort.Float64s(ms)
	b.ReportMetric(float64(cold.Milliseconds()), "cold_result_ms")
	b.ReportMetric(ms[len(ms)/2], "sheet_p50_ms")
	b.ReportMetric(ms[(len(ms)*95+99)/100-1], "sheet_p95_ms")
	b.ReportMetric(ms[len(ms)-1], "sheet_max_ms")
}
