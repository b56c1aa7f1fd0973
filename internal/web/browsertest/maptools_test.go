package browsertest

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// poll waits for a script to be truthy (every 100 ms, up to the run
// timeout).
func poll(t *testing.T, b *browser, script string) {
	t.Helper()
	run(t, b, chromedp.Poll[bool](script, chromedp.WithPollingInterval(100*time.Millisecond)))
}

// jump moves the map and waits until it has drawn every tile.
func (b *browser) jump(t *testing.T, lon, lat, zoom float64) {
	t.Helper()
	js[bool](t, b, fmt.Sprintf(`new Promise((r) => { vp.map.once('idle', () => r(true)); vp.map.jumpTo({center: [%.9f, %.9f], zoom: %g}); })`, lon, lat, zoom))
}

// TestMapTools: the planner's tools on /map for an anonymous viewer: a
// legible default view, the basemap panel with its labels, layer
// opacity, parcel and land-class labels at large scales only, distance
// and area measured with the numbers PostGIS gives on the Gauss-Krüger
// plane, identify listing every layer at a point (hidden ones too), the
// print sheet (legend, scale, north arrow) printed to PDF and read back,
// and an edit made with psql reaching the already-open map without a
// reload.
func TestMapTools(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	svc := startService(t, pool)
	ctx := context.Background()
	b := newBrowser(t, bin, svc.URL)
	do(t, b, chromedp.Navigate(svc.URL+"/map"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	js[bool](t, b, idle)
	js[bool](t, b, `(window.vpMarker = 'same page', true)`)

	// Default view: the catalog's default layers, the others off.
	on := js[[]string](t, b, `[...vp.layers.keys()].filter((id) => vp.state.isOn(id)).sort()`)
	if strings.Join(on, ",") != "control_zones,homesteads,permanent_farmland,roads,villages" {
		t.Errorf("layers on at start: %v", on)
	}
	if v := js[string](t, b, `vp.map.getLayoutProperty('land_use-fill', 'visibility')`); v != "none" {
		t.Errorf("land use is drawn at start (%q)", v)
	}
	if js[bool](t, b, `document.getElementById('layer-land_use').checked`) {
		t.Errorf("the land-use toggle is checked at start")
	}
	b.screenshot(t, "map-default-view.png")

	// The basemap panel has its labels (it rendered blank).
	do(t, b, chromedp.Click(chromedp.CSS(`#basemap > summary`)))
	bm := run(t, b, chromedp.TextContent(chromedp.CSS(`#basemap`)))
	for _, want := range []string{"底图", "显示在线底图", "保存", "未配置底图"} {
		if !strings.Contains(bm, want) {
			t.Errorf("basemap panel lacks %q: %q", want, bm)
		}
	}
	do(t, b, chromedp.ScrollIntoView(chromedp.CSS(`#basemap`)))
	b.screenshot(t, "map-basemap-panel.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#lang`)))
	if bm := run(t, b, chromedp.TextContent(chromedp.CSS(`#basemap`))); !strings.Contains(bm, "Basemap") || !strings.Contains(bm, "Save") {
		t.Errorf("English basemap panel %q", bm)
	}
	if tl := run(t, b, chromedp.TextContent(chromedp.CSS(`#tools`))); !strings.Contains(tl, "Distance") || !strings.Contains(tl, "Identify") {
		t.Errorf("English tool bar %q", tl)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#lang`)))
	do(t, b, chromedp.Click(chromedp.CSS(`#basemap > summary`)))

	// A homestead inside a land-use parcel, for the labels and identify.
	var h struct {
		id       int64
		zddm     string
		lon, lat float64
		dlmc     string
	}
	if err := pool.QueryRow(ctx, `SELECT h.id, h.zddm, ST_X(p), ST_Y(p), l.dlmc FROM villageplan.homesteads h
		CROSS JOIN LATERAL ST_PointOnSurface(h.geom) p
		JOIN villageplan.land_use l ON ST_Contains(l.geom, p) WHERE l.dlmc IS NOT NULL ORDER BY h.id LIMIT 1`).Scan(&h.id, &h.zddm, &h.lon, &h.lat, &h.dlmc); err != nil {
		t.Fatal(err)
	}

	// Opacity: the homesteads' slider scales their fill opacity (0.8).
	do(t, b, chromedp.SetValue(chromedp.CSS(`input[data-opacity="homesteads"]`), "40"))
	js[bool](t, b, `(document.querySelector('input[data-opacity="homesteads"]').dispatchEvent(new Event('input')), true)`)
	if v := js[float64](t, b, `vp.map.getPaintProperty('homesteads-fill', 'fill-opacity')`); math.Abs(v-0.32) > 1e-9 {
		t.Errorf("homesteads fill-opacity %v at 40 %%, want 0.32", v)
	}
	b.jump(t, h.lon, h.lat, 17.5)
	b.screenshot(t, "map-opacity-homesteads-40.png")
	do(t, b, chromedp.SetValue(chromedp.CSS(`input[data-opacity="homesteads"]`), "100"))
	js[bool](t, b, `(document.querySelector('input[data-opacity="homesteads"]').dispatchEvent(new Event('input')), true)`)
	if v := js[float64](t, b, `vp.map.getPaintProperty('homesteads-fill', 'fill-opacity')`); math.Abs(v-0.8) > 1e-9 {
		t.Errorf("homesteads fill-opacity %v back at 100 %%, want 0.8", v)
	}

	// Labels: 宗地代码 and 地类名称 from zoom 17, none at 15.
	do(t, b, chromedp.Click(chromedp.CSS(`#layer-land_use`)))
	b.jump(t, h.lon, h.lat, 18)
	labels := func(layer string) []string {
		return js[[]string](t, b, fmt.Sprintf(`vp.map.queryRenderedFeatures({layers: [%q]}).map((f) => String(f.properties[%q]))`, layer+"-detail-label",
			map[string]string{"homesteads": "zddm", "land_use": "dlmc"}[layer]))
	}
	if l := labels("homesteads"); !slices.Contains(l, h.zddm) {
		t.Errorf("homestead labels at zoom 18 %v lack %s", l, h.zddm)
	}
	if l := labels("land_use"); !slices.Contains(l, h.dlmc) {
		t.Errorf("land-use labels at zoom 18 %v lack %s", l, h.dlmc)
	}
	b.screenshot(t, "map-labels-z18.png")
	b.jump(t, h.lon, h.lat, 15)
	if l := labels("homesteads"); len(l) != 0 {
		t.Errorf("%d homestead labels at zoom 15, want none", len(l))
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#layer-land_use`)))

	// Distance: three clicks; the answer is PostGIS's length on EPSG:4551.
	b.jump(t, h.lon, h.lat, 17)
	c := b.pixel(t, h.lon, h.lat)
	do(t, b, chromedp.Click(chromedp.CSS(`#tool-distance`)))
	for _, d := range [][2]float64{{-200, -120}, {150, -100}, {180, 140}} {
		b.clickAt(t, c[0]+d[0], c[1]+d[1])
	}
	poll(t, b, `!!(vp.tools.last() && vp.tools.last().type === 'LineString' && vp.tools.points().length === 3 && document.getElementById('tool-result').dataset.seq)`)
	js[bool](t, b, `new Promise((r) => setTimeout(() => r(true), 300))`)
	line := js[string](t, b, `JSON.stringify({type: 'LineString', coordinates: vp.tools.points()})`)
	got := js[map[string]any](t, b, `vp.tools.last()`)
	var want float64
	if err := pool.QueryRow(ctx, `SELECT round(ST_Length(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4490), 4551))::numeric, 2)::float8`, line).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got["length_m"] != want || got["epsg"] != 4551.0 || want < 50 {
		t.Errorf("measured %v, PostGIS gives %.2f m on EPSG:4551", got, want)
	}
	shown := run(t, b, chromedp.TextContent(chromedp.CSS(`#tool-result`)))
	if !strings.Contains(shown, "长度") || !strings.Contains(shown, "EPSG:4551") {
		t.Errorf("distance readout %q", shown)
	}
	b.screenshot(t, "map-measure-distance.png")

	// Area: four corners, a double click ends it.
	do(t, b, chromedp.Click(chromedp.CSS(`#tool-area`)))
	corners := [][2]float64{{-150, -100}, {160, -110}, {140, 120}, {-170, 90}}
	for i, d := range corners {
		b.clickAt(t, c[0]+d[0], c[1]+d[1])
		if i == len(corners)-1 {
			do(t, b, chromedp.MouseClickXY(c[0]+d[0], c[1]+d[1], chromedp.ClickCount(2)))
		}
	}
	poll(t, b, `!!vp.tools.last() && vp.tools.last().type === 'Polygon' && vp.tools.points().length === 4`)
	js[bool](t, b, `new Promise((r) => setTimeout(() => r(true), 300))`)
	ring := js[string](t, b, `JSON.stringify({type: 'Polygon', coordinates: [[...vp.tools.points(), vp.tools.points()[0]]]})`)
	got = js[map[string]any](t, b, `vp.tools.last()`)
	var wantA, wantP float64
	if err := pool.QueryRow(ctx, `SELECT round(ST_Area(g)::numeric, 2)::float8, round(ST_Perimeter(g)::numeric, 2)::float8
		FROM (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4490), 4551) g) s`, ring).Scan(&wantA, &wantP); err != nil {
		t.Fatal(err)
	}
	if got["area_m2"] != wantA || got["perimeter_m"] != wantP || wantA < 1000 {
		t.Errorf("measured %v, PostGIS gives %.2f m², perimeter %.2f m", got, wantA, wantP)
	}
	if z := js[float64](t, b, `vp.map.getZoom()`); math.Abs(z-17) > 0.01 {
		t.Errorf("the double click that ends the area zoomed the map to %v", z)
	}
	if shown := run(t, b, chromedp.TextContent(chromedp.CSS(`#tool-result`))); !strings.Contains(shown, "面积") || !strings.Contains(shown, "亩") {
		t.Errorf("area readout %q", shown)
	}
	b.screenshot(t, "map-measure-area.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#tool-clear`)))

	// Identify: every layer at the point, land use included although it
	// is hidden; the same layers as PostGIS finds there.
	b.jump(t, h.lon, h.lat, 18)
	do(t, b, chromedp.Click(chromedp.CSS(`#tool-identify`)))
	p := b.pixel(t, h.lon, h.lat)
	b.clickAt(t, p[0], p[1])
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#identify`)))
	found := strings.Split(js[string](t, b, `document.getElementById('identify').dataset.layers`), ",")
	for _, l := range []string{"homesteads", "land_use", "villages"} {
		if !slices.Contains(found, l) {
			t.Errorf("identify at homestead %d found %v, want %s", h.id, found, l)
		}
	}
	var inPG []string
	for _, l := range js[[]string](t, b, `[...vp.layers.keys()]`) {
		var n int
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM villageplan.%s WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4490))`, l), h.lon, h.lat).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			inPG = append(inPG, l)
		}
	}
	for _, l := range inPG {
		if !slices.Contains(found, l) {
			t.Errorf("PostGIS has %s at the point, identify lists only %v", l, found)
		}
	}
	if txt := run(t, b, chromedp.TextContent(chromedp.CSS(`#identify`))); !strings.Contains(txt, h.zddm) || !strings.Contains(txt, "地类图斑") {
		t.Errorf("identify popup %q lacks the parcel code or the land-use layer", txt)
	}
	b.screenshot(t, "map-identify.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#tool-identify`)))

	// Print: the sheet with legend, scale and north arrow; printed to PDF
	// and read back with pdftotext and pdfimages.
	b.jump(t, h.lon, h.lat, 16)
	sheet := js[map[string]any](t, b, `vp.tools.preparePrint()`)
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#print-sheet img#print-map`)))
	side := run(t, b, chromedp.TextContent(chromedp.CSS(`#print-sheet`)))
	for _, want := range []string{"图例", "比例尺 1:", "宅基地", "永久基本农田", "制图时间"} {
		if !strings.Contains(side, want) {
			t.Errorf("print sheet lacks %q: %q", want, side)
		}
	}
	if strings.Contains(side, "地类图斑") {
		t.Errorf("the print legend lists the hidden land-use layer")
	}
	// The scale: 1:N from the map's resolution at 96 dpi.
	z := js[float64](t, b, `vp.map.getZoom()`)
	mpp := 40075016.686 * math.Cos(h.lat*math.Pi/180) / (512 * math.Pow(2, z))
	if s := sheet["scale"].(float64); math.Abs(s-mpp/0.0254*96) > 10 {
		t.Errorf("print scale 1:%v, want 1:%.0f", s, mpp/0.0254*96)
	}
	if src := js[string](t, b, `document.getElementById('print-map').src.slice(0, 22)`); src != "data:image/png;base64," {
		t.Errorf("print image %q", src)
	}
	// The image is the map (not blank): its pixels differ.
	if n := js[float64](t, b, `new Promise((r) => { const i = document.getElementById('print-map'); const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
		const g = c.getContext('2d'); g.drawImage(i, 0, 0); const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
		for (let k = 0; k < d.length; k += 4 * 97) seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]); r(seen.size); })`); n < 20 {
		t.Errorf("the print image has %v colours: blank?", n)
	}
	b.screenshot(t, "map-print-sheet.png")
	var pdf []byte
	yes := true
	do(t, b, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{Landscape: &yes, PrintBackground: &yes, PreferCSSPageSize: &yes})
		pdf = res.Data
		return err
	}))
	pdfPath := filepath.Join(artifacts(t), "map-print.pdf")
	if err := os.WriteFile(pdfPath, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", pdfPath, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{"图例", "比例尺", "宅基地", "村庄规划一张图"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("printed PDF lacks %q:\n%s", want, text)
		}
	}
	for _, not := range []string{"专题视图", "数据服务"} {
		if strings.Contains(string(text), not) {
			t.Errorf("printed PDF shows the page chrome %q", not)
		}
	}
	if info, err := exec.Command("pdfinfo", pdfPath).Output(); err != nil || !strings.Contains(string(info), "Pages:           1\n") || !strings.Contains(string(info), "pts (A4)") {
		t.Errorf("the print is not one A4 landscape page (%v):\n%s", err, info)
	}
	imgs, err := exec.Command("pdfimages", "-list", pdfPath).Output()
	if err != nil {
		t.Fatalf("pdfimages: %v", err)
	}
	if n := len(strings.Split(strings.TrimSpace(string(imgs)), "\n")) - 2; n < 1 {
		t.Errorf("printed PDF holds %d images, want the map:\n%s", n, imgs)
	}
	// A look at the page as printed.
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	do(t, b, media("print"))
	b.screenshot(t, "map-print-media.png")
	do(t, b, media(""))
	png := js[string](t, b, `document.getElementById('print-png').href`)
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(png, "data:image/png;base64,")); err != nil || len(raw) < 10000 {
		t.Errorf("PNG export: %d bytes (%v)", len(raw), err)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#print-sheet .print-actions button:last-child`)))

	// An edit through psql (as QGIS makes it) reaches this open map: the
	// page polls the layer versions and reloads the tiles; no navigation.
	b.jump(t, h.lon, h.lat, 18)
	rendered := fmt.Sprintf(`vp.map.queryRenderedFeatures(vp.map.project([%.9f, %.9f])).filter((f) => f.layer.id === 'homesteads-fill' && f.id === %d).length`, h.lon, h.lat, h.id)
	if js[int](t, b, rendered) == 0 {
		t.Fatalf("homestead %d not rendered before the psql edit", h.id)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql not found (install postgresql-client): %v", err)
	}
	out, err := exec.Command(psql, pool.Config().ConnString(), "-v", "ON_ERROR_STOP=1", "-c",
		fmt.Sprintf(`SET villageplan.actor = 'qgis-测试'; DELETE FROM villageplan.homesteads WHERE id = %d`, h.id)).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	start := time.Now()
	poll(t, b, fmt.Sprintf(`%s === 0 && (document.body.dataset.refreshed || '').split(',').includes('homesteads')`, rendered))
	t.Logf("the psql delete reached the open map after %v", time.Since(start).Round(10*time.Millisecond))
	if m := js[string](t, b, `window.vpMarker || ''`); m != "same page" {
		t.Errorf("the page was reloaded (marker %q)", m)
	}
	b.screenshot(t, "map-after-psql-delete.png")
	b.checkClean(t)
}
