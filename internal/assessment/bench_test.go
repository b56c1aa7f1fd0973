package assessment

import (
	"context"
	"hash/fnv"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/indicators"
	"villageplan/internal/projects"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// BenchmarkSheet measures one village's sheet as GET
// /assessment/villages/{v}/sheet makes it — the year's result scored
// from the indicator report, the village map read from PostGIS and the
// PDF drawn — on the sample (VILLAGEPLAN_BENCH_SCALE=county for the
// county: 40 villages spread over it, ~1,500 homesteads each). The
// indicator report is a synthetic one with a value of every indicator for
// every village (what the indicators' cache hands over once computed; its
// own cold cost is the indicators' figure), the projects are the real
// projects.Service. It reports p50, p95 and max in ms (target: ≤ 300 ms
// cold). Reproduce with
//
//	VILLAGEPLAN_BENCH_SCALE=county go test -run '^$' -bench Sheet -benchtime 1x ./internal/assessment/
func BenchmarkSheet(b *testing.B) {
	ctx := context.Background()
	pool := testpg.New(b)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: os.Getenv("VILLAGEPLAN_BENCH_SCALE")}, nil); err != nil {
		b.Fatal(err)
	}
	pool.Exec(ctx, `ANALYZE`)
	probe := NewService(pool, layers.Default(), nil, nil)
	names, err := probe.VillageNames(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ind := &fakeIndicators{}
	for code := range names {
		for _, d := range indicators.Definitions() {
			h := fnv.New32a()
			h.Write([]byte(code + d.Key))
			v := float64(h.Sum32()%10000) / 100
			ind.values = append(ind.values, indicators.Value{Key: d.Key, Village: code, Value: v})
		}
	}
	svc := NewService(pool, layers.Default(), ind, projects.NewService(pool, projects.Config{}))
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
	year := svc.CurrentYear()
	b.ResetTimer()
	var ms []float64
	for i := 0; i < b.N; i++ {
		for _, v := range villages {
			t0 := time.Now()
			r, err := svc.Result(ctx, year)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.WriteSheet(ctx, io.Discard, r, v); err != nil {
				b.Fatal(err)
			}
			ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
		}
	}
	b.StopTimer()
	sort.Float64s(ms)
	b.ReportMetric(float64(len(names)), "villages")
	b.ReportMetric(ms[len(ms)/2], "sheet_p50_ms")
	b.ReportMetric(ms[(len(ms)*95+99)/100-1], "sheet_p95_ms")
	b.ReportMetric(ms[len(ms)-1], "sheet_max_ms")
}
