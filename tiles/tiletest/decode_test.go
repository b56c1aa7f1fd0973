package tiletest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"villageplan/data/testdata"
)

// fixtureDir is mapbox/mvt-fixtures 4.0.0 as copied to data/testdata/real
// (SOURCES.md §5 there).
func fixtureDir(t *testing.T) string {
	t.Helper()
	return testdata.Real(t, "mvt-fixtures")
}

// contradictory lists fixtures whose validity flag contradicts a sibling
// fixture of the same shape; the decoder must not crash or over-allocate
// on them, whatever it answers.
var contradictory = map[string]string{
	"057": "MoveTo count 536870911 with one point: flagged valid, but 051 (same command, one point) is flagged invalid",
	"016": "explicit UNKNOWN type, flagged valid, but the file is byte-identical to 003 (type missing), flagged invalid",
}

// TestFixtures: every fixture flagged valid for v2 decodes and matches its
// tile.json (layer names, versions, extents, feature ids, types, tags);
// every fixture flagged invalid is rejected.
func TestFixtures(t *testing.T) {
	dir := fixtureDir(t)
	entries, err := os.ReadDir(filepath.Join(dir, "fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	valid, invalid := 0, 0
	for _, e := range entries {
		id := e.Name()
		t.Run(id, func(t *testing.T) {
			var info struct {
				Description string
				Validity    struct{ V2 bool }
			}
			readJSON(t, filepath.Join(dir, "fixtures", id, "info.json"), &info)
			data, err := os.ReadFile(filepath.Join(dir, "fixtures", id, "tile.mvt"))
			if err != nil {
				t.Fatal(err)
			}
			tile, err := Decode(data)
			if why, ok := contradictory[id]; ok {
				t.Logf("%s: decode error %v (%s)", id, err, why)
				return
			}
			if !info.Validity.V2 {
				invalid++
				if err == nil {
					t.Fatalf("invalid fixture %s accepted: %s", id, info.Description)
				}
				return
			}
			valid++
			if err != nil {
				t.Fatalf("valid fixture %s rejected: %v (%s)", id, err, info.Description)
			}
			var want struct {
				Layers []struct {
					Name     string
					Version  int
					Extent   *int
					Keys     []string
					Values   []map[string]any
					Features []struct {
						ID   *uint64
						Tags []int
						Type int
					}
				}
			}
			readJSON(t, filepath.Join(dir, "fixtures", id, "tile.json"), &want)
			if len(tile.Layers) != len(want.Layers) {
				t.Fatalf("%d layers, want %d", len(tile.Layers), len(want.Layers))
			}
			for i, wl := range want.Layers {
				gl := tile.Layers[i]
				ext := 4096
				if wl.Extent != nil {
					ext = *wl.Extent
				}
				if gl.Name != wl.Name || gl.Version != wl.Version || gl.Extent != ext || len(gl.Features) != len(wl.Features) {
					t.Fatalf("layer %d = %q v%d extent %d %d features, want %q v%d extent %d %d features",
						i, gl.Name, gl.Version, gl.Extent, len(gl.Features), wl.Name, wl.Version, ext, len(wl.Features))
				}
				for j, wf := range wl.Features {
					gf := gl.Features[j]
					if wf.ID != nil && (!gf.HasID || gf.ID != *wf.ID) {
						t.Errorf("feature %d id = %d, want %d", j, gf.ID, *wf.ID)
					}
					if int(gf.Type) != wf.Type {
						t.Errorf("feature %d type = %d, want %d", j, gf.Type, wf.Type)
					}
					for k := 0; k+1 < len(wf.Tags); k += 2 {
						key := wl.Keys[wf.Tags[k]]
						var wv any
						for _, v := range wl.Values[wf.Tags[k+1]] {
							wv = v
						}
						if !sameValue(gf.Properties[key], wv) {
							t.Errorf("feature %d %s = %v (%T), want %v", j, key, gf.Properties[key], gf.Properties[key], wv)
						}
					}
				}
			}
		})
	}
	if valid < 30 || invalid < 25 {
		t.Errorf("only %d valid and %d invalid fixtures checked", valid, invalid)
	}
}

func sameValue(got, want any) bool {
	if g, ok := got.(string); ok {
		return g == fmt.Sprint(want) // 076: tile.json shows the string "613" as a number
	}
	switch w := want.(type) {
	case float64:
		var g float64
		switch v := got.(type) {
		case float32:
			return math.Abs(float64(v)-w) < 1e-5*math.Max(1, math.Abs(w))
		case float64:
			g = v
		case int64:
			g = float64(v)
		case uint64:
			g = float64(v)
		default:
			return false
		}
		return g == w
	default:
		return fmt.Sprint(got) == fmt.Sprint(want)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestRealWorldTiles: the Mapbox Streets/Terrain tiles (Norway islands,
// Uruguay water, gzip-compressed urban tiles) decode, and every layer has
// as many features as GDAL's MVT driver finds.
func TestRealWorldTiles(t *testing.T) {
	dir := fixtureDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "real-world", "*", "*.mvt*"))
	if len(files) < 40 {
		t.Fatalf("found %d real-world tiles", len(files))
	}
	sort.Strings(files)
	features, polygons := 0, 0
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tile, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, l := range tile.Layers {
			features += len(l.Features)
			for _, ft := range l.Features {
				polygons += len(ft.Polygons)
			}
		}
		// Cross-check a sample with GDAL (slow: one process per layer).
		if i%8 == 0 && HaveOGR() && filepath.Ext(f) == ".mvt" {
			ogr, err := OGRLayers(t.TempDir(), data)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tile.Layers {
				if got := len(ogr[l.Name]); got != len(l.Features) {
					t.Errorf("%s layer %s: GDAL reads %d features, Decode %d", filepath.Base(f), l.Name, got, len(l.Features))
				}
			}
		}
	}
	t.Logf("%d tiles, %d features, %d polygons", len(files), features, polygons)
}
