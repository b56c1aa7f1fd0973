package browsertest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"villageplan/internal/auth"
)

// TestMapSplit: a 规划编辑 loads a homestead parcel on /map, presses 切分,
// draws a line across it, gives the new part's 宗地代码 and splits it: the
// server (PostGIS) writes both parts, whose areas add up to the
// original's, and the tiles draw both. A line beside the parcel is
// refused with the reason in the panel.
func TestMapSplit(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	deskUsers(t, pool, map[string]auth.Grant{"planner": {Role: auth.PlanningEditor}})
	svc := startService(t, pool)
	ctx := context.Background()
	var fid int64
	var area, cx, cy, west, east float64
	var zl string
	if err := pool.QueryRow(ctx, `SELECT id, ST_Area(ST_Transform(geom, 4551)), ST_X(p), ST_Y(p), ST_XMin(geom), ST_XMax(geom), coalesce(zl, '')
		FROM villageplan.homesteads, ST_PointOnSurface(geom) p WHERE ST_NumGeometries(geom) = 1 ORDER BY id LIMIT 1`).
		Scan(&fid, &area, &cx, &cy, &west, &east, &zl); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, bin, svc.URL)
	b.loginMap(t, svc.URL, "planner")
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#edit`)))
	do(t, b, chromedp.SetValue(chromedp.CSS(`#edit-layer`), "homesteads"))
	js[bool](t, b, `(document.getElementById('edit-layer').dispatchEvent(new Event('change')), true)`)
	b.jump(t, cx, cy, 19)
	if !js[bool](t, b, `document.getElementById('edit-split').disabled`) {
		t.Errorf("切分 is enabled with no feature loaded")
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-pick`)))
	c := b.pixel(t, cx, cy)
	b.clickAt(t, c[0], c[1])
	poll(t, b, fmt.Sprintf(`!!(vp.edit.current && vp.edit.current.fid === %d)`, fid))

	// First a line beside the parcel: refused, the reason shown.
	b.expect("422 (Unprocessable Entity)")
	draw := func(from, to [2]float64) {
		do(t, b, chromedp.Click(chromedp.CSS(`#edit-split`)))
		poll(t, b, `vp.edit.mode === 'split' && vp.edit.draw.getMode() === 'linestring'`)
		b.clickAt(t, from[0], from[1])
		b.clickAt(t, to[0], to[1])
		do(t, b, chromedp.KeyEvent(kb.Enter)) // Enter ends the line
		do(t, b, chromedp.WaitVisible(chromedp.CSS(`#split-form input[name="zddm"]`)))
	}
	left := b.pixel(t, west, cy)
	right := b.pixel(t, east, cy)
	draw([2]float64{right[0] + 30, c[1] - 80}, [2]float64{right[0] + 30, c[1] + 80})
	do(t, b, chromedp.SetValue(chromedp.CSS(`#split-form input[name="zddm"]`), "220112203300JC09901"), chromedp.Click(chromedp.CSS(`#split-save`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#split-error`)))
	if msg := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-msg`))); !strings.Contains(msg, "切分线") {
		t.Errorf("a line beside the parcel: %q, want the reason", msg)
	}
	b.screenshot(t, "map-split-refused.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-cancel`)))

	// Then a line right across it, west to east through its middle.
	do(t, b, chromedp.Click(chromedp.CSS(`#edit-pick`)))
	b.clickAt(t, c[0], c[1])
	poll(t, b, fmt.Sprintf(`!!(vp.edit.current && vp.edit.current.fid === %d)`, fid))
	draw([2]float64{left[0] - 40, c[1]}, [2]float64{right[0] + 40, c[1]})
	form := run(t, b, chromedp.TextContent(chromedp.CSS(`#split-form`)))
	if !strings.Contains(form, "新部分的宗地代码") {
		t.Errorf("split form %q does not ask for the new part's 宗地代码", form)
	}
	b.screenshot(t, "map-split-drawn.png")
	do(t, b, chromedp.SetValue(chromedp.CSS(`#split-form input[name="zddm"]`), "220112203300JC09902"), chromedp.Click(chromedp.CSS(`#split-save`)))
	poll(t, b, `!!document.body.dataset.editSplit || !!document.getElementById('split-error')`)
	if e := js[string](t, b, `(document.getElementById('split-error') || {}).textContent || ''`); e != "" {
		t.Fatalf("split refused: %s", e)
	}
	var ids []int64
	for _, s := range strings.Split(js[string](t, b, `document.body.dataset.editSplit`), ",") {
		id, _ := strconv.ParseInt(s, 10, 64)
		ids = append(ids, id)
	}
	if len(ids) != 2 || ids[0] != fid {
		t.Fatalf("split wrote %v, want %d and a new part", ids, fid)
	}
	var sum float64
	var n int
	var newZddm, newZl string
	if err := pool.QueryRow(ctx, `SELECT sum(ST_Area(ST_Transform(geom, 4551))), count(*), max(zddm) FILTER (WHERE id = $2), max(zl) FILTER (WHERE id = $2)
		FROM villageplan.homesteads WHERE id = ANY($1)`, ids, ids[1]).Scan(&sum, &n, &newZddm, &newZl); err != nil {
		t.Fatal(err)
	}
	if n != 2 || math.Abs(sum-area) > 0.01 || newZddm != "220112203300JC09902" || newZl != zl {
		t.Errorf("after the split: %d parts, %.3f m² (original %.3f m²), new part 宗地代码 %q 坐落 %q (want %q)", n, sum, area, newZddm, newZl, zl)
	}
	// Both parts are drawn from the tiles, one above and one below the line.
	js[bool](t, b, idle)
	drawn := js[[]int64](t, b, `vp.map.queryRenderedFeatures({layers: ['homesteads-fill']}).map((f) => f.id)`)
	for _, id := range ids {
		if !slices.Contains(drawn, id) {
			t.Errorf("part %d is not drawn (drawn: %d features)", id, len(drawn))
		}
	}
	if msg := run(t, b, chromedp.TextContent(chromedp.CSS(`#edit-msg`))); !strings.Contains(msg, "已切分为 2 部分") {
		t.Errorf("after the split the panel says %q", msg)
	}
	b.screenshot(t, "map-split-done.png")
	b.checkClean(t)
}
