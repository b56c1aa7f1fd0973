package imports

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"villageplan/internal/testpg"
)

// BenchmarkImportGeoJSON500k imports a generated GeoJSON FeatureCollection
// of 500 000 polygons (7-vertex parcels with DLBM, TBBH and an area, spread
// over 双阳区) into land_use, and reports features/s and the peak resident
// memory of the importing process (VmHWM). Reproduce with
//
//	go test -run '^$' -bench ImportGeoJSON500k -benchtime 1x ./internal/imports/
//
// VILLAGEPLAN_BENCH_FEATURES changes the number of polygons.
func BenchmarkImportGeoJSON500k(b *testing.B) {
	n := 500_000
	if s := os.Getenv("VILLAGEPLAN_BENCH_FEATURES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	path := filepath.Join(b.TempDir(), "parcels.geojson")
	if err := writeParcels(path, n); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	runtime.GC()
	pool := testpg.New(b)
	l := layer(b, "land_use")
	ctx := context.Background()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var phases []string
		last, phase := start, "read"
		progress := func(p Progress) {
			// one entry per phase, and per step of the check and load phases
			name := p.Phase
			if p.Step != "" {
				name += "/" + p.Step
			}
			if name != phase {
				phases = append(phases, fmt.Sprintf("%s %s", phase, time.Since(last).Round(time.Millisecond)))
				last, phase = time.Now(), name
			}
		}
		sum, err := Import(ctx, pool, l, []string{path}, Options{Mode: Replace, Progress: progress})
		b.Logf("phases: %s", strings.Join(phases, ", "))
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if sum.Loaded != n {
			b.Fatalf("loaded %d of %d", sum.Loaded, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "features/s")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
}

// writeParcels streams n small polygons in CRS84 to path.
func writeParcels(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	codes := []string{"0101", "0102", "0103", "0201", "0301", "0702", "1006", "1104"}
	w.WriteString(`{"type":"FeatureCollection","features":[`)
	cols := 1000
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteString(",\n")
		}
		x0 := 125.45 + float64(i%cols)*0.0005
		y0 := 43.30 + float64(i/cols)*0.0009
		d := 0.0004
		fmt.Fprintf(w, `{"type":"Feature","properties":{"DLBM":"%s","TBBH":"%d","TBMJ":%.2f,"DLMC":null},"geometry":{"type":"Polygon","coordinates":[[`+
			`[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}`,
			codes[i%len(codes)], i+1, 1000+float64(i%500),
			x0, y0, x0+d, y0, x0+d, y0+d/2, x0+d*0.9, y0+d, x0+d/2, y0+d*1.1, x0, y0+d, x0, y0)
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
