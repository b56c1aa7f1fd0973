package httpapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeoJSONDownloadIsRFC7946: the f=geojson download of the features API
// has no "crs" member in any geometry (nor at the top, in the default
// CRS84), positions are longitude, latitude, and GDAL's ogrinfo opens the
// downloaded file with every feature. GDAL is required: the test fails,
// not skips, without it.
func TestGeoJSONDownloadIsRFC7946(t *testing.T) {
	ts, _ := homesteadFixture(t)
	resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?f=geojson", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("download = %d\n%s", resp.StatusCode, b)
	}
	var doc struct {
		CRS      json.RawMessage `json:"crs"`
		Features []struct {
			Geometry map[string]json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("download is not JSON: %v", err)
	}
	if doc.CRS != nil {
		t.Errorf("the CRS84 download has a top-level crs member %s", doc.CRS)
	}
	if len(doc.Features) != 3 {
		t.Fatalf("%d features, want 3", len(doc.Features))
	}
	for i, f := range doc.Features {
		if c, ok := f.Geometry["crs"]; ok {
			t.Errorf("feature %d: geometry has a crs member %s", i, c)
		}
		var mp [][][][2]float64
		if err := json.Unmarshal(f.Geometry["coordinates"], &mp); err != nil {
			t.Fatalf("feature %d: %v", i, err)
		}
		for _, p := range mp[0][0] {
			// The fixture lies near 125.76°E, 43.6°N.
			if p[0] < 125 || p[0] > 126.5 || p[1] < 43 || p[1] > 44.5 {
				t.Fatalf("feature %d: position %v is not longitude, latitude", i, p)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "homesteads.geojson")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatal("ogrinfo (GDAL) is not installed: apt-get install gdal-bin")
	}
	out, err := exec.Command(bin, "-ro", "-al", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, want := range []string{"using driver `GeoJSON'", `ID["EPSG",4326]`, "Feature Count: 3\n", "大营村2号", "MULTIPOLYGON (((125."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ogrinfo output lacks %q:\n%.2000s", want, out)
		}
	}
}
