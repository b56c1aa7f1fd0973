package exports

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"villageplan/internal/features"
)

// gdalTool runs a GDAL command-line tool and fails the test when GDAL is
// missing (make test installs gdal-bin; a missing reader must not turn the
// interoperability tests into silent passes).
func gdalTool(t *testing.T, tool string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s (GDAL) is not installed: apt-get install gdal-bin", tool)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

// geoJSONGeometries walks every geometry of a FeatureCollection and calls
// fn with its raw members and its positions.
func geoJSONGeometries(t *testing.T, b []byte, fn func(i int, members map[string]json.RawMessage, positions [][]float64)) int {
	t.Helper()
	var doc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry map[string]json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Type != "FeatureCollection" {
		t.Fatalf("type %q", doc.Type)
	}
	for i, f := range doc.Features {
		var coords any
		if err := json.Unmarshal(f.Geometry["coordinates"], &coords); err != nil {
			t.Fatalf("feature %d: coordinates: %v", i, err)
		}
		var pos [][]float64
		var walk func(v any)
		walk = func(v any) {
			a, _ := v.([]any)
			if len(a) > 0 {
				if x, ok := a[0].(float64); ok {
					p := []float64{x}
					for _, y := range a[1:] {
						p = append(p, y.(float64))
					}
					pos = append(pos, p)
					return
				}
			}
			for _, c := range a {
				walk(c)
			}
		}
		walk(coords)
		fn(i, f.Geometry, pos)
	}
	return len(doc.Features)
}

// TestGeoJSONExportIsRFC7946: the default GeoJSON export has no "crs"
// member in any geometry (PostGIS adds one to every non-4326 geometry
// unless told not to) nor at the top, positions are longitude, latitude,
// and GDAL opens the file as GeoJSON in EPSG:4326. With an explicit CRS
// only the collection names it, never the geometries.
func TestGeoJSONExportIsRFC7946(t *testing.T) {
	pool := setup(t)
	for _, id := range []string{"homesteads", "villages", "streetlights"} {
		l := layer(t, id)
		n := dbCount(t, pool, l)
		path, res := export(t, pool, GeoJSON, &features.Query{Layer: l}, Options{})
		if res.Features != n || res.EPSG != 4326 {
			t.Fatalf("%s: %d of %d features, EPSG:%d", id, res.Features, n, res.EPSG)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatal(err)
		}
		if _, ok := top["crs"]; ok {
			t.Errorf("%s: the CRS84 export has a top-level crs member", id)
		}
		got := geoJSONGeometries(t, b, func(i int, m map[string]json.RawMessage, pos [][]float64) {
			if c, ok := m["crs"]; ok {
				t.Errorf("%s feature %d: geometry has a crs member %s", id, i, c)
			}
			for _, p := range pos {
				if len(p) != 2 || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
					t.Fatalf("%s feature %d: position %v is not lon/lat", id, i, p)
				}
			}
		})
		if got != n {
			t.Errorf("%s: %d features in the file, %d in the layer", id, got, n)
		}
		// The homesteads lie in 吉林 and 杭州: longitude 119–126°E first,
		// latitude 30–44°N second.
		if id == "homesteads" {
			geoJSONGeometries(t, b, func(i int, _ map[string]json.RawMessage, pos [][]float64) {
				for _, p := range pos {
					if p[0] < 119 || p[0] > 126 || p[1] < 30 || p[1] > 44 {
						t.Fatalf("homestead %d: position %v is not longitude, latitude", i, p)
					}
				}
			})
		}
		out := gdalTool(t, "ogrinfo", "-ro", "-al", "-so", path)
		if !strings.Contains(out, "using driver `GeoJSON'") || !strings.Contains(out, `ID["EPSG",4326]`) ||
			!strings.Contains(out, "Feature Count: "+itoa(n)+"\n") {
			t.Errorf("%s: GDAL reads:\n%.2000s", id, out)
		}
	}

	// EPSG:4490 and a Gauss-Krüger CRS: the collection names the CRS, the
	// geometries do not.
	l := layer(t, "homesteads")
	for _, srid := range []int{4490, 4530} {
		path, _ := export(t, pool, GeoJSON, &features.Query{Layer: l, OutputSRID: srid}, Options{})
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), `"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::`+itoa(srid)+`"}}`) {
			t.Errorf("EPSG:%d: the collection does not name its CRS", srid)
		}
		if strings.Count(string(b), `"crs"`) != 1 {
			t.Errorf("EPSG:%d: %d crs members, want the collection's only", srid, strings.Count(string(b), `"crs"`))
		}
		out := gdalTool(t, "ogrinfo", "-ro", "-al", "-so", path)
		if !strings.Contains(out, `ID["EPSG",`+itoa(srid)+`]`) {
			t.Errorf("EPSG:%d: GDAL reads:\n%.2000s", srid, out)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestGeoPackageSpatialIndex: a GeoPackage export carries the RTree
// spatial index of the GeoPackage spec, as GDAL sees it: HasSpatialIndex
// is 1, the rtree table holds one entry per feature, a -spat query returns
// exactly the features whose envelope PostGIS finds in the box, GDAL
// prints no warning on opening, and the index triggers work when GDAL
// edits the file (a deleted feature leaves the index).
func TestGeoPackageSpatialIndex(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	cases := []struct {
		layer string
		srid  int
		box   [4]float64 // in the output CRS
	}{
		{"homesteads", 0, [4]float64{125.699, 43.499, 125.7095, 43.5095}},
		{"homesteads", 4551, [4]float64{0, 0, 0, 0}}, // box from PostGIS below
		{"streetlights", 0, [4]float64{8.68, 49.40, 8.70, 49.42}},
		{"villages", 0, [4]float64{125.2, 43.7, 125.5, 44.0}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.layer, c.srid), func(t *testing.T) {
			l := layer(t, c.layer)
			n := dbCount(t, pool, l)
			path, res := export(t, pool, GeoPackage, &features.Query{Layer: l, OutputSRID: c.srid}, Options{})
			if res.Features != n || n == 0 {
				t.Fatalf("%d of %d features", res.Features, n)
			}
			out := gdalTool(t, "ogrinfo", "-ro", path, "-sql", "SELECT HasSpatialIndex('"+c.layer+"', 'geom') AS idx, (SELECT count(*) FROM rtree_"+c.layer+"_geom) AS n")
			if !strings.Contains(out, "idx (Integer) = 1") || !strings.Contains(out, "n (Integer) = "+itoa(n)) {
				t.Fatalf("GDAL finds no filled spatial index:\n%s", out)
			}
			if strings.Contains(out, "Warning") || strings.Contains(out, "ERROR") {
				t.Errorf("GDAL warns:\n%s", out)
			}
			srid := c.srid
			if srid == 0 {
				srid = 4490
			}
			box := c.box
			if c.srid == 4551 {
				// The envelope of the first homestead on the 126°E plane.
				if err := pool.QueryRow(ctx, `SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g)
					FROM (SELECT ST_Transform(geom, 4551) g FROM villageplan.homesteads ORDER BY id LIMIT 1) s`).Scan(&box[0], &box[1], &box[2], &box[3]); err != nil {
					t.Fatal(err)
				}
			}
			var want int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+l.QualifiedTable()+` WHERE ST_Transform(geom, $5::int) && ST_MakeEnvelope($1, $2, $3, $4, $5::int)`,
				box[0], box[1], box[2], box[3], srid).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if want == 0 || want == n {
				t.Fatalf("the box holds %d of %d features; the test needs a box that selects some", want, n)
			}
			spat := gdalTool(t, "ogrinfo", "-ro", "-so", "-spat", fmt.Sprint(box[0]), fmt.Sprint(box[1]), fmt.Sprint(box[2]), fmt.Sprint(box[3]), path, c.layer)
			if !strings.Contains(spat, "Feature Count: "+itoa(want)+"\n") {
				t.Errorf("-spat %v: want %d features:\n%s", box, want, spat)
			}
			// The triggers: GDAL deletes one feature and the index follows.
			gdalTool(t, "ogrinfo", path, "-sql", "DELETE FROM "+c.layer+" WHERE fid = (SELECT min(fid) FROM "+c.layer+")")
			after := gdalTool(t, "ogrinfo", "-ro", path, "-sql", "SELECT count(*) AS n FROM rtree_"+c.layer+"_geom")
			if !strings.Contains(after, "n (Integer) = "+itoa(n-1)) {
				t.Errorf("after GDAL deleted a feature the index has:\n%s", after)
			}
		})
	}
}
