package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/projects"

	"github.com/jackc/pgx/v5/pgxpool"
)

// projectFixture is the desk fixture (two villages on EPSG:4551) with two
// township-wide planning editors besides the desk accounts.
func projectFixture(t *testing.T) (deskClient, *pgxpool.Pool, func(x, y float64) string) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	tokens["editor"] = bearerFor(t, pool, "u-editor", auth.Grant{Role: auth.PlanningEditor})
	tokens["editor2"] = bearerFor(t, pool, "u-editor2", auth.Grant{Role: auth.PlanningEditor})
	// point is a GeoJSON point in CRS84 at (x, y) m of the fixture's plane.
	point := func(x, y float64) string {
		var g string
		if err := pool.QueryRow(context.Background(), `SELECT ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4551), 4490), 7, 0)`,
			480000+x, 4829000+y).Scan(&g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	return deskClient{t: t, ts: ts, tokens: tokens}, pool, point
}

func projectBody(village, name, task, item string, phase projects.Phase, budget float64, extra map[string]any) map[string]any {
	b := map[string]any{"village": village, "year": 2026, "task": task, "item": item, "name": name, "phase": phase, "budget_yuan": budget}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// mustProject creates a project and returns its id.
func (c deskClient) mustProject(token string, body map[string]any) int64 {
	c.t.Helper()
	st, out, _ := c.do(token, "POST", "/projects", nil, body)
	if st != http.StatusCreated {
		c.t.Fatalf("create project as %s: %d %v", token, st, out)
	}
	return int64(out["id"].(float64))
}

// projAct runs a transition with the version read just before.
func (c deskClient) projAct(token string, id int64, action, reason string) (int, map[string]any) {
	c.t.Helper()
	_, cur, h := c.do("editor", "GET", fmt.Sprintf("/projects/%d", id), nil, nil)
	if cur["version"] == nil {
		c.t.Fatalf("read project %d: %v", id, cur)
	}
	st, out, _ := c.do(token, "POST", fmt.Sprintf("/projects/%d/transitions", id), map[string]string{"If-Match": h.Get("ETag")},
		map[string]any{"action": action, "reason": reason})
	return st, out
}

func (c deskClient) projPatch(token string, id int64, body map[string]any) (int, map[string]any) {
	c.t.Helper()
	_, _, h := c.do("editor", "GET", fmt.Sprintf("/projects/%d", id), nil, nil)
	st, out, _ := c.do(token, "PATCH", fmt.Sprintf("/projects/%d", id), map[string]string{"If-Match": h.Get("ETag")}, body)
	return st, out
}

func wantStatus(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d: %v", what, got, want, body)
	}
}

// approved drafts, files (as filer) and approves (as the approver) a
// project and returns its id.
func (c deskClient) approvedProject(filer string, body map[string]any) int64 {
	c.t.Helper()
	if body["lead_office"] == nil {
		body["lead_office"] = "乡村建设办"
	}
	if body["funding"] == nil {
		body["funding"] = map[string]any{"财政": body["budget_yuan"]}
	}
	id := c.mustProject(filer, body)
	st, out := c.projAct(filer, id, "file", "")
	wantStatus(c.t, "file", st, 200, out)
	st, out = c.projAct("approver", id, "approve", "")
	wantStatus(c.t, "approve", st, 200, out)
	return id
}

func TestProjectWorkflow(t *testing.T) {
	c, pool, point := projectFixture(t)
	geom := json.RawMessage(point(500, 200))
	body := projectBody(village1, "鲁家村主干道路灯安装", "facilities", "村内主干道路灯", projects.Planned, 120000, map[string]any{"geometry": geom})

	// A clerk of another village may not draft for this one.
	st, out, _ := c.do("other", "POST", "/projects", nil, body)
	wantStatus(t, "other village's clerk creates", st, 403, out)
	// Bad input names the field.
	bad := projectBody(village1, "x", "roads", "改厕", projects.Planned, 1, nil)
	st, out, _ = c.do("clerk", "POST", "/projects", nil, bad)
	if st != 422 || out["field"] != "item" || !strings.Contains(out["description_zh"].(string), "改厕") {
		t.Fatalf("wrong item: %d %v", st, out)
	}
	far := projectBody(village1, "x", "roads", "进村入户", projects.Planned, 1, map[string]any{"geometry": json.RawMessage(`{"type":"Point","coordinates":[43.6,125.7]}`)})
	st, out, _ = c.do("clerk", "POST", "/projects", nil, far)
	if st != 422 || out["field"] != "geometry" {
		t.Fatalf("swapped axes: %d %v", st, out)
	}

	id := c.mustProject("clerk", body)
	path := fmt.Sprintf("/projects/%d", id)
	st, out, _ = c.do("other", "GET", path, nil, nil)
	wantStatus(t, "other village's clerk reads", st, 404, out)
	st, out = c.projPatch("other", id, map[string]any{"name": "改名"})
	wantStatus(t, "other village's clerk patches", st, 404, out)
	st, out, _ = c.do("clerk", "PATCH", path, nil, map[string]any{"name": "x"})
	wantStatus(t, "patch without If-Match", st, 428, out)
	st, out, _ = c.do("clerk", "PATCH", path, map[string]string{"If-Match": `"7"`}, map[string]any{"name": "x"})
	wantStatus(t, "patch with a stale version", st, 412, out)

	// Filing needs the lead office and funding adding up to the budget.
	st, out = c.projAct("clerk", id, "file", "")
	if st != 422 || out["field"] != "lead_office" {
		t.Fatalf("file without lead office: %d %v", st, out)
	}
	st, out = c.projPatch("clerk", id, map[string]any{"lead_office": "乡村建设办", "funding": map[string]any{"财政": 100000, "村集体": 10000}})
	if st != 422 || out["field"] != "funding" {
		t.Fatalf("funding not adding up: %d %v", st, out)
	}
	st, out = c.projPatch("clerk", id, map[string]any{"lead_office": "乡村建设办", "funding": map[string]any{"财政": 100000, "村集体": 20000}})
	wantStatus(t, "patch", st, 200, out)
	st, out = c.projAct("clerk", id, "file", "")
	wantStatus(t, "file", st, 200, out)
	if out["status"] != "filed" {
		t.Fatalf("status after filing: %v", out["status"])
	}
	st, out = c.projPatch("clerk", id, map[string]any{"name": "改名"})
	wantStatus(t, "patch while filed", st, 409, out)
	// The village clerk cannot review; a return needs a reason.
	st, out = c.projAct("clerk", id, "approve", "")
	wantStatus(t, "clerk approves", st, 403, out)
	st, out = c.projAct("approver", id, "return", " ")
	if st != 422 || out["field"] != "reason" {
		t.Fatalf("return without reason: %d %v", st, out)
	}
	st, out = c.projAct("approver", id, "return", "资金来源须附村民代表会议纪要")
	wantStatus(t, "return", st, 200, out)
	if out["status"] != "returned" || out["return_reason"] != "资金来源须附村民代表会议纪要" {
		t.Fatalf("after return: %v", out)
	}
	st, out = c.projPatch("clerk", id, map[string]any{"description": "附会议纪要"})
	wantStatus(t, "patch returned", st, 200, out)
	st, out = c.projAct("clerk", id, "file", "")
	wantStatus(t, "file again", st, 200, out)
	st, out = c.projAct("approver", id, "approve", "")
	wantStatus(t, "approve", st, 200, out)

	// An approved project records progress only.
	st, out = c.projPatch("clerk", id, map[string]any{"budget_yuan": 1})
	if st != 409 || out["field"] != "budget_yuan" {
		t.Fatalf("budget of an approved project: %d %v", st, out)
	}
	st, out = c.projPatch("clerk", id, map[string]any{"phase": "开工建设", "spent_yuan": 30000})
	wantStatus(t, "progress", st, 200, out)

	// A planning editor never reviews what they filed.
	id2 := c.mustProject("editor", projectBody(village2, "东村改厕", "environment", "改厕", projects.Planned, 50000,
		map[string]any{"lead_office": "农业农村办", "funding": map[string]any{"财政": 40000, "农户投工投劳": 10000}}))
	st, out = c.projAct("editor", id2, "file", "")
	wantStatus(t, "editor files", st, 200, out)
	st, out = c.projAct("editor", id2, "approve", "")
	wantStatus(t, "editor approves own", st, 403, out)
	st, out = c.projAct("editor2", id2, "approve", "")
	wantStatus(t, "other editor approves", st, 200, out)

	// History: who, when, what.
	st, out, _ = c.do("clerk", "GET", path, nil, nil)
	wantStatus(t, "get", st, 200, out)
	var actions []string
	for _, e := range out["history"].([]any) {
		ev := e.(map[string]any)
		actions = append(actions, fmt.Sprintf("%s:%s", ev["action"], ev["actor"]))
	}
	want := "create:u-clerk update:u-clerk file:u-clerk return:u-approver update:u-clerk file:u-clerk approve:u-approver progress:u-clerk"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("history %q, want %q", got, want)
	}
	upd := out["history"].([]any)[1].(map[string]any)["changes"].(map[string]any)
	if lo := upd["lead_office"].(map[string]any); lo["old"] != "" || lo["new"] != "乡村建设办" {
		t.Fatalf("update changes: %v", upd)
	}
	prog := out["history"].([]any)[7].(map[string]any)["changes"].(map[string]any)
	if ph := prog["phase"].(map[string]any); ph["old"] != "谋划储备" || ph["new"] != "开工建设" || prog["spent_yuan"].(map[string]any)["new"] != 30000.0 {
		t.Fatalf("progress changes: %v", prog)
	}
	if ret := out["history"].([]any)[3].(map[string]any); ret["note"] != "资金来源须附村民代表会议纪要" || ret["actor_role"] != "township_approver" {
		t.Fatalf("return event: %v", ret)
	}
	var audited int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.audit_log
		WHERE subject_kind = 'construction_project' AND subject_id = $1`, fmt.Sprint(id)).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 8 {
		t.Fatalf("%d audit rows for project %d, want 8", audited, id)
	}

	// Reports and photos.
	st, out, _ = c.do("clerk", "POST", path+"/reports", nil, map[string]any{"reported_on": "2026-11-20", "text": "路灯基础浇筑完成 12 处"})
	wantStatus(t, "report", st, 201, out)
	rid := int64(out["id"].(float64))
	st, out, _ = c.do("clerk", "POST", fmt.Sprintf("%s/reports/%d/photos?filename=a.png", path, rid), map[string]string{"Content-Type": "image/png"},
		[]byte("%PDF-1.4 this is not an image"))
	if st != 415 || !strings.Contains(out["description_zh"].(string), "JPEG 或 PNG") || !strings.Contains(out["description"].(string), "application/pdf") {
		t.Fatalf("a PDF as photo: %d %v", st, out)
	}
	st, out, _ = c.do("clerk", "POST", fmt.Sprintf("%s/reports/%d/photos?filename=a.png", path, rid), nil,
		append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...))
	wantStatus(t, "broken PNG", st, 415, out)
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	img.Set(3, 3, color.RGBA{200, 0, 0, 255})
	var pngBuf bytes.Buffer
	_ = png.Encode(&pngBuf, img)
	st, out, _ = c.do("clerk", "POST", fmt.Sprintf("%s/reports/%d/photos?filename=%%E8%%B7%%AF%%E7%%81%%AF.png", path, rid), nil, pngBuf.Bytes())
	wantStatus(t, "photo", st, 201, out)
	pid := int64(out["id"].(float64))
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s%s/photos/%d", c.ts.URL, path, pid), nil)
	req.Header.Set("Authorization", c.tokens["approver"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, pngBuf.Bytes()) {
		t.Fatalf("photo read back: %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	st, out, _ = c.do("other", "GET", fmt.Sprintf("%s/photos/%d", path, pid), nil, nil)
	wantStatus(t, "other village's clerk reads the photo", st, 404, out)

	// The map collection is public and has approved projects only.
	st, out, _ = c.do("", "GET", "/projects/map.geojson?year=2026", nil, nil)
	wantStatus(t, "map", st, 200, out)
	feats := out["features"].([]any)
	if len(feats) != 1 || feats[0].(map[string]any)["properties"].(map[string]any)["phase"] != "开工建设" {
		t.Fatalf("map features: %v", out)
	}
	if _, leak := feats[0].(map[string]any)["properties"].(map[string]any)["budget_yuan"]; leak {
		t.Fatal("the public map shows amounts")
	}
}

func TestProjectLedgerTaskListSummary(t *testing.T) {
	c, pool, _ := projectFixture(t)
	// Village 1: two planned, one started, one operating, one completed;
	// village 2: one started. A draft and a filed project count nowhere.
	mk := func(filer, v, name, task, item string, ph projects.Phase, budget, spent float64, funding map[string]any) int64 {
		b := projectBody(v, name, task, item, ph, budget, map[string]any{"spent_yuan": spent})
		if funding != nil {
			b["funding"] = funding
		}
		return c.approvedProject(filer, b)
	}
	mk("clerk", village1, "进村道路硬化", "roads", "进村入户", projects.Planned, 800000, 0, map[string]any{"财政": 600000, "以工代赈": 200000})
	mk("clerk", village1, "垃圾收集点", "environment", "垃圾收运", projects.Planned, 30000, 0, nil)
	mk("clerk", village1, "村卫生室改造", "services", "卫生室", projects.Started, 150000, 50000, map[string]any{"财政": 100000, "社会资本": 50000})
	mk("editor", village1, "供水管网入户", "water", "供水入户", projects.Operating, 420000.5, 400000, nil)
	mk("clerk", village1, "户厕改造", "environment", "改厕", projects.Completed, 90000, 90000, map[string]any{"财政": 60000, "农户投工投劳": 30000})
	mk("other", village2, "应急避难场所", "facilities", "应急避难场所", projects.Started, 200000, 10000, nil)
	c.mustProject("clerk", projectBody(village1, "草稿项目", "roads", "路面加宽", projects.Planned, 1e6, nil))
	filed := c.mustProject("clerk", projectBody(village1, "待审项目", "roads", "路面加宽", projects.Planned, 5e5,
		map[string]any{"lead_office": "交通办", "funding": map[string]any{"财政": 5e5}}))
	st, out := c.projAct("clerk", filed, "file", "")
	wantStatus(t, "file", st, 200, out)

	// Summary (the assessment's interface) with exact values.
	sums, err := projects.NewService(pool, projects.Config{}).Summary(context.Background(), 2026)
	if err != nil {
		t.Fatal(err)
	}
	wantSums := []projects.VillageSummary{
		{Village: village1, Year: 2026, Planned: 2, Started: 1, Operating: 1, Completed: 1, BudgetYuan: 1490000.5, SpentYuan: 540000},
		{Village: village2, Year: 2026, Started: 1, BudgetYuan: 200000, SpentYuan: 10000},
	}
	if fmt.Sprint(sums) != fmt.Sprint(wantSums) {
		t.Fatalf("Summary(2026) = %+v, want %+v", sums, wantSums)
	}
	if sums, err := projects.NewService(pool, projects.Config{}).Summary(context.Background(), 2025); err != nil || len(sums) != 2 || sums[0].Planned+sums[0].Started != 0 || sums[0].BudgetYuan != 0 {
		t.Fatalf("Summary(2025) = %+v, %v", sums, err)
	}

	// Task lists: three lists per village; 投产运营 and 完成 in the third.
	st, out, _ = c.do("approver", "GET", "/projects/task-lists?year=2026", nil, nil)
	wantStatus(t, "task lists", st, 200, out)
	vs := out["villages"].([]any)
	if len(vs) != 2 {
		t.Fatalf("task lists of %d villages: %v", len(vs), out)
	}
	names := func(l any) string {
		var n []string
		for _, p := range l.(map[string]any)["projects"].([]any) {
			n = append(n, p.(map[string]any)["name"].(string))
		}
		return l.(map[string]any)["title"].(string) + "=" + strings.Join(n, ",")
	}
	var got []string
	for _, l := range vs[0].(map[string]any)["lists"].([]any) {
		got = append(got, names(l))
	}
	if g := strings.Join(got, " | "); g != "谋划储备一批=进村道路硬化,垃圾收集点 | 开工建设一批=村卫生室改造 | 投产运营一批=供水管网入户,户厕改造" {
		t.Fatalf("village 1 task lists: %s", g)
	}
	if b := vs[0].(map[string]any)["lists"].([]any)[0].(map[string]any)["budget_yuan"]; b != 830000.0 {
		t.Fatalf("谋划储备一批 budget %v, want 830000", b)
	}
	// A village clerk sees its own village only.
	st, out, _ = c.do("other", "GET", "/projects/task-lists?year=2026", nil, nil)
	if st != 200 || len(out["villages"].([]any)) != 1 || out["villages"].([]any)[0].(map[string]any)["village"] != village2 {
		t.Fatalf("clerk's task lists: %d %v", st, out)
	}
	st, out, _ = c.do("approver", "GET", "/projects/task-lists?year=20x6", nil, nil)
	if st != 400 || out["field"] != "year" {
		t.Fatalf("bad year: %d %v", st, out)
	}

	// The ledger .xlsx, opened with excelize.
	req, _ := http.NewRequest("GET", c.ts.URL+"/projects/ledger?year=2026&f=xlsx", nil)
	req.Header.Set("Authorization", c.tokens["analyst"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("ledger xlsx: %d %v", resp.StatusCode, resp.Header)
	}
	x, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("台账", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3+6+1 {
		t.Fatalf("%d rows in the ledger, want title, note, header, 6 projects, total: %q", len(rows), rows)
	}
	if !strings.Contains(rows[0][0], "2026 年乡村建设台账") || strings.Join(rows[2], ",") != strings.Join(projects.LedgerColumns, ",") {
		t.Fatalf("ledger head: %q / %q", rows[0], rows[2])
	}
	// Row of 进村道路硬化 (village 1, roads first in the plan's order).
	r := rows[3]
	if r[1] != "鲁家村" || r[2] != village1 || r[4] != "农村道路畅通" || r[5] != "进村入户" || r[6] != "进村道路硬化" || r[8] != "谋划储备" ||
		r[9] != "800000" || r[10] != "600000" || r[13] != "200000" || r[16] != "乡村建设办" {
		t.Fatalf("first ledger row: %q", r)
	}
	var order []string
	for _, r := range rows[3:9] {
		order = append(order, r[6])
	}
	if g := strings.Join(order, ","); g != "进村道路硬化,供水管网入户,垃圾收集点,户厕改造,村卫生室改造,应急避难场所" {
		t.Fatalf("ledger order %s", g)
	}
	total := rows[9]
	if total[0] != "合计" || total[9] != "1690000.5" || total[15] != "550000" {
		t.Fatalf("total row: %q", total)
	}
	// The page's JSON has the same rows; the drafts and filed ones are not there.
	st, out, _ = c.do("approver", "GET", "/projects/ledger?year=2026&village="+village1, nil, nil)
	if st != 200 || len(out["rows"].([]any)) != 5 {
		t.Fatalf("ledger JSON of village 1: %d %v", st, out)
	}
	st, out, _ = c.do("approver", "GET", "/projects?year=2026&status=filed", nil, nil)
	if st != 200 || out["total"] != 1.0 {
		t.Fatalf("filed list: %d %v", st, out)
	}
}

// Bad input is a 4xx naming the field, never a 500, and nothing is
// stored; two reviewers at once: one wins, the other gets 412.
func TestProjectBadInput(t *testing.T) {
	c, pool, point := projectFixture(t)
	ok := projectBody(village1, "路面加宽", "roads", "路面加宽", projects.Planned, 1000, nil)
	with := func(k string, v any) map[string]any {
		b := map[string]any{}
		for x, y := range ok {
			b[x] = y
		}
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	p := point(100, 100)
	var pt struct{ Coordinates [2]float64 }
	_ = json.Unmarshal([]byte(p), &pt)
	x, y := pt.Coordinates[0], pt.Coordinates[1]
	bowtie := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`, x, y, x+0.001, y+0.001, x+0.001, y, x, y+0.001, x, y)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"missing name", with("name", nil), 422, "name"},
		{"blank name", with("name", "  "), 422, "name"},
		{"unknown task", with("task", "bridges"), 422, "task"},
		{"unknown phase", with("phase", "施工"), 422, "phase"},
		{"bad village", with("village", "2201"), 422, "village"},
		{"unknown village", with("village", "220112203399"), 422, "village"},
		{"year", with("year", 1990), 422, "year"},
		{"negative budget", with("budget_yuan", -5), 422, "budget_yuan"},
		{"unknown source", with("funding", map[string]any{"贷款": 1000}), 422, "funding.贷款"},
		{"unknown field", with("colour", "red"), 400, "colour"},
		{"year as text", with("year", "2026"), 400, "year"},
		{"geometry not an object", with("geometry", 5), 422, "geometry"},
		{"geometry collection", with("geometry", json.RawMessage(`{"type":"GeometryCollection","geometries":[]}`)), 422, "geometry"},
		{"geometry unreadable", with("geometry", json.RawMessage(`{"type":"Point","coordinates":"here"}`)), 422, "geometry"},
		{"geometry out of range", with("geometry", json.RawMessage(`{"type":"Point","coordinates":[500,43]}`)), 422, "geometry"},
		{"self-intersecting polygon", with("geometry", json.RawMessage(bowtie)), 422, "geometry"},
		{"geometry in EPSG:4490", with("geometry", json.RawMessage(`{"type":"Point","coordinates":[43.6,125.7],"crs":{"type":"name","properties":{"name":"EPSG:4490"}}}`)), 422, "geometry.crs"},
	} {
		st, out, _ := c.do("clerk", "POST", "/projects", nil, tc.body)
		if st != tc.status || out["field"] != tc.field || out["description_zh"] == nil || out["description"] == nil {
			t.Errorf("%s: %d %v, want %d naming %s", tc.name, st, out, tc.status, tc.field)
		}
	}
	if st, out, _ := c.do("clerk", "POST", "/projects", map[string]string{"Content-Type": "text/plain"}, []byte("x")); st != 415 {
		t.Errorf("text body: %d %v", st, out)
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.construction_projects`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d projects stored by refused requests (%v)", n, err)
	}
	for _, q := range []string{"year=abc", "village=1", "phase=x", "status=done", "task=x", "limit=0", "f=pdf"} {
		if st, out, _ := c.do("approver", "GET", "/projects/ledger?"+q, nil, nil); st != 400 || out["field"] == nil {
			t.Errorf("ledger?%s: %d %v", q, st, out)
		}
	}
	for _, path := range []string{"/projects/0", "/projects/abc", "/projects/999"} {
		if st, out, _ := c.do("approver", "GET", path, nil, nil); st != 404 {
			t.Errorf("%s: %d %v", path, st, out)
		}
	}

	// A photo over the cap is 413; a report before approval 409.
	draft := with("lead_office", "交通办")
	draft["funding"] = map[string]any{"村集体": 1000}
	id := c.mustProject("clerk", draft)
	st, out, _ := c.do("clerk", "POST", fmt.Sprintf("/projects/%d/reports", id), nil, map[string]any{"reported_on": "2026-11-01", "text": "x"})
	wantStatus(t, "report on a draft", st, 409, out)
	big := append([]byte("\xFF\xD8\xFF\xE0"), make([]byte, 5<<20)...)
	st, out, _ = c.do("clerk", "POST", fmt.Sprintf("/projects/%d/reports/1/photos", id), nil, big)
	wantStatus(t, "photo over the cap", st, 413, out)

	// Two reviewers at once: one approves, the other's version is stale.
	st, out = c.projAct("clerk", id, "file", "")
	wantStatus(t, "file", st, 200, out)
	_, _, h := c.do("editor", "GET", fmt.Sprintf("/projects/%d", id), nil, nil)
	results := make(chan int, 2)
	for _, who := range []string{"approver", "editor"} {
		go func(who string) {
			st, _, _ := c.do(who, "POST", fmt.Sprintf("/projects/%d/transitions", id), map[string]string{"If-Match": h.Get("ETag")}, map[string]any{"action": "approve"})
			results <- st
		}(who)
	}
	a, b := <-results, <-results
	if !(a == 200 && b == 412 || a == 412 && b == 200) {
		t.Fatalf("concurrent approvals: %d and %d, want 200 and 412", a, b)
	}
	var approvals int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.project_events WHERE project_id = $1 AND action = 'approve'`, id).Scan(&approvals); err != nil || approvals != 1 {
		t.Fatalf("%d approve events (%v)", approvals, err)
	}
}
