package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"villageplan/internal/siting"
	"villageplan/internal/testpg"
)

// Test coordinates are metres on EPSG:4551 (CGCS2000 3-degree GK CM 126°E,
// no zone prefix) relative to (480000, 4829000), ≈125.76°E 43.60°N.
const gx, gy = 480000.0, 4829000.0

type gkFeature struct {
	props          map[string]any
	x0, y0, x1, y1 float64
}

// writeGK writes a GeoJSON FeatureCollection of rectangles in EPSG:4551
// (named by its crs member) to dir/name and returns the path.
func writeGK(t *testing.T, dir, name string, fs ...gkFeature) string {
	t.Helper()
	var feats []map[string]any
	for _, f := range fs {
		r := [][]float64{{gx + f.x0, gy + f.y0}, {gx + f.x1, gy + f.y0}, {gx + f.x1, gy + f.y1}, {gx + f.x0, gy + f.y1}, {gx + f.x0, gy + f.y0}}
		feats = append(feats, map[string]any{"type": "Feature", "properties": f.props,
			"geometry": map[string]any{"type": "Polygon", "coordinates": [][][]float64{r}}})
	}
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection",
		"crs":      map[string]any{"type": "name", "properties": map[string]any{"name": "urn:ogc:def:crs:EPSG::4551"}},
		"features": feats})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeSite writes a rectangular site as a GeoJSON geometry in EPSG:4551.
func writeSite(t *testing.T, dir, name string, x0, y0, x1, y1 float64) string {
	t.Helper()
	r := fmt.Sprintf(`[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]`, gx+x0, gy+y0, gx+x1, gy+y0, gx+x1, gy+y1, gx+x0, gy+y1, gx+x0, gy+y0)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(`{"type":"Polygon","coordinates":[`+r+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// siteCheck runs `villageplan check --format json` on a site.
func siteCheck(t *testing.T, db []string, site string) *siting.Result {
	t.Helper()
	out, stderr, err := run(t, append(db, "check", "--crs", "EPSG:4551", "--format", "json", site)...)
	var res siting.Result
	if jerr := json.Unmarshal([]byte(out), &res); jerr != nil {
		t.Fatalf("check: %v %v\n%s\n%s", err, jerr, out, stderr)
	}
	return &res
}

func ruleOf(t *testing.T, res *siting.Result, id string) siting.RuleResult {
	t.Helper()
	for _, r := range res.Rules {
		if r.Code == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return siting.RuleResult{}
}

func lacksCoverage(res *siting.Result, layer string) bool {
	for _, g := range res.NoCoverage {
		if g.Layer == layer {
			return true
		}
	}
	return false
}

// TestCoverageThroughTheCLI loads a township with the CLI only (no SQL)
// into an empty database and checks that coverage follows every load: a
// site wholly on imported permanent farmland is BLOCK with the overlap
// area; after --mode replace with farmland that does not reach the site,
// that rule is REVIEW "no data", never PASS; a failed import and a dry run
// leave the coverage as it was; append extends it; township, villages,
// FILE (GeoJSON and a shapefile written by GDAL, both in a GK zone),
// extent; and the coverage command.
func TestCoverageThroughTheCLI(t *testing.T) {
	url := testpg.NewDatabase(t)
	db := []string{"--database-url", url}
	dir := t.TempDir()
	// Two villages sharing the edge x = 1000: 大营村 x −500…1000, 小营村
	// x 1000…3000, both y −500…1000 (5.25 km² together).
	villages := writeGK(t, dir, "villages.geojson",
		gkFeature{map[string]any{"xzqdm": "220112203300", "xzqmc": "大营村", "czlx": "集聚提升类"}, -500, -500, 1000, 1000},
		gkFeature{map[string]any{"xzqdm": "220112203301", "xzqmc": "小营村", "czlx": "集聚提升类"}, 1000, -500, 3000, 1000})
	f1 := writeGK(t, dir, "farmland1.geojson", gkFeature{map[string]any{"yjjbnttbbh": "YJ1", "dlbm": "0103"}, 1000, 0, 1100, 100})
	f2 := writeGK(t, dir, "farmland2.geojson", gkFeature{map[string]any{"yjjbnttbbh": "YJ2", "dlbm": "0103"}, 2000, 0, 2100, 100})
	site := writeSite(t, dir, "site.geojson", 1020, 20, 1040, 40) // 400 m², wholly on YJ1

	// A township whose farmland is loaded with the township as coverage
	// but no villages yet: refused, clearly, and nothing changes.
	_, _, err := run(t, append(db, "import", "--layer", "permanent_farmland", "--coverage", "township", f1)...)
	if err == nil || !strings.Contains(err.Error(), "villages layer is empty") || !strings.Contains(err.Error(), "村级调查区图层（villages）为空") {
		t.Fatalf("township coverage without villages: %v", err)
	}
	if out, _, _ := run(t, append(db, "coverage", "list")...); !strings.Contains(out, "permanent_farmland") || strings.Count(out, "no coverage") < 10 {
		t.Fatalf("coverage list after the refused import:\n%s", out)
	}

	out, _, err := run(t, append(db, "import", "--layer", "villages", villages)...)
	if err != nil || !strings.Contains(out, "coverage extended (spec default)") || !strings.Contains(out, "5.250 km²") ||
		!strings.Contains(out, "大营村 220112203300 (100.0 %)") || !strings.Contains(out, "小营村 220112203301 (100.0 %)") {
		t.Fatalf("import villages: %v\n%s", err, out)
	}

	// 1. Farmland with the default coverage (its own features): the site
	// on it is BLOCK with the overlap area; the summary says what was
	// recorded and how to choose another.
	out, _, err = run(t, append(db, "import", "--layer", "permanent_farmland", f1)...)
	if err != nil || !strings.Contains(out, "the layer's own features") || !strings.Contains(out, "0.010 km²") ||
		!strings.Contains(out, "--coverage township") || !strings.Contains(out, "小营村 220112203301 (0.3 %)") {
		t.Fatalf("import farmland: %v\n%s", err, out)
	}
	res := siteCheck(t, db, site)
	r := ruleOf(t, res, "permanent_farmland")
	if r.Outcome != siting.Block || r.Measured == nil || *r.Measured < 399.99 || *r.Measured > 400.01 || res.Verdict != siting.Block {
		t.Fatalf("site on imported farmland: verdict %s, rule %+v", res.Verdict, r)
	}
	if src, ok := res.CoverageSources["permanent_farmland"]; !ok || src.Kind != "features" || src.RecordedAt.IsZero() {
		t.Errorf("coverage sources: %+v", res.CoverageSources)
	}
	if lacksCoverage(res, "permanent_farmland") || !lacksCoverage(res, "land_use") || !strings.Contains(res.NoCoverageZH, "土地利用") && !strings.Contains(res.NoCoverageEN, "land_use") {
		t.Errorf("no_coverage: %+v %q", res.NoCoverage, res.NoCoverageEN)
	}

	// 2. Replace the farmland with data that does not reach the site: the
	// old coverage goes with the old rows, so the rule is REVIEW no data.
	out, _, err = run(t, append(db, "import", "--layer", "permanent_farmland", "--mode", "replace", f2)...)
	if err != nil || !strings.Contains(out, "coverage replaced") {
		t.Fatalf("replace farmland: %v\n%s", err, out)
	}
	res = siteCheck(t, db, site)
	if r := ruleOf(t, res, "permanent_farmland"); r.Outcome != siting.Review || !r.NoData {
		t.Fatalf("after replace: permanent_farmland %+v, want REVIEW no data", r)
	}
	if !lacksCoverage(res, "permanent_farmland") || !strings.Contains(res.NoCoverageZH, "永久基本农田") {
		t.Errorf("no_coverage after replace: %+v %q", res.NoCoverage, res.NoCoverageZH)
	}

	// 3. A failed import and a dry run change neither rows nor coverage.
	bad := filepath.Join(dir, "bowtie.geojson")
	_ = os.WriteFile(bad, []byte(fmt.Sprintf(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4551"}},"features":[{"type":"Feature","properties":{"yjjbnttbbh":"X","dlbm":"0103"},"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}]}`,
		gx+1000, gy, gx+1100, gy+100, gx+1100, gy, gx+1000, gy+100, gx+1000, gy)), 0o644)
	if _, _, err := run(t, append(db, "import", "--layer", "permanent_farmland", "--mode", "replace", "--coverage", "township", bad)...); err == nil {
		t.Fatal("bow-tie import succeeded")
	}
	out, _, err = run(t, append(db, "import", "--layer", "permanent_farmland", "--mode", "replace", "--coverage", "township", "--dry-run", f1)...)
	if err != nil || !strings.Contains(out, "coverage replaced (spec township)") || !strings.Contains(out, "5.250 km²") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, _, err = run(t, append(db, "coverage", "show", "permanent_farmland", "--json")...)
	var info map[string]any
	if err != nil || json.Unmarshal([]byte(out), &info) != nil || info["kind"] != "features" || info["area_km2"].(float64) != 0.01 {
		t.Fatalf("coverage after failed and dry-run imports: %v\n%s", err, out)
	}
	if r := ruleOf(t, siteCheck(t, db, site), "permanent_farmland"); r.Outcome != siting.Review || !r.NoData {
		t.Fatalf("after failed import: %+v", r)
	}

	// 4. Append extends the coverage: YJ1 again with village 大营村 as its
	// coverage; the site is on YJ1 and covered again.
	out, _, err = run(t, append(db, "import", "--layer", "permanent_farmland", "--coverage", "villages:220112203300", f1)...)
	if err != nil || !strings.Contains(out, "coverage extended (spec villages:220112203300)") {
		t.Fatalf("append: %v\n%s", err, out)
	}
	out, _, _ = run(t, append(db, "coverage", "show", "permanent_farmland")...)
	// 大营村 1.5 × 1.5 km = 2.25 km², YJ2 and YJ1 0.01 km² each.
	if !strings.Contains(out, "kind:        combined") || !strings.Contains(out, "2.270 km²") || !strings.Contains(out, "大营村 220112203300 (100.0 %)") {
		t.Fatalf("show after append:\n%s", out)
	}
	if r := ruleOf(t, siteCheck(t, db, site), "permanent_farmland"); r.Outcome != siting.Block {
		t.Fatalf("after append: %+v", r)
	}
	if _, _, err := run(t, append(db, "import", "--layer", "permanent_farmland", "--mode", "replace", "--coverage", "villages:220112209999", f1)...); err == nil ||
		!strings.Contains(err.Error(), "220112209999") || !strings.Contains(err.Error(), "220112203300 大营村") {
		t.Fatalf("unknown village: %v", err)
	}

	// 5. The coverage command: a boundary FILE in a GK zone (GeoJSON, and
	// a shapefile written by GDAL) that misses the site → REVIEW; extent
	// (hull of YJ1, YJ2) holds it → BLOCK; township; clear → REVIEW.
	west := writeGK(t, dir, "west.geojson", gkFeature{map[string]any{"name": "west"}, 0, 0, 500, 500})
	out, _, err = run(t, append(db, "coverage", "set", "permanent_farmland", west)...)
	if err != nil || !strings.Contains(out, "coverage replaced") || !strings.Contains(out, "EPSG:4551") || !strings.Contains(out, "0.250 km²") {
		t.Fatalf("set FILE: %v\n%s", err, out)
	}
	if r := ruleOf(t, siteCheck(t, db, site), "permanent_farmland"); r.Outcome != siting.Review || !r.NoData {
		t.Fatalf("coverage FILE off the site: %+v", r)
	}
	shp := filepath.Join(dir, "east.shp")
	east := writeGK(t, dir, "east.geojson", gkFeature{map[string]any{"name": "east"}, 1000, -500, 1500, 500})
	if b, err := exec.Command("ogr2ogr", "-f", "ESRI Shapefile", "-s_srs", "EPSG:4551", "-t_srs", "EPSG:4551", shp, east).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, b)
	}
	out, _, err = run(t, append(db, "coverage", "set", "permanent_farmland", shp)...)
	if err != nil || !strings.Contains(out, "shp, EPSG:4551") || !strings.Contains(out, "0.500 km²") || !strings.Contains(out, "小营村 220112203301 (16.7 %)") {
		t.Fatalf("set shapefile: %v\n%s", err, out)
	}
	if r := ruleOf(t, siteCheck(t, db, site), "permanent_farmland"); r.Outcome != siting.Block {
		t.Fatalf("coverage shapefile over the site: %+v", r)
	}
	out, _, err = run(t, append(db, "coverage", "set", "permanent_farmland", "extent")...)
	if err != nil || !strings.Contains(out, "convex hull of 2 feature(s)") || !strings.Contains(out, "0.110 km²") {
		t.Fatalf("set extent: %v\n%s", err, out)
	}
	if r := ruleOf(t, siteCheck(t, db, site), "permanent_farmland"); r.Outcome != siting.Block {
		t.Fatalf("extent coverage: %+v", r)
	}
	out, _, err = run(t, append(db, "coverage", "set", "permanent_farmland", "township")...)
	if err != nil || !strings.Contains(out, "township: union of the 2 villages") || !strings.Contains(out, "5.250 km²") {
		t.Fatalf("set township: %v\n%s", err, out)
	}
	out, _, err = run(t, append(db, "coverage", "show", "permanent_farmland", "--geojson")...)
	var feat struct {
		Type     string
		Geometry struct{ Type string }
		Props    map[string]any `json:"properties"`
	}
	if err != nil || json.Unmarshal([]byte(out), &feat) != nil || feat.Type != "Feature" || feat.Geometry.Type != "MultiPolygon" || feat.Props["kind"] != "township" {
		t.Fatalf("show --geojson: %v\n%.300s", err, out)
	}
	if out, _, err := run(t, append(db, "coverage", "clear", "permanent_farmland")...); err != nil || !strings.Contains(out, "coverage removed") {
		t.Fatalf("clear: %v %s", err, out)
	}
	if r := ruleOf(t, siteCheck(t, db, site), "permanent_farmland"); r.Outcome != siting.Review || !r.NoData {
		t.Fatalf("after clear: %+v", r)
	}
	if _, _, err := run(t, append(db, "coverage", "show", "permanent_farmland")...); err == nil || !strings.Contains(err.Error(), "has no coverage") {
		t.Fatalf("show without coverage: %v", err)
	}

	// 6. A line layer: no coverage by default (the summary says so and how
	// to choose one); --coverage township records the township;
	// features is refused.
	roads := filepath.Join(dir, "roads.geojson")
	_ = os.WriteFile(roads, []byte(fmt.Sprintf(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4551"}},"features":[{"type":"Feature","properties":{"admin_grade":"乡道"},"geometry":{"type":"LineString","coordinates":[[%f,%f],[%f,%f]]}}]}`,
		gx, gy+300, gx+2000, gy+300)), 0o644)
	out, _, err = run(t, append(db, "import", "--layer", "roads", roads)...)
	if err != nil || !strings.Contains(out, "coverage: none recorded") || !strings.Contains(out, "--coverage township") {
		t.Fatalf("roads default: %v\n%s", err, out)
	}
	if _, _, err := run(t, append(db, "import", "--layer", "roads", "--coverage", "features", roads)...); err == nil || !strings.Contains(err.Error(), "do not cover an area") {
		t.Fatalf("features on a line layer: %v", err)
	}
	out, _, err = run(t, append(db, "import", "--layer", "roads", "--mode", "replace", "--coverage", "township", roads)...)
	if err != nil || !strings.Contains(out, "coverage replaced (spec township)") {
		t.Fatalf("roads township: %v\n%s", err, out)
	}
	// Replace without --coverage removes the township coverage: the new
	// file's completeness is unknown.
	out, _, err = run(t, append(db, "import", "--layer", "roads", "--mode", "replace", "--json", roads)...)
	var sum struct {
		Coverage struct {
			Action   string
			Coverage any
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &sum) != nil || sum.Coverage.Action != "cleared" || sum.Coverage.Coverage != nil {
		t.Fatalf("roads replace default: %v\n%s", err, out)
	}
	res = siteCheck(t, db, site)
	if !lacksCoverage(res, "roads") || ruleOf(t, res, "road_setback").Outcome != siting.Review {
		t.Errorf("roads without coverage: %+v", res.NoCoverage)
	}
}
