package imports

import (
	"context"
	"math"
	"testing"

	"villageplan/internal/testpg"
)

// TestJZDHangzhou: one parcel, 66 points, zone 40 (EPSG:4528); the area on
// the zone-40 plane after storing in EPSG:4490 is the shoelace area of the
// file's coordinates, 57 089.47 m² ± 0.1 m²; the UTF-8/LF file and its
// GBK/CRLF twin give identical geometry.
func TestJZDHangzhou(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "homesteads")
	var geoms []string
	for _, name := range []string{"jzd-txt/hangzhou_pengbu_BR14_zone40.txt", "jzd-txt/hangzhou_pengbu_BR14_zone40.gbk_crlf.txt"} {
		path := realData(t, name)
		sum, err := Import(ctx, pool, l, []string{path}, Options{Mode: Replace, Set: []string{"xzqdm=330104", "status=已登记"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Log(sum.Text())
		if sum.Loaded != 1 || sum.Files[0].EPSG != 4528 {
			t.Fatalf("%s: loaded %d, EPSG %d; want 1 parcel in EPSG:4528", name, sum.Loaded, sum.Files[0].EPSG)
		}
		var zddm, zl string
		var zdmj, area float64
		var npoints int
		var wkt string
		if err := pool.QueryRow(ctx, `SELECT zddm, zl, zdmj, ST_Area(ST_Transform(geom, 4528)), ST_NPoints(geom), ST_AsText(geom, 9) FROM villageplan.homesteads`).
			Scan(&zddm, &zl, &zdmj, &area, &npoints, &wkt); err != nil {
			t.Fatal(err)
		}
		if zddm != "1" || zl != "彭埠单元B/R-14地块" || math.Abs(zdmj-57089) > 1e-6 {
			t.Errorf("%s: attributes zddm=%q zl=%q zdmj=%v", name, zddm, zl, zdmj)
		}
		if math.Abs(area-57089.47) > 0.1 {
			t.Errorf("%s: area on EPSG:4528 = %.3f m², want 57089.47 ± 0.1", name, area)
		}
		if npoints != 66 {
			t.Errorf("%s: %d points stored, want 66 (65 corners + closing point)", name, npoints)
		}
		if len(sum.Areas) != 1 || sum.Areas[0].Mismatch {
			t.Errorf("%s: area check %+v", name, sum.Areas)
		}
		geoms = append(geoms, wkt)
	}
	if geoms[0] != geoms[1] {
		t.Errorf("UTF-8 and GBK files give different geometry")
	}
}
