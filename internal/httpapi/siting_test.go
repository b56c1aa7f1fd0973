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
	"strconv"
	"strings"
	"testing"
	"villageplan/data/testdata"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// sitingServer: a village with coverage of every layer, a 村庄集中建设区, a
// permanent-farmland parcel and a 配水管 (y = 800, x 1500…2500), on
// EPSG:4551 around (480000, 4829000).
func sitingServer(t testing.TB) (*httptest.Server, func(string) int) {
	t.Helper()
	return sitingServerWith(t, httpapi.Options{})
}

// sitingServerWith is sitingServer with the given options (Pool is set).
func sitingServerWith(t testing.TB, opts httpapi.Options) (*httptest.Server, func(string) int) {
	t.Helper()
	pool := sitingPool(t)
	opts.Pool = pool
	// Siting checks are for the desk roles: act as a 乡镇窗口 clerk.
	ts := httptest.NewServer(withBearer(httpapi.New(opts), bearerFor(t, pool, "window", auth.Grant{Role: auth.TownshipWindow})))
	t.Cleanup(ts.Close)
	count := func(table string) int {
		var n int
		_ = pool.QueryRow(context.Background(), "SELECT count(*) FROM villageplan."+table).Scan(&n)
		return n
	}
	return ts, count
}

// sitingPool is the database of sitingServer.
func sitingPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := testpg.New(t)
	env := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
	}
	for _, s := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203301', '鲁家村', '集聚提升类', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + env(0, 0, 2000, 600) + `)`,
		`INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom) VALUES ('YJ1', '0103', ` + env(1000, 0, 1100, 100) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0702', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.water_pipelines (name, kind, diameter_mm, geom) VALUES ('鲁家村配水管1', '配水管', 110,
			ST_Multi(ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(481500, 4829800), ST_MakePoint(482500, 4829800)), 4551), 4490)))`,
		`INSERT INTO villageplan.layer_coverage (layer, geom, source) SELECT layer, ` + env(-500, -500, 3000, 1000) + `, 'test' FROM villageplan.layer_version`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}

// TestSitingScopes: a stored check is for the desk roles only. Anonymous
// callers are refused (401) and store nothing — the public desk preview
// still measures the site; a 数据分析 account is refused (403); the clerk
// of the site's village may run and read it; a clerk of another village
// may neither run a check on it nor read it, also not by claiming its own
// village code; each check run and read is in the audit log.
func TestSitingScopes(t *testing.T) {
	pool := sitingPool(t)
	if _, err := pool.Exec(context.Background(), `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom)
		VALUES ('220112203302', '邻村', '集聚提升类', ST_Multi(ST_Transform(ST_MakeEnvelope(490000, 4829000, 491000, 4830000, 4551), 4490)))`); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
	t.Cleanup(ts.Close)
	clerk := bearerFor(t, pool, "clerk-301", auth.Grant{Role: auth.VillageClerk, Village: "220112203301"})
	other := bearerFor(t, pool, "clerk-302", auth.Grant{Role: auth.VillageClerk, Village: "220112203302"})
	analyst := bearerFor(t, pool, "analyst", auth.Grant{Role: auth.DataAnalyst})
	body := `{"site":` + gkSquare(200, 100, 20) + `,"crs":"EPSG:4551","household_id":"H7"}`
	call := func(method, path, bearer, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	checks := func() (n int) {
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.siting_checks`).Scan(&n)
		return n
	}
	if code, b := call("POST", "/siting/checks", "", body); code != 401 || !strings.Contains(b, "LoginRequired") || checks() != 0 {
		t.Fatalf("anonymous check: %d %s (%d stored)", code, b, checks())
	}
	if code, b := call("POST", "/desk/preview", "", body); code != 200 || !strings.Contains(b, `"area_m2":400`) || strings.Contains(b, "H7") {
		t.Fatalf("anonymous preview: %d %s", code, b)
	}
	if code, _ := call("POST", "/siting/checks", analyst, body); code != 403 {
		t.Fatalf("analyst check: %d", code)
	}
	for name, b := range map[string]string{"site in 301": body,
		"claims its own village": `{"site":` + gkSquare(200, 100, 20) + `,"crs":"EPSG:4551","village_code":"220112203302"}`} {
		if code, resp := call("POST", "/siting/checks", other, b); code != 403 || !strings.Contains(resp, "OutsideYourVillage") || checks() != 0 {
			t.Fatalf("other village's clerk, %s: %d %s", name, code, resp)
		}
	}
	code, b := call("POST", "/siting/checks", clerk, body)
	var res struct{ ID int64 }
	if err := json.Unmarshal([]byte(b), &res); err != nil || code != 201 || res.ID == 0 {
		t.Fatalf("own village's clerk: %d %s", code, b)
	}
	path := fmt.Sprintf("/siting/checks/%d", res.ID)
	for _, p := range []string{path, path + "/report"} {
		if code, _ := call("GET", p, clerk, ""); code != 200 {
			t.Errorf("GET %s as the village's clerk: %d", p, code)
		}
		if code, _ := call("GET", p, other, ""); code != 403 {
			t.Errorf("GET %s as another village's clerk: %d, want 403", p, code)
		}
		if code, _ := call("GET", p, "", ""); code != 401 {
			t.Errorf("GET %s anonymously: %d, want 401", p, code)
		}
	}
	var runs, reads int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'siting_check.create'), count(*) FILTER (WHERE action = 'siting_check.read' AND personal_data)
		FROM villageplan.audit_log WHERE username = 'clerk-301' AND subject_id = $1`, strconv.FormatInt(res.ID, 10)).Scan(&runs, &reads)
	if runs != 1 || reads != 2 {
		t.Errorf("audit rows: %d runs, %d reads; want 1 and 2", runs, reads)
	}
}

func post(t *testing.T, u, ctype, body string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Post(u, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

func gkSquare(x0, y0, size float64) string {
	x0, y0 = 480000+x0, 4829000+y0
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`,
		x0, y0, x0+size, y0, x0+size, y0+size, x0, y0+size, x0, y0)
}

func TestSitingAPI(t *testing.T) {
	ts, count := sitingServer(t)
	code, res, hdr := post(t, ts.URL+"/siting/checks", "application/json",
		`{"site":`+gkSquare(990, 40, 20)+`,"crs":"EPSG:4551","household_id":"H9","village_code":"220112203301"}`)
	if code != 201 || res["verdict"] != "BLOCK" || hdr.Get("Location") == "" {
		t.Fatalf("POST = %d %v", code, res)
	}
	var farm map[string]any
	for _, r := range res["rules"].([]any) {
		if rr := r.(map[string]any); rr["code"] == "permanent_farmland" {
			farm = rr
		}
	}
	if farm["outcome"] != "BLOCK" || farm["measured"].(float64) != 200 {
		t.Errorf("permanent_farmland = %v", farm)
	}
	site := res["site"].(map[string]any)
	if site["area_m2"].(float64) != 400 || site["measure_epsg"].(float64) != 4551 || site["village_name"] != "鲁家村" {
		t.Errorf("site = %v", site)
	}
	// GET it back, and its printable report.
	resp, err := http.Get(hdr.Get("Location"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET check: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(hdr.Get("Location") + "/report")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"宅基地选址审查报告", "审查结论：禁止", "<svg", "fill=\"#e33\"", "不得占用永久基本农田", "基本农田保护条例", "EPSG:4551", "规则集版本", "暂定", "size: A4", "所依据的数据覆盖范围：", "permanent_farmland：test（"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := os.WriteFile(os.TempDir()+"/villageplan-siting-report.html", b, 0o644); err != nil {
		t.Log(err)
	}

	// A CRS84 site: measured on the zone-42 plane without prefix.
	code, res, _ = post(t, ts.URL+"/siting/checks", "application/json",
		`{"site":{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[125.7502,43.6015],[125.7503,43.6015],[125.7503,43.6016],[125.7502,43.6015]]]}}}`)
	if code != 201 || res["site"].(map[string]any)["measure_epsg"].(float64) != 4551 {
		t.Errorf("CRS84 site = %d %v", code, res)
	}
	stored := count("siting_checks")

	// Rejected requests store nothing.
	for name, c := range map[string]struct {
		ctype, body string
		status      int
		want        string
	}{
		"empty":      {"application/json", "", 400, "empty"},
		"bowtie":     {"application/json", `{"crs":"EPSG:4551","site":{"type":"Polygon","coordinates":[[[480700,4829100],[480720,4829120],[480720,4829100],[480700,4829120],[480700,4829100]]]}}`, 400, "自相交"},
		"point":      {"application/json", `{"site":{"type":"Point","coordinates":[125.75,43.6]}}`, 400, "Polygon"},
		"unknown":    {"application/json", `{"site":` + gkSquare(0, 0, 10) + `,"crs":"EPSG:4551","color":"red"}`, 400, "color"},
		"outside":    {"application/json", `{"site":{"type":"Polygon","coordinates":[[[116.39,39.9],[116.391,39.9],[116.391,39.901],[116.39,39.9]]]}}`, 422, "outside"},
		"bad jzd":    {"text/plain", "[地块坐标]\n4,0.1,1,甲,面,,,,@\nJ1,1,abc,42480000\n", 400, "line"},
		"wrong type": {"image/png", "xx", 415, "text/plain"},
	} {
		code, out, _ := post(t, ts.URL+"/siting/checks", c.ctype, c.body)
		desc := fmt.Sprint(out["description"], " ", out["description_zh"])
		if code != c.status || !strings.Contains(desc, c.want) {
			t.Errorf("%s: %d %v, want %d mentioning %q", name, code, out, c.status, c.want)
		}
	}
	if n := count("siting_checks"); n != stored {
		t.Errorf("rejected requests stored %d checks", n-stored)
	}
}

// TestSitingWaterPipeline: a site straight across a 配水管 is BLOCK at 0 m
// with the pipe, the placeholder range and its note, in the JSON result and
// on the printed report.
func TestSitingWaterPipeline(t *testing.T) {
	ts, _ := sitingServer(t)
	code, res, hdr := post(t, ts.URL+"/siting/checks", "application/json",
		`{"site":`+gkSquare(1995, 795, 10)+`,"crs":"EPSG:4551","household_id":"H9"}`)
	if code != 201 {
		t.Fatalf("POST = %d %v", code, res)
	}
	var pipe map[string]any
	for _, r := range res["rules"].([]any) {
		if rr := r.(map[string]any); rr["code"] == "water_pipeline" {
			pipe = rr
		}
	}
	if pipe == nil || pipe["outcome"] != "BLOCK" || pipe["measured"] != 0.0 || pipe["threshold"] != 2.0 || pipe["unit"] != "m" {
		t.Fatalf("water_pipeline = %v", pipe)
	}
	note, _ := pipe["placeholder_note"].(string)
	if pipe["placeholder"] != true || !strings.Contains(note, "配水管") || res["placeholders"] != true {
		t.Errorf("placeholder not reported: %v", pipe)
	}
	feats, _ := pipe["features"].([]any)
	if len(feats) != 1 || feats[0].(map[string]any)["layer"] != "water_pipelines" ||
		feats[0].(map[string]any)["attrs"].(map[string]any)["name"] != "鲁家村配水管1" {
		t.Errorf("features = %v", pipe["features"])
	}
	if res["verdict"] != "BLOCK" {
		t.Errorf("verdict %v", res["verdict"])
	}
	resp, err := http.Get(hdr.Get("Location") + "/report")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"供水管道安全保护范围内不得修建建筑物", "城市供水条例", "第二十九条", "2.00（暂定）", note,
		"鲁家村配水管1", "DN110", "<title>water_pipelines "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestSitingRealJZDOutsideTownship: the real 杭州 file (zone 40) is refused
// with a clear "outside the township's data" answer, GBK or UTF-8.
func TestSitingRealJZDOutsideTownship(t *testing.T) {
	ts, count := sitingServer(t)
	for _, f := range []string{"hangzhou_pengbu_BR14_zone40.txt", "hangzhou_pengbu_BR14_zone40.gbk_crlf.txt"} {
		raw, err := os.ReadFile(testdata.Real(t, "jzd-txt/"+f))
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := post(t, ts.URL+"/siting/checks?household_id=H1", "text/plain", string(bytes.Clone(raw)))
		if code != 422 || out["code"] != "OutsideData" || !strings.Contains(out["description_zh"].(string), "不在本乡") {
			t.Errorf("%s: %d %v", f, code, out)
		}
	}
	if n := count("siting_checks"); n != 0 {
		t.Errorf("%d checks stored", n)
	}
}
