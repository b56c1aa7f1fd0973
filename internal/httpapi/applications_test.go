package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/geo/jzd"
	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/siting"
	"villageplan/internal/testpg"
)

// deskUsers are the accounts of the desk tests: each gets a real user
// with these grants and a real API token (auth.Store), by its key.
type deskUserMap map[string]*auth.Principal

const (
	village1 = "220112203301"
	village2 = "220112203302"
)

func principal(id int64, name string, role auth.Role, village string) *auth.Principal {
	return &auth.Principal{UserID: id, Username: name, Grants: []auth.Grant{{Role: role, Village: village}}, Via: "token"}
}

var deskUsers = deskUserMap{
	"clerk":    principal(1, "clerk", auth.VillageClerk, village1),
	"clerk2":   principal(2, "clerk2", auth.VillageClerk, village1),
	"other":    principal(3, "other", auth.VillageClerk, village2),
	"window":   principal(4, "window", auth.TownshipWindow, ""),
	"agri":     principal(5, "agri", auth.ReviewAgriculture, ""),
	"natres":   principal(6, "natres", auth.ReviewNaturalResources, ""),
	"plan":     principal(7, "plan", auth.ReviewPlanning, ""),
	"approver": principal(8, "approver", auth.TownshipApprover, ""),
	"analyst":  principal(9, "analyst", auth.DataAnalyst, ""),
	"admin":    principal(10, "admin", auth.Admin, ""),
}

// deskNow is the desk's clock in these tests: Wednesday 2026-12-02, 10:00 CST.
var deskNow = time.Date(2026, 12, 2, 10, 0, 0, 0, applications.China)

// deskServer is the siting fixture (a village with every layer covered, a
// 村庄集中建设区 at x 0…2000, y 0…600 and permanent farmland at x 1000…1100,
// y 0…100 on EPSG:4551 around (480000, 4829000)) plus a second village to
// the east, an existing homestead of the first test household, and the
// desk with the test authenticator.
func deskServer(t *testing.T, cfg applications.Config) (*httptest.Server, *pgxpool.Pool, map[string]string) {
	t.Helper()
	pool := testpg.New(t)
	env := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
	}
	for _, s := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, township_code, geom) VALUES ('` + village1 + `', '鲁家村', '集聚提升类', '220112203', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, township_code, geom) VALUES ('` + village2 + `', '东村', '集聚提升类', '220112203', ` + env(3000, -500, 5000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + env(0, 0, 2000, 600) + `)`,
		`INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom) VALUES ('YJ1', '0103', ` + env(1000, 0, 1100, 100) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0702', ` + env(-500, -500, 5000, 1000) + `)`,
		`INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, zdmj, status, household_id, holder_name, holder_id_number, geom)
			VALUES ('220112203301JC00001', '` + village1 + `', '鲁家村一组', 225, '已登记', 'H-TEST-1', '测试户主', '` + testID(1960, 1) + `', ` + env(300, 300, 315, 315) + `)`,
		`INSERT INTO villageplan.layer_coverage (layer, geom, source) SELECT layer, ` + env(-500, -500, 5000, 1000) + `, 'test' FROM villageplan.layer_version`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	tokens := map[string]string{}
	for name, p := range deskUsers {
		tokens[name] = bearerFor(t, pool, "u-"+name, p.Grants...)
	}
	cfg.Now = func() time.Time { return deskNow }
	srv := httpapi.New(httpapi.Options{Pool: pool, Accounts: testAccounts(pool), Applications: cfg,
		RateLimits: map[string]httpapi.RateLimit{"write": {Rate: 0}, "siting": {Rate: 0}}})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts, pool, tokens
}

// testID is a fictitious ID number with a valid check digit: area 220112,
// born on 1 May of year, sequence seq (odd: 男).
func testID(year, seq int) string {
	s := fmt.Sprintf("220112%04d0501%03d", year, seq)
	return s + string(applications.IDCheckDigit(s))
}

// rect is a GeoJSON polygon w × h m at (x, y) of the fixture's plane.
func rect(x, y, w, h float64) string {
	x, y = 480000+x, 4829000+y
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f]]]}`,
		x, y, x+w, y, x+w, y+h, x, y+h, x, y)
}

// formJSON is an application of household n (applicant testID(1950+n%40,
// 2n+1), one member testID(1952+n%40, 2n+2)) with a 15 m × 18 m site at (x, y).
func formJSON(n int, extra func(f map[string]any)) map[string]any {
	f := map[string]any{
		"village_code": village1,
		"applicant": map[string]any{"name": fmt.Sprintf("测试户主%d", n), "sex": "男", "phone": "13800000000",
			"id_number": testID(1950+n%40, 2*n+1), "hukou": "双阳区双营子回族乡鲁家村"},
		"members": []any{map[string]any{"name": fmt.Sprintf("测试成员%d", n), "relation": "配偶", "id_number": testID(1952+n%40, 2*n+2), "hukou": "双阳区双营子回族乡鲁家村"}},
		"proposed": map[string]any{"housing_land_m2": 150, "ancillary_land_m2": 120, "ancillary_building_land_m2": 30,
			"address": fmt.Sprintf("鲁家村一组 %d 号", n), "east": "村道", "south": "空地", "west": "李家", "north": "水渠",
			"situation": 2, "land_class": 1, "floor_area_m2": 180, "storeys": 2, "height_m": 7.5, "neighbours_consulted": true},
		"reason": "分户另住，无宅基地（测试数据）",
	}
	if extra != nil {
		extra(f)
	}
	return f
}

// deskClient calls the desk as the account named by a deskUsers key
// (its real API token).
type deskClient struct {
	t      *testing.T
	ts     *httptest.Server
	tokens map[string]string
}

func (c deskClient) do(token, method, path string, hdr map[string]string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.ts.URL+path, rd)
	if token != "" {
		bearer, ok := c.tokens[token]
		if !ok {
			c.t.Fatalf("no test account %q", token)
		}
		req.Header.Set("Authorization", bearer)
	}
	if _, ok := body.([]byte); !ok && body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, out, resp.Header
}

// create files household n's application with its site and returns its id.
func (c deskClient) create(n int, site string, extra func(map[string]any)) (int64, map[string]any) {
	c.t.Helper()
	code, out, _ := c.do("clerk", "POST", "/applications", nil, map[string]any{"form": formJSON(n, extra), "site": json.RawMessage(site), "crs": "EPSG:4551"})
	if code != 201 {
		c.t.Fatalf("create household %d = %d %v", n, code, out)
	}
	return int64(out["id"].(float64)), out
}

func (c deskClient) act(token string, id int64, version int, action string, payload any) (int, map[string]any) {
	c.t.Helper()
	code, out, _ := c.do(token, "POST", fmt.Sprintf("/applications/%d/transitions", id), map[string]string{"If-Match": fmt.Sprintf(`"%d"`, version)},
		map[string]any{"action": action, "payload": payload, "note": "测试"})
	return code, out
}

// must takes an action that must succeed and returns the new version.
func (c deskClient) must(token string, id int64, version int, action string, payload any) int {
	c.t.Helper()
	code, out := c.act(token, id, version, action, payload)
	if code != 200 {
		c.t.Fatalf("%s on %d as %s = %d %v", action, id, token, code, out)
	}
	return int(out["version"].(float64))
}

var (
	pdfDoc = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	pngDoc = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 32)...)
	jpgDoc = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 32)...)
)

func (c deskClient) uploadRequired(id int64) {
	c.t.Helper()
	for kind, doc := range map[string][]byte{"hukou": pdfDoc, "id_card": jpgDoc, "pledge": pngDoc} {
		code, out, _ := c.do("clerk", "POST", fmt.Sprintf("/applications/%d/documents?kind=%s&filename=%s.bin", id, kind, kind), nil, doc)
		if code != 201 {
			c.t.Fatalf("upload %s = %d %v", kind, code, out)
		}
	}
}

// toDecision takes application id from 申请 to 待审批决定 and returns its version.
func (c deskClient) toDecision(id int64, v int) int {
	c.t.Helper()
	v = c.must("clerk", id, v, "publicize", map[string]any{"meeting_date": "2026-11-02", "group_leader": "测试组长",
		"publicity_start": "2026-11-03", "publicity_end": "2026-11-09"})
	v = c.must("clerk", id, v, "group_approve", map[string]any{"opinion": "同意", "objections": []any{
		map[string]any{"objection": "邻户称西侧界线不清", "resolution": "现场指界，双方签字确认"}}})
	v = c.must("clerk", id, v, "village_approve", map[string]any{"reviewer": "测试村主任", "opinion": "材料真实，符合村庄规划"})
	c.uploadRequired(id)
	v = c.must("window", id, v, "accept", nil)
	for _, tok := range []string{"agri", "natres", "plan"} {
		v = c.must(tok, id, v, "opinion", map[string]any{"agree": true, "opinion": "同意"})
	}
	return v
}

// TestApplicationWholeWay: one application from 申请 to 登记 over HTTP,
// with the old homestead returned and the new parcel written to the
// homesteads layer through the edit history.
func TestApplicationWholeWay(t *testing.T) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	ctx := context.Background()
	// Household 0 holds 220112203301JC00001 (户主 testID(1960, 1)); it returns it.
	id, a := c.create(0, rect(100, 100, 15, 18), func(f map[string]any) {
		f["applicant"].(map[string]any)["id_number"] = testID(1960, 1)
		f["household_id"] = "H-TEST-1"
		f["current"] = map[string]any{"land_area_m2": 225, "floor_area_m2": 90, "certificate_no": "吉(2010)双阳区集建字第0001号",
			"disposal": "return", "zddm": "220112203301JC00001"}
	})
	if a["state"] != "submitted" || a["check"] == nil || a["check"].(map[string]any)["verdict"] == "BLOCK" {
		t.Fatalf("created = %v", a)
	}
	if a["site_area_m2"].(float64) != 270 || a["due_on"] != "2026-12-09" {
		t.Errorf("site area %v, due %v; want 270 m², due 5 working days after 2026-12-02", a["site_area_m2"], a["due_on"])
	}
	v := int(a["version"].(float64))
	// The 公示 must last 5 working days.
	if code, out := c.act("clerk", id, v, "publicize", map[string]any{"meeting_date": "2026-11-02", "group_leader": "组长",
		"publicity_start": "2026-11-03", "publicity_end": "2026-11-06"}); code != 422 || out["field"] != "payload.publicity_end" {
		t.Errorf("4-working-day 公示 = %d %v", code, out)
	}
	// A village clerk cannot accept.
	v = c.toDecision(id, v)
	code, got, hdr := c.do("window", "GET", fmt.Sprintf("/applications/%d", id), nil, nil)
	if code != 200 || got["state"] != "decision" || hdr.Get("ETag") != fmt.Sprintf(`"%d"`, v) {
		t.Fatalf("GET = %d %v %s", code, got["state"], hdr.Get("ETag"))
	}
	if got["accepted_on"] != "2026-12-02" || got["due_on"] != "2026-12-30" {
		t.Errorf("accepted %v due %v; want 2026-12-02 and 20 working days later 2026-12-30", got["accepted_on"], got["due_on"])
	}
	v = c.must("approver", id, v, "approve", nil)
	code, got, _ = c.do("approver", "GET", fmt.Sprintf("/applications/%d", id), nil, nil)
	if got["approval_number"] != "双营子宅批〔2026〕第0001号" || got["approved_on"] != "2026-12-02" {
		t.Errorf("approval = %v %v", got["approval_number"], got["approved_on"])
	}
	// Staked 0.3 m off to the east: within the 0.5 m tolerance.
	v = c.must("window", id, v, "stake", map[string]any{"site": json.RawMessage(rect(100.3, 100, 15, 18)), "crs": "EPSG:4551"})
	code, got, _ = c.do("window", "GET", fmt.Sprintf("/applications/%d", id), nil, nil)
	if dev := got["steps"].(map[string]any)["staking"].(map[string]any)["deviation_m"].(float64); dev < 0.29 || dev > 0.31 {
		t.Errorf("staking deviation = %v m, want 0.3", dev)
	}
	v = c.must("clerk", id, v, "start", map[string]any{"on": "2026-12-02"})
	// A footprint 3 m beyond the approved site fails the inspection.
	if code, out := c.act("window", id, v, "inspect", map[string]any{"site": json.RawMessage(rect(102, 102, 16, 12)), "crs": "EPSG:4551", "opinion": "超出"}); code != 409 ||
		!strings.Contains(out["description_zh"].(string), "超出批准用地") {
		t.Errorf("inspect outside = %d %v", code, out)
	}
	v = c.must("window", id, v, "inspect", map[string]any{"site": json.RawMessage(rect(102, 102, 12, 12)), "crs": "EPSG:4551", "opinion": "按批准建设"})
	v = c.must("window", id, v, "register", map[string]any{"zddm": "220112203301JC00123"})
	code, got, _ = c.do("clerk", "GET", fmt.Sprintf("/applications/%d", id), nil, nil)
	if code != 200 || got["state"] != "registered" {
		t.Fatalf("after register: %d %v", code, got["state"])
	}
	if ev := got["events"].([]any); len(ev) != 13 {
		t.Errorf("%d events, want 13 (create + 12 transitions)", len(ev))
	}
	insp := got["steps"].(map[string]any)["inspection"].(map[string]any)
	if insp["built_area_m2"].(float64) != 144 || insp["outside_m2"].(float64) != 0 || insp["passed"] != true {
		t.Errorf("inspection = %v", insp)
	}
	var status, oldStatus, batch string
	var zdmj float64
	if err := pool.QueryRow(ctx, `SELECT h.status, h.zdmj, (SELECT status FROM villageplan.homesteads WHERE zddm = '220112203301JC00001'),
		(SELECT string_agg(DISTINCT batch_id, ',') FROM villageplan.edit_history WHERE layer = 'homesteads' AND batch_id IS NOT NULL)
		FROM villageplan.homesteads h WHERE h.zddm = '220112203301JC00123' AND h.approval_number = '双营子宅批〔2026〕第0001号'`).Scan(&status, &zdmj, &oldStatus, &batch); err != nil {
		t.Fatal(err)
	}
	if status != "已登记" || oldStatus != "退出" || batch != fmt.Sprintf("application:%d", id) || zdmj < 269 || zdmj > 271 {
		t.Errorf("homesteads: new %s (%.2f m²), old %s, batch %q", status, zdmj, oldStatus, batch)
	}
	var audits int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE subject_kind = 'application' AND subject_id = $1 AND action = 'application.transition'`, fmt.Sprint(id)).Scan(&audits)
	if audits != 12 {
		t.Errorf("%d transition audit rows, want 12", audits)
	}
	// After 登记: the ledger has the row, and no action is legal.
	code, led, _ := c.do("window", "GET", "/ledger?year=2026", nil, nil)
	rows := led["rows"].([]any)
	if code != 200 || len(rows) != 1 || rows[0].(map[string]any)["zddm"] != "220112203301JC00123" || rows[0].(map[string]any)["old_homestead_disposal"] != "退给村集体" {
		t.Errorf("ledger = %d %v", code, led)
	}
	// The printable forms from the stored data.
	for _, form := range []string{"application", "approval", "certificate", "acceptance", "siting"} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/applications/%d/forms/%s", ts.URL, id, form), nil)
		req.Header.Set("Authorization", c.tokens["window"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("form %s: %d %.200s", form, resp.StatusCode, b)
		}
		if dir := os.Getenv("VILLAGEPLAN_KEEP_FORMS"); dir != "" {
			_ = os.WriteFile(fmt.Sprintf("%s/%s.pdf", dir, form), b, 0o644)
		}
	}
	if code, _, _ := c.do("other", "GET", fmt.Sprintf("/applications/%d/forms/application", id), nil, nil); code != 403 {
		t.Errorf("form for another village's clerk = %d", code)
	}
	// The same ledger as .xlsx and CSV (package documents).
	for _, f := range []struct{ f, ctype, magic string }{
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "PK"},
		{"csv", "text/csv; charset=utf-8", "\uFEFF"},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/ledger?year=2026&f="+f.f, nil)
		req.Header.Set("Authorization", c.tokens["window"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != f.ctype || !bytes.HasPrefix(b, []byte(f.magic)) ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("ledger f=%s: %d %s %.40q", f.f, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if f.f == "csv" && !strings.Contains(string(b), "双营子宅批〔2026〕第0001号") {
			t.Errorf("ledger CSV lacks the approval number: %s", b)
		}
	}
	if code, out := c.act("clerk", id, v, "withdraw", nil); code != 409 || out["state"] != "registered" {
		t.Errorf("withdraw after 登记 = %d %v", code, out)
	}
}

// TestApplicationIllegalTransitions: every action that does not fit the
// state is a 409 naming the state and what is missing; a role that may not
// act is a 403.
func TestApplicationIllegalTransitions(t *testing.T) {
	ts, _, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	id, a := c.create(1, rect(100, 200, 15, 18), nil)
	v := int(a["version"].(float64))
	for _, x := range []struct{ token, action, missing string }{
		{"clerk", "group_approve", "村民小组讨论并公示"},
		{"clerk", "village_approve", "村民小组审核通过"},
		{"window", "accept", "村级组织审查通过"},
		{"agri", "opinion", "乡镇受理"},
		{"approver", "approve", "部门审查意见"},
		{"approver", "reject", "乡镇受理"},
		{"window", "stake", "批准"},
		{"clerk", "start", "丈量批放"},
		{"window", "inspect", "开工"},
		{"window", "register", "竣工验收"},
	} {
		code, out := c.act(x.token, id, v, x.action, nil)
		if code != 409 || out["code"] != "IllegalTransition" || out["state"] != "submitted" ||
			!strings.Contains(out["description_zh"].(string), "已申请") || !strings.Contains(out["description_zh"].(string), x.missing) ||
			!strings.Contains(out["description"].(string), "state submitted") {
			t.Errorf("%s in 申请 = %d %v", x.action, code, out)
		}
	}
	if code, out := c.act("window", id, v, "publicize", nil); code != 403 {
		t.Errorf("publicize by 乡镇窗口 = %d %v", code, out)
	}
	if code, out := c.act("clerk", id, v, "fly", nil); code != 422 || out["field"] != "action" {
		t.Errorf("unknown action = %d %v", code, out)
	}
	// Without If-Match: 428.
	if code, _, _ := c.do("clerk", "POST", fmt.Sprintf("/applications/%d/transitions", id), nil, map[string]any{"action": "publicize"}); code != 428 {
		t.Errorf("no If-Match = %d", code)
	}
	if code, out, _ := c.do("clerk", "GET", fmt.Sprintf("/applications/%d/forms/certificate", id), nil, nil); code != 409 || out["state"] != "submitted" {
		t.Errorf("certificate before approval = %d %v", code, out)
	}
	v = c.must("clerk", id, v, "withdraw", nil)
	if code, out := c.act("clerk", id, v, "publicize", map[string]any{}); code != 409 || out["state"] != "withdrawn" ||
		!strings.Contains(out["description_zh"].(string), "申请已终结") {
		t.Errorf("publicize after 撤回 = %d %v", code, out)
	}
}

// TestApplicationConcurrentClerks: two clerks act on the same version at
// once; one wins, the other gets 409 VersionConflict.
func TestApplicationConcurrentClerks(t *testing.T) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	id, a := c.create(2, rect(200, 200, 15, 18), nil)
	v := int(a["version"].(float64))
	codes := make([]int, 2)
	bodies := make([]map[string]any, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tok := range []string{"clerk", "clerk2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], bodies[i] = c.act(tok, id, v, "publicize", map[string]any{"meeting_date": "2026-11-02", "group_leader": tok,
				"publicity_start": "2026-11-03", "publicity_end": "2026-11-09"})
		}()
	}
	close(start)
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
		t.Fatalf("codes = %v %v", codes, bodies)
	}
	loser := bodies[0]
	if codes[0] == 200 {
		loser = bodies[1]
	}
	if loser["code"] != "VersionConflict" || loser["state"] != "publicizing" {
		t.Errorf("loser = %v", loser)
	}
	var n int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.application_events WHERE application_id = $1 AND action = 'publicize'`, id).Scan(&n)
	if n != 1 {
		t.Errorf("%d publicize events, want 1", n)
	}
}

// TestApplicationConcurrentApprovals: 50 approvals at once get the numbers
// 0001…0050 of the township and year, each once.
func TestApplicationConcurrentApprovals(t *testing.T) {
	if testing.Short() {
		t.Skip("50 applications through every step")
	}
	ts, _, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	const n = 50
	ids := make([]int64, n)
	versions := make([]int, n)
	for i := range n {
		id, a := c.create(10+i, rect(float64(20+(i%10)*30), float64(20+(i/10)*30), 15, 18), nil)
		ids[i], versions[i] = id, c.toDecision(id, int(a["version"].(float64)))
	}
	numbers := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, out := c.act("approver", ids[i], versions[i], "approve", nil)
			if code != 200 {
				t.Errorf("approve %d = %d %v", ids[i], code, out)
				return
			}
			numbers[i], _ = out["approval_number"].(string)
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent approvals over HTTP in %s", n, time.Since(began).Round(time.Millisecond))
	seen := map[string]bool{}
	for _, num := range numbers {
		seen[num] = true
	}
	for k := 1; k <= n; k++ {
		if want := fmt.Sprintf("双营子宅批〔2026〕第%04d号", k); !seen[want] {
			t.Errorf("number %s not allocated (got %v)", want, numbers)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct numbers, want %d", len(seen), n)
	}
}

// TestApplicationBlockedSite: an application whose current check is BLOCK
// (on permanent farmland) cannot be approved; the 409 says why.
func TestApplicationBlockedSite(t *testing.T) {
	ts, _, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	id, a := c.create(3, rect(1040, 40, 15, 18), nil)
	if a["check"].(map[string]any)["verdict"] != "BLOCK" {
		t.Fatalf("check = %v", a["check"])
	}
	v := c.toDecision(id, int(a["version"].(float64)))
	code, out := c.act("approver", id, v, "approve", nil)
	if code != 409 || out["code"] != "Incomplete" || out["state"] != "decision" || !strings.Contains(out["description_zh"].(string), "BLOCK") {
		t.Fatalf("approve BLOCK = %d %v", code, out)
	}
	// Rejecting needs a reason, then works.
	if code, out := c.act("approver", id, v, "reject", map[string]any{"reasons": []string{" "}}); code != 422 {
		t.Errorf("reject without reason = %d %v", code, out)
	}
	c.must("approver", id, v, "reject", map[string]any{"reasons": []string{"选址占用永久基本农田"}})
}

// TestApplicationHouseholdRules: a pending application of the household,
// 一户一宅 and R16 refuse a new one.
func TestApplicationHouseholdRules(t *testing.T) {
	ts, _, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	c.create(4, rect(400, 100, 15, 18), nil)
	post := func(f map[string]any) (int, map[string]any) {
		code, out, _ := c.do("clerk", "POST", "/applications", nil, map[string]any{"form": f})
		return code, out
	}
	// The member of household 4 files for herself: pending application.
	f := formJSON(5, func(f map[string]any) {
		f["members"] = []any{map[string]any{"name": "成员", "relation": "子", "id_number": testID(1966, 10), "hukou": "本村"}}
	})
	f["applicant"].(map[string]any)["id_number"] = testID(1952+4, 2*4+2) // household 4's member
	f["applicant"].(map[string]any)["sex"] = "女"
	if code, out := post(f); code != 409 || out["code"] != "HouseholdBlocked" || !strings.Contains(out["description_zh"].(string), "未办结") {
		t.Errorf("pending household = %d %v", code, out)
	}
	// 一户一宅: holder of JC00001 without giving it back.
	f = formJSON(6, nil)
	f["applicant"].(map[string]any)["id_number"] = testID(1960, 1)
	if code, out := post(f); code != 409 || !strings.Contains(out["description_zh"].(string), "一户一宅") {
		t.Errorf("一户一宅 = %d %v", code, out)
	}
	// R16: declared, and recorded.
	f = formJSON(7, func(f map[string]any) { f["previously_transferred"] = true })
	if code, out := post(f); code != 409 || !strings.Contains(out["description_zh"].(string), "第六十二条第五款") {
		t.Errorf("R16 declared = %d %v", code, out)
	}
	if code, out, _ := c.do("clerk", "POST", "/house-transfers", nil, map[string]any{"id_number": testID(1950+8, 17), "kind": "出卖"}); code != 403 {
		t.Errorf("transfer record by a village clerk = %d %v", code, out)
	}
	if code, out, _ := c.do("window", "POST", "/house-transfers", nil, map[string]any{"id_number": testID(1950+8, 17), "kind": "卖掉"}); code != 422 || out["field"] != "kind" {
		t.Errorf("transfer record of an unknown kind = %d %v", code, out)
	}
	if code, out, _ := c.do("window", "POST", "/house-transfers", nil, map[string]any{"id_number": testID(1950+8, 17), "kind": "出卖", "on": "2019-05-01"}); code != 201 {
		t.Fatalf("transfer record = %d %v", code, out)
	}
	if code, out := post(formJSON(8, nil)); code != 409 || !strings.Contains(out["description_zh"].(string), "曾出卖") {
		t.Errorf("R16 recorded = %d %v", code, out)
	}
	// Field errors are specific and bilingual.
	f = formJSON(9, nil)
	id := []byte(testID(1950+9, 19))
	id[17] = map[bool]byte{true: '1', false: '2'}[id[17] != '1']
	f["applicant"].(map[string]any)["id_number"] = string(id)
	f["proposed"].(map[string]any)["situation"] = 4
	code, out := post(f)
	if code != 422 || out["field"] != "form.applicant.id_number" || !strings.Contains(out["description_zh"].(string), "校验码") ||
		!strings.Contains(out["description"].(string), "check character") || len(out["problems"].([]any)) != 2 {
		t.Errorf("bad ID = %d %v", code, out)
	}
}

// TestApplicationDocuments: uploads are sniffed (not the client's type),
// capped, checksummed, and served only to the village's desk roles.
func TestApplicationDocuments(t *testing.T) {
	ts, _, tokens := deskServer(t, applications.Config{MaxDocumentBytes: 1024})
	c := deskClient{t, ts, tokens}
	id, _ := c.create(20, rect(500, 100, 15, 18), nil)
	path := fmt.Sprintf("/applications/%d/documents", id)
	code, out, hdr := c.do("clerk", "POST", path+"?kind=hukou&filename=户口簿.pdf", map[string]string{"Content-Type": "image/png"}, pdfDoc)
	if code != 201 || out["content_type"] != "application/pdf" || out["sha256"] == "" || hdr.Get("Location") == "" {
		t.Fatalf("upload = %d %v", code, out)
	}
	if code, out, _ := c.do("clerk", "POST", path+"?kind=hukou", map[string]string{"Content-Type": "application/pdf"}, []byte("<html><script>alert(1)</script></html>")); code != 415 {
		t.Errorf("html as pdf = %d %v", code, out)
	}
	if code, out, _ := c.do("clerk", "POST", path+"?kind=hukou", nil, append(append([]byte{}, pdfDoc...), make([]byte, 1100)...)); code != 413 {
		t.Errorf("over the cap = %d %v", code, out)
	}
	if code, out, _ := c.do("clerk", "POST", path+"?kind=passport", nil, pdfDoc); code != 422 || out["field"] != "kind" {
		t.Errorf("unknown kind = %d %v", code, out)
	}
	docPath := strings.TrimPrefix(hdr.Get("Location"), ts.URL)
	req, _ := http.NewRequest("GET", ts.URL+docPath, nil)
	req.Header.Set("Authorization", c.tokens["window"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(b, pdfDoc) || resp.Header.Get("Content-Type") != "application/pdf" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download = %d %q %v", resp.StatusCode, b, resp.Header)
	}
	for tok, want := range map[string]int{"other": 403, "analyst": 403, "": 401} {
		if code, _, _ := c.do(tok, "GET", docPath, nil, nil); code != want {
			t.Errorf("document as %q = %d, want %d", tok, code, want)
		}
	}
}

// TestApplicationVillageScope: a village clerk sees and files only its own
// village's applications; township roles see all; others see none.
func TestApplicationVillageScope(t *testing.T) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	id, _ := c.create(21, rect(600, 100, 15, 18), nil)
	if code, out, _ := c.do("other", "GET", fmt.Sprintf("/applications/%d", id), nil, nil); code != 403 || !strings.Contains(out["description_zh"].(string), village1) {
		t.Errorf("other village GET = %d %v", code, out)
	}
	code, out, _ := c.do("other", "GET", "/applications", nil, nil)
	if code != 200 || out["total"].(float64) != 0 {
		t.Errorf("other village list = %d %v", code, out)
	}
	code, out, _ = c.do("other", "POST", "/applications", nil, map[string]any{"form": formJSON(22, nil)})
	if code != 403 {
		t.Errorf("other village files in village 1 = %d %v", code, out)
	}
	for _, tok := range []string{"clerk", "window", "approver"} {
		code, out, _ := c.do(tok, "GET", "/applications?q=测试户主21", nil, nil)
		if code != 200 || out["total"].(float64) != 1 || out["counts"].(map[string]any)["submitted"].(float64) != 1 {
			t.Errorf("list as %s = %d %v", tok, code, out)
		}
	}
	for tok, want := range map[string]int{"analyst": 403, "": 401} {
		if code, _, _ := c.do(tok, "GET", "/applications", nil, nil); code != want {
			t.Errorf("list as %q = %d, want %d", tok, code, want)
		}
	}
	var audited int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.audit_log WHERE action = 'application.list' AND personal_data`).Scan(&audited)
	if audited != 3 {
		t.Errorf("%d audited list reads with personal data, want 3", audited)
	}
}

// TestApplicationPatchAndOverdue: PATCH with If-Match re-checks a moved
// site, refuses a stale version and, after 受理, any change; an application
// filed 30 days ago is on the overdue list with negative days left.
func TestApplicationPatchAndOverdue(t *testing.T) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	id, a := c.create(30, rect(700, 100, 15, 18), nil)
	v := int(a["version"].(float64))
	check1 := a["check"].(map[string]any)["id"].(float64)
	path := fmt.Sprintf("/applications/%d", id)
	body := map[string]any{"form": formJSON(30, nil), "site": json.RawMessage(rect(1045, 45, 15, 18)), "crs": "EPSG:4551"}
	if code, out, _ := c.do("clerk", "PATCH", path, nil, body); code != 428 {
		t.Errorf("PATCH without If-Match = %d %v", code, out)
	}
	code, out, hdr := c.do("clerk", "PATCH", path, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)}, body)
	if code != 200 || out["check"].(map[string]any)["id"].(float64) == check1 || out["check"].(map[string]any)["verdict"] != "BLOCK" ||
		hdr.Get("ETag") != fmt.Sprintf(`"%d"`, v+1) {
		t.Fatalf("PATCH moving the site onto farmland = %d %v", code, out["check"])
	}
	if code, out, _ := c.do("clerk2", "PATCH", path, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)}, body); code != 409 || out["code"] != "VersionConflict" {
		t.Errorf("stale PATCH = %d %v", code, out)
	}
	// A form change the check reads (floor area) re-checks the stored site.
	f := formJSON(30, func(f map[string]any) { f["proposed"].(map[string]any)["floor_area_m2"] = 200 })
	code, out, _ = c.do("clerk", "PATCH", path, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v+1)}, map[string]any{"form": f})
	if code != 200 || out["check"].(map[string]any)["verdict"] != "BLOCK" || out["site_area_m2"].(float64) != 270 {
		t.Fatalf("PATCH form only = %d %v", code, out)
	}
	var checks int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.siting_checks`).Scan(&checks)
	if checks != 3 {
		t.Errorf("%d stored checks, want 3 (filed, moved, form changed)", checks)
	}
	// Overdue: filed by a desk whose clock is 30 days back.
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	past := applications.NewService(pool, siting.NewService(pool, rs), applications.Config{Now: func() time.Time { return deskNow.AddDate(0, 0, -30) }})
	var form applications.Form
	raw, _ := json.Marshal(formJSON(31, nil))
	_ = json.Unmarshal(raw, &form)
	old, err := past.Create(auth.WithPrincipal(context.Background(), deskUsers["clerk"]), form, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = c.do("window", "GET", "/applications/overdue", nil, nil)
	items, _ := out["items"].([]any)
	if code != 200 || len(items) != 1 || items[0].(map[string]any)["id"].(float64) != float64(old.ID) ||
		items[0].(map[string]any)["days_left"].(float64) >= 0 || items[0].(map[string]any)["due_on"] != "2026-11-09" {
		t.Errorf("overdue = %d %v", code, out)
	}
	if code, out, _ := c.do("other", "GET", "/applications/overdue", nil, nil); code != 200 || len(out["items"].([]any)) != 0 {
		t.Errorf("overdue for another village = %d %v", code, out)
	}
}

// TestWorkdaysAPI: the calendar across 国庆 2026 with its make-up
// Saturday, and an administrator's correction (audited) that the desk's
// deadlines then follow.
func TestWorkdaysAPI(t *testing.T) {
	ts, pool, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	code, out, _ := c.do("window", "GET", "/workdays?from=2026-09-30&to=2026-10-10", nil, nil)
	days, _ := out["days"].([]any)
	if code != 200 || len(days) != 11 {
		t.Fatalf("GET /workdays = %d %v", code, out)
	}
	first, oct1, last := days[0].(map[string]any), days[1].(map[string]any), days[10].(map[string]any)
	if first["workday"] != true || oct1["workday"] != false || oct1["reason"] != "holiday" || last["workday"] != true || last["reason"] != "makeup" {
		t.Errorf("days = %v", days)
	}
	if code, _, _ := c.do("clerk", "PUT", "/workdays/2026-12-09", nil, map[string]any{"is_workday": false, "note": "x"}); code != 403 {
		t.Errorf("PUT as clerk = %d", code)
	}
	if code, out, _ := c.do("admin", "PUT", "/workdays/2026-12-09", nil, map[string]any{"is_workday": false}); code != 422 || out["field"] != "note" {
		t.Errorf("PUT without note = %d %v", code, out)
	}
	if code, out, _ := c.do("admin", "PUT", "/workdays/2026-12-09", nil, map[string]any{"is_workday": false, "note": "测试：闭厅一天"}); code != 200 {
		t.Fatalf("PUT as admin = %d %v", code, out)
	}
	// Filed on 2026-12-02: 5 working days now end on 12-10, not 12-09.
	_, a := c.create(40, rect(800, 100, 15, 18), nil)
	if a["due_on"] != "2026-12-10" {
		t.Errorf("due with the correction = %v, want 2026-12-10", a["due_on"])
	}
	var n int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.audit_log WHERE action = 'workday.set' AND username = 'u-admin'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d audit rows for the correction, want 1", n)
	}
}

// TestApplicationJZDSite: the site may come as a 界址点 txt file (zone-42
// prefixed Gauss-Krüger coordinates); it is checked and stored in the
// homesteads layer's CRS like a GeoJSON site.
func TestApplicationJZDSite(t *testing.T) {
	ts, _, tokens := deskServer(t, applications.Config{})
	c := deskClient{t, ts, tokens}
	pt := func(name string, x, y float64) jzd.Point {
		return jzd.Point{Name: name, East: 42000000 + 480000 + x, North: 4829000 + y}
	}
	f := &jzd.File{Header: map[string]string{"坐标系": "2000国家大地坐标系", "几度分带": "3", "投影类型": "高斯克吕格", "带号": "42"},
		Parcels: []jzd.Parcel{{Number: "1", Name: "测试宅基地", Shape: "面", Rings: []jzd.Ring{{Number: 1, Points: []jzd.Point{
			pt("J1", 900, 100), pt("J2", 915, 100), pt("J3", 915, 118), pt("J4", 900, 118), pt("J1", 900, 100)}}}}}}
	var b strings.Builder
	if err := jzd.Encode(&b, f, jzd.UTF8, false); err != nil {
		t.Fatal(err)
	}
	code, out, _ := c.do("clerk", "POST", "/applications", nil, map[string]any{"form": formJSON(32, nil), "site_jzd": b.String()})
	if code != 201 || out["site_area_m2"].(float64) != 270 || out["check"] == nil {
		t.Fatalf("JZD site = %d %v", code, out)
	}
	// Both kinds at once are refused, naming the fields.
	code, out, _ = c.do("clerk", "POST", "/applications", nil, map[string]any{"form": formJSON(33, nil), "site_jzd": b.String(),
		"site": json.RawMessage(rect(900, 200, 15, 18)), "crs": "EPSG:4551"})
	if code != 422 || out["field"] != "site" {
		t.Errorf("two sites = %d %v", code, out)
	}
}
