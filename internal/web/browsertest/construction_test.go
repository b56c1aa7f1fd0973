package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"villageplan/internal/auth"
	"villageplan/internal/projects"
)

// TestConstructionPage: on the sample township with its sample projects,
// a village clerk signs in on /construction (the login returns there),
// sees only their village's projects, drafts a project with a point picked
// on the map and files it; the township approver signs in, approves it,
// and the project's history lists 建立, 申报, 审核通过 with who did it; the
// approved project is on the map by phase. Screenshots:
// construction-list.png, construction-new.png, construction-approved.png,
// construction-tasks.png.
func TestConstructionPage(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	ctx := context.Background()
	if _, err := projects.LoadSamples(ctx, pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	var village, villageName string
	var lon, lat float64
	if err := pool.QueryRow(ctx, `SELECT xzqdm, xzqmc, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
		FROM villageplan.villages ORDER BY xzqdm LIMIT 1`).Scan(&village, &villageName, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	deskUsers(t, pool, map[string]auth.Grant{"vclerk": {Role: auth.VillageClerk, Village: village}, "tapprover": {Role: auth.TownshipApprover}})
	svc := startService(t, pool)
	b := newBrowser(t, bin, svc.URL)

	do(t, b, chromedp.Navigate(svc.URL+"/construction"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#username`)))
	if u := js[string](t, b, `location.search`); u != "?next=construction" {
		t.Fatalf("the page sent the login to %q", u)
	}
	b.login(t, svc.URL, "vclerk")
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#projects tbody tr`)))
	js[bool](t, b, `new Promise((resolve) => { vp.map.once('idle', () => resolve(true)); vp.map.triggerRepaint(); })`)
	villagesShown := js[[]string](t, b, `[...new Set([...document.querySelectorAll('#projects tbody tr td:first-child')].map((x) => x.textContent))]`)
	if len(villagesShown) != 1 || villagesShown[0] != villageName {
		t.Errorf("the clerk of %s sees projects of %q", villageName, villagesShown)
	}
	if n := js[int](t, b, `vp.map.queryRenderedFeatures({layers: ['projects-fill', 'projects-line', 'projects-point']}).length`); n == 0 {
		t.Errorf("no project drawn on the map")
	}
	b.screenshot(t, "construction-list.png")

	// Draft a project: the form, a point picked on the map, save, file.
	js[bool](t, b, `(() => { location.hash = '#new'; return true; })()`)
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#pform`)))
	js[bool](t, b, fmt.Sprintf(`(() => {
	  const set = (id, v) => { const x = document.getElementById(id); x.value = v; x.dispatchEvent(new Event('change')); };
	  set('p-village', %q); set('p-task', 'facilities'); set('p-item', '应急广播'); set('p-name', '应急广播覆盖（浏览器测试）');
	  set('p-phase', '谋划储备'); set('p-budget', '45000'); set('p-fund-财政', '40000'); set('p-fund-村集体', '5000');
	  set('p-office', '应急管理办'); return true; })()`, village))
	vp := js[[]float64](t, b, fmt.Sprintf(`(() => { vp.map.jumpTo({center: [%f, %f], zoom: 15}); return [%f, %f]; })()`, lon, lat, lon, lat))
	b.clickLngLat(t, vp[0], vp[1])
	if g := js[string](t, b, `document.getElementById('p-geometry').value`); !strings.Contains(g, `"Point"`) {
		t.Fatalf("the map click gave no point: %q", g)
	}
	b.screenshot(t, "construction-new.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#p-save`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#ptitle`)))
	id := js[string](t, b, `location.hash.slice(3)`)
	do(t, b, chromedp.Click(chromedp.CSS(`#actions button.primary`)))
	status := run(t, b, chromedp.Poll[string](`(() => { const x = [...document.querySelectorAll('table.facts tr')].find((r) => r.firstChild.textContent === '状态'); return x && x.lastChild.textContent.startsWith('已申报') && x.lastChild.textContent; })()`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	t.Logf("project %s: %s", id, status)

	// The township approver approves it.
	do(t, b, chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.login(t, svc.URL, "tapprover")
	js[bool](t, b, fmt.Sprintf(`(() => { location.hash = '#p/%s'; return true; })()`, id))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#reason`)))
	do(t, b, chromedp.Click(chromedp.CSS(`#actions button.primary`)))
	run(t, b, chromedp.Poll[bool](`[...document.querySelectorAll('#history tr')].length === 3`, chromedp.WithPollingInterval(50*time.Millisecond)))
	hist := js[[]string](t, b, `[...document.querySelectorAll('#history tr')].map((r) => r.children[1].textContent + ':' + r.children[2].textContent)`)
	if got := strings.Join(hist, " "); got != "vclerk:建立 vclerk:申报 tapprover:审核通过" {
		t.Errorf("history on the page: %q", got)
	}
	js[bool](t, b, `new Promise((resolve) => { vp.map.getSource('projects').setData('projects/map.geojson'); vp.map.once('idle', () => resolve(true)); })`)
	if n := js[int](t, b, fmt.Sprintf(`vp.map.querySourceFeatures('projects').filter((f) => f.properties.id === %s).length`, id)); n == 0 {
		t.Errorf("the approved project %s is not on the map", id)
	}
	b.screenshot(t, "construction-approved.png")

	// The task lists: the new project is in its village's 谋划储备一批.
	js[bool](t, b, `(() => { location.hash = '#tasks'; return true; })()`)
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`.tasklist h3`)))
	if !js[bool](t, b, fmt.Sprintf(`(() => { const h = [...document.querySelectorAll('.tasklist h3')].find((x) => x.textContent === %q);
	  const planned = h.nextElementSibling; const list = planned.nextElementSibling;
	  return planned.textContent.startsWith('谋划储备一批') && [...list.querySelectorAll('a')].some((a) => a.getAttribute('href') === '#p/%s'); })()`, villageName, id)) {
		t.Errorf("project %s is not in the 谋划储备一批 of %s", id, villageName)
	}
	b.screenshot(t, "construction-tasks.png")
	b.checkClean(t)
}
