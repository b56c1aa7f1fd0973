package imports

import (
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkReadShapefile200k reads (without loading) a 200 000-polygon
// shapefile that GDAL wrote from the benchmark parcels, to measure the
// shapefile reader alone. Reproduce with
//
//	go test -run '^$' -bench ReadShapefile200k -benchtime 3x ./internal/imports/
func BenchmarkReadShapefile200k(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	gj := filepath.Join(dir, "parcels.geojson")
	if err := writeParcels(gj, n); err != nil {
		b.Fatal(err)
	}
	shp := filepath.Join(dir, "parcels.shp")
	runGDAL(b, "ogr2ogr", "-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", shp, gj)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := openShapefile(shp, readerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			_, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		src.Close()
		if got != n {
			b.Fatalf("read %d of %d records", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
