package browsertest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"villageplan/internal/auth"
)

// withButtons marks a mouse event as sent with the left button held
// (a drag).
func withButtons(n int64) chromedp.MouseOption {
	return func(p *input.DispatchMouseEventParams) { p.Buttons = n }
}

// pixel is the page position of a lon/lat on the map.
func (b *browser) pixel(t *testing.T, lon, lat float64) [2]float64 {
	t.Helper()
	return js[[2]float64](t, b, fmt.Sprintf(`(() => { const p = vp.map.project([%.9f, %.9f]); const r = vp.map.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; })()`, lon, lat))
}

// clickAt moves the mouse to x, y and clicks there (terra-draw follows
// the pointer before a click).
func (b *browser) clickAt(t *testing.T, x, y float64) {
	t.Helper()
	do(t, b, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y), chromedp.MouseClickXY(x, y))
	js[bool](t, b, `new Promise((r) => setTimeout(() => r(true), 150))`)
}

// drag presses the left button at from, moves in steps and releases at to.
func (b *browser) drag(t *testing.T, from, to [2]float64) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, from[0], from[1]),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, from[0], from[1], chromedp.ButtonLeft, withButtons(1), chromedp.ClickCount(1)),
	}
	for i := 1; i <= 12; i++ {
		f := float64(i) / 12
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, from[0]+(to[0]-from[0])*f, from[1]+(to[1]-from[1])*f, chromedp.ButtonLeft, withButtons(1)))
	}
	steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, to[0], to[1], chromedp.ButtonLeft, withButtons(0), chromedp.ClickCount(1)))
	do(t, b, steps...)
	js[bool](t, b, `new Promise((r) => setTimeout(() => r(true), 200))`)
}

// metres is the distance between two lon/lat points in metres (local
// equirectangular; enough for a few metres).
func metres(a, b [2]float64) float64 {
	k := math.Cos(a[1] * math.Pi / 180)
	return math.Hypot((a[0]-b[0])*111320*k, (a[1]-b[1])*110540)
}

// TestMapEditing: a 规划编辑 signs in, draws a homestead parcel on /map,
// fills the catalog form and saves it (POST, Part 4); the tiles show it.
// They reshape it: a dragged vertex snaps onto the corner of the
// neighbouring parcel; undo puts it back, redo again. A parcel drawn over
// the first one is refused with the overlap error beside it, in Chinese
// and in English. A save after someone else changed the feature is a 412
// with "reload and re-apply", which then saves.
func TestMapEditing(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	svc := startService(t, pool)
	ctx := context.Background()
	if _, _, err := auth.NewStore(pool).CreateUser(ctx, auth.NewUser{Username: "planner", DisplayName: "李规划", Password: "edit password 1",
		Grants: []auth.Grant{{Role: auth.PlanningEditor}}}); err != nil {
		t.Fatal(err)
	}
	// An empty spot in a village: no homestead or farmland within ~25 m,
	// and the homestead nearest to it (whose corner the reshape snaps to).
	var spot, corner [2]float64
	var neighbour int64
	if err := pool.QueryRow(ctx, `
WITH cand AS (
  SELECT ST_Translate(ST_Centroid(h.geom), dx * 0.00035, dy * 0.00025) p
  FROM (SELECT geom FROM villageplan.homesteads ORDER BY id LIMIT 40) h, generate_series(-2, 2) dx, generate_series(-2, 2) dy),
free AS (
  SELECT p FROM cand c
  WHERE NOT EXISTS (SELECT 1 FROM villageplan.homesteads x WHERE ST_DWithin(x.geom, c.p, 0.00028))
    AND NOT EXISTS (SELECT 1 FROM villageplan.permanent_farmland f WHERE ST_DWithin(f.geom, c.p, 0.0004))
    AND EXISTS (SELECT 1 FROM villageplan.villages v WHERE ST_Contains(v.geom, c.p))
    AND EXISTS (SELECT 1 FROM villageplan.homesteads x WHERE ST_DWithin(x.geom, c.p, 0.0005))
  LIMIT 1)
SELECT ST_X(free.p), ST_Y(free.p), n.id, ST_X(v.geom), ST_Y(v.geom)
FROM free
CROSS JOIN LATERAL (SELECT id, geom FROM villageplan.homesteads ORDER BY geom <-> free.p LIMIT 1) n
CROSS JOIN LATERAL (SELECT (d).geom FROM ST_DumpPoints(n.geom) d ORDER BY (d).geom <-> free.p LIMIT 1) v`).
		Scan(&spot[0], &spot[1], &neighbour, &corner[0], &corner[1]); err != nil {
		t.Fatalf("find an empty spot beside a homestead: %v", err)
	}
	t.Logf("drawing at %v; neighbour homestead %d, corner %v (%.1f m away)", spot, neighbour, corner, metres(spot, corner))

	b := newBrowser(t, bin, svc.URL)
	// Anonymous: no editing section.
	do(t, b, chromedp.Navigate(svc.URL+"/map"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if js[bool](t, b, `!!document.getElementById('edit')`) {
		t.Errorf("the anonymous map offers editing")
	}
	// Sign in as the planning editor; the login returns to the map. (No
	// HTTP cache from here on, so that the resource timing below lists
	// every file the editor's /map loads.)
	do(t, b, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
	do(t, b, chromedp.Navigate(svc.URL+"/login?next=map"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#password`)))
	do(t, b, chromedp.SendKeys(chromedp.CSS(`#username`), "planner"), chromedp.SendKeys(chromedp.CSS(`#password`), "edit password 1"))
	do(t, b, chromedp.Submit(chromedp.CSS(`#password`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	// The page code an editor's /map loads: the viewer's plus edit.js
	// (measured before the tiles fill the resource-timing buffer).
	own := js[float64](t, b, `performance.getEntriesByType('resource').filter((e) => /\/web\/(js|app)/.test(e.name)).reduce((s, e) => s + e.decodedBodySize, 0)`)
	t.Logf("page code loaded by /map for a planning editor: %.0f bytes", own)
	for _, f := range []string{"edit", "map", "mapcore", "panel", "i18n"} {
		if !js[bool](t, b, `performance.getEntriesByType('resource').some((e) => e.name.endsWith('/web/js/`+f+`.js'))`) {
			t.Errorf("the resource timing of /map for an editor lacks js/%s.js", f)
		}
	}
	if own == 0 || own >= 120*1024 {
		t.Errorf("page code loaded by /map for an editor is %.0f bytes, budget 120 KB (100 KB + the editing module)", own)
	}
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-layer`), "homesteads"))
	js[bool](t, b, `(document.getElementById('edit-layer').dispatchEvent(new Event('change')), true)`)
	js[bool](t, b, fmt.Sprintf(`new Promise((r) => { vp.map.once('idle', () => r(true)); vp.map.jumpTo({center: [%.9f, %.9f], zoom: 18.5}); })`, (spot[0]+corner[0])/2, (spot[1]+corner[1])/2))

	// Draw a square parcel of about 12 m around the spot.
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-new`)))
	c := b.pixel(t, spot[0], spot[1])
	const h = 30.0
	square := [][2]float64{{c[0] - h, c[1] - h}, {c[0] + h, c[1] - h}, {c[0] + h, c[1] + h}, {c[0] - h, c[1] + h}, {c[0] - h, c[1] - h}}
	for _, p := range square {
		b.clickAt(t, p[0], p[1])
	}
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit-form input[name="zddm"]`)))
	form := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-form`)))
	for _, want := range []string{"宗地代码", "状态", "宗地面积", "m²", "*"} {
		if !strings.Contains(form, want) {
			t.Errorf("attribute form lacks %q: %s", want, form)
		}
	}
	if n := js[int](t, b, `document.querySelectorAll('#edit-form select[name="status"] option').length`); n < 3 {
		t.Errorf("status drop-down has %d options, want the code list", n)
	}
	if v := js[string](t, b, `document.querySelector('#edit-form input[name="xzqdm"]').value`); len(v) != 12 {
		t.Errorf("village code not filled from the village under the parcel: %q", v)
	}
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-form input[name="zddm"]`), "220112999001JC00001"),
		chromedp.SetValue(chromedp.CSS(`#edit-form select[name="status"]`), "已批准"),
		chromedp.SetValue(chromedp.CSS(`#edit-form input[name="zdmj"]`), "150"))
	b.screenshot(t, "map-edit-drawn.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-save`)))
	run(t, b, chromedp.Poll[bool](`!!document.body.dataset.editSaved || document.querySelector('#edit-msg.error') !== null`, chromedp.WithPollingInterval(50*time.Millisecond)))
	if e := js[string](t, b, `(document.querySelector('#edit-msg.error') || {}).textContent || ''`); e != "" {
		b.screenshot(t, "map-edit-save-failed.png")
		t.Fatalf("saving the drawn parcel failed: %s", e)
	}
	var fid int64
	fmt.Sscan(js[string](t, b, `document.body.dataset.editSaved`), &fid)
	var zddm, status, actor string
	var area float64
	if err := pool.QueryRow(ctx, `SELECT zddm, status, ST_Area(ST_Transform(geom, 4551)) FROM villageplan.homesteads WHERE id = $1`, fid).Scan(&zddm, &status, &area); err != nil {
		t.Fatalf("saved parcel %d not in the database: %v", fid, err)
	}
	if zddm != "220112999001JC00001" || status != "已批准" || area < 50 || area > 400 {
		t.Errorf("saved parcel %d: zddm %q status %q area %.1f m²", fid, zddm, status, area)
	}
	_ = actor
	// The tiles show it at once (the page reloaded the source).
	rendered := fmt.Sprintf(`vp.map.queryRenderedFeatures(vp.map.project([%.9f, %.9f])).filter((f) => f.layer.metadata && f.layer.metadata['villageplan:layer'] === 'homesteads' && f.id === %d).length`, spot[0], spot[1], fid)
	if n := js[int](t, b, rendered); n == 0 {
		t.Errorf("the saved parcel %d is not rendered from the tiles", fid)
	}
	b.screenshot(t, "map-edit-saved.png")

	// Reshape: modify the parcel, drag its corner nearest the neighbour to
	// 5 px beside the neighbour's corner: it snaps onto that corner.
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-pick`)))
	b.clickAt(t, c[0], c[1])
	run(t, b, chromedp.Poll[bool](`!!(vp.edit.current && vp.edit.current.fid)`, chromedp.WithPollingInterval(50*time.Millisecond)))
	ring := js[[][2]float64](t, b, `vp.edit.draw.getSnapshotFeature(vp.edit.current.tdId).geometry.coordinates[0]`)
	best, bestD := 0, math.Inf(1)
	for i, p := range ring[:len(ring)-1] {
		if d := metres(p, corner); d < bestD {
			best, bestD = i, d
		}
	}
	from := b.pixel(t, ring[best][0], ring[best][1])
	target := b.pixel(t, corner[0], corner[1])
	b.drag(t, from, [2]float64{target[0] + 4, target[1] + 3})
	after := js[[][2]float64](t, b, `vp.edit.draw.getSnapshotFeature(vp.edit.current.tdId).geometry.coordinates[0]`)
	moved := after[best]
	if d := metres(moved, corner); d > 0.4 {
		t.Errorf("the dragged vertex is %.2f m from the neighbour's corner %v (at %v): it did not snap", d, corner, moved)
	}
	if d := metres(moved, ring[best]); d < 1 {
		t.Errorf("the vertex did not move (%.2f m)", d)
	}
	b.screenshot(t, "map-edit-reshaped-snapped.png")
	// Undo puts the corner back; redo moves it again.
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-undo`)))
	undone := js[[][2]float64](t, b, `vp.edit.draw.getSnapshotFeature(vp.edit.current.tdId).geometry.coordinates[0]`)
	if d := metres(undone[best], ring[best]); d > 0.01 {
		t.Errorf("after undo the vertex is %.3f m from where it was", d)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-redo`)))
	redone := js[[][2]float64](t, b, `vp.edit.draw.getSnapshotFeature(vp.edit.current.tdId).geometry.coordinates[0]`)
	if d := metres(redone[best], moved); d > 0.01 {
		t.Errorf("after redo the vertex is %.3f m from the snapped position", d)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-undo`)))
	b.screenshot(t, "map-edit-undone.png")

	// Someone else changes the parcel meanwhile: the save is a 412 with a
	// reload-and-re-apply button, which then saves.
	if _, err := pool.Exec(ctx, `UPDATE villageplan.homesteads SET zl = '别人改的坐落' WHERE id = $1`, fid); err != nil {
		t.Fatal(err)
	}
	b.expect("412 (Precondition Failed)")
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-form input[name="zdmj"]`), "160"))
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-save`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit-error[data-code="PreconditionFailed"]`)))
	conflict := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-error`)))
	if !strings.Contains(conflict, "重新加载") || !strings.Contains(conflict, "已被他人修改") {
		t.Errorf("412 message %q", conflict)
	}
	b.screenshot(t, "map-edit-conflict.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-error .edit-reload`)))
	run(t, b, chromedp.Poll[bool](`document.querySelector('#edit-form input[name="zl"]') && document.querySelector('#edit-form input[name="zl"]').value === '别人改的坐落'`, chromedp.WithPollingInterval(50*time.Millisecond)))
	if v := js[string](t, b, `document.querySelector('#edit-form input[name="zdmj"]').value`); v != "160" {
		t.Errorf("re-apply lost the planner's change: 宗地面积 %q", v)
	}
	js[bool](t, b, `(delete document.body.dataset.editSaved, true)`)
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-save`)))
	run(t, b, chromedp.Poll[bool](`!!document.body.dataset.editSaved || document.querySelector('#edit-msg.error') !== null`, chromedp.WithPollingInterval(50*time.Millisecond)))
	var zl string
	var zdmj float64
	if err := pool.QueryRow(ctx, `SELECT zl, zdmj FROM villageplan.homesteads WHERE id = $1`, fid).Scan(&zl, &zdmj); err != nil || zl != "别人改的坐落" || zdmj != 160 {
		t.Errorf("after reload and re-apply: zl %q zdmj %v (%v), want both changes", zl, zdmj, err)
	}

	// A parcel drawn over the first one: 409 with the overlap beside it.
	b.expect("409 (Conflict)")
	js[bool](t, b, idle)
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-new`)))
	for _, p := range square {
		b.clickAt(t, p[0]+h, p[1]+h/2)
	}
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit-form input[name="zddm"]`)))
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-form input[name="zddm"]`), "220112999001JC00002"),
		chromedp.SetValue(chromedp.CSS(`#edit-form select[name="status"]`), "已批准"))
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-save`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit-error[data-code="TopologyViolation"]`)))
	zh := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-error`)))
	if !strings.Contains(zh, "重叠") || !strings.Contains(zh, fmt.Sprint(fid)) || !strings.Contains(zh, "m²") {
		t.Errorf("overlap error (Chinese) %q: want 重叠, feature %d and the area", zh, fid)
	}
	// The parcel in the way is outlined on the map.
	run(t, b, chromedp.Poll[bool](fmt.Sprintf(`!!vp.map.getLayer('vp-edit-conflicts') && vp.map.queryRenderedFeatures({layers: ['vp-edit-conflicts']}).some((f) => f.id === %d)`, fid), chromedp.WithPollingInterval(100*time.Millisecond)))
	js[bool](t, b, idle)
	b.screenshot(t, "map-edit-overlap-zh.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#lang`)))
	en := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-error`)))
	if !strings.Contains(strings.ToLower(en), "overlap") || !strings.Contains(en, fmt.Sprint(fid)) {
		t.Errorf("overlap error (English) %q", en)
	}
	b.screenshot(t, "map-edit-overlap-en.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#lang`)))
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.homesteads WHERE zddm = '220112999001JC00002'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the refused parcel was written (%d rows, %v)", n, err)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-cancel`)))

	// 永久基本农田 changes are reviewed: the save is proposed (202) and the
	// page says 已提交审核; the layer is unchanged until approval.
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-layer`), "permanent_farmland"))
	js[bool](t, b, `(document.getElementById('edit-layer').dispatchEvent(new Event('change')), true)`)
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-new`)))
	for _, p := range square {
		b.clickAt(t, p[0]-4*h, p[1])
	}
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit-form input[name="yjjbnttbbh"]`)))
	if note := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-form .review-note`))); !strings.Contains(note, "审核") {
		t.Errorf("the form of a reviewed layer does not say so: %q", note)
	}
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-form input[name="yjjbnttbbh"]`), "JBNT-TEST-0001"),
		chromedp.SetValue(chromedp.CSS(`#edit-form select[name="dlbm"]`), "0101"))
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-save`)))
	run(t, b, chromedp.Poll[bool](`document.querySelector('#edit-msg.proposed, #edit-msg.error') !== null`, chromedp.WithPollingInterval(50*time.Millisecond)))
	if m := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-msg`))); !strings.Contains(m, "已提交审核") {
		t.Errorf("a reviewed layer's save says %q, want 已提交审核", m)
	}
	b.screenshot(t, "map-edit-proposed.png")
	var proposed, written int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.changesets WHERE state = 'proposed'),
		(SELECT count(*) FROM villageplan.permanent_farmland WHERE yjjbnttbbh = 'JBNT-TEST-0001')`).Scan(&proposed, &written); err != nil || proposed != 1 || written != 0 {
		t.Errorf("after the reviewed save: %d proposed changesets, %d farmland rows (%v); want 1 and 0", proposed, written, err)
	}

	b.checkClean(t)
}
