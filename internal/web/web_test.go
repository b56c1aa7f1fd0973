package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"villageplan/layers"
)

// PageCodeBudget is issue 7's limit for the web map's own code (HTML,
// JavaScript, CSS; MapLibre GL JS not counted), which its first paint
// loads. DeskCodeBudget is the approval desk's: the desk became the
// application desk of issue 12 (list, 申请表, application page), which has
// no first-paint budget of its own; its ceiling keeps it from growing
// unnoticed.
const (
	PageCodeBudget = 100 * 1024
	DeskCodeBudget = 140 * 1024
)

// pageCode is the bytes of the files a page loads: the page, its
// stylesheets and icon, its scripts and every module they import
// (static imports, transitively), vendored files not counted.
func pageCode(t *testing.T, page string) (int, []string) {
	t.Helper()
	ref := regexp.MustCompile(`(?:src|href)="web/([^"]+)"`)
	imp := regexp.MustCompile(`(?:from|import)\s+'\./([^']+)'`)
	seen := map[string]bool{}
	var files []string
	var walk func(name string)
	walk = func(name string) {
		if seen[name] || strings.HasPrefix(name, VendorDir+"/") {
			return
		}
		seen[name] = true
		b, err := fs.ReadFile(Static(), name)
		if err != nil {
			t.Fatalf("%s refers to %s: %v", page, name, err)
		}
		files = append(files, name)
		re, dir := ref, ""
		if strings.HasSuffix(name, ".js") {
			re, dir = imp, path.Dir(name)+"/"
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			walk(path.Clean(dir + string(m[1])))
		}
	}
	walk(page)
	n := 0
	for _, f := range files {
		b, _ := fs.ReadFile(Static(), f)
		n += len(b)
	}
	return n, files
}

// EditCodeBudget is the editing module's own limit. /map loads
// js/edit.js only for an account whose role may edit a layer (map.js
// imports it after GET /account), so it is nothing an anonymous viewer or
// the desk downloads; it is measured apart from PageCodeBudget, and an
// editor's /map loads at most PageCodeBudget + EditCodeBudget (the
// browser test TestMapEditing measures that).
const EditCodeBudget = 20 * 1024

// HistoryCodeBudget and SplitCodeBudget bound the modules /map loads on
// demand: js/history.js (the date control and the changes view, for
// signed-in users) and js/split.js (an editor's first split). An editor's
// /map loads at most PageCodeBudget + EditCodeBudget + HistoryCodeBudget
// at start (TestMapEditing measures 120 KB for it).
const (
	HistoryCodeBudget = 12 * 1024
	SplitCodeBudget   = 5 * 1024
)

func TestPageCodeBudget(t *testing.T) {
	raw, gz := NewAssets().PageCodeBytes()
	t.Logf("page code of all pages (without MapLibre): %d bytes, %d bytes gzip-compressed", raw, gz)
	for _, p := range []struct {
		page   string
		budget int
	}{{"map.html", PageCodeBudget}, {"desk.html", DeskCodeBudget}} {
		n, files := pageCode(t, p.page)
		t.Logf("%s loads %d bytes of own code: %v", p.page, n, files)
		if len(files) < 4 {
			t.Errorf("%s: found only %v; the reference patterns no longer match the pages", p.page, files)
		}
		if n >= p.budget {
			t.Errorf("%s loads %d bytes of own code, budget %d", p.page, n, p.budget)
		}
	}
	// Modules loaded on demand: history (signed-in users, /map) and split
	// (an editor's first split).
	for name, budget := range map[string]int{"js/history.js": HistoryCodeBudget, "js/split.js": SplitCodeBudget} {
		n := len(NewAssets().files[name].body)
		t.Logf("%s (loaded on demand): %d bytes", name, n)
		if n == 0 || n >= budget {
			t.Errorf("%s is %d bytes, budget %d", name, n, budget)
		}
	}
	edit := len(NewAssets().files["js/edit.js"].body)
	t.Logf("the editing module js/edit.js (loaded by /map only for editors): %d bytes", edit)
	if edit == 0 || edit >= EditCodeBudget {
		t.Errorf("the editing module js/edit.js is %d bytes, budget %d", edit, EditCodeBudget)
	}
}

func TestVendoredMapLibre(t *testing.T) {
	st := Static()
	for _, f := range []string{"maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css", "LICENSE.txt", "VERSION"} {
		b, err := fs.ReadFile(st, "vendor/maplibre-gl/"+f)
		if err != nil || len(b) == 0 {
			t.Errorf("vendored MapLibre file %s: %v", f, err)
		}
	}
	lic, _ := fs.ReadFile(st, "vendor/maplibre-gl/LICENSE.txt")
	if !bytes.Contains(lic, []byte("Redistribution")) {
		t.Errorf("LICENSE.txt does not look like MapLibre's BSD licence")
	}
}

// The pages must work with no internet: no page loads a script, style,
// font or image from another host.
func TestPagesLoadNothingFromOtherHosts(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(\s*["'\x60]https?:|import\s*\(?\s*["'\x60]https?:|from\s+["'\x60]https?:`)
	err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, VendorDir+"/") {
			return err
		}
		b, err := fs.ReadFile(Static(), p)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s refers to another host: %s", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAssetsServe(t *testing.T) {
	a := NewAssets()
	get := func(name string, h http.Header) *http.Response {
		r := httptest.NewRequest(http.MethodGet, "/web/"+name, nil)
		for k, v := range h {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		a.Serve(w, r, name)
		return w.Result()
	}
	resp := get("js/gk.js", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !bytes.Contains(body, []byte("export function gk")) {
		t.Fatalf("js/gk.js = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("headers %v", resp.Header)
	}
	if r := get("js/gk.js", http.Header{"If-None-Match": {etag}}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match = %d, want 304", r.StatusCode)
	}
	r := get("vendor/maplibre-gl/maplibre-gl.mjs", http.Header{"Accept-Encoding": {"br, gzip"}})
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("maplibre-gl.mjs not gzip-compressed: %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	orig, _ := fs.ReadFile(Static(), "vendor/maplibre-gl/maplibre-gl.mjs")
	if !bytes.Equal(unz, orig) {
		t.Errorf("gzip body differs from the file")
	}
	if r := get("vendor/maplibre-gl/maplibre-gl.mjs", http.Header{"Accept-Encoding": {"gzip;q=0"}}); r.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip sent although q=0")
	}
	if r := get("../web.go", nil); r.StatusCode != 404 {
		t.Errorf("../web.go = %d", r.StatusCode)
	}
	if r := get("nope.js", nil); r.StatusCode != 404 {
		t.Errorf("nope.js = %d", r.StatusCode)
	}
}

func TestBuildMeta(t *testing.T) {
	cat := layers.Default()
	m := BuildMeta(cat, NewCoverage(cat, []string{"村庄集中建设区", "村庄弹性发展区"}))
	var groups []string
	seen := map[string]bool{}
	for _, g := range m.Groups {
		groups = append(groups, g.ID)
		for _, lm := range g.Layers {
			seen[lm.ID] = true
			l, _ := cat.Layer(lm.ID)
			if l.Group != g.ID {
				t.Errorf("layer %s in group %s, catalog says %s", l.ID, g.ID, l.Group)
			}
			for _, f := range lm.Fields {
				cf, ok := l.Field(f.Name)
				if !ok || cf.Personal {
					t.Errorf("layer %s: field %s is personal or unknown and must not reach the pages", l.ID, f.Name)
				}
			}
		}
	}
	if strings.Join(groups, ",") != "规划管控,村庄,基础设施,公共服务,宅基地,灾害风险" {
		t.Errorf("groups %v", groups)
	}
	for _, l := range cat.Layers() {
		if !seen[l.ID] {
			t.Errorf("layer %s missing from the panel", l.ID)
		}
	}
	// DLBM names come from the code list, in list order.
	var dlbm *FieldMeta
	for _, g := range m.Groups {
		for _, lm := range g.Layers {
			for i := range lm.Fields {
				if lm.ID == layers.LandUse.ID && lm.Fields[i].Name == "dlbm" {
					dlbm = &lm.Fields[i]
				}
			}
		}
	}
	if dlbm == nil || len(dlbm.Codes) == 0 || dlbm.Codes[0].Value != "0101" {
		t.Fatalf("land-use DLBM codes %+v", dlbm)
	}
	found := false
	for _, c := range dlbm.Codes {
		if c.Value == "0103" && c.ZH == "旱地" {
			found = true
		}
	}
	if !found {
		t.Errorf("DLBM 0103 is not named 旱地")
	}
	views := map[string]View{}
	for _, v := range m.Views {
		views[v.ID] = v
	}
	for id, focus := range map[string]string{
		"village-class": layers.Villages.ID, "road-grades": layers.Roads.ID,
		"hazard-grades": layers.HazardZones.ID, "streetlight-coverage": layers.Streetlights.ID,
	} {
		if views[id].Focus != focus {
			t.Errorf("view %s focuses on %q, want %q", id, views[id].Focus, focus)
		}
	}
	if v := views["streetlight-coverage"]; v.Overlay != CoveragePath || len(v.OverlayLegend) != 2 {
		t.Errorf("coverage view %+v", v)
	}
	if v := views["assessment-score"]; v.Focus != layers.Villages.ID || v.OverlayKind != "fill" || v.OverlayProperty != "score" || !v.SignedIn ||
		len(v.OverlayLegend) != 5 || v.OverlayLegend[0].Min != nil || v.OverlayLegend[1].Min == nil || *v.OverlayLegend[1].Min != 60 {
		t.Errorf("assessment view %+v", v)
	}
	if m := BuildMeta(cat, nil); len(m.Views) != 4 {
		t.Errorf("without coverage: %d views, want 4 (the three thematic ones and the assessment)", len(m.Views))
	}
	// The editing mode reads who edits a layer, its review and topology
	// rules, and the fields' checks from the same meta.
	byID := map[string]LayerMeta{}
	for _, g := range m.Groups {
		for _, lm := range g.Layers {
			byID[lm.ID] = lm
			if len(lm.Editing.Roles) == 0 || lm.Editing.Roles[0] != "planning_editor" {
				t.Errorf("layer %s: editing roles %v, want planning_editor first", lm.ID, lm.Editing.Roles)
			}
		}
	}
	hs := byID[layers.Homesteads.ID]
	if hs.Editing.Review != nil || len(hs.Editing.Topology) != 2 || hs.Editing.Topology[1].Other != layers.PermanentFarmland.ID {
		t.Errorf("homesteads editing %+v: want no review and the two no-overlap rules", hs.Editing)
	}
	if rv := byID[layers.PermanentFarmland.ID].Editing.Review; rv == nil || !rv.All || rv.ZH == "" {
		t.Errorf("permanent farmland review %+v, want every change reviewed", rv)
	}
	checks := map[string]FieldMeta{}
	for _, f := range hs.Fields {
		checks[f.Name] = f
	}
	if f := checks["zddm"]; !f.Required || f.MaxLength != 19 {
		t.Errorf("zddm checks %+v", f)
	}
	if f := checks["xzqdm"]; !f.AdminCode || !f.Required {
		t.Errorf("xzqdm checks %+v", f)
	}
	if f := checks["zdmj"]; f.Min == nil || *f.Min != 0 || f.Unit != "m²" || f.Required {
		t.Errorf("zdmj checks %+v", f)
	}
	if f := checks["bdcdyh"]; f.Pattern == "" || f.PatternZH == "" {
		t.Errorf("bdcdyh checks %+v", f)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "br, gzip;q=0.5": true, "gzip;q=0": false, "*": true, "identity": false, "x-gzip": true, "deflate, *;q=0": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}

// TestVendoredTerraDraw: the drawing library of the editing mode is
// embedded with its licence, and its MapLibre adapter imports it by a
// relative path (a browser cannot resolve the bare name "terra-draw"
// without a bundler; update-terradraw.sh rewrites it).
func TestVendoredTerraDraw(t *testing.T) {
	st := Static()
	for _, f := range []string{"terra-draw.mjs", "terra-draw-maplibre-gl-adapter.mjs", "LICENSE.txt", "VERSION"} {
		b, err := fs.ReadFile(st, "vendor/terra-draw/"+f)
		if err != nil || len(b) == 0 {
			t.Errorf("vendored terra-draw file %s: %v", f, err)
		}
	}
	ad, _ := fs.ReadFile(st, "vendor/terra-draw/terra-draw-maplibre-gl-adapter.mjs")
	if !bytes.Contains(ad, []byte(`from"./terra-draw.mjs"`)) || bytes.Contains(ad, []byte(`from"terra-draw"`)) {
		t.Errorf("the adapter does not import ./terra-draw.mjs (bare import left?)")
	}
	lic, _ := fs.ReadFile(st, "vendor/terra-draw/LICENSE.txt")
	if !bytes.Contains(lic, []byte("MIT License")) {
		t.Errorf("terra-draw LICENSE.txt is not the MIT licence")
	}
	ed, _ := fs.ReadFile(st, "js/edit.js")
	if !bytes.Contains(ed, []byte("../vendor/terra-draw/terra-draw.mjs")) {
		t.Errorf("js/edit.js does not load the vendored terra-draw")
	}
}
