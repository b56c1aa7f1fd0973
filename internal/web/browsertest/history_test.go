package browsertest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"villageplan/internal/auth"
)

// loginMap signs in on the login form and returns to /map.
func (b *browser) loginMap(t *testing.T, serviceURL, user string) {
	t.Helper()
	do(t, b, chromedp.Navigate(serviceURL+"/login?next=map"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SetValue(chromedp.CSS(`#username`), user), chromedp.SetValue(chromedp.CSS(`#password`), testPassword),
		chromedp.Submit(chromedp.CSS(`#password`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
}

// homesteadsAt lists the ids of the homesteads drawn at a point.
func (b *browser) homesteadsAt(t *testing.T, lon, lat float64) []int64 {
	t.Helper()
	return js[[]int64](t, b, fmt.Sprintf(`vp.map.queryRenderedFeatures(vp.map.project([%.9f, %.9f])).filter((f) => f.layer.id === 'homesteads-fill').map((f) => f.id)`, lon, lat))
}

// TestMapHistory: a signed-in planner sees the map as it was before three
// edits made in SQL (one parcel shrunk, one deleted, one added in its
// place), with a banner that says it is not the current state and leads
// back to now; the instant survives a reload in the address. The changes
// view draws the three changes in their styles with a legend of counts.
// Anonymous viewers get no history controls.
func TestMapHistory(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	deskUsers(t, pool, map[string]auth.Grant{"planner": {Role: auth.PlanningEditor}})
	svc := startService(t, pool)
	ctx := context.Background()

	// Two neighbouring parcels: A is shrunk, B deleted and C added in
	// B's place, all after the instant t0.
	var a, bid int64
	var bLon, bLat float64
	if err := pool.QueryRow(ctx, `SELECT x.id, y.id, ST_X(ST_PointOnSurface(y.geom)), ST_Y(ST_PointOnSurface(y.geom))
		FROM villageplan.homesteads x JOIN villageplan.homesteads y ON y.id > x.id AND ST_DWithin(x.geom, y.geom, 0.0003)
		ORDER BY x.id, y.id LIMIT 1`).Scan(&a, &bid, &bLon, &bLat); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	var t0 time.Time
	if err := pool.QueryRow(ctx, `SELECT date_trunc('second', clock_timestamp())`).Scan(&t0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	var c int64
	if err := pool.QueryRow(ctx, `WITH gone AS (DELETE FROM villageplan.homesteads WHERE id = $2 RETURNING *),
		shrunk AS (UPDATE villageplan.homesteads SET geom = ST_Multi(ST_Buffer(geom, -0.00002, 'join=mitre')) WHERE id = $1)
		INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, geom)
		SELECT '220112203300JC09999', xzqdm, '新宗地', '已批准', geom FROM gone RETURNING id`, a, bid).Scan(&c); err != nil {
		t.Fatal(err)
	}
	iso := t0.UTC().Format(time.RFC3339)
	t.Logf("t0 %s; A %d shrunk, B %d deleted, C %d added in its place", iso, a, bid, c)

	b := newBrowser(t, bin, svc.URL)
	do(t, b, chromedp.Navigate(svc.URL+"/map"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if js[bool](t, b, `!!document.getElementById('history')`) {
		t.Errorf("the anonymous map offers history")
	}
	b.loginMap(t, svc.URL, "planner")
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#history`)))
	b.jump(t, bLon, bLat, 18)
	if got := b.homesteadsAt(t, bLon, bLat); !slices.Contains(got, c) || slices.Contains(got, bid) {
		t.Fatalf("now: homesteads %v at B's place, want C %d and not B %d", got, c, bid)
	}

	// The date control, in the browser's local time with seconds.
	js[bool](t, b, fmt.Sprintf(`(() => { const d = new Date(%q); const p = (n) => String(n).padStart(2, '0');
		document.getElementById('asof-date').value = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
		document.getElementById('asof-time').value = p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()); return true; })()`, iso))
	do(t, b, chromedp.Click(chromedp.CSS(`#asof-go`)))
	poll(t, b, `document.body.dataset.asof !== undefined && document.body.dataset.asof !== ''`)
	if got := js[string](t, b, `document.body.dataset.asof`); !sameInstant(got, t0) {
		t.Errorf("as of %q, want %s", got, iso)
	}
	js[bool](t, b, idle)
	poll(t, b, fmt.Sprintf(`vp.map.queryRenderedFeatures(vp.map.project([%.9f, %.9f])).some((f) => f.layer.id === 'homesteads-fill' && f.id === %d)`, bLon, bLat, bid))
	if got := b.homesteadsAt(t, bLon, bLat); slices.Contains(got, c) {
		t.Errorf("as of t0 the map draws C %d, added later (%v)", c, got)
	}
	banner := run(t, b, chromedp.TextContent(chromedp.CSS(`#asof-banner`)))
	if !strings.Contains(banner, "历史状态") || !strings.Contains(banner, "非现状") || !strings.Contains(banner, "回到现在") {
		t.Errorf("as-of banner %q", banner)
	}
	if u := js[string](t, b, `location.search`); !strings.Contains(u, "datetime=") {
		t.Errorf("the address %q does not keep the instant", u)
	}
	if n := svc.count("/tiles/map/"); n == 0 {
		t.Errorf("no map tiles requested")
	}
	if pe := js[string](t, b, `getComputedStyle(document.getElementById('edit')).pointerEvents`); pe != "none" {
		t.Errorf("the edit tools stay usable while the map shows the past (pointer-events %q)", pe)
	}
	b.screenshot(t, "map-asof.png")

	// A reload keeps the instant (the address carries it).
	do(t, b, chromedp.Reload())
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#asof-banner`)))
	b.jump(t, bLon, bLat, 18)
	poll(t, b, fmt.Sprintf(`vp.map.queryRenderedFeatures(vp.map.project([%.9f, %.9f])).some((f) => f.layer.id === 'homesteads-fill' && f.id === %d)`, bLon, bLat, bid))

	// Back to now.
	do(t, b, chromedp.Click(chromedp.CSS(`#asof-back`)))
	if js[bool](t, b, `!document.getElementById('asof-banner').hidden`) || js[bool](t, b, `location.search.includes('datetime')`) {
		t.Errorf("back to now left the banner or the instant in the address")
	}
	poll(t, b, fmt.Sprintf(`vp.map.queryRenderedFeatures(vp.map.project([%.9f, %.9f])).some((f) => f.layer.id === 'homesteads-fill' && f.id === %d)`, bLon, bLat, c))
	b.screenshot(t, "map-back-to-now.png")

	// Changes since t0 in the homesteads.
	do(t, b, chromedp.Click(chromedp.CSS(`#history details.changes > summary`)))
	js[bool](t, b, fmt.Sprintf(`(() => { const d = new Date(%q); const p = (n) => String(n).padStart(2, '0');
		document.getElementById('changes-from').value = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
		for (const i of document.querySelectorAll('#changes-layers input')) i.checked = i.value === 'homesteads'; return true; })()`, iso))
	do(t, b, chromedp.Click(chromedp.CSS(`#changes-go`)))
	poll(t, b, `!!document.body.dataset.changes`)
	js[bool](t, b, idle)
	counts := js[map[string]string](t, b, `Object.fromEntries([...document.querySelectorAll('#changes-kinds li[data-kind]')].map((li) => [li.dataset.kind, li.dataset.n]))`)
	if counts["added"] != "1" || counts["modified"] != "1" || counts["removed"] != "1" {
		t.Errorf("changes legend counts %v, want one added, one modified, one removed", counts)
	}
	drawn := js[map[string][]int64](t, b, `(() => { const out = {}; for (const f of vp.map.queryRenderedFeatures({layers: ['vp-changes-fill', 'vp-changes-removed', 'vp-changes-old']})) (out[f.properties.change] = out[f.properties.change] || []).push(f.id); return out; })()`)
	for kind, id := range map[string]int64{"added": c, "modified": a, "removed": bid} {
		if !slices.Contains(drawn[kind], id) {
			t.Errorf("the changes view draws %v, want %s feature %d", drawn, kind, id)
		}
	}
	if len(drawn["old"]) == 0 {
		t.Errorf("the shape of A before its change is not drawn: %v", drawn)
	}
	legend := run(t, b, chromedp.TextContent(chromedp.CSS(`#changes-legend`)))
	for _, want := range []string{"新增 1", "修改 1", "删除 1", "修改前的形状", "宅基地"} {
		if !strings.Contains(legend, want) {
			t.Errorf("changes legend %q lacks %q", legend, want)
		}
	}
	// The same changes as a GeoPackage (the link of the legend).
	href := js[string](t, b, `document.querySelector('#changes-legend a.gpkg').href`)
	if !strings.Contains(href, "f=gpkg") || !strings.Contains(href, "/collections/homesteads/changes?") {
		t.Errorf("GeoPackage link %q", href)
	}
	if st := js[float64](t, b, fmt.Sprintf(`fetch(%q).then((r) => r.ok ? r.arrayBuffer().then((b) => new TextDecoder().decode(b.slice(0, 15)) === 'SQLite format 3' ? r.status : -1) : r.status)`, href)); st != 200 {
		t.Errorf("GeoPackage of the changes: %v, want 200 and an SQLite file", st)
	}
	colours := js[[]string](t, b, `['added', 'modified', 'removed'].map((k) => vp.map.queryRenderedFeatures({layers: ['vp-changes-fill']}).filter((f) => f.properties.change === k).map(() => k)[0] || '')`)
	t.Logf("drawn kinds %v", colours)
	b.screenshot(t, "map-changes.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#changes-clear`)))
	if js[bool](t, b, `!!vp.map.getLayer('vp-changes-fill')`) {
		t.Errorf("clear left the changes on the map")
	}
	b.checkClean(t)
}

// sameInstant reports whether an RFC 3339 string names instant t.
func sameInstant(s string, t time.Time) bool {
	p, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && math.Abs(p.Sub(t).Seconds()) < 0.001
}
