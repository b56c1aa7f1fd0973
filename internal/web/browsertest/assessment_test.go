package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"villageplan/internal/auth"
	"villageplan/internal/projects"
)

// TestAssessmentDashboard: on the sample township with its sample
// projects, the administrator opens /assessment (the login returns
// there) and sees the ranking chart, the score map of the six villages,
// the years chart and the ranking table with a PDF link per village;
// changes a weight (the table and the note follow) and closes the year
// (the page then says so and the weights are read-only). A planner sees
// the dashboard without the administrator's controls. Screenshots:
// assessment-dashboard.png, assessment-closed.png.
func TestAssessmentDashboard(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	ctx := context.Background()
	if _, err := projects.LoadSamples(ctx, pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	deskUsers(t, pool, map[string]auth.Grant{"aadmin": {Role: auth.Admin}, "pplanner": {Role: auth.PlanningEditor}})
	svc := startService(t, pool)
	b := newBrowser(t, bin, svc.URL)

	do(t, b, chromedp.Navigate(svc.URL+"/assessment"))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#username`)))
	if u := js[string](t, b, `location.search`); u != "?next=assessment" {
		t.Fatalf("the page sent the login to %q", u)
	}
	b.login(t, svc.URL, "aadmin")
	chart := func(id string) string {
		return `echarts.getInstanceByDom(document.getElementById('` + id + `'))`
	}
	if n := js[int](t, b, chart("chart-rank")+`.getOption().series[0].data.length`); n != 6 {
		t.Errorf("ranking chart: %d bars, want 6", n)
	}
	if n := js[string](t, b, `document.getElementById('chart-map').dataset.features`); n != "6" {
		t.Errorf("score map: %s villages, want 6", n)
	}
	if n := js[int](t, b, chart("chart-map")+`.getOption().series[0].data.filter((d) => d.value != null).length`); n != 6 {
		t.Errorf("score map: %d villages with a score, want 6", n)
	}
	if n := js[int](t, b, chart("chart-years")+`.getOption().series.length`); n != 6 {
		t.Errorf("years chart: %d lines, want 6", n)
	}
	rows := js[[]string](t, b, `[...document.querySelectorAll('#table tr')].slice(1).map((r) => r.children[0].textContent + ' ' + r.children[1].textContent + ' ' + r.children[2].textContent)`)
	if len(rows) != 6 || !strings.HasPrefix(rows[0], "1 ") {
		t.Errorf("ranking table: %q", rows)
	}
	if n := js[int](t, b, `[...document.querySelectorAll('#table a')].filter((a) => /assessment\/villages\/[0-9]{12}\/sheet\?year=/.test(a.getAttribute('href'))).length`); n != 6 {
		t.Errorf("%d sheet links, want 6", n)
	}
	// the rendered canvases are not blank
	if n := js[int](t, b, `[...document.querySelectorAll('.chart canvas')].length`); n < 3 {
		t.Errorf("%d chart canvases", n)
	}
	b.screenshot(t, "assessment-dashboard.png")

	// the administrator weights only the lighting: the note follows
	js[bool](t, b, `(() => { for (const i of document.querySelectorAll('#weights input')) i.value = i.dataset.key === 'road_lit_share' ? '7' : '0'; return true; })()`)
	do(t, b, chromedp.Click(chromedp.CSS(`#save-weights`)))
	run(t, b, chromedp.Poll[bool](`document.getElementById('saved').textContent === '已保存' && document.getElementById('weights-note').textContent.startsWith('管理员设置的权重：村内主干道路灯覆盖率 7')`,
		chromedp.WithPollingInterval(50*time.Millisecond)))

	// closing the year
	js[bool](t, b, `(() => { window.confirm = () => true; return true; })()`)
	do(t, b, chromedp.Click(chromedp.CSS(`#close-year`)))
	run(t, b, chromedp.Poll[bool](`document.getElementById('state').textContent.startsWith('已结束') && document.getElementById('close-year').hidden && document.getElementById('save-weights').disabled`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	b.screenshot(t, "assessment-closed.png")

	// a planner: the dashboard, no administrator's controls
	b.logout(t)
	b.login(t, svc.URL, "pplanner")
	do(t, b, chromedp.Navigate(svc.URL+"/assessment"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if !js[bool](t, b, `document.getElementById('weights-card').hidden && document.getElementById('close-year').hidden && document.querySelectorAll('#table tr').length === 7`) {
		t.Error("the planner's dashboard shows the administrator's controls or lacks the table")
	}
	b.checkClean(t)
}

// TestMapAssessmentView: the web map's 村庄考核评分 view is a choropleth of
// the six villages' scores for a signed-in planner, with its legend of
// score steps, each village filled in the colour of its step; anonymous
// viewers are not offered the view, and a village clerk (who may not read
// the assessment) is told so. Screenshot: map-assessment-view.png.
func TestMapAssessmentView(t *testing.T) {
	bin := chromium(t)
	pool := sampleDatabase(t)
	ctx := context.Background()
	if _, err := projects.LoadSamples(ctx, pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	deskUsers(t, pool, map[string]auth.Grant{"pplanner": {Role: auth.PlanningEditor}, "cclerk": {Role: auth.VillageClerk, Village: "220112203300"}})
	svc := startService(t, pool)
	b := newBrowser(t, bin, svc.URL)

	do(t, b, chromedp.Navigate(svc.URL+"/map"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if js[bool](t, b, `!!document.querySelector('input[name="view"][value="assessment-score"]')`) {
		t.Error("an anonymous viewer is offered the assessment view")
	}

	b.loginMap(t, svc.URL, "pplanner")
	do(t, b, chromedp.Click(chromedp.CSS(`input[name="view"][value="assessment-score"]`)))
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#view-steps`)))
	js[bool](t, b, `new Promise((r) => { if (vp.map.loaded()) r(true); else vp.map.once('idle', () => r(true)); })`)
	// Every village of the source has a score, and its fill is the colour
	// of its step in the legend.
	got := js[[]string](t, b, `(() => {
		const v = vp.views.views.find((x) => x.id === 'assessment-score');
		const colour = (s) => { let c = v.overlay_legend[0].color; for (const l of v.overlay_legend.slice(1)) if (s >= l.min) c = l.color; return c; };
		const feats = vp.map.querySourceFeatures('vp-view-overlay');
		const seen = new Map();
		for (const f of feats) seen.set(f.properties.xzqdm, f.properties.score == null ? 'none' : colour(f.properties.score));
		return [...seen.entries()].map(([k, c]) => k + ' ' + c).sort();
	})()`)
	if len(got) != 6 {
		t.Errorf("assessment view: %d villages in the overlay, want 6: %v", len(got), got)
	}
	for _, g := range got {
		if strings.HasSuffix(g, " none") {
			t.Errorf("village without a score in the view: %s", g)
		}
	}
	if !js[bool](t, b, `!!vp.map.getLayer('vp-view-overlay-fill') && vp.map.queryRenderedFeatures({layers: ['vp-view-overlay-fill']}).length > 0`) {
		t.Error("the choropleth fill is not drawn")
	}
	b.screenshot(t, "map-assessment-view.png")

	c := newBrowser(t, bin, svc.URL) // another browser: the map page has no logout button
	c.loginMap(t, svc.URL, "cclerk")
	do(t, c, chromedp.Click(chromedp.CSS(`input[name="view"][value="assessment-score"]`)))
	do(t, c, chromedp.WaitVisible(chromedp.CSS(`#view-error`)))
	if msg := js[string](t, c, `document.getElementById('view-error').textContent`); !strings.Contains(msg, "不能查看") {
		t.Errorf("village clerk: %q, want the roles message", msg)
	}
}
