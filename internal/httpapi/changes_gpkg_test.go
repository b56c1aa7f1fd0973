package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestChangesGeoPackage: a homestead added, one modified (a property) and
// one removed through the API; /changes between the instants before and
// after lists three features and links its GeoPackage; GDAL's ogrinfo
// opens the download, whose table homesteads_changes holds the same
// features (fid = feature id) with the same change kinds and the state
// after, and homesteads_changes_old the two states before; no personal
// field for the analyst.
func TestChangesGeoPackage(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var ids []int64
	rows, _ := pool.Query(ctx, `SELECT id FROM villageplan.homesteads ORDER BY id`)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 2 {
		t.Fatalf("fixture homesteads %v", ids)
	}
	t0 := instant(t, pool)
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json",
		`{"type":"Feature","properties":{"zddm":"220112203300JC00009","xzqdm":"220112203300","status":"已批准","zdmj":560,"zl":"新宅"},"geometry":`+gkSq(480500, 4829000, 20)+`}`,
		"Content-Crs", epsg4551)
	if resp.StatusCode != 201 {
		t.Fatalf("create = %d %v", resp.StatusCode, m)
	}
	var added int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.homesteads WHERE zddm = '220112203300JC00009'`).Scan(&added)
	u := func(id int64) string { return fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, id) }
	if resp, m := call(t, "editor", "PATCH", u(ids[0]), "application/merge-patch+json", `{"properties":{"zl":"改过的坐落"}}`,
		"If-Match", etagOf(t, ts, "homesteads", ids[0])); resp.StatusCode != 200 {
		t.Fatalf("patch = %d %v", resp.StatusCode, m)
	}
	if resp, m := call(t, "editor", "DELETE", u(ids[1]), "", nil, "If-Match", etagOf(t, ts, "homesteads", ids[1])); resp.StatusCode != 204 {
		t.Fatalf("delete = %d %v", resp.StatusCode, m)
	}
	t1 := instant(t, pool)

	resp, m = call(t, "analyst", "GET", fmt.Sprintf("%s/collections/homesteads/changes?from=%s&to=%s", ts.URL, at(t0), at(t1)), "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("changes = %d %v", resp.StatusCode, m)
	}
	var want []string
	for _, f := range m["features"].([]any) {
		fm := f.(map[string]any)
		want = append(want, fmt.Sprintf("%v:%v", fm["id"], fm["properties"].(map[string]any)["change"]))
	}
	sort.Strings(want)
	wantKinds := []string{fmt.Sprintf("%d:added", added), fmt.Sprintf("%d:modified", ids[0]), fmt.Sprintf("%d:removed", ids[1])}
	sort.Strings(wantKinds)
	if strings.Join(want, " ") != strings.Join(wantKinds, " ") || m["numberReturned"] != float64(3) {
		t.Fatalf("JSON changes %v (numberReturned %v), want %v", want, m["numberReturned"], wantKinds)
	}
	var gpkgURL string
	for _, l := range m["links"].([]any) {
		if lm := l.(map[string]any); lm["rel"] == "enclosure" && lm["type"] == "application/geopackage+sqlite3" {
			gpkgURL = lm["href"].(string)
		}
	}
	if !strings.Contains(gpkgURL, "f=gpkg") {
		t.Fatalf("no GeoPackage enclosure link in %v", m["links"])
	}

	r, body := fetch(t, "GET", gpkgURL, map[string]string{"Authorization": "Bearer analyst"})
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/geopackage+sqlite3" ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "homesteads_changes.gpkg") {
		t.Fatalf("GeoPackage = %d %s %q %.200s", r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"), body)
	}
	path := filepath.Join(t.TempDir(), "changes.gpkg")
	if err := os.WriteFile(path, body, 0o644); err != nil {
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
	text := string(out)
	// Each layer's features as "fid:change", from ogrinfo's listing.
	perLayer := map[string][]string{}
	counts := map[string]string{}
	layer := ""
	fid := ""
	for _, line := range strings.Split(text, "\n") {
		if s, ok := strings.CutPrefix(line, "Layer name: "); ok {
			layer = s
		}
		if s, ok := strings.CutPrefix(line, "Feature Count: "); ok {
			counts[layer] = s
		}
		if mm := regexp.MustCompile(`^OGRFeature\(([^)]+)\):(\d+)`).FindStringSubmatch(line); mm != nil {
			fid = mm[2]
		}
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "change (String) = "); ok {
			perLayer[layer] = append(perLayer[layer], fid+":"+s)
		}
	}
	for l := range perLayer {
		sort.Strings(perLayer[l])
	}
	if counts["homesteads_changes"] != "3" || strings.Join(perLayer["homesteads_changes"], " ") != strings.Join(want, " ") {
		t.Errorf("homesteads_changes: count %q, features %v, want 3 and %v (the JSON)", counts["homesteads_changes"], perLayer["homesteads_changes"], want)
	}
	wantOld := []string{fmt.Sprintf("%d:modified", ids[0]), fmt.Sprintf("%d:removed", ids[1])}
	sort.Strings(wantOld)
	if counts["homesteads_changes_old"] != "2" || strings.Join(perLayer["homesteads_changes_old"], " ") != strings.Join(wantOld, " ") {
		t.Errorf("homesteads_changes_old: count %q, features %v, want 2 and %v", counts["homesteads_changes_old"], perLayer["homesteads_changes_old"], wantOld)
	}
	for _, s := range []string{"using driver `GPKG'", "zl (String) = 改过的坐落", "zl (String) = 新宅", "zl (String) = 大营村1号", "MULTIPOLYGON (((125.", `ID["EPSG",4490]`} {
		if !strings.Contains(text, s) {
			t.Errorf("ogrinfo output lacks %q", s)
		}
	}
	if strings.Contains(text, "holder_name (") || strings.Contains(text, "马1") {
		t.Errorf("the analyst's GeoPackage holds personal fields:\n%.3000s", text)
	}
	// bad format, anonymous
	if resp, m := call(t, "analyst", "GET", fmt.Sprintf("%s/collections/homesteads/changes?from=%s&f=shp", ts.URL, at(t0)), "", nil); resp.StatusCode != 400 ||
		!strings.Contains(fmt.Sprint(m["description"]), "f") {
		t.Errorf("f=shp: %d %v", resp.StatusCode, m)
	}
	if resp, _ := call(t, "", "GET", gpkgURL, "", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous GeoPackage: %d, want 401", resp.StatusCode)
	}
}
