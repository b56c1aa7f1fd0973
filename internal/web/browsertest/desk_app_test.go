package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/siting"
)

// testPassword is the password of every account the browser tests create
// (auth.NewUser with a known password, not a one-time one).
const testPassword = "Desk-Test-Password-2026"

// deskUsers creates accounts with testPassword: name → grant. Their
// hashes use argon2id with 8 MiB instead of the default 64 MiB, so that the
// many logins of the tests cost little on a loaded machine.
func deskUsers(t *testing.T, pool *pgxpool.Pool, users map[string]auth.Grant) {
	t.Helper()
	st := auth.NewStore(pool)
	st.Params = &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	for name, g := range users {
		display := name + "（测试）"
		if name == "window" {
			display = "王窗口"
		}
		if _, _, err := st.CreateUser(context.Background(), auth.NewUser{Username: name, DisplayName: display,
			Password: testPassword, Grants: []auth.Grant{g}}); err != nil {
			t.Fatalf("create user %s: %v", name, err)
		}
	}
}

// login opens the login form (from wherever the desk sent the browser, or
// fresh) and signs in; it returns when the desk page is ready.
func (b *browser) login(t *testing.T, serviceURL, user string) {
	t.Helper()
	if !js[bool](t, b, `!!document.getElementById('username') && location.pathname.endsWith('/login')`) {
		do(t, b, chromedp.Navigate(serviceURL+"/login?next=desk"))
	}
	do(t, b, chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SetValue(chromedp.CSS(`#username`), user), chromedp.SetValue(chromedp.CSS(`#password`), testPassword),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
}

// logout presses the desk's logout button and waits for the login form.
func (b *browser) logout(t *testing.T) {
	t.Helper()
	do(t, b, chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
}

// openApp shows application id and waits until it is rendered.
func (b *browser) openApp(t *testing.T, id int64) string {
	t.Helper()
	js[bool](t, b, fmt.Sprintf(`(() => { location.hash = 'a/%d'; return true; })()`, id))
	return run(t, b, chromedp.Poll[string](fmt.Sprintf(`(document.body.dataset.app || '').startsWith('%d:') && document.body.dataset.app`, id),
		chromedp.WithPollingInterval(50*time.Millisecond)))
}

// actions lists the action buttons the application page offers.
func (b *browser) actions(t *testing.T) []string {
	t.Helper()
	return js[[]string](t, b, `[...document.querySelectorAll('#actions button[data-action]')].map((x) => x.dataset.action)`)
}

// act opens an action's form, fills its fields (data-p name → value; a
// value "+objection" adds an objection row first) and submits it. It
// returns "" when the application moved on, else the error shown.
func (b *browser) act(t *testing.T, action string, fields map[string]string, shot string) string {
	t.Helper()
	before := js[string](t, b, `document.body.dataset.app`)
	do(t, b, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#actions button[data-action=%q]`, action))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form.actionform[data-action=%q]`, action))))
	if _, ok := fields["+objection"]; ok {
		do(t, b, chromedp.Click(chromedp.CSS(`form.actionform .objections + button`)))
	}
	for k, v := range fields {
		if k == "+objection" {
			continue
		}
		js[bool](t, b, fmt.Sprintf(`(() => { const x = document.querySelector('form.actionform [data-p=%q]'); x.value = %q; return true; })()`, k, v))
	}
	if shot != "" {
		b.screenshot(t, shot)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#action-submit`)))
	return run(t, b, chromedp.Poll[string](fmt.Sprintf(`(() => {
	  const e = document.getElementById('action-error');
	  if (e) return 'error: ' + e.textContent;
	  return document.body.dataset.app && document.body.dataset.app !== %q ? 'ok' : null; })()`, before),
		chromedp.WithPollingInterval(50*time.Millisecond)))
}

func (b *browser) stateLabel(t *testing.T) string {
	t.Helper()
	return run(t, b, chromedp.TextContent(chromedp.CSS(`.apphead .state`)))
}

// testDeskApplication (TestWebPages/application) takes one application
// through the desk pages in a real Chromium, from 申请 to 登记, each step by
// the account entitled to it, with screenshots at the key steps
// (desk-app-*.png in the artifacts). The account "window" exists already.
func testDeskApplication(t *testing.T, bin string, pool *pgxpool.Pool) {
	ctx := context.Background()
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := applications.LoadSamples(ctx, pool, siting.NewService(pool, rs), time.Now()); err != nil || n == 0 {
		t.Fatalf("sample applications: %d, %v", n, err)
	}
	// A 15 m × 18 m site inside a 村庄集中建设区, clear of homesteads and
	// of the sample applications' sites, in a village with a second one
	// beside it for the other village's clerk.
	var village, other, site string
	if err := pool.QueryRow(ctx, `WITH z AS (
			SELECT v.xzqdm, ST_Intersection(ST_Transform(c.geom, 4551), ST_Transform(v.geom, 4551)) AS g
			FROM villageplan.villages v JOIN villageplan.control_zones c ON c.gkbjlxmc = '村庄集中建设区' AND ST_Intersects(c.geom, v.geom)),
		p AS (SELECT z.xzqdm, z.g, (d).path[1] AS n, (d).geom AS pt FROM z, ST_Dump(ST_GeneratePoints(z.g, 40, 7)) d),
		e AS (SELECT xzqdm, n, g, ST_MakeEnvelope(ST_X(pt), ST_Y(pt), ST_X(pt) + 15, ST_Y(pt) + 18, 4551) AS env FROM p)
		SELECT xzqdm, (SELECT min(xzqdm) FROM villageplan.villages WHERE xzqdm <> e.xzqdm), ST_AsGeoJSON(ST_Transform(env, 4490), 8) FROM e
		WHERE ST_Within(env, g)
		  AND NOT EXISTS (SELECT 1 FROM villageplan.homesteads h WHERE ST_Intersects(h.geom, ST_Transform(ST_Buffer(env, 3), 4490)))
		  AND NOT EXISTS (SELECT 1 FROM villageplan.applications a WHERE ST_Intersects(a.site, ST_Transform(ST_Buffer(env, 30), 4490)))
		ORDER BY n, xzqdm LIMIT 1`).Scan(&village, &other, &site); err != nil {
		t.Fatalf("no free site for the test application: %v", err)
	}
	deskUsers(t, pool, map[string]auth.Grant{
		"clerk": {Role: auth.VillageClerk, Village: village}, "clerk-other": {Role: auth.VillageClerk, Village: other},
		"agri": {Role: auth.ReviewAgriculture}, "natres": {Role: auth.ReviewNaturalResources},
		"plan": {Role: auth.ReviewPlanning}, "approver": {Role: auth.TownshipApprover},
	})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sitePath := write("宅基地选址.geojson", []byte(`{"type":"Feature","properties":{},"geometry":`+site+`}`))
	docs := map[string]string{
		"hukou":   write("户口簿.pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")),
		"id_card": write("身份证.jpg", append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 64)...)),
		"pledge":  write("承诺书.png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)),
	}
	id17 := func(seq int) string {
		s := fmt.Sprintf("22011219900315%03d", seq)
		return s + string(applications.IDCheckDigit(s))
	}
	day := func(d int) string { return time.Now().In(applications.China).AddDate(0, 0, d).Format(time.DateOnly) }

	svc := startService(t, pool)
	b := newBrowser(t, bin, svc.URL)
	// The API's refusals below are logged by Chromium as failed resources.
	b.expect("status of 422 (Unprocessable Entity) " + svc.URL + "/applications/")
	b.expect("status of 403 (Forbidden) " + svc.URL + "/applications/")

	// Anonymous: the desk sends the browser to the login page and back.
	do(t, b, chromedp.Navigate(svc.URL+"/desk#new"), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	if u := js[string](t, b, `location.pathname + location.search`); u != "/login?next=desk" {
		t.Errorf("anonymous desk went to %q, want the login page", u)
	}
	b.login(t, svc.URL, "clerk")
	if h := js[string](t, b, `location.hash`); h != "#new" {
		t.Errorf("after login the desk shows %q, want back to #new", h)
	}
	user := run(t, b, chromedp.TextContent(chromedp.CSS(`#user`)))
	if !strings.Contains(user, "clerk（测试）") || !strings.Contains(user, "村级经办") {
		t.Errorf("user box %q: want the name and the role 村级经办", user)
	}

	// File the application: the site file, the 申请表, a pre-check.
	do(t, b, chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{sitePath}), chromedp.WaitVisible(chromedp.CSS(`#site-area`)))
	if v := js[string](t, b, `document.getElementById('village-code').value`); v != village {
		t.Errorf("village code from the site %q, want %s", v, village)
	}
	fill := map[string]string{
		"household_id": "H-BROWSER-1", "applicant.name": "王测试", "applicant.id_number": id17(771), "applicant.phone": "13912345678",
		"applicant.hukou": "双阳区双营子回族乡", "proposed.housing_land_m2": "150", "proposed.ancillary_land_m2": "120",
		"proposed.ancillary_building_land_m2": "30", "proposed.address": "测试组 8 号", "proposed.floor_area_m2": "180",
		"proposed.storeys": "2", "proposed.height_m": "7.5", "reason": "分户另住，现无宅基地（浏览器测试）",
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#app-form button.link`))) // add a member
	fill["members.0.name"], fill["members.0.relation"], fill["members.0.id_number"], fill["members.0.hukou"] = "李测试", "配偶", id17(782), "双阳区双营子回族乡"
	for k, v := range fill {
		js[bool](t, b, fmt.Sprintf(`(() => { const x = document.querySelector('#app-form [data-f=%q]'); x.value = %q; return true; })()`, k, v))
	}
	js[bool](t, b, `(() => { document.querySelector('#app-form [data-f="proposed.neighbours_consulted"]').checked = true; return true; })()`)
	js[bool](t, b, `(() => { document.querySelector('#app-form h3').scrollIntoView(); return true; })()`)
	b.screenshot(t, "desk-app-01-form.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#run`)), chromedp.WaitVisible(chromedp.CSS(`#verdict .verdict`)))
	do(t, b, chromedp.Click(chromedp.CSS(`#file-app`)))
	app := run(t, b, chromedp.Poll[string](`document.body.dataset.app || (document.getElementById('form-error').hidden ? null : 'error: ' + document.getElementById('form-error').textContent)`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	var id int64
	if _, err := fmt.Sscanf(app, "%d:", &id); err != nil || id == 0 {
		t.Fatalf("filing the application: %s", app)
	}
	js[bool](t, b, idle)
	if s := b.stateLabel(t); s != "已申请（待村民小组审核）" {
		t.Errorf("state after filing %q", s)
	}
	verdict := js[string](t, b, `document.querySelector('#verdict .verdict').dataset.verdict`)
	vtext := run(t, b, chromedp.TextContent(chromedp.CSS(`#verdict`)))
	if verdict == "" || verdict == "BLOCK" || !strings.Contains(vtext, "审查结论") {
		t.Errorf("application check verdict %q (%q): want a verdict that is not BLOCK", verdict, vtext)
	}
	if n := js[int](t, b, `vp.map.queryRenderedFeatures({layers: ['vp-site-line']}).length`); n == 0 {
		t.Errorf("the application's site is not drawn on the map")
	}
	if a := b.actions(t); !slices.Equal(a, []string{"publicize", "withdraw"}) {
		t.Errorf("village clerk on a new application sees %v, want publicize and withdraw", a)
	}
	b.screenshot(t, "desk-app-02-filed.png")

	// A 公示 of two days is refused with the API's 422, shown by the form.
	msg := b.act(t, "publicize", map[string]string{"meeting_date": day(-4), "group_leader": "张组长", "publicity_start": day(-3), "publicity_end": day(-2)}, "")
	if !strings.HasPrefix(msg, "error:") || !strings.Contains(msg, "不少于 5 个工作日") || !strings.Contains(msg, "payload.publicity_end") {
		t.Errorf("short 公示: %q, want the 422 naming payload.publicity_end", msg)
	}
	b.screenshot(t, "desk-app-03-error.png")
	do(t, b, chromedp.Click(chromedp.CSS(`form.actionform button[type=button]`))) // cancel
	for _, st := range []struct {
		action string
		fields map[string]string
		state  string
	}{
		{"publicize", map[string]string{"meeting_date": day(-21), "group_leader": "张组长", "publicity_start": day(-20), "publicity_end": day(-2)}, "村民小组审核（公示中）"},
		{"group_approve", map[string]string{"+objection": "", "objections.0.objection": "西邻称界线不清", "objections.0.resolution": "现场指界，双方签字确认"}, "待村级审查"},
		{"village_approve", map[string]string{"reviewer": "赵主任", "opinion": "材料真实，符合村庄规划"}, "待乡镇受理"},
	} {
		if msg := b.act(t, st.action, st.fields, ""); msg != "ok" {
			t.Fatalf("%s as clerk: %s", st.action, msg)
		}
		if s := b.stateLabel(t); s != st.state {
			t.Errorf("after %s: state %q, want %q", st.action, s, st.state)
		}
	}
	if a := b.actions(t); slices.Contains(a, "accept") || slices.Contains(a, "approve") {
		t.Errorf("village clerk at 待乡镇受理 sees %v: accept and approve are not theirs", a)
	}
	for kind, p := range docs {
		do(t, b, chromedp.SetValue(chromedp.CSS(`#doc-kind`), kind), chromedp.SetUploadFiles(chromedp.CSS(`#doc-file`), []string{p}),
			chromedp.Click(chromedp.CSS(`#doc-upload`)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#docs tr[data-kind=%q]`, kind))))
	}
	js[bool](t, b, `(() => { document.getElementById('docs').scrollIntoView({block: 'center'}); return true; })()`)
	b.screenshot(t, "desk-app-04-documents.png")
	b.logout(t)

	// The other village's clerk neither lists nor opens it.
	b.login(t, svc.URL, "clerk-other")
	if ids := js[[]string](t, b, `[...document.querySelectorAll('#apps tbody tr[data-id]')].map((x) => x.dataset.id)`); slices.Contains(ids, fmt.Sprint(id)) {
		t.Errorf("another village's clerk lists application %d", id)
	}
	js[bool](t, b, fmt.Sprintf(`(() => { location.hash = 'a/%d'; return true; })()`, id))
	refused := run(t, b, chromedp.Poll[string](`(() => { const e = document.querySelector('#app-view .file-error'); return e && e.dataset.status + ' ' + e.textContent; })()`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if !strings.HasPrefix(refused, "403") {
		t.Errorf("another village's clerk opening %d: %q, want the 403", id, refused)
	}
	b.logout(t)

	// The township window: the list with counts, then 受理.
	b.login(t, svc.URL, "window")
	do(t, b, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#apps tr[data-id="%d"]`, id))))
	row := run(t, b, chromedp.TextContent(chromedp.CSS(fmt.Sprintf(`#apps tr[data-id="%d"]`, id))))
	chips := run(t, b, chromedp.TextContent(chromedp.CSS(`#chips`)))
	if !strings.Contains(row, "王测试") || !strings.Contains(row, "待乡镇受理") || !strings.Contains(chips, "待乡镇受理") || !strings.Contains(chips, "超期") {
		t.Errorf("list row %q, chips %q", row, chips)
	}
	b.screenshot(t, "desk-app-05-list.png")
	// The list links the 审批台账 of its filters; the .xlsx downloads in the
	// window's session.
	ledger := js[[]string](t, b, `(async () => { const a = document.querySelector('#pager a[data-ledger="xlsx"]');
	  if (!a) return ['none', '', ''];
	  const r = await fetch(a.href); const b = new Uint8Array(await r.arrayBuffer());
	  return [String(r.status), r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 2)), a.textContent]; })()`)
	if ledger[0] != "200" || !strings.Contains(ledger[1], "spreadsheetml") || ledger[2] != "PK" || !strings.Contains(ledger[3], "审批台账") {
		t.Errorf("ledger link of the list: %v, want an .xlsx", ledger)
	}
	// Search by the applicant's name, then by the ID number of a member.
	for _, q := range []string{"王测试", id17(782)} {
		js[bool](t, b, fmt.Sprintf(`(() => { document.getElementById('apps').replaceChildren(); document.getElementById('f-q').value = %q;
		  document.querySelector('#filters button[type=submit]').click(); return true; })()`, q))
		ids := run(t, b, chromedp.Poll[[]string](`document.querySelector('#apps tbody') && [...document.querySelectorAll('#apps tbody tr[data-id]')].map((x) => x.dataset.id)`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
		if !slices.Equal(ids, []string{fmt.Sprint(id)}) {
			t.Errorf("search %q lists %v, want [%d]", q, ids, id)
		}
	}
	js[bool](t, b, `(() => { document.getElementById('f-q').value = ''; document.getElementById('filters').requestSubmit(); return true; })()`)
	run(t, b, chromedp.Poll[bool](`document.querySelectorAll('#apps tbody tr[data-id]').length > 1`, chromedp.WithPollingInterval(50*time.Millisecond)))
	do(t, b, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#apps tr[data-id="%d"] td:nth-child(2)`, id))))
	run(t, b, chromedp.Poll[bool](fmt.Sprintf(`(document.body.dataset.app || '').startsWith('%d:')`, id), chromedp.WithPollingInterval(50*time.Millisecond)))
	if a := b.actions(t); !slices.Contains(a, "accept") || slices.Contains(a, "approve") || slices.Contains(a, "publicize") {
		t.Errorf("township window at 待乡镇受理 sees %v, want accept and not approve or publicize", a)
	}
	if msg := b.act(t, "accept", nil, ""); msg != "ok" {
		t.Fatalf("accept: %s", msg)
	}
	if s := b.stateLabel(t); s != "联审中" {
		t.Errorf("after accept: %q", s)
	}
	b.logout(t)

	// The three departments.
	for _, u := range []string{"agri", "natres", "plan"} {
		b.login(t, svc.URL, u)
		b.openApp(t, id)
		if a := b.actions(t); !slices.Equal(a, []string{"opinion"}) {
			t.Errorf("%s in 联审 sees %v, want only opinion", u, a)
		}
		if msg := b.act(t, "opinion", map[string]string{"opinion": "同意，符合" + u, "reviewer": u + " 审查人"}, ""); msg != "ok" {
			t.Fatalf("opinion of %s: %s", u, msg)
		}
		b.logout(t)
	}

	// The approver decides.
	b.login(t, svc.URL, "approver")
	b.openApp(t, id)
	if s := b.stateLabel(t); s != "待审批决定" {
		t.Errorf("after the three opinions: %q", s)
	}
	if a := b.actions(t); !slices.Equal(a, []string{"approve", "reject"}) {
		t.Errorf("approver sees %v, want approve and reject", a)
	}
	if msg := b.act(t, "approve", nil, "desk-app-06-decision.png"); msg != "ok" {
		t.Fatalf("approve: %s", msg)
	}
	no := run(t, b, chromedp.TextContent(chromedp.CSS(`#approval-number`)))
	if s := b.stateLabel(t); s != "已批准（待丈量批放）" || !strings.Contains(no, "宅批〔") {
		t.Errorf("after approve: state %q, %q", s, no)
	}
	b.screenshot(t, "desk-app-07-approved.png")
	// The printable 批准书 (package documents) is linked once approved.
	pdf := js[[]string](t, b, `(async () => { const a = document.querySelector('#prints a[data-print="print_certificate"]');
	  if (!a) return ['none', '', ''];
	  const r = await fetch(a.href); const b = new Uint8Array(await r.arrayBuffer());
	  return [String(r.status), r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 5))]; })()`)
	if pdf[0] != "200" || pdf[1] != "application/pdf" || pdf[2] != "%PDF-" {
		t.Errorf("批准书 link after approval: %v, want a PDF", pdf)
	}
	b.logout(t)

	// 丈量批放, 开工, 竣工验收 and 登记 on the approved site.
	zddm := village + "JC90001"
	for i, st := range []struct {
		user, action string
		fields       map[string]string
		state        string
	}{
		{"window", "stake", nil, "已丈量批放（待开工）"},
		{"clerk", "start", nil, "在建（待竣工验收）"},
		{"window", "inspect", map[string]string{"opinion": "按批准建设，验收合格"}, "已竣工验收（待登记）"},
		{"", "register", map[string]string{"zddm": zddm}, "已登记"}, // still the window
	} {
		if st.user != "" {
			if i > 0 {
				b.logout(t)
			}
			b.login(t, svc.URL, st.user)
			b.openApp(t, id)
		}
		if msg := b.act(t, st.action, st.fields, ""); msg != "ok" {
			t.Fatalf("%s as %s: %s", st.action, st.user, msg)
		}
		if s := b.stateLabel(t); s != st.state {
			t.Errorf("after %s: %q, want %q", st.action, s, st.state)
		}
	}
	js[bool](t, b, idle)
	events := js[[]string](t, b, `[...document.querySelectorAll('#timeline li')].map((x) => x.dataset.action)`)
	want := []string{"create", "publicize", "group_approve", "village_approve", "accept", "opinion", "opinion", "opinion", "approve", "stake", "start", "inspect", "register"}
	if !slices.Equal(events, want) {
		t.Errorf("timeline %v, want %v", events, want)
	}
	if a := b.actions(t); len(a) != 0 {
		t.Errorf("actions after 登记: %v", a)
	}
	b.screenshot(t, "desk-app-08-registered.png")
	js[bool](t, b, `(() => { document.getElementById('timeline').scrollIntoView(); return true; })()`)
	b.screenshot(t, "desk-app-08b-timeline.png")
	var status string
	if err := pool.QueryRow(ctx, `SELECT status FROM villageplan.homesteads WHERE zddm = $1`, zddm).Scan(&status); err != nil || status != "已登记" {
		t.Errorf("homestead %s after 登记: %q %v", zddm, status, err)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#lang`)))
	if s := b.stateLabel(t); s != "Registered" {
		t.Errorf("English state label %q", s)
	}
	b.screenshot(t, "desk-app-09-english.png")
	do(t, b, chromedp.Click(chromedp.CSS(`#lang`)))

	// A sample application whose site is blocked: its overlaps on the map.
	var blocked int64
	if err := pool.QueryRow(ctx, `SELECT id FROM villageplan.applications WHERE is_sample AND check_verdict = 'BLOCK' ORDER BY id LIMIT 1`).Scan(&blocked); err != nil {
		t.Fatalf("no blocked sample application: %v", err)
	}
	b.openApp(t, blocked)
	run(t, b, chromedp.Poll[bool](`new Promise((r) => { vp.map.once('idle', () => r(vp.map.queryRenderedFeatures({layers: ['vp-conflicts-fill', 'vp-conflicts-line']}).length > 0)); vp.map.triggerRepaint(); })`,
		chromedp.WithPollingInterval(100*time.Millisecond)))
	if v := run(t, b, chromedp.TextContent(chromedp.CSS(`#verdict`))); !strings.Contains(v, "禁止") {
		t.Errorf("blocked sample application: verdict %q", v)
	}
	if a := b.actions(t); slices.Contains(a, "approve") {
		t.Errorf("township window sees approve on a blocked application: %v", a)
	}
	b.screenshot(t, "desk-app-10-blocked-sample.png")
	b.checkClean(t)
}
