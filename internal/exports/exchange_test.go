package exports

import (
	"encoding/json"
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
